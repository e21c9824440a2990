package web_test

import (
	"bytes"
	"context"
	"maps"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"galenix/internal/audit"
	"galenix/internal/client"
	"galenix/internal/document"
	"galenix/internal/errs"
	"galenix/internal/identity"
	"galenix/internal/store"
	"galenix/internal/text"
)

var testPDF = []byte("%PDF-1.7\n% Cahier des charges Alpha\n")

// docEnv is the production environment with quality assurance assigned to
// beta too, for the documents' tests.
type docEnv struct {
	*prodEnv
}

func newDocEnv(t *testing.T, p *prodEnv) *docEnv {
	t.Helper()
	as := identity.Assignment{AccountID: p.accounts["qa"].ID, ClientID: p.beta.ID}
	if err := p.db.Identity().Admin().Assign(identity.WithActor(context.Background(), identity.System), &as, ""); err != nil && !errs.Is(err, errs.Conflict) {
		t.Fatal(err)
	}
	return &docEnv{prodEnv: p}
}

// rawUpload uploads a file as the raw body, its fields in the query.
func (d *docEnv) rawUpload(t *testing.T, who, path string, fields url.Values, typ string, body []byte) reply {
	t.Helper()
	return d.call(t, who, "POST", path+"?"+fields.Encode(), body, "Content-Type", typ)
}

// multipartUpload uploads a file in a multipart form with its fields.
func (d *docEnv) multipartUpload(t *testing.T, who, path string, fields url.Values, name, typ string, body []byte) reply {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for k := range fields {
		if err := mw.WriteField(k, fields.Get(k)); err != nil {
			t.Fatal(err)
		}
	}
	h := textproto.MIMEHeader{}
	h.Set("Content-Disposition", `form-data; name="file"; filename="`+name+`"`)
	h.Set("Content-Type", typ)
	fw, err := mw.CreatePart(h)
	if err != nil {
		t.Fatal(err)
	}
	fw.Write(body)
	mw.Close()
	return d.call(t, who, "POST", path, buf.Bytes(), "Content-Type", mw.FormDataContentType())
}

// document uploads a document of the client as qa and returns its id and
// its newest version's id.
func (d *docEnv) document(t *testing.T, clientID string, cat document.Category, title string) (string, string) {
	t.Helper()
	doc := d.ok(t, d.rawUpload(t, "qa", "/api/v1/documents", url.Values{"client_id": {clientID}, "category": {string(cat)}, "title": {title},
		"file_name": {"Spec_v1.pdf"}}, "application/pdf", testPDF), http.StatusCreated, "upload").object(t)
	return doc["id"].(string), doc["versions"].([]any)[0].(map[string]any)["id"].(string)
}

