package web

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"galenix/internal/audit"
	"galenix/internal/errs"
	"galenix/internal/esign"
	"galenix/internal/identity"
	"galenix/internal/production"
	"galenix/internal/site"
)

// The entry forms of production's catalogue and stock: products,
// materials, received lots; and a lot's page, where quality decides its
// status with a signature. Every write goes through the production
// service, as the API's do.

func (s *Server) routesStockPages() {
	routesEditor(s, "/products", productEditor(s))
	s.handle("GET", "/materials", false, s.materialsPage)
	routesEditor(s, "/materials", materialEditor(s))
	routesEditor(s, "/lots", lotEditor(s))
	s.handle("GET", "/lots/{id}", false, s.lotPage)
	s.formWrite("/lots/{id}/status", s.lotDecide)
}

func productEditor(s *Server) *editor[production.Product] {
	return &editor[production.Product]{
		entity: "product", nav: "batches", may: production.MayPlan,
		fields: []fieldSpec{
			{Name: "client_id", Kind: "select", Required: true, Choices: "clients", Wide: true},
			{Name: "code", Kind: "text", Required: true, Max: 40},
			{Name: "name", Kind: "text", Required: true, Max: 120},
			{Name: "form", Kind: "select", Required: true, Choices: "forms"},
			{Name: "strength", Kind: "text", Required: true, Max: 60},
			{Name: "presentation", Kind: "text", Required: true, Max: 120},
			{Name: "special_class", Kind: "select", Required: true, Choices: "classes"},
			{Name: "storage", Kind: "text", Required: true, Max: 60},
			{Name: "shelf_life_months", Kind: "integer"},
		},
		get: s.Production.Product, create: s.Production.CreateProduct, update: s.Production.UpdateProduct,
		setID: func(p *production.Product, id string) { p.ID = id },
		values: func(p *production.Product) url.Values {
			return url.Values{"client_id": {p.ClientID}, "code": {p.Code}, "name": {p.Name}, "form": {string(p.Form)},
				"strength": {p.Strength}, "presentation": {p.Presentation}, "special_class": {string(p.SpecialClass)}, "storage": {p.Storage},
				"shelf_life_months": {strconv.Itoa(p.ShelfLifeMonths)}}
		},
		parse: func(v url.Values) (*production.Product, error) {
			months, err := integer(v, "shelf_life_months")
			return &production.Product{ClientID: v.Get("client_id"), Code: v.Get("code"), Name: v.Get("name"), Form: site.Form(v.Get("form")),
				Strength: v.Get("strength"), Presentation: v.Get("presentation"), SpecialClass: production.SpecialClass(v.Get("special_class")),
				Storage: v.Get("storage"), ShelfLifeMonths: months}, err
		},
		choices: func(r *http.Request, _ url.Values) (map[string][]option, error) {
			lang := langOf(r)
			cs, err := s.Clients.Clients(r.Context())
			if err != nil {
				return nil, err
			}
			clients := make([]option, len(cs))
			for i, c := range cs {
				clients[i] = option{Value: c.ID, Label: c.Name + " (" + c.Code + ")"}
			}
			return map[string][]option{
				"clients": withNone(lang, "common.choose", clients),
				"forms":   withNone(lang, "common.choose", enumOptions(lang, "form", site.Forms)),
				"classes": enumOptions(lang, "class", production.SpecialClasses),
			}, nil
		},
		defaults: func(q url.Values) url.Values {
			return url.Values{"client_id": {q.Get("client_id")}, "special_class": {string(production.ClassNone)}}
		},
		cancel: func(url.Values, string) string { return "/products" },
		saved:  func(p *production.Product) string { return "/products?saved=1#product-" + p.ID },
	}
}

func materialEditor(s *Server) *editor[production.Material] {
	return &editor[production.Material]{
		entity: "material", nav: "batches", may: production.MayEditStock,
		fields: []fieldSpec{
			{Name: "code", Kind: "text", Required: true, Max: 40},
			{Name: "name", Kind: "text", Required: true, Max: 120},
			{Name: "kind", Kind: "select", Required: true, Choices: "kinds"},
			{Name: "unit", Kind: "text", Required: true, Max: 12},
		},
		get: s.Production.Material, create: s.Production.CreateMaterial, update: s.Production.UpdateMaterial,
		setID: func(m *production.Material, id string) { m.ID = id },
		values: func(m *production.Material) url.Values {
			return url.Values{"code": {m.Code}, "name": {m.Name}, "kind": {string(m.Kind)}, "unit": {m.Unit}}
		},
		parse: func(v url.Values) (*production.Material, error) {
			return &production.Material{Code: v.Get("code"), Name: v.Get("name"), Kind: production.MaterialKind(v.Get("kind")), Unit: v.Get("unit")}, nil
		},
		choices: func(r *http.Request, _ url.Values) (map[string][]option, error) {
			lang := langOf(r)
			return map[string][]option{"kinds": withNone(lang, "common.choose", enumOptions(lang, "materialkind", production.MaterialKinds))}, nil
		},
		cancel: func(url.Values, string) string { return "/materials" },
		saved:  func(m *production.Material) string { return "/materials?saved=1#material-" + m.ID },
	}
}

