package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"galenix/internal/errs"
	"galenix/internal/identity"
	"galenix/internal/quality"
)

// DeviationStore implements quality.DeviationService: the deviations,
// opened by the batch record's exceptions or by hand, through their one
// workflow (assessment, QA's approval, investigation with its CAPA
// actions, closure signed by QA, effectiveness check), each step read →
// decided by package quality → written and audited in one command.
type DeviationStore struct{ db *DB }

// Deviations returns the deviations' and CAPA's service.
func (db *DB) Deviations() *DeviationStore { return &DeviationStore{db: db} }

var _ quality.DeviationService = (*DeviationStore)(nil)

// The tables of the workflow; the batch record opens its deviations in
// the same table (step.go, openDeviation).
var (
	devTable = table{"deviations", "deviation", []string{"client_id", "code", "batch_id", "step_id", "title", "status", "opened_at", "source",
		"opened_by", "opened_name", "description", "class", "class_reason", "recurrence_of", "impacts", "assessed_by", "assessed_name",
		"assessed_at", "approved_by", "approved_name", "approved_at", "root_cause", "investigator", "investigator_name", "investigated_at",
		"closed_by", "closed_name", "closed_at", "effectiveness_due", "effective", "effectiveness_note", "checked_by", "checked_name", "checked_at"}}
	actionTable = table{"deviation_actions", "deviation_action", []string{"client_id", "deviation_id", "seq", "preventive", "description",
		"owner_id", "owner_name", "due_on", "done_at", "done_by", "done_name", "evidence"}}
)

func deviationRow(d *quality.Deviation) row {
	impacts, _ := json.Marshal(d.Impacts)
	var effective any
	if d.Effective != nil {
		effective = *d.Effective
	}
	return row{"client_id": d.ClientID, "code": d.Code, "batch_id": nullable(d.BatchID), "step_id": nullable(d.StepID), "title": d.Title,
		"status": string(d.State), "opened_at": d.OpenedAt, "source": d.Source, "opened_by": d.OpenedBy, "opened_name": d.OpenedName,
		"description": d.Description, "class": string(d.Class), "class_reason": d.ClassReason, "recurrence_of": d.RecurrenceOf,
		"impacts": string(impacts), "assessed_by": d.AssessedBy, "assessed_name": d.AssessedName, "assessed_at": d.AssessedAt,
		"approved_by": d.ApprovedBy, "approved_name": d.ApprovedName, "approved_at": d.ApprovedAt, "root_cause": d.RootCause,
		"investigator": d.Investigator, "investigator_name": d.InvestigatorName, "investigated_at": d.InvestigatedAt,
		"closed_by": d.ClosedBy, "closed_name": d.ClosedName, "closed_at": d.ClosedAt, "effectiveness_due": d.EffectivenessDue,
		"effective": effective, "effectiveness_note": d.EffectivenessNote, "checked_by": d.CheckedBy, "checked_name": d.CheckedName,
		"checked_at": d.CheckedAt}
}

func actionRow(clientID, deviationID string, seq int, a *quality.Action) row {
	return row{"client_id": clientID, "deviation_id": deviationID, "seq": seq, "preventive": a.Preventive, "description": a.Description,
		"owner_id": a.OwnerID, "owner_name": a.OwnerName, "due_on": a.Due, "done_at": a.DoneAt, "done_by": a.DoneBy,
		"done_name": a.DoneName, "evidence": a.Evidence}
}

// deviationSelect reads a deviation with its batch's lot.
const deviationSelect = `SELECT d.id, d.client_id, d.code, COALESCE(CAST(d.batch_id AS TEXT), ''), COALESCE(CAST(d.step_id AS TEXT), ''),
	d.title, d.status, d.opened_at, d.source, d.opened_by, d.opened_name, d.description, d.class, d.class_reason, d.recurrence_of,
	d.impacts, d.assessed_by, d.assessed_name, d.assessed_at, d.approved_by, d.approved_name, d.approved_at, d.root_cause,
	d.investigator, d.investigator_name, d.investigated_at, d.closed_by, d.closed_name, d.closed_at, d.effectiveness_due,
	d.effective, d.effectiveness_note, d.checked_by, d.checked_name, d.checked_at, d.version, COALESCE(b.lot, '')
	FROM deviations d LEFT JOIN batches b ON b.id = d.batch_id`

