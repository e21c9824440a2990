package web

import (
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"galenix/internal/errs"
	"galenix/internal/esign"
	"galenix/internal/identity"
	"galenix/internal/production"
	"galenix/internal/site"
)

// The batches' pages: the live list, a batch's record (its summary for
// the client's users) and QA's review by exception.

// batchesPage is one page of the list of batches in scope, live for the
// client's users through the server-sent events of /api/v1/batches/events.
type batchesPage struct {
	prodBase
	listFilter
	Batches []production.Batch
	State   string
	States  []production.BatchState
	// Lines are the lines staff choose among, LineID the one chosen.
	Lines  []choice
	LineID string
	// Live is the address of the page's live stream: the same filter and
	// page.
	Live string
	// StateLabels are the states' labels, for the live updates' script.
	StateLabels string
}

func (s *Server) batchesPage(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	state := q.Get("state")
	lf, err := s.listFilterOf(r.Context(), q)
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	lf.Size = batchesPageSize
	f := production.BatchFilter{Query: lf.Query, ClientID: lf.ClientID, Limit: lf.Size, Offset: lf.Offset()}
	if f.From, f.To, err = lf.period(q, s.zone()); err != nil {
		s.pageError(w, r, err)
		return
	}
	// Staff choose a line among the site's; a line that is none of them
	// is no filter.
	var lines []choice
	if a, _ := identity.ActorFrom(r.Context()); !a.IsClient() {
		ls, err := s.Site.Lines(r.Context(), site.LineFilter{})
		if err != nil {
			s.pageError(w, r, err)
			return
		}
		for _, l := range ls {
			lines = append(lines, choice{l.ID, l.Code + " · " + l.Name})
			if l.ID == q.Get("line_id") {
				f.LineID = l.ID
			}
		}
	}
	switch state {
	case batchesActive:
		// The batches on the floor and in their record's review: what a
		// client follows, without the months of planning ahead.
		f.States = activeStates
	case batchesAll:
	default:
		st := production.BatchState(state)
		if !slices.Contains(production.BatchStates, st) {
			s.notFound(w, r)
			return
		}
		f.States = []production.BatchState{st}
	}
	bs, total, err := s.Production.SearchBatches(r.Context(), f)
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	d := batchesPage{prodBase: s.prodBase(r, "batches", "batches"), State: state, States: production.BatchStates, Batches: bs, listFilter: lf,
		Lines: lines, LineID: f.LineID}
	d.paged(len(bs), total, "/batches", url.Values{"state": {state}, "line_id": {f.LineID}})
	live := url.Values{"limit": {strconv.Itoa(lf.Size)}}
	for k, v := range map[string]string{"line_id": f.LineID, "from": lf.From, "to": lf.To} {
		if v != "" {
			live.Set(k, v)
		}
	}
	if f.Query != "" {
		live.Set("q", f.Query)
	}
	if f.ClientID != "" {
		live.Set("client_id", f.ClientID)
	}
	if len(f.States) > 0 {
		names := make([]string, len(f.States))
		for i, st := range f.States {
			names[i] = string(st)
		}
		live.Set("state", strings.Join(names, ","))
	}
	if f.Offset > 0 {
		live.Set("offset", strconv.Itoa(f.Offset))
	}
	d.Live = "/api/v1/batches/events?" + live.Encode()
	labels := map[string]string{}
	for _, st := range production.BatchStates {
		labels[string(st)] = tr(d.Lang, "batchstate."+string(st))
	}
	j, _ := json.Marshal(labels)
	d.StateLabels = string(j)
	s.render(w, r, http.StatusOK, "batches", d)
}

// batchesPageSize is how many batches a page of the list shows: a
// client's batches on the floor and in review fit on one.
const batchesPageSize = 100

// The views of the list of batches besides one state: those released to
// the floor or further (the default), and all.
const (
	batchesActive = ""
	batchesAll    = "all"
)

// activeStates are the states the default view of the list shows.
var activeStates = []production.BatchState{production.BatchReleased, production.BatchInProgress, production.BatchCompleted, production.BatchInReview}

// batchPage is a batch's record for staff; for a client's user, its
// summary only (state, progress, exceptions), without names.
type batchPage struct {
	prodBase
	Batch      *production.Batch
	Record     *production.Record
	Steps      []batchStepRow
	BatchSigs  []esign.Signature
	Deviations []production.Deviation
	Consumed   []production.Consumption
	CanReview  bool
	CanPDF     bool
	// Plan are the planner's actions on the batch, nil for who may not
	// plan; Notice confirms the move just made.
	Plan   *batchActions
	Notice string
	// CanCorrect offers the correction of numeric and sampling entries
	// (the batch in progress, the reader one who executes batches);
	// Correct is the refused correction, shown again open on its step.
	CanCorrect bool
	Correct    *form
}

