package detector

import (
	"errors"
	"fmt"
	"net/netip"
	"os"
	"slices"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// AllowList says which principals may read which secrets. It is kept as code (YAML, reviewed and
// committed); see docs/allowlist.md for the schema and allowlist.example.yaml for an example.
type AllowList struct {
	Defaults []string // principal patterns allowed on secrets no entry names
	Entries  []AllowEntry
	// Suppressions silence alerts by rule, secret and principal until they expire.
	Suppressions []Suppression
	Source       string // file it came from
	exact        map[string][]int
	alts         map[string][]string // pattern → the patterns it also stands for (patternAlternatives)
	warnings     []string
}

// Warnings are the legal but risky constructs ParseAllowList found (each with file:line), kept
// so that every command using the allow-list can repeat them, not only check-config.
func (al *AllowList) Warnings() []string {
	if al == nil {
		return nil
	}
	return slices.Clone(al.warnings)
}

// matches reports whether the pattern p (or one of the patterns it stands for) matches principal.
func (al *AllowList) matches(p, principal string) bool {
	if globMatch(p, principal) {
		return true
	}
	for _, a := range al.alts[p] {
		if globMatch(a, principal) {
			return true
		}
	}
	return false
}

// AllowEntry is one secrets: entry.
type AllowEntry struct {
	Secret  string   // name, partial or full ARN, or a glob over either
	Account string   // optional
	Region  string   // optional
	Allow   []string // principal patterns
	// Write: principals that may change the secret's value (PutSecretValue, UpdateSecret,
	// UpdateSecretVersionStage); nil: the Allow list. Secrets Manager itself (rotation) always may.
	Write []string
	// WorkloadOnly: people (console sessions, IAM users, Identity Center) must not read it.
	WorkloadOnly bool
	// Network: how reads are expected to arrive (unexpected-network-path); nil: anyhow.
	Network *NetworkExpectation
	Owner   string
	Notes   string
	Line    int
}

// NetworkExpectation says how an entry's secrets are read: through one of these VPC endpoints,
// by one of these AWS services on the caller's behalf (userIdentity.invokedBy), or from one of
// these address ranges. A read that matches none breaks it.
type NetworkExpectation struct {
	VPCEndpoints []string
	Via          []string
	CIDRs        []netip.Prefix
}

// Suppression silences the alerts of a rule (or "*": every rule) on matching secrets and
// principals (globs; empty: any) for events before Expires (midnight UTC of that date).
type Suppression struct {
	Rule      string
	Secret    string
	Principal string
	Reason    string
	Expires   time.Time
	Line      int
}

// Matches reports whether the suppression silences a: same rule, matching secret (name, key or
// ARN) and principal, and an event before the expiry.
func (s Suppression) Matches(a *Alert) bool {
	if s.Rule != "*" && s.Rule != a.Rule || !a.FirstSeen.Before(s.Expires) {
		return false
	}
	if s.Secret != "" && !globMatch(s.Secret, a.SecretName) && !globMatch(s.Secret, a.Secret) && (a.SecretARN == "" || !globMatch(s.Secret, a.SecretARN)) {
		return false
	}
	return s.Principal == "" || globMatch(s.Principal, a.Principal)
}

// Expired lists the suppressions that no longer suppress at now, as file:line messages.
func (al *AllowList) Expired(now time.Time) []string {
	var out []string
	for _, s := range al.Suppressions {
		if !now.Before(s.Expires) {
			out = append(out, fmt.Sprintf("%s:%d: warning: suppression of %s (%s) expired on %s: it no longer suppresses",
				al.Source, s.Line, s.Rule, s.Reason, s.Expires.Format("2006-01-02")))
		}
	}
	return out
}

// ConfigError lists every problem found in an allow-list, each with file:line.
type ConfigError struct{ Problems []string }

func (e *ConfigError) Error() string {
	return fmt.Sprintf("allow-list has %d problem(s):\n  %s", len(e.Problems), strings.Join(e.Problems, "\n  "))
}

// LoadAllowList reads and validates an allow-list file. Any problem is an error: a broken
// allow-list never silently allows everything.
func LoadAllowList(path string) (*AllowList, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("allow-list: %w", err)
	}
	al, _, err := ParseAllowList(path, b)
	return al, err
}

