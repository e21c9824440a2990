package store_test

import (
	"context"
	"crypto/ed25519"
	"slices"
	"strings"
	"testing"
	"time"

	"galenix/internal/audit"
	"galenix/internal/client"
	"galenix/internal/errs"
	"galenix/internal/esign"
	"galenix/internal/identity"
	"galenix/internal/store"
	"galenix/internal/text"
)

// sigEnv is a small site with the people who sign its records: an
// operator who performs, a supervisor who verifies (assigned to the client
// alpha), quality assurance, a Qualified Person, a user of the client
// alpha, and a directory account.
type sigEnv struct {
	db          *store.DB
	f           *fixture
	svc         esign.Service
	clock       *clock
	alpha, beta client.Client
	acc         map[string]*identity.Account
}

func newSigEnv(t *testing.T, db *store.DB) *sigEnv {
	t.Helper()
	e := &sigEnv{db: db, clock: newClock(db), f: newFixture(t, db), svc: db.Identity().Signatures(), acc: map[string]*identity.Account{},
		alpha: client.Client{Code: "ALPHA", Name: "Alpha Laboratories"}, beta: client.Client{Code: "BETA", Name: "Beta Pharma"}}
	hash, err := seedHash()
	must(t, err)
	must(t, db.Write(as(identity.System), "test.seed", "", func(tx *store.Tx) error {
		for _, c := range []*client.Client{&e.alpha, &e.beta} {
			if err := tx.CreateClient(c); err != nil {
				return err
			}
		}
		for _, a := range []identity.Account{
			{Username: "olga", Name: "Olga Opératrice", Roles: []identity.Role{identity.RoleOperator}},
			{Username: "victor", Name: "Victor Vérificateur", Roles: []identity.Role{identity.RoleSupervisor}},
			{Username: "quinn", Name: "Quinn Qualité", Roles: []identity.Role{identity.RoleQA}},
			{Username: "paula", Name: "Paula Personne Qualifiée", Roles: []identity.Role{identity.RoleQP}},
			{Username: "carla", Name: "Carla Client", Roles: []identity.Role{identity.RoleClientUser}, ClientID: e.alpha.ID},
			{Username: "dirk", Name: "Dirk Directory", Roles: []identity.Role{identity.RoleOperator}, Source: store.SourceLDAP},
		} {
			if err := tx.CreateAccount(&a, hash); err != nil {
				return err
			}
			e.acc[a.Username] = &a
		}
		return tx.AssignClient(e.acc["victor"].ID, e.alpha.ID)
	}))
	return e
}

// ctx is the context of username's session "1" (or the one named).
func (e *sigEnv) ctx(username string, session ...string) context.Context {
	a := e.acc[username].Actor()
	a.SessionID, a.Address = "session-"+username+"-1", "10.0.0.9"
	if len(session) > 0 {
		a.SessionID = "session-" + username + "-" + session[0]
	}
	if username == "victor" {
		a.Assigned = []string{e.alpha.ID}
	}
	return as(a)
}

// challenge asks for a challenge, failing the test if refused.
func (e *sigEnv) challenge(t *testing.T, ctx context.Context, entity, id string, m esign.Meaning) string {
	t.Helper()
	c, err := e.svc.Challenge(ctx, esign.ChallengeRequest{Entity: entity, EntityID: id, Meaning: string(m)})
	if err != nil {
		t.Fatalf("challenge to sign %s %s %s: %v", entity, id, m, err)
	}
	if len(c.Challenge) < 32 || !c.ExpiresAt.Equal(e.clock.now().Add(5*time.Minute)) {
		t.Errorf("challenge %+v", c)
	}
	return c.Challenge
}

// sign signs as username with their password and a fresh challenge.
func (e *sigEnv) sign(t *testing.T, username, entity, id string, m esign.Meaning) (*esign.Signature, error) {
	t.Helper()
	ctx := e.ctx(username)
	ch := e.challenge(t, ctx, entity, id, m)
	return e.svc.Sign(ctx, esign.SignRequest{Entity: entity, EntityID: id, Meaning: string(m), Username: username, Password: password, Challenge: ch})
}