// Correctable says whether the step's entry may be corrected from the
// page: a numeric or sampling entry already made, for who may correct.
func (p batchPage) Correctable(st production.StepRecord) bool {
	return p.CanCorrect && st.State != production.StepPending &&
		(st.Step.Kind == production.StepNumeric || st.Step.Kind == production.StepSampling)
}

// CorrectFor is the correction form of a step: the refused one when it
// is this step's, else an empty one at the entry's version.
func (p batchPage) CorrectFor(st production.StepRecord) *form {
	if p.Correct != nil && p.Correct.Get("step_id") == st.ID {
		return p.Correct
	}
	return &form{Values: url.Values{"step_id": {st.ID}, "version": {strconv.Itoa(st.Version)}}, lang: p.Lang}
}

// batchStepRow is one step of the record as the page shows it.
type batchStepRow struct {
	production.StepRecord
	Spec      string
	Sigs      []esign.Signature
	Deviation string
}

func (s *Server) batchPage(w http.ResponseWriter, r *http.Request) {
	s.renderBatch(w, r, http.StatusOK, nil)
}

// renderBatch draws the batch's page, with the refusal of a move asked
// on it, if any.
func (s *Server) renderBatch(w http.ResponseWriter, r *http.Request, status int, move *form) {
	s.renderBatchWith(w, r, status, move, nil)
}

// renderBatchWith draws the batch's page with a refused move or a refused
// correction of a step.
func (s *Server) renderBatchWith(w http.ResponseWriter, r *http.Request, status int, move, correct *form) {
	ctx := r.Context()
	id := r.PathValue("id")
	d := batchPage{prodBase: s.prodBase(r, "batches", "batches")}
	d.Notice = doneNotice(d.Lang, r.URL.Query().Get("done"))
	if r.Method == http.MethodPost {
		d.Path = "/batches/" + url.PathEscape(id)
	}
	if d.Client {
		b, err := s.Production.Batch(ctx, id)
		if err != nil {
			s.pageError(w, r, err)
			return
		}
		d.Batch = b
		s.render(w, r, status, "batch", d)
		return
	}
	rec, err := s.Production.Record(ctx, id)
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	mats, err := s.materialsByID(r)
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	d.Batch, d.Record, d.Deviations, d.Consumed = &rec.Batch, rec, rec.Deviations, rec.Consumed
	d.CanReview = d.Actor.Can(identity.PermBatchReview)
	d.CanPDF = d.Actor.Can(identity.PermRecordPrint)
	d.Steps, d.BatchSigs = recordRows(d.Lang, rec, mats)
	if move == nil {
		move = &form{Values: url.Values{}, lang: d.Lang}
	}
	move.shown = []string{"reason"}
	d.Plan = planActions(d.Actor, d.Batch, move)
	d.CanCorrect = d.Batch.State == production.BatchInProgress && production.MayExecute(d.Actor) == nil
	if correct != nil {
		correct.shown = []string{"value", "comment", "confirm_out_of_limits", "reason"}
	}
	d.Correct = correct
	s.render(w, r, status, "batch", d)
}

// recordRows puts each signature and deviation of a record with its step;
// the signatures of no step (of the batch itself) are returned apart.
func recordRows(lang string, rec *production.Record, mats map[string]production.Material) ([]batchStepRow, []esign.Signature) {
	devs := map[string]string{}
	for _, dv := range rec.Deviations {
		devs[dv.ID] = dv.Code
	}
	byStep := map[string][]esign.Signature{}
	seen := map[string]bool{}
	steps := map[string]bool{}
	for _, st := range rec.Steps {
		steps[st.ID] = true
		for _, sg := range st.Signatures {
			if !seen[sg.ID] {
				seen[sg.ID] = true
				byStep[st.ID] = append(byStep[st.ID], sg)
			}
		}
	}
	var batchSigs []esign.Signature
	for _, sg := range rec.Signatures {
		if seen[sg.ID] {
			continue
		}
		seen[sg.ID] = true
		if sg.Entity == "batch_step" && steps[sg.EntityID] {
			byStep[sg.EntityID] = append(byStep[sg.EntityID], sg)
			continue
		}
		batchSigs = append(batchSigs, sg)
	}
	rows := make([]batchStepRow, len(rec.Steps))
	for i, st := range rec.Steps {
		rows[i] = batchStepRow{StepRecord: st, Spec: stepSpec(lang, &rec.Steps[i].Step, mats), Sigs: byStep[st.ID], Deviation: devs[st.DeviationID]}
	}
	return rows, batchSigs
}

