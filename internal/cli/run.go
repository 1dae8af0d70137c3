// Package cli is the secretwatch command line: replay, learn, check-config and report. The
// everyday binary (cmd/secretwatch) runs it with the local store; it links the AWS SDK only for
// reading s3:// paths (cloudtrail/s3). cmd/secretwatch-aws adds the AWS targets (DynamoDB, SNS,
// CloudWatch) through a Remote.
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"regexp"
	"runtime/debug"
	"strings"
	"time"

	"github.com/secretwatch/secretwatch/alerts"
)

// Exit statuses (documented in the top-level help and README.md).
const (
	ExitOK         = 0 // the run completed
	ExitFailed     = 1 // the run failed (or found nothing to check)
	ExitUsage      = 2 // a command-line mistake
	ExitIncomplete = 3 // the run completed, but some inputs could not be read
)

// errUsage marks command-line mistakes (exit status 2).
var errUsage = errors.New("usage error")

// errIncomplete marks a run that completed without some of its inputs (exit status 3).
var errIncomplete = errors.New("incomplete")

// Message is err as main prints it: on one line, control characters escaped, bounded.
func Message(err error) string { return alerts.Clip(alerts.Escape(err.Error()), 4096) }

// ExitCode is the process exit status for what Run returned.
func ExitCode(err error) int {
	switch {
	case err == nil:
		return ExitOK
	case errors.Is(err, errUsage):
		return ExitUsage
	case errors.Is(err, errIncomplete):
		return ExitIncomplete
	default:
		return ExitFailed
	}
}

const usage = `NAME — who reads your AWS Secrets Manager secrets, and should they?

Usage:
  NAME replay [flags] PATH...     run the detector over CloudTrail logs (files, trees, -)
  NAME learn [flags] PATH...      propose an allow-list from history
  NAME check-config FILE...       validate allow-list files
  NAME report [flags] [PATH...]   who accessed which secret, over a period (text, markdown, html, csv, json)
  NAME help [COMMAND]             this help, or a command's
  NAME version                    module version, commit and Go version (also --version)

PATH is a CloudTrail log file ({"Records":[...]}, gzip or plain), a directory tree of them
(AWSLogs/…), a JSON record, a JSON array, NDJSON, EventBridge events, - for stdin, or
s3://BUCKET/PREFIX/ (a trail bucket, read with the default AWS credentials; --from/--to narrow
the days listed; an interrupted replay resumes where it stopped).
Flags may come before or after the paths; everything after -- is a path.
Run "NAME help COMMAND" or "NAME COMMAND -h" for a command's flags.

Exit status:
  0  completed
  1  failed, or nothing to check (no CloudTrail record was read)
  2  usage error (a wrong flag, command or argument)
  3  completed, but some inputs could not be read (they are listed on stderr)
`

// Option configures Run.
type Option func(*env)

// WithRemote adds remote targets (flags and adapters) to replay.
func WithRemote(r Remote) Option { return func(e *env) { e.remote = r } }

// WithName sets the program name that help and messages show (default "secretwatch").
func WithName(name string) Option { return func(e *env) { e.name = name } }

// Run is the whole program; main only wires the process to it and exits with ExitCode.
func Run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, opts ...Option) error {
	env := &env{stdin: stdin, stdout: stdout, stderr: stderr, name: "secretwatch"}
	for _, o := range opts {
		o(env)
	}
	if len(args) == 0 {
		fmt.Fprint(stderr, env.topHelp())
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
	case "version", "-version", "--version":
		fmt.Fprintln(stdout, env.version())
		return nil
	case "help", "-h", "-help", "--help":
		if len(rest) == 0 {
			fmt.Fprint(stdout, env.topHelp())
			return nil
		}
		h, ok := env.commandHelp(rest[0])
		if !ok {
			fmt.Fprint(stderr, env.topHelp())
			return fmt.Errorf("%w: help: unknown command %q", errUsage, alerts.Escape(rest[0]))
		}
		fmt.Fprint(stdout, h)
		return nil
	default:
		fmt.Fprint(stderr, env.topHelp())
		return fmt.Errorf("%w: unknown command %q", errUsage, alerts.Escape(cmd))
	}
}

// env is what a command may touch: its streams (and, through them, nothing global).
type env struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	remote         Remote
	now            func() time.Time // clock; nil: time.Now (see WithClock)
	name           string
}

func (e *env) topHelp() string { return strings.ReplaceAll(usage, "NAME", e.name) }