// TestDocumentsAPI: upload (multipart and raw), refusals that store
// nothing, download in the client's scope only, approval of a
// specification by both sides' signatures, and the end of a client's
// contract: refused while a batch record is kept, or under legal hold,
// then done, signed, audited, and the documents unreadable.
func TestDocumentsAPI(t *testing.T) {
	e := newEnv(t, store.SQLite)
	d := newDocEnv(t, newProdEnv(t, e, "operator"))
	hash, err := passwordHash()
	if err != nil {
		t.Fatal(err)
	}
	if err := e.db.WriteHistory(identity.WithActor(context.Background(), identity.System), "test.seed", func(ctx context.Context, h *store.History) error {
		boss := identity.Account{Username: "client-boss", Name: "Bea Boss", Roles: []identity.Role{identity.RoleClientManager}, ClientID: e.alpha.ID}
		if err := h.CreateAccount(&boss, hash); err != nil {
			return err
		}
		e.accounts[boss.Username] = boss
		return nil
	}); err != nil {
		t.Fatal(err)
	}

	// Refused uploads store nothing.
	for _, who := range []string{"qa", "operator", "client-alpha", "client-beta", "client-boss", "admin"} {
		e.token(t, who) // signed in before the counts
	}
	before := e.rows(t)
	fields := url.Values{"client_id": {e.alpha.ID}, "category": {"report"}, "title": {"Report"}, "file_name": {"Report-1.pdf"}}
	d.rawUpload(t, "qa", "/api/v1/documents", fields, "application/pdf", []byte("<html>not a pdf</html>")).wantError(t, http.StatusBadRequest, "invalid", "content_type")
	d.rawUpload(t, "qa", "/api/v1/documents", fields, "text/html", []byte("<html></html>")).wantError(t, http.StatusBadRequest, "invalid", "content_type")
	d.rawUpload(t, "qa", "/api/v1/documents", fields, "text/plain", bytes.Repeat([]byte("a"), document.MaxSize+1)).wantError(t, http.StatusRequestEntityTooLarge, "too_large", "file")
	d.multipartUpload(t, "qa", "/api/v1/documents", fields, "big.txt", "text/plain", bytes.Repeat([]byte("a"), document.MaxSize+2<<20)).wantError(t, http.StatusRequestEntityTooLarge, "too_large", "file")
	d.rawUpload(t, "operator", "/api/v1/documents", fields, "application/pdf", testPDF).wantError(t, http.StatusForbidden, "forbidden", "")
	d.rawUpload(t, "client-beta", "/api/v1/documents", fields, "application/pdf", testPDF).wantError(t, http.StatusBadRequest, "invalid", "client_id")
	if after := e.rows(t); !maps.Equal(after, before) {
		t.Fatalf("refused uploads wrote: %v → %v", before, after)
	}

	// A specification, multipart; the client's manager uploads its own.
	spec := d.ok(t, d.multipartUpload(t, "qa", "/api/v1/documents", url.Values{"client_id": {e.alpha.ID}, "category": {"specification"},
		"title": {"Product specification"}}, "Spec-A.pdf", "application/pdf", testPDF), http.StatusCreated, "multipart upload").object(t)
	specID := spec["id"].(string)
	v1 := spec["versions"].([]any)[0].(map[string]any)
	if v1["sha256"] != document.Hash(testPDF) || v1["state"] != "draft" || v1["file_name"] != "Spec-A.pdf" {
		t.Fatalf("version 1: %v", v1)
	}
	d.ok(t, d.rawUpload(t, "client-boss", "/api/v1/documents", url.Values{"category": {"protocol"}, "title": {"Our protocol"}, "file_name": {"Protocol-1.txt"}},
		"text/plain", []byte("protocol")), http.StatusCreated, "client's upload")
	d.document(t, e.beta.ID, document.Report, "Beta report")

	// Lists and downloads in scope only.
	if n := len(d.call(t, "client-alpha", "GET", "/api/v1/documents", nil).items(t)); n != 2 {
		t.Errorf("client-alpha lists %d documents, want 2", n)
	}
	if items := d.call(t, "client-beta", "GET", "/api/v1/documents", nil).items(t); len(items) != 1 || items[0]["client_id"] != e.beta.ID {
		t.Errorf("client-beta lists %v", items)
	}
	for _, path := range []string{"/api/v1/documents/" + specID, "/api/v1/documents/" + specID + "/content", "/api/v1/documents/" + specID + "/versions/1/content",
		"/documents/" + specID + "/content", "/api/v1/documents/" + specID + "/versions"} {
		if r := d.call(t, "client-beta", "GET", path, nil); r.status != http.StatusNotFound {
			t.Errorf("client-beta GET %s: %d", path, r.status)
		}
	}
	r := d.call(t, "client-alpha", "GET", "/api/v1/documents/"+specID+"/content", nil)
	if r.status != http.StatusOK || !bytes.Equal(r.body, testPDF) || r.header.Get("Digest") != "sha-256="+document.Hash(testPDF) ||
		!strings.Contains(r.header.Get("Content-Disposition"), "Spec-A.pdf") {
		t.Fatalf("download: %d %q %v", r.status, r.body, r.header)
	}
	if r := d.call(t, "client-alpha", "GET", "/api/v1/documents/"+specID+"/versions/2/content", nil); r.status != http.StatusNotFound {
		t.Errorf("a version that does not exist: %d", r.status)
	}

	// Both sides approve the specification; the second version supersedes the first.
	v1ID := v1["id"].(string)
	d.ok(t, d.sign(t, "qa", "document_version", v1ID, "approved"), http.StatusCreated, "QA approves")
	if st := d.call(t, "qa", "GET", "/api/v1/documents/"+specID, nil).object(t)["state"]; st != "draft" {
		t.Errorf("after QA alone: %v", st)
	}
	if r := d.call(t, "client-beta", "POST", "/api/v1/signatures/challenge", map[string]string{"entity": "document_version", "entity_id": v1ID,
		"meaning": "approved"}); r.status != http.StatusNotFound {
		t.Errorf("another client's user approves: %d %s", r.status, r.body)
	}
	d.ok(t, d.sign(t, "client-boss", "document_version", v1ID, "approved"), http.StatusCreated, "the client approves")
	v2body := []byte("%PDF-1.7\n% v2\n")
	d.ok(t, d.rawUpload(t, "qa", "/api/v1/documents/"+specID+"/versions", url.Values{"file_name": {"Spec-A-v2.pdf"}}, "application/pdf", v2body),
		http.StatusCreated, "version 2")
	vs := d.call(t, "client-alpha", "GET", "/api/v1/documents/"+specID+"/versions", nil).items(t)
	if len(vs) != 2 || vs[0]["number"] != float64(2) || vs[1]["state"] != "approved" || vs[0]["uploaded_by"] != nil {
		t.Fatalf("versions: %v", vs)
	}
	d.ok(t, d.sign(t, "qa", "document_version", vs[0]["id"].(string), "approved"), http.StatusCreated, "QA approves v2")
	d.ok(t, d.sign(t, "client-alpha", "document_version", vs[0]["id"].(string), "approved"), http.StatusCreated, "the client's user approves v2")
	vs = d.call(t, "qa", "GET", "/api/v1/documents/"+specID+"/versions", nil).items(t)
	if vs[0]["state"] != "approved" || vs[1]["state"] != "superseded" {
		t.Errorf("after v2's approval: %v", vs)
	}

	// The end of alpha's contract. The admin works for beta only: alpha is
	// not found to them until assigned.
	if r := d.call(t, "admin", "GET", "/api/v1/clients/"+e.alpha.ID+"/end-of-contract", nil); r.status != http.StatusNotFound {
		t.Errorf("unassigned admin: %d", r.status)
	}
	as := identity.Assignment{AccountID: e.accounts["admin"].ID, ClientID: e.alpha.ID}
	if err := e.db.Identity().Admin().Assign(identity.WithActor(context.Background(), identity.System), &as, ""); err != nil {
		t.Fatal(err)
	}
	d.call(t, "qa", "POST", "/api/v1/clients/"+e.alpha.ID+"/legal-hold", map[string]any{"reason": "Litigation pending"}).wantError(t, http.StatusBadRequest, "invalid", "held")
	d.ok(t, d.call(t, "qa", "POST", "/api/v1/clients/"+e.alpha.ID+"/legal-hold", map[string]any{"held": true, "reason": "Litigation pending"}),
		http.StatusOK, "legal hold")
	eoc := d.ok(t, d.call(t, "admin", "GET", "/api/v1/clients/"+e.alpha.ID+"/end-of-contract", nil), http.StatusOK, "end of contract").object(t)
	if eoc["allowed"] != false || !strings.Contains(eoc["refusal"].(string), "legal hold") || eoc["documents"] != float64(2) {
		t.Fatalf("end of contract under hold: %v", eoc)
	}
	shred := func(who string) reply {
		t.Helper()
		ch := d.challenge(t, who, "client_key", e.alpha.ID, "approved")
		return d.call(t, who, "POST", "/api/v1/clients/"+e.alpha.ID+"/shred", map[string]string{"username": who, "password": testPassword,
			"challenge": ch, "reason": "End of contract with Alpha"})
	}
	shred("admin").wantError(t, http.StatusConflict, "conflict", "")
	d.ok(t, d.call(t, "admin", "POST", "/api/v1/clients/"+e.alpha.ID+"/legal-hold", map[string]any{"held": false, "reason": "Litigation settled"}),
		http.StatusOK, "lift the hold")
	// A batch of alpha made and in review, not decided: its record is kept.
	product := d.created(t, "supervisor", "/api/v1/products", d.productBody("DOC-CEF"))
	d.effectiveMaster(t, product, "MBR-DOC")
	d.inReview(t, product, slot(time.Tuesday, 6))
	sigs := d.signatureRows(t)
	shred("admin").wantError(t, http.StatusConflict, "conflict", "")
	if d.signatureRows(t) != sigs {
		t.Error("a refused destruction left a signature")
	}
	var refused int
	for _, en := range e.auditEntries(t, audit.Filter{Entity: "client_key", EntityID: e.alpha.ID}) {
		if en.Command == "client_key.shred.refused" {
			refused++
		}
	}
	if refused != 2 {
		t.Errorf("%d refused attempts audited, want 2", refused)
	}
	if r := d.call(t, "qa", "POST", "/api/v1/clients/"+e.alpha.ID+"/shred", map[string]string{"username": "qa", "password": testPassword,
		"challenge": "x", "reason": "End of contract"}); r.status != http.StatusForbidden {
		t.Errorf("QA destroys the key: %d", r.status)
	}

	// Beta, without a batch: its key is destroyed, signed.
	shredBeta := func() reply {
		ch := d.challenge(t, "admin", "client_key", e.beta.ID, "approved")
		return d.call(t, "admin", "POST", "/api/v1/clients/"+e.beta.ID+"/shred", map[string]string{"username": "admin", "password": testPassword,
			"challenge": ch, "reason": "End of contract with Beta"})
	}
	betaEOC := d.ok(t, d.call(t, "admin", "GET", "/api/v1/clients/"+e.beta.ID+"/end-of-contract", nil), http.StatusOK, "beta's end").object(t)
	if betaEOC["allowed"] != true || betaEOC["documents"] != float64(1) {
		t.Fatalf("beta's end of contract: %v", betaEOC)
	}
	done := d.ok(t, shredBeta(), http.StatusCreated, "shred").object(t)
	if done["fingerprint"] != betaEOC["fingerprint"] || done["documents"] != float64(1) || done["signer_name"] != "Ada Admin" {
		t.Errorf("shredding: %v", done)
	}
	var cert string
	for _, en := range e.auditEntries(t, audit.Filter{Entity: "client_key", EntityID: e.beta.ID}) {
		if en.Field == "certificate" {
			cert = en.New
		}
	}
	cert = text.RenderStored(text.EN, cert)
	if !strings.Contains(cert, betaEOC["fingerprint"].(string)) || !strings.Contains(cert, "documents made unreadable: 1") || !strings.Contains(cert, "Ada Admin") ||
		!strings.Contains(cert, "BETA") {
		t.Errorf("certificate: %q", cert)
	}
	items := d.call(t, "client-beta", "GET", "/api/v1/documents", nil).items(t)
	if len(items) != 1 || items[0]["readable"] != false {
		t.Fatalf("beta's documents after the shredding: %v", items)
	}
	for _, who := range []string{"client-beta", "qa", "admin"} {
		d.call(t, who, "GET", "/api/v1/documents/"+items[0]["id"].(string)+"/content", nil).wantError(t, http.StatusConflict, "conflict", "")
	}
	// Again: the key is gone, nothing to sign; refused in words.
	d.call(t, "admin", "POST", "/api/v1/clients/"+e.beta.ID+"/shred", map[string]string{"username": "admin", "password": testPassword,
		"challenge": "x", "reason": "End of contract with Beta"}).wantError(t, http.StatusConflict, "conflict", "")
	d.rawUpload(t, "qa", "/api/v1/documents", url.Values{"client_id": {e.beta.ID}, "category": {"report"}, "title": {"After"}, "file_name": {"After-1.txt"}},
		"text/plain", []byte("after")).wantError(t, http.StatusConflict, "conflict", "")
	// Alpha's documents are untouched.
	if r := d.call(t, "client-alpha", "GET", "/api/v1/documents/"+specID+"/content", nil); r.status != http.StatusOK || !bytes.Equal(r.body, v2body) {
		t.Errorf("alpha's document after beta's shredding: %d", r.status)
	}
}

