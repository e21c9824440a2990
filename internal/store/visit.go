package store

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"galenix/internal/access"
	"galenix/internal/audit"
	"galenix/internal/errs"
	"galenix/internal/identity"
	"galenix/internal/site"
)

// Visitors (access.Visit): registered by their host, a person of the
// staff, who sees their own; welcomed at the gate by the PC Sécurité, who
// sees them all, hands the badge and takes it back. A visitor on site is
// a holder of the readers' policy until they leave; one past their
// expected departure raises an alert, once.

var visitTable = table{"visits", "visit", []string{"visitor", "company", "purpose", "host_id", "expected_at", "expected_until", "status", "badge",
	"arrived_at", "departed_at"}}

// The audit trail's name of the overdue alert raised for a visit.
const fieldVisitOverdue = "overdue"

// VisitsKept is how long visits over or cancelled stay in the list.
const VisitsKept = 7 * 24 * time.Hour

func visitRow(v *access.Visit) row {
	var arrived, departed any
	if v.ArrivedAt != nil {
		arrived = v.ArrivedAt.UTC()
	}
	if v.DepartedAt != nil {
		departed = v.DepartedAt.UTC()
	}
	return row{"visitor": v.Visitor, "company": v.Company, "purpose": v.Purpose, "host_id": v.HostID, "expected_at": v.ExpectedAt.UTC(),
		"expected_until": v.ExpectedUntil.UTC(), "status": string(v.Status), "badge": v.Badge, "arrived_at": arrived, "departed_at": departed}
}

const visitCols = `v.id, v.visitor, v.company, v.purpose, CAST(v.host_id AS TEXT), h.name, v.expected_at, v.expected_until, v.status, v.badge,
	v.arrived_at, v.departed_at, v.version`

const visitFrom = ` FROM visits v JOIN people h ON h.id = v.host_id`

// scanVisit reads a visit; overdue as of now.
func scanVisit(sc scanner, v *access.Visit, now time.Time) error {
	var status string
	var arrived, departed sql.NullTime
	if err := sc.Scan(&v.ID, &v.Visitor, &v.Company, &v.Purpose, &v.HostID, &v.Host, &v.ExpectedAt, &v.ExpectedUntil, &status, &v.Badge,
		&arrived, &departed, &v.Version); err != nil {
		return err
	}
	v.Status, v.ExpectedAt, v.ExpectedUntil = access.VisitStatus(status), v.ExpectedAt.UTC(), v.ExpectedUntil.UTC()
	if arrived.Valid {
		t := arrived.Time.UTC()
		v.ArrivedAt = &t
	}
	if departed.Valid {
		t := departed.Time.UTC()
		v.DepartedAt = &t
	}
	v.Overdue = v.IsOverdue(now)
	return nil
}

// actorPerson is the person of the staff the acting account is, "" for
// none.
func (tx *Tx) actorPerson() (string, error) {
	var id string
	err := tx.queryRow(`SELECT CAST(id AS TEXT) FROM people WHERE account_id = ?`, tx.actor.UserID).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	return id, err
}

// Visits lists the visits expected, under way, and those over or
// cancelled in the last VisitsKept: every one for the PC Sécurité, a
// host's own for the others. By expected arrival.
func (s *AccessStore) Visits(ctx context.Context) ([]access.Visit, error) {
	a := actorOf(ctx)
	if err := access.MayHost(a); err != nil {
		return nil, err
	}
	out := []access.Visit{}
	err := s.db.Read(ctx, func(tx *Tx) error {
		q, args := `SELECT `+visitCols+visitFrom+` WHERE (v.status IN (?, ?) OR v.expected_until >= ?)`,
			[]any{string(access.VisitExpected), string(access.VisitOnSite), tx.now.Add(-VisitsKept)}
		if access.MayGate(a) != nil {
			me, err := tx.actorPerson()
			if err != nil || me == "" {
				return err
			}
			q, args = q+` AND v.host_id = ?`, append(args, me)
		}
		return tx.each(q+` ORDER BY v.expected_at, v.visitor`, args, func(sc scanner) error {
			var v access.Visit
			err := scanVisit(sc, &v, tx.now)
			out = append(out, v)
			return err
		})
	})
	return out, err
}

// Visit reads one visit: its host's or the PC Sécurité's; to anyone else
// it does not exist.
func (s *AccessStore) Visit(ctx context.Context, id string) (*access.Visit, error) {
	if err := access.MayHost(actorOf(ctx)); err != nil {
		return nil, err
	}
	var v access.Visit
	err := s.db.Read(ctx, func(tx *Tx) error { return tx.visitSeen(id, &v) })
	return &v, err
}

