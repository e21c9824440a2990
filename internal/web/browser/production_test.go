package browser_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"galenix/internal/demo"
)

// The shop floor in Chromium, as issue 5 asks: the operator signs in on a
// line's tablet page, clears the line and completes steps, one of them
// out of limits; QA's review of the batch shows exactly that exception;
// the client's user follows the batch's progress, live and without names;
// another client does not see the batch at all.
//
// The test finds its batch through the JSON API; every user's action goes
// through the pages.

// The demo's people the test plays, and the operator's printed name, which
// the client's pages must never show.
const (
	operatorName   = "Camille Lefèvre"
	supervisorName = "Karim Benali"
)

// The JSON the test reads from the API: only the fields it needs.
type (
	apiBatch struct {
		ID         string     `json:"id"`
		ClientID   string     `json:"client_id"`
		Lot        string     `json:"lot"`
		State      string     `json:"state"`
		LineID     string     `json:"line_id"`
		Start      *time.Time `json:"start"`
		StepsTotal int        `json:"steps_total"`
		StepsDone  int        `json:"steps_done"`
		Exceptions int        `json:"exceptions"`
	}
	apiStep struct {
		ID        string `json:"id"`
		Seq       int    `json:"seq"`
		Op        int    `json:"op"`
		State     string `json:"state"`
		Value     string `json:"value"`
		Exception bool   `json:"exception"`
		Step      struct {
			No            int      `json:"no"`
			Kind          string   `json:"kind"`
			Text          string   `json:"text"`
			Unit          string   `json:"unit"`
			Target        *float64 `json:"target"`
			Low           *float64 `json:"low"`
			High          *float64 `json:"high"`
			Decimals      int      `json:"decimals"`
			MaterialID    string   `json:"material_id"`
			Quantity      float64  `json:"quantity"`
			EquipmentKind string   `json:"equipment_kind"`
			Checklist     []string `json:"checklist"`
			Sign          bool     `json:"sign"`
			Critical      bool     `json:"critical"`
		} `json:"step"`
		Signatures []struct {
			Meaning    string `json:"meaning"`
			Status     string `json:"status"`
			SignerName string `json:"signer_name"`
		} `json:"signatures"`
	}
	apiFloor struct {
		Batch    *apiBatch `json:"batch"`
		Reserved bool      `json:"reserved"`
		Next     *apiStep  `json:"next"`
	}
	apiReview struct {
		Exceptions []apiStep `json:"exceptions"`
		Deviations []struct {
			Code   string `json:"code"`
			StepID string `json:"step_id"`
		} `json:"deviations"`
	}
)

// Label numbers a step as the pages do: "1.2".
func (s *apiStep) Label() string { return strconv.Itoa(s.Op) + "." + strconv.Itoa(s.Step.No) }

// missing lists the meanings the step still needs signed, in the order the
// signing form offers them.
func (s *apiStep) missing() []string {
	var need []string
	switch {
	case s.Step.Critical:
		need = []string{"performed", "verified"}
	case s.Step.Sign:
		need = []string{"performed"}
	}
	var out []string
	for _, m := range need {
		ok := false
		for _, g := range s.Signatures {
			if g.Meaning == m && g.Status == "valid" {
				ok = true
			}
		}
		if !ok {
			out = append(out, m)
		}
	}
	return out
}

// apiClient reads the JSON API with a bearer token.
type apiClient struct {
	t     *testing.T
	ctx   context.Context
	base  string
	token string
}

// signInAPI signs in through POST /api/v1/login.
func signInAPI(t *testing.T, ctx context.Context, base, username string) *apiClient {
	t.Helper()
	c := &apiClient{t: t, ctx: ctx, base: base}
	var out struct {
		Token string `json:"token"`
	}
	body, _ := json.Marshal(map[string]string{"username": username, "password": demo.Password})
	if status := c.call("POST", "/api/v1/login", body, &out); status != http.StatusOK || out.Token == "" {
		t.Fatalf("API sign-in of %s answered %d", username, status)
	}
	c.token = out.Token
	return c
}

