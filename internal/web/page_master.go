package web

import (
	"net/http"
	"net/url"
	"slices"
	"strings"

	"galenix/internal/errs"
	"galenix/internal/esign"
	"galenix/internal/identity"
	"galenix/internal/production"
)

// The master batch records' pages: the list, and one version with its
// operations, its signatures, QA's approval by signature and the moves of
// its life cycle. Masters are written through the API.

type mastersPage struct {
	prodBase
	Masters []production.Master
	// Products names the products by id.
	Products map[string]production.Product
}

func (s *Server) mastersPage(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	ms, err := s.Production.Masters(ctx, production.MasterFilter{Status: production.MasterStatus(r.URL.Query().Get("status"))})
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	ps, err := s.Production.Products(ctx, production.ProductFilter{})
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	d := mastersPage{prodBase: s.prodBase(r, "batches", "masters"), Masters: ms, Products: map[string]production.Product{}}
	for _, p := range ps {
		d.Products[p.ID] = p
	}
	s.render(w, r, http.StatusOK, "masters", d)
}

// masterPage is one version of a master batch record.
type masterPage struct {
	prodBase
	Master     *production.Master
	Product    *production.Product
	Ops        []masterOp
	Signatures []esign.Signature
	// CanApprove shows QA's signing form; Moves the moves the reader may
	// apply in the master's status.
	CanApprove bool
	Moves      []production.MasterMove
	// CanReview shows the author's review form and the author's signing
	// form, which submits the draft for review (a draft, for who writes
	// masters); CanEdit the link to the draft's editor; CanRevise the link
	// to a new version of an effective one.
	CanReview, CanEdit, CanRevise bool
	// Sign is the signing form, Review the author's review, Author the
	// author's signature, Move the form of the moves, each with what was
	// typed and the refusal, if any.
	Sign, Review, Author, Move *form
	// Previous is the version of the same code before this one, if any,
	// and Changes what changed since, in words.
	Previous *production.Master
	Changes  []string
	// Notice confirms what was just done; Error is a refusal whose form
	// is not shown.
	Notice, Error string
	// ClientApproves: the client's quality agreement has its quality
	// assurance approve the master before the site's approval takes
	// effect; ClientApprovals are its signatures on the master in review
	// (valid or broken by a later change), ClientApproved one valid.
	// CanClientApprove shows the client's manager the signing form,
	// ClientSign.
	ClientApproves, ClientApproved, CanClientApprove bool
	ClientApprovals                                  []esign.Signature
	ClientSign                                       *form
}

type masterOp struct {
	production.Operation
	Steps []masterStep
}

type masterStep struct {
	production.Step
	Spec string
}

// masterMoves are the moves of the life cycle by status, with the
// permission each needs.
var masterMoves = []struct {
	from production.MasterStatus
	mv   production.MasterMove
	perm identity.Permission
}{
	{production.MasterInReview, production.MoveReject, identity.PermMasterApprove},
	{production.MasterApproved, production.MoveEffect, identity.PermMasterApprove},
	{production.MasterApproved, production.MoveRetire, identity.PermMasterApprove},
	{production.MasterEffective, production.MoveRetire, identity.PermMasterApprove},
}

func (s *Server) masterPage(w http.ResponseWriter, r *http.Request) {
	s.renderMaster(w, r, http.StatusOK, masterForms{}, r.URL.Query().Get("done"))
}

// masterForms are the forms of a master's page as posted, with their
// refusal: QA's approval (sign), the author's review, the author's
// signature, the moves, the client's approval.
type masterForms struct{ sign, review, author, move, client *form }

