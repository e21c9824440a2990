package web_test

import (
	"context"
	"go/ast"
	"go/parser"
	"go/token"
	"html"
	"maps"
	"net/http"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"galenix/internal/esign"
	"galenix/internal/identity"
	"galenix/internal/infra"
	"galenix/internal/store"
	"galenix/internal/text"
)

// TestPageWalk signs in as every role of a seeded site (production, the
// laboratory and deviations exercised, numbers large and decimal), walks
// every page its menu and the pages reached link to, in French and in
// English, and fails on a menu link that does not answer 200, a page that
// fails, a catalogue key, a stored text or a status value shown raw, a
// decimal point in French, a number of five digits or more ungrouped, a
// plural after a count of one, and French words in English pages.
func TestPageWalk(t *testing.T) {
	e := newEnv(t, store.SQLite)
	w := exerciseProduction(t, e)
	exerciseLab(t, w)
	exerciseDeviations(t, w.p)
	exerciseDocuments(t, w.p)
	// The controlled-substance register: movements signed, an alert, a
	// loss discharged, an inventory's discrepancy, a month recorded.
	exerciseControlled(t, w.p, w.reviewed)
	// A deviation the batch record opened, of an exception.
	as := identity.Assignment{AccountID: e.accounts["operator"].ID, ClientID: e.alpha.ID}
	if err := e.db.Identity().Admin().Assign(identity.WithActor(context.Background(), identity.System), &as, ""); err != nil {
		t.Fatal(err)
	}
	eq := w.p.ok(t, e.call(t, "admin", "GET", "/api/v1/equipment/"+e.equipment.ID, nil), http.StatusOK, "equipment").object(t)
	eq["status"], eq["reason"] = "clean", "Cleaned"
	w.p.ok(t, e.call(t, "admin", "PUT", "/api/v1/equipment/"+e.equipment.ID, eq), http.StatusOK, "clean the filler")
	(&devEnv{prodEnv: w.p, n: 3}).exceptionDeviation(t)
	walkPeople(t, e)
	extra := append(walkNumbers(t, w.p), walkInfra(t, e)...)
	read := map[string]bool{}
	for _, who := range []string{"admin", "supervisor", "operator", "qa", "qp", "lab", "maint", "guard", "it", "client-alpha", "client-boss"} {
		for _, lang := range []string{"fr", "en"} {
			t.Run(who+"/"+lang, func(t *testing.T) { e.walkPages(t, who, testPassword, lang, extra, read) })
		}
	}
}

// walkPages signs who in with the password in lang and walks the pages
// the menu and the pages reached link to, extra first, failing on what
// pageChecker finds (see TestPageWalk). A page of extra may be closed to
// who. read holds the shapes of the pages read in each language by the
// walks before, the site's staff's apart from the clients' users' (whose
// pages hide the staff): who reads its home and its menu's pages, and of
// the others those not read yet.
func (e *env) walkPages(t *testing.T, who, password, lang string, extra []string, read map[string]bool) {
	t.Helper()
	statuses := domainStatuses(t)
	families := map[string]bool{}
	for _, k := range text.Keys(text.FR) {
		families[k[:strings.IndexByte(k+".", '.')]] = true
	}
	b := e.browserWith(t, who, password, lang)
	at, home := b.landing(t, b.get("/"))
	if home.status != http.StatusOK {
		t.Fatalf("home %s: status %d", at, home.status)
	}
	ck := pageChecker{lang: lang, statuses: statuses, families: families}
	menu := navLinks(t, home)
	for _, m := range menu {
		if p := b.get(m); p.status != http.StatusOK {
			t.Errorf("menu link %s: status %d", m, p.status)
		}
	}
	seen := map[string]bool{}
	shapes := map[string]int{}
	queue := append(append([]string{at}, menu...), extra...)
	for n := 0; len(queue) > 0 && n < 200; {
		u := queue[0]
		queue = queue[1:]
		if seen[u] || !walkable(u) {
			continue
		}
		seen[u] = true
		// One page of each shape: /batches/{id} is read for one batch,
		// not all of them (the pages of extra, seeded for the walk, are
		// read first).
		if shapes[pathShape(u)]++; shapes[pathShape(u)] > 1 {
			continue
		}
		if k := lang + " " + strconv.FormatBool(strings.HasPrefix(who, "client")) + " " + pathShape(u); read[k] && u != at && !slices.Contains(menu, u) {
			continue
		} else {
			read[k] = true
		}
		n++
		p := b.get(u)
		switch {
		case p.status == http.StatusSeeOther || p.status == http.StatusFound:
			queue = append(queue, p.location)
			continue
		case p.status >= 500 || p.status == http.StatusNotFound && !slices.Contains(extra, u):
			t.Errorf("%s: status %d", u, p.status)
			continue
		case p.status != http.StatusOK:
			continue
		}
		for _, f := range ck.check(p.body) {
			t.Errorf("%s: %s", u, f)
		}
		for _, h := range anchorHref.FindAllStringSubmatch(p.body, -1) {
			queue = append(queue, html.UnescapeString(h[1]))
		}
	}
	t.Logf("walked %d pages: %v", len(seen), slices.Sorted(maps.Keys(shapes)))
	if len(seen) < 5 {
		t.Errorf("walked %d pages only", len(seen))
	}
}

