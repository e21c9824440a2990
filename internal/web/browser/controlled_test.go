package browser_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"galenix/internal/demo"
)

// The controlled-substance register fed by the batch record, in
// Chromium: the register follows the material a batch of ALPHA adds
// first (its vault and the lot's production cabinet filled, each movement
// signed by two); on the line's tablet the operator runs the batch up to
// that addition, enters the controlled lot with the scale's reading,
// signs it, and the supervisor verifies it on the same tablet;
// the pharmacist then finds the dispensing in the register with both
// signatures, and the month's closing balance down by the quantity, on a
// desktop in French and on a portrait tablet in English.
func TestBrowserControlledDispensing(t *testing.T) {
	execPath := chromium(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	base := startGalenix(t, ctx)
	api := signInAPI(t, ctx, base, "supervisor")
	shots := screenshotDir(t)

	// A batch of ALPHA released at its line clearance in Bâtiment 30, and
	// its first material addition of a material counted by mass.
	tg := findTarget(t, api)
	var rec struct {
		Steps []apiStep `json:"steps"`
	}
	api.get("/api/v1/batches/"+url.PathEscape(tg.batch.ID)+"/record", &rec)
	var step *apiStep
	for i := range rec.Steps {
		if rec.Steps[i].Step.Kind == "material" {
			step = &rec.Steps[i]
			break
		}
	}
	if step == nil {
		t.Fatalf("batch %s adds no material", tg.batch.Lot)
	}
	var mat struct {
		ID   string `json:"id"`
		Code string `json:"code"`
		Unit string `json:"unit"`
	}
	api.get("/api/v1/materials/"+url.PathEscape(step.Step.MaterialID), &mat)
	if mat.Unit != "kg" && mat.Unit != "g" && mat.Unit != "mg" {
		t.Fatalf("batch %s first adds %s, counted in %s: not a mass", tg.batch.Lot, mat.Code, mat.Unit)
	}
	lot := usableLot(api, mat.ID, step.Step.Quantity)
	var lotID string
	for _, l := range items[struct {
		ID   string `json:"id"`
		Code string `json:"code"`
	}](api, "/api/v1/lots?material_id="+url.QueryEscape(mat.ID)) {
		if l.Code == lot {
			lotID = l.ID
		}
	}
	t.Logf("batch %s on line %s adds %v %s of %s (lot %s) at its step %s", tg.batch.Lot, tg.lineID, step.Step.Quantity, mat.Unit, mat.Code, lot, step.Label())

	// The pharmacist's register follows that material (if it does not
	// already): its substance, a vault and the lot's production cabinet,
	// filled by a receipt and a transfer, each signed by quality
	// assurance and witnessed by the supervisor.
	qa := signInAPI(t, ctx, base, "qa")
	alpha := clientID(api, "ALPHA")
	subID := ""
	for _, s := range items[struct {
		ID         string `json:"id"`
		MaterialID string `json:"material_id"`
	}](qa, "/api/v1/controlled/substances") {
		if s.MaterialID == mat.ID {
			subID = s.ID
		}
	}
	if subID == "" {
		subID = postJSON(t, qa, "/api/v1/controlled/substances", map[string]any{"code": "CTRL-" + mat.Code, "name": mat.Code, "class": "psychotropic",
			"unit": mat.Unit, "client_id": alpha, "material_id": mat.ID})["id"].(string)
	}
	vault := postJSON(t, qa, "/api/v1/controlled/containers", map[string]any{"substance_id": subID, "code": "COF-TEST", "lot_code": lot,
		"place": "Coffre stupéfiants, Bâtiment 70", "place_kind": "vault"})["id"].(string)
	cabinet := postJSON(t, qa, "/api/v1/controlled/containers", map[string]any{"substance_id": subID, "code": "A-TEST", "lot_id": lotID,
		"place": "Armoire sécurisée, Bâtiment 30", "place_kind": "production"})["id"].(string)
	qty := strconv.FormatFloat(step.Step.Quantity*2, 'f', 3, 64)
	var supervisorID string
	for _, a := range items[struct {
		ID       string `json:"id"`
		Username string `json:"username"`
	}](qa, "/api/v1/accounts") {
		if a.Username == "supervisor" {
			supervisorID = a.ID
		}
	}
	for _, m := range []map[string]any{
		{"kind": "receipt", "container_id": vault, "quantity": qty, "party": "Francopia", "document": "BL-TEST-1"},
		{"kind": "transfer", "container_id": vault, "to_container_id": cabinet, "quantity": qty},
	} {
		m["substance_id"], m["witness_id"] = subID, supervisorID
		id := postJSON(t, qa, "/api/v1/controlled/movements", m)["id"].(string)
		for _, sig := range []struct{ meaning, who string }{{"performed", "qa"}, {"verified", "supervisor"}} {
			ch := postJSON(t, qa, "/api/v1/signatures/challenge", map[string]any{"entity": "controlled_movement", "entity_id": id,
				"meaning": sig.meaning, "second_person": sig.who != "qa"})["challenge"].(string)
			postJSON(t, qa, "/api/v1/signatures", map[string]any{"entity": "controlled_movement", "entity_id": id, "meaning": sig.meaning,
				"username": sig.who, "password": demo.Password, "challenge": ch})
		}
	}
	sub := struct{ ID string }{subID}
	type month struct {
		Summary struct {
			Closing string `json:"closing"`
		} `json:"summary"`
	}
	qpAPI := signInAPI(t, ctx, base, "qp")
	var before month
	qpAPI.get("/api/v1/controlled/substances/"+sub.ID+"/month", &before)

	lineURL := base + "/floor/lines/" + tg.lineID
	floor := func() apiFloor {
		t.Helper()
		var f apiFloor
		api.get("/api/v1/lines/"+url.PathEscape(tg.lineID)+"/floor", &f)
		if f.Batch == nil || f.Batch.ID != tg.batch.ID {
			t.Fatalf("the line's floor no longer shows batch %s", tg.batch.Lot)
		}
		return f
	}

	// --- the operator, on the line's tablet, the supervisor verifying.
	op := newUser(t, newBrowser(t, ctx, execPath), "operator")
	op.do("portrait tablet", chromedp.EmulateViewport(768, 1024))
	op.signIn(base, "/floor/lines/"+tg.lineID, "#next", true)
	dispensed := false
	for i := 0; i < 60 && !dispensed; i++ {
		f := floor()
		n := f.Next
		if n == nil {
			t.Fatalf("batch %s ended before its addition of %s", tg.batch.Lot, mat.Code)
		}
		isMorph := n.ID == step.ID
		if n.State == "pending" {
			if isMorph {
				op.do("enter the controlled lot, the quantity and the scale's reading",
					chromedp.SendKeys(chromedp.CSS(`#f-lot`), lot),
					chromedp.SendKeys(chromedp.CSS(`#f-quantity`), number(n.Step.Quantity, 3)),
					chromedp.SendKeys(chromedp.CSS(`#f-scale`), "BAL-30-02 "+number(n.Step.Quantity, 3)+" "+mat.Unit))
				op.screenshot(shots, "controlled-floor-entry")
				op.load("record step "+n.Label(), "#next", chromedp.Click(chromedp.CSS("#next form.floor-form button[type=submit]")))
				if op.lastStatus != 200 {
					t.Fatalf("recording the controlled addition answered %d:\n%.2000s", op.lastStatus, op.text("main"))
				}
			} else {
				op.record(api, tg.lineID, n, false)
			}
			n = floor().Next
		}
		for n != nil && n.ID == f.Next.ID {
			m := n.missing()
			if isMorph && len(n.Signatures) == 0 && (len(m) != 2 || m[1] != "verified") {
				t.Fatalf("the controlled addition needs %v, want performed and verified (a controlled lot is always witnessed)", m)
			}
			if len(m) == 0 {
				t.Fatalf("step %s is recorded, signed, and still not done", n.Label())
			}
			switch m[0] {
			case "performed":
				op.sign(n, "performed")
			case "verified":
				op.signAs(n, "verified", "supervisor")
				op.navigate(lineURL, "#next")
			}
			after := floor().Next
			if after != nil && after.ID == n.ID && len(after.missing()) == len(m) {
				t.Fatalf("signing step %s %s changed nothing:\n%.1500s", n.Label(), m[0], op.text("main"))
			}
			n = after
		}
		dispensed = isMorph
	}
	if !dispensed {
		t.Fatalf("the addition of %s to batch %s was not reached", mat.Code, tg.batch.Lot)
	}

	// The register holds the dispensing, with both signatures.
	var got struct {
		ID            string `json:"id"`
		Serial        int64  `json:"serial"`
		Kind          string `json:"kind"`
		Batch         string `json:"batch"`
		Quantity      string `json:"quantity"`
		Scale         string `json:"scale"`
		PerformerName string `json:"performer_name"`
		WitnessName   string `json:"witness_name"`
		Signatures    []struct {
			Meaning    string `json:"meaning"`
			SignerName string `json:"signer_name"`
			Status     string `json:"status"`
		} `json:"signatures"`
	}
	for _, m := range items[struct {
		ID    string `json:"id"`
		Batch string `json:"batch"`
		Kind  string `json:"kind"`
	}](qpAPI, "/api/v1/controlled/movements?substance_id="+sub.ID) {
		if m.Kind == "dispensing" && m.Batch == tg.batch.Lot {
			qpAPI.get("/api/v1/controlled/movements/"+m.ID, &got)
		}
	}
	if got.ID == "" || len(got.Signatures) != 2 || got.PerformerName == "" || got.WitnessName == "" || got.PerformerName == got.WitnessName ||
		!strings.HasPrefix(got.Scale, "BAL-30-02") {
		t.Fatalf("the register's dispensing to %s: %+v", tg.batch.Lot, got)
	}
	for _, g := range got.Signatures {
		if g.Status != "valid" {
			t.Errorf("the dispensing's signature %+v", g)
		}
	}
	var after month
	qpAPI.get("/api/v1/controlled/substances/"+sub.ID+"/month", &after)
	if before.Summary.Closing == after.Summary.Closing {
		t.Errorf("the month's closing stays %s after the dispensing of %s", after.Summary.Closing, got.Quantity)
	}

	// --- the pharmacist, on a desktop in French, then a tablet in English.
	qp := newUser(t, newBrowser(t, ctx, execPath), "qp")
	qp.do("desktop", chromedp.EmulateViewport(1366, 900))
	page := "/controlled?substance=" + sub.ID
	qp.signIn(base, page, "#register", false)
	row := qp.text("#register")
	for _, want := range []string{tg.batch.Lot, got.PerformerName, got.WitnessName, "BAL-30-02"} {
		if !strings.Contains(row, want) {
			t.Errorf("the register's page does not show %q:\n%s", want, row)
		}
	}
	// The month's closing balance as the API has it, written the French
	// way (thousands apart).
	closing := strings.Map(func(r rune) rune {
		if r == ' ' || r == '\u202f' || r == '\u00a0' {
			return -1
		}
		return r
	}, qp.text("#closing"))
	if want := strings.Replace(after.Summary.Closing, ".", ",", 1); !strings.Contains(closing, want) {
		t.Errorf("the page's closing balance %q, want %s", closing, want)
	}
	qp.noViolations("the register")
	qp.screenshot(shots, "controlled-register-fr")
	qp.do("portrait tablet", chromedp.EmulateViewport(768, 1024))
	qp.navigate(base+"/lang?to=en&next="+url.QueryEscape(page), "#register")
	if h := qp.text("h1"); !strings.Contains(h, "Controlled-substance register") {
		t.Errorf("the English page's title: %q", h)
	}
	noSideways(qp, "the register on a portrait tablet")
	qp.screenshot(shots, "controlled-register-en-tablet")
	qp.navigate(base+"/controlled/movements/"+got.ID, "#signatures")
	for _, want := range []string{got.PerformerName, got.WitnessName, "Performed", "Verified"} {
		if !strings.Contains(qp.text("#signatures"), want) {
			t.Errorf("the movement's page does not show %q:\n%s", want, qp.text("#signatures"))
		}
	}
	qp.screenshot(shots, "controlled-movement-en-tablet")
}

// postJSON sends a write to the API and answers its body, which must be
// 200 or 201.
func postJSON(t *testing.T, c *apiClient, path string, body any) map[string]any {
	t.Helper()
	b, _ := json.Marshal(body)
	req, err := http.NewRequestWithContext(c.ctx, "POST", c.base+path, bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+c.token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("POST %s: %v", path, err)
	}
	defer resp.Body.Close()
	out := map[string]any{}
	data, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusCreated {
		t.Fatalf("POST %s answered %d: %s", path, resp.StatusCode, data)
	}
	if err := json.Unmarshal(data, &out); err != nil {
		t.Fatalf("POST %s: %v", path, err)
	}
	return out
}