// call sends a request and decodes a 200's body into v; it returns the
// status.
func (c *apiClient) call(method, path string, body []byte, v any) int {
	c.t.Helper()
	req, err := http.NewRequestWithContext(c.ctx, method, c.base+path, bytes.NewReader(body))
	if err != nil {
		c.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		c.t.Fatalf("%s %s: reading the answer: %v", method, path, err)
	}
	if resp.StatusCode == http.StatusOK && v != nil {
		if err := json.Unmarshal(b, v); err != nil {
			c.t.Fatalf("%s %s: decoding %.300s: %v", method, path, b, err)
		}
	}
	return resp.StatusCode
}

// get reads a resource that must answer 200.
func (c *apiClient) get(path string, v any) {
	c.t.Helper()
	if status := c.call("GET", path, nil, v); status != http.StatusOK {
		c.t.Fatalf("GET %s answered %d", path, status)
	}
}

// items reads a list, in the API's list envelope.
func items[T any](c *apiClient, path string) []T {
	c.t.Helper()
	var out struct {
		Items []T `json:"items"`
	}
	c.get(path, &out)
	return out.Items
}

// target is the batch the test runs: released to the floor on a line of
// Bâtiment 30, for client ALPHA, its line clearance still to do.
type target struct {
	batch  apiBatch
	lineID string
}

// findTarget picks the first batch of ALPHA released on a line of
// Bâtiment 30 that the line's tablet shows, at its line clearance.
func findTarget(t *testing.T, api *apiClient) target {
	t.Helper()
	alpha := clientID(api, "ALPHA")
	if alpha == "" {
		t.Fatal("the demo has no client ALPHA")
	}
	var b30 string
	for _, b := range items[struct {
		ID   string `json:"id"`
		Code string `json:"code"`
		Name string `json:"name"`
	}](api, "/api/v1/buildings") {
		if b.Code == "B30" || strings.HasPrefix(b.Name, "Bâtiment 30") {
			b30 = b.ID
		}
	}
	if b30 == "" {
		t.Fatal("the demo has no Bâtiment 30")
	}
	inB30 := map[string]bool{}
	for _, l := range items[struct {
		ID         string `json:"id"`
		BuildingID string `json:"building_id"`
	}](api, "/api/v1/lines?building_id="+url.QueryEscape(b30)) {
		if l.BuildingID == b30 {
			inB30[l.ID] = true
		}
	}
	batches := items[apiBatch](api, "/api/v1/batches?state=released&client_id="+url.QueryEscape(alpha))
	sort.SliceStable(batches, func(i, j int) bool {
		a, b := batches[i].Start, batches[j].Start
		return a != nil && (b == nil || a.Before(*b))
	})
	var seen []string
	for _, b := range batches {
		if b.ClientID != alpha || b.State != "released" || !inB30[b.LineID] {
			continue
		}
		seen = append(seen, b.Lot)
		var f apiFloor
		api.get("/api/v1/lines/"+url.PathEscape(b.LineID)+"/floor", &f)
		if f.Batch != nil && f.Batch.ID == b.ID && f.Next != nil && f.Next.Step.Kind == "line_clearance" && f.Next.State == "pending" {
			return target{batch: b, lineID: b.LineID}
		}
	}
	t.Fatalf("the demo leaves no batch of ALPHA released on a line of Bâtiment 30 whose tablet shows its line clearance (released there: %v)", seen)
	return target{}
}

// number writes a value with its decimals as typed on a French keyboard.
func number(v float64, decimals int) string {
	return strings.Replace(strconv.FormatFloat(v, 'f', decimals, 64), ".", ",", 1)
}

