package browser_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"galenix/internal/demo"
)

// The shop floor with gloves on, in Chromium: every control of the tablet
// page is a big touch target in portrait and landscape; the session's idle
// timeout is counted down, a touch keeps it alive, and once it has closed
// the entry typed comes back on the same step after a new sign-in (never
// sent without it); a value out of limits is recorded only once confirmed
// and explained, and its alert stays in view until acknowledged.

// numericTarget finds, through the API, a batch of ALPHA in progress whose
// line's tablet shows a numeric step to enter.
func numericTarget(t *testing.T, api *apiClient) (lineID string, next *apiStep) {
	t.Helper()
	alpha := clientID(api, "ALPHA")
	for _, b := range items[apiBatch](api, "/api/v1/batches?state=in_progress&client_id="+url.QueryEscape(alpha)) {
		var f apiFloor
		api.get("/api/v1/lines/"+url.PathEscape(b.LineID)+"/floor", &f)
		if f.Batch != nil && f.Batch.ID == b.ID && f.Next != nil && f.Next.Step.Kind == "numeric" && f.Next.State == "pending" &&
			f.Next.Step.Low != nil && f.Next.Step.High != nil && f.Next.Step.Target != nil {
			return b.LineID, f.Next
		}
	}
	t.Fatal("the demo leaves no batch of ALPHA in progress at a numeric step")
	return "", nil
}

// smallTargets lists the visible controls of the page smaller than 48 px
// either way.
const smallTargets = `[...document.querySelectorAll("button, input:not([type=hidden]), select, textarea, a.btn")]
	.filter(e => { const r = e.getBoundingClientRect(); return r.width > 0 && r.height > 0 && getComputedStyle(e).visibility !== "hidden"; })
	.filter(e => { const r = e.getBoundingClientRect(); return r.width < 48 || r.height < 48; })
	.map(e => { const r = e.getBoundingClientRect(); return e.outerHTML.slice(0, 100) + " " + Math.round(r.width) + "×" + Math.round(r.height); })`

