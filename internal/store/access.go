package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"galenix/internal/access"
	"galenix/internal/audit"
	"galenix/internal/errs"
	"galenix/internal/identity"
	"galenix/internal/qualification"
	"galenix/internal/site"
	"galenix/internal/text"
)

// Site access (internal/access): the zones and their readers, kept by the
// PC Sécurité and the administrators; the policy compiled from them, the
// people, their teams' shifts and their qualifications, for the readers;
// the readers' events, stored once each by (reader, sequence) whenever
// they are delivered, each intake sealed in the audit trail.

// AccessStore reads and writes site access.
type AccessStore struct{ db *DB }

// Access returns the store of site access.
func (db *DB) Access() *AccessStore { return &AccessStore{db: db} }

var (
	zoneTable = table{"access_zones", "access_zone", []string{"code", "name", "kind", "building_id", "grade", "roles", "teams", "on_shift",
		"assembly_point"}}
	readerTable = table{"access_readers", "access_reader", []string{"code", "zone_id", "direction", "door"}}
)

// The audit trail's names of an intake's seal.
const (
	entityAccessIntake = "access_intake"
	fieldAccessSeal    = "events"
)

// MaxAccessBatch bounds the events of one intake.
const MaxAccessBatch = 5000

// maxEventReason bounds an event's reason, as stored: an event whose reason is
// longer is refused.
const maxEventReason = 2000

// mayManageAccess refuses who may not keep the zones and readers: the
// PC Sécurité and the administrators.
func mayManageAccess(a identity.Actor) error {
	if a.IsClient() {
		return errs.E(errs.Forbidden, "identity.refused.security_events")
	}
	return a.Require(identity.PermSecurityEvents)
}

// mayReadAccess refuses who may not read the zones and readers: the
// site's staff.
func mayReadAccess(a identity.Actor) error {
	if a.IsClient() {
		return errs.E(errs.Forbidden, "identity.refused.staff_view")
	}
	return a.Require(identity.PermSiteView)
}

// MayUseReaders refuses who may not read what the readers use (their
// policy, the gaps of their events): a reader's machine token (scope
// access:write), the PC Sécurité, galenix itself.
func MayUseReaders(a identity.Actor) error {
	if a.IsSystem() || a.HasScope(identity.ScopeAccessWrite) || (!a.IsClient() && a.Can(identity.PermSecurityEvents) && !a.IsMachine()) {
		return nil
	}
	return errs.E(errs.Forbidden, "identity.refused")
}

// MayDeliverEvents refuses who may not deliver readers' events: a
// reader's machine token (scope access:write) or galenix itself (its MQTT
// intake), never a person, who could write a passage that did not happen.
func MayDeliverEvents(a identity.Actor) error {
	if a.IsSystem() || a.HasScope(identity.ScopeAccessWrite) {
		return nil
	}
	return errs.E(errs.Forbidden, "identity.refused")
}

func zoneRow(z *access.Zone) row {
	roles := make([]string, len(z.Roles))
	for i, r := range z.Roles {
		roles[i] = string(r)
	}
	return row{"code": z.Code, "name": z.Name, "kind": string(z.Kind), "building_id": nullable(z.BuildingID), "grade": string(z.Grade),
		"roles": strings.Join(roles, ","), "teams": strings.Join(z.Teams, ","), "on_shift": z.OnShift, "assembly_point": z.AssemblyPoint}
}

func readerRow(r *access.Reader) row {
	return row{"code": r.Code, "zone_id": r.ZoneID, "direction": string(r.Direction), "door": r.Door}
}

const zoneCols = `id, code, name, kind, COALESCE(CAST(building_id AS TEXT), ''), grade, roles, teams, on_shift, assembly_point, version`

