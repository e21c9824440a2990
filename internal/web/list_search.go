package web

import (
	"context"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"galenix/internal/errs"
	"galenix/internal/identity"
	"galenix/internal/text"
)

// The lists people search (batches, lots, people, products, orders): a
// search box and the filters that fit, a page of rows and how many match
// in all, in the page's address so that it can be bookmarked; through the
// API, the same filters with q, limit and offset, and the total.

// listPageSize is how many rows a page of a searched list shows.
const listPageSize = 50

// maxSearchLen is the longest text a list is searched for, in characters.
const maxSearchLen = 200

// searchText reads the words a list is searched for (q): trimmed, at most
// maxSearchLen characters.
func searchText(q url.Values) (string, error) {
	v := strings.TrimSpace(q.Get("q"))
	if utf8.RuneCountInString(v) > maxSearchLen {
		return "", errs.Field("q", "web.search_too_long", maxSearchLen)
	}
	return v, nil
}

// queryIDs reads the ids the query's filters name (client_id, team_id...):
// each blank or a record's id, else a refusal naming the filter.
func queryIDs(q url.Values, names ...string) (map[string]string, error) {
	out := map[string]string{}
	for _, n := range names {
		v := strings.TrimSpace(q.Get(n))
		if v != "" {
			if _, err := uuid.Parse(v); err != nil {
				return nil, errs.Field(n, "web.filter_must_be_id")
			}
		}
		out[n] = v
	}
	return out, nil
}

// pagedBody is the envelope of a searched list: its items, like every
// list, and how many match in all, with the page's limit and offset.
type pagedBody[T any] struct {
	Items  []T `json:"items"`
	Total  int `json:"total"`
	Limit  int `json:"limit"`
	Offset int `json:"offset"`
}

// searched answers a page of a searched list: fn reads the page the query
// asks for (its q, its limit, def unless told, and offset, checked first)
// and how many match in all.
func searched[T any](s *Server, def int, fn func(r *http.Request, q string, limit, offset int) ([]T, int, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		qv := r.URL.Query()
		q, err := searchText(qv)
		if err != nil {
			s.apiError(w, r, err)
			return
		}
		limit, offset, err := pageWith(qv, def)
		if err != nil {
			s.apiError(w, r, err)
			return
		}
		items, total, err := fn(r, q, limit, offset)
		if err != nil {
			s.apiError(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, pagedBody[T]{Items: items, Total: total, Limit: limit, Offset: offset})
	}
}

// listFilter is the search and the filters of a searched list's page, and
// the pager of its rows with their total.
type listFilter struct {
	// Query is the words searched for; ClientID the laboratory chosen
	// among Clients, those the reader sees when there are several.
	Query, ClientID string
	Clients         []choice
	// From and To are the period asked for, as typed (calendar days), for
	// the lists that have one (see period).
	From, To string
	// Filtered says the list is narrowed by its search or a filter: an
	// empty page then says that nothing matches (see paged).
	Filtered bool
	Pager
	// Size is how many rows a page shows.
	Size int
}

// choice is one option of a filter's list.
type choice struct{ Value, Label string }

// listFilterOf reads a list page's search, page and client (kept only
// when the reader sees several laboratories: staff). Words past
// maxSearchLen are cut: a page never fails on what was typed.
func (s *Server) listFilterOf(ctx context.Context, q url.Values) (listFilter, error) {
	f := listFilter{Query: strings.TrimSpace(q.Get("q")), Pager: Pager{Page: pageNumber(q)}, Size: listPageSize}
	if utf8.RuneCountInString(f.Query) > maxSearchLen {
		f.Query = string([]rune(f.Query)[:maxSearchLen])
	}
	if a, _ := identity.ActorFrom(ctx); a.IsClient() {
		return f, nil
	}
	names, err := s.clientNames(ctx)
	if err != nil || len(names) < 2 {
		return f, err
	}
	for id, n := range names {
		f.Clients = append(f.Clients, choice{id, n})
	}
	sort.Slice(f.Clients, func(i, j int) bool { return f.Clients[i].Label < f.Clients[j].Label })
	if _, ok := names[q.Get("client_id")]; ok {
		f.ClientID = q.Get("client_id")
	}
	return f, nil
}

// period reads the period the page asks for (from and to, as the audit
// trail's filter reads them: calendar days in zone, "to" included) and
// keeps it from page to page.
func (f *listFilter) period(q url.Values, zone *time.Location) (from, to time.Time, err error) {
	if from, to, err = periodOf(q, zone); err == nil {
		f.From, f.To = q.Get("from"), q.Get("to")
	}
	return from, to, err
}

// Offset is how many rows pass before the page's.
func (f listFilter) Offset() int { return (f.Page - 1) * f.Size }

// paged sets the pager of the page's rows: shown of total matching, the
// addresses of the pages before and after at path, with the filters of
// keep, the search, the client and the period; and whether any of them
// narrows the list.
func (f *listFilter) paged(shown, total int, path string, keep url.Values) {
	link := func(p int) string {
		v := url.Values{}
		for k, vs := range keep {
			if len(vs) > 0 && vs[0] != "" {
				v.Set(k, vs[0])
			}
		}
		if f.Query != "" {
			v.Set("q", f.Query)
		}
		if f.ClientID != "" {
			v.Set("client_id", f.ClientID)
		}
		if f.From != "" {
			v.Set("from", f.From)
		}
		if f.To != "" {
			v.Set("to", f.To)
		}
		if p > 1 {
			v.Set("page", strconv.Itoa(p))
		}
		if len(v) == 0 {
			return path
		}
		return path + "?" + v.Encode()
	}
	f.Filtered = f.Query != "" || f.ClientID != "" || f.From != "" || f.To != ""
	for _, vs := range keep {
		// "all" is a list's view of every row, no filter.
		if len(vs) > 0 && vs[0] != "" && vs[0] != "all" {
			f.Filtered = true
		}
	}
	p := &f.Pager
	p.Total, p.First = total, f.Offset()+1
	p.Last = p.First + shown - 1
	if p.Page > 1 {
		p.Prev = link(min(p.Page-1, max((total+f.Size-1)/f.Size, 1)))
	}
	if f.Offset()+shown < total {
		p.Next = link(p.Page + 1)
	}
}

// Range is "1–50 of 812" in lang, numbers written its way; "" when no row
// shows.
func (p Pager) Range(lang string) string {
	if p.Total == 0 || p.Last < p.First {
		return ""
	}
	return text.Render(lang, "list.range", text.Int(p.First), text.Int(p.Last), text.Int(p.Total))
}
