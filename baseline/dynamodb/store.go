// Package dynamodb is the DynamoDB baseline store of secretwatch: a detector.Store and
// detector.Suppressor on one table, counting every read exactly once per CloudTrail eventID even
// when a batch is retried. The table design is in docs/dynamodb.md.
package dynamodb

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"maps"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"
	"golang.org/x/sync/errgroup"

	"github.com/secretwatch/secretwatch/baseline/internal/bound"
	"github.com/secretwatch/secretwatch/detector"
)

// The table design, request counts and staleness rules are in docs/dynamodb.md.

// dynamoAPI lists the DynamoDB calls Store makes; *dynamodb.Client satisfies it.
type dynamoAPI interface {
	UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
	GetItem(ctx context.Context, in *dynamodb.GetItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	Query(ctx context.Context, in *dynamodb.QueryInput, optFns ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error)
	CreateTable(ctx context.Context, in *dynamodb.CreateTableInput, optFns ...func(*dynamodb.Options)) (*dynamodb.CreateTableOutput, error)
	DescribeTable(ctx context.Context, in *dynamodb.DescribeTableInput, optFns ...func(*dynamodb.Options)) (*dynamodb.DescribeTableOutput, error)
}

// Item capacity (event IDs per item). An ID is stored as 22 (UUID) or 23 characters in a string
// set, so the largest item is (spillSoftIDs+maxWriteIDs) × 23 B ≈ 370 KB < 400 KB. Variables
// only so that tests can shrink them.
var (
	shardSoftIDs int64 = 4096  // an hour shard stops taking IDs once it holds this many (it "freezes")
	spillSoftIDs int64 = 10000 // same for per-minute and per-second spill items
	maxWriteIDs        = 6000  // IDs added by one optimistic write
)

const (
	maxCondIDs = 40 // IDs checked one by one in a contains() condition (expression limits)
	// maxItemRetries is how many condition failures in a row that taught nothing (no ID of the
	// group turned out to be there already: another writer changed the item meanwhile) one item
	// tolerates per Record before giving up. Between them the writer backs off (retryDelay).
	maxItemRetries = 16
	// maxOptimisticFailures: after that many failed optimistic writes to an item in one Record
	// (a hot item other writers keep changing), the rest of its group goes in contains mode,
	// whose condition names the IDs and so cannot be broken by concurrent writers.
	maxOptimisticFailures = 2
	settleDefault         = 15 * time.Minute
	parallelism           = 8
)

// Attribute names. The GSI projects gsi1Projection (never the ID set).
const (
	attrPK         = "pk"
	attrSK         = "sk"
	attrGSI1PK     = "gsi1pk"
	attrGSI1SK     = "gsi1sk"
	attrTTL        = "ttl"
	attrPrincipal  = "pr" // "" for the whole secret; bounded readable principal
	attrSecretName = "sn" // bounded readable secret, only on items whose key holds its digest
	attrHour       = "hr"
	attrReads      = "n"
	attrDenied     = "d"
	attrIDs        = "ev" // string set of encoded event IDs (reads and denied reads)
	attrFirst      = "f"  // "<unix nanos, 20 digits>|<eventID>" of the earliest successful read in the item
	attrLast       = "l"  // unix nanos of the latest successful read in the item
	attrCount      = "c"  // suppressor: occurrences
	attrDelivered  = "dl" // suppressor: delivered flag
	attrWindow     = "w"  // suppressor: window start, unix seconds
	gsi1Name       = "gsi1"
)

// slog attribute keys.
const (
	logKeyItem    = "item"
	logKeyCount   = "count"
	logKeyAttempt = "attempt"
)

var gsi1Projection = []string{attrPrincipal, attrHour, attrReads, attrDenied, attrFirst, attrLast}

// ErrBucketFull is returned (wrapped) when a per-second spill item is full: more than 10,000
// reads of one series in one second per shard (Secrets Manager's own limit is 10,000
// GetSecretValue per second per account and region). Raise Options.Shards.
var ErrBucketFull = errors.New("baseline: dynamodb bucket full")

// Options configures a Store. Table is required.
type Options struct {
	Table     string
	Retention time.Duration // baseline window; also the bucket TTL. Default 840h (35 days).
	// Shards is the number of hash shards per (series, hour) bucket. 1 (the default) keeps one
	// write per series and hour per batch; raise it only for series above ~10,000 reads/s.
	Shards int
	// SuppressWindow is the alert suppression window; alert items expire a day after it ends.
	// Default 1h.
	SuppressWindow time.Duration
	// Settle is how long after its end an hour can still change (late CloudTrail deliveries). A
	// cached hour read or written before then is read again once afterwards. Default 15m.
	Settle time.Duration
	Clock  func() time.Time // default time.Now
	Logger *slog.Logger     // default slog.Default()
}

// Store is the DynamoDB baseline store (detector.Store) and alert suppressor
// (detector.Suppressor). It is safe for concurrent use.
type Store struct {
	db     dynamoAPI
	table  string
	retH   int64 // retention in hours
	ret    time.Duration
	shards int
	supWin time.Duration
	settle time.Duration
	now    func() time.Time
	log    *slog.Logger

	mu      sync.Mutex
	secrets map[string]*secretCache
	tally   tallyFull // Tally sets known full (tally.go)

	rep reportState // what the weekly report needs (report.go)
}

var (
	_ detector.Store      = (*Store)(nil)
	_ detector.Suppressor = (*Store)(nil)
)

// New returns a store on table through client (a *dynamodb.Client).
func New(client dynamoAPI, opt Options) (*Store, error) {
	if client == nil {
		return nil, errors.New("baseline: dynamodb store: nil client")
	}
	if opt.Table == "" {
		return nil, errors.New("baseline: dynamodb store: no table name")
	}
	if opt.Retention == 0 {
		opt.Retention = 840 * time.Hour
	}
	if opt.Retention < time.Hour {
		return nil, fmt.Errorf("baseline: dynamodb store: retention %v is under an hour", opt.Retention)
	}
	if opt.Shards == 0 {
		opt.Shards = 1
	}
	if opt.Shards < 1 || opt.Shards > 999 {
		return nil, fmt.Errorf("baseline: dynamodb store: shards %d not in 1..999", opt.Shards)
	}
	if opt.SuppressWindow <= 0 {
		opt.SuppressWindow = time.Hour
	}
	if opt.Settle <= 0 {
		opt.Settle = settleDefault
	}
	if opt.Clock == nil {
		opt.Clock = time.Now
	}
	if opt.Logger == nil {
		opt.Logger = slog.Default()
	}
	return &Store{
		db:      client,
		table:   opt.Table,
		retH:    int64((opt.Retention + time.Hour - 1) / time.Hour),
		ret:     opt.Retention,
		shards:  opt.Shards,
		supWin:  opt.SuppressWindow,
		settle:  opt.Settle,
		now:     opt.Clock,
		log:     opt.Logger,
		secrets: map[string]*secretCache{},
	}, nil
}

// CreateTable creates the table (on-demand, pk/sk, GSI gsi1) and waits until it is active. An
// existing table is not an error. It does not enable TTL on attribute "ttl": Terraform does that
// in AWS (dynalite has no UpdateTimeToLive).
func (s *Store) CreateTable(ctx context.Context) error {
	str := types.ScalarAttributeTypeS
	_, err := s.db.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:   aws.String(s.table),
		BillingMode: types.BillingModePayPerRequest,
		AttributeDefinitions: []types.AttributeDefinition{
			{AttributeName: aws.String(attrPK), AttributeType: str},
			{AttributeName: aws.String(attrSK), AttributeType: str},
			{AttributeName: aws.String(attrGSI1PK), AttributeType: str},
			{AttributeName: aws.String(attrGSI1SK), AttributeType: str},
		},
		KeySchema: []types.KeySchemaElement{
			{AttributeName: aws.String(attrPK), KeyType: types.KeyTypeHash},
			{AttributeName: aws.String(attrSK), KeyType: types.KeyTypeRange},
		},
		GlobalSecondaryIndexes: []types.GlobalSecondaryIndex{{
			IndexName: aws.String(gsi1Name),
			KeySchema: []types.KeySchemaElement{
				{AttributeName: aws.String(attrGSI1PK), KeyType: types.KeyTypeHash},
				{AttributeName: aws.String(attrGSI1SK), KeyType: types.KeyTypeRange},
			},
			Projection: &types.Projection{
				ProjectionType:   types.ProjectionTypeInclude,
				NonKeyAttributes: gsi1Projection,
			},
		}},
	})
	if _, inUse := errors.AsType[*types.ResourceInUseException](err); err != nil && !inUse {
		return fmt.Errorf("baseline: dynamodb create table %s: %w", s.table, err)
	}
	for {
		out, err := s.db.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(s.table)})
		if err != nil {
			return fmt.Errorf("baseline: dynamodb describe table %s: %w", s.table, err)
		}
		if out.Table != nil && out.Table.TableStatus == types.TableStatusActive {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("baseline: dynamodb create table %s: %w", s.table, ctx.Err())
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// ---- keys ----

// esc makes a key component safe to join with '#'.
func esc(s string) string {
	if !strings.ContainsAny(s, "#%") {
		return s
	}
	return strings.NewReplacer("%", "%25", "#", "%23").Replace(s)
}

// Key sizes. DynamoDB refuses a partition key over 2,048 bytes and a sort key over 1,024 (base
// table and GSI alike), and every part of a key comes from a CloudTrail record, which anyone in
// the account can fill with a denied call. A key part longer than maxKeyPart (escaped) is
// therefore replaced by "%~" and the base64url SHA-256 of the raw value (45 bytes): no escaped
// part can start with "%~" ('%' is always escaped as %25), so the two forms never meet. The
// readable value is kept, bounded to maxAttrText, in an attribute (pr, sn).
// Largest keys: pk "H#" + 512 + "#" + 512 + "#" + hour ≈ 1,045 B; gsi1sk 11 + 512 + 1 + 9 = 533 B;
// gsi1pk 514 B; alert pk "A#" + maxAlertKey = 1,026 B.
const (
	maxKeyPart  = 512
	maxAlertKey = 1024
	maxAttrText = 2048
)

// keyPart is the form of a secret or principal inside keys: escaped, and digested when long.
func keyPart(s string) string {
	if e := esc(s); len(e) <= maxKeyPart {
		return e
	}
	return digestPart(s)
}

func digestPart(s string) string {
	sum := sha256.Sum256([]byte(s))
	return "%~" + base64.RawURLEncoding.EncodeToString(sum[:])
}

// digested reports whether a key part is a digest (the readable value is in an attribute).
func digested(part string) bool { return strings.HasPrefix(part, "%~") }

// itemKey names one counter item (secret and principal in their key form, see keyPart): a bucket shard of an hour (level 0), a per-minute spill item of a
// full shard (level 1, sub = minute of the hour) or a per-second spill item of a full minute item
// (level 2, sub = second of the hour).
type itemKey struct {
	secret, principal string
	hour              int64
	shard             int
	lvl, sub          int
}

func (k itemKey) pk() string {
	return "H#" + k.secret + "#" + k.principal + "#" + strconv.FormatInt(k.hour, 10)
}

func (k itemKey) sk() string {
	switch k.lvl {
	case 0:
		return fmt.Sprintf("%03d", k.shard)
	case 1:
		return fmt.Sprintf("%03d#m%02d", k.shard, k.sub)
	default:
		return fmt.Sprintf("%03d#s%04d", k.shard, k.sub)
	}
}

// gsi1PK is the index partition of a secret (in its key form).
func gsi1PK(secret string) string { return "S#" + secret }

func (k itemKey) gsi1SK() string {
	return fmt.Sprintf("%010d#%s#%s", k.hour, k.principal, k.sk())
}

// parseGSI1SK inverts gsi1SK ("<hour>#<principal>#<shard>[#m<minute>|#s<second>]"): the
// principal in its key form (which never contains '#').
func parseGSI1SK(secret, sk string) (itemKey, bool) {
	k := itemKey{secret: secret}
	parts := strings.Split(sk, "#")
	if len(parts) != 3 && len(parts) != 4 {
		return k, false
	}
	k.principal = parts[1]
	var err error
	if k.hour, err = strconv.ParseInt(parts[0], 10, 64); err != nil {
		return k, false
	}
	if k.shard, err = strconv.Atoi(parts[2]); err != nil {
		return k, false
	}
	if len(parts) == 4 {
		if len(parts[3]) < 2 {
			return k, false
		}
		switch parts[3][0] {
		case 'm':
			k.lvl = 1
		case 's':
			k.lvl = 2
		default:
			return k, false
		}
		if k.sub, err = strconv.Atoi(parts[3][1:]); err != nil {
			return k, false
		}
	}
	return k, true
}

// encodeEventID returns the compact form kept in the ID set: a lowercase UUID as the 22-character
// base64url of its 16 bytes; anything else as "~" and the base64url of the first 16 bytes of its
// SHA-256. (A string set, not a binary one: dynalite compares binary set members as UTF-8 text.)
func encodeEventID(id string) string {
	if b, ok := parseUUID(id); ok {
		return base64.RawURLEncoding.EncodeToString(b[:])
	}
	sum := sha256.Sum256([]byte(id))
	return "~" + base64.RawURLEncoding.EncodeToString(sum[:16])
}

func parseUUID(s string) ([16]byte, bool) {
	var b [16]byte
	if len(s) != 36 || s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-' {
		return b, false
	}
	h := s[0:8] + s[9:13] + s[14:18] + s[19:23] + s[24:36]
	if strings.ToLower(h) != h {
		return b, false
	}
	if _, err := hex.Decode(b[:], []byte(h)); err != nil {
		return b, false
	}
	return b, true
}

