package scenario

import (
	"fmt"
	"math/rand/v2"
	"time"
)

// The simulated organisation.
const (
	Account         = "111122223333" // the monitored account: owns every secret, receives every record
	PartnerAccount  = "444455556666" // legitimate cross-account reader of shared/datadog-api-key
	AttackerAccount = "999988887777" // injected cross-account reader (day N)
	PrimaryRegion   = "us-east-1"
	SecondaryRegion = "eu-west-1" // one secret lives here
)

// regions in file-emission order.
var regions = []string{PrimaryRegion, SecondaryRegion}

// Principal types as CloudTrail spells userIdentity.type.
const (
	typeAssumedRole = "AssumedRole"
	typeIAMUser     = "IAMUser"
	typeRoot        = "Root"
	typeAWSAccount  = "AWSAccount"
	typeAWSService  = "AWSService"
)

// Secrets Manager and other operations the scenario emits.
const (
	opGetSecretValue    = "GetSecretValue"
	opDescribeSecret    = "DescribeSecret"
	opListSecrets       = "ListSecrets"
	opGetCallerIdentity = "GetCallerIdentity"
	// Injected only (day N): the attacks that keep or abuse an allowed principal, and a benign
	// managed rotation.
	opBatchCatchAll     = "BatchGetSecretValue"      // by a filter that only negates: every secret
	opPutPublicPolicy   = "PutResourcePolicy"        // Principal "*" without conditions
	opForceDelete       = "DeleteSecret"             // ForceDeleteWithoutRecovery
	opStopLogging       = "StopLogging"              // cloudtrail.amazonaws.com
	opDisableRule       = "DisableRule"              // events.amazonaws.com, secretwatch's rule
	opRotateStage       = "UpdateSecretVersionStage" // managed rotation moving AWSCURRENT (by the service)
	monitorRuleName     = "secretwatch"              // the Terraform module's default rule name
	rotationServiceName = "secretsmanager.amazonaws.com"
)

type secret struct {
	name   string
	region string
	suffix string // Secrets Manager's 6 random characters
	kmsKey string // key ID of the customer managed key that encrypts it
}

func (s *secret) arn() string { return s.partialARN() + "-" + s.suffix }
func (s *secret) partialARN() string {
	return "arn:aws:secretsmanager:" + s.region + ":" + Account + ":secret:" + s.name
}
func (s *secret) key() string { return Account + "/" + s.region + "/" + s.name }

type actorKind uint8

const (
	kindLambda       actorKind = iota // Lambda execution role; session = function name
	kindECS                           // ECS task role; session = task ID
	kindEC2                           // EC2 instance profile; session = instance ID
	kindCI                            // CI role assumed by web identity (GitHub Actions)
	kindService                       // a role used by an AWS service on its caller's behalf (invokedBy)
	kindSSO                           // IAM Identity Center permission set role; session = e-mail
	kindCrossAccount                  // a caller in another account (userIdentity.type AWSAccount)
	kindIAMUser                       // an IAM user with a long-term access key
	kindRoot                          // the account's root user
)

// network says where an actor's calls come from.
type network uint8

const (
	netPublic  network = iota // an own public IP (Lambda outside a VPC, EC2 with a public IP, laptops)
	netNAT                    // private subnet behind the account's NAT gateways
	netVPCE                   // private subnet through the Secrets Manager interface endpoint
	netService                // an AWS service calling on the caller's behalf
)

type actor struct {
	id        string // short name used in truth and tests
	kind      actorKind
	region    string
	account   string // the caller's account
	roleName  string
	rolePath  string // "" or "service-role/" etc., with trailing slash
	roleID    string // AROA…
	session   string // fixed session name ("" for ECS tasks, whose session is the task ID)
	userAgent string
	net       network
	ips       []string
	invokedBy string
	tls13     bool
	tasks     int      // ECS tasks running at a time
	buckets   []string // S3 buckets it reads (noise)
	userID    string   // AIDA… for IAM users
	accessKey string   // AKIA… for IAM users
}

// principal is the actor's normalised principal ARN (the convention of the detector's
// allow-list: role ARN with path; user ARN; account root for Root and other accounts).
func (a *actor) principal() string {
	switch a.kind {
	case kindIAMUser:
		return "arn:aws:iam::" + a.account + ":user/" + a.session
	case kindRoot, kindCrossAccount:
		return "arn:aws:iam::" + a.account + ":root"
	default:
		return a.roleARN()
	}
}

