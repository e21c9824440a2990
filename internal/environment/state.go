package environment

import "time"

// BatchSpan is a batch's time in progress on a line, as the batch record
// gives it: from the moment it went in progress to the moment it was
// completed; End zero while it is still in progress. RoomID is the room of
// its line, when the caller knows it (else the line→room map decides).
type BatchSpan struct {
	BatchID string    `json:"batch_id"`
	Lot     string    `json:"lot,omitempty"`
	LineID  string    `json:"line_id"`
	RoomID  string    `json:"room_id,omitempty"`
	Start   time.Time `json:"start"`
	End     time.Time `json:"end,omitzero"`
}

// room is the room the batch was made in.
func (b *BatchSpan) room(lineRoom map[string]string) string {
	if b.RoomID != "" {
		return b.RoomID
	}
	return lineRoom[b.LineID]
}

// InProgressAt reports whether the batch was in progress at t: from its
// start included to its end excluded (the instant it completed, it no
// longer holds the room in operation).
func (b *BatchSpan) InProgressAt(t time.Time) bool {
	return !b.Start.IsZero() && !t.Before(b.Start) && (b.End.IsZero() || t.Before(b.End))
}

// RoomStateAt decides the state of room roomID at t: in operation while a
// batch is in progress on a line standing in it, at rest otherwise. The
// batch record decides, not a person. lineRoom maps a line to its room.
func RoomStateAt(roomID string, t time.Time, batches []BatchSpan, lineRoom map[string]string) RoomState {
	for i := range batches {
		b := &batches[i]
		if b.room(lineRoom) == roomID && b.InProgressAt(t) {
			return InOperation
		}
	}
	return AtRest
}

// Interval is a span of time from Start to End; End zero: still open.
type Interval struct {
	Start time.Time `json:"start"`
	End   time.Time `json:"end,omitzero"`
}

// Excursion is a span of time a place was beyond its action limits: the
// action-level part of an alarm, in a room or on a line.
type Excursion struct {
	Place   PlaceKind `json:"place"`
	PlaceID string    `json:"place_id"`
	Interval
}

// BatchesConcerned returns the batches in progress in the excursion's
// place at any instant of it, in the order given. Both ends of the
// excursion count, and a batch's own end too: a batch that completed the
// very instant the excursion began, or that started the instant it ended,
// shared the room with an out-of-limit reading and is listed (a deviation
// names one batch too many rather than one too few). An excursion still
// open reaches every batch started since it began. An excursion in a
// cold room or on a piece of equipment concerns no batch here: the store
// maps a piece of equipment to its line first.
func BatchesConcerned(e Excursion, batches []BatchSpan, lineRoom map[string]string) []BatchSpan {
	var out []BatchSpan
	for i := range batches {
		b := &batches[i]
		if b.Start.IsZero() {
			continue
		}
		switch e.Place {
		case PlaceRoom:
			if b.room(lineRoom) != e.PlaceID {
				continue
			}
		case PlaceLine:
			if b.LineID != e.PlaceID {
				continue
			}
		default:
			continue
		}
		// Closed intervals overlap when each starts no later than the
		// other ends.
		if !e.End.IsZero() && b.Start.After(e.End) {
			continue
		}
		if !b.End.IsZero() && b.End.Before(e.Start) {
			continue
		}
		out = append(out, *b)
	}
	return out
}
