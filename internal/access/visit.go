package access

import (
	"strings"
	"time"
	"unicode/utf8"

	"galenix/internal/audit"
	"galenix/internal/errs"
	"galenix/internal/identity"
	"galenix/internal/site"
	"galenix/internal/text"
)

// VisitStatus is where a visit stands: pre-registered by its host and
// expected, under way with a badge handed at the gate, over (the badge
// returned), or cancelled before the visitor came.
type VisitStatus string

// The statuses of a visit.
const (
	VisitExpected  VisitStatus = "expected"
	VisitOnSite    VisitStatus = "on_site"
	VisitLeft      VisitStatus = "left"
	VisitCancelled VisitStatus = "cancelled"
)

// The bounds of a visit.
const (
	// MaxVisit is the longest a visit is registered for (a contractor's
	// week); longer stays are registered again.
	MaxVisit = 7 * 24 * time.Hour
	// ArrivalEarly is how early before their expected arrival a visitor
	// is let in at the gate.
	ArrivalEarly = 2 * time.Hour
	// EscortWindow is how closely a visitor's badge must follow their
	// escort's at a door of a zone that needs one.
	EscortWindow = time.Minute
)

// Visit is a visitor's stay: pre-registered by a host (a person of the
// staff), welcomed at the gate where the PC Sécurité hands a badge, let
// into the production zones only behind an escort, and expected to leave
// by a time after which the PC Sécurité is alerted.
type Visit struct {
	ID      string `json:"id"`
	Version int    `json:"version,omitempty"`
	Visitor string `json:"visitor"`
	Company string `json:"company"`
	Purpose string `json:"purpose,omitempty"`
	// HostID is the person of the staff who receives the visitor and
	// answers for them; Host their name, as read.
	HostID string `json:"host_id"`
	Host   string `json:"host,omitempty"`
	// ExpectedAt and ExpectedUntil are when the visitor is expected to
	// arrive and to leave.
	ExpectedAt    time.Time   `json:"expected_at"`
	ExpectedUntil time.Time   `json:"expected_until"`
	Status        VisitStatus `json:"status"`
	// Badge is the visitor badge handed at the gate, while on site.
	Badge      string     `json:"badge,omitempty"`
	ArrivedAt  *time.Time `json:"arrived_at,omitempty"`
	DepartedAt *time.Time `json:"departed_at,omitempty"`
	// Overdue: on site past the expected departure (as read).
	Overdue bool `json:"overdue,omitempty"`
}

// VersionRef returns the address of the visit's version.
func (v *Visit) VersionRef() *int { return &v.Version }

// Validate checks what a host registers: who comes, from where, for
// whom, and a stay that ends after it begins and lasts at most MaxVisit.
// A new visit (status none yet) cannot be expected in the past.
func (v *Visit) Validate(now time.Time) error {
	v.Visitor, v.Company, v.Purpose = strings.TrimSpace(v.Visitor), strings.TrimSpace(v.Company), strings.TrimSpace(v.Purpose)
	if n := utf8.RuneCountInString(v.Visitor); n < 2 || n > 120 {
		return errs.Field("visitor", "visit.visitor")
	}
	if n := utf8.RuneCountInString(v.Company); n < 2 || n > 120 {
		return errs.Field("company", "visit.company")
	}
	if utf8.RuneCountInString(v.Purpose) > 500 {
		return errs.Field("purpose", "visit.purpose", 500)
	}
	if v.HostID == "" {
		return errs.Field("host_id", "visit.host")
	}
	if v.ExpectedAt.IsZero() {
		return errs.Field("expected_at", "visit.expected_at")
	}
	if !v.ExpectedUntil.After(v.ExpectedAt) {
		return errs.Field("expected_until", "visit.until_before")
	}
	if v.ExpectedUntil.Sub(v.ExpectedAt) > MaxVisit {
		return errs.Field("expected_until", "visit.too_long", int(MaxVisit/(24*time.Hour)))
	}
	if (v.Status == "" || v.Status == VisitExpected) && v.ExpectedUntil.Before(now) {
		return errs.Field("expected_until", "visit.past")
	}
	return nil
}

// MayHost refuses who may not register visits: the site's staff, people
// (not a client's account, not a machine).
func MayHost(a identity.Actor) error {
	if a.IsClient() || a.IsMachine() {
		return errs.E(errs.Forbidden, "identity.refused.staff_view")
	}
	return a.Require(identity.PermSiteView)
}

