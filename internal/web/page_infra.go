package web

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"galenix/internal/errs"
	"galenix/internal/infra"
	"galenix/internal/site"
	"galenix/internal/text"
)

// The infrastructure's pages, for who may read it (IT, the
// administration, production's supervisors, maintenance, quality
// assurance); the forms for IT alone, who keep it (the service checks
// both again). IT's home says what is down now and what it stops; the
// map shows each building's rooms and their equipment (page_infra_map.go);
// the inventory, an asset's page and its forms keep the records
// (page_infra_assets.go, page_infra_asset_form.go); the single points of
// failure, the what-if and the planned shutdowns it drafts weigh what a
// loss costs (page_infra_analysis.go); the zones and conduits keep the
// flows in order (page_infra_zones.go).

// routesInfraPages registers the infrastructure's pages.
func (s *Server) routesInfraPages() {
	write := s.handleForm
	s.handle("GET", "/infra", false, s.infraHome)
	s.handle("GET", "/infra/map", false, s.infraMap)
	s.handle("GET", "/infra/assets", false, func(w http.ResponseWriter, r *http.Request) { s.renderInfraAssets(w, r, http.StatusOK, nil) })
	s.handle("GET", "/infra/assets.csv", false, s.infraAssetsCSV)
	s.handle("POST", "/infra/assets/import", false, s.infraImport)
	s.handle("GET", "/infra/assets/new", false, func(w http.ResponseWriter, r *http.Request) {
		s.renderInfraAssetForm(w, r, http.StatusOK, "", nil)
	})
	write("/infra/assets", s.infraCreateAsset)
	s.handle("GET", "/infra/assets/{id}", false, func(w http.ResponseWriter, r *http.Request) { s.renderInfraAsset(w, r, http.StatusOK, "", nil) })
	s.handle("GET", "/infra/assets/{id}/edit", false, s.infraEditAsset)
	write("/infra/assets/{id}", s.infraUpdateAsset)
	write("/infra/assets/{id}/checks", s.infraAddCheck)
	write("/infra/assets/{id}/checks/{check}/delete", s.infraRemoveCheck)
	s.handle("GET", "/infra/spof", false, s.infraSPOF)
	s.handle("GET", "/infra/whatif", false, func(w http.ResponseWriter, r *http.Request) {
		s.renderInfraWhatIf(w, r, http.StatusOK, r.URL.Query(), nil)
	})
	s.handle("GET", "/infra/plans", false, s.infraPlans)
	write("/infra/plans", s.infraDraftPlan)
	s.handle("GET", "/infra/plans/{id}", false, s.infraPlan)
	s.handle("GET", "/infra/zones", false, func(w http.ResponseWriter, r *http.Request) { s.renderInfraZones(w, r, http.StatusOK, "", nil) })
	write("/infra/zones", s.infraAddZone)
	write("/infra/conduits", s.infraAddConduit)
	write("/infra/flows", s.infraAddFlow)
}

// infraTabs are the infrastructure's pages, in the order of their tabs.
var infraTabs = []struct{ href, key string }{
	{"/infra", "infra.page.tab.home"}, {"/infra/map", "infra.page.tab.map"}, {"/infra/assets", "infra.page.tab.assets"},
	{"/infra/spof", "infra.page.tab.spof"}, {"/infra/whatif", "infra.page.tab.whatif"}, {"/infra/plans", "infra.page.tab.plans"},
	{"/infra/zones", "infra.page.tab.zones"},
}

// infraTab is one tab of the infrastructure's pages.
type infraTab struct {
	Href, Key string
	Current   bool
}

// infraBase is what every page of the infrastructure has: its tabs, the
// reader's language and zone, whether the reader keeps the records, and
// the notice of what was just done.
type infraBase struct {
	base
	Tabs []infraTab
	// MayEdit: the reader keeps the infrastructure (the forms show).
	MayEdit bool
	Notice  string
	zone    *time.Location
}

