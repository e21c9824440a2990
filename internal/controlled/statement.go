package controlled

import (
	"time"
)

// Summary is a substance's movements over a period [From, To): what the
// site held at its start, what came in and went out by kind, what it held
// at its end. Transfers between the site's containers move nothing in or
// out of the site and are not counted.
type Summary struct {
	SubstanceID string       `json:"substance_id"`
	From        time.Time    `json:"from"`
	To          time.Time    `json:"to"`
	Opening     Qty          `json:"opening"`
	In          map[Kind]Qty `json:"in"`
	Out         map[Kind]Qty `json:"out"`
	Closing     Qty          `json:"closing"`
	Serials     [2]int64     `json:"serials"`
	Count       int          `json:"count"`
}

// Summarize draws a substance's summary over [from, to) from the
// register's movements (any order; other substances' ignored).
func Summarize(movements []Movement, substanceID string, from, to time.Time) Summary {
	s := Summary{SubstanceID: substanceID, From: from, To: to, In: map[Kind]Qty{}, Out: map[Kind]Qty{}}
	for i := range movements {
		m := &movements[i]
		if m.SubstanceID != substanceID || !m.At.Before(to) {
			continue
		}
		net := Qty(0)
		for _, d := range m.Delta() {
			net += d
		}
		if m.At.Before(from) {
			s.Opening += net
			continue
		}
		s.Count++
		if s.Serials[0] == 0 || m.Serial < s.Serials[0] {
			s.Serials[0] = m.Serial
		}
		s.Serials[1] = max(s.Serials[1], m.Serial)
		switch {
		case net > 0:
			s.In[m.Kind] += net
		case net < 0:
			s.Out[m.Kind] -= net
		}
	}
	s.Closing = s.Opening
	for _, q := range s.In {
		s.Closing += q
	}
	for _, q := range s.Out {
		s.Closing -= q
	}
	return s
}

// Month is a substance's summary over the calendar month of t, in the
// site's zone: the monthly balance the register records (R.5132-81).
func Month(movements []Movement, substanceID string, t time.Time, zone *time.Location) Summary {
	local := t.In(zone)
	from := time.Date(local.Year(), local.Month(), 1, 0, 0, 0, 0, zone)
	return Summarize(movements, substanceID, from, from.AddDate(0, 1, 0))
}

// Statement is a substance's annual statement to the ANSM (R.5132-83):
// over a calendar year, what was received, used in batches (net of the
// returns), lost (losses and thefts), destroyed, sampled, handed to other
// establishments, set right by corrections, and the stock at the year's
// end.
type Statement struct {
	SubstanceID string `json:"substance_id"`
	Year        int    `json:"year"`
	Opening     Qty    `json:"opening"`
	Received    Qty    `json:"received"`
	Used        Qty    `json:"used"`
	Lost        Qty    `json:"lost"`
	Destroyed   Qty    `json:"destroyed"`
	Sampled     Qty    `json:"sampled"`
	Shipped     Qty    `json:"shipped"`
	// Corrected is the corrections' net effect, positive when they added.
	Corrected Qty `json:"corrected"`
	Closing   Qty `json:"closing"`
}

// Annual draws a substance's statement for a year in the site's zone.
func Annual(movements []Movement, substanceID string, year int, zone *time.Location) Statement {
	from := time.Date(year, 1, 1, 0, 0, 0, 0, zone)
	s := Summarize(movements, substanceID, from, from.AddDate(1, 0, 0))
	return Statement{SubstanceID: substanceID, Year: year, Opening: s.Opening, Received: s.In[Receipt],
		Used: s.Out[Dispensing] - s.In[Return], Lost: s.Out[Loss] + s.Out[Theft], Destroyed: s.Out[Destruction], Sampled: s.Out[Sampling],
		Shipped: s.Out[Shipment], Corrected: s.In[Correction] - s.Out[Correction], Closing: s.Closing}
}
