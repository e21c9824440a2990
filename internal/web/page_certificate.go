package web

import (
	"mime"
	"net/http"
	"strconv"
	"strings"

	"github.com/johnfercher/maroto/v2/pkg/consts/border"
	"github.com/johnfercher/maroto/v2/pkg/consts/fontstyle"
	"github.com/johnfercher/maroto/v2/pkg/core"
	"github.com/johnfercher/maroto/v2/pkg/props"

	"galenix/internal/errs"
	"galenix/internal/quality"
	gtext "galenix/internal/text"
)

// certificatePDF answers a certified batch's certificate of analysis as a
// PDF, in French or English (?lang=, else the reader's language), with
// what WHO TRS 1010 annex 4 lists: the laboratory's name and address, the
// certificate's number, page x of y, the client, the product and the
// batch, each test with its method, result and acceptance criterion, the
// conformity statement and the qualified person's signature. It is
// written as every PDF is (pdf_doc.go): its font embedded, so the
// criteria's "≥" and "µ" print as themselves, and as PDF/A-2b.
// A batch not certified, or another client's, is not found.
func (s *Server) certificatePDF(w http.ResponseWriter, r *http.Request) {
	// The API's route answers its refusals in the error envelope, the
	// page's as a page.
	refuse := s.pageError
	if strings.HasPrefix(r.URL.Path, "/api/") {
		refuse = s.apiError
	}
	c, err := s.Release.Certificate(r.Context(), r.PathValue("id"))
	if err != nil {
		refuse(w, r, err)
		return
	}
	lang := langOf(r)
	if v := r.URL.Query().Get("lang"); v == langFR || v == langEN {
		lang = v
	}
	doc, err := certificateDoc(lang, c, s)
	if err != nil {
		refuse(w, r, errs.Wrap(err, "certificate PDF"))
		return
	}
	h := w.Header()
	h.Set("Content-Type", "application/pdf")
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Language", lang)
	h.Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": c.Number + "-" + c.Lot + ".pdf"}))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(doc)
}

// certificateColumns are the tests' table: heading key and width.
var certificateColumns = []struct {
	key  string
	size int
}{{"coa.col.test", 5}, {"coa.col.method", 6}, {"coa.col.criterion", 6}, {"coa.col.result", 4}, {"coa.col.conformity", 3}}

func certificateDoc(lang string, c *quality.Certificate, s *Server) ([]byte, error) {
	setup := pdfSetup{title: tr(lang, "coa.title") + " " + c.Number, lang: lang, margin: 15, fontSize: 9, pageLabel: c.Number}
	m, err := newPDF(setup)
	if err != nil {
		return nil, err
	}
	m.AddAutoRow(pdfCol(pdfGrid, c.Laboratory, props.Text{Size: 11, Style: fontstyle.Bold}))
	if c.Address != "" {
		m.AddAutoRow(pdfCol(pdfGrid, c.Address, props.Text{Size: 9}))
	}
	m.AddAutoRow(pdfCol(pdfGrid, tr(lang, "coa.title"), props.Text{Size: 16, Style: fontstyle.Bold, Top: 6, Bottom: 4}))
	head := [][2]string{
		{tr(lang, "coa.number"), c.Number},
		{tr(lang, "coa.issued"), formatStamp(lang, c.IssuedAt, s.zone())},
		{tr(lang, "coa.client"), c.Client},
		{tr(lang, "coa.product"), c.Code + " — " + c.Product},
		{tr(lang, "coa.lot"), c.Lot + " — " + gtext.FormatQuantity(lang, c.Quantity) + " " + c.Unit},
		{tr(lang, "coa.spec"), c.Spec + " " + tr(lang, "record.version") + " " + strconv.Itoa(c.SpecVer)},
	}
	for _, h := range head {
		m.AddAutoRow(pdfCol(6, h[0], props.Text{Style: fontstyle.Bold}), pdfCol(pdfGrid-6, h[1]))
	}
	m.AddAutoRow(pdfCol(pdfGrid, tr(lang, "coa.results"), props.Text{Size: 12, Style: fontstyle.Bold, Top: 6, Bottom: 2}))
	cols := make([]core.Col, len(certificateColumns))
	for i, col := range certificateColumns {
		cols[i] = pdfCol(col.size, tr(lang, col.key), props.Text{Style: fontstyle.Bold, Left: 1, Top: 1, Bottom: 1})
	}
	m.AddAutoRow(cols...).WithStyle(&props.Cell{BackgroundColor: pdfGrey})
	cell := props.Text{Size: 8, Left: 1, Right: 1, Top: 1, Bottom: 1}
	conform := true
	for _, l := range c.Tests {
		result := l.Result
		if l.Test.Kind == quality.TestNumeric {
			result = gtext.LocalizeNumber(lang, l.Result) + " " + l.Unit
		}
		verdict := tr(lang, "coa.verdict."+string(l.Verdict))
		conform = conform && l.Verdict != quality.OutOfSpec
		vals := []string{l.Test.Name + " (" + l.Test.Code + ")", l.Test.Method, l.Test.Criterion(lang), result, verdict}
		row := make([]core.Col, len(vals))
		for i, v := range vals {
			row[i] = pdfCol(certificateColumns[i].size, v, cell)
		}
		m.AddAutoRow(row...).WithStyle(&props.Cell{BorderType: border.Bottom, BorderColor: pdfGrey, BorderThickness: 0.2})
	}
	statement := "coa.conform"
	if !conform {
		statement = "coa.not_conform"
	}
	m.AddAutoRow(pdfCol(pdfGrid, gtext.Render(lang, statement, c.Lot, c.Spec, c.SpecVer), props.Text{Size: 10, Style: fontstyle.Bold, Top: 6, Bottom: 4}))
	m.AddAutoRow(pdfCol(pdfGrid, tr(lang, "coa.signed"), props.Text{Style: fontstyle.Bold}))
	m.AddAutoRow(pdfCol(pdfGrid, c.Signature.DisplayIn(s.zone()), props.Text{Top: 1}))
	return finishPDF(m, setup)
}
