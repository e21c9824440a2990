package web

import (
	"fmt"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/johnfercher/maroto/v2/pkg/components/col"
	"github.com/johnfercher/maroto/v2/pkg/consts/border"
	"github.com/johnfercher/maroto/v2/pkg/consts/fontstyle"
	"github.com/johnfercher/maroto/v2/pkg/core"
	"github.com/johnfercher/maroto/v2/pkg/props"

	"galenix/internal/errs"
	"galenix/internal/esign"
	"galenix/internal/identity"
	"galenix/internal/production"
	"galenix/internal/text"
)

// recordPDFColumns are the columns of the steps' table: catalogue key of
// the heading and width in grid columns.
var recordPDFColumns = []struct {
	key  string
	size int
}{
	{"record.col.step", 2}, {"record.col.instruction", 7}, {"record.col.spec", 4}, {"record.col.value", 4},
	{"record.col.by", 4}, {"record.col.marks", 3},
}

// batchRecordPDF answers the batch's whole record as a PDF to print and
// keep (EU GMP Annex 11 §8, 21 CFR 11.10(b)): a heading with the client,
// the product, the lot, the master's code and version, the line and the
// dates; every step with its limits, value, lot or equipment, performer and
// time, its exception and the values changed after their first entry, each
// with the manifestations of its signatures (11.50); the deviations; and
// the lots consumed. It is for quality (QA, Qualified Persons) and
// production supervisors (identity.PermRecordPrint); the record itself is staff's.
// The page's route and the API's (GET /api/v1/batches/{id}/record.pdf)
// answer the same document.
func (s *Server) batchRecordPDF(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	// The API's route answers its refusals in the error envelope, the
	// page's as a page.
	refuse := s.pageError
	if strings.HasPrefix(r.URL.Path, "/api/") {
		refuse = s.apiError
	}
	a, _ := identity.ActorFrom(ctx)
	rec, err := s.Production.Record(ctx, r.PathValue("id"))
	if err != nil {
		refuse(w, r, err)
		return
	}
	if !a.Can(identity.PermRecordPrint) {
		refuse(w, r, errs.E(errs.Forbidden, "web.only_quality_assurance_qualified"))
		return
	}
	mats, err := s.materialsByID(r)
	if err != nil {
		refuse(w, r, err)
		return
	}
	lang := csvLang(r)
	b := &rec.Batch
	clientName := b.ClientID
	if c, err := s.Clients.Client(ctx, b.ClientID); err == nil {
		clientName = c.Name + " (" + c.Code + ")"
	}
	printedBy := a.Name
	if printedBy == "" {
		printedBy = a.Username
	}
	doc, err := s.recordDoc(lang, rec, mats, clientName, printedBy)
	if err != nil {
		refuse(w, r, errs.Wrap(err, "batch record PDF"))
		return
	}
	writePDF(w, lang, fmt.Sprintf(tr(lang, "record.pdf.file"), b.Lot), doc)
}

// writePDF answers a document as a PDF to download.
func writePDF(w http.ResponseWriter, lang, name string, doc []byte) {
	h := w.Header()
	h.Set("Content-Type", "application/pdf")
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Language", lang)
	h.Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": name}))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(doc)
}

