package web

import (
	"bytes"
	"cmp"
	"fmt"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/johnfercher/maroto/v2/pkg/components/row"
	"github.com/johnfercher/maroto/v2/pkg/consts/border"
	"github.com/johnfercher/maroto/v2/pkg/consts/fontstyle"
	"github.com/johnfercher/maroto/v2/pkg/core"
	"github.com/johnfercher/maroto/v2/pkg/props"

	"galenix/internal/controlled"
	"galenix/internal/errs"
	"galenix/internal/esign"
	"galenix/internal/identity"
)

// The register's editions as the law asks for them (R.5132-80 to 83):
// the register itself, chronological by serial number, each page with
// the establishment's name and address, the first with its
// authorisation, every movement with its performer and its witness and
// when they signed; the same as CSV; and the annual statement.

// registerEdition is what an edition of the register covers: a
// substance over a period [from, to), the balance drawn from its
// movements, those of the period, and what the edition says of the
// establishment.
type registerEdition struct {
	sub              *controlled.Substance
	from, to         time.Time
	sum              controlled.Summary
	rows             []controlled.Movement
	est              *controlled.Establishment
	siteName, siteAt string
	lang             string
	zone             *time.Location
	printedBy        string
}

// registerEditionOf reads an edition's query: the substance (the first
// when none is named), and the month ("2006-01", this one by default) or
// the days from and to (to included) in the site's zone.
func (s *Server) registerEditionOf(r *http.Request) (*registerEdition, error) {
	c, err := s.controlledSvc()
	if err != nil {
		return nil, err
	}
	ctx := r.Context()
	a, _ := identity.ActorFrom(ctx)
	if err := controlled.MayView(a); err != nil {
		return nil, err
	}
	ed := &registerEdition{lang: csvLang(r), zone: s.zone(), printedBy: cmp.Or(a.Name, a.Username)}
	q := r.URL.Query()
	subs, err := c.Substances(ctx)
	if err != nil {
		return nil, err
	}
	if ed.sub, err = chooseSubstance(subs, q.Get("substance")); err != nil {
		return nil, err
	}
	if ed.sub == nil {
		return nil, errs.E(errs.NotFound, "controlled.no_such_substance")
	}
	if q.Get("from") != "" || q.Get("to") != "" {
		if ed.from, ed.to, err = periodOf(q, ed.zone); err != nil {
			return nil, err
		}
		if ed.to.IsZero() {
			now := time.Now().In(ed.zone)
			ed.to = time.Date(now.Year(), now.Month(), now.Day()+1, 0, 0, 0, 0, ed.zone)
		}
		if !ed.to.After(ed.from) {
			return nil, errs.Field("to", "controlled.page.bad_period")
		}
	} else {
		t, err := s.monthOf(q.Get("month"))
		if err != nil {
			return nil, err
		}
		ed.from = monthStart(t, ed.zone)
		ed.to = ed.from.AddDate(0, 1, 0)
	}
	// The balance at the period's start is drawn from every movement
	// before it.
	all, err := c.Register(ctx, controlled.Filter{SubstanceID: ed.sub.ID, To: ed.to})
	if err != nil {
		return nil, err
	}
	ed.sum = controlled.Summarize(all, ed.sub.ID, ed.from, ed.to)
	for _, m := range all {
		if !m.At.Before(ed.from) {
			ed.rows = append(ed.rows, m)
		}
	}
	if ed.est, err = c.Establishment(ctx); err != nil {
		return nil, err
	}
	st, err := s.Site.Site(ctx)
	if err != nil {
		return nil, err
	}
	ed.siteName, ed.siteAt = st.Name, st.Address
	return ed, nil
}

// period writes the edition's period: its first and last days.
func (ed *registerEdition) period() string {
	return formatDate(ed.lang, ed.from, ed.zone) + " → " + formatDate(ed.lang, ed.to.Add(-time.Second), ed.zone)
}

// fileName names an edition's file: the substance and the period.
func (ed *registerEdition) fileName(ext string) string {
	return fmt.Sprintf(tr(ed.lang, "controlled.pdf.file"), fileSafe(ed.sub.Code), ed.from.In(ed.zone).Format("20060102"),
		ed.to.Add(-time.Second).In(ed.zone).Format("20060102")) + "." + ext
}

