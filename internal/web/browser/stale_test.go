package browser_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"galenix/internal/demo"
)

// TestBrowserStaleAccountForm: an administrator opens an account's form in
// the browser; meanwhile someone else renames the account through the API;
// the form saved after is refused (the version it edited is gone), and the
// page shows the account as it is now with the reason, in French.
func TestBrowserStaleAccountForm(t *testing.T) {
	execPath := chromium(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	base := startGalenix(t, ctx)
	b := newBrowser(t, ctx, execPath)

	api := func(method, path, token string, body any) map[string]any {
		t.Helper()
		var rd *bytes.Reader
		if body != nil {
			j, _ := json.Marshal(body)
			rd = bytes.NewReader(j)
		} else {
			rd = bytes.NewReader(nil)
		}
		req, _ := http.NewRequestWithContext(ctx, method, base+path, rd)
		req.Header.Set("Content-Type", "application/json")
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out map[string]any
		if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("%s %s: %d %v", method, path, resp.StatusCode, err)
		}
		return out
	}
	token := api("POST", "/api/v1/login", "", map[string]string{"username": "admin", "password": demo.Password})["token"].(string)
	var opID string
	for _, a := range api("GET", "/api/v1/accounts", token, nil)["items"].([]any) {
		if m := a.(map[string]any); m["username"] == "operator" {
			opID = m["id"].(string)
		}
	}
	if opID == "" {
		t.Fatal("no demo account operator")
	}

	step := func(name string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		sctx, cancel := context.WithTimeout(b, 30*time.Second)
		defer cancel()
		if err := chromedp.Do(sctx, actions...); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
	// The browser starts in its own context, not a step's, which ends.
	if err := chromedp.Do(b, chromedp.Navigate(base+"/login")); err != nil {
		t.Fatalf("open the login page: %v", err)
	}
	step("sign in",
		chromedp.WaitVisible(chromedp.CSS(`#username`)),
		chromedp.SendKeys(chromedp.CSS(`#username`), "admin"),
		chromedp.SendKeys(chromedp.CSS(`#password`), demo.Password),
		chromedp.Click(chromedp.CSS(`.login button[type=submit]`)),
		// The signed-in header, not main h1: the login page has one too,
		// and the next navigation would cancel the sign-in under way.
		chromedp.WaitVisible(chromedp.CSS(`header a.who`)),
	)
	step("open the account's form", chromedp.Navigate(base+"/admin/accounts/"+opID+"/edit"), chromedp.WaitVisible(chromedp.CSS(`#f-name`)))

	// Someone else renames the account meanwhile.
	acc := api("GET", "/api/v1/accounts/"+opID, token, nil)
	acc["name"], acc["reason"] = "Renommé ailleurs", "autre poste"
	api("PUT", "/api/v1/accounts/"+opID, token, acc)

	step("save the form of the old version",
		chromedp.Evaluate[chromedp.Void](`document.querySelector("#f-name").value = "Mon nom"`),
		chromedp.SendKeys(chromedp.CSS(`#f-reason`), "ma modification"),
		chromedp.Click(chromedp.CSS(`form[action="/admin/accounts/`+opID+`"] button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(`.alert`)),
	)
	alert, err := chromedp.Run(b, chromedp.Text(chromedp.CSS(`.alert`)))
	if err != nil || !strings.Contains(alert, "Quelqu'un d'autre a modifié cet enregistrement") {
		t.Errorf("the refusal reads %q (%v)", alert, err)
	}
	name, err := chromedp.Run(b, chromedp.Evaluate[string](`document.querySelector("#f-name").value`))
	if err != nil || name != "Renommé ailleurs" {
		t.Errorf("the form shows the name %q (%v), want the current one", name, err)
	}
	if now := api("GET", "/api/v1/accounts/"+opID, token, nil); now["name"] != "Renommé ailleurs" {
		t.Errorf("the stale form changed the account: %v", now["name"])
	}
	if dir := os.Getenv("GALENIX_SCREENSHOTS"); dir != "" {
		png, err := chromedp.Run(b, chromedp.CaptureScreenshot())
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "account-stale-fr.png"), png, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
