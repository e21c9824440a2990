// Package qualification holds the rules of people's qualifications and
// training (EU GMP chapter 2 and Annex 1; 21 CFR 11.10(i)): what a person
// is qualified for, until when, on what evidence, and whether that covers
// what an act requires at a given time — entering a clean area of a grade,
// executing a version of a master batch record, handling narcotics,
// running a laboratory method, using a kind of equipment. Rules only: the
// store records the grants (with their e-signature) and the callers ask
// Check before the act.
package qualification

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"galenix/internal/audit"
	"galenix/internal/errs"
	"galenix/internal/identity"
	"galenix/internal/site"
	"galenix/internal/text"
)

// Kind is a kind of qualification.
type Kind string

// The kinds.
const (
	// Gowning for a clean-room grade: covers that grade and every less
	// clean one (a grade B gowning lets one enter grade C and D).
	Gowning Kind = "gowning"
	// MasterTraining on one version of a master batch record (its code):
	// a new version needs its own training.
	MasterTraining Kind = "master_training"
	// Narcotics: handling controlled substances.
	Narcotics Kind = "narcotics"
	// Method: a laboratory method (its code).
	Method Kind = "method"
	// Equipment: a kind of equipment (filler, autoclave...).
	Equipment Kind = "equipment"
)

// Kinds lists the kinds in the order pages show them.
var Kinds = []Kind{Gowning, MasterTraining, Narcotics, Method, Equipment}

// KindKeys are the catalogue keys of the kinds' words.
var KindKeys = map[Kind]string{
	Gowning: "qualification.kind.gowning", MasterTraining: "qualification.kind.master_training", Narcotics: "qualification.kind.narcotics",
	Method: "qualification.kind.method", Equipment: "qualification.kind.equipment",
}

// Bounds of a grant.
const (
	// MaxValidity is the longest a qualification is granted for.
	MaxValidity = 3 * 366 * 24 * time.Hour
	// MaxEvidence bounds the evidence's words.
	MaxEvidence = 500
	// MaxSubject bounds a subject: a code, or a laboratory method as its
	// specification names it.
	MaxSubject = 160
)

// Qualification is one person's qualification, granted on evidence by
// an electronic signature, valid from GrantedAt until ValidUntil unless
// revoked.
type Qualification struct {
	ID string `json:"id"`
	// PersonID is the person of the site's staff qualified (site.Person:
	// their badge opens doors; the account linked to them signs steps).
	PersonID string `json:"person_id"`
	Kind     Kind   `json:"kind"`
	// Subject is what the kind is about: a grade for gowning, a master's
	// code, a method's code, an equipment kind; empty for narcotics.
	Subject string `json:"subject,omitempty"`
	// Version is the master's version, for a master's training.
	Version    int       `json:"version,omitempty"`
	GrantedAt  time.Time `json:"granted_at"`
	ValidUntil time.Time `json:"valid_until"`
	// Evidence says on what it is granted: the training session, the
	// gowning qualification's media fill, the method's transfer report.
	Evidence string `json:"evidence"`
	// RevokedAt ends it before its term, with a reason.
	RevokedAt    *time.Time `json:"revoked_at,omitempty"`
	RevokeReason string     `json:"revoke_reason,omitempty"`
	// Status: recorded by whoever trained the person, granted by quality
	// assurance's signature, revoked.
	Status Status `json:"status"`
	// RecordedBy is the account that recorded it; GrantedBy the signer
	// who granted it.
	RecordedBy string `json:"recorded_by,omitempty"`
	GrantedBy  string `json:"granted_by,omitempty"`
	// Revision counts the record's changes (its grant, its revocation).
	Revision int `json:"revision"`
	// Person is the qualified person's name, as lists show it (read, not
	// stored).
	Person string `json:"person,omitempty"`
}

// Status is where a qualification stands.
type Status string

// The statuses: a recorded qualification holds nothing until it is
// granted.
const (
	Recorded Status = "recorded"
	Granted  Status = "granted"
	Revoked  Status = "revoked"
)

// StatusKeys are the catalogue keys of the statuses' words.
var StatusKeys = map[Status]string{Recorded: "qualification.status.recorded", Granted: "qualification.status.granted", Revoked: "qualification.status.revoked"}

// VersionRef returns the address of the record's revision.
func (q *Qualification) VersionRef() *int { return &q.Revision }

// AuditFields lists the qualification's fields for the audit trail.
func (q *Qualification) AuditFields() []audit.Field {
	var revoked string
	if q.RevokedAt != nil {
		revoked = q.RevokedAt.UTC().Format(time.RFC3339)
	}
	version := ""
	if q.Version > 0 {
		version = strconv.Itoa(q.Version)
	}
	return []audit.Field{audit.F("person_id", q.PersonID), audit.F("kind", string(q.Kind)), audit.F("subject", q.Subject),
		audit.F("master_version", version), audit.F("granted_at", q.GrantedAt.UTC().Format(time.RFC3339)),
		audit.F("valid_until", q.ValidUntil.UTC().Format(time.RFC3339)), audit.F("evidence", q.Evidence), audit.F("status", string(q.Status)),
		audit.F("granted_by", q.GrantedBy), audit.F("revoked_at", revoked), audit.F("revoke_reason", q.RevokeReason)}
}

