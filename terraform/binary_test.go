package terraform_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2/hclwrite"
	"github.com/secretwatch/secretwatch/internal/testenv"
	"github.com/zclconf/go-cty/cty"
	ctyjson "github.com/zclconf/go-cty/cty/json"
)

// Tests that need a terraform binary: terraform, or OpenTofu's tofu (scripts/test.sh builds a
// pinned tofu from the Go module proxy when neither is on PATH). No provider can be downloaded
// anywhere, so they only touch provider-free configurations: formatting, the documents modules,
// and the variables of the public modules. Without a binary they skip, saying so — or fail under
// SECRETWATCH_TEST_REQUIRE=1 (make test).

func terraformBinary(t *testing.T) string {
	t.Helper()
	var bin string
	for _, name := range []string{"terraform", "tofu"} {
		if p, err := exec.LookPath(name); err == nil {
			bin = p
			break
		}
	}
	if bin == "" {
		testenv.Unavailable(t, "neither terraform nor tofu on PATH: skipping the checks that run terraform (the Go-side checks of the same files ran)")
	}
	out, err := runTerraform(t, bin, t.TempDir(), "version", "-json")
	var v struct {
		Version string `json:"terraform_version"` // tofu writes the same member
	}
	if err != nil || json.Unmarshal([]byte(out), &v) != nil {
		testenv.Unavailable(t, "%s version failed (%v): skipping the checks that run terraform", bin, err)
	}
	var major, minor int
	if _, err := fmt.Sscanf(v.Version, "%d.%d", &major, &minor); err != nil || major != 1 || minor < 9 {
		testenv.Unavailable(t, "%s %s found; the modules need >= 1.9, < 2.0: skipping the checks that run terraform", bin, v.Version)
	}
	return bin
}

// runTerraform runs terraform offline: empty CLI config, no checkpoint calls, no prompts.
func runTerraform(t *testing.T, bin, dir string, args ...string) (string, error) {
	t.Helper()
	cfg := filepath.Join(t.TempDir(), "terraformrc")
	if err := os.WriteFile(cfg, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(),
		"TF_CLI_CONFIG_FILE="+cfg, "CHECKPOINT_DISABLE=1", "TF_IN_AUTOMATION=1", "TF_INPUT=0",
		"TF_PLUGIN_CACHE_DIR=", "TF_LOG=",
	)
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = &out
	err := cmd.Run()
	return out.String(), err
}

func mustTerraform(t *testing.T, bin, dir string, args ...string) string {
	t.Helper()
	out, err := runTerraform(t, bin, dir, args...)
	if err != nil {
		t.Fatalf("terraform %s in %s: %v\n%s", strings.Join(args, " "), dir, err, out)
	}
	return out
}

func TestTerraformFmt(t *testing.T) {
	bin := terraformBinary(t)
	if out, err := runTerraform(t, bin, tfRoot(t), "fmt", "-check", "-recursive", "-diff", "."); err != nil {
		t.Fatalf("terraform fmt -check -recursive: %v\n%s", err, out)
	}
}

