package controlled

import (
	"strings"
	"time"
	"unicode/utf8"

	"galenix/internal/audit"
	"galenix/internal/errs"
	"galenix/internal/text"
)

// Alert is what the register raised to the responsible pharmacist, until
// someone takes charge of it with a comment.
type Alert struct {
	ID          string     `json:"id"`
	At          time.Time  `json:"at"`
	Kind        AlertKind  `json:"kind"`
	SubstanceID string     `json:"substance_id,omitempty"`
	Substance   string     `json:"substance,omitempty"`
	Detail      text.Coded `json:"detail"`
	// Message is Detail written in the reader's language (the API's).
	Message string `json:"message,omitempty"`
	// Ref is what it was raised about (a movement, a count, a door's
	// event), so that it is raised once.
	Ref            string     `json:"ref,omitempty"`
	AcknowledgedAt *time.Time `json:"acknowledged_at,omitempty"`
	AcknowledgedBy string     `json:"acknowledged_by,omitempty"`
	Comment        string     `json:"comment,omitempty"`
}

// Count is a container's physical inventory, by weighing or counting
// (R.5132-36): what the register held, what was found, and the deviation
// a discrepancy opened.
type Count struct {
	ID          string    `json:"id"`
	At          time.Time `json:"at"`
	ContainerID string    `json:"container_id"`
	Container   string    `json:"container,omitempty"`
	Unit        string    `json:"unit,omitempty"`
	Expected    Qty       `json:"expected"`
	Counted     Qty       `json:"counted"`
	CountedBy   string    `json:"counted_by,omitempty"`
	CountedName string    `json:"counted_name,omitempty"`
	Note        string    `json:"note,omitempty"`
	DeviationID string    `json:"deviation_id,omitempty"`
	Deviation   string    `json:"deviation,omitempty"`
}

// Validate checks a count as entered: a container, a quantity found (zero
// included), a note within bounds.
func (c *Count) Validate() error {
	c.Note = strings.TrimSpace(c.Note)
	switch {
	case c.ContainerID == "":
		return errs.Field("container_id", "controlled.container")
	case c.Counted < 0 || c.Counted > MaxQty:
		return errs.Field("counted", "controlled.counted")
	case utf8.RuneCountInString(c.Note) > MaxCause:
		return errs.Field("note", "controlled.too_long")
	}
	return nil
}

// Discrepancy is what was found minus what the register held.
func (c *Count) Discrepancy() Qty { return c.Counted - c.Expected }

// AuditFields lists the count's fields for the audit trail.
func (c *Count) AuditFields() []audit.Field {
	return []audit.Field{audit.F("container_id", c.ContainerID), audit.F("expected", c.Expected.String()), audit.F("counted", c.Counted.String()),
		audit.F("note", c.Note), audit.F("deviation_id", c.DeviationID)}
}

// MonthRecord is a monthly balance as recorded at the month's end
// (R.5132-81): what the substance held at its start, what came in and
// went out, what it held at its end, and the serial numbers it spans.
type MonthRecord struct {
	SubstanceID string    `json:"substance_id"`
	Month       string    `json:"month"`
	Opening     Qty       `json:"opening"`
	Received    Qty       `json:"received"`
	Issued      Qty       `json:"issued"`
	Closing     Qty       `json:"closing"`
	FirstSerial int64     `json:"first_serial"`
	LastSerial  int64     `json:"last_serial"`
	Movements   int       `json:"movements"`
	RecordedAt  time.Time `json:"recorded_at"`
}

// RecordOf is the record of a month's summary.
func RecordOf(s Summary, month string, now time.Time) MonthRecord {
	r := MonthRecord{SubstanceID: s.SubstanceID, Month: month, Opening: s.Opening, Closing: s.Closing, FirstSerial: s.Serials[0],
		LastSerial: s.Serials[1], Movements: s.Count, RecordedAt: now}
	for _, q := range s.In {
		r.Received += q
	}
	for _, q := range s.Out {
		r.Issued += q
	}
	return r
}

// MonthsEnded lists the first instants, in zone, of the months ended by
// now from the month of first on, after the month last recorded
// ("2006-01", "" for none).
func MonthsEnded(first time.Time, last string, now time.Time, zone *time.Location) []time.Time {
	f := first.In(zone)
	m := time.Date(f.Year(), f.Month(), 1, 0, 0, 0, 0, zone)
	var out []time.Time
	for ; !m.AddDate(0, 1, 0).After(now); m = m.AddDate(0, 1, 0) {
		if last != "" && m.Format("2006-01") <= last {
			continue
		}
		out = append(out, m)
	}
	return out
}