func (e *sigEnv) list(t *testing.T, ctx context.Context, entity, id string) []esign.Signature {
	t.Helper()
	sigs, err := e.svc.Signatures(ctx, entity, id)
	must(t, err)
	return sigs
}

func signatureCount(t *testing.T, db *store.DB) int {
	t.Helper()
	n, err := db.CountRows("signatures")
	must(t, err)
	return n
}

// refusals returns the audited refusals of signatures of a record.
func refusals(t *testing.T, db *store.DB, entity, id string) []string {
	t.Helper()
	var out []string
	for _, en := range trail(t, db, entity, id, 0) {
		if en.Command == "signature.refused" {
			out = append(out, en.New)
		}
	}
	return out
}

func TestSignAndList(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *store.DB) {
		e := newSigEnv(t, db)
		line := e.f.line
		before := lastSeqAll(t, db)
		ctx := e.ctx("olga")
		ch := e.challenge(t, ctx, "line", line.ID, esign.Performed)
		if got := lastSeqAll(t, db); got != before {
			t.Errorf("a challenge wrote %d audit entries", got-before)
		}
		sig, err := e.svc.Sign(ctx, esign.SignRequest{Entity: "line", EntityID: line.ID, Meaning: "performed", Username: "olga",
			Password: password, Reason: "Line clearance done", Challenge: ch})
		must(t, err)
		want := esign.ContentHash("line", line.ID, line.AuditFields())
		if sig.ID == "" || sig.SignerID != e.acc["olga"].ID || sig.SignerName != "Olga Opératrice" || !sig.SignedAt.Equal(now) ||
			sig.Meaning != esign.Performed || sig.ContentHash != want || sig.Reason != "Line clearance done" || sig.ClientID != "" || sig.Status != esign.Valid {
			t.Errorf("signature %+v, content hash wanted %s", sig, want)
		}
		if got := sig.Display(); got != "Olga Opératrice — 02/03/2026 08:30 (Europe/Paris, UTC+01:00) — Réalisé / Performed" {
			t.Errorf("display %q", got)
		}
		sigs := e.list(t, e.ctx("victor"), "line", line.ID)
		if len(sigs) != 1 || sigs[0].ID != sig.ID || sigs[0].Status != esign.Valid || sigs[0].ContentHash != want {
			t.Errorf("signatures %+v", sigs)
		}
		// The signature and its audit entry, in one command.
		es := trail(t, db, "line", line.ID, before)
		if len(es) != 1 || es[0].Command != "signature.sign" || es[0].Field != "signature" || es[0].ActorID != sig.SignerID ||
			es[0].New != "performed "+sig.ID+" sha256:"+want || es[0].Reason != "Line clearance done" || !es[0].At.Equal(now) {
			t.Errorf("audit entries of the signature: %+v", es)
		}
		_, key, _ := ed25519.GenerateKey(nil)
		if _, b := verify(t, db, key); b != nil {
			t.Errorf("verify after signing: %v", b)
		}
	})
}

