package web

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"galenix/internal/audit"
	"galenix/internal/controlled"
	"galenix/internal/errs"
	"galenix/internal/esign"
	"galenix/internal/identity"
	"galenix/internal/production"
)

// A movement of the register in pages: entered by its performer, who
// names a witness among the people who may keep the register; signed
// "performed" by the performer in their own session, then "verified" by
// the witness typing their own username and password on the same device
// (esign.OnSameDevice); once both, it has its serial number.

// movementFields are the entry form's fields, each showing its own
// refusal.
var movementFields = []string{"substance_id", "kind", "container_id", "to_container_id", "quantity", "party", "document", "cause", "batch",
	"scale", "corrects", "increase", "witness", "at"}

// movementNewPage is the entry form of a movement of one substance.
type movementNewPage struct {
	controlledBase
	Substances []controlled.Substance
	Sub        *controlled.Substance
	Kinds      []controlled.Kind
	Containers []controlled.Container
	Witnesses  []option
	Form       *form
}

// renderMovementNew draws the entry form, for the substance the query
// (or the refused form) names, the first one otherwise.
func (s *Server) renderMovementNew(w http.ResponseWriter, r *http.Request, status int, f *form) {
	c, err := s.controlledSvc()
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	d := movementNewPage{controlledBase: s.controlledBase(r, "register"), Kinds: controlled.Kinds}
	if err := controlled.MayRecord(d.Actor); err != nil {
		s.pageError(w, r, err)
		return
	}
	ctx := r.Context()
	if f == nil {
		f = &form{Values: url.Values{"substance_id": {r.URL.Query().Get("substance")}, "at": {time.Now().In(d.zone).Format(localMinute)}}, lang: d.Lang}
	}
	f.shown = movementFields
	d.Form = f
	if r.Method == http.MethodPost {
		d.Path = "/controlled/movements/new?substance=" + url.QueryEscape(f.Get("substance_id"))
	}
	if d.Substances, err = c.Substances(ctx); err == nil {
		if d.Sub, err = chooseSubstance(d.Substances, f.Get("substance_id")); err == nil && d.Sub != nil {
			f.Values.Set("substance_id", d.Sub.ID)
			d.Containers, err = c.Containers(ctx, d.Sub.ID)
		}
	}
	if err == nil {
		d.Witnesses, err = s.witnesses(ctx, d.Actor)
	}
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	s.render(w, r, status, "controlled_movement_new", d)
}

// witnesses are the people who may witness a movement of the actor:
// the active accounts of the site's staff who may keep the register,
// the actor aside, by name; each chosen by its username.
func (s *Server) witnesses(ctx context.Context, a identity.Actor) ([]option, error) {
	accounts, err := s.Identity.Accounts(ctx)
	if err != nil {
		return nil, err
	}
	var out []option
	for _, acc := range accounts {
		if acc.Active && acc.ClientID == "" && acc.ID != a.UserID && controlled.MayRecord(acc.Actor()) == nil {
			out = append(out, option{Value: acc.Username, Label: acc.Name + " (" + acc.Username + ")"})
		}
	}
	slices.SortFunc(out, func(x, y option) int { return strings.Compare(x.Label, y.Label) })
	return out, nil
}

// movementOf reads the entry form: the quantity written either way
// (12,5 or 12.5), the batch by its lot number, the witness by username,
// the time in the site's zone (now when left empty).
func (s *Server) movementOf(r *http.Request, v url.Values) (controlled.Movement, error) {
	m := controlled.Movement{Kind: controlled.Kind(v.Get("kind")), SubstanceID: v.Get("substance_id"), ContainerID: v.Get("container_id"),
		ToContainerID: v.Get("to_container_id"), Party: v.Get("party"), Document: v.Get("document"), Cause: v.Get("cause"), Scale: v.Get("scale"),
		Increase: checked(v, "increase")}
	q, ok := controlled.ParseQty(strings.Replace(strings.TrimSpace(v.Get("quantity")), ",", ".", 1))
	if !ok || q <= 0 {
		return m, errs.Field("quantity", "controlled.quantity")
	}
	m.Quantity = q
	if n := strings.TrimSpace(v.Get("corrects")); n != "" {
		serial, err := strconv.ParseInt(n, 10, 64)
		if err != nil || serial <= 0 {
			return m, errs.Field("corrects", "controlled.corrects")
		}
		m.Corrects = serial
	}
	ctx := r.Context()
	if lot := strings.TrimSpace(v.Get("batch")); lot != "" {
		bs, err := s.Production.Batches(ctx, production.BatchFilter{Lot: lot})
		if err != nil {
			return m, err
		}
		for _, b := range bs {
			if strings.EqualFold(b.Lot, lot) {
				m.BatchID = b.ID
			}
		}
		if m.BatchID == "" {
			return m, errs.Field("batch", "controlled.page.no_batch", lot)
		}
	}
	if u := strings.TrimSpace(v.Get("witness")); u != "" {
		accounts, err := s.Identity.Accounts(ctx)
		if err != nil {
			return m, err
		}
		for _, acc := range accounts {
			if strings.EqualFold(acc.Username, u) {
				m.WitnessID = acc.ID
			}
		}
		if m.WitnessID == "" {
			return m, errs.Field("witness", "controlled.no_such_witness")
		}
	}
	if strings.TrimSpace(v.Get("at")) != "" {
		at, err := moment(v, "at", s.zone())
		if err != nil {
			return m, err
		}
		m.At = at
	}
	return m, nil
}

