//go:build !linux || !cgo

package profiles

import "fmt"

// ValidateSeccomp checks a Docker seccomp profile. Built without cgo or off
// Linux it cannot resolve system call names: it checks the structure, then
// returns an error wrapping ErrNoLibseccomp so callers never mistake that
// for a full validation.
func ValidateSeccomp(profileJSON []byte) error {
	if _, err := parseSeccomp(profileJSON); err != nil {
		return err
	}
	return fmt.Errorf("%w", ErrNoLibseccomp)
}