// ParseAllowList parses and validates allow-list YAML. It returns warnings (legal but risky
// constructs, e.g. "*") separately from errors; every error and warning carries file:line.
func ParseAllowList(name string, data []byte) (*AllowList, []string, error) {
	p := &alParser{file: name}
	al := &AllowList{Source: name}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, nil, &ConfigError{Problems: []string{fmt.Sprintf("%s: %v", name, err)}}
	}
	if len(doc.Content) == 0 {
		return nil, nil, &ConfigError{Problems: []string{name + ":1: empty allow-list: it must have at least a secrets: or defaults: section"}}
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		p.errf(root, "the top level must be a mapping with version, defaults and secrets")
		return nil, nil, p.result()
	}
	sawVersion, sawSection := false, false
	p.eachKey(root, func(k, v *yaml.Node) {
		switch k.Value {
		case "version":
			sawVersion = true
			if v.Value != "1" {
				p.errf(v, "version %q is not supported (want 1)", v.Value)
			}
		case "defaults":
			sawSection = true
			if v.Kind != yaml.MappingNode {
				p.errf(v, "defaults must be a mapping with an allow: list")
				return
			}
			p.eachKey(v, func(k2, v2 *yaml.Node) {
				switch k2.Value {
				case "allow":
					al.Defaults = p.principals(v2)
				default:
					p.errf(k2, "unknown key %q in defaults (known: allow)", k2.Value)
				}
			})
		case "secrets":
			sawSection = true
			if v.Kind != yaml.SequenceNode {
				if !(v.Kind == yaml.ScalarNode && v.Tag == "!!null") {
					p.errf(v, "secrets must be a list of entries")
				}
				return
			}
			for _, item := range v.Content {
				if e, ok := p.entry(item); ok {
					al.Entries = append(al.Entries, e)
				}
			}
		case "suppressions":
			if v.Kind != yaml.SequenceNode {
				p.errf(v, "suppressions must be a list of entries")
				return
			}
			for _, item := range v.Content {
				if s, ok := p.suppression(item); ok {
					al.Suppressions = append(al.Suppressions, s)
				}
			}
		default:
			p.errf(k, "unknown top-level key %q (known: version, defaults, secrets, suppressions)", k.Value)
		}
	})
	if !sawVersion {
		p.errf(root, "missing version: 1")
	}
	if !sawSection {
		p.errf(root, "no defaults: and no secrets: — this allow-list would allow nothing; say so explicitly with an empty list")
	}
	// Duplicate entries for the same secret are almost always a merge mistake.
	seen := map[string]int{}
	for _, e := range al.Entries {
		k := e.Account + "|" + e.Region + "|" + e.Secret
		if prev, ok := seen[k]; ok {
			p.problems = append(p.problems, fmt.Sprintf("%s:%d: secret %q is listed again (first at line %d)", name, e.Line, e.Secret, prev))
			continue
		}
		seen[k] = e.Line
	}
	if err := p.result(); err != nil {
		return nil, p.warnings, err
	}
	al.index()
	p.warnings = append(p.warnings, al.Expired(time.Now())...)
	al.warnings = p.warnings
	return al, p.warnings, nil
}

type alParser struct {
	file     string
	problems []string
	warnings []string
}

func (p *alParser) errf(n *yaml.Node, format string, args ...any) {
	p.problems = append(p.problems, fmt.Sprintf("%s:%d: %s", p.file, n.Line, fmt.Sprintf(format, args...)))
}

func (p *alParser) warnf(n *yaml.Node, format string, args ...any) {
	p.warnings = append(p.warnings, fmt.Sprintf("%s:%d: warning: %s", p.file, n.Line, fmt.Sprintf(format, args...)))
}