func scanZone(sc scanner, z *access.Zone) error {
	var kind, grade, roles, teams string
	if err := sc.Scan(&z.ID, &z.Code, &z.Name, &kind, &z.BuildingID, &grade, &roles, &teams, &z.OnShift, &z.AssemblyPoint, &z.Version); err != nil {
		return err
	}
	z.Kind, z.Grade, z.Roles, z.Teams = access.ZoneKind(kind), site.Grade(grade), nil, nil
	for _, r := range strings.Split(roles, ",") {
		if r != "" {
			z.Roles = append(z.Roles, identity.Role(r))
		}
	}
	for _, t := range strings.Split(teams, ",") {
		if t != "" {
			z.Teams = append(z.Teams, t)
		}
	}
	return nil
}

const readerCols = `id, code, zone_id, direction, door, version`

func scanReader(sc scanner, r *access.Reader) error {
	var dir string
	err := sc.Scan(&r.ID, &r.Code, &r.ZoneID, &dir, &r.Door, &r.Version)
	r.Direction = access.Direction(dir)
	return err
}

// Zones lists the zones by code, for the site's staff.
func (s *AccessStore) Zones(ctx context.Context) ([]access.Zone, error) {
	if err := mayReadAccess(actorOf(ctx)); err != nil {
		return nil, err
	}
	return list(ctx, s.db, `SELECT `+zoneCols+` FROM access_zones ORDER BY code`, nil, scanZone)
}

// Zone reads one zone.
func (s *AccessStore) Zone(ctx context.Context, id string) (*access.Zone, error) {
	if err := mayReadAccess(actorOf(ctx)); err != nil {
		return nil, err
	}
	var z access.Zone
	err := s.db.Read(ctx, func(tx *Tx) error { return tx.zone(id, &z) })
	return &z, err
}

func (tx *Tx) zone(id string, z *access.Zone) error {
	return tx.byID(`SELECT `+zoneCols+` FROM access_zones WHERE id = ?`, id, func(sc scanner) error { return scanZone(sc, z) }, "store.no_such_zone")
}

// checkZone checks a zone's references: its building, its teams.
func (tx *Tx) checkZone(z *access.Zone) error {
	if err := z.Validate(); err != nil {
		return err
	}
	if z.BuildingID != "" {
		var b site.Building
		if err := tx.building(z.BuildingID, &b); err != nil {
			return asField(err, "building_id")
		}
	}
	for _, id := range z.Teams {
		var t site.Team
		if err := tx.team(id, &t); err != nil {
			return asField(err, "teams")
		}
	}
	return nil
}

// CreateZone records a zone.
func (s *AccessStore) CreateZone(ctx context.Context, z *access.Zone) error {
	if err := mayManageAccess(actorOf(ctx)); err != nil {
		return err
	}
	return s.db.Write(ctx, "access_zone.create", "", func(tx *Tx) error {
		if err := tx.checkZone(z); err != nil {
			return err
		}
		z.ID = NewID()
		return create(tx, zoneTable, z.ID, z, zoneRow(z))
	})
}

// UpdateZone changes a zone, with a reason, at the version it names: the
// readers' next policy applies it.
func (s *AccessStore) UpdateZone(ctx context.Context, z *access.Zone, reason string) error {
	if err := mayManageAccess(actorOf(ctx)); err != nil {
		return err
	}
	return s.db.Write(ctx, "access_zone.update", reason, func(tx *Tx) error {
		var old access.Zone
		if err := tx.zone(z.ID, &old); err != nil {
			return err
		}
		if err := tx.checkZone(z); err != nil {
			return err
		}
		return update(tx, zoneTable, z.ID, &old, z, zoneRow(z))
	})
}

// Readers lists the readers by code, for the site's staff.
func (s *AccessStore) Readers(ctx context.Context) ([]access.Reader, error) {
	if err := mayReadAccess(actorOf(ctx)); err != nil {
		return nil, err
	}
	return list(ctx, s.db, `SELECT `+readerCols+` FROM access_readers ORDER BY code`, nil, scanReader)
}

