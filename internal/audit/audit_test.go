package audit

import (
	"go/ast"
	"go/parser"
	"go/token"
	"slices"
	"strconv"
	"testing"
)

// TestKindsListsEveryKind: Kinds is written by hand, and `inkpass audit
// -kind` refuses a kind it does not list, so a constant added without it
// could never be filtered on. Every Kind constant declared in this package
// must be in Kinds, once.
func TestKindsListsEveryKind(t *testing.T) {
	f, err := parser.ParseFile(token.NewFileSet(), "audit.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	var declared []Kind
	for _, d := range f.Decls {
		g, ok := d.(*ast.GenDecl)
		if !ok || g.Tok != token.CONST {
			continue
		}
		for _, spec := range g.Specs {
			vs := spec.(*ast.ValueSpec)
			if id, ok := vs.Type.(*ast.Ident); !ok || id.Name != "Kind" {
				continue
			}
			for _, v := range vs.Values {
				lit, ok := v.(*ast.BasicLit)
				if !ok {
					t.Fatalf("Kind constant with a non-literal value at %v", v.Pos())
				}
				s, err := strconv.Unquote(lit.Value)
				if err != nil {
					t.Fatal(err)
				}
				declared = append(declared, Kind(s))
			}
		}
	}
	if len(declared) < 20 {
		t.Fatalf("found only %d Kind constants in audit.go; the parse is wrong", len(declared))
	}
	for _, k := range declared {
		if !slices.Contains(Kinds, k) {
			t.Errorf("kind %q is declared but missing from Kinds", k)
		}
	}
	if len(Kinds) != len(declared) {
		t.Errorf("Kinds has %d entries, %d kinds are declared (a duplicate or a stray)", len(Kinds), len(declared))
	}
}
