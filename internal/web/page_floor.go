package web

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"galenix/internal/errs"
	"galenix/internal/esign"
	"galenix/internal/identity"
	"galenix/internal/production"
	"galenix/internal/site"
	"galenix/internal/text"
)

// The shop floor: the lines of a building, and each line's tablet page,
// where operators record the steps of the batch on the line one after the
// other and sign them (paper on glass).

// floorListPage lists a building's lines with the batch on each.
type floorListPage struct {
	prodBase
	Buildings []site.Building
	Building  *site.Building
	Lines     []*production.Floor
}

// productionBuildings are the buildings with lines, and the one asked for
// (by id), else the first of the sterile production (the site's most
// watched floor), else the first.
func (s *Server) productionBuildings(ctx context.Context, id string) ([]site.Building, *site.Building, error) {
	bs, err := s.Site.Buildings(ctx)
	if err != nil {
		return nil, nil, err
	}
	lines, err := s.Site.Lines(ctx, site.LineFilter{})
	if err != nil {
		return nil, nil, err
	}
	has := map[string]bool{}
	for _, l := range lines {
		has[l.BuildingID] = true
	}
	var out []site.Building
	var chosen, fallback *site.Building
	for _, b := range bs {
		if !has[b.ID] && b.ID != id {
			continue
		}
		out = append(out, b)
	}
	for i := range out {
		switch {
		case out[i].ID == id:
			chosen = &out[i]
		case out[i].Role == site.RoleSterileProduction && fallback == nil:
			fallback = &out[i]
		}
	}
	if id != "" && chosen == nil {
		return nil, nil, errs.E(errs.NotFound, "web.building_does_not_exist")
	}
	if chosen == nil {
		chosen = fallback
	}
	if chosen == nil && len(out) > 0 {
		chosen = &out[0]
	}
	return out, chosen, nil
}

func (s *Server) floorPage(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	d := floorListPage{prodBase: s.prodBase(r, "floor", "floor")}
	var err error
	if d.Buildings, d.Building, err = s.productionBuildings(ctx, r.URL.Query().Get("building")); err != nil {
		s.pageError(w, r, err)
		return
	}
	if d.Building != nil {
		if d.Lines, err = s.Production.Floors(ctx, d.Building.ID); err != nil {
			s.pageError(w, r, err)
			return
		}
	}
	s.render(w, r, http.StatusOK, "floor", d)
}

// floorLinePage is a line's tablet page.
type floorLinePage struct {
	prodBase
	F        *production.Floor
	Building *site.Building
	// CanExecute shows the entry forms to those who execute batches.
	CanExecute bool
	// Low and High are the limits of a numeric step, for the script that
	// checks the value as it is typed.
	Low, High string
	// Material is the material a material step adds; Equipment the line's
	// equipment of the class an equipment step checks.
	Material  *production.Material
	Equipment []site.Equipment
	// StepSigs are the signatures of the next step; Missing the meanings
	// it still needs.
	StepSigs []esign.Signature
	Missing  []esign.Meaning
	// Meaning is the meaning the signing form offers first.
	Meaning string
	// Step is the entry form, Sign the signing form: what was typed and
	// the refusal, if any.
	Step, Sign *form
	// StartReason asks, with the line clearance, why the batch starts far
	// from its slot (production.CheckStart): the refusal it would meet
	// without one.
	StartReason string
	// Notice confirms what was just done; Stale says the step was recorded
	// on another device; Exception is a step just recorded out of limits,
	// with its deviation's code; Error a refusal not tied to a form.
	Notice        string
	Stale         bool
	Exception     *production.StepRecord
	DeviationCode string
	Error         string
	// OutOfLimits says the value the form keeps is outside the step's
	// limits: the form shows the confirmation and the required comment
	// (production.CheckOutOfLimits), without a script too.
	OutOfLimits bool
	// ConfirmLimits asks, with the limits, to confirm a value outside them.
	ConfirmLimits string
	// Idle is the session's idle timeout and IdleLeft what is left of it,
	// in seconds, for the countdown before the session closes; Shopfloor
	// says the session is a shared shop-floor device's.
	Idle, IdleLeft int
	Shopfloor      bool
}