// registerPDFColumns are the register's columns: catalogue key of the
// heading and width in grid columns.
var registerPDFColumns = []struct {
	key  string
	size int
}{
	{"controlled.col.serial", 1}, {"controlled.col.at", 2}, {"controlled.col.kind", 2}, {"controlled.col.container", 2},
	{"controlled.col.in", 2}, {"controlled.col.out", 2}, {"controlled.col.details", 5}, {"controlled.col.performer", 4},
	{"controlled.col.witness", 4},
}

// registerPDF answers the register of a substance over a month or a
// period as a PDF/A to print and keep.
func (s *Server) registerPDF(w http.ResponseWriter, r *http.Request) {
	ed, err := s.registerEditionOf(r)
	if err != nil {
		s.exportError(w, r, err)
		return
	}
	doc, err := registerDoc(ed)
	if err != nil {
		s.exportError(w, r, errs.Wrap(err, "register PDF"))
		return
	}
	writePDF(w, ed.lang, ed.fileName("pdf"), doc)
}

// editionHeader registers the rows every page of an edition starts
// with: the establishment's name and address (R.5132-80).
func editionHeader(m core.Maroto, name, address string) error {
	line := name
	if address != "" {
		line += " — " + address
	}
	return m.RegisterHeader(row.New().Add(pdfCol(pdfGrid, line, props.Text{Size: 8, Style: fontstyle.Bold, Bottom: 2})).
		WithStyle(&props.Cell{BorderType: border.Bottom, BorderColor: pdfGrey, BorderThickness: 0.3}))
}

// editionFacts writes the first page's facts: the establishment's
// authorisation and its pharmacist, then the rows given.
func editionFacts(m core.Maroto, lang string, est *controlled.Establishment, rows [][2]string) {
	auth := tr(lang, "controlled.pdf.no_authorisation")
	if est != nil && est.Authorisation != "" {
		auth = est.Authorisation
		if d, err := time.Parse(time.DateOnly, est.AuthorisedOn); err == nil {
			auth = fmt.Sprintf(tr(lang, "controlled.pdf.authorised_on"), est.Authorisation, formatDate(lang, d, time.UTC))
		}
	}
	facts := [][2]string{{tr(lang, "controlled.pdf.authorisation"), auth}}
	if est != nil && est.Pharmacist != "" {
		facts = append(facts, [2]string{tr(lang, "controlled.pdf.pharmacist"), est.Pharmacist})
	}
	for _, f := range append(facts, rows...) {
		m.AddAutoRow(pdfCol(5, f[0], props.Text{Style: fontstyle.Bold}), pdfCol(pdfGrid-5, f[1]))
	}
}