// renderMaster draws the master's page, with the signing and move forms as
// typed and their refusal, if any.
func (s *Server) renderMaster(w http.ResponseWriter, r *http.Request, status int, forms masterForms, notice string) {
	sign, move := forms.sign, forms.move
	ctx := r.Context()
	content := s.contentOf(r, "master", r.PathValue("id"))
	m, err := s.Production.Master(ctx, r.PathValue("id"))
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	d := masterPage{prodBase: s.prodBase(r, "batches", "masters"), Master: m, Sign: sign, Review: forms.review, Author: forms.author, Move: move}
	if r.Method == http.MethodPost {
		d.Path = "/masters/" + url.PathEscape(m.ID) // where the language switch returns
	}
	switch notice {
	case "signed", "moved", "created", "saved", "reviewed", "submitted", "client_signed":
		d.Notice = tr(d.Lang, "master.notice."+notice)
	}
	if d.Sign == nil {
		d.Sign = &form{Values: url.Values{}, lang: d.Lang}
	}
	d.Sign.Values.Set("content_sha256", content)
	if d.Review == nil {
		d.Review = &form{Values: url.Values{}, lang: d.Lang}
	}
	d.Review.Values.Set("content_sha256", content)
	if d.Author == nil {
		d.Author = &form{Values: url.Values{}, lang: d.Lang}
	}
	d.Author.Values.Set("content_sha256", content)
	if d.Move == nil {
		d.Move = &form{Values: url.Values{}, lang: d.Lang}
	}
	if d.Product, err = s.Production.Product(ctx, m.ProductID); err != nil {
		s.pageError(w, r, err)
		return
	}
	mats, err := s.materialsByID(r)
	if err == nil && d.Client {
		// A client reads the materials of its master, not the catalogue.
		var ms []production.Material
		ms, err = s.Production.MasterMaterials(ctx, m.ID)
		for _, x := range ms {
			mats[x.ID] = x
		}
	}
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	for _, op := range m.Operations {
		o := masterOp{Operation: op}
		for i := range op.Steps {
			o.Steps = append(o.Steps, masterStep{Step: op.Steps[i], Spec: stepSpec(d.Lang, &op.Steps[i], mats)})
		}
		d.Ops = append(d.Ops, o)
	}
	// A client reads its own approvals, never the site's signers.
	if svc := s.Signatures; svc != nil && !d.Client {
		if d.Signatures, err = svc.Signatures(ctx, "master", m.ID); err != nil {
			s.pageError(w, r, err)
			return
		}
	}
	if err := s.masterClientApproval(r, &d, forms.client); err != nil {
		s.pageError(w, r, err)
		return
	}
	d.CanApprove = m.Status == production.MasterInReview && d.Actor.Can(identity.PermMasterApprove)
	edit := d.Actor.Can(identity.PermMasterEdit)
	d.CanReview = m.Status == production.MasterDraft && edit
	d.CanEdit = d.CanReview
	d.CanRevise = m.Status == production.MasterEffective && edit
	if d.Previous, d.Changes, err = s.masterChanges(r, m, mats); err != nil {
		s.pageError(w, r, err)
		return
	}
	for _, mv := range masterMoves {
		if mv.from == m.Status && d.Actor.Can(mv.perm) {
			d.Moves = append(d.Moves, mv.mv)
		}
	}
	// A refusal whose form is no longer shown shows on its own.
	if sign != nil && sign.Err != nil && !d.CanApprove {
		d.Error = errs.MessageOf(sign.Err, d.Lang)
	}
	if forms.review != nil && forms.review.Err != nil && !d.CanReview {
		d.Error = errs.MessageOf(forms.review.Err, d.Lang)
	}
	if forms.author != nil && forms.author.Err != nil && !d.CanReview {
		d.Error = errs.MessageOf(forms.author.Err, d.Lang)
	}
	if forms.client != nil && forms.client.Err != nil && !d.CanClientApprove {
		d.Error = errs.MessageOf(forms.client.Err, d.Lang)
	}
	if move != nil && move.Err != nil && len(d.Moves) == 0 {
		d.Error = errs.MessageOf(move.Err, d.Lang)
	}
	s.render(w, r, status, "master", d)
}

// masterSign signs the master as approved, QA's approval (21 CFR 11.200:
// username and password at every signing).
func (s *Server) masterSign(w http.ResponseWriter, r *http.Request, vals url.Values) {
	id := r.PathValue("id")
	if _, err := s.signRecord(r, "master", id, string(esign.Approved), vals); err != nil {
		s.logIfInternal(r, err)
		vals.Del("password")
		s.renderMaster(w, r, refusalStatus(err), masterForms{sign: &form{Values: vals, Err: err, lang: langOf(r), shown: signFields}}, "")
		return
	}
	http.Redirect(w, r, "/masters/"+url.PathEscape(id)+"?done=signed", http.StatusSeeOther)
}

// masterClientApproval reads, for the master's page, whether the client's
// quality agreement asks its approval of the master, and while the master
// is in review, the approval as it stands: for the client's users and the
// site's staff who see masters alike; the client's manager signs it.
func (s *Server) masterClientApproval(r *http.Request, d *masterPage, f *form) error {
	m := d.Master
	if s.Agreements == nil {
		return nil
	}
	ctx := r.Context()
	ag, err := s.Agreements.Agreement(ctx, m.ClientID)
	if errs.Is(err, errs.NotFound) || errs.Is(err, errs.Forbidden) {
		return nil
	}
	if err != nil {
		return err
	}
	d.ClientApproves = ag.ClientApprovesMasters
	if !d.ClientApproves || m.Status != production.MasterInReview || s.Signatures == nil {
		return nil
	}
	if d.ClientApprovals, err = s.Signatures.Signatures(ctx, "master_client", m.ID); err != nil && !errs.Is(err, errs.NotFound) {
		return err
	}
	for _, sg := range d.ClientApprovals {
		d.ClientApproved = d.ClientApproved || (sg.Meaning == esign.Approved && sg.Status == esign.Valid)
	}
	d.CanClientApprove = !d.ClientApproved && d.Actor.IsClient() && d.Actor.Can(identity.PermClientApprove)
	if f == nil {
		f = &form{Values: url.Values{}, lang: d.Lang}
	}
	f.Values.Set("content_sha256", s.contentOf(r, "master_client", m.ID))
	d.ClientSign = f
	return nil
}

