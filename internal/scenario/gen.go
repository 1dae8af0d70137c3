package scenario

import (
	"cmp"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"time"
)

// Tuning of the simulated traffic.
const (
	// SpikeFactor is how many times its usual hourly rate the spiking role reads on day N.
	SpikeFactor = 40
	// spikeFloor keeps the injected spike above the detector's minimum count (20 reads in an
	// hour) at small scales.
	spikeFloor = 50
	// spikeHour and spikeHours place the spike: 14:00–16:00 UTC of day N.
	spikeHour  = 14
	spikeHours = 2
	// spikeMinSamples is the detector's warm-up: the prior days of the same kind (weekday or
	// weekend) the spike's hours are compared with. With fewer, no spike is injected.
	spikeMinSamples = 3

	noiseRatio    = 0.43 // non-Secrets-Manager calls per Secrets Manager call (≈30 % of all records)
	noiseFloor    = 1.5  // background non-Secrets-Manager calls per hour and region at scale 1
	dupRate       = 0.005
	dupOtherFile  = 0.5  // share of duplicates delivered in the window's other file
	splitRate     = 0.03 // share of windows CloudTrail delivers as two files
	windowSeconds = 300
	windows       = 3600 / windowSeconds
)

type evKind uint8

const (
	evCall       evKind = iota // a call of a stream (reads, describes, lists, injected calls)
	evKMSDecrypt               // Secrets Manager decrypting a secret for its caller
	evAssumeRole               // a service assuming a workload's role
	evS3Get                    // a workload reading an object (a data event)
)

const (
	failNone uint8 = iota
	failDenied
	failNotFound
)

// event is the compact form of one record: everything that is decided while drawing an hour.
// The record itself is derived from it (materialise), deterministically from its nonce.
type event struct {
	at      int64  // event time, Unix seconds
	nonce   uint64 // unique per event; seeds the record's remaining choices
	stream  int32  // evCall: index into account.streams; noise: the read stream it accompanies
	kind    evKind //
	fail    uint8  // evCall reads: failNone, failDenied, failNotFound
	finding int8   // 1 + index into plan.findings of the anomaly this event belongs to; 0 none
}

// fileBatch is one log file: the events CloudTrail delivers together for a region and window.
type fileBatch struct {
	region int
	window int64 // start of the 5-minute window, Unix seconds
	name   string
	events []event
}

// injection is one call placed at a fixed time on the last day.
type injection struct {
	at      int64
	stream  int
	finding int // index into plan.findings, or -1 for context calls that are not findings
}

// plan is a normalised Options with everything decided before drawing: the account, the
// guarantee slots and the injections.
type plan struct {
	seed      uint64
	start     time.Time
	days      int
	scale     float64
	inject    bool
	ac        *account
	dayFactor [][]float64         // [stream][day]: day-to-day variation of the rate, ±8 %
	guarantee []int               // [stream]: hour index at which a first successful read is forced, -1 none
	inj       map[int][]injection // hour index → injected calls
	spikeDay  int                 // day index of the spike, -1 none
	findings  []Finding
	notes     []string
}

func newPlan(seed uint64, start time.Time, days int, scale float64, inject bool) *plan {
	p := &plan{seed: seed, start: start, days: days, scale: scale, inject: inject, ac: newAccount(seed),
		inj: map[int][]injection{}, spikeDay: -1}
	n := len(p.ac.streams)
	p.dayFactor = make([][]float64, n)
	p.guarantee = make([]int, n)
	for si, st := range p.ac.streams {
		p.dayFactor[si] = make([]float64, days)
		for d := range days {
			r := newRand(seed, domainDay, uint64(si)<<20|uint64(d))
			p.dayFactor[si][d] = min(max(1+0.04*r.NormFloat64(), 0.92), 1.08)
		}
		p.guarantee[si] = -1
		if st.isRead() && !st.injected {
			p.guarantee[si] = p.guaranteeSlot(st)
		}
	}
	if inject {
		p.planInjections()
	}
	return p
}

func (p *plan) weekday(day int) time.Weekday { return p.start.AddDate(0, 0, day).Weekday() }

// learnDays is the number of leading days an allow-list is learnt from: all but the last.
func (p *plan) learnDays() int { return max(p.days-1, 1) }