func TestProductionFloor(t *testing.T) {
	execPath := chromium(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	base := startGalenix(t, ctx)
	// The supervisor (assigned to ALPHA and BETA) finds the batch and
	// follows what the pages do, through the API.
	api := signInAPI(t, ctx, base, "supervisor")
	tg := findTarget(t, api)
	lineURL := base + "/floor/lines/" + tg.lineID
	t.Logf("batch %s on line %s", tg.batch.Lot, tg.lineID)

	shots := screenshotDir(t)

	// --- the operator, on the line's tablet
	op := newUser(t, newBrowser(t, ctx, execPath), "operator")
	op.signIn(base, "/floor/lines/"+tg.lineID, "#next", true)
	if loc := op.location(); loc != lineURL {
		t.Errorf("after signing in the operator is at %s, want the line's tablet page", loc)
	}
	if got := op.text(".floor-lot"); !strings.Contains(got, tg.batch.Lot) {
		t.Fatalf("the tablet page shows the batch %q, want %s", got, tg.batch.Lot)
	}

	floor := func() apiFloor {
		t.Helper()
		var f apiFloor
		api.get("/api/v1/lines/"+url.PathEscape(tg.lineID)+"/floor", &f)
		if f.Batch == nil || f.Batch.ID != tg.batch.ID {
			t.Fatalf("the line's floor no longer shows batch %s: %+v", tg.batch.Lot, f.Batch)
		}
		return f
	}

	// The supervisor verifies critical steps on the operator's tablet,
	// with his own username and password, the operator still signed in.
	verified := false
	verify := func(n *apiStep) {
		t.Helper()
		op.signAs(n, "verified", "supervisor")
		verified = true
		rec := stepByID(floor(), n.ID, api, tg.batch.ID)
		ok := false
		for _, g := range rec.Signatures {
			ok = ok || (g.Meaning == "verified" && g.SignerName == supervisorName && g.Status == "valid")
		}
		if !ok {
			t.Fatalf("step %s verified on the operator's tablet: signatures %+v, want %s's", n.Label(), rec.Signatures, supervisorName)
		}
		if !strings.Contains(op.text("body"), operatorName) {
			t.Errorf("after the supervisor's verification the tablet no longer shows %s signed in", operatorName)
		}
	}

	var (
		exception *apiStep // the step recorded out of limits
		outValue  string   // its value as the API records it
		done      []string // the kinds of the steps completed
		material  bool     // a material was added
	)

	// complete completes the floor's next step through the tablet page:
	// its entry, then its signatures.
	complete := func() {
		t.Helper()
		f := floor()
		n := f.Next
		if n == nil {
			t.Fatalf("batch %s has no next step", tg.batch.Lot)
		}
		if n.State == "pending" {
			out := n.Step.Kind == "numeric" && exception == nil
			op.record(api, tg.lineID, n, out)
			after := floor()
			if out {
				rec := stepByID(after, n.ID, api, tg.batch.ID)
				if !rec.Exception {
					t.Fatalf("step %s recorded with %q is not flagged as an exception", n.Label(), rec.Value)
				}
				exception, outValue = rec, rec.Value
				// The tablet says so at once, with the value written the
				// French way (the API answers in English).
				shown := strings.Replace(outValue, ".", ",", 1)
				alert, err := chromedp.Run(op.ctx, chromedp.Evaluate[string](
					`[...document.querySelectorAll(".floor-alert[role=alert]")].map(e => e.textContent).join("\n")`))
				if err != nil || !strings.Contains(alert, shown) || !strings.Contains(alert, n.Step.Text) {
					t.Errorf("after an out-of-limit value the tablet page does not show the exception of step %s with %q (%v); its alerts read:\n%s\nthe page:\n%.1500s",
						n.Label(), shown, err, alert, op.text("main"))
				}
				op.noViolations("tablet page with an exception")
				op.screenshot(shots, "floor-exception")
			}
			n = after.Next
		}
		// The signatures the step needs: performed by the operator,
		// verified by the supervisor. The step is done once the floor
		// shows another one next.
		for n != nil && n.ID == f.Next.ID {
			if n.State != "recorded" {
				t.Fatalf("step %s is %s after its entry:\n%.1500s", n.Label(), n.State, op.text("main"))
			}
			m := n.missing()
			if len(m) == 0 {
				t.Fatalf("step %s is recorded, signed, and still not done", n.Label())
			}
			switch m[0] {
			case "performed":
				op.sign(n, "performed")
			case "verified":
				verify(n)
				op.navigate(lineURL, "#next")
			default:
				t.Fatalf("step %s needs a signature %q", n.Label(), m[0])
			}
			after := floor().Next
			if after != nil && after.ID == n.ID && slices.Equal(after.missing(), m) {
				t.Fatalf("signing step %s %s changed nothing:\n%.1500s", n.Label(), m[0], op.text("main"))
			}
			n = after
		}
		done = append(done, f.Next.Step.Kind)
		material = material || f.Next.Step.Kind == "material"
	}

	// The line clearance first, then the steps in order: one value out of
	// limits, and on until a critical material addition is verified by
	// a second person and one more step is done.
	complete()
	if done[0] != "line_clearance" {
		t.Fatalf("the first step done is %s, want the line clearance", done[0])
	}
	op.screenshot(shots, "floor-cleared")
	for len(done) < 40 && (exception == nil || !material || done[len(done)-1] == "material") {
		complete()
	}
	if exception == nil {
		t.Fatalf("no numeric step came in the %d steps done (%v)", len(done), done)
	}
	t.Logf("steps done through the tablet: %v", done)
	if !verified {
		t.Logf("no critical step came: no verification by a second person was signed")
	}
	b := floor().Batch
	if b.State != "in_progress" || b.StepsDone != len(done) || b.Exceptions != 1 {
		t.Errorf("after %d steps the batch is %s with %d steps done and %d exceptions, want in_progress, %d, 1",
			len(done), b.State, b.StepsDone, b.Exceptions, len(done))
	}
	op.noViolations("tablet page")
	op.screenshot(shots, "floor-steps")

	// --- QA reviews the batch by exception.
	qa := newUser(t, op.another(), "qa")
	qa.signIn(base, "/batches/"+tg.batch.ID+"/review", "main", false)
	if status := qa.lastStatus; status != http.StatusOK {
		t.Fatalf("QA's review page answered %d:\n%.1500s", status, qa.text("main"))
	}
	review := qa.text("main")
	if !strings.Contains(review, tg.batch.Lot) {
		t.Errorf("the review page does not name the batch %s", tg.batch.Lot)
	}
	if !strings.Contains(review, outValue) && !strings.Contains(review, strings.Replace(outValue, ".", ",", 1)) {
		t.Errorf("the review page does not show the out-of-limit value %q:\n%.3000s", outValue, review)
	}
	if !strings.Contains(review, exception.Step.Text) {
		t.Errorf("the review page does not show the step out of limits (%s %q)", exception.Label(), exception.Step.Text)
	}
	if n := qa.count("#exceptions tbody tr"); n != 1 {
		t.Errorf("the review page lists %d exceptions, want exactly 1 (step %s, %s):\n%.3000s", n, exception.Label(), outValue, review)
	}
	var rv apiReview
	qaAPI := signInAPI(t, ctx, base, "qa")
	qaAPI.get("/api/v1/batches/"+url.PathEscape(tg.batch.ID)+"/review", &rv)
	if len(rv.Exceptions) != 1 || rv.Exceptions[0].ID != exception.ID {
		t.Errorf("the review through the API lists %d exceptions, want exactly step %s", len(rv.Exceptions), exception.Label())
	} else {
		for _, d := range rv.Deviations {
			if d.StepID == exception.ID && !strings.Contains(review, d.Code) {
				t.Errorf("the review page does not show the deviation %s the exception opened", d.Code)
			}
		}
	}
	qa.noViolations("review page")
	qa.screenshot(shots, "review")
	qa.close()

	// --- The client's user follows the batch, live, without names.
	alpha := newUser(t, op.another(), "client-alpha")
	alpha.signIn(base, "/batches", "main", false)
	row := "#batch-" + tg.batch.ID
	if alpha.count(row) != 1 {
		t.Fatalf("client-alpha's list of batches does not show batch %s:\n%.2000s", tg.batch.Lot, alpha.text("main"))
	}
	b = floor().Batch
	if got, want := alpha.text(row+" [data-f=steps]"), fmt.Sprintf("%d / %d", b.StepsDone, b.StepsTotal); got != want {
		t.Errorf("client-alpha's list shows the progress %q, want %q", got, want)
	}
	if got := alpha.text(row + " [data-f=exceptions]"); got != "1" {
		t.Errorf("client-alpha's list shows %q exceptions, want 1", got)
	}
	list := alpha.text("main")
	for _, name := range []string{operatorName, supervisorName} {
		if strings.Contains(list, name) {
			t.Errorf("client-alpha's list of batches names %s", name)
		}
	}
	alpha.noViolations("client's list of batches")

	// One more step on the floor: the client's list follows it, live.
	complete()
	b = floor().Batch
	want := fmt.Sprintf("%d / %d", b.StepsDone, b.StepsTotal)
	if err := alpha.poll(fmt.Sprintf(`(document.querySelector(%q) || {}).textContent === %q`, row+" [data-f=steps]", want), 15*time.Second); err != nil {
		t.Errorf("client-alpha's list did not follow the step done (still %q, want %q): %v", alpha.text(row+" [data-f=steps]"), want, err)
	}
	alpha.screenshot(shots, "client-batches")

	alpha.navigate(base+"/batches/"+tg.batch.ID, "main")
	if alpha.lastStatus != http.StatusOK {
		t.Fatalf("client-alpha's batch page answered %d", alpha.lastStatus)
	}
	summary := alpha.text("main")
	if !strings.Contains(summary, tg.batch.Lot) {
		t.Errorf("client-alpha's batch page does not name the batch %s", tg.batch.Lot)
	}
	progress, err := chromedp.Run(alpha.ctx, chromedp.Evaluate[float64](`(document.querySelector("main progress") || {}).value || 0`))
	if err != nil || int(progress) != b.StepsDone {
		t.Errorf("client-alpha's batch page shows the progress %v (%v), want %d steps done", progress, err, b.StepsDone)
	}
	if !strings.Contains(summary, strconv.Itoa(b.StepsDone)) || !strings.Contains(summary, strconv.Itoa(b.StepsTotal)) {
		t.Errorf("client-alpha's batch page does not write the progress %d of %d:\n%.1500s", b.StepsDone, b.StepsTotal, summary)
	}
	html, err := chromedp.Run(alpha.ctx, chromedp.OuterHTML(chromedp.CSS("html")))
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{operatorName, supervisorName} {
		if strings.Contains(html, name) {
			t.Errorf("client-alpha's batch page names %s", name)
		}
	}
	alpha.noViolations("client's batch page")
	alpha.screenshot(shots, "client-batch")
	alpha.close()

	// --- Another client does not see the batch at all.
	beta := newUser(t, op.another(), "client-beta")
	beta.signIn(base, "/batches", "main", false)
	if got := beta.text("main"); strings.Contains(got, tg.batch.Lot) || beta.count(row) != 0 {
		t.Errorf("client-beta's list of batches shows batch %s of ALPHA", tg.batch.Lot)
	}
	beta.navigate(base+"/batches/"+tg.batch.ID, "main")
	if beta.lastStatus != http.StatusNotFound {
		t.Errorf("client-beta's page of ALPHA's batch answered %d, want 404", beta.lastStatus)
	}
	if got := beta.text("main"); strings.Contains(got, tg.batch.Lot) {
		t.Errorf("client-beta's page of ALPHA's batch shows its lot:\n%.1000s", got)
	}
	beta.navigate(base+"/batches/"+tg.batch.ID+"/review", "main")
	if beta.lastStatus == http.StatusOK || strings.Contains(beta.text("main"), tg.batch.Lot) {
		t.Errorf("client-beta's review page of ALPHA's batch answered %d", beta.lastStatus)
	}
	beta.close()
}

// stepByID reads a step of the batch's record.
func stepByID(f apiFloor, id string, api *apiClient, batchID string) *apiStep {
	if f.Next != nil && f.Next.ID == id {
		return f.Next
	}
	var rec struct {
		Steps []apiStep `json:"steps"`
	}
	api.get("/api/v1/batches/"+url.PathEscape(batchID)+"/record", &rec)
	for i := range rec.Steps {
		if rec.Steps[i].ID == id {
			return &rec.Steps[i]
		}
	}
	api.t.Fatalf("step %s is not in the batch's record", id)
	return nil
}

// screenshotDir is where screenshots go: a temporary directory, or the one
// GALENIX_SCREENSHOTS names.
func screenshotDir(t *testing.T) string {
	if d := os.Getenv("GALENIX_SCREENSHOTS"); d != "" {
		return d
	}
	return t.TempDir()
}

// user is one person at one browser: a tab of its own browser context, so
// that each has their own session.
type user struct {
	t        *testing.T
	ctx      context.Context
	cancel   context.CancelFunc
	username string
	// lastStatus is the HTTP status of the last page loaded.
	lastStatus int
}

func newUser(t *testing.T, ctx context.Context, username string) *user {
	t.Helper()
	u := &user{t: t, ctx: ctx, cancel: func() {}, username: username}
	if _, err := chromedp.Call(ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: cspWatch}); err != nil {
		t.Fatalf("install the CSP watch for %s: %v", username, err)
	}
	return u
}

