package web

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strings"
	"time"

	"galenix/internal/errs"
	"galenix/internal/identity"
	"galenix/internal/outbox"
	"galenix/internal/portal"
	"galenix/internal/production"
	"galenix/internal/project"
	"galenix/internal/quality"
	"galenix/internal/text"
)

// The client laboratory's portal: its dashboard (its batches by phase,
// those on the floor live with their progress and exceptions, ordered
// against delivered by product, the deadlines of its quality agreement
// with their countdown), the home of its users; the same as JSON for its
// own systems. Never a person of the site, never another client's record:
// every read is the client's scope.

// NoticeSource reads the last events of topics in the reader's client
// scope, newest first (store.OutboxStore.Recent).
type NoticeSource interface {
	Recent(ctx context.Context, topics []string, limit int) ([]outbox.Event, error)
}

// portalNotices is how many notices the client's space lists.
const portalNotices = 20

// routesPortal registers the portal's page and API.
func (s *Server) routesPortal() {
	s.handle("GET", "/portal", false, s.portalPage)
	s.handle("GET", "/api/v1/portal", false, func(w http.ResponseWriter, r *http.Request) {
		d, err := s.dashboard(r)
		if err != nil {
			s.apiError(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, d)
	})
	s.handle("GET", "/api/v1/portal/events", false, s.portalEvents)
}

// portalEvents serves the client's dashboard live (server-sent events): at
// once, then again whenever it changes. The outbox's events of the
// client's records (a step, a certificate, a notification, an obligation
// met: any node) and this node's writes wake it; it reads the dashboard
// anew and sends it only when it differs from the last sent. A member of
// staff gets 403, as for the dashboard.
func (s *Server) portalEvents(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	actor, _ := identity.ActorFrom(ctx)
	watched, unwatch := s.live.watch(actor.ClientScope())
	defer unwatch()
	wake := s.live.wait()
	event, key, err := s.portalEvent(r, "")
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	s.serveStream(w, r, s.live, watched, wake, event, key, func(_ context.Context, key string) ([]byte, string, error) {
		return s.portalEvent(r, key)
	})
}

// portalEvent reads the dashboard and writes it as one event "portal",
// with the hash of its data as its key; nil when the key is unchanged.
func (s *Server) portalEvent(r *http.Request, key string) ([]byte, string, error) {
	d, err := s.dashboard(r)
	if err != nil {
		return nil, key, err
	}
	ev, err := sseEvent("portal", d)
	if err != nil {
		return nil, key, err
	}
	sum := sha256.Sum256(ev)
	if k := hex.EncodeToString(sum[:]); k != key {
		return ev, k, nil
	}
	return nil, key, nil
}

// dashboard reads the signed-in client's records and summarizes them; a
// member of the site's staff has no portal (403).
func (s *Server) dashboard(r *http.Request) (*portal.Dashboard, error) {
	ctx := r.Context()
	a, _ := identity.ActorFrom(ctx)
	if !a.IsClient() {
		return nil, errs.E(errs.Forbidden, "portal.clients_only")
	}
	orders, err := s.Production.Orders(ctx)
	if err != nil {
		return nil, err
	}
	batches, err := s.Production.Batches(ctx, production.BatchFilter{})
	if err != nil {
		return nil, err
	}
	var obs []quality.ObligationItem
	if s.Agreements != nil {
		if obs, err = s.Agreements.Obligations(ctx, quality.ObligationFilter{Open: true}); err != nil {
			return nil, err
		}
	}
	d := portal.Summarize(orders, batches, obs, time.Now())
	if s.Projects != nil {
		ps, err := s.Projects.Projects(ctx, project.Filter{})
		if err != nil {
			return nil, err
		}
		tasks, err := s.Projects.OpenTasks(ctx)
		if err != nil {
			return nil, err
		}
		d.Projects = portal.Projects(ps, tasks, time.Now(), s.zone())
	}
	var ag *quality.Agreement
	if s.Agreements != nil {
		if ag, err = s.Agreements.Agreement(ctx, a.ClientID); err != nil && !errs.Is(err, errs.NotFound) {
			return nil, err
		}
	}
	d.Dossiers = portal.Dossiers(batches, ag)
	if ag != nil && ag.ClientApprovesMasters {
		if d.Approvals, err = s.Production.Masters(ctx, production.MasterFilter{Status: production.MasterInReview}); err != nil {
			return nil, err
		}
	}
	if s.Notices != nil {
		evs, err := s.Notices.Recent(ctx, portal.NoticeTopics, portalNotices)
		if err != nil {
			return nil, err
		}
		d.Notices = portal.Notices(evs)
	}
	return &d, nil
}

type portalPage struct {
	prodBase
	D      *portal.Dashboard
	Phases []portal.Phase
	now    time.Time
}

// Notice writes a notice in the page's language: a parameter that names
// a batch's state is written as its label.
func (p portalPage) Notice(n portal.Notice) string {
	args := make([]any, len(n.Args))
	for i, a := range n.Args {
		if st, ok := strings.CutPrefix(a, "state:"); ok {
			a = text.Render(p.Lang, "batchstate."+st)
		} else if ph, ok := strings.CutPrefix(a, "phase:"); ok {
			a = text.Render(p.Lang, "projphase."+ph)
		}
		args[i] = a
	}
	return text.Render(p.Lang, n.Key, args...)
}

// Percent writes a share, 0 to 1, as a whole percentage.
func (p portalPage) Percent(f float64) int { return int(f*100 + 0.5) }

// Progress is a batch's share of steps done, as a whole percentage.
func (p portalPage) Progress(b production.Batch) int {
	if b.StepsTotal == 0 {
		return 0
	}
	return b.StepsDone * 100 / b.StepsTotal
}

// ObligationState is an obligation's state now.
func (p portalPage) ObligationState(o quality.ObligationItem) quality.ObligationState {
	return o.State(p.now)
}

// Countdown writes the time left before an obligation is late, or by how
// much it is late.
func (p portalPage) Countdown(o quality.ObligationItem) string {
	return obligationCountdown(p.Lang, o, p.now)
}

func (s *Server) portalPage(w http.ResponseWriter, r *http.Request) {
	d, err := s.dashboard(r)
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "portal", portalPage{prodBase: s.prodBase(r, "portal", ""), D: d, Phases: portal.Phases, now: time.Now()})
}