func (a *actor) roleARN() string {
	return "arn:aws:iam::" + a.account + ":role/" + a.rolePath + a.roleName
}

func (a *actor) principalType() string {
	switch a.kind {
	case kindIAMUser:
		return typeIAMUser
	case kindRoot:
		return typeRoot
	case kindCrossAccount:
		return typeAWSAccount
	default:
		return typeAssumedRole
	}
}

// profile is a rate shape: multipliers of a stream's peak hourly rate by hour of day (UTC), for
// weekdays, Saturdays and Sundays.
type profile struct {
	weekday, saturday, sunday [24]float64
}

func (p *profile) at(wd time.Weekday, hour int) float64 {
	switch wd {
	case time.Saturday:
		return p.saturday[hour]
	case time.Sunday:
		return p.sunday[hour]
	default:
		return p.weekday[hour]
	}
}

// Rate shapes. Business hours are 08:00–18:00 UTC.
var (
	webCurve = [24]float64{
		0.18, 0.15, 0.13, 0.12, 0.12, 0.15, 0.25, 0.45, 0.70, 0.90, 1.00, 1.00,
		0.95, 0.95, 1.00, 1.00, 0.95, 0.85, 0.70, 0.55, 0.45, 0.35, 0.28, 0.22,
	}
	indexerCurve = [24]float64{
		0.60, 0.60, 0.60, 0.60, 0.60, 0.65, 0.70, 0.80, 0.90, 1.00, 1.00, 1.00,
		1.00, 1.00, 1.00, 1.00, 1.00, 0.95, 0.90, 0.85, 0.80, 0.70, 0.65, 0.60,
	}
	officeCurve = [24]float64{8: 0.5, 9: 1, 10: 1, 11: 1, 12: 0.7, 13: 1, 14: 1, 15: 1, 16: 0.8, 17: 0.5}
	batchCurve  = [24]float64{2: 1, 3: 0.6}
)

func scaled(c [24]float64, f float64) [24]float64 {
	for i := range c {
		c[i] *= f
	}
	return c
}

// web is customer-driven traffic: a daytime curve, weekends at factor wk of weekdays.
func web(wk float64) profile {
	return profile{weekday: webCurve, saturday: scaled(webCurve, wk), sunday: scaled(webCurve, wk)}
}

func everyDay(c [24]float64, wk float64) profile {
	return profile{weekday: c, saturday: scaled(c, wk), sunday: scaled(c, wk)}
}

// office is people and pipelines: weekdays in business hours only.
var office = profile{weekday: officeCurve}

// saturdayAt runs once a week, on Saturday in the given hour.
func saturdayAt(hour int) profile {
	var p profile
	p.saturday[hour] = 1
	return p
}

func flat() profile {
	var c [24]float64
	for i := range c {
		c[i] = 1
	}
	return everyDay(c, 1)
}

// component is one term of a stream's rate: peak reads per hour at scale 1, shaped by a profile.
type component struct {
	peak float64
	prof profile
}

// stream is one actor calling one operation on (at most) one secret: the unit whose hourly
// counts the generator draws.
type stream struct {
	actor    *actor
	secret   *secret // nil for ListSecrets and GetCallerIdentity
	op       string
	rate     []component
	forms    [3]float64 // weights of secretId forms: name, partial ARN, full ARN
	failRate float64    // share of GetSecretValue calls that fail
	injected bool       // only emitted by injections, never by the rate model
}

func (s *stream) region() string {
	if s.secret != nil {
		return s.secret.region
	}
	return s.actor.region
}

// lambda returns the stream's expected calls in hour of weekday wd at scale 1.
func (s *stream) lambda(wd time.Weekday, hour int) float64 {
	var l float64
	for _, c := range s.rate {
		l += c.peak * c.prof.at(wd, hour)
	}
	return l
}

func (s *stream) isRead() bool { return s.op == opGetSecretValue }

// account is the whole simulated organisation, derived from the seed.
type account struct {
	secrets []*secret
	actors  []*actor
	streams []*stream
	natIPs  []string
	vpce    map[string]string // region → Secrets Manager interface endpoint
	sso     string            // the SSO permission-set role name

	byName   map[string]*secret
	byActor  map[string]*actor
	actorIdx map[*actor]int

	spikeStream int        // the normal stream that day N reads at 40× its rate
	inj         injStreams // the streams only injections emit
}