// Reader reads one reader.
func (s *AccessStore) Reader(ctx context.Context, id string) (*access.Reader, error) {
	if err := mayReadAccess(actorOf(ctx)); err != nil {
		return nil, err
	}
	var r access.Reader
	err := s.db.Read(ctx, func(tx *Tx) error { return tx.reader(id, &r) })
	return &r, err
}

func (tx *Tx) reader(id string, r *access.Reader) error {
	return tx.byID(`SELECT `+readerCols+` FROM access_readers WHERE id = ?`, id, func(sc scanner) error { return scanReader(sc, r) }, "store.no_such_reader")
}

// CreateReader records a reader at a door of a zone.
func (s *AccessStore) CreateReader(ctx context.Context, r *access.Reader) error {
	if err := mayManageAccess(actorOf(ctx)); err != nil {
		return err
	}
	return s.db.Write(ctx, "access_reader.create", "", func(tx *Tx) error {
		if err := r.Validate(); err != nil {
			return err
		}
		var z access.Zone
		if err := tx.zone(r.ZoneID, &z); err != nil {
			return asField(err, "zone_id")
		}
		r.ID = NewID()
		return create(tx, readerTable, r.ID, r, readerRow(r))
	})
}

// UpdateReader changes a reader, with a reason, at the version it names.
func (s *AccessStore) UpdateReader(ctx context.Context, r *access.Reader, reason string) error {
	if err := mayManageAccess(actorOf(ctx)); err != nil {
		return err
	}
	return s.db.Write(ctx, "access_reader.update", reason, func(tx *Tx) error {
		var old access.Reader
		if err := tx.reader(r.ID, &old); err != nil {
			return err
		}
		if err := r.Validate(); err != nil {
			return err
		}
		var z access.Zone
		if err := tx.zone(r.ZoneID, &z); err != nil {
			return asField(err, "zone_id")
		}
		return update(tx, readerTable, r.ID, &old, r, readerRow(r))
	})
}

// Policy compiles the readers' policy as the site stands: its zones and
// readers, every badge holder with their team's shift, their account's
// roles and the qualifications the doors check. Its version follows the audit
// trail's last sequence number: any change of a rule, a person or a
// qualification makes a newer policy at once.
func (s *AccessStore) Policy(ctx context.Context) (*access.Policy, error) {
	if err := MayUseReaders(actorOf(ctx)); err != nil {
		return nil, err
	}
	var p *access.Policy
	err := s.db.Read(ctx, func(tx *Tx) error {
		var err error
		p, err = tx.accessPolicy()
		return err
	})
	return p, err
}

