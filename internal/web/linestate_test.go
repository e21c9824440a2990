package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"galenix/internal/audit"
	"galenix/internal/store"
)

// TestBatchStartFarFromSlot: the batch's slot is two weeks ahead; its line
// clearance through the API without a reason is refused (400 invalid on
// the field reason) and writes nothing; with one, the batch starts and the
// audit trail keeps the reason. The line's state follows: not in
// production before, in production after, in the line's answer, the list
// of lines and the site's page alike. On both databases.
func TestBatchStartFarFromSlot(t *testing.T) {
	for _, d := range []store.Dialect{store.SQLite, store.Postgres} {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			f := newFloorEnvOn(t, d)
			lineID := f.line.ID
			states := func() (one, listed string) {
				one, _ = f.ok(t, f.call(t, "supervisor", "GET", "/api/v1/lines/"+lineID, nil), http.StatusOK, "the line").object(t)["state"].(string)
				for _, it := range f.call(t, "supervisor", "GET", "/api/v1/lines", nil).items(t) {
					if it["id"] == lineID {
						listed, _ = it["state"].(string)
					}
				}
				return one, listed
			}
			if one, listed := states(); one != "available" || listed != one {
				t.Errorf("before the start the line is %q (listed %q), want available", one, listed)
			}

			before := f.prodSnapshot(t)
			clearance := map[string]any{"checked": []bool{true, true}}
			e := f.record(t, "operator", f.batch, map[string]any{"id": f.stepIDs[0]}, clearance).wantError(t, http.StatusBadRequest, "invalid", "reason")
			if !strings.Contains(e.Message, "needs a reason") && !strings.Contains(e.Message, "exige une raison") {
				t.Errorf("refusal %q does not ask for a reason", e.Message)
			}
			clearance["reason"] = "   "
			f.record(t, "operator", f.batch, map[string]any{"id": f.stepIDs[0]}, clearance).wantError(t, http.StatusBadRequest, "invalid", "reason")
			f.prodUnchanged(t, before)
			if one, _ := states(); one == "in_production" {
				t.Error("the line is in production after a refused start")
			}

			const why = "Line freed early: the previous batch was cancelled."
			clearance["reason"] = why
			f.ok(t, f.record(t, "operator", f.batch, map[string]any{"id": f.stepIDs[0]}, clearance), http.StatusOK, "the start with a reason")
			found := false
			for _, en := range f.auditEntries(t, audit.Filter{Entity: "batch", EntityID: f.batch}) {
				if en.Field == "state" && en.New == "in_progress" {
					found = true
					if en.Reason != why {
						t.Errorf("the start's audit entry has the reason %q, want %q", en.Reason, why)
					}
				}
			}
			if !found {
				t.Error("no audit entry of the batch going in progress")
			}
			if one, listed := states(); one != "in_production" || listed != one {
				t.Errorf("after the start the line is %q (listed %q), want in_production", one, listed)
			}
			// The next step needs no reason: the batch has started.
			f.ok(t, f.record(t, "operator", f.batch, map[string]any{"id": f.stepIDs[1]}, map[string]any{"lot": "LOT-A", "quantity": "10"}), http.StatusOK, "the next step")
			f.browserWith(t, "supervisor", testPassword, "").get("/site").has(t, http.StatusOK, "En production")
		})
	}
}

// TestFloorStartReasonPage: the tablet's line clearance of a batch far
// from its slot asks why; sent without a reason it is refused with the
// question in words, nothing written; with one the batch starts.
func TestFloorStartReasonPage(t *testing.T) {
	f := newFloorEnv(t)
	op := f.browserWith(t, "operator", testPassword, "")
	line := "/floor/lines/" + f.line.ID
	op.get(line).has(t, http.StatusOK, "Pourquoi le lot démarre-t-il maintenant ?", `name="reason"`, "exige une raison")
	form := url.Values{"batch_id": {f.batch}, "step_id": {f.stepIDs[0]}, "items": {"2"}, "check": {"0", "1"}}
	before := f.prodSnapshot(t)
	op.post(line+"/step", form).has(t, http.StatusBadRequest, "exige une raison", `name="reason"`, `value="0" checked`)
	f.prodUnchanged(t, before)
	form.Set("reason", "Ligne libérée plus tôt.")
	p := op.post(line+"/step", form)
	if !strings.Contains(p.location, "done=recorded") {
		t.Fatalf("with a reason: status %d, went to %q:\n%s", p.status, p.location, p.text)
	}
	op.follow(t, p).has(t, http.StatusOK, "En cours", "En production")
}