// lotEditor receives a lot: it enters quarantine, and only quality
// releases it, on its page.
func lotEditor(s *Server) *editor[production.Lot] {
	return &editor[production.Lot]{
		entity: "lot", nav: "batches", may: production.MayEditStock,
		fields: []fieldSpec{
			{Name: "material_id", Kind: "select", Required: true, Choices: "materials", Wide: true},
			{Name: "code", Kind: "text", Required: true, Max: 40},
			{Name: "supplier", Kind: "text", Max: 120},
			{Name: "supplier_lot", Kind: "text", Max: 60},
			{Name: "received_on", Kind: "date"},
			{Name: "quantity", Kind: "decimal", Required: true},
			{Name: "expires_on", Kind: "date", Required: true},
		},
		// A lot's status and stock change through their own commands.
		get: s.Production.Lot, create: s.Production.CreateLot,
		setID: func(l *production.Lot, id string) { l.ID = id },
		values: func(l *production.Lot) url.Values {
			v := url.Values{"material_id": {l.MaterialID}, "code": {l.Code}, "quantity": {fmtNum(l.Quantity)},
				"expires_on": {l.ExpiresOn.UTC().Format(time.DateOnly)}, "supplier": {l.Supplier}, "supplier_lot": {l.SupplierLot}}
			if l.ReceivedOn != nil {
				v.Set("received_on", l.ReceivedOn.UTC().Format(time.DateOnly))
			}
			return v
		},
		parse: func(v url.Values) (*production.Lot, error) {
			l := &production.Lot{MaterialID: v.Get("material_id"), Code: v.Get("code"), Status: production.LotQuarantine,
				Supplier: v.Get("supplier"), SupplierLot: v.Get("supplier_lot")}
			var err error
			if l.Quantity, err = decimal(v, "quantity", false); err != nil {
				return nil, err
			}
			if strings.TrimSpace(v.Get("received_on")) != "" {
				received, err := day(v, "received_on")
				if err != nil {
					return nil, err
				}
				l.ReceivedOn = &received
			}
			l.ExpiresOn, err = day(v, "expires_on")
			return l, err
		},
		choices: func(r *http.Request, _ url.Values) (map[string][]option, error) {
			lang := langOf(r)
			ms, err := s.Production.Materials(r.Context())
			if err != nil {
				return nil, err
			}
			opts := make([]option, len(ms))
			for i, m := range ms {
				opts[i] = option{Value: m.ID, Label: m.Code + " — " + m.Name + " (" + m.Unit + ")"}
			}
			return map[string][]option{"materials": withNone(lang, "common.choose", opts)}, nil
		},
		defaults: func(q url.Values) url.Values { return url.Values{"material_id": {q.Get("material_id")}} },
		cancel:   func(url.Values, string) string { return "/lots" },
		saved:    func(l *production.Lot) string { return "/lots/" + url.PathEscape(l.ID) + "?saved=1" },
	}
}

// --- materials

type materialsPage struct {
	prodBase
	Materials []production.Material
	CanCreate bool
}

func (s *Server) materialsPage(w http.ResponseWriter, r *http.Request) {
	ms, err := s.Production.Materials(r.Context())
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	d := materialsPage{prodBase: s.prodBase(r, "batches", "materials"), Materials: ms}
	d.CanCreate = !d.Client && production.MayEditStock(d.Actor) == nil
	s.render(w, r, http.StatusOK, "materials", d)
}

// --- a lot, and quality's decision on it

type lotPage struct {
	prodBase
	Lot *production.Lot
	// Expired says the lot is past its expiry: refused for use whatever
	// its status.
	Expired bool
	// History is every change of the lot's status, oldest first.
	History    []audit.Entry
	Signatures []esign.Signature
	// CanDecide shows the decision form to those who may change a lot's
	// status.
	CanDecide bool
	Decide    *form
	Statuses  []option
	Notice    string
}

