package demo

import (
	"context"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"galenix/internal/access"
	"galenix/internal/identity"
	"galenix/internal/qualification"
	"galenix/internal/site"
)

// TestAccessDemo: the demo's zones each have a reader in and out; the
// floor's people are on site, in the grade B area of the sterile building,
// but operator3, whose gowning lapsed, whom its airlock refused; no event
// is missing; every staff account is a person with a badge; operator3's
// gowning lapsed and supervisor2's lapses within the month. The week's
// passages and the alarm's muster are TestAccessWeek's.
func TestAccessDemo(t *testing.T) {
	db := loadedSQLite(t)
	ctx := identity.WithActor(context.Background(), identity.System)
	acc := db.Access()
	zones, err := acc.Zones(ctx)
	if err != nil {
		t.Fatal(err)
	}
	readers, err := acc.Readers(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(zones) != len(zonesOf) || len(readers) != 2*len(zones) {
		t.Fatalf("%d zones, %d readers", len(zones), len(readers))
	}
	present, err := acc.Presence(ctx)
	if err != nil {
		t.Fatal(err)
	}
	where := map[string]access.Presence{}
	for _, p := range present {
		where[p.Name] = p
	}
	for _, a := range accounts {
		if a.role != identity.RoleOperator && a.role != identity.RoleSupervisor {
			continue
		}
		p, ok := where[a.name]
		want := "Bâtiment 30, zone B"
		if a.username == lapsedOperator {
			want = "Bâtiment 30"
		}
		if !ok || p.Zone != want || p.AssemblyPoint != "Pelouse est" {
			t.Errorf("%s: %+v, want in %s", a.username, p, want)
		}
	}
	if gaps, err := acc.Gaps(ctx); err != nil || len(gaps) != 0 {
		t.Errorf("gaps: %v %v", gaps, err)
	}
	soon, err := db.Qualifications().Qualifications(ctx, qualification.Filter{ExpiringDays: 60})
	if err != nil || len(soon) != 1 || soon[0].Person != "Claire Dubois" {
		t.Errorf("lapsing within 60 days: %+v %v", soon, err)
	}
}

// TestAccessWeek: the readers' events span the week, its Saturday and
// Sunday included; the staff on site at the load are those of the teams
// on shift then and the floor's demo accounts, and more than those
// accounts alone; the alarm's muster was run and ended, most people
// checked off and a few unaccounted for.
func TestAccessWeek(t *testing.T) {
	db := loadedSQLite(t)
	ctx := identity.WithActor(context.Background(), identity.System)
	acc := db.Access()
	st, err := db.Site().Site(ctx)
	if err != nil {
		t.Fatal(err)
	}
	zone := st.Location()

	rows, err := db.SQL().QueryContext(ctx, `SELECT at FROM access_events WHERE allow`)
	if err != nil {
		t.Fatal(err)
	}
	days := map[string]bool{}
	weekdays := map[time.Weekday]bool{}
	for rows.Next() {
		var at time.Time
		if err := rows.Scan(&at); err != nil {
			t.Fatal(err)
		}
		local := at.In(zone)
		days[local.Format(time.DateOnly)], weekdays[local.Weekday()] = true, true
	}
	if err := rows.Close(); err != nil {
		t.Fatal(err)
	}
	if len(days) < 7 || !weekdays[time.Saturday] || !weekdays[time.Sunday] {
		t.Errorf("events let through on %d days (%v), want 7 at least, a Saturday and a Sunday among them", len(days), slices.Sorted(maps.Keys(days)))
	}

	accounts, err := db.Identity().Accounts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	floor := map[string]bool{} // account id → an operator's or supervisor's
	for _, a := range accounts {
		if slices.Contains(a.Roles, identity.RoleOperator) || slices.Contains(a.Roles, identity.RoleSupervisor) {
			floor[a.ID] = true
		}
	}
	teams, err := db.Site().Teams(ctx)
	if err != nil {
		t.Fatal(err)
	}
	shifts, err := db.Site().Shifts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	shiftOf := map[string]access.Shift{}
	for _, s := range shifts {
		shiftOf[s.ID] = access.Shift{Kind: s.Kind, Start: s.Start, End: s.End}
	}
	teamShift := map[string]access.Shift{}
	for _, tm := range teams {
		teamShift[tm.ID] = shiftOf[tm.ShiftID]
	}
	people, err := db.Site().People(ctx, site.PersonFilter{})
	if err != nil {
		t.Fatal(err)
	}
	byID := map[string]site.Person{}
	for _, p := range people {
		byID[p.ID] = p
	}
	present, err := acc.Presence(ctx)
	if err != nil {
		t.Fatal(err)
	}
	staff := slices.DeleteFunc(slices.Clone(present), func(p access.Presence) bool { return p.Visitor })
	if len(staff) <= len(floor) {
		t.Errorf("%d of the staff on site, want more than the floor's %d demo accounts", len(staff), len(floor))
	}
	// The hosts of the visitors on site are with them (visits.go).
	visits, err := acc.Visits(ctx)
	if err != nil {
		t.Fatal(err)
	}
	hosting := map[string]bool{}
	for _, v := range visits {
		hosting[v.HostID] = hosting[v.HostID] || v.Status == access.VisitOnSite
	}
	// When the load ended: the passages run up to it.
	now := shared.at
	for _, pr := range staff {
		p, ok := byID[pr.PersonID]
		if !ok {
			t.Errorf("on site: %s (%s), no such person", pr.Name, pr.Badge)
			continue
		}
		if !floor[p.AccountID] && !hosting[p.ID] && !teamShift[p.TeamID].On(now, zone) {
			t.Errorf("on site: %s (%s), whose team is not on shift at %v", p.Name, p.Badge, now.In(zone))
		}
	}

	musters, err := acc.Musters(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(musters) != 1 {
		t.Fatalf("%d musters, want 1", len(musters))
	}
	m, err := acc.Muster(ctx, musters[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	checked := len(m.People) - m.Unaccounted()
	if m.EndedAt == nil || m.Unaccounted() < 1 || m.Unaccounted() > 3 || checked < 20 || !m.StartedAt.Before(now) {
		t.Errorf("muster started %v, ended %v: %d people, %d checked off, %d unaccounted; want ended, 20 checked off at least, 1 to 3 unaccounted",
			m.StartedAt, m.EndedAt, len(m.People), checked, m.Unaccounted())
	}
}

// TestStays: whenever the demo loads, each half hour of a week that
// changes the clocks, every shift's people came and went in order, each
// stay over before the next begins, and those still inside at the load
// are on shift then as the readers count it (the floor's demo accounts
// aside, at work whatever their shift); a week holds each shift's days;
// the alarm sounded at 10:17 that day or the day before, at least an
// hour before the load.
func TestStays(t *testing.T) {
	zone, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Fatal(err)
	}
	// The clocks go back an hour at 03:00 on Sunday 25 October 2026.
	from := time.Date(2026, time.October, 21, 0, 0, 0, 0, zone)
	for now := from; now.Before(from.AddDate(0, 0, 7)); now = now.Add(30 * time.Minute) {
		for _, s := range shifts {
			sh := access.Shift{Kind: s.Kind, Start: s.Start, End: s.End}
			// The earliest and latest comers and leavers, the floor's
			// too.
			for _, n := range []int{0, 5, 14, 17, 39, 44} {
				stays, err := staysOf(sh, now, zone, n)
				if err != nil {
					t.Fatal(err)
				}
				// Five weekdays and two weekend days a week, today's
				// shift maybe not begun yet.
				want := 4
				if s.Kind == site.ShiftWeekend {
					want = 1
				}
				if len(stays) < want {
					t.Errorf("%s at %v: %d stays, want %d at least", s.Code, now, len(stays), want)
				}
				checkStays(t, s.Code, stays, now)
				for _, st := range stays {
					// Through the gate within the shift as the readers
					// count it, its margins included.
					if !sh.On(st.arrive, zone) || (!st.leave.IsZero() && !sh.On(st.leave, zone)) {
						t.Errorf("%s at %v: the %d-th person came at %v and left at %v, off shift", s.Code, now, n, st.arrive.In(zone), st.leave.In(zone))
					}
				}
				if k := len(stays) - 1; k >= 0 && (stays[k].leave.IsZero() || stays[k].leave.After(now)) && !sh.On(now, zone) {
					t.Errorf("%s at %v: the %d-th person inside since %v (leaving %v), off shift", s.Code, now, n, stays[k].arrive.In(zone), stays[k].leave.In(zone))
				}
				worked := atWork(slices.Clone(stays), now, n)
				checkStays(t, s.Code+" (floor)", worked, now)
				if k := len(worked) - 1; k < 0 || !worked[k].leave.IsZero() {
					t.Errorf("%s at %v: the floor's %d-th person not at work (%d stays)", s.Code, now, n, len(worked))
				}
			}
		}
		at := musterAt(now, zone)
		day, local := now.In(zone), at.In(zone)
		today, yesterday := day.Format(time.DateOnly), day.AddDate(0, 0, -1).Format(time.DateOnly)
		if d := local.Format(time.DateOnly); local.Hour() != 10 || local.Minute() != 17 || at.After(now.Add(-time.Hour)) || (d != today && d != yesterday) {
			t.Errorf("at %v the alarm sounded at %v", now, at)
		}
	}
}

// checkStays checks stays came in order, each but the last over before
// the next began, none begun after now, and their swipes at each door in
// and out in turn, none after now.
func checkStays(t *testing.T, code string, stays []stay, now time.Time) {
	t.Helper()
	var plan []swipe
	for i, s := range stays {
		if s.arrive.After(now) || (!s.leave.IsZero() && !s.leave.After(s.arrive)) ||
			(i+1 < len(stays) && (s.leave.IsZero() || !s.leave.Before(stays[i+1].arrive))) {
			t.Errorf("%s at %v: stay %d of %d from %v to %v, out of order", code, now, i, len(stays), s.arrive, s.leave)
			return
		}
		plan = append(plan, s.swipes("B1", []string{"R-GATE", "R-B30", "R-B30-B"}, now)...)
	}
	in := map[string]bool{}
	for i, w := range plan {
		door, out := strings.CutSuffix(w.reader, "-out")
		if !out {
			door = strings.TrimSuffix(w.reader, "-in")
		}
		if w.at.After(now) || (i > 0 && w.at.Before(plan[i-1].at)) || in[door] != out {
			t.Errorf("%s at %v: swipe %d of %d, %s at %v, out of order", code, now, i, len(plan), w.reader, w.at)
			return
		}
		in[door] = !out
	}
}
