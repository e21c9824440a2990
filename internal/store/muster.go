package store

import (
	"context"
	"database/sql"
	"strconv"
	"time"

	"github.com/google/uuid"

	"galenix/internal/access"
	"galenix/internal/audit"
	"galenix/internal/errs"
)

// Presence and musters: who is on site as the readers saw them, and the
// roll call at the alarm.

// presenceWindow is how far back the readers' passages are read to know
// who is on site: a person in for longer is taken as gone (a week covers
// a weekend's shifts and any reasonable stay).
const presenceWindow = 7 * 24 * time.Hour

// Presence lists who is on site now, for the PC Sécurité.
func (s *AccessStore) Presence(ctx context.Context) ([]access.Presence, error) {
	if err := access.MayMuster(actorOf(ctx)); err != nil {
		return nil, err
	}
	var out []access.Presence
	err := s.db.Read(ctx, func(tx *Tx) error {
		var err error
		out, err = tx.presence()
		return err
	})
	return out, err
}

func (tx *Tx) presence() ([]access.Presence, error) {
	var zones []access.Zone
	if err := tx.each(`SELECT `+zoneCols+` FROM access_zones`, nil, func(sc scanner) error {
		var z access.Zone
		err := scanZone(sc, &z)
		zones = append(zones, z)
		return err
	}); err != nil {
		return nil, err
	}
	var passages []access.Passage
	// The staff's passages, and those of the visitors still on site (one
	// who left at the gate is gone, whatever the readers saw). A person's
	// passages before their last exit through the perimeter change
	// nothing of what Present folds them into (the exit forgets them), so
	// each person's are read from that exit on: a few passages a person,
	// not the week's passages of everyone. The exits are sought first,
	// once a person in the index access_events_exits (MATERIALIZED, so
	// that PostgreSQL does not seek them again for each passage). A
	// passage at the very time of the exit is read too, and Present orders
	// it as the journal does.
	from, to := tx.now.Add(-presenceWindow), tx.now
	if err := tx.each(`WITH since AS MATERIALIZED (
			SELECT p.id, p.name, COALESCE((SELECT MAX(x.at) FROM access_events x
				WHERE x.person_id = p.id AND x.direction = ? AND x.allow = TRUE AND x.zone_id IN (SELECT id FROM access_zones WHERE kind = ?)
				AND x.at >= ? AND x.at <= ?), ?) AS at
			FROM people p)
		SELECT CAST(s.id AS TEXT), e.badge, s.name, FALSE, '', CAST(e.zone_id AS TEXT), e.direction, e.reader_code, e.at, e.seq
		FROM since s CROSS JOIN access_events e
		WHERE e.person_id = s.id AND e.at >= s.at AND e.at <= ? AND e.allow
		UNION ALL
		SELECT CAST(v.id AS TEXT), e.badge, v.visitor, TRUE, COALESCE(h.name, ''), CAST(e.zone_id AS TEXT), e.direction, e.reader_code, e.at, e.seq
		FROM visits v CROSS JOIN access_events e LEFT JOIN people h ON h.id = v.host_id
		WHERE v.status = ? AND e.visit_id = v.id AND e.person_id IS NULL AND e.allow AND e.at >= ? AND e.at <= ?
		ORDER BY 9, 8, 10`,
		[]any{string(access.Out), string(access.Perimeter), from, to, from, to, string(access.VisitOnSite), from, to}, func(sc scanner) error {
			var ps access.Passage
			var dir string
			var seq int64
			err := sc.Scan(&ps.PersonID, &ps.Badge, &ps.Name, &ps.Visitor, &ps.Host, &ps.ZoneID, &dir, &ps.Reader, &ps.At, &seq)
			ps.Direction, ps.At = access.Direction(dir), ps.At.UTC()
			passages = append(passages, ps)
			return err
		}); err != nil {
		return nil, err
	}
	return access.Present(passages, zones), nil
}

var musterTable = table{"musters", "muster", []string{"started_at", "started_by", "reason", "ended_at"}}

