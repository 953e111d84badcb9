// Command capprof replaces `privileged: true` in a compose service with
// measured least privilege.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	routeLibraryWarnings(os.Stderr)
	err := newApp().RunContext(ctx, os.Args)
	stop()
	switch {
	case errors.Is(err, context.Canceled):
		fmt.Fprintln(os.Stderr, "capprof: interrupted; the containers, networks and volumes it started were removed")
	case err != nil:
		fmt.Fprintf(os.Stderr, "capprof: %v\n", err)
	}
	os.Exit(exitCode(err))
}
