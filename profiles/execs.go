package profiles

import (
	"encoding/binary"
	"fmt"
	"slices"
	"sort"
	"strings"
)

// ExecUse is one program the service executed in the trace run.
type ExecUse struct {
	// Path is the file name as execve(2) got it.
	Path string `json:"path"`
	// Count is how often it was executed.
	Count uint64 `json:"count"`
	// CapsGained are the capabilities its execs added to the caller's
	// permitted set ("CAP_NET_RAW"): file capabilities, or a setuid-root
	// program run by another user. Sorted.
	CapsGained []string `json:"caps_gained,omitempty"`
	// IDChange says how an exec changed the effective ids, e.g.
	// "run by uid 1000: euid 1000 -> 0"; empty when none did.
	IDChange string `json:"id_change,omitempty"`
	// File is what the image holds at Path; nil when it was not read, and
	// then FileError says why.
	File      *ExecFile `json:"file,omitempty"`
	FileError string    `json:"file_error,omitempty"`
}

// gained says whether an exec of the program gained privilege in the trace
// run: what no-new-privileges would have withheld.
func (e ExecUse) gained() bool {
	return len(e.CapsGained) > 0 || e.IDChange != ""
}

// ExecFile is an executed program's file as the container saw it.
type ExecFile struct {
	// Mode is the permission bits in octal, with the setuid/setgid digit ("4755").
	Mode string `json:"mode"`
	// UID and GID own the file.
	UID uint32 `json:"uid"`
	GID uint32 `json:"gid"`
	// Setuid and Setgid are the mode's set-id bits.
	Setuid bool `json:"setuid,omitempty"`
	Setgid bool `json:"setgid,omitempty"`
	// FileCaps are its file capabilities in getcap's notation
	// ("cap_net_raw=ep"); empty when it has none.
	FileCaps string `json:"file_caps,omitempty"`
	// CapsPermitted are the file's permitted capabilities ("CAP_NET_RAW"),
	// sorted, and CapsEffective says whether the effective bit is set: then
	// the kernel refuses the exec (EPERM) unless all of them are in the
	// bounding set, which cap_drop: [ALL] empties.
	CapsPermitted []string `json:"caps_permitted,omitempty"`
	CapsEffective bool     `json:"caps_effective,omitempty"`
}

// PathCount is a path with how often something happened to it.
type PathCount struct {
	Path  string `json:"path"`
	Count uint64 `json:"count"`
}

// FileCaps is a decoded security.capability extended attribute.
type FileCaps struct {
	Permitted, Inheritable uint64
	// Effective is the effective bit: the program expects its permitted
	// capabilities to be effective at once, as a capability-dumb binary.
	Effective bool
	// RootID is the namespaced root the capabilities apply to (revision 3),
	// -1 for revisions 1 and 2.
	RootID int64
}

// vfs_cap_data (include/uapi/linux/capability.h).
const (
	vfsCapRevisionMask = 0xff000000
	vfsCapRevision1    = 0x01000000
	vfsCapRevision2    = 0x02000000
	vfsCapRevision3    = 0x03000000
	vfsCapFlagsEff     = 0x000001
)

// ParseFileCaps decodes the value of a file's security.capability attribute.
func ParseFileCaps(b []byte) (FileCaps, error) {
	if len(b) < 4 {
		return FileCaps{}, fmt.Errorf("%w: %d bytes", ErrFileCaps, len(b))
	}
	magic := binary.LittleEndian.Uint32(b)
	fc := FileCaps{Effective: magic&vfsCapFlagsEff != 0, RootID: -1}
	word := func(off int) uint64 { return uint64(binary.LittleEndian.Uint32(b[off:])) }
	switch rev := magic & vfsCapRevisionMask; {
	case rev == vfsCapRevision1 && len(b) == 12:
		fc.Permitted, fc.Inheritable = word(4), word(8)
	case (rev == vfsCapRevision2 && len(b) == 20) || (rev == vfsCapRevision3 && len(b) == 24):
		fc.Permitted = word(4) | word(12)<<32
		fc.Inheritable = word(8) | word(16)<<32
		if rev == vfsCapRevision3 {
			fc.RootID = int64(binary.LittleEndian.Uint32(b[20:]))
		}
	default:
		return FileCaps{}, fmt.Errorf("%w: revision %#x with %d bytes", ErrFileCaps, rev, len(b))
	}
	return fc, nil
}

