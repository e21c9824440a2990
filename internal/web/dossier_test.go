package web_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"galenix/docs"
	"galenix/internal/demotest"
	"galenix/internal/pdf/pdftest"
	"galenix/internal/store"
	"galenix/internal/web"
)

// TestBatchDossier: on the demo, each client receives for its certified
// batches exactly the documents its quality agreement provides (a PDF each,
// read back by pdftotext with its lot); another document is refused (403)
// and so is a batch not yet certified (409); another client, and staff who
// neither review nor release batches, do not find the batch. The client's
// copy of its batch record names no performer of the site, whom the
// qualified person's copy names.
func TestBatchDossier(t *testing.T) {
	pdftest.Tools(t)
	db, err := store.Open(context.Background(), store.Config{DataDir: demotest.DataDir(t)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	s := web.New(web.Deps{Site: db.Site(), Clients: db.Clients(), Identity: db.Identity(), Admin: db.Identity().Admin(), Signatures: db.Identity().Signatures(),
		Audit: db.Audit(), AuditBundles: db.Audit(), Production: db.Production(), Release: db.Release(), DB: db, Drills: db, OpenAPI: docs.OpenAPI,
		Lab: db.Lab(), Deviations: db.Deviations(), Agreements: db.Agreements(), Documents: db.Documents(), Projects: db.Projects(), Notices: db.Outbox(),
		Environment: db.Environment(), EnvironmentViews: db.Environment()})
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(srv.Close)
	qp := signIn(t, srv, "qp")
	jsonOf := func(who *session, path string, v any) {
		t.Helper()
		status, body := who.get(t, path)
		if status != http.StatusOK {
			t.Fatalf("%s: %d %s", path, status, body)
		}
		if err := json.Unmarshal(body, v); err != nil {
			t.Fatal(err)
		}
	}
	var clients struct {
		Items []struct{ ID, Code string }
	}
	jsonOf(qp, "/api/v1/clients", &clients)
	codeOf := map[string]string{}
	for _, c := range clients.Items {
		codeOf[c.ID] = c.Code
	}
	type batch struct {
		ID       string `json:"id"`
		ClientID string `json:"client_id"`
		Lot      string `json:"lot"`
	}
	var certified, floor struct{ Items []batch }
	jsonOf(qp, "/api/v1/batches?state=certified&limit=500", &certified)
	jsonOf(qp, "/api/v1/batches?state=in_progress&limit=500", &floor)
	first := map[string]batch{}
	for _, b := range certified.Items {
		if _, ok := first[codeOf[b.ClientID]]; !ok {
			first[codeOf[b.ClientID]] = b
		}
	}
	// The demo's agreements (internal/demo/quality.go).
	want := map[string][]string{
		"ALPHA": {"certificate_of_analysis", "deviation_summaries"},
		"BETA":  {"batch_record", "certificate_of_analysis", "certificate_of_conformity"},
		"GAMMA": {"certificate_of_analysis", "environment_report"},
	}
	all := []string{"batch_record", "certificate_of_analysis", "certificate_of_conformity", "deviation_summaries", "environment_report"}
	users := map[string]*session{"ALPHA": signIn(t, srv, "client-alpha"), "BETA": signIn(t, srv, "client-beta"), "GAMMA": signIn(t, srv, "client-gamma")}
	for code, docs := range want {
		b, ok := first[code]
		if !ok {
			t.Fatalf("the demo has no certified batch of %s", code)
		}
		user := users[code]
		var ds struct {
			Certified bool     `json:"certified"`
			Documents []string `json:"documents"`
		}
		jsonOf(user, "/api/v1/batches/"+b.ID+"/dossier", &ds)
		if !ds.Certified || !slices.Equal(ds.Documents, docs) {
			t.Errorf("%s's dossier of %s: %+v, want certified with %v", code, b.Lot, ds, docs)
		}
		for _, doc := range all {
			status, body := user.get(t, "/api/v1/batches/"+b.ID+"/dossier/"+doc+"?lang=en")
			if !slices.Contains(docs, doc) {
				if status != http.StatusForbidden {
					t.Errorf("%s's %s of %s, not in its agreement: %d, want 403", code, doc, b.Lot, status)
				}
				continue
			}
			if status != http.StatusOK {
				t.Errorf("%s's %s of %s: %d %s", code, doc, b.Lot, status, body)
				continue
			}
			if got := pdftest.Check(t, body); !strings.Contains(got, b.Lot) {
				t.Errorf("%s's %s does not name its lot %s:\n%s", code, doc, b.Lot, got)
			}
		}
		// Another client, and staff who neither review nor release
		// batches, do not find the batch.
		for other, u := range users {
			if other == code {
				continue
			}
			if status, _ := u.get(t, "/api/v1/batches/"+b.ID+"/dossier/certificate_of_analysis"); status != http.StatusNotFound {
				t.Errorf("%s reads %s's certificate: %d, want 404", other, code, status)
			}
			if status, _ := u.get(t, "/api/v1/batches/"+b.ID+"/dossier"); status != http.StatusNotFound {
				t.Errorf("%s reads %s's dossier: %d, want 404", other, code, status)
			}
		}
		for _, staff := range []string{"operator", "supervisor"} {
			if status, _ := signIn(t, srv, staff).get(t, "/api/v1/batches/"+b.ID+"/dossier/"+docs[1]); status != http.StatusNotFound {
				t.Errorf("%s reads %s's %s: %d, want 404", staff, code, docs[1], status)
			}
		}
	}

	// Before certification, nothing is delivered.
	for _, b := range floor.Items {
		if u := users[codeOf[b.ClientID]]; u != nil {
			if status, _ := u.get(t, "/api/v1/batches/"+b.ID+"/dossier/certificate_of_analysis"); status != http.StatusNotFound {
				t.Errorf("the certificate of %s on the floor: %d, want 404", b.Lot, status)
			}
			if status, body := u.get(t, "/api/v1/batches/"+b.ID+"/dossier/"+want[codeOf[b.ClientID]][1]); status != http.StatusConflict {
				t.Errorf("a document of %s on the floor: %d %s, want 409", b.Lot, status, body)
			}
			break
		}
	}

	// Beta's batch record: the qualified person's copy names who performed
	// the steps, the client's copy none of them.
	b := first["BETA"]
	var rec struct {
		Steps []struct {
			PerformedName string `json:"performed_name"`
		} `json:"steps"`
	}
	jsonOf(qp, "/api/v1/batches/"+b.ID+"/record", &rec)
	var names []string
	for _, st := range rec.Steps {
		if st.PerformedName != "" && !slices.Contains(names, st.PerformedName) {
			names = append(names, st.PerformedName)
		}
	}
	if len(names) == 0 {
		t.Fatalf("the record of %s names no performer", b.Lot)
	}
	_, staffCopy := qp.get(t, "/api/v1/batches/"+b.ID+"/dossier/batch_record?lang=fr")
	_, clientCopy := users["BETA"].get(t, "/api/v1/batches/"+b.ID+"/dossier/batch_record?lang=fr")
	staffText, clientText := pdftest.Check(t, staffCopy), pdftest.Check(t, clientCopy)
	for _, n := range names {
		if !strings.Contains(staffText, n) {
			t.Errorf("the qualified person's copy does not name %q", n)
		}
		if strings.Contains(clientText, n) {
			t.Errorf("the client's copy names %q", n)
		}
	}
	if !strings.Contains(clientText, "Personnel du site") {
		t.Errorf("the client's copy does not say the site's staff performed the steps:\n%s", clientText)
	}
}
