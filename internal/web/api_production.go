package web

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"galenix/internal/bounds"
	"galenix/internal/errs"
	"galenix/internal/esign"
	"galenix/internal/identity"
	"galenix/internal/production"
	"galenix/internal/site"
)

// routesProduction registers the production JSON API: products, materials
// and lots, master batch records, orders, batches, the schedule, the shop
// floor and the genealogy. The production service checks every permission
// and scope; the handlers only translate. Every successful write wakes the
// live streams of batches (api_events.go).
func (s *Server) routesProduction() {
	p := s.Production
	// write registers a route that changes production data.
	write := func(method, path string, h http.HandlerFunc) { s.handle(method, path, false, s.live.after(h)) }

	s.handle("GET", "/api/v1/products", false, searched(s, maxListAll, func(r *http.Request, q string, limit, offset int) ([]production.Product, int, error) {
		ids, err := queryIDs(r.URL.Query(), "client_id")
		if err != nil {
			return nil, 0, err
		}
		form, err := formOf(r.URL.Query().Get("form"))
		if err != nil {
			return nil, 0, err
		}
		return p.SearchProducts(r.Context(), production.ProductFilter{ClientID: ids["client_id"], Form: form, Query: q, Limit: limit, Offset: offset})
	}))
	write("POST", "/api/v1/products", create(s, p.CreateProduct))
	s.handle("GET", "/api/v1/products/{id}", false, get(s, p.Product))
	write("PUT", "/api/v1/products/{id}", update(s, func(v *production.Product, id string) { v.ID = id }, p.UpdateProduct))

	s.handle("GET", "/api/v1/materials", false, list(s, func(r *http.Request) ([]production.Material, error) {
		return p.Materials(r.Context())
	}))
	write("POST", "/api/v1/materials", create(s, p.CreateMaterial))
	s.handle("GET", "/api/v1/materials/{id}", false, get(s, p.Material))
	write("PUT", "/api/v1/materials/{id}", update(s, func(v *production.Material, id string) { v.ID = id }, p.UpdateMaterial))

	s.handle("GET", "/api/v1/lots", false, searched(s, maxListAll, func(r *http.Request, text string, limit, offset int) ([]production.Lot, int, error) {
		q := r.URL.Query()
		st, err := lotStatusOf(q.Get("status"))
		if err != nil {
			return nil, 0, err
		}
		ids, err := queryIDs(q, "material_id")
		if err != nil {
			return nil, 0, err
		}
		f := production.LotFilter{MaterialID: ids["material_id"], Code: q.Get("code"), Status: st, Query: text, Limit: limit, Offset: offset}
		// An expiry date is a calendar day, the same everywhere.
		if f.ExpiresFrom, f.ExpiresTo, err = periodOf(q, time.UTC); err != nil {
			return nil, 0, err
		}
		return p.SearchLots(r.Context(), f)
	}))
	write("POST", "/api/v1/lots", create(s, p.CreateLot))
	s.handle("GET", "/api/v1/lots/{id}", false, get(s, p.Lot))
	write("POST", "/api/v1/lots/{id}/status", func(w http.ResponseWriter, r *http.Request) {
		var in struct {
			Status production.LotStatus `json:"status"`
			Reason string               `json:"reason"`
		}
		if err := decode(w, r, &in); err != nil {
			s.apiError(w, r, err)
			return
		}
		l, err := p.SetLotStatus(r.Context(), r.PathValue("id"), in.Status, in.Reason)
		s.answer(w, r, http.StatusOK, l, err)
	})
	s.handle("GET", "/api/v1/lots/{id}/genealogy", false, list(s, func(r *http.Request) ([]production.Consumption, error) {
		return p.LotUses(r.Context(), r.PathValue("id"))
	}))

	s.handle("GET", "/api/v1/masters", false, list(s, func(r *http.Request) ([]production.Master, error) {
		q := r.URL.Query()
		return p.Masters(r.Context(), production.MasterFilter{ProductID: q.Get("product_id"), Status: production.MasterStatus(q.Get("status"))})
	}))
	write("POST", "/api/v1/masters", create(s, p.CreateMaster))
	s.handle("GET", "/api/v1/masters/{id}", false, get(s, p.Master))
	write("PUT", "/api/v1/masters/{id}", update(s, func(v *production.Master, id string) { v.ID = id }, p.UpdateMaster))
	write("POST", "/api/v1/masters/{id}/move", func(w http.ResponseWriter, r *http.Request) {
		var in moveBody
		if err := decode(w, r, &in); err != nil {
			s.apiError(w, r, err)
			return
		}
		mv, err := production.ParseMove(in.Action)
		if err != nil {
			s.apiError(w, r, err)
			return
		}
		m, err := p.MoveMaster(r.Context(), r.PathValue("id"), mv, in.Reason)
		s.answer(w, r, http.StatusOK, m, err)
	})

	s.handle("GET", "/api/v1/orders", false, searched(s, maxListAll, func(r *http.Request, q string, limit, offset int) ([]production.Order, int, error) {
		ids, err := queryIDs(r.URL.Query(), "client_id")
		if err != nil {
			return nil, 0, err
		}
		f := production.OrderFilter{ClientID: ids["client_id"], Query: q, Limit: limit, Offset: offset}
		// A due date is a calendar day, the same everywhere.
		if f.DueFrom, f.DueTo, err = periodOf(r.URL.Query(), time.UTC); err != nil {
			return nil, 0, err
		}
		return p.SearchOrders(r.Context(), f)
	}))
	write("POST", "/api/v1/orders", s.apiCreateOrder)
	s.handle("GET", "/api/v1/orders/{id}", false, get(s, p.Order))

	s.handle("GET", "/api/v1/batches", false, searched(s, 100, func(r *http.Request, q string, limit, offset int) ([]production.Batch, int, error) {
		f, err := s.batchFilter(r)
		if err != nil {
			return nil, 0, err
		}
		f.Query, f.Limit, f.Offset = q, limit, offset
		return p.SearchBatches(r.Context(), f)
	}))
	// The live stream is registered before {id}; the more specific
	// pattern wins whatever the order, this only reads better.
	s.handle("GET", "/api/v1/batches/events", false, s.batchEvents(s.live))
	s.handle("GET", "/api/v1/batches/{id}", false, get(s, p.Batch))
	write("POST", "/api/v1/batches/{id}/schedule", func(w http.ResponseWriter, r *http.Request) {
		var in struct {
			LineID string    `json:"line_id"`
			Start  time.Time `json:"start"`
			Reason string    `json:"reason"`
		}
		if err := decode(w, r, &in); err != nil {
			s.apiError(w, r, err)
			return
		}
		b, err := p.ScheduleBatch(r.Context(), r.PathValue("id"), production.ScheduleRequest{LineID: in.LineID, Start: in.Start}, in.Reason)
		s.answer(w, r, http.StatusOK, b, err)
	})
	write("POST", "/api/v1/batches/{id}/move", func(w http.ResponseWriter, r *http.Request) {
		var in moveBody
		if err := decode(w, r, &in); err != nil {
			s.apiError(w, r, err)
			return
		}
		mv, err := parseBatchMove(in.Action)
		if err != nil {
			s.apiError(w, r, err)
			return
		}
		b, err := p.MoveBatch(r.Context(), r.PathValue("id"), mv, in.Reason)
		s.answer(w, r, http.StatusOK, b, err)
	})
	s.handle("GET", "/api/v1/batches/{id}/record", false, func(w http.ResponseWriter, r *http.Request) {
		rec, err := p.Record(r.Context(), r.PathValue("id"))
		if err != nil {
			s.apiError(w, r, err)
			return
		}
		if !seesNames(r.Context()) {
			rec.Steps = anonymousSteps(rec.Steps)
			rec.Signatures = anonymousSignatures(rec.Signatures)
		}
		writeJSON(w, http.StatusOK, recordAnswer(apiLang(r), rec))
	})
	write("POST", "/api/v1/batches/{id}/steps", func(w http.ResponseWriter, r *http.Request) {
		var in production.Entry
		if err := decode(w, r, &in); err != nil {
			s.apiError(w, r, err)
			return
		}
		st, err := p.RecordStep(r.Context(), r.PathValue("id"), in)
		s.answer(w, r, http.StatusOK, stepAnswer(apiLang(r), anonymousStep(r.Context(), st)), err)
	})
	write("PUT", "/api/v1/batches/{id}/steps/{step_id}", func(w http.ResponseWriter, r *http.Request) {
		var in production.Entry
		reason, err := decodeWithReason(w, r, &in)
		if err != nil {
			s.apiError(w, r, err)
			return
		}
		in.StepID = r.PathValue("step_id")
		if err := ifMatch(r, &in); err != nil {
			s.apiError(w, r, err)
			return
		}
		st, err := p.CorrectStep(r.Context(), r.PathValue("id"), in, reason)
		if err == nil {
			setETag(w, st)
		}
		s.answer(w, r, http.StatusOK, stepAnswer(apiLang(r), anonymousStep(r.Context(), st)), err)
	})
	s.handle("GET", "/api/v1/batches/{id}/record.pdf", false, s.batchRecordPDF)
	s.handle("GET", "/api/v1/batches/{id}/review", false, func(w http.ResponseWriter, r *http.Request) {
		rv, err := p.Review(r.Context(), r.PathValue("id"))
		if err != nil {
			s.apiError(w, r, err)
			return
		}
		if !seesNames(r.Context()) {
			rv.Exceptions = anonymousSteps(rv.Exceptions)
			rv.Corrected = anonymousSteps(rv.Corrected)
			rv.Signatures = anonymousSignatures(rv.Signatures)
		}
		writeJSON(w, http.StatusOK, reviewAnswer(apiLang(r), rv))
	})
	s.handle("GET", "/api/v1/batches/{id}/genealogy", false, list(s, func(r *http.Request) ([]production.Consumption, error) {
		return p.BatchInputs(r.Context(), r.PathValue("id"))
	}))

	s.handle("GET", "/api/v1/lines/{id}/floor", false, func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		f, err := p.Floor(ctx, r.PathValue("id"))
		if err != nil {
			s.apiError(w, r, err)
			return
		}
		if !seesNames(ctx) {
			f.Next = anonymousStep(ctx, f.Next)
			f.Recent = anonymousSteps(f.Recent)
		}
		writeJSON(w, http.StatusOK, floorAnswer(apiLang(r), f))
	})
	s.handle("GET", "/api/v1/schedule", false, s.apiSchedule)
	s.handle("GET", "/api/v1/capacity", false, s.apiCapacity)

	s.handle("GET", "/api/v1/windows", false, list(s, func(r *http.Request) ([]production.Window, error) {
		return p.Windows(r.Context(), r.URL.Query().Get("line_id"))
	}))
	write("POST", "/api/v1/windows", create(s, p.CreateWindow))
}

