package site

import "time"

// LineState is what a production line is doing, derived from its batches
// and its equipment, never stored: every page and API answer showing a
// line's state takes it from LineStateOf, so that none contradicts the
// batches.
type LineState string

// The states of a line, in display order.
const (
	// StateInProduction: a batch is in progress on the line.
	StateInProduction LineState = "in_production"
	// StateAvailable: no batch in progress, every piece of equipment clean
	// and qualified, the line in service.
	StateAvailable LineState = "available"
	// StateCleaningDue: no batch in progress, a piece of equipment dirty
	// (or still marked in use by the last batch).
	StateCleaningDue LineState = "cleaning_due"
	// StateQualificationOverdue: a piece's qualification has lapsed.
	StateQualificationOverdue LineState = "qualification_overdue"
	// StateOutOfService: the line set in maintenance or stopped, or a
	// piece of its equipment under maintenance.
	StateOutOfService LineState = "out_of_service"
)

// LineStates lists the states in display order.
var LineStates = []LineState{StateInProduction, StateAvailable, StateCleaningDue, StateQualificationOverdue, StateOutOfService}

// LineStateOf derives a line's state on day now: in production exactly when
// a batch is in progress on it (inProgress); otherwise the first reason it
// cannot take one — out of service (the line in maintenance or stopped, or
// a piece under maintenance), a qualification overdue, a cleaning due — and
// available when there is none. equipment is the line's.
func LineStateOf(l *Line, equipment []Equipment, inProgress bool, now time.Time) LineState {
	if inProgress {
		return StateInProduction
	}
	if l.Status == LineMaintenance || l.Status == LineStopped {
		return StateOutOfService
	}
	overdue, dirty := false, false
	for i := range equipment {
		e := &equipment[i]
		switch e.Status {
		case EquipmentMaintenance:
			return StateOutOfService
		case EquipmentDirty, EquipmentInUse:
			dirty = true
		}
		if !e.QualifiedOn(now) {
			overdue = true
		}
	}
	switch {
	case overdue:
		return StateQualificationOverdue
	case dirty:
		return StateCleaningDue
	}
	return StateAvailable
}