// guaranteeSlot is the hour at which a read stream gets one forced successful read if it has
// none yet: the busiest hour of its first active day among the learning days (the last learning
// day when it is active on none of them). Every normal (secret, principal) pair is then read
// while an allow-list is learnt, and early — before a secret has the history that would make a
// new reader news to the first-seen rule.
func (p *plan) guaranteeSlot(st *stream) int {
	busiest := func(wd time.Weekday) (int, float64) {
		best, bl := 0, 0.0
		for h := range 24 {
			if l := st.lambda(wd, h); l > bl {
				best, bl = h, l
			}
		}
		return best, bl
	}
	for d := range p.learnDays() {
		if h, l := busiest(p.weekday(d)); l > 0 {
			return d*24 + h
		}
	}
	last, best, bl := p.learnDays()-1, 0, 0.0
	for wd := range time.Weekday(7) {
		if h, l := busiest(wd); l > bl {
			best, bl = h, l
		}
	}
	return last*24 + best
}

// rate is the expected count of stream si in hour h (scale applied, spike not).
func (p *plan) rate(si, h int) float64 {
	day := h / 24
	return p.ac.streams[si].lambda(p.weekday(day), h%24) * p.scale * p.dayFactor[si][day]
}

// spikeRate is the expected count of the spiking stream in hour h of the spike.
func (p *plan) spikeRate(h int) float64 {
	return max(SpikeFactor*p.rate(p.ac.spikeStream, h), spikeFloor)
}

func (p *plan) isSpikeHour(h int) bool {
	return p.spikeDay >= 0 && h/24 == p.spikeDay && h%24 >= spikeHour && h%24 < spikeHour+spikeHours
}

// refreshBurst is the number of extra reads of prod/orders/db in the ten minutes after its
// benign rotation on day N: a read-spike without rotation awareness.
const refreshBurst = 80