// formFields are the entry form's names of the service's fields.
var formFields = map[string]string{"batch_id": "batch", "witness_id": "witness", "performer_id": "witness"}

// enterMovement enters a movement from the entry form and leads to its
// page, where it is signed.
func (s *Server) enterMovement(w http.ResponseWriter, r *http.Request, vals url.Values) {
	c, err := s.controlledSvc()
	var m controlled.Movement
	if err == nil {
		if m, err = s.movementOf(r, vals); err == nil {
			err = c.EnterMovement(r.Context(), &m)
		}
	}
	if err != nil {
		var e *errs.Error
		if errors.As(err, &e) && formFields[e.Field] != "" {
			err = &errs.Error{Code: e.Code, Field: formFields[e.Field], Key: e.Key, Args: e.Args}
		}
		s.logIfInternal(r, err)
		s.renderMovementNew(w, r, refusalStatus(err), &form{Values: vals, Err: err, lang: langOf(r)})
		return
	}
	http.Redirect(w, r, "/controlled/movements/"+url.PathEscape(m.ID)+"?done=entered", http.StatusSeeOther)
}

// movementNotices say what was done, after a redirection (?done=).
var movementNotices = map[string]string{"entered": "controlled.done.entered", "signed": "controlled.done.signed",
	"validated": "controlled.done.validated", "discharged": "controlled.done.discharged"}

// movementPage is one movement: what it moved, where it stands, its
// signatures and the forms that give the missing ones, a loss's
// discharge, its history.
type movementPage struct {
	controlledBase
	M       controlled.Movement
	In, Out string
	// Missing are the meanings still to sign, Meaning the one offered
	// first.
	Missing []esign.Meaning
	Meaning string
	// Sign and Discharge are the signing form and a loss's discharge,
	// as refused or fresh.
	Sign, Discharge *form
	History         []audit.Entry
	// Performer: the reader is the movement's performer.
	Performer bool
}

// Word is a name of the trail in words: a command or a field.
func (p movementPage) Word(kind, name string) string { return auditWord(p.Lang, kind, name) }

// Old is an entry's old value in words.
func (p movementPage) Old(e audit.Entry) string { return p.value(e.Field, e.Old, e.OldLabel) }

// New is an entry's new value in words.
func (p movementPage) New(e audit.Entry) string { return p.value(e.Field, e.New, e.NewLabel) }

// value is a value of the movement's trail in words: its kind and state
// by their names, the records it names by their codes or names (the
// trail keeps their ids), the rest as the audit pages write it.
func (p movementPage) value(field, v, label string) string {
	m := &p.M
	switch {
	case v == "":
	case field == "kind":
		return p.Kind(controlled.Kind(v))
	case field == "state":
		return tr(p.Lang, "controlled.state."+v)
	case field == "substance_id" && v == m.SubstanceID:
		return m.Substance
	case field == "container_id" && v == m.ContainerID:
		return m.Container
	case field == "to_container_id" && v == m.ToContainerID:
		return m.ToContainer
	case field == "batch_id" && v == m.BatchID && m.Batch != "":
		return m.Batch
	case field == "performer_id" && v == m.PerformerID && m.PerformerName != "":
		return m.PerformerName
	case field == "witness_id" && v == m.WitnessID && m.WitnessName != "":
		return m.WitnessName
	}
	return auditValue(p.Lang, controlled.EntityMovement, field, v, label, p.zone)
}

// Sig is the movement's signature of the meaning, nil when it has none.
func (p movementPage) Sig(meaning string) *esign.Signature {
	return sigOf(&p.M, esign.Meaning(meaning))
}