func (tx *Tx) accessPolicy() (*access.Policy, error) {
	p := &access.Policy{IssuedAt: tx.now, Timezone: tx.siteZone().String(), Online: access.PassbackHard, Offline: access.PassbackSoft,
		TwoPersonWindow: access.DefaultTwoPersonWindow, Zones: []access.Zone{}, Readers: []access.Reader{}, Holders: []access.Holder{}}
	if err := tx.unscoped(func() error {
		return tx.queryRow(`SELECT COALESCE(MAX(seq), 0) + 1 FROM audit_log`).Scan(&p.Version)
	}); err != nil {
		return nil, err
	}
	if err := tx.each(`SELECT `+zoneCols+` FROM access_zones ORDER BY code`, nil, func(sc scanner) error {
		var z access.Zone
		err := scanZone(sc, &z)
		p.Zones = append(p.Zones, z)
		return err
	}); err != nil {
		return nil, err
	}
	if err := tx.each(`SELECT `+readerCols+` FROM access_readers ORDER BY code`, nil, func(sc scanner) error {
		var r access.Reader
		err := scanReader(sc, &r)
		p.Readers = append(p.Readers, r)
		return err
	}); err != nil {
		return nil, err
	}
	at := map[string]int{} // person id → index in holders
	if err := tx.each(`SELECT p.id, p.badge, p.name, COALESCE(CAST(p.team_id AS TEXT), ''), COALESCE(a.roles, ''),
		COALESCE(s.kind, ''), COALESCE(s.start_time, ''), COALESCE(s.end_time, '')
		FROM people p LEFT JOIN accounts a ON a.id = p.account_id AND a.active
		LEFT JOIN teams t ON t.id = p.team_id LEFT JOIN shifts s ON s.id = t.shift_id ORDER BY p.badge`, nil, func(sc scanner) error {
		var h access.Holder
		var roles, kind, start, end string
		if err := sc.Scan(&h.PersonID, &h.Badge, &h.Name, &h.TeamID, &roles, &kind, &start, &end); err != nil {
			return err
		}
		for _, r := range strings.Split(roles, ",") {
			if r != "" {
				h.Roles = append(h.Roles, identity.Role(r))
			}
		}
		if kind != "" {
			h.Shift = &access.Shift{Kind: site.ShiftKind(kind), Start: start, End: end}
		}
		at[h.PersonID] = len(p.Holders)
		p.Holders = append(p.Holders, h)
		return nil
	}); err != nil {
		return nil, err
	}
	qs, err := tx.qualifications(`q.kind IN (?, ?) AND q.status <> ?`, []any{string(qualification.Gowning), string(qualification.Narcotics),
		string(qualification.Recorded)}, 0)
	if err != nil {
		return nil, err
	}
	for _, q := range qs {
		if i, ok := at[q.PersonID]; ok {
			q.Evidence, q.Person, q.RecordedBy, q.GrantedBy = "", "", "", ""
			p.Holders[i].Qualifications = append(p.Holders[i].Qualifications, q)
		}
	}
	// The visitors on site, their badges valid until their expected
	// departure.
	if err := tx.each(`SELECT `+visitCols+visitFrom+` WHERE v.status = ? ORDER BY v.badge`, []any{string(access.VisitOnSite)}, func(sc scanner) error {
		var v access.Visit
		if err := scanVisit(sc, &v, tx.now); err != nil {
			return err
		}
		p.Holders = append(p.Holders, access.Holder{Badge: v.Badge, PersonID: v.ID, Name: v.Visitor, Visitor: true, Until: v.ExpectedUntil, Host: v.Host})
		return nil
	}); err != nil {
		return nil, err
	}
	return access.Compile(p)
}

// each runs a query and calls fn on each row.
func (tx *Tx) each(q string, args []any, fn func(scanner) error) error {
	rows, err := tx.query(q, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := fn(rows); err != nil {
			return err
		}
	}
	return rows.Err()
}

// Intake stores the events readers delivered, each once by (reader,
// sequence), in one transaction sealed in the audit trail by the count
// and digest of those it stored.
func (s *AccessStore) Intake(ctx context.Context, events []access.Event) (*access.IntakeResult, error) {
	if err := MayDeliverEvents(actorOf(ctx)); err != nil {
		return nil, err
	}
	if len(events) > MaxAccessBatch {
		return nil, errs.Field("events", "access.batch_too_large", MaxAccessBatch)
	}
	var res *access.IntakeResult
	err := s.db.Write(ctx, "access_events.append", "", func(tx *Tx) error {
		var err error
		res, err = tx.intake(events)
		return err
	})
	return res, err
}