// TestSignWrongPassword: a wrong password signs nothing, is audited, counts
// as a failed sign-in, and spends the challenge.
func TestSignWrongPassword(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *store.DB) {
		e := newSigEnv(t, db)
		line, olga := e.f.line, e.acc["olga"]
		ctx := e.ctx("olga")
		ch := e.challenge(t, ctx, "line", line.ID, esign.Performed)
		req := esign.SignRequest{Entity: "line", EntityID: line.ID, Meaning: "performed", Username: "olga", Password: "wrong password", Challenge: ch}
		_, err := e.svc.Sign(ctx, req)
		wantErr(t, err, errs.Unauthorized, "")
		if n := signatureCount(t, db); n != 0 {
			t.Errorf("%d signatures after a wrong password", n)
		}
		if got := refusals(t, db, "line", line.ID); len(got) != 1 || got[0] != "refused performed: wrong password" {
			t.Errorf("audited refusals %q", got)
		}
		var failed bool
		for _, en := range trail(t, db, "account", olga.ID, 0) {
			if en.Command == "session.login_failed" && en.Field == "failed_logins" && en.New == "1" {
				failed = true
			}
		}
		if !failed {
			t.Errorf("the wrong password did not count as a failed sign-in: %+v", trail(t, db, "account", olga.ID, 0))
		}
		// The challenge was good for that one attempt.
		req.Password = password
		_, err = e.svc.Sign(ctx, req)
		wantErr(t, err, errs.Forbidden, "challenge")
		if n := signatureCount(t, db); n != 0 {
			t.Errorf("%d signatures", n)
		}
		// Someone else's username, even with their password.
		ch = e.challenge(t, ctx, "line", line.ID, esign.Performed)
		_, err = e.svc.Sign(ctx, esign.SignRequest{Entity: "line", EntityID: line.ID, Meaning: "performed", Username: "victor", Password: password, Challenge: ch})
		wantErr(t, err, errs.Unauthorized, "username")
		if got := refusals(t, db, "line", line.ID); len(got) != 3 || !strings.Contains(got[2], "username") {
			t.Errorf("audited refusals %q", got)
		}
		if n := signatureCount(t, db); n != 0 {
			t.Errorf("%d signatures", n)
		}
	})
}

// TestSignReplay: a challenge signs once; a replayed request is refused and
// audited.
func TestSignReplay(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *store.DB) {
		e := newSigEnv(t, db)
		line := e.f.line
		ctx := e.ctx("olga")
		req := esign.SignRequest{Entity: "line", EntityID: line.ID, Meaning: "performed", Username: "olga", Password: password,
			Challenge: e.challenge(t, ctx, "line", line.ID, esign.Performed)}
		_, err := e.svc.Sign(ctx, req)
		must(t, err)
		_, err = e.svc.Sign(ctx, req)
		wantErr(t, err, errs.Forbidden, "challenge")
		if !strings.Contains(errs.MessageOf(err, "en"), "replayed") {
			t.Errorf("message %q", errs.MessageOf(err, "en"))
		}
		if n := signatureCount(t, db); n != 1 {
			t.Errorf("%d signatures after a replay, want 1", n)
		}
		if got := refusals(t, db, "line", line.ID); len(got) != 1 || !strings.Contains(got[0], "replayed") {
			t.Errorf("audited refusals %q", got)
		}
	})
}

// TestSignChallengeBinding: a challenge is for one session, one record, one
// meaning and five minutes.
func TestSignChallengeBinding(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *store.DB) {
		e := newSigEnv(t, db)
		line, eq := e.f.line, e.f.equipment
		ctx := e.ctx("olga")
		for _, tt := range []struct {
			name string
			ctx  context.Context
			// the challenge is asked for this record and meaning ...
			entity, id string
			m          esign.Meaning
			// ... and the signature made of the line, as performed.
		}{
			{"another session", e.ctx("olga", "2"), "line", line.ID, esign.Performed},
			{"another record", ctx, "equipment", eq.ID, esign.Acknowledged},
			{"another meaning", ctx, "line", line.ID, esign.Acknowledged},
		} {
			t.Run(tt.name, func(t *testing.T) {
				ch := e.challenge(t, tt.ctx, tt.entity, tt.id, tt.m)
				_, err := e.svc.Sign(ctx, esign.SignRequest{Entity: "line", EntityID: line.ID, Meaning: "performed", Username: "olga", Password: password, Challenge: ch})
				wantErr(t, err, errs.Forbidden, "challenge")
				if n := signatureCount(t, db); n != 0 {
					t.Errorf("%d signatures", n)
				}
			})
		}
		t.Run("unknown", func(t *testing.T) {
			_, err := e.svc.Sign(ctx, esign.SignRequest{Entity: "line", EntityID: line.ID, Meaning: "performed", Username: "olga", Password: password, Challenge: "made-up"})
			wantErr(t, err, errs.Forbidden, "challenge")
		})
		t.Run("expired", func(t *testing.T) {
			ch := e.challenge(t, ctx, "line", line.ID, esign.Performed)
			e.clock.add(5 * time.Minute)
			_, err := e.svc.Sign(ctx, esign.SignRequest{Entity: "line", EntityID: line.ID, Meaning: "performed", Username: "olga", Password: password, Challenge: ch})
			wantErr(t, err, errs.Forbidden, "challenge")
			if !strings.Contains(errs.MessageOf(err, "en"), "expired") {
				t.Errorf("message %q", errs.MessageOf(err, "en"))
			}
		})
		if n := signatureCount(t, db); n != 0 {
			t.Errorf("%d signatures", n)
		}
		if got := refusals(t, db, "line", line.ID); len(got) != 5 {
			t.Errorf("audited refusals %q, want 5", got)
		}
	})
}

