package ingest

import (
	"context"
	"log/slog"
	"time"

	"galenix/internal/environment"
	"galenix/internal/store"
)

// Pipeline is the sink of the intake with its alarms: it commits readings
// as StoreSink does, then evaluates the alarms of the sensors that got new
// readings, all in one command (store.EnvironmentStore.EvaluateAlarms:
// each sensor's machine, under its lock, stepped in reading-time order
// under the limits of its room's state; a late batch replayed; an
// action-level excursion opening its deviations). Tick raises silence and data-gap alarms; the leading
// node runs it periodically.
type Pipeline struct {
	Sink StoreSink
	Log  *slog.Logger
}

// NewPipeline returns the pipeline of the environment store.
func NewPipeline(env *store.EnvironmentStore, log *slog.Logger) *Pipeline {
	return &Pipeline{Sink: StoreSink{Env: env}, Log: log}
}

var _ Sink = (*Pipeline)(nil)

// Submit commits msgs, then evaluates the alarms of their sensors. The
// readings count as received once committed: an evaluation that fails is
// logged and does not undo them, and the sensor's next evaluation goes on
// from its machine's last reading, so nothing committed goes unevaluated.
func (p *Pipeline) Submit(ctx context.Context, msgs []Message, refused environment.Counts) (*store.AppendResult, error) {
	res, err := p.Sink.Submit(ctx, msgs, refused)
	if err != nil || res == nil || len(res.Fresh) == 0 {
		return res, err
	}
	if err := p.Evaluate(ctx, res.Fresh); err != nil && p.Log != nil {
		p.Log.Error("evaluating the alarms of committed readings", "err", err)
	}
	return res, nil
}

// Evaluate evaluates the alarms of the sensors of fresh, the readings just
// committed, all in one command.
func (p *Pipeline) Evaluate(ctx context.Context, fresh []environment.Reading) error {
	_, err := p.Sink.Env.EvaluateAlarms(ctx, nil, fresh)
	return err
}

// Tick lets time pass to now: silence and data-gap alarms open, a filled
// gap's alarm ends. It returns how many alarm events it recorded.
func (p *Pipeline) Tick(ctx context.Context, now time.Time) (int, error) {
	evs, err := p.Sink.Env.TickAlarms(ctx, now)
	return len(evs), err
}
