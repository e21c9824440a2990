package web

import (
	"fmt"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/johnfercher/maroto/v2"
	"github.com/johnfercher/maroto/v2/pkg/components/col"
	"github.com/johnfercher/maroto/v2/pkg/components/text"
	"github.com/johnfercher/maroto/v2/pkg/config"
	"github.com/johnfercher/maroto/v2/pkg/consts/border"
	"github.com/johnfercher/maroto/v2/pkg/consts/breakline"
	"github.com/johnfercher/maroto/v2/pkg/consts/fontfamily"
	"github.com/johnfercher/maroto/v2/pkg/consts/fontstyle"
	"github.com/johnfercher/maroto/v2/pkg/consts/orientation"
	"github.com/johnfercher/maroto/v2/pkg/consts/pagesize"
	"github.com/johnfercher/maroto/v2/pkg/core"
	"github.com/johnfercher/maroto/v2/pkg/props"

	"galenix/internal/errs"
	"galenix/internal/esign"
	"galenix/internal/identity"
)

// pdfGrid is the number of grid columns of the PDF's rows.
const pdfGrid = 24

// pdfColumns are the PDF table's columns: catalogue key of the heading and
// width in grid columns.
var pdfColumns = []struct {
	key  string
	size int
}{
	{"audit.csv.seq", 3}, {"audit.csv.at", 3}, {"audit.csv.who", 2}, {"audit.csv.command", 3},
	{"audit.col.record", 3}, {"audit.csv.field", 2}, {"audit.col.change", 5}, {"audit.csv.reason", 3},
}

var (
	pdfRed  = &props.Color{Red: 180}
	pdfGrey = &props.Color{Red: 230, Green: 230, Blue: 230}
)

// pdfText makes s printable with the PDF's standard font, which has the
// characters of Windows-1252: the arrow is written "->"; any other
// character outside it is printed as a dot.
func pdfText(s string) string {
	return strings.ReplaceAll(s, "→", "->")
}

// recordKey names one record of the trail.
type recordKey struct{ entity, id string }

