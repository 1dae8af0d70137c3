package dynamodb

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/secretwatch/secretwatch/baseline/internal/bound"
	"github.com/secretwatch/secretwatch/baseline/internal/localstate"
	"github.com/secretwatch/secretwatch/detector"
	"github.com/secretwatch/secretwatch/report"
)

// What the weekly report needs besides the hourly counters (docs/dynamodb.md, "Weekly report"):
//
//   - R#<secret> / <day>#<principal>: per (secret, principal, UTC day) the distinct source IPs,
//     VPC endpoint ids and user agents (string sets, at most report.MaxValues each), the secret's
//     ARN, the principal type, and fx/lx, the first and last denied attempt (the counters time
//     successful reads only). Written only when a read brings something the item, as this
//     instance read it (one GetItem on first touch), does not hold: never a write per read.
//   - X#<day> / <window>#<alert key>: the alerts delivered whose window starts on that day, with
//     their rule, secret and principal, kept for the retention window.
//
// Counts, and first/last seen of successful reads, come from the counter chunks (top chunks and
// their roll-ups, store.go): they are exact under duplicates and retries. The secrets read in a
// period and the latest event hour (report.Source.Latest) come from the top chunks' partitions
// (topBuckets Queries): no index item is written for them.
var _ report.Source = (*Store)(nil)

const (
	attrIPs        = "ip"
	attrVPCEs      = "vpce"
	attrUAs        = "ua"
	attrARN        = "arn"
	attrPType      = "pt"
	attrFirstOther = "fx" // unix nanos of the first denied attempt
	attrLastOther  = "lx" // unix nanos of the last one
	attrRule       = "rl"

	// maxDayCache bounds the per-(secret, principal, day) states an instance remembers; past it
	// the cache is emptied (the next writes re-learn what they need).
	maxDayCache = 200_000
)

var setAttrs = [3]string{attrIPs, attrVPCEs, attrUAs}

// dayKey names one R# item: secret and principal in their key form, day since the epoch.
type dayKey struct {
	secret, principal string
	day               int64
}

func (k dayKey) pk() string { return "R#" + k.secret }
func (k dayKey) sk() string { return dayPrefix(k.day) + k.principal }

func dayPrefix(day int64) string { return fmt.Sprintf("%06d#", day) }

// dayState is what this instance knows of one R# item (as of the last response it saw).
type dayState struct {
	exists       bool
	sets         [3]map[string]bool
	arn, ptype   bool
	first, last  int64 // fx, lx; 0 when absent
	fromResponse bool
}

// reportState is the instance's cache of report items written or read.
type reportState struct {
	mu     sync.Mutex
	days   map[dayKey]*dayState
	latest int64 // the latest hour this instance recorded
}

func dayOf(t time.Time) int64 { return localstate.DayOf(t) }

// dayWant is what one Record call's reads bring to one R# item.
type dayWant struct {
	key               dayKey
	secret, principal string // readable, bounded
	sets              [3][]string
	arn, ptype        string
	first, last       int64 // over the denied attempts (the counters time successful reads)
}

