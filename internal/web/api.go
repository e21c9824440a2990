package web

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"galenix/internal/audit"
	"galenix/internal/bounds"
	"galenix/internal/errs"
	"galenix/internal/site"
)

// routesAPI registers the JSON API and the operational endpoints.
func (s *Server) routesAPI() {
	s.handle("GET", "/healthz", true, func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	s.handle("GET", "/readyz", true, s.ready)
	s.handle("GET", "/metrics", true, s.metricsHandler().ServeHTTP)

	s.handle("GET", "/api/v1/openapi.yaml", false, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/yaml; charset=utf-8")
		_, _ = w.Write(s.OpenAPI)
	})

	s.handle("GET", "/api/v1/site", false, get(s, func(ctx context.Context, _ string) (*site.Site, error) { return s.Site.Site(ctx) }))

	s.handle("GET", "/api/v1/buildings", false, list(s, func(r *http.Request) ([]site.Building, error) { return s.Site.Buildings(r.Context()) }))
	s.handle("POST", "/api/v1/buildings", false, create(s, s.Site.CreateBuilding))
	s.handle("GET", "/api/v1/buildings/{id}", false, get(s, s.Site.Building))
	s.handle("PUT", "/api/v1/buildings/{id}", false, update(s, func(b *site.Building, id string) { b.ID = id }, s.Site.UpdateBuilding))

	s.handle("GET", "/api/v1/rooms", false, list(s, func(r *http.Request) ([]site.Room, error) {
		return s.Site.Rooms(r.Context(), site.RoomFilter{BuildingID: r.URL.Query().Get("building_id")})
	}))
	s.handle("POST", "/api/v1/rooms", false, create(s, s.Site.CreateRoom))
	s.handle("GET", "/api/v1/rooms/{id}", false, get(s, s.Site.Room))
	s.handle("PUT", "/api/v1/rooms/{id}", false, update(s, func(v *site.Room, id string) { v.ID = id }, s.Site.UpdateRoom))

	s.handle("GET", "/api/v1/lines", false, list(s, func(r *http.Request) ([]site.Line, error) {
		q := r.URL.Query()
		return s.Site.Lines(r.Context(), site.LineFilter{BuildingID: q.Get("building_id"), RoomID: q.Get("room_id")})
	}))
	s.handle("POST", "/api/v1/lines", false, create(s, s.Site.CreateLine))
	s.handle("GET", "/api/v1/lines/{id}", false, get(s, s.Site.Line))
	s.handle("PUT", "/api/v1/lines/{id}", false, update(s, func(v *site.Line, id string) { v.ID = id }, s.Site.UpdateLine))

	s.handle("GET", "/api/v1/equipment", false, list(s, func(r *http.Request) ([]site.Equipment, error) {
		return s.Site.Equipment(r.Context(), site.EquipmentFilter{LineID: r.URL.Query().Get("line_id")})
	}))
	s.handle("POST", "/api/v1/equipment", false, create(s, s.Site.CreateEquipment))
	s.handle("GET", "/api/v1/equipment/{id}", false, get(s, s.Site.EquipmentItem))
	s.handle("PUT", "/api/v1/equipment/{id}", false, update(s, func(v *site.Equipment, id string) { v.ID = id }, s.Site.UpdateEquipment))

	s.handle("GET", "/api/v1/shifts", false, list(s, func(r *http.Request) ([]site.Shift, error) { return s.Site.Shifts(r.Context()) }))
	s.handle("POST", "/api/v1/shifts", false, create(s, s.Site.CreateShift))
	s.handle("GET", "/api/v1/shifts/{id}", false, get(s, s.Site.Shift))
	s.handle("PUT", "/api/v1/shifts/{id}", false, update(s, func(v *site.Shift, id string) { v.ID = id }, s.Site.UpdateShift))

	s.handle("GET", "/api/v1/teams", false, list(s, func(r *http.Request) ([]site.Team, error) { return s.Site.Teams(r.Context()) }))
	s.handle("POST", "/api/v1/teams", false, create(s, s.Site.CreateTeam))
	s.handle("GET", "/api/v1/teams/{id}", false, get(s, s.Site.Team))
	s.handle("PUT", "/api/v1/teams/{id}", false, update(s, func(v *site.Team, id string) { v.ID = id }, s.Site.UpdateTeam))

	s.handle("GET", "/api/v1/people", false, searched(s, 100, func(r *http.Request, q string, limit, offset int) ([]site.Person, int, error) {
		ids, err := queryIDs(r.URL.Query(), "team_id")
		if err != nil {
			return nil, 0, err
		}
		return s.Site.SearchPeople(r.Context(), site.PersonFilter{TeamID: ids["team_id"], Query: q, Limit: limit, Offset: offset})
	}))
	s.handle("POST", "/api/v1/people", false, create(s, s.Site.CreatePerson))
	s.handle("GET", "/api/v1/people/{id}", false, get(s, s.Site.Person))
	s.handle("PUT", "/api/v1/people/{id}", false, update(s, func(v *site.Person, id string) { v.ID = id }, s.Site.UpdatePerson))

	s.handle("GET", "/api/v1/clients", false, list(s, func(r *http.Request) ([]clientItem, error) { return s.clients(r.Context()) }))
	s.handle("GET", "/api/v1/clients/{id}", false, get(s, s.client))

	s.handle("GET", "/api/v1/audit", false, list(s, s.listAudit))

	for _, m := range apiMethods {
		s.handle(m, "/api/", true, s.apiNoRoute)
	}
}

