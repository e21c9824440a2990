package testcluster

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
)

// The faults RunFaults knows, in the order of the fault test.
const (
	FaultPrimary = "primary" // SIGKILL of the PostgreSQL primary (and its Patroni)
	FaultNode    = "node"    // SIGKILL of a galenix node
	FaultEtcd    = "etcd"    // one etcd member stopped, then back
	FaultHAProxy = "haproxy" // HAProxy restarted
)

// AllFaults is the whole fault test.
var AllFaults = []string{FaultPrimary, FaultNode, FaultEtcd, FaultHAProxy}

// FaultOptions shape a fault test.
type FaultOptions struct {
	Faults  []string      // AllFaults when empty
	Writers int           // concurrent writers (4 when 0)
	Between time.Duration // load before each fault and after it (3 s when 0)
	Logf    func(format string, args ...any)
}

// FaultResult is what one fault cost.
type FaultResult struct {
	Fault string
	// Unavailable is the longest time without an acknowledged write
	// around the fault.
	Unavailable time.Duration
}

// Result is the fault test's outcome: every acknowledged write must be in
// the database exactly once, and the audit trail must verify.
type Result struct {
	Acknowledged int // writes answered 2xx (first answer or replay)
	Lost         int // acknowledged, not in the database
	Duplicated   int // acknowledged once, in the database more than once
	Unanswered   int // in the database, never acknowledged (the client gave up)
	Reads        int
	Faults       []FaultResult
	Verify       string // "ok", or what galenix audit verify said
}

// MaxUnavailable is the worst write unavailability of the faults.
func (r Result) MaxUnavailable() time.Duration {
	var m time.Duration
	for _, f := range r.Faults {
		m = max(m, f.Unavailable)
	}
	return m
}

// load is the client side: writers create teams with codes of their own
// through HAProxy, each write with its Idempotency-Key, retried with the
// same key until answered; the ledger records every acknowledged code.
type load struct {
	c      *Cluster
	token  string
	shift  string
	client *http.Client
	prefix string

	mu     sync.Mutex
	acked  map[string]int
	okAt   []time.Time
	reads  int
	failed error
}

func (c *Cluster) signIn(ctx context.Context, client *http.Client) (string, error) {
	var out struct{ Token string }
	err := call(ctx, client, http.MethodPost, c.URL()+"/api/v1/login", "", "",
		map[string]string{"username": "admin", "password": "galenix-demo"}, &out)
	return out.Token, err
}

type answerError struct {
	status   int
	body     string
	replayed bool // Idempotent-Replayed: the outcome of an earlier attempt
}

func (e *answerError) Error() string { return fmt.Sprintf("HTTP %d: %s", e.status, e.body) }

func call(ctx context.Context, client *http.Client, method, url, token, key string, body, out any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, url, rd)
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if key != "" {
		req.Header.Set("Idempotency-Key", key)
	}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode/100 != 2 {
		return &answerError{resp.StatusCode, strings.TrimSpace(string(b)), resp.Header.Get("Idempotent-Replayed") == "true"}
	}
	if out != nil {
		return json.Unmarshal(b, out)
	}
	return nil
}