// planInjections places day N's anomalies and records them as findings.
func (p *plan) planInjections() {
	ac, day := p.ac, p.days-1
	dayStart := p.start.AddDate(0, 0, day)
	at := func(hms string) int64 {
		d, err := time.ParseDuration(hms)
		if err != nil {
			return dayStart.Unix()
		}
		return dayStart.Add(d).Unix()
	}
	add := func(stream, finding int, times ...string) {
		for _, t := range times {
			u := at(t)
			h := int((u - p.start.Unix()) / 3600)
			p.inj[h] = append(p.inj[h], injection{at: u, stream: stream, finding: finding})
		}
	}
	findingOf := func(rule string, stream int, f Finding) int {
		st := ac.streams[stream]
		f.Rule, f.Scope = rule, ScopePrincipal
		f.Account, f.Region = Account, st.region()
		if st.secret != nil {
			f.SecretName, f.Region, f.SecretARN = st.secret.name, st.secret.region, st.secret.arn()
		}
		f.Principal, f.PrincipalType, f.Actor = st.actor.principal(), st.actor.principalType(), st.actor.id
		p.findings = append(p.findings, f)
		return len(p.findings) - 1
	}
	finding := func(stream int, f Finding) int { return findingOf(RuleUnexpectedPrincipal, stream, f) }
	// (a) another team's role reads a secret it never read.
	add(ac.inj.indexerRead, finding(ac.inj.indexerRead, Finding{Description: "role search-indexer-task (search team) reads the payments database secret it has never read"}),
		"10h12m07s", "10h12m48s", "10h13m42s")
	// (b) an IAM user reads two secrets after looking around.
	add(ac.inj.malloryWhoAmI, -1, "13h41m20s")
	add(ac.inj.malloryList, -1, "13h41m48s")
	add(ac.inj.malloryStripe, finding(ac.inj.malloryStripe, Finding{Description: "IAM user mallory reads the Stripe key"}), "13h42m30s", "13h42m31s")
	add(ac.inj.malloryJWT, finding(ac.inj.malloryJWT, Finding{Description: "IAM user mallory reads the JWT signing key"}), "13h43m05s", "13h43m52s")
	// (c) the root user reads a secret in the console.
	// Every Secrets Manager call by root is a root-access finding too; its read is also unexpected.
	add(ac.inj.rootList, findingOf(RuleRootAccess, ac.inj.rootList, Finding{Description: "the root user lists the secrets"}), "19h04m10s")
	add(ac.inj.rootDescribe, findingOf(RuleRootAccess, ac.inj.rootDescribe, Finding{Description: "the root user describes the payments database secret"}), "19h04m40s")
	rootRead := finding(ac.inj.rootRead, Finding{Description: "the root user reads the payments database secret"})
	add(ac.inj.rootRead, rootRead, "19h05m44s")
	rootAccess := findingOf(RuleRootAccess, ac.inj.rootRead, Finding{Description: "the root user reads the payments database secret (root-access)"})
	// (d) an unknown account reads the shared secret (its resource policy is too broad).
	add(ac.inj.attackerRead, finding(ac.inj.attackerRead, Finding{Description: "account 999988887777 reads the shared Datadog key"}), "21h30m15s", "21h47m02s")
	// (f) an admin role allowed on every secret harvests them all with one catch-all batch.
	add(ac.inj.adminBatch, findingOf(RuleBatchRetrieval, ac.inj.adminBatch, Finding{Description: "role platform-admin calls BatchGetSecretValue with a catch-all filter"}), "11h20m05s")
	// (g) mallory opens the Datadog key to everybody, force-deletes the search key, then blinds
	// the trail and secretwatch's own rule.
	add(ac.inj.policyOpen, findingOf(RulePolicyChange, ac.inj.policyOpen, Finding{Description: "IAM user mallory makes the Datadog key public (Principal \"*\", BlockPublicPolicy false)"}), "13h45m10s")
	add(ac.inj.forceDelete, findingOf(RuleSecretLifecycle, ac.inj.forceDelete, Finding{Description: "IAM user mallory force-deletes the search API key"}), "13h46m02s")
	add(ac.inj.stopLogging, findingOf(RuleTrailTampering, ac.inj.stopLogging, Finding{Description: "IAM user mallory stops the organisation trail"}), "13h47m30s")
	add(ac.inj.disableRule, findingOf(RuleMonitorTampering, ac.inj.disableRule, Finding{Description: "IAM user mallory disables secretwatch's EventBridge rule"}), "13h47m55s")
	// (h) the token issuer's credentials used from the internet, not through the VPC endpoint.
	add(ac.inj.stolenJWT, findingOf(RuleNetworkPath, ac.inj.stolenJWT, Finding{Description: "role identity-token-issuer reads the JWT key from the internet, outside its VPC endpoint"}),
		"17h12m40s", "17h13m01s")
	// (i) benign: a managed rotation of prod/orders/db at 09:00, then every client refreshes.
	add(ac.inj.rotation, -1, "9h00m30s")
	var refresh []string
	for i := range refreshBurst {
		refresh = append(refresh, fmt.Sprintf("9h%02dm%02ds", 1+i*9/60, i*9%60))
	}
	add(ac.inj.refresh, -1, refresh...)
	for _, is := range p.inj {
		slices.SortFunc(is, func(a, b injection) int { return cmp.Compare(a.at, b.at) })
	}
	for i := range p.findings {
		f := &p.findings[i]
		for _, is := range p.inj {
			for _, in := range is {
				if in.finding != i {
					continue
				}
				t := time.Unix(in.at, 0).UTC()
				if f.Start.IsZero() || t.Before(f.Start) {
					f.Start = t
				}
				if e := t.Add(time.Second); e.After(f.End) {
					f.End = e
				}
				f.Records++
			}
		}
	}
	// The root read's second finding stands for the same record.
	p.findings[rootAccess].Start, p.findings[rootAccess].End = p.findings[rootRead].Start, p.findings[rootRead].End
	p.findings[rootAccess].Records = p.findings[rootRead].Records

	// (e) a normally allowed role reads its usual secret at 40× its hourly rate.
	if n := p.priorSameKind(day); n < spikeMinSamples {
		p.notes = append(p.notes, fmt.Sprintf("no read spike injected: day %d has %d prior days of its kind (weekday/weekend); the detector's baseline needs %d",
			day+1, n, spikeMinSamples))
		return
	}
	p.spikeDay = day
	st := ac.streams[ac.spikeStream]
	first := day*24 + spikeHour
	var usual, spiked, others float64
	for h := first; h < first+spikeHours; h++ {
		usual += p.rate(ac.spikeStream, h)
		spiked += p.spikeRate(h)
		for si, o := range ac.streams {
			if si != ac.spikeStream && o.isRead() && !o.injected && o.secret == st.secret {
				others += p.rate(si, h)
			}
		}
	}
	f := Finding{
		Rule: RuleReadSpike, Scope: ScopePrincipal,
		SecretName: st.secret.name, Account: Account, Region: st.secret.region, SecretARN: st.secret.arn(),
		Principal: st.actor.principal(), PrincipalType: st.actor.principalType(), Actor: st.actor.id,
		Start: dayStart.Add(spikeHour * time.Hour), End: dayStart.Add((spikeHour + spikeHours) * time.Hour),
		Factor:      round2(spiked / max(usual, 1e-9)),
		Description: "role orders-api-task reads prod/orders/db at 40× its usual rate for two hours",
	}
	p.findings = append(p.findings, f)
	// The secret as a whole spikes too when the role dominates its traffic.
	if share := usual / max(usual+others, 1e-9); share >= 0.5 {
		w := f
		w.Scope, w.Principal, w.PrincipalType, w.Actor = ScopeSecret, "", "", ""
		w.Factor = round2((spiked + others) / max(usual+others, 1e-9))
		w.Description = "prod/orders/db as a whole: orders-api-task makes most of its reads, so its spike is the secret's"
		p.findings = append(p.findings, w)
	}
}

