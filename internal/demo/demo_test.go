package demo

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"galenix/internal/audit"
	"galenix/internal/backup"
	"galenix/internal/errs"
	"galenix/internal/identity"
	"galenix/internal/site"
	"galenix/internal/store"
	"galenix/internal/storetest"
	"galenix/internal/testpg"
)

func TestMain(m *testing.M) {
	testpg.Main(runner(func() int {
		code := m.Run()
		if shared.db != nil {
			shared.db.Close()
		}
		os.RemoveAll(shared.dir)
		return code
	}))
}

type runner func() int

func (r runner) Run() int { return r() }

// shared is one SQLite database with the demo loaded, for the tests that
// only read it: a load takes most of a minute under the race detector.
// It is TestLoad's load on SQLite too, made after a load cancelled half-way
// into the same database (failed says how that one ended, for TestLoad to
// judge). The tests of loading itself load the others.
var shared struct {
	once   sync.Once
	dir    string
	db     *store.DB
	err    error
	failed cancelled
	// at is when the load ended: the demo's readings run up to it, however
	// long the package's tests take after.
	at time.Time
}

// loadedSQLite returns the shared database, loading the demo into it the
// first time. Its callers must not write to it.
func loadedSQLite(t *testing.T) *store.DB {
	t.Helper()
	shared.once.Do(func() {
		if shared.dir, shared.err = os.MkdirTemp("", "galenix-demo-"); shared.err != nil {
			return
		}
		if shared.db, shared.err = store.Open(context.Background(), store.Config{DataDir: shared.dir}); shared.err != nil {
			return
		}
		shared.failed = cancelHalfway(t, shared.db)
		start := time.Now()
		var loaded bool
		if loaded, shared.err = Load(context.Background(), shared.db, nil); shared.err == nil && !loaded {
			shared.err = errors.New("Load on an empty database: loaded = false, want true")
		}
		t.Logf("Load on %s took %v", shared.db.Describe(), time.Since(start).Round(time.Millisecond))
		shared.at = time.Now()
	})
	if shared.err != nil {
		t.Fatalf("the shared demo database: %v", shared.err)
	}
	return shared.db
}

// opener opens a fresh database, migrated and empty.
type opener func(t *testing.T) *store.DB

// eachDB runs fn on SQLite and on PostgreSQL, side by side.
func eachDB(t *testing.T, fn func(t *testing.T, open opener)) {
	t.Run("sqlite", func(t *testing.T) {
		t.Parallel()
		fn(t, func(t *testing.T) *store.DB { return open(t, store.Config{DataDir: storetest.DataDir(t)}) })
	})
	t.Run("postgres", func(t *testing.T) {
		t.Parallel()
		fn(t, func(t *testing.T) *store.DB { return open(t, store.Config{DSN: storetest.DSN(t)}) })
	})
}

