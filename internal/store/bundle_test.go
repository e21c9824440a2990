package store_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"errors"
	"strings"
	"testing"

	"galenix/internal/audit"
	"galenix/internal/client"
	"galenix/internal/errs"
	"galenix/internal/identity"
	"galenix/internal/site"
	"galenix/internal/store"
)

// bundleSite is a trail holding a batch record of each of two clients,
// interleaved, over two checkpoints' time.
type bundleSite struct {
	key                   ed25519.PrivateKey
	alpha, beta           client.Client
	batchAlpha, batchBeta string
	ofAlpha, ofBeta       context.Context
	person                site.Person
	alphaSeqs             []int64
}

// record writes one change of a client's batch, as a write command does.
func record(t *testing.T, db *store.DB, batch, clientID, field, old, new, reason string) int64 {
	t.Helper()
	must(t, db.Write(as(alice), "batch.update", reason, func(tx *store.Tx) error {
		return tx.Audit([]audit.Change{{Entity: "batch", EntityID: batch, Field: field, Old: old, New: new}}, clientID)
	}))
	es, err := db.Audit().Entries(as(identity.System), audit.Filter{Entity: "batch", EntityID: batch})
	must(t, err)
	return es[len(es)-1].Seq
}

func newBundleSite(t *testing.T, db *store.DB) *bundleSite {
	t.Helper()
	_, key, err := ed25519.GenerateKey(nil)
	must(t, err)
	s := &bundleSite{key: key, alpha: client.Client{Code: "ALPHA", Name: "Alpha Laboratoires"},
		beta: client.Client{Code: "BETA", Name: "Beta Pharma Secrète"}, batchAlpha: store.NewID(), batchBeta: store.NewID()}
	sys := as(identity.System)
	for _, c := range []*client.Client{&s.alpha, &s.beta} {
		must(t, db.Write(sys, "client.create", "", func(tx *store.Tx) error { return tx.CreateClient(c) }))
	}
	s.ofAlpha = as(identity.Actor{UserID: store.NewID(), Username: "carla", Name: "Carla Client",
		Roles: []identity.Role{identity.RoleClientUser}, ClientID: s.alpha.ID})
	s.ofBeta = as(identity.Actor{UserID: store.NewID(), Username: "bob", Name: "Bob Beta",
		Roles: []identity.Role{identity.RoleClientUser}, ClientID: s.beta.ID})

	s.alphaSeqs = append(s.alphaSeqs, record(t, db, s.batchAlpha, s.alpha.ID, "status", "", "alpha-planned", ""))
	record(t, db, s.batchBeta, s.beta.ID, "status", "", "beta-secret-planned", "")
	s.person = site.Person{Badge: "B0042", Name: "Claire Dubois", Job: "Opératrice"}
	must(t, db.Site().CreatePerson(as(alice), &s.person))
	s.alphaSeqs = append(s.alphaSeqs, record(t, db, s.batchAlpha, s.alpha.ID, "yield", "", "alpha-98.7 %", ""))
	if _, err := db.Checkpoint(context.Background(), key); err != nil {
		t.Fatal(err)
	}
	record(t, db, s.batchBeta, s.beta.ID, "yield", "", "beta-secret-91.2 %", "")
	s.alphaSeqs = append(s.alphaSeqs, record(t, db, s.batchAlpha, s.alpha.ID, "status", "alpha-planned", "alpha-released <QP> & \"quoted\"", "libéré après revue"))
	record(t, db, s.batchBeta, s.beta.ID, "status", "", "beta-secret-rejected", "beta-secret-reason")
	return s
}