// musterRecord is a muster's row, for its audit trail.
type musterRecord struct{ m *access.Muster }

func (r musterRecord) AuditFields() []audit.Field {
	var ended string
	if r.m.EndedAt != nil {
		ended = r.m.EndedAt.UTC().Format(time.RFC3339)
	}
	return []audit.Field{audit.F("started_at", r.m.StartedAt.UTC().Format(time.RFC3339)), audit.F("started_by", r.m.StartedBy),
		audit.F("reason", r.m.Reason), audit.F("people", strconv.Itoa(len(r.m.People))), audit.F("ended_at", ended)}
}

// StartMuster begins a roll call: the people on site now, each to check
// off at their assembly point.
func (s *AccessStore) StartMuster(ctx context.Context, reason string) (*access.Muster, error) {
	if err := access.MayMuster(actorOf(ctx)); err != nil {
		return nil, err
	}
	reason, err := access.CheckReason(reason)
	if err != nil {
		return nil, err
	}
	var m *access.Muster
	err = s.db.Write(ctx, "muster.start", "", func(tx *Tx) error {
		present, err := tx.presence()
		if err != nil {
			return err
		}
		m = &access.Muster{ID: NewID(), Version: 1, StartedAt: tx.now, StartedBy: tx.actor.UserID, Reason: reason, People: []access.MusterLine{}}
		if _, err := tx.exec(`INSERT INTO musters (id, started_at, started_by, reason) VALUES (?, ?, ?, ?)`, m.ID, m.StartedAt, m.StartedBy, m.Reason); err != nil {
			return err
		}
		for _, p := range present {
			l := access.MusterLine{PersonID: p.PersonID, Badge: p.Badge, Name: p.Name, Zone: p.Zone, AssemblyPoint: p.AssemblyPoint, LastSeen: p.LastSeen,
				LastReader: p.LastReader, Visitor: p.Visitor, Host: p.Host}
			if _, err := tx.exec(`INSERT INTO muster_people (muster_id, person_id, badge, name, zone, assembly_point, last_seen, last_reader, visitor, host)
				VALUES (?,?,?,?,?,?,?,?,?,?)`,
				m.ID, l.PersonID, l.Badge, l.Name, l.Zone, l.AssemblyPoint, l.LastSeen, l.LastReader, l.Visitor, l.Host); err != nil {
				return err
			}
			m.People = append(m.People, l)
		}
		return tx.Audit(audit.Diff(musterTable.entity, m.ID, nil, musterRecord{m}.AuditFields()), "")
	})
	return m, err
}

// Muster reads a roll call with its people, for the PC Sécurité.
func (s *AccessStore) Muster(ctx context.Context, id string) (*access.Muster, error) {
	if err := access.MayMuster(actorOf(ctx)); err != nil {
		return nil, err
	}
	var m *access.Muster
	err := s.db.Read(ctx, func(tx *Tx) error {
		var err error
		m, err = tx.muster(id)
		return err
	})
	return m, err
}

func (tx *Tx) muster(id string) (*access.Muster, error) {
	return tx.musterWith(id, "")
}

// musterWith reads a roll call with its people, or with one person alone
// when personID is given (a check-off reads no other line).
func (tx *Tx) musterWith(id, personID string) (*access.Muster, error) {
	m := &access.Muster{People: []access.MusterLine{}}
	var ended sql.NullTime
	if err := tx.byID(`SELECT id, started_at, CAST(started_by AS TEXT), reason, ended_at, version FROM musters WHERE id = ?`, id, func(sc scanner) error {
		return sc.Scan(&m.ID, &m.StartedAt, &m.StartedBy, &m.Reason, &ended, &m.Version)
	}, "store.no_such_muster"); err != nil {
		return nil, err
	}
	m.StartedAt = m.StartedAt.UTC()
	if ended.Valid {
		t := ended.Time.UTC()
		m.EndedAt = &t
	}
	q, args := `SELECT CAST(person_id AS TEXT), badge, name, zone, assembly_point, last_seen, last_reader, checked_at, visitor, host FROM muster_people
		WHERE muster_id = ?`, []any{m.ID}
	if personID != "" {
		if _, err := uuid.Parse(personID); err != nil {
			return m, nil
		}
		q, args = q+` AND person_id = ?`, append(args, personID)
	}
	err := tx.each(q+` ORDER BY assembly_point, name, badge`, args, func(sc scanner) error {
		var l access.MusterLine
		var checked sql.NullTime
		if err := sc.Scan(&l.PersonID, &l.Badge, &l.Name, &l.Zone, &l.AssemblyPoint, &l.LastSeen, &l.LastReader, &checked, &l.Visitor, &l.Host); err != nil {
			return err
		}
		l.LastSeen = l.LastSeen.UTC()
		if checked.Valid {
			t := checked.Time.UTC()
			l.CheckedAt = &t
		}
		m.People = append(m.People, l)
		return nil
	})
	return m, err
}

