package document

import (
	"time"

	"galenix/internal/errs"
)

// The retention of GMP batch records (EU GMP Chapter 4.10): at least one
// year after the batch's expiry and at least five years after its
// certification by the qualified person, whichever is later. A batch not
// yet decided is still in use: its record is kept without end.
const (
	AfterExpiry        = 1 // years
	AfterCertification = 5 // years
)

// BatchRecord is what retention needs to know of a client's batch.
type BatchRecord struct {
	Lot string
	// Started: the batch went to the floor; one only planned or
	// scheduled has no record yet.
	Started bool
	// DecidedAt is when the qualified person certified (or rejected) the
	// batch; nil while undecided.
	DecidedAt *time.Time
	// ExpiresOn is the batch's expiry date, when recorded.
	ExpiresOn *time.Time
}

// RetainedUntil is the day until which a batch's record must be kept, and
// false when it is kept without end (the batch is not decided yet).
func RetainedUntil(b BatchRecord) (time.Time, bool) {
	if b.DecidedAt == nil {
		return time.Time{}, false
	}
	until := b.DecidedAt.AddDate(AfterCertification, 0, 0)
	if b.ExpiresOn != nil {
		if e := b.ExpiresOn.AddDate(AfterExpiry, 0, 0); e.After(until) {
			until = e
		}
	}
	return until, true
}

// MayShred says whether a client's key may be destroyed now: not while the
// client is under legal hold, nor while any of its batches' records is
// within its retention period. The refusal names the batch and the day.
func MayShred(now time.Time, legalHold bool, batches []BatchRecord) error {
	if legalHold {
		return errs.E(errs.Conflict, "document.shred.legal_hold")
	}
	for _, b := range batches {
		if !b.Started {
			continue
		}
		until, ok := RetainedUntil(b)
		if !ok {
			return errs.E(errs.Conflict, "document.shred.batch_open", b.Lot)
		}
		if now.Before(until) {
			return errs.E(errs.Conflict, "document.shred.retention", b.Lot, until.Format(time.DateOnly))
		}
	}
	return nil
}
