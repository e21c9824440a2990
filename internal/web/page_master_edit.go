package web

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"unicode"

	"galenix/internal/errs"
	"galenix/internal/esign"
	"galenix/internal/identity"
	"galenix/internal/production"
	"galenix/internal/text"
)

// The editor of a master batch record: a new master (or a new version of
// one), and the change of a draft, with its operations and their steps of
// every kind. It works without JavaScript: the form has a number of rows,
// and its "add a step" and "add an operation" buttons post it to be drawn
// again with one more row (a step's or an operation's "move up" and "move
// down", with two rows swapped), saving nothing: the order is saved with
// the draft, through the production service, audited. A row left blank is no step. The master is
// written through the production service, as the API writes it.
//
// The form's names: ops is the number of operations, o{i}.title and
// o{i}.steps (their number of rows) each operation's, s{i}.{j}.{field}
// each step's (i and j from 1), o{i}.drop and s{i}.{j}.drop remove a row.

func (s *Server) routesMasterEditor() {
	s.handle("GET", "/masters/new", false, s.masterNew)
	s.formWrite("/masters", s.masterCreate)
	s.handle("GET", "/masters/{id}/edit", false, s.masterEdit)
	s.formWrite("/masters/{id}/edit", s.masterUpdate)
	s.formWrite("/masters/{id}/review", s.masterReview)
	s.formWrite("/masters/{id}/author", s.masterAuthor)
}

// Bounds of the rows a form may ask for: a forged count draws no more.
const (
	maxOpRows   = 60
	maxStepRows = production.MaxSteps
)

// masterEditPage is the editor's page.
type masterEditPage struct {
	prodBase
	Title, Action, Cancel string
	// Master is the draft edited; nil for a new master.
	Master *production.Master
	// Edit: a draft is changed (its code and product stay); Version is the
	// revision it was opened at.
	Edit    bool
	Version string
	// NextOf names the code of which the new master is the next version.
	NextOf string
	Form   *form
	// Problem is the refusal said above the form: a step's names the row
	// as the form numbers it.
	Problem string
	// ProblemAt is the anchor of the row refused, if any.
	ProblemAt string
	// Products, Materials and Kinds are the choices of the product (a new
	// master's), of a material addition and of a step's kind.
	Products, Materials, Kinds []option
	Ops                        []masterOpRow
	// AddOp is the number of the operation "add an operation" would add.
	AddOp int
}

// masterOpRow is one operation of the form, with its rows of steps.
type masterOpRow struct {
	N            int
	Title, Error string
	Drop         bool
	Steps        []masterStepRow
	// Next is the number of the step "add a step" would add; Last the
	// number of its last row.
	Next, Last int
}

// masterStepRow is one step of the form as typed, with the refusal that
// names it, if any: a value that is not a number (Errors by field), or the
// rules' refusal of the step (Error).
type masterStepRow struct {
	Op, N                                          int
	Kind, Text, Unit, Target, Low, High, Decimals  string
	MaterialID, Quantity, Tolerance, EquipmentKind string
	Checklist, SamplePoint                         string
	Sign, Critical, Drop                           bool
	Error                                          string
	Errors                                         map[string]string
}

// Name is the form name of the step's field.
func (r masterStepRow) Name(field string) string {
	return "s" + strconv.Itoa(r.Op) + "." + strconv.Itoa(r.N) + "." + field
}

// ID is the HTML id of the step's field.
func (r masterStepRow) ID(field string) string {
	return "s" + strconv.Itoa(r.Op) + "-" + strconv.Itoa(r.N) + "-" + field
}

