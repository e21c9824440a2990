package app

import (
	"context"
	"math"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"galenix/internal/identity"
)

// LeaderEvery is how often a node tries to take the lead, and the leader
// checks it still holds it: a leading node that dies is replaced within
// about this long.
var LeaderEvery = 2 * time.Second

// job is work of the site that must run once, not once per node: it runs
// on the leading node only.
type job struct {
	name  string
	every time.Duration
	run   func(ctx context.Context) error
	// final: run once more when the leading node stops.
	final bool
	last  time.Time
}

// jobs lists the site's once-only work. A later periodic job is one more
// entry here.
func (m *Main) jobs() []*job {
	return []*job{
		{name: "audit.checkpoint", every: m.Config.CheckpointEvery, run: m.signCheckpoint, final: true},
		{name: "idempotency.purge", every: time.Hour, run: m.purgeIdempotencyKeys},
		{name: "outbox.prune", every: time.Hour, run: m.pruneOutbox},
		{name: "environment.alarms.tick", every: AlarmTickEvery, run: m.tickAlarms},
		{name: "environment.rollup", every: time.Minute, run: m.rollUpEnvironment},
		{name: "environment.compact", every: 10 * time.Minute, run: m.compactReadings},
		{name: "environment.retention", every: 24 * time.Hour, run: m.purgeReadings},
		{name: "quality.obligations", every: time.Minute, run: m.escalateObligations},
		{name: "access.visits.overdue", every: time.Minute, run: m.raiseOverdueVisits},
		{name: "controlled.copy", every: RegisterCopyEvery, run: m.copyRegister, final: true},
		{name: "controlled.months", every: time.Hour, run: m.recordRegisterMonths},
		{name: "controlled.crosscheck", every: 10 * time.Minute, run: m.crossCheckVault},
		{name: "infra.supervise", every: InfraTick, run: m.supervise},
	}
}

// RegisterCopyEvery is how often the controlled-substance register's
// new movements are copied to the second medium.
var RegisterCopyEvery = 5 * time.Second

// copyRegister copies the register's movements validated since the last
// run to its second medium; a copy found altered is logged as an error
// at each run until someone sees to it.
func (m *Main) copyRegister(ctx context.Context) error {
	n, err := m.DB.Controlled().CopyRegister(identity.WithActor(ctx, identity.System), m.Config.registerCopyDir())
	if err == nil && n > 0 {
		m.Log.Info("controlled-substance register copied to its second medium", "movements", n, "dir", m.Config.registerCopyDir())
	}
	return err
}

// recordRegisterMonths records the monthly balances of the months ended.
func (m *Main) recordRegisterMonths(ctx context.Context) error {
	n, err := m.DB.Controlled().RecordMonths(identity.WithActor(ctx, identity.System))
	if err == nil && n > 0 {
		m.Log.Info("controlled-substance register: monthly balances recorded", "count", n)
	}
	return err
}

// crossCheckVault confronts the vault's movements with its doors' events,
// and the batches done with their master records.
func (m *Main) crossCheckVault(ctx context.Context) error {
	sys := identity.WithActor(ctx, identity.System)
	n, err := m.DB.Controlled().CrossCheckVault(sys)
	if err != nil {
		return err
	}
	if n > 0 {
		m.Log.Warn("controlled-substance register: vault movements and entries that do not match, raised", "count", n)
	}
	if n, err = m.DB.Controlled().ReconcileBatches(sys); err == nil && n > 0 {
		m.Log.Warn("controlled-substance register: batches dispensed beyond their master record's tolerance, raised", "count", n)
	}
	return err
}

// raiseOverdueVisits alerts the PC Sécurité to the visitors on site past
// their expected departure, once each.
func (m *Main) raiseOverdueVisits(ctx context.Context) error {
	n, err := m.DB.Access().RaiseOverdueVisits(identity.WithActor(ctx, identity.System))
	if err == nil && n > 0 {
		m.Log.Warn("visitors on site past their expected departure, raised", "count", n)
	}
	return err
}

