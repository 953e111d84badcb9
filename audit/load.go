package audit

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/compose-spec/compose-go/v2/cli"
	"github.com/compose-spec/compose-go/v2/format"
	interp "github.com/compose-spec/compose-go/v2/interpolation"
	"github.com/compose-spec/compose-go/v2/loader"
	"github.com/compose-spec/compose-go/v2/template"
	"github.com/compose-spec/compose-go/v2/tree"
	"github.com/compose-spec/compose-go/v2/types"
)

// Options say what to audit.
type Options struct {
	// Files are the compose files, merged in order as with docker compose
	// -f. Empty: COMPOSE_FILE, else compose.yaml (or compose.yml,
	// docker-compose.yml …) in WorkingDir or a parent, with its
	// compose.override.yml beside it.
	Files []string
	// WorkingDir is where the files are looked for without Files, and what
	// locations are relative to. Empty: the current directory.
	WorkingDir string
	// ProjectDirectory, when set, is the project's directory as with
	// docker compose --project-directory: files are looked for there
	// without Files, and relative paths in the files start from it even
	// with Files.
	ProjectDirectory string
	// Stdin is what a file named "-" is read from; nil: the process's
	// standard input.
	Stdin io.Reader
	// Env is the environment variables are interpolated from, as KEY=VALUE;
	// nil: the process's own. The project's .env file adds to it as with
	// docker compose.
	Env []string
}

// load reads the project with every profile enabled. A variable that is not
// set interpolates to nothing, as with docker compose, but where that empty
// value would have to become a number or a boolean (privileged: ${PRIV})
// it becomes the type's zero value instead of failing the load: the YAML
// walk reports such a setting as indeterminate.
//
// A file named "-" is read from standard input into memory; compose-go
// loads it from a temporary file, removed before load returns, and the
// project directory is then the working directory (or ProjectDirectory),
// as with docker compose -f -. The content comes back as stdin, for the
// YAML walk.
func load(ctx context.Context, opts Options) (project *types.Project, stdin *stdinFile, err error) {
	wd := opts.WorkingDir
	if wd == "" {
		if wd, err = os.Getwd(); err != nil {
			return nil, nil, fmt.Errorf("%w: %w", ErrLoad, err)
		}
	}
	files := make([]string, len(opts.Files))
	for i, f := range opts.Files {
		if f == "-" {
			if stdin == nil {
				if stdin, err = readStdin(opts.Stdin); err != nil {
					return nil, nil, fmt.Errorf("%w: %w", ErrLoad, err)
				}
				defer os.RemoveAll(filepath.Dir(stdin.path))
			}
			files[i] = stdin.path
			continue
		}
		if !filepath.IsAbs(f) {
			f = filepath.Join(wd, f)
		}
		files[i] = f
	}
	env := opts.Env
	if env == nil {
		env = os.Environ()
	}
	if len(files) == 0 {
		found, err := discover(opts.ProjectDirectory, wd, env)
		if err != nil {
			return nil, nil, err
		}
		files = found
	}
	// As with docker compose, the project directory is the first file's
	// unless --project-directory names one: .env and the files' relative
	// paths are read from there.
	projectDir := cmp.Or(opts.ProjectDirectory, filepath.Dir(files[0]))
	if stdin != nil && files[0] == stdin.path {
		projectDir = cmp.Or(opts.ProjectDirectory, wd)
	}
	po, err := cli.NewProjectOptions(files,
		cli.WithWorkingDirectory(projectDir),
		cli.WithEnv(env),
		cli.WithEnvFiles(),
		cli.WithDotEnv,
		cli.WithProfiles([]string{"*"}),
		cli.WithLoadOptions(tolerateUnsetVariables),
	)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %w", ErrLoad, err)
	}
	project, err = po.LoadProject(ctx)
	if err != nil {
		// compose-go's YAML errors give a line but not the file.
		return nil, nil, fmt.Errorf("%w %s: %w", ErrLoad, strings.Join(po.ConfigPaths, ", "), err)
	}
	return project, stdin, nil
}

// stdinFile is a compose file read from standard input: path is where
// compose-go read it from, data what the YAML walk reads.
type stdinFile struct {
	path string
	data []byte
}

// stdinName is how locations name a compose file read from standard input.
const stdinName = "stdin"

func readStdin(r io.Reader) (*stdinFile, error) {
	if r == nil {
		r = os.Stdin
	}
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("read the compose file from standard input: %w", err)
	}
	dir, err := os.MkdirTemp("", "capprof-stdin-")
	if err != nil {
		return nil, err
	}
	path := filepath.Join(dir, "compose.yaml")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	return &stdinFile{path: path, data: data}, nil
}