// masterNew draws a new master's form: blank, for a product (?product_id),
// or the next version of a master (?from), its operations copied.
func (s *Server) masterNew(w http.ResponseWriter, r *http.Request) {
	if !s.mayOpen(w, r, production.MayEditMaster) {
		return
	}
	q := r.URL.Query()
	vals := url.Values{"product_id": {q.Get("product_id")}}
	var from *production.Master
	if id := q.Get("from"); id != "" {
		m, err := s.Production.Master(r.Context(), id)
		if err != nil {
			s.pageError(w, r, err)
			return
		}
		from, vals = m, masterValues(langOf(r), m)
		vals.Del("version")
	} else {
		// A first operation of two blank steps, the first a line clearance.
		vals.Set("ops", "1")
		vals.Set("o1.steps", "2")
		vals.Set("s1.1.kind", string(production.StepClearance))
	}
	s.renderMasterEdit(w, r, http.StatusOK, nil, from, vals, nil)
}

// masterCreate records a new master, or draws the form again with its
// rows changed (rowButton), or with the refusal.
func (s *Server) masterCreate(w http.ResponseWriter, r *http.Request, vals url.Values) {
	// The service refuses who may not write masters; the form's buttons,
	// which write nothing, refuse them too.
	if !s.mayOpen(w, r, production.MayEditMaster) {
		return
	}
	if rowButton(vals) {
		s.renderMasterEdit(w, r, http.StatusOK, nil, nil, vals, nil)
		return
	}
	m, rows, err := parseMaster(vals)
	if err == nil {
		err = s.Production.CreateMaster(r.Context(), m)
	}
	if err != nil {
		s.logIfInternal(r, err)
		s.renderMasterEdit(w, r, refusalStatus(err), nil, nil, vals, rows.locate(err))
		return
	}
	http.Redirect(w, r, "/masters/"+url.PathEscape(m.ID)+"?done=created", http.StatusSeeOther)
}

// masterEdit draws a draft's form, at its current revision.
func (s *Server) masterEdit(w http.ResponseWriter, r *http.Request) {
	// A master outside the reader's scope does not exist for them (404),
	// whether or not they could edit one.
	m, err := s.Production.Master(r.Context(), r.PathValue("id"))
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	if !s.mayOpen(w, r, production.MayEditMaster) {
		return
	}
	if m.Status != production.MasterDraft {
		s.pageError(w, r, errs.E(errs.Conflict, "store.master_batch_record_version", m.Code, m.Version, m.Status))
		return
	}
	s.renderMasterEdit(w, r, http.StatusOK, m, nil, masterValues(langOf(r), m), nil)
}

// masterUpdate changes a draft, at the revision its form was opened at: a
// form drawn before someone else's change shows the draft as it is now,
// with the refusal in words and the reason typed kept.
func (s *Server) masterUpdate(w http.ResponseWriter, r *http.Request, vals url.Values) {
	ctx := r.Context()
	cur, err := s.Production.Master(ctx, r.PathValue("id"))
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	if !s.mayOpen(w, r, production.MayEditMaster) {
		return
	}
	if rowButton(vals) {
		// A row added or moved in a version no longer a draft: refused as
		// its save would be.
		if cur.Status != production.MasterDraft {
			s.pageError(w, r, errs.E(errs.Conflict, "store.master_batch_record_version", cur.Code, cur.Version, cur.Status))
			return
		}
		s.renderMasterEdit(w, r, http.StatusOK, cur, nil, vals, nil)
		return
	}
	m, rows, err := parseMaster(vals)
	if err == nil {
		m.ID, m.Code, m.ProductID = cur.ID, cur.Code, cur.ProductID
		if m.Revision, err = formVersion(vals); err == nil {
			err = s.Production.UpdateMaster(ctx, m, vals.Get("reason"))
		}
	}
	if errs.Is(err, errs.Stale) {
		now, gerr := s.Production.Master(ctx, cur.ID)
		if gerr != nil {
			s.pageError(w, r, gerr)
			return
		}
		cv := masterValues(langOf(r), now)
		cv.Set("reason", vals.Get("reason"))
		s.renderMasterEdit(w, r, http.StatusPreconditionFailed, now, nil, cv, &rowError{err: err})
		return
	}
	if err != nil {
		s.logIfInternal(r, err)
		s.renderMasterEdit(w, r, refusalStatus(err), cur, nil, vals, rows.locate(err))
		return
	}
	http.Redirect(w, r, "/masters/"+url.PathEscape(m.ID)+"?done=saved", http.StatusSeeOther)
}

