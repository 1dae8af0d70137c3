package terraform_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// storeDir is the DynamoDB store whose calls the table grants must match.
const storeDir = "../baseline/dynamodb"

const dynamodbSDK = "github.com/aws/aws-sdk-go-v2/service/dynamodb"

// storeOperations derives the DynamoDB operations the store calls from its source: every
// *dynamodb.<Op>Input it builds or passes (a call of an operation needs its input), in any
// non-test file of the package, whatever its client interface is called. Operations used only
// by functions that create or wait for the table (CreateTable, DescribeTable: `--create-table`
// against local stand-ins; Terraform creates the table in AWS) are returned apart.
func storeOperations(t *testing.T) (runtime, setup []string) {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(storeDir, "*.go"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no Go files in %s: %v", storeDir, err)
	}
	usedIn := map[string]map[string]bool{} // operation → functions that use its input
	fset := token.NewFileSet()
	for _, path := range files {
		if strings.HasSuffix(path, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
		if err != nil {
			t.Fatal(err)
		}
		sdk := ""
		for _, imp := range f.Imports {
			if p, _ := strconv.Unquote(imp.Path.Value); p == dynamodbSDK {
				sdk = "dynamodb"
				if imp.Name != nil {
					sdk = imp.Name.Name
				}
			}
		}
		if sdk == "" {
			continue
		}
		for _, decl := range f.Decls {
			fn, ok := decl.(*ast.FuncDecl)
			if !ok {
				continue
			}
			ast.Inspect(fn, func(n ast.Node) bool {
				sel, ok := n.(*ast.SelectorExpr)
				if !ok {
					return true
				}
				if x, ok := sel.X.(*ast.Ident); ok && x.Name == sdk && strings.HasSuffix(sel.Sel.Name, "Input") && sel.Sel.Name != "Input" {
					op := strings.TrimSuffix(sel.Sel.Name, "Input")
					if usedIn[op] == nil {
						usedIn[op] = map[string]bool{}
					}
					usedIn[op][fn.Name.Name] = true
				}
				return true
			})
		}
	}
	for op, fns := range usedIn {
		onlySetup := true
		for fn := range fns {
			onlySetup = onlySetup && strings.Contains(strings.ToLower(fn), "table")
		}
		if onlySetup {
			setup = append(setup, "dynamodb:"+op)
		} else {
			runtime = append(runtime, "dynamodb:"+op)
		}
	}
	slices.Sort(runtime)
	slices.Sort(setup)
	return runtime, setup
}

// TestTableGrantsMatchStoreCalls: the Lambda and backfill roles are granted exactly the
// DynamoDB operations the store calls at run time, on the table — no more (least privilege), no
// fewer (a missing grant is an outage). The list comes from the store's source, so the test stays
// true when the store changes, and fails when the policy does not follow.
func TestTableGrantsMatchStoreCalls(t *testing.T) {
	runtime, setup := storeOperations(t)
	if !slices.Contains(runtime, "dynamodb:UpdateItem") || len(runtime) < 2 {
		t.Fatalf("derived %v from %s: the parser missed the store's calls", runtime, storeDir)
	}
	t.Logf("store calls %v at run time; %v only to create the table", runtime, setup)
	m := loadModule(t, mainDocuments)
	for _, sc := range mainDocScenarios() {
		out := evalModule(t, m, sc.inputs)
		for _, role := range []string{"lambda_role_policy", "backfill_role_policy"} {
			v := out[role]
			if v.IsNull() {
				continue
			}
			var onTable []string
			for action, resources := range grants(parsePolicy(t, role, v.AsString())) {
				if strings.HasPrefix(action, "dynamodb:") && slices.Contains(resources, tableARN) {
					onTable = append(onTable, action)
				}
			}
			slices.Sort(onTable)
			if !slices.Equal(onTable, runtime) {
				t.Errorf("%s %s grants %v on the table; the store calls %v", sc.name, role, onTable, runtime)
			}
		}
	}
}

// TestKMSCloudWatchSourceAccount: the key lets CloudWatch use it only for this account's alarms.
func TestKMSCloudWatchSourceAccount(t *testing.T) {
	m := loadModule(t, mainDocuments)
	for _, sc := range mainDocScenarios() {
		doc := parsePolicy(t, "kms_key_policy", evalModule(t, m, sc.inputs)["kms_key_policy"].AsString())
		found := false
		for _, st := range doc.Statements {
			if !slices.Contains(principals(t, st.Principal), "Service:cloudwatch.amazonaws.com") {
				continue
			}
			found = true
			if got := st.Condition["StringEquals"]["aws:SourceAccount"]; got != acct {
				t.Errorf("%s: statement %s: aws:SourceAccount = %v, want %s", sc.name, st.Sid, got, acct)
			}
		}
		if !found {
			t.Errorf("%s: no key policy statement for cloudwatch.amazonaws.com", sc.name)
		}
	}
}