func shardOf(enc string, n int) int {
	if n <= 1 {
		return 0
	}
	h := fnv.New32a()
	h.Write([]byte(enc))
	return int(h.Sum32() % uint32(n))
}

func firstKey(t time.Time, eventID string) string {
	return fmt.Sprintf("%020d|%s", t.UnixNano(), eventID)
}

// ---- cache ----

// itemState is what this process knows of one counter item. ids, when not nil, is the complete
// ID set as of the response it came from (maps are replaced, never changed in place).
type itemState struct {
	key     itemKey
	exists  bool
	n, d    int64
	first   string
	last    int64
	ids     map[string]struct{}
	frozen  bool
	settled bool // read or written after its hour settled: no later re-read needed
}

type secretCache struct {
	loadedFrom int64 // lowest hour loaded from the index; loaded == true
	loaded     bool
	items      map[itemKey]*itemState
	byPrin     map[string]map[itemKey]*itemState
}

func (c *secretCache) put(st *itemState) {
	c.items[st.key] = st
	m := c.byPrin[st.key.principal]
	if m == nil {
		m = map[itemKey]*itemState{}
		c.byPrin[st.key.principal] = m
	}
	m[st.key] = st
}

func (s *Store) cacheFor(secret string) *secretCache {
	c := s.secrets[secret]
	if c == nil {
		c = &secretCache{items: map[itemKey]*itemState{}, byPrin: map[string]map[itemKey]*itemState{}}
		s.secrets[secret] = c
	}
	return c
}

