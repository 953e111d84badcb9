package audit

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"github.com/compose-spec/compose-go/v2/dotenv"
	"github.com/compose-spec/compose-go/v2/template"
	"github.com/compose-spec/compose-go/v2/types"
	"gopkg.in/yaml.v3"
)

// sources indexes the YAML of every compose file the project was loaded
// from, to tell where a setting was made. compose-go's merged project has
// no positions: the audit finds each setting again in the files, walking
// them the way compose merges them (later -f files over earlier ones, a
// service over the one it extends, the including file over what it
// includes), following anchors, aliases and merge keys.
type sources struct {
	workingDir string
	env        types.Mapping
	// main are the -f files in merge order; included, the files they
	// include, in the order met.
	main, included []*composeFile
	// read holds every file read, by absolute path.
	read  map[string]*composeFile
	order []*composeFile
	// stdin is the compose file read from standard input, if any.
	stdin *stdinFile
}

// composeFile is one parsed compose file: its YAML documents, each a
// mapping, in file order.
type composeFile struct {
	path string
	docs []*yaml.Node
	// env is what the file's variables interpolate from: the project's
	// environment, and for an included file that plus its include's
	// env_file (or the .env beside it), as compose loads it.
	env types.Mapping
}

// serviceDef is a service's mapping in one file.
type serviceDef struct {
	file *composeFile
	key  *yaml.Node // the service's name, for its location
	node *yaml.Node // the service's mapping
}

// unsetKey is a service key holding a variable that is not set: key is
// the service key, or the dotted path below it (deploy.resources.limits.memory)
// of the scalar that holds the variable. scalars are every such scalar
// under a top-level key, in file order, for rules that read only part of
// the key.
type unsetKey struct {
	key     string
	loc     Location
	vars    []string
	scalars []unsetKey
	// raw is the scalar as written, value as interpolated with the unset
	// variables empty, which is how the loaded project holds it.
	raw, value string
}

// maxExtendsDepth bounds extends chains; compose itself rejects cycles.
const maxExtendsDepth = 32

func readSources(project *types.Project, stdin *stdinFile) (*sources, error) {
	s := &sources{workingDir: project.WorkingDir, env: project.Environment, read: map[string]*composeFile{}, stdin: stdin}
	for _, path := range project.ComposeFiles {
		f, err := s.file(path, s.env)
		if err != nil {
			return nil, err
		}
		s.main = append(s.main, f)
	}
	seen := map[string]bool{}
	queue := slices.Clone(s.main)
	for len(queue) > 0 {
		f := queue[0]
		queue = queue[1:]
		for _, ref := range s.includes(f) {
			if seen[ref.path] {
				continue
			}
			seen[ref.path] = true
			inc, err := s.file(ref.path, ref.env)
			if err != nil {
				// A remote include (git, oci) has no local file:
				// its settings are located at the include line.
				continue
			}
			s.included = append(s.included, inc)
			queue = append(queue, inc)
		}
	}
	return s, nil
}

// file parses a compose file once; env is what its variables interpolate
// from, the first time it is read.
func (s *sources) file(path string, env types.Mapping) (*composeFile, error) {
	if f, ok := s.read[path]; ok {
		return f, nil
	}
	var data []byte
	var err error
	if s.stdin != nil && path == s.stdin.path {
		data = s.stdin.data
	} else if data, err = os.ReadFile(path); err != nil {
		return nil, err
	}
	f := &composeFile{path: path, env: env}
	dec := yaml.NewDecoder(strings.NewReader(string(data)))
	for {
		var doc yaml.Node
		if err := dec.Decode(&doc); err != nil {
			if errors.Is(err, io.EOF) {
				break
			}
			return nil, fmt.Errorf("parse %s: %w", path, err)
		}
		if len(doc.Content) == 1 && doc.Content[0].Kind == yaml.MappingNode {
			f.docs = append(f.docs, doc.Content[0])
		}
	}
	s.read[path] = f
	s.order = append(s.order, f)
	return f, nil
}

// fileNames lists the files read, relative to the working directory: the
// -f files in merge order, then those included or extended.
func (s *sources) fileNames() []string {
	out := make([]string, len(s.order))
	for i, f := range s.order {
		out[i] = s.name(f)
	}
	return out
}

// name is how reports name a file: relative to the working directory, or
// stdin.
func (s *sources) name(f *composeFile) string {
	if s.stdin != nil && f.path == s.stdin.path {
		return stdinName
	}
	return relativeTo(s.workingDir, f.path)
}

