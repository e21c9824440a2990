package web

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"html/template"
	"io/fs"
	"math"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"galenix/internal/errs"
	"galenix/internal/identity"
	"galenix/internal/site"
	"galenix/internal/text"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed assets
var assetFS embed.FS

// pages renders the server-rendered HTML pages. Each page is its own
// template set (the layout, the shared parts and the page), parsed once per
// language so that the templates translate with a plain {{t "key"}}.
type pages struct {
	sets map[string]map[string]*template.Template // language → page → set
	// assets serves the embedded CSS, scripts and icons.
	assets http.Handler
	// version fingerprints each asset, so that it can be cached for good.
	version map[string]string
	// zone is the site's time zone, for the templates' dates.
	zone *time.Location
}

// shared are the templates every page set includes.
var shared = []string{"templates/layout.html", "templates/parts.html"}

func newPages(zone *time.Location) *pages {
	a := siteAssets()
	return &pages{sets: pageSets(zone), assets: a.handler, version: a.version, zone: zone}
}

// assets are the embedded assets and their fingerprints, read once.
type assets struct {
	handler http.Handler
	version map[string]string
}

var siteAssets = sync.OnceValue(func() assets {
	sub, err := fs.Sub(assetFS, "assets")
	if err != nil {
		panic(err)
	}
	version := map[string]string{}
	_ = fs.WalkDir(sub, ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(sub, name)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		version[name] = hex.EncodeToString(sum[:6])
		return nil
	})
	return assets{handler: http.StripPrefix("/assets/", http.FileServerFS(sub)), version: version}
})

// parsedSets holds the page sets parsed for each time zone (site.LoadZone
// resolves a name to one *time.Location): the templates are the binary's,
// and a set, once parsed, is only executed (safe at once from any number
// of requests), so the servers of one process share them instead of
// parsing a hundred pages in two languages each.
var parsedSets sync.Map

// pageSets are the page sets whose dates are written in zone, parsed once
// per process.
func pageSets(zone *time.Location) map[string]map[string]*template.Template {
	if sets, ok := parsedSets.Load(zone); ok {
		return sets.(map[string]map[string]*template.Template)
	}
	names, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		panic(err)
	}
	version := siteAssets().version
	sets := map[string]map[string]*template.Template{}
	for _, lang := range languages {
		base := template.Must(template.New("").Funcs(funcs(lang, zone, version)).ParseFS(templateFS, shared...))
		set := map[string]*template.Template{}
		for _, n := range names {
			if isShared(n) {
				continue
			}
			t := template.Must(template.Must(base.Clone()).ParseFS(templateFS, n))
			set[strings.TrimSuffix(path.Base(n), ".html")] = t
		}
		sets[lang] = set
	}
	got, _ := parsedSets.LoadOrStore(zone, sets)
	return got.(map[string]map[string]*template.Template)
}

func isShared(name string) bool {
	for _, s := range shared {
		if s == name {
			return true
		}
	}
	return false
}

