package main

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"galenix/internal/demo"
	"galenix/internal/production"
	"galenix/internal/site"
)

// benchPassword is the password of the accounts the benchmark creates: long
// enough for the sign-in policy, not a common one, not the username.
const benchPassword = "banc-de-charge-ebr-2026"

const benchReason = "bench/ebr: load test accounts"

// The demo accounts the readers sign in as: site staff who read the shop
// floor, the batches and their records, and the client laboratories'
// users, who read their own batches only.
var (
	staffReaders  = []string{"supervisor", "qa", "qp", "lab", "operator"}
	clientReaders = []string{"client-alpha", "client-beta", "client-gamma"}
)

// world is what the benchmark knows of the running site: its lines, the
// operators working them, the readers and their batches.
type world struct {
	c *client
	o options

	admin, supervisor, qa *session
	lines                 []*line     // the lines operators work
	allLines              []site.Line // every line, for readers
	buildings             []string    // buildings with lines, for the schedule
	readers               []*reader

	// usernames maps account ids to usernames: a step recorded by a demo
	// account before the run is signed by that account.
	usernames map[string]string
	mu        sync.Mutex
	sessions  map[string]*session // by account id, signed in during the run
	lotSeq    int

	work workCounts
}

// line is one production line and the operator working it.
type line struct {
	site.Line
	op, verifier *session
}

// reader is one of the signed-in users reading pages and lists.
type reader struct {
	s       *session
	staff   bool
	batches []string // batches the reader sees
	records []string // those that have a record (released or later)
}

// setupFigures says what the setup did and how long it took.
type setupFigures struct {
	batches              map[production.BatchState]int
	created, logins      int
	loginTime, totalTime time.Duration
	fixed                int
}

