package cli

import (
	"errors"
	"flag"
	"fmt"
	"os"

	"github.com/secretwatch/secretwatch/alerts"
	"github.com/secretwatch/secretwatch/detector"
)

const checkConfigHelp = `Usage: NAME check-config FILE...

Validates allow-list files; reports every problem as file:line. Exit status 1 if any has one.
`

func (e *env) checkConfig(args []string) error {
	files, err := e.parseCommand("check-config", flag.NewFlagSet("check-config", flag.ContinueOnError), args)
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	if err != nil {
		return err
	}
	if len(files) == 0 {
		return fmt.Errorf("%w: check-config needs at least one FILE (run \"%s check-config -h\" for help)", errUsage, e.name)
	}
	bad := 0
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return fmt.Errorf("check-config: %w", err)
		}
		al, warns, err := detector.ParseAllowList(f, b)
		for _, w := range warns {
			fmt.Fprintln(e.stderr, alerts.Clip(alerts.Escape(fmt.Sprint(w)), 1000))
		}
		if err != nil {
			bad++
			var ce *detector.ConfigError
			if errors.As(err, &ce) {
				for _, p := range ce.Problems {
					fmt.Fprintln(e.stderr, alerts.Clip(alerts.Escape(fmt.Sprint(p)), 1000))
				}
			} else {
				fmt.Fprintln(e.stderr, alerts.Clip(alerts.Escape(err.Error()), 1000))
			}
			continue
		}
		fmt.Fprintf(e.stdout, "%s: ok (%d secret entries, %d default principals)\n", alerts.Escape(f), len(al.Entries), len(al.Defaults))
	}
	if bad > 0 {
		return fmt.Errorf("%d of %d allow-list files have problems", bad, len(files))
	}
	return nil
}
