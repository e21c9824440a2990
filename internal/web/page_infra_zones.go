package web

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"galenix/internal/errs"
	"galenix/internal/infra"
)

// The IEC 62443 zones and conduits in a page: the zones with their target
// security level, the conduits joining them and the services each
// allows, the flows declared between assets, what the conduit rules find
// wrong; and IT's forms that add a zone, a conduit and a flow.

// zoneLine is a zone with how many assets it holds.
type zoneLine struct {
	infra.Zone
	Assets int
}

// conduitLine is a conduit with its zones' codes.
type conduitLine struct {
	infra.Conduit
	A, B string
}

// flowLine is a declared flow with its assets' codes and zones.
type flowLine struct {
	infra.Flow
	FromCode, ToCode, FromZone, ToZone string
}

// infraZonesPage is the zones, conduits, flows, findings and their forms.
type infraZonesPage struct {
	infraBase
	Zones    []zoneLine
	Conduits []conduitLine
	Flows    []flowLine
	Findings []infra.Finding
	Codes    []string
	// SLs are the security levels a zone or a conduit may target.
	SLs []int
	// Forms are the zone's, the conduit's and the flow's, as refused or
	// fresh.
	Forms map[string]*form
}

// zoneFormFields are the fields each form shows its refusals beside.
var zoneFormFields = map[string][]string{
	"zone":    {"code", "name", "target_sl"},
	"conduit": {"code", "name", "zone_a_id", "zone_b_id", "target_sl", "services"},
	"flow":    {"from", "to", "service", "purpose"},
}

// renderInfraZones draws the page with the refused form (zone, conduit or
// flow), if any.
func (s *Server) renderInfraZones(w http.ResponseWriter, r *http.Request, status int, refused string, f *form) {
	svc, b, ok := s.infraPage(w, r, "/infra/zones")
	if !ok {
		return
	}
	ctx := r.Context()
	d := infraZonesPage{infraBase: b, Forms: map[string]*form{}, SLs: []int{1, 2, 3, 4}}
	zones, err := svc.Zones(ctx)
	var conduits []infra.Conduit
	var flows []infra.Flow
	var assets []infra.Asset
	if err == nil {
		if conduits, err = svc.Conduits(ctx); err == nil {
			if flows, err = svc.Flows(ctx); err == nil {
				if assets, err = svc.Assets(ctx, infra.Filter{}); err == nil {
					d.Findings, err = svc.Findings(ctx)
				}
			}
		}
	}
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	zoneCode := map[string]string{}
	count := map[string]int{}
	for _, a := range assets {
		count[a.ZoneID]++
	}
	for _, z := range zones {
		zoneCode[z.ID] = z.Code
		d.Zones = append(d.Zones, zoneLine{Zone: z, Assets: count[z.ID]})
	}
	for _, c := range conduits {
		d.Conduits = append(d.Conduits, conduitLine{Conduit: c, A: zoneCode[c.ZoneA], B: zoneCode[c.ZoneB]})
	}
	byID := make(map[string]*infra.Asset, len(assets))
	for i := range assets {
		byID[assets[i].ID] = &assets[i]
	}
	for _, fl := range flows {
		l := flowLine{Flow: fl}
		if a := byID[fl.From]; a != nil {
			l.FromCode, l.FromZone = a.Code, a.Zone
		}
		if a := byID[fl.To]; a != nil {
			l.ToCode, l.ToZone = a.Code, a.Zone
		}
		d.Flows = append(d.Flows, l)
	}
	d.Codes = assetCodes(assets)
	for name, fields := range zoneFormFields {
		ff := &form{Values: url.Values{}, lang: d.Lang}
		if name == refused {
			ff = f
		}
		ff.shown = fields
		d.Forms[name] = ff
	}
	if r.Method == http.MethodPost {
		d.Path = "/infra/zones"
	}
	s.render(w, r, status, "infra_zones", d)
}