// another opens a tab in a fresh browser context of the same browser: no
// cookies shared, a session of its own.
func (u *user) another() context.Context {
	u.t.Helper()
	ctx, cancel := chromedp.NewContext(u.ctx, chromedp.WithNewBrowserContext())
	u.t.Cleanup(cancel)
	if err := chromedp.Do(ctx); err != nil {
		u.t.Fatalf("open a new browser context: %v", err)
	}
	return ctx
}

// close closes the user's tab: the page's live stream ends with it.
func (u *user) close() { _ = chromedp.Cancel(u.ctx) }

// do runs actions within a generous time.
func (u *user) do(name string, actions ...chromedp.Action[chromedp.Void]) {
	u.t.Helper()
	ctx, cancel := context.WithTimeout(u.ctx, 30*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		u.t.Fatalf("%s: %s: %v", u.username, name, err)
	}
}

// load runs actions that load a page, waits for it and the selector, and
// records the page's status.
func (u *user) load(name, wait string, actions ...chromedp.Action[chromedp.Void]) {
	u.t.Helper()
	ctx, cancel := context.WithTimeout(u.ctx, 30*time.Second)
	defer cancel()
	resp, err := chromedp.RunResponse(ctx, actions...)
	if err != nil {
		u.t.Fatalf("%s: %s: %v", u.username, name, err)
	}
	u.lastStatus = int(resp.Status)
	wctx, wcancel := context.WithTimeout(u.ctx, 30*time.Second)
	defer wcancel()
	if err := chromedp.Do(wctx, chromedp.WaitVisible(chromedp.CSS(wait))); err != nil {
		// Say where the browser is and what it shows: a page that
		// answered something else (the login form again, an error)
		// reads at once in the failure.
		ectx, ecancel := context.WithTimeout(u.ctx, 10*time.Second)
		defer ecancel()
		shown, _ := chromedp.Run(ectx, chromedp.Evaluate[string](`location.href + "\n" + (document.querySelector("main") || document.body).innerText`))
		u.t.Fatalf("%s: %s: wait for %s: %v (status %d)\n%.1200s", u.username, name, wait, err, u.lastStatus, shown)
	}
}

