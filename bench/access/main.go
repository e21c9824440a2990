// Command access measures site access at a shift change: 800 people in
// 15 minutes, in bursts (a bus arriving, the end of a briefing), through
// the gate, into their building and, for a third of them, into a grade B
// area; the leaving shift out through the gate. It times the decision a
// reader's controller takes from its signed policy (the local path), and
// the central intake of the events on SQLite and on PostgreSQL: each
// event delivered alone as an online reader does (its latency, p50 and
// p99) and the offline catch-up in batches (events per second); then who
// is on site after a week of shift changes, as the PC Sécurité reads it.
// It ends with one RESULT line.
package main

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"galenix/bench/internal/machine"
	"galenix/internal/access"
	"galenix/internal/identity"
	"galenix/internal/qualification"
	"galenix/internal/site"
	"galenix/internal/store"
	"galenix/internal/testpg"
)

type options struct {
	people, rounds, readers, batch int
	db                             string
}

func main() {
	var o options
	flag.IntVar(&o.people, "people", 800, "people changing shift")
	flag.IntVar(&o.rounds, "rounds", 20, "shift changes decided on the local path")
	flag.IntVar(&o.readers, "readers", 8, "readers delivering their events at once, online")
	flag.IntVar(&o.batch, "batch", 500, "events per delivery in the offline catch-up")
	flag.StringVar(&o.db, "db", "both", "the central database: sqlite, postgres or both")
	flag.Parse()
	if err := run(o); err != nil {
		fmt.Fprintln(os.Stderr, "bench/access:", err)
		os.Exit(1)
	}
}

// The site of the benchmark: the gate, two buildings, a grade B area.
var zones = []access.Zone{
	{ID: "site", Code: "SITE", Name: "Site", Kind: access.Perimeter, AssemblyPoint: "Parking nord"},
	{ID: "b30", Code: "B30", Name: "Bâtiment 30", Kind: access.Building},
	{ID: "b40", Code: "B40", Name: "Bâtiment 40", Kind: access.Building},
	{ID: "b30-b", Code: "B30-B", Name: "Zone B", Kind: access.CleanArea, Grade: site.GradeB},
}

func readersOf() []access.Reader {
	var out []access.Reader
	for _, z := range zones {
		for _, d := range []access.Direction{access.In, access.Out} {
			out = append(out, access.Reader{Code: "R-" + z.Code + "-" + string(d), ZoneID: z.ID, Direction: d, Door: z.Name})
		}
	}
	return out
}

func badge(i int) string { return fmt.Sprintf("B%06d", 100000+i) }

// shiftChange is the passages of a shift change at t0: the coming shift
// in bursts over 15 minutes, the leaving one out.
func shiftChange(people int, t0 time.Time) [][2]string {
	var out [][2]string // reader, badge
	for i := range people {
		b := badge(i)
		if i%2 == 1 {
			out = append(out, [2]string{"R-SITE-out", b})
			continue
		}
		building := "R-B30-in"
		if i%4 == 2 {
			building = "R-B40-in"
		}
		out = append(out, [2]string{"R-SITE-in", b}, [2]string{building, b})
		if i%6 == 0 {
			out = append(out, [2]string{"R-B30-B-in", b})
		}
	}
	return out
}

func policy(people int, now time.Time) *access.Policy {
	p := &access.Policy{Version: 1, IssuedAt: now, Timezone: "Europe/Paris", Zones: zones, Readers: readersOf(), Online: access.PassbackHard, Offline: access.PassbackSoft}
	for i := range people {
		h := access.Holder{Badge: badge(i), PersonID: fmt.Sprint(i), Name: fmt.Sprintf("Person %d", i), Roles: []identity.Role{identity.RoleOperator},
			Qualifications: []qualification.Qualification{{Kind: qualification.Gowning, Subject: "B", Status: qualification.Granted,
				GrantedAt: now.AddDate(0, -6, 0), ValidUntil: now.AddDate(0, 6, 0)}}}
		if i%10 == 0 { // a tenth's gowning lapsed
			h.Qualifications[0].ValidUntil = now.AddDate(0, 0, -1)
		}
		p.Holders = append(p.Holders, h)
	}
	return p
}

func pct(d []time.Duration, q float64) time.Duration {
	slices.Sort(d)
	return d[min(len(d)-1, int(q*float64(len(d))))]
}

