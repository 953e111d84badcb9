package profiles

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/moby/sys/capability"
)

// capByName maps upper-case names without "CAP_" ("NET_ADMIN") to numbers.
var capByName = func() map[string]int {
	m := make(map[string]int)
	for _, c := range capability.ListKnown() {
		m[strings.ToUpper(c.String())] = int(c)
	}
	return m
}()

// lastCapNumber bounds the numeric "CAP_<n>" form: capability sets are 64 bits.
const lastCapNumber = 63

// CapName returns the kernel name of capability n ("CAP_NET_ADMIN"), or
// "CAP_<n>" for a number this build does not know, so that a newer kernel's
// checks still show up in a report instead of vanishing.
func CapName(n int) string {
	if n >= 0 {
		if name := capability.Cap(n).String(); name != "unknown" {
			return "CAP_" + strings.ToUpper(name)
		}
	}
	return "CAP_" + strconv.Itoa(n)
}

// ParseCap returns the number of a capability given in any case, with or
// without the "CAP_" prefix ("net_admin", "CAP_NET_ADMIN"). It also accepts
// the "CAP_<n>" form CapName produces for numbers it does not know.
func ParseCap(s string) (int, error) {
	name := strings.ToUpper(strings.TrimSpace(s))
	name = strings.TrimPrefix(name, "CAP_")
	if n, ok := capByName[name]; ok {
		return n, nil
	}
	if n, err := strconv.Atoi(name); err == nil && n >= 0 && n <= lastCapNumber {
		return n, nil
	}
	return 0, fmt.Errorf("%w: %q", ErrUnknownCapability, s)
}

// composeCapName is the form compose files and the Docker API use: the
// kernel name without "CAP_" ("NET_ADMIN").
func composeCapName(n int) string {
	return strings.TrimPrefix(CapName(n), "CAP_")
}

// knownCap says whether this build knows n by name; the engine rejects
// numeric forms, so only these can be granted.
func knownCap(n int) bool {
	return n >= 0 && capability.Cap(n).String() != "unknown"
}
