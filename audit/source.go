package audit

import "github.com/compose-spec/compose-go/v2/types"

// sources indexes the YAML of every compose file the project was loaded
// from, to tell where a setting was made.
type sources struct {
	workingDir string
	files      []string
}

// unsetKey is a service key holding a variable that is not set.
type unsetKey struct {
	key  string
	loc  Location
	vars []string
}

func readSources(project *types.Project) (*sources, error) {
	return &sources{workingDir: project.WorkingDir, files: project.ComposeFiles}, nil
}

func (s *sources) fileNames() []string {
	out := make([]string, len(s.files))
	for i, f := range s.files {
		out[i] = relativeTo(s.workingDir, f)
	}
	return out
}

func (s *sources) unsetKeys(service string) map[string]unsetKey { return nil }

func (s *sources) locate(service, key string, item func(Item) bool) Location {
	return Location{File: s.fileNames()[0]}
}
