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
		return errs.E(errs.Unauthorized, "Sign in first: only a person signed in may sign.",
			"Connectez-vous d'abord : seule une personne connectée peut signer.")
	case a.IsSystem() || a.IsMachine():
		return errs.E(errs.Forbidden, "Only a person may sign electronically, not galenix itself nor a machine.",
			"Seule une personne peut signer électroniquement, ni galenix lui-même ni une machine.")
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
			return errs.Field("meaning", "A period of the audit trail is signed as reviewed, and with no other meaning.",
				"Une période de la piste d'audit se signe comme revue, et avec aucune autre signification.")
		}
		if !a.Has(identity.RoleQA) {
			return errs.E(errs.Forbidden, "Only quality assurance may sign the review of the audit trail.",
				"Seule l'assurance qualité peut signer la revue de la piste d'audit.")
		}
	}
	if m == Released && !a.Can(identity.PermBatchRelease) {
		return errs.E(errs.Forbidden, "Only a Qualified Person may sign a release.",
			"Seule une personne qualifiée peut signer une libération.")
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
			return errs.E(errs.Forbidden, "You signed this record as performed: its verification must be signed by another person.",
				"Vous avez signé cet enregistrement comme réalisé : sa vérification doit être signée par une autre personne.")
		}
		return errs.E(errs.Forbidden, "You signed this record as verified: the person who performed it must be another.",
			"Vous avez signé cet enregistrement comme vérifié : la personne qui l'a réalisé doit être une autre.")
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
