package web

import (
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"time"

	"galenix/internal/identity"
	"galenix/internal/text"
)

// routesSecurityPages registers the security role's page of security
// events.
func (s *Server) routesSecurityPages() {
	s.handle("GET", "/security/events", false, s.securityEventsPage)
	s.handle("POST", "/security/events/{id}/acknowledge", false, s.acknowledgeEvent)
}

// securityView lists the security events, those nobody acknowledged first,
// of the kind chosen.
type securityView struct {
	base
	Events []eventRow
	Open   int
	// Kinds are the kinds of event to choose from; Kind the one chosen
	// (empty: all), OpenOnly whether only those to acknowledge are shown.
	Kinds    []string
	Kind     string
	OpenOnly bool
	// From and To are the days typed (YYYY-MM-DD).
	From, To string
	// Query is the filter, to come back to it after an acknowledgement.
	Query string
}

type eventRow struct {
	identity.SecurityEvent
	When, AckWhen string
	// Said is the event's detail in the reader's language.
	Said string
}

// lockDetail and lockedDetail are the details the sign-in keeps of a lock
// and of an attempt on a locked account (store.recordFailure, SignIn).
var (
	lockDetail   = regexp.MustCompile(`^until (\S+), after (\d+) failures in a row$`)
	lockedDetail = regexp.MustCompile(`^locked until (\S+)$`)
)

// eventDetail writes an event's detail in the language: the lock's end in
// the site's time; a count of failures as it is; anything else as kept.
func eventDetail(lang, d string, zone *time.Location) string {
	if m := lockDetail.FindStringSubmatch(d); m != nil {
		if t, err := time.Parse(time.RFC3339, m[1]); err == nil {
			n, _ := strconv.Atoi(m[2])
			return text.Render(lang, "secevent.detail.locked", formatDateTime(lang, t, zone), n)
		}
	}
	if m := lockedDetail.FindStringSubmatch(d); m != nil {
		if t, err := time.Parse(time.RFC3339, m[1]); err == nil {
			return text.Render(lang, "secevent.detail.locked_until", formatDateTime(lang, t, zone))
		}
	}
	return d
}

// securityPageSize is how many events the page shows.
const securityPageSize = 500

func (s *Server) securityEventsPage(w http.ResponseWriter, r *http.Request) {
	kind, err := eventKind(r)
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	f := identity.EventFilter{Kind: kind, Open: r.URL.Query().Get("open") == "1", Limit: securityPageSize}
	if f.From, f.To, err = eventDays(r.URL.Query(), s.zone()); err != nil {
		s.pageError(w, r, err)
		return
	}
	evs, err := s.Identity.SecurityEvents(r.Context(), f)
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	d := securityView{base: s.base(r, "security"), Kinds: identity.EventKinds, Kind: f.Kind, OpenOnly: f.Open,
		From: r.URL.Query().Get("from"), To: r.URL.Query().Get("to")}
	d.Query = eventQuery(f, d.From, d.To)
	for _, e := range evs {
		row := eventRow{SecurityEvent: e, When: formatDateTime(d.Lang, e.At, s.zone()), Said: eventDetail(d.Lang, e.Detail, s.zone())}
		if e.AcknowledgedAt != nil {
			row.AckWhen = formatDateTime(d.Lang, *e.AcknowledgedAt, s.zone())
		} else {
			d.Open++
		}
		d.Events = append(d.Events, row)
	}
	s.render(w, r, http.StatusOK, "security_events", d)
}

// eventQuery is the query string of the page's filter: its kind, whether
// only those to acknowledge, its days.
func eventQuery(f identity.EventFilter, from, to string) string {
	q := url.Values{}
	if f.Kind != "" {
		q.Set("kind", f.Kind)
	}
	if f.Open {
		q.Set("open", "1")
	}
	if from != "" {
		q.Set("from", from)
	}
	if to != "" {
		q.Set("to", to)
	}
	return q.Encode()
}

func (s *Server) acknowledgeEvent(w http.ResponseWriter, r *http.Request) {
	if err := s.parseForm(w, r); err != nil {
		s.pageError(w, r, err)
		return
	}
	if _, err := s.Identity.AcknowledgeEvent(r.Context(), r.PathValue("id"), r.PostForm.Get("comment")); err != nil {
		s.pageError(w, r, err)
		return
	}
	// Back to the events, filtered as they were (what is not a filter is
	// dropped).
	back, _ := url.ParseQuery(r.PostForm.Get("filter"))
	f := identity.EventFilter{Open: back.Get("open") == "1"}
	for _, k := range identity.EventKinds {
		if back.Get("kind") == k {
			f.Kind = k
		}
	}
	day := func(name string) string {
		if _, err := queryDay(back, name, time.Time{}, s.zone()); err != nil {
			return ""
		}
		return back.Get(name)
	}
	q := eventQuery(f, day("from"), day("to"))
	if q != "" {
		q += "&"
	}
	http.Redirect(w, r, "/security/events?"+q+"saved=1", http.StatusSeeOther)
}
