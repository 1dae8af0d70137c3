// Command secretwatch-aws is secretwatch with AWS targets: replay can write baselines to a
// DynamoDB table, publish alerts to an SNS topic and metrics to CloudWatch — to backfill a real
// deployment from old CloudTrail logs, or to run against local stand-ins. Everything else is the
// same program as cmd/secretwatch.
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
	err := cli.Run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr, cli.WithName("secretwatch-aws"), cli.WithRemote(&remote{stderr: os.Stderr}))
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "secretwatch-aws:", cli.Message(err))
	}
	os.Exit(cli.ExitCode(err))
}
