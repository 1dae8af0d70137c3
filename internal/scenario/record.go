package scenario

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/secretwatch/secretwatch/cloudtrail"
)

// entry is a record as written: the wire type plus the parts cloudtrail.Record does not model.
type entry struct {
	cloudtrail.Record
	TLS *tlsDetails
}

// tlsDetails is CloudTrail's tlsDetails element.
type tlsDetails struct {
	TLSVersion               string `json:"tlsVersion"`
	CipherSuite              string `json:"cipherSuite"`
	ClientProvidedHostHeader string `json:"clientProvidedHostHeader"`
}

// materialiser turns compact events into records. It is stateless apart from the plan, so any
// number of goroutines can use one.
type materialiser struct {
	p  *plan
	ac *account
}

func newMaterialiser(p *plan) *materialiser { return &materialiser{p: p, ac: p.ac} }

// Service principals and endpoints.
const (
	srcSecretsManager = "secretsmanager.amazonaws.com"
	srcKMS            = "kms.amazonaws.com"
	srcSTS            = "sts.amazonaws.com"
	srcS3             = "s3.amazonaws.com"
)

// record builds the record of event e of region ri.
func (m *materialiser) record(ri int, e event) entry {
	r := newRand(m.p.seed, domainEvent, e.nonce)
	region := regions[ri]
	at := time.Unix(e.at, 0).UTC()
	rec := cloudtrail.Record{
		EventVersion:       "1.09",
		EventTime:          cloudtrail.Time{Time: at},
		EventType:          "AwsApiCall",
		EventCategory:      "Management",
		AWSRegion:          region,
		EventID:            uuid4(r),
		RequestID:          uuid4(r),
		ReadOnly:           new(true),
		ManagementEvent:    new(true),
		RecipientAccountID: Account,
		RequestParameters:  jsonNull,
		ResponseElements:   jsonNull,
	}
	st := m.ac.streams[e.stream]
	a := st.actor
	switch e.kind {
	case evCall:
		return m.call(r, rec, st, e)
	case evKMSDecrypt:
		id, _ := m.identity(r, a, e.at)
		id.InvokedBy = srcSecretsManager
		rec.UserIdentity = id
		rec.EventSource, rec.EventName = srcKMS, "Decrypt"
		rec.SourceIPAddress, rec.UserAgent = srcSecretsManager, srcSecretsManager
		sec := st.secret
		rec.RequestParameters = rawJSON(struct {
			EncryptionContext struct {
				SecretARN       string `json:"SecretARN"`
				SecretVersionID string `json:"SecretVersionId"`
			} `json:"encryptionContext"`
			EncryptionAlgorithm string `json:"encryptionAlgorithm"`
		}{EncryptionContext: struct {
			SecretARN       string `json:"SecretARN"`
			SecretVersionID string `json:"SecretVersionId"`
		}{sec.arn(), m.secretVersion(sec, e.at)}, EncryptionAlgorithm: "SYMMETRIC_DEFAULT"})
		rec.Resources = []cloudtrail.Resource{{AccountID: Account, Type: "AWS::KMS::Key",
			ARN: "arn:aws:kms:" + sec.region + ":" + Account + ":key/" + sec.kmsKey}}
		return entry{Record: rec}
	case evAssumeRole:
		svc := map[actorKind]string{kindLambda: "lambda.amazonaws.com", kindECS: "ecs-tasks.amazonaws.com", kindEC2: "ec2.amazonaws.com"}[a.kind]
		rec.UserIdentity = &cloudtrail.UserIdentity{Type: typeAWSService, InvokedBy: svc}
		rec.EventSource, rec.EventName = srcSTS, "AssumeRole"
		rec.SourceIPAddress, rec.UserAgent = svc, svc
		s := m.session(r, a, e.at)
		rec.RequestParameters = rawJSON(struct {
			RoleARN         string `json:"roleArn"`
			RoleSessionName string `json:"roleSessionName"`
		}{a.roleARN(), s.name})
		type creds struct {
			AccessKeyID string `json:"accessKeyId"`
			Expiration  string `json:"expiration"`
		}
		type user struct {
			AssumedRoleID string `json:"assumedRoleId"`
			ARN           string `json:"arn"`
		}
		rec.ResponseElements = rawJSON(struct {
			Credentials     creds `json:"credentials"`
			AssumedRoleUser user  `json:"assumedRoleUser"`
		}{
			creds{"ASIA" + randString(r, upperAlnum, 16), at.Add(time.Hour).Format("Jan 2, 2006, 3:04:05 PM")},
			user{a.roleID + ":" + s.name, "arn:aws:sts::" + Account + ":assumed-role/" + a.roleName + "/" + s.name},
		})
		rec.Resources = []cloudtrail.Resource{{AccountID: Account, Type: "AWS::IAM::Role", ARN: a.roleARN()}}
		rec.SharedEventID = uuid4(r)
		return entry{Record: rec}
	case evS3Get:
		id, ip := m.identity(r, a, e.at)
		rec.UserIdentity = id
		rec.EventSource, rec.EventName = srcS3, "GetObject"
		rec.EventCategory, rec.ManagementEvent = "Data", new(false)
		rec.SourceIPAddress, rec.UserAgent = ip, a.userAgent
		bucket := a.buckets[r.IntN(len(a.buckets))]
		key := fmt.Sprintf("%s/%s/part-%05d.json.gz", bucket[5:], at.Format("2006/01/02"), r.IntN(5000))
		host := bucket + ".s3." + region + ".amazonaws.com"
		rec.RequestID = randString(r, "0123456789ABCDEF", 16)
		rec.RequestParameters = rawJSON(struct {
			BucketName string `json:"bucketName"`
			Host       string `json:"Host"`
			Key        string `json:"key"`
		}{bucket, host, key})
		rec.AdditionalEventData = rawJSON(struct {
			SignatureVersion     string `json:"SignatureVersion"`
			CipherSuite          string `json:"CipherSuite"`
			BytesTransferredIn   int    `json:"bytesTransferredIn"`
			AuthenticationMethod string `json:"AuthenticationMethod"`
			XAmzID2              string `json:"x-amz-id-2"`
			BytesTransferredOut  int    `json:"bytesTransferredOut"`
		}{"SigV4", "TLS_AES_128_GCM_SHA256", 0, "AuthHeader", randString(r, alnum, 76), 2048 + r.IntN(4<<20)})
		rec.Resources = []cloudtrail.Resource{
			{Type: "AWS::S3::Object", ARN: "arn:aws:s3:::" + bucket + "/" + key},
			{AccountID: Account, Type: "AWS::S3::Bucket", ARN: "arn:aws:s3:::" + bucket},
		}
		return entry{Record: rec, TLS: tlsFor(a, host)}
	}
	return entry{Record: rec}
}