// TestVerifierIsNotPerformerStore: the person who signed "performed" may not
// sign "verified" on the same record, neither asking for the challenge nor
// with a challenge obtained before; another person may.
func TestVerifierIsNotPerformerStore(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *store.DB) {
		e := newSigEnv(t, db)
		line := e.f.line
		ctx := e.ctx("olga")
		early := e.challenge(t, ctx, "line", line.ID, esign.Verified)
		_, err := e.sign(t, "olga", "line", line.ID, esign.Performed)
		must(t, err)

		_, err = e.svc.Challenge(ctx, esign.ChallengeRequest{Entity: "line", EntityID: line.ID, Meaning: "verified"})
		wantErr(t, err, errs.Forbidden, "")
		_, err = e.svc.Sign(ctx, esign.SignRequest{Entity: "line", EntityID: line.ID, Meaning: "verified", Username: "olga", Password: password, Challenge: early})
		wantErr(t, err, errs.Forbidden, "")
		if msg := errs.MessageOf(err, "en"); !strings.Contains(msg, "another person") {
			t.Errorf("message %q does not say another person must verify", msg)
		}
		if n := signatureCount(t, db); n != 1 {
			t.Errorf("%d signatures, want 1", n)
		}
		v, err := e.sign(t, "victor", "line", line.ID, esign.Verified)
		must(t, err)
		sigs := e.list(t, ctx, "line", line.ID)
		if len(sigs) != 2 || sigs[1].ID != v.ID || sigs[1].Meaning != esign.Verified || sigs[1].Status != esign.Valid {
			t.Errorf("signatures %+v", sigs)
		}
	})
}

// TestSignatureBroken: content changed after signing shows the signature as
// broken; a signature of the new content is valid.
func TestSignatureBroken(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *store.DB) {
		e := newSigEnv(t, db)
		line := e.f.line
		old, err := e.sign(t, "olga", "line", line.ID, esign.Performed)
		must(t, err)
		changed := line
		changed.CapacityPerHour = 4800
		must(t, db.Site().UpdateLine(as(alice), &changed, "Capacity re-measured after the new stoppering head"))
		fresh, err := e.sign(t, "victor", "line", line.ID, esign.Verified)
		must(t, err)
		sigs := e.list(t, e.ctx("olga"), "line", line.ID)
		if len(sigs) != 2 || sigs[0].ID != old.ID || sigs[0].Status != esign.Broken || sigs[1].ID != fresh.ID || sigs[1].Status != esign.Valid {
			t.Errorf("signatures %+v, want the first broken and the second valid", sigs)
		}
		// A broken signature is no fault of the trail.
		_, key, _ := ed25519.GenerateKey(nil)
		if _, b := verify(t, db, key); b != nil {
			t.Errorf("verify: %v", b)
		}
	})
}

