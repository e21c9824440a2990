package web

import (
	"net/http"

	"galenix/internal/identity"
)

// routesSecurityPages registers the security role's page of security
// events.
func (s *Server) routesSecurityPages() {
	s.handle("GET", "/security/events", false, s.securityEventsPage)
	s.handle("POST", "/security/events/{id}/acknowledge", false, s.acknowledgeEvent)
}

// securityView lists the security events, those nobody acknowledged first.
type securityView struct {
	base
	Events []eventRow
	Open   int
}

type eventRow struct {
	identity.SecurityEvent
	When, AckWhen string
}

// securityPageSize is how many events the page shows.
const securityPageSize = 500

func (s *Server) securityEventsPage(w http.ResponseWriter, r *http.Request) {
	evs, err := s.Identity.SecurityEvents(r.Context(), identity.EventFilter{Limit: securityPageSize})
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	d := securityView{base: s.base(r, "security")}
	for _, e := range evs {
		row := eventRow{SecurityEvent: e, When: formatDateTime(d.Lang, e.At, s.zone())}
		if e.AcknowledgedAt != nil {
			row.AckWhen = formatDateTime(d.Lang, *e.AcknowledgedAt, s.zone())
		} else {
			d.Open++
		}
		d.Events = append(d.Events, row)
	}
	s.render(w, r, http.StatusOK, "security_events", d)
}

func (s *Server) acknowledgeEvent(w http.ResponseWriter, r *http.Request) {
	if _, err := s.Identity.AcknowledgeEvent(r.Context(), r.PathValue("id")); err != nil {
		s.pageError(w, r, err)
		return
	}
	http.Redirect(w, r, "/security/events?saved=1", http.StatusSeeOther)
}