func open(t *testing.T, cfg store.Config) *store.DB {
	t.Helper()
	db, err := store.Open(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// mustLoad loads the demo and says how long it took.
func mustLoad(t *testing.T, db *store.DB) {
	t.Helper()
	start := time.Now()
	loaded, err := Load(context.Background(), db, nil)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if !loaded {
		t.Fatal("Load on an empty database: loaded = false, want true")
	}
	t.Logf("Load on %s took %v", db.Describe(), time.Since(start).Round(time.Millisecond))
}

// TestLoad loads the demo into an empty database, checks what it holds and
// that its accounts sign in, that a second load changes nothing, and that
// two loads started at once into another empty database give the same
// site. A load takes most of a minute under the race detector: each case
// of loading is a step of one test, on as few loads as show them all (on
// SQLite, the first is the package's shared database).
func TestLoad(t *testing.T) {
	eachDB(t, func(t *testing.T, open opener) {
		// A load that fails half-way leaves the database as empty as it
		// found it; the next load then succeeds.
		var db *store.DB
		if t.Name() == "TestLoad/sqlite" {
			db = loadedSQLite(t)
			checkCancelled(t, shared.failed)
		} else {
			db = open(t)
			checkCancelled(t, cancelHalfway(t, db))
			mustLoad(t, db)
		}
		want := snapshot(t, db)

		t.Run("content", func(t *testing.T) { checkContent(t, db) })
		t.Run("again", func(t *testing.T) {
			loaded, err := Load(context.Background(), db, nil)
			if err != nil || loaded {
				t.Fatalf("second Load = %v, %v; want false, nil", loaded, err)
			}
			if got := snapshot(t, db); !slices.Equal(got, want) {
				t.Errorf("the second Load changed the database: %d records before, %d after", len(want), len(got))
			}
		})
		t.Run("deterministic", func(t *testing.T) {
			other := open(t)
			cancelledBefore(t, other)
			concurrentLoads(t, other)
			got := snapshot(t, other)
			for i := range min(len(got), len(want)) {
				if got[i] != want[i] {
					t.Fatalf("two loads differ at record %d:\n%s\n%s", i, want[i], got[i])
				}
			}
			if len(got) != len(want) {
				t.Fatalf("two loads differ: %d records, then %d", len(want), len(got))
			}
			// Signing in writes: on this load, not on the shared one
			// the other tests read.
			t.Run("login", func(t *testing.T) { checkLogins(t, other) })
		})
	})
}

// cancelled is how a load cancelled half-way ended, and what it left.
type cancelled struct {
	loaded   bool
	err      error
	left     []string
	siteErr  error
	entries  int
	auditErr error
}

// cancelHalfway loads the demo into the empty db, cancelling the load
// once its people are in.
func cancelHalfway(t *testing.T, db *store.DB) cancelled {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var c cancelled
	c.loaded, c.err = Load(ctx, db, func(stage string) {
		if stage == "people" {
			cancel()
		}
	})
	c.left = snapshot(t, db)
	_, c.siteErr = db.Site().Site(context.Background())
	entries, err := db.Audit().Entries(context.Background(), audit.Filter{})
	c.entries, c.auditErr = len(entries), err
	return c
}

// checkCancelled checks that a load cancelled half-way failed, and left
// the database as empty as it found it.
func checkCancelled(t *testing.T, c cancelled) {
	t.Helper()
	if c.loaded || !errors.Is(c.err, context.Canceled) {
		t.Fatalf("load cancelled after the people: %v, %v; want false, context.Canceled", c.loaded, c.err)
	}
	if len(c.left) != 0 {
		t.Fatalf("a failed load left %d records, first %s", len(c.left), c.left[0])
	}
	if !errs.Is(c.siteErr, errs.NotFound) {
		t.Errorf("site after a failed load: %v, want not found", c.siteErr)
	}
	if c.entries != 0 || c.auditErr != nil {
		t.Errorf("a failed load left %d audit entries (%v)", c.entries, c.auditErr)
	}
}

// cancelledBefore checks that a load with a context already cancelled
// fails.
func cancelledBefore(t *testing.T, db *store.DB) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if loaded, err := Load(ctx, db, nil); loaded || err == nil {
		t.Errorf("Load with a cancelled context = %v, %v; want an error", loaded, err)
	}
}

// concurrentLoads starts two loads at once on the empty db, as two
// instances of galenix started together would: one loads, the other finds
// the site loaded, and neither fails.
func concurrentLoads(t *testing.T, db *store.DB) {
	t.Helper()
	type result struct {
		loaded bool
		err    error
	}
	start := time.Now()
	results := make(chan result, 2)
	for range 2 {
		go func() {
			loaded, err := Load(context.Background(), db, nil)
			results <- result{loaded, err}
		}()
	}
	a, b := <-results, <-results
	if a.err != nil || b.err != nil || a.loaded == b.loaded {
		t.Fatalf("two loads at once: (%v, %v) and (%v, %v); want one true, one false, no error", a.loaded, a.err, b.loaded, b.err)
	}
	t.Logf("Two loads at once on %s took %v", db.Describe(), time.Since(start).Round(time.Millisecond))
	if n := len(read(t, db).lines); n != 50 {
		t.Errorf("%d lines after two loads at once, want 50", n)
	}
}

// checkContent checks the loaded demo is the site of BRIEF.md.
func checkContent(t *testing.T, db *store.DB) {
	ctx := identity.WithActor(context.Background(), identity.System)
	d := read(t, db)

	st, err := db.Site().Site(ctx)
	if err != nil || st.Code != "FSB" || st.Name != "CENEXIS Fontenay-sous-Bois" || st.Timezone != "Europe/Paris" {
		t.Errorf("site = %+v, %v", st, err)
	}
	drills, err := db.Drills(ctx, 0)
	if err != nil || len(drills) != 2 {
		t.Errorf("restore drills: %+v, %v", drills, err)
	}
	for _, d := range drills {
		if d.Result != backup.OK || d.FinishedAt == nil || d.Database != string(db.Dialect()) || d.Expected["people"] == 0 {
			t.Errorf("restore drill: %+v", d)
		}
	}
	// The security role finds work: the refused sign-ins of the days
	// before, a lock and its unlock by the administrator; the oldest
	// acknowledged by the guard, the recent ones waiting.
	events, err := db.Identity().SecurityEvents(ctx, identity.EventFilter{})
	if err != nil {
		t.Fatalf("security events: %v", err)
	}
	eventKinds, open := map[string]int{}, 0
	for _, e := range events {
		eventKinds[e.Kind]++
		if e.AcknowledgedAt == nil {
			open++
		} else if e.AcknowledgedBy != "security" {
			t.Errorf("event %s acknowledged by %q", e.Kind, e.AcknowledgedBy)
		}
		// A sign-in's event names where it came from; a reader's alert,
		// raised by galenix, its badge alone.
		if (e.Address == "" && !strings.HasPrefix(e.Kind, "access_")) || e.Username == "" {
			t.Errorf("event %+v without its address or username", e)
		}
	}
	if want := map[string]int{identity.EventUnknownUser: 4, identity.EventLoginFailed: 6, identity.EventAccountLocked: 1,
		identity.EventAccessVisitorOverdue: 1}; !maps.Equal(eventKinds, want) {
		t.Errorf("security events by kind: %v, want %v", eventKinds, want)
	}
	if open != len(events)-2 || open == 0 {
		t.Errorf("%d of %d security events open, want all but the two oldest", open, len(events))
	}
	var unlocks []audit.Entry
	all, err := db.Audit().Entries(ctx, audit.Filter{Entity: "account", Limit: 100000})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range all {
		// The history's entries all carry its command (demo.load).
		if e.ActorName == "Julien Moreau" && e.Field == "locked_until" {
			unlocks = append(unlocks, e)
		}
	}
	if len(unlocks) != 1 || !strings.Contains(unlocks[0].Reason, "reconnu par sa responsable") || unlocks[0].Old == "" || unlocks[0].New != "" {
		t.Errorf("the demo's unlock: %+v", unlocks)
	}
	entries, err := db.Audit().Entries(ctx, audit.Filter{Limit: 1})
	if err != nil || len(entries) == 0 {
		t.Fatalf("audit entries: %v, %v", entries, err)
	}
	if e := entries[0]; e.ActorID != identity.System.UserID || e.Command != "demo.load" {
		t.Errorf("first audit entry by %q in %q, want %q in demo.load", e.ActorID, e.Command, identity.System.UserID)
	}

	wantBuildings := map[string]site.BuildingRole{"PC Sécurité": site.RoleSecurity, "Chaufferie": site.RoleUtilities,
		"Bâtiment 25": site.RoleLaboratory, "Bâtiment 30": site.RoleSterileProduction, "Bâtiment 40": site.RoleProduction,
		"Bâtiment 70": site.RoleWarehouse, "Bâtiment 90": site.RoleOffices}
	building := map[string]site.Building{} // by id
	for _, b := range d.buildings {
		if want, ok := wantBuildings[b.Name]; !ok || b.Role != want {
			t.Errorf("building %q has role %q, want %q", b.Name, b.Role, want)
		}
		building[b.ID] = b
	}
	if len(d.buildings) != 7 {
		t.Errorf("%d buildings, want 7", len(d.buildings))
	}

	room := map[string]site.Room{} // by id
	for _, r := range d.rooms {
		room[r.ID] = r
	}
	grades := map[site.Grade]int{} // of the rooms of Bâtiment 30
	var cold, servers int
	for _, r := range d.rooms {
		if building[r.BuildingID].Code == "B30" {
			grades[r.Grade]++
		}
		if r.TempMin == 2 && r.TempMax == 8 {
			cold++
		}
		if strings.HasPrefix(r.Name, "Salle serveurs") && r.TempMin == 18 && r.TempMax == 27 {
			servers++
		}
		if r.CascadesTo != "" && (r.PressureDiffPa < 10 || r.PressureDiffPa > 15 || room[r.CascadesTo].BuildingID != r.BuildingID) {
			t.Errorf("room %s cascades %g Pa to %s", r.Code, r.PressureDiffPa, room[r.CascadesTo].Code)
		}
		if r.Grade.Graded() && (r.TempMin < 18 || r.TempMax > 24 || r.HumidityMin < 30 || r.HumidityMax > 60) {
			t.Errorf("clean room %s: %g–%g °C, %g–%g %%RH", r.Code, r.TempMin, r.TempMax, r.HumidityMin, r.HumidityMax)
		}
	}
	if grades[site.GradeA] < 20 || grades[site.GradeB] == 0 || grades[site.GradeC] == 0 || grades[site.GradeD] == 0 {
		t.Errorf("Bâtiment 30 rooms by grade: %v", grades)
	}
	if cold != 2 || servers < 1 {
		t.Errorf("%d cold rooms at 2–8 °C, want 2; %d server rooms at 18–27 °C", cold, servers)
	}

	pieces := map[string]int{} // by line id
	eqStatuses := map[site.EquipmentStatus]int{}
	var overdue int
	for _, e := range d.equipment {
		pieces[e.LineID]++
		eqStatuses[e.Status]++
		if e.QualificationDue.Before(reference) {
			overdue++
		}
		if e.QualificationDue.After(reference.AddDate(2, 0, 0)) || e.QualificationDue.Before(reference.AddDate(0, -6, 0)) {
			t.Errorf("equipment %s qualification due %s", e.Code, e.QualificationDue.Format(time.DateOnly))
		}
	}
	if len(eqStatuses) != len(site.EquipmentStatuses) || overdue == 0 || overdue > len(d.equipment)/10 {
		t.Errorf("equipment statuses %v, %d of %d overdue", eqStatuses, overdue, len(d.equipment))
	}

	var sterile, nonSterile int
	statuses := map[site.LineStatus]int{}
	for _, l := range d.lines {
		statuses[l.Status]++
		r := room[l.RoomID]
		switch b := building[l.BuildingID].Code; {
		case l.Sterile && b == "B30" && r.Grade.SterileCapable() && strings.HasPrefix(l.Code, "L30-"):
			sterile++
		case !l.Sterile && b == "B40" && strings.HasPrefix(l.Code, "L40-"):
			nonSterile++
		default:
			t.Errorf("line %s (sterile %v) in %s room %s grade %s", l.Code, l.Sterile, b, r.Code, r.Grade)
		}
		if n := pieces[l.ID]; n < 2 || n > 5 {
			t.Errorf("line %s has %d pieces of equipment, want 2 to 5", l.Code, n)
		}
	}
	if len(d.lines) != 50 || sterile != 20 || nonSterile != 30 {
		t.Errorf("%d lines, %d sterile in B30, %d non-sterile in B40; want 50, 20, 30", len(d.lines), sterile, nonSterile)
	}
	// Only the service status is stored; what a line is doing is its
	// state, derived from its batches and equipment (TestDemoRealism
	// checks it against the batches).
	if statuses[site.LineAvailable] < 25 || statuses[site.LineMaintenance] == 0 || statuses[site.LineRunning] != 0 || statuses[site.LineCleaning] != 0 {
		t.Errorf("line statuses: %v", statuses)
	}
	states := map[site.LineState]int{}
	for _, l := range d.lines {
		states[l.State]++
	}
	if states[site.StateInProduction] == 0 || states[site.StateAvailable] < 5 || states[site.StateCleaningDue] == 0 || states[site.StateOutOfService] == 0 {
		t.Errorf("line states: %v", states)
	}

	kinds := map[site.ShiftKind]int{}
	for _, sh := range d.shifts {
		kinds[sh.Kind]++
	}
	if kinds[site.ShiftDay] == 0 || kinds[site.ShiftNight] == 0 || kinds[site.ShiftWeekend] < 2 {
		t.Errorf("shifts by kind: %v", kinds)
	}

	if n := len(d.people); n < 780 || n > 820 {
		t.Errorf("%d people, want 780 to 820", n)
	}
	badge := regexp.MustCompile(`^B[0-9]{6}$`)
	names := map[string]bool{}
	for _, p := range d.people {
		if !badge.MatchString(p.Badge) || p.TeamID == "" || names[p.Name] {
			t.Errorf("person %+v: bad badge, no team or a name already given", p)
		}
		names[p.Name] = true
	}

	client := map[string]string{} // code by id
	var codes []string
	for _, c := range d.clients {
		client[c.ID] = c.Code
		codes = append(codes, c.Code)
	}
	if !slices.Equal(codes, []string{"ALPHA", "BETA", "GAMMA"}) {
		t.Errorf("clients = %v, want ALPHA, BETA, GAMMA", codes)
	}

	var got []string
	for _, a := range d.accounts {
		got = append(got, fmt.Sprintf("%s %v %s", a.Username, a.Roles, client[a.ClientID]))
	}
	want := []string{"admin [admin] ", "client-alpha [client_user] ALPHA", "client-beta [client_user] BETA",
		"client-gamma [client_manager] GAMMA", "it [it] ", "lab [lab] ", "lab2 [lab] ", "maintenance [maintenance] ",
		"operator [operator] ", "operator2 [operator] ", "operator3 [operator] ", "qa [qa] ", "qp [qp] ", "security [security] ", "supervisor [supervisor] ",
		"supervisor2 [supervisor] "}
	if !slices.Equal(got, want) {
		t.Errorf("accounts:\n got %q\nwant %q", got, want)
	}
}

// checkLogins checks every demo account signs in with Password, and with
// its role.
func checkLogins(t *testing.T, db *store.DB) {
	ctx := context.Background()
	for _, a := range accounts {
		token, acc, err := db.Identity().Login(ctx, a.username, Password, "127.0.0.1")
		if err != nil || token == "" || acc.Username != a.username {
			t.Errorf("Login(%s) = %q, %+v, %v", a.username, token, acc, err)
			continue
		}
		actor, err := db.Identity().Authenticate(ctx, token)
		if err != nil || !actor.Has(a.role) {
			t.Errorf("session of %s: %+v, %v; want role %s", a.username, actor, err, a.role)
		}
		// The demo's passwords are documented, and stay as they are: no
		// change is asked of their owners before they work and sign.
		if actor.Pending == identity.PendingPasswordAdminSet {
			t.Errorf("session of %s: the demo's password must be changed first", a.username)
		}
	}
	if _, _, err := db.Identity().Login(ctx, "admin", "wrong", "127.0.0.1"); !errs.Is(err, errs.Unauthorized) {
		t.Errorf("Login with a wrong password: %v, want unauthorized", err)
	}
}
