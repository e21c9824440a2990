package web

import (
	"net/http"
	"net/url"
	"strings"
	"time"

	"galenix/internal/identity"
	"galenix/internal/production"
	"galenix/internal/site"
	"galenix/internal/text"
)

// routesProductionPages registers the production pages: the shop floor's
// tablet pages, batches, the QA review, the schedule and the genealogy.
// Every page asks the production service, which checks the permissions and
// the client scope; the pages only hide what would be refused anyway.
// formWrite registers a form that changes production or quality data: h
// gets the form's values; as the API's writes, it wakes the live streams
// of batches once it succeeds.
func (s *Server) formWrite(path string, h func(http.ResponseWriter, *http.Request, url.Values)) {
	s.handle("POST", path, false, s.live.after(func(w http.ResponseWriter, r *http.Request) {
		vals, err := postForm(w, r)
		if err != nil {
			s.pageError(w, r, err)
			return
		}
		h(w, r, vals)
	}))
}

func (s *Server) routesProductionPages() {
	write := s.formWrite
	s.handle("GET", "/floor", false, s.floorPage)
	s.handle("GET", "/floor/lines/{id}", false, s.floorLinePage)
	write("/floor/lines/{id}/step", s.floorStep)
	write("/floor/lines/{id}/sign", s.floorSign)
	write("/floor/lines/{id}/complete", s.floorComplete)
	for _, form := range []string{"step", "sign", "complete"} {
		s.handle("GET", "/floor/lines/{id}/"+form, false, s.floorBack)
	}
	s.handle("POST", "/session/keepalive", false, s.keepAlive)

	s.handle("GET", "/batches", false, s.batchesPage)
	s.handle("GET", "/batches/{id}", false, s.batchPage)
	s.handle("GET", "/batches/{id}/review", false, s.batchReviewPage)
	write("/batches/{id}/review", s.batchTakeReview)
	s.handle("GET", "/batches/{id}/record.pdf", false, s.batchRecordPDF)

	s.handle("GET", "/schedule", false, s.schedulePage)
	s.handle("GET", "/capacity", false, s.capacityPage)
	s.handle("GET", "/genealogy", false, s.genealogyPage)

	s.handle("GET", "/products", false, s.productsPage)
	s.handle("GET", "/lots", false, s.lotsPage)
	s.routesStockPages()
	s.routesMasterEditor()
	s.routesPlanningPages()
	s.handle("GET", "/masters", false, s.mastersPage)
	s.handle("GET", "/masters/{id}", false, s.masterPage)
	write("/masters/{id}/sign", s.masterSign)
	write("/masters/{id}/client-approve", s.masterClientSign)
	write("/masters/{id}/move", s.masterMove)
}

// prodBase is what every production page has: the layout's base, the
// production tabs, and helpers that write times and numbers in the page's
// language.
type prodBase struct {
	base
	Tabs []prodTab
	// Client says the reader is a client laboratory's user: no names of
	// operators are shown to them, anywhere.
	Client bool
	// zone is the site's time zone, for When.
	zone *time.Location
}

// prodTab is one tab of the production pages' navigation.
type prodTab struct {
	Href, Key string
	Current   bool
}

func (s *Server) prodBase(r *http.Request, nav, tab string) prodBase {
	b := s.base(r, nav)
	p := prodBase{base: b, Client: b.Actor.IsClient(), zone: s.zone()}
	a := b.Actor
	if !a.Can(identity.PermProductionView) {
		return p
	}
	staff := !a.IsClient()
	for _, t := range []struct {
		href, key string
		show      bool
	}{
		{"/floor", "floor", a.Can(identity.PermBatchExecute)},
		{"/batches", "batches", true},
		{"/orders", "orders", true},
		{"/schedule", "schedule", staff},
		{"/capacity", "capacity", staff},
		{"/products", "products", true},
		{"/masters", "masters", staff},
		{"/lots", "lots", staff},
		{"/materials", "materials", staff},
		{"/genealogy", "genealogy", staff},
	} {
		if t.show {
			p.Tabs = append(p.Tabs, prodTab{Href: t.href, Key: "prod.tab." + t.key, Current: t.key == tab})
		}
	}
	return p
}