// apiMethods are the methods the API answers.
var apiMethods = []string{"GET", "POST", "PUT", "PATCH", "DELETE"}

// apiNoRoute answers, in the error envelope, a request that no API route
// serves: 405 with the Allow header when the path exists for other
// methods, 404 otherwise.
func (s *Server) apiNoRoute(w http.ResponseWriter, r *http.Request) {
	var allow []string
	for _, m := range apiMethods {
		probe := r.Clone(r.Context())
		probe.Method = m
		if _, pattern := s.mux.Handler(probe); pattern != m+" /api/" && pattern != "" {
			allow = append(allow, m)
		}
	}
	if len(allow) > 0 {
		w.Header().Set("Allow", strings.Join(allow, ", "))
		s.apiError(w, r, &errs.Error{Code: errs.MethodNotAllowed,
			Key: "web.endpoint_does_not_take", Args: []any{r.Method, strings.Join(allow, ", ")}})
		return
	}
	s.apiError(w, r, errs.E(errs.NotFound, "web.there_no_such_api"))
}

// list answers the items fn returns, in the list envelope.
func list[T any](s *Server, fn func(r *http.Request) ([]T, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		items, err := fn(r)
		if err != nil {
			s.apiError(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, itemsBody[T]{Items: items})
	}
}

// get answers the item the path's id names.
func get[T any](s *Server, fn func(ctx context.Context, id string) (*T, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		v, err := fn(r.Context(), r.PathValue("id"))
		if err != nil {
			s.apiError(w, r, err)
			return
		}
		setETag(w, v)
		writeJSON(w, http.StatusOK, v)
	}
}

// create decodes a new item, records it and answers it with 201.
func create[T any](s *Server, fn func(ctx context.Context, v *T) error) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var v T
		if err := decode(w, r, &v); err != nil {
			s.apiError(w, r, err)
			return
		}
		if err := fn(r.Context(), &v); err != nil {
			s.apiError(w, r, err)
			return
		}
		writeJSON(w, http.StatusCreated, &v)
	}
}

// update decodes the new version of the item the path names, with the
// reason for the change, records it and answers it.
func update[T any](s *Server, setID func(*T, string), fn func(ctx context.Context, v *T, reason string) error) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var v T
		reason, err := decodeWithReason(w, r, &v)
		if err != nil {
			s.apiError(w, r, err)
			return
		}
		setID(&v, r.PathValue("id"))
		if err := ifMatch(r, &v); err != nil {
			s.apiError(w, r, err)
			return
		}
		if err := fn(r.Context(), &v, reason); err != nil {
			s.apiError(w, r, err)
			return
		}
		setETag(w, &v)
		writeJSON(w, http.StatusOK, &v)
	}
}

// pageOf reads the page of a list the query asks for: at most limit items
// (100 unless told, 1,000 at most) after offset items.
func pageOf(q url.Values) (limit, offset int, err error) { return pageWith(q, 100) }

// pageWith is pageOf with def items unless told.
func pageWith(q url.Values, def int) (limit, offset int, err error) {
	limit = def
	if v := q.Get("limit"); v != "" {
		if limit, err = strconv.Atoi(v); err != nil || limit < 1 || limit > 1000 {
			return 0, 0, errs.Field("limit", "web.limit_must_whole_number")
		}
	}
	if v := q.Get("offset"); v != "" {
		if offset, err = strconv.Atoi(v); err != nil || offset < 0 {
			return 0, 0, errs.Field("offset", "web.offset_must_whole_number")
		}
	}
	return limit, offset, nil
}

// auditItem is an audit entry as the API lists it: like every list item it
// has an "id", here its sequence number written as text.
type auditItem struct {
	ID string `json:"id"`
	audit.Entry
}

func (s *Server) listAudit(r *http.Request) ([]auditItem, error) {
	q := r.URL.Query()
	f, err := auditFilter(q, false, s.zone())
	if err != nil {
		return nil, err
	}
	if f.Limit, err = auditLimit(q); err != nil {
		return nil, err
	}
	// Oldest first, paged forward with after, for a reader catching up
	// with the trail; order=newest (or before) reads newest first, paged
	// back with before.
	switch q.Get("order") {
	case "", "oldest":
		f.Newest = f.BeforeSeq > 0
	case "newest":
		f.Newest = true
	default:
		return nil, errs.Field("order", "web.audit_order")
	}
	entries, err := s.Audit.Entries(r.Context(), f)
	lang := apiLang(r)
	items := make([]auditItem, len(entries))
	for i, e := range entries {
		items[i] = auditItem{ID: strconv.FormatInt(e.Seq, 10), Entry: staffNamed(lang, e)}
	}
	return items, err
}

