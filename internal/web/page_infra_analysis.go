package web

import (
	"net/http"
	"net/url"
	"strings"
	"time"

	"galenix/internal/errs"
	"galenix/internal/infra"
	"galenix/internal/site"
)

// What a loss costs, in pages: the single points of failure of the site
// and of its places; the what-if of a shutdown (a building, a room,
// assets), whose link can be shared; the planned shutdown IT drafts from
// it, and the plans drafted, each printable for quality assurance and
// production.

// infraSPOFPage is the single points of failure: those shared by several
// lines or rooms (Shared), a line's own equipment apart (Own); and the
// places whose loss stops something beyond themselves.
type infraSPOFPage struct {
	infraBase
	Shared, Own []infra.SinglePoint
	Places      []infra.LossReport
	Assets      int
	Targets     int
}

func (s *Server) infraSPOF(w http.ResponseWriter, r *http.Request) {
	svc, b, ok := s.infraPage(w, r, "/infra/spof")
	if !ok {
		return
	}
	an, err := svc.Analysis(r.Context())
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	d := infraSPOFPage{infraBase: b, Places: an.Places, Assets: an.Assets, Targets: an.Targets}
	for _, p := range an.Points {
		if p.Own {
			d.Own = append(d.Own, p)
		} else {
			d.Shared = append(d.Shared, p)
		}
	}
	s.render(w, r, http.StatusOK, "infra_spof", d)
}

// stopGroup is the targets of one kind a shutdown stops.
type stopGroup struct {
	Kind  infra.Kind
	Stops []infra.Stop
}

// groupStops gathers the targets stopped by kind, in the order of the
// kinds (lines, rooms' monitoring, doors, services), each the costliest
// first.
func groupStops(stops []infra.Stop) []stopGroup {
	var out []stopGroup
	for _, k := range []infra.Kind{infra.Line, infra.RoomMonitoring, infra.Door, infra.ServiceKind} {
		g := stopGroup{Kind: k}
		for _, st := range stops {
			if st.Kind == k {
				g.Stops = append(g.Stops, st)
			}
		}
		if len(g.Stops) > 0 {
			out = append(out, g)
		}
	}
	return out
}

// infraWhatIfPage is the what-if: the scope chosen (a building, a room,
// assets by their codes), what shutting it down stops, and the form that
// drafts the planned shutdown.
type infraWhatIfPage struct {
	infraBase
	Buildings []site.Building
	Rooms     []optionGroup
	Codes     []string
	// BuildingID, RoomID and AssetCodes are the scope as asked.
	BuildingID, RoomID, AssetCodes string
	// Asked: a scope was given; Refused why it could not be weighed.
	Asked   bool
	Refused string
	Result  *infra.Impacted
	Groups  []stopGroup
	Plan    *form
}

// planFields are the plan form's fields, each showing its own refusal.
var planFields = []string{"title", "from", "to", "measures"}

// renderInfraWhatIf weighs the scope q names (building_id, room_id,
// codes) and draws the what-if, with the refused plan form, if any.
func (s *Server) renderInfraWhatIf(w http.ResponseWriter, r *http.Request, status int, q url.Values, plan *form) {
	svc, b, ok := s.infraPage(w, r, "/infra/whatif")
	if !ok {
		return
	}
	ctx := r.Context()
	d := infraWhatIfPage{infraBase: b, BuildingID: strings.TrimSpace(q.Get("building_id")), RoomID: strings.TrimSpace(q.Get("room_id")),
		AssetCodes: strings.TrimSpace(q.Get("codes"))}
	buildings, rooms, err := s.infraPlaces(ctx)
	var inventory []infra.Asset
	if err == nil {
		inventory, err = svc.Assets(ctx, infra.Filter{})
	}
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	d.Buildings, d.Rooms, d.Codes = buildings, roomGroups(buildings, rooms), assetCodes(inventory)
	d.Asked = d.BuildingID != "" || d.RoomID != "" || d.AssetCodes != ""
	if d.Asked {
		sc, err := scopeOf(q, inventory)
		var im *infra.Impacted
		if err == nil {
			im, err = svc.WhatIf(ctx, sc)
		}
		switch {
		case err == nil:
			d.Result, d.Groups = im, groupStops(im.Stopped)
		case s.infraRefusal(w, r, err):
			return
		default:
			// A scope that is none (a place gone, a code mistyped) is said
			// above the form, which keeps it to be corrected.
			d.Refused = errs.MessageOf(err, d.Lang)
			if status == http.StatusOK {
				status = refusalStatus(err)
			}
		}
	}
	if plan == nil {
		// A morning's shutdown, tomorrow, to start from.
		day := time.Now().In(d.zone).AddDate(0, 0, 1)
		from := time.Date(day.Year(), day.Month(), day.Day(), 8, 0, 0, 0, d.zone)
		plan = &form{Values: url.Values{"from": {from.Format(localMinute)}, "to": {from.Add(4 * time.Hour).Format(localMinute)}}, lang: d.Lang}
	}
	plan.shown = planFields
	d.Plan = plan
	if r.Method == http.MethodPost {
		d.Path = infraPath("/infra/whatif", url.Values{"building_id": {d.BuildingID}, "room_id": {d.RoomID}, "codes": {d.AssetCodes}})
	}
	s.render(w, r, status, "infra_whatif", d)
}