func (s *Server) lotPage(w http.ResponseWriter, r *http.Request) {
	var notice string
	switch {
	case r.URL.Query().Get("saved") == "1":
		notice = tr(langOf(r), "lot.received")
	case r.URL.Query().Get("done") != "":
		notice = tr(langOf(r), "lot.decided")
	}
	s.renderLot(w, r, http.StatusOK, nil, notice)
}

func (s *Server) renderLot(w http.ResponseWriter, r *http.Request, status int, f *form, notice string) {
	ctx := r.Context()
	id := r.PathValue("id")
	content := s.contentOf(r, "lot", id)
	l, err := s.Production.Lot(ctx, id)
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	d := lotPage{prodBase: s.prodBase(r, "batches", "lots"), Lot: l, Notice: notice}
	d.Expired = lotExpired(l, time.Now())
	d.CanDecide = d.Actor.Can(identity.PermLotStatus)
	if f == nil {
		f = &form{Values: url.Values{}, lang: d.Lang}
	}
	f.shown = append(slices.Clip(signFields), "status")
	f.Values.Set("content_sha256", content)
	d.Decide = f
	d.Statuses = enumOptions(d.Lang, "lotdecision", []production.LotStatus{production.LotReleased, production.LotRejected, production.LotQuarantine})
	if s.Audit != nil {
		entries, err := s.Audit.Entries(ctx, audit.Filter{Entity: "lot", EntityID: l.ID})
		if err != nil && !errs.Is(err, errs.Forbidden) {
			s.pageError(w, r, err)
			return
		}
		for _, e := range entries {
			if e.Field == "status" {
				d.History = append(d.History, e)
			}
		}
		slices.SortFunc(d.History, func(a, b audit.Entry) int { return int(a.Seq - b.Seq) })
	}
	if svc := s.Signatures; svc != nil {
		if d.Signatures, err = svc.Signatures(ctx, "lot", l.ID); err != nil {
			s.pageError(w, r, err)
			return
		}
	}
	s.render(w, r, status, "lot", d)
}

// lotMeaning is what quality's signature of a lot's status says: a
// release approves the lot; a rejection, or a block back to quarantine,
// refuses its use.
func lotMeaning(st production.LotStatus) esign.Meaning {
	if st == production.LotReleased {
		return esign.Approved
	}
	return esign.Rejected
}

// lotDecide records quality's decision on a lot. A release or a rejection
// is the signature itself (21 CFR 11.200: username and password): the
// status changes as its reaction, in its transaction (store.decideLot),
// so a refused signature changes nothing. A block back to quarantine only
// restricts the lot's use: it is recorded with its reason, unsigned.
func (s *Server) lotDecide(w http.ResponseWriter, r *http.Request, vals url.Values) {
	ctx := r.Context()
	id := r.PathValue("id")
	a, _ := identity.ActorFrom(ctx)
	st := production.LotStatus(vals.Get("status"))
	again := func(err error) {
		if errs.Is(err, errs.NotFound) && errs.FieldOf(err) == "" {
			s.pageError(w, r, err)
			return
		}
		s.logIfInternal(r, err)
		vals.Del("password")
		s.renderLot(w, r, refusalStatus(err), &form{Values: vals, Err: err, lang: langOf(r)}, "")
	}
	err := production.MayChangeLotStatus(a, st, vals.Get("reason"))
	if st == production.LotQuarantine {
		if err == nil {
			_, err = s.Production.SetLotStatus(ctx, id, st, vals.Get("reason"))
		}
		if err != nil {
			again(err)
			return
		}
		http.Redirect(w, r, "/lots/"+url.PathEscape(id)+"?done="+string(st), http.StatusSeeOther)
		return
	}
	if err == nil {
		err = esign.Permit(a, "lot", lotMeaning(st))
	}
	if err == nil && vals.Get("password") == "" {
		err = errs.Field("password", "web.lot.password")
	}
	if err == nil {
		_, err = s.signRecord(r, "lot", id, string(lotMeaning(st)), vals)
	}
	if err != nil {
		again(err)
		return
	}
	http.Redirect(w, r, "/lots/"+url.PathEscape(id)+"?done="+string(st), http.StatusSeeOther)
}

// lotExpired says the lot is past its expiry date at now, as the shop
// floor refuses it (production.Lot.Usable).
func lotExpired(l *production.Lot, now time.Time) bool {
	return !now.Before(l.ExpiresOn.AddDate(0, 0, 1))
}
