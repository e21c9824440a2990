package store_test

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"galenix/internal/document"
	"galenix/internal/errs"
	"galenix/internal/esign"
	"galenix/internal/identity"
	"galenix/internal/store"
	"galenix/internal/text"
)

var pdfBody = []byte("%PDF-1.7\n% the specification of Alphacaïne 10 mg/mL\n")

// docCounts are the rows a refused upload must leave as they were.
func docCounts(t *testing.T, db *store.DB) [4]int {
	t.Helper()
	var c [4]int
	for i, tb := range []string{"documents", "document_versions", "client_keys", "audit_log"} {
		n, err := db.CountRows(tb)
		must(t, err)
		c[i] = n
	}
	return c
}

// TestDocuments: a client's documents sealed under its key, read only in
// its scope, approved by both sides' signatures, and its key destroyed at
// the end of its contract only once retention and legal hold allow it,
// the act and the refusals audited.
func TestDocuments(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *store.DB) {
		e := newProdEnv(t, db)
		hash, err := seedHash()
		must(t, err)
		must(t, db.Write(as(identity.System), "test.seed", "", func(tx *store.Tx) error {
			for _, a := range []identity.Account{
				{Username: "ada", Name: "Ada Admin", Roles: []identity.Role{identity.RoleAdmin}},
				{Username: "manon", Name: "Manon Manager", Roles: []identity.Role{identity.RoleClientManager}, ClientID: e.alpha.ID},
				{Username: "bert", Name: "Bert Beta", Roles: []identity.Role{identity.RoleClientUser}, ClientID: e.beta.ID},
			} {
				if err := tx.CreateAccount(&a, hash); err != nil {
					return err
				}
				e.acc[a.Username] = &a
			}
			return nil
		}))
		// Quinn (QA) and Ada (admin) work for alpha; Sacha works for no
		// client.
		assigned := func(username string) context.Context {
			a := e.acc[username].Actor()
			a.SessionID, a.Address = "session-"+username+"-1", "10.0.0.9"
			if !a.IsClient() {
				a.Assigned = []string{e.alpha.ID}
			}
			return as(a)
		}
		qa, admin, manager, carla, bert := assigned("quinn"), assigned("ada"), assigned("manon"), assigned("carla"), assigned("bert")
		unassigned := as(identity.Actor{UserID: store.NewID(), Username: "sacha", Roles: []identity.Role{identity.RoleQA}})
		docs := db.Documents()
		sign := func(ctx context.Context, username, entity, id, reason string) (*esign.Signature, error) {
			ch, err := e.svc.Challenge(ctx, esign.ChallengeRequest{Entity: entity, EntityID: id, Meaning: string(esign.Approved)})
			if err != nil {
				return nil, err
			}
			return e.svc.Sign(ctx, esign.SignRequest{Entity: entity, EntityID: id, Meaning: string(esign.Approved), Username: username,
				Password: password, Challenge: ch.Challenge, Reason: reason})
		}

		// Refused uploads store nothing.
		before := docCounts(t, db)
		for name, try := range map[string]func() error{
			"oversize": func() error {
				_, err := docs.Upload(qa, document.NewDocument{ClientID: e.alpha.ID, Category: document.Report, Title: "Big report"},
					document.File{Name: "big.txt", ContentType: "text/plain", Content: bytes.Repeat([]byte("a"), document.MaxSize+1)})
				return err
			},
			"wrong type": func() error {
				_, err := docs.Upload(qa, document.NewDocument{ClientID: e.alpha.ID, Category: document.Report, Title: "Report"},
					document.File{Name: "r.pdf", ContentType: "application/pdf", Content: []byte("<html><body>not a pdf</body></html>")})
				return err
			},
			"other client": func() error {
				_, err := docs.Upload(qa, document.NewDocument{ClientID: e.beta.ID, Category: document.Report, Title: "Report"},
					document.File{Name: "r.pdf", ContentType: "application/pdf", Content: pdfBody})
				return err
			},
			"client's account without a role": func() error {
				_, err := docs.Upload(as(identity.Actor{UserID: "ux", Username: "ux", SessionID: "session-ux", ClientID: e.alpha.ID}), document.NewDocument{Category: document.Report, Title: "Report"},
					document.File{Name: "r.pdf", ContentType: "application/pdf", Content: pdfBody})
				return err
			},
		} {
			if err := try(); err == nil {
				t.Errorf("%s: upload accepted", name)
			}
		}
		if after := docCounts(t, db); after != before {
			t.Fatalf("refused uploads wrote rows: %v → %v", before, after)
		}

		spec, err := docs.Upload(qa, document.NewDocument{ClientID: e.alpha.ID, Category: document.Specification, Title: "Cahier des charges"},
			document.File{Name: "spec.pdf", ContentType: "application/pdf", Content: pdfBody})
		must(t, err)
		if spec.State != document.Draft || len(spec.Versions) != 1 || spec.Versions[0].SHA256 != document.Hash(pdfBody) || !spec.Readable {
			t.Fatalf("uploaded: %+v", spec)
		}
		// The ciphertext holds nothing of the plaintext.
		rows, err := db.RawRow("document_versions", "document_id", spec.ID)
		must(t, err)
		if len(rows) != 1 || strings.Contains(rows[0]["ciphertext"], "Alphacaïne") || rows[0]["data_key"] == "" {
			t.Fatalf("stored version: %v", rows)
		}
		// Read in alpha's scope only.
		for name, ctx := range map[string]context.Context{"qa": qa, "carla": carla, "manager": manager} {
			c, err := docs.Content(ctx, spec.ID, 0)
			if err != nil || !bytes.Equal(c.Body, pdfBody) {
				t.Errorf("%s reads: %v", name, err)
			}
		}
		for name, ctx := range map[string]context.Context{"bert": bert, "unassigned": unassigned} {
			if _, err := docs.Content(ctx, spec.ID, 0); !errs.Is(err, errs.NotFound) {
				t.Errorf("%s reads alpha's document: %v", name, err)
			}
			if _, err := docs.Document(ctx, spec.ID); !errs.Is(err, errs.NotFound) {
				t.Errorf("%s sees alpha's document: %v", name, err)
			}
			if l, err := docs.Documents(ctx, document.Filter{}); err != nil || len(l) != 0 {
				t.Errorf("%s lists %d documents (%v)", name, len(l), err)
			}
		}

		// A specification: the site's QA, then the client's manager.
		if _, err := sign(qa, "quinn", document.EntityVersion, spec.Versions[0].ID, ""); err != nil {
			t.Fatalf("QA approves: %v", err)
		}
		if d, _ := docs.Document(qa, spec.ID); d.State != document.Draft || d.Versions[0].SiteApprovedAt == nil {
			t.Fatalf("after QA: %+v", d)
		}
		if _, err := sign(bert, "bert", document.EntityVersion, spec.Versions[0].ID, ""); err == nil {
			t.Error("another client's user approved")
		}
		if _, err := sign(manager, "manon", document.EntityVersion, spec.Versions[0].ID, ""); err != nil {
			t.Fatalf("the client's manager approves: %v", err)
		}
		v2body := []byte("%PDF-1.7\n% version 2\n")
		d, err := docs.AddVersion(qa, spec.ID, document.File{Name: "spec-v2.pdf", ContentType: "application/pdf", Content: v2body})
		must(t, err)
		if d.State != document.Approved || d.Versions[0].Number != 2 || d.Versions[0].State != document.Draft || d.Versions[1].State != document.Approved {
			t.Fatalf("after v2: %+v", d)
		}
		_, err = sign(qa, "quinn", document.EntityVersion, d.Versions[0].ID, "")
		must(t, err)
		_, err = sign(manager, "manon", document.EntityVersion, d.Versions[0].ID, "")
		must(t, err)
		if d, _ = docs.Document(carla, spec.ID); d.Versions[0].State != document.Approved || d.Versions[1].State != document.Superseded {
			t.Fatalf("after v2 approved: %+v", d.Versions)
		}
		if d.Versions[0].SiteApprovedName != "—" || d.Versions[0].UploadedBy != "" {
			t.Errorf("a client's user sees the site's names: %+v", d.Versions[0])
		}
		if c, err := docs.Content(carla, spec.ID, 1); err != nil || !bytes.Equal(c.Body, pdfBody) {
			t.Errorf("version 1: %v", err)
		}

		// Beta's document; its ciphertext moved onto alpha's row, or
		// altered, does not open.
		betaCtx := as(identity.System)
		bdoc, err := docs.Upload(betaCtx, document.NewDocument{ClientID: e.beta.ID, Category: document.Protocol, Title: "Beta protocol"},
			document.File{Name: "p.txt", ContentType: "text/plain", Content: []byte("beta's protocol")})
		must(t, err)
		report, err := docs.Upload(qa, document.NewDocument{ClientID: e.alpha.ID, Category: document.Report, Title: "Report"},
			document.File{Name: "r.txt", ContentType: "text/plain", Content: []byte("alpha's report")})
		must(t, err)
		must(t, db.ExecRaw(`UPDATE document_versions SET data_key = (SELECT data_key FROM document_versions WHERE document_id = ?),
			ciphertext = (SELECT ciphertext FROM document_versions WHERE document_id = ?) WHERE document_id = ?`, bdoc.ID, bdoc.ID, report.ID))
		if _, err := docs.Content(qa, report.ID, 0); !errs.Is(err, errs.Conflict) {
			t.Errorf("beta's ciphertext read on alpha's row: %v", err)
		}
		must(t, db.ExecRaw(`UPDATE document_versions SET ciphertext = (SELECT ciphertext FROM document_versions WHERE document_id = ? AND number = 2)
			WHERE document_id = ? AND number = 1`, spec.ID, spec.ID))
		if _, err := docs.Content(qa, spec.ID, 1); !errs.Is(err, errs.Conflict) {
			t.Errorf("an altered ciphertext opened: %v", err)
		}

		// PostgreSQL's row-level security: a query without the filter
		// still sees only the actor's clients' rows.
		if db.Dialect() == store.Postgres {
			for name, c := range map[string]struct {
				ctx  context.Context
				want map[string]int
			}{
				"bert":       {bert, map[string]int{"documents": 1, "document_versions": 1, "client_keys": 1}},
				"unassigned": {unassigned, map[string]int{"documents": 0, "document_versions": 0, "client_keys": 0}},
				"qa":         {qa, map[string]int{"documents": 2, "document_versions": 3, "client_keys": 1}},
			} {
				for tb, want := range c.want {
					if got, err := db.CountUnfiltered(c.ctx, tb); err != nil || got != want {
						t.Errorf("%s, unfiltered SELECT on %s: %d rows (%v), want %d", name, tb, got, err, want)
					}
				}
			}
		}

		// The end of contract. An order's batch on the floor, not decided:
		// its record is kept; refused, the attempt audited.
		b := e.order(t, e.vial, 10000)
		must(t, db.ExecRaw(`UPDATE batches SET state = 'in_progress' WHERE id = ?`, b.ID))
		shred := func(reason string) (*document.Shredding, error) {
			ch, err := e.svc.Challenge(admin, esign.ChallengeRequest{Entity: document.EntityClientKey, EntityID: e.alpha.ID, Meaning: string(esign.Approved)})
			if err != nil {
				return nil, err
			}
			return docs.Shred(admin, e.alpha.ID, esign.SignRequest{Username: "ada", Password: password, Challenge: ch.Challenge, Reason: reason})
		}
		refusedKey := func(err error) string {
			if e, ok := err.(*errs.Error); ok {
				return e.Key
			}
			return ""
		}
		if _, err := shred(""); !errs.Is(err, errs.Invalid) {
			t.Errorf("no reason: %v", err)
		}
		if _, err := docs.Shred(qa, e.alpha.ID, esign.SignRequest{Reason: "end of contract"}); !errs.Is(err, errs.Forbidden) {
			t.Errorf("QA shreds: %v", err)
		}
		if _, err := shred("End of contract, 2026"); refusedKey(err) != "document.shred.batch_open" {
			t.Errorf("shred with a batch on the floor: %v", err)
		}
		// Certified two years ago: within retention.
		must(t, db.ExecRaw(`INSERT INTO certifications (id, seq, batch_id, client_id, lot, product_code, product_name, decision, reason, certificate,
			qp_id, qp_name, signed_at, signature_id) VALUES (?, 999, ?, ?, ?, 'ALP-VIAL', 'Alphacaïne', 'certified', '', 'C-1', 'qp', 'Paula', ?, ?)`,
			store.NewID(), b.ID, e.alpha.ID, b.Lot, now.AddDate(-2, 0, 0), store.NewID()))
		must(t, db.ExecRaw(`UPDATE batches SET state = 'certified' WHERE id = ?`, b.ID))
		if _, err := shred("End of contract, 2026"); refusedKey(err) != "document.shred.retention" {
			t.Errorf("shred within retention: %v", err)
		}
		// Six years after its certification, past five years, but its
		// product's shelf life of six years keeps it until a year after
		// its expiry.
		e.clock.set(now.AddDate(4, 0, 0))
		must(t, db.ExecRaw(`UPDATE products SET shelf_life_months = 72 WHERE client_id = ?`, e.alpha.ID))
		if _, err := shred("End of contract, 2026"); refusedKey(err) != "document.shred.retention" {
			t.Errorf("shred within a year of the batch's expiry: %v", err)
		}
		must(t, db.ExecRaw(`UPDATE products SET shelf_life_months = 0 WHERE client_id = ?`, e.alpha.ID))
		// Past retention, but under legal hold.
		if _, err := docs.SetLegalHold(carla, e.alpha.ID, true, "litigation"); err == nil {
			t.Error("a client's user set the legal hold")
		}
		if _, err := docs.SetLegalHold(qa, e.alpha.ID, true, "x"); !errs.Is(err, errs.Invalid) {
			t.Errorf("hold without a reason: %v", err)
		}
		_, err = docs.SetLegalHold(qa, e.alpha.ID, true, "Litigation pending")
		must(t, err)
		if _, err := shred("End of contract, 2026"); refusedKey(err) != "document.shred.legal_hold" {
			t.Errorf("shred under legal hold: %v", err)
		}
		_, err = docs.SetLegalHold(admin, e.alpha.ID, false, "Litigation settled")
		must(t, err)
		if c, _ := docs.Content(qa, report.ID, 0); c != nil {
			t.Fatal("the swapped row opened")
		}
		eoc, err := docs.EndOfContract(admin, e.alpha.ID)
		must(t, err)
		if !eoc.Allowed || eoc.Documents != 2 || eoc.Versions != 3 || eoc.Fingerprint == "" {
			t.Fatalf("end of contract: %+v", eoc)
		}
		if _, err := docs.EndOfContract(as(identity.Actor{UserID: store.NewID(), Username: "ad2", Roles: []identity.Role{identity.RoleAdmin}}), e.alpha.ID); !errs.Is(err, errs.NotFound) {
			t.Errorf("an unassigned admin sees alpha's end of contract: %v", err)
		}
		sh, err := shred("End of contract, 2026")
		must(t, err)
		if sh.Fingerprint != eoc.Fingerprint || sh.Documents != 2 || sh.SignerName != "Ada Admin" {
			t.Errorf("shredding: %+v", sh)
		}
		// Unreadable by anyone, for ever; no new key; beta untouched.
		for name, ctx := range map[string]context.Context{"qa": qa, "carla": carla, "galenix": as(identity.System)} {
			if _, err := docs.Content(ctx, spec.ID, 0); !errs.Is(err, errs.Conflict) {
				t.Errorf("%s reads after the shredding: %v", name, err)
			}
		}
		if d, _ := docs.Document(qa, spec.ID); d == nil || d.Readable {
			t.Errorf("the document says readable: %+v", d)
		}
		if _, err := docs.Upload(qa, document.NewDocument{ClientID: e.alpha.ID, Category: document.Report, Title: "After"},
			document.File{Name: "a.txt", ContentType: "text/plain", Content: []byte("after")}); !errs.Is(err, errs.Conflict) {
			t.Errorf("upload after the shredding: %v", err)
		}
		if c, err := docs.Content(as(identity.System), bdoc.ID, 0); err != nil || string(c.Body) != "beta's protocol" {
			t.Errorf("beta's document: %v", err)
		}
		if _, err := shred("Again"); err == nil {
			t.Error("shredded twice")
		}
		// The trail: each refusal, the hold, and the certificate.
		var refused, holds int
		var cert string
		for _, en := range auditOf(t, db) {
			switch {
			case en.Command == "client_key.shred.refused" && en.EntityID == e.alpha.ID:
				refused++
			case en.Command == "client.legal_hold":
				holds++
			case en.Field == "certificate" && en.Entity == document.EntityClientKey:
				cert = en.New
				if en.ActorName != "Ada Admin" || en.ClientID != e.alpha.ID || en.Reason != "End of contract, 2026" {
					t.Errorf("certificate entry %+v", en)
				}
			}
		}
		if refused < 3 || holds != 2 {
			t.Errorf("%d refusals, %d holds audited", refused, holds)
		}
		cert = text.RenderStored(text.EN, cert)
		for _, want := range []string{"ALPHA", eoc.Fingerprint, "documents made unreadable: 2", "Ada Admin", now.AddDate(4, 0, 0).UTC().Format(time.RFC3339)} {
			if !strings.Contains(cert, want) {
				t.Errorf("certificate %q lacks %q", cert, want)
			}
		}
	})
}

