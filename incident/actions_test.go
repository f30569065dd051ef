package incident

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestActionsListsEveryConstant reads every Go file of the module (tests
// and testdata aside) and requires that each constant of type Action or
// AuthEvent, wherever it is declared, is in Actions(), and that no call
// recording an audit entry passes its action as a string literal. So an
// action added without its place in the list (and so without labels, see
// web's TestTrailActionLabels) fails here.
func TestActionsListsEveryConstant(t *testing.T) {
	listed := map[string]bool{}
	for _, a := range Actions() {
		if listed[string(a)] {
			t.Errorf("Actions() lists %q twice", a)
		}
		listed[string(a)] = true
	}
	declared := 0
	fset := token.NewFileSet()
	err := filepath.WalkDir("..", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if name := d.Name(); name == "testdata" || (strings.HasPrefix(name, ".") && name != "..") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, 0)
		if err != nil {
			return err
		}
		ast.Inspect(f, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.ValueSpec:
				if !isActionType(n.Type) {
					return true
				}
				for i, v := range n.Values {
					lit, ok := v.(*ast.BasicLit)
					if !ok || lit.Kind != token.STRING {
						continue
					}
					code, err := strconv.Unquote(lit.Value)
					if err != nil {
						t.Errorf("%s: %v", fset.Position(lit.Pos()), err)
						continue
					}
					declared++
					if !listed[code] {
						t.Errorf("%s: %s = %q is not in Actions()", fset.Position(lit.Pos()), n.Names[i].Name, code)
					}
				}
			case *ast.CallExpr:
				if arg := actionArg(n); arg != nil && containsLiteral(arg) {
					t.Errorf("%s: audit action given as a literal; use an Action constant", fset.Position(arg.Pos()))
				}
			}
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// The walk must have found the constants of this package at least.
	if declared < len(Actions()) {
		t.Fatalf("found %d action constants in the module, Actions() lists %d: some listed action has no constant", declared, len(Actions()))
	}
}

// isActionType reports whether a declared type is Action or AuthEvent,
// qualified or not.
func isActionType(e ast.Expr) bool {
	switch e := e.(type) {
	case *ast.Ident:
		return e.Name == "Action" || e.Name == "AuthEvent"
	case *ast.SelectorExpr:
		return isActionType(e.Sel)
	}
	return false
}

// actionArg returns the action argument of a call that records an audit
// entry, or nil.
func actionArg(c *ast.CallExpr) ast.Expr {
	sel, ok := c.Fun.(*ast.SelectorExpr)
	if !ok {
		return nil
	}
	pos := map[string]int{"record": 3, "RecordAuthEvent": 2, "RecordAuthChange": 2}
	i, ok := pos[sel.Sel.Name]
	if !ok || len(c.Args) <= i {
		return nil
	}
	return c.Args[i]
}

func containsLiteral(e ast.Expr) bool {
	found := false
	ast.Inspect(e, func(n ast.Node) bool {
		if lit, ok := n.(*ast.BasicLit); ok && lit.Kind == token.STRING {
			found = true
		}
		return !found
	})
	return found
}

func TestStepAction(t *testing.T) {
	for _, tc := range []struct {
		to   StepState
		want Action
	}{
		{StepDone, "step.done"},
		{StepImpossible, "step.impossible"},
	} {
		if got := stepAction(tc.to); got != tc.want {
			t.Errorf("stepAction(%s) = %s, want %s", tc.to, got, tc.want)
		}
	}
}