func (tx *Tx) intake(events []access.Event) (*access.IntakeResult, error) {
	res := &access.IntakeResult{Acked: map[string]int64{}, Gaps: []access.Gap{}}
	// The readers, and the building of each zone they stand at (for the
	// alerts), in one query.
	readers := map[string]access.Reader{}
	buildingOf := map[string]string{}
	if err := tx.each(`SELECT r.id, r.code, r.zone_id, r.direction, r.door, r.version, COALESCE(CAST(z.building_id AS TEXT), '')
		FROM access_readers r JOIN access_zones z ON z.id = r.zone_id`, nil, func(sc scanner) error {
		var r access.Reader
		var dir, building string
		err := sc.Scan(&r.ID, &r.Code, &r.ZoneID, &dir, &r.Door, &r.Version, &building)
		r.Direction = access.Direction(dir)
		readers[r.Code], buildingOf[r.ZoneID] = r, building
		return err
	}); err != nil {
		return nil, err
	}
	badges := map[string]any{}
	var stays []visitStay
	for _, ev := range events {
		badges[ev.Badge] = nil
	}
	if len(badges) > 0 {
		list := make([]any, 0, len(badges))
		for b := range badges {
			list = append(list, b)
		}
		if err := tx.each(`SELECT badge, CAST(id AS TEXT) FROM people WHERE badge IN (?`+strings.Repeat(", ?", len(list)-1)+`)`, list, func(sc scanner) error {
			var b, id string
			err := sc.Scan(&b, &id)
			badges[b] = id
			return err
		}); err != nil {
			return nil, err
		}
		if err := tx.each(`SELECT badge, CAST(id AS TEXT), arrived_at, departed_at FROM visits WHERE arrived_at IS NOT NULL AND badge IN (?`+
			strings.Repeat(", ?", len(list)-1)+`)`, list, func(sc scanner) error {
			var st visitStay
			var departed sql.NullTime
			err := sc.Scan(&st.badge, &st.id, &st.from, &departed)
			st.from, st.until = st.from.UTC(), nullTime(departed)
			stays = append(stays, st)
			return err
		}); err != nil {
			return nil, err
		}
	}
	h := sha256.New()
	touched := map[string]bool{}
	var fresh []access.Seen
	for _, ev := range events {
		r, ok := readers[ev.Reader]
		door := ev.Kind == access.DoorForced || ev.Kind == access.DoorHeld
		var reason string
		if ev.Reason != nil {
			reason = ev.Reason.String()
		}
		if !ok || ev.Seq < 1 || ev.At.IsZero() || (ev.Kind != "" && !door) || (ev.Badge == "") != door || len(ev.Badge) > 64 || len(ev.Rule) > 32 ||
			len(reason) > maxEventReason {
			res.Refused++
			continue
		}
		touched[ev.Reader] = true
		ev.At = ev.At.UTC().Truncate(time.Microsecond)
		person, visit := badges[ev.Badge], visitOf(stays, ev.Badge, ev.At)
		out, err := tx.exec(`INSERT INTO access_events (reader_code, seq, zone_id, direction, badge, person_id, visit_id, at, allow, rule, flagged, offline,
			policy, kind, reason, received_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?) ON CONFLICT (reader_code, seq) DO NOTHING`,
			ev.Reader, ev.Seq, r.ZoneID, string(r.Direction), ev.Badge, person, visit, ev.At, ev.Allow, ev.Rule,
			ev.Flagged, ev.Offline, ev.Policy, ev.Kind, reason, tx.now)
		if err != nil {
			return nil, err
		}
		if n, err := out.RowsAffected(); err != nil {
			return nil, err
		} else if n == 0 {
			res.Duplicates++
			continue
		}
		res.Stored++
		fresh = append(fresh, access.Seen{Event: ev, ZoneID: r.ZoneID, BuildingID: buildingOf[r.ZoneID], Direction: r.Direction})
		h.Write([]byte(ev.Reader + "\x00" + strconv.FormatInt(ev.Seq, 10) + "\x00" + ev.Badge + "\x00" + ev.At.UTC().Format(time.RFC3339Nano) + "\x00" +
			strconv.FormatBool(ev.Allow) + "\x00" + ev.Rule + "\x00" + reason + "\n"))
	}
	for _, code := range slices.Sorted(maps.Keys(touched)) {
		gaps, last, err := tx.readerGaps(code)
		if err != nil {
			return nil, err
		}
		res.Gaps = append(res.Gaps, gaps...)
		res.Acked[code] = last
		if len(gaps) > 0 {
			res.Acked[code] = gaps[0].From - 1
		}
	}
	if res.Stored == 0 {
		return res, nil
	}
	if err := tx.raiseAccessAlerts(fresh, buildingOf); err != nil {
		return nil, err
	}
	res.Seal = "n=" + strconv.Itoa(res.Stored) + " sha256=" + hex.EncodeToString(h.Sum(nil))
	return res, tx.Audit([]audit.Change{{Entity: entityAccessIntake, EntityID: NewID(), Field: fieldAccessSeal, New: res.Seal}}, "")
}