// String renders the capabilities as getcap does: "cap_net_raw=ep",
// "cap_chown,cap_net_raw+ip" is written "cap_chown,cap_net_raw=ip".
func (fc FileCaps) String() string {
	var groups []string
	add := func(set uint64, flags string) {
		if set == 0 {
			return
		}
		groups = append(groups, strings.ToLower(strings.Join(capNames(set), ","))+"="+flags)
	}
	e := ""
	if fc.Effective {
		e = "e"
	}
	add(fc.Permitted&fc.Inheritable, e+"ip")
	add(fc.Permitted&^fc.Inheritable, e+"p")
	add(fc.Inheritable&^fc.Permitted, e+"i")
	return strings.Join(groups, " ")
}

// capNames lists the kernel names of the capabilities in set, by number.
func capNames(set uint64) []string {
	var out []string
	for n := 0; n < 64; n++ {
		if set&(1<<uint(n)) != 0 {
			out = append(out, CapName(n))
		}
	}
	return out
}

// CapSetNames lists the kernel names of the capabilities in set, sorted.
func CapSetNames(set uint64) []string {
	out := capNames(set)
	sort.Strings(out)
	return out
}

// decideExecs applies what the executed programs need: capabilities their
// file capabilities must find in the bounding set, and no-new-privileges
// unless a program gained privilege by its exec that the override still
// lets it gain. nnp is the caller's choice, nil to decide.
func (p *Policy) decideExecs(rec Recording, nnp *bool, engineRejects []string) error {
	rejected := map[string]bool{}
	for _, s := range engineRejects {
		n, err := ParseCap(s)
		if err != nil {
			return fmt.Errorf("engine rejects list: %w", err)
		}
		rejected[CapName(n)] = true
	}
	grant := func(e ExecUse, caps []string, why string) error {
		for _, c := range caps {
			n, err := ParseCap(c)
			if err != nil {
				return fmt.Errorf("exec %s: %w", e.Path, err)
			}
			if rejected[CapName(n)] {
				p.Warnings = append(p.Warnings, fmt.Sprintf("%s carries the file capability %s, which this Docker engine does not accept by name: its exec will fail with EPERM (no other capability stands in for one in the bounding set); upgrade the engine or drop the file capability", e.Path, CapName(n)))
				continue
			}
			p.addGrant(composeCapName(n), why)
		}
		return nil
	}
	for _, e := range rec.Execs {
		switch {
		case e.File != nil && e.File.CapsEffective && len(e.File.CapsPermitted) > 0:
			if err := grant(e, e.File.CapsPermitted, fmt.Sprintf("file capabilities of %s (%s): the kernel refuses to execute it unless they are all in the bounding set", e.Path, e.File.FileCaps)); err != nil {
				return err
			}
		case e.File == nil && e.IDChange == "" && len(e.CapsGained) > 0:
			// Not inspected (a relative path, /dev/fd/N): the exec gained
			// capabilities without an id change, so the file carries them,
			// and whether its effective bit makes the exec fail without
			// them is unknown. Grant them; minimization can try without.
			if err := grant(e, e.CapsGained, fmt.Sprintf("the exec of %s gained them (file capabilities; its file was not read: %s)", e.Path, e.FileError)); err != nil {
				return err
			}
		}
	}

	granted := map[string]bool{}
	for _, g := range p.CapAdd {
		granted["CAP_"+g.Capability] = true
	}
	var gainers []string
	for _, e := range rec.Execs {
		// A capability outside cap_add is outside the bounding set: the
		// override lets no exec gain it, with or without no-new-privileges.
		var caps []string
		for _, c := range e.CapsGained {
			if granted[c] {
				caps = append(caps, c)
			}
		}
		if e.IDChange != "" || len(caps) > 0 {
			g := e
			g.CapsGained = caps
			gainers = append(gainers, e.Path+" ("+execGain(g)+")")
		}
	}
	sort.Strings(gainers)
	switch {
	case nnp == nil && len(gainers) == 0:
		p.NoNewPrivileges = true
		p.NoNewPrivilegesWhy = "no executed program changed its ids or gained a granted capability by its exec in the trace run"
	case nnp == nil:
		p.NoNewPrivileges = false
		p.NoNewPrivilegesWhy = "left off: " + strings.Join(gainers, "; ") + ". no-new-privileges makes the kernel ignore setuid and setgid bits and file capabilities, so these would run without the ids and capabilities their exec gives them"
	case *nnp && len(gainers) > 0:
		p.NoNewPrivileges = true
		p.NoNewPrivilegesWhy = "set as asked"
		p.Warnings = append(p.Warnings, "no-new-privileges is set as asked, but "+strings.Join(gainers, "; ")+": under it they run without the ids and capabilities their exec gave them in the trace run")
	case *nnp:
		p.NoNewPrivileges = true
		p.NoNewPrivilegesWhy = "set as asked"
	default:
		p.NoNewPrivileges = false
		p.NoNewPrivilegesWhy = "left off as asked"
	}
	if !p.NoNewPrivileges {
		p.grantWithoutNoNewPrivs(rec)
	}
	return nil
}