// answer writes v with the status, or the error.
func (s *Server) answer(w http.ResponseWriter, r *http.Request, status int, v any, err error) {
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	writeJSON(w, status, v)
}

// moveBody is what the moves of a master or a batch take: the action and
// why.
type moveBody struct {
	Action string `json:"action"`
	Reason string `json:"reason"`
}

// parseBatchMove reads the action of POST /api/v1/batches/{id}/move.
// Scheduling has its own route: it needs a line and a time.
func parseBatchMove(s string) (production.BatchMove, error) {
	mv := production.BatchMove(strings.TrimSpace(s))
	switch mv {
	case production.MoveUnschedule, production.MoveRelease, production.MoveComplete, production.MoveReview:
		return mv, nil
	case production.MoveSchedule:
		return mv, errs.Field("action", "web.batch_scheduled_post_api")
	}
	return mv, errs.Field("action", "web.action_must_unschedule_release")
}

// batchFilter reads the filters of the batches from the query: the states
// are a list separated by commas, and the list comes a page at a time.
func (s *Server) batchFilter(r *http.Request) (production.BatchFilter, error) {
	q := r.URL.Query()
	ids, err := queryIDs(q, "client_id", "line_id", "order_id")
	if err != nil {
		return production.BatchFilter{}, err
	}
	f := production.BatchFilter{ClientID: ids["client_id"], LineID: ids["line_id"], OrderID: ids["order_id"]}
	if f.Query, err = searchText(q); err != nil {
		return f, err
	}
	if f.States, err = parseBatchStates(q.Get("state")); err != nil {
		return f, err
	}
	if f.From, f.To, err = periodOf(q, s.zone()); err != nil {
		return f, err
	}
	f.Limit, f.Offset, err = pageOf(q)
	return f, err
}