// SignedFields are the fields a grant's signature binds: what the
// qualification is, for whom, on what evidence and until when, not its
// status, which the signature itself changes.
func (q *Qualification) SignedFields() []audit.Field {
	var out []audit.Field
	for _, f := range q.AuditFields() {
		switch f.Name {
		case "status", "granted_by", "revoked_at", "revoke_reason":
		default:
			out = append(out, f)
		}
	}
	return out
}

// MayRecord refuses an actor who may not record a person's training:
// supervisors and quality assurance record it.
func MayRecord(a identity.Actor) error { return a.Require(identity.PermTrainingRecord) }

// MayRead refuses an actor who may not read people's qualifications: site
// staff read them (a guard at a door, a supervisor planning a shift), a
// client never.
func MayRead(a identity.Actor) error {
	if a.IsClient() {
		return errs.E(errs.Forbidden, "qualification.staff_only")
	}
	return a.Require(identity.PermStaffView)
}

// Grant checks and applies quality assurance's grant, by signature, of a
// recorded qualification at now: not the person's own (personAccount is
// the account linked to the person qualified, if any), not once its
// validity has ended.
func (q *Qualification) Grant(signerID, personAccount string, now time.Time) error {
	if q.Status != Recorded {
		return errs.E(errs.Conflict, "qualification.not_recorded", text.Key(StatusKeys[q.Status]))
	}
	if personAccount != "" && signerID == personAccount {
		return errs.E(errs.Forbidden, "qualification.self_grant")
	}
	if !now.Before(q.ValidUntil) {
		return errs.Field("valid_until", "qualification.grant_ended")
	}
	q.Status, q.GrantedBy = Granted, signerID
	return nil
}

// MaxRevokeReason bounds a revocation's reason.
const MaxRevokeReason = 500

// Revoke ends a granted or recorded qualification at now, with a reason:
// quality assurance's decision.
func (q *Qualification) Revoke(a identity.Actor, reason string, now time.Time) error {
	if err := a.Require(identity.PermQualityDecide); err != nil {
		return err
	}
	reason = strings.TrimSpace(reason)
	if n := utf8.RuneCountInString(reason); n < 5 || n > MaxRevokeReason {
		return errs.Field("reason", "qualification.revoke_reason", MaxRevokeReason)
	}
	if q.Status == Revoked {
		return errs.E(errs.Conflict, "qualification.already_revoked")
	}
	t := now.UTC()
	q.Status, q.RevokedAt, q.RevokeReason = Revoked, &t, reason
	return nil
}

// Filter selects qualifications: one person's, one kind, those lapsing
// within a number of days.
type Filter struct {
	PersonID string
	Kind     Kind
	// ExpiringDays keeps those valid now that lapse within that many
	// days; 0 keeps all.
	ExpiringDays int
	// Status keeps those of a status; Query those of the people whose
	// name or badge holds it.
	Status Status
	Query  string
	// Limit bounds the answer (0: no bound).
	Limit int
}

// Service reads and writes people's qualifications.
type Service interface {
	Qualifications(ctx context.Context, f Filter) ([]Qualification, error)
	Qualification(ctx context.Context, id string) (*Qualification, error)
	// RecordQualification records one, which quality assurance then
	// grants by signature (entity "qualification", meaning approved).
	RecordQualification(ctx context.Context, q Qualification) (*Qualification, error)
	RevokeQualification(ctx context.Context, id string, revision int, reason string) (*Qualification, error)
}

// HoldsAt is where a qualification stands at t, as a list shows it:
// recorded, valid, lapsed or revoked.
func (q *Qualification) HoldsAt(t time.Time) string {
	switch {
	case q.Status == Recorded:
		return "recorded"
	case q.Status == Revoked && q.RevokedAt != nil && !t.Before(*q.RevokedAt):
		return "revoked"
	case q.ValidAt(t):
		return "valid"
	case t.Before(q.GrantedAt):
		return "future"
	}
	return "lapsed"
}

// Requirement is what an act requires.
type Requirement struct {
	Kind    Kind
	Subject string
	Version int
}

// ForGrade is the requirement to enter a clean area of grade g (none for
// a room outside the Annex 1 grades).
func ForGrade(g site.Grade) (Requirement, bool) {
	if !g.Graded() {
		return Requirement{}, false
	}
	return Requirement{Kind: Gowning, Subject: string(g)}, true
}

// ForMaster is the requirement to execute a step of a master's version.
func ForMaster(code string, version int) Requirement {
	return Requirement{Kind: MasterTraining, Subject: code, Version: version}
}

// ForMethod is the requirement to enter a result of a laboratory method.
func ForMethod(code string) Requirement { return Requirement{Kind: Method, Subject: code} }