// auditLimit reads how many entries a page of the trail holds: 100 unless
// told, a whole number from 1 to auditStoreLimit.
func auditLimit(q url.Values) (int, error) {
	v := q.Get("limit")
	if v == "" {
		return 100, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > auditStoreLimit {
		return 0, errs.Field("limit", "web.limit_must_whole_number")
	}
	return n, nil
}

// auditFilter reads the filters of the audit trail from a query: entity,
// entity_id, actor (an account's id), person (a username or a name),
// record (a record's human code), command, from, to (RFC 3339), after and
// before. With days, from and to may also be calendar days, YYYY-MM-DD, in
// the site's zone: from the start of the day from, up to the end of the
// day to (both included).
func auditFilter(q url.Values, days bool, zone *time.Location) (audit.Filter, error) {
	f := audit.Filter{Entity: q.Get("entity"), EntityID: q.Get("entity_id"), Actor: q.Get("actor"),
		Person: strings.TrimSpace(q.Get("person")), Record: strings.TrimSpace(q.Get("record")), Command: strings.TrimSpace(q.Get("command"))}
	for _, p := range []struct {
		name string
		dst  *time.Time
	}{{"from", &f.From}, {"to", &f.To}} {
		t, ok, err := timeParam(q, p.name, days, zone)
		if err != nil {
			return f, err
		}
		if ok {
			*p.dst = t
		}
	}
	for _, p := range []struct {
		name string
		dst  *int64
		key  string
	}{{"after", &f.AfterSeq, "web.after_sequence_number_0"}, {"before", &f.BeforeSeq, "web.before_sequence_number"}} {
		if v := q.Get(p.name); v != "" {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil || n < 0 {
				return f, errs.Field(p.name, p.key)
			}
			*p.dst = n
		}
	}
	return f, nil
}

// timeParam reads the query's time name, in RFC 3339; with days, also as
// a calendar day, YYYY-MM-DD, in zone: "from" its start, "to" its end. ok
// is false when the query has none.
func timeParam(q url.Values, name string, days bool, zone *time.Location) (t time.Time, ok bool, err error) {
	v := q.Get(name)
	if v == "" {
		return time.Time{}, false, nil
	}
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return t, true, bounds.Time(name, t)
	}
	if !days {
		return time.Time{}, false, errs.Field(name, "web.dates_written_rfc_3339")
	}
	d, err := time.ParseInLocation(time.DateOnly, v, zone)
	if err != nil {
		return time.Time{}, false, errs.Field(name, "web.dates_written_day_2026")
	}
	if err := bounds.Time(name, d); err != nil {
		return time.Time{}, false, err
	}
	if name == "to" {
		d = d.AddDate(0, 0, 1)
	}
	return d, true, nil
}

// clientItem is a client laboratory as the API shows it: every
// client-owned item carries client_id, the client itself included.
type clientItem struct {
	ID       string `json:"id"`
	ClientID string `json:"client_id"`
	Code     string `json:"code"`
	Name     string `json:"name"`
}

func (s *Server) clients(ctx context.Context) ([]clientItem, error) {
	cs, err := s.Clients.Clients(ctx)
	out := make([]clientItem, len(cs))
	for i, c := range cs {
		out[i] = clientItem{ID: c.ID, ClientID: c.ID, Code: c.Code, Name: c.Name}
	}
	return out, err
}

func (s *Server) client(ctx context.Context, id string) (*clientItem, error) {
	c, err := s.Clients.Client(ctx, id)
	if err != nil {
		return nil, err
	}
	return &clientItem{ID: c.ID, ClientID: c.ID, Code: c.Code, Name: c.Name}, nil
}

// etag is the entity tag of a record's version.
func etag(version int) string { return `"` + strconv.Itoa(version) + `"` }

// setETag answers the version of a record that has one as its ETag.
func setETag(w http.ResponseWriter, rec any) {
	if v := site.VersionField(rec); v != nil && *v > 0 {
		w.Header().Set("ETag", etag(*v))
	}
}

// ifMatch reads the If-Match header of an update: the version the client
// edited, which the update then requires. The header wins over a version
// in the body; "*" (or no header) asks for none.
func ifMatch(r *http.Request, rec any) error {
	h := strings.TrimSpace(r.Header.Get("If-Match"))
	v := site.VersionField(rec)
	if h == "" || h == "*" || v == nil {
		return nil
	}
	n, err := strconv.Atoi(strings.TrimSuffix(strings.TrimPrefix(h, `"`), `"`))
	if err != nil || n < 1 || !strings.HasPrefix(h, `"`) || !strings.HasSuffix(h, `"`) || len(h) < 3 {
		return errs.E(errs.Invalid, "web.if_match_must_record")
	}
	*v = n
	return nil
}