// parseBatchStates reads a list of batch states separated by commas; an
// empty list is every state.
func parseBatchStates(v string) ([]production.BatchState, error) {
	if v == "" {
		return nil, nil
	}
	var out []production.BatchState
	for _, part := range strings.Split(v, ",") {
		st := production.BatchState(strings.TrimSpace(part))
		if !slices.Contains(production.BatchStates, st) {
			names := make([]string, len(production.BatchStates))
			for i, s := range production.BatchStates {
				names[i] = string(s)
			}
			return nil, errs.Field("state", "web.state_must_several_separated", strings.Join(names, ", "))
		}
		if !slices.Contains(out, st) {
			out = append(out, st)
		}
	}
	return out, nil
}

// maxListAll is the page of the lists that answered all their items
// before they were paged: the most a page holds, so that they still do
// up to that many.
const maxListAll = 1000

// lotStatusOf reads a lot's status filter: "" is every status.
func lotStatusOf(v string) (production.LotStatus, error) {
	st := production.LotStatus(v)
	if v == "" || slices.Contains(production.LotStatuses, st) {
		return st, nil
	}
	names := make([]string, len(production.LotStatuses))
	for i, s := range production.LotStatuses {
		names[i] = string(s)
	}
	return "", errs.Field("status", "web.status_must_be_one_of", strings.Join(names, ", "))
}