// masterReview signs the master as reviewed: its author's review before it
// is submitted to quality assurance (21 CFR 11.200: username and password
// at every signing).
func (s *Server) masterReview(w http.ResponseWriter, r *http.Request, vals url.Values) {
	id := r.PathValue("id")
	if _, err := s.signRecord(r, "master", id, string(esign.Reviewed), vals); err != nil {
		if errs.Is(err, errs.NotFound) && errs.FieldOf(err) == "" {
			s.pageError(w, r, err)
			return
		}
		s.logIfInternal(r, err)
		vals.Del("password")
		s.renderMaster(w, r, refusalStatus(err), masterForms{review: &form{Values: vals, Err: err, lang: langOf(r), shown: signFields}}, "")
		return
	}
	http.Redirect(w, r, "/masters/"+url.PathEscape(id)+"?done=reviewed", http.StatusSeeOther)
}

// masterAuthor signs a draft as its author wrote it, which submits it for
// review (meaning "authored", 21 CFR 11.200: username and password at every
// signing). Without a valid signature nothing changes.
func (s *Server) masterAuthor(w http.ResponseWriter, r *http.Request, vals url.Values) {
	id := r.PathValue("id")
	if _, err := s.signRecord(r, "master", id, string(esign.Authored), vals); err != nil {
		if errs.Is(err, errs.NotFound) && errs.FieldOf(err) == "" {
			s.pageError(w, r, err)
			return
		}
		s.logIfInternal(r, err)
		vals.Del("password")
		s.renderMaster(w, r, refusalStatus(err), masterForms{author: &form{Values: vals, Err: err, lang: langOf(r), shown: signFields}}, "")
		return
	}
	http.Redirect(w, r, "/masters/"+url.PathEscape(id)+"?done=submitted", http.StatusSeeOther)
}

// rowButton applies the form's "add" or "move" button, if one was pressed:
// one more operation, one more step in an operation, or a step moved up or
// down (swapped with its neighbour). It reports whether one was.
func rowButton(vals url.Values) bool {
	if mv := vals.Get("move"); mv != "" {
		moveStep(vals, mv)
		return true
	}
	add := vals.Get("add")
	switch {
	case add == "op":
		n := rowCount(vals, "ops", maxOpRows) + 1
		if n <= maxOpRows {
			vals.Set("ops", strconv.Itoa(n))
			vals.Set("o"+strconv.Itoa(n)+".steps", "1")
		}
		return true
	case strings.HasPrefix(add, "step:"):
		i, err := strconv.Atoi(strings.TrimPrefix(add, "step:"))
		if err == nil && i >= 1 && i <= rowCount(vals, "ops", maxOpRows) {
			k := "o" + strconv.Itoa(i) + ".steps"
			if n := rowCount(vals, k, maxStepRows) + 1; n <= maxStepRows {
				vals.Set(k, strconv.Itoa(n))
			}
		}
		return true
	}
	return false
}

// moveStep swaps the step named "up:i.j" or "down:i.j" with the one
// before or after it in its operation, every field of theirs; or the
// operation named "opup:i" or "opdown:i" with the one before or after it,
// its title and all its steps.
func moveStep(vals url.Values, mv string) {
	dir, at, _ := strings.Cut(mv, ":")
	if dir == "opup" || dir == "opdown" {
		moveOperation(vals, dir == "opup", at)
		return
	}
	op, no, _ := strings.Cut(at, ".")
	i, err1 := strconv.Atoi(op)
	j, err2 := strconv.Atoi(no)
	if err1 != nil || err2 != nil || i < 1 || i > rowCount(vals, "ops", maxOpRows) {
		return
	}
	k := j + 1
	if dir == "up" {
		k = j - 1
	}
	if n := rowCount(vals, "o"+strconv.Itoa(i)+".steps", maxStepRows); j < 1 || j > n || k < 1 || k > n {
		return
	}
	a := "s" + strconv.Itoa(i) + "." + strconv.Itoa(j) + "."
	b := "s" + strconv.Itoa(i) + "." + strconv.Itoa(k) + "."
	for _, f := range append([]string{"kind", "sign", "critical", "drop"}, stepInputs...) {
		x, y := vals[a+f], vals[b+f]
		delete(vals, a+f)
		delete(vals, b+f)
		if y != nil {
			vals[a+f] = y
		}
		if x != nil {
			vals[b+f] = x
		}
	}
}