// baseDir is what relative include and extends paths in f start from, as
// compose resolves them: the project directory for the -f files, the
// file's own directory for the files those include or extend.
func (s *sources) baseDir(f *composeFile) string {
	if slices.Contains(s.main, f) {
		return s.workingDir
	}
	return filepath.Dir(f.path)
}

// includeRef is a file an include names, with the environment its
// variables interpolate from.
type includeRef struct {
	path string
	env  types.Mapping
}

// includes returns the files f includes, absolute. Each include's files
// interpolate from f's environment plus the include's env_file, by default
// the .env in the included project's directory (the first file's, or
// project_directory); f's own values win, as compose merges them.
func (s *sources) includes(f *composeFile) []includeRef {
	var out []includeRef
	dir := s.baseDir(f)
	abs := func(n *yaml.Node, base string) string {
		if n = deref(n); n == nil || n.Kind != yaml.ScalarNode {
			return ""
		}
		p, _ := s.interpolate(f, n.Value)
		if p == "" {
			return ""
		}
		if !filepath.IsAbs(p) {
			p = filepath.Join(base, p)
		}
		return filepath.Clean(p)
	}
	scalars := func(n *yaml.Node) []*yaml.Node {
		if n = deref(n); n != nil && n.Kind == yaml.SequenceNode {
			return n.Content
		}
		return []*yaml.Node{n}
	}
	for _, doc := range f.docs {
		_, inc := lookup(doc, "include")
		if inc == nil || inc.Kind != yaml.SequenceNode {
			continue
		}
		for _, item := range inc.Content {
			item = deref(item)
			var paths, envFiles []string
			projectDir := ""
			switch item.Kind {
			case yaml.ScalarNode:
				if p := abs(item, dir); p != "" {
					paths = append(paths, p)
				}
			case yaml.MappingNode:
				_, p := lookup(item, "path")
				for _, one := range scalars(p) {
					if p := abs(one, dir); p != "" {
						paths = append(paths, p)
					}
				}
				_, pd := lookup(item, "project_directory")
				projectDir = abs(pd, dir)
				_, ef := lookup(item, "env_file")
				for _, one := range scalars(ef) {
					if p := abs(one, dir); p != "" {
						envFiles = append(envFiles, p)
					}
				}
			}
			if len(paths) == 0 {
				continue
			}
			if projectDir == "" {
				projectDir = filepath.Dir(paths[0])
			}
			if envFiles == nil {
				if st, err := os.Stat(filepath.Join(projectDir, ".env")); err == nil && !st.IsDir() {
					envFiles = []string{filepath.Join(projectDir, ".env")}
				}
			}
			env := f.env
			if len(envFiles) > 0 {
				// A missing or malformed env_file fails compose's own
				// load before the audit gets here.
				if fromFile, err := dotenv.GetEnvFromFile(f.env, envFiles); err == nil {
					env = f.env.Clone().Merge(fromFile)
				}
			}
			for _, p := range paths {
				out = append(out, includeRef{path: p, env: env})
			}
		}
	}
	return out
}

// defs returns the mappings that define a service, most authoritative
// first: the last -f file first, each definition before the one it
// extends, included files last.
func (s *sources) defs(name string) []serviceDef {
	var out []serviceDef
	for i := len(s.main) - 1; i >= 0; i-- {
		for _, d := range s.main[i].services(name) {
			out = s.withExtends(out, d, 0)
		}
	}
	for _, f := range s.included {
		for _, d := range f.services(name) {
			out = s.withExtends(out, d, 0)
		}
	}
	return out
}

// services returns the file's definitions of a service, the last document
// first.
func (f *composeFile) services(name string) []serviceDef {
	var out []serviceDef
	for i := len(f.docs) - 1; i >= 0; i-- {
		_, svcs := lookup(f.docs[i], "services")
		if svcs == nil {
			continue
		}
		if k, v := lookup(svcs, name); v != nil && v.Kind == yaml.MappingNode {
			out = append(out, serviceDef{file: f, key: k, node: v})
		}
	}
	return out
}