func (u *user) navigate(url, wait string) {
	u.t.Helper()
	u.load("open "+url, wait, chromedp.Navigate(url))
}

// signIn opens a page without a session, is led to the login form, signs
// in and is led back to the page.
func (u *user) signIn(base, path, wait string, shopfloor bool) {
	u.t.Helper()
	u.navigate(base+path, "#username")
	if loc := u.location(); !strings.HasPrefix(loc, base+"/login?next=") {
		u.t.Fatalf("%s: without a session %s went to %s, want the login page", u.username, path, loc)
	}
	u.do("type the credentials",
		chromedp.SendKeys(chromedp.CSS(`#username`), u.username),
		chromedp.SendKeys(chromedp.CSS(`#password`), demo.Password))
	if shopfloor {
		u.do("say this is a shop-floor tablet", chromedp.Click(chromedp.CSS(`#shopfloor`)))
	}
	u.load("sign in", wait, chromedp.Click(chromedp.CSS(`.login button[type=submit]`)))
	if u.lastStatus != http.StatusOK {
		u.t.Fatalf("%s: after signing in %s answered %d:\n%.1500s", u.username, path, u.lastStatus, u.text("main"))
	}
}

func (u *user) location() string {
	u.t.Helper()
	s, err := chromedp.Run(u.ctx, chromedp.Location())
	if err != nil {
		u.t.Fatal(err)
	}
	return s
}

