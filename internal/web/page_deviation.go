package web

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"galenix/internal/errs"
	"galenix/internal/esign"
	"galenix/internal/identity"
	"galenix/internal/production"
	"galenix/internal/quality"
	"galenix/internal/text"
)

// The deviations' pages: quality assurance's board (by state, with each
// deviation's class, lot and age), a deviation with the form of each step
// of its workflow that the reader may take now, a deviation reported by
// hand, and the CAPA list (open actions by due date, overdue ones marked).
// The service checks every permission and the client scope; the pages only
// hide the forms that would be refused.

// routesDeviationPages registers the deviations' pages.
func (s *Server) routesDeviationPages() {
	write := s.handleForm
	s.handle("GET", "/deviations", false, s.deviationsPage)
	s.handle("GET", "/deviations/new", false, s.deviationNewPage)
	write("/deviations", s.deviationCreate)
	s.handle("GET", "/deviations/{id}", false, s.deviationPage)
	for _, step := range []string{"assess", "approve", "investigate", "close", "check", "meet", "client-approve"} {
		write("/deviations/{id}/"+step, s.deviationStepForm(step))
	}
	write("/deviations/{id}/actions/{action_id}/complete", s.deviationStepForm("complete"))
	s.handle("GET", "/capa", false, s.capaPage)
}

// devBase is what every deviation page has: prodBase's helpers, and the
// tabs of quality's pages in place of production's.
type devBase struct {
	prodBase
	now time.Time
}

func (s *Server) devBase(r *http.Request, tab string) devBase {
	p := s.prodBase(r, "deviations", "")
	p.Tabs = nil
	a := p.Actor
	for _, t := range []struct {
		href, key string
		show      bool
	}{
		{"/deviations", "dev.tab.board", true},
		{"/capa", "dev.tab.capa", !a.IsClient()},
	} {
		if t.show {
			p.Tabs = append(p.Tabs, prodTab{Href: t.href, Key: t.key, Current: t.key == "dev.tab."+tab})
		}
	}
	return devBase{prodBase: p, now: time.Now()}
}

// Age is how many whole days ago the deviation was opened.
func (b devBase) Age(d quality.Deviation) int { return int(b.now.Sub(d.OpenedAt).Hours() / 24) }

// Day writes a day (time.Time or *time.Time) in the site's zone; "—" when
// there is none.
func (b devBase) Day(v any) string {
	var t time.Time
	switch x := v.(type) {
	case time.Time:
		t = x
	case *time.Time:
		if x != nil {
			t = *x
		}
	}
	if t.IsZero() {
		return "—"
	}
	return formatDate(b.Lang, t, b.zone)
}

// Title writes a deviation's title in the page's language: the batch
// record's is a stored coded text, one reported by hand is as typed.
func (b devBase) Title(title string) string { return storedText(b.Lang, title) }

// deviationGroup is one column of the board: the deviations in one state.
type deviationGroup struct {
	State      quality.DeviationState
	Deviations []quality.Deviation
}

type deviationsPage struct {
	devBase
	Groups []deviationGroup
	// The filters as given.
	Class, OlderThan, BatchID string
	Classes                   []quality.Class
	CanOpen                   bool
}

func (s *Server) deviationsPage(w http.ResponseWriter, r *http.Request) {
	svc, err := s.deviations()
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	q := r.URL.Query()
	f := quality.DeviationFilter{Class: quality.Class(q.Get("class")), BatchID: q.Get("batch_id"), Limit: 500}
	if !slices.Contains(quality.Classes, f.Class) {
		f.Class = ""
	}
	if n, err := strconv.Atoi(q.Get("older_than")); err == nil && n > 0 {
		f.OlderThan = n
	}
	list, err := svc.Deviations(r.Context(), f)
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	d := deviationsPage{devBase: s.devBase(r, "board"), Class: string(f.Class), BatchID: f.BatchID, Classes: quality.Classes}
	if f.OlderThan > 0 {
		d.OlderThan = strconv.Itoa(f.OlderThan)
	}
	d.CanOpen = !d.Actor.IsClient() && d.Actor.Can(identity.PermProductionView)
	for _, st := range quality.DeviationStates {
		g := deviationGroup{State: st}
		for _, dv := range list {
			if dv.State == st {
				g.Deviations = append(g.Deviations, *forReader(r.Context(), &dv))
			}
		}
		d.Groups = append(d.Groups, g)
	}
	s.render(w, r, http.StatusOK, "deviations", d)
}