func (s *Store) settledAt(hour int64) time.Time {
	return time.Unix((hour+1)*3600, 0).Add(s.settle)
}

// stateFromItem builds an itemState from a full item (ids included when the item has them).
func (s *Store) stateFromItem(k itemKey, item map[string]types.AttributeValue, withIDs bool) *itemState {
	st := &itemState{key: k, exists: len(item) > 0}
	st.settled = !s.now().Before(s.settledAt(k.hour))
	st.n = numAttr(item[attrReads])
	st.d = numAttr(item[attrDenied])
	st.last = numAttr(item[attrLast])
	if v, ok := item[attrFirst].(*types.AttributeValueMemberS); ok {
		st.first = v.Value
	}
	if withIDs {
		st.ids = map[string]struct{}{}
		if v, ok := item[attrIDs].(*types.AttributeValueMemberSS); ok {
			for _, id := range v.Value {
				st.ids[id] = struct{}{}
			}
		}
	}
	st.frozen = st.n+st.d >= softIDs(k)
	return st
}

func softIDs(k itemKey) int64 {
	if k.lvl > 0 {
		return spillSoftIDs
	}
	return shardSoftIDs
}

func numAttr(v types.AttributeValue) int64 {
	n, ok := v.(*types.AttributeValueMemberN)
	if !ok {
		return 0
	}
	i, _ := strconv.ParseInt(n.Value, 10, 64)
	return i
}

