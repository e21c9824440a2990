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

	"galenix/internal/audit"
	"galenix/internal/errs"
	"galenix/internal/esign"
	"galenix/internal/identity"
	"galenix/internal/text"
)

// pdfColumns are the PDF table's columns: catalogue key of the heading and
// width in grid columns.
var pdfColumns = []struct {
	key  string
	size int
}{
	{"audit.csv.seq", 2}, {"audit.csv.at", 3}, {"audit.csv.who", 2}, {"audit.csv.command", 3},
	{"audit.col.record", 4}, {"audit.csv.field", 2}, {"audit.col.change", 5}, {"audit.csv.reason", 3},
}

// The marks of the audit PDF's rows: what the entry did to its record.
const (
	markCreated = "created"
	markChanged = "changed"
	markDeleted = "deleted"
	markSigned  = "signed"
)

// auditMark is what the entry did, read from the entry alone: a signature
// applied (its manifestation, or the signing command), a value removed (an
// old value and no new one, or a command that removes), a value replaced
// (old and new), a value set for the first time (a creation, a first
// entry); "" for an event that changes no value (a session opened).
func auditMark(e audit.Entry) string {
	switch {
	case e.Field == "signature" || e.Command == "signature.sign":
		return markSigned
	case e.Old != "" && e.New == "", strings.HasSuffix(e.Command, ".delete"), strings.HasSuffix(e.Command, ".remove"):
		return markDeleted
	case e.Old != "":
		return markChanged
	case e.New != "":
		return markCreated
	}
	return ""
}

// recordKey names one record of the trail.
type recordKey struct{ entity, id string }

// auditPDF answers the audit entries of the filters of the CSV export as a
// PDF to print and keep (Annex 11 §9): a heading with the site, the filters,
// when and by whom it was printed; the entries, each marked with what it
// did (created, changed, deleted, signed: auditMark; Annex 11 §8.2); and
// the electronic
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

	// The records in the export, in order.
	var records []recordKey
	seen := map[recordKey]bool{}
	labels := map[recordKey]string{}
	names := seesNames(ctx)
	for _, e := range all {
		k := recordKey{e.Entity, e.EntityID}
		if e.EntityLabel != "" {
			labels[k] = e.EntityLabel
		}
		if e.EntityID == "" || seen[k] {
			continue
		}
		seen[k] = true
		records = append(records, k)
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

	setup := pdfSetup{title: tr(lang, "audit.pdf.title") + " — " + siteName, lang: lang, landscape: true, margin: 10, fontSize: 8}
	m, err := newPDF(setup)
	if err != nil {
		s.apiError(w, r, errs.Wrap(err, "audit PDF"))
		return
	}

	filters := describeFilters(r)
	if filters == "" {
		filters = tr(lang, "audit.pdf.nofilter")
	}
	printedBy := a.Name
	if printedBy == "" {
		printedBy = a.Username
	}
	m.AddAutoRow(pdfCol(pdfGrid, tr(lang, "audit.pdf.title")+" — "+siteName,
		props.Text{Size: 14, Style: fontstyle.Bold}))
	m.AddAutoRow(pdfCol(pdfGrid, tr(lang, "audit.pdf.filters")+" : "+filters, props.Text{Top: 2}))
	m.AddAutoRow(pdfCol(pdfGrid, fmt.Sprintf(tr(lang, "audit.pdf.printed"), formatStamp(lang, time.Now(), s.zone()), printedBy)+
		" — "+text.RenderCount(lang, "audit.pdf.count", len(all), len(all)), props.Text{Top: 1, Bottom: 3}))

	head := make([]core.Col, len(pdfColumns))
	for i, c := range pdfColumns {
		head[i] = pdfCol(c.size, tr(lang, c.key), props.Text{Style: fontstyle.Bold, Left: 1, Top: 1, Bottom: 1})
	}
	m.AddAutoRow(head...).WithStyle(&props.Cell{BackgroundColor: pdfGrey})

	cell := props.Text{Size: 7, Left: 1, Right: 1, Top: 1, Bottom: 1}
	for _, e := range all {
		row := s.auditRowOf(lang, e)
		change := row.NewText
		if row.OldText != "" {
			change = row.OldText + " → " + row.NewText
		}
		seq := col.New(pdfColumns[0].size).Add(newPDFText(strconv.FormatInt(e.Seq, 10), cell))
		if k := auditMark(e); k != "" {
			mark := cell
			mark.Top, mark.Size, mark.Style, mark.Color = 4.5, 6, fontstyle.Bold, pdfGrey60
			if k == markChanged || k == markDeleted {
				mark.Color = pdfRed
			}
			seq.Add(newPDFText(tr(lang, "audit.pdf.mark."+k), mark))
		}
		// The entry in words, each name over its code: the command,
		// the record (its kind, its name, its id), the field.
		values := []string{row.When, row.Who, pdfLines(row.CommandText, e.Command),
			pdfLines(strings.TrimSpace(row.RecordText+" "+e.EntityLabel), e.Entity, e.EntityID), pdfLines(row.FieldText, e.Field), change, e.Reason}
		cols := []core.Col{seq}
		for i, v := range values {
			cols = append(cols, pdfCol(pdfColumns[i+1].size, v, cell))
		}
		m.AddAutoRow(cols...).WithStyle(&props.Cell{BorderType: border.Bottom, BorderColor: pdfGrey, BorderThickness: 0.2})
	}

	if len(sigs) > 0 {
		m.AddAutoRow(pdfCol(pdfGrid, tr(lang, "audit.pdf.sigs"), props.Text{Size: 12, Style: fontstyle.Bold, Top: 6, Bottom: 2}))
		for _, k := range records {
			list := sigs[k]
			if len(list) == 0 {
				continue
			}
			m.AddAutoRow(pdfCol(pdfGrid, strings.TrimSpace(auditWord(lang, "record", k.entity)+" "+labels[k])+" ("+k.id+")",
				props.Text{Style: fontstyle.Bold, Top: 2}))
			for _, sg := range list {
				if !names {
					// A client's reader: the site's staff sign, unnamed.
					sg.SignerID, sg.SignerName = "", tr(lang, "admin.site_staff")
				}
				status, st := tr(lang, "audit.pdf.valid"), props.Text{Size: 8, Left: 1}
				if sg.Status != esign.Valid {
					status, st.Style, st.Color = tr(lang, "audit.pdf.broken"), fontstyle.Bold, pdfRed
				}
				m.AddAutoRow(pdfCol(16, sg.DisplayIn(s.zone()), props.Text{Size: 8, Left: 4}), pdfCol(8, status, st))
			}
		}
	}

	doc, err := finishPDF(m, setup)
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
	_, _ = w.Write(doc)
}

// pdfLines writes the words of a name over its code (and what else
// identifies it), one a line; the code alone when it has no other words.
func pdfLines(words string, codes ...string) string {
	out := []string{words}
	for _, c := range codes {
		if c != "" && c != words {
			out = append(out, c)
		}
	}
	return strings.TrimSpace(strings.Join(out, "\n"))
}

// describeFilters writes the export's filters as the request gives them:
// "entity=building, from=2026-11-01".
func describeFilters(r *http.Request) string {
	q := r.URL.Query()
	var parts []string
	for _, k := range []string{"entity", "entity_id", "actor", "person", "record", "command", "from", "to", "after", "before"} {
		if v := q.Get(k); v != "" {
			parts = append(parts, k+"="+v)
		}
	}
	return strings.Join(parts, ", ")
}
