package detector

import (
	"context"
	"fmt"
	"net/netip"
	"strings"
	"time"
)

// RuleAccessDeniedBurst: many failed Secrets Manager calls by one principal or from one source.
const RuleAccessDeniedBurst = "access-denied-burst"

// DeniedConfig tunes access-denied-burst.
type DeniedConfig struct {
	Count  int           // failed calls in one window that alert (default 10)
	Window time.Duration // default 10 min
}

func (c *DeniedConfig) defaults() {
	if c.Count <= 0 {
		c.Count = 10
	}
	if c.Window <= 0 {
		c.Window = 10 * time.Minute
	}
}

func newAccessDeniedBurst(cfg *Config) Rule { return accessDeniedBurst{cfg: cfg.Denied} }

// accessDeniedBurst counts, per Window, the failed Secrets Manager calls (AccessDenied*,
// ResourceNotFoundException, InvalidRequestException such as "marked for deletion",
// DecryptionFailure) of each principal and of each source IP address — distinct event IDs in a
// Tallier, so redelivery never inflates them. Count or more alert. Severity medium: someone is
// probing for secrets they cannot read (or a deployment lost its permissions); it precedes the
// read that works.
type accessDeniedBurst struct{ cfg DeniedConfig }

func (accessDeniedBurst) ID() string { return RuleAccessDeniedBurst }

func isDeniedCode(code string) bool {
	return strings.HasPrefix(code, "AccessDenied") || code == "ResourceNotFoundException" ||
		code == "InvalidRequestException" || code == "DecryptionFailure" || code == "UnauthorizedOperation"
}

func (r accessDeniedBurst) Evaluate(ctx context.Context, b *Batch) error {
	type key struct {
		k string
		w time.Time
	}
	ids := map[key][]string{}
	last := map[key]int{}
	var order []key
	for i, e := range b.Events {
		if e.Source != "secretsmanager.amazonaws.com" || !e.Denied || !isDeniedCode(e.Record.ErrorCode) {
			continue
		}
		w := e.Time.Truncate(r.cfg.Window).UTC()
		keys := []key{{"p|" + e.Principal.ARN, w}}
		if ip, err := netip.ParseAddr(e.Record.SourceIPAddress); err == nil {
			keys = append(keys, key{"ip|" + ip.String(), w})
		}
		for _, k := range keys {
			if _, ok := ids[k]; !ok {
				order = append(order, k)
			}
			ids[k] = append(ids[k], bound(e.Record.EventID))
			last[k] = i
		}
	}
	for _, k := range order {
		n, err := b.Tally(ctx, "denied|"+k.k, k.w, ids[k], r.cfg.Count*10)
		if err != nil {
			return err
		}
		if n < r.cfg.Count {
			continue
		}
		e := b.Events[last[k]]
		a := eventAlert(b, RuleAccessDeniedBurst, SeverityMedium, e, "")
		a.Secret, a.SecretName, a.SecretARN = "", "", ""
		a.Count, a.additive, a.Window = int64(n), false, k.w
		who := describePrincipal(e.Principal)
		if ip, ok := strings.CutPrefix(k.k, "ip|"); ok {
			a.Principal, a.PrincipalType, a.Session = "", "", ""
			a.Resource = "source " + ip
			who = "source address " + ip
		}
		a.Reason = fmt.Sprintf("%d failed Secrets Manager calls (access denied, not found, marked for deletion) by %s in the %s from %s (threshold %d); the last was %s: %s.",
			n, who, humanWindow(r.cfg.Window), k.w.Format("2006-01-02 15:04 MST"), r.cfg.Count, e.Name, bound(e.Record.ErrorCode))
		a.NextStep = "Find what the caller tried to read (event IDs below; the errorMessage names each secret). A deployment that lost a permission is " +
			"benign; probing for secrets is not — if the caller should not be asking, revoke its credentials and check what it read successfully."
		b.Emit(last[k], a)
	}
	return nil
}