// periodOf reads the query's period, from and to, as the audit trail's
// filter does: each an RFC 3339 time or a calendar day in zone ("to" a
// day included).
func periodOf(q url.Values, zone *time.Location) (from, to time.Time, err error) {
	if from, _, err = timeParam(q, "from", true, zone); err != nil {
		return
	}
	to, _, err = timeParam(q, "to", true, zone)
	return
}

// formOf reads a galenic form filter: blank (every form) or one of the
// site's forms.
func formOf(v string) (site.Form, error) {
	f := site.Form(strings.TrimSpace(v))
	if f == "" || slices.Contains(site.Forms, f) {
		return f, nil
	}
	return "", errs.Field("form", "web.form_must_be_one_of", strings.ReplaceAll(site.FormsText(site.Forms), ",", ", "))
}

// orderBody is what POST /api/v1/orders takes: the due date is a day.
type orderBody struct {
	ProductID string  `json:"product_id"`
	Quantity  float64 `json:"quantity"`
	DueOn     string  `json:"due_on"`
}

func (s *Server) apiCreateOrder(w http.ResponseWriter, r *http.Request) {
	var in orderBody
	if err := decode(w, r, &in); err != nil {
		s.apiError(w, r, err)
		return
	}
	o := production.Order{ProductID: in.ProductID, Quantity: in.Quantity}
	if in.DueOn != "" {
		d, err := time.Parse(time.DateOnly, in.DueOn)
		if err != nil {
			s.apiError(w, r, errs.Field("due_on", "web.due_date_day_written"))
			return
		}
		o.DueOn = d
	}
	if err := s.Production.CreateOrder(r.Context(), &o); err != nil {
		s.apiError(w, r, err)
		return
	}
	if o.Batches == nil {
		// The order is answered with its batches, as GET reads it.
		if got, err := s.Production.Order(r.Context(), o.ID); err == nil {
			o = *got
		}
	}
	writeJSON(w, http.StatusCreated, &o)
}