func (u *user) text(sel string) string {
	u.t.Helper()
	ctx, cancel := context.WithTimeout(u.ctx, 10*time.Second)
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		u.t.Fatalf("%s: text of %s: %v", u.username, sel, err)
	}
	return s
}

// count counts the elements the selector finds, without waiting.
func (u *user) count(sel string) int {
	u.t.Helper()
	n, err := chromedp.Run(u.ctx, chromedp.Evaluate[int](fmt.Sprintf(`document.querySelectorAll(%q).length`, sel)))
	if err != nil {
		u.t.Fatalf("%s: count %s: %v", u.username, sel, err)
	}
	return n
}

// poll waits until the expression is true.
func (u *user) poll(expr string, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(u.ctx, timeout+5*time.Second)
	defer cancel()
	_, err := chromedp.Run(ctx, chromedp.Poll[bool](expr, chromedp.WithPollingTimeout(timeout)))
	return err
}

func (u *user) noViolations(where string) {
	u.t.Helper()
	v, err := chromedp.Run(u.ctx, chromedp.Evaluate[[]string](`window.__csp || []`))
	if err != nil {
		u.t.Fatalf("%s: reading the CSP watch: %v", where, err)
	}
	if len(v) > 0 {
		u.t.Errorf("%s: the page broke its Content-Security-Policy: %v", where, v)
	}
}

