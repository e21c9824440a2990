package web

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"galenix/internal/errs"
	"galenix/internal/infra"
	"galenix/internal/site"
)

// An asset's form, new or changed: its places chosen among the site's,
// its dependencies typed by their codes, a change made at the version
// read and with a reason.

// assetFields are the asset form's fields, each showing its own refusal.
var assetFields = []string{"code", "name", "kind", "building_id", "room_id", "line_id", "model", "serial", "addresses", "owner", "contract",
	"contract_ends", "isa95_level", "zone_id", "gmp_impact", "need", "depends_on", "reason"}

// infraAssetFormPage is the form of a new asset, or of a change of one
// (Edit, at Version, with a reason).
type infraAssetFormPage struct {
	infraBase
	Edit           bool
	ID             string
	Action, Cancel string
	Version        string
	Form           *form
	Kinds          []infra.Kind
	Impacts        []infra.Impact
	Levels         []int
	Buildings      []site.Building
	Rooms          []optionGroup
	Lines          []site.Line
	Zones          []infra.Zone
	Codes          []string
}

// assetValues shows an asset in the form: its dependencies by their
// codes.
func assetValues(a *infra.Asset) url.Values {
	v := url.Values{"code": {a.Code}, "name": {a.Name}, "kind": {string(a.Kind)}, "building_id": {a.BuildingID}, "room_id": {a.RoomID},
		"line_id": {a.LineID}, "model": {a.Model}, "serial": {a.Serial}, "addresses": {strings.Join(a.Addresses, " ")}, "owner": {a.Owner},
		"contract": {a.Contract}, "contract_ends": {a.ContractEnds}, "isa95_level": {strconv.Itoa(int(a.Level))}, "zone_id": {a.ZoneID},
		"gmp_impact": {string(a.Impact)}, "depends_on": {strings.Join(a.Depends, " ")}, "version": {strconv.Itoa(a.Version)}}
	if a.Kind == infra.Group {
		v.Set("need", strconv.Itoa(a.Need))
	}
	return v
}

// assetOf reads the form: the level of its kind when none is chosen, its
// dependencies by their codes; the service judges the rest.
func assetOf(v url.Values, inventory []infra.Asset) (infra.Asset, error) {
	a := infra.Asset{Code: v.Get("code"), Name: v.Get("name"), Kind: infra.Kind(v.Get("kind")), BuildingID: v.Get("building_id"),
		RoomID: v.Get("room_id"), LineID: v.Get("line_id"), Model: v.Get("model"), Serial: v.Get("serial"), Addresses: strings.Fields(v.Get("addresses")),
		Owner: v.Get("owner"), Contract: v.Get("contract"), ContractEnds: v.Get("contract_ends"), ZoneID: v.Get("zone_id"),
		Impact: infra.Impact(v.Get("gmp_impact"))}
	a.Level = a.Kind.DefaultLevel()
	if s := strings.TrimSpace(v.Get("isa95_level")); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil {
			return a, errs.Field("isa95_level", "infra.level")
		}
		a.Level = infra.Level(n)
	}
	var err error
	if a.Need, err = integer(v, "need"); err != nil {
		return a, err
	}
	a.DependsOn, err = idsOfCodes("depends_on", v.Get("depends_on"), inventory)
	return a, err
}