// reviewPage is QA's review of a batch by exception.
type reviewPage struct {
	prodBase
	Review *production.Review
	Broken int
	// DevCodes names the deviations by id, for the exceptions; Steps
	// the steps by id, for the signatures.
	DevCodes, Steps map[string]string
	// Notice confirms the batch was taken into review; Error is the
	// refusal to.
	Notice bool
	Error  string
	// QA is quality assurance's part: the justifications of the
	// exceptions and the signed review; nil for who does not release.
	QA *qaReview
	// Done names what was just recorded (justified).
	Done string
}

func (s *Server) batchReviewPage(w http.ResponseWriter, r *http.Request) {
	s.renderReview(w, r, http.StatusOK, nil)
}

// renderReview draws the review of the batch, with the refusal of taking
// it into review, if any.
func (s *Server) renderReview(w http.ResponseWriter, r *http.Request, status int, refusal error) {
	s.renderReviewWith(w, r, status, refusal, nil, nil)
}

// renderReviewWith draws the review with QA's forms as posted, when a
// justification or the review's signature was refused.
func (s *Server) renderReviewWith(w http.ResponseWriter, r *http.Request, status int, refusal error, justify, sign *form) {
	ctx := r.Context()
	id := r.PathValue("id")
	content := s.contentOf(r, "batch", id)
	// The service answers not found, before any refusal, for a batch that
	// does not exist or is not the reader's.
	rv, err := s.Production.Review(ctx, id)
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	d := reviewPage{prodBase: s.prodBase(r, "batches", "batches"), Review: rv, DevCodes: map[string]string{}, Steps: map[string]string{}}
	if r.Method == http.MethodPost {
		d.Path = "/batches/" + url.PathEscape(id) + "/review" // where the language switch returns
	}
	if refusal != nil {
		d.Error = errs.MessageOf(refusal, d.Lang)
	}
	d.Notice = r.URL.Query().Get("done") == "review"
	d.Done = r.URL.Query().Get("done")
	if err := s.loadQAReview(r, &d, justify, sign, content); err != nil {
		s.pageError(w, r, err)
		return
	}
	// The steps' numbers and texts, to say which step each signature is
	// on.
	rec, err := s.Production.Record(ctx, rv.Batch.ID)
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	for i := range rec.Steps {
		d.Steps[rec.Steps[i].ID] = rec.Steps[i].Label() + " " + rec.Steps[i].Step.Text
	}
	for _, sg := range rv.Signatures {
		if sg.Status != esign.Valid {
			d.Broken++
		}
	}
	for _, dv := range rv.Deviations {
		d.DevCodes[dv.ID] = dv.Code
	}
	s.render(w, r, status, "batch_review", d)
}

// batchTakeReview takes a completed batch into QA review.
func (s *Server) batchTakeReview(w http.ResponseWriter, r *http.Request, vals url.Values) {
	id := r.PathValue("id")
	if _, err := s.Production.MoveBatch(r.Context(), id, production.MoveReview, vals.Get("reason")); err != nil {
		if errs.Is(err, errs.NotFound) && errs.FieldOf(err) == "" {
			s.pageError(w, r, err)
			return
		}
		s.logIfInternal(r, err)
		s.renderReview(w, r, refusalStatus(err), err)
		return
	}
	http.Redirect(w, r, "/batches/"+url.PathEscape(id)+"/review?done=review", http.StatusSeeOther)
}

// batchCorrect corrects a step's entry from the batch's page, as PUT
// /api/v1/batches/{id}/steps/{step_id} does: with the reason; a value out
// of its limits needs the confirmation and a comment. A refusal shows the
// page again with the form open on its step and nothing changed.
func (s *Server) batchCorrect(w http.ResponseWriter, r *http.Request, vals url.Values) {
	id, stepID := r.PathValue("id"), r.PathValue("step_id")
	vals.Set("step_id", stepID)
	e := production.Entry{StepID: stepID, Value: vals.Get("value"), Comment: vals.Get("comment"),
		ConfirmOutOfLimits: vals.Get("confirm_out_of_limits") == "yes" || checked(vals, "confirm_out_of_limits")}
	if v, err := strconv.Atoi(vals.Get("version")); err == nil && v > 0 {
		e.Version = v
	}
	_, err := s.Production.CorrectStep(r.Context(), id, e, vals.Get("reason"))
	if err != nil {
		if errs.Is(err, errs.NotFound) && errs.FieldOf(err) == "" || errs.Is(err, errs.Forbidden) {
			s.pageError(w, r, err)
			return
		}
		s.logIfInternal(r, err)
		s.renderBatchWith(w, r, refusalStatus(err), nil, &form{Values: vals, Err: err, lang: langOf(r)})
		return
	}
	http.Redirect(w, r, "/batches/"+url.PathEscape(id)+"?done=correct#step-"+url.PathEscape(stepID), http.StatusSeeOther)
}
