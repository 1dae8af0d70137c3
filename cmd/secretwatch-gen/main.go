// Command secretwatch-gen writes a realistic, deterministic CloudTrail tree of one AWS account's
// Secrets Manager activity, with known anomalies on the last day, and prints the ground truth as
// JSON. See package internal/scenario.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	switch {
	case errors.Is(err, flag.ErrHelp):
		os.Exit(0)
	case err != nil:
		fmt.Fprintln(os.Stderr, "secretwatch-gen:", err)
		os.Exit(1)
	}
}