func (u *user) screenshot(dir, name string) {
	u.t.Helper()
	png, err := chromedp.Run(u.ctx, chromedp.CaptureScreenshot())
	if err != nil {
		u.t.Fatalf("screenshot %s: %v", name, err)
	}
	if !bytes.HasPrefix(png, []byte("\x89PNG")) {
		u.t.Fatalf("screenshot %s is not a PNG", name)
	}
	file := filepath.Join(dir, name+".png")
	if err := os.WriteFile(file, png, 0o644); err != nil {
		u.t.Fatal(err)
	}
	u.t.Logf("screenshot: %s", file)
}

// record enters the next step on the tablet page, as its kind asks; out
// asks for a numeric value outside the step's limits.
func (u *user) record(api *apiClient, lineID string, n *apiStep, out bool) {
	u.t.Helper()
	u.fill(api, lineID, n, out)
	u.load("record step "+n.Label(), "#next", chromedp.Click(chromedp.CSS("#next form.floor-form button[type=submit]")))
	if u.lastStatus != http.StatusOK {
		u.t.Fatalf("recording step %s (%s) answered %d:\n%.2000s", n.Label(), n.Step.Kind, u.lastStatus, u.text("main"))
	}
}

// fill types the next step's entry on the tablet page, as its kind asks,
// without sending it.
func (u *user) fill(api *apiClient, lineID string, n *apiStep, out bool) {
	u.t.Helper()
	next := "#next form.floor-form "
	if got, err := chromedp.Run(u.ctx, chromedp.Value(chromedp.CSS(next+`input[name=step_id]`))); err != nil || got != n.ID {
		u.t.Fatalf("the tablet page offers step %q (%v), the API says the next step is %s (%s)", got, err, n.Label(), n.ID)
	}
	st := &n.Step
	switch st.Kind {
	case "line_clearance":
		for i := range st.Checklist {
			u.do("tick item "+strconv.Itoa(i+1), chromedp.Click(chromedp.CSS(fmt.Sprintf(next+`input[name=check][value="%d"]`, i))))
		}
	case "instruction":
		// The button confirms.
	case "numeric":
		if st.Low == nil || st.High == nil || st.Target == nil {
			u.t.Fatalf("numeric step %s has no target or limits", n.Label())
		}
		v := *st.Target
		if out {
			v = *st.High + max(*st.High-*st.Low, 1)
		}
		u.do("type the value", chromedp.SendKeys(chromedp.CSS(`#f-value`), number(v, st.Decimals)))
		// The page says at once whether the value is out of limits, and
		// then asks for its confirmation and a comment.
		hidden, err := chromedp.Run(u.ctx, chromedp.Evaluate[bool](`document.getElementById("limit-hint").hidden && document.getElementById("oolimits").hidden`))
		if err != nil || hidden == out {
			u.t.Errorf("step %s: typing %s (limits [%v ; %v]) shows the out-of-limits hint and confirmation: %v, want %v (%v)",
				n.Label(), number(v, st.Decimals), *st.Low, *st.High, !hidden, out, err)
		}
		if out {
			u.do("confirm the value and explain it",
				chromedp.Click(chromedp.CSS(`#f-confirm_out_of_limits`)),
				chromedp.SendKeys(chromedp.CSS(`#f-comment`), "Mesure refaite, même valeur ; chef d'équipe prévenu."))
		}
	case "material":
		lot := usableLot(api, st.MaterialID, st.Quantity)
		u.do("enter the lot and quantity",
			chromedp.SendKeys(chromedp.CSS(`#f-lot`), lot),
			chromedp.SendKeys(chromedp.CSS(`#f-quantity`), number(st.Quantity, 3)))
	case "equipment":
		u.do("enter the equipment", chromedp.SendKeys(chromedp.CSS(`#f-equipment`), cleanEquipment(api, lineID, st.EquipmentKind)))
	case "sampling":
		u.do("enter the sample's label", chromedp.SendKeys(chromedp.CSS(`#f-sample`), fmt.Sprintf("ECH-%03d", n.Seq)))
	default:
		u.t.Fatalf("step %s is of an unknown kind %q", n.Label(), st.Kind)
	}
}