// call builds the record of a stream's call: Secrets Manager operations and sts:GetCallerIdentity.
func (m *materialiser) call(r *rand.Rand, rec cloudtrail.Record, st *stream, e event) entry {
	a := st.actor
	id, ip := m.identity(r, a, e.at)
	rec.UserIdentity = id
	rec.EventSource, rec.EventName = srcSecretsManager, st.op
	rec.SourceIPAddress, rec.UserAgent = ip, a.userAgent
	if a.kind == kindService {
		rec.UserAgent = a.invokedBy
	}
	if a.net == netVPCE {
		rec.VPCEndpointID, rec.VPCEndpointAccount = m.ac.vpce[rec.AWSRegion], Account
	}
	if a.kind == kindCrossAccount {
		rec.SharedEventID = uuid4(r)
	}
	host := "secretsmanager." + rec.AWSRegion + ".amazonaws.com"
	switch st.op {
	case opGetCallerIdentity:
		rec.EventSource = srcSTS
		host = "sts.amazonaws.com"
	case opListSecrets:
		// requestParameters null: the console and a plain CLI call pass none.
	case opBatchCatchAll:
		rec.RequestParameters = json.RawMessage(`{"filters":[{"key":"name","values":["!tagThatNeverExists"]}]}`)
	case opPutPublicPolicy:
		rec.ReadOnly = new(false)
		policy := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"secretsmanager:GetSecretValue","Resource":"*"}]}`
		rec.RequestParameters = rawJSON(struct {
			SecretID          string `json:"secretId"`
			ResourcePolicy    string `json:"resourcePolicy"`
			BlockPublicPolicy bool   `json:"blockPublicPolicy"`
		}{st.secret.name, policy, false})
	case opForceDelete:
		rec.ReadOnly = new(false)
		rec.RequestParameters = rawJSON(struct {
			SecretID                   string `json:"secretId"`
			ForceDeleteWithoutRecovery bool   `json:"forceDeleteWithoutRecovery"`
		}{st.secret.name, true})
	case opStopLogging:
		rec.ReadOnly = new(false)
		rec.EventSource, host = "cloudtrail.amazonaws.com", "cloudtrail."+rec.AWSRegion+".amazonaws.com"
		rec.RequestParameters = rawJSON(struct {
			Name string `json:"name"`
		}{"arn:aws:cloudtrail:" + rec.AWSRegion + ":" + Account + ":trail/org-trail"})
	case opDisableRule:
		rec.ReadOnly = new(false)
		rec.EventSource, host = "events.amazonaws.com", "events."+rec.AWSRegion+".amazonaws.com"
		rec.RequestParameters = rawJSON(struct {
			Name string `json:"name"`
		}{monitorRuleName})
	case opRotateStage:
		// Managed rotation: Secrets Manager itself moves AWSCURRENT to the new version.
		rec.ReadOnly = new(false)
		rec.UserIdentity = &cloudtrail.UserIdentity{Type: typeAWSService, InvokedBy: rotationServiceName}
		rec.SourceIPAddress, rec.UserAgent = rotationServiceName, rotationServiceName
		rec.RequestParameters = rawJSON(struct {
			SecretID            string `json:"secretId"`
			VersionStage        string `json:"versionStage"`
			MoveToVersionID     string `json:"moveToVersionId"`
			RemoveFromVersionID string `json:"removeFromVersionId"`
		}{st.secret.arn(), "AWSCURRENT", uuid4(r), m.secretVersion(st.secret, e.at)})
		return entry{Record: rec}
	default:
		p := struct {
			SecretID     string `json:"secretId"`
			VersionStage string `json:"versionStage,omitempty"`
		}{SecretID: secretID(st, r.Float64())}
		switch e.fail {
		case failDenied:
			p.VersionStage = "AWSPREVIOUS"
			rec.ErrorCode = "AccessDeniedException"
			rec.ErrorMessage = "User: " + sessionARN(id) + " is not authorized to perform: secretsmanager:GetSecretValue on resource: " +
				p.SecretID + " because no identity-based policy allows the secretsmanager:GetSecretValue action"
		case failNotFound:
			p.VersionStage = "AWSPENDING"
			rec.ErrorCode = "ResourceNotFoundException"
			rec.ErrorMessage = "Secrets Manager can't find the specified secret value for staging label: AWSPENDING"
		}
		rec.RequestParameters = rawJSON(p)
	}
	if a.kind == kindService {
		return entry{Record: rec}
	}
	return entry{Record: rec, TLS: tlsFor(a, host)}
}

// secretID is how the caller names the secret: by name, partial ARN or full ARN, drawn from the
// stream's habits (x uniform in [0,1)).
func secretID(st *stream, x float64) string {
	s := st.secret
	switch {
	case x < st.forms[0]:
		return s.name
	case x < st.forms[0]+st.forms[1]:
		return s.partialARN()
	default:
		return s.arn()
	}
}

func sessionARN(id *cloudtrail.UserIdentity) string {
	if id.ARN != "" {
		return id.ARN
	}
	return "arn:aws:iam::" + id.AccountID + ":root"
}

func tlsFor(a *actor, host string) *tlsDetails {
	if a.tls13 {
		return &tlsDetails{TLSVersion: "TLSv1.3", CipherSuite: "TLS_AES_128_GCM_SHA256", ClientProvidedHostHeader: host}
	}
	return &tlsDetails{TLSVersion: "TLSv1.2", CipherSuite: "ECDHE-RSA-AES128-GCM-SHA256", ClientProvidedHostHeader: host}
}

// session is one set of temporary credentials of an actor.
type session struct {
	name      string
	accessKey string
	created   time.Time
	ip        string
}

// session returns the credentials a workload of actor a holds at time t. Credentials last for a
// block of hours; a Lambda function or ECS service runs a few of them at once.
func (m *materialiser) session(r *rand.Rand, a *actor, t int64) session {
	ai := uint64(m.ac.actorIdx[a])
	block := int64(6 * 3600)
	instances := 1
	switch a.kind {
	case kindLambda:
		block, instances = 4*3600, 3
	case kindECS:
		instances = a.tasks
	case kindCI:
		block, instances = 1800, 2 // a workflow run
	case kindService, kindRoot:
		block = 3600
	case kindSSO:
		block = 12 * 3600
	}
	k := uint64(r.IntN(instances))
	b := t / block
	key := mix(m.p.seed, domainHash, ai, uint64(b), k)
	s := session{
		name:      a.session,
		accessKey: "ASIA" + hashString(key, upperAlnum, 16),
		created:   time.Unix(b*block-int64(key%900), 0).UTC(),
	}
	switch {
	case a.net == netNAT || a.net == netPublic && a.kind == kindCrossAccount:
		s.ip = a.ips[r.IntN(len(a.ips))]
	case a.kind == kindCI: // a fresh hosted runner per run
		h := mix(key, 7)
		s.ip = fmt.Sprintf("%d.%d.%d.%d", []int{20, 4, 40, 52, 13}[h%5], 1+h>>8%250, h>>16%256, 1+h>>24%250)
	default:
		s.ip = a.ips[(key>>32)%uint64(len(a.ips))]
	}
	if a.kind == kindECS { // the session name is the task ID; tasks are replaced daily
		s.name = hashString(mix(m.p.seed, domainHash, ai, uint64(t/86400), k), hexDigits, 32)
		if a.net == netVPCE {
			s.ip = a.ips[(uint64(t/86400)+k)%uint64(len(a.ips))]
		}
	}
	return s
}

// identity returns the userIdentity of a call by a at t, and the call's source IP.
func (m *materialiser) identity(r *rand.Rand, a *actor, t int64) (*cloudtrail.UserIdentity, string) {
	s := m.session(r, a, t)
	switch a.kind {
	case kindIAMUser:
		return &cloudtrail.UserIdentity{Type: typeIAMUser, PrincipalID: a.userID, ARN: a.principal(), AccountID: a.account,
			AccessKeyID: a.accessKey, UserName: a.session}, s.ip
	case kindRoot:
		id := &cloudtrail.UserIdentity{Type: typeRoot, PrincipalID: a.account, ARN: a.principal(), AccountID: a.account,
			AccessKeyID: s.accessKey, SessionContext: &cloudtrail.SessionContext{}}
		id.SessionContext.Attributes.CreationDate = s.created.Format(time.RFC3339)
		id.SessionContext.Attributes.MFAAuthenticated = "false"
		return id, s.ip
	case kindCrossAccount:
		return &cloudtrail.UserIdentity{Type: typeAWSAccount, PrincipalID: a.roleID + ":" + a.session, AccountID: a.account}, s.ip
	}
	id := &cloudtrail.UserIdentity{
		Type:        typeAssumedRole,
		PrincipalID: a.roleID + ":" + s.name,
		ARN:         "arn:aws:sts::" + a.account + ":assumed-role/" + a.roleName + "/" + s.name,
		AccountID:   a.account,
		AccessKeyID: s.accessKey,
		SessionContext: &cloudtrail.SessionContext{
			SessionIssuer: &cloudtrail.SessionIssuer{Type: "Role", PrincipalID: a.roleID, ARN: a.roleARN(),
				AccountID: a.account, UserName: a.roleName},
			WebIDFederationData: json.RawMessage(`{}`),
		},
		InvokedBy: a.invokedBy,
	}
	id.SessionContext.Attributes.CreationDate = s.created.Format(time.RFC3339)
	id.SessionContext.Attributes.MFAAuthenticated = "false"
	return id, s.ip
}

// secretVersion is the version ID of the secret's current value at t (rotated weekly).
func (m *materialiser) secretVersion(s *secret, t int64) string {
	return uuid4(newRand(m.p.seed, domainHash, mix(hashKey(s.name), uint64(t/(7*86400)))))
}

func hashKey(s string) uint64 {
	h := uint64(14695981039346656037)
	for i := range len(s) {
		h = (h ^ uint64(s[i])) * 1099511628211
	}
	return h
}

// jsonNull is how CloudTrail writes absent request parameters and response elements.
var jsonNull = json.RawMessage("null")

// rawJSON marshals the small fixed structs of request parameters and the like. They hold only
// strings and numbers, which always marshal.
func rawJSON(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		return json.RawMessage("null")
	}
	return b
}
