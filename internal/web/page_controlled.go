package web

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"time"

	"galenix/internal/controlled"
	"galenix/internal/errs"
	"galenix/internal/esign"
	"galenix/internal/text"
)

// The controlled-substance register's pages (Code de la santé publique
// R.5132-74 and following), for those who may read it (QA, the
// responsible pharmacist, supervisors): a substance's register month by
// month with its balance, the movements waiting for their signatures,
// the alerts raised to the pharmacist; a movement's page where its
// performer and its witness sign it; the inventories; the annual
// statement; and the editions the law asks for, the register as PDF and
// CSV (page_controlled_pdf.go).

// routesControlledPages registers the register's pages and forms.
func (s *Server) routesControlledPages() {
	s.handle("GET", "/controlled", false, func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		s.renderControlled(w, r, http.StatusOK, q.Get("substance"), q.Get("month"), nil)
	})
	s.handleForm("/controlled/alerts/{id}/acknowledge", s.acknowledgeAlert)
	s.handle("GET", "/controlled/movements/new", false, func(w http.ResponseWriter, r *http.Request) {
		s.renderMovementNew(w, r, http.StatusOK, nil)
	})
	s.handleForm("/controlled/movements", s.enterMovement)
	s.handle("GET", "/controlled/movements/{id}", false, func(w http.ResponseWriter, r *http.Request) {
		s.renderMovement(w, r, http.StatusOK, "", nil)
	})
	s.handleForm("/controlled/movements/{id}/sign", s.signMovement)
	s.handleForm("/controlled/movements/{id}/discharge", s.dischargeMovement)
	s.handle("GET", "/controlled/inventory", false, func(w http.ResponseWriter, r *http.Request) {
		s.renderInventory(w, r, http.StatusOK, nil)
	})
	s.handleForm("/controlled/inventory", s.countContainer)
	s.handle("GET", "/controlled/statement", false, s.statementPage)
	s.handle("GET", "/controlled/statement.pdf", false, s.statementPDF)
	s.handle("GET", "/controlled/register.pdf", false, s.registerPDF)
	s.handle("GET", "/controlled/register.csv", false, s.registerCSV)
}

// controlledBase is what every page of the register shows: its tabs,
// the reader's language and zone, and whether the reader keeps it.
type controlledBase struct {
	base
	// Tab names the register's tab of the page.
	Tab string
	// CanRecord: the reader enters movements, counts, takes alerts in
	// charge (the services check again).
	CanRecord bool
	Notice    string
	zone      *time.Location
}

func (s *Server) controlledBase(r *http.Request, tab string) controlledBase {
	b := controlledBase{base: s.base(r, "controlled"), Tab: tab, zone: s.zone()}
	b.CanRecord = controlled.MayRecord(b.Actor) == nil
	return b
}

// When writes a time in the site's zone, the reader's way.
func (p controlledBase) When(v any) string { return prodWhen(p.Lang, v, p.zone) }

// Qty writes a quantity the reader's way: 1 250,500 in French.
func (p controlledBase) Qty(q controlled.Qty) string { return q.Localize(p.Lang) }

// Labelled writes a value after its label, the language's way:
// "Réception : 2,000 g", "Receipt: 2.000 g".
func (p controlledBase) Labelled(label, value string) string {
	if p.Lang == langEN {
		return label + ": " + value
	}
	return label + " : " + value
}

// Kind is a movement's kind in words.
func (p controlledBase) Kind(k controlled.Kind) string { return tr(p.Lang, controlled.KindKey(k)) }

// Detail is an alert's detail in words.
func (p controlledBase) Detail(a controlled.Alert) string { return a.Detail.Render(p.Lang) }

// signer is who signs a movement in one role: its performer or its
// witness, and their signature once given.
type signer struct {
	// Role is the catalogue key of the role's name.
	Role string
	Name string
	Sig  *esign.Signature
}

// Signers are the movement's performer and witness with their
// signatures ("performed" and "verified"; a step's for a dispensing).
func (p controlledBase) Signers(m controlled.Movement) []signer {
	return []signer{{"controlled.role.performer", m.PerformerName, sigOf(&m, esign.Performed)},
		{"controlled.role.witness", m.WitnessName, sigOf(&m, esign.Verified)}}
}