func run(o options) error {
	fmt.Printf("bench/access: %d people, load average %s\n", o.people, machine.LoadAvg())
	now := time.Now()
	pub, key, _ := ed25519.GenerateKey(rand.Reader)

	// The local path: a controller deciding each badge from its policy.
	var local []time.Duration
	for r := range o.rounds {
		pol := policy(o.people, now)
		pol.Version = int64(r + 1)
		b, err := access.Sign(pol, key)
		if err != nil {
			return err
		}
		d := access.NewDevice(pub)
		if err := d.Load(b); err != nil {
			return err
		}
		for _, sw := range shiftChange(o.people, now) {
			t := time.Now()
			d.Swipe(sw[0], sw[1], now)
			local = append(local, time.Since(t))
		}
	}
	lp99 := pct(local, 0.99)
	fmt.Printf("local decisions: %d, p50 %v, p99 %v, max %v (goal p99 ≤ 5 ms: %s)\n", len(local), pct(local, 0.5), lp99, local[len(local)-1],
		machine.Goal(lp99 <= 5*time.Millisecond))

	result := fmt.Sprintf("RESULT decide_p99_us=%d", lp99.Microseconds())
	dbs := []string{"sqlite", "postgres"}
	if o.db != "both" {
		dbs = []string{o.db}
	}
	for _, name := range dbs {
		db, stop, err := openDB(name)
		if err != nil {
			return err
		}
		p99, rate, err := central(db, o, pub, key, now)
		var presence time.Duration
		if err == nil {
			presence, err = onSite(db, o, now)
		}
		stop()
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		fmt.Printf("%s: online delivery p99 %v (goal ≤ 50 ms: %s); offline catch-up %.0f events/s; who is on site after a week, p99 %v (goal ≤ 250 ms: %s)\n",
			name, p99, machine.Goal(p99 <= 50*time.Millisecond), rate, presence, machine.Goal(presence <= 250*time.Millisecond))
		result += fmt.Sprintf(" %s_p99_ms=%.1f %s_events_per_s=%.0f %s_presence_p99_ms=%.1f", name, float64(p99.Microseconds())/1000, name, rate,
			name, float64(presence.Microseconds())/1000)
	}
	fmt.Println(result)
	return nil
}

func openDB(name string) (*store.DB, func(), error) {
	if name == "sqlite" {
		dir, err := os.MkdirTemp("", "bench-access-")
		if err != nil {
			return nil, nil, err
		}
		db, err := store.Open(context.Background(), store.Config{DataDir: filepath.Join(dir, "sqlite")})
		if err != nil {
			return nil, nil, err
		}
		return db, func() { db.Close(); os.RemoveAll(dir) }, nil
	}
	if !testpg.Available() {
		return nil, nil, fmt.Errorf("PostgreSQL is not installed (pg_config and initdb, Debian package postgresql)")
	}
	c, err := testpg.Start(testpg.Options{Durable: true})
	if err != nil {
		return nil, nil, err
	}
	dsn, err := c.CreateDatabase("bench_access")
	if err != nil {
		c.Stop()
		return nil, nil, err
	}
	db, err := store.Open(context.Background(), store.Config{DSN: dsn})
	if err != nil {
		c.Stop()
		return nil, nil, err
	}
	return db, func() { db.Close(); c.Stop() }, nil
}

// central seeds the site (zones, readers, people), then delivers a shift
// change's events: online, one at a time per reader from o.readers at
// once; then another shift change's, offline, in batches.
func central(db *store.DB, o options, pub ed25519.PublicKey, key ed25519.PrivateKey, now time.Time) (time.Duration, float64, error) {
	ctx := identity.WithActor(context.Background(), identity.System)
	acc := db.Access()
	ids := map[string]string{}
	for _, z := range zones {
		z := z
		z.ID = ""
		if err := acc.CreateZone(ctx, &z); err != nil {
			return 0, 0, err
		}
		ids[z.Code] = z.ID
	}
	for _, r := range readersOf() {
		for _, z := range zones {
			if z.ID == r.ZoneID {
				r.ZoneID = ids[z.Code]
			}
		}
		if err := acc.CreateReader(ctx, &r); err != nil {
			return 0, 0, err
		}
	}
	for i := range o.people {
		p := site.Person{Badge: badge(i), Name: fmt.Sprintf("Person %d", i), Job: "Opérateur"}
		if err := db.Site().CreatePerson(ctx, &p); err != nil {
			return 0, 0, err
		}
	}
	// One controller for the site's readers, numbering its events on
	// from one shift change to the next.
	d := access.NewDevice(pub)
	decide := func(round int) ([]access.Event, error) {
		pol := policy(o.people, now)
		pol.Version = int64(round)
		b, err := access.Sign(pol, key)
		if err != nil {
			return nil, err
		}
		if err := d.Load(b); err != nil {
			return nil, err
		}
		d.Online = round == 1
		for i, sw := range shiftChange(o.people, now) {
			d.Swipe(sw[0], sw[1], now.Add(time.Duration(round)*time.Hour+time.Duration(i)*time.Second))
		}
		evs := d.Pending()
		last := map[string]int64{}
		for _, ev := range evs {
			last[ev.Reader] = max(last[ev.Reader], ev.Seq)
		}
		d.Ack(last)
		return evs, nil
	}
	// Online: each reader delivers its events one by one, o.readers at
	// once.
	events, err := decide(1)
	if err != nil {
		return 0, 0, err
	}
	byReader := map[string][]access.Event{}
	for _, ev := range events {
		byReader[ev.Reader] = append(byReader[ev.Reader], ev)
	}
	var mu sync.Mutex
	var lat []time.Duration
	var firstErr error
	sem := make(chan struct{}, o.readers)
	var wg sync.WaitGroup
	start := time.Now()
	for _, evs := range byReader {
		wg.Add(1)
		sem <- struct{}{}
		go func(evs []access.Event) {
			defer wg.Done()
			defer func() { <-sem }()
			for _, ev := range evs {
				t := time.Now()
				_, err := acc.Intake(ctx, []access.Event{ev})
				d := time.Since(t)
				mu.Lock()
				lat = append(lat, d)
				if err != nil && firstErr == nil {
					firstErr = err
				}
				mu.Unlock()
			}
		}(evs)
	}
	wg.Wait()
	if firstErr != nil {
		return 0, 0, firstErr
	}
	fmt.Printf("  online: %d events delivered one by one by %d readers at once in %v (%.0f events/s; a shift change needs %d in 15 min, %.1f/s)\n",
		len(lat), o.readers, time.Since(start).Round(time.Millisecond), float64(len(lat))/time.Since(start).Seconds(), len(lat), float64(len(lat))/900)
	// Offline: the next shift change's, delivered in batches.
	events, err = decide(2)
	if err != nil {
		return 0, 0, err
	}
	t := time.Now()
	for i := 0; i < len(events); i += o.batch {
		res, err := acc.Intake(ctx, events[i:min(i+o.batch, len(events))])
		if err != nil {
			return 0, 0, err
		}
		if res.Stored != min(o.batch, len(events)-i) {
			return 0, 0, fmt.Errorf("stored %d of %d", res.Stored, min(o.batch, len(events)-i))
		}
	}
	rate := float64(len(events)) / time.Since(t).Seconds()
	return pct(lat, 0.99), rate, nil
}