// infraNotices say what was done, after a redirection (?done=).
var infraNotices = map[string]string{
	"created": "infra.page.done.created", "updated": "infra.page.done.updated", "check_added": "infra.page.done.check_added",
	"check_removed": "infra.page.done.check_removed", "drafted": "infra.page.done.drafted", "zone": "infra.page.done.zone",
	"conduit": "infra.page.done.conduit", "flow": "infra.page.done.flow",
}

// infraBase is the page's base under the tab, or the refusal of a reader
// who may not read the infrastructure.
func (s *Server) infraBase(r *http.Request, tab string) (infraBase, error) {
	b := infraBase{base: s.base(r, "infra"), zone: s.zone()}
	if err := infra.MayView(b.Actor); err != nil {
		return b, err
	}
	b.MayEdit = infra.MayEdit(b.Actor) == nil
	for _, t := range infraTabs {
		b.Tabs = append(b.Tabs, infraTab{Href: t.href, Key: t.key, Current: t.href == tab})
	}
	if key, ok := infraNotices[r.URL.Query().Get("done")]; ok && r.Method == http.MethodGet {
		b.Notice = tr(b.Lang, key)
	}
	return b, nil
}

// infraPage is the service and the base of a page under the tab, or
// false once the refusal is shown (no service, a reader who may not read
// the infrastructure).
func (s *Server) infraPage(w http.ResponseWriter, r *http.Request, tab string) (infra.Service, infraBase, bool) {
	svc, err := s.infraSvc()
	if err == nil {
		var b infraBase
		if b, err = s.infraBase(r, tab); err == nil {
			return svc, b, true
		}
	}
	s.pageError(w, r, err)
	return nil, infraBase{}, false
}

// When writes a time in the site's zone, the reader's way.
func (p infraBase) When(v any) string { return prodWhen(p.Lang, v, p.zone) }

// Day writes a day kept as YYYY-MM-DD (a contract's end) the reader's way.
func (p infraBase) Day(s string) string {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return s
	}
	return text.FormatDate(p.Lang, t, time.UTC)
}

// Finding is a conduit rule's finding in words.
func (p infraBase) Finding(f infra.Finding) string { return text.Render(p.Lang, f.Key, f.Args...) }

// Detail is a check's result or an event's detail in words.
func (p infraBase) Detail(c text.Coded) string {
	if c.Key == "" {
		return ""
	}
	return c.Render(p.Lang)
}

// Level is an ISA-95 level in words.
func (p infraBase) Level(l infra.Level) string {
	return text.Render(p.Lang, "infra.page.level_n", int(l))
}

// infraRefusal shows as a page what no form of the page can show: a
// record that does not exist, a reader refused the write.
func (s *Server) infraRefusal(w http.ResponseWriter, r *http.Request, err error) bool {
	if (errs.Is(err, errs.NotFound) && errs.FieldOf(err) == "") || errs.Is(err, errs.Forbidden) || errs.Is(err, errs.Internal) {
		s.pageError(w, r, err)
		return true
	}
	return false
}

// stateCount is how many assets are in one state.
type stateCount struct {
	State infra.State
	N     int
}

// infraHomePage is IT's home: the equipment's states, what is down now
// and what it stops, the first single points of failure, the conduit
// findings, the last changes of state and the next planned shutdowns.
type infraHomePage struct {
	infraBase
	Counts []stateCount
	// Equipment counts the assets the supervision may watch: neither the
	// targets nor the redundancy groups.
	Equipment int
	Live      *infra.Impacted
	// Points are the first single points of failure shared by several
	// lines or rooms; More how many others the full list has.
	Points   []infra.SinglePoint
	More     int
	Findings []infra.Finding
	Events   []infra.Event
	Plans    []infra.Plan
}

// homePoints is how many single points of failure IT's home lists.
const homePoints = 5

func (s *Server) infraHome(w http.ResponseWriter, r *http.Request) {
	d, err := s.infraHomeOf(r)
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "infra", d)
}

