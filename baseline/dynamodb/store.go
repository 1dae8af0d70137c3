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

// Item capacity. Every counter item (a "chunk") freezes once it holds softIDs(key) event IDs, a
// limit computed from its key so that the item stays under itemBudget bytes: a write of one read
// to a chunk that is not frozen is then 1 write unit (DynamoDB bills the larger of the old and
// new item, 1 unit per KB). A batch write may carry many IDs into a chunk that is not frozen
// (it is frozen afterwards). Variables only so that tests can change them.
var (
	softOverride int64  // tests: one freeze limit for every chunk (0: computed per key)
	maxWriteIDs  = 6000 // IDs added by one optimistic write (≤ 6,000 × 23 B + 1 KB < 400 KB)
	maxChain     = 2000 // chain links under one second: ≥ 16,000 reads of one series in one second
)

const (
	itemBudget       = 1000 // bytes a chunk may reach through single writes (1 write unit = 1 KB)
	itemFixed        = 300  // its attributes other than the keys and the IDs, at most
	idBytes          = 23   // one encoded event ID in the string set
	softMin    int64 = 8
	softMax    int64 = 40
	maxCondIDs       = 40 // IDs checked one by one in a contains() condition (expression limits)
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

// Attribute names.
const (
	attrPK         = "pk"
	attrSK         = "sk"
	attrTTL        = "ttl"
	attrPrincipal  = "pr" // bounded readable principal, only where its key part is a digest
	attrSecretName = "sn" // bounded readable secret, only where its key part is a digest
	attrHour       = "hr"
	attrReads      = "n"
	attrDenied     = "d"
	attrIDs        = "ev" // string set of encoded event IDs (reads and denied reads)
	attrFirst      = "f"  // "<unix nanos, 20 digits>|<eventID>" of the earliest successful read in the item
	attrLast       = "l"  // unix nanos of the latest successful read in the item
	attrVersion    = "v"  // top chunk: bumped by late writes to the hour's spill chunks
	attrBuiltAt    = "bv" // top chunk: the version its roll-up (rn, rd, rf, rl) was built at
	attrRollReads  = "rn" // top chunk roll-up: the spill chunks' totals
	attrRollDenied = "rd"
	attrRollFirst  = "rf"
	attrRollLast   = "rl"
	attrCount      = "c"  // suppressor: occurrences
	attrDelivered  = "dl" // suppressor: delivered flag
	attrWindow     = "w"  // suppressor: window start, unix seconds
)

// slog attribute keys.
const (
	logKeyItem    = "item"
	logKeyCount   = "count"
	logKeyAttempt = "attempt"
)

// ErrBucketFull is returned (wrapped) when the chain of chunks under one second of one series is
// full (maxChain links: more than ~16,000 reads of one series in one second; Secrets Manager's
// own limit is 10,000 GetSecretValue per second per account and region).
var ErrBucketFull = errors.New("baseline: dynamodb bucket full")

// Options configures a Store. Table is required.
type Options struct {
	Table     string
	Retention time.Duration // baseline window; also the bucket TTL. Default 840h (35 days).
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
		supWin:  opt.SuppressWindow,
		settle:  opt.Settle,
		now:     opt.Clock,
		log:     opt.Logger,
		secrets: map[string]*secretCache{},
	}, nil
}