// timeOf turns a nullable time into an optional one, in UTC.
func timeOf(n sql.NullTime) *time.Time {
	if !n.Valid {
		return nil
	}
	t := n.Time.UTC()
	return &t
}

func scanQualityDeviation(sc scanner, d *quality.Deviation) error {
	var impacts string
	var assessed, approved, investigated, closed, due, checked sql.NullTime
	var effective sql.NullBool
	if err := sc.Scan(&d.ID, &d.ClientID, &d.Code, &d.BatchID, &d.StepID, &d.Title, &d.State, &d.OpenedAt, &d.Source, &d.OpenedBy,
		&d.OpenedName, &d.Description, &d.Class, &d.ClassReason, &d.RecurrenceOf, &impacts, &d.AssessedBy, &d.AssessedName, &assessed,
		&d.ApprovedBy, &d.ApprovedName, &approved, &d.RootCause, &d.Investigator, &d.InvestigatorName, &investigated, &d.ClosedBy,
		&d.ClosedName, &closed, &due, &effective, &d.EffectivenessNote, &d.CheckedBy, &d.CheckedName, &checked, &d.Version, &d.BatchLot); err != nil {
		return err
	}
	d.OpenedAt = d.OpenedAt.UTC()
	d.AssessedAt, d.ApprovedAt, d.InvestigatedAt, d.ClosedAt, d.EffectivenessDue, d.CheckedAt =
		timeOf(assessed), timeOf(approved), timeOf(investigated), timeOf(closed), timeOf(due), timeOf(checked)
	if effective.Valid {
		d.Effective = &effective.Bool
	}
	d.Impacts, d.Actions = []quality.Impact{}, []quality.Action{}
	if err := json.Unmarshal([]byte(impacts), &d.Impacts); err != nil {
		return fmt.Errorf("deviation %s: decoding its impacts: %w", d.ID, err)
	}
	return nil
}

const actionCols = `a.id, a.preventive, a.description, a.owner_id, a.owner_name, a.due_on, a.done_at, a.done_by, a.done_name, a.evidence`

func scanAction(sc scanner, a *quality.Action, extra ...any) error {
	var done sql.NullTime
	if err := sc.Scan(append([]any{&a.ID, &a.Preventive, &a.Description, &a.OwnerID, &a.OwnerName, &a.Due, &done, &a.DoneBy, &a.DoneName, &a.Evidence}, extra...)...); err != nil {
		return err
	}
	a.Due, a.DoneAt = a.Due.UTC(), timeOf(done)
	return nil
}

// mayReadDeviations: staff who see production or work on deviations, and
// a client's users, who see their own batches' deviations through
// Deviation.ClientView.
func mayReadDeviations(a identity.Actor) error {
	if a.Can(identity.PermProductionView) || a.Can(identity.PermDeviationWork) {
		return nil
	}
	return errs.E(errs.Forbidden, "identity.refused.production_view")
}

// seen is what the actor may read of a deviation.
func seen(a identity.Actor, d *quality.Deviation, shareCAPA bool) quality.Deviation {
	if a.IsClient() {
		return d.ClientView(shareCAPA)
	}
	return *d
}

// sharesCAPA says whether the client's agreement shares its deviations'
// CAPA with its users (false for staff, who read them whole anyway).
func (tx *Tx) sharesCAPA(clientID string) (bool, error) {
	if !tx.actor.IsClient() {
		return false, nil
	}
	ag, err := tx.agreement(clientID)
	return ag != nil && ag.ShareCAPA, err
}