// copyTree copies src to dst, skipping .terraform directories and state.
func copyTree(t *testing.T, src, dst string) {
	t.Helper()
	err := filepath.WalkDir(src, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, path)
		if d.IsDir() {
			if d.Name() == ".terraform" {
				return filepath.SkipDir
			}
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// planOutputs writes a root module calling the module at rel (inside a copy of terraform/modules)
// with the inputs, and returns the planned value of every output, as terraform computes it.
func planOutputs(t *testing.T, bin, rel string, inputs map[string]cty.Value) map[string]any {
	t.Helper()
	dir := t.TempDir()
	copyTree(t, filepath.Join(tfRoot(t), "modules"), filepath.Join(dir, "modules"))
	f := hclwrite.NewEmptyFile()
	mod := f.Body().AppendNewBlock("module", []string{"under_test"}).Body()
	mod.SetAttributeValue("source", cty.StringVal("./"+rel))
	for _, k := range sortedKeys(inputs) {
		mod.SetAttributeValue(k, inputs[k])
	}
	f.Body().AppendNewline()
	out := f.Body().AppendNewBlock("output", []string{"all"}).Body()
	out.SetAttributeRaw("value", hclwrite.TokensForTraversal(traversal("module", "under_test")))
	if err := os.WriteFile(filepath.Join(dir, "main.tf"), f.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	mustTerraform(t, bin, dir, "init", "-backend=false", "-input=false", "-no-color")
	mustTerraform(t, bin, dir, "validate", "-no-color")
	mustTerraform(t, bin, dir, "plan", "-input=false", "-no-color", "-lock=false", "-out=plan.bin")
	js := mustTerraform(t, bin, dir, "show", "-json", "plan.bin")
	var plan struct {
		PlannedValues struct {
			Outputs map[string]struct {
				Value map[string]any `json:"value"`
			} `json:"outputs"`
		} `json:"planned_values"`
	}
	if err := json.Unmarshal([]byte(js), &plan); err != nil {
		t.Fatalf("terraform show -json: %v", err)
	}
	return plan.PlannedValues.Outputs["all"].Value
}

// TestTerraformEvaluatesDocumentsLikeTheGoTests: terraform itself inits, validates and plans the
// provider-free documents modules offline, and computes the same outputs as the Go evaluator that
// the policy tests rely on.
func TestTerraformEvaluatesDocumentsLikeTheGoTests(t *testing.T) {
	bin := terraformBinary(t)
	type run struct {
		name, rel string
		inputs    map[string]cty.Value
	}
	var runs []run
	for _, sc := range mainDocScenarios() {
		runs = append(runs, run{"main/" + sc.name, mainDocuments, sc.inputs})
	}
	runs = append(runs, run{"forwarder", forwarderDocuments, forwarderDocInputs()})
	for _, r := range runs {
		t.Run(r.name, func(t *testing.T) {
			tf := planOutputs(t, bin, r.rel, r.inputs)
			goOut := evalModule(t, loadModule(t, r.rel), r.inputs)
			if len(tf) != len(goOut) {
				t.Errorf("terraform has %d outputs, the Go evaluator %d", len(tf), len(goOut))
			}
			for name, gv := range goOut {
				want := normaliseJSON(t, ctyToJSON(t, gv))
				got := normaliseJSON(t, tf[name])
				if !reflect.DeepEqual(got, want) {
					t.Errorf("output %s differs:\nterraform: %v\ngo:        %v", name, got, want)
				}
			}
		})
	}
}

func ctyToJSON(t *testing.T, v cty.Value) any {
	t.Helper()
	b, err := ctyjson.Marshal(v, v.Type())
	if err != nil {
		t.Fatal(err)
	}
	var out any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// normaliseJSON decodes strings that hold JSON (policies, the pattern) so that formatting differences
// between terraform's and go-cty's encoders do not matter, only content.
func normaliseJSON(t *testing.T, v any) any {
	switch x := v.(type) {
	case string:
		var inner any
		if (strings.HasPrefix(x, "{") || strings.HasPrefix(x, "[")) && json.Unmarshal([]byte(x), &inner) == nil {
			return normaliseJSON(t, inner)
		}
		return x
	case map[string]any:
		out := map[string]any{}
		for k, e := range x {
			out[k] = normaliseJSON(t, e)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = normaliseJSON(t, e)
		}
		return out
	}
	return v
}

// TestTerraformVariableValidations runs the real validations of the public modules: their variables.tf
// alone is provider-free, so terraform can plan it offline. Good values plan; each bad value fails
// with its own variable named in the error.
func TestTerraformVariableValidations(t *testing.T) {
	bin := terraformBinary(t)
	for _, vc := range validationCases() {
		t.Run(vc.module, func(t *testing.T) {
			dir := t.TempDir()
			src, err := os.ReadFile(filepath.Join(tfRoot(t), vc.module, "variables.tf"))
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, "variables.tf"), src, 0o644); err != nil {
				t.Fatal(err)
			}
			versions := "terraform {\n  required_version = \">= 1.9.0, < 2.0.0\"\n}\n"
			if err := os.WriteFile(filepath.Join(dir, "versions.tf"), []byte(versions), 0o644); err != nil {
				t.Fatal(err)
			}
			mustTerraform(t, bin, dir, "init", "-backend=false", "-input=false", "-no-color")
			plan := func(vars map[string]cty.Value) (string, error) {
				obj := map[string]any{}
				for k, v := range vars {
					obj[k] = ctyToJSON(t, v)
				}
				b, _ := json.Marshal(obj)
				if err := os.WriteFile(filepath.Join(dir, "case.tfvars.json"), b, 0o644); err != nil {
					t.Fatal(err)
				}
				return runTerraform(t, bin, dir, "plan", "-input=false", "-no-color", "-lock=false", "-var-file=case.tfvars.json")
			}
			if out, err := plan(vc.required); err != nil {
				t.Fatalf("defaults rejected by terraform: %v\n%s", err, out)
			}
			for _, name := range sortedKeys(vc.bad) {
				in := map[string]cty.Value{}
				for k, v := range vc.required {
					in[k] = v
				}
				for k, v := range vc.bad[name] {
					in[k] = v
				}
				out, err := plan(in)
				if err == nil {
					t.Errorf("terraform accepted bad %s: %v", name, vc.bad[name])
					continue
				}
				if !strings.Contains(out, fmt.Sprintf("var.%s", name)) && !strings.Contains(out, fmt.Sprintf("variable %q", name)) {
					t.Errorf("bad %s: terraform failed, but not on that variable:\n%s", name, out)
				}
			}
		})
	}
}