// CreateTable creates the table (on-demand, pk/sk, no secondary index) and waits until it is
// active. An existing table is not an error. It does not enable TTL on attribute "ttl":
// Terraform does that in AWS (dynalite has no UpdateTimeToLive).
func (s *Store) CreateTable(ctx context.Context) error {
	str := types.ScalarAttributeTypeS
	_, err := s.db.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:   aws.String(s.table),
		BillingMode: types.BillingModePayPerRequest,
		AttributeDefinitions: []types.AttributeDefinition{
			{AttributeName: aws.String(attrPK), AttributeType: str},
			{AttributeName: aws.String(attrSK), AttributeType: str},
		},
		KeySchema: []types.KeySchemaElement{
			{AttributeName: aws.String(attrPK), KeyType: types.KeyTypeHash},
			{AttributeName: aws.String(attrSK), KeyType: types.KeyTypeRange},
		},
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

// unesc inverts esc.
func unesc(s string) string {
	if !strings.Contains(s, "%") {
		return s
	}
	return strings.NewReplacer("%23", "#", "%25", "%").Replace(s)
}

// Key sizes. DynamoDB refuses a partition key over 2,048 bytes and a sort key over 1,024, and
// every part of a key comes from a CloudTrail record, which anyone in the account can fill with
// a denied call. A key part longer than maxKeyPart (escaped) is therefore replaced by "%~" and
// the base64url SHA-256 of the raw value (45 bytes): no escaped part can start with "%~" ('%' is
// always escaped as %25), so the two forms never meet. The readable value is kept, bounded to
// maxAttrText, in an attribute (pr, sn). Largest keys: top chunk sk 500 + "#H" + 10 + "#" +
// 500 = 1,013 B (pk "S#<bucket>"); spill pk "C#" + 500 + "#" + hour ≈ 510 B, sk 500 + 11 =
// 511 B; alert pk "A#" + maxAlertKey = 1,026 B.
const (
	maxKeyPart  = 500
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

// unknownPrincipal is the key part of the reads without a principal: their own series, which no
// escaped principal can produce ('%' is always escaped as %25).
const unknownPrincipal = "%-"

// principalPart is the key part of a principal ("" is the unknown principal).
func principalPart(p string) string {
	if p == "" {
		return unknownPrincipal
	}
	return keyPart(p)
}

func digestPart(s string) string {
	sum := sha256.Sum256([]byte(s))
	return "%~" + base64.RawURLEncoding.EncodeToString(sum[:])
}

// digested reports whether a key part is a digest (the readable value is in an attribute).
func digested(part string) bool { return strings.HasPrefix(part, "%~") }

// itemKey names one counter chunk of a (secret, principal, hour) — secret and principal in their
// key form: the top chunk (lvl 0), a per-minute spill chunk of a frozen top chunk (lvl 1, sub =
// minute of the hour), a per-second spill chunk of a frozen minute chunk (lvl 2, sub = second of
// the hour), and the chain of links under a frozen second chunk (lvl ≥ 3: link lvl−2 of second
// sub).
type itemKey struct {
	secret, principal string
	hour              int64
	lvl, sub          int
}

// hourKey names the series hour of a principal inside a secret's cache.
type hourKey struct {
	principal string
	hour      int64
}

func (k itemKey) hourKey() hourKey { return hourKey{principal: k.principal, hour: k.hour} }

func (k itemKey) top() itemKey {
	return itemKey{secret: k.secret, principal: k.principal, hour: k.hour}
}

func (k itemKey) pk() string {
	if k.lvl == 0 {
		return topPK(k.secret)
	}
	return spillPK(k.secret, k.hour)
}

func (k itemKey) sk() string {
	switch k.lvl {
	case 0:
		return topSK(k.secret, k.hour, k.principal)
	case 1:
		return fmt.Sprintf("%s#m%02d", k.principal, k.sub)
	case 2:
		return fmt.Sprintf("%s#s%04d", k.principal, k.sub)
	default:
		return fmt.Sprintf("%s#s%04d#%04d", k.principal, k.sub, k.lvl-2)
	}
}

// topBuckets is the number of partitions the top chunks are spread over. The report finds the
// secrets read in a period by querying them all, so no index item has to be written per
// secret (a write that a secret read once an hour would pay for).
const topBuckets = 16

// topPK is the partition of a secret's top chunks: one of topBuckets, by a hash of the secret
// (key form). One Query of it, on the secret's sort key range, loads the secret's baselines.
func topPK(secret string) string {
	h := fnv.New32a()
	h.Write([]byte(secret))
	return bucketPK(int(h.Sum32() % topBuckets))
}

func bucketPK(b int) string { return fmt.Sprintf("S#%02d", b) }

// spillPK is the partition of a secret's spill chunks of one hour (hot writes stay off S#).
func spillPK(secret string, hour int64) string {
	return "C#" + secret + "#" + strconv.FormatInt(hour, 10)
}

func topSK(secret string, hour int64, principal string) string {
	return fmt.Sprintf("%s#H%010d#%s", secret, hour, principal)
}

// topRange is the Query of secret's top chunks of hours [from, to].
func topRange(secret string, from, to int64) *dynamodb.QueryInput {
	return pkQuery(topPK(secret), fmt.Sprintf("%s#H%010d#", secret, from), fmt.Sprintf("%s#H%010d$", secret, to))
}

// parseTopSK inverts topSK ("<secret>#H<hour:10>#<principal>"): secret and principal in their
// key form (which never contains '#').
func parseTopSK(sk string) (itemKey, bool) {
	sec, rest, ok := strings.Cut(sk, "#")
	if !ok || !strings.HasPrefix(rest, "H") {
		return itemKey{}, false
	}
	h, prin, ok := strings.Cut(rest[1:], "#")
	if !ok || strings.Contains(prin, "#") {
		return itemKey{}, false
	}
	hour, err := strconv.ParseInt(h, 10, 64)
	if err != nil {
		return itemKey{}, false
	}
	return itemKey{secret: sec, principal: prin, hour: hour}, true
}

// softIDs is the freeze limit of chunk k, from its key alone (every writer computes the same):
// the number of IDs that keeps the chunk under itemBudget bytes, within [softMin, softMax].
func softIDs(k itemKey) int64 {
	if softOverride > 0 {
		return softOverride
	}
	fixed := itemFixed + len(k.pk()) + len(k.sk())
	if k.lvl == 0 {
		if digested(k.secret) {
			fixed += maxAttrText
		}
		if digested(k.principal) {
			fixed += maxAttrText
		}
	}
	return min(softMax, max(softMin, int64((itemBudget-fixed)/idBytes)))
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

func firstKey(t time.Time, eventID string) string {
	return fmt.Sprintf("%020d|%s", t.UnixNano(), eventID)
}

// ---- cache ----

// counts are what a chunk, a roll-up or a sum of chunks says about reads.
type counts struct {
	n, d  int64
	first string // "<nanos>|<eventID>" of the earliest successful read
	last  int64  // unix nanos of the latest successful read
}

func (c *counts) merge(o counts) {
	c.n += o.n
	c.d += o.d
	if o.first != "" && (c.first == "" || o.first < c.first) {
		c.first = o.first
	}
	c.last = max(c.last, o.last)
}

func countsOf(item map[string]types.AttributeValue, n, d, f, l string) counts {
	return counts{n: numAttr(item[n]), d: numAttr(item[d]), first: strAttr(item[f]), last: numAttr(item[l])}
}

// entryCounts are the counts of one read.
func entryCounts(e *entry) counts {
	if e.read.Denied {
		return counts{d: 1}
	}
	return counts{n: 1, first: firstKey(e.read.Time, e.read.EventID), last: e.read.Time.UnixNano()}
}

// itemState is what this process knows of one chunk. ids, when not nil, is the complete ID set
// as of the response it came from (maps are replaced, never changed in place).
type itemState struct {
	key    itemKey
	exists bool
	counts
	ids    map[string]struct{}
	frozen bool
}

// hourAgg is what this process knows of one (secret, principal, hour): the top chunk, the spill
// chunks' totals as loaded (roll-up or a Query of the chunks) and what this process added to
// spill chunks since.
type hourAgg struct {
	principal      string // readable ("" for the unknown principal); "" until known
	topExists      bool
	top, base, own counts
}

func (a *hourAgg) total() counts {
	t := a.top
	t.merge(a.base)
	t.merge(a.own)
	return t
}

type secretCache struct {
	loadedFrom int64 // lowest hour loaded; loaded == true
	loaded     bool
	items      map[itemKey]*itemState // the write path: chunks of recent hours
	byPrin     map[string]map[int64]*hourAgg
	unsettled  map[hourKey]bool // hours cached before they settled
	// stale: hours a failed Record wrote to, whose spill writes may have landed without this
	// process seeing the response: read again (spill chunks summed, not the roll-up) before the
	// next write, so that the retry's own additions are not missing from the totals.
	stale map[hourKey]bool
	// recentAt: when the open hours' top chunks were last read (recentEvery).
	recentAt time.Time
}

// recentEvery is how often a Record re-reads the top chunks of a secret's open hours (one
// Query), so that principals and top-chunk counts other instances wrote are seen.
const recentEvery = time.Minute

func (s *Store) cacheFor(secret string) *secretCache {
	c := s.secrets[secret]
	if c == nil {
		c = &secretCache{items: map[itemKey]*itemState{}, byPrin: map[string]map[int64]*hourAgg{}, unsettled: map[hourKey]bool{}, stale: map[hourKey]bool{}}
		s.secrets[secret] = c
	}
	return c
}

// aggLocked returns the hourAgg of hk, creating it (and noting whether its hour has settled).
func (s *Store) aggLocked(c *secretCache, hk hourKey) *hourAgg {
	m := c.byPrin[hk.principal]
	if m == nil {
		m = map[int64]*hourAgg{}
		c.byPrin[hk.principal] = m
	}
	a := m[hk.hour]
	if a == nil {
		a = &hourAgg{}
		m[hk.hour] = a
		if s.now().Before(s.settledAt(hk.hour)) {
			c.unsettled[hk] = true
		}
	}
	return a
}

func (s *Store) settledAt(hour int64) time.Time {
	return time.Unix((hour+1)*3600, 0).Add(s.settle)
}

// stateFromItem builds an itemState from a full item (ids included when the item has them).
func (s *Store) stateFromItem(k itemKey, item map[string]types.AttributeValue, withIDs bool) *itemState {
	st := &itemState{key: k, exists: len(item) > 0}
	st.counts = countsOf(item, attrReads, attrDenied, attrFirst, attrLast)
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

func numAttr(v types.AttributeValue) int64 {
	n, ok := v.(*types.AttributeValueMemberN)
	if !ok {
		return 0
	}
	i, _ := strconv.ParseInt(n.Value, 10, 64)
	return i
}

// rollupOf returns the roll-up a top chunk carries and whether it is valid (built at the
// chunk's current version: no late spill write since).
func rollupOf(item map[string]types.AttributeValue) (counts, bool) {
	bv, ok := item[attrBuiltAt].(*types.AttributeValueMemberN)
	if !ok || bv.Value != strconv.FormatInt(numAttr(item[attrVersion]), 10) {
		return counts{}, false
	}
	return countsOf(item, attrRollReads, attrRollDenied, attrRollFirst, attrRollLast), true
}

// readablePrincipal is the principal of a top chunk as people read it.
func readablePrincipal(part string, item map[string]types.AttributeValue) string {
	switch {
	case part == unknownPrincipal:
		return ""
	case digested(part):
		return strAttr(item[attrPrincipal])
	}
	return unesc(part)
}

// loadedHour is one (principal, hour) of a secret as load returns it.
type loadedHour struct {
	top       *itemState
	principal string
	spill     counts
}

// How load gets the spill totals of a frozen top chunk whose roll-up is not valid.
type loadMode int

const (
	loadBuild loadMode = iota // settled hour: build the roll-up (a write); open hour: sum
	loadRead                  // sum the spill chunks (no write: the report)
	loadExact                 // sum the spill chunks even when the roll-up is valid (stale hours)
)

// load reads the top chunks of secret for hours [from, to] (one Query, with their ID sets) and
// the spill totals of the frozen ones: the roll-up when valid; otherwise, for a settled hour, a
// roll-up built now (loadBuild: the store writes it) or the sum of the spill chunks (one Query
// each).
func (s *Store) load(ctx context.Context, secret string, from, to int64, mode loadMode) ([]*loadedHour, error) {
	var items []map[string]types.AttributeValue
	err := s.query(ctx, topRange(secret, from, to), func(item map[string]types.AttributeValue) {
		items = append(items, item)
	})
	if err != nil {
		return nil, fmt.Errorf("baseline: dynamodb query %s: %w", bound.Text(secret, 200), err)
	}
	return s.loadItems(ctx, items, mode)
}

// loadItems is load on top chunks already read.
func (s *Store) loadItems(ctx context.Context, items []map[string]types.AttributeValue, mode loadMode) ([]*loadedHour, error) {
	var out []*loadedHour
	var need []*loadedHour
	for _, item := range items {
		k, ok := parseTopSK(strAttr(item[attrSK]))
		if !ok {
			continue
		}
		lh := &loadedHour{top: s.stateFromItem(k, item, true), principal: readablePrincipal(k.principal, item)}
		out = append(out, lh)
		if !lh.top.frozen {
			continue // nothing spilled
		}
		if r, ok := rollupOf(item); ok && mode != loadExact {
			lh.spill = r
			continue
		}
		need = append(need, lh)
	}
	now := s.now()
	err := forEach(ctx, need, func(ctx context.Context, lh *loadedHour) error {
		var err error
		if mode == loadBuild && !now.Before(s.settledAt(lh.top.key.hour)) {
			lh.spill, err = s.buildRollup(ctx, lh.top.key)
		} else {
			// Consistent for the store's own cache (its writes completed before); the report
			// reads eventually consistent.
			lh.spill, err = s.sumSpill(ctx, lh.top.key, mode != loadRead)
		}
		return err
	})
	return out, err
}

// sumSpill sums the spill chunks of top chunk k (all pages of one Query).
func (s *Store) sumSpill(ctx context.Context, k itemKey, consistent bool) (counts, error) {
	var sum counts
	in := &dynamodb.QueryInput{
		KeyConditionExpression: aws.String("#pk = :pk AND begins_with(#sk, :p)"),
		ProjectionExpression:   aws.String("#n, #d, #f, #l"),
		ExpressionAttributeNames: map[string]string{
			"#pk": attrPK, "#sk": attrSK, "#n": attrReads, "#d": attrDenied, "#f": attrFirst, "#l": attrLast,
		},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk": &types.AttributeValueMemberS{Value: spillPK(k.secret, k.hour)},
			":p":  &types.AttributeValueMemberS{Value: k.principal + "#"},
		},
		ConsistentRead: aws.Bool(consistent),
	}
	err := s.query(ctx, in, func(item map[string]types.AttributeValue) {
		sum.merge(countsOf(item, attrReads, attrDenied, attrFirst, attrLast))
	})
	if err != nil {
		return sum, fmt.Errorf("baseline: dynamodb query %s: %w", bound.Text(spillPK(k.secret, k.hour), 200), err)
	}
	return sum, nil
}

// buildRollup builds the roll-up of a settled hour's top chunk k: read its version (consistent),
// sum the spill chunks (consistent Query), and write the sums with bv = the version read, under
// the condition that the version has not moved. A spill write that completed after the Query
// began completed after the hour settled, so its writer bumps the version (bumpVersion) after
// it: either before this write (the condition fails) or after it (bv ≠ v: the roll-up is
// invalid and built again by the next reader). Either way no valid roll-up misses a read.
func (s *Store) buildRollup(ctx context.Context, k itemKey) (counts, error) {
	res, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:            aws.String(s.table),
		Key:                  keyOf(k),
		ConsistentRead:       aws.Bool(true),
		ProjectionExpression: aws.String("#v"),
		ExpressionAttributeNames: map[string]string{
			"#v": attrVersion,
		},
	})
	if err != nil {
		return counts{}, fmt.Errorf("baseline: dynamodb get %s %s: %w", bound.Text(k.pk(), 200), bound.Text(k.sk(), 200), err)
	}
	_, hasV := res.Item[attrVersion]
	v := numAttr(res.Item[attrVersion])
	sum, err := s.sumSpill(ctx, k, true)
	if err != nil {
		return sum, err
	}
	names := map[string]string{"#pk": attrPK, "#v": attrVersion, "#bv": attrBuiltAt, "#rn": attrRollReads, "#rd": attrRollDenied}
	values := map[string]types.AttributeValue{
		":v":  &types.AttributeValueMemberN{Value: strconv.FormatInt(v, 10)},
		":rn": &types.AttributeValueMemberN{Value: strconv.FormatInt(sum.n, 10)},
		":rd": &types.AttributeValueMemberN{Value: strconv.FormatInt(sum.d, 10)},
	}
	update := "SET #bv = :v, #rn = :rn, #rd = :rd"
	cond := "attribute_exists(#pk) AND #v = :v"
	if !hasV {
		update += ", #v = :v"
		cond = "attribute_exists(#pk) AND attribute_not_exists(#v)"
	}
	if sum.first != "" {
		names["#rf"] = attrRollFirst
		values[":rf"] = &types.AttributeValueMemberS{Value: sum.first}
		update += ", #rf = :rf"
	}
	if sum.last != 0 {
		names["#rl"] = attrRollLast
		values[":rl"] = &types.AttributeValueMemberN{Value: strconv.FormatInt(sum.last, 10)}
		update += ", #rl = :rl"
	}
	_, err = s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 aws.String(s.table),
		Key:                       keyOf(k),
		UpdateExpression:          aws.String(update),
		ConditionExpression:       aws.String(cond),
		ExpressionAttributeNames:  names,
		ExpressionAttributeValues: values,
	})
	if _, ccf := errors.AsType[*types.ConditionalCheckFailedException](err); err != nil && !ccf {
		return sum, fmt.Errorf("baseline: dynamodb roll-up %s %s: %w", bound.Text(k.pk(), 200), bound.Text(k.sk(), 200), classify(err))
	}
	// On a failed condition a late write moved the version: the next reader builds again. The
	// sum is still what this process knows best.
	return sum, nil
}

