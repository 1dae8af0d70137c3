// Package cli is the secretwatch command line: replay, learn and check-config. The light
// binary (cmd/secretwatch) runs it with local targets only; cmd/secretwatch-aws adds the AWS
// targets (DynamoDB, SNS, CloudWatch) through a Remote, so the everyday binary builds in seconds
// without the AWS SDK.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
)

// errUsage marks command-line mistakes (exit status 2).
var errUsage = errors.New("usage error")

const usage = `secretwatch — who reads your AWS Secrets Manager secrets, and should they?

Usage:
  secretwatch replay [flags] PATH...     run the detector over CloudTrail logs (files, trees, -)
  secretwatch learn [flags] PATH...      propose an allow-list from history
  secretwatch check-config FILE...       validate allow-list files
  secretwatch report [flags] [PATH...]   who accessed which secret, over a period (text, markdown, html, csv, json)
  secretwatch help [COMMAND]

PATH is a CloudTrail log file ({"Records":[...]}, gzip or plain), a directory tree of them
(AWSLogs/…), a JSON record, a JSON array, NDJSON, EventBridge events, or - for stdin.
Run "secretwatch COMMAND -h" for a command's flags.
`

// ErrUsage marks command-line mistakes (exit status 2).
var ErrUsage = errUsage

// Option configures Run.
type Option func(*env)

// WithRemote adds remote targets (flags and adapters) to replay.
func WithRemote(r Remote) Option { return func(e *env) { e.remote = r } }

// Run is the whole program; main only wires the process to it.
func Run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, opts ...Option) error {
	env := &env{stdin: stdin, stdout: stdout, stderr: stderr}
	for _, o := range opts {
		o(env)
	}
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return fmt.Errorf("%w: no command", errUsage)
	}
	switch cmd, rest := args[0], args[1:]; cmd {
	case "replay":
		return env.replay(ctx, rest)
	case "learn":
		return env.learn(ctx, rest)
	case "check-config":
		return env.checkConfig(rest)
	case "report":
		return env.report(ctx, rest)
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	default:
		fmt.Fprint(stderr, usage)
		return fmt.Errorf("%w: unknown command %q", errUsage, cmd)
	}
}

// env is what a command may touch: its streams (and, through them, nothing global).
type env struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	remote         Remote
	now            func() time.Time // clock; nil: time.Now (see WithClock)
}

func joinPaths(paths []string) string {
	if len(paths) > 3 {
		return strings.Join(paths[:3], ", ") + fmt.Sprintf(" and %d more", len(paths)-3)
	}
	return strings.Join(paths, ", ")
}
