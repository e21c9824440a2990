package demo

import (
	"crypto/ed25519"
	"crypto/rand"
	"fmt"
	"slices"
	"strings"
	"time"

	"galenix/internal/access"
	"galenix/internal/identity"
	"galenix/internal/site"
	"galenix/internal/store"
)

// The demo's site access: the perimeter, each building, the grade B
// area of the sterile building, the narcotics vault of the warehouse, the
// server room of the offices and the laboratory, each with a reader in
// and a reader out; and the week so far: the 800 staff coming through the
// gate and into their building for each of their shifts, weekend
// included, and leaving at its end, the teams on shift now still inside,
// each decision made by the readers' own logic from the signed policy
// (operator3, whose gowning lapsed, refused at the grade B airlock),
// delivered to galenix; and one alarm, a fire drill, with the PC
// Sécurité's roll call of the people on site then, two of them left
// unaccounted for.

// demoZone is a zone of the demo and the code of its building.
type demoZone struct {
	zone     access.Zone
	building string
}

// zonesOf are the demo's zones.
var zonesOf = []demoZone{
	{access.Zone{Code: "SITE", Name: "Site CENEXIS", Kind: access.Perimeter, AssemblyPoint: "Parking nord"}, ""},
	{access.Zone{Code: "Z-PCS", Name: "PC Sécurité", Kind: access.Building}, "PCS"},
	{access.Zone{Code: "Z-CHA", Name: "Chaufferie", Kind: access.Building, AssemblyPoint: "Parking sud"}, "CHA"},
	{access.Zone{Code: "Z-B25", Name: "Bâtiment 25", Kind: access.Building, AssemblyPoint: "Pelouse ouest"}, "B25"},
	{access.Zone{Code: "Z-B30", Name: "Bâtiment 30", Kind: access.Building, AssemblyPoint: "Pelouse est"}, "B30"},
	{access.Zone{Code: "Z-B30-B", Name: "Bâtiment 30, zone B", Kind: access.CleanArea, Grade: site.GradeB}, "B30"},
	{access.Zone{Code: "Z-B40", Name: "Bâtiment 40", Kind: access.Building, AssemblyPoint: "Pelouse est"}, "B40"},
	{access.Zone{Code: "Z-B70", Name: "Bâtiment 70", Kind: access.Building, AssemblyPoint: "Parking sud"}, "B70"},
	{access.Zone{Code: "Z-B25-LAB", Name: "Laboratoire de contrôle qualité", Kind: access.Laboratory,
		Roles: []identity.Role{identity.RoleLab, identity.RoleQA}}, "B25"},
	{access.Zone{Code: "Z-B70-COFFRE", Name: "Coffre des stupéfiants", Kind: access.Vault}, "B70"},
	{access.Zone{Code: "Z-B90", Name: "Bâtiment 90", Kind: access.Building}, "B90"},
	{access.Zone{Code: "Z-B90-SRV", Name: "Salle serveurs", Kind: access.ServerRoom}, "B90"},
}

// staffBuilding is the building each team code's people work in: its
// prefix.
func staffBuilding(team string) string {
	for i := range len(team) {
		if team[i] == '-' {
			return team[:i]
		}
	}
	return team
}

// accessDemo writes the zones and readers, then the day's passages.
func (l *loader) accessDemo() error {
	acc := l.db.Access()
	byBuilding := map[string]string{} // building code → its building zone's reader code
	for _, dz := range zonesOf {
		z := dz.zone
		if dz.building != "" {
			id, err := l.id(dz.building)
			if err != nil {
				return err
			}
			z.BuildingID = id
		}
		if err := acc.CreateZone(l.ctx, &z); err != nil {
			return fmt.Errorf("zone %s: %w", z.Code, err)
		}
		for _, dir := range []access.Direction{access.In, access.Out} {
			r := access.Reader{Code: "R-" + z.Code[min(2, len(z.Code)):] + "-" + string(dir), ZoneID: z.ID, Direction: dir, Door: z.Name}
			if z.Kind == access.Perimeter {
				r.Code, r.Door = "R-GATE-"+string(dir), "Portail principal"
			}
			if err := acc.CreateReader(l.ctx, &r); err != nil {
				return fmt.Errorf("reader %s: %w", r.Code, err)
			}
		}
		if z.Kind == access.Building {
			byBuilding[dz.building] = "R-" + z.Code[2:] + "-in"
		}
	}
	return l.passages(byBuilding)
}

