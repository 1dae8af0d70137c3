package terraform_test

import (
	"fmt"
	"os"
	"sort"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/ext/tryfunc"
	"github.com/hashicorp/hcl/v2/ext/typeexpr"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
	"github.com/zclconf/go-cty/cty/function"
	"github.com/zclconf/go-cty/cty/function/stdlib"
)

// The Terraform functions the modules use, with Terraform's semantics. Terraform itself builds most of
// them from the same go-cty stdlib; the few it defines itself are re-implemented here. A function the
// configuration calls but this table lacks makes the evaluation fail, so the table cannot silently
// fall behind the .tf files.
func tfFunctions() map[string]function.Function {
	return map[string]function.Function{
		"alltrue":     boolFold(true),
		"anytrue":     boolFold(false),
		"can":         tryfunc.CanFunc,
		"coalesce":    stdlib.CoalesceFunc,
		"compact":     stdlib.CompactFunc,
		"concat":      stdlib.ConcatFunc,
		"contains":    stdlib.ContainsFunc,
		"distinct":    stdlib.DistinctFunc,
		"endswith":    stringPredicate(strings.HasSuffix),
		"file":        fileFunc,
		"flatten":     stdlib.FlattenFunc,
		"floor":       stdlib.FloorFunc,
		"format":      stdlib.FormatFunc,
		"join":        stdlib.JoinFunc,
		"jsondecode":  stdlib.JSONDecodeFunc,
		"jsonencode":  stdlib.JSONEncodeFunc,
		"keys":        stdlib.KeysFunc,
		"length":      lengthFunc,
		"lookup":      stdlib.LookupFunc,
		"lower":       stdlib.LowerFunc,
		"merge":       stdlib.MergeFunc,
		"regex":       stdlib.RegexFunc,
		"sort":        stdlib.SortFunc,
		"startswith":  stringPredicate(strings.HasPrefix),
		"strcontains": stringPredicate(strings.Contains),
		"tolist":      convertFunc(cty.List(cty.DynamicPseudoType)),
		"tonumber":    convertFunc(cty.Number),
		"toset":       convertFunc(cty.Set(cty.DynamicPseudoType)),
		"tostring":    convertFunc(cty.String),
		"trimsuffix":  stdlib.TrimSuffixFunc,
		"try":         tryfunc.TryFunc,
		"upper":       stdlib.UpperFunc,
		"values":      stdlib.ValuesFunc,
	}
}

// boolFold is alltrue (all=true) or anytrue (all=false).
func boolFold(all bool) function.Function {
	return function.New(&function.Spec{
		Params: []function.Parameter{{Name: "list", Type: cty.List(cty.Bool)}},
		Type:   function.StaticReturnType(cty.Bool),
		Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
			res := all
			for it := args[0].ElementIterator(); it.Next(); {
				_, v := it.Element()
				if v.IsNull() {
					return cty.False, nil
				}
				if all && v.False() {
					res = false
				}
				if !all && v.True() {
					res = true
				}
			}
			return cty.BoolVal(res), nil
		},
	})
}

func stringPredicate(f func(s, x string) bool) function.Function {
	return function.New(&function.Spec{
		Params: []function.Parameter{{Name: "str", Type: cty.String}, {Name: "x", Type: cty.String}},
		Type:   function.StaticReturnType(cty.Bool),
		Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
			return cty.BoolVal(f(args[0].AsString(), args[1].AsString())), nil
		},
	})
}

var fileFunc = function.New(&function.Spec{
	Params: []function.Parameter{{Name: "path", Type: cty.String}},
	Type:   function.StaticReturnType(cty.String),
	Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
		b, err := os.ReadFile(args[0].AsString())
		if err != nil {
			return cty.NilVal, err
		}
		if !utf8.Valid(b) {
			return cty.NilVal, fmt.Errorf("%s is not UTF-8", args[0].AsString())
		}
		return cty.StringVal(string(b)), nil
	},
})

var lengthFunc = function.New(&function.Spec{
	Params: []function.Parameter{{Name: "value", Type: cty.DynamicPseudoType}},
	Type:   function.StaticReturnType(cty.Number),
	Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
		v := args[0]
		if v.Type() == cty.String {
			return stdlib.Strlen(v)
		}
		if !v.CanIterateElements() {
			return cty.NilVal, fmt.Errorf("length of %s", v.Type().FriendlyName())
		}
		return cty.NumberIntVal(int64(v.LengthInt())), nil
	},
})

func convertFunc(ty cty.Type) function.Function {
	return function.New(&function.Spec{
		Params: []function.Parameter{{Name: "v", Type: cty.DynamicPseudoType, AllowNull: true}},
		Type: func(args []cty.Value) (cty.Type, error) {
			v, err := convert.Convert(args[0], ty)
			if err != nil {
				return cty.NilType, err
			}
			return v.Type(), nil
		},
		Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
			return convert.Convert(args[0], ty)
		},
	})
}

// variableValues resolves a module's variables from inputs and defaults, the way Terraform does:
// type conversion, optional-attribute defaults, required variables.
func variableValues(t testing.TB, m *tfModule, inputs map[string]cty.Value) map[string]cty.Value {
	t.Helper()
	for name := range inputs {
		if _, ok := m.Variables[name]; !ok {
			t.Fatalf("%s: input %q is not a variable of the module", m.Rel, name)
		}
	}
	out := map[string]cty.Value{}
	for name, b := range m.Variables {
		tyAttr := attr(b, "type")
		if tyAttr == nil {
			t.Fatalf("%s: variable %q has no type", m.Rel, name)
		}
		ty, defaults, diags := typeexpr.TypeConstraintWithDefaults(tyAttr.Expr)
		if diags.HasErrors() {
			t.Fatalf("%s: variable %q type: %s", m.Rel, name, diags.Error())
		}
		v, given := inputs[name]
		if !given {
			def := attr(b, "default")
			if def == nil {
				t.Fatalf("%s: required variable %q not given", m.Rel, name)
			}
			dv, diags := def.Expr.Value(nil)
			if diags.HasErrors() {
				t.Fatalf("%s: variable %q default: %s", m.Rel, name, diags.Error())
			}
			v = dv
		}
		if defaults != nil && !v.IsNull() {
			v = defaults.Apply(v)
		}
		cv, err := convert.Convert(v, ty)
		if err != nil {
			t.Fatalf("%s: variable %q: %v", m.Rel, name, err)
		}
		out[name] = cv
	}
	return out
}