// visitStay is when a visitor held a badge: from their arrival until
// they left (zero: still on site).
type visitStay struct {
	badge, id   string
	from, until time.Time
}

// visitOf is the visit that held a badge at a time, nil for none (a badge
// of the staff, or no visitor's then).
func visitOf(stays []visitStay, badge string, at time.Time) any {
	for _, st := range stays {
		if st.badge == badge && !at.Before(st.from.Add(-time.Minute)) && (st.until.IsZero() || !at.After(st.until)) {
			return st.id
		}
	}
	return nil
}

// readerGaps lists the runs of a reader's sequence numbers not received,
// and the greatest received.
func (tx *Tx) readerGaps(code string) ([]access.Gap, int64, error) {
	var gaps []access.Gap
	err := tx.each(`SELECT seq, prev FROM (SELECT seq, LAG(seq, 1, 0) OVER (ORDER BY seq) AS prev FROM access_events WHERE reader_code = ?) g
		WHERE seq - prev > 1 ORDER BY seq`, []any{code}, func(sc scanner) error {
		var seq, prev int64
		err := sc.Scan(&seq, &prev)
		gaps = append(gaps, access.Gap{Reader: code, From: prev + 1, To: seq - 1})
		return err
	})
	if err != nil {
		return nil, 0, err
	}
	var last int64
	err = tx.queryRow(`SELECT COALESCE(MAX(seq), 0) FROM access_events WHERE reader_code = ?`, code).Scan(&last)
	return gaps, last, err
}

// Gaps lists, for every reader, the runs of its events not received: the
// PC Sécurité's view of what readers still hold or lost.
func (s *AccessStore) Gaps(ctx context.Context) ([]access.Gap, error) {
	if err := MayUseReaders(actorOf(ctx)); err != nil {
		return nil, err
	}
	out := []access.Gap{}
	err := s.db.Read(ctx, func(tx *Tx) error {
		var codes []string
		if err := tx.each(`SELECT DISTINCT reader_code FROM access_events ORDER BY reader_code`, nil, func(sc scanner) error {
			var c string
			err := sc.Scan(&c)
			codes = append(codes, c)
			return err
		}); err != nil {
			return err
		}
		for _, c := range codes {
			g, _, err := tx.readerGaps(c)
			if err != nil {
				return err
			}
			out = append(out, g...)
		}
		return nil
	})
	return out, err
}

var _ access.Service = (*AccessStore)(nil)