type deviationNewPage struct {
	devBase
	Form    *form
	Clients []option
	// Batch is the batch the deviation is reported on, if any.
	BatchID, BatchLot string
}

func (s *Server) deviationNewPage(w http.ResponseWriter, r *http.Request) {
	vals := url.Values{"batch_id": {r.URL.Query().Get("batch_id")}}
	s.renderDeviationNew(w, r, http.StatusOK, &form{Values: vals, lang: langOf(r)})
}

func (s *Server) renderDeviationNew(w http.ResponseWriter, r *http.Request, status int, f *form) {
	d := deviationNewPage{devBase: s.devBase(r, "board"), Form: f}
	if d.Actor.IsClient() || !d.Actor.Can(identity.PermProductionView) {
		s.pageError(w, r, errs.E(errs.Forbidden, "quality.deviation.open_staff"))
		return
	}
	if id := f.Get("batch_id"); id != "" {
		b, err := s.Production.Batch(r.Context(), id)
		if err != nil {
			s.pageError(w, r, err)
			return
		}
		d.BatchID, d.BatchLot = b.ID, b.Lot
	} else {
		cs, err := s.Clients.Clients(r.Context())
		if err != nil {
			s.pageError(w, r, err)
			return
		}
		for _, c := range cs {
			if d.Actor.ClientScope().Has(c.ID) {
				d.Clients = append(d.Clients, option{Value: c.ID, Label: c.Code + " — " + c.Name})
			}
		}
	}
	s.render(w, r, status, "deviation_new", d)
}

func (s *Server) deviationCreate(w http.ResponseWriter, r *http.Request, vals url.Values) {
	svc, err := s.deviations()
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	dv, err := svc.OpenDeviation(r.Context(), quality.NewDeviation{ClientID: vals.Get("client_id"), BatchID: vals.Get("batch_id"),
		Title: vals.Get("title"), Description: vals.Get("description")})
	if err != nil {
		s.logIfInternal(r, err)
		s.renderDeviationNew(w, r, refusalStatus(err), &form{Values: vals, Err: err, lang: langOf(r), shown: []string{"title", "description", "client_id"}})
		return
	}
	http.Redirect(w, r, "/deviations/"+url.PathEscape(dv.ID)+"?saved=1", http.StatusSeeOther)
}

// deviationPage is one deviation with the forms of the steps the reader
// may take now.
type deviationPage struct {
	devBase
	D          *quality.Deviation
	Signatures []esign.Signature
	// Forms by step, with what was typed and the refusal, if any.
	Forms map[string]*form
	// What the reader may do now.
	CanAssess, CanApprove, CanInvestigate, CanClose, CanCheck bool
	// CanComplete names the actions the reader may record done.
	CanComplete map[string]bool
	Classes     []quality.Class
	Owners      []quality.Owner
	// NewActions are the blank rows of the investigation's form.
	NewActions []int
	// Obligations are what the client's quality agreement has the site
	// owe the client for this deviation, with their countdown; CanMeet:
	// the reader may send them (quality assurance).
	Obligations []quality.ObligationItem
	CanMeet     bool
	// ClientApproves: the agreement has the client approve the closure;
	// ClientApproved: a valid approval is there; CanClientApprove: the
	// reader (the client's manager) may sign it now.
	ClientApproves, ClientApproved, CanClientApprove bool
	Approvals                                        []esign.Signature
	// Error is a refusal whose form is no longer shown.
	Error string
}

