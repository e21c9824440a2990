package quality

import (
	"sort"
	"time"
)

// The quality unit's figures: how often a batch is right the first time,
// how long release takes after manufacture, how old the open deviations
// are, and whether CAPA actions are done on time.

// DecisionFacts is what the figures need of one batch decided by a
// qualified person.
type DecisionFacts struct {
	Decision Decision
	// Exceptions, Deviations and OOS count the batch record's
	// exceptions, the deviations naming the batch and its OOS
	// investigations.
	Exceptions, Deviations, OOS int
	// Completed is when manufacture ended (the batch completed); zero
	// when unknown. Decided is the QP's signature.
	Completed, Decided time.Time
}

// MetricsInput is what the figures are computed from.
type MetricsInput struct {
	Decisions []DecisionFacts
	// OpenDeviations are when each deviation not yet closed was opened.
	OpenDeviations []time.Time
	Actions        []Action
}

// AgeBuckets are the ages open deviations are counted by, in days: up to
// 7, up to 30, up to 90, and older.
var AgeBuckets = []string{"0-7", "8-30", "31-90", "90+"}

// Metrics are the quality unit's figures.
type Metrics struct {
	Decided   int `json:"decided"`
	Certified int `json:"certified"`
	Rejected  int `json:"rejected"`
	// RightFirstTime counts the batches certified without an exception,
	// a deviation or an OOS; Rate is its share of the batches decided
	// (0 when none is).
	RightFirstTime     int     `json:"right_first_time"`
	RightFirstTimeRate float64 `json:"right_first_time_rate"`
	// Lead time from the end of manufacture to the QP's decision, in
	// hours, over the batches whose completion is known.
	LeadTimeMedianHours float64 `json:"lead_time_median_hours"`
	LeadTimeMeanHours   float64 `json:"lead_time_mean_hours"`
	// OpenDeviations counts the deviations not closed, by age bucket.
	OpenDeviations map[string]int `json:"open_deviations"`
	// CAPA: actions done by their due day, done late, open past it, open
	// within it; OnTimeRate is the share of the actions done or due that
	// were done on time (1 when none is).
	CAPADoneOnTime int     `json:"capa_done_on_time"`
	CAPADoneLate   int     `json:"capa_done_late"`
	CAPAOverdue    int     `json:"capa_overdue"`
	CAPAOpen       int     `json:"capa_open"`
	CAPAOnTimeRate float64 `json:"capa_on_time_rate"`
}

// ComputeMetrics computes the figures at now.
func ComputeMetrics(in MetricsInput, now time.Time) Metrics {
	m := Metrics{OpenDeviations: map[string]int{}}
	for _, b := range AgeBuckets {
		m.OpenDeviations[b] = 0
	}
	var leads []float64
	for _, d := range in.Decisions {
		m.Decided++
		if d.Decision == DecisionCertified {
			m.Certified++
			if d.Exceptions == 0 && d.Deviations == 0 && d.OOS == 0 {
				m.RightFirstTime++
			}
		} else {
			m.Rejected++
		}
		if !d.Completed.IsZero() && !d.Decided.Before(d.Completed) {
			leads = append(leads, d.Decided.Sub(d.Completed).Hours())
		}
	}
	if m.Decided > 0 {
		m.RightFirstTimeRate = float64(m.RightFirstTime) / float64(m.Decided)
	}
	if len(leads) > 0 {
		sort.Float64s(leads)
		sum := 0.0
		for _, l := range leads {
			sum += l
		}
		m.LeadTimeMeanHours = sum / float64(len(leads))
		if n := len(leads); n%2 == 1 {
			m.LeadTimeMedianHours = leads[n/2]
		} else {
			m.LeadTimeMedianHours = (leads[n/2-1] + leads[n/2]) / 2
		}
	}
	for _, opened := range in.OpenDeviations {
		days := now.Sub(opened).Hours() / 24
		switch {
		case days <= 7:
			m.OpenDeviations["0-7"]++
		case days <= 30:
			m.OpenDeviations["8-30"]++
		case days <= 90:
			m.OpenDeviations["31-90"]++
		default:
			m.OpenDeviations["90+"]++
		}
	}
	for _, a := range in.Actions {
		due := a.Due.AddDate(0, 0, 1) // done on its due day is on time
		switch {
		case a.DoneAt != nil && a.DoneAt.Before(due):
			m.CAPADoneOnTime++
		case a.DoneAt != nil:
			m.CAPADoneLate++
		case a.Overdue(now):
			m.CAPAOverdue++
		default:
			m.CAPAOpen++
		}
	}
	m.CAPAOnTimeRate = 1
	if n := m.CAPADoneOnTime + m.CAPADoneLate + m.CAPAOverdue; n > 0 {
		m.CAPAOnTimeRate = float64(m.CAPADoneOnTime) / float64(n)
	}
	return m
}