// expectedRecords is the mean number of records the plan generates in the hours include
// accepts, duplicates included.
func (p *plan) expectedRecords(include func(h int) bool) float64 {
	var n float64
	for h := range p.days * 24 {
		if !include(h) {
			continue
		}
		for ri, region := range regions {
			var reads float64
			for si, st := range p.ac.streams {
				if st.injected || st.region() != region {
					continue
				}
				l := p.rate(si, h)
				if si == p.ac.spikeStream && p.isSpikeHour(h) {
					l = p.spikeRate(h)
				}
				n += l
				if st.isRead() {
					reads += p.rate(si, h)
				}
			}
			n += noiseRatio*reads + noiseFloor*p.scale
			for _, in := range p.inj[h] {
				if p.ac.streams[in.stream].region() == regions[ri] {
					n++
				}
			}
		}
	}
	return n * (1 + dupRate)
}

// priorSameKind counts the days before day that are of its kind (weekday or weekend).
func (p *plan) priorSameKind(day int) int {
	weekend := func(d int) bool { wd := p.weekday(d); return wd == time.Saturday || wd == time.Sunday }
	n := 0
	for d := range day {
		if weekend(d) == weekend(day) {
			n++
		}
	}
	return n
}

func round2(x float64) float64 { return math.Round(x*100) / 100 }

// generator draws the hours of a plan in order. It keeps the state that spans hours (which
// streams have been read) and, when stats is set, the counts the truth reports.
type generator struct {
	p      *plan
	readOK []bool
	stats  *stats
}

func newGenerator(p *plan, st *stats) *generator {
	return &generator{p: p, readOK: make([]bool, len(p.ac.streams)), stats: st}
}

func (g *generator) hours() int { return g.p.days * 24 }

// hour draws hour h (all regions) and returns its log files in delivery order: by window,
// region, then name.
func (g *generator) hour(h int) []fileBatch {
	var out []fileBatch
	for ri := range regions {
		out = append(out, g.regionHour(h, ri)...)
	}
	slices.SortFunc(out, func(a, b fileBatch) int {
		return cmp.Or(cmp.Compare(a.window, b.window), cmp.Compare(a.region, b.region), cmp.Compare(a.name, b.name))
	})
	return out
}

func (g *generator) regionHour(h, ri int) []fileBatch {
	p, ac := g.p, g.p.ac
	region := regions[ri]
	r := newRand(p.seed, domainHour, uint64(h)<<8|uint64(ri))
	t0 := p.start.Unix() + int64(h)*3600
	var seq uint64
	var evs []event
	emit := func(at int64, kind evKind, stream int, fail uint8, finding int) {
		evs = append(evs, event{at: at, nonce: uint64(h)<<36 | uint64(ri)<<32 | seq, stream: int32(stream),
			kind: kind, fail: fail, finding: int8(finding + 1)})
		seq++
	}

	// Normal calls.
	var readRates []float64 // per stream, for picking the reader that noise accompanies
	var readSum float64
	for si, st := range ac.streams {
		if st.injected || st.region() != region {
			readRates = append(readRates, 0)
			continue
		}
		lam := p.rate(si, h)
		var n int
		finding := -1
		if si == ac.spikeStream && p.isSpikeHour(h) {
			n = poisson(r, p.spikeRate(h))
			finding = p.spikeFinding()
		} else {
			n = poissonish(r, lam)
		}
		okReads := 0
		for range n {
			fail := failNone
			if st.isRead() && r.Float64() < st.failRate {
				fail = failDenied + uint8(r.IntN(2))
			}
			if fail == failNone {
				okReads++
			}
			emit(t0+int64(r.IntN(3600)), evCall, si, fail, finding)
		}
		if st.isRead() {
			if okReads == 0 && p.guarantee[si] == h && !g.readOK[si] {
				emit(t0+int64(r.IntN(3600)), evCall, si, failNone, -1)
				okReads++
			}
			if okReads > 0 {
				g.readOK[si] = true
			}
			readRates = append(readRates, lam)
			readSum += lam
		} else {
			readRates = append(readRates, 0)
		}
	}

	// Injected calls.
	for _, in := range p.inj[h] {
		if ac.streams[in.stream].region() == region {
			emit(in.at, evCall, in.stream, failNone, in.finding)
		}
	}

	// Other services' calls, in proportion to the region's traffic.
	for range poissonish(r, noiseRatio*readSum+noiseFloor*p.scale) {
		si := pickWeighted(r.Float64()*readSum, readRates)
		if readSum == 0 {
			si = g.anyReadStream(region, r.IntN(1<<20))
		}
		if si < 0 {
			break
		}
		emit(t0+int64(r.IntN(3600)), noiseKind(ac.streams[si].actor, r.Float64()), si, failNone, -1)
	}

	g.count(h, evs)
	return g.files(r, ri, t0, evs)
}

