package app

import (
	"context"
	"sync"
	"time"

	"galenix/internal/identity"
	"galenix/internal/infra"
	"galenix/internal/infra/probe"
)

// InfraTick is how often the leading node looks for the supervision's
// checks that are due; each check runs every its own interval.
var InfraTick = 2 * time.Second

// infraProbesAtOnce bounds the checks one round runs at the same time.
const infraProbesAtOnce = 32

// supervise starts a round of the infrastructure's due checks, unless the
// last one still runs: the probes wait on the network (up to 5 s each),
// so a round runs beside the leading node's other work, not in its way.
// Its results are recorded when it ends; a change of state is an event.
func (m *Main) supervise(ctx context.Context) error {
	if !m.infraRound.TryLock() {
		return nil
	}
	sys := identity.WithActor(ctx, identity.System)
	now := m.DB.Now()
	due, err := m.DB.Infra().Due(sys, now)
	if err != nil || len(due) == 0 {
		m.infraRound.Unlock()
		return err
	}
	round := context.WithoutCancel(sys)
	go func() {
		defer m.infraRound.Unlock()
		results := runChecks(round, due, now)
		n, err := m.DB.Infra().Record(round, results, m.DB.Now())
		switch {
		case err != nil:
			m.Log.Error("recording the infrastructure's checks", "err", err, "checks", len(results))
		case n > 0:
			m.Log.Warn("infrastructure: assets changed state", "changes", n)
		}
	}()
	return nil
}

// runChecks runs the checks, at most infraProbesAtOnce at a time, each
// within its timeout.
func runChecks(ctx context.Context, checks []infra.Check, now time.Time) map[string]infra.Result {
	out := make(map[string]infra.Result, len(checks))
	var mu sync.Mutex
	var wg sync.WaitGroup
	slots := make(chan struct{}, infraProbesAtOnce)
	for _, c := range checks {
		wg.Add(1)
		slots <- struct{}{}
		go func() {
			defer func() { <-slots; wg.Done() }()
			r := probe.Run(ctx, c, now)
			mu.Lock()
			out[c.ID] = r
			mu.Unlock()
		}()
	}
	wg.Wait()
	return out
}
