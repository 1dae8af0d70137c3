package detector

import (
	"strings"
)

// Workload names the workload behind an event's session where the platforms' conventions say:
//   - "Lambda function NAME": Lambda's execution-role session is named after the function, and
//     its SDKs announce exec-env/AWS_Lambda_* in the user agent;
//   - "ECS task ID": ECS task-role sessions are named after the 32-hex task id (user agent
//     exec-env/AWS_ECS_*);
//   - "EC2 instance i-…": instance-profile sessions are named after the instance id;
//   - "via SERVICE": an AWS service made the call for the caller (userIdentity.invokedBy).
//
// "" when nothing says. Session names are chosen by whoever assumes the role, so this is a
// hint for the reader of the alert, never an input to a rule.
func Workload(e *Event) string {
	s := e.Principal.Session
	ua := e.Record.UserAgent
	var w string
	switch {
	case isInstanceID(s):
		w = "EC2 instance " + s
	case strings.Contains(ua, "exec-env/AWS_Lambda") && s != "":
		w = "Lambda function " + s
	case (strings.Contains(ua, "exec-env/AWS_ECS") || isHex(s, 32)) && s != "":
		w = "ECS task " + s
	}
	if ui := e.Record.UserIdentity; ui != nil && ui.InvokedBy != "" && e.Principal.Type != TypeAWSService {
		if w != "" {
			w += ", "
		}
		w += "via " + ui.InvokedBy
	}
	return bound(w)
}

func isInstanceID(s string) bool {
	return strings.HasPrefix(s, "i-") && (len(s) == 10 || len(s) == 19) && isHex(s[2:], len(s)-2)
}

func isHex(s string, n int) bool {
	if len(s) != n {
		return false
	}
	for _, c := range s {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}
