package profiler

import (
	"cmp"
	"context"
	"fmt"
	"path/filepath"
	"sort"
	"strings"

	"github.com/compose-spec/compose-go/v2/cli"
	"github.com/compose-spec/compose-go/v2/types"
)

// LoadProject loads the compose files the way `docker compose` does:
// interpolation from the environment and .env, several -f files merged in
// order, extends and include. Every profile is enabled so that a service
// behind a profile can be named.
func LoadProject(ctx context.Context, files []string) (*types.Project, error) {
	if len(files) == 0 {
		return nil, &LoadError{Err: fmt.Errorf("no compose file given: pass -f compose.yml")}
	}
	abs := make([]string, len(files))
	for i, f := range files {
		a, err := filepath.Abs(f)
		if err != nil {
			return nil, fmt.Errorf("compose file %s: %w", f, err)
		}
		abs[i] = a
	}
	opts, err := cli.NewProjectOptions(abs,
		cli.WithWorkingDirectory(filepath.Dir(abs[0])),
		cli.WithOsEnv,
		cli.WithEnvFiles(),
		cli.WithDotEnv,
		cli.WithProfiles([]string{"*"}),
	)
	if err != nil {
		return nil, &LoadError{Files: files, Err: err}
	}
	project, err := opts.LoadProject(ctx)
	if err != nil {
		return nil, &LoadError{Files: files, Err: err}
	}
	return project, nil
}

// lookupService returns the named service or an error listing the ones there are.
func lookupService(project *types.Project, name string) (types.ServiceConfig, error) {
	if svc, err := project.GetService(name); err == nil {
		return svc, nil
	}
	names := project.ServiceNames()
	sort.Strings(names)
	return types.ServiceConfig{}, fmt.Errorf("%w %q in %s (services: %s)", ErrUnknownService, name,
		strings.Join(project.ComposeFiles, ", "), strings.Join(names, ", "))
}

// LoadError is a problem with the compose files themselves: unreadable,
// invalid YAML, failed interpolation. The CLI exits 2 on it.
type LoadError struct {
	Files []string
	Err   error
}

func (e *LoadError) Error() string {
	if len(e.Files) == 0 {
		return e.Err.Error()
	}
	return fmt.Sprintf("load compose project %s: %v", strings.Join(e.Files, ", "), e.Err)
}

func (e *LoadError) Unwrap() error { return e.Err }

// persistentMounts lists the service's writable mounts whose data outlives
// a run: host paths bound read-write and external volumes. capprof removes
// the volumes its own runs create, so these are the user's data the trace
// run and the replays write into one after the other.
func persistentMounts(project *types.Project, svc types.ServiceConfig) []string {
	var out []string
	for _, v := range svc.Volumes {
		if v.ReadOnly {
			continue
		}
		switch v.Type {
		case types.VolumeTypeBind:
			out = append(out, "the host path "+v.Source)
		case types.VolumeTypeVolume:
			if vol, ok := project.Volumes[v.Source]; ok && bool(vol.External) {
				out = append(out, "the external volume "+cmp.Or(vol.Name, v.Source))
			}
		}
	}
	return out
}