func (p *alParser) result() error {
	if len(p.problems) == 0 {
		return nil
	}
	return &ConfigError{Problems: p.problems}
}

func (p *alParser) eachKey(m *yaml.Node, f func(k, v *yaml.Node)) {
	seen := map[string]bool{}
	for i := 0; i+1 < len(m.Content); i += 2 {
		k, v := m.Content[i], m.Content[i+1]
		if seen[k.Value] {
			p.errf(k, "key %q appears twice", k.Value)
			continue
		}
		seen[k.Value] = true
		f(k, v)
	}
}

func (p *alParser) scalar(n *yaml.Node, what string) (string, bool) {
	if n.Kind != yaml.ScalarNode || n.Tag == "!!null" {
		p.errf(n, "%s must be a string", what)
		return "", false
	}
	return strings.TrimSpace(n.Value), true
}

func (p *alParser) entry(n *yaml.Node) (AllowEntry, bool) {
	e := AllowEntry{Line: n.Line}
	if n.Kind != yaml.MappingNode {
		p.errf(n, "each secrets: entry must be a mapping with secret: and allow:")
		return e, false
	}
	sawAllow := false
	p.eachKey(n, func(k, v *yaml.Node) {
		switch k.Value {
		case "secret":
			if s, ok := p.scalar(v, "secret"); ok {
				e.Secret = s
				if err := checkSecretPattern(s); err != nil {
					p.errf(v, "%v", err)
				}
			}
		case "account":
			if s, ok := p.scalar(v, "account"); ok {
				e.Account = s
				if !isAccountID(s) {
					p.errf(v, "account %q must be a 12-digit AWS account ID (quote it in YAML)", s)
				}
			}
		case "region":
			if s, ok := p.scalar(v, "region"); ok {
				e.Region = s
			}
		case "allow":
			sawAllow = true
			e.Allow = p.principals(v)
		case "write":
			e.Write = p.principals(v)
		case "workload-only":
			switch v.Value {
			case "true":
				e.WorkloadOnly = true
			case "false":
			default:
				p.errf(v, "workload-only must be true or false")
			}
		case "network":
			e.Network = p.network(v)
		case "owner":
			e.Owner, _ = p.scalar(v, "owner")
		case "notes":
			e.Notes, _ = p.scalar(v, "notes")
		default:
			p.errf(k, "unknown key %q in a secrets: entry (known: secret, account, region, allow, write, workload-only, network, owner, notes)", k.Value)
		}
	})
	if e.Secret == "" {
		p.errf(n, "entry without secret:")
		return e, false
	}
	if !sawAllow {
		p.errf(n, "secret %q has no allow: list (write allow: [] to allow nobody)", e.Secret)
	}
	if e.Secret == "*" {
		p.warnf(n, "secret \"*\" matches every secret; use defaults: instead")
	}
	// A full ARN names the secret without its random suffix everywhere else.
	if ref, err := ParseSecretID(e.Secret, e.Account, e.Region); err == nil && !hasGlob(e.Secret) && strings.HasPrefix(e.Secret, "arn:") {
		e.Secret, e.Account, e.Region = ref.Name, ref.Account, ref.Region
	}
	return e, true
}

func (p *alParser) principals(n *yaml.Node) []string {
	if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		return []string{}
	}
	if n.Kind != yaml.SequenceNode {
		p.errf(n, "allow must be a list of principal patterns")
		return nil
	}
	out := make([]string, 0, len(n.Content))
	for _, c := range n.Content {
		s, ok := p.scalar(c, "a principal pattern")
		if !ok {
			continue
		}
		if err := checkPrincipalPattern(s); err != nil {
			p.errf(c, "%v", err)
			continue
		}
		if s == "*" || s == "arn:aws:iam::*" || s == "arn:*" {
			p.warnf(c, "principal %q allows everybody: the unexpected-principal rule is off for these secrets", s)
		}
		out = append(out, s)
	}
	return out
}