// renderInfraAssetForm draws the form of a new asset (id empty) or of the
// asset id, with the values and the refusal, if any.
func (s *Server) renderInfraAssetForm(w http.ResponseWriter, r *http.Request, status int, id string, f *form) {
	svc, b, ok := s.infraPage(w, r, "/infra/assets")
	if !ok {
		return
	}
	if err := infra.MayEdit(b.Actor); err != nil {
		s.pageError(w, r, err)
		return
	}
	ctx := r.Context()
	d := infraAssetFormPage{infraBase: b, Edit: id != "", ID: id, Action: "/infra/assets", Cancel: "/infra/assets", Kinds: infra.Kinds,
		Impacts: infra.Impacts, Levels: []int{0, 1, 2, 3, 4}}
	if f == nil {
		f = &form{Values: url.Values{"gmp_impact": {string(infra.ImpactNone)}, "kind": {r.URL.Query().Get("kind")}}, lang: d.Lang}
	}
	f.shown = assetFields
	d.Form = f
	if d.Edit {
		d.Action, d.Cancel, d.Version = "/infra/assets/"+url.PathEscape(id), "/infra/assets/"+url.PathEscape(id), f.Get("version")
	}
	if r.Method == http.MethodPost {
		d.Path = "/infra/assets/new"
		if d.Edit {
			d.Path = "/infra/assets/" + url.PathEscape(id) + "/edit"
		}
	}
	buildings, rooms, err := s.infraPlaces(ctx)
	var inventory []infra.Asset
	if err == nil {
		d.Buildings, d.Rooms = buildings, roomGroups(buildings, rooms)
		if d.Lines, err = s.Site.Lines(ctx, site.LineFilter{}); err == nil {
			if d.Zones, err = svc.Zones(ctx); err == nil {
				inventory, err = svc.Assets(ctx, infra.Filter{})
			}
		}
	}
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	d.Codes = assetCodes(inventory)
	s.render(w, r, status, "infra_asset_form", d)
}

// infraEditAsset opens the form of a change of the asset, at its version.
func (s *Server) infraEditAsset(w http.ResponseWriter, r *http.Request) {
	svc, err := s.infraSvc()
	var a *infra.Asset
	if err == nil {
		a, err = svc.Asset(r.Context(), r.PathValue("id"))
	}
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	s.renderInfraAssetForm(w, r, http.StatusOK, a.ID, &form{Values: assetValues(a), lang: langOf(r)})
}

// infraCreateAsset records a new asset from its form and leads to its
// page.
func (s *Server) infraCreateAsset(w http.ResponseWriter, r *http.Request, vals url.Values) {
	svc, err := s.infraSvc()
	var a infra.Asset
	if err == nil {
		var inventory []infra.Asset
		if inventory, err = svc.Assets(r.Context(), infra.Filter{}); err == nil {
			if a, err = assetOf(vals, inventory); err == nil {
				err = svc.CreateAsset(r.Context(), &a)
			}
		}
	}
	if err != nil {
		if s.infraRefusal(w, r, err) {
			return
		}
		s.renderInfraAssetForm(w, r, refusalStatus(err), "", &form{Values: vals, Err: err, lang: langOf(r)})
		return
	}
	http.Redirect(w, r, "/infra/assets/"+url.PathEscape(a.ID)+"?done=created", http.StatusSeeOther)
}

// infraUpdateAsset changes the asset at the version its form was opened
// at, with a reason. Someone else's change meanwhile shows the asset as
// it is now, with the reason typed kept and nothing saved.
func (s *Server) infraUpdateAsset(w http.ResponseWriter, r *http.Request, vals url.Values) {
	id := r.PathValue("id")
	svc, err := s.infraSvc()
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	ctx := r.Context()
	if _, err := svc.Asset(ctx, id); err != nil {
		s.pageError(w, r, err)
		return
	}
	version, err := formVersion(vals)
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	var a infra.Asset
	inventory, err := svc.Assets(ctx, infra.Filter{})
	if err == nil {
		if a, err = assetOf(vals, inventory); err == nil {
			a.ID, a.Version = id, version
			err = svc.UpdateAsset(ctx, &a, vals.Get("reason"))
		}
	}
	if errs.Is(err, errs.Stale) {
		cur, gerr := svc.Asset(ctx, id)
		if gerr != nil {
			s.pageError(w, r, gerr)
			return
		}
		cv := assetValues(cur)
		cv.Set("reason", vals.Get("reason"))
		s.renderInfraAssetForm(w, r, http.StatusPreconditionFailed, id, &form{Values: cv, Err: err, lang: langOf(r)})
		return
	}
	if err != nil {
		if s.infraRefusal(w, r, err) {
			return
		}
		s.renderInfraAssetForm(w, r, refusalStatus(err), id, &form{Values: vals, Err: err, lang: langOf(r)})
		return
	}
	http.Redirect(w, r, "/infra/assets/"+url.PathEscape(id)+"?done=updated", http.StatusSeeOther)
}