// Deviations lists the deviations in the actor's scope, newest first.
func (s *DeviationStore) Deviations(ctx context.Context, f quality.DeviationFilter) ([]quality.Deviation, error) {
	a := actorOf(ctx)
	if err := mayReadDeviations(a); err != nil {
		return nil, err
	}
	cond, args := inScope("d.client_id", a.ClientScope())
	q, args := andIDFilters(deviationSelect+` WHERE `+cond, args, "d.batch_id", f.BatchID)
	if len(f.States) > 0 {
		q += ` AND d.status IN (?` + strings.Repeat(", ?", len(f.States)-1) + `)`
		for _, st := range f.States {
			args = append(args, string(st))
		}
	}
	if f.Class != "" {
		q += ` AND d.class = ?`
		args = append(args, string(f.Class))
	}
	if f.OlderThan > 0 {
		q += ` AND d.opened_at < ?`
		args = append(args, s.db.Now().UTC().AddDate(0, 0, -f.OlderThan))
	}
	q += ` ORDER BY d.opened_at DESC, d.code DESC`
	if f.Limit > 0 {
		q += ` LIMIT ? OFFSET ?`
		args = append(args, f.Limit, max(f.Offset, 0))
	}
	out, err := list(ctx, s.db, q, args, scanQualityDeviation)
	// A client's list: its deviations without their actions, which its
	// agreement may share on each deviation's own page.
	for i := range out {
		out[i] = seen(a, &out[i], false)
	}
	return out, err
}

// Deviation returns one deviation with its actions.
func (s *DeviationStore) Deviation(ctx context.Context, id string) (*quality.Deviation, error) {
	a := actorOf(ctx)
	if err := mayReadDeviations(a); err != nil {
		return nil, refusalOr(err, errNoDeviation())
	}
	var v quality.Deviation
	err := s.db.Read(ctx, func(tx *Tx) error {
		d, err := tx.deviation(id)
		if err != nil {
			return err
		}
		share, err := tx.sharesCAPA(d.ClientID)
		v = seen(a, d, share)
		return err
	})
	if err != nil {
		return nil, err
	}
	return &v, nil
}

func errNoDeviation() error { return errs.E(errs.NotFound, "store.no_such_deviation") }

// deviation reads a deviation in the actor's scope, with its actions.
func (tx *Tx) deviation(id string) (*quality.Deviation, error) {
	var d quality.Deviation
	cond, args := inScope("d.client_id", tx.actor.ClientScope())
	if err := tx.byID(deviationSelect+` WHERE d.id = ? AND `+cond, id, func(sc scanner) error { return scanQualityDeviation(sc, &d) },
		"store.no_such_deviation", args...); err != nil {
		return nil, err
	}
	acts, err := collect(tx, `SELECT `+actionCols+` FROM deviation_actions a WHERE a.deviation_id = ? ORDER BY a.seq`, []any{d.ID},
		func(sc scanner, a *quality.Action) error { return scanAction(sc, a) })
	d.Actions = acts
	return &d, err
}

// Actions lists the CAPA actions, by due date: those who work on
// deviations see all of their scope; other staff their own. A client's
// users see none.
func (s *DeviationStore) Actions(ctx context.Context, f quality.ActionFilter) ([]quality.ActionItem, error) {
	a := actorOf(ctx)
	if a.IsClient() || !isStaff(a) {
		return nil, errs.E(errs.Forbidden, "identity.refused.deviation_work")
	}
	cond, args := inScope("a.client_id", a.ClientScope())
	q := `SELECT ` + actionCols + `, a.client_id, a.deviation_id, d.code, COALESCE(b.lot, '') FROM deviation_actions a
		JOIN deviations d ON d.id = a.deviation_id LEFT JOIN batches b ON b.id = d.batch_id WHERE ` + cond
	if f.Mine || !a.Can(identity.PermDeviationWork) {
		q += ` AND a.owner_id = ?`
		args = append(args, a.UserID)
	}
	if f.Open {
		q += ` AND a.done_at IS NULL`
	}
	now := s.db.Now()
	out, err := list(ctx, s.db, q+` ORDER BY a.due_on, d.code, a.seq`, args, func(sc scanner, it *quality.ActionItem) error {
		if err := scanAction(sc, &it.Action, &it.ClientID, &it.DeviationID, &it.DeviationCode, &it.Lot); err != nil {
			return err
		}
		it.Overdue = it.Action.Overdue(now)
		return nil
	})
	return out, err
}

// Owners lists the site's staff an action may be given to.
func (s *DeviationStore) Owners(ctx context.Context) ([]quality.Owner, error) {
	if err := actorOf(ctx).Require(identity.PermDeviationWork); err != nil {
		return nil, err
	}
	return list(ctx, s.db, `SELECT id, name FROM accounts WHERE client_id IS NULL AND active = ? AND username <> ? ORDER BY name`,
		[]any{true, identity.System.Username}, func(sc scanner, o *quality.Owner) error { return sc.Scan(&o.ID, &o.Name) })
}