// recordReport writes what the report needs about entries (the de-duplicated reads of a Record
// call that the counters hold now). Every write is idempotent, so it runs for every read of the
// call, fresh or not: a retried call completes what a failed one left out.
func (s *Store) recordReport(ctx context.Context, entries []*entry) error {
	wants := map[dayKey]*dayWant{}
	capH := detector.Hour(s.now().Add(futureSkew))
	maxHour := int64(-1)
	for _, e := range entries {
		r := e.read
		k := dayKey{secret: e.key.secret, principal: e.key.principal, day: dayOf(r.Time)}
		w := wants[k]
		if w == nil {
			w = &dayWant{key: k, secret: bound.Text(r.Secret, maxAttrText), principal: bound.Text(r.Principal, maxAttrText)}
			wants[k] = w
		}
		for i, v := range [3]string{r.SourceIP, r.VPCEndpointID, r.UserAgent} {
			if len(w.sets[i]) < report.MaxValues {
				w.sets[i] = report.AddValue(w.sets[i], v)
			}
		}
		if w.arn == "" {
			w.arn = report.Bound(r.SecretARN)
		}
		if w.ptype == "" {
			w.ptype = report.Bound(r.PrincipalType)
		}
		if r.Denied {
			ns := r.Time.UnixNano()
			if w.first == 0 || ns < w.first {
				w.first = ns
			}
			w.last = max(w.last, ns)
		}
		maxHour = max(maxHour, min(detector.Hour(r.Time), capH))
	}

	s.rep.mu.Lock()
	s.rep.latest = max(s.rep.latest, maxHour)
	s.rep.mu.Unlock()

	keys := slices.SortedFunc(maps.Keys(wants), func(a, b dayKey) int {
		return strings.Compare(a.pk()+"\x00"+a.sk(), b.pk()+"\x00"+b.sk())
	})
	if err := forEach(ctx, keys, func(ctx context.Context, k dayKey) error {
		return s.writeDay(ctx, wants[k])
	}); err != nil {
		return err
	}
	s.pruneReport()
	return nil
}

// dayTTL is when an item of day expires: the retention window after the day's end, plus a day.
func (s *Store) dayTTL(day int64) int64 {
	return (day+2)*86400 + int64(s.ret/time.Second)
}

// pruneReport drops cached report state of days the instance will most likely not write again.
func (s *Store) pruneReport() {
	s.rep.mu.Lock()
	defer s.rep.mu.Unlock()
	if s.rep.latest <= 0 {
		return
	}
	keep := s.rep.latest/24 - 1
	if len(s.rep.days) > maxDayCache {
		for k := range s.rep.days {
			if k.day < keep {
				delete(s.rep.days, k)
			}
		}
		if len(s.rep.days) > maxDayCache {
			clear(s.rep.days)
		}
	}
}

func (s *Store) daySnapshot(k dayKey) (dayState, bool) {
	s.rep.mu.Lock()
	defer s.rep.mu.Unlock()
	st := s.rep.days[k]
	if st == nil {
		return dayState{}, false
	}
	return *st, true
}

func (s *Store) dayStore(k dayKey, item map[string]types.AttributeValue) {
	st := &dayState{exists: len(item) > 0, fromResponse: true}
	for i, a := range setAttrs {
		st.sets[i] = map[string]bool{}
		if v, ok := item[a].(*types.AttributeValueMemberSS); ok {
			for _, x := range v.Value {
				st.sets[i][x] = true
			}
		}
	}
	_, st.arn = item[attrARN]
	_, st.ptype = item[attrPType]
	st.first = numAttr(item[attrFirstOther])
	st.last = numAttr(item[attrLastOther])
	s.rep.mu.Lock()
	defer s.rep.mu.Unlock()
	if s.rep.days == nil {
		s.rep.days = map[dayKey]*dayState{}
	}
	s.rep.days[k] = st
}