func TestAuditBundle(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *store.DB) {
		s := newBundleSite(t, db)
		b, err := db.Audit().Bundle(s.ofAlpha, "batch", s.batchAlpha, s.key)
		must(t, err)
		data, err := b.Encode()
		must(t, err)
		rep, err := audit.VerifyBundle(data)
		if err != nil {
			t.Fatalf("the bundle does not verify: %v\n%s", err, data)
		}
		if rep.Entries != 3 || rep.First != s.alphaSeqs[0] || rep.Last != s.alphaSeqs[2] || rep.Checkpoints != 2 {
			t.Errorf("report %+v, want 3 entries %v over 2 checkpoints", rep, s.alphaSeqs)
		}
		// No checkpoint covered the last entry: the export signed one.
		cps, err := db.Checkpoints(context.Background())
		must(t, err)
		if len(cps) != 2 || cps[1].Seq < s.alphaSeqs[2] {
			t.Errorf("checkpoints %+v: want a second one, signed by the export", cps)
		}

		t.Run("nothing of the other client", func(t *testing.T) {
			for _, leak := range []string{"beta-secret", "Beta Pharma", "BETA", s.beta.ID, s.batchBeta, "Claire Dubois", "B0042", s.person.ID} {
				if bytes.Contains(data, []byte(leak)) {
					t.Errorf("the bundle of alpha's batch holds %q", leak)
				}
			}
			for _, own := range []string{"alpha-98.7 %", "libéré après revue", s.alpha.ID} {
				if !bytes.Contains(data, []byte(own)) {
					t.Errorf("the bundle lacks the record's own %q", own)
				}
			}
		})

		t.Run("one byte changed", func(t *testing.T) {
			positions := map[int]string{}
			for i := 0; i < len(data); i += 89 {
				positions[i] = "sample"
			}
			// Each place is found by the strings that lead to it, in turn.
			for _, at := range []struct {
				what  string
				after []string
			}{
				{"a record's value", []string{`alpha-98.7`}}, {"a record's reason", []string{`libéré`}},
				{"a record's hash", []string{`"hash": "`}}, {"a record's time", []string{`"at": "`}},
				{"a digest", []string{`"digest": "`}}, {"a signature", []string{`"signature": "`}},
				{"a checkpoint's hash", []string{`"checkpoint": {`, `"hash": "`}},
				{"a checkpoint's time", []string{`"checkpoint": {`, `"at": "`}},
				{"the public key", []string{`BEGIN PUBLIC KEY-----\n`}}, {"the entity id", []string{`"entity_id": "`}},
			} {
				i := 0
				for _, s := range at.after {
					j := bytes.Index(data[i:], []byte(s))
					if j < 0 {
						t.Fatalf("no %q in the bundle", s)
					}
					i += j + len(s)
				}
				for k := range 6 {
					positions[i+k*3] = at.what
				}
			}
			for i, what := range positions {
				for _, mask := range []byte{0x01, 0x20} {
					bad := bytes.Clone(data)
					bad[i] ^= mask
					if _, err := audit.VerifyBundle(bad); err == nil && !sameBundle(data, bad) {
						t.Errorf("byte %d (%s) changed from %q to %q: the bundle still verifies", i, what, data[i], bad[i])
					}
				}
			}
		})

		t.Run("out of scope is not found", func(t *testing.T) {
			for name, ctx := range map[string]context.Context{"the other client": s.ofBeta, "staff not assigned to the client": as(bruno)} {
				_, err := db.Audit().Bundle(ctx, "batch", s.batchAlpha, s.key)
				if errs.CodeOf(err) != errs.NotFound {
					t.Errorf("%s: got %v, want not found", name, err)
				}
			}
			_, err := db.Audit().Bundle(s.ofAlpha, "person", s.person.ID, s.key)
			if errs.CodeOf(err) != errs.NotFound {
				t.Errorf("a client asking for a site record: got %v, want not found", err)
			}
			_, err = db.Audit().Bundle(s.ofAlpha, "batch", store.NewID(), s.key)
			if errs.CodeOf(err) != errs.NotFound {
				t.Errorf("a record without a trail: got %v, want not found", err)
			}
			wantErr(t, func() error { _, err := db.Audit().Bundle(s.ofAlpha, " ", s.batchAlpha, s.key); return err }(), errs.Invalid, "entity")
			wantErr(t, func() error { _, err := db.Audit().Bundle(s.ofAlpha, "batch", "", s.key); return err }(), errs.Invalid, "entity_id")
		})

		t.Run("site record for staff", func(t *testing.T) {
			b, err := db.Audit().Bundle(as(bruno), "person", s.person.ID, s.key)
			must(t, err)
			data, err := b.Encode()
			must(t, err)
			rep, err := audit.VerifyBundle(data)
			if err != nil || rep.Entries != 3 {
				t.Errorf("person's bundle: %+v %v", rep, err)
			}
			if bytes.Contains(data, []byte("beta-secret")) || bytes.Contains(data, []byte("alpha-98")) {
				t.Errorf("the person's bundle holds a client's values")
			}
		})

		t.Run("tampered trail", func(t *testing.T) {
			dropGuards(t, db)
			must(t, db.ExecRaw(`UPDATE audit_log SET new_value = 'forged' WHERE seq = ?`, s.alphaSeqs[1]))
			b, err := db.Audit().Bundle(s.ofAlpha, "batch", s.batchAlpha, s.key)
			must(t, err)
			data, err := b.Encode()
			must(t, err)
			_, err = audit.VerifyBundle(data)
			var broken *audit.Broken
			if !errors.As(err, &broken) || broken.Seq != s.alphaSeqs[1] || !strings.Contains(broken.Reason, "changed") {
				t.Errorf("bundle of a tampered trail: got %v, want entry %d named", err, s.alphaSeqs[1])
			}
		})
	})
}

// sameBundle reports whether two encodings hold the same bundle (an escape
// in JSON may be written in more than one way).
func sameBundle(a, b []byte) bool {
	ba, err := audit.ParseBundle(a)
	if err != nil {
		return false
	}
	bb, err := audit.ParseBundle(b)
	if err != nil {
		return false
	}
	ea, _ := ba.Encode()
	eb, _ := bb.Encode()
	return bytes.Equal(ea, eb)
}