// When writes a time (time.Time or *time.Time) in the site's zone to the
// minute; "—" when there is none.
func (p prodBase) When(v any) string { return prodWhen(p.Lang, v, p.zone) }

// Num writes a number the way the page's language does.
func (p prodBase) Num(f float64) string { return formatDecimal(p.Lang, f) }

// Opt writes an optional number; "—" when there is none.
func (p prodBase) Opt(f *float64) string {
	if f == nil {
		return "—"
	}
	return formatDecimal(p.Lang, *f)
}

// Why says how a step's value is out of its limits, in the page's
// language.
func (p prodBase) Why(r production.StepRecord) string { return stepWhy(p.Lang, &r) }

// Stored writes a stored text (a deviation's title) in the page's
// language.
func (p prodBase) Stored(s string) string { return storedText(p.Lang, s) }

// stepWhy says how a step's value is out of its limits, in the language:
// the stored coded text rendered, an older row's English words as they
// are.
func stepWhy(lang string, r *production.StepRecord) string { return storedText(lang, r.Why) }

// Hours writes a duration in hours with one decimal.
func (p prodBase) Hours(f float64) string {
	return formatDecimal(p.Lang, float64(int(f*10+0.5))/10)
}

func prodWhen(lang string, v any, zone *time.Location) string {
	var t time.Time
	switch x := v.(type) {
	case time.Time:
		t = x
	case *time.Time:
		if x != nil {
			t = *x
		}
	}
	if t.IsZero() {
		return "—"
	}
	if lang == langEN {
		return t.In(zone).Format("2006-01-02 15:04")
	}
	return t.In(zone).Format("02/01/2006 15:04")
}

// stepSpec writes what a step expects, in the language: the limits of a
// numeric entry, the quantity of a material, the class of equipment, the
// sampling point.
func stepSpec(lang string, st *production.Step, materials map[string]production.Material) string {
	switch st.Kind {
	case production.StepNumeric:
		if st.Low == nil || st.High == nil || st.Target == nil {
			return ""
		}
		f := func(v float64) string { return decimals(lang, v, st.Decimals) }
		return tr(lang, "step.target") + " " + f(*st.Target) + " " + st.Unit + " — " + tr(lang, "step.limits") + " [" + f(*st.Low) + " ; " + f(*st.High) + "] " + st.Unit
	case production.StepMaterial:
		m := materials[st.MaterialID]
		name := m.Name
		if m.Code != "" {
			name = m.Code + " " + m.Name
		}
		return strings.TrimSpace(name + " " + formatDecimal(lang, st.Quantity) + " " + m.Unit + " ± " + formatDecimal(lang, st.Tolerance) + " %")
	case production.StepEquipment:
		return st.EquipmentKind
	case production.StepSampling:
		return st.SamplePoint
	case production.StepClearance:
		return text.RenderCount(lang, "step.items", len(st.Checklist), len(st.Checklist))
	}
	return ""
}

// decimals writes v with n decimals in the language.
func decimals(lang string, v float64, n int) string {
	return text.FormatFixed(lang, v, n)
}

// materialsByID reads the site's materials once, for the steps that name
// them.
func (s *Server) materialsByID(r *http.Request) (map[string]production.Material, error) {
	ms, err := s.Production.Materials(r.Context())
	if err != nil {
		return nil, err
	}
	out := make(map[string]production.Material, len(ms))
	for _, m := range ms {
		out[m.ID] = m
	}
	return out, nil
}

// --- genealogy

// genealogyPage follows a material lot forward to the batches that
// consumed it, or a batch backward to the lots it consumed.
type genealogyPage struct {
	prodBase
	Code    string
	Lots    []genealogyLot
	Batch   *production.Batch
	Inputs  []production.Consumption
	Message string
}

type genealogyLot struct {
	production.Lot
	Uses []production.Consumption
}

