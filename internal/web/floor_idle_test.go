package web_test

import (
	"encoding/json"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// The shop floor's idle timeout: the tablet page counts down what is left
// of its session, a touch keeps it alive, and once it has closed the
// sign-in page says why and leads back to the line, never elsewhere.

// anonymous is a browser without a session: a cookie jar, no redirects
// followed.
func (e *env) anonymous(t *testing.T, lang string) *webBrowser {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	if lang != "" {
		u, _ := url.Parse(e.srv.URL)
		jar.SetCookies(u, []*http.Cookie{{Name: "lang", Value: lang}})
	}
	return &webBrowser{t: t, e: e, c: &http.Client{Jar: jar, Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// keepAlive posts the tablet page's sign of activity and reads its answer.
func (b *webBrowser) keepAlive(t *testing.T) (status, idle, left int) {
	t.Helper()
	p := b.post("/session/keepalive", nil)
	if p.status != http.StatusOK {
		return p.status, 0, 0
	}
	var a struct {
		Idle int `json:"idle_seconds"`
		Left int `json:"left_seconds"`
	}
	if err := json.Unmarshal([]byte(p.body), &a); err != nil {
		t.Fatalf("keep-alive answered %q: %v", p.body, err)
	}
	return p.status, a.Idle, a.Left
}

var idleData = regexp.MustCompile(`data-idle="(\d+)" data-left="(\d+)"`)

// TestFloorFormAddressAfterSignIn: a form of the tablet page posted once
// its session has closed comes back, through the sign-in, as a GET on the
// form's address: it leads to the line's page, not to a 404.
func TestFloorFormAddressAfterSignIn(t *testing.T) {
	f := newFloorEnv(t)
	line := "/floor/lines/" + f.line.ID
	b := f.anonymous(t, "")
	p := b.post(line+"/step", url.Values{"batch_id": {f.batch}, "step_id": {f.stepIDs[0]}, "items": {"2"}, "check": {"0", "1"}})
	if want := "/login?next=" + url.QueryEscape(line+"/step"); p.status != http.StatusSeeOther || p.location != want {
		t.Fatalf("a form posted without a session: %d to %q, want the sign-in at %q", p.status, p.location, want)
	}
	p = b.post("/login", url.Values{"username": {"operator"}, "password": {testPassword}, "shopfloor": {"1"}, "next": {line + "/step"}})
	if p.status != http.StatusSeeOther || p.location != line+"/step" {
		t.Fatalf("signed in: %d to %q, want back to %s/step", p.status, p.location, line)
	}
	for _, form := range []string{"step", "sign", "complete"} {
		if p := b.get(line + "/" + form); p.status != http.StatusSeeOther || p.location != line+"#next" {
			t.Errorf("GET %s/%s: %d to %q, want the line's page", line, form, p.status, p.location)
		}
	}
	b.follow(t, b.get(line+"/step")).has(t, http.StatusOK, "Étape 1.1", `name="step_id" value="`+f.stepIDs[0]+`"`)
	if s := f.steps(t, f.batch)[0]["state"]; s != "pending" {
		t.Errorf("the form posted without a session recorded the step: %v", s)
	}
	// Without a session, the form's address leads to the sign-in too.
	if p := f.anonymous(t, "").get(line + "/step"); p.status != http.StatusSeeOther || !strings.HasPrefix(p.location, "/login?next=") {
		t.Errorf("GET %s/step without a session: %d to %q", line, p.status, p.location)
	}
}

// TestFloorIdleCountdown: the tablet page says how long its session lasts
// without activity, the keep-alive says it again and keeps the session
// alive, and past the timeout the page leads to the sign-in.
func TestFloorIdleCountdown(t *testing.T) {
	f := newFloorEnv(t)
	var shift atomic.Int64
	f.db.Now = func() time.Time { return time.Now().UTC().Add(time.Duration(shift.Load())) }
	line := "/floor/lines/" + f.line.ID
	b := f.anonymous(t, "")
	if p := b.post("/login", url.Values{"username": {"operator"}, "password": {testPassword}, "shopfloor": {"1"}, "next": {line}}); p.status != http.StatusSeeOther {
		t.Fatalf("sign-in: %d", p.status)
	}
	p := b.get(line)
	p.has(t, http.StatusOK, `id="idle"`, `data-login="/login?reason=idle&amp;device=shopfloor"`, `data-line="`+f.line.ID+`"`,
		"Déconnexion dans {s} s — touchez l&#39;écran pour rester connecté.")
	m := idleData.FindStringSubmatch(p.body)
	if m == nil {
		t.Fatalf("the tablet page does not say how long its session lasts:\n%.2000s", p.body)
	}
	if idle, left := atoi(m[1]), atoi(m[2]); idle != 300 || left < 295 || left > 300 {
		t.Errorf("the page counts %d s left of a %d s timeout, want about 300 of the shop floor's 300", left, idle)
	}
	// 30 s later the keep-alive counts from the last request seen ...
	shift.Store(int64(30 * time.Second))
	if status, idle, left := b.keepAlive(t); status != http.StatusOK || idle != 300 || left < 265 || left > 271 {
		t.Errorf("keep-alive after 30 s: %d, %d s left of %d, want about 270 of 300", status, left, idle)
	}
	// ... and 4 min later it gives the whole timeout again.
	shift.Store(int64(4*time.Minute + 30*time.Second))
	if status, _, left := b.keepAlive(t); status != http.StatusOK || left < 295 || left > 300 {
		t.Errorf("keep-alive after 4 min: %d, %d s left, want the whole 300", status, left)
	}
	// The session closes 5 minutes after the last request.
	shift.Store(int64(9*time.Minute + 31*time.Second))
	if p := b.get(line); p.status != http.StatusSeeOther || !strings.HasPrefix(p.location, "/login?next=") {
		t.Errorf("the tablet page past the idle timeout: %d to %q, want the sign-in", p.status, p.location)
	}
	if status, _, _ := b.keepAlive(t); status == http.StatusOK {
		t.Error("the keep-alive answered for a closed session")
	}
	// A keep-alive sent from another site is refused.
	req, _ := http.NewRequest("POST", f.srv.URL+"/session/keepalive", nil)
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	if p := b.do(req); p.status != http.StatusForbidden {
		t.Errorf("a cross-site keep-alive: %d, want 403", p.status)
	}
}

// TestSignInPageAfterIdleTimeout: the sign-in page the tablet page leads
// to says why, in the reader's language, with the minutes of the policy for
// the kind of device; and its return address stays on this site.
func TestSignInPageAfterIdleTimeout(t *testing.T) {
	f := newFloorEnv(t)
	line := "/floor/lines/" + f.line.ID
	back := "/login?reason=idle&device=shopfloor&next=" + url.QueryEscape(line)
	p := f.anonymous(t, "").get(back)
	p.has(t, http.StatusOK, `role="alert"`, "Session fermée après 5 min d&#39;inactivité. Reconnectez-vous : la saisie en cours est gardée sur cet appareil.",
		`id="shopfloor" name="shopfloor" value="1" checked`, `name="next" value="`+line+`"`)
	f.anonymous(t, "en").get(back).has(t, http.StatusOK, "Session closed after 5 min of inactivity.")
	// A person's own browser: its own timeout.
	f.anonymous(t, "").get("/login?reason=idle&next="+url.QueryEscape(line)).has(t, http.StatusOK, "Session fermée après 30 min d&#39;inactivité.")
	// Without the reason, nothing is said.
	if p := f.anonymous(t, "").get("/login?next=" + url.QueryEscape(line)); strings.Contains(p.text, "inactivité") || strings.Contains(p.body, `value="1" checked`) {
		t.Errorf("the sign-in page without a reason speaks of inactivity:\n%s", p.text)
	}
	// Signed in from it, the operator is back on the line.
	b := f.anonymous(t, "")
	if p := b.post("/login", url.Values{"username": {"operator"}, "password": {testPassword}, "shopfloor": {"1"}, "next": {line}}); p.status != http.StatusSeeOther || p.location != line {
		t.Errorf("signed in after the timeout: %d to %q, want %s", p.status, p.location, line)
	}
	// The return address is a path of this site, whatever the link says.
	for _, next := range []string{"https://evil.example" + line, "//evil.example" + line, "/\\evil.example", "javascript:alert(1)"} {
		if p := f.anonymous(t, "").get("/login?reason=idle&device=shopfloor&next=" + url.QueryEscape(next)); !strings.Contains(p.body, `name="next" value="/"`) {
			t.Errorf("the sign-in page keeps next=%q as something else than /", next)
		}
		b := f.anonymous(t, "")
		if p := b.post("/login", url.Values{"username": {"operator"}, "password": {testPassword}, "shopfloor": {"1"}, "next": {next}}); p.status != http.StatusSeeOther || p.location != "/" {
			t.Errorf("signed in with next=%q: %d to %q, want /", next, p.status, p.location)
		}
	}
}

func atoi(s string) int {
	n, _ := strconv.Atoi(s)
	return n
}