// Affects writes an impact's decision as the form's value: "", yes or no.
func (p deviationPage) Affects(im quality.Impact) string {
	switch {
	case im.Affects == nil:
		return ""
	case *im.Affects:
		return "yes"
	}
	return "no"
}

// Overdue says whether an action is late.
func (p deviationPage) Overdue(a quality.Action) bool { return a.Overdue(p.now) }

// ObligationState is an obligation's state now.
func (p deviationPage) ObligationState(o quality.ObligationItem) quality.ObligationState {
	return o.State(p.now)
}

// Countdown writes the time left before an obligation is late, or by how
// much it is late, in the page's language; "" once met.
func (p deviationPage) Countdown(o quality.ObligationItem) string {
	return obligationCountdown(p.Lang, o, p.now)
}

// obligationCountdown writes, in lang, the time left at now before an
// obligation is late, or by how much it is late; "" once met.
func obligationCountdown(lang string, o quality.ObligationItem, now time.Time) string {
	left := o.Left(now)
	switch {
	case o.DoneAt != nil:
		return ""
	case left < 0:
		return text.Render(lang, "agreement.late_by", countdown(lang, -left))
	}
	return text.Render(lang, "agreement.left", countdown(lang, left))
}

// countdown writes a span of time in days and hours, or hours and
// minutes under a day, or minutes under an hour.
func countdown(lang string, d time.Duration) string {
	d = d.Round(time.Minute)
	days, hours, minutes := int(d/(24*time.Hour)), int(d/time.Hour)%24, int(d/time.Minute)%60
	switch {
	case days > 0:
		return text.Render(lang, "agreement.days_hours", days, hours)
	case hours > 0:
		return text.Render(lang, "agreement.hours_minutes", hours, minutes)
	}
	return text.Render(lang, "agreement.minutes", minutes)
}

func (s *Server) deviationPage(w http.ResponseWriter, r *http.Request) {
	s.renderDeviation(w, r, http.StatusOK, "", nil)
}

// renderDeviation draws a deviation's page; failed names the form refused
// and f holds what was typed and why.
func (s *Server) renderDeviation(w http.ResponseWriter, r *http.Request, status int, failed string, f *form) {
	svc, err := s.deviations()
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	ctx := r.Context()
	content := s.contentOf(r, "deviation", r.PathValue("id"))
	dv, err := svc.Deviation(ctx, r.PathValue("id"))
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	d := deviationPage{devBase: s.devBase(r, "board"), D: forReader(ctx, dv), Forms: map[string]*form{}, Classes: quality.Classes,
		CanComplete: map[string]bool{}, NewActions: []int{len(dv.Actions), len(dv.Actions) + 1}}
	if r.Method == http.MethodPost {
		d.Path = "/deviations/" + url.PathEscape(dv.ID)
	}
	for _, name := range []string{"assess", "approve", "investigate", "close", "check", "complete", "meet", "client-approve"} {
		d.Forms[name] = &form{Values: url.Values{}, lang: d.Lang}
	}
	if f != nil {
		d.Forms[failed] = f
	}
	d.Forms["close"].Values.Set("content_sha256", content)
	a, st := d.Actor, dv.State
	d.CanAssess = a.Can(identity.PermDeviationWork) && (st == quality.DeviationOpen || st == quality.DeviationAssessed)
	d.CanApprove = a.Can(identity.PermQualityDecide) && st == quality.DeviationAssessed
	d.CanInvestigate = a.Can(identity.PermDeviationWork) && (st == quality.DeviationApproved || st == quality.DeviationInvestigated)
	d.CanClose = a.Can(identity.PermQualityDecide) && st == quality.DeviationInvestigated
	d.CanCheck = a.Can(identity.PermQualityDecide) && st == quality.DeviationClosed && dv.EffectivenessDue != nil
	if !a.IsClient() {
		for _, ac := range dv.Actions {
			if ac.DoneAt == nil && (ac.OwnerID == a.UserID || a.Can(identity.PermQualityDecide)) {
				d.CanComplete[ac.ID] = true
			}
		}
	}
	if d.CanInvestigate {
		if d.Owners, err = svc.Owners(ctx); err != nil {
			s.pageError(w, r, err)
			return
		}
	}
	if sg := s.Signatures; sg != nil && !a.IsClient() {
		if d.Signatures, err = sg.Signatures(ctx, "deviation", dv.ID); err != nil {
			s.pageError(w, r, err)
			return
		}
	}
	if err := s.agreementOf(r, &d); err != nil {
		s.pageError(w, r, err)
		return
	}
	d.Forms["client-approve"].Values.Set("content_sha256", s.contentOf(r, "deviation_closure", dv.ID))
	shown := map[string]bool{"assess": d.CanAssess, "approve": d.CanApprove, "investigate": d.CanInvestigate, "close": d.CanClose,
		"check": d.CanCheck, "complete": len(d.CanComplete) > 0, "meet": d.CanMeet, "client-approve": d.CanClientApprove}
	if f != nil && f.Err != nil && !shown[failed] {
		d.Error = errs.MessageOf(f.Err, d.Lang)
	}
	s.render(w, r, status, "deviation", d)
}

