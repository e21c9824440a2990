package store

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"time"

	"galenix/internal/audit"
	"galenix/internal/errs"
	"galenix/internal/esign"
	"galenix/internal/identity"
	"galenix/internal/outbox"
	"galenix/internal/production"
	"galenix/internal/quality"
)

// The quality agreements with the client laboratories and the obligations
// they set (quality/agreement.go): a deviation classified major or
// critical on a client's batches starts the countdown of its notification
// (AssessDeviation), the notification starts the summary's; the leading
// node escalates what is late (EscalateObligations).

// AgreementStore reads and writes the quality agreements.
type AgreementStore struct{ db *DB }

// Agreements returns the store of the quality agreements.
func (db *DB) Agreements() *AgreementStore { return &AgreementStore{db: db} }

var (
	agreementTable = table{"quality_agreements", "quality_agreement", []string{"client_id", "reference", "notify_major_hours",
		"notify_critical_hours", "summary_working_days", "client_approves_masters", "client_approves_major_closure", "share_capa", "batch_documents", "notify_to", "updated_at"}}
	obligationTable = table{"quality_obligations", "quality_obligation", []string{"client_id", "deviation_id", "kind", "from_at", "due_at",
		"done_at", "message", "escalated_at"}}
)

// agreementRecord is an agreement with its row's id, as stored.
type agreementRecord struct {
	id string
	quality.Agreement
}

func agreementRow(ag *quality.Agreement) row {
	docs := make([]string, len(ag.BatchDocuments))
	for i, d := range ag.BatchDocuments {
		docs[i] = string(d)
	}
	return row{"client_id": ag.ClientID, "reference": ag.Reference, "notify_major_hours": ag.NotifyMajorHours,
		"notify_critical_hours": ag.NotifyCriticalHours, "summary_working_days": ag.SummaryWorkingDays,
		"client_approves_masters": ag.ClientApprovesMasters, "client_approves_major_closure": ag.ClientApprovesMajorClosure, "share_capa": ag.ShareCAPA,
		"batch_documents": strings.Join(docs, ","), "notify_to": strings.Join(ag.NotifyTo, ","), "updated_at": ag.UpdatedAt}
}

const agreementCols = `id, client_id, reference, notify_major_hours, notify_critical_hours, summary_working_days,
	client_approves_masters, client_approves_major_closure, share_capa, batch_documents, notify_to, updated_at, version`

func scanAgreement(sc scanner, r *agreementRecord) error {
	var docs, to string
	if err := sc.Scan(&r.id, &r.ClientID, &r.Reference, &r.NotifyMajorHours, &r.NotifyCriticalHours, &r.SummaryWorkingDays,
		&r.ClientApprovesMasters, &r.ClientApprovesMajorClosure, &r.ShareCAPA, &docs, &to, &r.UpdatedAt, &r.Version); err != nil {
		return err
	}
	r.UpdatedAt = r.UpdatedAt.UTC()
	r.BatchDocuments = []quality.BatchDocument{}
	for _, d := range strings.Split(docs, ",") {
		if d != "" {
			r.BatchDocuments = append(r.BatchDocuments, quality.BatchDocument(d))
		}
	}
	r.NotifyTo = []string{}
	for _, a := range strings.Split(to, ",") {
		if a != "" {
			r.NotifyTo = append(r.NotifyTo, a)
		}
	}
	return nil
}

// agreement reads the agreement of a client, nil when it has none. The
// caller checks the client is in the actor's scope.
func (tx *Tx) agreement(clientID string) (*agreementRecord, error) {
	var r agreementRecord
	err := scanAgreement(tx.queryRow(`SELECT `+agreementCols+` FROM quality_agreements WHERE client_id = ?`, clientID), &r)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return &r, nil
}

// Agreement reads a client's quality agreement: for the client's own users
// and the staff whose scope holds it. A client without one is not found.
func (s *AgreementStore) Agreement(ctx context.Context, clientID string) (*quality.Agreement, error) {
	var out *quality.Agreement
	err := s.db.Read(ctx, func(tx *Tx) error {
		if !tx.actor.ClientScope().Has(clientID) || (!tx.actor.IsClient() && !isStaff(tx.actor)) {
			return errs.E(errs.NotFound, "store.no_such_agreement")
		}
		r, err := tx.agreement(clientID)
		if err != nil {
			return err
		}
		if r == nil {
			return errs.E(errs.NotFound, "store.no_such_agreement")
		}
		out = &r.Agreement
		return nil
	})
	return out, err
}

