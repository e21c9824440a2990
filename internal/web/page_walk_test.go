package web_test

import (
	"encoding/json"
	"html"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"sort"
	"strings"
	"testing"

	"galenix/internal/identity"
	"galenix/internal/production"
	"galenix/internal/quality"
	"galenix/internal/site"
	"galenix/internal/store"
)

// TestPageWalkLanguages walks, as each role of the site, every page its
// menu and its pages link to, in French and in English, and fails on what
// a reader would see wrong: a link that answers a refusal or an error, a
// catalogue key shown instead of its text, a status shown as its stored
// value, in French a number written the English way (decimal point, no
// thousands separator), and in English a word of the French interface.
func TestPageWalkLanguages(t *testing.T) {
	f := newFloorEnvOn(t, store.SQLite)
	f.seedAccounts(t,
		identity.Account{Username: "lab", Name: "Laure Labo", Roles: []identity.Role{identity.RoleLab}},
		identity.Account{Username: "maintenance", Name: "Marc Maintenance", Roles: []identity.Role{identity.RoleMaintenance}},
		identity.Account{Username: "security", Name: "Serge Securite", Roles: []identity.Role{identity.RoleSecurity}})
	// Some of the batch recorded, a quantity with decimals among it, so
	// that the pages show numbers.
	steps := f.steps(t, f.batch)
	for i, entry := range []map[string]any{{"checked": []bool{true, true}, "reason": "Test slot ahead."}, {"lot": "LOT-A", "quantity": "10.5"}} {
		f.ok(t, f.record(t, "supervisor", f.batch, steps[i], entry), http.StatusOK, "step")
	}

	keys := catalogueKeys(t)
	raw := rawValues()
	// The checks themselves see what they are for.
	if got := languageProblems("fr", "Dose 106.5 mg, [95.0 ; 105.0], 2000000 comprimés, batchstate.in_review, in_progress, quarantine", keys, raw); len(got) != 8 {
		t.Fatalf("the French checks find %d problems in a page made of them, want 8: %q", len(got), got)
	}
	if got := languageProblems("en", "Enregistrer, quarantine, 2000000 tablets", keys, raw); len(got) != 1 {
		t.Fatalf("the English checks find %d problems in a page with one, want 1: %q", len(got), got)
	}
	sawComma := false
	u, _ := url.Parse(f.srv.URL)
	const maxPages = 120
	for _, who := range []string{"operator", "supervisor", "qa", "qp", "lab", "maintenance", "security", "admin", "client-alpha"} {
		t.Run(who, func(t *testing.T) {
			b := f.signInForm(t, who)
			at, home := b.landing(t, b.lastLogin)
			menu := navLinks(t, home)
			seen := map[string]bool{at: true}
			queue := []string{at}
			for _, l := range menu {
				if !seen[l] {
					seen[l] = true
					queue = append(queue, l)
				}
			}
			isMenu := map[string]bool{}
			for _, l := range menu {
				isMenu[l] = true
			}
			walked := 0
			shapes := map[string]int{}
			for len(queue) > 0 && walked < maxPages {
				path := queue[0]
				queue = queue[1:]
				walked++
				for _, lang := range []string{"fr", "en"} {
					b.c.Jar.SetCookies(u, []*http.Cookie{{Name: "lang", Value: lang}})
					p := b.get(path)
					if p.status != http.StatusOK {
						if isMenu[path] || p.status >= 400 {
							t.Errorf("%s (%s): %s answers %d", who, lang, path, p.status)
						}
						continue
					}
					text := readable(p.body, !strings.HasPrefix(path, "/audit"))
					sawComma = sawComma || lang == "fr" && strings.Contains(text, "10,5")
					for _, problem := range languageProblems(lang, text, keys, raw) {
						t.Errorf("%s (%s): %s: %s", who, lang, path, problem)
					}
					if lang != "fr" {
						continue
					}
					for _, h := range hrefOf.FindAllStringSubmatch(p.body, -1) {
						l := walkable(html.UnescapeString(h[1]))
						// Two pages of a kind are enough: the
						// walk goes wide rather than down the
						// trail of every record.
						if l != "" && !seen[l] && shapes[pageShape(l)] < 2 {
							seen[l] = true
							shapes[pageShape(l)]++
							queue = append(queue, l)
						}
					}
				}
			}
			t.Logf("%s: %d pages walked in French and in English", who, walked)
			if walked < 3 {
				t.Errorf("%s: only %d pages walked: the test proves little", who, walked)
			}
			b.c.Jar.SetCookies(u, []*http.Cookie{{Name: "lang", Value: "fr"}})
		})
	}
	if !sawComma {
		t.Error("no French page shows the quantity 10.5 as 10,5")
	}
}

// walkable is the link as a path to walk, or "" for what the walk leaves
// out: other sites, fragments, the API, downloads and signing out.
func walkable(l string) string {
	if !strings.HasPrefix(l, "/") || strings.HasPrefix(l, "//") {
		return ""
	}
	l, _, _ = strings.Cut(l, "#")
	for _, skip := range []string{"/logout", "/api/", "/assets/", "/static/", ".pdf", ".csv", ".json", "/export", "/download", "/events/stream", "/bundle"} {
		if strings.Contains(l, skip) {
			return ""
		}
	}
	return l
}