// deviationStepForm takes one step of the workflow from its form, then
// shows the deviation again.
func (s *Server) deviationStepForm(step string) func(http.ResponseWriter, *http.Request, url.Values) {
	return func(w http.ResponseWriter, r *http.Request, vals url.Values) {
		svc, err := s.deviations()
		if err != nil {
			s.pageError(w, r, err)
			return
		}
		ctx, id := r.Context(), r.PathValue("id")
		st := quality.DeviationStep{}
		if v, err := strconv.Atoi(vals.Get("version")); err == nil {
			st.Version = v
		}
		shown := []string{}
		switch step {
		case "assess":
			shown = []string{"class", "reason", "recurrence_of", "impacts", "impact_lot"}
			as := quality.Assessment{Class: quality.Class(vals.Get("class")), Reason: vals.Get("reason"), RecurrenceOf: strings.TrimSpace(vals.Get("recurrence_of"))}
			for i, b := range vals["impact_batch"] {
				im := quality.Impact{BatchID: b}
				switch formAt(vals, "impact_affects", i) {
				case "yes":
					im.Affects = ptr(true)
				case "no":
					im.Affects = ptr(false)
				}
				im.Justification = formAt(vals, "impact_justification", i)
				as.Impacts = append(as.Impacts, im)
			}
			// Another batch's impact, named by its lot: found in the
			// reader's scope, else the same answer as for a lot that does
			// not exist.
			var more *quality.Impact
			if more, err = s.impactByLot(r, vals); err == nil {
				if more != nil {
					as.Impacts = append(as.Impacts, *more)
				}
				_, err = svc.AssessDeviation(ctx, id, st, as)
			}
		case "approve":
			_, err = svc.ApproveAssessment(ctx, id, st)
		case "investigate":
			shown = []string{"root_cause", "actions", "description", "owner_id", "due"}
			f := quality.Findings{RootCause: vals.Get("root_cause")}
			for i := range 50 {
				n := "a" + strconv.Itoa(i) + "_"
				if _, ok := vals[n+"description"]; !ok {
					break
				}
				ac := quality.Action{ID: vals.Get(n + "id"), Description: vals.Get(n + "description"), OwnerID: vals.Get(n + "owner"),
					Preventive: vals.Get(n+"preventive") == "1"}
				if ac.ID == "" && strings.TrimSpace(ac.Description) == "" {
					continue
				}
				if v := vals.Get(n + "due"); v != "" {
					if ac.Due, err = time.ParseInLocation(time.DateOnly, v, s.zone()); err != nil {
						err = errs.Field("due", "web.deviation.action_due", i+1)
						break
					}
				}
				f.Actions = append(f.Actions, ac)
			}
			if err == nil {
				_, err = svc.InvestigateDeviation(ctx, id, st, f)
			}
		case "complete":
			shown = []string{"evidence"}
			_, err = svc.CompleteAction(ctx, id, r.PathValue("action_id"), vals.Get("evidence"))
		case "close":
			// The day of the effectiveness check is set first, then QA
			// signs the closure, which signs that day with the rest.
			shown = append([]string{"effectiveness_due"}, signFields...)
			if v := vals.Get("effectiveness_due"); v != "" {
				var due time.Time
				if due, err = time.ParseInLocation(time.DateOnly, v, s.zone()); err != nil {
					err = errs.Field("effectiveness_due", "web.dates_written_day_2026")
				} else if _, err = svc.PlanEffectivenessCheck(ctx, id, st, due); err == nil {
					// The day just set changes the content the page
					// showed, by this very form: the version checked
					// that the rest is as shown.
					vals.Del("content_sha256")
				}
			}
			if err == nil {
				_, err = s.signRecord(r, "deviation", id, string(esign.Approved), vals)
			}
			vals.Del("password")
		case "meet":
			shown = []string{"message"}
			err = s.meetObligation(r, vals)
		case "client-approve":
			shown = signFields
			_, err = s.signRecord(r, "deviation_closure", id, string(esign.Approved), vals)
			vals.Del("password")
		case "check":
			shown = []string{"effective", "note"}
			switch vals.Get("effective") {
			case "yes", "no":
				_, err = svc.CheckEffectiveness(ctx, id, st, vals.Get("effective") == "yes", vals.Get("note"))
			default:
				err = errs.Field("effective", "web.deviation.effective")
			}
		}
		if err != nil {
			if errs.Is(err, errs.NotFound) && errs.FieldOf(err) == "" && step != "complete" {
				s.pageError(w, r, err)
				return
			}
			s.logIfInternal(r, err)
			s.renderDeviation(w, r, refusalStatus(err), step, &form{Values: vals, Err: err, lang: langOf(r), shown: shown})
			return
		}
		http.Redirect(w, r, "/deviations/"+url.PathEscape(id)+"?saved=1", http.StatusSeeOther)
	}
}