// moveOperation swaps operation i with the one before it (up) or after
// it: their titles, their numbers of rows, their marks to remove, and
// every field of their steps.
func moveOperation(vals url.Values, up bool, at string) {
	i, err := strconv.Atoi(at)
	n := rowCount(vals, "ops", maxOpRows)
	k := i + 1
	if up {
		k = i - 1
	}
	if err != nil || i < 1 || i > n || k < 1 || k > n {
		return
	}
	a, b := strconv.Itoa(i), strconv.Itoa(k)
	moved := url.Values{}
	for key, v := range vals {
		var to string
		switch {
		case strings.HasPrefix(key, "o"+a+"."):
			to = "o" + b + "." + strings.TrimPrefix(key, "o"+a+".")
		case strings.HasPrefix(key, "o"+b+"."):
			to = "o" + a + "." + strings.TrimPrefix(key, "o"+b+".")
		case strings.HasPrefix(key, "s"+a+"."):
			to = "s" + b + "." + strings.TrimPrefix(key, "s"+a+".")
		case strings.HasPrefix(key, "s"+b+"."):
			to = "s" + a + "." + strings.TrimPrefix(key, "s"+b+".")
		default:
			continue
		}
		moved[to] = v
		delete(vals, key)
	}
	for key, v := range moved {
		vals[key] = v
	}
}

// rowCount reads a number of rows, at least 1 and at most limit.
func rowCount(vals url.Values, name string, limit int) int {
	n, err := strconv.Atoi(vals.Get(name))
	if err != nil || n < 1 {
		return 1
	}
	return min(n, limit)
}

// masterValues is the form of a master: its fields and a row per step,
// numbers written the language's way (a decimal comma in French, no
// grouping: what the form reads back).
func masterValues(lang string, m *production.Master) url.Values {
	fmtNum := func(f float64) string {
		s := strconv.FormatFloat(f, 'f', -1, 64)
		if lang == text.FR {
			s = strings.Replace(s, ".", ",", 1)
		}
		return s
	}
	v := url.Values{"product_id": {m.ProductID}, "code": {m.Code}, "title": {m.Title}, "batch_size": {fmtNum(m.BatchSize)},
		"unit": {m.Unit}, "hours": {fmtNum(m.Hours)}, "ops": {strconv.Itoa(len(m.Operations))}}
	if m.Revision > 0 {
		v.Set("version", strconv.Itoa(m.Revision))
	}
	for i, op := range m.Operations {
		o := "o" + strconv.Itoa(i+1) + "."
		v.Set(o+"title", op.Title)
		v.Set(o+"steps", strconv.Itoa(len(op.Steps)))
		for j, st := range op.Steps {
			p := "s" + strconv.Itoa(i+1) + "." + strconv.Itoa(j+1) + "."
			set := func(k, s string) {
				if s != "" {
					v.Set(p+k, s)
				}
			}
			set("kind", string(st.Kind))
			set("text", st.Text)
			set("unit", st.Unit)
			for k, f := range map[string]*float64{"target": st.Target, "low": st.Low, "high": st.High} {
				if f != nil {
					set(k, fmtNum(*f))
				}
			}
			if st.Kind == production.StepNumeric {
				set("decimals", strconv.Itoa(st.Decimals))
			}
			set("material_id", st.MaterialID)
			if st.Kind == production.StepMaterial {
				set("quantity", fmtNum(st.Quantity))
				set("tolerance", fmtNum(st.Tolerance))
			}
			set("equipment_kind", st.EquipmentKind)
			set("checklist", strings.Join(st.Checklist, "\n"))
			set("sample_point", st.SamplePoint)
			if st.Sign {
				set("sign", "on")
			}
			if st.Critical {
				set("critical", "on")
			}
		}
	}
	return v
}

