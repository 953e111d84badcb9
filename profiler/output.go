package profiler

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/capprof/capprof/profiles"
)

// outputPaths are the files one profile writes.
type outputPaths struct {
	dir      string
	override string
	seccomp  string
	report   string
	// seccompRel is the profile's path as the override names it: relative
	// to the project directory, where compose resolves it.
	seccompRel string
	// archSeccomp is the profile translated to another architecture
	// (--arch), beside seccomp; empty without one.
	archSeccomp string
	// created says capprof made dir, so that a run that writes nothing can
	// take it away again.
	created bool
	// service is the service profiled into dir: one a directory.
	service string
}

// removeIfUnused removes the output directory when capprof created it and
// nothing was written into it.
func (o outputPaths) removeIfUnused() {
	if o.created {
		os.Remove(o.dir) // only succeeds while empty
	}
}

// prepareOutput checks the output directory before anything runs, so that a
// mistake costs no trace run: it must be a directory capprof can write, and
// must not hold the user's own files where capprof would write (an input
// compose file, or a compose.override.yml capprof did not write). It returns
// a warning when the directory lies outside the project, where the
// override's relative seccomp path only holds on this machine.
func prepareOutput(dir, projectDir, service string, inputs []string) (outputPaths, string, error) {
	if dir == "" {
		return outputPaths{}, "", fmt.Errorf("%w: no output directory: pass --out DIR", ErrOutput)
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return outputPaths{}, "", fmt.Errorf("%w: %s: %v", ErrOutput, dir, err)
	}
	_, statErr := os.Stat(abs)
	created := os.IsNotExist(statErr)
	if err := os.MkdirAll(abs, 0o755); err != nil {
		return outputPaths{}, "", fmt.Errorf("%w: cannot create %s: %v", ErrOutput, dir, err)
	}
	probe, err := os.CreateTemp(abs, ".capprof-write-check-")
	if err != nil {
		return outputPaths{}, "", fmt.Errorf("%w: cannot write into %s: %v", ErrOutput, dir, err)
	}
	probe.Close()
	os.Remove(probe.Name())

	out := outputPaths{
		dir:      abs,
		override: filepath.Join(abs, "compose.override.yml"),
		seccomp:  filepath.Join(abs, "seccomp", service+".json"),
		report:   filepath.Join(abs, "report.json"),
		created:  created,
		service:  service,
	}
	for _, in := range inputs {
		inAbs := realPath(in)
		for _, o := range []string{out.override, out.seccomp, out.report} {
			if inAbs == realPath(o) {
				return outputPaths{}, "", fmt.Errorf("%w: %s is one of the input files: choose another --out", ErrOutput, in)
			}
		}
	}
	if err := out.checkOwnership(); err != nil {
		return outputPaths{}, "", err
	}
	rel, err := filepath.Rel(projectDir, out.seccomp)
	if err != nil {
		rel = out.seccomp
	}
	out.seccompRel = filepath.ToSlash(rel)
	var warning string
	if strings.HasPrefix(out.seccompRel, "../") {
		warning = fmt.Sprintf("--out %s is outside the project directory %s: the override names its seccomp profile as %s, which holds only where both sit as they do here; put --out inside the project to commit them together", dir, projectDir, out.seccompRel)
	}
	return out, warning, nil
}

// checkOwnership refuses an output directory whose files capprof would
// overwrite but did not write: an override without capprof's first line, or
// a seccomp profile or report beside which there is no report.json of
// capprof's (JSON has no comments to mark a file with). It refuses one that
// holds capprof's profile of another service too: the override and the
// report are one service's, and writing this one's would lose that one's.
func (o outputPaths) checkOwnership() error {
	if first, err := fileFirstLine(o.override); err == nil {
		if !strings.HasPrefix(first, "# "+profiles.GeneratedMark) {
			return fmt.Errorf("%w: %s exists and was not written by capprof: move it or choose another --out", ErrOutput, o.override)
		}
		if service, ok := profiles.OverrideService(first); ok && service != o.service {
			return o.otherService(service)
		}
	}
	ours := false
	if b, err := os.ReadFile(o.report); err == nil {
		var r struct {
			Tool     string `json:"tool"`
			Services []struct {
				Service string `json:"service"`
			} `json:"services"`
		}
		ours = json.Unmarshal(b, &r) == nil && r.Tool == "capprof"
		if !ours {
			return fmt.Errorf("%w: %s exists and was not written by capprof: move it or choose another --out", ErrOutput, o.report)
		}
		for _, s := range r.Services {
			if s.Service != "" && s.Service != o.service {
				return o.otherService(s.Service)
			}
		}
	}
	for _, s := range []string{o.seccomp, o.archSeccomp} {
		if _, err := os.Stat(s); s != "" && err == nil && !ours {
			return fmt.Errorf("%w: %s exists and no report.json of capprof's is beside it: move it or choose another --out", ErrOutput, s)
		}
	}
	return nil
}

// otherService is the error for an output directory that holds the profile
// of another service.
func (o outputPaths) otherService(other string) error {
	return fmt.Errorf("%w: %s holds capprof's profile of service %q, which profiling %q there would replace: "+
		"give each service its own --out (e.g. %s) and pass each override with -f",
		ErrOutput, o.dir, other, o.service, filepath.Join(filepath.Dir(o.dir), o.service))
}

// realPath resolves symbolic links where it can, for comparing paths.
func realPath(p string) string {
	abs, err := filepath.Abs(p)
	if err != nil {
		return p
	}
	if r, err := filepath.EvalSymlinks(abs); err == nil {
		return r
	}
	if r, err := filepath.EvalSymlinks(filepath.Dir(abs)); err == nil {
		return filepath.Join(r, filepath.Base(abs))
	}
	return abs
}

// fileFirstLine returns a file's first line; an error when it cannot be read.
func fileFirstLine(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Scan()
	return sc.Text(), sc.Err()
}