// missingSignatures lists what an entered movement still needs signed:
// its performer's "performed", its witness's "verified"; none for a
// movement validated, or signed on its batch step.
func missingSignatures(m *controlled.Movement) []esign.Meaning {
	if m.State != controlled.Entered || m.StepID != "" {
		return nil
	}
	var out []esign.Meaning
	for _, need := range []struct {
		meaning esign.Meaning
		signer  string
	}{{esign.Performed, m.PerformerID}, {esign.Verified, m.WitnessID}} {
		if !slices.ContainsFunc(m.Signatures, func(g esign.Signature) bool {
			return g.Meaning == need.meaning && g.SignerID == need.signer && g.Status == esign.Valid
		}) {
			out = append(out, need.meaning)
		}
	}
	return out
}

func (s *Server) renderMovement(w http.ResponseWriter, r *http.Request, status int, step string, f *form) {
	c, err := s.controlledSvc()
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	id := r.PathValue("id")
	// The content the signer sees, read before the movement (contentOf).
	content := s.contentOf(r, controlled.EntityMovement, id)
	m, err := c.Movement(r.Context(), id)
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	d := movementPage{controlledBase: s.controlledBase(r, "register"), M: *m}
	if r.Method == http.MethodPost {
		d.Path = "/controlled/movements/" + url.PathEscape(id)
	}
	if key, ok := movementNotices[r.URL.Query().Get("done")]; ok && f == nil {
		d.Notice = tr(d.Lang, key)
	}
	in, out := flows(m)
	if in > 0 {
		d.In = qtyText(d.Lang, in, m.Unit)
	}
	if out > 0 {
		d.Out = qtyText(d.Lang, out, m.Unit)
	}
	d.Performer = d.Actor.UserID == m.PerformerID
	d.Missing = missingSignatures(m)
	if len(d.Missing) > 0 {
		d.Meaning = string(d.Missing[0])
	}
	d.Sign = &form{Values: url.Values{"content_sha256": {content}}, lang: d.Lang, shown: signFields}
	if d.Performer && d.Meaning == string(esign.Performed) {
		d.Sign.Values.Set("username", d.Actor.Username)
	}
	d.Discharge = &form{Values: url.Values{}, lang: d.Lang, shown: []string{"document"}}
	switch step {
	case "sign":
		// The refused signature is tried again on the content shown now.
		f.Values.Set("content_sha256", content)
		d.Sign = f
	case "discharge":
		d.Discharge = f
	}
	if d.History, err = s.recordHistory(r.Context(), controlled.EntityMovement, m.ID); err != nil {
		s.pageError(w, r, err)
		return
	}
	s.render(w, r, status, "controlled_movement", d)
}

// signMovement signs the movement, as its performer ("performed") or its
// witness typing their credentials on this device ("verified").
func (s *Server) signMovement(w http.ResponseWriter, r *http.Request, vals url.Values) {
	id := r.PathValue("id")
	if _, err := s.signRecord(r, controlled.EntityMovement, id, vals.Get("meaning"), vals); err != nil {
		if errs.Is(err, errs.NotFound) && errs.FieldOf(err) == "" {
			s.pageError(w, r, err)
			return
		}
		s.logIfInternal(r, err)
		vals.Del("password")
		s.renderMovement(w, r, refusalStatus(err), "sign", &form{Values: vals, Err: err, lang: langOf(r), shown: signFields})
		return
	}
	done := "signed"
	if c, err := s.controlledSvc(); err == nil {
		if m, err := c.Movement(r.Context(), id); err == nil && m.State == controlled.Validated {
			done = "validated"
		}
	}
	http.Redirect(w, r, "/controlled/movements/"+url.PathEscape(id)+"?done="+done, http.StatusSeeOther)
}

// dischargeMovement records the inspector's discharge of a loss, by the
// reference of the inspector's report.
func (s *Server) dischargeMovement(w http.ResponseWriter, r *http.Request, vals url.Values) {
	id := r.PathValue("id")
	c, err := s.controlledSvc()
	if err == nil {
		_, err = c.Discharge(r.Context(), id, vals.Get("document"))
	}
	if err != nil {
		if errs.Is(err, errs.NotFound) && errs.FieldOf(err) == "" {
			s.pageError(w, r, err)
			return
		}
		s.logIfInternal(r, err)
		s.renderMovement(w, r, refusalStatus(err), "discharge", &form{Values: vals, Err: err, lang: langOf(r), shown: []string{"document"}})
		return
	}
	http.Redirect(w, r, "/controlled/movements/"+url.PathEscape(id)+"?done=discharged", http.StatusSeeOther)
}
