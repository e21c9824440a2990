package errs_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// legacy are the files whose errors may still carry whole sentences, with
// the deprecated constructors: none any more; the list stays empty.
var legacy = []string{}

func isLegacy(name string) bool {
	for _, p := range legacy {
		if strings.HasPrefix(name, p) {
			return true
		}
	}
	return false
}

// key is the shape of a catalogue key: "site.room.name_required".
var key = regexp.MustCompile(`^[a-z0-9_]+(\.[a-z0-9_:-]+)+$`)

// TestNoSentences: outside the legacy files, an error is built with a
// catalogue key (errs.E, errs.Field, errs.Error{Key: ...}), never with the
// sentences themselves: no sentence literal, no concatenation, no
// fmt.Sprintf, no deprecated constructor or field.
func TestNoSentences(t *testing.T) {
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	checked := 0
	err = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && strings.HasPrefix(d.Name(), ".") && p != root {
			return filepath.SkipDir
		}
		name := filepath.ToSlash(strings.TrimPrefix(p, root+string(filepath.Separator)))
		if d.IsDir() || !strings.HasSuffix(p, ".go") || isLegacy(name) || strings.HasPrefix(name, "internal/errs/") {
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		fset := token.NewFileSet()
		f, err := parser.ParseFile(fset, name, b, 0)
		if err != nil {
			return err
		}
		ast.Inspect(f, func(n ast.Node) bool {
			switch x := n.(type) {
			case *ast.SelectorExpr:
				if id, ok := x.X.(*ast.Ident); ok && id.Name == "errs" && (x.Sel.Name == "Sentences" || x.Sel.Name == "FieldSentences") {
					t.Errorf("%s: errs.%s is for the legacy files only; use a catalogue key", fset.Position(x.Pos()), x.Sel.Name)
				}
			case *ast.CallExpr:
				// The store's not-found helpers take a catalogue key.
				if fn := exprName(x.Fun); (fn == "notFound" && len(x.Args) >= 2) || (fn == "tx.byID" && len(x.Args) >= 4) {
					i := 1
					if fn == "tx.byID" {
						i = 3
					}
					checkKey(t, fset, x.Args[i])
				}
				sel, ok := x.Fun.(*ast.SelectorExpr)
				if !ok || len(x.Args) < 2 {
					return true
				}
				if id, ok := sel.X.(*ast.Ident); !ok || id.Name != "errs" || (sel.Sel.Name != "E" && sel.Sel.Name != "Field") {
					return true
				}
				checked++
				checkKey(t, fset, x.Args[1])
			case *ast.CompositeLit:
				if sel, ok := x.Type.(*ast.SelectorExpr); !ok || sel.Sel.Name != "Error" {
					return true
				}
				for _, el := range x.Elts {
					kv, ok := el.(*ast.KeyValueExpr)
					if !ok {
						continue
					}
					switch k := kv.Key.(*ast.Ident); k.Name {
					case "Message", "MessageFR":
						t.Errorf("%s: errs.Error's %s is for the legacy files only; set Key", fset.Position(kv.Pos()), k.Name)
					case "Key":
						checkKey(t, fset, kv.Value)
					}
				}
			}
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if checked < 100 {
		t.Errorf("only %d call sites of errs.E and errs.Field checked: is the walk looking at the module?", checked)
	}
}

// checkKey fails on a message argument that is a sentence: a literal that
// is no key, a concatenation or a formatted string.
func checkKey(t *testing.T, fset *token.FileSet, e ast.Expr) {
	t.Helper()
	switch x := e.(type) {
	case *ast.BasicLit:
		s, err := strconv.Unquote(x.Value)
		if err != nil || !key.MatchString(s) {
			t.Errorf("%s: %s is a sentence, not a catalogue key", fset.Position(x.Pos()), x.Value)
		}
	case *ast.BinaryExpr:
		t.Errorf("%s: a message built by concatenation; use a catalogue key and arguments", fset.Position(x.Pos()))
	case *ast.CallExpr:
		t.Errorf("%s: a message built by a call; use a catalogue key and arguments", fset.Position(x.Pos()))
	}
}

func exprName(e ast.Expr) string {
	switch x := e.(type) {
	case *ast.Ident:
		return x.Name
	case *ast.SelectorExpr:
		return exprName(x.X) + "." + x.Sel.Name
	}
	return ""
}