// load reads the secret's items of hours >= from through the index (counts only, no IDs).
func (s *Store) load(ctx context.Context, secret string, from, to int64) ([]*itemState, error) {
	var out []*itemState
	in := &dynamodb.QueryInput{
		TableName:              aws.String(s.table),
		IndexName:              aws.String(gsi1Name),
		KeyConditionExpression: aws.String("#pk = :pk AND #sk BETWEEN :lo AND :hi"),
		ExpressionAttributeNames: map[string]string{
			"#pk": attrGSI1PK, "#sk": attrGSI1SK,
		},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk": &types.AttributeValueMemberS{Value: gsi1PK(secret)},
			":lo": &types.AttributeValueMemberS{Value: fmt.Sprintf("%010d#", from)},
			":hi": &types.AttributeValueMemberS{Value: fmt.Sprintf("%010d$", to)},
		},
	}
	for {
		res, err := s.db.Query(ctx, in)
		if err != nil {
			return nil, fmt.Errorf("baseline: dynamodb query %s: %w", gsi1PK(secret), err)
		}
		for _, item := range res.Items {
			sk, _ := item[attrGSI1SK].(*types.AttributeValueMemberS)
			if sk == nil {
				continue
			}
			k, ok := parseGSI1SK(secret, sk.Value)
			if !ok {
				continue
			}
			out = append(out, s.stateFromItem(k, item, false))
		}
		if len(res.LastEvaluatedKey) == 0 {
			return out, nil
		}
		in.ExclusiveStartKey = res.LastEvaluatedKey
	}
}

// prepare makes sure the cache of secret covers hours >= from, and re-reads hours that were
// cached before they settled and have settled since.
func (s *Store) prepare(ctx context.Context, secret string, from int64) error {
	now := s.now()
	s.mu.Lock()
	c := s.cacheFor(secret)
	var lo, hi int64
	need := false
	var refresh []int64
	switch {
	case !c.loaded:
		lo, hi, need = from, 1<<40, true
	case from < c.loadedFrom:
		lo, hi, need = from, c.loadedFrom-1, true
	}
	if c.loaded {
		for k, st := range c.items {
			if !st.settled && !now.Before(s.settledAt(k.hour)) {
				refresh = append(refresh, k.hour)
			}
		}
	}
	s.mu.Unlock()

	if need {
		sts, err := s.load(ctx, secret, lo, hi)
		if err != nil {
			return err
		}
		s.mu.Lock()
		for _, st := range sts {
			if c.items[st.key] == nil {
				c.put(st)
			}
		}
		if !c.loaded || lo < c.loadedFrom {
			c.loadedFrom = lo
		}
		c.loaded = true
		s.mu.Unlock()
	}
	if len(refresh) > 0 {
		rlo, rhi := slices.Min(refresh), slices.Max(refresh)
		sts, err := s.load(ctx, secret, rlo, rhi)
		if err != nil {
			return err
		}
		s.mu.Lock()
		seen := map[itemKey]bool{}
		for _, st := range sts {
			seen[st.key] = true
			old := c.items[st.key]
			if old != nil && old.n+old.d == st.n+st.d {
				st.ids, st.frozen = old.ids, old.frozen // unchanged: keep the known IDs
			}
			st.settled = true
			c.put(st)
		}
		for k, st := range c.items {
			if k.hour >= rlo && k.hour <= rhi && !seen[k] {
				st.settled = true // the index lags, or the item is ours and new: keep what we have
			}
		}
		s.mu.Unlock()
	}
	return nil
}

// ---- Record ----

type entry struct {
	idx     int // first index in reads
	enc     string
	read    detector.Read
	itemKey [2]itemKey // whole secret, principal
}

