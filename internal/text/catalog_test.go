package text_test

import (
	"bytes"
	"encoding/json"
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

	"galenix/internal/text"
)

// TestCatalogueLanguages: every key is in both languages, written, and
// takes its arguments in both or in neither.
func TestCatalogueLanguages(t *testing.T) {
	fr, en := text.Keys(text.FR), text.Keys(text.EN)
	in := func(keys []string) map[string]bool {
		m := map[string]bool{}
		for _, k := range keys {
			m[k] = true
		}
		return m
	}
	inFR, inEN := in(fr), in(en)
	for _, k := range fr {
		if !inEN[k] {
			t.Errorf("%q is in fr.json, not in en.json", k)
		}
	}
	for _, k := range en {
		if !inFR[k] {
			t.Errorf("%q is in en.json, not in fr.json", k)
		}
	}
	verb := regexp.MustCompile(`%(\[\d+\])?[-+# 0]*\d*(\.\d+)?[a-zA-Z]`)
	for _, k := range fr {
		f, _ := text.Message(text.FR, k)
		e, _ := text.Message(text.EN, k)
		if strings.TrimSpace(f) == "" || strings.TrimSpace(e) == "" {
			t.Errorf("%q is empty in a language: %q %q", k, f, e)
		}
		if nf, ne := len(verb.FindAllString(f, -1)), len(verb.FindAllString(e, -1)); (nf == 0) != (ne == 0) && oneSided[k] == "" {
			t.Errorf("%q takes arguments in one language only: %q %q", k, f, e)
		}
	}
}

// oneSided are the messages whose arguments one language leaves out, and
// why.
var oneSided = map[string]string{
	"store.key_not_site_audit": "the English names the key's fault, as before the catalogue; the French never did",
}

// keyArgs names the functions that take a message key, and the position of
// the key among their arguments: a string literal there must be a key of
// the catalogue.
var keyArgs = map[string]int{
	"errs.E": 1, "errs.Field": 1, "text.Render": 1, "text.Code": 0, "text.Has": 0, "text.Key": 0, "text.Message": 1,
	"text.RenderCount": 1, "tr": 1, "hasMsg": 0, "notFound": 1, "tx.byID": 3, "errChallenge": 0, "bad": 1,
}

// templateKey finds the keys the templates ask for: {{t "key"}}, {{tf "key" ...}},
// {{tn "key" n ...}}.
var templateKey = regexp.MustCompile(`\b(?:t|tf|tn)\s+"([^"]+)"`)

// source is every Go file (tests left out) and template of the module.
type source struct {
	root  string
	files map[string][]byte
}

func readSource(t *testing.T) source {
	t.Helper()
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatalf("the module's root: %v", err)
	}
	s := source{root: root, files: map[string][]byte{}}
	err = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (strings.HasPrefix(d.Name(), ".") || d.Name() == "testdata") && p != root {
			return filepath.SkipDir
		}
		if d.IsDir() || strings.HasSuffix(p, "_test.go") || !(strings.HasSuffix(p, ".go") || strings.HasSuffix(p, ".html")) {
			return nil
		}
		b, err := os.ReadFile(p)
		s.files[filepath.ToSlash(strings.TrimPrefix(p, root+string(filepath.Separator)))] = b
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// keysUsed returns the key literals at the key positions of the Go code
// and in the templates, with where each is used.
func (s source) keysUsed(t *testing.T) map[string]string {
	t.Helper()
	used := map[string]string{}
	for name, b := range s.files {
		if strings.HasSuffix(name, ".html") {
			for _, m := range templateKey.FindAllStringSubmatch(string(b), -1) {
				used[m[1]] = name
			}
			continue
		}
		fset := token.NewFileSet()
		f, err := parser.ParseFile(fset, name, b, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			switch x := n.(type) {
			case *ast.CallExpr:
				i, ok := keyArgs[exprName(x.Fun)]
				if ok && i < len(x.Args) {
					if k, ok := stringLit(x.Args[i]); ok {
						used[k] = fset.Position(x.Pos()).String()
					}
				}
			case *ast.KeyValueExpr:
				if id, ok := x.Key.(*ast.Ident); ok && id.Name == "Key" {
					if k, ok := stringLit(x.Value); ok {
						used[k] = fset.Position(x.Pos()).String()
					}
				}
			}
			return true
		})
	}
	return used
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

func stringLit(e ast.Expr) (string, bool) {
	l, ok := e.(*ast.BasicLit)
	if !ok || l.Kind != token.STRING {
		return "", false
	}
	s, err := strconv.Unquote(l.Value)
	return s, err == nil
}