// masterRows says which row of the form each operation and step of the
// master read from it comes from: rows left blank are not in the master,
// and the rules number what is.
type masterRows struct {
	ops   []int
	steps [][]int
}

// rowError is a refusal placed on a row of the form: the operation's row
// (step 0), or a step's.
type rowError struct {
	err      error
	op, step int
	// inner is what the row shows: of a step refused, the rules' words
	// about the step, without the numbers the rules gave it (which count
	// no blank row).
	inner error
}

// rowText is the refusal's words on its row.
func (re *rowError) rowText(lang string) string {
	if re.inner != nil {
		// Said on its own, the rules' words start a sentence.
		m := []rune(errs.MessageOf(re.inner, lang))
		if len(m) > 0 {
			m[0] = unicode.ToUpper(m[0])
		}
		return string(m)
	}
	return errs.MessageOf(re.err, lang)
}

// locate finds the row a refusal of the master's operations names (by the
// numbers the rules gave the operations and steps read); a refusal of
// another field, or of no row, stays the form's.
func (mr masterRows) locate(err error) *rowError {
	re := &rowError{err: err}
	var e *errs.Error
	if !errors.As(err, &e) {
		return re
	}
	if i, j, ok := stepFieldRow(e.Field); ok {
		// A value that is not one names its field by the form's numbers.
		re.op, re.step, re.inner = i, j, err
		return re
	}
	if e.Field != "operations" {
		return re
	}
	arg := func(i int) int {
		if i < len(e.Args) {
			if n, ok := e.Args[i].(int); ok {
				return n
			}
		}
		return 0
	}
	var op, step int
	switch e.Key {
	case "production.step_invalid":
		op, step = arg(0), arg(1)
		if len(e.Args) > 2 {
			re.inner, _ = e.Args[2].(error)
		}
	case "store.step_adds_material_that":
		op, step = arg(0), arg(1)
		re.inner = errs.Field("operations", "master.no_such_material")
	case "production.operation_needs_title_1", "production.operation_has_no_step":
		op = arg(0)
	case "production.first_step_must_line":
		op, step = 1, 1
	default:
		return re
	}
	if op < 1 || op > len(mr.ops) {
		return re
	}
	re.op = mr.ops[op-1]
	if step >= 1 && step <= len(mr.steps[op-1]) {
		re.step = mr.steps[op-1][step-1]
	} else {
		re.inner = nil
	}
	return re
}

// stepFieldRow reads the row of a step's form field, "s{i}.{j}.{name}".
func stepFieldRow(field string) (op, step int, ok bool) {
	rest, found := strings.CutPrefix(field, "s")
	if !found {
		return 0, 0, false
	}
	parts := strings.SplitN(rest, ".", 3)
	if len(parts) != 3 {
		return 0, 0, false
	}
	i, err1 := strconv.Atoi(parts[0])
	j, err2 := strconv.Atoi(parts[1])
	if err1 != nil || err2 != nil || i < 1 || j < 1 {
		return 0, 0, false
	}
	return i, j, true
}

// parseMaster reads the master typed in the form, without the rows left
// blank or marked to remove. It refuses only what is not a value at all
// (letters in a number), naming the field; the rules judge the rest.
func parseMaster(vals url.Values) (*production.Master, masterRows, error) {
	var rows masterRows
	m := &production.Master{ProductID: vals.Get("product_id"), Code: vals.Get("code"), Title: vals.Get("title"), Unit: vals.Get("unit")}
	var err error
	if m.BatchSize, err = decimal(vals, "batch_size", true); err != nil {
		return m, rows, err
	}
	if m.Hours, err = decimal(vals, "hours", true); err != nil {
		return m, rows, err
	}
	for i := 1; i <= rowCount(vals, "ops", maxOpRows); i++ {
		o := "o" + strconv.Itoa(i) + "."
		if checked(vals, o+"drop") {
			continue
		}
		op := production.Operation{Title: vals.Get(o + "title")}
		var stepRows []int
		for j := 1; j <= rowCount(vals, o+"steps", maxStepRows); j++ {
			p := "s" + strconv.Itoa(i) + "." + strconv.Itoa(j) + "."
			if checked(vals, p+"drop") || blankStep(vals, p) {
				continue
			}
			st, err := parseStep(vals, p)
			if err != nil {
				return m, rows, err
			}
			op.Steps = append(op.Steps, st)
			stepRows = append(stepRows, j)
		}
		if strings.TrimSpace(op.Title) == "" && len(op.Steps) == 0 {
			continue // a blank operation
		}
		m.Operations = append(m.Operations, op)
		rows.ops = append(rows.ops, i)
		rows.steps = append(rows.steps, stepRows)
	}
	return m, rows, nil
}