// compactReadings compacts the readings received more than
// Config.ReadingsCompactAfter ago, a few windows a run so that the writer
// is never held long; a run that finds more leaves them to the next.
func (m *Main) compactReadings(ctx context.Context) error {
	if m.Config.ReadingsCompactAfter <= 0 {
		return nil
	}
	run, err := m.DB.Environment().Compact(identity.WithActor(ctx, identity.System), m.DB.Now().Add(-m.Config.ReadingsCompactAfter), 6)
	if err == nil && run.Windows > 0 {
		m.Log.Info("environmental readings compacted", "windows", run.Windows, "blocks", run.Blocks, "readings", run.Readings)
	}
	return err
}

// purgeReadings deletes the compacted readings older than the site's
// retention policy (Config.ReadingsRetention; none: kept for ever).
func (m *Main) purgeReadings(ctx context.Context) error {
	if m.Config.ReadingsRetention <= 0 {
		return nil
	}
	n, err := m.DB.Environment().PurgeReadings(identity.WithActor(ctx, identity.System), m.Config.ReadingsRetention, m.DB.Now())
	if err == nil && n > 0 {
		m.Log.Info("environmental readings past their retention deleted", "readings", n)
	}
	return err
}

// AlarmTickEvery is how often the leading node lets time pass for the
// sensors' alarms (silence, data gaps): an alarm rises within about this
// long of its delay.
var AlarmTickEvery = 10 * time.Second

// tickAlarms raises the silence and data-gap alarms now due, and
// escalates the alarms not acknowledged within Config.AlarmAckWithin, as
// galenix itself.
func (m *Main) tickAlarms(ctx context.Context) error {
	ctx = identity.WithActor(ctx, identity.System)
	n, err := m.readings.Tick(ctx, m.DB.Now())
	if err == nil && n > 0 {
		m.Log.Info("environmental alarms raised or ended by the passing of time", "events", n)
	}
	if err != nil {
		return err
	}
	esc, err := m.DB.Environment().EscalateAlarms(ctx, m.Config.AlarmAckWithin, m.DB.Now())
	if len(esc) > 0 {
		m.Log.Warn("environmental alarms not acknowledged in time, escalated", "count", len(esc))
	}
	return err
}

// IdempotencyKeep is how long a write's idempotency key and first answer
// are kept: a client retries within minutes, a day is ample.
const IdempotencyKeep = 24 * time.Hour

// purgeIdempotencyKeys deletes the keys older than IdempotencyKeep.
func (m *Main) purgeIdempotencyKeys(ctx context.Context) error {
	n, err := m.DB.Idempotency().Purge(ctx, m.DB.Now().Add(-IdempotencyKeep))
	if err == nil && n > 0 {
		m.Log.Info("idempotency keys purged", "count", n)
	}
	return err
}

// escalateObligations escalates what the quality agreements owe the
// clients and is late (a deviation's notification, its summary): once
// each, with an outbox event.
func (m *Main) escalateObligations(ctx context.Context) error {
	n, err := m.DB.Agreements().EscalateObligations(identity.WithActor(ctx, identity.System))
	if err == nil && n > 0 {
		m.Log.Warn("quality agreement deadlines passed, escalated", "count", n)
	}
	return err
}

// rollUpEnvironment makes the roll-ups of the environmental readings of
// the intervals closed since its last run (a run cut short resumes).
func (m *Main) rollUpEnvironment(ctx context.Context) error {
	run, err := m.DB.Environment().RollUp(identity.WithActor(ctx, identity.System))
	if err == nil && run.Minutes+run.Hours > 0 {
		m.Log.Debug("environment roll-ups made", "minutes", run.Minutes, "hours", run.Hours)
	}
	return err
}

