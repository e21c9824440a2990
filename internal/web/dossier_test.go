package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
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

// TestBatchDossier: on the demo, the client receives for its certified
// batch exactly the documents its quality agreement provides (a PDF each,
// read back by pdftotext with its lot); another document is refused (403);
// once QA's amendment provides every document, each is delivered; a batch
// not yet certified delivers nothing (409, the certificate not found);
// another client, and staff who neither review nor release batches, do not
// find the batch. The client's copy of its batch record names no performer
// of the site, whom the qualified person's copy names.
func TestBatchDossier(t *testing.T) {
	pdftest.Tools(t)
	for _, d := range []store.Dialect{store.SQLite, store.Postgres} {
		t.Run(string(d), func(t *testing.T) { batchDossier(t, d) })
	}
}

func batchDossier(t *testing.T, d store.Dialect) {
	cfg := store.Config{DataDir: demotest.DataDir(t), MasterKey: demotest.MasterKey, Keys: memoKeys}
	if d == store.Postgres {
		cfg = store.Config{DSN: demotest.DSN(t), MasterKey: demotest.MasterKey, Keys: memoKeys}
	}
	db, err := store.Open(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	s := web.New(web.Deps{Site: db.Site(), Clients: db.Clients(), Identity: db.Identity(), Admin: db.Identity().Admin(), Signatures: db.Identity().Signatures(),
		Audit: db.Audit(), AuditBundles: db.Audit(), Production: db.Production(), Release: db.Release(), DB: db, Drills: db, OpenAPI: docs.OpenAPI,
		Lab: db.Lab(), Deviations: db.Deviations(), Agreements: db.Agreements(), Qualifications: db.Qualifications(), Access: db.Access(), Controlled: db.Controlled(), Infra: db.Infra(), Documents: db.Documents(), Projects: db.Projects(), Notices: db.Outbox(),
		Environment: db.Environment(), EnvironmentViews: db.Environment()})
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(srv.Close)
	qp, qa := signIn(t, srv, "qp"), signIn(t, srv, "qa")
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
	idOf := map[string]string{}
	for _, c := range clients.Items {
		idOf[c.Code] = c.ID
	}
	type batch struct {
		ID       string `json:"id"`
		ClientID string `json:"client_id"`
		Lot      string `json:"lot"`
	}
	var certified, reviewed struct{ Items []batch }
	jsonOf(qp, "/api/v1/batches?state=certified", &certified)
	jsonOf(qp, "/api/v1/batches?state=qa_reviewed", &reviewed)
	var b batch
	for _, c := range certified.Items {
		if c.ClientID == idOf["GAMMA"] {
			b = c
		}
	}
	if b.ID == "" {
		t.Fatal("the demo has no certified batch of GAMMA")
	}
	gamma := signIn(t, srv, "client-gamma")
	all := []string{"batch_record", "certificate_of_analysis", "certificate_of_conformity", "deviation_summaries", "environment_report"}
	check := func(want []string) {
		t.Helper()
		var ds struct {
			Certified bool     `json:"certified"`
			Documents []string `json:"documents"`
		}
		jsonOf(gamma, "/api/v1/batches/"+b.ID+"/dossier", &ds)
		if !ds.Certified || !slices.Equal(ds.Documents, want) {
			t.Errorf("the dossier of %s: %+v, want certified with %v", b.Lot, ds, want)
		}
		for _, doc := range all {
			status, body := gamma.get(t, "/api/v1/batches/"+b.ID+"/dossier/"+doc+"?lang=en")
			if !slices.Contains(want, doc) {
				if status != http.StatusForbidden {
					t.Errorf("the %s of %s, not in the agreement: %d, want 403", doc, b.Lot, status)
				}
				continue
			}
			if status != http.StatusOK {
				t.Errorf("the %s of %s: %d %s", doc, b.Lot, status, body)
				continue
			}
			if got := pdftest.Check(t, body); !strings.Contains(got, b.Lot) {
				t.Errorf("the %s does not name its lot %s:\n%s", doc, b.Lot, got)
			}
		}
	}
	// The demo's agreement (internal/demo/quality.go).
	check([]string{"certificate_of_analysis", "environment_report"})
	if status, _ := gamma.get(t, "/batches/"+b.ID+"/certificate.pdf"); status != http.StatusOK {
		t.Errorf("the certificate's page link: %d", status)
	}

	// QA's amendment: every document.
	var ag map[string]any
	jsonOf(qa, "/api/v1/clients/"+idOf["GAMMA"]+"/agreement", &ag)
	ag["batch_documents"] = all
	ag["reason"] = "Avenant n° 3 : tous les documents du lot."
	if status, body := qa.send(t, "PUT", "/api/v1/clients/"+idOf["GAMMA"]+"/agreement", ag); status != http.StatusOK {
		t.Fatalf("the amendment: %d %s", status, body)
	}
	check(all)

	// Another client, and staff who neither review nor release batches,
	// do not find the batch.
	for _, who := range []string{"client-alpha", "client-beta", "operator", "supervisor"} {
		u := signIn(t, srv, who)
		for _, doc := range []string{"", "/certificate_of_analysis", "/batch_record"} {
			if status, _ := u.get(t, "/api/v1/batches/"+b.ID+"/dossier"+doc); status != http.StatusNotFound {
				t.Errorf("%s reads GAMMA's dossier%s: %d, want 404", who, doc, status)
			}
		}
	}
	// Before certification, nothing is delivered.
	alpha := signIn(t, srv, "client-alpha")
	var waiting batch
	for _, r := range reviewed.Items {
		if r.ClientID == idOf["ALPHA"] {
			waiting = r
		}
	}
	if waiting.ID == "" {
		t.Fatal("the demo has no batch of ALPHA waiting for the qualified person")
	}
	if status, _ := alpha.get(t, "/api/v1/batches/"+waiting.ID+"/dossier/certificate_of_analysis"); status != http.StatusNotFound {
		t.Errorf("the certificate of %s, not certified: %d, want 404", waiting.Lot, status)
	}
	if status, body := alpha.get(t, "/api/v1/batches/"+waiting.ID+"/dossier/deviation_summaries"); status != http.StatusConflict {
		t.Errorf("a document of %s, not certified: %d %s, want 409", waiting.Lot, status, body)
	}

	// The batch record: the qualified person's copy names who performed
	// the steps, the client's copy none of them.
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
	_, clientCopy := gamma.get(t, "/api/v1/batches/"+b.ID+"/dossier/batch_record?lang=fr")
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

// send answers the status and body of a request with a JSON body.
func (s *session) send(t *testing.T, method, path string, body any) (int, []byte) {
	t.Helper()
	b, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequest(method, s.srv.URL+path, bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if s.token != "" {
		req.Header.Set("Authorization", "Bearer "+s.token)
	}
	resp, err := s.client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, out
}