// Record implements detector.Store. See docs/dynamodb.md for the protocol.
func (s *Store) Record(ctx context.Context, reads []detector.Read) (detector.Recorded, error) {
	rec := detector.Recorded{Fresh: make([]bool, len(reads)), Series: map[detector.SeriesKey]*detector.Series{}}
	if len(reads) == 0 {
		return rec, nil
	}
	// De-duplicate inside the call: the first read of an EventID is the one recorded.
	byID := map[string]*entry{}
	var entries []*entry
	alias := make([]*entry, len(reads))
	minHour := map[string]int64{}
	for i, r := range reads {
		if r.EventID == "" || r.Secret == "" {
			return detector.Recorded{}, fmt.Errorf("baseline: dynamodb record: read %d has no event ID or secret: %w", i, detector.ErrUnstorable)
		}
		if e := byID[r.EventID]; e != nil {
			alias[i] = e
			continue
		}
		enc := encodeEventID(r.EventID)
		h := detector.Hour(r.Time)
		sh := shardOf(enc, s.shards)
		e := &entry{idx: i, enc: enc, read: r}
		sec := keyPart(r.Secret)
		e.itemKey[0] = itemKey{secret: sec, hour: h, shard: sh}
		e.itemKey[1] = itemKey{secret: sec, principal: keyPart(r.Principal), hour: h, shard: sh}
		byID[r.EventID] = e
		alias[i] = e
		entries = append(entries, e)
		if m, ok := minHour[sec]; !ok || h < m {
			minHour[sec] = h
		}
	}

	// Load (or refresh) what we know of each secret, in parallel.
	secrets := slices.Sorted(maps.Keys(minHour))
	if err := forEach(ctx, secrets, func(ctx context.Context, sec string) error {
		return s.prepare(ctx, sec, minHour[sec]-s.retH)
	}); err != nil {
		return detector.Recorded{}, err
	}

	// Group by item and write each item's group: items in parallel, one item sequentially. The
	// whole-secret items go first, the principal items after them, so a read is in its principal
	// item only once it is in both: Fresh is "new to the principal item" (or to the whole-secret
	// item for a read without principal), which exactly one Record in the world ever sees, even
	// when several instances record the same read at the same time or a retry completes it.
	var phases [2]map[itemKey][]*entry
	for p := range phases {
		phases[p] = map[itemKey][]*entry{}
	}
	for _, e := range entries {
		phases[0][e.itemKey[0]] = append(phases[0][e.itemKey[0]], e)
		if e.itemKey[1] != e.itemKey[0] {
			phases[1][e.itemKey[1]] = append(phases[1][e.itemKey[1]], e)
		}
	}
	var freshMu sync.Mutex
	fresh := map[*entry]bool{}
	for p, groups := range phases {
		keys := slices.SortedFunc(maps.Keys(groups), compareItemKeys)
		err := forEach(ctx, keys, func(ctx context.Context, k itemKey) error {
			added, err := s.writeItem(ctx, k, groups[k])
			freshMu.Lock()
			for _, e := range added {
				if p == 1 || e.itemKey[1] == e.itemKey[0] {
					fresh[e] = true
				}
			}
			freshMu.Unlock()
			return err
		})
		if err != nil {
			return detector.Recorded{}, err
		}
	}
	if err := s.recordReport(ctx, entries); err != nil {
		return detector.Recorded{}, err
	}
	for i, e := range alias {
		rec.Fresh[i] = e.idx == i && fresh[e]
	}

	// Series of every key touched.
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, e := range entries {
		for _, sk := range []detector.SeriesKey{{Secret: e.read.Secret}, {Secret: e.read.Secret, Principal: e.read.Principal}} {
			if rec.Series[sk] == nil {
				rec.Series[sk] = s.seriesLocked(sk)
			}
		}
	}
	for _, sec := range secrets {
		s.pruneLocked(s.secrets[sec])
	}
	return rec, nil
}

func compareItemKeys(a, b itemKey) int {
	if c := strings.Compare(a.secret, b.secret); c != 0 {
		return c
	}
	if c := strings.Compare(a.principal, b.principal); c != 0 {
		return c
	}
	if a.hour != b.hour {
		return int(a.hour - b.hour)
	}
	if a.shard != b.shard {
		return a.shard - b.shard
	}
	if a.lvl != b.lvl {
		return a.lvl - b.lvl
	}
	return a.sub - b.sub
}

// seriesLocked derives a Series from the cached items of sk's series: the hours inside the
// retention window that ends at the series' latest hour.
func (s *Store) seriesLocked(sk detector.SeriesKey) *detector.Series {
	out := &detector.Series{Hours: map[int64]int64{}}
	c := s.secrets[keyPart(sk.Secret)]
	if c == nil {
		return out
	}
	items := c.byPrin[keyPart(sk.Principal)]
	latest := s.latestHour(items)
	var first string
	var last int64
	for k, st := range items {
		if k.hour <= latest-s.retH || k.hour > latest || !st.exists {
			continue
		}
		out.Reads += st.n
		out.Denied += st.d
		if st.n > 0 {
			out.Hours[k.hour] += st.n
		}
		if st.first != "" && (first == "" || st.first < first) {
			first = st.first
		}
		last = max(last, st.last)
	}
	if first != "" {
		ns, id, _ := strings.Cut(first, "|")
		n, _ := strconv.ParseInt(ns, 10, 64)
		out.FirstSeen = time.Unix(0, n).UTC()
		out.FirstEventID = id
	}
	if last != 0 {
		out.LastSeen = time.Unix(0, last).UTC()
	}
	return out
}

// futureSkew is how far past the clock an item's hour may move a secret's "now": the window a
// Series covers and what the cache keeps. Event times come from records anyone can forge; one
// dated 2099 must not push a secret's real hours out of its window (they would vanish from its
// Series and the cache, and every later Record would query the index again). Items later than
// that are stored and counted but not part of any Series until their hour comes.
const futureSkew = time.Hour

