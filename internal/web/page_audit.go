package web

import (
	"cmp"
	"encoding/csv"
	"encoding/json"
	"io"
	"mime"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"galenix/internal/audit"
	"galenix/internal/errs"
	"galenix/internal/esign"
	"galenix/internal/identity"
	"galenix/internal/text"
)

// routesAuditPages registers the audit trail's page and its CSV and PDF
// exports.
func (s *Server) routesAuditPages() {
	s.handle("GET", "/audit", false, s.auditPage)
	s.handle("GET", "/api/v1/audit/export.csv", false, s.auditCSV)
	s.handle("GET", "/api/v1/audit/export.pdf", false, s.auditPDFExport)
}

// auditStoreLimit is the most entries the audit reader answers at a time.
const auditStoreLimit = 1000

// auditPageSize is how many entries the audit page shows at a time.
const auditPageSize = 200

// auditView is the audit trail page: its filters, one page of entries,
// newest first, the links to the newer and older pages and to the exports
// of the same filters.
type auditView struct {
	base
	Entity, EntityID, ActorID, Person, Record, Command, From, To string
	Entries                                                      []auditRow
	// Newer and Older page through the trail; First goes back to the
	// newest entries; Export downloads the entries of the filters as CSV,
	// ExportPDF as PDF (at most MaxPDF entries).
	Newer, Older, First, Export, ExportPDF string
	MaxPDF                                 int
}

