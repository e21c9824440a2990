package browser_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"galenix/internal/app"
	"galenix/internal/demo"
	"galenix/internal/web"
)

// TestBrowserCapacityPage: a node whose every place is taken (here by two
// clients that send a form's headers and never its body, as a slow or
// hostile client would) refuses a page at once with a page that says, in
// the reader's language, that the server is at capacity and nothing was
// done; once a place is free the same page loads. At a tablet's size in
// French and at a tablet's portrait size in English.
func TestBrowserCapacityPage(t *testing.T) {
	execPath := chromium(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	base := startGalenix(t, ctx, func(c *app.Config) {
		c.Admission = web.AdmissionLimits{Active: 2, FloorReserve: 1}
	})
	b := newBrowser(t, ctx, execPath)
	host := strings.TrimPrefix(base, "http://")

	// hold takes a place: a sign-in form whose body never comes. The
	// place is the server's until the connection closes.
	hold := func() net.Conn {
		t.Helper()
		c, err := net.Dial("tcp", host)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(c, "POST /login HTTP/1.1\r\nHost: %s\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 200\r\n\r\nusername=", host)
		return c
	}
	step := func(name string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		sctx, cancel := context.WithTimeout(b, 30*time.Second)
		defer cancel()
		if err := chromedp.Do(sctx, actions...); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
	shots := os.Getenv("GALENIX_SCREENSHOTS")
	shot := func(name string) {
		t.Helper()
		if shots == "" {
			return
		}
		png, err := chromedp.Run(b, chromedp.CaptureScreenshot())
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(shots, name+".png"), png, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	text := func() string {
		t.Helper()
		s, err := chromedp.Run(b, chromedp.Text(chromedp.CSS(`main`)))
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	// refused holds every place, opens the page, and checks what it says.
	refused := func(path, title, message string) {
		t.Helper()
		held := []net.Conn{hold(), hold()}
		deadline := time.Now().Add(10 * time.Second)
		for metric(t, base, "galenix_http_active_requests") < 2 {
			if time.Now().After(deadline) {
				t.Fatal("the two held requests never took their places")
			}
			time.Sleep(20 * time.Millisecond)
		}
		step("open "+path+" at capacity", chromedp.Navigate(base+path), chromedp.WaitVisible(chromedp.CSS(`main h1`)))
		got := text()
		if !strings.Contains(got, title) || !strings.Contains(got, message) {
			t.Errorf("at capacity %s shows:\n%.1000s\nwant %q and %q", path, got, title, message)
		}
		retry, err := chromedp.Run(b, chromedp.AttributeValue(chromedp.CSS(`main a.btn-primary`), "href"))
		if err != nil || !retry.Exists || retry.Value != path {
			t.Errorf("the page's retry button leads to %q (%v), want %s", retry.Value, err, path)
		}
		for _, c := range held {
			c.Close()
		}
		// The places are free once the server has seen both connections
		// close: a moment, longer on a busy machine.
		deadline = time.Now().Add(10 * time.Second)
		for metric(t, base, "galenix_http_active_requests") > 0 {
			if time.Now().After(deadline) {
				t.Fatal("the two held requests kept their places after their connections closed")
			}
			time.Sleep(20 * time.Millisecond)
		}
	}

	if err := chromedp.Do(b, chromedp.Navigate(base+"/login")); err != nil {
		t.Fatalf("open the login page: %v", err)
	}
	step("sign in",
		chromedp.WaitVisible(chromedp.CSS(`#username`)),
		chromedp.SendKeys(chromedp.CSS(`#username`), "supervisor"),
		chromedp.SendKeys(chromedp.CSS(`#password`), demo.Password),
		chromedp.Click(chromedp.CSS(`.login button[type=submit]`)),
		// The supervisor's home: the login page has a heading too.
		chromedp.WaitVisible(chromedp.CSS(`header a.who`)),
	)
	refused("/batches", "Serveur à pleine charge", "Rien n'a été fait")
	shot("capacity-fr-tablet")
	// Once the places are free, the same page loads from its retry button.
	step("try again once free", chromedp.Click(chromedp.CSS(`main a.btn-primary`)), chromedp.WaitVisible(chromedp.CSS(`main table`)))
	if got := text(); strings.Contains(got, "pleine charge") {
		t.Errorf("with places free the page still says the server is at capacity")
	}

	step("switch to English and portrait", chromedp.Navigate(base+"/lang?to=en&next="+url.QueryEscape("/batches")),
		chromedp.WaitVisible(chromedp.CSS(`main table`)), chromedp.EmulateViewport(800, 1280))
	refused("/batches", "Server at capacity", "Nothing was done")
	shot("capacity-en-portrait")
}

// metric reads one unlabelled gauge of /metrics.
func metric(t *testing.T, base, name string) float64 {
	t.Helper()
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("/metrics: %d %v", resp.StatusCode, err)
	}
	for _, line := range strings.Split(string(body), "\n") {
		var v float64
		if rest, ok := strings.CutPrefix(line, name+" "); ok {
			if _, err := fmt.Sscan(rest, &v); err == nil {
				return v
			}
		}
	}
	t.Fatalf("/metrics has no %s", name)
	return 0
}
