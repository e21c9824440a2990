package web

import (
	"net/http"
	"net/url"
	"strconv"
	"time"

	"galenix/internal/access"
	"galenix/internal/errs"
)

// The readers' journal, for the PC Sécurité: the latest passages and
// refusals, each with its door, who the badge was and why the reader
// decided, in the reader's words; a badge's alone, or the refusals alone.

// routesJournal registers the journal's API and page.
func (s *Server) routesJournal() {
	s.handle("GET", "/api/v1/access/journal", false, list(s, func(r *http.Request) ([]access.Record, error) {
		f, err := journalFilter(r.URL.Query())
		if err != nil {
			return nil, err
		}
		return s.journal(r, f)
	}))
	s.handle("GET", "/security/journal", false, func(w http.ResponseWriter, r *http.Request) {
		d := journalPage{base: s.base(r, "security"), zone: s.zone()}
		var err error
		if err = access.MayMuster(d.Actor); err == nil {
			if d.Filter, err = journalFilter(r.URL.Query()); err == nil {
				d.Records, err = s.journal(r, d.Filter)
			}
		}
		if err != nil {
			s.pageError(w, r, err)
			return
		}
		s.render(w, r, http.StatusOK, "journal", d)
	})
}

// journalFilter reads the journal's query: badge, refused=1, limit.
func journalFilter(q url.Values) (access.JournalFilter, error) {
	f := access.JournalFilter{Badge: q.Get("badge"), Refused: q.Get("refused") == "1" || q.Get("refused") == "true", Limit: 200}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > access.MaxJournal {
			return f, errs.Field("limit", "access.journal_limit", access.MaxJournal)
		}
		f.Limit = n
	}
	if len(f.Badge) > 64 {
		return f, errs.Field("badge", "access.journal_badge")
	}
	return f, nil
}

// journal reads the journal, each reason written in the request's
// language.
func (s *Server) journal(r *http.Request, f access.JournalFilter) ([]access.Record, error) {
	a, err := s.access()
	if err != nil {
		return nil, err
	}
	records, err := a.Journal(r.Context(), f)
	if err != nil {
		return nil, err
	}
	lang := langOf(r)
	for i := range records {
		if c := records[i].Reason; c != nil {
			records[i].Message = c.Render(lang)
		}
	}
	return records, nil
}

// journalPage is the readers' latest events.
type journalPage struct {
	base
	Filter  access.JournalFilter
	Records []access.Record
	zone    *time.Location
}

// When writes a time in the site's zone, the reader's way.
func (p journalPage) When(v any) string { return prodWhen(p.Lang, v, p.zone) }