// MayGate refuses who may not welcome visitors at the gate (hand and
// take back their badges) nor see every visit: the PC Sécurité.
func MayGate(a identity.Actor) error { return MayMuster(a) }

// MayChange refuses who may not change or cancel a visit: its host (the
// person whose account acts) or the PC Sécurité.
func (v *Visit) MayChange(a identity.Actor, actorPerson string) error {
	if MayGate(a) == nil || (actorPerson != "" && actorPerson == v.HostID) {
		return nil
	}
	return errs.E(errs.Forbidden, "visit.not_host")
}

// Update applies a host's change to a visit expected or under way: who,
// from where, for what, when; the badge and status stay.
func (v *Visit) Update(next *Visit, now time.Time) error {
	if v.Status != VisitExpected && v.Status != VisitOnSite {
		return errs.E(errs.Conflict, "visit.closed")
	}
	next.Status, next.Badge, next.ArrivedAt, next.DepartedAt = v.Status, v.Badge, v.ArrivedAt, v.DepartedAt
	if v.Status == VisitOnSite {
		next.ExpectedAt = v.ExpectedAt
		if next.ExpectedUntil.Before(now) {
			return errs.Field("expected_until", "visit.past")
		}
	}
	return next.Validate(now)
}

// Arrive hands the visitor their badge at the gate at t: a visit
// expected, not earlier than ArrivalEarly before its time nor after its
// end (said in the site's zone); the badge a printable code no one else
// holds (the store checks).
func (v *Visit) Arrive(badge string, at time.Time, zone *time.Location) error {
	if v.Status != VisitExpected {
		return errs.E(errs.Conflict, "visit.not_expected")
	}
	badge = strings.TrimSpace(badge)
	if badge == "" || len(badge) > 32 || strings.ContainsFunc(badge, func(r rune) bool { return r < '!' || r > '~' }) {
		return errs.Field("badge", "visit.badge")
	}
	if at.Before(v.ExpectedAt.Add(-ArrivalEarly)) || !at.Before(v.ExpectedUntil) {
		return errs.Field("badge", "visit.not_now", text.DateTime{T: v.ExpectedAt, Loc: zone}, text.DateTime{T: v.ExpectedUntil, Loc: zone})
	}
	t := at.UTC()
	v.Status, v.Badge, v.ArrivedAt = VisitOnSite, badge, &t
	return nil
}

// Depart takes the badge back at t: the visit is over.
func (v *Visit) Depart(at time.Time) error {
	if v.Status != VisitOnSite {
		return errs.E(errs.Conflict, "visit.not_on_site")
	}
	t := at.UTC()
	v.Status, v.DepartedAt = VisitLeft, &t
	return nil
}

// Cancel calls off a visit not begun.
func (v *Visit) Cancel() error {
	if v.Status != VisitExpected {
		return errs.E(errs.Conflict, "visit.not_expected")
	}
	v.Status = VisitCancelled
	return nil
}

// IsOverdue reports whether the visitor is on site past their expected
// departure at t.
func (v *Visit) IsOverdue(t time.Time) bool {
	return v.Status == VisitOnSite && t.After(v.ExpectedUntil)
}

// AuditFields lists the visit's fields for the audit trail.
func (v *Visit) AuditFields() []audit.Field {
	when := func(t *time.Time) string {
		if t == nil {
			return ""
		}
		return t.UTC().Format(time.RFC3339)
	}
	return []audit.Field{audit.F("visitor", v.Visitor), audit.F("company", v.Company), audit.F("purpose", v.Purpose), audit.F("host_id", v.HostID),
		audit.F("expected_at", when(&v.ExpectedAt)), audit.F("expected_until", when(&v.ExpectedUntil)), audit.F("status", string(v.Status)),
		audit.F("badge", v.Badge), audit.F("arrived_at", when(v.ArrivedAt)), audit.F("departed_at", when(v.DepartedAt))}
}

// NeedsEscort reports whether a visitor enters a zone only behind an
// escort: the production zones (clean areas) and the laboratories.
func (z *Zone) NeedsEscort() bool { return z.Kind == CleanArea || z.Kind == Laboratory }

// ClosedToVisitors reports whether no visitor enters a zone, escorted or
// not: the vault, the server rooms, the grade A and B areas.
func (z *Zone) ClosedToVisitors() bool {
	return z.Kind == Vault || z.Kind == ServerRoom || (z.Kind == CleanArea && (z.Grade == site.GradeA || z.Grade == site.GradeB))
}