func TestBrowserFloor(t *testing.T) {
	// Most of this test waits out a real minute of idleness: it runs
	// beside the package's other parallel tests, once the others are done.
	t.Parallel()
	execPath := chromium(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	base := startGalenix(t, ctx)

	// The site's policy closes a shop-floor session after one minute
	// without activity (its least): the countdown shows its last 30 s.
	admin := signInAPI(t, ctx, base, "admin")
	var pol map[string]any
	admin.get("/api/v1/policy", &pol)
	pol["shopfloor_idle_minutes"] = 1
	pol["reason"] = "Browser test of the shop floor's idle timeout"
	body, _ := json.Marshal(pol)
	if status := admin.call("PUT", "/api/v1/policy", body, nil); status != http.StatusOK {
		t.Fatalf("setting the shop-floor idle timeout answered %d", status)
	}

	api := signInAPI(t, ctx, base, "supervisor")
	lineID, n := numericTarget(t, api)
	lineURL := base + "/floor/lines/" + lineID
	pending := func() bool {
		t.Helper()
		var f apiFloor
		api.get("/api/v1/lines/"+url.PathEscape(lineID)+"/floor", &f)
		return f.Next != nil && f.Next.ID == n.ID && f.Next.State == "pending"
	}
	shots := screenshotDir(t)
	inLimits, outOfLimits := number(*n.Step.Target, n.Step.Decimals), number(*n.Step.High+max(*n.Step.High-*n.Step.Low, 1), n.Step.Decimals)
	t.Logf("line %s, step %s: %s in limits, %s out", lineID, n.Label(), inLimits, outOfLimits)

	op := newUser(t, newBrowser(t, ctx, execPath), "operator")
	op.signIn(base, "/floor/lines/"+lineID, "#next", true)
	clear := func(sel string) {
		op.do("clear "+sel, chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`(() => { const e = document.querySelector(%q); e.value = ""; e.dispatchEvent(new Event("input", {bubbles: true})); })()`, sel)))
	}
	eval := func(expr string) string {
		t.Helper()
		s, err := chromedp.Run(op.ctx, chromedp.Evaluate[string](expr, chromedp.EvalAwaitPromise))
		if err != nil {
			t.Fatalf("%s: %v", expr, err)
		}
		return s
	}

	// --- Big touch targets, the confirmation of a value out of limits
	// shown, in portrait and landscape.
	op.do("type a value out of limits", chromedp.SendKeys(chromedp.CSS(`#f-value`), outOfLimits), chromedp.WaitVisible(chromedp.CSS(`#oolimits`)))
	for _, vp := range [][2]int64{{768, 1024}, {1024, 768}} {
		op.do(fmt.Sprintf("a %d×%d tablet", vp[0], vp[1]), chromedp.EmulateViewport(vp[0], vp[1]))
		small, err := chromedp.Run(op.ctx, chromedp.Evaluate[[]string](smallTargets))
		if err != nil {
			t.Fatal(err)
		}
		if len(small) > 0 {
			t.Errorf("at %d×%d the tablet page has controls under 48 px:\n%s", vp[0], vp[1], strings.Join(small, "\n"))
		}
		op.screenshot(shots, fmt.Sprintf("floor-%dx%d", vp[0], vp[1]))
	}
	clear("#f-value")
	if eval(`String(document.getElementById("oolimits").hidden)`) != "true" {
		t.Error("the confirmation stays once the value is cleared")
	}

	// --- The idle timeout: counted down, a touch keeps the session, the
	// entry kept across a new sign-in.
	comment := "Lecture au pH-mètre n° 2"
	op.do("type the value and a comment",
		chromedp.SendKeys(chromedp.CSS(`#f-value`), inLimits),
		chromedp.SendKeys(chromedp.CSS(`#f-comment`), comment))
	countdown := `(() => { const e = document.getElementById("idle"); return !e.hidden && /^Déconnexion dans \d+ s — touchez l'écran pour rester connecté\.$/.test(e.textContent); })()`
	if err := op.poll(countdown, 45*time.Second); err != nil {
		t.Fatalf("no countdown before the idle timeout: %q (%v)", eval(`document.getElementById("idle").textContent`), err)
	}
	first := eval(`document.getElementById("idle").textContent`)
	op.screenshot(shots, "floor-countdown")
	op.do("touch the screen", chromedp.Click(chromedp.CSS(`h1`)))
	if err := op.poll(`document.getElementById("idle").hidden`, 10*time.Second); err != nil {
		t.Errorf("a touch did not put the countdown away (%q): %v", first, err)
	}
	if err := op.poll(countdown, 45*time.Second); err != nil {
		t.Fatalf("no countdown after the touch: %v", err)
	}
	// The page leaves for the sign-in by itself: wait for it, through
	// the navigation.
	for end := time.Now().Add(45 * time.Second); ; time.Sleep(500 * time.Millisecond) {
		if loc, err := chromedp.Run(op.ctx, chromedp.Location()); err == nil && strings.HasPrefix(loc, base+"/login?") {
			break
		}
		if time.Now().After(end) {
			t.Fatalf("the session did not close: still at %s", op.location())
		}
	}
	op.do("wait for the sign-in form", chromedp.WaitVisible(chromedp.CSS(`#username`)))
	loc, _ := url.Parse(op.location())
	if q := loc.Query(); q.Get("reason") != "idle" || q.Get("next") != "/floor/lines/"+lineID {
		t.Errorf("the idle timeout led to %s, want the sign-in with its reason and the line", loc)
	}
	if got := op.text(".idle-reason"); !strings.Contains(got, "Session fermée après 1 min d'inactivité.") {
		t.Errorf("the sign-in page says %q", got)
	}
	op.screenshot(shots, "floor-signed-out")
	// The server closed the session too, and has nothing of the entry:
	// it is in this tab only.
	if status := eval(`fetch("/session/keepalive", {method: "POST", redirect: "manual"}).then(r => r.type === "opaqueredirect" ? "closed" : String(r.status))`); status != "closed" {
		t.Errorf("after the countdown the session answers %s", status)
	}
	if kept := eval(`sessionStorage.getItem("galenix.floor.` + lineID + `.` + n.ID + `") || ""`); !strings.Contains(kept, comment) {
		t.Errorf("the entry is not kept in the tab: %q", kept)
	}
	if !pending() {
		t.Fatal("the step was recorded without the operator")
	}
	if checked := eval(`String(document.getElementById("shopfloor").checked)`); checked != "true" {
		t.Error("the sign-in after a shop-floor timeout does not keep the shop-floor box ticked")
	}
	op.do("type the credentials",
		chromedp.SendKeys(chromedp.CSS(`#username`), "operator"),
		chromedp.SendKeys(chromedp.CSS(`#password`), demo.Password))
	op.load("sign in again", "#next", chromedp.Click(chromedp.CSS(`.login button[type=submit]`)))
	if got := op.location(); got != lineURL {
		t.Errorf("signed in again, the operator is at %s, want %s", got, lineURL)
	}
	if got, _ := chromedp.Run(op.ctx, chromedp.Value(chromedp.CSS(`#next form.floor-form input[name=step_id]`))); got != n.ID {
		t.Errorf("signed in again, the tablet offers step %q, want %s", got, n.Label())
	}
	value, _ := chromedp.Run(op.ctx, chromedp.Value(chromedp.CSS(`#f-value`)))
	typed, _ := chromedp.Run(op.ctx, chromedp.Value(chromedp.CSS(`#f-comment`)))
	if value != inLimits || typed != comment || eval(`String(document.getElementById("restored").hidden)`) != "false" {
		t.Errorf("signed in again, the form holds %q and %q, want the entry typed %q and %q, and says so", value, typed, inLimits, comment)
	}
	if !pending() {
		t.Fatal("the entry kept was sent without the operator")
	}
	op.noViolations("tablet page after a new sign-in")
	op.screenshot(shots, "floor-restored")

	// --- A value out of limits: not recorded without its confirmation
	// and comment; once recorded, its alert opens the page, focused,
	// until acknowledged.
	clear("#f-value")
	clear("#f-comment")
	op.do("type a value out of limits", chromedp.SendKeys(chromedp.CSS(`#f-value`), outOfLimits), chromedp.WaitVisible(chromedp.CSS(`#oolimits`)))
	op.do("submit without confirming", chromedp.Click(chromedp.CSS(`#next form.floor-form button[type=submit]`)))
	time.Sleep(time.Second)
	if !pending() || op.location() != lineURL {
		t.Fatalf("a value out of limits was submitted without its confirmation (at %s)", op.location())
	}
	op.do("confirm and explain",
		chromedp.Click(chromedp.CSS(`#f-confirm_out_of_limits`)),
		chromedp.SendKeys(chromedp.CSS(`#f-comment`), "Sonde vérifiée, même valeur."))
	op.load("record the value out of limits", "#exception", chromedp.Click(chromedp.CSS(`#next form.floor-form button[type=submit]`)))
	if pending() {
		t.Fatal("the value out of limits, confirmed and explained, was not recorded")
	}
	inView := eval(`(() => { const e = document.getElementById("exception"), r = e.getBoundingClientRect();
		return String(document.activeElement === e && e.getAttribute("role") === "alert" && r.top >= 0 && r.top < innerHeight); })()`)
	if inView != "true" {
		t.Errorf("the alert of the value out of limits is not in view and focused: %s", eval(`JSON.stringify(document.getElementById("exception").getBoundingClientRect())`))
	}
	if got := op.text("#exception"); !strings.Contains(got, "Sonde vérifiée, même valeur.") || !strings.Contains(got, "DEV") {
		t.Errorf("the alert reads %q", got)
	}
	op.screenshot(shots, "floor-exception-alert")
	op.load("acknowledge the alert", "#next", chromedp.Click(chromedp.CSS(`#understood`)))
	if op.count("#exception") != 0 {
		t.Error("the alert stays once acknowledged")
	}
	op.noViolations("tablet page")
}