// floorState is how the tablet page is drawn again after a post.
type floorState struct {
	status     int
	step, sign *form
	stale      bool
	err        error
}

func (s *Server) floorLinePage(w http.ResponseWriter, r *http.Request) {
	s.renderFloor(w, r, floorState{status: http.StatusOK})
}

// renderFloor reads the line's floor afresh and draws its tablet page.
func (s *Server) renderFloor(w http.ResponseWriter, r *http.Request, st floorState) {
	ctx := r.Context()
	id := r.PathValue("id")
	f, err := s.Production.Floor(ctx, id)
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	d := floorLinePage{prodBase: s.prodBase(r, "floor", "floor"), F: f, Step: st.step, Sign: st.sign, Stale: st.stale}
	if r.Method == http.MethodPost {
		d.Path = "/floor/lines/" + url.PathEscape(id) // where the language switch returns
	}
	if st.err != nil {
		d.Error = errs.MessageOf(st.err, d.Lang)
	}
	if d.Step == nil {
		d.Step = &form{Values: url.Values{}, lang: d.Lang}
	}
	if d.Sign == nil {
		d.Sign = &form{Values: url.Values{}, lang: d.Lang}
	}
	d.CanExecute = d.Actor.Can(identity.PermBatchExecute)
	if a := d.Actor; a.Idle > 0 {
		d.Idle, d.IdleLeft = int(a.Idle/time.Second), max(0, int(a.SessionLeft/time.Second))
		d.Shopfloor = a.Device == identity.DeviceShopfloor
	}
	if d.Building, err = s.Site.Building(ctx, f.Line.BuildingID); err != nil {
		s.pageError(w, r, err)
		return
	}
	if f.Batch != nil && f.Batch.State == production.BatchReleased {
		if err := production.CheckStart(f.Batch, time.Now(), ""); err != nil {
			d.StartReason = errs.MessageOf(err, d.Lang)
		}
	}
	if n := f.Next; n != nil && f.Batch != nil {
		if err := s.prepareNext(ctx, &d, n); err != nil {
			s.pageError(w, r, err)
			return
		}
		// The step's content as the tablet shows it, for its signatures.
		d.Sign.Values.Set("content_sha256", s.contentOf(r, "batch_step", n.ID))
		d.OutOfLimits = outOfLimits(n, d.Step.Values)
	}
	q := r.URL.Query()
	switch done := q.Get("done"); done {
	case "recorded", "signed", "completed":
		d.Notice = tr(d.Lang, "floor.notice."+done)
	}
	if step := q.Get("step"); step != "" && r.Method == http.MethodGet {
		d.Exception = justRecorded(f, step)
		if d.Exception != nil && d.Exception.DeviationID != "" && f.Batch != nil {
			// The deviation's code, from the record; the notice stands
			// without it if the record cannot be read.
			if rec, err := s.Production.Record(ctx, f.Batch.ID); err == nil {
				for _, dv := range rec.Deviations {
					if dv.ID == d.Exception.DeviationID {
						d.DeviationCode = dv.Code
					}
				}
			}
		}
	}
	s.render(w, r, st.status, "floor_line", d)
}