// withExtends appends d and, after it, what d extends.
func (s *sources) withExtends(out []serviceDef, d serviceDef, depth int) []serviceDef {
	out = append(out, d)
	if depth >= maxExtendsDepth {
		return out
	}
	_, ext := lookup(d.node, "extends")
	if ext == nil {
		return out
	}
	file := d.file
	var service string
	switch ext.Kind {
	case yaml.ScalarNode:
		service, _ = s.interpolate(d.file, ext.Value)
	case yaml.MappingNode:
		if _, n := lookup(ext, "service"); n != nil && n.Kind == yaml.ScalarNode {
			service, _ = s.interpolate(d.file, n.Value)
		}
		if _, n := lookup(ext, "file"); n != nil && n.Kind == yaml.ScalarNode {
			p, _ := s.interpolate(d.file, n.Value)
			if !filepath.IsAbs(p) {
				p = filepath.Join(s.baseDir(d.file), p)
			}
			f, err := s.file(filepath.Clean(p), d.file.env)
			if err != nil {
				return out
			}
			file = f
		}
	}
	if service == "" {
		return out
	}
	for _, base := range file.services(service) {
		if base.node == d.node {
			continue
		}
		out = s.withExtends(out, base, depth+1)
	}
	return out
}

// locate returns where a setting of the service was made: the item that
// item matches under key, or the key itself when item is nil. A setting
// found nowhere (a missing one) is located at the service's definition.
func (s *sources) locate(service, key string, item func(Item) bool) Location {
	if key != "" {
		parts := strings.Split(key, ".")
		for _, d := range s.defs(service) {
			k, v := lookupPath(d.node, parts)
			if v == nil {
				continue
			}
			if item == nil {
				return s.location(d.file, k)
			}
			if v.Tag == "!reset" {
				break
			}
			if n := s.findItem(d.file, v, item); n != nil {
				return s.location(d.file, n)
			}
			if v.Tag == "!override" {
				break
			}
		}
	}
	return s.serviceLocation(service)
}

// serviceLocation is where the service is first defined: in the first -f
// file that names it, else in an included file.
func (s *sources) serviceLocation(service string) Location {
	defs := s.defs(service)
	for i := len(defs) - 1; i >= 0; i-- {
		if slices.Contains(s.main, defs[i].file) {
			return s.location(defs[i].file, defs[i].key)
		}
	}
	if len(defs) > 0 {
		return s.location(defs[0].file, defs[0].key)
	}
	if len(s.main) > 0 {
		return Location{File: s.name(s.main[0])}
	}
	return Location{}
}

func (s *sources) location(f *composeFile, n *yaml.Node) Location {
	return Location{File: s.name(f), Line: n.Line, Column: n.Column}
}

// findItem returns the node of the last list item or mapping entry (its
// key) under v that match accepts: where one list holds two items for one
// setting (two volumes at /data, a sysctl set twice), compose keeps the
// last.
func (s *sources) findItem(f *composeFile, v *yaml.Node, match func(Item) bool) *yaml.Node {
	v = deref(v)
	var found *yaml.Node
	switch v.Kind {
	case yaml.SequenceNode:
		for _, n := range v.Content {
			if match(yamlItem{s: s, file: f, node: deref(n)}) {
				found = n
			}
		}
	case yaml.MappingNode:
		for _, e := range entries(v) {
			if match(yamlItem{s: s, file: f, key: e.key, node: e.value}) {
				found = e.key
			}
		}
	}
	return found
}

// unsetKeys returns the service's keys whose effective value holds a
// variable that is not set: for a scalar the value that wins the merge,
// for a list or mapping every file's items down to an !override or !reset.
func (s *sources) unsetKeys(service string) map[string]unsetKey {
	out := map[string]unsetKey{}
	decided := map[string]bool{}
	for _, d := range s.defs(service) {
		for _, e := range entries(d.node) {
			key := e.key.Value
			if decided[key] {
				continue
			}
			v := e.value
			composite := v.Kind == yaml.SequenceNode || v.Kind == yaml.MappingNode
			if !composite || v.Tag == "!override" || v.Tag == "!reset" {
				decided[key] = true
			}
			if _, done := out[key]; done {
				continue
			}
			if found := s.unsetScalars(d.file, key, v, nil); len(found) > 0 {
				u := found[0]
				u.key, u.scalars = key, found
				out[key] = u
			}
		}
	}
	return out
}

