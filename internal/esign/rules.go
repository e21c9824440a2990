package esign

import (
	"slices"

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
	if m == Acknowledged {
		// An acknowledgement of having read a record implies no
		// authority, but where a record says otherwise (an alarm's
		// acknowledgement takes charge of it).
		if need, ok := Needs(entity, m); ok && !slices.ContainsFunc(need, a.Can) {
			return errs.E(errs.Forbidden, "esign.meaning_needs_permission")
		}
		return nil
	}
	need, ok := Needs(entity, m)
	if !ok {
		return errs.Field("meaning", "esign.meaning_not_for_record")
	}
	if !slices.ContainsFunc(need, a.Can) {
		return errs.E(errs.Forbidden, "esign.meaning_needs_permission")
	}
	return nil
}

// kindMeaning is one meaning on one kind of record.
type kindMeaning struct {
	entity  string
	meaning Meaning
}

// permits says which permission each meaning on each kind of record needs:
// a meaning that implies authority is given only by whoever holds it. A
// meaning not listed for a kind of record is refused, but "acknowledged",
// which says only that the signer read the record and implies no authority.
var permits = map[kindMeaning][]identity.Permission{
	// The shop floor: a step, or a line's clearance, performed by one
	// person and verified by another.
	{"batch_step", Performed}: {identity.PermBatchExecute},
	{"batch_step", Verified}:  {identity.PermBatchExecute, identity.PermQualityDecide},
	{"line", Performed}:       {identity.PermBatchExecute},
	{"line", Verified}:        {identity.PermBatchExecute},
	// A master batch record: its author's signature (which submits it for
	// review), the author's review, quality assurance's approval.
	{"master", Authored}: {identity.PermMasterEdit},
	{"master", Reviewed}: {identity.PermMasterEdit},
	{"master", Approved}: {identity.PermMasterApprove},
	// A batch: quality's review, then the Qualified Person's decision.
	{"batch", Reviewed}: {identity.PermQualityDecide},
	{"batch", Released}: {identity.PermBatchRelease},
	{"batch", Rejected}: {identity.PermBatchRelease},
	// Quality's decisions.
	{"deviation", Approved}:         {identity.PermQualityDecide},
	{"oos_investigation", Approved}: {identity.PermQualityDecide},
	{"spec", Approved}:              {identity.PermQualityDecide},
	{EntityAuditPeriod, Reviewed}:   {identity.PermQualityDecide},
	// A material lot's status decided by quality.
	{"lot", Approved}: {identity.PermLotStatus},
	{"lot", Rejected}: {identity.PermLotStatus},
	// A piece of equipment's qualification renewed by maintenance.
	{"equipment", Approved}: {identity.PermEquipmentMaintain},
	// An environmental alarm's acknowledgement takes charge of it: by
	// those who work deviations (supervisors, quality assurance).
	{"environment_alarm", Acknowledged}: {identity.PermDeviationWork},
	// A client's approval of a deviation's closure, when its quality
	// agreement asks for it: its manager's.
	{"deviation_closure", Approved}: {identity.PermClientApprove},
	// A client's approval of a master batch record in review, when its
	// agreement asks for it: its manager's.
	{"master_client", Approved}: {identity.PermClientApprove},
	// A client's document version: approved by the site's quality
	// assurance and, for a specification, by the client's manager too.
	{"document_version", Approved}: {identity.PermQualityDecide, identity.PermClientDocuments},
	// A client's key destroyed at the end of its contract
	// (crypto-shredding): an administrator's signed act.
	{"client_key", Approved}: {identity.PermAccountsAdmin},
	// A person's qualification or training, recorded by whoever trained
	// them, granted by quality assurance.
	{"qualification", Approved}: {identity.PermQualityDecide},
	// A movement of the controlled-substance register: performed by one
	// person, witnessed by another (the site's four-eyes rule).
	{"controlled_movement", Performed}: {identity.PermControlledRecord},
	{"controlled_movement", Verified}:  {identity.PermControlledRecord},
}

// Needs returns the permissions (any one of them) a signature of meaning m on a record of the
// entity needs; false when that meaning is not given to such a record.
func Needs(entity string, m Meaning) ([]identity.Permission, bool) {
	p, ok := permits[kindMeaning{entity, m}]
	return p, ok
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

// OnSameDevice says whether a second person may give a signature of meaning
// m on a record of the entity in the session of another: the verification
// of a step or of a line's clearance, asked for at the line, or the witness
// of a register's movement at the vault, which the
// verifier signs on the operator's tablet by entering their own username
// and password (11.200(a)(1)). Any other signature is its signer's, in
// their own session.
func OnSameDevice(entity string, m Meaning) bool {
	return m == Verified && (entity == "batch_step" || entity == "line" || entity == "controlled_movement")
}

// SecondPerson refuses a challenge asked in a's session for a second
// person's signature that cannot be one: the session must be a person's
// and the signature one given at the line (OnSameDevice). Who signs is
// known, and checked (Check), when they sign.
func SecondPerson(a identity.Actor, entity string, m Meaning) error {
	if err := CanSign(a); err != nil {
		return err
	}
	if !m.Valid() {
		_, err := ParseMeaning(string(m))
		return err
	}
	if !OnSameDevice(entity, m) {
		return errs.Field("meaning", "esign.second_person_only_verifies")
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
