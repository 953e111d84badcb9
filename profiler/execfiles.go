package profiler

import (
	"archive/tar"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"sort"

	"github.com/docker/docker/client"

	"github.com/capprof/capprof/profiles"
)

// maxExecFiles bounds how many executed programs a trace run inspects; a
// service that runs more distinct programs keeps the rest uninspected.
const maxExecFiles = 256

// capabilityXattr is the PAX record Docker's archives carry a file's
// capabilities in.
const capabilityXattr = "SCHILY.xattr.security.capability"

// execFile is what inspecting one executed program found.
type execFile struct {
	file *profiles.ExecFile
	err  error
}

// inspectExecFiles reads, from the container's file system, the mode and
// file capabilities of each program the service executed. It uses the
// engine's archive API, which follows the container's own view (its mounts
// and symlinks) and works for a container that has already exited.
func (p *profiler) inspectExecFiles(ctx context.Context, containerID string, paths []string) map[string]execFile {
	out := map[string]execFile{}
	sort.Strings(paths)
	for i, pth := range paths {
		if i >= maxExecFiles {
			out[pth] = execFile{err: fmt.Errorf("not inspected: more than %d programs were executed", maxExecFiles)}
			continue
		}
		if !path.IsAbs(pth) {
			out[pth] = execFile{err: errors.New("not inspected: executed by a relative path")}
			continue
		}
		f, err := inspectExecFile(ctx, p.docker, containerID, pth)
		out[pth] = execFile{file: f, err: err}
	}
	return out
}

// inspectExecFile reads the tar header the engine produces for pth,
// following symlinks to the file they name.
func inspectExecFile(ctx context.Context, docker *client.Client, containerID, pth string) (*profiles.ExecFile, error) {
	target := pth
	for range 16 {
		st, err := docker.ContainerStatPath(ctx, containerID, target)
		if err != nil {
			return nil, fmt.Errorf("stat in the container: %w", err)
		}
		if st.Mode&os.ModeSymlink == 0 {
			break
		}
		if st.LinkTarget == "" || st.LinkTarget == target {
			return nil, fmt.Errorf("cannot resolve the symlink %s", target)
		}
		target = st.LinkTarget
	}
	rc, _, err := docker.CopyFromContainer(ctx, containerID, target)
	if err != nil {
		return nil, fmt.Errorf("read from the container: %w", err)
	}
	defer rc.Close()
	hdr, err := tar.NewReader(rc).Next()
	if err != nil {
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return nil, fmt.Errorf("read the engine's archive of %s: %w", target, err)
	}
	return execFileFromHeader(hdr)
}

// execFileFromHeader turns a tar header into what the policy needs to know
// about an executed program.
func execFileFromHeader(hdr *tar.Header) (*profiles.ExecFile, error) {
	mode := hdr.FileInfo().Mode()
	f := &profiles.ExecFile{
		UID:    uint32(hdr.Uid),
		GID:    uint32(hdr.Gid),
		Setuid: mode&os.ModeSetuid != 0,
		Setgid: mode&os.ModeSetgid != 0,
	}
	special := 0
	if f.Setuid {
		special |= 4
	}
	if f.Setgid {
		special |= 2
	}
	if mode&os.ModeSticky != 0 {
		special |= 1
	}
	f.Mode = fmt.Sprintf("%d%03o", special, mode.Perm())
	raw, ok := hdr.PAXRecords[capabilityXattr]
	if !ok {
		// archive/tar fills the deprecated Xattrs map from the same records.
		raw, ok = hdr.Xattrs["security.capability"] //nolint:staticcheck // older engines write only this form
	}
	if ok {
		fc, err := profiles.ParseFileCaps([]byte(raw))
		if err != nil {
			return f, err
		}
		f.FileCaps = fc.String()
		f.CapsPermitted = profiles.CapSetNames(fc.Permitted)
		f.CapsEffective = fc.Effective
	}
	return f, nil
}