// documentIdemCases are the idempotency cases of the documents' writes
// (TestIdempotencyEveryWriteRoute).
func documentIdemCases(t *testing.T, p *prodEnv) map[string]func(t *testing.T) idemRequest {
	d := newDocEnv(t, p)
	n := 0
	return map[string]func(t *testing.T) idemRequest{
		"uploadDocument": func(t *testing.T) idemRequest {
			return idemRequest{who: "qa", path: "/api/v1/documents?" + url.Values{"client_id": {p.beta.ID}, "category": {"report"}, "title": {"Idem report"},
				"file_name": {"Report-1.txt"}}.Encode(), body: "a report", contentType: "text/plain"}
		},
		"uploadDocumentVersion": func(t *testing.T) idemRequest {
			id, _ := d.document(t, p.beta.ID, document.Report, "Idem versions")
			return idemRequest{who: "qa", path: "/api/v1/documents/" + id + "/versions?file_name=Version-2.pdf", body: string(testPDF), contentType: "application/pdf"}
		},
		"setLegalHold": func(t *testing.T) idemRequest {
			n++
			return idemRequest{who: "qa", path: "/api/v1/clients/" + p.beta.ID + "/legal-hold", body: map[string]any{"held": n%2 == 1, "reason": "Idempotency test"}}
		},
		"shredClientKey": func(t *testing.T) idemRequest {
			// A client of its own, its key made by a first document, and
			// no batch.
			sys := identity.WithActor(context.Background(), identity.System)
			c := client.Client{Code: "SHRED", Name: "Shred Pharma"}
			if err := p.db.Clients().CreateClient(sys, &c); err != nil {
				t.Fatal(err)
			}
			for _, who := range []string{"qa", "admin"} {
				as := identity.Assignment{AccountID: p.accounts[who].ID, ClientID: c.ID}
				if err := p.db.Identity().Admin().Assign(sys, &as, ""); err != nil {
					t.Fatal(err)
				}
			}
			d.document(t, c.ID, document.Certificate, "Certificate")
			ch := d.challenge(t, "admin", "client_key", c.ID, "approved")
			return idemRequest{who: "admin", path: "/api/v1/clients/" + c.ID + "/shred", body: map[string]string{"username": "admin",
				"password": testPassword, "challenge": ch, "reason": "End of contract"}}
		},
	}
}

