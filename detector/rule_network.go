package detector

import (
	"context"
	"fmt"
	"net/netip"
	"slices"
)

// RuleUnexpectedNetworkPath: an allowed principal reads a secret from outside the network path
// the allow-list expects for it.
const RuleUnexpectedNetworkPath = "unexpected-network-path"

func newUnexpectedNetworkPath(*Config) Rule { return unexpectedNetworkPath{} }

// unexpectedNetworkPath: a successful read, by a principal the allow-list allows, of a secret
// whose entry has network: expectations, that arrives through none of them — not through a listed
// VPC endpoint (vpcEndpointId), not by a listed service (userIdentity.invokedBy), not from a listed
// CIDR (sourceIPAddress). Severity high: a stolen session of an allowed role used from the
// internet looks exactly like this, and nothing else tells it from the real workload.
type unexpectedNetworkPath struct{}

func (unexpectedNetworkPath) ID() string { return RuleUnexpectedNetworkPath }

func (unexpectedNetworkPath) Evaluate(_ context.Context, b *Batch) error {
	for i, e := range b.Events {
		if !e.Recorded || e.Denied {
			continue
		}
		ok, entry := b.Allowed(e)
		if !ok || entry == nil || entry.Network == nil || entry.Network.admits(e) {
			continue
		}
		a := newAlert(b, RuleUnexpectedNetworkPath, SeverityHigh, e, b.WindowCount(SeriesKey{Secret: e.Read.Secret, Principal: e.Read.Principal}, e.Time))
		path := "from " + bound(e.Record.SourceIPAddress)
		if e.Record.VPCEndpointID != "" {
			path += " through " + bound(e.Record.VPCEndpointID)
		} else {
			path += " not through a VPC endpoint"
		}
		a.Reason = fmt.Sprintf("%s read %s %s; the allow-list (entry %q, %s:%d) expects reads through %s.",
			describePrincipal(e.Principal), bound(e.Secret.Name), path, entry.Secret, b.d.cfg.AllowList.Source, entry.Line, entry.Network.describe())
		a.NextStep = "Find where this session runs (source IP, user agent below). If it is not the workload: its credentials are stolen — revoke the " +
			"role's sessions (aws:TokenIssueTime deny), rotate the secret, and add an aws:SourceVpce condition to the secret's policy."
		b.Emit(i, a)
	}
	return nil
}

func (n *NetworkExpectation) admits(e *Event) bool {
	if e.Record.VPCEndpointID != "" && slices.Contains(n.VPCEndpoints, e.Record.VPCEndpointID) {
		return true
	}
	if ui := e.Record.UserIdentity; ui != nil && ui.InvokedBy != "" && slices.Contains(n.Via, ui.InvokedBy) {
		return true
	}
	if ip, err := netip.ParseAddr(e.Record.SourceIPAddress); err == nil {
		for _, p := range n.CIDRs {
			if p.Contains(ip.Unmap()) {
				return true
			}
		}
	}
	return false
}

func (n *NetworkExpectation) describe() string {
	var parts []string
	if len(n.VPCEndpoints) > 0 {
		parts = append(parts, "VPC endpoint "+listOrNobody(n.VPCEndpoints))
	}
	if len(n.Via) > 0 {
		parts = append(parts, "service "+listOrNobody(n.Via))
	}
	if len(n.CIDRs) > 0 {
		var cs []string
		for _, c := range n.CIDRs {
			cs = append(cs, c.String())
		}
		parts = append(parts, "addresses "+listOrNobody(cs))
	}
	return listOrNobody(parts)
}