// onSite stores a week of shift changes before now, three a day (a third
// of the people a shift: in through the gate and into their building, a
// third of those into the grade B area, out for lunch and back, and out
// at the shift's end), then times who is on site as the PC Sécurité's
// page reads it every ten seconds and a muster at the alarm: its p99 over
// twenty reads.
func onSite(db *store.DB, o options, now time.Time) (time.Duration, error) {
	ctx := identity.WithActor(context.Background(), identity.System)
	guard := identity.WithActor(context.Background(), identity.Actor{UserID: "bench-guard", Name: "PC Sécurité", Roles: []identity.Role{identity.RoleSecurity}})
	seq := map[string]int64{}
	var events []access.Event
	pass := func(reader, badge string, at time.Time) {
		seq[reader]++
		events = append(events, access.Event{Reader: reader, Seq: 1_000_000 + seq[reader], Badge: badge, At: at, Allow: true, Rule: "allowed", Policy: 1})
	}
	const shift = 8 * time.Hour
	start := now.Add(-7 * 24 * time.Hour).Truncate(time.Hour)
	for k := 0; start.Add(time.Duration(k) * shift).Before(now); k++ {
		t0 := start.Add(time.Duration(k) * shift)
		for i := k % 3; i < o.people; i += 3 {
			b, at := badge(i), t0.Add(time.Duration(i%900)*time.Second)
			building := "B30"
			if i%2 == 1 {
				building = "B40"
			}
			end := at.Add(shift)
			pass("R-SITE-in", b, at)
			pass("R-"+building+"-in", b, at.Add(2*time.Minute))
			if i%9 == 0 {
				pass("R-B30-B-in", b, at.Add(5*time.Minute))
				pass("R-B30-B-out", b, at.Add(4*time.Hour))
			}
			pass("R-"+building+"-out", b, at.Add(4*time.Hour+time.Minute))
			pass("R-"+building+"-in", b, at.Add(4*time.Hour+40*time.Minute))
			for _, p := range []struct {
				reader string
				at     time.Time
			}{{"R-" + building + "-out", end.Add(-3 * time.Minute)}, {"R-SITE-out", end}} {
				if p.at.Before(now) {
					pass(p.reader, b, p.at)
				}
			}
		}
	}
	slices.SortFunc(events, func(a, b access.Event) int { return a.At.Compare(b.At) })
	for i := 0; i < len(events); i += o.batch {
		if _, err := db.Access().Intake(ctx, events[i:min(i+o.batch, len(events))]); err != nil {
			return 0, err
		}
	}
	var lat []time.Duration
	var n int
	for range 20 {
		t := time.Now()
		present, err := db.Access().Presence(guard)
		if err != nil {
			return 0, err
		}
		lat = append(lat, time.Since(t))
		n = len(present)
	}
	fmt.Printf("  a week: %d passages of %d people; %d on site now, read in p50 %v\n", len(events), o.people, n, pct(lat, 0.5))
	return pct(lat, 0.99), nil
}
