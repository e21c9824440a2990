package store_test

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"strings"
	"testing"

	"galenix/internal/audit"
	"galenix/internal/identity"
	"galenix/internal/site"
	"galenix/internal/store"
)

// seedTrail writes 10 people (30 audit entries) and returns the site key.
func seedTrail(t *testing.T, db *store.DB) ed25519.PrivateKey {
	t.Helper()
	for i := 0; i < 10; i++ {
		must(t, db.Site().CreatePerson(as(alice), &site.Person{Badge: fmt.Sprintf("V%02d", i), Name: "Personne", Job: "Opérateur"}))
	}
	_, key, err := ed25519.GenerateKey(nil)
	must(t, err)
	return key
}

// dropGuards removes the append-only triggers, as the database's owner can.
func dropGuards(t *testing.T, db *store.DB) {
	t.Helper()
	var stmts []string
	if db.Dialect() == store.Postgres {
		stmts = []string{`ALTER TABLE audit_log DISABLE TRIGGER USER`}
	} else {
		stmts = []string{`DROP TRIGGER audit_log_no_update`, `DROP TRIGGER audit_log_no_delete`, `DROP TRIGGER audit_log_no_replace`}
	}
	for _, s := range stmts {
		must(t, db.ExecRaw(s))
	}
}

func verify(t *testing.T, db *store.DB, key ed25519.PrivateKey) (store.VerifyReport, *audit.Broken) {
	t.Helper()
	rep, err := db.VerifyAudit(context.Background(), key.Public().(ed25519.PublicKey), nil)
	if err == nil {
		return rep, nil
	}
	var b *audit.Broken
	if !errors.As(err, &b) {
		t.Fatalf("verify: %v", err)
	}
	return rep, b
}

func TestVerifyAudit(t *testing.T) {
	tamper := []struct {
		name    string
		sql     []string
		wantSeq int64
		reason  string
	}{
		{"edited value", []string{`UPDATE audit_log SET new_value = 'forged' WHERE seq = 5`}, 5, "changed"},
		{"edited time", []string{`UPDATE audit_log SET actor_name = 'Someone else' WHERE seq = 8`}, 8, "changed"},
		{"deleted", []string{`DELETE FROM audit_log WHERE seq = 7`}, 7, "missing"},
		{"deleted at the end", []string{`DELETE FROM audit_log WHERE seq = 30`}, 30, "deleted at the end"},
		{"inserted", []string{
			`UPDATE audit_log SET seq = seq + 1000 WHERE seq >= 10`,
			`UPDATE audit_log SET seq = seq - 999 WHERE seq >= 1000`,
			`INSERT INTO audit_log (` + strings.ReplaceAll(auditCols, "seq,", "") + `, seq) SELECT ` + strings.ReplaceAll(auditCols, "seq,", "") + `, 10 FROM audit_log WHERE seq = 11`,
		}, 11, ""},
		{"reordered", []string{
			`UPDATE audit_log SET seq = 1012 WHERE seq = 12`,
			`UPDATE audit_log SET seq = 12 WHERE seq = 13`,
			`UPDATE audit_log SET seq = 13 WHERE seq = 1012`,
		}, 12, ""},
	}
	for _, tt := range tamper {
		t.Run(tt.name, func(t *testing.T) {
			forEachDB(t, func(t *testing.T, db *store.DB) {
				key := seedTrail(t, db)
				if rep, b := verify(t, db, key); b != nil || rep.Entries != 30 {
					t.Fatalf("untouched trail: %+v %v", rep, b)
				}
				dropGuards(t, db)
				for _, q := range tt.sql {
					must(t, db.ExecRaw(q))
				}
				_, b := verify(t, db, key)
				if b == nil || b.Seq != tt.wantSeq || !strings.Contains(b.Reason, tt.reason) {
					t.Errorf("got %v, want entry %d named (%s)", b, tt.wantSeq, tt.reason)
				}
			})
		})
	}
}

const auditCols = `seq, at, actor_id, actor_name, session_id, address, command, entity, entity_id, field, old_value, new_value, reason, client_id, prev_hash, hash`

// TestVerifyCheckpoints: a chain rewritten with every hash recomputed still
// fails against the signed checkpoint; a forged signature fails too.
func TestVerifyCheckpoints(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *store.DB) {
		key := seedTrail(t, db)
		cp, err := db.Checkpoint(context.Background(), key)
		must(t, err)
		if cp == nil || cp.Seq != 30 {
			t.Fatalf("checkpoint %+v", cp)
		}
		if again, err := db.Checkpoint(context.Background(), key); err != nil || again != nil {
			t.Errorf("a second checkpoint with nothing new: %+v %v", again, err)
		}
		if rep, b := verify(t, db, key); b != nil || rep.Checkpoints != 1 {
			t.Fatalf("signed trail: %+v %v", rep, b)
		}
		// Another key: the checkpoint's signature does not hold.
		_, other, _ := ed25519.GenerateKey(nil)
		if _, b := verify(t, db, other); b == nil || b.Seq != 30 {
			t.Errorf("verified with another site's key: %v", b)
		}
		// Rewrite entry 20 and every hash after it, head included.
		dropGuards(t, db)
		es, err := db.Audit().Entries(identity.WithActor(context.Background(), identity.System), audit.Filter{})
		must(t, err)
		prev, _ := audit.ParseHash(es[18].Hash)
		for i := 19; i < len(es); i++ {
			if i == 19 {
				es[i].New = "forged"
			}
			h := audit.Link(prev, es[i].Digest())
			must(t, db.ExecRaw(`UPDATE audit_log SET new_value = ?, prev_hash = ?, hash = ? WHERE seq = ?`, es[i].New, prev.String(), h.String(), es[i].Seq))
			prev = h
		}
		must(t, db.ExecRaw(`UPDATE audit_head SET hash = ? WHERE id = 1`, prev.String()))
		if _, b := verify(t, db, key); b == nil || b.Seq != 30 || !strings.Contains(b.Reason, "checkpoint") {
			t.Errorf("rewritten chain: got %v, want the checkpoint at 30 to fail", b)
		}
	})
}