// writeDay brings the R# item of w.key up to what w holds, if this instance does not know it
// there already. Each set grows to report.MaxValues at most: the condition checks that the set
// has room for the values added, so concurrent writers never push it over.
func (s *Store) writeDay(ctx context.Context, w *dayWant) error {
	k := w.key
	key := map[string]types.AttributeValue{
		attrPK: &types.AttributeValueMemberS{Value: k.pk()},
		attrSK: &types.AttributeValueMemberS{Value: k.sk()},
	}
	if _, known := s.daySnapshot(k); !known {
		// Read it first (read units, not write units): most reads bring nothing new.
		res, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(s.table), Key: key})
		if err != nil {
			return fmt.Errorf("baseline: dynamodb report get %s: %w", bound.Text(k.pk(), 200), err)
		}
		s.dayStore(k, res.Item)
	}
	for failures := 0; ; {
		st, known := s.daySnapshot(k)
		names := map[string]string{"#ttl": attrTTL, "#sn": attrSecretName}
		values := map[string]types.AttributeValue{
			":ttl": &types.AttributeValueMemberN{Value: strconv.FormatInt(s.dayTTL(k.day), 10)},
			":sn":  &types.AttributeValueMemberS{Value: w.secret},
		}
		sets := []string{"#ttl = :ttl", "#sn = :sn"}
		var adds, conds []string
		changed := !known
		for i, a := range setAttrs {
			var add []string
			for _, v := range w.sets[i] {
				if !st.sets[i][v] {
					add = append(add, v)
				}
			}
			if known {
				add = add[:min(len(add), max(0, report.MaxValues-len(st.sets[i])))]
			}
			if len(add) == 0 {
				continue
			}
			changed = true
			n, v, c := "#"+a, ":"+a, ":"+a+"max"
			names[n] = a
			values[v] = &types.AttributeValueMemberSS{Value: add}
			values[c] = &types.AttributeValueMemberN{Value: strconv.Itoa(report.MaxValues - len(add))}
			adds = append(adds, n+" "+v)
			conds = append(conds, "(attribute_not_exists("+n+") OR size("+n+") <= "+c+")")
		}
		if w.principal != "" {
			names["#pr"] = attrPrincipal
			values[":pr"] = &types.AttributeValueMemberS{Value: w.principal}
			sets = append(sets, "#pr = :pr")
		}
		if w.arn != "" && !st.arn {
			changed = true
			names["#arn"] = attrARN
			values[":arn"] = &types.AttributeValueMemberS{Value: w.arn}
			sets = append(sets, "#arn = if_not_exists(#arn, :arn)")
		}
		if w.ptype != "" && !st.ptype {
			changed = true
			names["#pt"] = attrPType
			values[":pt"] = &types.AttributeValueMemberS{Value: w.ptype}
			sets = append(sets, "#pt = if_not_exists(#pt, :pt)")
		}
		if w.first != 0 && (st.first == 0 || w.first < st.first) {
			changed = true
			names["#fx"] = attrFirstOther
			values[":fx"] = &types.AttributeValueMemberN{Value: strconv.FormatInt(w.first, 10)}
			sets = append(sets, "#fx = :fx")
			conds = append(conds, "(attribute_not_exists(#fx) OR #fx > :fx)")
		}
		if w.last != 0 && w.last > st.last {
			changed = true
			names["#lx"] = attrLastOther
			values[":lx"] = &types.AttributeValueMemberN{Value: strconv.FormatInt(w.last, 10)}
			sets = append(sets, "#lx = :lx")
			conds = append(conds, "(attribute_not_exists(#lx) OR #lx < :lx)")
		}
		if !changed {
			return nil
		}
		update := "SET " + strings.Join(sets, ", ")
		if len(adds) > 0 {
			update += " ADD " + strings.Join(adds, ", ")
		}
		in := &dynamodb.UpdateItemInput{
			TableName:                           aws.String(s.table),
			Key:                                 key,
			UpdateExpression:                    aws.String(update),
			ExpressionAttributeNames:            names,
			ExpressionAttributeValues:           values,
			ReturnValues:                        types.ReturnValueAllNew,
			ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
		}
		if len(conds) > 0 {
			in.ConditionExpression = aws.String(strings.Join(conds, " AND "))
		}
		out, err := s.db.UpdateItem(ctx, in)
		if err == nil {
			s.dayStore(k, out.Attributes)
			return nil
		}
		ccf, ok := errors.AsType[*types.ConditionalCheckFailedException](err)
		if !ok {
			return fmt.Errorf("baseline: dynamodb report update %s: %w", bound.Text(k.pk(), 200), classify(err))
		}
		item := ccf.Item
		if item == nil { // dynalite does not return the item
			res, gerr := s.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(s.table), Key: key, ConsistentRead: aws.Bool(true)})
			if gerr != nil {
				return fmt.Errorf("baseline: dynamodb report get %s: %w", bound.Text(k.pk(), 200), gerr)
			}
			item = res.Item
		}
		s.dayStore(k, item)
		if failures++; failures > maxItemRetries {
			return fmt.Errorf("baseline: dynamodb report update %s: %d conditional failures in a row: %w", bound.Text(k.pk(), 200), failures, err)
		}
		if known { // what we knew was stale: the item changed under us, back off a little
			if err := sleepCtx(ctx, retryDelay(failures)); err != nil {
				return err
			}
		}
	}
}