// scopeOf reads a what-if's scope: a building, a room, assets by their
// codes.
func scopeOf(q url.Values, inventory []infra.Asset) (infra.Scope, error) {
	sc := whatIfScope(q)
	ids, err := idsOfCodes("codes", q.Get("codes"), inventory)
	sc.AssetIDs = append(sc.AssetIDs, ids...)
	return sc, err
}

// infraDraftPlan drafts the planned shutdown of the what-if's scope, its
// window read in the site's zone, and leads to the plan. A refusal shows
// the what-if again with the form as typed; nothing is written.
func (s *Server) infraDraftPlan(w http.ResponseWriter, r *http.Request, vals url.Values) {
	svc, err := s.infraSvc()
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	ctx := r.Context()
	p := infra.Plan{Title: vals.Get("title"), Measures: vals.Get("measures")}
	inventory, err := svc.Assets(ctx, infra.Filter{})
	if err == nil {
		p.Scope, err = scopeOf(vals, inventory)
	}
	if err == nil {
		p.From, err = moment(vals, "from", s.zone())
	}
	if err == nil {
		p.To, err = moment(vals, "to", s.zone())
	}
	if err == nil {
		err = svc.DraftPlan(ctx, &p)
	}
	if err != nil {
		if s.infraRefusal(w, r, err) {
			return
		}
		s.logIfInternal(r, err)
		s.renderInfraWhatIf(w, r, refusalStatus(err), vals, &form{Values: vals, Err: err, lang: langOf(r)})
		return
	}
	http.Redirect(w, r, "/infra/plans/"+url.PathEscape(p.ID)+"?done=drafted", http.StatusSeeOther)
}

// infraPlansPage is the planned shutdowns drafted, the latest first.
type infraPlansPage struct {
	infraBase
	Plans  []infra.Plan
	places map[string]string
}

// Place is a building's or a room's code and name, by its id.
func (p infraPlansPage) Place(id string) string {
	if n, ok := p.places[id]; ok {
		return n
	}
	return "—"
}

// placeNames names the site's buildings and rooms by their ids.
func (s *Server) placeNames(r *http.Request) (map[string]string, error) {
	buildings, rooms, err := s.infraPlaces(r.Context())
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	for _, b := range buildings {
		out[b.ID] = b.Code + " — " + b.Name
		for _, rm := range rooms[b.ID] {
			out[rm.ID] = rm.Code + " — " + rm.Name
		}
	}
	return out, nil
}

func (s *Server) infraPlans(w http.ResponseWriter, r *http.Request) {
	svc, b, ok := s.infraPage(w, r, "/infra/plans")
	if !ok {
		return
	}
	d := infraPlansPage{infraBase: b}
	var err error
	if d.Plans, err = svc.Plans(r.Context()); err == nil {
		d.places, err = s.placeNames(r)
	}
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "infra_plans", d)
}

// infraPlanPage is one planned shutdown, printable: its window and scope,
// the measures IT plans, and what its what-if found when drafted.
type infraPlanPage struct {
	infraPlansPage
	P      infra.Plan
	Groups []stopGroup
	// Named are the codes of the assets the scope names one by one.
	Named []string
}

func (s *Server) infraPlan(w http.ResponseWriter, r *http.Request) {
	svc, b, ok := s.infraPage(w, r, "/infra/plans")
	if !ok {
		return
	}
	p, err := svc.Plan(r.Context(), r.PathValue("id"))
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	d := infraPlanPage{infraPlansPage: infraPlansPage{infraBase: b}, P: *p, Groups: groupStops(p.Impact.Stopped)}
	if d.places, err = s.placeNames(r); err != nil {
		s.pageError(w, r, err)
		return
	}
	codes := map[string]string{}
	for _, f := range p.Impact.Failed {
		codes[f.ID] = f.Code
	}
	for _, id := range p.Scope.AssetIDs {
		if c, ok := codes[id]; ok {
			d.Named = append(d.Named, c)
		}
	}
	s.render(w, r, http.StatusOK, "infra_plan", d)
}
