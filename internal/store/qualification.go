package store

import (
	"context"
	"database/sql"
	"strings"
	"time"

	"github.com/google/uuid"

	"galenix/internal/audit"
	"galenix/internal/esign"
	"galenix/internal/production"
	"galenix/internal/qualification"
	"galenix/internal/site"
)

// People's qualifications and training (internal/qualification): recorded
// by a supervisor or quality assurance, granted by quality assurance's
// signature (meaning approved, grantQualification), revoked with a reason;
// read by site staff; checked before the acts they allow (a step of a
// master batch record: Tx.requireQualification).

// QualificationStore reads and writes people's qualifications.
type QualificationStore struct{ db *DB }

// Qualifications returns the store of people's qualifications.
func (db *DB) Qualifications() *QualificationStore { return &QualificationStore{db: db} }

// EntityQualification is the entity the audit trail and signatures give a
// qualification.
const EntityQualification = "qualification"

var qualificationTable = table{"qualifications", EntityQualification, []string{"person_id", "kind", "subject", "master_version",
	"granted_at", "valid_until", "evidence", "status", "recorded_by", "granted_by", "revoked_at", "revoke_reason"}}

func qualificationRow(q *qualification.Qualification) row {
	var revoked any
	if q.RevokedAt != nil {
		revoked = *q.RevokedAt
	}
	return row{"person_id": q.PersonID, "kind": string(q.Kind), "subject": q.Subject, "master_version": q.Version,
		"granted_at": q.GrantedAt, "valid_until": q.ValidUntil, "evidence": q.Evidence, "status": string(q.Status),
		"recorded_by": q.RecordedBy, "granted_by": nullable(q.GrantedBy), "revoked_at": revoked, "revoke_reason": q.RevokeReason}
}

const qualificationSelect = `SELECT q.id, q.person_id, p.name, q.kind, q.subject, q.master_version, q.granted_at, q.valid_until, q.evidence,
	q.status, CAST(q.recorded_by AS TEXT), COALESCE(CAST(q.granted_by AS TEXT), ''), q.revoked_at, q.revoke_reason, q.revision
	FROM qualifications q JOIN people p ON p.id = q.person_id`

func scanQualification(sc scanner, q *qualification.Qualification) error {
	var kind, status string
	var revoked sql.NullTime
	if err := sc.Scan(&q.ID, &q.PersonID, &q.Person, &kind, &q.Subject, &q.Version, &q.GrantedAt, &q.ValidUntil, &q.Evidence,
		&status, &q.RecordedBy, &q.GrantedBy, &revoked, &q.RevokeReason, &q.Revision); err != nil {
		return err
	}
	q.Kind, q.Status = qualification.Kind(kind), qualification.Status(status)
	q.GrantedAt, q.ValidUntil = q.GrantedAt.UTC(), q.ValidUntil.UTC()
	if revoked.Valid {
		t := revoked.Time.UTC()
		q.RevokedAt = &t
	}
	return nil
}