// spikeFinding is the index of the per-principal read-spike finding.
func (p *plan) spikeFinding() int {
	for i, f := range p.findings {
		if f.Rule == RuleReadSpike && f.Scope == ScopePrincipal {
			return i
		}
	}
	return -1
}

func pickWeighted(x float64, weights []float64) int {
	last := -1
	for i, w := range weights {
		if w <= 0 {
			continue
		}
		last = i
		if x < w {
			return i
		}
		x -= w
	}
	return last
}

// anyReadStream picks one of the region's normal read streams (for hours without reads).
func (g *generator) anyReadStream(region string, k int) int {
	var c []int
	for si, st := range g.p.ac.streams {
		if st.isRead() && !st.injected && st.region() == region {
			c = append(c, si)
		}
	}
	if len(c) == 0 {
		return -1
	}
	return c[k%len(c)]
}

// noiseKind chooses what non-Secrets-Manager call accompanies a reader.
func noiseKind(a *actor, x float64) evKind {
	switch a.kind {
	case kindLambda, kindECS, kindEC2:
		switch {
		case x < 0.45:
			return evKMSDecrypt
		case x < 0.8 || len(a.buckets) == 0:
			return evAssumeRole
		default:
			return evS3Get
		}
	case kindCI:
		if x < 0.5 {
			return evS3Get
		}
	}
	return evKMSDecrypt
}

// files splits an hour's events into 5-minute windows and those into log files, adds the
// duplicate deliveries and orders each file like CloudTrail does: roughly, not strictly, by time.
func (g *generator) files(r *rand.Rand, ri int, t0 int64, evs []event) []fileBatch {
	var byWindow [windows][]event
	for _, e := range evs {
		w := (e.at - t0) / windowSeconds
		byWindow[w] = append(byWindow[w], e)
	}
	var out []fileBatch
	for w, list := range byWindow {
		if len(list) == 0 {
			continue
		}
		slices.SortFunc(list, func(a, b event) int { return cmp.Or(cmp.Compare(a.at, b.at), cmp.Compare(a.nonce, b.nonce)) })
		for i := 0; i+1 < len(list); i++ { // local disorder
			if r.Float64() < 0.3 {
				j := i + 1 + r.IntN(min(3, len(list)-i-1))
				list[i], list[j] = list[j], list[i]
			}
		}
		two := len(list) >= 4 && r.Float64() < splitRate
		type dup struct {
			idx   int
			other bool
		}
		var dups []dup
		for i := range list {
			if r.Float64() < dupRate {
				d := dup{idx: i, other: r.Float64() < dupOtherFile}
				two = two || d.other
				dups = append(dups, d)
			}
		}
		var parts [2][]event
		where := make([]uint8, len(list))
		for i, e := range list {
			if two && r.Float64() < 0.25 {
				where[i] = 1
			}
			parts[where[i]] = append(parts[where[i]], e)
		}
		for _, d := range dups {
			f := where[d.idx]
			if d.other {
				f = 1 - f
			}
			pos := r.IntN(len(parts[f]) + 1)
			parts[f] = slices.Insert(parts[f], pos, list[d.idx])
			if g.stats != nil {
				g.stats.duplicate(g.p, list[d.idx])
			}
		}
		ws := t0 + int64(w)*windowSeconds
		for _, part := range parts {
			suffix := randString(r, alnum, 16)
			if len(part) == 0 {
				continue
			}
			out = append(out, fileBatch{region: ri, window: ws, name: fileName(regions[ri], ws, suffix), events: part})
		}
	}
	return out
}

// fileName is CloudTrail's object name for a log file of region delivered for the window at ws.
func fileName(region string, ws int64, suffix string) string {
	return Account + "_CloudTrail_" + region + "_" + time.Unix(ws, 0).UTC().Format("20060102T1504Z") + "_" + suffix + ".json.gz"
}

// count feeds the truth with an hour's unique events.
func (g *generator) count(h int, evs []event) {
	if g.stats != nil {
		for _, e := range evs {
			g.stats.unique(g.p, h, e)
		}
	}
}
