package cli

import (
	"errors"
	"flag"
	"fmt"
	"os"

	"github.com/secretwatch/secretwatch/detector"
)

func (e *env) checkConfig(args []string) error {
	fs := flag.NewFlagSet("check-config", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	fs.Usage = func() {
		fmt.Fprintln(e.stderr, "Usage: secretwatch check-config FILE...\n\nValidates allow-list files; reports every problem as file:line.")
	}
	if err := fs.Parse(args); err != nil {
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	if fs.NArg() == 0 {
		fs.Usage()
		return fmt.Errorf("%w: check-config needs at least one FILE", errUsage)
	}
	bad := 0
	for _, f := range fs.Args() {
		b, err := os.ReadFile(f)
		if err != nil {
			return fmt.Errorf("check-config: %w", err)
		}
		al, warns, err := detector.ParseAllowList(f, b)
		for _, w := range warns {
			fmt.Fprintln(e.stderr, w)
		}
		if err != nil {
			bad++
			var ce *detector.ConfigError
			if errors.As(err, &ce) {
				for _, p := range ce.Problems {
					fmt.Fprintln(e.stderr, p)
				}
			} else {
				fmt.Fprintln(e.stderr, err)
			}
			continue
		}
		fmt.Fprintf(e.stdout, "%s: ok (%d secret entries, %d default principals)\n", f, len(al.Entries), len(al.Defaults))
	}
	if bad > 0 {
		return fmt.Errorf("%d of %d allow-list files have problems", bad, fs.NArg())
	}
	return nil
}