// exerciseDocuments runs every write of the documents: uploads of a
// document and of a version, approvals, a legal hold set and lifted, and
// a destruction of a client's key refused while on hold.
func exerciseDocuments(t *testing.T, p *prodEnv) {
	t.Helper()
	d := newDocEnv(t, p)
	id, v1 := d.document(t, p.beta.ID, document.Protocol, "Validation protocol")
	d.ok(t, d.sign(t, "qa", "document_version", v1, "approved"), http.StatusCreated, "approve")
	d.ok(t, d.rawUpload(t, "qa", "/api/v1/documents/"+id+"/versions", url.Values{"file_name": {"Version-2.txt"}}, "text/plain", []byte("version 2")),
		http.StatusCreated, "version 2")
	d.document(t, p.alpha.ID, document.Specification, "Product specification")
	d.ok(t, d.call(t, "admin", "POST", "/api/v1/clients/"+p.beta.ID+"/legal-hold", map[string]any{"held": true, "reason": "Inspection under way"}),
		http.StatusOK, "hold")
	ch := d.challenge(t, "admin", "client_key", p.beta.ID, "approved")
	d.call(t, "admin", "POST", "/api/v1/clients/"+p.beta.ID+"/shred", map[string]string{"username": "admin", "password": testPassword,
		"challenge": ch, "reason": "End of contract"}).wantError(t, http.StatusConflict, "conflict", "")
	d.ok(t, d.call(t, "admin", "POST", "/api/v1/clients/"+p.beta.ID+"/legal-hold", map[string]any{"held": false, "reason": "Inspection closed"}),
		http.StatusOK, "lift the hold")
}