func (p *alParser) network(n *yaml.Node) *NetworkExpectation {
	if n.Kind != yaml.MappingNode {
		p.errf(n, "network must be a mapping with vpce:, via: and/or cidrs: lists")
		return nil
	}
	ne := &NetworkExpectation{}
	list := func(v *yaml.Node, what string) []string {
		if v.Kind != yaml.SequenceNode {
			p.errf(v, "%s must be a list", what)
			return nil
		}
		var out []string
		for _, c := range v.Content {
			if s, ok := p.scalar(c, what); ok {
				out = append(out, s)
			}
		}
		return out
	}
	p.eachKey(n, func(k, v *yaml.Node) {
		switch k.Value {
		case "vpce":
			for _, s := range list(v, "a VPC endpoint id") {
				if !strings.HasPrefix(s, "vpce-") {
					p.errf(v, "VPC endpoint %q must look like vpce-0123456789abcdef0", s)
				}
				ne.VPCEndpoints = append(ne.VPCEndpoints, s)
			}
		case "via":
			for _, s := range list(v, "a service") {
				if !strings.HasSuffix(s, ".amazonaws.com") && s != "AWS Internal" {
					p.errf(v, "via %q must be an AWS service name such as lambda.amazonaws.com (userIdentity.invokedBy)", s)
				}
				ne.Via = append(ne.Via, s)
			}
		case "cidrs":
			for _, s := range list(v, "a CIDR") {
				pr, err := netip.ParsePrefix(s)
				if err != nil {
					p.errf(v, "cidr %q: %v", s, err)
					continue
				}
				ne.CIDRs = append(ne.CIDRs, pr.Masked())
			}
		default:
			p.errf(k, "unknown key %q in network (known: vpce, via, cidrs)", k.Value)
		}
	})
	if len(ne.VPCEndpoints)+len(ne.Via)+len(ne.CIDRs) == 0 {
		p.errf(n, "network names no vpce, via or cidrs: every read would break it")
	}
	return ne
}

func (p *alParser) suppression(n *yaml.Node) (Suppression, bool) {
	s := Suppression{Line: n.Line}
	if n.Kind != yaml.MappingNode {
		p.errf(n, "each suppression must be a mapping with rule, reason and expires")
		return s, false
	}
	ok := true
	p.eachKey(n, func(k, v *yaml.Node) {
		switch k.Value {
		case "rule":
			if r, good := p.scalar(v, "rule"); good {
				s.Rule = r
				if r != "*" && !slices.Contains(RuleIDs(), r) {
					p.errf(v, "unknown rule %q (known: %s)", r, strings.Join(RuleIDs(), ", "))
					ok = false
				}
			}
		case "secret":
			s.Secret, _ = p.scalar(v, "secret")
		case "principal":
			s.Principal, _ = p.scalar(v, "principal")
		case "reason":
			s.Reason, _ = p.scalar(v, "reason")
		case "expires":
			if d, good := p.scalar(v, "expires"); good {
				t, err := time.Parse("2006-01-02", d)
				if err != nil {
					p.errf(v, "expires %q must be a date, YYYY-MM-DD", d)
					ok = false
				}
				s.Expires = t
			}
		default:
			p.errf(k, "unknown key %q in a suppression (known: rule, secret, principal, reason, expires)", k.Value)
		}
	})
	switch {
	case s.Rule == "":
		p.errf(n, "suppression without rule: (use \"*\" for every rule)")
		ok = false
	case s.Reason == "":
		p.errf(n, "suppression of %s without reason: say why, for the next reviewer", s.Rule)
		ok = false
	case s.Expires.IsZero():
		p.errf(n, "suppression of %s without expires: every suppression ends (YYYY-MM-DD)", s.Rule)
		ok = false
	case s.Rule == "*" && s.Secret == "" && s.Principal == "":
		p.errf(n, "suppression of every rule on every secret and principal would switch secretwatch off")
		ok = false
	}
	return s, ok
}