// grantWithoutNoNewPrivs grants the checks that are noise only under
// no-new-privileges (a seccomp filter or a Landlock ruleset installed
// without no_new_privs), for a policy that leaves it off, and remembers
// the grants that exist only for that.
func (p *Policy) grantWithoutNoNewPrivs(rec Recording) {
	for _, n := range rec.Noise {
		if !withoutNoNewPrivsSite(n.Site, n.Capability) {
			continue
		}
		c, err := ParseCap(n.Capability)
		if err != nil {
			continue
		}
		name := composeCapName(c)
		if !slices.ContainsFunc(p.CapAdd, func(g Grant) bool { return g.Capability == name }) {
			p.withoutNoNewPrivs = append(p.withoutNoNewPrivs, name)
		}
		p.addGrant(name, fmt.Sprintf("%s in %s: asked only of a task without no_new_privs, and the override leaves no-new-privileges off",
			programsEvidence(n.Programs, "check", "checks"), n.Site))
	}
}

// execGain says what one program's exec gained, e.g.
// "run by uid 1000: euid 1000 -> 0; gained CAP_NET_RAW".
func execGain(e ExecUse) string {
	var parts []string
	if e.IDChange != "" {
		parts = append(parts, e.IDChange)
	}
	switch n := len(e.CapsGained); {
	case n > 3:
		parts = append(parts, fmt.Sprintf("gained %d capabilities", n))
	case n > 0:
		parts = append(parts, "gained "+strings.Join(e.CapsGained, ", "))
	}
	if e.File != nil {
		switch {
		case e.File.FileCaps != "":
			parts = append(parts, "file capabilities "+e.File.FileCaps)
		case e.File.Setuid || e.File.Setgid:
			parts = append(parts, "mode "+e.File.Mode)
		}
	}
	return strings.Join(parts, "; ")
}

// addGrant adds a capability with evidence, or the evidence to a capability
// already granted, keeping CapAdd sorted.
func (p *Policy) addGrant(name, evidence string) {
	i, found := slices.BinarySearchFunc(p.CapAdd, name, func(g Grant, n string) int { return strings.Compare(g.Capability, n) })
	if found {
		if !strings.Contains(p.CapAdd[i].Evidence, evidence) {
			p.CapAdd[i].Evidence += "; " + evidence
		}
		return
	}
	p.CapAdd = slices.Insert(p.CapAdd, i, Grant{Capability: name, Evidence: evidence})
}

// WithNoNewPrivileges returns the policy with no-new-privileges set and the
// runtime's system calls recomputed for it (runc needs fewer when it is
// set). Minimization uses it to try no-new-privileges where the trace run
// left it off because a program gained privilege by its exec: a replay shows
// whether the service needs what it gained.
func (p Policy) WithNoNewPrivileges(rec Recording, why string) (Policy, error) {
	out := p
	out.NoNewPrivileges = true
	out.NoNewPrivilegesWhy = why
	// Grants made only because no-new-privileges was off go with it.
	out.CapAdd = slices.DeleteFunc(slices.Clone(p.CapAdd), func(g Grant) bool { return slices.Contains(p.withoutNoNewPrivs, g.Capability) })
	out.withoutNoNewPrivs = nil
	out.Syscalls, out.NoSys = nil, nil
	if err := out.decideSyscalls(rec); err != nil {
		return p, err
	}
	return out, nil
}