// recordDoc writes the batch's record as a PDF (batchRecordPDF); a
// client's copy (production.Record.ForClient) names no performer nor
// signer, who print as the site's staff.
func (s *Server) recordDoc(lang string, rec *production.Record, mats map[string]production.Material, clientName, printedBy string) ([]byte, error) {
	b := &rec.Batch
	rows, batchSigs := recordRows(lang, rec, mats)
	setup := pdfSetup{title: tr(lang, "record.pdf.title") + " " + b.Lot, lang: lang, landscape: true, margin: 10, fontSize: 8, pageLabel: b.Lot}
	m, err := newPDF(setup)
	if err != nil {
		return nil, err
	}
	m.AddAutoRow(pdfCol(pdfGrid, tr(lang, "record.pdf.title")+" — "+b.Lot, props.Text{Size: 14, Style: fontstyle.Bold}))
	m.AddAutoRow(pdfCol(pdfGrid, fmt.Sprintf(tr(lang, "audit.pdf.printed"), formatStamp(lang, time.Now(), s.zone()), printedBy),
		props.Text{Top: 1, Bottom: 3}))

	head := [][2]string{
		{tr(lang, "record.client"), clientName},
		{tr(lang, "record.product"), b.ProductCode + " — " + b.Product + " (" + tr(lang, "form."+b.Form) + ")"},
		{tr(lang, "record.lot"), b.Lot + " — " + formatDecimal(lang, b.Quantity) + " " + b.Unit},
		{tr(lang, "record.master"), rec.Master.Code + " " + tr(lang, "record.version") + " " + strconv.Itoa(rec.Master.Version) + " — " + rec.Master.Title},
		{tr(lang, "record.line"), b.LineCode},
		{tr(lang, "record.state"), tr(lang, "batchstate."+string(b.State))},
		{tr(lang, "record.start"), prodWhen(lang, b.Start, s.zone()) + " → " + prodWhen(lang, b.End, s.zone())},
		{tr(lang, "record.zone"), tr(lang, "record.zone_text")},
		{tr(lang, "record.progress"), text.RenderCount(lang, "record.progress_of", b.StepsDone, b.StepsDone, b.StepsTotal) + " — " +
			text.RenderCount(lang, "record.exceptions_n", b.Exceptions, b.Exceptions)},
	}
	for _, h := range head {
		m.AddAutoRow(pdfCol(5, h[0], props.Text{Style: fontstyle.Bold}), pdfCol(pdfGrid-5, h[1]))
	}

	m.AddAutoRow(pdfCol(pdfGrid, tr(lang, "record.steps"), props.Text{Size: 12, Style: fontstyle.Bold, Top: 5, Bottom: 2}))
	cols := make([]core.Col, len(recordPDFColumns))
	for i, c := range recordPDFColumns {
		cols[i] = pdfCol(c.size, tr(lang, c.key), props.Text{Style: fontstyle.Bold, Left: 1, Top: 1, Bottom: 1})
	}
	m.AddAutoRow(cols...).WithStyle(&props.Cell{BackgroundColor: pdfGrey})

	cell := props.Text{Size: 7, Left: 1, Right: 1, Top: 1, Bottom: 1}
	mark := props.Text{Size: 7, Left: 1, Right: 1, Top: 1, Style: fontstyle.Bold, Color: pdfRed}
	op := 0
	for _, st := range rows {
		if st.Op != op {
			op = st.Op
			m.AddAutoRow(pdfCol(pdfGrid, strconv.Itoa(st.Op)+". "+st.OpTitle, props.Text{Style: fontstyle.Bold, Top: 2, Bottom: 1}))
		}
		who := tr(lang, "record.pending")
		if st.PerformedAt != nil {
			name := st.PerformedName
			if name == "" {
				name = tr(lang, "dossier.site_staff")
			}
			who = name + " — " + prodWhen(lang, st.PerformedAt, s.zone())
		}
		value := entryText(lang, &st.StepRecord)
		if st.Comment != "" {
			value += " — " + st.Comment
		}
		marks := col.New(recordPDFColumns[5].size)
		if st.Exception {
			marks.Add(newPDFText(tr(lang, "record.pdf.exception"), mark))
		}
		if st.Corrections > 0 {
			p := mark
			if st.Exception {
				p.Top = 4.5
			}
			marks.Add(newPDFText(tr(lang, "record.pdf.changed"), p))
		}
		values := []string{st.Label(), st.Step.Text, st.Spec, value, who}
		row := make([]core.Col, 0, len(values)+1)
		for i, v := range values {
			row = append(row, pdfCol(recordPDFColumns[i].size, v, cell))
		}
		row = append(row, marks)
		m.AddAutoRow(row...).WithStyle(&props.Cell{BorderType: border.Bottom, BorderColor: pdfGrey, BorderThickness: 0.2})
		note := props.Text{Size: 7, Color: pdfRed}
		if st.Exception {
			line := tr(lang, "record.pdf.exception") + " — " + stepWhy(lang, &st.StepRecord)
			if st.Deviation != "" {
				line += " — " + tr(lang, "record.deviation") + " " + st.Deviation
			}
			m.AddAutoRow(pdfCol(2, ""), pdfCol(pdfGrid-2, line, note))
		}
		if st.Corrections > 0 {
			m.AddAutoRow(pdfCol(2, ""), pdfCol(pdfGrid-2, text.RenderCount(lang, "record.pdf.changed_n", st.Corrections, st.Corrections), note))
		}
		for _, sg := range st.Sigs {
			addSignatureRow(m, lang, sg, s.zone())
		}
	}
	if len(batchSigs) > 0 {
		m.AddAutoRow(pdfCol(pdfGrid, tr(lang, "audit.pdf.sigs"), props.Text{Size: 12, Style: fontstyle.Bold, Top: 5, Bottom: 2}))
		for _, sg := range batchSigs {
			addSignatureRow(m, lang, sg, s.zone())
		}
	}

	m.AddAutoRow(pdfCol(pdfGrid, tr(lang, "record.deviations"), props.Text{Size: 12, Style: fontstyle.Bold, Top: 5, Bottom: 2}))
	if len(rec.Deviations) == 0 {
		m.AddAutoRow(pdfCol(pdfGrid, tr(lang, "record.nodeviation")))
	}
	for _, dv := range rec.Deviations {
		m.AddAutoRow(pdfCol(4, dv.Code, props.Text{Style: fontstyle.Bold}), pdfCol(14, storedText(lang, dv.Title)),
			pdfCol(3, tr(lang, "deviationstate."+dv.Status)), pdfCol(3, prodWhen(lang, dv.OpenedAt, s.zone())))
	}

	m.AddAutoRow(pdfCol(pdfGrid, tr(lang, "record.consumed"), props.Text{Size: 12, Style: fontstyle.Bold, Top: 5, Bottom: 2}))
	if len(rec.Consumed) == 0 {
		m.AddAutoRow(pdfCol(pdfGrid, tr(lang, "record.noconsumed")))
	}
	for _, c := range rec.Consumed {
		m.AddAutoRow(pdfCol(4, c.LotCode, props.Text{Style: fontstyle.Bold}), pdfCol(11, c.Material),
			pdfCol(5, formatDecimal(lang, c.Quantity)+" "+c.Unit), pdfCol(4, prodWhen(lang, c.At, s.zone())))
	}

	return finishPDF(m, setup)
}

// addSignatureRow writes a signature's manifestation under its step:
// printed name, date and time with the zone, meaning; and its status.
func addSignatureRow(m core.Maroto, lang string, sg esign.Signature, zone *time.Location) {
	status, st := tr(lang, "audit.pdf.valid"), props.Text{Size: 7, Left: 1}
	if sg.Status != esign.Valid {
		status, st.Style, st.Color = tr(lang, "audit.pdf.broken"), fontstyle.Bold, pdfRed
	}
	if sg.SignerName == "" {
		sg.SignerName = tr(lang, "dossier.site_staff")
	}
	line := tr(lang, "record.signature") + " " + sg.DisplayIn(zone)
	if sg.Reason != "" {
		line += " — " + sg.Reason
	}
	m.AddAutoRow(pdfCol(2, ""), pdfCol(15, line, props.Text{Size: 7}), pdfCol(7, status, st))
}