// funcs are the template functions, bound to one language and the site's
// zone.
func funcs(lang string, zone *time.Location, version map[string]string) template.FuncMap {
	return template.FuncMap{
		"t":  func(key string) string { return tr(lang, key) },
		"tf": func(key string, args ...any) string { return text.Render(lang, key, args...) },
		// tn is tf for a count n, in its singular form where n is one
		// (text.RenderCount): tn "lots.count" n n.
		"tn": func(key string, n int, args ...any) string { return text.RenderCount(lang, key, n, args...) },
		// label is the display label of an enum value: label "grade" .Grade.
		"label": func(enum string, v any) string { return tr(lang, enum+"."+fmt.Sprint(v)) },
		"num":   func(f float64) string { return formatDecimal(lang, f) },
		// qty writes a quantity to read, its thousands grouped.
		"qty": func(f float64) string { return text.FormatQuantity(lang, f) },
		// localnum writes a number stored with a decimal point ("99.6")
		// with the reader's decimal mark.
		"localnum": func(s string) string { return text.LocalizeNumber(lang, s) },
		// percent writes a share (0.25) as a percentage, the reader's way.
		"percent": func(f float64) string { return formatDecimal(lang, math.Round(f*1000)/10) + " %" },
		"round1":  func(f float64) float64 { return math.Round(f*10) / 10 },
		"int":     func(n int) string { return formatInt(lang, n) },
		"date":    func(t time.Time) string { return formatDate(lang, t, zone) },
		// zone is the name of the site's time zone, which the pages' times are in.
		"zone": func() string { return zone.String() },
		// signed is a signature's manifestation, in the site's zone:
		// signed . for a value holding an esign.Signature.
		"signed": func(sg interface{ DisplayIn(*time.Location) string }) string { return sg.DisplayIn(zone) },
		"asset":  func(name string) string { return "/assets/" + name + "?v=" + version[name] },
		// idemKey is a fresh idempotency key for a form: submitted twice,
		// the form is applied once (idempotency.go).
		"idemKey": func() string { return uuid.NewString() },
	}
}

// base is what the layout needs from every page.
type base struct {
	Lang string
	// Path is the page's own address, where the language switch returns.
	Path     string
	Actor    identity.Actor
	SignedIn bool
	// CanEdit says whether to show the links that change the site model;
	// the services check again on every change.
	CanEdit bool
	// Nav names the navigation entry of the page.
	Nav string
	// Saved shows the confirmation of a change just recorded.
	Saved bool
}

func (s *Server) base(r *http.Request, nav string) base {
	a, ok := identity.ActorFrom(r.Context())
	return base{
		Lang: langOf(r), Path: r.URL.RequestURI(), Actor: a, SignedIn: ok,
		CanEdit: ok && site.CanEdit(a) == nil, Nav: nav, Saved: r.URL.Query().Get("saved") == "1",
	}
}

