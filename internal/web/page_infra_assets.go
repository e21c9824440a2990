package web

import (
	"bytes"
	"io"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"galenix/internal/errs"
	"galenix/internal/infra"
	"galenix/internal/site"
	"galenix/internal/text"
)

// The inventory in pages: the list with its filters, its CSV export and
// import (all or none, every bad line named), an asset's page with what
// it depends on, what depends on it, what its loss alone stops, its
// checks and their last results, and the forms that keep it.

// infraAssetsPage is the inventory, filtered, with the import's form.
type infraAssetsPage struct {
	infraBase
	Assets    []infra.Asset
	Buildings []site.Building
	Kinds     []infra.Kind
	// BuildingID, Kind and Q are the filters as read.
	BuildingID, Kind, Q string
	// Export is the CSV export's address, with the filters.
	Export string
	Import *form
}

// infraFilter reads the inventory's filters from the query; a kind that
// is none is ignored.
func infraFilter(q url.Values) infra.Filter {
	f := infra.Filter{BuildingID: strings.TrimSpace(q.Get("building_id")), Kind: infra.Kind(q.Get("kind")), Q: strings.TrimSpace(q.Get("q"))}
	if !slices.Contains(infra.Kinds, f.Kind) {
		f.Kind = ""
	}
	return f
}

func (s *Server) renderInfraAssets(w http.ResponseWriter, r *http.Request, status int, imp *form) {
	svc, b, ok := s.infraPage(w, r, "/infra/assets")
	if !ok {
		return
	}
	q := r.URL.Query()
	f := infraFilter(q)
	d := infraAssetsPage{infraBase: b, Kinds: infra.Kinds, BuildingID: f.BuildingID, Kind: string(f.Kind), Q: f.Q, Import: imp}
	if q.Get("done") == "imported" && imp == nil {
		created, _ := strconv.Atoi(q.Get("created"))
		updated, _ := strconv.Atoi(q.Get("updated"))
		d.Notice = tr(d.Lang, "infra.page.done.imported") + " " + infraCount(d.Lang, "infra.page.created_n", created) + ", " +
			infraCount(d.Lang, "infra.page.updated_n", updated) + "."
	}
	ctx := r.Context()
	var err error
	if d.Assets, err = svc.Assets(ctx, f); err == nil {
		d.Buildings, err = s.Site.Buildings(ctx)
	}
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	eq := url.Values{}
	for k, v := range map[string]string{"building_id": f.BuildingID, "kind": string(f.Kind), "q": f.Q} {
		if v != "" {
			eq.Set(k, v)
		}
	}
	d.Export = infraPath("/infra/assets.csv", eq)
	if d.Import == nil {
		d.Import = &form{Values: url.Values{}, lang: d.Lang}
	}
	d.Import.shown = []string{"reason"}
	if r.Method == http.MethodPost {
		d.Path = "/infra/assets"
	}
	s.render(w, r, status, "infra_assets", d)
}

// infraCount writes a count and its noun, the count grouped the reader's
// way, the noun singular after one (text.RenderCount).
func infraCount(lang, key string, n int) string {
	return text.RenderCount(lang, key, n, formatInt(lang, n))
}

// infraAssetsCSV exports the inventory, filtered as the list is, in the
// import's format (UTF-8): what it writes, an import reads back unchanged.
func (s *Server) infraAssetsCSV(w http.ResponseWriter, r *http.Request) {
	svc, err := s.infraSvc()
	if err != nil {
		s.exportError(w, r, err)
		return
	}
	as, err := svc.Assets(r.Context(), infraFilter(r.URL.Query()))
	if err != nil {
		s.exportError(w, r, err)
		return
	}
	var buf bytes.Buffer
	if err := infra.WriteCSV(&buf, as); err != nil {
		s.exportError(w, r, errs.Wrap(err, "infra csv"))
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/csv; charset=utf-8")
	h.Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": "inventory.csv"}))
	h.Set("Cache-Control", "no-store")
	_, _ = w.Write(buf.Bytes())
}

// infraImport imports an inventory's CSV file from the page's form
// (multipart: the file and the reason of the changes it makes). A refusal
// shows the list again with the reason for every bad line; nothing is
// written.
func (s *Server) infraImport(w http.ResponseWriter, r *http.Request) {
	svc, err := s.infraSvc()
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	vals := url.Values{}
	var out infra.Imported
	data, reason, err := csvUpload(w, r)
	vals.Set("reason", reason)
	if err == nil {
		out, err = svc.Import(r.Context(), data, reason)
	}
	if err != nil {
		if s.infraRefusal(w, r, err) {
			return
		}
		s.renderInfraAssets(w, r, refusalStatus(err), &form{Values: vals, Err: err, lang: langOf(r)})
		return
	}
	q := url.Values{"done": {"imported"}, "created": {strconv.Itoa(out.Created)}, "updated": {strconv.Itoa(out.Updated)}}
	http.Redirect(w, r, "/infra/assets?"+q.Encode(), http.StatusSeeOther)
}

// csvUpload reads the file and the reason of an import's form.
func csvUpload(w http.ResponseWriter, r *http.Request) ([]byte, string, error) {
	r.Body = http.MaxBytesReader(w, r.Body, MaxBody)
	if err := r.ParseMultipartForm(MaxBody); err != nil {
		return nil, "", errs.Field("file", "infra.page.file_unreadable", MaxBody>>20)
	}
	reason := r.FormValue("reason")
	f, _, err := r.FormFile("file")
	if err != nil {
		return nil, reason, errs.Field("file", "infra.page.file_none")
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxBody+1))
	if err != nil || len(data) > MaxBody {
		return nil, reason, errs.Field("file", "infra.page.file_unreadable", MaxBody>>20)
	}
	return data, reason, nil
}