// Latest implements report.Source: the latest event hour recorded, never past the clock (plus
// the skew allowed for records dated in the future).
func (s *Store) Latest(ctx context.Context) (time.Time, error) {
	h, err := s.latestHourStored(ctx)
	if err != nil {
		return time.Time{}, err
	}
	return localstate.HourTime(h), nil
}

func (s *Store) latestHourStored(ctx context.Context) (int64, error) {
	secrets, err := s.secretsStored(ctx)
	if err != nil {
		return 0, err
	}
	return s.latestOf(ctx, secrets)
}

// storedSecret is a secret (key form) found in the top-chunk buckets, with its readable name.
type storedSecret struct {
	key, readable string
}

// secretsStored lists every secret that has top chunks, without reading them all: per bucket a
// walk of Limit-1 Queries, each jumping from one secret to the next (sk >= "<secret>$": '$'
// follows '#', and a key-form secret holds no '#'). Requests and read units grow with the number
// of secrets (about 0.5 unit each), not with their chunks: no scan.
func (s *Store) secretsStored(ctx context.Context) ([]storedSecret, error) {
	var mu sync.Mutex
	var out []storedSecret
	buckets := make([]int, topBuckets)
	for i := range buckets {
		buckets[i] = i
	}
	err := forEach(ctx, buckets, func(ctx context.Context, b int) error {
		next := ""
		for {
			var in *dynamodb.QueryInput
			if next == "" {
				in = pkQuery(bucketPK(b), "", "")
			} else {
				in = &dynamodb.QueryInput{
					KeyConditionExpression:   aws.String("#pk = :pk AND #sk >= :lo"),
					ExpressionAttributeNames: map[string]string{"#pk": attrPK, "#sk": attrSK},
					ExpressionAttributeValues: map[string]types.AttributeValue{
						":pk": &types.AttributeValueMemberS{Value: bucketPK(b)},
						":lo": &types.AttributeValueMemberS{Value: next},
					},
				}
			}
			in.TableName = aws.String(s.table)
			in.Limit = aws.Int32(1)
			res, err := s.db.Query(ctx, in)
			if err != nil {
				return fmt.Errorf("baseline: dynamodb report secrets %s: %w", bucketPK(b), classify(err))
			}
			if len(res.Items) == 0 {
				return nil
			}
			item := res.Items[0]
			sk := strAttr(item[attrSK])
			sec, _, ok := strings.Cut(sk, "#")
			if !ok || sec == "" {
				return fmt.Errorf("baseline: dynamodb report secrets %s: unexpected sort key %q", bucketPK(b), bound.Text(sk, 200))
			}
			if _, ok := parseTopSK(sk); ok {
				readable := unesc(sec)
				if digested(sec) {
					readable = strAttr(item[attrSecretName])
				}
				mu.Lock()
				out = append(out, storedSecret{key: sec, readable: readable})
				mu.Unlock()
			}
			next = sec + "$"
		}
	})
	if err != nil {
		return nil, err
	}
	slices.SortFunc(out, func(a, b storedSecret) int { return strings.Compare(a.key, b.key) })
	return out, nil
}