// formAt is the i-th value of a repeated form field, "" past its end.
func formAt(vals url.Values, name string, i int) string {
	if v := vals[name]; i < len(v) {
		return v[i]
	}
	return ""
}

func ptr[T any](v T) *T { return &v }

type capaPage struct {
	devBase
	Items      []quality.ActionItem
	Open, Mine bool
}

func (s *Server) capaPage(w http.ResponseWriter, r *http.Request) {
	svc, err := s.deviations()
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	q := r.URL.Query()
	d := capaPage{devBase: s.devBase(r, "capa"), Open: q.Get("all") != "1", Mine: q.Get("mine") == "1"}
	if d.Items, err = svc.Actions(r.Context(), quality.ActionFilter{Open: d.Open, Mine: d.Mine}); err != nil {
		s.pageError(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "capa", d)
}

// impactByLot reads the assessment form's other batch: its lot number
// (impact_lot), its impact and justification; nil when no lot is named.
// A lot not found in the reader's scope is refused in words, nothing
// changed.
func (s *Server) impactByLot(r *http.Request, vals url.Values) (*quality.Impact, error) {
	lot := strings.TrimSpace(vals.Get("impact_lot"))
	if lot == "" {
		return nil, nil
	}
	bs, err := s.Production.Batches(r.Context(), production.BatchFilter{Lot: lot})
	if err != nil {
		return nil, err
	}
	if len(bs) != 1 {
		return nil, errs.Field("impact_lot", "web.deviation.no_such_lot", lot)
	}
	im := &quality.Impact{BatchID: bs[0].ID, Justification: vals.Get("impact_lot_justification")}
	switch vals.Get("impact_lot_affects") {
	case "yes":
		im.Affects = ptr(true)
	case "no":
		im.Affects = ptr(false)
	}
	return im, nil
}

// ImpactRows are the batches the assessment form decides: those assessed
// already, or the deviation's own batch.
func (p deviationPage) ImpactRows() []quality.Impact {
	if len(p.D.Impacts) > 0 || p.D.BatchID == "" {
		return p.D.Impacts
	}
	return []quality.Impact{{BatchID: p.D.BatchID, Lot: p.D.BatchLot}}
}

// EffectiveYes says the effectiveness check found the actions effective.
func (p deviationPage) EffectiveYes() bool { return p.D.Effective != nil && *p.D.Effective }

// IsoDay writes an optional day as a date field's value, YYYY-MM-DD in
// the site's zone.
func (p deviationPage) IsoDay(t *time.Time) string {
	if t == nil {
		return ""
	}
	return t.In(p.zone).Format(time.DateOnly)
}

// actionRow is one row of the investigation's form: an action recorded
// (ID set) or a blank one.
type actionRow struct {
	I, No                         int
	ID, Description, OwnerID, Due string
	Preventive, Done              bool
	Owners                        []quality.Owner
}

// ActionRow is the form's row of a recorded action.
func (p deviationPage) ActionRow(i int, a quality.Action) actionRow {
	return actionRow{I: i, No: i + 1, ID: a.ID, Description: a.Description, OwnerID: a.OwnerID, Due: p.IsoDay(&a.Due),
		Preventive: a.Preventive, Done: a.DoneAt != nil, Owners: p.Owners}
}

// NewActionRow is a blank row of the form.
func (p deviationPage) NewActionRow(i int) actionRow {
	return actionRow{I: i, No: i + 1, Owners: p.Owners}
}

// agreementOf reads, for the deviation's page, what the client's quality
// agreement sets for it: its obligations and the client's approval of the
// closure. Without an agreement (or the service), nothing.
func (s *Server) agreementOf(r *http.Request, d *deviationPage) error {
	if s.Agreements == nil || d.D.ClientID == "" {
		return nil
	}
	ctx, a, dv := r.Context(), d.Actor, d.D
	if !a.IsClient() && !a.Can(identity.PermProductionView) {
		return nil
	}
	obs, err := s.Agreements.Obligations(ctx, quality.ObligationFilter{DeviationID: dv.ID})
	if err != nil {
		return err
	}
	d.Obligations = obs
	for _, o := range obs {
		if o.DoneAt == nil && a.Can(identity.PermQualityDecide) && !a.IsClient() {
			d.CanMeet = true
		}
	}
	ag, err := s.Agreements.Agreement(ctx, dv.ClientID)
	if errs.Is(err, errs.NotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	d.ClientApproves = ag.ClientApprovesClosure(dv)
	if !d.ClientApproves || s.Signatures == nil {
		return nil
	}
	summarySent := false
	for _, o := range obs {
		summarySent = summarySent || (o.Kind == quality.ObligeSummary && o.DoneAt != nil)
	}
	if summarySent && (a.IsClient() || a.Can(identity.PermQualityDecide)) {
		// The client's approval as it stands (valid or broken), read as
		// the client or as QA.
		if d.Approvals, err = s.Signatures.Signatures(ctx, "deviation_closure", dv.ID); err != nil && !errs.Is(err, errs.NotFound) {
			return err
		}
		for _, sg := range d.Approvals {
			d.ClientApproved = d.ClientApproved || (sg.Meaning == esign.Approved && sg.Status == esign.Valid)
		}
	}
	d.CanClientApprove = summarySent && !d.ClientApproved && a.IsClient() && a.Can(identity.PermClientApprove) &&
		dv.State == quality.DeviationInvestigated
	return nil
}

// meetObligation sends the client, from the deviation's page, what its
// agreement owes it: the obligation the form names, at the version shown.
func (s *Server) meetObligation(r *http.Request, vals url.Values) error {
	svc, err := s.agreements()
	if err != nil {
		return err
	}
	version, _ := strconv.Atoi(vals.Get("obligation_version"))
	_, err = svc.MeetObligation(r.Context(), vals.Get("obligation_id"), version, vals.Get("message"))
	return err
}