// TestSignScope: a record out of the signer's scope is not found, to sign
// and to list its signatures; a client's user signs their own client's
// record, and its signatures carry the client.
func TestSignScope(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *store.DB) {
		e := newSigEnv(t, db)
		carla := e.ctx("carla")
		for _, r := range []struct{ entity, id string }{
			{"client", e.beta.ID}, {"line", e.f.line.ID}, {"person", store.NewID()}, {"account", e.acc["olga"].ID},
			{"batch", store.NewID()}, {"line", "not-a-uuid"}, {esign.EntityAuditPeriod, "2026-03-01/2026-03-01"},
		} {
			_, err := e.svc.Challenge(carla, esign.ChallengeRequest{Entity: r.entity, EntityID: r.id, Meaning: "acknowledged"})
			wantErr(t, err, errs.NotFound, "")
			_, err = e.svc.Signatures(carla, r.entity, r.id)
			wantErr(t, err, errs.NotFound, "")
		}
		sig, err := e.sign(t, "carla", "client", e.alpha.ID, esign.Acknowledged)
		must(t, err)
		if sig.ClientID != e.alpha.ID {
			t.Errorf("client_id %q", sig.ClientID)
		}
		// victor is assigned to alpha: he sees it; olga is assigned to no client.
		if sigs := e.list(t, e.ctx("victor"), "client", e.alpha.ID); len(sigs) != 1 || sigs[0].ClientID != e.alpha.ID {
			t.Errorf("signatures seen by victor: %+v", sigs)
		}
		_, err = e.svc.Signatures(e.ctx("olga"), "client", e.alpha.ID)
		wantErr(t, err, errs.NotFound, "")
		// The signature's audit entry belongs to the client too.
		es := trail(t, db, "client", e.alpha.ID, 0)
		if last := es[len(es)-1]; last.Field != "signature" || last.ClientID != e.alpha.ID {
			t.Errorf("audit entry %+v", last)
		}
		// On PostgreSQL, row-level security keeps beta's user from the row.
		if db.Dialect() == store.Postgres {
			n, err := db.CountUnfiltered(e.ctx("carla"), "signatures")
			must(t, err)
			sigBeta := e.acc["carla"].Actor()
			sigBeta.ClientID = e.beta.ID
			m, err := db.CountUnfiltered(as(sigBeta), "signatures")
			must(t, err)
			if n != 1 || m != 0 {
				t.Errorf("rows seen past the filter: alpha's user %d, beta's %d", n, m)
			}
		}
		// Neither galenix itself nor a machine signs.
		_, err = e.svc.Challenge(as(identity.System), esign.ChallengeRequest{Entity: "line", EntityID: e.f.line.ID, Meaning: "performed"})
		wantErr(t, err, errs.Forbidden, "")
		_, err = e.svc.Challenge(context.Background(), esign.ChallengeRequest{Entity: "line", EntityID: e.f.line.ID, Meaning: "performed"})
		wantErr(t, err, errs.Unauthorized, "")
	})
}

// TestSignPermissions: a release is a Qualified Person's; a directory
// account cannot sign yet.
func TestSignPermissions(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *store.DB) {
		e := newSigEnv(t, db)
		line := e.f.line
		for _, who := range []string{"olga", "quinn", "victor"} {
			_, err := e.svc.Challenge(e.ctx(who), esign.ChallengeRequest{Entity: "line", EntityID: line.ID, Meaning: "released"})
			wantErr(t, err, errs.Forbidden, "")
		}
		// A line is not released: the meaning is not one such a record takes.
		_, err := e.svc.Challenge(e.ctx("paula"), esign.ChallengeRequest{Entity: "line", EntityID: line.ID, Meaning: "released"})
		wantErr(t, err, errs.Invalid, "meaning")
		// Reviewed or approved on a line implies an authority nobody has.
		for _, m := range []string{"reviewed", "approved"} {
			_, err = e.svc.Challenge(e.ctx("quinn"), esign.ChallengeRequest{Entity: "line", EntityID: line.ID, Meaning: m})
			wantErr(t, err, errs.Invalid, "meaning")
		}
		_, err = e.svc.Challenge(e.ctx("dirk"), esign.ChallengeRequest{Entity: "line", EntityID: line.ID, Meaning: "performed"})
		wantErr(t, err, errs.Forbidden, "")
		if msg := errs.MessageOf(err, "en"); !strings.Contains(msg, "directory") {
			t.Errorf("message %q", msg)
		}
		_, err = e.svc.Challenge(e.ctx("olga"), esign.ChallengeRequest{Entity: "line", EntityID: line.ID, Meaning: "blessed"})
		wantErr(t, err, errs.Invalid, "meaning")
	})
}