// latestHour is the latest hour of items, capped at the clock plus futureSkew.
func (s *Store) latestHour(items map[itemKey]*itemState) int64 {
	capH := detector.Hour(s.now().Add(futureSkew))
	latest := int64(-1 << 62)
	for k := range items {
		latest = max(latest, min(k.hour, capH))
	}
	return latest
}

// pruneLocked drops items outside the retention window and the ID sets of items more than one
// hour behind the secret's latest hour (they are re-learnt by the next write that needs them).
func (s *Store) pruneLocked(c *secretCache) {
	if c == nil {
		return
	}
	latest := s.latestHour(c.items)
	for k, st := range c.items {
		switch {
		case k.hour <= latest-s.retH-1, k.hour > latest+1: // too old, or dated in the future
			delete(c.items, k)
			delete(c.byPrin[k.principal], k)
		case k.hour < latest-1:
			st.ids = nil
		}
	}
	if from := latest - s.retH; from > c.loadedFrom {
		c.loadedFrom = from
	}
}

// forEach runs fn for every element, at most `parallelism` at a time, and returns the first error
// (the others are cancelled through ctx).
func forEach[T any](ctx context.Context, xs []T, fn func(context.Context, T) error) error {
	if len(xs) == 1 {
		return fn(ctx, xs[0])
	}
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(parallelism)
	for _, x := range xs {
		g.Go(func() error { return fn(ctx, x) })
	}
	return g.Wait()
}

// snapshot returns a copy of the cached state of k (zero state, unknown, when absent).
func (s *Store) snapshot(k itemKey) (itemState, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.cacheFor(k.secret)
	st := c.items[k]
	if st == nil {
		// Absent from a loaded cache: most likely a new item. ids = {} lets a large group go
		// optimistic at once; the condition attribute_not_exists(pk) catches the other case.
		if c.loaded && k.hour >= c.loadedFrom {
			return itemState{key: k, ids: map[string]struct{}{}}, true
		}
		return itemState{key: k}, false
	}
	return *st, true
}

func (s *Store) store(st *itemState) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.cacheFor(st.key.secret)
	if old := c.items[st.key]; old != nil && st.ids == nil && old.n+old.d == st.n+st.d {
		st.ids = old.ids
	}
	c.put(st)
}

// writeItem records the group in item k and returns the entries that were new to it. Every
// request is one UpdateItem whose condition guarantees that none of the IDs it adds is present
// already, so an item's counts move together with its ID set: exact under any retry.
func (s *Store) writeItem(ctx context.Context, k itemKey, group []*entry) ([]*entry, error) {
	var added []*entry
	pending := group
	optimisticFailures := 0
	for failures := 0; len(pending) > 0; {
		st, _ := s.snapshot(k)
		if st.ids != nil {
			pending = slices.DeleteFunc(slices.Clone(pending), func(e *entry) bool { _, dup := st.ids[e.enc]; return dup })
			if len(pending) == 0 {
				break
			}
		}
		if st.frozen && st.ids != nil {
			if k.lvl == 2 {
				return added, fmt.Errorf("baseline: dynamodb record %s %s: %w", k.pk(), k.sk(), ErrBucketFull)
			}
			// A full item takes no more IDs, ever; new ones go to finer spill items (a full
			// shard to per-minute items, a full minute to per-second items), chosen by event
			// time, so a duplicate (same eventTime) always follows its first copy.
			s.log.DebugContext(ctx, "baseline: dynamodb item full, spilling",
				slog.String(logKeyItem, k.pk()+" "+k.sk()), slog.Int(logKeyCount, len(pending)))
			spill := map[int][]*entry{}
			for _, e := range pending {
				sub := int(e.read.Time.Unix() - k.hour*3600) // second of the hour
				if k.lvl == 0 {
					sub /= 60
				}
				spill[sub] = append(spill[sub], e)
			}
			for _, sub := range slices.Sorted(maps.Keys(spill)) {
				sk := k
				sk.lvl, sk.sub = k.lvl+1, sub
				got, err := s.writeItem(ctx, sk, spill[sub])
				added = append(added, got...)
				if err != nil {
					return added, err
				}
			}
			return added, nil
		}

		var chunk []*entry
		optimistic := st.ids != nil && !st.frozen && len(pending) > maxCondIDs && optimisticFailures < maxOptimisticFailures
		if optimistic {
			chunk = pending[:min(len(pending), maxWriteIDs)]
		} else {
			chunk = pending[:min(len(pending), maxCondIDs)]
		}
		in := s.updateInput(k, st, chunk, optimistic)
		out, err := s.db.UpdateItem(ctx, in)
		if err != nil {
			if _, ok := errors.AsType[*types.ConditionalCheckFailedException](err); !ok {
				return added, fmt.Errorf("baseline: dynamodb update %s %s: %w", bound.Text(k.pk(), 200), k.sk(), classify(err))
			}
			if optimistic {
				optimisticFailures++
			}
			ccf, _ := errors.AsType[*types.ConditionalCheckFailedException](err)
			item := ccf.Item
			if item == nil {
				// AWS returns the item (ReturnValuesOnConditionCheckFailure); dynalite does not.
				res, gerr := s.db.GetItem(ctx, &dynamodb.GetItemInput{
					TableName:      aws.String(s.table),
					Key:            keyOf(k),
					ConsistentRead: aws.Bool(true),
				})
				if gerr != nil {
					return added, fmt.Errorf("baseline: dynamodb get %s %s: %w", k.pk(), k.sk(), gerr)
				}
				item = res.Item
			}
			learnt := s.stateFromItem(k, item, true)
			s.store(learnt)
			if learnt.frozen || slices.ContainsFunc(chunk, func(e *entry) bool { _, dup := learnt.ids[e.enc]; return dup }) {
				failures = 0 // duplicates found, or the item is full (spill): progress, go on at once
				continue
			}
			// Contention: another writer changed the item between our read and our write.
			failures++
			s.log.DebugContext(ctx, "baseline: dynamodb condition failed",
				slog.String(logKeyItem, k.pk()+" "+k.sk()), slog.Int(logKeyCount, len(pending)), slog.Int(logKeyAttempt, failures))
			if failures > maxItemRetries {
				return added, fmt.Errorf("baseline: dynamodb update %s %s: %d conditional failures in a row: %w", k.pk(), k.sk(), failures, err)
			}
			if err := sleepCtx(ctx, retryDelay(failures)); err != nil {
				return added, fmt.Errorf("baseline: dynamodb update %s %s: %w", k.pk(), k.sk(), err)
			}
			continue
		}
		s.store(s.stateFromItem(k, out.Attributes, true))
		added = append(added, chunk...)
		pending = pending[len(chunk):]
	}
	return added, nil
}