// TestCatalogueKeysUsedExist: a key the code or a template asks for is in
// the catalogue. The batch record's files not converted yet still pass
// sentences (see internal/errs), which are no keys.
func TestCatalogueKeysUsedExist(t *testing.T) {
	for k, where := range readSource(t).keysUsed(t) {
		if !text.Has(k) {
			if strings.ContainsAny(k, " ") && legacyFile(where) {
				continue
			}
			t.Errorf("%s asks for %q, which the catalogue lacks", where, k)
		}
	}
}

// legacyFile reports whether name is one of the files whose errors still
// carry whole sentences: the batch record's rules, being moved into
// internal/production, and two files of the wiring being changed at the
// same time; their messages move into the catalogue after.
func legacyFile(name string) bool {
	for _, p := range []string{} {
		if strings.Contains(name, p) {
			return true
		}
	}
	return false
}

// dynamic are the families of keys the code builds from a value (an enum's
// labels, a form's fields, a status code's title) rather than writes out:
// the literal prefix is what the code holds.
var dynamic = []string{
	"field.", "hint.", "error.title.", "meaning.", "identity.refused.", "drill.failure.", "drill.figure.",
	"error.idem.", "floor.notice.", "master.notice.", "prod.tab.", "sign.help.", "weekday.",
	"samplekind.", "deviationstate.", "deviationclass.", "specstatus.", "specmove.", "coa.verdict.", "release.done.", "release.decision.", "release.oos.",
	"lab.notice.", "lab.tab.", "audit.pdf.mark.",
	"audit.field.", "audit.command.", "audit.record.", "audit.refusal.", "overview.lines.",
}

// TestCatalogueKeysUsed: every key of the catalogue is used: written out in
// the Go code or a template, or of a family the code builds (dynamic, an
// enum's labels through label or enumOptions, an entity's form titles).
func TestCatalogueKeysUsed(t *testing.T) {
	src := readSource(t)
	var all strings.Builder
	for _, b := range src.files {
		all.Write(b)
		all.WriteByte('\n')
	}
	code := all.String()
	for _, k := range text.Keys(text.FR) {
		if strings.Contains(code, strconv.Quote(k)) {
			continue
		}
		if usedDynamically(code, k) {
			continue
		}
		t.Errorf("%q is in the catalogue, used nowhere", k)
	}
}

// usedDynamically reports whether key k belongs to a family the code
// builds: a prefix of the dynamic list, an enum ("grade" for "grade.A",
// passed to label or to enumOptions), or an entity's ".new"/".edit" title.
func usedDynamically(code, k string) bool {
	// A message's singular form is used where the message is
	// (text.RenderCount).
	if base, ok := strings.CutSuffix(k, text.PluralOne); ok && strings.Contains(code, strconv.Quote(base)) {
		return true
	}
	for _, p := range dynamic {
		if strings.HasPrefix(k, p) && strings.Contains(code, `"`+p) {
			return true
		}
	}
	i := strings.LastIndexByte(k, '.')
	if i < 0 {
		return false
	}
	family, last := k[:i], k[i+1:]
	if strings.Contains(code, "label "+strconv.Quote(family)) || regexp.MustCompile(`enumOptions\([^,()]+, `+regexp.QuoteMeta(strconv.Quote(family))).MatchString(code) ||
		strings.Contains(code, strconv.Quote(family)+",") && (last == "new" || last == "edit") {
		return true
	}
	return false
}

// TestCatalogueKeysOnce: a key is written once in each file. A JSON
// decoder keeps the last of two silently, so a key added twice (two
// changes merged) would change its words without anyone seeing it.
func TestCatalogueKeysOnce(t *testing.T) {
	for _, lang := range []string{"fr", "en"} {
		b, err := os.ReadFile(filepath.Join("catalog", lang+".json"))
		if err != nil {
			t.Fatal(err)
		}
		d := json.NewDecoder(bytes.NewReader(b))
		if _, err := d.Token(); err != nil {
			t.Fatal(err)
		}
		seen := map[string]bool{}
		for d.More() {
			k, err := d.Token()
			if err != nil {
				t.Fatal(err)
			}
			var v json.RawMessage
			if err := d.Decode(&v); err != nil {
				t.Fatal(err)
			}
			if seen[k.(string)] {
				t.Errorf("%s.json: %q is written twice", lang, k)
			}
			seen[k.(string)] = true
		}
		if len(seen) < 100 {
			t.Fatalf("%s.json: %d keys read", lang, len(seen))
		}
	}
}