// Musters lists the roll calls, the latest first, without their people.
func (s *AccessStore) Musters(ctx context.Context) ([]access.Muster, error) {
	if err := access.MayMuster(actorOf(ctx)); err != nil {
		return nil, err
	}
	return list(ctx, s.db, `SELECT id, started_at, CAST(started_by AS TEXT), reason, ended_at, version FROM musters ORDER BY started_at DESC LIMIT 50`, nil,
		func(sc scanner, m *access.Muster) error {
			var ended sql.NullTime
			err := sc.Scan(&m.ID, &m.StartedAt, &m.StartedBy, &m.Reason, &ended, &m.Version)
			if ended.Valid {
				t := ended.Time.UTC()
				m.EndedAt = &t
			}
			m.StartedAt, m.People = m.StartedAt.UTC(), []access.MusterLine{}
			return err
		})
}

// CheckOff checks a person off at their assembly point; checking them off
// again changes nothing.
func (s *AccessStore) CheckOff(ctx context.Context, musterID, personID string) (*access.MusterLine, error) {
	if err := access.MayMuster(actorOf(ctx)); err != nil {
		return nil, err
	}
	var out *access.MusterLine
	err := s.db.Write(ctx, "muster.check", "", func(tx *Tx) error {
		m, err := tx.musterWith(musterID, personID)
		if err != nil {
			return err
		}
		var before *time.Time
		for _, l := range m.People {
			before = l.CheckedAt
		}
		l, err := m.CheckOff(personID, tx.now)
		if err != nil {
			return err
		}
		out = l
		if before != nil {
			return nil
		}
		if _, err := tx.exec(`UPDATE muster_people SET checked_at = ?, checked_by = ? WHERE muster_id = ? AND person_id = ?`,
			l.CheckedAt, tx.actor.UserID, musterID, personID); err != nil {
			return err
		}
		return tx.Audit([]audit.Change{{Entity: musterTable.entity, EntityID: musterID, Field: "checked", New: l.Name + " (" + l.Badge + ")"}}, "")
	})
	return out, err
}

// EndMuster ends a roll call, with a reason (everyone accounted for, or
// what became of those who were not).
func (s *AccessStore) EndMuster(ctx context.Context, id, reason string) (*access.Muster, error) {
	if err := access.MayMuster(actorOf(ctx)); err != nil {
		return nil, err
	}
	reason, err := access.CheckReason(reason)
	if err != nil {
		return nil, err
	}
	var m *access.Muster
	err = s.db.Write(ctx, "muster.end", reason, func(tx *Tx) error {
		var err error
		if m, err = tx.muster(id); err != nil {
			return err
		}
		if m.EndedAt != nil {
			return errs.E(errs.Conflict, "access.muster_ended")
		}
		old := *m
		t := tx.now
		m.EndedAt = &t
		if err := tx.updateAtVersion("musters", "ended_at = ?", []any{t}, m.ID, m.Version); err != nil {
			return err
		}
		m.Version++
		return tx.Audit(audit.Diff(musterTable.entity, m.ID, musterRecord{&old}.AuditFields(), musterRecord{m}.AuditFields()), "")
	})
	return m, err
}
