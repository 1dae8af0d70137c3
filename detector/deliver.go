package detector

import (
	"context"
	"fmt"
	"time"
)

// Aggregator merges alerts across batches by (rule, secret, principal, window), so a storm of
// identical events becomes one alert whose Count grows. Memory is bounded by the number of
// distinct alerts, not by the number of events.
type Aggregator struct {
	byKey map[string]*Alert
	order []string
}

// Add merges alerts in.
func (g *Aggregator) Add(as []*Alert) {
	if g.byKey == nil {
		g.byKey = map[string]*Alert{}
	}
	for _, a := range as {
		k := a.Key() + "|" + a.Window.Format(time.RFC3339)
		if m, ok := g.byKey[k]; ok {
			m.Merge(a)
			continue
		}
		c := *a
		g.byKey[k] = &c
		g.order = append(g.order, k)
	}
}

// Alerts returns the merged alerts in order of first occurrence.
func (g *Aggregator) Alerts() []*Alert {
	out := make([]*Alert, 0, len(g.order))
	for _, k := range g.order {
		out = append(out, g.byKey[k])
	}
	SortAlerts(out)
	return out
}

// Len is the number of distinct alerts.
func (g *Aggregator) Len() int { return len(g.order) }

// Deliver claims each alert with the suppressor and notifies the ones not yet delivered in their
// window. It returns the alerts delivered, by rule. On error it stops: the caller fails the
// invocation, and a retry delivers what is left (an alert's count comes from the store's exactly-
// once counts, so a retry recomputes it exactly; the delivered flag keeps pages single). The
// alerts passed in are not modified; the notifier receives a copy.
func Deliver(ctx context.Context, as []*Alert, sup Suppressor, n Notifier) (map[string]int64, error) {
	delivered := map[string]int64{}
	for _, a := range as {
		st, err := sup.Claim(ctx, a.Key(), a.Window, 0)
		if err != nil {
			return delivered, fmt.Errorf("detector: claim alert %s: %w", a.Key(), err)
		}
		if st.Delivered {
			continue
		}
		if a.Count > st.Count {
			// The window's item keeps the largest count seen (an alert's count is the reads its
			// series had in the window, so it only grows).
			if st, err = sup.Claim(ctx, a.Key(), a.Window, a.Count-st.Count); err != nil {
				return delivered, fmt.Errorf("detector: claim alert %s: %w", a.Key(), err)
			}
		}
		out := *a
		out.Count = max(st.Count, a.Count)
		if err := n.Notify(ctx, &out); err != nil {
			return delivered, fmt.Errorf("detector: notify %s: %w", a.Key(), err)
		}
		if err := sup.MarkDelivered(ctx, a.Key(), a.Window); err != nil {
			return delivered, fmt.Errorf("detector: mark alert %s delivered: %w", a.Key(), err)
		}
		delivered[a.Rule]++
	}
	return delivered, nil
}