// stepInputs are the fields of a step typed as text: a row with none of
// them is blank, whatever its kind and boxes say.
var stepInputs = []string{"text", "unit", "target", "low", "high", "decimals", "material_id", "quantity", "tolerance", "equipment_kind", "checklist", "sample_point"}

func blankStep(vals url.Values, p string) bool {
	for _, k := range stepInputs {
		if strings.TrimSpace(vals.Get(p+k)) != "" {
			return false
		}
	}
	return true
}

// parseStep reads one step; the fields of other kinds than its own are
// left out.
func parseStep(vals url.Values, p string) (production.Step, error) {
	st := production.Step{Kind: production.StepKind(vals.Get(p + "kind")), Text: vals.Get(p + "text"),
		Sign: checked(vals, p+"sign"), Critical: checked(vals, p+"critical")}
	var err error
	switch st.Kind {
	case production.StepNumeric:
		st.Unit = vals.Get(p + "unit")
		for _, f := range []struct {
			name string
			to   **float64
		}{{"target", &st.Target}, {"low", &st.Low}, {"high", &st.High}} {
			if strings.TrimSpace(vals.Get(p+f.name)) == "" {
				continue
			}
			v, err := decimal(vals, p+f.name, false)
			if err != nil {
				return st, err
			}
			*f.to = &v
		}
		if st.Decimals, err = integer(vals, p+"decimals"); err != nil {
			return st, err
		}
	case production.StepMaterial:
		st.MaterialID = vals.Get(p + "material_id")
		if st.Quantity, err = decimal(vals, p+"quantity", true); err != nil {
			return st, err
		}
		if st.Tolerance, err = decimal(vals, p+"tolerance", true); err != nil {
			return st, err
		}
	case production.StepEquipment:
		st.EquipmentKind = vals.Get(p + "equipment_kind")
	case production.StepClearance:
		for _, line := range strings.Split(vals.Get(p+"checklist"), "\n") {
			if line = strings.TrimSpace(line); line != "" {
				st.Checklist = append(st.Checklist, line)
			}
		}
	case production.StepSampling:
		st.SamplePoint = vals.Get(p + "sample_point")
	}
	return st, nil
}