func (s *Server) infraHomeOf(r *http.Request) (*infraHomePage, error) {
	svc, err := s.infraSvc()
	if err != nil {
		return nil, err
	}
	b, err := s.infraBase(r, "/infra")
	if err != nil {
		return nil, err
	}
	d := &infraHomePage{infraBase: b}
	ctx := r.Context()
	g, err := svc.Graph(ctx)
	if err != nil {
		return nil, err
	}
	n := map[infra.State]int{}
	for i := range g.Assets {
		if a := &g.Assets[i]; !a.Kind.Target() && a.Kind != infra.Group {
			n[a.State]++
			d.Equipment++
		}
	}
	for _, st := range []infra.State{infra.StateUp, infra.StateDegraded, infra.StateDown, infra.StateUnknown} {
		d.Counts = append(d.Counts, stateCount{State: st, N: n[st]})
	}
	live := g.Live()
	d.Live = &live
	an, err := svc.Analysis(ctx)
	if err != nil {
		return nil, err
	}
	for _, p := range an.Points {
		if p.Own {
			continue
		}
		if len(d.Points) < homePoints {
			d.Points = append(d.Points, p)
		} else {
			d.More++
		}
	}
	if d.Findings, err = svc.Findings(ctx); err != nil {
		return nil, err
	}
	if d.Events, err = svc.Events(ctx, "", 20); err != nil {
		return nil, err
	}
	plans, err := svc.Plans(ctx)
	if err != nil {
		return nil, err
	}
	now := time.Now()
	for _, p := range plans {
		if p.To.After(now) {
			d.Plans = append(d.Plans, p)
		}
	}
	// The next first (Plans lists the latest first).
	slices.Reverse(d.Plans)
	d.Plans = d.Plans[:min(len(d.Plans), 5)]
	return d, nil
}

// infraPlaces reads the site's buildings, and their rooms by building.
func (s *Server) infraPlaces(ctx context.Context) ([]site.Building, map[string][]site.Room, error) {
	buildings, err := s.Site.Buildings(ctx)
	if err != nil {
		return nil, nil, err
	}
	rooms, err := s.Site.Rooms(ctx, site.RoomFilter{})
	if err != nil {
		return nil, nil, err
	}
	byBuilding := map[string][]site.Room{}
	for _, rm := range rooms {
		byBuilding[rm.BuildingID] = append(byBuilding[rm.BuildingID], rm)
	}
	return buildings, byBuilding, nil
}

// roomGroups are the rooms as the options of a select, under their
// buildings.
func roomGroups(buildings []site.Building, rooms map[string][]site.Room) []optionGroup {
	var out []optionGroup
	for _, b := range buildings {
		g := optionGroup{Label: b.Code + " — " + b.Name}
		for _, rm := range rooms[b.ID] {
			g.Options = append(g.Options, option{Value: rm.ID, Label: rm.Code + " — " + rm.Name})
		}
		if len(g.Options) > 0 {
			out = append(out, g)
		}
	}
	return out
}

// assetCodes are the inventory's codes, for a field's suggestions.
func assetCodes(as []infra.Asset) []string {
	out := make([]string, len(as))
	for i := range as {
		out[i] = as[i].Code
	}
	return out
}

// idsOfCodes reads the asset codes a field lists (separated by spaces or
// commas) into the assets' ids; a code of no asset is refused on the
// field.
func idsOfCodes(field, codes string, as []infra.Asset) ([]string, error) {
	byCode := make(map[string]string, len(as))
	for i := range as {
		byCode[strings.ToLower(as[i].Code)] = as[i].ID
	}
	var out []string
	for _, c := range strings.FieldsFunc(codes, func(r rune) bool { return r == ' ' || r == ',' || r == ';' || r == '\n' || r == '\r' || r == '\t' }) {
		id, ok := byCode[strings.ToLower(c)]
		if !ok {
			return nil, errs.Field(field, "infra.page.no_such_code", c)
		}
		if !slices.Contains(out, id) {
			out = append(out, id)
		}
	}
	return out, nil
}

// infraPath is the address of a page of the infrastructure with its
// query, for the language switch after a refused form.
func infraPath(path string, q url.Values) string {
	if len(q) == 0 {
		return path
	}
	return path + "?" + q.Encode()
}
