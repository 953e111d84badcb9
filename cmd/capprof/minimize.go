package main

import (
	"fmt"

	"github.com/urfave/cli/v2"

	"github.com/capprof/capprof/profiler"
)

var minimizeCommand = &cli.Command{
	Name:      "minimize",
	Usage:     "drop, by replay, the grants of an earlier profile that its workload passes without",
	ArgsUsage: "DIR",
	Description: `Reads DIR/report.json from an earlier capprof profile (its compose files, service and
workload), replays the workload without each capability and device, by group testing so that
the replays grow like k·log2(n) for k needed among n, tries weaker capabilities in place of
strong ones (DAC_READ_SEARCH for DAC_OVERRIDE), rewrites the override, verifies it, and writes
the replays that proved each removal into the report. A seccomp profile translated with
capprof profile --arch is written again, unless --arch says otherwise.

Example:
   capprof profile -f examples/nginx/compose.yml --service nginx --run 'curl -fsS http://127.0.0.1:18080/' --out examples/nginx/capprof
   capprof minimize examples/nginx/capprof`,
	Flags: []cli.Flag{
		&cli.StringFlag{Name: "arch", Usage: "also write seccomp/SERVICE.`ARCH`.json, the seccomp profile translated to ARCH (amd64 or x86_64, arm64 or aarch64), unverified (default: the earlier profile's --arch)", EnvVars: []string{"CAPPROF_ARCH"}},
	},
	OnUsageError: func(_ *cli.Context, err error, _ bool) error {
		return usageError{err}
	},
	Action: func(cliCtx *cli.Context) error {
		if cliCtx.NArg() != 1 {
			return usageError{fmt.Errorf("minimize takes one argument, the output directory of capprof profile (got %d)", cliCtx.NArg())}
		}
		if _, err := profiler.ParseArch(cliCtx.String("arch")); err != nil {
			return usageError{err}
		}
		res, err := profiler.Minimize(cliCtx.Context, profiler.MinimizeOptions{
			Dir:      cliCtx.Args().First(),
			Arch:     cliCtx.String("arch"),
			Progress: cliCtx.App.ErrWriter,
		})
		printResult(cliCtx, res)
		if err != nil && isLoadError(err) {
			return usageError{err}
		}
		return err
	},
}