// raiseAccessAlerts raises, as security events for the PC Sécurité, the
// alerts the events just stored make with those of the same badges before
// them (access.Alerts); buildingOf is each zone's building.
func (tx *Tx) raiseAccessAlerts(fresh []access.Seen, buildingOf map[string]string) error {
	since := time.Time{}
	badges := map[string]bool{}
	isFresh := map[string]bool{}
	for i := range fresh {
		if since.IsZero() || fresh[i].At.Before(since) {
			since = fresh[i].At
		}
		if fresh[i].Badge != "" {
			badges[fresh[i].Badge] = true
		}
		isFresh[fresh[i].Reader+"\x00"+strconv.FormatInt(fresh[i].Seq, 10)] = true
	}
	var earlier []access.Seen
	if len(badges) > 0 {
		args := []any{since.Add(-access.DenialsWindow)}
		for b := range badges {
			args = append(args, b)
		}
		if err := tx.each(`SELECT reader_code, seq, badge, at, allow, CAST(zone_id AS TEXT), direction, kind FROM access_events
			WHERE at >= ? AND badge IN (?`+strings.Repeat(", ?", len(badges)-1)+`) ORDER BY at`, args, func(sc scanner) error {
			var s access.Seen
			var dir string
			if err := sc.Scan(&s.Reader, &s.Seq, &s.Badge, &s.At, &s.Allow, &s.ZoneID, &dir, &s.Kind); err != nil {
				return err
			}
			if !isFresh[s.Reader+"\x00"+strconv.FormatInt(s.Seq, 10)] {
				s.At, s.Direction, s.BuildingID = s.At.UTC(), access.Direction(dir), buildingOf[s.ZoneID]
				earlier = append(earlier, s)
			}
			return nil
		}); err != nil {
			return err
		}
	}
	for _, a := range access.Alerts(fresh, earlier) {
		if err := tx.raise(a.Kind, a.Badge, "", a.Detail); err != nil {
			return err
		}
	}
	return nil
}

// LastSeqs answers each reader's greatest sequence number received: where
// a controller restarting resumes its numbering.
func (s *AccessStore) LastSeqs(ctx context.Context) (map[string]int64, error) {
	if err := MayUseReaders(actorOf(ctx)); err != nil {
		return nil, err
	}
	out := map[string]int64{}
	err := s.db.Read(ctx, func(tx *Tx) error {
		return tx.each(`SELECT reader_code, MAX(seq) FROM access_events GROUP BY reader_code`, nil, func(sc scanner) error {
			var r string
			var n int64
			err := sc.Scan(&r, &n)
			out[r] = n
			return err
		})
	})
	return out, err
}

// Journal lists the readers' latest events, the latest first: a badge's,
// or the refusals alone, for the PC Sécurité. Each names its door, its
// zone, the person or visitor the badge was, and why the reader decided.
func (s *AccessStore) Journal(ctx context.Context, f access.JournalFilter) ([]access.Record, error) {
	if err := access.MayMuster(actorOf(ctx)); err != nil {
		return nil, err
	}
	if f.Limit <= 0 || f.Limit > access.MaxJournal {
		f.Limit = access.MaxJournal
	}
	q, args := `SELECT e.reader_code, e.seq, COALESCE(r.door, ''), z.name, e.direction, e.badge, COALESCE(p.name, v.visitor, ''), v.id IS NOT NULL,
		e.at, e.allow, e.rule, e.flagged, e.offline, e.kind, e.reason
		FROM access_events e JOIN access_zones z ON z.id = e.zone_id LEFT JOIN access_readers r ON r.code = e.reader_code
		LEFT JOIN people p ON p.id = e.person_id LEFT JOIN visits v ON v.id = e.visit_id WHERE 1 = 1`, []any{}
	if b := strings.TrimSpace(f.Badge); b != "" {
		q, args = q+` AND e.badge = ?`, append(args, b)
	}
	if f.Refused {
		q += ` AND NOT e.allow`
	}
	return list(ctx, s.db, q+` ORDER BY e.at DESC, e.reader_code, e.seq DESC LIMIT `+strconv.Itoa(f.Limit), args, func(sc scanner, r *access.Record) error {
		var dir, reason string
		if err := sc.Scan(&r.Reader, &r.Seq, &r.Door, &r.Zone, &dir, &r.Badge, &r.Name, &r.Visitor, &r.At, &r.Allow, &r.Rule, &r.Flagged, &r.Offline,
			&r.Kind, &reason); err != nil {
			return err
		}
		r.Direction, r.At = access.Direction(dir), r.At.UTC()
		if c, ok := text.ParseCoded(reason); ok {
			r.Reason = &c
		}
		return nil
	})
}