// visit reads a visit, whoever acts.
func (tx *Tx) visit(id string, v *access.Visit) error {
	return tx.byID(`SELECT `+visitCols+visitFrom+` WHERE v.id = ?`, id, func(sc scanner) error { return scanVisit(sc, v, tx.now) }, "store.no_such_visit")
}

// visitSeen reads a visit the acting account may see: the PC Sécurité's
// every one, a host their own; another's is not found.
func (tx *Tx) visitSeen(id string, v *access.Visit) error {
	if err := tx.visit(id, v); err != nil {
		return err
	}
	if access.MayGate(tx.actor) == nil {
		return nil
	}
	me, err := tx.actorPerson()
	if err != nil {
		return err
	}
	if me == "" || me != v.HostID {
		return errs.E(errs.NotFound, "store.no_such_visit")
	}
	return nil
}

// checkHost fills and checks a visit's host: the acting person unless the
// PC Sécurité names another; a person of the staff.
func (tx *Tx) checkHost(v *access.Visit) error {
	if access.MayGate(tx.actor) != nil {
		me, err := tx.actorPerson()
		if err != nil {
			return err
		}
		if me == "" {
			return errs.Field("host_id", "visit.no_person")
		}
		if v.HostID != "" && v.HostID != me {
			return errs.Field("host_id", "visit.not_host")
		}
		v.HostID = me
	}
	if v.HostID == "" {
		return errs.Field("host_id", "visit.host")
	}
	var p site.Person
	if err := tx.person(v.HostID, &p); err != nil {
		return errs.Field("host_id", "visit.host_not_staff")
	}
	v.Host = p.Name
	return nil
}

// CreateVisit pre-registers a visit: a person of the staff as host (their
// own, or anyone's by the PC Sécurité).
func (s *AccessStore) CreateVisit(ctx context.Context, v *access.Visit) error {
	if err := access.MayHost(actorOf(ctx)); err != nil {
		return err
	}
	return s.db.Write(ctx, "visit.create", "", func(tx *Tx) error {
		v.Status, v.Badge, v.ArrivedAt, v.DepartedAt, v.Overdue = "", "", nil, nil, false
		if err := tx.checkHost(v); err != nil {
			return err
		}
		if err := v.Validate(tx.now); err != nil {
			return err
		}
		v.Status, v.ID = access.VisitExpected, NewID()
		return create(tx, visitTable, v.ID, v, visitRow(v))
	})
}

// UpdateVisit changes a visit expected or under way (extends a stay),
// with a reason, at the version it names: its host or the PC Sécurité.
func (s *AccessStore) UpdateVisit(ctx context.Context, v *access.Visit, reason string) error {
	if err := access.MayHost(actorOf(ctx)); err != nil {
		return err
	}
	return s.db.Write(ctx, "visit.update", reason, func(tx *Tx) error {
		var old access.Visit
		if err := tx.visitMine(v.ID, &old); err != nil {
			return err
		}
		if err := tx.checkHost(v); err != nil {
			return err
		}
		if err := old.Update(v, tx.now); err != nil {
			return err
		}
		if err := update(tx, visitTable, v.ID, &old, v, visitRow(v)); err != nil {
			return err
		}
		v.Overdue = v.IsOverdue(tx.now)
		if v.ExpectedUntil.Equal(old.ExpectedUntil) {
			return nil
		}
		// A new departure: overdue again past it, alerted again.
		_, err := tx.exec(`UPDATE visits SET overdue_raised_at = NULL WHERE id = ?`, v.ID)
		return err
	})
}

// visitMine reads a visit the acting account may change: its host's or
// the PC Sécurité's.
func (tx *Tx) visitMine(id string, v *access.Visit) error {
	if err := tx.visitSeen(id, v); err != nil {
		return err
	}
	me, err := tx.actorPerson()
	if err != nil {
		return err
	}
	return v.MayChange(tx.actor, me)
}

// ArriveVisit hands a visitor their badge at the gate (the PC Sécurité):
// a badge no person of the staff holds and no visitor on site carries.
// From then the readers' policy lets the badge in.
func (s *AccessStore) ArriveVisit(ctx context.Context, id, badge string) (*access.Visit, error) {
	if err := access.MayGate(actorOf(ctx)); err != nil {
		return nil, err
	}
	var v access.Visit
	err := s.db.Write(ctx, "visit.arrive", "", func(tx *Tx) error {
		return tx.moveVisit(id, &v, func(v *access.Visit) error {
			if err := v.Arrive(badge, tx.now, tx.siteZone()); err != nil {
				return err
			}
			var n int
			if err := tx.queryRow(`SELECT (SELECT COUNT(*) FROM people WHERE badge = ?) + (SELECT COUNT(*) FROM visits WHERE badge = ? AND status = ?)`,
				v.Badge, v.Badge, string(access.VisitOnSite)).Scan(&n); err != nil {
				return err
			}
			if n > 0 {
				return &errs.Error{Code: errs.Conflict, Field: "badge", Key: "visit.badge_taken", Args: []any{v.Badge}}
			}
			return nil
		})
	})
	return &v, err
}