// renderMasterEdit draws the editor: of the draft m (edit), or of a new
// master (m nil; from, the version it continues, if any), with the values
// and the refusal placed on its row, if any.
func (s *Server) renderMasterEdit(w http.ResponseWriter, r *http.Request, status int, m, from *production.Master, vals url.Values, re *rowError) {
	ctx := r.Context()
	d := masterEditPage{prodBase: s.prodBase(r, "batches", "masters"), Master: m, Edit: m != nil}
	var ferr error
	if re != nil {
		ferr = re.err
	}
	d.Form = &form{Values: vals, Err: ferr, lang: d.Lang, shown: []string{"product_id", "code", "title", "batch_size", "unit", "hours", "reason"}}
	d.Problem = d.Form.Message()
	if re != nil && re.step > 0 {
		d.Problem = text.Render(d.Lang, "master.error_at", re.op, re.step, re.rowText(d.Lang))
		d.ProblemAt = "s" + strconv.Itoa(re.op) + "-" + strconv.Itoa(re.step) + "-row"
	} else if re != nil && re.op > 0 {
		d.ProblemAt = "op-" + strconv.Itoa(re.op)
	}
	if d.Edit {
		d.Title = tr(d.Lang, "master.edit")
		d.Action = "/masters/" + url.PathEscape(m.ID) + "/edit"
		d.Cancel = "/masters/" + url.PathEscape(m.ID)
		d.Version = vals.Get("version")
	} else {
		d.Title = tr(d.Lang, "master.new")
		d.Action = "/masters"
		d.Cancel = "/masters"
		if from == nil && vals.Get("code") != "" {
			// A form drawn again keeps saying whose next version it is.
			if ms, err := s.Production.Masters(ctx, production.MasterFilter{ProductID: vals.Get("product_id")}); err == nil {
				for i := range ms {
					if ms[i].Code == strings.TrimSpace(vals.Get("code")) {
						from = &ms[i]
					}
				}
			}
		}
		if from != nil {
			d.NextOf = from.Code
			d.Cancel = "/masters/" + url.PathEscape(from.ID)
		}
	}
	if r.Method == http.MethodPost {
		// After a post, the language switch goes back to the form.
		d.Path = d.Action
		if !d.Edit {
			d.Path = "/masters/new"
		}
	}
	ps, err := s.Production.Products(ctx, production.ProductFilter{})
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	for _, p := range ps {
		d.Products = append(d.Products, option{Value: p.ID, Label: p.Name + " (" + p.Code + ")"})
	}
	d.Products = withNone(d.Lang, "common.choose", d.Products)
	mats, err := s.Production.Materials(ctx)
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	for _, mt := range mats {
		d.Materials = append(d.Materials, option{Value: mt.ID, Label: mt.Code + " — " + mt.Name + " (" + mt.Unit + ")"})
	}
	d.Materials = withNone(d.Lang, "common.choose", d.Materials)
	d.Kinds = enumOptions(d.Lang, "stepkind", production.StepKinds)
	d.Ops = masterFormRows(d.Lang, vals, re)
	d.AddOp = len(d.Ops) + 1
	s.render(w, r, status, "master_edit", d)
}

// masterFormRows are the form's operations and steps as typed, with the
// refusal on the row it names.
func masterFormRows(lang string, vals url.Values, re *rowError) []masterOpRow {
	var ops []masterOpRow
	for i := 1; i <= rowCount(vals, "ops", maxOpRows); i++ {
		o := "o" + strconv.Itoa(i) + "."
		op := masterOpRow{N: i, Title: vals.Get(o + "title"), Drop: checked(vals, o+"drop")}
		if re != nil && re.op == i && re.step == 0 {
			op.Error = re.rowText(lang)
		}
		for j := 1; j <= rowCount(vals, o+"steps", maxStepRows); j++ {
			p := "s" + strconv.Itoa(i) + "." + strconv.Itoa(j) + "."
			g := func(k string) string { return vals.Get(p + k) }
			st := masterStepRow{Op: i, N: j, Kind: g("kind"), Text: g("text"), Unit: g("unit"), Target: g("target"), Low: g("low"),
				High: g("high"), Decimals: g("decimals"), MaterialID: g("material_id"), Quantity: g("quantity"), Tolerance: g("tolerance"),
				EquipmentKind: g("equipment_kind"), Checklist: g("checklist"), SamplePoint: g("sample_point"),
				Sign: checked(vals, p+"sign"), Critical: checked(vals, p+"critical"), Drop: checked(vals, p+"drop")}
			if st.Kind == "" {
				st.Kind = string(production.StepInstruction)
			}
			if re != nil && re.op == i && re.step == j {
				// A value that is not a number is said at its field; the
				// rules' refusal of the step, on the row.
				if f, ok := strings.CutPrefix(errs.FieldOf(re.err), p); ok {
					st.Errors = map[string]string{f: errs.MessageOf(re.err, lang)}
				} else {
					st.Error = re.rowText(lang)
				}
			}
			op.Steps = append(op.Steps, st)
		}
		op.Next, op.Last = len(op.Steps)+1, len(op.Steps)
		ops = append(ops, op)
	}
	return ops
}