// prepareNext reads what the next step's form shows: the limits of a
// value, the material to add, the equipment to check, the signatures given.
func (s *Server) prepareNext(ctx context.Context, d *floorLinePage, n *production.StepRecord) error {
	st := &n.Step
	switch st.Kind {
	case production.StepNumeric:
		if st.Low != nil && st.High != nil {
			d.Low, d.High = strconv.FormatFloat(*st.Low, 'f', -1, 64), strconv.FormatFloat(*st.High, 'f', -1, 64)
			d.ConfirmLimits = text.Render(d.Lang, "production.out_of_limits_confirm", text.Decimal(*st.Low), text.Decimal(*st.High))
		}
	case production.StepMaterial:
		m, err := s.Production.Material(ctx, st.MaterialID)
		if err != nil {
			return err
		}
		d.Material = m
		// The quantities within tolerance, for the script's hint; the
		// server checks again (production.CheckOutOfLimits).
		tol := st.Quantity * st.Tolerance / 100
		d.Low, d.High = strconv.FormatFloat(st.Quantity-tol, 'f', -1, 64), strconv.FormatFloat(st.Quantity+tol, 'f', -1, 64)
		d.ConfirmLimits = text.Render(d.Lang, "production.out_of_tolerance_confirm", text.Decimal(st.Quantity), text.Decimal(st.Tolerance))
	case production.StepEquipment:
		eq, err := s.Site.Equipment(ctx, site.EquipmentFilter{LineID: d.F.Line.ID})
		if err != nil {
			return err
		}
		for _, e := range eq {
			if e.Kind == st.EquipmentKind {
				d.Equipment = append(d.Equipment, e)
			}
		}
	}
	if n.State != production.StepRecorded {
		return nil
	}
	// The floor reads the step with its signatures and their status.
	d.StepSigs = n.Signatures
	d.Missing = missingMeanings(st, d.StepSigs)
	// The meaning chosen first: performed for the one who recorded the
	// step, verified for anyone else.
	for _, m := range d.Missing {
		if (m == esign.Performed) == (d.Actor.UserID == n.PerformedBy) {
			d.Meaning = string(m)
			break
		}
	}
	if d.Meaning == "" && len(d.Missing) > 0 {
		d.Meaning = string(d.Missing[0])
	}
	return nil
}

// outOfLimits reports whether the value typed for the numeric step is
// outside its limits, as recording it would find.
func outOfLimits(n *production.StepRecord, vals url.Values) bool {
	e := production.Entry{Value: vals.Get("value"), Lot: vals.Get("lot"), Quantity: vals.Get("quantity")}
	switch n.Step.Kind {
	case production.StepNumeric:
		if e.Value == "" {
			return false
		}
	case production.StepMaterial:
		if e.Quantity == "" {
			return false
		}
		e.Lot = "-" // the quantity alone says whether it is out of tolerance
	default:
		return false
	}
	rec, err := n.Step.Check(e)
	return err == nil && rec.Exception
}

// justRecorded is the step of the id if it was recorded out of limits.
func justRecorded(f *production.Floor, id string) *production.StepRecord {
	if f.Next != nil && f.Next.ID == id && f.Next.Exception {
		return f.Next
	}
	for i := range f.Recent {
		if f.Recent[i].ID == id && f.Recent[i].Exception {
			return &f.Recent[i]
		}
	}
	return nil
}

// Entry writes what was entered for a step, as the lists show it.
func (p prodBase) Entry(r production.StepRecord) string { return entryText(p.Lang, &r) }

// entryText writes what was entered for a step in the language: the
// stored coded text rendered (a confirmation, a checklist, a value with
// its unit, a material's quantity and lot, the equipment), a sample's label
// as typed, an older row's words as they are.
func entryText(lang string, r *production.StepRecord) string { return storedText(lang, r.Value) }

