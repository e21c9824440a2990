package store_test

import (
	"crypto/ed25519"
	"strings"
	"testing"

	"galenix/internal/esign"
	"galenix/internal/store"
)

// dropSignatureGuards removes the signatures' append-only triggers, as the
// database's owner can.
func dropSignatureGuards(t *testing.T, db *store.DB) {
	t.Helper()
	stmts := []string{`DROP TRIGGER signatures_no_update`, `DROP TRIGGER signatures_no_delete`, `DROP TRIGGER signatures_no_replace`}
	if db.Dialect() == store.Postgres {
		stmts = []string{`ALTER TABLE signatures DISABLE TRIGGER USER`}
	}
	for _, s := range stmts {
		must(t, db.ExecRaw(s))
	}
}

// TestSignaturesAppendOnly: the database refuses to change or delete a
// signature.
func TestSignaturesAppendOnly(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *store.DB) {
		e := newSigEnv(t, db)
		sig, err := e.sign(t, "olga", "line", e.f.line.ID, esign.Performed)
		must(t, err)
		for _, q := range []string{`UPDATE signatures SET entity_id = entity_id WHERE id = ?`, `DELETE FROM signatures WHERE id = ?`} {
			if err := db.ExecRaw(q, sig.ID); err == nil || !strings.Contains(err.Error(), "append-only") {
				t.Errorf("%s: %v", q, err)
			}
		}
		if db.Dialect() == store.Postgres {
			if err := db.ExecRaw(`TRUNCATE signatures`); err == nil {
				t.Error("TRUNCATE signatures was allowed")
			}
		}
	})
}

// TestVerifyAuditSignatures: a signature moved to another record, changed,
// deleted or inserted behind galenix's back makes the verification fail,
// naming the audit entry of the signature.
func TestVerifyAuditSignatures(t *testing.T) {
	for _, tt := range []struct {
		name string
		sql  string
		// wantLast: the entry named is the one after the last.
		wantLast bool
		reason   string
	}{
		{"moved to another record", `UPDATE signatures SET entity_id = ? WHERE id = ?`, false, "moved"},
		{"content hash changed", `UPDATE signatures SET content_hash = ? WHERE id = ?`, false, "changed"},
		{"deleted", `DELETE FROM signatures WHERE id = ? OR id = ?`, false, "deleted"},
		{"inserted", `INSERT INTO signatures (id, entity, entity_id, meaning, signer_id, signer_name, signed_at, content_hash, reason, client_id, session_id)
			SELECT ?, entity, entity_id, 'approved', signer_id, signer_name, signed_at, content_hash, reason, client_id, session_id FROM signatures WHERE id = ?`, true, "no audit entry"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			forEachDB(t, func(t *testing.T, db *store.DB) {
				e := newSigEnv(t, db)
				_, key, _ := ed25519.GenerateKey(nil)
				sig, err := e.sign(t, "olga", "line", e.f.line.ID, esign.Performed)
				must(t, err)
				es := trail(t, db, "line", e.f.line.ID, 0)
				signedAt := es[len(es)-1].Seq
				// More entries after it, so that the one named is not merely the last.
				_, err = e.sign(t, "victor", "equipment", e.f.equipment.ID, esign.Acknowledged)
				must(t, err)
				if _, b := verify(t, db, key); b != nil {
					t.Fatalf("untouched: %v", b)
				}
				dropSignatureGuards(t, db)
				arg := e.f.equipment.ID
				switch tt.name {
				case "content hash changed":
					arg = strings.Repeat("0", 64)
				case "deleted":
					arg = sig.ID
				case "inserted":
					arg = store.NewID()
				}
				must(t, db.ExecRaw(tt.sql, arg, sig.ID))
				_, b := verify(t, db, key)
				want := signedAt
				if tt.wantLast {
					want = lastSeqAll(t, db) + 1
				}
				if b == nil || b.Seq != want || !strings.Contains(b.Reason, tt.reason) {
					t.Errorf("got %v, want entry %d named (%s)", b, want, tt.reason)
				}
			})
		})
	}
}
