package web_test

import (
	"bytes"
	"encoding/csv"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"galenix/internal/pdf/pdftest"
)

// signFormHash is the content_sha256 a page's signing form carries.
var signFormHash = regexp.MustCompile(`name="content_sha256" value="([0-9a-f]*)"`)

// TestControlledPageEditions: on both databases, the register's pages
// for quality assurance and the responsible pharmacist in French and
// English, refused to an operator and a client's user (page, form, PDF);
// a movement entered by form with a bad quantity, the performer as
// witness or without its delivery note is refused on its own field, what
// was typed kept, nothing written; entered right, it is signed on its
// page by its performer, then by its witness typing their own credentials
// in the performer's session (the wrong one for each meaning refused);
// its page then shows serial 1, both signatures and its history in words,
// and the register the month's closing balance. Its PDF: the
// establishment's name and address on every page, its authorisation and
// date on the first, page x / y, the serial's line, "≥ µ °" as
// themselves, fonts embedded, qpdf's check and the PDF/A structure. Its
// CSV in English and French: UTF-8 with its mark, one header in the
// reader's words, quantities with a point, ISO times with their offset.
// A refused sampling's alert taken in charge (an empty comment refused);
// an inventory's discrepancy leading to its deviation; the statement and
// its PDF.
func TestControlledPageEditions(t *testing.T) {
	eachDB(t, func(t *testing.T, base *env) {
		e := newSignEnv(t, base)
		if _, err := e.db.WriteSQL().Exec(`UPDATE sites SET address = '12 rue des Essais, 69007 Lyon'`); err != nil {
			t.Fatal(err)
		}
		if r := e.call(t, "qa", "PUT", "/api/v1/controlled/establishment", map[string]any{"authorisation": "ANSM-EP-2026-0042", "authorised_on": "2026-01-15",
			"pharmacist": "Paula Personne Qualifiée"}); r.status != http.StatusOK {
			t.Fatalf("establishment: %d %s", r.status, r.body)
		}
		sub := created(t, e.env, "qa", "/api/v1/controlled/substances", map[string]any{"code": "MORPH", "name": "Morphine chlorhydrate", "class": "narcotic",
			"unit": "g", "client_id": e.alpha.ID})
		vault := created(t, e.env, "qa", "/api/v1/controlled/containers", map[string]any{"substance_id": sub, "code": "V-1", "lot_code": "S-26-01",
			"place": "Coffre B70", "place_kind": "vault"})

		for _, who := range []string{"operator", "client-alpha"} {
			b := e.browserWith(t, who, testPassword, "fr")
			for _, path := range []string{"/controlled", "/controlled/movements/new", "/controlled/inventory", "/controlled/statement",
				"/controlled/register.pdf?substance=" + sub, "/controlled/register.csv?substance=" + sub} {
				if p := b.get(path); p.status != http.StatusForbidden {
					t.Errorf("%s GET %s: status %d, want 403", who, path, p.status)
				} else if strings.Contains(p.text, "MORPH") {
					t.Errorf("%s GET %s shows the register's substance", who, path)
				}
			}
			if p := b.post("/controlled/movements", url.Values{"substance_id": {sub}, "kind": {"receipt"}, "container_id": {vault}, "quantity": {"1"},
				"party": {"X"}, "document": {"X"}, "witness": {"qa"}}); p.status != http.StatusForbidden {
				t.Errorf("%s POST /controlled/movements: status %d, want 403", who, p.status)
			}
			if p := b.get("/"); strings.Contains(p.body, `href="/controlled"`) {
				t.Errorf("%s's menu leads to the register", who)
			}
		}
		for _, c := range []struct{ who, lang, title, empty string }{
			{"qa", "fr", "Registre des stupéfiants", "Aucun mouvement ce mois-ci."},
			{"qp", "fr", "Registre des stupéfiants", "Aucun mouvement ce mois-ci."},
			{"qa", "en", "Controlled-substance register", "No movement this month."},
			{"qp", "en", "Controlled-substance register", "No movement this month."},
		} {
			b := e.browserWith(t, c.who, testPassword, c.lang)
			b.get("/controlled").has(t, http.StatusOK, c.title, c.empty, "MORPH", "Morphine chlorhydrate", "V-1", `href="/controlled"`,
				"/controlled/register.pdf?substance="+sub)
		}

		qa := e.browserWith(t, "qa", testPassword, "fr")
		qa.get("/controlled/movements/new?substance="+sub).has(t, http.StatusOK, "Saisir un mouvement", "Sonia Superviseure (supervisor)", "Réception")
		form := func() url.Values {
			return url.Values{"substance_id": {sub}, "kind": {"receipt"}, "container_id": {vault}, "quantity": {"25,5"}, "party": {"Francopia"},
				"document": {"BL-778"}, "cause": {"Livraison ≥ 2 µg/mL à 20 °C"}, "witness": {"supervisor"}}
		}
		before := e.snapshot(t)
		for _, bad := range []struct{ field, value, input, message string }{
			{"quantity", "-2", "m-quantity", "Indiquez une quantité positive, avec trois décimales au plus."},
			{"quantity", "1,2345", "m-quantity", "Indiquez une quantité positive, avec trois décimales au plus."},
			{"witness", "qa", "m-witness", "Le témoin doit être une autre personne que celle qui effectue le mouvement."},
			{"document", "", "m-document", "Une réception s'enregistre avec son bon de livraison."},
		} {
			f := form()
			f.Set(bad.field, bad.value)
			p := qa.post("/controlled/movements", f)
			p.has(t, http.StatusBadRequest, bad.message)
			if !regexp.MustCompile(`(?s)id="` + bad.input + `".{0,600}?<p class="error" role="alert">` + regexp.QuoteMeta(strings.ReplaceAll(bad.message, "'", "&#39;"))).MatchString(p.body) {
				t.Errorf("%s=%q: the refusal is not shown on its field:\n%s", bad.field, bad.value, p.body)
			}
			if !strings.Contains(p.body, `value="Francopia"`) {
				t.Errorf("%s=%q: the refused form lost what was typed", bad.field, bad.value)
			}
		}
		e.unchanged(t, before)

		p := qa.post("/controlled/movements", form())
		if p.status != http.StatusSeeOther || !strings.HasPrefix(p.location, "/controlled/movements/") {
			t.Fatalf("enter: status %d, location %q:\n%s", p.status, p.location, p.text)
		}
		page := strings.SplitN(p.location, "?", 2)[0]
		qa.get(p.location).has(t, http.StatusOK, "Mouvement saisi", "en attente de signatures", "Francopia", "BL-778", "25,500 g", "Signature électronique",
			"pas encore signé")
		qa.get("/controlled?substance="+sub).has(t, http.StatusOK, "En attente de signatures", "Quentin Qualité / Sonia Superviseure")
		sign := func(meaning, who string) webPage {
			t.Helper()
			h := signFormHash.FindStringSubmatch(qa.get(page).body)
			if h == nil {
				t.Fatalf("the movement's page has no signing form")
			}
			return qa.post(page+"/sign", url.Values{"meaning": {meaning}, "username": {who}, "password": {testPassword}, "content_sha256": {h[1]}})
		}
		if r := sign("performed", "supervisor"); r.status == http.StatusSeeOther {
			t.Fatalf("the witness signed as performer: %s", r.location)
		}
		if r := sign("verified", "qa"); r.status == http.StatusSeeOther {
			t.Fatalf("the performer signed as witness: %s", r.location)
		} else if !strings.Contains(r.text, "Seul(e) Sonia Superviseure") {
			t.Errorf("the refused verification does not say who verifies:\n%s", r.text)
		}
		r := sign("performed", "qa")
		if r.status != http.StatusSeeOther || !strings.HasSuffix(r.location, "?done=signed") {
			t.Fatalf("performed: status %d %q:\n%s", r.status, r.location, r.text)
		}
		qa.get(r.location).has(t, http.StatusOK, "Signature enregistrée.", "Quentin Qualité — ", "Réalisé / Performed", "pas encore signé")
		// The witness types their own credentials in the performer's
		// session, on the same device.
		r = sign("verified", "supervisor")
		if r.status != http.StatusSeeOther || !strings.HasSuffix(r.location, "?done=validated") {
			t.Fatalf("verified: status %d %q:\n%s", r.status, r.location, r.text)
		}
		v := qa.get(r.location)
		v.has(t, http.StatusOK, "Mouvement validé et numéroté au registre.", "N° 1", "validé", "Sonia Superviseure — ", "Vérifié / Verified", "Historique",
			"Nature Réception", "en attente de signatures → validé", "Contenant V-1")
		if strings.Contains(v.text, "receipt") || strings.Contains(v.body, `action="`+page+`/sign"`) {
			t.Errorf("the validated movement shows its kind raw, or still offers to sign it:\n%s", v.text)
		}
		reg := qa.get("/controlled?substance=" + sub)
		reg.has(t, http.StatusOK, "N° 1", "Quentin Qualité", "Sonia Superviseure", "Francopia", "BL-778", "25,500 g", "Aucun mouvement en attente.")
		if got := regexp.MustCompile(`(?s)id="closing"[^>]*>(.*?)</dd>`).FindStringSubmatch(reg.body); got == nil || !strings.Contains(got[1], "25,500 g") {
			t.Errorf("the month's closing balance: %v", got)
		}
		qp := e.browserWith(t, "qp", testPassword, "en")
		qp.get("/controlled?substance="+sub).has(t, http.StatusOK, "No. 1", "25.500 g", "Quentin Qualité", "Sonia Superviseure", "Closing balance")
		qp.get(page).has(t, http.StatusOK, "No. 1", "validated", "History")

		zone, err := time.LoadLocation("Europe/Paris")
		if err != nil {
			t.Fatal(err)
		}
		now := time.Now().In(zone)

		t.Run("pdf", func(t *testing.T) {
			r := e.call(t, "qp", "GET", "/controlled/register.pdf?substance="+sub+"&month="+now.Format("2006-01"), nil, "Accept-Language", "fr")
			if !bytes.HasPrefix(r.body, []byte("%PDF-")) {
				t.Fatalf("not a PDF: %d %.200s", r.status, r.body)
			}
			if dir := os.Getenv("GALENIX_PDF_OUT"); dir != "" {
				_ = os.WriteFile(filepath.Join(dir, "controlled-register-"+string(e.db.Dialect())+".pdf"), r.body, 0o600)
			}
			flat := pdftest.Check(t, r.body) // fonts embedded, qpdf --check, PDF/A
			pages := strings.Split(strings.TrimRight(pdfText(t, r), "\f\n "), "\f")
			for i, pg := range pages {
				for _, want := range []string{"Test site", "12 rue des Essais, 69007 Lyon"} {
					if !strings.Contains(pg, want) {
						t.Errorf("page %d lacks %q:\n%s", i+1, want, pg)
					}
				}
				if !regexp.MustCompile(`\b` + strconv.Itoa(i+1) + ` / ` + strconv.Itoa(len(pages)) + `\b`).MatchString(pg) {
					t.Errorf("page %d does not say %d / %d:\n%s", i+1, i+1, len(pages), pg)
				}
			}
			for _, want := range []string{"ANSM-EP-2026-0042 du 15/01/2026", "Paula Personne Qualifiée", "Livraison ≥ 2 µg/mL à 20 °C", "Quentin Qualité",
				"Sonia Superviseure", "25,500 g", "Solde de clôture", "Réception"} {
				if !strings.Contains(flat, want) {
					t.Errorf("the register's PDF lacks %q:\n%s", want, flat)
				}
			}
			if !regexp.MustCompile(`(?m)^\s{0,4}1\s+\d{2}/\d{2}/\d{4}`).MatchString(pages[0]) || !strings.Contains(pages[0], "ANSM-EP-2026-0042") {
				t.Errorf("the first page lacks the line of serial 1 or the authorisation:\n%s", pages[0])
			}
			en := pdftest.Check(t, e.call(t, "qa", "GET", "/controlled/register.pdf?substance="+sub, nil, "Accept-Language", "en").body)
			for _, want := range []string{"Controlled-substance register", "25.500 g", "Receipt", "Closing balance"} {
				if !strings.Contains(en, want) {
					t.Errorf("the English PDF lacks %q:\n%s", want, en)
				}
			}
		})

		t.Run("csv", func(t *testing.T) {
			day := now.Format(time.DateOnly)
			for _, c := range []struct {
				lang  string
				comma rune
				head  []string
			}{
				{"en", ',', []string{"serial", "at", "kind", "substance", "container", "to container", "in", "out", "unit", "party", "document", "batch",
					"cause", "scale", "corrects", "performer", "performed at", "witness", "verified at", "validated at"}},
				{"fr", ';', []string{"n°", "date", "opération", "substance", "contenant", "contenant de destination", "entrée", "sortie", "unité", "tiers",
					"document", "lot de fabrication", "motif", "balance", "rectifie le n°", "opérateur", "signé par l'opérateur le", "témoin",
					"signé par le témoin le", "validé le"}},
			} {
				r := e.call(t, "qp", "GET", "/controlled/register.csv?substance="+sub+"&from="+day+"&to="+day, nil, "Accept-Language", c.lang)
				if r.status != http.StatusOK || !strings.HasPrefix(r.header.Get("Content-Type"), "text/csv") {
					t.Fatalf("%s: status %d %s: %s", c.lang, r.status, r.header.Get("Content-Type"), r.body)
				}
				if !bytes.HasPrefix(r.body, []byte("\uFEFF")) {
					t.Errorf("%s: no byte order mark", c.lang)
				}
				cr := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(r.body, []byte("\uFEFF"))))
				cr.Comma = c.comma
				rows, err := cr.ReadAll()
				if err != nil {
					t.Fatalf("%s: %v\n%s", c.lang, err, r.body)
				}
				if len(rows) != 2 || strings.Join(rows[0], "|") != strings.Join(c.head, "|") {
					t.Fatalf("%s: rows %q", c.lang, rows)
				}
				col := func(i int) string { return rows[1][i] }
				if col(0) != "1" || col(6) != "25.500" || col(7) != "" || col(8) != "g" || col(9) != "Francopia" || col(10) != "BL-778" ||
					col(15) != "Quentin Qualité" || col(17) != "Sonia Superviseure" {
					t.Errorf("%s: row %q", c.lang, rows[1])
				}
				for _, i := range []int{1, 16, 18, 19} {
					at, err := time.Parse(time.RFC3339, col(i))
					if err != nil || !strings.ContainsAny(col(i)[19:], "+-Z") || time.Since(at) > time.Hour {
						t.Errorf("%s: %s %q is not an ISO time with its offset (%v)", c.lang, c.head[i], col(i), err)
					}
				}
			}
			e.call(t, "qp", "GET", "/controlled/register.csv?substance="+sub+"&from=2026-05-02&to=2026-05-01", nil).wantError(t, http.StatusBadRequest, "invalid", "to")
		})

		t.Run("alert", func(t *testing.T) {
			f := form()
			f.Set("kind", "sampling")
			f.Set("quantity", "30")
			f.Set("party", "Laboratoire CQ")
			qa.post("/controlled/movements", f).has(t, http.StatusConflict, "Refusé : le contenant n'en contient que 25,500")
			reg := qa.get("/controlled?substance=" + sub)
			reg.has(t, http.StatusOK, "Solde négatif refusé", "Prendre en charge")
			action := regexp.MustCompile(`action="(/controlled/alerts/[^/"]+/acknowledge)"`).FindStringSubmatch(reg.body)
			if action == nil {
				t.Fatalf("no take-charge form:\n%s", reg.body)
			}
			before := e.snapshot(t)
			qa.post(action[1], url.Values{"comment": {" "}, "substance": {sub}}).has(t, http.StatusBadRequest,
				"Dites en un commentaire comment l'alerte est prise en charge")
			e.unchanged(t, before)
			ok := qa.post(action[1], url.Values{"comment": {"Saisie erronée, revue avec l'équipe"}, "substance": {sub}})
			if ok.status != http.StatusSeeOther || !strings.Contains(ok.location, "done=acknowledged") {
				t.Fatalf("take charge: %d %q", ok.status, ok.location)
			}
			qa.get(ok.location).has(t, http.StatusOK, "Alerte prise en charge.", "Aucune alerte en cours.")
		})

		t.Run("inventory", func(t *testing.T) {
			qa.get("/controlled/inventory").has(t, http.StatusOK, "Inventaires", "Compter un contenant", "V-1", "Aucun comptage.")
			before := e.snapshot(t)
			qa.post("/controlled/inventory", url.Values{"container_id": {vault}, "counted": {"beaucoup"}}).has(t, http.StatusBadRequest,
				"Indiquez la quantité trouvée, positive ou nulle, avec trois décimales au plus.")
			e.unchanged(t, before)
			r := qa.post("/controlled/inventory", url.Values{"container_id": {vault}, "counted": {"25,4"}, "note": {"Pesée contradictoire"}})
			if r.status != http.StatusSeeOther || !strings.Contains(r.location, "done=discrepancy") {
				t.Fatalf("count: %d %q:\n%s", r.status, r.location, r.text)
			}
			qa.get(r.location).has(t, http.StatusOK, "un écart a ouvert une déviation", "25,400", "−0,100 g", `href="/deviations/`)
		})

		t.Run("statement", func(t *testing.T) {
			year := strconv.Itoa(now.Year())
			qa.get("/controlled/statement?substance="+sub+"&year="+year).has(t, http.StatusOK, "État annuel", "25,500 g")
			qp.get("/controlled/statement?substance="+sub+"&year="+year).has(t, http.StatusOK, "Annual statement", "25.500 g")
			qa.get("/controlled/statement?substance="+sub+"&year=abc").has(t, http.StatusBadRequest)
			st := pdftest.Check(t, e.call(t, "qa", "GET", "/controlled/statement.pdf?substance="+sub+"&year="+year, nil, "Accept-Language", "fr").body)
			if !strings.Contains(st, "25,500 g") || !strings.Contains(st, "12 rue des Essais") {
				t.Errorf("the statement's PDF:\n%s", st)
			}
		})
	})
}
