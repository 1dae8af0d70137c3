package terraform_test

import (
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// repoRoot is the directory holding go.mod (tests run in terraform/).
func repoRoot(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("go.mod not found above the test directory")
		}
		dir = parent
	}
}

func tfRoot(t testing.TB) string { return filepath.Join(repoRoot(t), "terraform") }

// Paths of the modules, relative to terraform/.
const (
	mainModule         = "modules/secretwatch"
	mainDocuments      = "modules/secretwatch/modules/documents"
	forwarderModule    = "modules/secretwatch-forwarder"
	forwarderDocuments = "modules/secretwatch-forwarder/modules/documents"
	eventPatternFile   = "modules/secretwatch/event-pattern.json"
)

// tfModule is one directory of .tf files, parsed with the native HCL syntax.
type tfModule struct {
	Dir       string // absolute
	Rel       string // relative to terraform/
	Files     map[string]*hclsyntax.Body
	Src       map[string][]byte
	Variables map[string]*hclsyntax.Block
	Outputs   map[string]*hclsyntax.Block
	Locals    map[string]*hclsyntax.Attribute
	Resources map[string]*hclsyntax.Block // "type.name"
	Data      map[string]*hclsyntax.Block // "type.name"
	Modules   map[string]*hclsyntax.Block
	Terraform []*hclsyntax.Block
}

func loadModule(t testing.TB, rel string) *tfModule {
	t.Helper()
	dir := filepath.Join(tfRoot(t), filepath.FromSlash(rel))
	m := &tfModule{
		Dir: dir, Rel: rel,
		Files: map[string]*hclsyntax.Body{}, Src: map[string][]byte{},
		Variables: map[string]*hclsyntax.Block{}, Outputs: map[string]*hclsyntax.Block{},
		Locals: map[string]*hclsyntax.Attribute{}, Resources: map[string]*hclsyntax.Block{},
		Data: map[string]*hclsyntax.Block{}, Modules: map[string]*hclsyntax.Block{},
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".tf") {
			continue
		}
		path := filepath.Join(dir, e.Name())
		src, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		f, diags := hclsyntax.ParseConfig(src, path, hcl.InitialPos)
		if diags.HasErrors() {
			t.Fatalf("parse %s: %s", path, diags.Error())
		}
		body := f.Body.(*hclsyntax.Body)
		m.Files[e.Name()] = body
		m.Src[e.Name()] = src
		if len(body.Attributes) > 0 {
			t.Errorf("%s: top-level attributes are not valid Terraform", path)
		}
		for _, b := range body.Blocks {
			key := strings.Join(b.Labels, ".")
			dup := func(kind string, exists bool) {
				if exists {
					t.Errorf("%s: duplicate %s %q", path, kind, key)
				}
			}
			switch b.Type {
			case "variable":
				_, ok := m.Variables[key]
				dup("variable", ok)
				m.Variables[key] = b
			case "output":
				_, ok := m.Outputs[key]
				dup("output", ok)
				m.Outputs[key] = b
			case "locals":
				for name, a := range b.Body.Attributes {
					if _, ok := m.Locals[name]; ok {
						t.Errorf("%s: duplicate local %q", path, name)
					}
					m.Locals[name] = a
				}
			case "resource":
				_, ok := m.Resources[key]
				dup("resource", ok)
				m.Resources[key] = b
			case "data":
				_, ok := m.Data[key]
				dup("data source", ok)
				m.Data[key] = b
			case "module":
				_, ok := m.Modules[key]
				dup("module", ok)
				m.Modules[key] = b
			case "terraform":
				m.Terraform = append(m.Terraform, b)
			case "provider":
			default:
				t.Errorf("%s: unexpected block type %q", path, b.Type)
			}
		}
	}
	if len(m.Files) == 0 {
		t.Fatalf("%s: no .tf files", dir)
	}
	return m
}

// allModuleDirs lists every directory under terraform/ that holds .tf files, relative to terraform/.
func allModuleDirs(t testing.TB) []string {
	t.Helper()
	root := tfRoot(t)
	seen := map[string]bool{}
	err := filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == ".terraform" || strings.HasPrefix(d.Name(), ".")) && path != root {
			return filepath.SkipDir
		}
		if !d.IsDir() && strings.HasSuffix(path, ".tf") {
			rel, _ := filepath.Rel(root, filepath.Dir(path))
			seen[filepath.ToSlash(rel)] = true
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for d := range seen {
		out = append(out, d)
	}
	sort.Strings(out)
	return out
}

// resourcesOfType returns the blocks of the given resource type, by name.
func (m *tfModule) resourcesOfType(typ string) map[string]*hclsyntax.Block {
	out := map[string]*hclsyntax.Block{}
	for _, b := range m.Resources {
		if b.Labels[0] == typ {
			out[b.Labels[1]] = b
		}
	}
	return out
}

// attr returns a block's attribute (nil when absent).
func attr(b *hclsyntax.Block, name string) *hclsyntax.Attribute {
	if b == nil {
		return nil
	}
	return b.Body.Attributes[name]
}

// nestedBlocks returns the direct child blocks of the given type.
func nestedBlocks(b *hclsyntax.Block, typ string) []*hclsyntax.Block {
	var out []*hclsyntax.Block
	for _, c := range b.Body.Blocks {
		if c.Type == typ {
			out = append(out, c)
		}
	}
	return out
}

// literalString evaluates an expression without context; ok is false if it is not a constant string.
func literalString(e hclsyntax.Expression) (string, bool) {
	if len(e.Variables()) > 0 {
		return "", false
	}
	v, diags := e.Value(nil)
	if diags.HasErrors() || v.IsNull() || !v.IsKnown() || v.Type().FriendlyName() != "string" {
		return "", false
	}
	return v.AsString(), true
}

// traversalString renders a reference such as module.documents.kms_key_policy (index steps as [..]).
func traversalString(e hclsyntax.Expression) (string, bool) {
	var trav hcl.Traversal
	switch x := e.(type) {
	case *hclsyntax.ScopeTraversalExpr:
		trav = x.Traversal
	case *hclsyntax.IndexExpr:
		base, ok := traversalString(x.Collection)
		if !ok {
			return "", false
		}
		return base + "[]", true
	case *hclsyntax.RelativeTraversalExpr:
		base, ok := traversalString(x.Source)
		if !ok {
			return "", false
		}
		return base + traversalTail(x.Traversal), true
	default:
		return "", false
	}
	return trav.RootName() + traversalTail(trav[1:]), true
}

func traversalTail(trav hcl.Traversal) string {
	var sb strings.Builder
	for _, step := range trav {
		switch s := step.(type) {
		case hcl.TraverseAttr:
			sb.WriteString("." + s.Name)
		case hcl.TraverseIndex:
			sb.WriteString("[]")
		case hcl.TraverseSplat:
			sb.WriteString("[*]")
		}
	}
	return sb.String()
}

// pos renders an attribute position for messages.
func pos(r hcl.Range) string {
	rel := r.Filename
	if i := strings.Index(rel, "/terraform/"); i >= 0 {
		rel = rel[i+1:]
	}
	return rel + ":" + strconv.Itoa(r.Start.Line)
}