// bumpVersion marks the roll-up of top chunk k invalid (a late write to its spill chunks).
func (s *Store) bumpVersion(ctx context.Context, k itemKey) error {
	_, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                aws.String(s.table),
		Key:                      keyOf(k),
		UpdateExpression:         aws.String("ADD #v :one"),
		ConditionExpression:      aws.String("attribute_exists(#pk)"),
		ExpressionAttributeNames: map[string]string{"#v": attrVersion, "#pk": attrPK},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":one": &types.AttributeValueMemberN{Value: "1"},
		},
	})
	if _, ccf := errors.AsType[*types.ConditionalCheckFailedException](err); err != nil && !ccf {
		return fmt.Errorf("baseline: dynamodb bump %s %s: %w", bound.Text(k.pk(), 200), bound.Text(k.sk(), 200), classify(err))
	}
	return nil
}

// putLoadedLocked stores what load returned. replace: a refresh (the loaded totals replace what
// the cache had, own additions included: they completed before the load).
func (s *Store) putLoadedLocked(c *secretCache, lhs []*loadedHour, replace bool) {
	for _, lh := range lhs {
		k := lh.top.key
		hk := k.hourKey()
		a := c.byPrin[hk.principal][hk.hour]
		if a != nil && !replace {
			continue // the cache knows it already (a write of this process)
		}
		a = s.aggLocked(c, hk)
		a.principal, a.topExists = lh.principal, true
		a.top, a.base, a.own = lh.top.counts, lh.spill, counts{}
		if old := c.items[k]; old == nil || old.n+old.d <= lh.top.n+lh.top.d {
			c.items[k] = lh.top
		}
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
	var stale []int64
	openFrom, openTo := detector.Hour(now.Add(-s.settle)), detector.Hour(now)
	recent := c.loaded && now.Sub(c.recentAt) >= recentEvery
	if c.loaded {
		for hk := range c.unsettled {
			if !now.Before(s.settledAt(hk.hour)) {
				refresh = append(refresh, hk.hour)
			}
		}
		for hk := range c.stale {
			stale = append(stale, hk.hour)
		}
	}
	s.mu.Unlock()

	if need {
		lhs, err := s.load(ctx, secret, lo, hi, loadBuild)
		if err != nil {
			return err
		}
		s.mu.Lock()
		s.putLoadedLocked(c, lhs, false)
		if !c.loaded || lo < c.loadedFrom {
			c.loadedFrom = lo
		}
		c.loaded = true
		c.recentAt = now
		s.mu.Unlock()
	}
	if recent && len(refresh) > 0 {
		// The settle refresh below reads the open hours too (a full load: tops and spill sums).
		refresh = append(refresh, openTo)
		recent = false
		defer func() { s.mu.Lock(); c.recentAt = now; s.mu.Unlock() }()
	}
	for _, r := range []struct {
		hours []int64
		mode  loadMode
		done  map[hourKey]bool
	}{{refresh, loadBuild, c.unsettled}, {stale, loadExact, c.stale}} {
		if len(r.hours) == 0 {
			continue
		}
		rlo, rhi := slices.Min(r.hours), slices.Max(r.hours)
		lhs, err := s.load(ctx, secret, rlo, rhi, r.mode)
		if err != nil {
			return err
		}
		s.mu.Lock()
		s.putLoadedLocked(c, lhs, true)
		for hk := range r.done {
			if hk.hour >= rlo && hk.hour <= rhi && (r.mode == loadExact || !now.Before(s.settledAt(hk.hour))) {
				delete(r.done, hk)
			}
		}
		s.mu.Unlock()
	}
	if recent {
		return s.refreshOpen(ctx, c, secret, openFrom, openTo, now)
	}
	return nil
}

// refreshOpen re-reads the top chunks of secret's open hours [from, to] (one Query): top-chunk
// counts that grew are taken over, and (principal, hour)s this instance did not know are added
// (with their spill sums when their top chunk is frozen). The spill totals of hours it knows stay
// as they are until the hour settles (docs/dynamodb.md, "Staleness").
func (s *Store) refreshOpen(ctx context.Context, c *secretCache, secret string, from, to int64, now time.Time) error {
	var items []map[string]types.AttributeValue
	if err := s.query(ctx, topRange(secret, from, to), func(item map[string]types.AttributeValue) {
		items = append(items, item)
	}); err != nil {
		return fmt.Errorf("baseline: dynamodb query %s: %w", bound.Text(secret, 200), err)
	}
	var unknown []map[string]types.AttributeValue
	s.mu.Lock()
	for _, item := range items {
		k, ok := parseTopSK(strAttr(item[attrSK]))
		if !ok {
			continue
		}
		a := c.byPrin[k.principal][k.hour]
		if a == nil {
			unknown = append(unknown, item)
			continue
		}
		st := s.stateFromItem(k, item, true)
		if !a.topExists || st.n+st.d > a.top.n+a.top.d {
			a.top, a.topExists = st.counts, true
		}
		if old := c.items[k]; old == nil || old.n+old.d < st.n+st.d {
			c.items[k] = st
		}
	}
	c.recentAt = now
	s.mu.Unlock()
	if len(unknown) == 0 {
		return nil
	}
	lhs, err := s.loadItems(ctx, unknown, loadRead)
	if err != nil {
		return err
	}
	s.mu.Lock()
	s.putLoadedLocked(c, lhs, false)
	s.mu.Unlock()
	return nil
}

// ---- Record ----

type entry struct {
	idx  int // first index in reads
	enc  string
	read detector.Read
	key  itemKey // its top chunk
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
		h := detector.Hour(r.Time)
		sec := keyPart(r.Secret)
		e := &entry{idx: i, enc: encodeEventID(r.EventID), read: r, key: itemKey{secret: sec, principal: principalPart(r.Principal), hour: h}}
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

	// Group by (secret, principal, hour) and write each group: groups in parallel, one group
	// sequentially. A read lives in exactly one chunk, so Fresh is "this call added it to its
	// chunk": exactly one Record in the world ever sees it, even when several instances record
	// the same read at the same time or a retry completes it.
	groups := map[itemKey][]*entry{}
	for _, e := range entries {
		groups[e.key] = append(groups[e.key], e)
	}
	var mu sync.Mutex
	fresh := map[*entry]bool{}
	var spilled []itemKey
	keys := slices.SortedFunc(maps.Keys(groups), compareItemKeys)
	err := forEach(ctx, keys, func(ctx context.Context, k itemKey) error {
		added, sp, err := s.writeItem(ctx, k, groups[k])
		mu.Lock()
		defer mu.Unlock()
		for _, e := range added {
			fresh[e] = true
		}
		if sp {
			spilled = append(spilled, k)
		}
		return err
	})
	if err != nil {
		// Some writes may have landed without their response: read those hours again first.
		s.mu.Lock()
		for k := range groups {
			s.cacheFor(k.secret).stale[k.hourKey()] = true
		}
		s.mu.Unlock()
		return detector.Recorded{}, err
	}
	// Late spill writes invalidate the hour's roll-up (see buildRollup). Every Record that routes
	// reads to spill chunks of a late hour bumps, whether it added them or found them there: a
	// retry after a crash between the spill write and the bump bumps then.
	late := slices.DeleteFunc(spilled, func(k itemKey) bool {
		return s.now().Before(s.settledAt(k.hour).Add(-s.settle / 2))
	})
	if err := forEach(ctx, late, s.bumpVersion); err != nil {
		return detector.Recorded{}, err
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
	if a.lvl != b.lvl {
		return a.lvl - b.lvl
	}
	return a.sub - b.sub
}

// seriesLocked derives a Series from the cache: the hours inside the retention window that ends
// at the series' latest hour. The whole secret (Principal "") is the sum of its principals'
// series (the unknown principal's included).
func (s *Store) seriesLocked(sk detector.SeriesKey) *detector.Series {
	out := &detector.Series{Hours: map[int64]int64{}}
	c := s.secrets[keyPart(sk.Secret)]
	if c == nil {
		return out
	}
	var aggs []map[int64]*hourAgg
	if sk.Principal == "" {
		aggs = slices.Collect(maps.Values(c.byPrin))
	} else {
		aggs = []map[int64]*hourAgg{c.byPrin[principalPart(sk.Principal)]}
	}
	capH := detector.Hour(s.now().Add(futureSkew))
	latest := int64(-1 << 62)
	for _, m := range aggs {
		for h := range m {
			latest = max(latest, min(h, capH))
		}
	}
	var total counts
	for _, m := range aggs {
		for h, a := range m {
			if h <= latest-s.retH || h > latest {
				continue
			}
			t := a.total()
			total.merge(t)
			if t.n > 0 {
				out.Hours[h] += t.n
			}
		}
	}
	out.Reads, out.Denied = total.n, total.d
	if total.first != "" {
		ns, id, _ := strings.Cut(total.first, "|")
		n, _ := strconv.ParseInt(ns, 10, 64)
		out.FirstSeen = time.Unix(0, n).UTC()
		out.FirstEventID = id
	}
	if total.last != 0 {
		out.LastSeen = time.Unix(0, total.last).UTC()
	}
	return out
}

// futureSkew is how far past the clock an item's hour may move a secret's "now": the window a
// Series covers and what the cache keeps. Event times come from records anyone can forge; one
// dated 2099 must not push a secret's real hours out of its window (they would vanish from its
// Series and the cache, and every later Record would query the table again). Items later than
// that are stored and counted but not part of any Series until their hour comes.
const futureSkew = time.Hour

// pruneLocked drops hours outside the retention window, and the write-path state (ID sets) of
// chunks more than one hour behind the secret's latest hour (re-learnt by the next write that
// needs them).
func (s *Store) pruneLocked(c *secretCache) {
	if c == nil {
		return
	}
	capH := detector.Hour(s.now().Add(futureSkew))
	latest := int64(-1 << 62)
	for _, m := range c.byPrin {
		for h := range m {
			latest = max(latest, min(h, capH))
		}
	}
	for p, m := range c.byPrin {
		for h := range m {
			if h <= latest-s.retH-1 || h > latest+1 { // too old, or dated in the future
				delete(m, h)
				delete(c.unsettled, hourKey{principal: p, hour: h})
				delete(c.stale, hourKey{principal: p, hour: h})
			}
		}
		if len(m) == 0 {
			delete(c.byPrin, p)
		}
	}
	for k := range c.items {
		if k.hour < latest-1 || k.hour > latest+1 {
			delete(c.items, k)
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

// snapshot returns a copy of the cached state of chunk k (unknown: ids nil, when absent).
func (s *Store) snapshot(k itemKey) itemState {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.cacheFor(k.secret)
	if st := c.items[k]; st != nil {
		return *st
	}
	if k.lvl == 0 {
		if a := c.byPrin[k.principal][k.hour]; a != nil && a.topExists {
			return itemState{key: k, exists: true, counts: a.top, frozen: a.top.n+a.top.d >= softIDs(k)}
		}
		// Absent from a loaded cache: most likely a new item. ids = {} lets a large group go
		// optimistic at once; the condition attribute_not_exists(pk) catches the other case.
		if c.loaded && k.hour >= c.loadedFrom {
			return itemState{key: k, ids: map[string]struct{}{}}
		}
		return itemState{key: k}
	}
	// A spill chunk this process does not know: most likely new too (it is written once its
	// parent is frozen). Only a group over maxCondIDs acts on that belief (one optimistic write
	// under attribute_not_exists(pk)); when wrong, the failed condition teaches the chunk.
	return itemState{key: k, ids: map[string]struct{}{}}
}

// store keeps what a response said about chunk k; added are the reads the response's write
// added (spill chunks: this process's own additions to the hour's spill totals).
func (s *Store) store(st *itemState, added []*entry) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.cacheFor(st.key.secret)
	if old := c.items[st.key]; old != nil && st.ids == nil && old.n+old.d == st.n+st.d {
		st.ids = old.ids
	}
	c.items[st.key] = st
	a := s.aggLocked(c, st.key.hourKey())
	if st.key.lvl == 0 {
		if st.exists && (!a.topExists || a.top.n+a.top.d <= st.n+st.d) {
			a.top, a.topExists = st.counts, true
		}
		if a.principal == "" && len(added) > 0 {
			a.principal = added[0].read.Principal
		}
		return
	}
	for _, e := range added {
		a.own.merge(entryCounts(e))
	}
}

// writeItem records the group in chunk k (and, once k is frozen, in its spill chunks) and returns
// the entries that were new, and whether any went to spill chunks. Every request is one
// UpdateItem whose condition guarantees that none of the IDs it adds is present already, so a
// chunk's counts move together with its ID set: exact under any retry.
func (s *Store) writeItem(ctx context.Context, k itemKey, group []*entry) ([]*entry, bool, error) {
	var added []*entry
	pending := group
	optimisticFailures := 0
	for failures := 0; len(pending) > 0; {
		st := s.snapshot(k)
		if st.ids != nil {
			pending = slices.DeleteFunc(slices.Clone(pending), func(e *entry) bool { _, dup := st.ids[e.enc]; return dup })
			if len(pending) == 0 {
				break
			}
		}
		if st.frozen && st.ids != nil {
			// A frozen chunk takes no more IDs, ever; new ones go to finer spill chunks (the top
			// chunk to per-minute chunks, a minute to per-second chunks, chosen by event time; a
			// second to the next link of its chain), so a duplicate (same eventTime) always
			// meets its first copy: in a frozen chunk whose immutable set it is checked against,
			// or in the chunk whose condition rejects it.
			s.log.DebugContext(ctx, "baseline: dynamodb item full, spilling",
				slog.String(logKeyItem, k.pk()+" "+k.sk()), slog.Int(logKeyCount, len(pending)))
			children := map[itemKey][]*entry{}
			for _, e := range pending {
				ck := k
				sec := min(max(int(e.read.Time.Unix()-k.hour*3600), 0), 3599) // second of the hour
				switch k.lvl {
				case 0:
					ck.lvl, ck.sub = 1, sec/60
				case 1:
					ck.lvl, ck.sub = 2, sec
				default:
					if k.lvl-2 >= maxChain {
						return added, true, fmt.Errorf("baseline: dynamodb record %s %s: %w", bound.Text(k.pk(), 200), bound.Text(k.sk(), 200), ErrBucketFull)
					}
					ck.lvl = k.lvl + 1
				}
				children[ck] = append(children[ck], e)
			}
			for _, ck := range slices.SortedFunc(maps.Keys(children), compareItemKeys) {
				got, _, err := s.writeItem(ctx, ck, children[ck])
				added = append(added, got...)
				if err != nil {
					return added, true, err
				}
			}
			return added, true, nil
		}

		var chunk []*entry
		optimistic := st.ids != nil && !st.frozen && len(pending) > maxCondIDs && optimisticFailures < maxOptimisticFailures
		if optimistic {
			chunk = pending[:min(len(pending), maxWriteIDs)]
		} else {
			chunk = pending[:min(len(pending), maxCondIDs)]
		}
		if k.lvl == 0 {
			// A top chunk stays small (≤ soft IDs as far as this process knows): it is read by
			// every cold start and report, and roll-up writes and version bumps pay its size.
			// The rest of a batch goes to spill chunks, which take large groups.
			chunk = chunk[:min(len(chunk), int(max(1, softIDs(k)-st.n-st.d)))]
		}
		in := s.updateInput(k, st, chunk, optimistic)
		out, err := s.db.UpdateItem(ctx, in)
		if err != nil {
			if _, ok := errors.AsType[*types.ConditionalCheckFailedException](err); !ok {
				return added, k.lvl > 0, fmt.Errorf("baseline: dynamodb update %s %s: %w", bound.Text(k.pk(), 200), bound.Text(k.sk(), 200), classify(err))
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
					return added, k.lvl > 0, fmt.Errorf("baseline: dynamodb get %s %s: %w", bound.Text(k.pk(), 200), bound.Text(k.sk(), 200), gerr)
				}
				item = res.Item
			}
			learnt := s.stateFromItem(k, item, true)
			s.store(learnt, nil)
			if learnt.frozen || slices.ContainsFunc(chunk, func(e *entry) bool { _, dup := learnt.ids[e.enc]; return dup }) {
				failures = 0 // duplicates found, or the item is full (spill): progress, go on at once
				continue
			}
			// Contention: another writer changed the item between our read and our write.
			failures++
			s.log.DebugContext(ctx, "baseline: dynamodb condition failed",
				slog.String(logKeyItem, k.pk()+" "+k.sk()), slog.Int(logKeyCount, len(pending)), slog.Int(logKeyAttempt, failures))
			if failures > maxItemRetries {
				return added, k.lvl > 0, fmt.Errorf("baseline: dynamodb update %s %s: %d conditional failures in a row: %w", bound.Text(k.pk(), 200), bound.Text(k.sk(), 200), failures, err)
			}
			if err := sleepCtx(ctx, retryDelay(failures)); err != nil {
				return added, k.lvl > 0, fmt.Errorf("baseline: dynamodb update %s %s: %w", bound.Text(k.pk(), 200), bound.Text(k.sk(), 200), err)
			}
			continue
		}
		s.store(s.stateFromItem(k, out.Attributes, true), chunk)
		added = append(added, chunk...)
		pending = pending[len(chunk):]
	}
	return added, k.lvl > 0, nil
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
	names := map[string]string{"#n": attrReads, "#d": attrDenied, "#ev": attrIDs, "#ttl": attrTTL}
	ttl := (k.hour+1)*3600 + int64(s.ret/time.Second)
	values := map[string]types.AttributeValue{
		":n":   &types.AttributeValueMemberN{Value: strconv.FormatInt(nReads, 10)},
		":d":   &types.AttributeValueMemberN{Value: strconv.FormatInt(nDenied, 10)},
		":ev":  &types.AttributeValueMemberSS{Value: ids},
		":ttl": &types.AttributeValueMemberN{Value: strconv.FormatInt(ttl, 10)},
	}
	update := "ADD #n :n, #d :d, #ev :ev SET #ttl = :ttl"
	if k.lvl == 0 && len(chunk) > 0 {
		if digested(k.principal) {
			names["#pr"] = attrPrincipal
			values[":pr"] = &types.AttributeValueMemberS{Value: bound.Text(chunk[0].read.Principal, maxAttrText)}
			update += ", #pr = :pr"
		}
		if digested(k.secret) {
			names["#sn"] = attrSecretName
			values[":sn"] = &types.AttributeValueMemberS{Value: bound.Text(chunk[0].read.Secret, maxAttrText)}
			update += ", #sn = :sn"
		}
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