// SetAgreement records a client's quality agreement, or its new terms (at
// the version read, with a reason): quality assurance, for a client in its
// scope. The terms apply to the deviations classified from then on.
func (s *AgreementStore) SetAgreement(ctx context.Context, ag quality.Agreement, reason string) (*quality.Agreement, error) {
	err := s.db.Write(ctx, "quality.agreement.set", reason, func(tx *Tx) error {
		if err := quality.MaySetAgreement(tx.actor); err != nil {
			return err
		}
		if !tx.actor.ClientScope().Has(ag.ClientID) || tx.actor.IsClient() {
			return errs.Field("client_id", "store.no_such_client")
		}
		if err := ag.Validate(); err != nil {
			return err
		}
		ag.UpdatedAt = tx.now
		old, err := tx.agreement(ag.ClientID)
		if err != nil {
			return err
		}
		if old == nil {
			return createClientRecord(tx, agreementTable, NewID(), ag.ClientID, &ag, agreementRow(&ag))
		}
		if err := updateClientRecord(tx, agreementTable, old.id, ag.ClientID, &old.Agreement, &ag, agreementRow(&ag)); err != nil {
			return err
		}
		if ag.Version == old.Version {
			// The same terms: nothing was written.
			ag.UpdatedAt = old.UpdatedAt
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &ag, nil
}

func obligationRow(o *quality.Obligation, message string) row {
	return row{"client_id": o.ClientID, "deviation_id": o.DeviationID, "kind": string(o.Kind), "from_at": o.From, "due_at": o.Due,
		"done_at": o.DoneAt, "message": message, "escalated_at": o.EscalatedAt}
}

const obligationCols = `o.id, o.client_id, o.deviation_id, d.code, o.kind, o.from_at, o.due_at, o.done_at, o.message, o.escalated_at,
	o.version, COALESCE(b.lot, '')`

const obligationFrom = ` FROM quality_obligations o JOIN deviations d ON d.id = o.deviation_id LEFT JOIN batches b ON b.id = d.batch_id`

func scanObligation(sc scanner, o *quality.ObligationItem) error {
	var kind string
	var done, escalated sql.NullTime
	if err := sc.Scan(&o.ID, &o.ClientID, &o.DeviationID, &o.DeviationCode, &kind, &o.From, &o.Due, &done, &o.Message, &escalated,
		&o.Version, &o.Lot); err != nil {
		return err
	}
	o.Kind, o.From, o.Due = quality.ObligationKind(kind), o.From.UTC(), o.Due.UTC()
	if done.Valid {
		t := done.Time.UTC()
		o.DoneAt = &t
	}
	if escalated.Valid {
		t := escalated.Time.UTC()
		o.EscalatedAt = &t
	}
	return nil
}

// Obligations lists the obligations under the agreements, soonest due
// first: the client's own users see theirs, staff those of their scope
// who may read deviations.
func (s *AgreementStore) Obligations(ctx context.Context, f quality.ObligationFilter) ([]quality.ObligationItem, error) {
	var out []quality.ObligationItem
	err := s.db.Read(ctx, func(tx *Tx) error {
		a := tx.actor
		if !a.IsClient() && (!isStaff(a) || mayReadDeviations(a) != nil) {
			return errs.E(errs.Forbidden, "identity.refused.production_view")
		}
		cond, args := inScope("o.client_id", a.ClientScope())
		q := `SELECT ` + obligationCols + obligationFrom + ` WHERE ` + cond
		if f.ClientID != "" {
			q += ` AND o.client_id = ?`
			args = append(args, f.ClientID)
		}
		if f.DeviationID != "" {
			q += ` AND o.deviation_id = ?`
			args = append(args, f.DeviationID)
		}
		if f.Open {
			q += ` AND o.done_at IS NULL`
		}
		var err error
		out, err = collect(tx, q+` ORDER BY o.due_at, o.kind`, args, scanObligation)
		return err
	})
	if out == nil {
		out = []quality.ObligationItem{}
	}
	return out, err
}

// startObligations starts, in the assessment's transaction, the countdown
// of the client's notification that the agreement sets for d's class: once
// per deviation; a later classification as critical brings its deadline
// nearer, never further (the client hears of a deviation once classified
// major, even if reclassified).
func (tx *Tx) startObligations(d *quality.Deviation) error {
	if d.ClientID == "" {
		return nil
	}
	ag, err := tx.agreement(d.ClientID)
	if err != nil || ag == nil {
		return err
	}
	o := quality.NotifyObligation(&ag.Agreement, d, tx.now)
	if o == nil {
		return nil
	}
	var old quality.ObligationItem
	err = scanObligation(tx.queryRow(`SELECT `+obligationCols+obligationFrom+` WHERE o.deviation_id = ? AND o.kind = ?`,
		d.ID, string(quality.ObligeNotify)), &old)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		o.ID = NewID()
		return tx.insertObligation(o)
	case err != nil:
		return err
	case old.DoneAt != nil || !o.Due.Before(old.Due):
		return nil
	}
	next := old.Obligation
	next.Due = o.Due
	return tx.saveObligation(&old.Obligation, &next, old.Message)
}

func (tx *Tx) insertObligation(o *quality.Obligation) error {
	if err := createClientRecord(tx, obligationTable, o.ID, o.ClientID, o, obligationRow(o, "")); err != nil {
		return err
	}
	o.Version = 1
	return nil
}

// saveObligation writes an obligation's new state at the version read,
// and audits the fields that changed. The version is checked in the
// UPDATE itself. Each step is its own justification (the words sent, the
// classification, the deadline passed): no separate reason is asked, as
// for the deviation's steps.
func (tx *Tx) saveObligation(old, o *quality.Obligation, message string) error {
	changes := audit.Diff(obligationTable.entity, o.ID, old.AuditFields(), o.AuditFields())
	if err := tx.updateAtVersion("quality_obligations", `due_at = ?, done_at = ?, message = ?, escalated_at = ?`,
		[]any{o.Due, o.DoneAt, message, o.EscalatedAt}, o.ID, old.Version); err != nil {
		return err
	}
	o.Version = old.Version + 1
	return tx.Audit(changes, o.ClientID)
}

// MeetObligation records that quality assurance sent the client what the
// agreement owes it for a deviation: its notification, or its
// investigation's summary (once investigated). The words go to the
// client's users (the portal, e-mail); a notification starts the
// summary's countdown. version is the obligation's version read.
func (s *AgreementStore) MeetObligation(ctx context.Context, id string, version int, message string) (*quality.ObligationItem, error) {
	var out *quality.ObligationItem
	err := s.db.Write(ctx, "quality.obligation.meet", "", func(tx *Tx) error {
		if err := quality.MayNotifyClient(tx.actor); err != nil {
			return err
		}
		msg, err := quality.CheckNotification("message", message)
		if err != nil {
			return err
		}
		var old quality.ObligationItem
		cond, args := inScope("o.client_id", tx.actor.ClientScope())
		if err := tx.byID(`SELECT `+obligationCols+obligationFrom+` WHERE o.id = ? AND `+cond, id,
			func(sc scanner) error { return scanObligation(sc, &old) }, "store.no_such_obligation", args...); err != nil {
			return err
		}
		if version != 0 && version != old.Version {
			return errs.StaleVersion(version, old.Version)
		}
		d, err := tx.deviation(old.DeviationID)
		if err != nil {
			return err
		}
		o, err := quality.Meet(tx.actor, old.Obligation, d, tx.now)
		if err != nil {
			return err
		}
		if err := tx.saveObligation(&old.Obligation, o, msg); err != nil {
			return err
		}
		out = &quality.ObligationItem{Obligation: *o, Message: msg, Lot: old.Lot}
		if o.Kind == quality.ObligeNotify {
			ag, err := tx.agreement(o.ClientID)
			if err != nil {
				return err
			}
			if ag != nil {
				next := quality.SummaryObligation(&ag.Agreement, d, tx.now)
				next.ID = NewID()
				if err := tx.insertObligation(next); err != nil {
					return err
				}
			}
		}
		tx.enqueue(outbox.ClientNotified, obligationTable.entity, o.ID, o.ClientID,
			map[string]any{"deviation": o.DeviationCode, "deviation_id": o.DeviationID, "kind": string(o.Kind), "lot": old.Lot})
		return nil
	})
	return out, err
}

// EscalateObligations escalates the obligations late at now and not
// escalated yet: once each, recorded and audited, with an outbox event
// that the site's quality assurance and the client's users receive. The
// leading node runs it (app's job quality.obligations).
func (s *AgreementStore) EscalateObligations(ctx context.Context) (int, error) {
	n := 0
	err := s.db.Write(ctx, "quality.obligation.escalate", "", func(tx *Tx) error {
		if err := tx.actor.RequireSystem(); err != nil {
			return err
		}
		late, err := collect(tx, `SELECT `+obligationCols+obligationFrom+
			` WHERE o.done_at IS NULL AND o.escalated_at IS NULL AND o.due_at < ? ORDER BY o.due_at LIMIT 200`,
			[]any{tx.now}, scanObligation)
		if err != nil {
			return err
		}
		for i := range late {
			old := late[i]
			if !old.ToEscalate(tx.now) {
				continue
			}
			o := old.Obligation
			now := tx.now
			o.EscalatedAt = &now
			if err := tx.saveObligation(&old.Obligation, &o, old.Message); err != nil {
				return err
			}
			tx.enqueue(outbox.ObligationEscalated, obligationTable.entity, o.ID, o.ClientID,
				map[string]any{"deviation": o.DeviationCode, "deviation_id": o.DeviationID, "kind": string(o.Kind),
					"due": o.Due.Format(time.RFC3339), "lot": old.Lot})
			n++
		}
		return nil
	})
	return n, err
}

// entityClosure is the closure of a deviation as its client's quality
// assurance approves it, when the agreement asks for it: signed by the
// client's manager (meaning approved) on what the client was told — the
// deviation's code, class and lot, and the investigation's summary sent —
// never the site's internal words.
const entityClosure = "deviation_closure"

// closureFields are what the client's approval of a closure signs. The
// summary must have been sent.
func (tx *Tx) closureFields(d *quality.Deviation) ([]audit.Field, error) {
	var summary string
	err := tx.queryRow(`SELECT message FROM quality_obligations WHERE deviation_id = ? AND kind = ? AND done_at IS NOT NULL`,
		d.ID, string(quality.ObligeSummary)).Scan(&summary)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errs.E(errs.Conflict, "quality.agreement.closure_before_summary", d.Code)
	}
	if err != nil {
		return nil, err
	}
	return []audit.Field{audit.F("code", d.Code), audit.F("class", string(d.Class)), audit.F("lot", d.BatchLot),
		audit.F("summary", summary)}, nil
}

// signableClosure reads a deviation's closure for its client's approval:
// for the client's managers alone.
func signableClosure(tx *Tx, id string) ([]audit.Field, string, error) {
	a := tx.actor
	if !a.IsClient() || !a.Has(identity.RoleClientManager) {
		return nil, "", errNoRecord()
	}
	d, err := tx.deviation(id)
	if err != nil {
		return nil, "", err
	}
	fields, err := tx.closureFields(d)
	return fields, d.ClientID, err
}

// clientApproved checks, before QA closes d, that the client approved
// its closure when the agreement asks for it: a signature (approved) of
// the client on the closure as it stands.
func (tx *Tx) clientApproved(d *quality.Deviation) error {
	ag, err := tx.agreement(d.ClientID)
	if err != nil || ag == nil || !ag.ClientApprovesClosure(d) {
		return err
	}
	fields, err := tx.closureFields(d)
	if err != nil {
		return err
	}
	if ok, err := tx.clientSigned(entityClosure, d.ID, d.ClientID, fields); ok || err != nil {
		return err
	}
	return errs.E(errs.Conflict, "quality.agreement.client_approval_needed", d.Code)
}

// clientSigned says whether the client gave a signature (approved) on the
// record of the entity as its fields stand now: one on content since
// changed does not count.
func (tx *Tx) clientSigned(entity, id, clientID string, fields []audit.Field) (bool, error) {
	hash := esign.ContentHash(entity, id, fields)
	sigs, err := tx.signaturesOf(entity, id)
	if err != nil {
		return false, err
	}
	for _, s := range sigs {
		if s.Meaning == esign.Approved && s.ContentHash == hash && s.ClientID == clientID {
			return true, nil
		}
	}
	return false, nil
}

// entityMasterClient is a master batch record in review as its client's
// quality assurance approves it, when the agreement asks for it: signed by
// the client's manager (meaning approved) on the master's content, before
// the site's QA approval may take effect.
const entityMasterClient = "master_client"

// signableMasterClient reads a master in review for its client's
// approval: the client's managers alone sign it; the client's users read
// its approval, and so do the site's staff who see masters.
func signableMasterClient(tx *Tx, id string) ([]audit.Field, string, error) {
	a := tx.actor
	if ok, _ := siteMasters(a); !ok || (tx.signing && (!a.IsClient() || !a.Has(identity.RoleClientManager))) {
		return nil, "", errNoRecord()
	}
	var m production.Master
	if err := tx.masterByID(id, &m); err != nil {
		return nil, "", err
	}
	if m.Status != production.MasterInReview {
		return nil, "", errs.E(errs.Conflict, "quality.agreement.master_not_in_review", m.Code, m.Version)
	}
	return m.SignedFields(), m.ClientID, nil
}

// clientApprovedMaster checks, before QA's approval of m takes effect,
// that the client approved it when the agreement asks for it: a signature
// (approved) of the client on the master's content as it stands.
func (tx *Tx) clientApprovedMaster(m *production.Master) error {
	ag, err := tx.agreement(m.ClientID)
	if err != nil || ag == nil || !ag.ClientApprovesMasters {
		return err
	}
	var full production.Master
	if err := tx.masterByID(m.ID, &full); err != nil {
		return err
	}
	if ok, err := tx.clientSigned(entityMasterClient, m.ID, m.ClientID, full.SignedFields()); ok || err != nil {
		return err
	}
	return errs.E(errs.Conflict, "quality.agreement.client_master_approval_needed", m.Code, m.Version)
}