// monthStart is the first instant, in zone, of the month of t.
func monthStart(t time.Time, zone *time.Location) time.Time {
	l := t.In(zone)
	return time.Date(l.Year(), l.Month(), 1, 0, 0, 0, 0, zone)
}

// monthLabel writes a month: 05/2026 in French, 2026-05 in English.
func monthLabel(lang string, m time.Time) string {
	if lang == langEN {
		return m.Format("2006-01")
	}
	return m.Format("01/2006")
}

// chooseSubstance is the substance named by id among those of the
// register, the first when id is empty; nil when the register follows
// none. An id it does not follow is not found.
func chooseSubstance(subs []controlled.Substance, id string) (*controlled.Substance, error) {
	id = strings.TrimSpace(id)
	for i := range subs {
		if subs[i].ID == id || id == "" {
			return &subs[i], nil
		}
	}
	if id == "" {
		return nil, nil
	}
	return nil, errs.E(errs.NotFound, "controlled.no_such_substance")
}

// flows is what a movement puts into its containers and takes out of
// them: a transfer both.
func flows(m *controlled.Movement) (in, out controlled.Qty) {
	for _, d := range m.Delta() {
		if d > 0 {
			in += d
		} else {
			out -= d
		}
	}
	return in, out
}

// sigOf is the movement's signature of the meaning, nil when it has none.
func sigOf(m *controlled.Movement, meaning esign.Meaning) *esign.Signature {
	var out *esign.Signature
	for i := range m.Signatures {
		if g := &m.Signatures[i]; g.Meaning == meaning && (out == nil || g.Status == esign.Valid) {
			out = g
		}
	}
	return out
}

// kindQty is a quantity of one kind of movement, for a balance.
type kindQty struct {
	Kind controlled.Kind
	Qty  controlled.Qty
}

// controlledPage is a substance's register over a month: its balance, its
// movements by serial number, those waiting for their signatures, the
// open alerts, the containers.
type controlledPage struct {
	controlledBase
	Substances []controlled.Substance
	Sub        *controlled.Substance
	// Month is the month shown ("2006-01"), MonthText as read; Prev and
	// Next the months around it.
	Month, MonthText, Prev, Next string
	Year                         int
	// From and To are the month's days, for the CSV's period.
	From, To   string
	Summary    *controlled.Summary
	Recorded   *controlled.MonthRecord
	In, Out    []kindQty
	Movements  []controlled.Movement
	Pending    []controlled.Movement
	Alerts     []controlled.Alert
	Containers []controlled.Container
	// Ack is the refused take-charge form of the alert AckID.
	Ack   *form
	AckID string
}

// Flow writes what a movement puts in (in) or takes out, "" for none.
func (p controlledPage) Flow(m controlled.Movement, in bool) string {
	i, o := flows(&m)
	q := o
	if in {
		q = i
	}
	if q == 0 {
		return ""
	}
	return q.Localize(p.Lang) + " " + m.Unit
}

// AckFor is the take-charge form of an alert: the one refused, else a
// fresh one.
func (p controlledPage) AckFor(id string) *form {
	if p.Ack != nil && p.AckID == id {
		return p.Ack
	}
	return &form{Values: url.Values{}, lang: p.Lang, shown: []string{"comment"}}
}

// controlledNotices say what was done, after a redirection (?done=).
var controlledNotices = map[string]string{"acknowledged": "controlled.done.acknowledged"}