// unsetScalars appends every scalar under n whose interpolation meets an
// unset variable, with its dotted path below the service (list items as
// path[i]) and those variables.
func (s *sources) unsetScalars(f *composeFile, path string, n *yaml.Node, out []unsetKey) []unsetKey {
	n = deref(n)
	switch n.Kind {
	case yaml.ScalarNode:
		if n.Tag == "!reset" {
			return out
		}
		if value, vars := s.interpolate(f, n.Value); len(vars) > 0 {
			out = append(out, unsetKey{key: path, loc: s.location(f, n), vars: vars, raw: n.Value, value: value})
		}
	case yaml.SequenceNode:
		for i, c := range n.Content {
			out = s.unsetScalars(f, fmt.Sprintf("%s[%d]", path, i), c, out)
		}
	case yaml.MappingNode:
		for _, e := range entries(n) {
			out = s.unsetScalars(f, path+"."+e.key.Value, e.value, out)
		}
	}
	return out
}

var variableName = regexp.MustCompile(`^\$\{?([_a-zA-Z][_a-zA-Z0-9]*)`)

// interpolate substitutes variables the way compose does and returns the
// variables that were not set and had no default: where one is, the value
// compose used was a guess (the empty string).
func (s *sources) interpolate(f *composeFile, value string) (string, []string) {
	if !strings.Contains(value, "$") {
		return value, nil
	}
	var unset []string
	mapping := func(name string) (string, bool) {
		v, ok := f.env[name]
		return v, ok
	}
	replace := func(sub string, m template.Mapping, cfg *template.Config) (string, error) {
		v, applied, missing, err := replaceRequiredAsUnset(sub, m, cfg)
		if err == nil && !applied {
			if missing == "" {
				if name := variableName.FindStringSubmatch(sub); name != nil {
					missing = name[1]
				}
			}
			if missing != "" && !slices.Contains(unset, missing) {
				unset = append(unset, missing)
			}
		}
		return v, err
	}
	out, err := template.SubstituteWithOptions(value, mapping, template.WithReplacementFunction(replace), template.WithoutLogging)
	if err != nil {
		return value, nil
	}
	return out, unset
}

// entry is a mapping's key and value.
type entry struct{ key, value *yaml.Node }

// entries returns a mapping's entries with merge keys (<<: *anchor)
// resolved: explicit keys first, then merged ones not already present, as
// YAML merges them.
func entries(m *yaml.Node) []entry {
	m = deref(m)
	if m == nil || m.Kind != yaml.MappingNode {
		return nil
	}
	var out []entry
	var merged []*yaml.Node
	seen := map[string]bool{}
	for i := 0; i+1 < len(m.Content); i += 2 {
		k, v := m.Content[i], m.Content[i+1]
		if k.Value == "<<" && (k.Tag == "!!merge" || k.Tag == "") {
			merged = append(merged, v)
			continue
		}
		seen[k.Value] = true
		out = append(out, entry{key: k, value: deref(v)})
	}
	for _, v := range merged {
		v = deref(v)
		from := []*yaml.Node{v}
		if v.Kind == yaml.SequenceNode {
			from = v.Content
		}
		for _, src := range from {
			for _, e := range entries(src) {
				if !seen[e.key.Value] {
					seen[e.key.Value] = true
					out = append(out, e)
				}
			}
		}
	}
	return out
}

// lookup returns the key and value nodes of key in mapping m.
func lookup(m *yaml.Node, key string) (*yaml.Node, *yaml.Node) {
	for _, e := range entries(m) {
		if e.key.Value == key {
			return e.key, e.value
		}
	}
	return nil, nil
}

// lookupPath follows a dotted key through nested mappings.
func lookupPath(m *yaml.Node, parts []string) (*yaml.Node, *yaml.Node) {
	var k *yaml.Node
	v := m
	for _, p := range parts {
		if k, v = lookup(v, p); v == nil {
			return nil, nil
		}
	}
	return k, v
}

// deref follows aliases to the node they name.
func deref(n *yaml.Node) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	return n
}

// yamlItem is an Item backed by a YAML node.
type yamlItem struct {
	s    *sources
	file *composeFile // whose environment the scalars interpolate from
	key  *yaml.Node
	node *yaml.Node
}

func (it yamlItem) Key() string {
	if it.key == nil {
		return ""
	}
	return it.key.Value
}

func (it yamlItem) Scalar() (string, bool) {
	if it.node == nil || it.node.Kind != yaml.ScalarNode {
		return "", false
	}
	v, _ := it.s.interpolate(it.file, it.node.Value)
	return v, true
}

func (it yamlItem) Field(key string) (string, bool) {
	_, v := lookup(it.node, key)
	if v == nil || v.Kind != yaml.ScalarNode {
		return "", false
	}
	out, _ := it.s.interpolate(it.file, v.Value)
	return out, true
}