// TestRotateMasterKey: every client's key wrapped again under a new master
// key, audited; the documents open with the new key and no longer with the
// old one, which is all a backup taken before holds them under.
func TestRotateMasterKey(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *store.DB) {
		e := newSigEnv(t, db)
		sys := as(identity.System)
		docs := db.Documents()
		var ids []string
		for _, c := range []string{e.alpha.ID, e.beta.ID} {
			d, err := docs.Upload(sys, document.NewDocument{ClientID: c, Category: document.Report, Title: "Report"},
				document.File{Name: "r.txt", ContentType: "text/plain", Content: []byte("report of " + c)})
			must(t, err)
			ids = append(ids, d.ID)
		}
		fresh, err := document.NewKey()
		must(t, err)
		if _, err := db.RotateMasterKey(e.ctx("quinn"), fresh, "yearly rotation"); !errs.Is(err, errs.Forbidden) {
			t.Errorf("a person rotates: %v", err)
		}
		if _, err := db.RotateMasterKey(sys, fresh, ""); !errs.Is(err, errs.Invalid) {
			t.Errorf("no reason: %v", err)
		}
		n, err := db.RotateMasterKey(sys, fresh, "Yearly rotation")
		if err != nil || n != 2 {
			t.Fatalf("rotate: %d %v", n, err)
		}
		for i, id := range ids {
			if c, err := docs.Content(sys, id, 0); err != nil || !strings.HasPrefix(string(c.Body), "report of ") {
				t.Errorf("document %d after the rotation: %v", i, err)
			}
		}
		db.SetMasterKeyForTest(testMasterKey)
		if _, err := docs.Content(sys, ids[0], 0); !errs.Is(err, errs.Conflict) {
			t.Errorf("the old master key still opens: %v", err)
		}
		var rewrapped int
		for _, en := range auditOf(t, db) {
			if en.Command == "client_key.rewrap" && en.Field == "fingerprint" && en.Old != en.New && en.Reason == "Yearly rotation" {
				rewrapped++
			}
		}
		if rewrapped != 2 {
			t.Errorf("%d rewraps audited, want 2", rewrapped)
		}
		// With the wrong current key nothing is rotated.
		if _, err := db.RotateMasterKey(sys, fresh, "Again"); !errs.Is(err, errs.Conflict) {
			t.Errorf("rotation with a key that opens nothing: %v", err)
		}
	})
}
