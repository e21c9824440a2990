package app

import (
	"context"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"galenix/internal/identity"
	"galenix/internal/quality"
)

// qualityMetrics exports the quality unit's figures at /metrics, read once
// per scrape over every client (galenix reads them as itself): batches
// decided, right first time, release lead time, open deviations by age,
// CAPA actions by status.
type qualityMetrics struct {
	read      func(ctx context.Context) (*quality.Metrics, error)
	log       *slog.Logger
	decided   *prometheus.Desc
	rft       *prometheus.Desc
	lead      *prometheus.Desc
	open      *prometheus.Desc
	capa      *prometheus.Desc
	capaRatio *prometheus.Desc
}

func newQualityMetrics(read func(ctx context.Context) (*quality.Metrics, error), log *slog.Logger) *qualityMetrics {
	return &qualityMetrics{read: read, log: log,
		decided: prometheus.NewDesc("galenix_quality_batches_decided", "Batches decided by a qualified person, by decision.", []string{"decision"}, nil),
		rft: prometheus.NewDesc("galenix_quality_right_first_time_ratio",
			"Share of the batches decided that were certified without an exception, a deviation or an OOS.", nil, nil),
		lead: prometheus.NewDesc("galenix_quality_release_lead_time_hours",
			"Time from the end of manufacture to the qualified person's decision, in hours.", []string{"stat"}, nil),
		open: prometheus.NewDesc("galenix_quality_open_deviations", "Deviations not closed, by age in days.", []string{"age_days"}, nil),
		capa: prometheus.NewDesc("galenix_quality_capa_actions", "CAPA actions, by status.", []string{"status"}, nil),
		capaRatio: prometheus.NewDesc("galenix_quality_capa_on_time_ratio",
			"Share of the CAPA actions done or due that were done by their due day.", nil, nil),
	}
}

// Describe sends the figures' descriptions.
func (q *qualityMetrics) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{q.decided, q.rft, q.lead, q.open, q.capa, q.capaRatio} {
		ch <- d
	}
}

// Collect reads the figures; when the database cannot answer, none is
// sent (the scrape shows the other metrics, and the log says why).
func (q *qualityMetrics) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(identity.WithActor(context.Background(), identity.System), 5*time.Second)
	defer cancel()
	m, err := q.read(ctx)
	if err != nil {
		if q.log != nil {
			q.log.Warn("reading the quality figures for /metrics", slog.Any("err", err))
		}
		return
	}
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	gauge(q.decided, float64(m.Certified), string(quality.DecisionCertified))
	gauge(q.decided, float64(m.Rejected), string(quality.DecisionRejected))
	gauge(q.rft, m.RightFirstTimeRate)
	gauge(q.lead, m.LeadTimeMedianHours, "median")
	gauge(q.lead, m.LeadTimeMeanHours, "mean")
	for _, b := range quality.AgeBuckets {
		gauge(q.open, float64(m.OpenDeviations[b]), b)
	}
	gauge(q.capa, float64(m.CAPADoneOnTime), "done_on_time")
	gauge(q.capa, float64(m.CAPADoneLate), "done_late")
	gauge(q.capa, float64(m.CAPAOverdue), "overdue")
	gauge(q.capa, float64(m.CAPAOpen), "open")
	gauge(q.capaRatio, m.CAPAOnTimeRate)
}
