// Command secretwatch replays CloudTrail logs through the same detector the Lambda runs, learns
// an allow-list from history and checks allow-list files, on a laptop with an embedded store.
// cmd/secretwatch-aws is the same program with AWS targets. See README.md.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/secretwatch/secretwatch/internal/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := cli.Run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr, cli.WithName("secretwatch"))
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "secretwatch:", cli.Message(err))
	}
	os.Exit(cli.ExitCode(err))
}
