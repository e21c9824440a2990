// Package demo loads the demo site: CENEXIS Fontenay-sous-Bois, its seven
// buildings, clean rooms, fifty production lines and their equipment, its
// shifts, teams and about 800 staff, three client laboratories and the demo
// accounts of CONTRACT.md; then production: materials and lots, the
// clients' products and master batch records, batches executed in the last
// days and a schedule filling the lines for the coming weeks; the sensors of
// its environmental monitoring and their last day (environment.go); two past
// restore drills of the site's backups; and the refused sign-ins, a lock and
// its unlock of the days before, for the security role.
//
// Every name, code and count is fixed data, so two loads give the same site;
// only the record ids, made by the store, differ. The production dates are
// reckoned from the day of the load, and the lines its batches run on from
// the equipment then clean and qualified.
package demo

import (
	"context"
	"fmt"
	"time"

	"galenix/internal/errs"
	"galenix/internal/identity"
	"galenix/internal/site"
	"galenix/internal/store"
)

// Password is the password of every demo account.
const Password = "galenix-demo"

// reference is the day the demo's dates are reckoned from: qualification
// due dates spread over the two years after it, a few already past. It is
// the first of the month the program started in, so that two loads of a
// month give the same site, and a demo loaded any day finds its equipment
// mostly qualified: the batches it executes need clean, qualified
// equipment (a fixed day would leave, a year on, every piece overdue).
var reference = func() time.Time {
	now := time.Now().UTC()
	return time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC)
}()

// Load loads the demo site into an empty database, in one write transaction:
// a process killed while loading leaves the database empty, and the next
// start loads it again. On a database that already has a site it does
// nothing and returns false.
// after, when not nil, is called after each stage of the loading (site,
// rooms, lines, people, clients, accounts, production, quality, documents, environment,
// drills, security, access), inside the
// transaction, before the next stage begins: the server logs the progress
// with it, and tests use it to stop a load half-way. The system loads it,
// as a history (store.DB.WriteHistory), whoever asks.
func Load(ctx context.Context, db *store.DB, after func(stage string)) (bool, error) {
	ctx = identity.WithActor(ctx, identity.System)
	// Look first, so that a start on a loaded database does not pay for
	// hashing the password; the write transaction looks again.
	if has, err := hasSite(ctx, db); err != nil || has {
		return false, err
	}
	// One argon2id hash, salt included, shared by every demo account:
	// argon2id is slow on purpose, and hashing nine times would slow the
	// first start ninefold. Acceptable for demo accounts only, which share
	// one published password anyway; real accounts each get their own salt.
	hash, err := identity.HashPassword(Password)
	if err != nil {
		return false, fmt.Errorf("hashing the demo password: %w", err)
	}
	loaded := false
	// A history load: the demo's records go through the services, as the
	// system, in one transaction; its past batches are dated in the past,
	// their signatures written without credentials, its masters set
	// effective as the history has them (store.History); the trail shows
	// it all as the command demo.load.
	err = db.WriteHistory(store.Patient(ctx), "demo.load", func(ctx context.Context, h *store.History) error {
		if has, err := hasSite(ctx, db); err != nil || has {
			return err
		}
		l := &loader{ctx: ctx, h: h, plant: db.Site(), clients: db.Clients(), ids: db.Identity(), prod: db.Production(),
			db: db, after: after, codes: map[string]string{}, dialect: db.Dialect(), began: h.Now()}
		for _, s := range []struct {
			name string
			run  func() error
		}{
			{"site", l.site},
			{"rooms", l.rooms},
			{"lines", l.lines},
			{"people", l.people},
			{"clients", l.clientLabs},
			{"accounts", func() error { return l.accounts(hash) }},
			{"production", l.production},
			{"quality", l.quality},
			{"projects", l.projects},
			{"documents", l.documents},
			{"environment", l.environment},
			{"drills", l.drills},
			{"security", l.security},
			{"access", l.accessDemo},
			{"visits", l.visits},
			{"controlled", l.controlledDemo},
			{"infra", l.infraDemo},
		} {
			if err := s.run(); err != nil {
				return fmt.Errorf("demo %s: %w", s.name, err)
			}
			if err := l.done(s.name); err != nil {
				return err
			}
		}
		// The demo accounts sign in with their password alone
		// (CONTRACT.md): the demo's policy does not require a second
		// factor of administrators, as a real site's does.
		policy, err := l.ids.SignInPolicy(ctx)
		if err != nil {
			return err
		}
		policy.AdminTOTP = false
		if _, err := l.ids.SetSignInPolicy(ctx, policy, "Site de démonstration : ses administrateurs se connectent avec un mot de passe seul."); err != nil {
			return fmt.Errorf("demo sign-in policy: %w", err)
		}
		loaded = true
		return nil
	})
	if errs.Is(err, errs.Conflict) {
		// Another process loaded the demo at the same time (PostgreSQL
		// lets both transactions start): the site is there, which is
		// what was asked.
		if has, err := hasSite(ctx, db); err == nil && has {
			return false, nil
		}
	}
	return loaded, err
}

