package web

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"galenix/internal/audit"
	"galenix/internal/errs"
	"galenix/internal/esign"
	"galenix/internal/identity"
	"galenix/internal/site"
)

// Maintenance's daily work on a piece of equipment, in the JSON API and in
// its page: record a cleaning, take it out of service and back, renew its
// qualification by signature (site.Equipment.Apply, Renew).

// routesEquipmentWork registers the API and page routes of maintenance's
// work on equipment.
func (s *Server) routesEquipmentWork() {
	s.handle("POST", "/api/v1/equipment/{id}/actions", false, func(w http.ResponseWriter, r *http.Request) {
		var in struct {
			Action string `json:"action"`
			Reason string `json:"reason"`
		}
		if err := decode(w, r, &in); err != nil {
			s.apiError(w, r, err)
			return
		}
		act, err := site.ParseEquipmentAction(in.Action)
		var e *site.Equipment
		if err == nil {
			e, err = s.Site.MaintainEquipment(r.Context(), r.PathValue("id"), act, in.Reason)
		}
		s.answer(w, r, http.StatusOK, e, err)
	})
	s.handle("POST", "/api/v1/equipment/{id}/qualification", false, func(w http.ResponseWriter, r *http.Request) {
		var in struct {
			Due       string `json:"qualification_due"`
			Report    string `json:"qualification_report"`
			Challenge string `json:"challenge"`
			Username  string `json:"username"`
			Password  string `json:"password"`
			Reason    string `json:"reason"`
		}
		if err := decode(w, r, &in); err != nil {
			s.apiError(w, r, err)
			return
		}
		id := r.PathValue("id")
		a, _ := identity.ActorFrom(r.Context())
		var ren site.Renewal
		err := esign.Permit(a, "equipment", esign.Approved)
		if err == nil {
			ren, err = renewalOf(url.Values{"qualification_due": {in.Due}, "qualification_report": {in.Report}}, in.Reason)
		}
		if err == nil && s.Signatures == nil {
			err = errs.Wrap(errNoSignatures, "signatures")
		}
		if err == nil {
			_, err = s.Signatures.Sign(site.WithRenewal(r.Context(), ren), esign.SignRequest{Entity: "equipment", EntityID: id,
				Meaning: string(esign.Approved), Username: in.Username, Password: in.Password, Reason: in.Reason, Challenge: in.Challenge})
		}
		var e *site.Equipment
		if err == nil {
			e, err = s.Site.EquipmentItem(r.Context(), id)
		}
		s.answer(w, r, http.StatusOK, e, err)
	})

	s.handle("GET", "/equipment/{id}", false, func(w http.ResponseWriter, r *http.Request) {
		var notice string
		if key, ok := equipmentNotices[r.URL.Query().Get("done")]; ok {
			notice = tr(langOf(r), key)
		}
		s.renderEquipment(w, r, http.StatusOK, nil, nil, notice)
	})
	s.formWrite("/equipment/{id}/action", s.equipmentAction)
	s.formWrite("/equipment/{id}/qualification", s.equipmentRenew)
}

// renewalOf reads a renewal from a form, refusing one without the
// signer's comment (the reason of the change in the trail).
func renewalOf(v url.Values, reason string) (site.Renewal, error) {
	due, err := day(v, "qualification_due")
	if err != nil {
		return site.Renewal{}, err
	}
	if due.IsZero() {
		return site.Renewal{}, errs.Field("qualification_due", "site.date_qualification_due_required")
	}
	if strings.TrimSpace(reason) == "" {
		return site.Renewal{}, errs.Field("reason", "site.renewal_reason_required")
	}
	return site.Renewal{Due: due, Report: v.Get("qualification_report")}, nil
}