// renderControlled draws the register of the substance (the first when
// none is named) over the month ("2006-01", this month when empty), with
// the refused take-charge form of an alert, if any.
func (s *Server) renderControlled(w http.ResponseWriter, r *http.Request, status int, substance, month string, ack *form) {
	c, err := s.controlledSvc()
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	d := controlledPage{controlledBase: s.controlledBase(r, "register"), Ack: ack, AckID: r.PathValue("id")}
	if err := controlled.MayView(d.Actor); err != nil {
		s.pageError(w, r, err)
		return
	}
	if key, ok := controlledNotices[r.URL.Query().Get("done")]; ok && ack == nil {
		d.Notice = tr(d.Lang, key)
	}
	ctx := r.Context()
	t, err := s.monthOf(month)
	if err != nil {
		// A month that is not one shows this month, rather than nothing.
		t = time.Now()
	}
	from := monthStart(t, d.zone)
	to := from.AddDate(0, 1, 0)
	d.Month, d.MonthText, d.Year = from.Format("2006-01"), monthLabel(d.Lang, from), from.Year()
	d.Prev, d.Next = from.AddDate(0, -1, 0).Format("2006-01"), to.Format("2006-01")
	d.From, d.To = from.Format(time.DateOnly), to.AddDate(0, 0, -1).Format(time.DateOnly)
	if d.Substances, err = c.Substances(ctx); err == nil {
		d.Sub, err = chooseSubstance(d.Substances, substance)
	}
	if err == nil {
		d.Alerts, err = openAlerts(ctx, c)
	}
	if err == nil && d.Sub != nil {
		err = s.fillRegister(ctx, c, &d, from, to)
	}
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	if r.Method == http.MethodPost {
		// After a refused form, the language switch comes back here.
		d.Path = "/controlled?" + url.Values{"substance": {substance}, "month": {d.Month}}.Encode()
	}
	s.render(w, r, status, "controlled", d)
}

// fillRegister reads the substance's month: its balance, movements,
// those pending, its containers.
func (s *Server) fillRegister(ctx context.Context, c controlled.Service, d *controlledPage, from, to time.Time) error {
	var err error
	if d.Summary, d.Recorded, err = c.Month(ctx, d.Sub.ID, from); err != nil {
		return err
	}
	for _, k := range controlled.Kinds {
		if q := d.Summary.In[k]; q != 0 {
			d.In = append(d.In, kindQty{k, q})
		}
		if q := d.Summary.Out[k]; q != 0 {
			d.Out = append(d.Out, kindQty{k, q})
		}
	}
	if d.Movements, err = c.Register(ctx, controlled.Filter{SubstanceID: d.Sub.ID, From: from, To: to}); err != nil {
		return err
	}
	if d.Pending, err = c.Register(ctx, controlled.Filter{SubstanceID: d.Sub.ID, Pending: true}); err != nil {
		return err
	}
	d.Containers, err = c.Containers(ctx, d.Sub.ID)
	return err
}

// openAlerts are the register's alerts no one has taken charge of yet.
func openAlerts(ctx context.Context, c controlled.Service) ([]controlled.Alert, error) {
	all, err := c.Alerts(ctx)
	var out []controlled.Alert
	for _, a := range all {
		if a.AcknowledgedAt == nil {
			out = append(out, a)
		}
	}
	return out, err
}

// acknowledgeAlert takes charge of an alert with a comment, from the
// register's page, and goes back to it.
func (s *Server) acknowledgeAlert(w http.ResponseWriter, r *http.Request, vals url.Values) {
	c, err := s.controlledSvc()
	if err == nil {
		err = c.AcknowledgeAlert(r.Context(), r.PathValue("id"), vals.Get("comment"))
	}
	if err != nil {
		if errs.Is(err, errs.NotFound) && errs.FieldOf(err) == "" {
			s.pageError(w, r, err)
			return
		}
		s.logIfInternal(r, err)
		s.renderControlled(w, r, refusalStatus(err), vals.Get("substance"), vals.Get("month"),
			&form{Values: vals, Err: err, lang: langOf(r), shown: []string{"comment"}})
		return
	}
	q := url.Values{"substance": {vals.Get("substance")}, "month": {vals.Get("month")}, "done": {"acknowledged"}}
	http.Redirect(w, r, "/controlled?"+q.Encode()+"#alerts", http.StatusSeeOther)
}

// qtyText writes a quantity with its unit, the reader's way.
func qtyText(lang string, q controlled.Qty, unit string) string {
	return text.LocalizeNumber(lang, q.String()) + " " + unit
}