// sign signs the step shown on the tablet page with the meaning, as the
// user, with their password typed again.
func (u *user) sign(n *apiStep, meaning string) {
	u.t.Helper()
	u.signAs(n, meaning, u.username)
}

// signAs signs the step on u's page with the credentials of who: u's own,
// or a second person's verifying on u's tablet.
func (u *user) signAs(n *apiStep, meaning, who string) {
	u.t.Helper()
	form := "#next form.sign-form "
	if got, err := chromedp.Run(u.ctx, chromedp.Value(chromedp.CSS(form+`input[name=step_id]`))); err != nil || got != n.ID {
		u.t.Fatalf("%s: the tablet page offers to sign step %q (%v), want %s", u.username, got, err, n.Label())
	}
	u.do("sign step "+n.Label(),
		chromedp.Click(chromedp.CSS(form+`input[name=meaning][value=`+meaning+`]`)),
		chromedp.SendKeys(chromedp.CSS(`#s-username`), who),
		chromedp.SendKeys(chromedp.CSS(`#s-password`), demo.Password))
	u.load("sign step "+n.Label(), "#next", chromedp.Click(chromedp.CSS(form+`button[type=submit]`)))
	if u.lastStatus != http.StatusOK {
		u.t.Fatalf("%s: signing step %s %s answered %d:\n%.2000s", u.username, n.Label(), meaning, u.lastStatus, u.text("main"))
	}
}

// usableLot is a released, unexpired lot of the material with the stock
// for the quantity.
func usableLot(api *apiClient, materialID string, qty float64) string {
	api.t.Helper()
	for _, l := range items[struct {
		Code      string    `json:"code"`
		Status    string    `json:"status"`
		Quantity  float64   `json:"quantity"`
		ExpiresOn time.Time `json:"expires_on"`
	}](api, "/api/v1/lots?material_id="+url.QueryEscape(materialID)) {
		if l.Status == "released" && l.Quantity >= qty && l.ExpiresOn.After(time.Now().AddDate(0, 0, 1)) {
			return l.Code
		}
	}
	api.t.Fatalf("the demo has no released lot of material %s with %v in stock", materialID, qty)
	return ""
}

// cleanEquipment is a clean piece of equipment of the line, of the kind.
func cleanEquipment(api *apiClient, lineID, kind string) string {
	api.t.Helper()
	for _, e := range items[struct {
		Code   string `json:"code"`
		Kind   string `json:"kind"`
		LineID string `json:"line_id"`
		Status string `json:"status"`
	}](api, "/api/v1/equipment?line_id="+url.QueryEscape(lineID)) {
		if e.Kind == kind && e.LineID == lineID && e.Status == "clean" {
			return e.Code
		}
	}
	api.t.Fatalf("line %s has no clean equipment of kind %q", lineID, kind)
	return ""
}

// clientID is the id of the client laboratory of the code, "" for none.
func clientID(api *apiClient, code string) string {
	api.t.Helper()
	for _, c := range items[struct {
		ID   string `json:"id"`
		Code string `json:"code"`
	}](api, "/api/v1/clients") {
		if c.Code == code {
			return c.ID
		}
	}
	return ""
}