// floorStep records the step shown as next with what was entered. If the
// step was recorded meanwhile on another device, the page comes back
// fresh, saying so.
func (s *Server) floorStep(w http.ResponseWriter, r *http.Request, vals url.Values) {
	lineID := r.PathValue("id")
	e := production.Entry{StepID: vals.Get("step_id"), Value: vals.Get("value"), Confirm: checked(vals, "confirm"),
		Lot: vals.Get("lot"), Quantity: vals.Get("quantity"), Scale: vals.Get("scale"), Equipment: vals.Get("equipment"), Comment: vals.Get("comment"),
		Reason: vals.Get("reason"), ConfirmOutOfLimits: vals.Get("confirm_out_of_limits") == "yes" || checked(vals, "confirm_out_of_limits")}
	if n, err := strconv.Atoi(vals.Get("items")); err == nil && n > 0 && n <= 1000 {
		e.Checked = make([]bool, n)
		for _, v := range vals["check"] {
			if i, err := strconv.Atoi(v); err == nil && i >= 0 && i < n {
				e.Checked[i] = true
			}
		}
	}
	rec, err := s.Production.RecordStep(r.Context(), vals.Get("batch_id"), e)
	if err != nil {
		s.logIfInternal(r, err)
		if (errs.Is(err, errs.Conflict) || (errs.Is(err, errs.NotFound) && errs.FieldOf(err) == "")) && s.movedOn(r.Context(), lineID, e.StepID) {
			s.renderFloor(w, r, floorState{status: http.StatusConflict, stale: true})
			return
		}
		if errs.Is(err, errs.NotFound) && errs.FieldOf(err) == "" {
			s.pageError(w, r, err)
			return
		}
		s.renderFloor(w, r, floorState{status: refusalStatus(err), step: &form{Values: vals, Err: err, lang: langOf(r),
			shown: []string{"value", "lot", "quantity", "scale", "equipment", "checked", "comment", "reason", "confirm_out_of_limits"}}})
		return
	}
	next := "/floor/lines/" + url.PathEscape(lineID) + "?done=recorded"
	if rec.Exception {
		// The exception's alert, at the top of the page, is where the
		// page opens; it stays until the operator acknowledges it.
		http.Redirect(w, r, next+"&step="+url.QueryEscape(rec.ID)+"#exception", http.StatusSeeOther)
		return
	}
	http.Redirect(w, r, next+"#next", http.StatusSeeOther)
}

// floorBack answers a GET on the address of a tablet page's form (a
// sign-in that came back to where a form was posted): the line's page.
func (s *Server) floorBack(w http.ResponseWriter, r *http.Request) {
	http.Redirect(w, r, "/floor/lines/"+url.PathEscape(r.PathValue("id"))+"#next", http.StatusSeeOther)
}

// keepAlive answers the tablet page's sign of activity (a touch, a key):
// the request itself keeps the session alive; the answer says how long it
// now lasts without another, for the page's countdown.
func (s *Server) keepAlive(w http.ResponseWriter, r *http.Request) {
	a, _ := identity.ActorFrom(r.Context())
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, map[string]int{"idle_seconds": int(a.Idle / time.Second),
		"left_seconds": max(0, int(a.SessionLeft/time.Second))})
}

// movedOn reports whether the line's next step is no longer the one the
// operator saw pending: it was recorded on another device.
func (s *Server) movedOn(ctx context.Context, lineID, stepID string) bool {
	f, err := s.Production.Floor(ctx, lineID)
	if err != nil {
		return false
	}
	return f.Next == nil || f.Next.ID != stepID || f.Next.State != production.StepPending
}

// floorSign signs the next step with the meaning chosen: performed by the
// operator, verified by a second person. Username and password are asked
// at every signing (21 CFR 11.200).
func (s *Server) floorSign(w http.ResponseWriter, r *http.Request, vals url.Values) {
	if _, err := s.signRecord(r, "batch_step", vals.Get("step_id"), vals.Get("meaning"), vals); err != nil {
		s.logIfInternal(r, err)
		vals.Del("password")
		s.renderFloor(w, r, floorState{status: refusalStatus(err), sign: &form{Values: vals, Err: err, lang: langOf(r), shown: signFields}})
		return
	}
	http.Redirect(w, r, "/floor/lines/"+url.PathEscape(r.PathValue("id"))+"?done=signed#next", http.StatusSeeOther)
}

// floorComplete completes the batch on the line once every step is done.
func (s *Server) floorComplete(w http.ResponseWriter, r *http.Request, vals url.Values) {
	if _, err := s.Production.MoveBatch(r.Context(), vals.Get("batch_id"), production.MoveComplete, vals.Get("reason")); err != nil {
		if errs.Is(err, errs.NotFound) && errs.FieldOf(err) == "" {
			s.pageError(w, r, err)
			return
		}
		s.logIfInternal(r, err)
		s.renderFloor(w, r, floorState{status: refusalStatus(err), err: err})
		return
	}
	http.Redirect(w, r, "/floor/lines/"+url.PathEscape(r.PathValue("id"))+"?done=completed", http.StatusSeeOther)
}