// equipmentItemPage is a piece of equipment's page: what it is, its line,
// maintenance's actions, the renewal of its qualification and its history.
type equipmentItemPage struct {
	base
	Equipment site.Equipment
	Line      *site.Line
	Overdue   bool
	// CanMaintain shows maintenance's forms.
	CanMaintain bool
	// Actions are the actions its status allows, each with its form.
	Actions []equipmentActionForm
	Renew   *form
	// History is the equipment's audit trail, newest first.
	History    []audit.Entry
	Signatures []esign.Signature
	Notice     string
	zone       *time.Location
}

// When writes a time of the history in the site's zone, the reader's way.
func (p equipmentItemPage) When(v any) string { return prodWhen(p.Lang, v, p.zone) }

// equipmentActionForm is the form of one action: its comment's label and
// its button's, and what was typed.
// Word is a name of the trail in words: a command or a field.
func (p equipmentItemPage) Word(kind, name string) string { return auditWord(p.Lang, kind, name) }

// Old is an entry's old value in words.
func (p equipmentItemPage) Old(e audit.Entry) string { return p.value(e.Field, e.Old, e.OldLabel) }

// New is an entry's new value in words.
func (p equipmentItemPage) New(e audit.Entry) string { return p.value(e.Field, e.New, e.NewLabel) }

// value is a value of the equipment's trail in words, as the audit
// trail's page shows it (its status by the equipment's words).
func (p equipmentItemPage) value(field, v, label string) string {
	return auditValue(p.Lang, "equipment", field, v, label, p.zone)
}

type equipmentActionForm struct {
	Action         site.EquipmentAction
	Label, Comment string
	Form           *form
}

// equipmentActionKeys are the catalogue keys of each action's button and
// comment's label.
var equipmentActionKeys = map[site.EquipmentAction][2]string{
	site.ActionClean:        {"equipment.do.clean", "equipment.comment.clean"},
	site.ActionOutOfService: {"equipment.do.out_of_service", "equipment.comment.out_of_service"},
	site.ActionInService:    {"equipment.do.in_service", "equipment.comment.in_service"},
}

// equipmentNotices say what was done, after a redirection (?done=).
var equipmentNotices = map[string]string{
	string(site.ActionClean):        "equipment.done.clean",
	string(site.ActionOutOfService): "equipment.done.out_of_service",
	string(site.ActionInService):    "equipment.done.in_service",
	"renewed":                       "equipment.done.renewed",
}

func (s *Server) renderEquipment(w http.ResponseWriter, r *http.Request, status int, act, renew *form, notice string) {
	ctx := r.Context()
	id := r.PathValue("id")
	content := s.contentOf(r, "equipment", id)
	e, err := s.Site.EquipmentItem(ctx, id)
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	d := equipmentItemPage{base: s.base(r, "equipment"), Equipment: *e, Overdue: !e.QualifiedOn(time.Now()), Notice: notice, zone: s.zone()}
	if d.Line, err = s.Site.Line(ctx, e.LineID); err != nil {
		s.pageError(w, r, err)
		return
	}
	d.CanMaintain = site.CanMaintain(d.Actor) == nil
	for _, a := range site.EquipmentActions {
		probe := *e
		if probe.Apply(a) != nil && (act == nil || act.Get("action") != string(a)) {
			continue
		}
		f := &form{Values: url.Values{"action": {string(a)}}, lang: d.Lang, shown: []string{"reason"}}
		if act != nil && act.Get("action") == string(a) {
			f = act
		}
		keys := equipmentActionKeys[a]
		d.Actions = append(d.Actions, equipmentActionForm{Action: a, Label: keys[0], Comment: keys[1], Form: f})
	}
	if renew == nil {
		renew = &form{Values: url.Values{}, lang: d.Lang}
	}
	renew.shown = append(slices.Clip(signFields), "qualification_due", "qualification_report")
	renew.Values.Set("content_sha256", content)
	d.Renew = renew
	if !d.Actor.IsClient() {
		if d.History, d.Signatures, err = s.recordTrail(ctx, "equipment", e.ID); err != nil {
			s.pageError(w, r, err)
			return
		}
	}
	s.render(w, r, status, "equipment_item", d)
}