// commandHelp is the help of one command: what -h prints.
func (e *env) commandHelp(cmd string) (string, bool) {
	var (
		fs   *flag.FlagSet
		head string
	)
	switch cmd {
	case "replay":
		fs, head = e.replayFlagSet(new(replayFlags)), replayHelp
	case "learn":
		fs, head = learnFlagSet(new(learnFlags)), learnHelp
	case "check-config":
		fs, head = flag.NewFlagSet(cmd, flag.ContinueOnError), checkConfigHelp
	case "report":
		fs, head = reportFlagSet(new(reportFlags)), reportHelp
	case "version":
		return strings.ReplaceAll("Usage: NAME version (or NAME --version)\n\nPrints the module version, the commit it was built from and the Go version.\n", "NAME", e.name), true
	case "help":
		return strings.ReplaceAll("Usage: NAME help [COMMAND]\n\nPrints the overview, or the help of COMMAND.\n", "NAME", e.name), true
	default:
		return "", false
	}
	var b strings.Builder
	b.WriteString(strings.ReplaceAll(head, "NAME", e.name))
	if hasFlags(fs) {
		b.WriteString("\nFlags:\n")
		writeFlags(&b, fs)
	}
	return b.String(), true
}

// version is the module version, the commit and the Go version of the running binary.
func (e *env) version() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return e.name + " (no build information)"
	}
	v := bi.Main.Version
	if v == "" {
		v = "(devel)"
	}
	var rev, modified, when string
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			if s.Value == "true" {
				modified = " (modified)"
			}
		case "vcs.time":
			when = " " + s.Value
		}
	}
	if rev == "" {
		rev = "unknown"
	}
	return fmt.Sprintf("%s %s commit %s%s%s %s", e.name, v, rev, modified, when, bi.GoVersion)
}

// parseArgs parses flags anywhere among args, as people type them ("replay logs/ --config x"),
// up to a "--" after which everything is an argument. -h is help (flag.ErrHelp), not an error.
func parseArgs(fs *flag.FlagSet, args []string) ([]string, error) {
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if used := len(args) - len(rest); used > 0 && args[used-1] == "--" && !takesValue(fs, args, used-1) {
			return append(pos, rest...), nil
		}
		if len(rest) == 0 {
			return pos, nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

// takesValue reports whether args[i] is the value of the flag before it ("--config --").
func takesValue(fs *flag.FlagSet, args []string, i int) bool {
	if i == 0 {
		return false
	}
	name := strings.TrimLeft(args[i-1], "-")
	if strings.Contains(name, "=") || !strings.HasPrefix(args[i-1], "-") {
		return false
	}
	f := fs.Lookup(name)
	if f == nil {
		return false
	}
	b, ok := f.Value.(interface{ IsBoolFlag() bool })
	return !ok || !b.IsBoolFlag()
}

// parseCommand parses a command's flags; -h prints the command's help on stdout and returns
// flag.ErrHelp (Run's caller sees nil); a bad flag is a usage error that says where help is.
func (e *env) parseCommand(cmd string, fs *flag.FlagSet, args []string) ([]string, error) {
	pos, err := parseArgs(fs, args)
	if errors.Is(err, flag.ErrHelp) {
		h, _ := e.commandHelp(cmd)
		fmt.Fprint(e.stdout, h)
		return nil, err
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %s (run \"%s %s -h\" for its flags)", errUsage, cmd, alerts.Escape(dashes(err.Error())), e.name, cmd)
	}
	return pos, nil
}

// flagName matches a flag as the flag package names it in its messages ("-config").
var flagName = regexp.MustCompile(`(: |flag )-([a-zA-Z0-9][a-zA-Z0-9-]+)`)

// dashes writes the flag package's "-name" as "--name" in its messages, the style of the help.
func dashes(msg string) string { return flagName.ReplaceAllString(msg, "${1}--${2}") }

func hasFlags(fs *flag.FlagSet) bool {
	n := 0
	fs.VisitAll(func(*flag.Flag) { n++ })
	return n > 0
}

// writeFlags writes a flag set's flags in one style: --name for words, -x for single letters.
func writeFlags(b *strings.Builder, fs *flag.FlagSet) {
	fs.VisitAll(func(f *flag.Flag) {
		name, use := flag.UnquoteUsage(f)
		dash := "--"
		if len(f.Name) == 1 {
			dash = "-"
		}
		fmt.Fprintf(b, "  %s%s", dash, f.Name)
		if name != "" {
			b.WriteString(" " + name)
		}
		b.WriteString("\n        " + strings.ReplaceAll(use, "\n", "\n        "))
		switch f.DefValue {
		case "", "0", "false", "0s":
		default:
			if fmt.Sprintf("%T", f.Value) == "*flag.stringValue" {
				fmt.Fprintf(b, " (default %q)", f.DefValue)
			} else {
				fmt.Fprintf(b, " (default %s)", f.DefValue)
			}
		}
		b.WriteString("\n")
	})
}

func joinPaths(paths []string) string {
	if len(paths) > 3 {
		return strings.Join(paths[:3], ", ") + fmt.Sprintf(" and %d more", len(paths)-3)
	}
	return strings.Join(paths, ", ")
}