// latestOf is the latest top-chunk hour of the secrets, not past the clock (+ the future skew):
// one Limit-1 Query per secret, backwards from that cap.
func (s *Store) latestOf(ctx context.Context, secrets []storedSecret) (int64, error) {
	capH := detector.Hour(s.now().Add(futureSkew))
	var mu sync.Mutex
	latest := int64(0)
	err := forEach(ctx, secrets, func(ctx context.Context, sec storedSecret) error {
		in := topRange(sec.key, 0, capH)
		in.TableName = aws.String(s.table)
		in.Limit = aws.Int32(1)
		in.ScanIndexForward = aws.Bool(false)
		res, err := s.db.Query(ctx, in)
		if err != nil {
			return fmt.Errorf("baseline: dynamodb report latest %s: %w", bound.Text(sec.readable, 200), classify(err))
		}
		if len(res.Items) == 0 {
			return nil
		}
		if k, ok := parseTopSK(strAttr(res.Items[0][attrSK])); ok && k.hour <= capH {
			mu.Lock()
			latest = max(latest, k.hour)
			mu.Unlock()
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	return latest, nil
}

// dayBounds turns [from, to) into the days [lo, hi) the store may hold: not before the
// retention horizon of the latest hour of the secrets, not after the clock. ok is false when
// there is nothing.
func (s *Store) dayBounds(ctx context.Context, secrets []storedSecret, from, to time.Time) (lo, hi int64, ok bool, err error) {
	latest, err := s.latestOf(ctx, secrets)
	if err != nil || latest <= 0 {
		return 0, 0, false, err
	}
	lo, hi = localstate.DayRange(from, to)
	lo = max(lo, (latest-s.retH+23)/24)
	hi = min(hi, detector.Hour(s.now().Add(futureSkew))/24+1, lo+int64(report.MaxPeriod/(24*time.Hour))+1)
	return lo, hi, lo < hi, nil
}

// query runs one Query to its end, calling fn for every item.
func (s *Store) query(ctx context.Context, in *dynamodb.QueryInput, fn func(map[string]types.AttributeValue)) error {
	in.TableName = aws.String(s.table)
	for {
		res, err := s.db.Query(ctx, in)
		if err != nil {
			return err
		}
		for _, item := range res.Items {
			fn(item)
		}
		if len(res.LastEvaluatedKey) == 0 {
			return nil
		}
		in.ExclusiveStartKey = res.LastEvaluatedKey
	}
}

func strAttr(v types.AttributeValue) string {
	if s, ok := v.(*types.AttributeValueMemberS); ok {
		return s.Value
	}
	return ""
}

func pkQuery(pk string, lo, hi string) *dynamodb.QueryInput {
	in := &dynamodb.QueryInput{
		KeyConditionExpression:   aws.String("#pk = :pk"),
		ExpressionAttributeNames: map[string]string{"#pk": attrPK},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk": &types.AttributeValueMemberS{Value: pk},
		},
	}
	if lo != "" {
		in.KeyConditionExpression = aws.String("#pk = :pk AND #sk BETWEEN :lo AND :hi")
		in.ExpressionAttributeNames["#sk"] = attrSK
		in.ExpressionAttributeValues[":lo"] = &types.AttributeValueMemberS{Value: lo}
		in.ExpressionAttributeValues[":hi"] = &types.AttributeValueMemberS{Value: hi}
	}
	return in
}

// Days implements report.Source. Requests: the secrets walk of the 16 top-chunk buckets (one
// Limit-1 Query per secret), one Limit-1 Query per secret for the latest hour, then per secret
// one Query of its top chunks of the days asked (+ pages, + one spill Query per spilled hour
// without a valid roll-up) and one of its R# items: no scan, and no chunk outside the days asked
// is read.
func (s *Store) Days(ctx context.Context, from, to time.Time, yield func(*report.DayRow) error) error {
	secrets, err := s.secretsStored(ctx)
	if err != nil {
		return err
	}
	lo, hi, ok, err := s.dayBounds(ctx, secrets, from, to)
	if err != nil || !ok {
		return err
	}
	var mu sync.Mutex
	return forEach(ctx, secrets, func(ctx context.Context, sec storedSecret) error {
		var tops []map[string]types.AttributeValue
		if err := s.query(ctx, topRange(sec.key, lo*24, hi*24-1), func(item map[string]types.AttributeValue) {
			if _, ok := parseTopSK(strAttr(item[attrSK])); ok {
				tops = append(tops, item)
			}
		}); err != nil {
			return fmt.Errorf("baseline: dynamodb report counters %s: %w", bound.Text(sec.readable, 200), classify(err))
		}
		if len(tops) == 0 {
			return nil
		}
		rows, err := s.secretDays(ctx, sec.key, sec.readable, tops, lo, hi)
		if err != nil {
			return err
		}
		mu.Lock()
		defer mu.Unlock()
		for _, r := range rows {
			if err := ctx.Err(); err != nil {
				return err
			}
			if err := yield(r); err != nil {
				return err
			}
		}
		return nil
	})
}

type countAgg struct {
	n, d      int64
	first     string // counters' "<nanos>|<eventID>"
	last      int64
	principal string // readable
}

// secretDays builds the rows of one secret (key form sec) for the days [lo, hi) from its top
// chunks of those days.
func (s *Store) secretDays(ctx context.Context, sec, readable string, tops []map[string]types.AttributeValue, lo, hi int64) ([]*report.DayRow, error) {
	counts := map[dayKey]*countAgg{}
	lhs, err := s.loadItems(ctx, tops, loadRead)
	if err != nil {
		return nil, err
	}
	for _, lh := range lhs {
		k := lh.top.key
		dk := dayKey{secret: sec, principal: k.principal, day: k.hour / 24}
		a := counts[dk]
		if a == nil {
			a = &countAgg{principal: lh.principal}
			counts[dk] = a
		}
		t := lh.top.counts
		t.merge(lh.spill)
		a.n += t.n
		a.d += t.d
		if t.first != "" && (a.first == "" || t.first < a.first) {
			a.first = t.first
		}
		a.last = max(a.last, t.last)
	}
	attrs := map[dayKey]map[string]types.AttributeValue{}
	if err := s.query(ctx, pkQuery("R#"+sec, dayPrefix(lo), dayPrefix(hi-1)+"\xff"), func(item map[string]types.AttributeValue) {
		sk := strAttr(item[attrSK])
		day, prin, ok := strings.Cut(sk, "#")
		d, err := strconv.ParseInt(day, 10, 64)
		if !ok || err != nil {
			return
		}
		attrs[dayKey{secret: sec, principal: prin, day: d}] = item
	}); err != nil {
		return nil, fmt.Errorf("baseline: dynamodb report query %s: %w", bound.Text("R#"+sec, 200), err)
	}

	rows := make([]*report.DayRow, 0, len(counts))
	for k, a := range counts {
		if a.n+a.d <= 0 {
			continue
		}
		row := &report.DayRow{Day: localstate.UnixDay(k.day), Secret: readable, Principal: a.principal, Reads: a.n, Denied: a.d}
		if a.first != "" {
			ns, _, _ := strings.Cut(a.first, "|")
			if n, err := strconv.ParseInt(ns, 10, 64); err == nil {
				row.FirstSeen = time.Unix(0, n).UTC()
			}
		}
		if a.last != 0 {
			row.LastSeen = time.Unix(0, a.last).UTC()
		}
		if item := attrs[k]; item != nil {
			if row.Principal == "" && k.principal != unknownPrincipal {
				row.Principal = strAttr(item[attrPrincipal])
			}
			row.SecretARN = strAttr(item[attrARN])
			row.PrincipalType = strAttr(item[attrPType])
			if fx := numAttr(item[attrFirstOther]); fx != 0 {
				if t := time.Unix(0, fx).UTC(); row.FirstSeen.IsZero() || t.Before(row.FirstSeen) {
					row.FirstSeen = t
				}
			}
			if lx := numAttr(item[attrLastOther]); lx != 0 {
				if t := time.Unix(0, lx).UTC(); t.After(row.LastSeen) {
					row.LastSeen = t
				}
			}
			for i, a := range setAttrs {
				var vs []string
				if v, ok := item[a].(*types.AttributeValueMemberSS); ok {
					vs = slices.Sorted(slices.Values(v.Value))
				}
				vs = report.AddValue(nil, vs...)
				switch i {
				case 0:
					row.SourceIPs = vs
				case 1:
					row.VPCEndpointIDs = vs
				default:
					row.UserAgents = vs
				}
			}
		}
		rows = append(rows, row)
	}
	return rows, nil
}

// alertIndexKey names the X# item of one delivered alert.
func alertIndexKey(key string, window time.Time) map[string]types.AttributeValue {
	if len(key) > maxAlertKey-20 {
		key = digestPart(key)
	}
	return map[string]types.AttributeValue{
		attrPK: &types.AttributeValueMemberS{Value: "X#" + strconv.FormatInt(dayOf(window), 10)},
		attrSK: &types.AttributeValueMemberS{Value: fmt.Sprintf("%011d#%s", window.Unix(), key)},
	}
}

// indexAlert records a delivered alert in the day index of its window, for the retention window.
func (s *Store) indexAlert(ctx context.Context, key string, window time.Time) error {
	rule, rest, _ := strings.Cut(key, "|")
	secret, principal, _ := strings.Cut(rest, "|")
	_, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                aws.String(s.table),
		Key:                      alertIndexKey(key, window),
		UpdateExpression:         aws.String("SET #rl = :rl, #sn = :sn, #pr = :pr, #w = :w, #ttl = :ttl"),
		ExpressionAttributeNames: map[string]string{"#rl": attrRule, "#sn": attrSecretName, "#pr": attrPrincipal, "#w": attrWindow, "#ttl": attrTTL},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":rl":  &types.AttributeValueMemberS{Value: bound.Text(rule, 256)},
			":sn":  &types.AttributeValueMemberS{Value: bound.Text(secret, maxAttrText)},
			":pr":  &types.AttributeValueMemberS{Value: bound.Text(principal, maxAttrText)},
			":w":   &types.AttributeValueMemberN{Value: strconv.FormatInt(window.Unix(), 10)},
			":ttl": &types.AttributeValueMemberN{Value: strconv.FormatInt(s.dayTTL(dayOf(window)), 10)},
		},
	})
	if err != nil {
		return fmt.Errorf("baseline: dynamodb alert index %s: %w", bound.Text(key, 200), err)
	}
	return nil
}