// discover finds the compose files as docker compose does without -f:
// COMPOSE_FILE (from the environment or the .env of the directory it runs
// in), else compose.yaml or its older names in dir or a parent, with the
// override file beside it.
func discover(projectDir, wd string, env []string) ([]string, error) {
	dir := cmp.Or(projectDir, wd)
	po, err := cli.NewProjectOptions(nil,
		cli.WithWorkingDirectory(dir),
		cli.WithEnv(env),
		cli.WithEnvFiles(),
		cli.WithDotEnv,
		cli.WithConfigFileEnv,
		cli.WithDefaultConfigPath,
	)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrLoad, err)
	}
	if len(po.ConfigPaths) == 0 {
		return nil, fmt.Errorf("%w: no compose file in %s or a parent directory (compose.yaml, compose.yml, docker-compose.yml, docker-compose.yaml): pass -f FILE", ErrLoad, dir)
	}
	files := make([]string, len(po.ConfigPaths))
	for i, f := range po.ConfigPaths {
		if f == "-" {
			return nil, fmt.Errorf("%w: COMPOSE_FILE names standard input, which is not supported: pass the file's path", ErrLoad)
		}
		if !filepath.IsAbs(f) {
			f = filepath.Join(dir, f)
		}
		files[i] = filepath.Clean(f)
	}
	return files, nil
}

// tolerateUnsetVariables keeps compose's interpolation but lets an empty
// value in a typed field load as the type's zero value, and keeps the
// loader quiet about unset variables: the audit reports them itself.
func tolerateUnsetVariables(o *loader.Options) {
	if o.Interpolate == nil {
		return
	}
	ip := *o.Interpolate
	ip.Substitute = substituteQuietly
	casts := make(map[tree.Path]interp.Cast, len(ip.TypeCastMapping))
	for path, cast := range ip.TypeCastMapping {
		casts[path] = zeroWhenEmpty(cast)
	}
	casts[tree.NewPath("services", tree.PathMatchAll, "volumes", tree.PathMatchList)] = anonymousWhenSourceless
	// An image named by an unset variable would leave the service with
	// neither image nor build, which compose refuses: the audit reads
	// everything else of it all the same.
	casts[tree.NewPath("services", tree.PathMatchAll, "image")] = placeholderImageWhenEmpty
	// compose-go casts build.privileged nowhere: it decodes the boolean
	// itself, and an unset variable there would fail the load.
	if toBool, ok := casts[tree.NewPath("services", tree.PathMatchAll, "privileged")]; ok {
		casts[tree.NewPath("services", tree.PathMatchAll, "build", "privileged")] = toBool
	}
	// Sizes and limits compose decodes from strings, not through a cast:
	// an unset variable there would fail the load rather than show.
	for _, key := range []string{"mem_limit", "memswap_limit", "mem_reservation", "shm_size"} {
		casts[tree.NewPath("services", tree.PathMatchAll, key)] = zeroStringWhenEmpty
	}
	for _, kind := range []string{"limits", "reservations"} {
		for _, key := range []string{"memory", "pids", "cpus"} {
			casts[tree.NewPath("services", tree.PathMatchAll, "deploy", "resources", kind, key)] = zeroStringWhenEmpty
		}
	}
	ip.TypeCastMapping = casts
	o.Interpolate = &ip
}

func substituteQuietly(value string, mapping template.Mapping) (string, error) {
	return template.SubstituteWithOptions(value, mapping, template.WithoutLogging, template.WithReplacementFunction(
		func(sub string, m template.Mapping, cfg *template.Config) (string, error) {
			v, _, _, err := replaceRequiredAsUnset(sub, m, cfg)
			return v, err
		}))
}

// replaceRequiredAsUnset substitutes one variable as compose does, except
// that a required one without a value (${VAR:?message}, ${VAR?message})
// becomes the empty string, as an unset ${VAR} does, instead of failing the
// load: docker compose would refuse to start, but the audit still reads
// the rest of the project, and reports the variable where a rule reads it.
// missing names such a variable; applied is false for it as for an unset
// one.
func replaceRequiredAsUnset(sub string, m template.Mapping, cfg *template.Config) (value string, applied bool, missing string, err error) {
	value, applied, err = template.DefaultReplacementAppliedFunc(sub, m, cfg)
	var required *template.MissingRequiredError
	if errors.As(err, &required) {
		return "", false, required.Variable, nil
	}
	return value, applied, "", err
}

// anonymousWhenSourceless loads a short-syntax volume whose source is an
// unset variable (${SOCK}:/var/run/docker.sock interpolates to
// ":/var/run/docker.sock", which compose rejects) as an anonymous volume at
// its target, so that the project loads and the YAML walk reports the
// volume's rules indeterminate.
func anonymousWhenSourceless(value string) (any, error) {
	if !strings.HasPrefix(value, ":") {
		return value, nil
	}
	v, err := format.ParseVolume("unset" + value)
	if err != nil || v.Target == "" {
		return value, nil // compose's own error says what is wrong
	}
	return map[string]any{"type": types.VolumeTypeVolume, "target": v.Target, "read_only": v.ReadOnly}, nil
}

// unsetImage stands for an image named by an unset variable.
const unsetImage = "capprof-audit/unset-image"

// placeholderImageWhenEmpty loads an empty image as unsetImage.
func placeholderImageWhenEmpty(value string) (any, error) {
	if value == "" {
		return unsetImage, nil
	}
	return value, nil
}

// zeroStringWhenEmpty loads an empty size or limit as 0 (no limit) and
// leaves any other value to compose's own decoding.
func zeroStringWhenEmpty(value string) (any, error) {
	if value == "" {
		return "0", nil
	}
	return value, nil
}

func zeroWhenEmpty(cast interp.Cast) interp.Cast {
	return func(value string) (any, error) {
		if value != "" {
			return cast(value)
		}
		if v, err := cast("false"); err == nil {
			return v, nil
		}
		return cast("0")
	}
}
