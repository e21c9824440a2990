package web_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"maps"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"galenix/internal/audit"
	"galenix/internal/text"
	"galenix/internal/web"
)

// auditVocabulary is what the audit trail names: the store's commands, the
// fields its entries record and the kinds of record (entities), each with
// the place of its first use. Fields whose name the code builds from a
// value ("action." + an id) are given by their literal prefix, dot kept.
type auditVocabulary struct {
	commands, fields, entities map[string]string
}

// auditNames parses the module's Go source (tests left out) for what the
// audit trail records: every audit.F("name", ...) and audit.Change{Field:
// "name"} gives a field; every audit.Change{Entity: ...}, audit.Diff(entity,
// ...) and store table{name, entity, ...} gives an entity, written as a
// string literal, a constant or a table's .entity. A field or an entity
// the enumeration cannot read fails the test: nothing escapes it.
func auditNames(t *testing.T) auditVocabulary {
	t.Helper()
	v := auditVocabulary{commands: storeCommands(t), fields: map[string]string{}, entities: map[string]string{}}
	root := filepath.Join("..", "..", "internal")
	fset := token.NewFileSet()
	type parsedFile struct {
		pkg string
		f   *ast.File
	}
	var files []parsedFile
	consts := map[string]string{} // "pkg.Name" and "Name" within store
	tables := map[string]string{} // store table variable -> entity
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "testdata" || d.Name() == "web") {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(p, ".go") || strings.HasSuffix(p, "_test.go") {
			return nil
		}
		af, err := parser.ParseFile(fset, p, nil, 0)
		if err != nil {
			return err
		}
		files = append(files, parsedFile{af.Name.Name, af})
		for _, decl := range af.Decls {
			gd, ok := decl.(*ast.GenDecl)
			if !ok {
				continue
			}
			for _, sp := range gd.Specs {
				vs, ok := sp.(*ast.ValueSpec)
				if !ok {
					continue
				}
				for i, n := range vs.Names {
					if i >= len(vs.Values) {
						continue
					}
					switch x := vs.Values[i].(type) {
					case *ast.BasicLit:
						if gd.Tok == token.CONST && x.Kind == token.STRING {
							s, _ := strconv.Unquote(x.Value)
							consts[af.Name.Name+"."+n.Name] = s
						}
					case *ast.CompositeLit:
						if id, ok := x.Type.(*ast.Ident); ok && id.Name == "table" && af.Name.Name == "store" {
							tables[n.Name] = tableEntity(x)
						}
					}
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// str resolves a name the code writes: a literal, a constant of the
	// package or of another, a store table's entity.
	str := func(pkg string, e ast.Expr) (string, bool) {
		switch x := e.(type) {
		case *ast.BasicLit:
			if x.Kind == token.STRING {
				s, err := strconv.Unquote(x.Value)
				return s, err == nil
			}
		case *ast.Ident:
			s, ok := consts[pkg+"."+x.Name]
			return s, ok
		case *ast.SelectorExpr:
			if id, ok := x.X.(*ast.Ident); ok {
				if x.Sel.Name == "entity" && pkg == "store" {
					s, ok := tables[id.Name]
					return s, ok && s != ""
				}
				s, ok := consts[id.Name+"."+x.Sel.Name]
				return s, ok
			}
		}
		return "", false
	}
	// Tables whose entity is a constant.
	for _, pf := range files {
		if pf.pkg != "store" {
			continue
		}
		ast.Inspect(pf.f, func(n ast.Node) bool {
			vs, ok := n.(*ast.ValueSpec)
			if !ok {
				return true
			}
			for i, name := range vs.Names {
				if i < len(vs.Values) {
					if cl, ok := vs.Values[i].(*ast.CompositeLit); ok {
						if id, ok := cl.Type.(*ast.Ident); ok && id.Name == "table" {
							if e := tableEntityExpr(cl); e != nil {
								if s, ok := str("store", e); ok {
									tables[name.Name] = s
								}
							}
						}
					}
				}
			}
			return true
		})
	}
	for name, entity := range tables {
		if entity == "" {
			t.Errorf("store table %s: its entity is not a literal or a constant", name)
			continue
		}
		v.entities[entity] = "table " + name
	}
	isAudit := func(e ast.Expr, name string) bool {
		sel, ok := e.(*ast.SelectorExpr)
		if !ok {
			return false
		}
		id, ok := sel.X.(*ast.Ident)
		return ok && id.Name == "audit" && sel.Sel.Name == name
	}
	isSel := func(e ast.Expr, name string) bool {
		sel, ok := e.(*ast.SelectorExpr)
		return ok && sel.Sel.Name == name
	}
	for _, pf := range files {
		where := func(n ast.Node) string {
			pos := fset.Position(n.Pos())
			return filepath.Base(pos.Filename) + ":" + strconv.Itoa(pos.Line)
		}
		// change reads one audit.Change literal.
		change := func(cl *ast.CompositeLit) {
			for _, el := range cl.Elts {
				kv, ok := el.(*ast.KeyValueExpr)
				if !ok {
					t.Errorf("%s: an audit.Change without field names: the enumeration cannot read it", where(cl))
					continue
				}
				key, _ := kv.Key.(*ast.Ident)
				if key == nil || key.Name != "Field" && key.Name != "Entity" {
					continue
				}
				s, ok := str(pf.pkg, kv.Value)
				switch {
				case !ok && key.Name == "Entity":
					// The entity of a record signed or
					// given by the caller (sig.Entity):
					// the signable records, tables all.
					continue
				case !ok:
					t.Errorf("%s: an audit.Change's Field is not a literal or a constant", where(kv))
				case key.Name == "Field":
					if _, seen := v.fields[s]; !seen {
						v.fields[s] = where(kv)
					}
				default:
					if _, seen := v.entities[s]; !seen {
						v.entities[s] = where(kv)
					}
				}
			}
		}
		ast.Inspect(pf.f, func(n ast.Node) bool {
			switch x := n.(type) {
			case *ast.CompositeLit:
				if isAudit(x.Type, "Change") {
					change(x)
				}
				if at, ok := x.Type.(*ast.ArrayType); ok && isAudit(at.Elt, "Change") {
					for _, el := range x.Elts {
						if cl, ok := el.(*ast.CompositeLit); ok {
							change(cl)
						}
					}
				}
			case *ast.CallExpr:
				switch {
				case isAudit(x.Fun, "F") && len(x.Args) == 2:
					name, ok := str(pf.pkg, x.Args[0])
					if !ok {
						// A name built from a value: its
						// literal prefix is the family.
						if be, isBin := x.Args[0].(*ast.BinaryExpr); isBin && be.Op == token.ADD {
							if p, lit := str(pf.pkg, be.X); lit && strings.HasSuffix(p, ".") {
								name, ok = p, true
							}
						}
					}
					if !ok {
						t.Errorf("%s: audit.F with a name the enumeration cannot read", where(x))
						return true
					}
					if _, seen := v.fields[name]; !seen {
						v.fields[name] = where(x)
					}
				case isSel(x.Fun, "WriteHistory") && len(x.Args) == 3:
					// A history's load names its command.
					name, ok := str(pf.pkg, x.Args[1])
					if !ok {
						t.Errorf("%s: WriteHistory with a command the enumeration cannot read", where(x))
						return true
					}
					if _, seen := v.commands[name]; !seen {
						v.commands[name] = where(x)
					}
				case isAudit(x.Fun, "Diff") && len(x.Args) == 4:
					if s, ok := str(pf.pkg, x.Args[0]); ok {
						if _, seen := v.entities[s]; !seen {
							v.entities[s] = where(x)
						}
					}
				}
			}
			return true
		})
	}
	// A period of the audit trail is signed (esign.EntityAuditPeriod).
	if s, ok := consts["esign.EntityAuditPeriod"]; ok {
		v.entities[s] = "esign.EntityAuditPeriod"
	} else {
		t.Error("esign.EntityAuditPeriod is gone: update the enumeration")
	}
	if len(v.fields) < 50 || len(v.entities) < 20 {
		t.Fatalf("the enumeration found %d fields and %d entities: it reads the source wrong", len(v.fields), len(v.entities))
	}
	return v
}

// has reports whether the entry's command, kind of record and field are
// in the vocabulary: a field of a family by its prefix.
func (v auditVocabulary) has(e audit.Entry) bool {
	_, cmd := v.commands[e.Command]
	_, entity := v.entities[e.Entity]
	_, field := v.fields[e.Field]
	if prefix, _, ok := strings.Cut(e.Field, "."); !field && ok {
		_, field = v.fields[prefix+"."]
	}
	return cmd && entity && field
}

// tableEntity is the entity of a store table literal, when a literal.
func tableEntity(cl *ast.CompositeLit) string {
	if e, ok := tableEntityExpr(cl).(*ast.BasicLit); ok && e.Kind == token.STRING {
		s, _ := strconv.Unquote(e.Value)
		return s
	}
	return ""
}

// tableEntityExpr is the expression of a store table literal's entity:
// table{name, entity, cols} or table{entity: ...}.
func tableEntityExpr(cl *ast.CompositeLit) ast.Expr {
	for i, el := range cl.Elts {
		if kv, ok := el.(*ast.KeyValueExpr); ok {
			if id, ok := kv.Key.(*ast.Ident); ok && id.Name == "entity" {
				return kv.Value
			}
			continue
		}
		if i == 1 {
			return el
		}
	}
	return nil
}

// sameInBothLanguages are the words of the trail that French and English
// write alike.
var sameInBothLanguages = map[string]bool{
	"Lot": true, "Code": true, "Client": true, "Signature": true, "Version": true, "Site": true, "Description": true,
	"Impacts": true, "Instrument": true, "Justification": true, "Corrections": true, "Message": true, "Document": true, "Qualification": true, "Zone": true,
}

// TestAuditWordsForEveryName: every command of the store, every field its
// entries record and every kind of record has its words in the catalogue,
// French and English, and the two differ unless the word is one both
// languages write alike.
func TestAuditWordsForEveryName(t *testing.T) {
	v := auditNames(t)
	check := func(kind string, names map[string]string) {
		for _, name := range slices.Sorted(maps.Keys(names)) {
			key := web.AuditKey(kind, name)
			if key == "" {
				t.Errorf("%s %q (%s) has no words: add audit.%s.%s to fr.json and en.json", kind, name, names[name], kind, strings.TrimSuffix(name, "."))
				continue
			}
			fr, okFR := text.Message(text.FR, key)
			en, okEN := text.Message(text.EN, key)
			if !okFR || !okEN {
				t.Errorf("%s %q: %s is missing in a language", kind, name, key)
				continue
			}
			if fr == en && !sameInBothLanguages[fr] {
				t.Errorf("%s %q: %s reads %q in French and in English: translate it, or list it in sameInBothLanguages", kind, name, key, fr)
			}
		}
	}
	check("command", v.commands)
	check("field", v.fields)
	check("record", v.entities)

	// The words are what the trail shows.
	for _, c := range []struct{ lang, kind, name, want string }{
		{"fr", "command", "signature.sign", "Signature électronique"},
		{"en", "command", "signature.sign", "Electronic signature"},
		{"fr", "record", "batch_step", "Étape de lot"},
		{"fr", "field", "action.", "Action CAPA"},
		{"en", "field", "action.4f2a", "CAPA action 4f2a"},
	} {
		if got := web.AuditWord(c.lang, c.kind, c.name); got != c.want {
			t.Errorf("AuditWord(%s, %s, %s) = %q, want %q", c.lang, c.kind, c.name, got, c.want)
		}
	}
	// A name without words falls back to itself, and the test above
	// would see it.
	if web.AuditKey("command", "no.such_command") != "" {
		t.Error("a command without words has a key")
	}
	if got := web.AuditWord("fr", "field", "justification.0b7c"); !strings.HasPrefix(got, "Justification") || !strings.Contains(got, "0b7c") {
		t.Errorf("a field of a family: %q", got)
	}
}