// hasSite reports whether the database holds a site already.
func hasSite(ctx context.Context, db *store.DB) (bool, error) {
	_, err := db.Site().Site(ctx)
	if errs.Is(err, errs.NotFound) {
		return false, nil
	}
	return err == nil, err
}

// loader writes the demo data through the services, as the system, in
// the history load's context: every write joins the load's transaction.
// codes maps the codes of the records written so far (buildings, rooms,
// lines, shifts, teams, clients) to their ids; codes are unique across
// those kinds.
type loader struct {
	ctx     context.Context
	h       *store.History
	db      *store.DB
	plant   *store.SiteStore
	clients *store.ClientStore
	ids     *store.IdentityStore
	prod    *store.ProductionStore
	after   func(stage string)
	codes   map[string]string
	// dialect is the database's, for the past drills' kind.
	dialect store.Dialect
	// zone is the site's time zone, from its settings: the days of the
	// schedule are the site's.
	zone *time.Location
	// personOf is the person behind each staff account, by account id
	// (qualifications.go).
	personOf map[string]string
	// began is when the load began: the demo's "now", whatever the stages
	// backdated their writes to.
	began time.Time
}

// done ends a stage: it calls the hook, then stops if ctx is done, so that
// a cancelled load fails instead of committing.
func (l *loader) done(stage string) error {
	if l.after != nil {
		l.after(stage)
	}
	return l.ctx.Err()
}

// id returns the id of the record with the code, written earlier.
func (l *loader) id(code string) (string, error) {
	id, ok := l.codes[code]
	if !ok {
		return "", fmt.Errorf("no demo record has the code %q", code)
	}
	return id, nil
}

// record notes the id of the record with the code. A code used twice is a
// mistake in the demo's tables, which resolve references by code.
func (l *loader) record(code, id string) error {
	if _, ok := l.codes[code]; ok {
		return fmt.Errorf("two demo records have the code %q", code)
	}
	l.codes[code] = id
	return nil
}

// site writes the site and its buildings.
func (l *loader) site() error {
	st := &site.Site{Code: "FSB", Name: "CENEXIS Fontenay-sous-Bois", Timezone: "Europe/Paris",
		Address: "Zone d'activités des Marais, 94120 Fontenay-sous-Bois, France"}
	if err := l.plant.CreateSite(l.ctx, st); err != nil {
		return err
	}
	l.zone = st.Location()
	for _, b := range buildings {
		b.SiteID = st.ID
		if err := l.plant.CreateBuilding(l.ctx, &b); err != nil {
			return fmt.Errorf("building %s: %w", b.Code, err)
		}
		if err := l.record(b.Code, b.ID); err != nil {
			return err
		}
	}
	return nil
}

// buildings are the seven buildings of BRIEF.md, with their roles.
var buildings = []site.Building{
	{Code: "PCS", Name: "PC Sécurité", Role: site.RoleSecurity},
	{Code: "CHA", Name: "Chaufferie", Role: site.RoleUtilities},
	{Code: "B25", Name: "Bâtiment 25", Role: site.RoleLaboratory},
	{Code: "B30", Name: "Bâtiment 30", Role: site.RoleSterileProduction},
	{Code: "B40", Name: "Bâtiment 40", Role: site.RoleProduction},
	{Code: "B70", Name: "Bâtiment 70", Role: site.RoleWarehouse},
	{Code: "B90", Name: "Bâtiment 90", Role: site.RoleOffices},
}
