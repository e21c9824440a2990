package esign

import (
	"galenix/internal/errs"
	"galenix/internal/identity"
)

// EntityAuditPeriod is the entity of a QA review of the audit trail over a
// period; its id is the period, "YYYY-MM-DD/YYYY-MM-DD" (see ParsePeriod).
const EntityAuditPeriod = "audit_period"

// CanSign refuses an actor who cannot sign at all: nobody, galenix itself, a
// machine. A signature is a person's (11.100(a)).
func CanSign(a identity.Actor) error {
	switch {
	case a.UserID == "":
		return errs.E(errs.Unauthorized, "esign.sign_first_only_person")
	case a.IsSystem() || a.IsMachine():
		return errs.E(errs.Forbidden, "esign.only_person_may_sign")
	}
	return nil
}

// Permit says whether the actor may sign a record of the entity with the
// meaning: a release needs a Qualified Person; the review of a period of the
// audit trail, quality assurance, and it is the only meaning such a period
// takes.
func Permit(a identity.Actor, entity string, m Meaning) error {
	if err := CanSign(a); err != nil {
		return err
	}
	if !m.Valid() {
		_, err := ParseMeaning(string(m))
		return err
	}
	if entity == EntityAuditPeriod {
		if m != Reviewed {
			return errs.Field("meaning", "esign.period_audit_trail_signed")
		}
		if !a.Has(identity.RoleQA) {
			return errs.E(errs.Forbidden, "esign.only_quality_assurance_may")
		}
	}
	if m == Released && !a.Can(identity.PermBatchRelease) {
		return errs.E(errs.Forbidden, "esign.only_qualified_person_may")
	}
	return nil
}

// NotPerformer enforces that the verifier is not the performer: a signature
// "verified" by the person who signed "performed" on the same record is
// refused, and so is the other way round. existing are the record's
// signatures.
func NotPerformer(signerID string, m Meaning, existing []Signature) error {
	var other Meaning
	switch m {
	case Verified:
		other = Performed
	case Performed:
		other = Verified
	default:
		return nil
	}
	for _, s := range existing {
		if s.Meaning != other || s.SignerID != signerID {
			continue
		}
		if m == Verified {
			return errs.E(errs.Forbidden, "esign.you_signed_record_performed")
		}
		return errs.E(errs.Forbidden, "esign.you_signed_record_verified")
	}
	return nil
}

// Check applies every rule of signing to one signature of the actor on a
// record of the entity carrying the existing signatures.
func Check(a identity.Actor, entity string, m Meaning, existing []Signature) error {
	if err := Permit(a, entity, m); err != nil {
		return err
	}
	return NotPerformer(a.UserID, m, existing)
}