// Alerts implements report.Source: one Query per day of the period.
func (s *Store) Alerts(ctx context.Context, from, to time.Time, yield func(report.AlertRow) error) error {
	// Not bound to the latest event hour: alerts are claimed without a Record.
	lo := dayOf(s.now()) - s.retH/24 - 1
	if !from.IsZero() {
		lo = max(lo, dayOf(from))
	}
	hi := min(dayOf(to.Add(-time.Nanosecond))+1, detector.Hour(s.now().Add(futureSkew))/24+1)
	for d := lo; d < hi; d++ {
		var rows []report.AlertRow
		err := s.query(ctx, pkQuery("X#"+strconv.FormatInt(d, 10), "", ""), func(item map[string]types.AttributeValue) {
			w := time.Unix(numAttr(item[attrWindow]), 0).UTC()
			if !w.Before(from) && w.Before(to) {
				rows = append(rows, report.AlertRow{Rule: strAttr(item[attrRule]), Secret: strAttr(item[attrSecretName]), Principal: strAttr(item[attrPrincipal]), Window: w})
			}
		})
		if err != nil {
			return fmt.Errorf("baseline: dynamodb report alerts: %w", err)
		}
		for _, r := range rows {
			if err := yield(r); err != nil {
				return err
			}
		}
	}
	return ctx.Err()
}