// monday returns the start of the week holding t, Monday 00:00 in the
// site's zone.
func monday(t time.Time, zone *time.Location) time.Time {
	t = t.In(zone)
	d := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, zone)
	return d.AddDate(0, 0, -((int(d.Weekday()) + 6) % 7))
}

// scheduleFilter reads the schedule's building and period: from and to as
// days (YYYY-MM-DD, in the site's zone, to included) or RFC 3339 times; by
// default this week and the next three, and four weeks from a from alone.
func scheduleFilter(r *http.Request, now time.Time, zone *time.Location) (production.ScheduleFilter, error) {
	q := r.URL.Query()
	f := production.ScheduleFilter{BuildingID: q.Get("building_id")}
	f.From = monday(now, zone)
	f.To = f.From.AddDate(0, 0, 28)
	for _, p := range []struct {
		name string
		dst  *time.Time
	}{{"from", &f.From}, {"to", &f.To}} {
		t, ok, err := timeParam(q, p.name, true, zone)
		if err != nil {
			return f, err
		}
		if ok {
			*p.dst = t
		}
	}
	if q.Get("from") != "" && q.Get("to") == "" {
		f.To = f.From.AddDate(0, 0, 28)
	}
	// The service bounds the period.
	f.From, f.To = f.From.UTC(), f.To.UTC()
	return f, nil
}

func (s *Server) apiSchedule(w http.ResponseWriter, r *http.Request) {
	f, err := scheduleFilter(r, time.Now(), s.zone())
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	sc, err := s.Production.Schedule(r.Context(), f)
	s.answer(w, r, http.StatusOK, sc, err)
}

func (s *Server) apiCapacity(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	week := monday(time.Now(), s.zone())
	if v := q.Get("week"); v != "" {
		d, err := time.ParseInLocation(time.DateOnly, v, s.zone())
		if err != nil {
			s.apiError(w, r, errs.Field("week", "web.week_named_days_written"))
			return
		}
		if err := bounds.Time("week", d); err != nil {
			s.apiError(w, r, err)
			return
		}
		week = monday(d, s.zone())
	}
	c, err := s.Production.Capacity(r.Context(), q.Get("building_id"), week)
	s.answer(w, r, http.StatusOK, c, err)
}

// seesNames reports whether the actor may see who performed and signed
// the steps of a batch record: site staff, never a client's user. The
// service keeps the record from a client's users already; this is the
// second wall, for every answer that carries steps or signatures.
func seesNames(ctx context.Context) bool {
	a, ok := identity.ActorFrom(ctx)
	return ok && !a.IsClient() && (a.IsSystem() || len(a.Roles) > 0)
}

// anonymousStep blanks who performed the step and who signed it, for an
// actor who may not see names.
func anonymousStep(ctx context.Context, st *production.StepRecord) *production.StepRecord {
	if st == nil || seesNames(ctx) {
		return st
	}
	c := anonymousSteps([]production.StepRecord{*st})[0]
	return &c
}

func anonymousSteps(steps []production.StepRecord) []production.StepRecord {
	out := make([]production.StepRecord, len(steps))
	for i, st := range steps {
		st.PerformedBy, st.PerformedName = "", ""
		st.Signatures = anonymousSignatures(st.Signatures)
		out[i] = st
	}
	return out
}

func anonymousSignatures(sigs []esign.Signature) []esign.Signature {
	if sigs == nil {
		return nil
	}
	out := make([]esign.Signature, len(sigs))
	for i, g := range sigs {
		g.SignerID, g.SignerName = "", ""
		out[i] = g
	}
	return out
}
