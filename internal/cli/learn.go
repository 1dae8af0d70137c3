package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"

	"github.com/secretwatch/secretwatch/cloudtrail"
	"github.com/secretwatch/secretwatch/detector"
)

func (e *env) learn(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("learn", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	out := fs.String("o", "-", "write the proposed allow-list to this file (- for stdout)")
	fs.Usage = func() {
		fmt.Fprintln(e.stderr, "Usage: secretwatch learn [-o FILE] PATH...\n\nProposes an allow-list from history: every (secret, principal) pair with a successful read,\nwith reads and first/last seen as comments. Review it, commit it, enforce it with replay --config.\n\nFlags:")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	if fs.NArg() == 0 {
		fs.Usage()
		return fmt.Errorf("%w: learn needs at least one PATH", errUsage)
	}
	files, err := cloudtrail.Files(fs.Args())
	if err != nil {
		return fmt.Errorf("learn: %w", err)
	}
	l := detector.NewLearner()
	var records, malformed int64
	for it := range cloudtrail.Read(ctx, files, cloudtrail.WithStdin(e.stdin), cloudtrail.WithWorkers(runtime.GOMAXPROCS(0)), cloudtrail.WithPrefilter(detector.MayHandle)) {
		if it.Filtered {
			records++
			continue
		}
		if it.Err != nil && !(errors.Is(it.Err, cloudtrail.ErrIncomplete) && it.Record != nil) {
			if errors.Is(it.Err, cloudtrail.ErrUnreadable) || ctx.Err() != nil {
				return fmt.Errorf("learn: %w", it.Err)
			}
			malformed++
			continue
		}
		records++
		l.Add(it.Record)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("learn: interrupted: %w", err)
	}
	var w io.Writer = e.stdout
	var f *os.File
	if *out != "-" {
		if f, err = os.Create(*out); err != nil {
			return fmt.Errorf("learn: %w", err)
		}
		w = f
	}
	err = l.WriteYAML(w, joinPaths(fs.Args()))
	if f != nil {
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}
	if err != nil {
		return fmt.Errorf("learn: write: %w", err)
	}
	fmt.Fprintf(e.stderr, "secretwatch learn: %d records (%d malformed, skipped), %d (secret, principal) pairs proposed\n", records, malformed, l.Pairs())
	return nil
}