// recordTrail reads a record's audit trail, newest first (none for a
// reader who may not read it), and its signatures: what a record's page
// shows under it.
func (s *Server) recordTrail(ctx context.Context, entity, id string) ([]audit.Entry, []esign.Signature, error) {
	history, err := s.recordHistory(ctx, entity, id)
	if err != nil {
		return nil, nil, err
	}
	var sigs []esign.Signature
	if svc := s.Signatures; svc != nil {
		var err error
		if sigs, err = svc.Signatures(ctx, entity, id); err != nil {
			return nil, nil, err
		}
	}
	return history, sigs, nil
}

// recordHistory is a record's audit trail, newest first: none for a
// reader the trail is not for.
func (s *Server) recordHistory(ctx context.Context, entity, id string) ([]audit.Entry, error) {
	if s.Audit == nil {
		return nil, nil
	}
	entries, err := s.Audit.Entries(ctx, audit.Filter{Entity: entity, EntityID: id})
	if err != nil && !errs.Is(err, errs.Forbidden) {
		return nil, err
	}
	slices.SortFunc(entries, func(a, b audit.Entry) int { return int(b.Seq - a.Seq) })
	return entries, nil
}

// equipmentAction records a cleaning, or takes the equipment out of or
// back in service, with its comment.
func (s *Server) equipmentAction(w http.ResponseWriter, r *http.Request, vals url.Values) {
	id := r.PathValue("id")
	act, err := site.ParseEquipmentAction(vals.Get("action"))
	if err == nil {
		_, err = s.Site.MaintainEquipment(r.Context(), id, act, vals.Get("reason"))
	}
	if err != nil {
		if errs.Is(err, errs.NotFound) && errs.FieldOf(err) == "" {
			s.pageError(w, r, err)
			return
		}
		s.logIfInternal(r, err)
		s.renderEquipment(w, r, refusalStatus(err), &form{Values: vals, Err: err, lang: langOf(r), shown: []string{"reason"}}, nil, "")
		return
	}
	http.Redirect(w, r, "/equipment/"+url.PathEscape(id)+"?done="+string(act), http.StatusSeeOther)
}

// equipmentRenew renews the equipment's qualification: the renewal is
// maintenance's signature on it (meaning approved), the new due date and
// the report recorded in the signature's own transaction.
func (s *Server) equipmentRenew(w http.ResponseWriter, r *http.Request, vals url.Values) {
	id := r.PathValue("id")
	a, _ := identity.ActorFrom(r.Context())
	err := esign.Permit(a, "equipment", esign.Approved)
	var ren site.Renewal
	if err == nil {
		ren, err = renewalOf(vals, vals.Get("reason"))
	}
	if err == nil {
		probe, perr := s.Site.EquipmentItem(r.Context(), id)
		if err = perr; err == nil {
			// The rules first, so that a bad date or a missing report is
			// said before a password is checked and a challenge spent.
			err = probe.Renew(ren, time.Now().In(s.zone()))
		}
	}
	if err == nil && vals.Get("password") == "" {
		err = errs.Field("password", "web.lot.password")
	}
	if err == nil {
		r = r.WithContext(site.WithRenewal(r.Context(), ren))
		_, err = s.signRecord(r, "equipment", id, string(esign.Approved), vals)
	}
	if err != nil {
		if errs.Is(err, errs.NotFound) && errs.FieldOf(err) == "" {
			s.pageError(w, r, err)
			return
		}
		s.logIfInternal(r, err)
		vals.Del("password")
		s.renderEquipment(w, r, refusalStatus(err), nil, &form{Values: vals, Err: err, lang: langOf(r)}, "")
		return
	}
	http.Redirect(w, r, "/equipment/"+url.PathEscape(id)+"?done=renewed", http.StatusSeeOther)
}
