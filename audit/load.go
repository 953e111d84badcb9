package audit

import (
	"cmp"
	"context"
	"errors"
	"fmt"
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
func load(ctx context.Context, opts Options) (*types.Project, error) {
	wd := opts.WorkingDir
	if wd == "" {
		var err error
		if wd, err = os.Getwd(); err != nil {
			return nil, fmt.Errorf("%w: %w", ErrLoad, err)
		}
	}
	files := make([]string, len(opts.Files))
	for i, f := range opts.Files {
		if f == "-" {
			return nil, fmt.Errorf("%w: reading a compose file from standard input is not supported: pass its path", ErrLoad)
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
			return nil, err
		}
		files = found
	}
	// As with docker compose, the project directory is the first file's
	// unless --project-directory names one: .env and the files' relative
	// paths are read from there.
	projectDir := cmp.Or(opts.ProjectDirectory, filepath.Dir(files[0]))
	po, err := cli.NewProjectOptions(files,
		cli.WithWorkingDirectory(projectDir),
		cli.WithEnv(env),
		cli.WithEnvFiles(),
		cli.WithDotEnv,
		cli.WithProfiles([]string{"*"}),
		cli.WithLoadOptions(tolerateUnsetVariables),
	)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrLoad, err)
	}
	project, err := po.LoadProject(ctx)
	if err != nil {
		// compose-go's YAML errors give a line but not the file.
		return nil, fmt.Errorf("%w %s: %w", ErrLoad, strings.Join(po.ConfigPaths, ", "), err)
	}
	return project, nil
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