// DepartVisit takes a visitor's badge back (the PC Sécurité): the visit is
// over and the readers refuse the badge from the next policy.
func (s *AccessStore) DepartVisit(ctx context.Context, id string) (*access.Visit, error) {
	if err := access.MayGate(actorOf(ctx)); err != nil {
		return nil, err
	}
	var v access.Visit
	err := s.db.Write(ctx, "visit.depart", "", func(tx *Tx) error {
		return tx.moveVisit(id, &v, func(v *access.Visit) error { return v.Depart(tx.now) })
	})
	return &v, err
}

// CancelVisit calls off a visit not begun, with a reason: its host or the
// PC Sécurité.
func (s *AccessStore) CancelVisit(ctx context.Context, id, reason string) (*access.Visit, error) {
	if err := access.MayHost(actorOf(ctx)); err != nil {
		return nil, err
	}
	reason, err := access.CheckReason(reason)
	if err != nil {
		return nil, err
	}
	var v access.Visit
	err = s.db.Write(ctx, "visit.cancel", reason, func(tx *Tx) error {
		return tx.moveVisit(id, &v, func(v *access.Visit) error {
			me, err := tx.actorPerson()
			if err != nil {
				return err
			}
			if err := v.MayChange(tx.actor, me); err != nil {
				return err
			}
			return v.Cancel()
		})
	})
	return &v, err
}

// moveVisit applies a step of a visit's life to the visit read at its
// version, and audits what changed.
func (tx *Tx) moveVisit(id string, v *access.Visit, step func(*access.Visit) error) error {
	if err := tx.visitSeen(id, v); err != nil {
		return err
	}
	old := *v
	if err := step(v); err != nil {
		return err
	}
	r := visitRow(v)
	if err := tx.updateAtVersion("visits", "status = ?, badge = ?, arrived_at = ?, departed_at = ?", []any{r["status"], r["badge"], r["arrived_at"],
		r["departed_at"]}, v.ID, v.Version); err != nil {
		return err
	}
	v.Version++
	v.Overdue = v.IsOverdue(tx.now)
	return tx.Audit(audit.Diff(visitTable.entity, v.ID, old.AuditFields(), v.AuditFields()), "")
}

// RaiseOverdueVisits raises to the PC Sécurité, once per visit, the
// visitors on site past their expected departure: galenix's own periodic
// work. It answers how many it raised.
func (s *AccessStore) RaiseOverdueVisits(ctx context.Context) (int, error) {
	if err := actorOf(ctx).RequireSystem(); err != nil {
		return 0, err
	}
	// Read first: most minutes none is due, and the periodic work then
	// takes no write lock at all.
	var due []access.Visit
	if err := s.db.Read(ctx, func(tx *Tx) error {
		var err error
		due, err = tx.overdueVisits()
		return err
	}); err != nil || len(due) == 0 {
		return 0, err
	}
	n := 0
	err := s.db.Write(ctx, "visit.overdue", "", func(tx *Tx) error {
		due, err := tx.overdueVisits()
		if err != nil {
			return err
		}
		for _, v := range due {
			if _, err := tx.exec(`UPDATE visits SET overdue_raised_at = ? WHERE id = ?`, tx.now, v.ID); err != nil {
				return err
			}
			if err := tx.raise(identity.EventAccessVisitorOverdue, v.Badge, "", "badge="+v.Badge+" visit="+v.ID+" until="+
				v.ExpectedUntil.UTC().Format(time.RFC3339)); err != nil {
				return err
			}
			if err := tx.Audit([]audit.Change{{Entity: visitTable.entity, EntityID: v.ID, Field: fieldVisitOverdue, New: v.ExpectedUntil.UTC().Format(time.RFC3339)}}, ""); err != nil {
				return err
			}
			n++
		}
		return nil
	})
	return n, err
}

// overdueVisits are the visitors on site past their expected departure
// not raised yet.
func (tx *Tx) overdueVisits() ([]access.Visit, error) {
	var due []access.Visit
	err := tx.each(`SELECT `+visitCols+visitFrom+` WHERE v.status = ? AND v.expected_until < ? AND v.overdue_raised_at IS NULL`,
		[]any{string(access.VisitOnSite), tx.now}, func(sc scanner) error {
			var v access.Visit
			err := scanVisit(sc, &v, tx.now)
			due = append(due, v)
			return err
		})
	return due, err
}
