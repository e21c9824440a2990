package web_test

import (
	"net/http"
	"strings"
	"testing"
)

// TestLinePageShowsSignatures: the line's page shows its electronic
// signatures as printed name, date and time with zone, and meaning, and
// marks one broken once the line changes after signing (21 CFR 11.50, 11.70).
func TestLinePageShowsSignatures(t *testing.T) {
	eachDB(t, func(t *testing.T, base *env) {
		e := newSignEnv(t, base)
		if r := e.sign(t, "operator", "line", e.line.ID, "performed"); r.status != http.StatusCreated {
			t.Fatalf("sign: %d %s", r.status, r.body)
		}
		page := func() string {
			r := e.call(t, "admin", "GET", "/lines/"+e.line.ID, nil)
			if r.status != http.StatusOK {
				t.Fatalf("line page: %d", r.status)
			}
			return string(r.body)
		}
		body := page()
		for _, want := range []string{"Otto Operator — ", "(Europe/Paris, UTC", "Réalisé / Performed", "valide"} {
			if !strings.Contains(body, want) {
				t.Errorf("the line page lacks %q", want)
			}
		}
		if strings.Contains(body, "ROMPUE") {
			t.Error("a valid signature shows as broken")
		}
		change := map[string]any{"code": e.line.Code, "name": "Renamed after signing", "room_id": e.line.RoomID, "sterile": e.line.Sterile,
			"forms": e.line.Forms, "capacity_per_hour": e.line.CapacityPerHour, "status": e.line.Status, "reason": "test"}
		if r := e.call(t, "admin", "PUT", "/api/v1/lines/"+e.line.ID, change); r.status != http.StatusOK {
			t.Fatalf("update: %d %s", r.status, r.body)
		}
		if body := page(); !strings.Contains(body, "ROMPUE") {
			t.Error("the line page does not show the signature broken after the line changed")
		}
	})
}