// passages has the readers decide the week so far: each person of every
// team came through the gate before each of their team's shifts of the
// last seven days, today's included, and into their building, the floor's
// people on into the grade B area of the sterile building, and left once
// their shift ended; the teams on shift now are still inside. The events
// reach galenix in the order they happened, and the alarm of the morning
// sounds between them (muster).
func (l *loader) passages(byBuilding map[string]string) error {
	d, policy, err := l.device()
	if err != nil {
		return err
	}
	zone, err := time.LoadLocation(policy.Timezone)
	if err != nil {
		return err
	}
	teams, err := l.plant.Teams(l.ctx)
	if err != nil {
		return err
	}
	shifts, err := l.plant.Shifts(l.ctx)
	if err != nil {
		return err
	}
	shiftOf := map[string]access.Shift{}
	for _, s := range shifts {
		shiftOf[s.ID] = access.Shift{Kind: s.Kind, Start: s.Start, End: s.End}
	}
	teamByID := map[string]*site.Team{}
	for i := range teams {
		teamByID[teams[i].ID] = &teams[i]
	}
	people, err := l.plant.People(l.ctx, site.PersonFilter{})
	if err != nil {
		return err
	}
	now := l.h.Now()
	var plan []swipe
	for n, p := range people {
		t := teamByID[p.TeamID]
		if t == nil {
			continue
		}
		floor := false
		if p.AccountID != "" {
			role := l.rolesOf(p.AccountID)
			floor = role == identity.RoleOperator || role == identity.RoleSupervisor
		}
		// The doors they go through, outermost first: the gate, their
		// building's, and for the floor's people the grade B area's.
		doors := []string{"R-GATE"}
		if r, ok := byBuilding[staffBuilding(t.Code)]; ok {
			doors = append(doors, strings.TrimSuffix(r, "-in"))
		}
		if floor && staffBuilding(t.Code) == "B30" {
			doors = append(doors, "R-B30-B")
		}
		stays, err := staysOf(shiftOf[t.ShiftID], now, zone, n)
		if err != nil {
			return fmt.Errorf("team %s: %w", t.Code, err)
		}
		if floor {
			stays = atWork(stays, now, n)
		}
		for _, s := range stays {
			plan = append(plan, s.swipes(p.Badge, doors, now)...)
		}
	}
	// The readers decide in the order of time, as the badges came: the
	// device's anti-passback follows each badge in and out.
	slices.SortStableFunc(plan, func(a, b swipe) int { return a.at.Compare(b.at) })
	inside := map[string]bool{} // badge and door → let in and not out since
	for _, s := range plan {
		door, out := strings.CutSuffix(s.reader, "-out")
		if !out {
			door = strings.TrimSuffix(s.reader, "-in")
		}
		k := s.badge + " " + door
		if out && !inside[k] {
			// Refused on the way in (operator3 at the grade B airlock):
			// there is nothing to leave.
			continue
		}
		ev := d.Swipe(s.reader, s.badge, s.at)
		inside[k] = !out && ev.Allow
	}
	return l.deliver(d.Pending(), musterAt(now, zone), now)
}

// stayDays is how many days back, today included, the demo's passages
// begin: the seven days before today and today, so that a whole week and
// its weekend have their shifts whatever the hour the demo loads (just
// after midnight, today has none yet).
const stayDays = 8

// stay is one person's shift on site: when they came through the gate and
// when they went out of it, zero while still inside.
type stay struct {
	arrive, leave time.Time
}