func checkSecretPattern(s string) error {
	if s == "" {
		return errors.New("secret must not be empty")
	}
	if strings.HasPrefix(s, "arn:") && !hasGlob(s) {
		if _, err := ParseSecretID(s, "", ""); err != nil {
			return fmt.Errorf("secret %q: not a Secrets Manager secret ARN", s)
		}
	}
	if strings.ContainsAny(s, " \t\n") {
		return fmt.Errorf("secret %q contains white space", s)
	}
	return nil
}

// checkPrincipalPattern says why a principal pattern can never match a normalised principal, with
// the pattern to write instead where there is one. A nil error means the pattern is usable.
func checkPrincipalPattern(s string) error {
	switch {
	case s == "":
		return errors.New("empty principal pattern")
	case strings.ContainsAny(s, " \t\n\r"):
		return fmt.Errorf("principal %q contains white space", s)
	case s == "*":
		return nil
	case strings.HasPrefix(s, "arn:"):
		return checkARNPattern(s)
	case strings.HasSuffix(s, ".amazonaws.com") || strings.HasSuffix(s, ".amazonaws.com*"):
		return nil // an AWS service principal (userIdentity.invokedBy)
	case strings.HasPrefix(s, "samlUser:"), strings.HasPrefix(s, "webIdentityUser:"), strings.HasPrefix(s, "identitycenter:"):
		if _, rest, _ := strings.Cut(s, ":"); rest == "" {
			return fmt.Errorf("principal %q names no provider or user", s)
		}
		return nil
	case strings.HasPrefix(strings.ToLower(s), "samluser:"):
		return fmt.Errorf("principal %q: SAML users are written samlUser:PROVIDER/NAME (write %q)", s, "samlUser:"+s[len("samluser:"):])
	}
	return fmt.Errorf("principal %q: want an IAM/STS ARN pattern (arn:aws:iam::123456789012:role/name), an AWS service (name.amazonaws.com) or \"*\"", s)
}

// partitions are the AWS partitions an ARN may name.
var partitions = []string{"aws", "aws-cn", "aws-us-gov", "aws-iso", "aws-iso-b", "aws-iso-e", "aws-iso-f", "aws-eusc"}

func checkARNPattern(s string) error {
	f := strings.SplitN(s, ":", 6)
	if len(f) < 6 {
		if strings.HasSuffix(s, "*") {
			return nil // arn:aws:iam::* and the like: the rest is a glob
		}
		return fmt.Errorf("principal %q is not a complete ARN (arn:partition:service:region:account:resource)", s)
	}
	part, svc, region, acct, res := f[1], f[2], f[3], f[4], f[5]
	if !hasGlob(part) && !slices.Contains(partitions, part) {
		return fmt.Errorf("principal %q: partition %q is not an AWS partition (aws, aws-cn, aws-us-gov, …)", s, part)
	}
	if !hasGlob(svc) && svc != "iam" && svc != "sts" && svc != "identitystore" {
		return fmt.Errorf("principal %q: service %q is not iam, sts or identitystore", s, svc)
	}
	if region != "" && !hasGlob(region) {
		want := strings.Join([]string{f[0], part, svc, "", acct, res}, ":")
		return fmt.Errorf("principal %q: IAM, STS and Identity Store ARNs have no region (write %q)", s, want)
	}
	if !hasGlob(acct) && !isAccountID(acct) {
		return fmt.Errorf("principal %q: account %q is not a 12-digit AWS account ID", s, acct)
	}
	typ, name, _ := strings.Cut(res, "/")
	switch {
	case svc == "iam" && typ == "assumed-role":
		return fmt.Errorf("principal %q: assumed-role ARNs are sts ARNs (arn:aws:sts::…)", s)
	case svc == "sts" && (typ == "role" || typ == "user" || typ == "root"):
		want := strings.Join([]string{f[0], part, "iam", "", acct, res}, ":")
		return fmt.Errorf("principal %q: roles, users and root are iam ARNs (write %q)", s, want)
	case (typ == "user" || typ == "role" || typ == "assumed-role" || typ == "federated-user") && name == "":
		return fmt.Errorf("principal %q: %s with no name matches nobody (write %s/NAME, or %s/* for any)", s, typ, s, s)
	case svc == "sts" && typ == "assumed-role":
		role, session, _ := strings.Cut(name, "/")
		if session != "*" && !strings.HasPrefix(role, "AWSReservedSSO_") && !hasGlob(role) {
			// Sessions of an ordinary role are not distinguished (the principal is the role).
			return fmt.Errorf("principal %q names one session of role %s; secretwatch matches the role, not its sessions (write %q)",
				s, role, strings.Join([]string{f[0], part, "iam", "", acct, "role/" + role}, ":"))
		}
	}
	return nil
}