// pageShape is a link without its ids and its query's values: the kind of
// page it opens.
func pageShape(l string) string {
	path, query, _ := strings.Cut(l, "?")
	shape := anID.ReplaceAllString(path, "{id}")
	if q, err := url.ParseQuery(query); err == nil {
		names := make([]string, 0, len(q))
		for k := range q {
			names = append(names, k)
		}
		sort.Strings(names)
		shape += "?" + strings.Join(names, "&")
	}
	return shape
}

var (
	anID          = regexp.MustCompile(`[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`)
	scriptOrStyle = regexp.MustCompile(`(?is)<(script|style)\b.*?</(script|style)>`)
	readableAttr  = regexp.MustCompile(`(?i)\b(title|placeholder|aria-label)="([^"]*)"`)
	storedCode    = regexp.MustCompile(`^[a-z0-9_.:-]+$`)
	keyShaped     = regexp.MustCompile(`[a-z][a-z0-9_]*(\.[a-z0-9_]+)+`)
	decimalPoint  = regexp.MustCompile(`(^|[\s\[(;])\d+\.\d+\s?(mg|g|kg|µg|mL|L|%|°C|µm|h|min|s|comprimés|gélules|flacons|ampoules|mg/mL|[\];)])`)
	longNumber    = regexp.MustCompile(`(^|\s)\d{5,}(\s|$|[,.;:)])`)
	frenchWords   = regexp.MustCompile(`\b(Enregistrer|Annuler|Fermer|étapes?|Libéré|Rechercher|Déconnexion|Retour|Modifier|Signer|Suivant|Précédent|Aucune?|Lots de fabrication|Équipements?|Produits|Commandes|Personnes)\b`)
)

// readable is what a reader of the page reads: its text without the
// scripts and styles, and the titles (unless titles is false: the trail's
// cells carry the value as stored in their title, for the auditor, by
// design), placeholders and labels of its elements.
func readable(body string, titles bool) string {
	var b strings.Builder
	for _, m := range readableAttr.FindAllStringSubmatch(body, -1) {
		if !titles && strings.EqualFold(m[1], "title") {
			continue
		}
		// A title that is one stored code or id is the code of the
		// words it is on, there for the auditor: not words itself.
		if v := html.UnescapeString(m[2]); !storedCode.MatchString(v) {
			b.WriteString(" " + v + " ")
		}
	}
	b.WriteString(markup.ReplaceAllString(scriptOrStyle.ReplaceAllString(body, " "), " "))
	return blanks.ReplaceAllString(html.UnescapeString(b.String()), " ")
}

// languageProblems lists what is wrong with the text of a page in lang.
func languageProblems(lang, text string, keys map[string]bool, raw []string) []string {
	var out []string
	for _, k := range keyShaped.FindAllString(text, -1) {
		if keys[k] {
			out = append(out, "the catalogue key "+k+" is shown as it is")
		}
	}
	words := map[string]bool{}
	for _, w := range strings.FieldsFunc(text, func(r rune) bool {
		return !(r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z')
	}) {
		words[w] = true
	}
	for _, v := range raw {
		// English words are English in English pages, and maintenance
		// is French too; a stored value with an underscore is never a
		// word.
		if words[v] && (lang == "fr" && v != "maintenance" || strings.Contains(v, "_")) {
			out = append(out, "the stored value "+v+" is shown as it is")
		}
	}
	switch lang {
	case "fr":
		for _, m := range decimalPoint.FindAllString(text, -1) {
			out = append(out, "a number written with a decimal point: "+strings.TrimSpace(m))
		}
		for _, m := range longNumber.FindAllString(text, -1) {
			out = append(out, "a number without its thousands separator: "+strings.TrimSpace(m))
		}
	case "en":
		for _, m := range frenchWords.FindAllString(text, -1) {
			out = append(out, "a French word in an English page: "+m)
		}
	}
	sort.Strings(out)
	return slicesCompact(out)
}

func slicesCompact(s []string) []string {
	var out []string
	for i, v := range s {
		if i == 0 || v != s[i-1] {
			out = append(out, v)
		}
	}
	return out
}

// catalogueKeys are the keys of the French catalogue.
func catalogueKeys(t *testing.T) map[string]bool {
	t.Helper()
	b, err := os.ReadFile("../text/catalog/fr.json")
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]string
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	keys := make(map[string]bool, len(m))
	for k := range m {
		keys[k] = true
	}
	return keys
}

// rawValues are the stored values of the statuses and states that pages
// show in words.
func rawValues() []string {
	var out []string
	add := func(vs ...string) { out = append(out, vs...) }
	for _, v := range production.BatchStates {
		add(string(v))
	}
	for _, v := range production.MasterStatuses {
		add(string(v))
	}
	for _, v := range production.LotStatuses {
		add(string(v))
	}
	for _, v := range quality.DeviationStates {
		add(string(v))
	}
	for _, v := range site.EquipmentStatuses {
		add(string(v))
	}
	for _, v := range site.LineStatuses {
		add(string(v))
	}
	for _, v := range site.LineStates {
		add(string(v))
	}
	return out
}