// staysOf are the stays of the n-th person of a team working a shift,
// over the last stayDays days up to now: through the gate from twenty-five
// to eight minutes before the shift begins, out of it from eight to
// twenty-two minutes after it ends, spread over the people, all within
// the half hour either side the readers count as on shift. A shift under
// way leaves them inside; one not yet begun is not there.
func staysOf(sh access.Shift, now time.Time, zone *time.Location, n int) ([]stay, error) {
	start, err := time.Parse("15:04", sh.Start)
	if err != nil {
		return nil, err
	}
	end, err := time.Parse("15:04", sh.End)
	if err != nil {
		return nil, err
	}
	local := now.In(zone)
	var out []stay
	for back := stayDays - 1; back >= 0; back-- {
		day := local.AddDate(0, 0, -back)
		from := time.Date(day.Year(), day.Month(), day.Day(), start.Hour(), start.Minute(), 0, 0, zone)
		to := time.Date(day.Year(), day.Month(), day.Day(), end.Hour(), end.Minute(), 0, 0, zone)
		if !to.After(from) {
			// A night: it ends the next morning.
			to = time.Date(day.Year(), day.Month(), day.Day()+1, end.Hour(), end.Minute(), 0, 0, zone)
		}
		// Whether the shift works that day is the readers' own rule:
		// weekend shifts on Saturday and Sunday, the others Monday to
		// Friday.
		if !sh.On(from, zone) {
			continue
		}
		s := stay{arrive: from.Add(-25*time.Minute + time.Duration(n%18)*time.Minute)}
		if s.arrive.After(now) {
			continue
		}
		if !to.After(now) {
			s.leave = to.Add(8*time.Minute + time.Duration(n%15)*time.Minute)
		}
		out = append(out, s)
	}
	return out, nil
}

// atWork keeps the n-th person, one of the floor's demo accounts, at work
// now whatever their shift, as their batches are under way: come in an
// hour and a quarter ago at most, or staying on if their last shift had
// not let them out by then.
func atWork(stays []stay, now time.Time, n int) []stay {
	arrive := now.Add(-75*time.Minute + time.Duration(n%40)*time.Minute)
	if k := len(stays) - 1; k >= 0 && (stays[k].leave.IsZero() || !stays[k].leave.Before(arrive)) {
		stays[k].leave = time.Time{}
		return stays
	}
	return append(stays, stay{arrive: arrive})
}

// swipe is a badge to show at a reader at a time.
type swipe struct {
	at            time.Time
	reader, badge string
}

// swipes are a stay's badges at the doors, outermost first (codes without
// their direction): in at each door four minutes after the one before;
// out, when they leave, at each from the innermost, three minutes apart,
// the gate last. Those after now have not happened.
func (s stay) swipes(badge string, doors []string, now time.Time) []swipe {
	var out []swipe
	for i, door := range doors {
		out = append(out, swipe{s.arrive.Add(time.Duration(i) * 4 * time.Minute), door + "-in", badge})
	}
	if !s.leave.IsZero() {
		for i := len(doors) - 1; i >= 0; i-- {
			out = append(out, swipe{s.leave.Add(-time.Duration(i) * 3 * time.Minute), doors[i] + "-out", badge})
		}
	}
	return slices.DeleteFunc(out, func(w swipe) bool { return w.at.After(now) })
}

// deliver hands the readers' events to galenix in the order they
// happened, in batches of the intake's bound, each dated when its last
// event was decided: the readers deliver as they go. The muster at the
// alarm comes between the events before it and those after; the load's
// clock is set back to now at the end.
func (l *loader) deliver(events []access.Event, alarm, now time.Time) error {
	defer l.h.Backdate(now)
	cut := slices.IndexFunc(events, func(ev access.Event) bool { return ev.At.After(alarm) })
	if cut < 0 {
		cut = len(events)
	}
	for part, evs := range [][]access.Event{events[:cut], events[cut:]} {
		if part == 1 {
			if err := l.muster(alarm); err != nil {
				return fmt.Errorf("muster: %w", err)
			}
		}
		for batch := range slices.Chunk(evs, store.MaxAccessBatch) {
			if err := l.h.Backdate(batch[len(batch)-1].At); err != nil {
				return err
			}
			res, err := l.db.Access().Intake(l.ctx, batch)
			if err != nil {
				return err
			}
			if res.Refused != 0 {
				return fmt.Errorf("the intake refused %d of %d reader events", res.Refused, len(batch))
			}
		}
	}
	return nil
}