// patternAlternatives are the normalised-principal patterns a pattern also stands for. A role
// session pattern — what people copy from CloudTrail, arn:aws:sts::ACCT:assumed-role/ROLE/* —
// means the role: its sessions are normalised to arn:aws:iam::ACCT:role/[PATH/]ROLE (except for
// Identity Center roles, whose sessions stay per person and match the pattern itself).
func patternAlternatives(p string) []string {
	f := strings.SplitN(p, ":", 6)
	if len(f) != 6 || f[2] != "sts" {
		return nil
	}
	typ, name, _ := strings.Cut(f[5], "/")
	if typ != "assumed-role" {
		return nil
	}
	role, session, _ := strings.Cut(name, "/")
	if role == "" || session != "*" {
		return nil
	}
	head := strings.Join([]string{"arn", f[1], "iam", "", f[4], "role/"}, ":")
	return []string{head + role, head + "*/" + role}
}

func isAccountID(s string) bool {
	if len(s) != 12 {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

func (al *AllowList) index() {
	al.exact = map[string][]int{}
	al.alts = map[string][]string{}
	for _, p := range al.Defaults {
		if a := patternAlternatives(p); a != nil {
			al.alts[p] = a
		}
	}
	for _, e := range al.Entries {
		for _, p := range append(slices.Clone(e.Allow), e.Write...) {
			if a := patternAlternatives(p); a != nil {
				al.alts[p] = a
			}
		}
	}
	for i, e := range al.Entries {
		if !hasGlob(e.Secret) {
			al.exact[e.Secret] = append(al.exact[e.Secret], i)
		}
	}
}

// Entry returns the entry that governs the secret: an exact match of its name (or partial ARN)
// first, then the first glob entry in file order; nil when none does (defaults apply).
func (al *AllowList) Entry(s SecretRef) *AllowEntry {
	if al == nil {
		return nil
	}
	scope := func(e *AllowEntry) bool {
		return (e.Account == "" || e.Account == s.Account) && (e.Region == "" || e.Region == s.Region)
	}
	for _, i := range al.exact[s.Name] {
		if e := &al.Entries[i]; scope(e) {
			return e
		}
	}
	partial := s.PartialARN()
	for i := range al.Entries {
		e := &al.Entries[i]
		if !hasGlob(e.Secret) || !scope(e) {
			continue
		}
		if globMatch(e.Secret, s.Name) || globMatch(e.Secret, partial) || (s.ARN != "" && globMatch(e.Secret, s.ARN)) {
			return e
		}
	}
	return nil
}

// Allowed reports whether principal may read the secret, and the entry that decided (nil: the
// defaults did).
func (al *AllowList) Allowed(s SecretRef, principal string) (bool, *AllowEntry) {
	if al == nil {
		return false, nil
	}
	e := al.Entry(s)
	patterns := al.Defaults
	if e != nil {
		patterns = e.Allow
	}
	return slices.ContainsFunc(patterns, func(p string) bool { return al.matches(p, principal) }), e
}

// WriteAllowed reports whether principal may change the secret's value: the governing entry's
// write: list, or, without one, whoever may read it.
func (al *AllowList) WriteAllowed(s SecretRef, principal string) (bool, *AllowEntry) {
	if al == nil {
		return false, nil
	}
	e := al.Entry(s)
	if e == nil || e.Write == nil {
		return al.Allowed(s, principal)
	}
	return slices.ContainsFunc(e.Write, func(p string) bool { return al.matches(p, principal) }), e
}