// auditPDF answers the audit entries of the filters of the CSV export as a
// PDF to print and keep (Annex 11 §9): a heading with the site, the filters,
// when and by whom it was printed; the entries, those of records changed
// after their first entry marked (Annex 11 §8.2); and the electronic
// signatures of the records in it, with their status (21 CFR 11.50).
func (s *Server) auditPDF(w http.ResponseWriter, r *http.Request) {
	all, err := s.auditExportEntries(r, maxPDFEntries)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	ctx := r.Context()
	lang := csvLang(r)
	a, _ := identity.ActorFrom(ctx)
	siteName := ""
	if st, err := s.Site.Site(ctx); err == nil {
		siteName = st.Name + " (" + st.Code + ")"
	} else {
		s.apiError(w, r, err)
		return
	}

	// The records in the export, in order, and which were changed.
	var records []recordKey
	seen := map[recordKey]bool{}
	changed := map[recordKey]bool{}
	for _, e := range all {
		k := recordKey{e.Entity, e.EntityID}
		if e.EntityID == "" {
			continue
		}
		if !seen[k] {
			seen[k] = true
			records = append(records, k)
		}
		if modifies(e) {
			changed[k] = true
		}
	}
	// Their signatures, through the same scoped service as the API's.
	sigs := map[recordKey][]esign.Signature{}
	if svc := s.Signatures; svc != nil {
		for _, k := range records {
			list, err := svc.Signatures(ctx, k.entity, k.id)
			if err != nil {
				if errs.CodeOf(err) == errs.Internal {
					s.apiError(w, r, err)
					return
				}
				continue // a kind of record that is not signed, or one out of sight
			}
			if len(list) > 0 {
				sigs[k] = list
			}
		}
	}

	cfg := config.NewBuilder().
		WithPageSize(pagesize.A4).
		WithOrientation(orientation.Horizontal).
		WithLeftMargin(10).WithTopMargin(10).WithRightMargin(10).
		WithMaxGridSize(pdfGrid).
		WithSequentialMode().
		WithTitle(tr(lang, "audit.pdf.title"), true).
		WithCreator("galenix", false).
		WithDefaultFont(&props.Font{Family: fontfamily.Helvetica, Size: 8}).
		WithPageNumber(props.PageNumber{Pattern: tr(lang, "audit.pdf.page"), Place: props.RightBottom,
			Family: fontfamily.Helvetica, Size: 8}).
		Build()
	m := maroto.New(cfg)

	filters := describeFilters(r)
	if filters == "" {
		filters = tr(lang, "audit.pdf.nofilter")
	}
	printedBy := a.Name
	if printedBy == "" {
		printedBy = a.Username
	}
	m.AddAutoRow(text.NewCol(pdfGrid, pdfText(tr(lang, "audit.pdf.title")+" — "+siteName),
		props.Text{Size: 14, Style: fontstyle.Bold}))
	m.AddAutoRow(text.NewCol(pdfGrid, pdfText(tr(lang, "audit.pdf.filters")+" : "+filters), props.Text{Top: 2}))
	m.AddAutoRow(text.NewCol(pdfGrid, pdfText(fmt.Sprintf(tr(lang, "audit.pdf.printed"), formatStamp(lang, time.Now(), s.zone()), printedBy)+
		" — "+fmt.Sprintf(tr(lang, "audit.pdf.count"), len(all))), props.Text{Top: 1, Bottom: 3}))

	head := make([]core.Col, len(pdfColumns))
	for i, c := range pdfColumns {
		head[i] = text.NewCol(c.size, pdfText(tr(lang, c.key)), props.Text{Style: fontstyle.Bold, Left: 1, Top: 1, Bottom: 1})
	}
	m.AddAutoRow(head...).WithStyle(&props.Cell{BackgroundColor: pdfGrey})

	cell := props.Text{Size: 7, Left: 1, Right: 1, Top: 1, Bottom: 1}
	for _, e := range all {
		change := e.New
		if e.Old != "" {
			change = e.Old + " → " + e.New
		}
		seq := col.New(pdfColumns[0].size).Add(text.New(strconv.FormatInt(e.Seq, 10), cell))
		if changed[recordKey{e.Entity, e.EntityID}] {
			mark := cell
			mark.Top, mark.Size, mark.Style, mark.Color = 4.5, 6, fontstyle.Bold, pdfRed
			seq.Add(text.New(pdfText(tr(lang, "audit.pdf.modified")), mark))
		}
		values := []string{formatStamp(lang, e.At, s.zone()), e.ActorName, e.Command, e.Entity + " " + e.EntityID, e.Field, change, e.Reason}
		cols := []core.Col{seq}
		for i, v := range values {
			p := cell
			if longestWord(v) > 24 {
				p.BreakLineStrategy = breakline.DashStrategy // a hash or a long id, broken to fit
			}
			cols = append(cols, text.NewCol(pdfColumns[i+1].size, pdfText(v), p))
		}
		m.AddAutoRow(cols...).WithStyle(&props.Cell{BorderType: border.Bottom, BorderColor: pdfGrey, BorderThickness: 0.2})
	}

	if len(sigs) > 0 {
		m.AddAutoRow(text.NewCol(pdfGrid, tr(lang, "audit.pdf.sigs"), props.Text{Size: 12, Style: fontstyle.Bold, Top: 6, Bottom: 2}))
		for _, k := range records {
			list := sigs[k]
			if len(list) == 0 {
				continue
			}
			m.AddAutoRow(text.NewCol(pdfGrid, pdfText(k.entity+" "+k.id), props.Text{Style: fontstyle.Bold, Top: 2}))
			for _, sg := range list {
				status, st := tr(lang, "audit.pdf.valid"), props.Text{Size: 8, Left: 1}
				if sg.Status != esign.Valid {
					status, st.Style, st.Color = tr(lang, "audit.pdf.broken"), fontstyle.Bold, pdfRed
				}
				m.AddAutoRow(text.NewCol(16, pdfText(sg.DisplayIn(s.zone())), props.Text{Size: 8, Left: 4}), text.NewCol(8, pdfText(status), st))
			}
		}
	}

	doc, err := m.Generate()
	if err != nil {
		s.apiError(w, r, errs.Wrap(err, "audit PDF"))
		return
	}
	h := w.Header()
	h.Set("Content-Type", "application/pdf")
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Language", lang)
	h.Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": tr(lang, "audit.pdf.file")}))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(doc.GetBytes())
}

// longestWord is the length in bytes of the longest run of s without a
// space.
func longestWord(s string) int {
	n := 0
	for _, w := range strings.Fields(s) {
		n = max(n, len(w))
	}
	return n
}

// describeFilters writes the export's filters as the request gives them:
// "entity=building, from=2026-11-01".
func describeFilters(r *http.Request) string {
	q := r.URL.Query()
	var parts []string
	for _, k := range []string{"entity", "entity_id", "actor", "from", "to", "after"} {
		if v := q.Get(k); v != "" {
			parts = append(parts, k+"="+v)
		}
	}
	return strings.Join(parts, ", ")
}