// failedValidations returns the variables whose validation blocks reject the values, with messages.
func failedValidations(t testing.TB, m *tfModule, vars map[string]cty.Value) map[string]string {
	t.Helper()
	ctx := &hcl.EvalContext{
		Variables: map[string]cty.Value{"var": objectOf(vars)},
		Functions: tfFunctions(),
	}
	failed := map[string]string{}
	for name, b := range m.Variables {
		for _, v := range nestedBlocks(b, "validation") {
			cond := attr(v, "condition")
			if cond == nil || attr(v, "error_message") == nil {
				t.Fatalf("%s: variable %q: validation without condition or error_message", m.Rel, name)
			}
			res, diags := cond.Expr.Value(ctx)
			if diags.HasErrors() {
				failed[name] = "error evaluating condition: " + diags.Error()
				continue
			}
			if res.IsNull() || !res.IsKnown() || res.Type() != cty.Bool {
				t.Fatalf("%s: variable %q: condition is not a known bool", m.Rel, name)
			}
			if res.False() {
				msg, _ := literalString(attr(v, "error_message").Expr)
				failed[name] = msg
			}
		}
	}
	return failed
}

// evalModule evaluates a provider-free module: variables, every local (in dependency order) and every
// output. It fails the test on any error, as `terraform plan` would.
func evalModule(t testing.TB, m *tfModule, inputs map[string]cty.Value) map[string]cty.Value {
	t.Helper()
	if len(m.Resources) > 0 || len(m.Data) > 0 || len(m.Modules) > 0 {
		t.Fatalf("%s: evalModule only handles provider-free modules (no resources, data or module calls)", m.Rel)
	}
	vars := variableValues(t, m, inputs)
	if failed := failedValidations(t, m, vars); len(failed) > 0 {
		t.Fatalf("%s: validations rejected the inputs: %v", m.Rel, failed)
	}
	locals := map[string]cty.Value{}
	ctx := func() *hcl.EvalContext {
		return &hcl.EvalContext{
			Variables: map[string]cty.Value{
				"var":   objectOf(vars),
				"local": objectOf(locals),
				"path":  cty.ObjectVal(map[string]cty.Value{"module": cty.StringVal(m.Dir), "root": cty.StringVal(m.Dir), "cwd": cty.StringVal(m.Dir)}),
			},
			Functions: tfFunctions(),
		}
	}
	pending := map[string]*hclsyntax.Attribute{}
	for k, a := range m.Locals {
		pending[k] = a
	}
	for len(pending) > 0 {
		progress := false
		names := sortedKeys(pending)
		for _, name := range names {
			a := pending[name]
			ready := true
			for _, tr := range a.Expr.Variables() {
				if tr.RootName() != "local" || len(tr) < 2 {
					continue
				}
				dep := tr[1].(hcl.TraverseAttr).Name
				if _, ok := locals[dep]; !ok {
					if _, declared := m.Locals[dep]; !declared {
						t.Fatalf("%s: local.%s refers to undeclared local.%s", m.Rel, name, dep)
					}
					ready = false
				}
			}
			if !ready {
				continue
			}
			v, diags := a.Expr.Value(ctx())
			if diags.HasErrors() {
				t.Fatalf("%s: local.%s: %s", m.Rel, name, diags.Error())
			}
			locals[name] = v
			delete(pending, name)
			progress = true
		}
		if !progress {
			t.Fatalf("%s: locals form a cycle: %v", m.Rel, sortedKeys(pending))
		}
	}
	outputs := map[string]cty.Value{}
	for name, b := range m.Outputs {
		va := attr(b, "value")
		if va == nil {
			t.Fatalf("%s: output %q has no value", m.Rel, name)
		}
		v, diags := va.Expr.Value(ctx())
		if diags.HasErrors() {
			t.Fatalf("%s: output %q: %s", m.Rel, name, diags.Error())
		}
		outputs[name] = v
	}
	return outputs
}

func objectOf(m map[string]cty.Value) cty.Value {
	if len(m) == 0 {
		return cty.EmptyObjectVal
	}
	return cty.ObjectVal(m)
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Helpers to write inputs.
func str(s string) cty.Value { return cty.StringVal(s) }

func strList(ss ...string) cty.Value {
	if len(ss) == 0 {
		return cty.ListValEmpty(cty.String)
	}
	vs := make([]cty.Value, len(ss))
	for i, s := range ss {
		vs[i] = cty.StringVal(s)
	}
	return cty.ListVal(vs)
}

func strMap(kv map[string]string) cty.Value {
	if len(kv) == 0 {
		return cty.MapValEmpty(cty.String)
	}
	vs := map[string]cty.Value{}
	for k, v := range kv {
		vs[k] = cty.StringVal(v)
	}
	return cty.MapVal(vs)
}

func traversal(names ...string) hcl.Traversal {
	tr := hcl.Traversal{hcl.TraverseRoot{Name: names[0]}}
	for _, n := range names[1:] {
		tr = append(tr, hcl.TraverseAttr{Name: n})
	}
	return tr
}