// TestAuditPeriodReview: quality assurance signs the review of a period of
// the audit trail, bound to the chain's hash at the period's last entry; an
// entry added to the period later breaks it.
func TestAuditPeriodReview(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *store.DB) {
		e := newSigEnv(t, db)
		const period = "2026-03-02/2026-03-02"
		quinn := e.ctx("quinn")
		// The period is not over yet.
		_, err := e.svc.Challenge(quinn, esign.ChallengeRequest{Entity: "audit_period", EntityID: period, Meaning: "reviewed"})
		wantErr(t, err, errs.Invalid, "entity_id")

		e.clock.at = time.Date(2026, 3, 3, 9, 0, 0, 0, time.UTC)
		last := trail(t, db, "", "", 0)
		lastHash := last[len(last)-1].Hash
		_, err = e.svc.Challenge(e.ctx("olga"), esign.ChallengeRequest{Entity: "audit_period", EntityID: period, Meaning: "reviewed"})
		wantErr(t, err, errs.Forbidden, "")
		_, err = e.svc.Challenge(quinn, esign.ChallengeRequest{Entity: "audit_period", EntityID: period, Meaning: "approved"})
		wantErr(t, err, errs.Invalid, "meaning")
		_, err = e.svc.Challenge(quinn, esign.ChallengeRequest{Entity: "audit_period", EntityID: "2026-02-01/2026-02-28", Meaning: "reviewed"})
		wantErr(t, err, errs.Invalid, "entity_id")

		sig, err := e.sign(t, "quinn", "audit_period", period, esign.Reviewed)
		must(t, err)
		if sig.ContentHash != lastHash {
			t.Errorf("content hash %s, want the chain's hash at the period's last entry %s", sig.ContentHash, lastHash)
		}
		// Entries after the period leave it valid.
		_, err = e.sign(t, "olga", "line", e.f.line.ID, esign.Performed)
		must(t, err)
		sigs := e.list(t, e.ctx("victor"), "audit_period", period)
		if len(sigs) != 1 || sigs[0].Status != esign.Valid {
			t.Fatalf("signatures %+v", sigs)
		}
		// An entry dated in the period, later, breaks the review.
		e.clock.at = now.Add(time.Hour)
		changed := e.f.line
		changed.Name = "Vial filling and stoppering"
		must(t, db.Site().UpdateLine(as(alice), &changed, "Name of the line as on the new drawing"))
		if sigs := e.list(t, quinn, "audit_period", period); len(sigs) != 1 || sigs[0].Status != esign.Broken {
			t.Errorf("signatures after a new entry in the period %+v", sigs)
		}
		_, err = e.svc.Signatures(e.ctx("carla"), "audit_period", period)
		wantErr(t, err, errs.NotFound, "")
		// The review's audit entry is checked like any signature's.
		_, key, _ := ed25519.GenerateKey(nil)
		if _, b := verify(t, db, key); b != nil {
			t.Errorf("verify: %v", b)
		}
	})
}