type auditRow struct {
	audit.Entry
	When string
	// Modified marks the entry of a record changed after its first entry
	// (Annex 11 §8.2).
	Modified bool
	// Who, CommandText, RecordText and FieldText are in the page's
	// language; OldText and NewText name the value: the record an id
	// names, a state in words, a coded text rendered, any other value as
	// it is. The page gives the stored form too; the exports keep it.
	Who, CommandText, RecordText, FieldText, OldText, NewText string
	// Trail is the trail of the entry's record alone.
	Trail string
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

// auditFamilies are the catalogue's families of the trail's names, by
// kind: a command, a kind of record, a field (whose words may be those of
// the forms' field).
var auditFamilies = map[string][]string{
	"command": {"audit.command."},
	"record":  {"audit.record."},
	"field":   {"audit.field.", "field."},
}

// auditKey is the catalogue key of the words of a name of the trail of the
// kind ("command", "record", "field"), "" when it has none. A field the
// code names from a value ("action.<id>", "justification.<step id>") has
// the words of its family ("action").
func auditKey(kind, name string) string {
	fams := auditFamilies[kind]
	for _, f := range fams {
		if hasMsg(f + name) {
			return f + name
		}
	}
	if i := strings.IndexByte(name, '.'); kind == "field" && i > 0 {
		for _, f := range fams {
			if hasMsg(f + name[:i]) {
				return f + name[:i]
			}
		}
	}
	return ""
}

// auditWord is the words of a name of the trail (see auditKey): a field of
// a family is its family's words and what follows; a name without words is
// itself, its dots and underscores as spaces.
func auditWord(lang, kind, name string) string {
	if name == "" {
		return ""
	}
	k := auditKey(kind, name)
	if k == "" {
		return strings.NewReplacer(".", " ", "_", " ").Replace(name)
	}
	w := tr(lang, k)
	if _, rest, ok := strings.Cut(name, "."); ok && kind == "field" && !strings.HasSuffix(k, "."+name) && rest != "" {
		w += " " + rest
	}
	return w
}

// auditValue is a value of the trail in words: the record it names (or
// "site staff" for a client's reader), a state, a signature by its
// meaning and the content it signed, a time in the site's zone, a coded
// text, or the value.
func auditValue(lang, entity, field, v, label string, zone *time.Location) string {
	if field == "signature" {
		return signatureValue(lang, v)
	}
	if t, err := time.Parse(time.RFC3339Nano, v); err == nil && strings.Contains(v, "T") {
		return formatStamp(lang, t, zone)
	}
	if t, err := time.Parse(time.DateOnly, v); err == nil {
		// A calendar day (a due date): the day itself, the reader's way.
		return formatDate(lang, t, time.UTC)
	}
	switch {
	case label == audit.StaffLabel:
		return tr(lang, "admin.site_staff")
	case label != "":
		return label
	case v == "true" || v == "false":
		return tr(lang, "audit.csv."+map[bool]string{true: "yes", false: "no"}[v == "true"])
	case field == "roles" && v != "":
		// An account's roles, each in words.
		var out []string
		for _, r := range strings.Split(v, ",") {
			if hasMsg("userrole." + r) {
				r = tr(lang, "userrole."+r)
			}
			out = append(out, r)
		}
		return strings.Join(out, ", ")
	case hasMsg(auditValueFamilies[entity+"."+field] + v):
		return tr(lang, auditValueFamilies[entity+"."+field]+v)
	case hasMsg(auditValueFamilies[field] + v):
		return tr(lang, auditValueFamilies[field]+v)
	case field == "state" || field == "status":
		// The record's own states first: a lot's "released" is not a
		// batch's.
		for _, fam := range []string{stateWords[entity], "stepstate.", "batchstate.", "deviationstate.", "specstatus."} {
			if fam != "" && hasMsg(fam+v) {
				return tr(lang, fam+v)
			}
		}
	case field == "body" && (entity == "master" || entity == "spec"):
		if w := bodyValue(lang, entity, v); w != "" {
			return w
		}
	case plainNumber.MatchString(v) && !codeField.MatchString(field):
		return text.LocalizeNumber(lang, v)
	case v == "null":
		return "—"
	case strings.HasPrefix(v, "["):
		// A list of words (a deviation's impacts, a checklist): its
		// items; an empty one, a dash.
		var items []string
		if json.Unmarshal([]byte(v), &items) == nil {
			if len(items) == 0 {
				return "—"
			}
			return strings.Join(items, ", ")
		}
		// A list of records (a deviation's impacts on lots): the
		// records it names.
		var recs []struct{ Lot, Code string }
		if json.Unmarshal([]byte(v), &recs) == nil {
			var names []string
			for _, r := range recs {
				if n := cmp.Or(r.Lot, r.Code); n != "" {
					names = append(names, n)
				}
			}
			if len(names) == len(recs) && len(names) > 0 {
				return strings.Join(names, ", ")
			}
		}
	}
	return storedText(lang, v)
}

// stateWords is the catalogue family of the states of each kind of
// record of the trail.
var stateWords = map[string]string{
	"batch": "batchstate.", "batch_step": "stepstate.", "deviation": "deviationstate.", "spec": "specstatus.",
	"lot": "lotstatus.", "master": "masterstatus.", "equipment": "eqstatus.", "line": "linestatus.",
	"sample": "samplestate.", "result": "resultstate.", "oos": "oosstate.", "oos_investigation": "oosstate.", "visit": "visit.status.",
}

// plainNumber is a value the trail keeps as a number ("2000000", "7.40"),
// which the page writes the reader's way; codeField names the fields whose
// digits are a code, written as they are.
var (
	plainNumber = regexp.MustCompile(`^-?(0|[1-9][0-9]*)(\.[0-9]+)?$`)
	codeField   = regexp.MustCompile(`(^|_)(code|badge|lot|number|seq|phone|id)$`)
)

// bodyValue is the content of a master (its operations) or of a
// specification (its tests), as the trail keeps it (JSON), in words: how
// many operations and steps, or tests; "" when v is not such a list.
func bodyValue(lang, entity, v string) string {
	var items []struct {
		Steps []json.RawMessage `json:"steps"`
	}
	if err := json.Unmarshal([]byte(v), &items); err != nil {
		return ""
	}
	if entity == "spec" {
		return text.RenderCount(lang, "audit.tests_n", len(items), len(items))
	}
	steps := 0
	for _, op := range items {
		steps += len(op.Steps)
	}
	return text.Render(lang, "audit.operations_value", text.RenderCount(lang, "audit.operations_n", len(items), len(items)),
		text.RenderCount(lang, "audit.steps_n", steps, steps))
}

// auditValueFamilies are the catalogue's families of the values of the
// trail's enumerated fields, by record and field ("lot.status"), or by
// field alone when its values mean the same on every record.
var auditValueFamilies = map[string]string{
	"batch.state": "batchstate.", "batch_step.state": "stepstate.", "deviation.state": "deviationstate.", "spec.status": "specstatus.",
	"lot.status": "lotstatus.", "equipment.status": "eqstatus.", "master.status": "masterstatus.", "sample.state": "samplestate.",
	"result.state": "resultstate.", "oos_investigation.state": "oosstate.", "oos_investigation.outcome": "oosoutcome.", "line.status": "linestatus.",
	"building.role": "role.", "sample.kind": "samplekind.", "sample.condition": "condition.", "material.kind": "materialkind.", "shift.kind": "shiftkind.",
	"product.special_class": "class.", "product.form": "form.", "visit.status": "visit.status.",
	"controlled_movement.kind": "controlled.kind.", "controlled_movement.state": "controlled.state.",
	"controlled_substance.class": "controlled.classname.", "controlled_container.place_kind": "controlled.place.",
	"verdict": "verdict.", "grade": "grade.", "class": "deviationclass.", "condition": "condition.",
}

// refusalSlug turns why a signature was refused, as the trail records it,
// into the last part of its words' key (audit.refusal.*).
var refusalSlug = regexp.MustCompile(`[^a-z]+`)

// signatureValue is a signature's entry in words: its meaning and the
// start of the content's hash it signed (the entry keeps it whole, with
// the signature's id); a refused one, its meaning and why, as recorded.
func signatureValue(lang, v string) string {
	if rest, ok := strings.CutPrefix(v, "refused "); ok {
		m, why, _ := strings.Cut(rest, ": ")
		if k := "audit.refusal." + strings.Trim(refusalSlug.ReplaceAllString(why, "_"), "_"); hasMsg(k) {
			why = tr(lang, k)
		}
		return text.Render(lang, "audit.signature_refused", esign.Meaning(m).Label(lang), why)
	}
	parts := strings.Fields(v)
	if len(parts) != 3 || !strings.HasPrefix(parts[2], "sha256:") || !esign.Meaning(parts[0]).Valid() {
		return v
	}
	hash := strings.TrimPrefix(parts[2], "sha256:")
	return text.Render(lang, "audit.signature_value", esign.Meaning(parts[0]).Label(lang), hash[:min(12, len(hash))])
}

// staffNamed writes "site staff" as the actor of an entry made by the
// site's staff, and as the label of a record or a value naming a person of
// the site, for a client's reader (see store.AuditStore.Entries).
func staffNamed(lang string, e audit.Entry) audit.Entry {
	staff := tr(lang, "admin.site_staff")
	if e.ActorStaff {
		e.ActorName = staff
	}
	for _, l := range []*string{&e.EntityLabel, &e.OldLabel, &e.NewLabel} {
		if *l == audit.StaffLabel {
			*l = staff
		}
	}
	return e
}

// auditRowOf is the entry e in words.
func (s *Server) auditRowOf(lang string, e audit.Entry) auditRow {
	e = staffNamed(lang, e)
	row := auditRow{Entry: e, When: formatStamp(lang, e.At, s.zone()), Modified: modifies(e), Who: e.ActorName,
		CommandText: auditWord(lang, "command", e.Command),
		RecordText:  auditWord(lang, "record", e.Entity),
		FieldText:   auditWord(lang, "field", e.Field),
		OldText:     auditValue(lang, e.Entity, e.Field, e.Old, e.OldLabel, s.zone()),
		NewText:     auditValue(lang, e.Entity, e.Field, e.New, e.NewLabel, s.zone())}
	if e.EntityID != "" {
		row.Trail = trailLink(e.Entity, e.EntityID)
	}
	return row
}

// trailLink is the address of the trail of one record.
func trailLink(entity, id string) string {
	return "/audit?" + url.Values{"entity": {entity}, "entity_id": {id}}.Encode()
}

// auditFilterKeys are the query's filters the page keeps from page to page
// and gives the exports.
var auditFilterKeys = []string{"entity", "entity_id", "actor", "person", "record", "command", "from", "to"}

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
	f.Limit, f.Newest = auditPageSize, true
	entries, err := s.Audit.Entries(r.Context(), f)
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	d := auditView{base: s.base(r, "audit"), Entity: f.Entity, EntityID: f.EntityID, ActorID: f.Actor,
		Person: f.Person, Record: f.Record, Command: f.Command, From: q.Get("from"), To: q.Get("to"), MaxPDF: maxPDFEntries}
	for _, e := range entries {
		d.Entries = append(d.Entries, s.auditRowOf(d.Lang, e))
	}
	filters := url.Values{}
	for _, k := range auditFilterKeys {
		if v := q.Get(k); v != "" {
			filters.Set(k, v)
		}
	}
	paged := f.AfterSeq > 0 || f.BeforeSeq > 0
	if len(entries) > 0 {
		// Older entries follow when the page is full, or when it was
		// reached from an older page.
		if len(entries) == auditPageSize || f.AfterSeq > 0 {
			older := cloneValues(filters)
			older.Set("before", strconv.FormatInt(entries[len(entries)-1].Seq, 10))
			d.Older = "/audit?" + older.Encode()
		}
		if paged {
			newer := cloneValues(filters)
			newer.Set("after", strconv.FormatInt(entries[0].Seq, 10))
			d.Newer = "/audit?" + newer.Encode()
		}
	}
	if paged {
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

// csvColumns are the catalogue keys of the CSV export's header row: the
// entry in words (the command, the kind of record, the record's name, the
// field and the values as the page shows them), then the entry as stored,
// for a program: the command's and the record kind's codes, the record's
// id, the field's name and the values.
var csvColumns = []string{"audit.csv.seq", "audit.csv.at", "audit.csv.who", "audit.csv.command", "audit.csv.entity",
	"audit.csv.entity_label", "audit.csv.field", "audit.csv.old", "audit.csv.new", "audit.csv.reason", "audit.csv.modified",
	"audit.csv.command_code", "audit.csv.entity_code", "audit.csv.entity_id", "audit.csv.field_code", "audit.csv.old_raw", "audit.csv.new_raw"}

// csvNumber matches a plain number: written as it is, never guarded.
var csvNumber = regexp.MustCompile(`^[-+]?[0-9]+([.,][0-9]+)?([eE][-+]?[0-9]+)?$`)

// csvSafe keeps a spreadsheet from reading a value as a formula (CSV
// injection): a value starting with =, +, -, @, a tab or a carriage return
// gets a leading apostrophe, unless it is a plain number (-20 stays -20).
func csvSafe(v string) string {
	if v != "" && strings.ContainsRune("=+-@\t\r", rune(v[0])) && !csvNumber.MatchString(v) {
		return "'" + v
	}
	return v
}

// csvFormat is how a CSV export writes its values: its separator and its
// decimal mark. French spreadsheets split on ";" and read "20,5"; English
// ones split on "," and read "20.5". The query's sep ("comma",
// "semicolon" or "tab") overrides the language's separator.
type csvFormat struct {
	comma   rune
	decimal byte
}

// csvFormatOf is the CSV format of the request, in language lang.
func csvFormatOf(r *http.Request, lang string) (csvFormat, error) {
	f := csvFormat{comma: ',', decimal: '.'}
	if lang == langFR {
		f = csvFormat{comma: ';', decimal: ','}
	}
	switch r.URL.Query().Get("sep") {
	case "":
	case "comma", ",":
		f.comma = ','
	case "semicolon", ";":
		f.comma = ';'
	case "tab":
		f.comma = '\t'
	default:
		return f, errs.Field("sep", "web.csv_sep")
	}
	if f.comma == ',' {
		// A decimal comma would need quotes in every cell.
		f.decimal = '.'
	}
	return f, nil
}

// value writes v for the CSV: a number with the format's decimal mark,
// anything else guarded against formulas.
func (f csvFormat) value(v string) string {
	if csvNumber.MatchString(v) {
		if f.decimal == ',' {
			return strings.Replace(v, ".", ",", 1)
		}
		return v
	}
	return csvSafe(v)
}

// newCSV starts a CSV file of the format on w: UTF-8 with its byte order
// mark, so that a spreadsheet reads its accents.
func newCSV(w io.Writer, f csvFormat) *csv.Writer {
	_, _ = w.Write([]byte("\uFEFF"))
	cw := csv.NewWriter(w)
	cw.Comma = f.comma
	return cw
}

// exportError answers a refused export: a page a person reads when a
// browser asked for it (a link of the pages), else the API's error.
func (s *Server) exportError(w http.ResponseWriter, r *http.Request, err error) {
	if strings.Contains(r.Header.Get("Accept"), "text/html") {
		s.pageError(w, r, err)
		return
	}
	s.apiError(w, r, err)
}

// auditPDFExport checks the export before the PDF is built, so that a
// refused one (too many entries, a bad filter) answers a browser a page it
// shows rather than an error it drops.
func (s *Server) auditPDFExport(w http.ResponseWriter, r *http.Request) {
	if _, err := s.auditExportEntries(r, maxPDFEntries); err != nil {
		s.exportError(w, r, err)
		return
	}
	s.auditPDF(w, r)
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
	lang := csvLang(r)
	var all []audit.Entry
	for {
		entries, err := s.Audit.Entries(r.Context(), f)
		if err != nil {
			return nil, err
		}
		for _, e := range entries {
			all = append(all, staffNamed(lang, e))
		}
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
	lang := csvLang(r)
	format, err := csvFormatOf(r, lang)
	if err != nil {
		s.exportError(w, r, err)
		return
	}
	all, err := s.auditExportEntries(r, maxCSVEntries)
	if err != nil {
		s.exportError(w, r, err)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/csv; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Language", lang)
	h.Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": tr(lang, "audit.csv.file")}))
	w.WriteHeader(http.StatusOK)
	cw := newCSV(w, format)
	header := make([]string, len(csvColumns))
	for i, k := range csvColumns {
		header[i] = tr(lang, k)
	}
	_ = cw.Write(header)
	for _, e := range all {
		row := s.auditRowOf(lang, e)
		mod := tr(lang, "audit.csv.no")
		if row.Modified {
			mod = tr(lang, "audit.csv.yes")
		}
		_ = cw.Write([]string{strconv.FormatInt(e.Seq, 10), row.When, csvSafe(row.Who), csvSafe(row.CommandText),
			csvSafe(row.RecordText), csvSafe(e.EntityLabel), csvSafe(row.FieldText), format.value(row.OldText), format.value(row.NewText),
			csvSafe(e.Reason), mod,
			csvSafe(e.Command), csvSafe(e.Entity), csvSafe(e.EntityID), csvSafe(e.Field), csvSafe(e.Old), csvSafe(e.New)})
	}
	cw.Flush()
}
