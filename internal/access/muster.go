package access

import (
	"strings"
	"time"
	"unicode/utf8"

	"galenix/internal/errs"
	"galenix/internal/identity"
)

// Muster is the roll call at the alarm: the people on site when it began,
// as the readers saw them, each checked off at their assembly point as
// they arrive; the unaccounted are those not checked off.
type Muster struct {
	ID        string       `json:"id"`
	Version   int          `json:"version"`
	StartedAt time.Time    `json:"started_at"`
	StartedBy string       `json:"started_by"`
	Reason    string       `json:"reason"`
	EndedAt   *time.Time   `json:"ended_at,omitempty"`
	People    []MusterLine `json:"people"`
}

// MusterLine is one person to account for.
type MusterLine struct {
	PersonID      string     `json:"person_id"`
	Badge         string     `json:"badge"`
	Name          string     `json:"name"`
	Zone          string     `json:"zone"`
	AssemblyPoint string     `json:"assembly_point"`
	LastSeen      time.Time  `json:"last_seen"`
	LastReader    string     `json:"last_reader"`
	CheckedAt     *time.Time `json:"checked_at,omitempty"`
	// Visitor: a visitor (PersonID is their visit's), received by Host,
	// whom the guards ask first.
	Visitor bool   `json:"visitor,omitempty"`
	Host    string `json:"host,omitempty"`
}

// Unaccounted counts the people not checked off.
func (m Muster) Unaccounted() int {
	n := 0
	for _, l := range m.People {
		if l.CheckedAt == nil {
			n++
		}
	}
	return n
}

// MayMuster refuses who may not run a muster: the PC Sécurité (and the
// administrators), site staff holding the security permission.
func MayMuster(a identity.Actor) error {
	if a.IsClient() || a.IsMachine() {
		return errs.E(errs.Forbidden, "identity.refused.security_events")
	}
	return a.Require(identity.PermSecurityEvents)
}

// MaxMusterReason bounds a muster's reason.
const MaxMusterReason = 500

// CheckReason checks the reason a muster begins or ends with.
func CheckReason(reason string) (string, error) {
	reason = strings.TrimSpace(reason)
	if n := utf8.RuneCountInString(reason); n < 3 || n > MaxMusterReason {
		return "", errs.Field("reason", "access.muster_reason", MaxMusterReason)
	}
	return reason, nil
}

// CheckOff checks a person off at their assembly point at t; refused
// once the muster ended, or for a person it does not list.
func (m *Muster) CheckOff(personID string, at time.Time) (*MusterLine, error) {
	if m.EndedAt != nil {
		return nil, errs.E(errs.Conflict, "access.muster_ended")
	}
	for i := range m.People {
		l := &m.People[i]
		if l.PersonID != personID {
			continue
		}
		if l.CheckedAt == nil {
			t := at.UTC()
			l.CheckedAt = &t
		}
		return l, nil
	}
	return nil, errs.Field("person_id", "access.muster_no_person")
}
