package web_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"galenix/internal/audit"
)

// TestVersionedUpdates: GET answers the record's version as its ETag; an
// update with If-Match applies only to that version. Of twenty concurrent
// edits of one version exactly one applies; the others answer 412 with the
// current version and change nothing.
func TestVersionedUpdates(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		path := "/api/v1/people/" + e.person.ID
		got := e.call(t, "admin", "GET", path, nil)
		tag := got.header.Get("ETag")
		if got.status != http.StatusOK || tag != `"1"` {
			t.Fatalf("GET: %d, ETag %q; want 200 and \"1\"", got.status, tag)
		}
		body := func(i int) map[string]any {
			return map[string]any{"badge": e.person.Badge, "name": e.person.Name, "job": fmt.Sprintf("Job %d", i),
				"team_id": e.team.ID, "reason": "concurrent edit"}
		}

		before := len(e.auditEntries(t, audit.Filter{Entity: "person", EntityID: e.person.ID}))
		var wg sync.WaitGroup
		answers := make([]reply, 20)
		for i := range answers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				answers[i] = e.call(t, "admin", "PUT", path, body(i), "If-Match", tag)
			}()
		}
		wg.Wait()
		ok, stale := 0, 0
		for _, a := range answers {
			switch a.status {
			case http.StatusOK:
				ok++
				if a.header.Get("ETag") != `"2"` {
					t.Errorf("the applied edit answers ETag %q, want \"2\"", a.header.Get("ETag"))
				}
			case http.StatusPreconditionFailed:
				stale++
				a.wantError(t, http.StatusPreconditionFailed, "stale", "")
				if a.header.Get("ETag") != `"2"` {
					t.Errorf("a stale edit answers ETag %q, want the current \"2\"", a.header.Get("ETag"))
				}
			default:
				t.Errorf("a concurrent edit: %d %s", a.status, a.body)
			}
		}
		if ok != 1 || stale != 19 {
			t.Errorf("20 concurrent edits of version 1: %d applied, %d stale; want 1 and 19", ok, stale)
		}
		if n := len(e.auditEntries(t, audit.Filter{Entity: "person", EntityID: e.person.ID})); n != before+1 {
			t.Errorf("%d audit entries for the person's edits, want 1 (one field, one edit)", n-before)
		}

		// Stale through the body's version too; nothing changes.
		b := body(99)
		b["version"] = 1
		r := e.call(t, "admin", "PUT", path, b)
		r.wantError(t, http.StatusPreconditionFailed, "stale", "")
		if !strings.Contains(string(r.body), "version 2") {
			t.Errorf("the stale answer does not name the current version: %s", r.body)
		}
		// The current version applies.
		if r := e.call(t, "admin", "PUT", path, body(100), "If-Match", `"2"`); r.status != http.StatusOK || r.header.Get("ETag") != `"3"` {
			t.Errorf("edit of the current version: %d %s, ETag %q", r.status, r.body, r.header.Get("ETag"))
		}
		// Without a version, as before: the last edit applies.
		if r := e.call(t, "admin", "PUT", path, body(101)); r.status != http.StatusOK {
			t.Errorf("edit without a version: %d %s", r.status, r.body)
		}
		for _, bad := range []string{"3", `"x"`, `W/"3"`, `"0"`, `""`} {
			r := e.call(t, "admin", "PUT", path, body(102), "If-Match", bad)
			r.wantError(t, http.StatusBadRequest, "invalid", "")
		}
	})
}

// TestStaleFormShowsTheCurrentRecord: a form saved after someone else
// saved the record is refused (412), shows the record as it is now with
// the reason, and changes nothing.
func TestStaleFormShowsTheCurrentRecord(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		page := e.call(t, "admin", "GET", "/teams/"+e.team.ID+"/edit", nil)
		if !strings.Contains(string(page.body), `name="version" value="1"`) {
			t.Fatalf("the edit form does not carry the version: %s", page.body)
		}
		// Someone else renames the team meanwhile.
		if r := e.call(t, "admin", "PUT", "/api/v1/teams/"+e.team.ID, map[string]any{"code": e.team.Code, "name": "Renamed elsewhere",
			"building_id": e.team.BuildingID, "shift_id": e.team.ShiftID, "reason": "other desk"}); r.status != http.StatusOK {
			t.Fatalf("the other edit: %d %s", r.status, r.body)
		}
		before := len(e.auditEntries(t, audit.Filter{Limit: 100000}))
		form := url.Values{"version": {"1"}, "code": {e.team.Code}, "name": {"Mine"}, "building_id": {e.team.BuildingID},
			"shift_id": {e.team.ShiftID}, "reason": {"my edit"}}
		r := e.call(t, "admin", "POST", "/teams/"+e.team.ID, form.Encode(), "Content-Type", "application/x-www-form-urlencoded", "Accept-Language", "fr")
		if r.status != http.StatusPreconditionFailed {
			t.Fatalf("stale form: %d, want 412", r.status)
		}
		for _, want := range []string{"Quelqu&#39;un d&#39;autre a modifié cet enregistrement", "Renamed elsewhere", `name="version" value="2"`, ">my edit</textarea>"} {
			if !strings.Contains(string(r.body), want) {
				t.Errorf("the refused form lacks %q", want)
			}
		}
		// A form without its version, or with a damaged one, is refused
		// in the reader's language.
		for _, bad := range []string{"", "0", "abc", "1e3"} {
			form.Set("version", bad)
			if bad == "" {
				form.Del("version")
			}
			r := e.call(t, "admin", "POST", "/teams/"+e.team.ID, form.Encode(), "Content-Type", "application/x-www-form-urlencoded", "Accept-Language", "fr")
			if r.status != http.StatusBadRequest || !strings.Contains(string(r.body), "quelle version de l&#39;enregistrement") {
				t.Errorf("form with version %q: %d, want 400 saying the version is missing: %.300s", bad, r.status, r.body)
			}
		}
		if after := len(e.auditEntries(t, audit.Filter{Limit: 100000})); after != before {
			t.Errorf("the stale and damaged forms wrote %d audit entries", after-before)
		}
	})
}