// postMultipart sends a page's upload form: its fields and one file.
func (b *webBrowser) postMultipart(path string, fields url.Values, name, typ string, body []byte) webPage {
	b.t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for k := range fields {
		mw.WriteField(k, fields.Get(k))
	}
	h := textproto.MIMEHeader{}
	h.Set("Content-Disposition", `form-data; name="file"; filename="`+name+`"`)
	h.Set("Content-Type", typ)
	fw, _ := mw.CreatePart(h)
	fw.Write(body)
	mw.Close()
	req, _ := http.NewRequest("POST", b.e.srv.URL+path, &buf)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	return b.do(req)
}

// TestDocumentPages: the upload form (a refused file stores nothing and
// says why), the document's page and its approval signed there, another
// client's document not found, and the administrator's end of contract:
// the legal hold, the destruction refused under it, then signed.
func TestDocumentPages(t *testing.T) {
	e := newEnv(t, store.SQLite)
	newDocEnv(t, newProdEnv(t, e, "operator"))
	qa := e.adminBrowser(t, "qa", "en")
	qa.get("/documents/new").has(t, http.StatusOK, "Upload a document", "20 MiB")
	before := e.rows(t)
	fields := url.Values{"client_id": {e.alpha.ID}, "category": {"report"}, "title": {"Stability report"}}
	qa.postMultipart("/documents/new", fields, "Report-1.pdf", "application/pdf", []byte("<html>not a pdf</html>")).has(t, http.StatusBadRequest,
		"is not of the type it declares", "Stability report")
	if after := e.rows(t); !maps.Equal(after, before) {
		t.Fatalf("a refused upload wrote: %v → %v", before, after)
	}
	fields.Set("idempotency_key", "upload-page-1")
	p := qa.postMultipart("/documents/new", fields, "Report-1.pdf", "application/pdf", testPDF)
	if p.status != http.StatusSeeOther || !strings.HasPrefix(p.location, "/documents/") {
		t.Fatalf("upload: %d %s", p.status, p.location)
	}
	// The form sent twice (a double tap, another boundary): one document,
	// the second answered as the first; the key with another file: refused.
	uploaded := e.rows(t)
	if again := qa.postMultipart("/documents/new", fields, "Report-1.pdf", "application/pdf", testPDF); again.status != http.StatusSeeOther || again.location != p.location {
		t.Errorf("the upload sent again: %d %s, want 303 %s", again.status, again.location, p.location)
	}
	if after := e.rows(t); !maps.Equal(after, uploaded) {
		t.Errorf("the upload sent again wrote: %v → %v", uploaded, after)
	}
	if other := qa.postMultipart("/documents/new", fields, "Report-2.pdf", "application/pdf", testPDF); other.status != http.StatusUnprocessableEntity {
		t.Errorf("the key sent again with another file: %d, want 422", other.status)
	}
	delete(fields, "idempotency_key")
	docPath := strings.TrimSuffix(p.location, "?saved=1")
	page := qa.get(docPath)
	page.has(t, http.StatusOK, "Stability report", "Report-1.pdf", "Draft", "Approve version 1")
	versionID := regexp.MustCompile(`name="version_id" value="([^"]+)"`).FindStringSubmatch(page.body)[1]
	if r := qa.post(docPath+"/approve", url.Values{"version_id": {versionID}, "username": {"qa"}, "password": {"wrong password"}}); r.status != http.StatusUnauthorized {
		t.Errorf("approval with a wrong password: %d", r.status)
	}
	if r := qa.post(docPath+"/approve", url.Values{"version_id": {versionID}, "username": {"qa"}, "password": {testPassword}}); r.status != http.StatusSeeOther {
		t.Fatalf("approval: %d %s", r.status, r.text)
	}
	qa.get(docPath).has(t, http.StatusOK, "Approved")
	if r := e.browserWith(t, "client-beta", testPassword, "en").get(docPath); r.status != http.StatusNotFound {
		t.Errorf("client-beta reads alpha's document page: %d", r.status)
	}

	// Beta's end of contract, by the administrator (assigned to beta).
	e.call(t, "qa", "POST", "/api/v1/documents?"+url.Values{"client_id": {e.beta.ID}, "category": {"protocol"}, "title": {"Protocol"},
		"file_name": {"Protocol-1.txt"}}.Encode(), []byte("protocol"), "Content-Type", "text/plain")
	admin := e.adminBrowser(t, "admin", "fr")
	eoc := "/clients/" + e.beta.ID + "/end-of-contract"
	admin.get(eoc).has(t, http.StatusOK, "Fin de contrat", "Détruire la clé du client")
	if r := admin.post("/clients/"+e.beta.ID+"/legal-hold", url.Values{"held": {"yes"}, "reason": {"Inspection en cours"}}); r.status != http.StatusSeeOther {
		t.Fatalf("hold: %d %s", r.status, r.text)
	}
	admin.post("/clients/"+e.beta.ID+"/shred", url.Values{"username": {"admin"}, "password": {testPassword}, "reason": {"Fin du contrat"}}).has(t,
		http.StatusConflict, "sous conservation légale")
	if r := admin.post("/clients/"+e.beta.ID+"/legal-hold", url.Values{"held": {"no"}, "reason": {"Inspection close"}}); r.status != http.StatusSeeOther {
		t.Fatalf("lift: %d", r.status)
	}
	if r := admin.post("/clients/"+e.beta.ID+"/shred", url.Values{"username": {"admin"}, "password": {testPassword}, "reason": {"Fin du contrat"}}); r.status != http.StatusSeeOther {
		t.Fatalf("shred: %d %s", r.status, r.text)
	}
	admin.get(eoc).has(t, http.StatusOK, "Clé détruite", "documents rendus illisibles : 1")
	// Quality assurance reads the page and sets the hold; no destruction.
	qaPage := qa.get("/clients/" + e.alpha.ID + "/end-of-contract")
	qaPage.has(t, http.StatusOK, "End of contract", "Place under legal hold")
	if strings.Contains(qaPage.body, "/shred") {
		t.Error("quality assurance is offered the destruction of the key")
	}
	if r := e.browserWith(t, "client-alpha", testPassword, "en").get("/clients/" + e.beta.ID + "/end-of-contract"); r.status != http.StatusNotFound ||
		strings.Contains(r.body, e.beta.ID) {
		t.Errorf("client-alpha reads beta's end of contract: %d", r.status)
	}
}