// until retries fn every 200 ms while it fails with a connection error or
// a 5xx, for at most a minute.
func until(ctx context.Context, fn func() error) error {
	deadline := time.Now().Add(time.Minute)
	for {
		err := fn()
		var ae *answerError
		if err == nil || (errors.As(err, &ae) && ae.status < 500) || time.Now().After(deadline) {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}

func (l *load) write(ctx context.Context, code string) {
	key := uuid.NewString()
	body := map[string]string{"code": code, "name": "Fault test " + code, "shift_id": l.shift}
	for attempt := 1; ctx.Err() == nil; attempt++ {
		rctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		err := call(rctx, l.client, http.MethodPost, l.c.URL()+"/api/v1/teams", l.token, key, body, nil)
		cancel()
		var ae *answerError
		switch {
		case err == nil:
			l.ok(code)
			return
		case errors.As(err, &ae) && ae.status == http.StatusConflict && (ae.replayed || strings.Contains(ae.body, `"idempotency_applied"`)):
			// The first attempt was committed but its answer never
			// recorded (the database failed over in between): galenix
			// says it was applied, and applies nothing again.
			l.ok(code)
			return
		case errors.As(err, &ae) && ae.status < 500:
			l.fail(fmt.Errorf("writing %s: %w", code, err))
			return
		}
		select {
		case <-ctx.Done():
		case <-time.After(200 * time.Millisecond):
		}
	}
}

func (l *load) ok(code string) {
	l.mu.Lock()
	l.acked[code]++
	l.okAt = append(l.okAt, time.Now())
	l.mu.Unlock()
}

func (l *load) fail(err error) {
	l.mu.Lock()
	if l.failed == nil {
		l.failed = err
	}
	l.mu.Unlock()
}

// gap is the longest time without an acknowledged write in [from, to].
func (l *load) gap(from, to time.Time) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	prev, longest := from, time.Duration(0)
	for _, t := range l.okAt {
		if t.Before(from) || t.After(to) {
			continue
		}
		longest = max(longest, t.Sub(prev))
		prev = t
	}
	return max(longest, to.Sub(prev))
}

// waitWrite waits until a write is acknowledged after t.
func (l *load) waitWrite(ctx context.Context, t time.Time) error {
	for {
		l.mu.Lock()
		done := len(l.okAt) > 0 && l.okAt[len(l.okAt)-1].After(t)
		failed := l.failed
		l.mu.Unlock()
		if failed != nil {
			return failed
		}
		if done {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("no write acknowledged since the fault: %w", ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// RunFaults puts the cluster under load and injects the faults one after
// the other; after each, it compares the client's ledger with the
// database and runs galenix audit verify.
func (c *Cluster) RunFaults(ctx context.Context, opts FaultOptions) (Result, error) {
	if len(opts.Faults) == 0 {
		opts.Faults = AllFaults
	}
	if opts.Writers == 0 {
		opts.Writers = 4
	}
	if opts.Between == 0 {
		opts.Between = 3 * time.Second
	}
	logf := opts.Logf
	if logf == nil {
		logf = func(string, ...any) {}
	}
	l := &load{c: c, client: &http.Client{Timeout: 10 * time.Second}, acked: map[string]int{},
		prefix: "F" + strings.ReplaceAll(uuid.NewString()[:8], "-", "")}
	var res Result
	var err error
	if err = until(ctx, func() (e error) { l.token, e = c.signIn(ctx, l.client); return e }); err != nil {
		return res, fmt.Errorf("signing in: %w", err)
	}
	var shifts struct{ Items []struct{ ID string } }
	if err = call(ctx, l.client, http.MethodGet, c.URL()+"/api/v1/shifts", l.token, "", nil, &shifts); err != nil || len(shifts.Items) == 0 {
		return res, fmt.Errorf("reading the shifts: %v (%d)", err, len(shifts.Items))
	}
	l.shift = shifts.Items[0].ID

	lctx, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	for w := range opts.Writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := 0; lctx.Err() == nil; n++ {
				l.write(lctx, fmt.Sprintf("%s-%d-%d", l.prefix, w, n))
			}
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		for lctx.Err() == nil {
			rctx, cancel := context.WithTimeout(lctx, 5*time.Second)
			if call(rctx, l.client, http.MethodGet, c.URL()+"/api/v1/site", l.token, "", nil, nil) == nil {
				l.mu.Lock()
				l.reads++
				l.mu.Unlock()
			}
			cancel()
			time.Sleep(20 * time.Millisecond)
		}
	}()
	defer func() { stop(); wg.Wait() }()

	pause := func(d time.Duration) error {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(d):
			return nil
		}
	}
	if err := pause(opts.Between); err != nil {
		return res, err
	}
	for _, f := range opts.Faults {
		t0 := time.Now()
		logf("fault %s", f)
		if err := c.inject(ctx, l, f, t0); err != nil {
			return res, fmt.Errorf("fault %s: %w", f, err)
		}
		if err := pause(opts.Between); err != nil {
			return res, err
		}
		fr := FaultResult{Fault: f, Unavailable: l.gap(t0, time.Now())}
		res.Faults = append(res.Faults, fr)
		logf("fault %s: writes unavailable %.1f s", f, fr.Unavailable.Seconds())
	}
	stop()
	wg.Wait()
	if l.failed != nil {
		return res, l.failed
	}
	if err := c.checkLedger(ctx, l, &res); err != nil {
		return res, err
	}
	res.Reads = l.reads
	vctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	if out, err := c.Verify(vctx); err != nil {
		res.Verify = strings.TrimSpace(out)
	} else {
		res.Verify = "ok"
	}
	return res, nil
}

func (c *Cluster) inject(ctx context.Context, l *load, fault string, t0 time.Time) error {
	wctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	switch fault {
	case FaultPrimary:
		p, err := c.Primary()
		if err != nil {
			return err
		}
		if err := c.Kill(p); err != nil {
			return err
		}
		// Patroni promotes the synchronous standby once the lost
		// primary's leader key expires (ttl): wait for it, and for a
		// write acknowledged by the new primary, before the lost member
		// comes back (a member back within the ttl would just restart as
		// the primary: no failover).
		for {
			if q, err := c.Primary(); err == nil && q != p {
				break
			}
			select {
			case <-wctx.Done():
				return fmt.Errorf("no standby promoted after %s was lost: %w", p, wctx.Err())
			case <-time.After(100 * time.Millisecond):
			}
		}
		if err := l.waitWrite(wctx, time.Now()); err != nil {
			return err
		}
		// The lost member comes back as the new primary's standby.
		if err := c.StartMember(p); err != nil {
			return err
		}
		return c.WaitSyncStandby(wctx)
	case FaultNode:
		if err := c.Kill("galenix1"); err != nil {
			return err
		}
		if err := l.waitWrite(wctx, time.Now()); err != nil {
			return err
		}
		if err := c.StartMember("galenix1"); err != nil {
			return err
		}
		return WaitReady(wctx, c.NodeURL(1))
	case FaultEtcd:
		if err := c.Kill("etcd1"); err != nil {
			return err
		}
		time.Sleep(2 * time.Second)
		if err := l.waitWrite(wctx, time.Now()); err != nil {
			return err
		}
		return c.StartMember("etcd1")
	case FaultHAProxy:
		if err := c.Kill("haproxy"); err != nil {
			return err
		}
		if err := c.StartMember("haproxy"); err != nil {
			return err
		}
		return l.waitWrite(wctx, time.Now())
	}
	return fmt.Errorf("no fault %q", fault)
}

// checkLedger compares the acknowledged writes with the teams in the
// database.
func (c *Cluster) checkLedger(ctx context.Context, l *load, res *Result) error {
	db, err := c.Open()
	if err != nil {
		return err
	}
	defer db.Close()
	rows, err := db.QueryContext(ctx, `SELECT code, COUNT(*) FROM teams WHERE code LIKE $1 GROUP BY code`, l.prefix+"-%")
	if err != nil {
		return fmt.Errorf("reading the teams: %w", err)
	}
	defer rows.Close()
	inDB := map[string]int{}
	for rows.Next() {
		var code string
		var n int
		if err := rows.Scan(&code, &n); err != nil {
			return err
		}
		inDB[code] = n
	}
	if err := rows.Err(); err != nil {
		return err
	}
	var lost []string
	for code := range l.acked {
		res.Acknowledged++
		switch n := inDB[code]; {
		case n == 0:
			lost = append(lost, code)
		case n > 1:
			res.Duplicated++
		}
	}
	for code := range inDB {
		if l.acked[code] == 0 {
			res.Unanswered++
		}
	}
	sort.Strings(lost)
	res.Lost = len(lost)
	return nil
}