// setup creates the operators' accounts, signs everyone in, and prepares
// the lines' equipment. None of it is measured.
func setup(ctx context.Context, c *client, o options) (*world, setupFigures, error) {
	t0 := time.Now()
	var fig setupFigures
	w := &world{c: c, o: o, usernames: map[string]string{}, sessions: map[string]*session{}}
	w.admin = &session{username: "admin", password: demo.Password}
	if err := c.login(ctx, w.admin); err != nil {
		return nil, fig, err
	}
	var clients items[struct {
		ID   string `json:"id"`
		Code string `json:"code"`
	}]
	if err := c.call(ctx, w.admin, "GET", "/api/v1/clients", nil, &clients); err != nil {
		return nil, fig, err
	}
	var lines items[site.Line]
	if err := c.call(ctx, w.admin, "GET", "/api/v1/lines", nil, &lines); err != nil {
		return nil, fig, err
	}
	w.allLines = lines.Items
	sort.Slice(w.allLines, func(i, j int) bool { return w.allLines[i].Code < w.allLines[j].Code })
	if len(w.allLines) < o.lines {
		return nil, fig, fmt.Errorf("the demo has %d lines; -lines asks for %d", len(w.allLines), o.lines)
	}
	for _, l := range w.allLines {
		if l.BuildingID != "" && !slices.Contains(w.buildings, l.BuildingID) {
			w.buildings = append(w.buildings, l.BuildingID)
		}
	}

	// One operator account per line, and a supervisor who releases the
	// batches to the floor and records the cleaning of equipment; all
	// assigned to every client, so that every line's batch is theirs.
	var clientIDs []string
	for _, cl := range clients.Items {
		clientIDs = append(clientIDs, cl.ID)
	}
	type newAccount struct {
		s    *session
		name string
		role string
	}
	var todo []newAccount
	for i := range o.lines {
		// An operator works on the line's tablet: a shop-floor session.
		todo = append(todo, newAccount{&session{username: fmt.Sprintf("bench-op-%02d", i+1), password: benchPassword, device: "shopfloor"},
			fmt.Sprintf("Opérateur banc %02d", i+1), "operator"})
	}
	w.supervisor = &session{username: "bench-supervisor", password: benchPassword}
	todo = append(todo, newAccount{w.supervisor, "Superviseur banc", "supervisor"})
	err := parallel(2, len(todo), func(i int) error {
		a := todo[i]
		var acc struct {
			ID string `json:"id"`
		}
		body := map[string]any{"username": a.s.username, "name": a.name, "roles": []string{a.role}, "password": a.s.password, "reason": benchReason}
		if err := c.call(ctx, w.admin, "POST", "/api/v1/accounts", body, &acc); err != nil {
			return err
		}
		a.s.accountID = acc.ID
		for _, cl := range clientIDs {
			body := map[string]string{"account_id": acc.ID, "client_id": cl, "reason": benchReason}
			if err := c.call(ctx, w.admin, "POST", "/api/v1/assignments", body, nil); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, fig, err
	}
	fig.created = len(todo)
	for i := range o.lines {
		l := &line{Line: w.allLines[i], op: todo[i].s}
		w.lines = append(w.lines, l)
	}
	// A critical step's verifier is the operator of the next line, come
	// over to check; with a single line, the supervisor.
	for i, l := range w.lines {
		l.verifier = w.supervisor
		if len(w.lines) > 1 {
			l.verifier = w.lines[(i+1)%len(w.lines)].op
		}
	}

	var accounts items[struct {
		ID       string `json:"id"`
		Username string `json:"username"`
	}]
	if err := c.call(ctx, w.admin, "GET", "/api/v1/accounts", nil, &accounts); err != nil {
		return nil, fig, err
	}
	for _, a := range accounts.Items {
		w.usernames[a.ID] = a.Username
	}

	// Everyone signs in once: each sign-in is one argon2id check. The
	// readers' sessions are of the demo accounts, each sign-in its own
	// session; with -sessions below -readers, readers share them.
	w.qa = &session{username: "qa", password: demo.Password}
	logins := []*session{w.supervisor, w.qa}
	for _, l := range w.lines {
		logins = append(logins, l.op)
	}
	sessions := make([]*session, o.sessions)
	staff := make([]bool, o.sessions)
	for i := range sessions {
		name := staffReaders[(i/3*2+i%3)%len(staffReaders)]
		if i%3 == 2 {
			name, staff[i] = clientReaders[(i/3)%len(clientReaders)], false
		} else {
			staff[i] = true
		}
		sessions[i] = &session{username: name, password: demo.Password}
		logins = append(logins, sessions[i])
	}
	tl := time.Now()
	if err := parallel(2, len(logins), func(i int) error { return c.login(ctx, logins[i]) }); err != nil {
		return nil, fig, err
	}
	fig.loginTime, fig.logins = time.Since(tl), len(logins)+1
	for _, s := range logins {
		if id := accountID(w.usernames, s.username); id != "" {
			s.accountID = id
		}
	}

	// What each reader account sees.
	seen := map[string]*reader{}
	for i, s := range sessions {
		if r := seen[s.username]; r != nil {
			w.readers = append(w.readers, &reader{s: s, staff: staff[i], batches: r.batches, records: r.records})
			continue
		}
		batches, err := allBatches(ctx, c, s)
		if err != nil {
			return nil, fig, err
		}
		r := &reader{s: s, staff: staff[i]}
		for _, b := range batches {
			r.batches = append(r.batches, b.ID)
			if b.State != production.BatchPlanned && b.State != production.BatchScheduled {
				r.records = append(r.records, b.ID)
			}
		}
		seen[s.username] = r
		w.readers = append(w.readers, r)
	}
	// More readers than sessions share them, round robin.
	for i := len(w.readers); i < o.readers; i++ {
		r := *w.readers[i%len(sessions)]
		w.readers = append(w.readers, &r)
	}

	all, err := allBatches(ctx, c, w.qa)
	if err != nil {
		return nil, fig, err
	}
	fig.batches = map[production.BatchState]int{}
	for _, b := range all {
		fig.batches[b.State]++
	}

	// The lines' equipment starts clean and qualified: the demo leaves
	// some dirty, under maintenance or past its qualification, and every
	// piece of a running line in use, which would stop a batch at its
	// first equipment check.
	for _, l := range w.lines {
		var eq items[site.Equipment]
		if err := c.call(ctx, w.supervisor, "GET", "/api/v1/equipment?line_id="+l.ID, nil, &eq); err != nil {
			return nil, fig, err
		}
		for _, e := range eq.Items {
			if usable(e) {
				continue
			}
			if err := w.cleanEquipment(ctx, e, "bench/ebr: cleaned and requalified before the load test"); err != nil {
				return nil, fig, err
			}
			fig.fixed++
		}
	}
	fig.totalTime = time.Since(t0)
	return w, fig, nil
}

func accountID(usernames map[string]string, username string) string {
	for id, u := range usernames {
		if u == username {
			return id
		}
	}
	return ""
}

// usable reports whether a piece of equipment may be checked for a step:
// clean, and within its qualification for the week to come.
func usable(e site.Equipment) bool {
	return e.Status == site.EquipmentClean && e.QualificationDue.After(time.Now().AddDate(0, 0, 7))
}

// cleanEquipment records a piece of equipment clean (and requalified, if
// its qualification lapses soon), as the supervisor.
func (w *world) cleanEquipment(ctx context.Context, e site.Equipment, reason string) error {
	e.Status = site.EquipmentClean
	if !e.QualificationDue.After(time.Now().AddDate(0, 0, 7)) {
		d := time.Now().UTC().AddDate(1, 0, 0)
		e.QualificationDue = time.Date(d.Year(), d.Month(), d.Day(), 0, 0, 0, 0, time.UTC)
	}
	return w.c.call(ctx, w.supervisor, "PUT", "/api/v1/equipment/"+e.ID, equipmentBody(e, reason), nil)
}

// equipmentBody is the PUT body of a piece of equipment: the item as GET
// answers it, and the reason.
func equipmentBody(e site.Equipment, reason string) map[string]any {
	return map[string]any{"code": e.Code, "name": e.Name, "kind": e.Kind, "line_id": e.LineID, "status": e.Status,
		"qualification_due": e.QualificationDue, "reason": reason}
}

// sessionFor returns a session of the account, signing it in the first
// time (demo accounts only: their password is known).
func (w *world) sessionFor(ctx context.Context, accountID string) (*session, error) {
	w.mu.Lock()
	s := w.sessions[accountID]
	w.mu.Unlock()
	if s != nil {
		return s, nil
	}
	username := w.usernames[accountID]
	if username == "" || strings.HasPrefix(username, "bench-") {
		return nil, fmt.Errorf("no session for account %s (%q)", accountID, username)
	}
	s = &session{username: username, password: demo.Password, accountID: accountID}
	t := time.Now()
	var out struct {
		Token string `json:"token"`
	}
	a := w.c.timed(ctx, kindLogin, t, nil, "POST", "/api/v1/login", map[string]string{"username": username, "password": s.password}, false, false)
	if !a.ok() {
		return nil, fmt.Errorf("signing in as %s: %s", username, a.failure())
	}
	if err := jsonDecode(a.body, &out); err != nil {
		return nil, err
	}
	s.token = out.Token
	w.mu.Lock()
	w.sessions[accountID] = s
	w.mu.Unlock()
	return s, nil
}

// parallel runs fn(0..n-1) on k goroutines and returns the first error.
func parallel(k, n int, fn func(i int) error) error {
	var mu sync.Mutex
	var first error
	next := 0
	var wg sync.WaitGroup
	for range k {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				mu.Lock()
				i := next
				next++
				stop := first != nil
				mu.Unlock()
				if i >= n || stop {
					return
				}
				if err := fn(i); err != nil {
					mu.Lock()
					if first == nil {
						first = err
					}
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	return first
}

// allBatches reads every batch the session sees, a page of 1,000 at a
// time.
func allBatches(ctx context.Context, c *client, s *session) ([]production.Batch, error) {
	var out []production.Batch
	for {
		var page items[production.Batch]
		if err := c.call(ctx, s, "GET", "/api/v1/batches?limit=1000&offset="+strconv.Itoa(len(out)), nil, &page); err != nil {
			return nil, err
		}
		out = append(out, page.Items...)
		if len(page.Items) < 1000 {
			return out, nil
		}
	}
}