// walkNumbers adds records whose numbers show how the pages write them: a
// master of 2,000,000 units adding 106.5 g of a material, effective, with
// a batch ordered and scheduled; a lot of 12,500.5 g. It returns their
// pages, which the walk opens first.
func walkNumbers(t *testing.T, p *prodEnv) []string {
	t.Helper()
	product := p.created(t, "supervisor", "/api/v1/products", p.productBody("BIG-1"))
	body := p.masterBody(product, "MBR-BIG")
	body["batch_size"] = 2000000
	ops := body["operations"].([]any)
	prep := ops[0].(map[string]any)["steps"].([]any)
	prep[1].(map[string]any)["quantity"] = 106.5
	prep[1].(map[string]any)["tolerance_pct"] = 2.5
	filling := ops[1].(map[string]any)["steps"].([]any)
	filling[0].(map[string]any)["target"], filling[0].(map[string]any)["low"], filling[0].(map[string]any)["high"] = 7.25, 6.75, 7.75
	master := p.created(t, "supervisor", "/api/v1/masters", body)
	p.submit(t, master)
	p.ok(t, p.sign(t, "qa", "master", master, "approved"), http.StatusCreated, "approve the master")
	p.move(t, "qa", "/api/v1/masters/"+master, "effective", "effective")
	o := p.ok(t, p.call(t, "supervisor", "POST", "/api/v1/orders", map[string]any{"product_id": product, "quantity": 4000000,
		"due_on": slot(time.Friday, 8).AddDate(0, 1, 0).Format(time.DateOnly)}), http.StatusCreated, "order").object(t)
	batch := o["batches"].([]any)[0].(map[string]any)["id"].(string)
	p.ok(t, p.schedule(t, batch, p.line.ID, slot(time.Wednesday, 6)), http.StatusOK, "schedule")
	lot := p.created(t, "supervisor", "/api/v1/lots", map[string]any{"material_id": p.api, "code": "LOT-BIG", "quantity": 12500.5, "expires_on": "2030-01-01T00:00:00Z"})
	return []string{"/masters/" + master, "/batches/" + batch, "/lots/" + lot, "/schedule"}
}

// walkInfra seeds the infrastructure (seedInfra) with its core switch
// down and a planned shutdown drafted, and returns its pages the walk
// opens first: an asset's, the what-if of a room, the plan.
func walkInfra(t *testing.T, e *env) []string {
	t.Helper()
	s := seedInfra(t, e)
	s.record(t, e, s.coreCheck.ID, infra.StateDown, text.Code("stored.infra.timeout"))
	it := e.accounts["it"]
	plan := infra.Plan{Title: "UPS battery replacement", Scope: infra.Scope{RoomID: e.roomD.ID}, From: time.Now().Add(48 * time.Hour),
		To: time.Now().Add(52 * time.Hour), Measures: "Manual readings every hour."}
	if err := e.db.Infra().DraftPlan(identity.WithActor(context.Background(), it.Actor()), &plan); err != nil {
		t.Fatal(err)
	}
	return []string{"/infra/assets/" + s.core.ID, "/infra/assets/" + s.group.ID, "/infra/whatif?room_id=" + e.roomD.ID, "/infra/plans/" + plan.ID}
}