// --- an asset's page

// depRef is an asset depended on, with the nature of the dependency.
type depRef struct {
	infra.Ref
	Via infra.DependencyKind
}

// infraAssetPage is an asset: its record, its checks, what it depends on
// and what depends on it, what its loss alone stops, its last events; the
// forms that add a check and remove one.
type infraAssetPage struct {
	infraBase
	A       infra.Asset
	Checks  []infra.Check
	Deps    []depRef
	Users   []infra.Ref
	Impact  infra.Impacted
	Events  []infra.Event
	Check   *form
	Remove  *form
	CheckID string
	// CheckKinds are the kinds of check the form offers.
	CheckKinds []infra.CheckKind
}

// RemoveFor is the removal form of a check: the one refused, else a fresh
// one.
func (p infraAssetPage) RemoveFor(id string) *form {
	if p.Remove != nil && p.CheckID == id {
		return p.Remove
	}
	return &form{Values: url.Values{}, lang: p.Lang, shown: []string{"reason"}}
}

// renderInfraAsset draws the asset's page, with the refused form (check:
// the new check's; remove: a check's removal, the path's check).
func (s *Server) renderInfraAsset(w http.ResponseWriter, r *http.Request, status int, refused string, f *form) {
	svc, b, ok := s.infraPage(w, r, "/infra/assets")
	if !ok {
		return
	}
	ctx := r.Context()
	id := r.PathValue("id")
	a, err := svc.Asset(ctx, id)
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	d := infraAssetPage{infraBase: b, A: *a, CheckKinds: infra.CheckKinds}
	g, err := svc.Graph(ctx)
	if err == nil {
		if i, ok := g.Index(a.ID); ok {
			for _, x := range g.Deps(i) {
				d.Deps = append(d.Deps, depRef{Ref: g.Ref(x), Via: g.Assets[x].Kind.Via()})
			}
			d.Users = g.Refs(g.Users(i))
			d.Impact = g.Impact([]int32{int32(i)})
		}
		if d.Checks, err = svc.Checks(ctx, a.ID); err == nil {
			d.Events, err = svc.Events(ctx, a.ID, 20)
		}
	}
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	d.Check = &form{Values: url.Values{"kind": {string(infra.CheckTCP)}, "every_seconds": {strconv.Itoa(infra.DefaultEvery)}}, lang: d.Lang}
	switch refused {
	case "check":
		d.Check = f
	case "remove":
		d.Remove, d.CheckID = f, r.PathValue("check")
	}
	d.Check.shown = []string{"kind", "target", "every_seconds"}
	if r.Method == http.MethodPost {
		d.Path = "/infra/assets/" + url.PathEscape(a.ID)
	}
	s.render(w, r, status, "infra_asset", d)
}

// infraAddCheck adds a supervision check to the asset.
func (s *Server) infraAddCheck(w http.ResponseWriter, r *http.Request, vals url.Values) {
	id := r.PathValue("id")
	svc, err := s.infraSvc()
	c := infra.Check{AssetID: id, Kind: infra.CheckKind(vals.Get("kind")), Target: vals.Get("target")}
	if err == nil {
		if c.Every, err = integer(vals, "every_seconds"); err == nil {
			err = svc.CreateCheck(r.Context(), &c)
		}
	}
	if err != nil {
		if errs.FieldOf(err) == "asset_id" {
			err = errs.E(errs.NotFound, "infra.no_such_asset")
		}
		if s.infraRefusal(w, r, err) {
			return
		}
		s.renderInfraAsset(w, r, refusalStatus(err), "check", &form{Values: vals, Err: err, lang: langOf(r)})
		return
	}
	http.Redirect(w, r, "/infra/assets/"+url.PathEscape(id)+"?done=check_added#checks", http.StatusSeeOther)
}

// infraRemoveCheck withdraws a check of the asset, with a reason.
func (s *Server) infraRemoveCheck(w http.ResponseWriter, r *http.Request, vals url.Values) {
	id := r.PathValue("id")
	svc, err := s.infraSvc()
	if err == nil {
		err = svc.DeleteCheck(r.Context(), r.PathValue("check"), vals.Get("reason"))
	}
	if err != nil {
		if s.infraRefusal(w, r, err) {
			return
		}
		s.renderInfraAsset(w, r, refusalStatus(err), "remove", &form{Values: vals, Err: err, lang: langOf(r), shown: []string{"reason"}})
		return
	}
	http.Redirect(w, r, "/infra/assets/"+url.PathEscape(id)+"?done=check_removed#checks", http.StatusSeeOther)
}