// zoneRefused shows the page again with the refused form.
func (s *Server) zoneRefused(w http.ResponseWriter, r *http.Request, name string, vals url.Values, err error) {
	if s.infraRefusal(w, r, err) {
		return
	}
	s.renderInfraZones(w, r, refusalStatus(err), name, &form{Values: vals, Err: err, lang: langOf(r)})
}

// targetSL reads a target security level (1 to 4).
func targetSL(v url.Values) (int, error) {
	n, err := strconv.Atoi(strings.TrimSpace(v.Get("target_sl")))
	if err != nil {
		return 0, errs.Field("target_sl", "infra.sl")
	}
	return n, nil
}

// infraAddZone records a zone from the page's form.
func (s *Server) infraAddZone(w http.ResponseWriter, r *http.Request, vals url.Values) {
	svc, err := s.infraSvc()
	z := infra.Zone{Code: vals.Get("code"), Name: vals.Get("name")}
	if err == nil {
		if z.Target, err = targetSL(vals); err == nil {
			err = svc.CreateZone(r.Context(), &z)
		}
	}
	if err != nil {
		s.zoneRefused(w, r, "zone", vals, err)
		return
	}
	http.Redirect(w, r, "/infra/zones?done=zone#zone-"+url.PathEscape(z.ID), http.StatusSeeOther)
}

// infraAddConduit records a conduit between two zones from the page's
// form; its services are separated by spaces or commas.
func (s *Server) infraAddConduit(w http.ResponseWriter, r *http.Request, vals url.Values) {
	svc, err := s.infraSvc()
	c := infra.Conduit{Code: vals.Get("code"), Name: vals.Get("name"), ZoneA: vals.Get("zone_a_id"), ZoneB: vals.Get("zone_b_id"),
		Services: strings.FieldsFunc(vals.Get("services"), func(r rune) bool { return r == ' ' || r == ',' || r == ';' })}
	if err == nil {
		if c.Target, err = targetSL(vals); err == nil {
			err = svc.CreateConduit(r.Context(), &c)
		}
	}
	if err != nil {
		s.zoneRefused(w, r, "conduit", vals, err)
		return
	}
	http.Redirect(w, r, "/infra/zones?done=conduit#conduit-"+url.PathEscape(c.ID), http.StatusSeeOther)
}

// flowFields are the flow form's names of the service's fields: the
// assets are typed by their codes.
var flowFields = map[string]string{"from_id": "from", "to_id": "to"}

// infraAddFlow declares a flow between two assets, named by their codes.
func (s *Server) infraAddFlow(w http.ResponseWriter, r *http.Request, vals url.Values) {
	svc, err := s.infraSvc()
	f := infra.Flow{Service: vals.Get("service"), Purpose: vals.Get("purpose")}
	if err == nil {
		var inventory []infra.Asset
		if inventory, err = svc.Assets(r.Context(), infra.Filter{}); err == nil {
			for _, end := range []struct {
				field string
				to    *string
			}{{"from", &f.From}, {"to", &f.To}} {
				var ids []string
				if ids, err = idsOfCodes(end.field, vals.Get(end.field), inventory); err != nil {
					break
				}
				if len(ids) > 1 {
					err = errs.Field(end.field, "infra.page.one_code")
					break
				}
				if len(ids) == 1 {
					*end.to = ids[0]
				}
			}
		}
		if err == nil {
			err = svc.CreateFlow(r.Context(), &f)
		}
	}
	if err != nil {
		var e *errs.Error
		if errors.As(err, &e) && flowFields[e.Field] != "" {
			err = &errs.Error{Code: e.Code, Field: flowFields[e.Field], Key: e.Key, Args: e.Args}
		}
		s.zoneRefused(w, r, "flow", vals, err)
		return
	}
	http.Redirect(w, r, "/infra/zones?done=flow#flow-"+url.PathEscape(f.ID), http.StatusSeeOther)
}
