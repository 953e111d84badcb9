// Command capprof replaces `privileged: true` in a compose service with
// measured least privilege.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := newApp().RunContext(ctx, os.Args)
	stop()
	if err != nil {
		fmt.Fprintf(os.Stderr, "capprof: %v\n", err)
	}
	os.Exit(exitCode(err))
}