// Backoff between condition failures, following the AWS SDK retryer's conventions: exponential
// from retryBase, capped at retryCap, with full jitter (a uniform random delay in [0, bound)), so
// that writers contending for one hot item spread out instead of colliding again in lockstep.
var (
	retryBase = 5 * time.Millisecond
	retryCap  = 500 * time.Millisecond
)

// retryDelay is the delay before retry attempt n (1-based).
func retryDelay(n int) time.Duration {
	bound := retryCap
	if n < 30 {
		bound = min(retryCap, retryBase<<(n-1))
	}
	return rand.N(bound)
}

// sleepCtx waits d or until ctx is done.
func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

func keyOf(k itemKey) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{
		attrPK: &types.AttributeValueMemberS{Value: k.pk()},
		attrSK: &types.AttributeValueMemberS{Value: k.sk()},
	}
}

// updateInput builds the conditional UpdateItem that adds chunk to item k. Optimistic: st.ids is
// the item's complete ID set of size n+d, and the condition is that the set still has that size
// (sets only grow, so the same size means the same set). Otherwise each ID is checked with
// contains(), and the item must not be full.
func (s *Store) updateInput(k itemKey, st itemState, chunk []*entry, optimistic bool) *dynamodb.UpdateItemInput {
	var nReads, nDenied int64
	ids := make([]string, 0, len(chunk))
	var first string
	var last int64
	for _, e := range chunk {
		ids = append(ids, e.enc)
		if e.read.Denied {
			nDenied++
			continue
		}
		nReads++
		if f := firstKey(e.read.Time, e.read.EventID); first == "" || f < first {
			first = f
		}
		last = max(last, e.read.Time.UnixNano())
	}
	names := map[string]string{
		"#n": attrReads, "#d": attrDenied, "#ev": attrIDs, "#ttl": attrTTL, "#pr": attrPrincipal,
		"#hr": attrHour, "#g1pk": attrGSI1PK, "#g1sk": attrGSI1SK,
	}
	ttl := (k.hour+1)*3600 + int64(s.ret/time.Second)
	values := map[string]types.AttributeValue{
		":n":    &types.AttributeValueMemberN{Value: strconv.FormatInt(nReads, 10)},
		":d":    &types.AttributeValueMemberN{Value: strconv.FormatInt(nDenied, 10)},
		":ev":   &types.AttributeValueMemberSS{Value: ids},
		":ttl":  &types.AttributeValueMemberN{Value: strconv.FormatInt(ttl, 10)},
		":pr":   &types.AttributeValueMemberS{Value: readablePrincipal(k, chunk)},
		":hr":   &types.AttributeValueMemberN{Value: strconv.FormatInt(k.hour, 10)},
		":g1pk": &types.AttributeValueMemberS{Value: gsi1PK(k.secret)},
		":g1sk": &types.AttributeValueMemberS{Value: k.gsi1SK()},
	}
	update := "ADD #n :n, #d :d, #ev :ev SET #ttl = :ttl, #pr = :pr, #hr = :hr, #g1pk = :g1pk, #g1sk = :g1sk"
	if digested(k.secret) && len(chunk) > 0 {
		names["#sn"] = attrSecretName
		values[":sn"] = &types.AttributeValueMemberS{Value: bound.Text(chunk[0].read.Secret, maxAttrText)}
		update += ", #sn = :sn"
	}
	var conds []string
	if optimistic {
		if st.exists {
			conds = append(conds, "size(#ev) = :size")
			values[":size"] = &types.AttributeValueMemberN{Value: strconv.Itoa(len(st.ids))}
		} else {
			names["#pk"] = attrPK
			conds = append(conds, "attribute_not_exists(#pk)")
		}
	} else {
		conds = append(conds, "(attribute_not_exists(#ev) OR size(#ev) < :soft)")
		values[":soft"] = &types.AttributeValueMemberN{Value: strconv.FormatInt(softIDs(k), 10)}
		for i, id := range ids {
			v := ":i" + strconv.Itoa(i)
			conds = append(conds, "NOT contains(#ev, "+v+")")
			values[v] = &types.AttributeValueMemberS{Value: id}
		}
	}
	// FirstSeen is exact: the earliest "<nanos>|<eventID>" wins. Optimistic writes know the item
	// as it is (same ID set, same f); the others guard f with a condition.
	if first != "" && (st.first == "" || first < st.first) {
		names["#f"] = attrFirst
		values[":f"] = &types.AttributeValueMemberS{Value: first}
		update += ", #f = :f"
		if !optimistic {
			conds = append(conds, "(attribute_not_exists(#f) OR #f > :f)")
		}
	}
	// LastSeen follows the latest write that saw a later read than this process knows of.
	if last > st.last {
		names["#l"] = attrLast
		values[":l"] = &types.AttributeValueMemberN{Value: strconv.FormatInt(last, 10)}
		update += ", #l = :l"
	}
	return &dynamodb.UpdateItemInput{
		TableName:                           aws.String(s.table),
		Key:                                 keyOf(k),
		UpdateExpression:                    aws.String(update),
		ConditionExpression:                 aws.String(strings.Join(conds, " AND ")),
		ExpressionAttributeNames:            names,
		ExpressionAttributeValues:           values,
		ReturnValues:                        types.ReturnValueAllNew,
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	}
}