// TestSignaturePublishesItsEvent: a signature publishes SignatureGiven in
// its transaction to the handlers subscribed for its entity, in order; a
// handler that refuses refuses the whole signature: nothing is written, its
// audit entry included.
func TestSignaturePublishesItsEvent(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *store.DB) {
		e := newSigEnv(t, db)
		line := e.f.line
		var seen []string
		db.On(store.SignatureGiven, "line", func(tx *store.Tx, ev store.Event) error {
			seen = append(seen, "first "+string(ev.Signature.Meaning)+" "+ev.Signature.EntityID)
			return nil
		})
		refuse := false
		db.On(store.SignatureGiven, "line", func(tx *store.Tx, ev store.Event) error {
			seen = append(seen, "second")
			if refuse {
				return errs.E(errs.Conflict, "store.lot_not_enough", "X", text.Decimal(1), "g", text.Decimal(2), "g")
			}
			return nil
		})
		db.On(store.SignatureGiven, "room", func(*store.Tx, store.Event) error {
			t.Error("a handler of another entity was called")
			return nil
		})
		ctx := e.ctx("olga")
		sign := func() error {
			_, err := e.svc.Sign(ctx, esign.SignRequest{Entity: "line", EntityID: line.ID, Meaning: "performed", Username: "olga",
				Password: password, Reason: "Line clearance done", Challenge: e.challenge(t, ctx, "line", line.ID, esign.Performed)})
			return err
		}
		must(t, sign())
		if len(seen) != 2 || seen[0] != "first performed "+line.ID || seen[1] != "second" {
			t.Fatalf("handlers saw %v", seen)
		}
		refuse, seen = true, nil
		before := lastSeqAll(t, db)
		if err := sign(); !errs.Is(err, errs.Conflict) {
			t.Fatalf("a refusing handler: %v", err)
		}
		if got := lastSeqAll(t, db); got != before {
			t.Errorf("the refused signature wrote %d audit entries", got-before)
		}
		if sigs := e.list(t, e.ctx("victor"), "line", line.ID); len(sigs) != 1 {
			t.Errorf("the refused signature was kept: %d signatures", len(sigs))
		}
	})
}

// TestSignStaleContent: a challenge binds the record's content; a record
// changed between the challenge and the signature signs nothing (409), and
// a challenge naming content no longer current is refused.
func TestSignStaleContent(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *store.DB) {
		e := newSigEnv(t, db)
		line := e.f.line
		ctx := e.ctx("olga")
		c, err := e.svc.Challenge(ctx, esign.ChallengeRequest{Entity: "line", EntityID: line.ID, Meaning: "performed"})
		must(t, err)
		if len(c.ContentHash) != 64 {
			t.Errorf("challenge %+v binds no content", c)
		}
		before := signatureCount(t, db)
		changed := line
		changed.CapacityPerHour = 4800
		must(t, db.Site().UpdateLine(as(alice), &changed, "Capacity re-measured"))
		_, err = e.svc.Sign(ctx, esign.SignRequest{Entity: "line", EntityID: line.ID, Meaning: "performed", Username: "olga", Password: password, Challenge: c.Challenge})
		wantErr(t, err, errs.Conflict, "")
		if msg := errs.MessageOf(err, "en"); !strings.Contains(msg, "changed since you opened it") {
			t.Errorf("message %q", msg)
		}
		if n := signatureCount(t, db); n != before {
			t.Errorf("%d signatures, want %d: nothing signed", n, before)
		}
		// The content the signer saw, named at the challenge, must be current.
		_, err = e.svc.Challenge(ctx, esign.ChallengeRequest{Entity: "line", EntityID: line.ID, Meaning: "performed", ContentHash: c.ContentHash})
		wantErr(t, err, errs.Conflict, "")
		// Unchanged since the challenge, it signs.
		c2, err := e.svc.Challenge(ctx, esign.ChallengeRequest{Entity: "line", EntityID: line.ID, Meaning: "performed"})
		must(t, err)
		c3, err := e.svc.Challenge(ctx, esign.ChallengeRequest{Entity: "line", EntityID: line.ID, Meaning: "performed", ContentHash: c2.ContentHash})
		must(t, err)
		sig, err := e.svc.Sign(ctx, esign.SignRequest{Entity: "line", EntityID: line.ID, Meaning: "performed", Username: "olga", Password: password, Challenge: c3.Challenge})
		must(t, err)
		if sig.ContentHash != c2.ContentHash {
			t.Errorf("signed %s, challenge bound %s", sig.ContentHash, c2.ContentHash)
		}
	})
}

