package scenario

import (
	"cmp"
	"slices"
	"time"
)

// stats accumulates, while the hours are drawn, what Truth reports.
type stats struct {
	p          *plan
	c          Counts
	perDay     []int64
	secretIdx  map[*secret]int
	reads      []int64 // [secret] unique successful reads
	denied     []int64 // [secret] unique failed reads
	pairReads  []int64 // [stream] successful reads, all days
	pairLearn  []int64 // [stream] successful reads on the learning days
	pairFirst  []int64 // [stream] Unix time of the first successful read, 0 none
	findingRec []int64 // [finding] reads of the finding's principal behind it
}

func newStats(p *plan) *stats {
	s := &stats{
		p: p, perDay: make([]int64, p.days), secretIdx: map[*secret]int{},
		reads: make([]int64, len(p.ac.secrets)), denied: make([]int64, len(p.ac.secrets)),
		pairReads: make([]int64, len(p.ac.streams)), pairLearn: make([]int64, len(p.ac.streams)),
		pairFirst: make([]int64, len(p.ac.streams)), findingRec: make([]int64, len(p.findings)),
	}
	for i, sec := range p.ac.secrets {
		s.secretIdx[sec] = i
	}
	return s
}

func (s *stats) day(at int64) int {
	return min(max(int((at-s.p.start.Unix())/86400), 0), s.p.days-1)
}

// unique counts one distinct event (h is its hour index).
func (s *stats) unique(p *plan, h int, e event) {
	s.c.Records++
	s.c.Unique++
	s.perDay[s.day(e.at)]++
	if e.kind != evCall {
		s.c.Other++
		return
	}
	st := p.ac.streams[e.stream]
	if st.op == opGetCallerIdentity {
		s.c.Other++
		return
	}
	s.c.SecretsManager++
	if !st.isRead() {
		return
	}
	if e.finding > 0 {
		s.findingRec[e.finding-1]++
	}
	si := s.secretIdx[st.secret]
	if e.fail != failNone {
		s.c.DeniedReads++
		s.denied[si]++
		return
	}
	s.c.Reads++
	s.reads[si]++
	s.pairReads[e.stream]++
	if h/24 < p.learnDays() {
		s.pairLearn[e.stream]++
	}
	if f := s.pairFirst[e.stream]; f == 0 || e.at < f {
		s.pairFirst[e.stream] = e.at
	}
}

// duplicate counts a second delivery of e.
func (s *stats) duplicate(p *plan, e event) {
	s.c.Records++
	s.c.Duplicates++
	s.perDay[s.day(e.at)]++
}

func (s *stats) truth() *Truth {
	p := s.p
	t := &Truth{
		Account: Account, Regions: append([]string(nil), regions...),
		Start: p.start, End: p.start.AddDate(0, 0, p.days), Days: p.days, Seed: p.seed, Scale: p.scale,
		Findings: append([]Finding(nil), p.findings...),
		Counts:   s.c,
		Notes:    append([]string(nil), p.notes...),
	}
	for d, n := range s.perDay {
		t.Counts.PerDay = append(t.Counts.PerDay, DayCount{Date: p.start.AddDate(0, 0, d).Format(time.DateOnly), Records: n})
	}
	if t.Counts.Bytes > 0 && t.Counts.Records > 0 {
		t.Counts.BytesPerRecord = round2(float64(t.Counts.Bytes) / float64(t.Counts.Records))
	}
	spike := p.spikeFinding()
	for i := range t.Findings {
		f := &t.Findings[i]
		if f.Rule == RuleReadSpike && spike >= 0 {
			f.Records = s.findingRec[spike]
		} else {
			f.Records = s.findingRec[i]
		}
	}
	slices.SortStableFunc(t.Findings, func(a, b Finding) int {
		return cmp.Or(a.Start.Compare(b.Start), cmp.Compare(a.Rule, b.Rule), cmp.Compare(a.SecretName, b.SecretName),
			cmp.Compare(a.Principal, b.Principal))
	})
	for i, sec := range p.ac.secrets {
		t.Secrets = append(t.Secrets, Secret{Key: sec.key(), Name: sec.name, Region: sec.region, ARN: sec.arn(),
			Reads: s.reads[i], Denied: s.denied[i]})
	}
	for si, st := range p.ac.streams {
		if !st.isRead() || st.injected {
			continue
		}
		rd := Reader{SecretName: st.secret.name, Region: st.secret.region, Principal: st.actor.principal(),
			PrincipalType: st.actor.principalType(), Actor: st.actor.id,
			Reads: s.pairReads[si], LearnReads: s.pairLearn[si]}
		if st.actor.kind == kindSSO {
			rd.Person = st.actor.session
		}
		if f := s.pairFirst[si]; f != 0 {
			rd.FirstRead = time.Unix(f, 0).UTC()
		}
		t.Readers = append(t.Readers, rd)
	}
	return t
}