func (s *Server) genealogyPage(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	q := r.URL.Query()
	d := genealogyPage{prodBase: s.prodBase(r, "batches", "genealogy"), Code: strings.TrimSpace(q.Get("lot"))}
	if !d.Actor.Can(identity.PermProductionView) {
		s.pageError(w, r, d.Actor.Require(identity.PermProductionView))
		return
	}
	if id := q.Get("batch"); id != "" {
		b, err := s.Production.Batch(ctx, id)
		if err != nil {
			s.pageError(w, r, err)
			return
		}
		if d.Inputs, err = s.Production.BatchInputs(ctx, id); err != nil {
			s.pageError(w, r, err)
			return
		}
		d.Batch = b
	}
	if d.Code != "" {
		lots, err := s.Production.Lots(ctx, production.LotFilter{Code: d.Code})
		if err != nil {
			s.pageError(w, r, err)
			return
		}
		for _, l := range lots {
			uses, err := s.Production.LotUses(ctx, l.ID)
			if err != nil {
				s.pageError(w, r, err)
				return
			}
			d.Lots = append(d.Lots, genealogyLot{Lot: l, Uses: uses})
		}
		if len(lots) == 0 {
			d.Message = tr(d.Lang, "genealogy.nolot")
		}
	}
	s.render(w, r, http.StatusOK, "genealogy", d)
}

// --- the catalogue: products, material lots

type productsPage struct {
	prodBase
	listFilter
	Products []production.Product
	// Form is the galenic form the list keeps ("" all), of Forms.
	Form  string
	Forms []site.Form
	// CanCreate shows the links to the product forms.
	CanCreate bool
}

func (s *Server) productsPage(w http.ResponseWriter, r *http.Request) {
	lf, err := s.listFilterOf(r.Context(), r.URL.Query())
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	form, err := formOf(r.URL.Query().Get("form"))
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	ps, total, err := s.Production.SearchProducts(r.Context(), production.ProductFilter{ClientID: lf.ClientID, Form: form, Query: lf.Query, Limit: lf.Size, Offset: lf.Offset()})
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	d := productsPage{prodBase: s.prodBase(r, "batches", "products"), Products: ps, listFilter: lf, Form: string(form), Forms: site.Forms}
	d.paged(len(ps), total, "/products", url.Values{"form": {string(form)}})
	d.CanCreate = !d.Client && production.MayPlan(d.Actor) == nil
	s.render(w, r, http.StatusOK, "products", d)
}

type lotsPage struct {
	prodBase
	listFilter
	Lots []production.Lot
	// Status is the status the list keeps ("" all), of Statuses.
	Status   string
	Statuses []production.LotStatus
	// CanCreate shows the links to receive a lot and record a material.
	CanCreate bool
	now       time.Time
}

// Expired says the lot is past its expiry date.
func (p lotsPage) Expired(l production.Lot) bool { return lotExpired(&l, p.now) }

func (s *Server) lotsPage(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	lf, err := s.listFilterOf(r.Context(), q)
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	st, err := lotStatusOf(q.Get("status"))
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	// Lots are the site's: no client to choose.
	lf.Clients, lf.ClientID = nil, ""
	f := production.LotFilter{Status: st, Query: lf.Query, Limit: lf.Size, Offset: lf.Offset()}
	// Expiry dates are calendar days, the same everywhere (as the API).
	if f.ExpiresFrom, f.ExpiresTo, err = lf.period(q, time.UTC); err != nil {
		s.pageError(w, r, err)
		return
	}
	ls, total, err := s.Production.SearchLots(r.Context(), f)
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	d := lotsPage{prodBase: s.prodBase(r, "batches", "lots"), Lots: ls, now: time.Now(), listFilter: lf, Status: string(st), Statuses: production.LotStatuses}
	d.paged(len(ls), total, "/lots", url.Values{"status": {string(st)}})
	d.CanCreate = !d.Client && production.MayEditStock(d.Actor) == nil
	s.render(w, r, http.StatusOK, "lots", d)
}
