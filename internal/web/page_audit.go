package web

import (
	"encoding/csv"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"galenix/internal/audit"
	"galenix/internal/errs"
	"galenix/internal/identity"
)

// routesAuditPages registers the audit trail's page and its CSV and PDF
// exports.
func (s *Server) routesAuditPages() {
	s.handle("GET", "/audit", false, s.auditPage)
	s.handle("GET", "/api/v1/audit/export.csv", false, s.auditCSV)
	s.handle("GET", "/api/v1/audit/export.pdf", false, s.auditPDF)
}

// auditStoreLimit is the most entries the audit reader answers at a time.
const auditStoreLimit = 1000

// auditPageSize is how many entries the audit page shows at a time.
const auditPageSize = 200

// auditView is the audit trail page: its filters, one page of entries and
// the links to the next page and to the CSV export of the same filters.
type auditView struct {
	base
	Entity, EntityID, ActorID, From, To string
	After                               int64
	Entries                             []auditRow
	// Next reads on after the last entry shown; First goes back to the
	// start; Export downloads the entries of the filters as CSV, ExportPDF
	// as PDF.
	Next, First, Export, ExportPDF string
}

type auditRow struct {
	audit.Entry
	When string
	// Modified marks the entry of a record changed after its first entry
	// (Annex 11 §8.2).
	Modified bool
	// OldText and NewText are the values in the page's language: a coded
	// text (a step's entry, a deviation's title) rendered, any other value
	// as it is; the page gives the stored form too. The exports keep the
	// stored form.
	OldText, NewText string
}

// modifies reports whether the entry records a change to an existing
// record rather than its creation.
func modifies(e audit.Entry) bool {
	return strings.HasSuffix(e.Command, ".update") || e.Old != ""
}

// formatStamp writes t in the site's zone to the second, with its zone.
func formatStamp(lang string, t time.Time, zone *time.Location) string {
	if lang == langEN {
		return t.In(zone).Format("2006-01-02 15:04:05 MST")
	}
	return t.In(zone).Format("02/01/2006 15:04:05 MST")
}

func (s *Server) auditPage(w http.ResponseWriter, r *http.Request) {
	a, _ := identity.ActorFrom(r.Context())
	if !a.Can(identity.PermAuditSite) {
		s.pageError(w, r, errs.E(errs.Forbidden, "web.you_may_not_read"))
		return
	}
	q := r.URL.Query()
	f, err := auditFilter(q, true, s.zone())
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	f.Limit = auditPageSize
	entries, err := s.Audit.Entries(r.Context(), f)
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	d := auditView{base: s.base(r, "audit"), Entity: f.Entity, EntityID: f.EntityID, ActorID: f.Actor,
		From: q.Get("from"), To: q.Get("to"), After: f.AfterSeq}
	for _, e := range entries {
		d.Entries = append(d.Entries, auditRow{Entry: e, When: formatStamp(d.Lang, e.At, s.zone()), Modified: modifies(e),
			OldText: storedText(d.Lang, e.Old), NewText: storedText(d.Lang, e.New)})
	}
	filters := url.Values{}
	for _, k := range []string{"entity", "entity_id", "actor", "from", "to"} {
		if v := q.Get(k); v != "" {
			filters.Set(k, v)
		}
	}
	if len(entries) == auditPageSize {
		next := cloneValues(filters)
		next.Set("after", strconv.FormatInt(entries[len(entries)-1].Seq, 10))
		d.Next = "/audit?" + next.Encode()
	}
	if f.AfterSeq > 0 {
		d.First = "/audit"
		if len(filters) > 0 {
			d.First += "?" + filters.Encode()
		}
	}
	export := cloneValues(filters)
	export.Set("lang", d.Lang)
	d.Export = "/api/v1/audit/export.csv?" + export.Encode()
	d.ExportPDF = "/api/v1/audit/export.pdf?" + export.Encode()
	s.render(w, r, http.StatusOK, "audit", d)
}

func cloneValues(v url.Values) url.Values {
	out := url.Values{}
	for k, vs := range v {
		out[k] = append([]string(nil), vs...)
	}
	return out
}

// csvLang is the language of the CSV export: the lang query parameter,
// else the page's lang cookie, else the Accept-Language header.
func csvLang(r *http.Request) string {
	switch v := r.URL.Query().Get("lang"); v {
	case langFR, langEN:
		return v
	}
	if c, err := r.Cookie(langCookie); err == nil && (c.Value == langFR || c.Value == langEN) {
		return c.Value
	}
	if apiLang(r) == "fr" {
		return langFR
	}
	return langEN
}

// csvColumns are the catalogue keys of the CSV export's header row.
var csvColumns = []string{"audit.csv.seq", "audit.csv.at", "audit.csv.who", "audit.csv.command", "audit.csv.entity",
	"audit.csv.entity_id", "audit.csv.field", "audit.csv.old", "audit.csv.new", "audit.csv.reason", "audit.csv.modified"}

// csvSafe keeps a spreadsheet from reading a value as a formula (CSV
// injection): a value starting with =, +, -, @, a tab or a carriage return
// gets a leading apostrophe.
func csvSafe(v string) string {
	if v != "" && strings.ContainsRune("=+-@\t\r", rune(v[0])) {
		return "'" + v
	}
	return v
}

// auditExportEntries reads all the audit entries of the export's filters
// (those of GET /api/v1/audit, with calendar days), not 1000 at a time.
// An export holds at most limit entries; more asks the person to narrow
// the filters, rather than building a file no one can read or hold.
func (s *Server) auditExportEntries(r *http.Request, limit int) ([]audit.Entry, error) {
	f, err := auditFilter(r.URL.Query(), true, s.zone())
	if err != nil {
		return nil, err
	}
	var all []audit.Entry
	for {
		entries, err := s.Audit.Entries(r.Context(), f)
		if err != nil {
			return nil, err
		}
		all = append(all, entries...)
		if len(all) > limit {
			return nil, errs.E(errs.Invalid, "web.more_than_entries_match", limit)
		}
		if len(entries) < auditStoreLimit {
			return all, nil
		}
		f.AfterSeq = entries[len(entries)-1].Seq
	}
}

// The most entries an export holds: a PDF is read by a person, a CSV by a
// spreadsheet.
const (
	maxPDFEntries = 2000
	maxCSVEntries = 200000
)

// auditCSV answers the audit entries of the filters of GET /api/v1/audit,
// all of them, as a CSV file a person reads in a spreadsheet (Annex 11 §9).
func (s *Server) auditCSV(w http.ResponseWriter, r *http.Request) {
	// Read everything before writing, so that a failure is a clean error.
	all, err := s.auditExportEntries(r, maxCSVEntries)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	lang := csvLang(r)
	h := w.Header()
	h.Set("Content-Type", "text/csv; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Language", lang)
	h.Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": tr(lang, "audit.csv.file")}))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write([]byte("\uFEFF"))
	cw := csv.NewWriter(w)
	header := make([]string, len(csvColumns))
	for i, k := range csvColumns {
		header[i] = tr(lang, k)
	}
	_ = cw.Write(header)
	for _, e := range all {
		mod := tr(lang, "audit.csv.no")
		if modifies(e) {
			mod = tr(lang, "audit.csv.yes")
		}
		_ = cw.Write([]string{strconv.FormatInt(e.Seq, 10), formatStamp(lang, e.At, s.zone()), csvSafe(e.ActorName), csvSafe(e.Command),
			csvSafe(e.Entity), csvSafe(e.EntityID), csvSafe(e.Field), csvSafe(e.Old), csvSafe(e.New), csvSafe(e.Reason), mod})
	}
	cw.Flush()
}