// TestSecondPersonOnSameSession: the verification at the line is signed on
// the operator's session by a second person entering their own username
// and password (11.200(a)(1)): the signature and its entry are theirs, in
// that session; a wrong password counts against their account; an unknown
// person, a client's user or the operator herself sign nothing; any other
// signature stays its signer's own.
func TestSecondPersonOnSameSession(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *store.DB) {
		e := newSigEnv(t, db)
		line := e.f.line
		olga := e.ctx("olga")
		_, err := e.sign(t, "olga", "line", line.ID, esign.Performed)
		must(t, err)
		second := func(t *testing.T) string {
			t.Helper()
			c, err := e.svc.Challenge(olga, esign.ChallengeRequest{Entity: "line", EntityID: line.ID, Meaning: "verified", SecondPerson: true})
			must(t, err)
			return c.Challenge
		}
		sign := func(username, pw string) (*esign.Signature, error) {
			return e.svc.Sign(olga, esign.SignRequest{Entity: "line", EntityID: line.ID, Meaning: "verified", Username: username, Password: pw, Challenge: second(t)})
		}

		// Nothing signed by a wrong password, an unknown person, a
		// client's user or a directory account, each said alike.
		for _, c := range []struct{ username, pw string }{{"victor", "wrong"}, {"nobody", password}, {"carla", password}, {"dirk", password}} {
			_, err := sign(c.username, c.pw)
			wantErr(t, err, errs.Unauthorized, "")
			if msg := errs.MessageOf(err, "en"); strings.Contains(msg, c.username) {
				t.Errorf("%s: message %q names the account", c.username, msg)
			}
		}
		// The operator cannot verify her own work on her own session.
		_, err = sign("olga", password)
		wantErr(t, err, errs.Forbidden, "")
		// Only the verification at the line is a second person's.
		_, err = e.svc.Challenge(olga, esign.ChallengeRequest{Entity: "line", EntityID: line.ID, Meaning: "performed", SecondPerson: true})
		wantErr(t, err, errs.Invalid, "meaning")
		_, err = e.svc.Challenge(e.ctx("quinn"), esign.ChallengeRequest{Entity: "batch", EntityID: line.ID, Meaning: "reviewed", SecondPerson: true})
		if err == nil {
			t.Error("a second person's challenge for a batch review was issued")
		}
		if n := signatureCount(t, db); n != 1 {
			t.Fatalf("%d signatures after the refusals, want 1", n)
		}
		// The wrong password counted against victor's account.
		var failed []string
		for _, en := range trail(t, db, "account", e.acc["victor"].ID, 0) {
			if en.Field == "failed_logins" {
				failed = append(failed, en.New)
			}
		}
		if !slices.Equal(failed, []string{"1"}) {
			t.Errorf("victor's failed sign-ins %v, want one", failed)
		}

		// A second person whose password an administrator set signs
		// nothing until they change it; said once their password is
		// checked.
		const given, own = "Granite-Otter-Falls-77", "Velvet-Canyon-Mosaic-19"
		must(t, db.Identity().Admin().ResetPassword(as(alice), e.acc["victor"].ID, given, "forgotten"))
		_, err = sign("victor", given)
		wantErr(t, err, errs.PasswordChangeRequired, "")
		if n := signatureCount(t, db); n != 1 {
			t.Fatalf("%d signatures after a marked second person, want 1", n)
		}
		must(t, db.Identity().ChangePassword(e.ctx("victor"), given, own))

		seq := lastSeqAll(t, db)
		v, err := sign(" victor ", own)
		must(t, err)
		if v.SignerID != e.acc["victor"].ID || v.SignerName != "Victor Vérificateur" || v.Meaning != esign.Verified {
			t.Fatalf("second person's signature %+v", v)
		}
		var entry *audit.Entry
		for _, en := range trail(t, db, "line", line.ID, seq) {
			if en.Field == "signature" {
				entry = &en
			}
		}
		if entry == nil || entry.ActorID != e.acc["victor"].ID || entry.SessionID != "session-olga-1" {
			t.Fatalf("the signature's entry %+v: want victor's, in olga's session", entry)
		}
		if sigs := e.list(t, olga, "line", line.ID); len(sigs) != 2 || sigs[1].ID != v.ID || sigs[1].Status != esign.Valid {
			t.Errorf("signatures %+v", sigs)
		}
		// The trail still verifies: the signature is linked to its entry.
		_, key, _ := ed25519.GenerateKey(nil)
		if _, b := verify(t, db, key); b != nil {
			t.Errorf("verify: %v", b)
		}
	})
}