// lead tries to take the lead every LeaderEvery and, while this node holds
// it, runs the jobs that are due; it gives the lead up when ctx ends.
func (m *Main) lead(ctx context.Context) {
	leader := m.DB.Leader()
	defer leader.Release()
	jobs := m.jobs()
	tick := LeaderEvery
	for _, j := range jobs {
		tick = min(tick, j.every)
	}
	t := time.NewTicker(tick)
	defer t.Stop()
	held := false
	for {
		tctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		now, err := leader.Try(tctx)
		cancel()
		if err != nil && ctx.Err() == nil {
			m.Log.Warn("leadership: the database does not answer", "err", err)
		}
		if now != held {
			held = now
			if held {
				m.Log.Info("this node leads: it runs the site's once-only work")
			} else {
				m.Log.Warn("this node no longer leads")
			}
		}
		m.leading.Store(held)
		if held {
			for _, j := range jobs {
				if ctx.Err() == nil && time.Since(j.last) >= j.every {
					m.runJob(ctx, j)
				}
			}
		}
		select {
		case <-t.C:
		case <-ctx.Done():
			if held {
				for _, j := range jobs {
					if j.final {
						m.runJob(context.Background(), j)
					}
				}
			}
			m.leading.Store(false)
			return
		}
	}
}

// runJob runs one job, bounded in time; a failure is logged and the job
// runs again when next due.
func (m *Main) runJob(parent context.Context, j *job) {
	ctx, cancel := context.WithTimeout(parent, 30*time.Second)
	defer cancel()
	j.last = time.Now()
	err := j.run(ctx)
	took := time.Since(j.last)
	switch {
	case err != nil && parent.Err() != nil:
		// The node stops or gives up the lead: the job stops with it
		// (its transactions roll back; what it committed stays), and
		// the leading node runs it again.
		m.Log.Debug("the site's periodic work stopped", "job", j.name, "err", err, "took", took)
	case err != nil:
		m.Log.Error("running the site's periodic work", "job", j.name, "err", err, "took", took)
	case took > 5*time.Second:
		m.Log.Warn("the site's periodic work took long", "job", j.name, "took", took)
	default:
		m.Log.Debug("the site's periodic work done", "job", j.name, "took", took)
	}
}

// signCheckpoint signs the head of the audit chain, if it grew.
func (m *Main) signCheckpoint(ctx context.Context) error {
	key, err := m.siteKey.current(ctx, m.DB)
	if err != nil {
		return err
	}
	cp, err := m.DB.Checkpoint(ctx, key)
	if err == nil && cp != nil {
		m.Log.Debug("audit checkpoint signed", "seq", cp.Seq)
	}
	return err
}

// Leading reports whether this node leads now.
func (m *Main) Leading() bool { return m.leading.Load() }

// leaderMetrics are what IT watches of the once-only work: whether this
// node leads (exactly one node of a cluster should), how old the site's
// last signed checkpoint is (it should stay near CheckpointEvery), and how
// far behind the sensors' roll-ups are (near RollupLag).
func (m *Main) leaderMetrics() []prometheus.Collector {
	return []prometheus.Collector{
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "galenix_leader",
			Help: "1 when this node leads and runs the site's once-only work (checkpoint signing, purges), else 0."},
			func() float64 {
				if m.leading.Load() {
					return 1
				}
				return 0
			}),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "galenix_audit_checkpoint_age_seconds",
			Help: "Seconds since the site's last signed audit checkpoint; NaN when none is signed yet or the database does not answer."},
			func() float64 {
				ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
				defer cancel()
				cp, err := m.DB.LastCheckpoint(ctx)
				if err != nil || cp == nil {
					return math.NaN()
				}
				return time.Since(cp.At).Seconds()
			}),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "galenix_environment_rollup_lag_seconds",
			Help: "Seconds between now and the reception time up to which the sensors' readings are rolled up (about a minute while the roll-up job keeps up); NaN before its first run or when the database does not answer."},
			func() float64 {
				ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
				defer cancel()
				mark, ok, err := m.DB.RolledUpTo(ctx)
				if err != nil || !ok {
					return math.NaN()
				}
				return time.Since(mark).Seconds()
			}),
	}
}