// Validate checks a grant's fields.
func (q *Qualification) Validate() error {
	q.Subject, q.Evidence = strings.TrimSpace(q.Subject), strings.TrimSpace(q.Evidence)
	if q.PersonID == "" {
		return errs.Field("person_id", "qualification.person")
	}
	if !slices.Contains(Kinds, q.Kind) {
		return errs.Field("kind", "qualification.kind", string(q.Kind))
	}
	switch q.Kind {
	case Gowning:
		if g := site.Grade(q.Subject); !g.Graded() {
			return errs.Field("subject", "qualification.gowning_grade", q.Subject)
		}
	case Narcotics:
		if q.Subject != "" {
			return errs.Field("subject", "qualification.no_subject")
		}
	default:
		if q.Subject == "" || utf8.RuneCountInString(q.Subject) > MaxSubject {
			return errs.Field("subject", "qualification.subject", MaxSubject)
		}
	}
	if q.Kind == MasterTraining {
		if q.Version < 1 {
			return errs.Field("version", "qualification.master_version")
		}
	} else {
		q.Version = 0
	}
	if n := utf8.RuneCountInString(q.Evidence); n < 5 || n > MaxEvidence {
		return errs.Field("evidence", "qualification.evidence", MaxEvidence)
	}
	if !q.ValidUntil.After(q.GrantedAt) {
		return errs.Field("valid_until", "qualification.valid_until")
	}
	if q.ValidUntil.Sub(q.GrantedAt) > MaxValidity {
		return errs.Field("valid_until", "qualification.too_long", 3)
	}
	return nil
}

// ValidAt reports whether the qualification holds at t: granted, not
// expired, not revoked.
func (q *Qualification) ValidAt(t time.Time) bool {
	return !t.Before(q.GrantedAt) && t.Before(q.ValidUntil) && (q.RevokedAt == nil || t.Before(*q.RevokedAt))
}

// Covers reports whether the qualification is of the kind and subject r
// requires (whether or not it holds at a given time): a gowning covers its
// grade and the less clean ones; a master's training its version only.
func (q *Qualification) Covers(r Requirement) bool {
	if q.Kind != r.Kind {
		return false
	}
	switch r.Kind {
	case Gowning:
		return rank(site.Grade(q.Subject)) <= rank(site.Grade(r.Subject))
	case MasterTraining:
		return q.Subject == r.Subject && q.Version == r.Version
	case Narcotics:
		return true
	}
	return strings.EqualFold(q.Subject, r.Subject)
}

func rank(g site.Grade) int {
	if i := slices.Index(site.Grades, g); i >= 0 {
		return i
	}
	return len(site.Grades)
}

// Check says whether a person holding qs may do what r requires at t; a
// refusal says, in the reader's words, which qualification is missing, or
// on which day the one held lapsed or was revoked (in the site's zone).
func Check(qs []Qualification, r Requirement, at time.Time, zone *time.Location) error {
	var lapsed *Qualification
	for i := range qs {
		q := &qs[i]
		if q.Status == Recorded || !q.Covers(r) {
			continue
		}
		if q.ValidAt(at) {
			return nil
		}
		if !at.Before(q.GrantedAt) && (lapsed == nil || end(q).After(end(lapsed))) {
			lapsed = q
		}
	}
	kind, subject := text.Key(KindKeys[r.Kind]), Subject(r)
	// A qualification about nothing in particular (narcotics) is named
	// by its kind alone.
	keys := refusalKeys[subject == ""]
	if lapsed != nil {
		if lapsed.RevokedAt != nil && lapsed.RevokedAt.Before(lapsed.ValidUntil) {
			return errs.E(errs.Forbidden, keys[2], kind, subject, text.Date{T: *lapsed.RevokedAt, Loc: zone})
		}
		return errs.E(errs.Forbidden, keys[1], kind, subject, text.Date{T: lapsed.ValidUntil, Loc: zone})
	}
	return errs.E(errs.Forbidden, keys[0], kind, subject)
}

// refusalKeys are the refusals' keys (missing, lapsed, revoked), by
// whether the requirement has no subject.
var refusalKeys = map[bool][3]string{
	false: {"qualification.missing", "qualification.lapsed", "qualification.revoked"},
	true:  {"qualification.missing_plain", "qualification.lapsed_plain", "qualification.revoked_plain"},
}

// end is when a qualification stopped holding.
func end(q *Qualification) time.Time {
	if q.RevokedAt != nil && q.RevokedAt.Before(q.ValidUntil) {
		return *q.RevokedAt
	}
	return q.ValidUntil
}

// Subject writes a requirement's subject as a refusal names it: a grade,
// a master's code and version ("MBR-ALP v3"), a method's code; empty for
// narcotics.
func Subject(r Requirement) string {
	s := r.Subject
	if r.Version > 0 {
		s += " v" + strconv.Itoa(r.Version)
	}
	return s
}

// Expiring lists the qualifications valid at now that lapse within the
// given time, the soonest first: what a person's manager renews.
func Expiring(qs []Qualification, now time.Time, within time.Duration) []Qualification {
	var out []Qualification
	for _, q := range qs {
		if q.Status != Recorded && q.ValidAt(now) && end(&q).Before(now.Add(within)) {
			out = append(out, q)
		}
	}
	slices.SortStableFunc(out, func(a, b Qualification) int { return end(&a).Compare(end(&b)) })
	return out
}
