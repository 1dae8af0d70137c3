package detector_test

import (
	"testing"

	"github.com/secretwatch/secretwatch/detector"
)

// corpusCase: a corpus record (copied under testdata/detector with its source in SOURCES.tsv) and
// the alerts each rule must raise on it. Rules not named must raise nothing.
type corpusCase struct {
	file string
	want map[string]string // rule → severity of its one alert
}

func runCorpusCases(t *testing.T, allow string, cases []corpusCase) {
	t.Helper()
	for _, tt := range cases {
		t.Run(tt.file, func(t *testing.T) {
			d, _ := newDetector(t, allow)
			res, err := d.Process(t.Context(), load(t, tt.file))
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]string{}
			for _, a := range res.Alerts {
				if _, dup := got[a.Rule]; dup {
					t.Errorf("two %s alerts", a.Rule)
				}
				got[a.Rule] = a.Severity
				if a.Reason == "" || a.NextStep == "" || len(a.EventIDs) == 0 {
					t.Errorf("%s alert lacks context: %+v", a.Rule, a)
				}
			}
			for rule, sev := range tt.want {
				if got[rule] != sev {
					t.Errorf("%s: severity %q, want %q", rule, got[rule], sev)
				}
			}
			for rule := range got {
				if _, ok := tt.want[rule]; !ok {
					t.Errorf("unexpected %s alert", rule)
				}
			}
		})
	}
}

// Panther's and StreamAlert's expected results and the Stratus captures, for the rules over
// changes and tampering. Panther's expected_result is in each case's comment.
func TestTamperingCorpus(t *testing.T) {
	runCorpusCases(t, allowNobody, []corpusCase{
		// trail-tampering
		{"panther-analysis/aws_cloudtrail_stopped__00_cloudtrail-was-stopped.json", map[string]string{"trail-tampering": "critical"}},                    // true
		{"panther-analysis/aws_cloudtrail_stopped__01_cloudtrail-was-started.json", nil},                                                                 // false
		{"panther-analysis/aws_cloudtrail_stopped__02_error-stopping-cloudtrail.json", nil},                                                              // false
		{"panther-analysis/aws_cloudtrail_event_selectors_disabled__00_event-selector-disabled.json", map[string]string{"trail-tampering": "high"}},      // true
		{"panther-analysis/aws_cloudtrail_event_selectors_disabled__01_event-selector-enabled.json", nil},                                                // false
		{"panther-analysis/aws_cloudtrail_event_selectors_disabled__02_uninteresting-event-type.json", nil},                                              // false
		{"panther-analysis/aws_security_configuration_change__00_security-configuration-changed.json", map[string]string{"trail-tampering": "critical"}}, // true (DeleteTrail)
		{"panther-analysis/aws_security_configuration_change__03_security-configuration-not-changed-error.json", nil},                                    // false
		// false: DeleteRule logged with eventSource cloudtrail (not events): no such CloudTrail call, not ours either.
		{"panther-analysis/aws_security_configuration_change__04_security-configuration-changed-allowlisted-user.json", nil},
		{"stratus-red-team/aws.defense-evasion.cloudtrail-stop.json", map[string]string{"trail-tampering": "critical"}},
		{"streamalert/cloudtrail_critical_api_calls__75ba140d__02_updatetrail.json", map[string]string{"trail-tampering": "medium"}},   // true
		{"streamalert/cloudtrail_critical_api_calls__75ba140d__03_stoplogging.json", map[string]string{"trail-tampering": "critical"}}, // true
		{"streamalert/cloudtrail_critical_api_calls__5bda7760__02_updatetrail.json", map[string]string{"trail-tampering": "medium"}},   // true
		{"streamalert/cloudtrail_critical_api_calls__5bda7760__03_stoplogging.json", map[string]string{"trail-tampering": "critical"}}, // true
		// Alibaba Cloud ActionTrail's UpdateTrail: not AWS, must not match.
		{"streamalert/aliyun_actiontrail__75ba140d__01_updatetrail.json", nil},
		// Root's StopLogging failed (NotOrganizationMasterAccountException); the rest is not about secrets.
		{"panther-analysis/scenario__compromised-root-creds__attacker_cloudtrail.json", nil},
		// policy-change
		{"streamalert/cloudtrail_public_resources__75ba140d__11_putresourcepolicy.json", map[string]string{"policy-change": "critical"}}, // true
		{"panther-analysis/aws_resource_made_public__07_multiple-conditions-all-restrictive-should-not-ale.json", nil},                   // false
		{"panther-analysis/aws_resource_made_public__12_secrets-manager-restricted-access-should-not-alert.json", nil},                   // false
	})
}

// The 30 Stratus techniques that are not about secrets (nor CloudTrail) raise no alert at all —
// including the Lambda ones, which touch functions that are not secretwatch's.
func TestStratusNonSecretTechniques(t *testing.T) {
	files := []string{
		"aws.credential-access.ec2-get-password-data.json", "aws.credential-access.ec2-steal-instance-credentials.json",
		"aws.credential-access.ssm-retrieve-securestring-parameters.json", "aws.defense-evasion.dns-delete-logs.json",
		"aws.defense-evasion.organizations-leave.json", "aws.defense-evasion.vpc-remove-flow-logs.json",
		"aws.discovery.ec2-download-user-data.json", "aws.execution.ec2-launch-unusual-instances.json",
		"aws.execution.ec2-user-data.json", "aws.execution.ssm-send-command.json", "aws.execution.ssm-start-session.json",
		"aws.exfiltration.ec2-security-group-open-port-22-ingress.json", "aws.exfiltration.ec2-share-ami.json",
		"aws.exfiltration.ec2-share-ebs-snapshot.json", "aws.exfiltration.rds-share-snapshot.json",
		"aws.impact.bedrock-invoke-model.json", "aws.initial-access.console-login-without-mfa.json",
		"aws.lateral-movement.ec2-instance-connect.json", "aws.lateral-movement.ec2-serial-console-send-ssh-public-key.json",
		"aws.persistence.iam-backdoor-role.json", "aws.persistence.iam-backdoor-user.json", "aws.persistence.iam-create-admin-user.json",
		"aws.persistence.iam-create-backdoor-role.json", "aws.persistence.iam-create-user-login-profile.json",
		"aws.persistence.lambda-backdoor-function.json", "aws.persistence.lambda-layer-extension.json",
		"aws.persistence.lambda-overwrite-code.json", "aws.persistence.rolesanywhere-create-trust-anchor.json",
		"aws.persistence.sts-federation-token.json", "aws.privilege-escalation.iam-update-user-login-profile.json",
	}
	if len(files) != 30 {
		t.Fatalf("%d techniques listed", len(files))
	}
	var cases []corpusCase
	for _, f := range files {
		cases = append(cases, corpusCase{file: "stratus-red-team/" + f})
	}
	runCorpusCases(t, allowNobody, cases)
}

var _ = detector.RuleIDs