// registerDoc writes the register's edition as a PDF.
func registerDoc(ed *registerEdition) ([]byte, error) {
	lang, sub := ed.lang, ed.sub
	title := tr(lang, "controlled.pdf.title")
	setup := pdfSetup{title: title + " — " + sub.Code, lang: lang, landscape: true, margin: 10, fontSize: 8, pageLabel: title + " " + sub.Code}
	m, err := newPDF(setup)
	if err != nil {
		return nil, err
	}
	if err := editionHeader(m, ed.siteName, ed.siteAt); err != nil {
		return nil, err
	}
	m.AddAutoRow(pdfCol(pdfGrid, title+" — "+sub.Code+" — "+sub.Name, props.Text{Size: 14, Style: fontstyle.Bold, Top: 1}))
	m.AddAutoRow(pdfCol(pdfGrid, fmt.Sprintf(tr(lang, "audit.pdf.printed"), formatStamp(lang, time.Now(), ed.zone), ed.printedBy),
		props.Text{Top: 1, Bottom: 3}))
	editionFacts(m, lang, ed.est, [][2]string{
		{tr(lang, "controlled.pdf.substance"), sub.Code + " — " + sub.Name + " (" + tr(lang, "controlled.classname."+string(sub.Class)) + ", " + sub.Unit + ")"},
		{tr(lang, "controlled.pdf.period"), ed.period()},
		{tr(lang, "controlled.opening"), qtyText(lang, ed.sum.Opening, sub.Unit)},
	})

	head := make([]core.Col, len(registerPDFColumns))
	for i, c := range registerPDFColumns {
		head[i] = pdfCol(c.size, tr(lang, c.key), props.Text{Style: fontstyle.Bold, Left: 1, Top: 1, Bottom: 1})
	}
	m.AddAutoRow(pdfCol(pdfGrid, tr(lang, "controlled.register"), props.Text{Size: 12, Style: fontstyle.Bold, Top: 4, Bottom: 2}))
	m.AddAutoRow(head...).WithStyle(&props.Cell{BackgroundColor: pdfGrey})
	cell := props.Text{Size: 7, Left: 1, Right: 1, Top: 1, Bottom: 1}
	if len(ed.rows) == 0 {
		m.AddAutoRow(pdfCol(pdfGrid, tr(lang, "controlled.none_month"), cell))
	}
	for i := range ed.rows {
		mv := &ed.rows[i]
		in, out := flows(mv)
		values := []string{strconv.FormatInt(mv.Serial, 10), prodWhen(lang, mv.At, ed.zone), tr(lang, controlled.KindKey(mv.Kind)),
			containerText(mv), flowText(lang, in, mv.Unit), flowText(lang, out, mv.Unit), strings.Join(movementDetails(lang, mv, ed.zone), "\n"),
			signerText(lang, mv, mv.PerformerName, esign.Performed, ed.zone), signerText(lang, mv, mv.WitnessName, esign.Verified, ed.zone)}
		cols := make([]core.Col, len(values))
		for j, v := range values {
			cols[j] = pdfCol(registerPDFColumns[j].size, v, cell)
		}
		m.AddAutoRow(cols...).WithStyle(&props.Cell{BorderType: border.Bottom, BorderColor: pdfGrey, BorderThickness: 0.2})
	}
	var in, out controlled.Qty
	for _, q := range ed.sum.In {
		in += q
	}
	for _, q := range ed.sum.Out {
		out += q
	}
	bold := props.Text{Style: fontstyle.Bold, Top: 3}
	m.AddAutoRow(pdfCol(5, tr(lang, "controlled.in_total"), bold), pdfCol(pdfGrid-5, qtyText(lang, in, sub.Unit), props.Text{Top: 3}))
	m.AddAutoRow(pdfCol(5, tr(lang, "controlled.out_total"), props.Text{Style: fontstyle.Bold}), pdfCol(pdfGrid-5, qtyText(lang, out, sub.Unit)))
	m.AddAutoRow(pdfCol(5, tr(lang, "controlled.closing"), props.Text{Style: fontstyle.Bold}),
		pdfCol(pdfGrid-5, qtyText(lang, ed.sum.Closing, sub.Unit), props.Text{Style: fontstyle.Bold}))
	return finishPDF(m, setup)
}

// flowText writes a quantity in or out with its unit, "" for none.
func flowText(lang string, q controlled.Qty, unit string) string {
	if q == 0 {
		return ""
	}
	return qtyText(lang, q, unit)
}

// containerText writes a movement's container, and a transfer's
// destination.
func containerText(m *controlled.Movement) string {
	if m.ToContainer != "" {
		return m.Container + " → " + m.ToContainer
	}
	return m.Container
}

// movementDetails are what a movement names beside its quantity, one a
// line: the other party, its document, the batch, the cause, the
// scale's reading, the serial it corrects, a loss's discharge.
func movementDetails(lang string, m *controlled.Movement, zone *time.Location) []string {
	var out []string
	sep := " : "
	if lang == langEN {
		sep = ": "
	}
	add := func(key, v string) {
		if v != "" {
			out = append(out, tr(lang, key)+sep+v)
		}
	}
	add("controlled.field.party", m.Party)
	add("controlled.field.document", m.Document)
	add("controlled.field.batch", m.Batch)
	add("controlled.field.cause", m.Cause)
	add("controlled.field.scale", m.Scale)
	if m.Corrects > 0 {
		way := tr(lang, "controlled.decrease")
		if m.Increase {
			way = tr(lang, "controlled.increase")
		}
		add("controlled.field.corrects", strconv.FormatInt(m.Corrects, 10)+" ("+way+")")
	}
	if m.DischargedAt != nil {
		add("controlled.discharged", m.Discharge+", "+prodWhen(lang, m.DischargedAt, zone))
	}
	return out
}

