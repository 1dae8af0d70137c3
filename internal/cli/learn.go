package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/secretwatch/secretwatch/alerts"
	"github.com/secretwatch/secretwatch/cloudtrail"
	"github.com/secretwatch/secretwatch/detector"
)

type learnFlags struct {
	out      string
	force    bool
	progress string
	workers  int
	span     timeSpan
	s3       s3Flags
}

const learnHelp = `Usage: NAME learn [flags] PATH...

Proposes an allow-list from history: every (secret, principal) pair with a successful read,
with reads and first/last seen as comments. Review it, commit it, enforce it with replay --config.
An existing -o file is kept unless --force; no record or no read found is exit status 1 and
writes nothing. Unreadable inputs are listed and skipped (exit status 3).
`

func learnFlagSet(f *learnFlags) *flag.FlagSet {
	fs := flag.NewFlagSet("learn", flag.ContinueOnError)
	fs.StringVar(&f.out, "o", "-", "write the proposed allow-list to `FILE` (- for stdout)")
	fs.BoolVar(&f.force, "force", false, "overwrite the -o file if it exists")
	fs.Var(&f.span.from, "from", "only events at or after `TIME` (RFC 3339, or a date: its start, UTC)")
	fs.Var(&f.span.to, "to", "only events before `TIME` (RFC 3339, or a date: that whole day is included)")
	fs.StringVar(&f.progress, "progress", "auto", "progress bar on stderr, `MODE`: auto (terminal and large input), always, never")
	fs.IntVar(&f.workers, "workers", 0, "log files decoded at once (0: one per CPU)")
	f.s3.register(fs)
	return fs
}

func (e *env) learn(ctx context.Context, args []string) error {
	var f learnFlags
	paths, err := e.parseCommand("learn", learnFlagSet(&f), args)
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	if err != nil {
		return err
	}
	if len(paths) == 0 {
		return fmt.Errorf("%w: learn needs at least one PATH (run \"%s learn -h\" for help)", errUsage, e.name)
	}
	if err := f.span.check(); err != nil {
		return err
	}
	if f.out != "-" && !f.force {
		// Fail before reading gigabytes, not after.
		if _, err := os.Lstat(f.out); err == nil {
			return fmt.Errorf("learn: %s exists: pass --force to overwrite it, or -o another file", alerts.Escape(f.out))
		}
	}
	in, err := openInputs(ctx, paths, f.s3, f.span, "")
	if err != nil {
		return err
	}
	unreadable := in.unreadable
	prog := in.progress(e.stderr, f.progress)
	l := detector.NewLearner()
	var records, malformed, outOfRange int64
	for it := range in.read(ctx, append(readFilters(f.span), cloudtrail.WithStdin(e.stdin), cloudtrail.WithWorkers(workers(f.workers)))...) {
		prog.file(it.Source)
		if ctx.Err() != nil {
			break
		}
		if it.Filtered {
			records++
			prog.update(records)
			continue
		}
		if it.Err != nil && !(errors.Is(it.Err, cloudtrail.ErrIncomplete) && it.Record != nil) {
			if errors.Is(it.Err, cloudtrail.ErrUnreadable) {
				unreadable = append(unreadable, it.Err)
				continue
			}
			records++
			malformed++
			continue
		}
		if !f.span.contains(it.Record.EventTime.Time) {
			outOfRange++
			continue
		}
		records++
		prog.update(records)
		l.Add(it.Record)
	}
	prog.done()
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("learn: interrupted: %w", err)
	}
	for _, err := range unreadable {
		fmt.Fprintf(e.stderr, "secretwatch learn: skipped unreadable input: %s\n", alerts.Clip(alerts.Escape(err.Error()), 500))
	}
	if err := runOutcome("learn", records+outOfRange, paths, nil); err != nil {
		return err
	}
	if l.Pairs() == 0 {
		return fmt.Errorf("learn: no successful secret read in %d records: nothing to allow, no allow-list written (an empty one would flag every read)", records)
	}
	if err := e.writeProposal(l, f, joinPaths(paths)); err != nil {
		return err
	}
	msg := fmt.Sprintf("secretwatch learn: %d records (%d malformed, skipped", records, malformed)
	if outOfRange > 0 {
		msg += fmt.Sprintf("; %d outside %s, not read", outOfRange, f.span)
	}
	fmt.Fprintf(e.stderr, "%s), %d (secret, principal) pairs proposed\n", msg, l.Pairs())
	return runOutcome("learn", records+outOfRange, paths, unreadable)
}

// writeProposal writes the allow-list to stdout or to the -o file: a new file unless --force,
// written beside it and renamed into place, so a failed run never leaves half a file.
func (e *env) writeProposal(l *detector.Learner, f learnFlags, source string) error {
	if f.out == "-" {
		if err := l.WriteYAML(e.stdout, source); err != nil {
			return fmt.Errorf("learn: write: %w", err)
		}
		return nil
	}
	tmp, err := os.CreateTemp(filepath.Dir(f.out), "."+filepath.Base(f.out)+".*")
	if err != nil {
		return fmt.Errorf("learn: %w", err)
	}
	defer os.Remove(tmp.Name())
	err = l.WriteYAML(tmp, source)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(tmp.Name(), 0o644)
	}
	if err != nil {
		return fmt.Errorf("learn: write %s: %w", alerts.Escape(f.out), err)
	}
	if f.force {
		err = os.Rename(tmp.Name(), f.out)
	} else if err = os.Link(tmp.Name(), f.out); errors.Is(err, os.ErrExist) {
		err = fmt.Errorf("%s appeared meanwhile: pass --force to overwrite it", alerts.Escape(f.out))
	}
	if err != nil {
		return fmt.Errorf("learn: %w", err)
	}
	return nil
}
