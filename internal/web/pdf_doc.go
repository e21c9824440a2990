package web

import (
	"sync"
	"time"

	"github.com/johnfercher/go-tree/node"
	"github.com/johnfercher/maroto/v2"
	"github.com/johnfercher/maroto/v2/pkg/components/col"
	"github.com/johnfercher/maroto/v2/pkg/config"
	"github.com/johnfercher/maroto/v2/pkg/consts/fontstyle"
	"github.com/johnfercher/maroto/v2/pkg/consts/orientation"
	"github.com/johnfercher/maroto/v2/pkg/consts/pagesize"
	"github.com/johnfercher/maroto/v2/pkg/core"
	"github.com/johnfercher/maroto/v2/pkg/core/entity"
	"github.com/johnfercher/maroto/v2/pkg/props"
	"github.com/johnfercher/maroto/v2/pkg/repository"

	"galenix/internal/pdf"
)

// The one way galenix writes a PDF (the batch record, the audit trail, the
// certificate of analysis): newPDF sets up the page and the embedded font,
// the document is laid out with maroto, its texts through pdfCol, and
// finishPDF writes it as PDF/A-2b (internal/pdf, docs/architecture.md).

// pdfFamily is the documents' only font family: Galenix Sans (DejaVu Sans
// with the CJK glyphs of Droid Sans Fallback, internal/pdf/fonts),
// embedded and subset, so that "≥", "µ", "Ł", "Δ", "Пётр" or "王芳" print
// as themselves. No PDF core font, which would not be embedded, is used.
const pdfFamily = "galenix"

// pdfGrid is the number of grid columns of the PDF's rows.
const pdfGrid = 24

var (
	pdfRed  = &props.Color{Red: 180}
	pdfGrey = &props.Color{Red: 230, Green: 230, Blue: 230}
	// pdfGrey60 is a dark grey, for marks that warn of nothing.
	pdfGrey60 = &props.Color{Red: 90, Green: 90, Blue: 90}
)

// pdfFonts are the family's styles, loaded once: regular and bold (the
// documents use no italics).
var pdfFonts = sync.OnceValues(func() ([]*entity.CustomFont, error) {
	return repository.New().
		AddUTF8FontFromBytes(pdfFamily, fontstyle.Normal, pdf.RegularTTF).
		AddUTF8FontFromBytes(pdfFamily, fontstyle.Bold, pdf.BoldTTF).
		Load()
})

// pdfSetup is a document's page and what it says of itself.
type pdfSetup struct {
	title     string // in the information dictionary and the XMP metadata
	lang      string
	landscape bool
	margin    float64 // millimetres, left, top and right
	fontSize  float64 // default size, points
	pageLabel string  // before "page x / y" at the foot of each page
}

// newPDF starts a document: A4, the grid of pdfGrid columns, the embedded
// font, the page number at the foot.
func newPDF(d pdfSetup) (core.Maroto, error) {
	fonts, err := pdfFonts()
	if err != nil {
		return nil, err
	}
	orient := orientation.Vertical
	if d.landscape {
		orient = orientation.Horizontal
	}
	pattern := tr(d.lang, "audit.pdf.page")
	if d.pageLabel != "" {
		pattern = d.pageLabel + " — " + pattern
	}
	cfg := config.NewBuilder().
		WithPageSize(pagesize.A4).
		WithOrientation(orient).
		WithLeftMargin(d.margin).WithTopMargin(d.margin).WithRightMargin(d.margin).
		WithMaxGridSize(pdfGrid).
		WithSequentialMode().
		WithCustomFonts(fonts).
		WithDefaultFont(&props.Font{Family: pdfFamily, Size: d.fontSize}).
		WithPageNumber(props.PageNumber{Pattern: pattern, Place: props.RightBottom, Family: pdfFamily, Size: 8}).
		Build()
	return maroto.New(cfg), nil
}

// finishPDF writes the document laid out in m as PDF/A-2b.
func finishPDF(m core.Maroto, d pdfSetup) ([]byte, error) {
	doc, err := m.Generate()
	if err != nil {
		return nil, err
	}
	return pdf.PDFA(doc.GetBytes(), pdf.Meta{Title: d.title, Lang: d.lang, Created: time.Now()})
}

// pdfCol is a column of size grid columns holding value, its lines broken
// by pdf.Wrap: at spaces, and an id or a code too long for the column
// after its own separators, never with an added hyphen.
func pdfCol(size int, value string, p ...props.Text) core.Col {
	return col.New(size).Add(newPDFText(value, p...))
}

// pdfText is a text laid out by pdf.Wrap (see pdfCol); a character the
// font lacks prints as "�" (pdf.Printable).
type pdfText struct {
	value string
	prop  props.Text
}

func newPDFText(value string, p ...props.Text) *pdfText {
	t := &pdfText{value: pdf.Printable(value)}
	if len(p) > 0 {
		t.prop = p[0]
	}
	return t
}

// SetConfig takes the document's default font for what the text leaves
// unset.
func (t *pdfText) SetConfig(cfg *entity.Config) { t.prop.MakeValid(cfg.DefaultFont) }

func (t *pdfText) GetStructure() *node.Node[core.Structure] {
	return node.New(core.Structure{Type: "text", Value: t.value, Details: t.prop.ToMap()})
}

func (t *pdfText) lines(cell *entity.Cell) []string {
	bold := t.prop.Style == fontstyle.Bold || t.prop.Style == fontstyle.BoldItalic
	return pdf.Wrap(t.value, cell.Width-t.prop.Left-t.prop.Right, t.prop.Size, bold)
}

func (t *pdfText) lineHeight(provider core.Provider) float64 {
	return provider.GetFontHeight(&props.Font{Family: t.prop.Family, Style: t.prop.Style, Size: t.prop.Size}) + t.prop.VerticalPadding
}

// GetHeight is the height of the text's lines with its margins.
func (t *pdfText) GetHeight(provider core.Provider, cell *entity.Cell) float64 {
	n := len(t.lines(cell))
	return float64(n)*t.lineHeight(provider) - t.prop.VerticalPadding + t.prop.Top + t.prop.Bottom
}

// Render writes each line, one under the other; each fits its width, so
// the writer sets it as it is.
func (t *pdfText) Render(provider core.Provider, cell *entity.Cell) {
	h := t.lineHeight(provider)
	for i, line := range t.lines(cell) {
		c := cell.Copy()
		c.Y += float64(i) * h
		p := t.prop
		provider.AddText(line, &c, &p)
	}
}