// injStreams are indices into account.streams of the injected calls.
type injStreams struct {
	indexerRead                                           int // (a)
	malloryWhoAmI, malloryList, malloryStripe, malloryJWT int // (b)
	rootList, rootDescribe, rootRead                      int // (c)
	attackerRead                                          int // (d)
	adminBatch                                            int // (f) an admin role allowed everywhere harvests by a catch-all batch
	policyOpen, forceDelete, stopLogging, disableRule     int // (g) mallory opens a policy, deletes a secret, blinds trail and monitor
	stolenJWT                                             int // (h) the token issuer's session used from the internet
	rotation, refresh                                     int // (i) benign: managed rotation of prod/orders/db and its refresh burst
}

// Secrets the injections refer to.
const (
	secretPaymentsDB = "prod/payments/db"
	secretStripe     = "prod/payments/stripe-key"
	secretOrdersDB   = "prod/orders/db"
	secretJWT        = "prod/identity/jwt-signing-key"
	secretDatadog    = "shared/datadog-api-key"
)

// User agents of the SDKs the workloads use.
const (
	uaGoLambda = "aws-sdk-go-v2/1.36.3 ua/2.1 os/linux lang/go#1.24.2 md/GOOS#linux md/GOARCH#arm64 exec-env/AWS_Lambda_provided.al2023 api/secretsmanager#1.35.4"
	uaPyLambda = "Boto3/1.37.18 md/Botocore#1.37.18 ua/2.1 os/linux#5.10.234-246.928.amzn2.x86_64 md/arch#x86_64 lang/python#3.12.9 md/pyimpl#CPython exec-env/AWS_Lambda_python3.12 cfg/retry-mode#legacy Botocore/1.37.18"
	uaNodeECS  = "aws-sdk-js/3.758.0 ua/2.1 os/linux#5.10.234-225.910.amzn2.x86_64 lang/js md/nodejs#20.18.3 api/secrets-manager#3.758.0 exec-env/AWS_ECS_FARGATE m/E,N"
	uaJavaECS  = "aws-sdk-java/2.31.6 Linux/5.10.234-225.910.amzn2.x86_64 OpenJDK_64-Bit_Server_VM/21.0.6+7-LTS Java/21.0.6 vendor/Amazon.com_Inc. md/internal exec-env/AWS_ECS_FARGATE io/sync http/Apache cfg/retry-mode/legacy"
	uaPyECS    = "Boto3/1.37.18 md/Botocore#1.37.18 ua/2.1 os/linux#5.10.234-225.910.amzn2.x86_64 md/arch#x86_64 lang/python#3.12.9 md/pyimpl#CPython exec-env/AWS_ECS_FARGATE cfg/retry-mode#legacy Botocore/1.37.18"
	uaJavaEC2  = "aws-sdk-java/1.12.782 Linux/4.14.355-275.572.amzn2.x86_64 OpenJDK_64-Bit_Server_VM/11.0.26+4-LTS java/11.0.26 vendor/Amazon.com_Inc. cfg/retry-mode/standard"
	uaCLICI    = "aws-cli/2.24.22 md/awscrt#0.23.8 ua/2.1 os/linux#6.8.0-1021-azure md/arch#x86_64 lang/python#3.12.9 md/pyimpl#CPython exec-env/github-actions cfg/retry-mode#standard md/installer#exe md/distrib#ubuntu.24 md/prompt#off md/command#secretsmanager.get-secret-value"
	uaCLIMac   = "aws-cli/2.24.22 md/awscrt#0.23.8 ua/2.1 os/macos#24.3.0 md/arch#arm64 lang/python#3.12.9 md/pyimpl#CPython cfg/retry-mode#standard md/installer#source md/prompt#off md/command#secretsmanager.get-secret-value"
	uaCLIKali  = "aws-cli/2.15.30 Python/3.11.8 Linux/6.6.9-amd64 exe/x86_64.kali.2024 prompt/off command/secretsmanager.get-secret-value"
	uaBrowser  = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/134.0.0.0 Safari/537.36"
)