// signerText writes who signed a movement with the meaning and when:
// the name the register keeps, the signature's day and time.
func signerText(lang string, m *controlled.Movement, name string, meaning esign.Meaning, zone *time.Location) string {
	g := sigOf(m, meaning)
	if g == nil {
		return name
	}
	out := cmp.Or(name, g.SignerName) + "\n" + fmt.Sprintf(tr(lang, "controlled.signed_at"), prodWhen(lang, g.SignedAt, zone))
	if g.Status != esign.Valid {
		out += "\n" + tr(lang, "audit.pdf.broken")
	}
	return out
}

// registerCSVColumns are the catalogue keys of the CSV's header row.
var registerCSVColumns = []string{"controlled.csv.serial", "controlled.csv.at", "controlled.csv.kind", "controlled.csv.substance",
	"controlled.csv.container", "controlled.csv.to_container", "controlled.csv.in", "controlled.csv.out", "controlled.csv.unit",
	"controlled.csv.party", "controlled.csv.document", "controlled.csv.batch", "controlled.csv.cause", "controlled.csv.scale",
	"controlled.csv.corrects", "controlled.csv.performer", "controlled.csv.performed_at", "controlled.csv.witness", "controlled.csv.verified_at",
	"controlled.csv.validated_at"}

// registerCSV answers the register of a substance over a month or a
// period as CSV: one movement a row by serial number, its times in ISO
// 8601 with their offset, its quantities exact with a point whatever the
// language (the register's own form), the header in the reader's
// language, the separator the language's (csvFormatOf).
func (s *Server) registerCSV(w http.ResponseWriter, r *http.Request) {
	ed, err := s.registerEditionOf(r)
	if err != nil {
		s.exportError(w, r, err)
		return
	}
	f, err := csvFormatOf(r, ed.lang)
	if err != nil {
		s.exportError(w, r, err)
		return
	}
	var buf bytes.Buffer
	cw := newCSV(&buf, f)
	head := make([]string, len(registerCSVColumns))
	for i, k := range registerCSVColumns {
		head[i] = tr(ed.lang, k)
	}
	_ = cw.Write(head)
	iso := func(t *time.Time) string {
		if t == nil || t.IsZero() {
			return ""
		}
		return t.In(ed.zone).Format(time.RFC3339)
	}
	qty := func(q controlled.Qty) string {
		if q == 0 {
			return ""
		}
		return q.String()
	}
	for i := range ed.rows {
		m := &ed.rows[i]
		in, out := flows(m)
		corrects := ""
		if m.Corrects > 0 {
			corrects = strconv.FormatInt(m.Corrects, 10)
		}
		var performed, verified *time.Time
		if g := sigOf(m, esign.Performed); g != nil {
			performed = &g.SignedAt
		}
		if g := sigOf(m, esign.Verified); g != nil {
			verified = &g.SignedAt
		}
		_ = cw.Write([]string{strconv.FormatInt(m.Serial, 10), iso(&m.At), tr(ed.lang, controlled.KindKey(m.Kind)), csvSafe(m.Substance),
			csvSafe(m.Container), csvSafe(m.ToContainer), qty(in), qty(out), m.Unit, csvSafe(m.Party), csvSafe(m.Document), csvSafe(m.Batch),
			csvSafe(m.Cause), csvSafe(m.Scale), corrects, csvSafe(m.PerformerName), iso(performed), csvSafe(m.WitnessName), iso(verified),
			iso(m.ValidatedAt)})
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		s.exportError(w, r, errs.Wrap(err, "register CSV"))
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/csv; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Language", ed.lang)
	h.Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": ed.fileName("csv")}))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(buf.Bytes())
}

// statementPDF answers a substance's annual statement as a PDF/A: its
// quantities as the ANSM asks for them, and the monthly balances
// recorded over the year.
func (s *Server) statementPDF(w http.ResponseWriter, r *http.Request) {
	d, err := s.statementOf(r)
	if err == nil && d.Sub == nil {
		err = errs.E(errs.NotFound, "controlled.no_such_substance")
	}
	if err != nil {
		s.exportError(w, r, err)
		return
	}
	c, _ := s.controlledSvc()
	ctx := r.Context()
	est, err := c.Establishment(ctx)
	if err != nil {
		s.exportError(w, r, err)
		return
	}
	st, err := s.Site.Site(ctx)
	if err != nil {
		s.exportError(w, r, err)
		return
	}
	lang := csvLang(r)
	a, _ := identity.ActorFrom(ctx)
	doc, err := statementDoc(lang, &d, est, st.Name, st.Address, cmp.Or(a.Name, a.Username))
	if err != nil {
		s.exportError(w, r, errs.Wrap(err, "statement PDF"))
		return
	}
	writePDF(w, lang, fmt.Sprintf(tr(lang, "controlled.pdf.statement_file"), fileSafe(d.Sub.Code), d.Year)+".pdf", doc)
}

// statementDoc writes the annual statement as a PDF.
func statementDoc(lang string, d *statementPage, est *controlled.Establishment, siteName, siteAt, printedBy string) ([]byte, error) {
	sub := d.Sub
	title := fmt.Sprintf(tr(lang, "controlled.statement.title_year"), d.Year)
	setup := pdfSetup{title: title + " — " + sub.Code, lang: lang, margin: 12, fontSize: 9, pageLabel: sub.Code + " " + strconv.Itoa(d.Year)}
	m, err := newPDF(setup)
	if err != nil {
		return nil, err
	}
	if err := editionHeader(m, siteName, siteAt); err != nil {
		return nil, err
	}
	m.AddAutoRow(pdfCol(pdfGrid, title+" — "+sub.Code+" — "+sub.Name, props.Text{Size: 14, Style: fontstyle.Bold, Top: 1}))
	m.AddAutoRow(pdfCol(pdfGrid, fmt.Sprintf(tr(lang, "audit.pdf.printed"), formatStamp(lang, time.Now(), d.zone), printedBy), props.Text{Top: 1, Bottom: 3}))
	editionFacts(m, lang, est, [][2]string{
		{tr(lang, "controlled.pdf.substance"), sub.Code + " — " + sub.Name + " (" + tr(lang, "controlled.classname."+string(sub.Class)) + ", " + sub.Unit + ")"},
	})
	m.AddAutoRow(pdfCol(pdfGrid, tr(lang, "controlled.statement.quantities"), props.Text{Size: 12, Style: fontstyle.Bold, Top: 5, Bottom: 2}))
	for _, l := range statementLines(d.St) {
		m.AddAutoRow(pdfCol(14, tr(lang, l.Key), props.Text{Left: 1, Top: 1, Bottom: 1}), pdfCol(10, qtyText(lang, l.Qty, sub.Unit), props.Text{Top: 1, Bottom: 1})).
			WithStyle(&props.Cell{BorderType: border.Bottom, BorderColor: pdfGrey, BorderThickness: 0.2})
	}
	m.AddAutoRow(pdfCol(pdfGrid, tr(lang, "controlled.statement.months"), props.Text{Size: 12, Style: fontstyle.Bold, Top: 5, Bottom: 2}))
	cols := []struct {
		key  string
		size int
	}{{"controlled.col.month", 3}, {"controlled.opening", 4}, {"controlled.in_total", 4}, {"controlled.out_total", 4}, {"controlled.closing", 4}, {"controlled.col.serials", 5}}
	head := make([]core.Col, len(cols))
	for i, c := range cols {
		head[i] = pdfCol(c.size, tr(lang, c.key), props.Text{Style: fontstyle.Bold, Left: 1, Top: 1, Bottom: 1})
	}
	m.AddAutoRow(head...).WithStyle(&props.Cell{BackgroundColor: pdfGrey})
	cell := props.Text{Size: 8, Left: 1, Right: 1, Top: 1, Bottom: 1}
	for _, mo := range d.Months {
		rec := mo.Recorded
		if rec == nil {
			m.AddAutoRow(pdfCol(3, mo.Text, cell), pdfCol(pdfGrid-3, tr(lang, "controlled.not_recorded"), cell))
			continue
		}
		serials := "—"
		if rec.Movements > 0 {
			serials = fmt.Sprintf(tr(lang, "controlled.serials"), rec.FirstSerial, rec.LastSerial)
		}
		m.AddAutoRow(pdfCol(3, mo.Text, cell), pdfCol(4, qtyText(lang, rec.Opening, sub.Unit), cell), pdfCol(4, qtyText(lang, rec.Received, sub.Unit), cell),
			pdfCol(4, qtyText(lang, rec.Issued, sub.Unit), cell), pdfCol(4, qtyText(lang, rec.Closing, sub.Unit), cell), pdfCol(5, serials, cell)).
			WithStyle(&props.Cell{BorderType: border.Bottom, BorderColor: pdfGrey, BorderThickness: 0.2})
	}
	return finishPDF(m, setup)
}