// qualifications lists the qualifications a condition selects, by
// person, kind, subject and start; limit bounds them (0: no bound).
func (tx *Tx) qualifications(cond string, args []any, limit int) ([]qualification.Qualification, error) {
	q := qualificationSelect + ` WHERE ` + cond + ` ORDER BY p.name, q.person_id, q.kind, q.subject, q.master_version, q.granted_at`
	if limit > 0 {
		q += ` LIMIT ?`
		args = append(args, limit)
	}
	rows, err := tx.query(q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []qualification.Qualification{}
	for rows.Next() {
		var q qualification.Qualification
		if err := scanQualification(rows, &q); err != nil {
			return nil, err
		}
		out = append(out, q)
	}
	return out, rows.Err()
}

// qualification reads one qualification.
func (tx *Tx) qualification(id string) (*qualification.Qualification, error) {
	var q qualification.Qualification
	err := tx.byID(qualificationSelect+` WHERE q.id = ?`, id, func(sc scanner) error { return scanQualification(sc, &q) },
		"store.no_such_qualification")
	return &q, err
}

// Qualifications lists the qualifications a filter selects, for site
// staff.
func (s *QualificationStore) Qualifications(ctx context.Context, f qualification.Filter) ([]qualification.Qualification, error) {
	var out []qualification.Qualification
	err := s.db.Read(ctx, func(tx *Tx) error {
		if err := qualification.MayRead(tx.actor); err != nil {
			return err
		}
		conds, args := []string{"1 = 1"}, []any{}
		if f.PersonID != "" {
			if _, err := uuid.Parse(f.PersonID); err != nil {
				out = []qualification.Qualification{}
				return nil
			}
			conds, args = append(conds, "q.person_id = ?"), append(args, f.PersonID)
		}
		if f.Kind != "" {
			conds, args = append(conds, "q.kind = ?"), append(args, string(f.Kind))
		}
		if f.Status != "" {
			conds, args = append(conds, "q.status = ?"), append(args, string(f.Status))
		}
		if f.ExpiringDays > 0 {
			conds = append(conds, "q.status = ?", "q.granted_at <= ?", "q.valid_until > ?", "q.valid_until <= ?")
			args = append(args, string(qualification.Granted), tx.now, tx.now, tx.now.Add(time.Duration(f.ExpiringDays)*24*time.Hour))
		}
		cond, args := andSearch(strings.Join(conds, " AND "), args, f.Query, "p.name", "p.badge")
		var err error
		out, err = tx.qualifications(cond, args, f.Limit)
		return err
	})
	return out, err
}

// Qualification reads one qualification, for site staff.
func (s *QualificationStore) Qualification(ctx context.Context, id string) (*qualification.Qualification, error) {
	var out *qualification.Qualification
	err := s.db.Read(ctx, func(tx *Tx) error {
		if err := qualification.MayRead(tx.actor); err != nil {
			return err
		}
		var err error
		out, err = tx.qualification(id)
		return err
	})
	return out, err
}

// RecordQualification records a person's qualification, as a supervisor
// or quality assurance enters it: it holds nothing until quality assurance
// grants it by signature.
func (s *QualificationStore) RecordQualification(ctx context.Context, q qualification.Qualification) (*qualification.Qualification, error) {
	err := s.db.Write(ctx, "qualification.record", "", func(tx *Tx) error {
		if err := qualification.MayRecord(tx.actor); err != nil {
			return err
		}
		if err := q.Validate(); err != nil {
			return err
		}
		var p site.Person
		if err := tx.person(q.PersonID, &p); err != nil {
			return asField(err, "person_id")
		}
		q.ID, q.Status, q.RecordedBy, q.GrantedBy, q.RevokedAt, q.RevokeReason = NewID(), qualification.Recorded, tx.actor.UserID, "", nil, ""
		q.GrantedAt, q.ValidUntil, q.Person = q.GrantedAt.UTC(), q.ValidUntil.UTC(), p.Name
		return create(tx, qualificationTable, q.ID, &q, qualificationRow(&q))
	})
	if err != nil {
		return nil, err
	}
	return &q, nil
}

// RevokeQualification ends a qualification before its term, at the
// revision read, with quality assurance's reason.
func (s *QualificationStore) RevokeQualification(ctx context.Context, id string, revision int, reason string) (*qualification.Qualification, error) {
	var out *qualification.Qualification
	err := s.db.Write(ctx, "qualification.revoke", strings.TrimSpace(reason), func(tx *Tx) error {
		if err := qualification.MayRead(tx.actor); err != nil {
			return err
		}
		q, err := tx.qualification(id)
		if err != nil {
			return err
		}
		old := *q
		if err := q.Revoke(tx.actor, reason, tx.now); err != nil {
			return err
		}
		q.Revision = revision
		if err := update(tx, qualificationTable, q.ID, &old, q, qualificationRow(q)); err != nil {
			return err
		}
		out = q
		return nil
	})
	return out, err
}

// grantQualification is the reaction to quality assurance's signature on
// a recorded qualification (meaning approved): it is granted, in the
// signature's own transaction.
func grantQualification(tx *Tx, sig *esign.Signature) error {
	if sig.Meaning != esign.Approved {
		return nil
	}
	q, err := tx.qualification(sig.EntityID)
	if err != nil {
		return err
	}
	old := *q
	var p site.Person
	if err := tx.person(q.PersonID, &p); err != nil {
		return err
	}
	if err := q.Grant(sig.SignerID, p.AccountID, tx.now); err != nil {
		return err
	}
	// The signature is the change's reason: its comment may be empty.
	if err := tx.updateAtVersionCol(qualificationTable.name, "revision", `status = ?, granted_by = ?`,
		[]any{string(q.Status), q.GrantedBy}, q.ID, q.Revision); err != nil {
		return err
	}
	q.Revision++
	return tx.Audit(audit.Diff(qualificationTable.entity, q.ID, old.AuditFields(), q.AuditFields()), "")
}

// signableQualification reads a qualification for its grant's signature,
// site staff only: what it is, for whom, on what evidence, until when
// (qualification.SignedFields).
func signableQualification(tx *Tx, id string) ([]audit.Field, string, error) {
	if err := qualification.MayRead(tx.actor); err != nil {
		return nil, "", errNoRecord()
	}
	q, err := tx.qualification(id)
	if err != nil {
		return nil, "", err
	}
	return q.SignedFields(), "", nil
}

// requireStepQualifications refuses a step of the batch to a performer
// not trained on its master's version, or whose gowning does not cover
// the grade of its line's room (EU GMP chapter 2, Annex 1).
func (tx *Tx) requireStepQualifications(b *production.Batch) error {
	if err := tx.requireQualification(qualification.ForMaster(b.MasterCode, b.Version)); err != nil {
		return err
	}
	if b.LineID == "" {
		return nil
	}
	var l site.Line
	if err := tx.line(b.LineID, &l); err != nil {
		return err
	}
	var room site.Room
	if err := tx.room(l.RoomID, &room); err != nil {
		return err
	}
	if r, needed := qualification.ForGrade(room.Grade); needed {
		return tx.requireQualification(r)
	}
	return nil
}

// requireQualification refuses the actor an act that requires r, in the
// site's words, unless they hold a qualification covering it now.
func (tx *Tx) requireQualification(r qualification.Requirement) error {
	if tx.actor.IsSystem() {
		return nil
	}
	qs, err := tx.qualifications(`p.account_id = ? AND q.kind = ?`, []any{tx.actor.UserID, string(r.Kind)}, 0)
	if err != nil {
		return err
	}
	return qualification.Check(qs, r, tx.now, tx.siteZone())
}

var _ qualification.Service = (*QualificationStore)(nil)