// readablePrincipal is the principal of item k as people read it (attribute pr), bounded.
func readablePrincipal(k itemKey, chunk []*entry) string {
	if k.principal == "" || len(chunk) == 0 {
		return ""
	}
	return bound.Text(chunk[0].read.Principal, maxAttrText)
}

// ---- Suppressor ----

// alertKey names the item of one alert window. An alert key longer than maxAlertKey (it holds a
// secret and a principal) is replaced by a digest, as in keyPart; "A#%~" never starts a short key,
// whose first part is a rule name.
func alertKey(key string, window time.Time) map[string]types.AttributeValue {
	if len(key) > maxAlertKey {
		key = digestPart(key)
	}
	return map[string]types.AttributeValue{
		attrPK: &types.AttributeValueMemberS{Value: "A#" + key},
		attrSK: &types.AttributeValueMemberS{Value: "W#" + strconv.FormatInt(window.Unix(), 10)},
	}
}

func (s *Store) alertTTL(window time.Time) string {
	return strconv.FormatInt(window.Add(s.supWin+24*time.Hour).Unix(), 10)
}

// Claim implements detector.Suppressor: one item per (alert key, window), ADD c :n.
func (s *Store) Claim(ctx context.Context, key string, window time.Time, n int64) (detector.AlertState, error) {
	out, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                aws.String(s.table),
		Key:                      alertKey(key, window),
		UpdateExpression:         aws.String("ADD #c :n SET #ttl = :ttl, #w = :w"),
		ExpressionAttributeNames: map[string]string{"#c": attrCount, "#ttl": attrTTL, "#w": attrWindow},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":n":   &types.AttributeValueMemberN{Value: strconv.FormatInt(n, 10)},
			":ttl": &types.AttributeValueMemberN{Value: s.alertTTL(window)},
			":w":   &types.AttributeValueMemberN{Value: strconv.FormatInt(window.Unix(), 10)},
		},
		ReturnValues: types.ReturnValueAllNew,
	})
	if err != nil {
		return detector.AlertState{}, fmt.Errorf("baseline: dynamodb claim %s: %w", key, err)
	}
	st := detector.AlertState{Count: numAttr(out.Attributes[attrCount])}
	if b, ok := out.Attributes[attrDelivered].(*types.AttributeValueMemberBOOL); ok {
		st.Delivered = b.Value
	}
	return st, nil
}

// MarkDelivered implements detector.Suppressor.
func (s *Store) MarkDelivered(ctx context.Context, key string, window time.Time) error {
	_, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                aws.String(s.table),
		Key:                      alertKey(key, window),
		UpdateExpression:         aws.String("SET #dl = :t, #ttl = :ttl, #w = :w"),
		ExpressionAttributeNames: map[string]string{"#dl": attrDelivered, "#ttl": attrTTL, "#w": attrWindow},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":t":   &types.AttributeValueMemberBOOL{Value: true},
			":ttl": &types.AttributeValueMemberN{Value: s.alertTTL(window)},
			":w":   &types.AttributeValueMemberN{Value: strconv.FormatInt(window.Unix(), 10)},
		},
	})
	if err != nil {
		return fmt.Errorf("baseline: dynamodb mark delivered %s: %w", key, err)
	}
	return s.indexAlert(ctx, key, window)
}

// classify marks the errors no retry can fix — DynamoDB refusing the request itself
// (ValidationException: a key or item it will never accept) — as detector.ErrUnstorable, so that
// the caller skips the read that caused it instead of retrying its batch for ever. Everything
// else (throttling, 5xx, a refused connection) stays retryable.
func classify(err error) error {
	if ae, ok := errors.AsType[smithy.APIError](err); ok && ae.ErrorCode() == "ValidationException" {
		return fmt.Errorf("%w: %w", detector.ErrUnstorable, err)
	}
	return err
}