// render writes the page with the status. The page is rendered into a
// buffer first, so that a template failure gives a clean 500, not half a page.
func (s *Server) render(w http.ResponseWriter, r *http.Request, status int, page string, data any) {
	t, ok := s.pages.sets[langOf(r)][page]
	var buf bytes.Buffer
	if !ok {
		s.log.ErrorContext(r.Context(), "no such page template", "page", page)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	if err := t.ExecuteTemplate(&buf, "layout", data); err != nil {
		s.log.ErrorContext(r.Context(), "rendering a page", "page", page, "path", r.URL.Path, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// renderPart writes one template of a page's set without the layout: a
// fragment that htmx puts in place in the page.
func (s *Server) renderPart(w http.ResponseWriter, r *http.Request, page, name string, data any) {
	var buf bytes.Buffer
	if err := s.pages.sets[langOf(r)][page].ExecuteTemplate(&buf, name, data); err != nil {
		s.log.ErrorContext(r.Context(), "rendering a fragment", "page", page, "template", name, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write(buf.Bytes())
}

// errorPage is the page that explains a refusal or a failure.
type errorPage struct {
	base
	Status  int
	Message string
	// Title is the i18n key of the page's title; empty, the status's.
	Title string
	// Retry, for a page that could not be served for the moment (503),
	// is the address to ask again: the same page.
	Retry string
}

// retryOf is the address a 503 page offers to ask again: the page asked
// for, when it was a page (a refused form is sent again from the form).
func retryOf(r *http.Request, status int) string {
	if status != http.StatusServiceUnavailable || r.Method != http.MethodGet {
		return ""
	}
	return r.URL.RequestURI()
}

// pageError answers err as a page: not found, forbidden or internal, with
// the status of its code and its message in the page's language.
func (s *Server) pageError(w http.ResponseWriter, r *http.Request, err error) {
	s.logIfInternal(r, err)
	status, ok := statusOf[errs.CodeOf(err)]
	if !ok {
		status = http.StatusInternalServerError
	}
	d := errorPage{base: s.base(r, ""), Status: status, Message: errs.MessageOf(err, langOf(r)), Retry: retryOf(r, status)}
	if status == http.StatusNotFound {
		d.Message = tr(d.Lang, "error.notfound") + " " + d.Message
	}
	s.render(w, r, status, "error", d)
}

// notFound is the page of an address no route serves.
func (s *Server) notFound(w http.ResponseWriter, r *http.Request) {
	d := errorPage{base: s.base(r, ""), Status: http.StatusNotFound, Message: tr(langOf(r), "error.notfound")}
	s.render(w, r, http.StatusNotFound, "error", d)
}

// routesPages registers the HTML pages.
func (s *Server) routesPages() {
	s.handle("GET", "/assets/", true, s.serveAsset)
	s.handle("GET", "/login", true, s.loginForm)
	s.handle("POST", "/login", true, s.login)
	s.handle("POST", "/logout", true, s.logout)
	s.handle("GET", "/lang", true, s.setLang)
	// Any other address is a page that does not exist.
	s.handle("GET", "/", true, s.notFound)
	s.handle("POST", "/", true, s.notFound)

	// "/" sends each person to their home (page_home.go); the site's
	// overview has its own address.
	s.handle("GET", "/{$}", false, s.home)
	s.handle("GET", "/site", false, s.overview)
	s.handle("GET", "/equipment", false, s.equipmentPage)
	s.handle("GET", "/lines/{id}", false, s.linePage)

	routesEditor(s, "/buildings", buildingEditor(s))
	routesEditor(s, "/rooms", roomEditor(s))
	s.handle("GET", "/rooms/cascade-options", false, s.cascadeOptions)
	routesEditor(s, "/lines", lineEditor(s))
	routesEditor(s, "/equipment", equipmentEditor(s))

	s.handle("GET", "/shifts", false, s.shiftsPage)
	routesEditor(s, "/shifts", shiftEditor(s))
	s.handle("GET", "/teams", false, s.teamsPage)
	routesEditor(s, "/teams", teamEditor(s))
	s.handle("GET", "/people", false, s.peoplePage)
	routesEditor(s, "/people", personEditor(s))
}

// serveAsset serves an embedded asset. Its address carries its
// fingerprint (see the asset template function), so it may be cached a year.
func (s *Server) serveAsset(w http.ResponseWriter, r *http.Request) {
	if _, ok := s.pages.version[strings.TrimPrefix(r.URL.Path, "/assets/")]; !ok {
		s.notFound(w, r)
		return
	}
	w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
	s.pages.assets.ServeHTTP(w, r)
}

// localPath returns next when it is a path on this site, "/" otherwise, so
// that a link cannot send a signed-in person elsewhere (an open redirect).
func localPath(next string) string {
	if next == "" || !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/\\") ||
		strings.ContainsAny(next, "\\\r\n\t") {
		return "/"
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil {
		return "/"
	}
	return next
}

func urlQueryEscape(s string) string { return url.QueryEscape(s) }

// Pager places a page of a long list: its number, the positions of its
// first and last items, and the addresses of the pages before and after,
// if any.
type Pager struct {
	Page, First, Last int
	Prev, Next        string
	// Total is how many rows match in all, when the list counts them (see
	// Range).
	Total int
}

// pageNumber reads the page a list page asks for, 1 unless told.
func pageNumber(q url.Values) int {
	page, err := strconv.Atoi(q.Get("page"))
	if err != nil || page < 1 || page > 100000 {
		return 1
	}
	return page
}

// paginate keeps the page of items read for it: read one more than size,
// so that a page after this one shows when the extra item is there. link
// gives the address of another page.
func paginate[T any](items []T, page, size int, link func(page int) string) ([]T, Pager) {
	p := Pager{Page: page, First: (page-1)*size + 1}
	if len(items) > size {
		items = items[:size]
		p.Next = link(page + 1)
	}
	if page > 1 {
		p.Prev = link(page - 1)
	}
	p.Last = p.First + len(items) - 1
	return items, p
}
