package web

import (
	"net/http"
	"net/url"
	"strings"
	"time"

	"galenix/internal/controlled"
	"galenix/internal/errs"
)

// The register's inventories (R.5132-36: a container counted or weighed,
// a discrepancy opening the client's deviation) and its annual statement
// (R.5132-83) with the monthly balances recorded over its year.

// inventoryPage is the containers with what the register says they hold,
// the count form, and the counts made.
type inventoryPage struct {
	controlledBase
	Containers []controlled.Container
	Counts     []controlled.Count
	Form       *form
}

// Gap writes a count's discrepancy, signed, with its unit: "" for none.
func (p inventoryPage) Gap(c controlled.Count) string {
	d := c.Discrepancy()
	if d == 0 {
		return ""
	}
	sign := "+"
	if d < 0 {
		sign = "−"
		d = -d
	}
	return sign + qtyText(p.Lang, d, c.Unit)
}

// inventoryNotices say what was done, after a redirection (?done=).
var inventoryNotices = map[string]string{"counted": "controlled.done.counted", "discrepancy": "controlled.done.discrepancy"}

func (s *Server) renderInventory(w http.ResponseWriter, r *http.Request, status int, f *form) {
	c, err := s.controlledSvc()
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	d := inventoryPage{controlledBase: s.controlledBase(r, "inventory"), Form: f}
	if err := controlled.MayView(d.Actor); err != nil {
		s.pageError(w, r, err)
		return
	}
	if key, ok := inventoryNotices[r.URL.Query().Get("done")]; ok && f == nil {
		d.Notice = tr(d.Lang, key)
	}
	if d.Form == nil {
		d.Form = &form{Values: url.Values{}, lang: d.Lang}
	}
	d.Form.shown = []string{"container_id", "counted", "note"}
	ctx := r.Context()
	if d.Containers, err = c.Containers(ctx, ""); err == nil {
		d.Counts, err = c.Counts(ctx)
	}
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	s.render(w, r, status, "controlled_inventory", d)
}

// countContainer records a container's count: the quantity found written
// either way (12,5 or 12.5), zero included.
func (s *Server) countContainer(w http.ResponseWriter, r *http.Request, vals url.Values) {
	c, err := s.controlledSvc()
	cnt := controlled.Count{ContainerID: vals.Get("container_id"), Note: vals.Get("note")}
	if err == nil {
		q, ok := controlled.ParseQty(strings.Replace(strings.TrimSpace(vals.Get("counted")), ",", ".", 1))
		if !ok {
			err = errs.Field("counted", "controlled.counted")
		}
		cnt.Counted = q
	}
	if err == nil {
		err = c.Count(r.Context(), &cnt)
	}
	if err != nil {
		s.logIfInternal(r, err)
		s.renderInventory(w, r, refusalStatus(err), &form{Values: vals, Err: err, lang: langOf(r)})
		return
	}
	done := "counted"
	if cnt.DeviationID != "" {
		done = "discrepancy"
	}
	http.Redirect(w, r, "/controlled/inventory?done="+done+"#counts", http.StatusSeeOther)
}

// statementPage is a substance's annual statement (R.5132-83) with the
// monthly balances recorded over its year.
type statementPage struct {
	controlledBase
	Substances []controlled.Substance
	Sub        *controlled.Substance
	Year       int
	Years      []int
	St         *controlled.Statement
	Months     []statementMonth
}

// statementMonth is a month of the statement's year and its balance as
// recorded at its end, nil before it was.
type statementMonth struct {
	Month    string
	Text     string
	Recorded *controlled.MonthRecord
}

// statementOf reads the substance (the first when none is named) and the
// year (this one when none is) of a statement's query, its quantities
// and its months.
func (s *Server) statementOf(r *http.Request) (statementPage, error) {
	d := statementPage{controlledBase: s.controlledBase(r, "statement")}
	c, err := s.controlledSvc()
	if err != nil {
		return d, err
	}
	if err := controlled.MayView(d.Actor); err != nil {
		return d, err
	}
	ctx, q := r.Context(), r.URL.Query()
	d.Year = time.Now().In(d.zone).Year()
	if y := strings.TrimSpace(q.Get("year")); y != "" {
		n, err := integer(q, "year")
		if err != nil || n < 2000 || n > 9999 {
			return d, errs.Field("year", "controlled.year")
		}
		d.Year = n
	}
	for y := time.Now().In(d.zone).Year(); y >= time.Now().In(d.zone).Year()-4; y-- {
		d.Years = append(d.Years, y)
	}
	if d.Substances, err = c.Substances(ctx); err != nil {
		return d, err
	}
	if d.Sub, err = chooseSubstance(d.Substances, q.Get("substance")); err != nil || d.Sub == nil {
		return d, err
	}
	if d.St, err = c.Annual(ctx, d.Sub.ID, d.Year); err != nil {
		return d, err
	}
	recs, err := c.MonthRecords(ctx, d.Sub.ID)
	if err != nil {
		return d, err
	}
	byMonth := map[string]*controlled.MonthRecord{}
	for i := range recs {
		byMonth[recs[i].Month] = &recs[i]
	}
	for m := time.Date(d.Year, 1, 1, 0, 0, 0, 0, d.zone); m.Year() == d.Year; m = m.AddDate(0, 1, 0) {
		d.Months = append(d.Months, statementMonth{Month: m.Format("2006-01"), Text: monthLabel(d.Lang, m), Recorded: byMonth[m.Format("2006-01")]})
	}
	return d, nil
}

// Lines are the statement's quantities with their words' keys, in the
// order the ANSM's form asks for them.
func (p statementPage) Lines() []statementLine { return statementLines(p.St) }

// statementLine is one quantity of the annual statement.
type statementLine struct {
	Key string
	Qty controlled.Qty
}

func statementLines(st *controlled.Statement) []statementLine {
	if st == nil {
		return nil
	}
	return []statementLine{{"controlled.st.opening", st.Opening}, {"controlled.st.received", st.Received}, {"controlled.st.used", st.Used},
		{"controlled.st.lost", st.Lost}, {"controlled.st.destroyed", st.Destroyed}, {"controlled.st.sampled", st.Sampled},
		{"controlled.st.shipped", st.Shipped}, {"controlled.st.corrected", st.Corrected}, {"controlled.st.closing", st.Closing}}
}

// statementPage draws the annual statement.
func (s *Server) statementPage(w http.ResponseWriter, r *http.Request) {
	d, err := s.statementOf(r)
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "controlled_statement", d)
}