// MayEditMasters says whether the reader may write master batch records:
// the links to the editor are shown to them only.
func (p prodBase) MayEditMasters() bool { return p.Actor.Can(identity.PermMasterEdit) }

// masterChanges compares the master with the version of its code before
// it, if any, and says what changed in the reader's language.
func (s *Server) masterChanges(r *http.Request, m *production.Master, mats map[string]production.Material) (*production.Master, []string, error) {
	ctx := r.Context()
	vs, err := s.Production.Masters(ctx, production.MasterFilter{ProductID: m.ProductID})
	if err != nil {
		return nil, nil, err
	}
	head, ok := production.PreviousVersion(m, vs)
	if !ok {
		return nil, nil, nil
	}
	prev, err := s.Production.Master(ctx, head.ID)
	if err != nil {
		return nil, nil, err
	}
	lang := langOf(r)
	var out []string
	for _, c := range production.CompareMasters(prev, m) {
		out = append(out, masterChangeText(lang, c, mats))
	}
	return prev, out, nil
}

// masterChangeText writes one change between two versions in words.
func masterChangeText(lang string, c production.MasterChange, mats map[string]production.Material) string {
	kind := func(v any) string {
		if k, _ := v.(string); k != "" {
			return tr(lang, "stepkind."+k)
		}
		return "—"
	}
	switch c.Kind {
	case production.ChangeOpAdded:
		return text.Render(lang, "master.change.op_added", c.Op, c.Title)
	case production.ChangeOpRemoved:
		return text.Render(lang, "master.change.op_removed", c.Op, c.Title)
	case production.ChangeOpTitle:
		return text.Render(lang, "master.change.op_title", c.Op, c.Old, c.New)
	case production.ChangeStepAdded:
		return text.Render(lang, "master.change.step_added", c.Op, c.Step, kind(c.New), c.Title)
	case production.ChangeStepRemoved:
		return text.Render(lang, "master.change.step_removed", c.Op, c.Step, kind(c.Old), c.Title)
	case production.ChangeStepField:
		return text.Render(lang, "master.change.step_field", c.Op, c.Step, c.Title, tr(lang, "master.field."+c.Field),
			changeValue(lang, c.Field, c.Old, mats), changeValue(lang, c.Field, c.New, mats))
	}
	return text.Render(lang, "master.change.field", tr(lang, "master.field."+c.Field), changeValue(lang, c.Field, c.Old, mats), changeValue(lang, c.Field, c.New, mats))
}

// changeValue writes a value of a compared field: numbers the reader's
// way, a material by its code, a kind by its name.
func changeValue(lang, field string, v any, mats map[string]production.Material) string {
	switch x := v.(type) {
	case nil:
		return "—"
	case float64:
		return formatDecimal(lang, x)
	case bool:
		if x {
			return tr(lang, "common.yes")
		}
		return tr(lang, "common.no")
	case []string:
		if len(x) == 0 {
			return "—"
		}
		return strings.Join(x, " ; ")
	case string:
		switch {
		case x == "":
			return "—"
		case field == "kind":
			return tr(lang, "stepkind."+x)
		case field == "material_id":
			if mt, ok := mats[x]; ok {
				return mt.Code
			}
		}
		return x
	}
	return "—"
}

// stepInput is one typed field of a step's row, for the template
// "stepinput".
type stepInput struct {
	ID, Name, Label, Kind, Value, Error string
}

// Input is the row's field of that name, with its label's key and kind
// (text, decimal, integer).
func (r masterStepRow) Input(field, label, kind string) stepInput {
	v := map[string]string{"unit": r.Unit, "target": r.Target, "low": r.Low, "high": r.High, "decimals": r.Decimals,
		"quantity": r.Quantity, "tolerance": r.Tolerance, "equipment_kind": r.EquipmentKind, "sample_point": r.SamplePoint}[field]
	return stepInput{ID: r.ID(field), Name: r.Name(field), Label: label, Kind: kind, Value: v, Error: r.Errors[field]}
}