// newAccount builds the organisation. Names and shapes are fixed; IDs, suffixes and IPs come
// from the seed.
func newAccount(seed uint64) *account {
	r := newRand(seed, domainLayout, 0)
	ac := &account{
		byName:   map[string]*secret{},
		byActor:  map[string]*actor{},
		actorIdx: map[*actor]int{},
		vpce: map[string]string{
			PrimaryRegion:   "vpce-0" + randString(r, hexDigits, 16),
			SecondaryRegion: "vpce-0" + randString(r, hexDigits, 16),
		},
		natIPs: []string{publicIP(r, PrimaryRegion), publicIP(r, PrimaryRegion)},
		sso:    "AWSReservedSSO_AdministratorAccess_" + randString(r, hexDigits, 16),
	}
	for _, s := range []struct{ name, region string }{
		{secretPaymentsDB, PrimaryRegion},
		{secretStripe, PrimaryRegion},
		{secretOrdersDB, PrimaryRegion},
		{"prod/orders/shipping-api-key", PrimaryRegion},
		{"prod/search/api-key", PrimaryRegion},
		{secretJWT, PrimaryRegion},
		{secretDatadog, PrimaryRegion},
		{"ci/npm-token", PrimaryRegion},
		{"prod/payments-eu/db", SecondaryRegion},
	} {
		sec := &secret{name: s.name, region: s.region, suffix: randString(r, alnum, 6), kmsKey: uuid4(r)}
		ac.secrets = append(ac.secrets, sec)
		ac.byName[sec.name] = sec
	}

	add := func(a *actor) *actor {
		if a.region == "" {
			a.region = PrimaryRegion
		}
		if a.account == "" {
			a.account = Account
		}
		if a.roleName != "" || a.kind == kindCrossAccount {
			a.roleID = "AROA" + randString(r, upperAlnum, 17)
		}
		switch a.net {
		case netPublic:
			if len(a.ips) == 0 {
				for range 6 {
					a.ips = append(a.ips, publicIP(r, a.region))
				}
			}
		case netNAT:
			a.ips = ac.natIPs
		case netVPCE:
			for range 6 {
				a.ips = append(a.ips, fmt.Sprintf("10.20.%d.%d", 1+r.IntN(3)*16+r.IntN(8), 4+r.IntN(250)))
			}
		case netService:
			a.ips = []string{a.invokedBy}
		}
		ac.actorIdx[a] = len(ac.actors)
		ac.actors = append(ac.actors, a)
		ac.byActor[a.id] = a
		return a
	}
	paymentsAPI := add(&actor{id: "payments-api", kind: kindECS, roleName: "payments-api-task", userAgent: uaJavaECS, net: netVPCE, tls13: true, tasks: 3, buckets: []string{"acme-payments-settlements"}})
	webhook := add(&actor{id: "payments-webhook", kind: kindLambda, roleName: "payments-webhook-role", rolePath: "service-role/", session: "payments-webhook", userAgent: uaGoLambda, net: netPublic, tls13: true, buckets: []string{"acme-payments-settlements"}})
	ordersAPI := add(&actor{id: "orders-api", kind: kindECS, roleName: "orders-api-task", userAgent: uaNodeECS, net: netNAT, tls13: true, tasks: 4, buckets: []string{"acme-orders-exports"}})
	fulfil := add(&actor{id: "orders-fulfillment", kind: kindLambda, roleName: "orders-fulfillment-role", rolePath: "service-role/", session: "orders-fulfillment", userAgent: uaPyLambda, net: netPublic, tls13: true, buckets: []string{"acme-orders-exports"}})
	indexer := add(&actor{id: "search-indexer", kind: kindECS, roleName: "search-indexer-task", userAgent: uaPyECS, net: netNAT, tls13: true, tasks: 2, buckets: []string{"acme-search-snapshots"}})
	tokens := add(&actor{id: "identity-token-issuer", kind: kindLambda, roleName: "identity-token-issuer", rolePath: "lambda/", session: "identity-token-issuer", userAgent: uaGoLambda, net: netVPCE, tls13: true})
	reporting := add(&actor{id: "legacy-reporting", kind: kindEC2, roleName: "legacy-reporting-ec2", session: "i-0" + randString(r, hexDigits, 16), userAgent: uaJavaEC2, net: netPublic, tls13: false, buckets: []string{"acme-reports"}})
	reporting.ips = reporting.ips[:1]
	ci := add(&actor{id: "github-actions", kind: kindCI, roleName: "github-actions-deploy", rolePath: "ci/", session: "GitHubActions", userAgent: uaCLICI, net: netPublic, tls13: true, buckets: []string{"acme-build-artifacts"}})
	cfn := add(&actor{id: "cloudformation", kind: kindService, roleName: "cfn-exec-role", session: "AWSCloudFormation", userAgent: "cloudformation.amazonaws.com", net: netService, invokedBy: "cloudformation.amazonaws.com"})
	alice := add(&actor{id: "alice", kind: kindSSO, roleName: ac.sso, rolePath: "aws-reserved/sso.amazonaws.com/", session: "alice@example.com", userAgent: uaCLIMac, net: netPublic, ips: []string{"198.51.100.23"}, tls13: true})
	bob := add(&actor{id: "bob", kind: kindSSO, roleName: ac.sso, rolePath: "aws-reserved/sso.amazonaws.com/", session: "bob@example.com", userAgent: uaCLIMac, net: netPublic, ips: []string{"198.51.100.87"}, tls13: true})
	bob.roleID = alice.roleID
	partner := add(&actor{id: "partner-datadog-forwarder", kind: kindCrossAccount, account: PartnerAccount, session: "datadog-forwarder", userAgent: uaPyLambda, net: netPublic, tls13: true})
	recon := add(&actor{id: "weekly-reconciliation", kind: kindLambda, roleName: "weekly-reconciliation-role", rolePath: "service-role/", session: "weekly-reconciliation", userAgent: uaPyLambda, net: netPublic, tls13: true, buckets: []string{"acme-payments-settlements"}})
	settle := add(&actor{id: "payments-eu-settlement", kind: kindLambda, region: SecondaryRegion, roleName: "payments-eu-settlement-role", rolePath: "service-role/", session: "payments-eu-settlement", userAgent: uaGoLambda, net: netPublic, tls13: true, buckets: []string{"acme-payments-eu-settlements"}})
	// Injected only (day N).
	mallory := add(&actor{id: "mallory", kind: kindIAMUser, session: "mallory", userAgent: uaCLIKali, net: netPublic, ips: []string{"203.0.113.66"}, tls13: true,
		userID: "AIDA" + randString(r, upperAlnum, 17), accessKey: "AKIA" + randString(r, upperAlnum, 16)})
	root := add(&actor{id: "root", kind: kindRoot, userAgent: uaBrowser, net: netPublic, ips: []string{"203.0.113.77"}, tls13: true})
	attacker := add(&actor{id: "attacker-account", kind: kindCrossAccount, account: AttackerAccount, session: "ops-sync", userAgent: uaCLIKali, net: netPublic, ips: []string{"192.0.2.200"}, tls13: true})
	// Added last, so that the random draws of the actors above stay as they were.
	admin := add(&actor{id: "platform-admin", kind: kindSSO, roleName: "platform-admin", session: "breakglass", userAgent: uaCLIKali, net: netPublic, ips: []string{"203.0.113.90"}, tls13: true})
	stolen := add(&actor{id: "stolen-token-issuer", kind: kindLambda, roleName: "identity-token-issuer", rolePath: "lambda/", session: "identity-token-issuer", userAgent: uaCLIKali, net: netPublic, ips: []string{"203.0.113.99"}, tls13: true})
	rotator := add(&actor{id: "managed-rotation", kind: kindService, roleName: "secretsmanager", session: rotationServiceName, userAgent: rotationServiceName, net: netService, invokedBy: rotationServiceName})

	sec := ac.byName
	type forms = [3]float64
	byName, byPartial, byARN := forms{1, 0, 0}, forms{0, 1, 0}, forms{0, 0, 1}
	mixed := forms{0.6, 0.25, 0.15}
	read := func(a *actor, s string, f forms, rate ...component) int {
		ac.streams = append(ac.streams, &stream{actor: a, secret: sec[s], op: opGetSecretValue, rate: rate, forms: f, failRate: 0.01})
		return len(ac.streams) - 1
	}
	call := func(a *actor, op string, s string, rate ...component) {
		var sp *secret
		if s != "" {
			sp = sec[s]
		}
		ac.streams = append(ac.streams, &stream{actor: a, secret: sp, op: op, rate: rate, forms: byName})
	}
	read(paymentsAPI, secretPaymentsDB, forms{0, 0.1, 0.9}, component{24, web(0.5)})
	read(paymentsAPI, secretStripe, forms{0, 0.1, 0.9}, component{16, web(0.5)})
	read(webhook, secretStripe, mixed, component{10, web(0.45)})
	ac.spikeStream = read(ordersAPI, secretOrdersDB, forms{0.3, 0.7, 0}, component{32, web(0.6)})
	read(ordersAPI, secretDatadog, forms{0.3, 0.7, 0}, component{3, web(0.6)})
	read(fulfil, secretOrdersDB, mixed, component{8, web(0.45)})
	read(fulfil, "prod/orders/shipping-api-key", mixed, component{8, web(0.45)})
	read(indexer, "prod/search/api-key", byName, component{12, everyDay(indexerCurve, 0.8)})
	read(tokens, secretJWT, byARN, component{20, web(0.45)})
	read(reporting, secretOrdersDB, byName, component{12, everyDay(batchCurve, 1)}, component{0.3, office})
	read(reporting, secretPaymentsDB, byName, component{12, everyDay(batchCurve, 1)}, component{0.3, office})
	read(ci, "ci/npm-token", byName, component{2.5, office})
	read(ci, secretDatadog, byName, component{1, office})
	read(cfn, secretOrdersDB, byPartial, component{0.25, office})
	read(cfn, secretJWT, byPartial, component{0.25, office})
	read(alice, secretStripe, mixed, component{0.12, office})
	read(alice, secretDatadog, byName, component{0.08, office})
	read(bob, secretPaymentsDB, byName, component{0.06, office})
	read(partner, secretDatadog, byARN, component{0.4, flat()})
	read(recon, secretPaymentsDB, byName, component{5, saturdayAt(4)})
	read(recon, secretStripe, byName, component{3, saturdayAt(4)})
	read(settle, "prod/payments-eu/db", mixed, component{6, web(0.45)})
	call(alice, opListSecrets, "", component{0.05, office})
	call(alice, opDescribeSecret, secretStripe, component{0.05, office})
	call(bob, opListSecrets, "", component{0.04, office})
	call(ci, opDescribeSecret, "ci/npm-token", component{0.3, office})
	call(cfn, opDescribeSecret, secretOrdersDB, component{0.1, office})

	inject := func(a *actor, op, s string, f forms) int {
		var sp *secret
		if s != "" {
			sp = sec[s]
		}
		ac.streams = append(ac.streams, &stream{actor: a, secret: sp, op: op, forms: f, injected: true})
		return len(ac.streams) - 1
	}
	ac.inj = injStreams{
		indexerRead:   inject(indexer, opGetSecretValue, secretPaymentsDB, byName),
		malloryWhoAmI: inject(mallory, opGetCallerIdentity, "", byName),
		malloryList:   inject(mallory, opListSecrets, "", byName),
		malloryStripe: inject(mallory, opGetSecretValue, secretStripe, byName),
		malloryJWT:    inject(mallory, opGetSecretValue, secretJWT, byName),
		rootList:      inject(root, opListSecrets, "", byName),
		rootDescribe:  inject(root, opDescribeSecret, secretPaymentsDB, byName),
		rootRead:      inject(root, opGetSecretValue, secretPaymentsDB, byARN),
		attackerRead:  inject(attacker, opGetSecretValue, secretDatadog, byARN),
		adminBatch:    inject(admin, opBatchCatchAll, "", byName),
		policyOpen:    inject(mallory, opPutPublicPolicy, secretDatadog, byName),
		forceDelete:   inject(mallory, opForceDelete, "prod/search/api-key", byName),
		stopLogging:   inject(mallory, opStopLogging, "", byName),
		disableRule:   inject(mallory, opDisableRule, "", byName),
		stolenJWT:     inject(stolen, opGetSecretValue, secretJWT, byARN),
		rotation:      inject(rotator, opRotateStage, secretOrdersDB, byARN),
		refresh:       inject(ordersAPI, opGetSecretValue, secretOrdersDB, forms{0.3, 0.7, 0}),
	}
	return ac
}

// publicIP returns a plausible AWS public address of the region.
func publicIP(r *rand.Rand, region string) string {
	firsts := []int{3, 44, 52, 54, 18, 34}
	if region == SecondaryRegion {
		firsts = []int{34, 52, 54, 18, 3}
	}
	return fmt.Sprintf("%d.%d.%d.%d", firsts[r.IntN(len(firsts))], 1+r.IntN(254), r.IntN(256), 1+r.IntN(254))
}