// masterClientSign signs the master as approved on the client's side, as
// its quality agreement asks, before the site's QA approval may take
// effect (21 CFR 11.200: username and password at every signing).
func (s *Server) masterClientSign(w http.ResponseWriter, r *http.Request, vals url.Values) {
	id := r.PathValue("id")
	if _, err := s.signRecord(r, "master_client", id, string(esign.Approved), vals); err != nil {
		s.logIfInternal(r, err)
		vals.Del("password")
		s.renderMaster(w, r, refusalStatus(err), masterForms{client: &form{Values: vals, Err: err, lang: langOf(r), shown: signFields}}, "")
		return
	}
	http.Redirect(w, r, "/masters/"+url.PathEscape(id)+"?done=client_signed", http.StatusSeeOther)
}

// masterMove applies a move of the master's life cycle: submit, reject,
// make effective, retire.
func (s *Server) masterMove(w http.ResponseWriter, r *http.Request, vals url.Values) {
	id := r.PathValue("id")
	mv, err := production.ParseMove(vals.Get("action"))
	if err == nil {
		_, err = s.Production.MoveMaster(r.Context(), id, mv, vals.Get("reason"))
	}
	if err != nil {
		if errs.Is(err, errs.NotFound) && errs.FieldOf(err) == "" {
			s.pageError(w, r, err)
			return
		}
		s.logIfInternal(r, err)
		s.renderMaster(w, r, refusalStatus(err), masterForms{move: &form{Values: vals, Err: err, lang: langOf(r), shown: []string{"reason"}}}, "")
		return
	}
	http.Redirect(w, r, "/masters/"+url.PathEscape(id)+"?done=moved", http.StatusSeeOther)
}

// signFields are the fields of the signing form that show their own error.
var signFields = []string{"username", "password", "meaning", "reason"}

// signRecord signs a record through the signature service, as the signing
// forms of the pages ask: a challenge for this session, then the signature
// with the credentials typed again.
func (s *Server) signRecord(r *http.Request, entity, id, meaning string, vals url.Values) (*esign.Signature, error) {
	svc := s.Signatures
	if svc == nil {
		return nil, errs.Wrap(errNoSignatures, "signatures")
	}
	ctx := r.Context()
	// Another person than the session's, at the line: a second person
	// verifying on the operator's tablet (esign.OnSameDevice).
	a, _ := identity.ActorFrom(ctx)
	second := esign.OnSameDevice(entity, esign.Meaning(meaning)) && strings.TrimSpace(vals.Get("username")) != a.Username
	ch, err := svc.Challenge(ctx, esign.ChallengeRequest{Entity: entity, EntityID: id, Meaning: meaning, ContentHash: vals.Get("content_sha256"),
		SecondPerson: second})
	if err != nil {
		return nil, err
	}
	return svc.Sign(ctx, esign.SignRequest{Entity: entity, EntityID: id, Meaning: meaning, Username: vals.Get("username"),
		Password: vals.Get("password"), Reason: vals.Get("reason"), Challenge: ch.Challenge})
}

// contentOf returns the content hash of a record as it stands, for the
// signing form of the page about to show it: the challenge then refuses a
// record changed since the page was drawn (11.50, 11.70). Pages read it
// before the record they show, so that a change in between makes the
// signature refused, never placed on content the signer did not see. ""
// when it cannot be read: the challenge then binds the record as it is
// when the signer asks.
func (s *Server) contentOf(r *http.Request, entity, id string) string {
	if s.Signatures == nil || id == "" {
		return ""
	}
	h, err := s.Signatures.Content(r.Context(), entity, id)
	if err != nil {
		s.logIfInternal(r, err)
		return ""
	}
	return h
}

// refusalStatus is the HTTP status of a refusal.
func refusalStatus(err error) int {
	if st, ok := statusOf[errs.CodeOf(err)]; ok {
		return st
	}
	return http.StatusInternalServerError
}

// missingMeanings lists the meanings a step still needs signed.
func missingMeanings(st *production.Step, sigs []esign.Signature) []esign.Meaning {
	var out []esign.Meaning
	for _, m := range st.Needs() {
		if !slices.ContainsFunc(sigs, func(g esign.Signature) bool { return g.Meaning == m && g.Status == esign.Valid }) {
			out = append(out, m)
		}
	}
	return out
}