// walkPeople adds the roles the environments lack: maintenance, security,
// IT and a client's manager.
func walkPeople(t *testing.T, e *env) {
	t.Helper()
	hash, err := passwordHash()
	if err != nil {
		t.Fatal(err)
	}
	err = e.db.WriteHistory(identity.WithActor(context.Background(), identity.System), "test.seed", func(ctx context.Context, h *store.History) error {
		for _, a := range []identity.Account{
			{Username: "maint", Name: "Mael Tech", Roles: []identity.Role{identity.RoleMaintenance}},
			{Username: "guard", Name: "Gael Garde", Roles: []identity.Role{identity.RoleSecurity}},
			{Username: "it", Name: "Iris Network", Roles: []identity.Role{identity.RoleIT}},
			{Username: "client-boss", Name: "Bea Boss", Roles: []identity.Role{identity.RoleClientManager}, ClientID: e.alpha.ID},
		} {
			if err := h.CreateAccount(&a, hash); err != nil {
				return err
			}
			e.accounts[a.Username] = a
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

var (
	anchorHref = regexp.MustCompile(`<a\s[^>]*?href="([^"]+)"`)
	idSegment  = regexp.MustCompile(`/[^/?]*[0-9][^/?]*`)
)

// walkable reports whether the walk opens u: a page of the site, neither
// the sign-out, the language switch, a download nor the API.
func walkable(u string) bool {
	if !strings.HasPrefix(u, "/") || strings.HasPrefix(u, "//") {
		return false
	}
	path, _, _ := strings.Cut(u, "#")
	for _, skip := range []string{"/logout", "/lang", "/api/", "/assets/", "/metrics", "/healthz", ".pdf", ".csv", ".json", "/pdf", "/csv", "/export", "/download", "format="} {
		if strings.Contains(path, skip) {
			return false
		}
	}
	return path != ""
}

// pathShape is u without its query and with the segments holding a digit
// (ids, codes) replaced.
func pathShape(u string) string {
	path, _, _ := strings.Cut(u, "?")
	path, _, _ = strings.Cut(path, "#")
	return idSegment.ReplaceAllString(path, "/{id}")
}

// domainStatuses are the values of the status, state and kind types of
// the domain packages (production, quality, site), read from their source
// so that a value added there is checked too.
func domainStatuses(t *testing.T) []string {
	t.Helper()
	set := map[string]bool{}
	for _, pkg := range []string{"production", "quality", "site"} {
		files, err := filepath.Glob(filepath.Join("..", pkg, "*.go"))
		if err != nil || len(files) == 0 {
			t.Fatalf("the sources of %s: %v", pkg, err)
		}
		for _, name := range files {
			if strings.HasSuffix(name, "_test.go") {
				continue
			}
			f, err := parser.ParseFile(token.NewFileSet(), name, nil, 0)
			if err != nil {
				t.Fatal(err)
			}
			for _, d := range f.Decls {
				g, ok := d.(*ast.GenDecl)
				if !ok || g.Tok != token.CONST {
					continue
				}
				for _, s := range g.Specs {
					v := s.(*ast.ValueSpec)
					id, ok := v.Type.(*ast.Ident)
					if !ok || strings.HasSuffix(id.Name, "Move") || id.Name == "MasterChangeKind" {
						continue
					}
					for _, x := range v.Values {
						if l, ok := x.(*ast.BasicLit); ok && l.Kind == token.STRING {
							if s, err := strconv.Unquote(l.Value); err == nil && enumValue.MatchString(s) {
								set[s] = true
							}
						}
					}
				}
			}
		}
	}
	for _, must := range []string{"in_progress", "quarantine", "in_use", "released"} {
		if !set[must] {
			t.Fatalf("the domain's statuses lack %q: %v", must, slices.Sorted(maps.Keys(set)))
		}
	}
	return slices.Sorted(maps.Keys(set))
}

// frenchToo are the domain's values that are French words as well: shown
// alone they may be the French label.
var frenchToo = map[string]bool{"maintenance": true, "instruction": true, "capsule": true, "lotion": true, "ampoule": true, "hormone": true,
	"intact": true, "effective": true}

// frenchWords are words of the French interface that an English page never
// holds.
var frenchWords = regexp.MustCompile(`(?:^|[^\p{L}])(Enregistrer|Annuler|Fermer|[ÉéE]tapes?|Libérée?s?|libérée?s?|Rechercher|Modifier|Retour|Valider|Supprimer|Déconnexion|Connexion|Suivant|Précédent|[Aa]ucune?|[Qq]uarantaine|Brouillon|Statut|Signer|Raison|[Ll]es|des|une|avec|pour|sans|dans|sur|est|sont|du|aux|faites?|Oui|Non|Créer|Ajouter|Voir|Liste|Rejetée?|Approuvée?|Matières?|Équipements?|Ligne|Lignes|Produits?|Commandes?|Équipes?|Fiche|Dossier|Échantillons?|Résultats?|[Éé]chéance|Aujourd'hui|Demain|Hier|heures?|jours?)(?:[^\p{L}-]|$)`)

// The checks of the text: numbers (a decimal point in French; five digits
// or more ungrouped in either language), plurals, keys and statuses.
var (
	// A value of the domain's enumerations: in_progress.
	enumValue = regexp.MustCompile(`^[a-z]+(_[a-z]+)*$`)
	// A decimal point in a number followed by a unit.
	pointUnit = regexp.MustCompile(`(?:^|[^\w.,-])(\d+\.\d+)\s?(%|°C|µg|mg|g|kg|mL|ml|L|h|min|s|mm|cm|m|bar|Pa|ppm|UFC|CFU|pH|units?|vials?|unités?|flacons?|comprimés?|ampoules?)(?:[^\p{L}\d]|$)`)
	// A decimal point in a bracketed range: [95.0 ; 105.0].
	pointRange = regexp.MustCompile(`[\[(]\s*[-+]?\d+\.\d+|\d+\.\d+\s*[\])]|[;–]\s*[-+]?\d+\.\d+`)
	// A number of five digits or more, ungrouped, not part of a code.
	ungrouped = regexp.MustCompile(`(?:^|[\s(\[])(\d{5,})(?:[\s)\],;:%]|$)`)
	// A count of one (or none, in French) with a plural noun: "1 étapes".
	onePluralFR = regexp.MustCompile(`(?:^|[^\p{L}\d,.\x{202f}\x{a0}])[01] (\p{Ll}{3,}s)(?:[^\p{L}/]|$)`)
	onePluralEN = regexp.MustCompile(`(?:^|[^\p{L}\d,.])1 (\p{Ll}{3,}s)(?:[^\p{L}/]|$)`)
	// A catalogue key shown as itself, or a stored text shown raw.
	keyShaped = regexp.MustCompile(`(?:^|[^\w@./-])([a-z][a-z0-9_]*(?:\.[a-z0-9_]+)+)(?:[^\w@/-]|$)`)
	// Text between tags, and the attributes people read.
	textNode  = regexp.MustCompile(`>([^<]+)<`)
	openTag   = regexp.MustCompile(`<[a-zA-Z][^>]*>`)
	codeBlock = regexp.MustCompile(`(?s)<(td|dd|span|code|small|strong|a)\s[^>]*class="(?:[^"]*\s)?(?:mono|code)(?:\s[^"]*)?"[^>]*>.*?</(?:td|dd|span|code|small|strong|a)>`)
	readAttr  = regexp.MustCompile(`\s(?:title|placeholder|aria-label|alt)="([^"]*)"`)
	// A section of a law cited: annex 11 §7.2.
	section   = regexp.MustCompile(`§\s?\d+(?:\.\d+)*`)
	scripts   = regexp.MustCompile(`(?is)<(script|style)\b.*?</(script|style)>`)
	snakeWord = regexp.MustCompile(`(?:^|[^\w.])([a-z]+(?:_[a-z]+)+)(?:[^\w.]|$)`)
)

// singularS reports whether a word ending in s may be singular: mois,
// fois, process, analysis, status.
func singularS(w string) bool {
	for _, end := range []string{"ss", "is", "us", "ois", "as", "ps", "ds", "ès", "os"} {
		if strings.HasSuffix(w, end) {
			return true
		}
	}
	return false
}

// pageChecker finds what a page in lang shows wrong.
type pageChecker struct {
	lang     string
	statuses []string
	families map[string]bool
}

func (c pageChecker) check(body string) []string {
	body = scripts.ReplaceAllString(body, "")
	// Codes, ids and usernames (class "mono" or "code") are checked for
	// keys shown raw only: their digits and words are data.
	var codes []string
	body = codeBlock.ReplaceAllStringFunc(body, func(b string) string {
		for _, m := range textNode.FindAllStringSubmatch(b+"<", -1) {
			codes = append(codes, strings.TrimSpace(html.UnescapeString(m[1])))
		}
		return ""
	})
	var texts []string
	for _, m := range textNode.FindAllStringSubmatch(body, -1) {
		if s := strings.TrimSpace(html.UnescapeString(m[1])); s != "" {
			texts = append(texts, s)
		}
	}
	for _, tag := range openTag.FindAllString(body, -1) {
		// The trail gives the stored form of a value beside its words
		// (class "stored"): the record as it is kept.
		if strings.Contains(tag, `class="stored"`) {
			continue
		}
		for _, m := range readAttr.FindAllStringSubmatch(tag, -1) {
			if s := strings.TrimSpace(html.UnescapeString(m[1])); s != "" {
				texts = append(texts, s)
			}
		}
	}
	var out []string
	found := map[string]bool{}
	add := func(f string) {
		if !found[f] {
			found[f] = true
			out = append(out, f)
		}
	}
	// A count and its noun may be apart in the markup: <strong>1</strong>
	// bâtiment.
	flat := blanks.ReplaceAllString(html.UnescapeString(markup.ReplaceAllString(body, "")), " ")
	for _, m := range map[string]*regexp.Regexp{"fr": onePluralFR, "en": onePluralEN}[c.lang].FindAllStringSubmatch(flat, -1) {
		if !singularS(m[1]) {
			add("a plural after one: " + strings.TrimSpace(m[0]))
		}
	}
	for _, s := range codes {
		for _, m := range keyShaped.FindAllStringSubmatch(s, -1) {
			if k := m[1]; text.Has(k) {
				add("a catalogue key shown raw: " + k + " in «" + s + "»")
			}
		}
	}
	for _, s := range texts {
		if strings.Contains(s, `{"key":`) {
			add("a stored text shown raw: " + s)
		}
		for _, m := range keyShaped.FindAllStringSubmatch(s, -1) {
			if k := m[1]; c.families[k[:strings.IndexByte(k, '.')]] || text.Has(k) {
				add("a catalogue key shown raw: " + k + " in «" + s + "»")
			}
		}
		for _, st := range c.statuses {
			alone := strings.Trim(s, " :,;()[]·—-") == st
			if alone && (c.lang == "en" && strings.Contains(st, "_") || c.lang == "fr" && !frenchToo[st]) {
				add("a status value shown raw: " + st)
			}
		}
		for _, m := range snakeWord.FindAllStringSubmatch(s, -1) {
			if slices.Contains(c.statuses, m[1]) {
				add("a status value shown raw: " + m[1] + " in «" + s + "»")
			}
		}
		s = section.ReplaceAllString(s, "§")
		for _, m := range ungrouped.FindAllStringSubmatch(s, -1) {
			add("a number without its thousands separator: " + m[1] + " in «" + s + "»")
		}
		if c.lang == "fr" {
			for _, m := range pointUnit.FindAllStringSubmatch(s, -1) {
				add("a decimal point in French: " + strings.TrimSpace(m[0]) + " in «" + s + "»")
			}
			if m := pointRange.FindString(s); m != "" {
				add("a decimal point in a French range: " + m + " in «" + s + "»")
			}
		}
		if c.lang == "en" {
			// A signature's meaning is shown in both languages wherever
			// it is shown (esign.Signature.DisplayIn).
			for _, m := range esign.Meanings {
				s = strings.ReplaceAll(s, m.Labels(), "")
			}
			if m := frenchWords.FindStringSubmatch(s); m != nil {
				add("a French word in English: " + m[1] + " in «" + s + "»")
			}
		}
	}
	return out
}

// TestPageChecker: the walk's checks find each fault they are for, and
// pass the page written right (codes, lots, years and ids included).
func TestPageChecker(t *testing.T) {
	families := map[string]bool{"batch": true, "lot": true, "stored": true}
	statuses := domainStatuses(t)
	fr := pageChecker{lang: "fr", statuses: statuses, families: families}
	en := pageChecker{lang: "en", statuses: statuses, families: families}
	for _, c := range []struct {
		c    pageChecker
		body string
		want string // "" when the page is right
	}{
		{fr, `<td>batch.steps_of</td>`, "catalogue key"},
		{fr, `<td>lot.nothing_yet</td>`, "catalogue key"},
		{fr, `<input placeholder="batch.search">`, "catalogue key"},
		{fr, `<span title='x'>{"key":"stored.step.numeric","args":[]}</span>`, "stored text"},
		{fr, `<span class="badge">in_progress</span>`, "status value"},
		{en, `<p>Equipment in_use since 8:00</p>`, "status value"},
		{fr, `<td>quarantine</td>`, "status value"},
		{fr, `<dd>106.5 mg</dd>`, "decimal point"},
		{fr, `<td>[95.0 ; 105.0]</td>`, "decimal point"},
		{fr, `<td>2000000 comprimés</td>`, "thousands"},
		{en, `<button>Enregistrer</button>`, "French word"},
		{en, `<p>3 étapes done</p>`, "French word"},
		{en, `<a aria-label="Fermer">x</a>`, "French word"},
		{fr, `<td>2 000 000 comprimés</td><td>106,5 mg</td><td>[95,0 ; 105,0]</td><td>Quarantaine</td>`, ""},
		{fr, `<td class="mono">batch.steps_of</td>`, "catalogue key"},
		{fr, `<td class="mono">12219</td><td class="mono"><a href="/x">security</a></td><span class="code">CODE-50000</span>`, ""},
		{fr, `<td>Cible 50000 u — limites [47000 ; 51000] u</td>`, "thousands"},
		{fr, `<p>1 étapes faites sur 8</p>`, "plural after one"},
		{fr, `<p><strong>1</strong> bâtiments</p>`, "plural after one"},
		{en, `<p>1 batches</p>`, "plural after one"},
		{fr, `<p>1 étape faite sur 8, 0 lot, 2 lots, 1 mois, 12 001 lots</p>`, ""},
		{fr, `<td class="mono">L2612-00012</td><td>LOT-12345</td><td>2026</td><a href="/batches/01a242c1-4c6d-7eca">x</a><td>§7.2</td>`, ""},
		{fr, `<span class="stored" title="batch.move">Lot déplacé</span><script>var k = "batch.move"; var s = "in_use";</script>`, ""},
		{en, `<p>Paula Personne — 04/12/2026 — Approuvé / Approved — Non-sterile production</p><td>12,000 vials</td>`, ""},
	} {
		got := c.c.check(c.body)
		switch {
		case c.want == "" && len(got) > 0:
			t.Errorf("%s %s: found %v", c.c.lang, c.body, got)
		case c.want != "" && (len(got) == 0 || !strings.Contains(strings.Join(got, "\n"), c.want)):
			t.Errorf("%s %s: found %v, want a finding of a %s", c.c.lang, c.body, got, c.want)
		}
	}
}