// musterAt is when the demo's alarm sounded: at 10:17, mid-morning, with
// the day's teams on site; today if that was an hour before now at least,
// so that the roll call is over by the load, else the day before.
func musterAt(now time.Time, zone *time.Location) time.Time {
	local := now.In(zone)
	at := time.Date(local.Year(), local.Month(), local.Day(), 10, 17, 0, 0, zone)
	if at.After(now.Add(-time.Hour)) {
		at = time.Date(local.Year(), local.Month(), local.Day()-1, 10, 17, 0, 0, zone)
	}
	return at
}

// The reasons the PC Sécurité typed at the alarm and when it ended.
const (
	musterReason = "Exercice d'évacuation — alarme incendie bâtiment 30, déclenchée depuis le tableau du PC Sécurité."
	musterEnd    = "Fin de l'exercice à l'appel du chef de poste. Deux personnes non pointées au rassemblement, " +
		"retrouvées à leur poste par les serre-files : elles n'avaient pas entendu l'alarme. Consignes rappelées à leur encadrement, signalement HSE fait."
)

// muster is the alarm's roll call, run by the security guard at its time:
// the people on site then, as the readers saw them, checked off at their
// assembly points over twenty minutes but for two, then ended with its
// reason, thirty-five minutes after it began.
func (l *loader) muster(at time.Time) error {
	guard, err := l.person("security")
	if err != nil {
		return err
	}
	ctx := l.h.As(l.ctx, guard)
	acc := l.db.Access()
	if err := l.h.Backdate(at); err != nil {
		return err
	}
	m, err := acc.StartMuster(ctx, musterReason)
	if err != nil {
		return err
	}
	n := len(m.People)
	for i, p := range m.People {
		if n > 2 && (i == n/3 || i == 2*n/3) {
			// Not heard the alarm: unaccounted for.
			continue
		}
		if err := l.h.Backdate(at.Add(3*time.Minute + time.Duration(i)*20*time.Minute/time.Duration(n))); err != nil {
			return err
		}
		if _, err := acc.CheckOff(ctx, m.ID, p.PersonID); err != nil {
			return fmt.Errorf("check-off of %s: %w", p.Badge, err)
		}
	}
	if err := l.h.Backdate(at.Add(35 * time.Minute)); err != nil {
		return err
	}
	_, err = acc.EndMuster(ctx, m.ID, musterEnd)
	return err
}

// device is a controller deciding from the policy as the site stands,
// signed with a key of its own (the demo's readers trust it), numbering
// each reader's events after those galenix holds.
func (l *loader) device() (*access.Device, *access.Policy, error) {
	acc := l.db.Access()
	policy, err := acc.Policy(l.ctx)
	if err != nil {
		return nil, nil, err
	}
	pub, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	b, err := access.Sign(policy, key)
	if err != nil {
		return nil, nil, err
	}
	d := access.NewDevice(pub)
	if err := d.Load(b); err != nil {
		return nil, nil, err
	}
	last, err := acc.LastSeqs(l.ctx)
	if err != nil {
		return nil, nil, err
	}
	d.Resume(last)
	return d, policy, nil
}

// rolesOf is the role of the demo account of an id, "" for none.
func (l *loader) rolesOf(accountID string) identity.Role {
	for _, a := range accounts {
		if id, err := l.id("account:" + a.username); err == nil && id == accountID {
			return a.role
		}
	}
	return ""
}
