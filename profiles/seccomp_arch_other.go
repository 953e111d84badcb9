//go:build !linux || !cgo

package profiles

// syscallOnArch cannot tell, built without cgo or off Linux, which system
// calls an architecture has: it returns ErrNoLibseccomp.
func syscallOnArch(arch, name string) (bool, error) {
	return false, ErrNoLibseccomp
}
