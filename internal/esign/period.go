package esign

import (
	"strings"
	"time"

	"galenix/internal/bounds"
	"galenix/internal/errs"
)

// Period is a span of whole days of the audit trail, in the site's zone,
// that quality assurance reviews and signs.
type Period struct {
	// ID is the period as written: "2026-11-01/2026-11-30".
	ID string
	// From is the start of the first day; To the start of the day after
	// the last, exclusive.
	From, To time.Time
}

// ParsePeriod reads a period written "YYYY-MM-DD/YYYY-MM-DD": its first and
// last days, both included, in the site's zone.
func ParsePeriod(s string, zone *time.Location) (Period, error) {
	bad := errs.Field("entity_id", "esign.period_audit_trail_written")
	first, last, ok := strings.Cut(strings.TrimSpace(s), "/")
	if !ok {
		return Period{}, bad
	}
	from, err1 := time.ParseInLocation(time.DateOnly, first, zone)
	to, err2 := time.ParseInLocation(time.DateOnly, last, zone)
	if err1 != nil || err2 != nil {
		return Period{}, bad
	}
	if err := bounds.Time("entity_id", from); err != nil {
		return Period{}, err
	}
	if err := bounds.Time("entity_id", to); err != nil {
		return Period{}, err
	}
	if to.Before(from) {
		return Period{}, errs.Field("entity_id", "esign.period_ends_before_starts")
	}
	return Period{ID: first + "/" + last, From: from, To: to.AddDate(0, 0, 1)}, nil
}

// Ended refuses a period that is not over at now: entries still to come in
// it, the review's own among them, would break the signature at once.
func (p Period) Ended(now time.Time) error {
	if now.Before(p.To) {
		return errs.Field("entity_id", "esign.period_not_over_yet")
	}
	return nil
}
