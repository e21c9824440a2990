package web

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"galenix/internal/bounds"
	"galenix/internal/errs"
	"galenix/internal/identity"
	"galenix/internal/site"
)

// form is an entry form as shown: the values typed (or the record's own),
// and the refusal of the last attempt, if any.
type form struct {
	Values url.Values
	Err    error
	lang   string
	shown  []string
}

// Get returns the value of a field.
func (f *form) Get(name string) string { return f.Values.Get(name) }

// Has reports whether the field holds the value (checkboxes, several values).
func (f *form) Has(name, value string) bool { return slices.Contains(f.Values[name], value) }

// ErrorFor is the refusal's message when it names this field.
func (f *form) ErrorFor(name string) string {
	if f.Err != nil && errs.FieldOf(f.Err) == name {
		return errs.MessageOf(f.Err, f.lang)
	}
	return ""
}

// Message is the refusal's message when no field of the form shows it.
func (f *form) Message() string {
	if f.Err == nil || slices.Contains(f.shown, errs.FieldOf(f.Err)) {
		return ""
	}
	return errs.MessageOf(f.Err, f.lang)
}

// option is one choice of a select box or a group of checkboxes.
type option struct {
	Value, Label string
	// Group gathers consecutive options under a heading (an optgroup).
	Group string
}

// optionGroup is a run of options under one heading.
type optionGroup struct {
	Label   string
	Options []option
}

// fieldSpec describes one field of an entry form.
type fieldSpec struct {
	Name string
	// Kind is text, decimal, integer, date, time, select, checks, checkbox
	// or textarea.
	Kind     string
	Required bool
	// Choices names the option list of a select or checks field.
	Choices string
	// Wide fields take the whole row; the others pair up on a wide screen.
	Wide bool
	// Max is the maximal length of a text field.
	Max int
	// HXGet and HXTarget ask the page, when the field changes, to reload
	// the options of the field HXTarget from the address HXGet (with htmx).
	HXGet, HXTarget string
}

// fieldView is one field as the template draws it.
type fieldView struct {
	fieldSpec
	Label, Hint, Value, Error string
	Checked                   bool
	Groups                    []optionGroup
	Form                      *form
}

// newField prepares a field for the template "field".
func newField(lang string, f *form, entity string, spec fieldSpec, choices map[string][]option) fieldView {
	v := fieldView{fieldSpec: spec, Form: f, Value: f.Get(spec.Name), Error: f.ErrorFor(spec.Name)}
	v.Label = tr(lang, "field."+spec.Name)
	if k := "field." + entity + "." + spec.Name; hasMsg(k) {
		v.Label = tr(lang, k)
	}
	if k := "hint." + entity + "." + spec.Name; hasMsg(k) {
		v.Hint = tr(lang, k)
	} else if k := "hint." + spec.Name; hasMsg(k) {
		v.Hint = tr(lang, k)
	}
	v.Checked = v.Value == "on" || v.Value == "true"
	for _, o := range choices[spec.Choices] {
		if n := len(v.Groups); n == 0 || v.Groups[n-1].Label != o.Group {
			v.Groups = append(v.Groups, optionGroup{Label: o.Group})
		}
		g := &v.Groups[len(v.Groups)-1]
		g.Options = append(g.Options, o)
	}
	return v
}

// editor describes the entry forms of one kind of record: how to read it
// from a form and show it in one, which service methods record it, and where
// to go once it is saved. The handlers of routesEditor do the rest.
type editor[T any] struct {
	// entity names the kind of record: the titles are entity+".new" and
	// entity+".edit"; the field labels may be "field."+entity+"."+name.
	entity string
	fields []fieldSpec
	get    func(ctx context.Context, id string) (*T, error)
	create func(ctx context.Context, v *T) error
	update func(ctx context.Context, v *T, reason string) error
	setID  func(v *T, id string)
	// values shows a record in the form.
	values func(v *T) url.Values
	// parse reads the form; it refuses only what is not a value at all
	// (letters in a number), the services judge the rest.
	parse func(v url.Values) (*T, error)
	// choices loads the option lists of the select boxes.
	choices func(r *http.Request, vals url.Values) (map[string][]option, error)
	// saved is where to go once the record is saved.
	saved func(v *T) string
	// defaults are the first values of a new record's form, from the query.
	defaults func(q url.Values) url.Values
	// cancel is where the form's cancel link goes; the overview when nil.
	cancel func(vals url.Values, id string) string
	// nav names the navigation entry the form belongs to.
	nav string
	// may refuses who may not open the forms, before they are shown; the
	// site model's rule (site.CanEdit) when nil. The services check again
	// on every save.
	may func(a identity.Actor) error
}

// formPage is an entry form page.
type formPage struct {
	base
	Title  string
	Action string
	Cancel string
	Edit   bool
	Form   *form
	Fields []fieldView
	// Version is the version of the record edited: the update applies
	// only to it (a stale one shows the current record again).
	Version string
}

// routesEditor registers the four routes of an editor under prefix:
// GET prefix/new, POST prefix, GET prefix/{id}/edit and POST prefix/{id};
// the last two only when the records can be changed (update set).
func routesEditor[T any](s *Server, prefix string, e *editor[T]) {
	s.handle("GET", prefix+"/new", false, func(w http.ResponseWriter, r *http.Request) {
		if !s.mayOpen(w, r, e.may) {
			return
		}
		vals := url.Values{}
		if e.defaults != nil {
			vals = e.defaults(r.URL.Query())
		}
		renderForm(s, w, r, e, http.StatusOK, prefix, "", vals, nil)
	})
	s.handle("POST", prefix, false, func(w http.ResponseWriter, r *http.Request) {
		vals, err := postForm(w, r)
		if err != nil {
			s.pageError(w, r, err)
			return
		}
		v, err := e.parse(vals)
		if err == nil {
			err = e.create(r.Context(), v)
		}
		if err != nil {
			refused(s, w, r, e, prefix, "", vals, err)
			return
		}
		http.Redirect(w, r, e.saved(v), http.StatusSeeOther)
	})
	if e.update == nil {
		return
	}
	s.handle("GET", prefix+"/{id}/edit", false, func(w http.ResponseWriter, r *http.Request) {
		// A record outside the reader's scope does not exist for them
		// (404), whether or not they could edit it.
		v, err := e.get(r.Context(), r.PathValue("id"))
		if err != nil {
			s.pageError(w, r, err)
			return
		}
		if !s.mayOpen(w, r, e.may) {
			return
		}
		renderForm(s, w, r, e, http.StatusOK, prefix, r.PathValue("id"), valuesOf(e, v), nil)
	})
	s.handle("POST", prefix+"/{id}", false, func(w http.ResponseWriter, r *http.Request) {
		vals, err := postForm(w, r)
		if err != nil {
			s.pageError(w, r, err)
			return
		}
		id := r.PathValue("id")
		v, err := e.parse(vals)
		if err == nil {
			e.setID(v, id)
			if p := site.VersionField(v); p != nil {
				if *p, err = formVersion(vals); err != nil {
					// A record that does not exist is said first.
					if _, gerr := e.get(r.Context(), id); gerr != nil {
						err = gerr
					}
					s.pageError(w, r, err)
					return
				}
			}
			err = e.update(r.Context(), v, vals.Get("reason"))
		}
		if errs.Is(err, errs.Stale) {
			// Someone else saved the record meanwhile: show it as it is
			// now, with the reason why nothing was saved, and the reason
			// typed kept for the next try.
			cur, gerr := e.get(r.Context(), id)
			if gerr != nil {
				s.pageError(w, r, gerr)
				return
			}
			cv := valuesOf(e, cur)
			cv.Set("reason", vals.Get("reason"))
			renderForm(s, w, r, e, http.StatusPreconditionFailed, prefix, id, cv, err)
			return
		}
		if errs.Is(err, errs.NotFound) && errs.FieldOf(err) == "" {
			// The record itself does not exist.
			s.pageError(w, r, err)
			return
		}
		if err != nil {
			refused(s, w, r, e, prefix, id, vals, err)
			return
		}
		http.Redirect(w, r, e.saved(v), http.StatusSeeOther)
	})
}

// mayOpen shows the refusal page to someone the rule may refuses (the
// site model's when nil), instead of a form they could not save.
func (s *Server) mayOpen(w http.ResponseWriter, r *http.Request, may func(identity.Actor) error) bool {
	if may == nil {
		may = site.CanEdit
	}
	a, _ := identity.ActorFrom(r.Context())
	if err := may(a); err != nil {
		s.pageError(w, r, err)
		return false
	}
	return true
}

// refused shows the form again, with what was typed and why it was refused,
// under the status of the refusal.
func refused[T any](s *Server, w http.ResponseWriter, r *http.Request, e *editor[T], prefix, id string, vals url.Values, err error) {
	s.logIfInternal(r, err)
	status, ok := statusOf[errs.CodeOf(err)]
	if !ok {
		status = http.StatusInternalServerError
	}
	renderForm(s, w, r, e, status, prefix, id, vals, err)
}

// renderForm draws the entry form of a new record (id empty) or of the
// record id, with the values and the refusal, if any.
func renderForm[T any](s *Server, w http.ResponseWriter, r *http.Request, e *editor[T], status int, prefix, id string, vals url.Values, err error) {
	choices, cerr := e.choices(r, vals)
	if cerr != nil {
		s.pageError(w, r, cerr)
		return
	}
	b := s.base(r, e.nav)
	f := &form{Values: vals, Err: err, lang: b.Lang}
	d := formPage{base: b, Form: f, Edit: id != "", Action: prefix, Title: tr(b.Lang, e.entity+".new"), Cancel: "/site"}
	if e.cancel != nil {
		d.Cancel = e.cancel(vals, id)
	}
	if r.Method == http.MethodPost {
		// After a refused post, the language switch goes back to the form.
		d.Path = prefix + "/new"
		if d.Edit {
			d.Path = prefix + "/" + url.PathEscape(id) + "/edit"
		}
	}
	fields := e.fields
	if d.Edit {
		d.Version = vals.Get("version")
		d.Action = prefix + "/" + url.PathEscape(id)
		d.Title = tr(b.Lang, e.entity+".edit")
		fields = append(slices.Clip(fields), fieldSpec{Name: "reason", Kind: "textarea", Required: true, Wide: true, Max: 500})
	}
	for _, fs := range fields {
		f.shown = append(f.shown, fs.Name)
		d.Fields = append(d.Fields, newField(b.Lang, f, e.entity, fs, choices))
	}
	s.render(w, r, status, "form", d)
}

// valuesOf is the form's values of a record, with its version.
func valuesOf[T any](e *editor[T], v *T) url.Values {
	vals := e.values(v)
	if p := site.VersionField(v); p != nil && *p > 0 {
		vals.Set("version", strconv.Itoa(*p))
	}
	return vals
}

// formVersion reads the version an edit form was opened at. A form without
// one, or with one that is not a version, is refused rather than saved
// over whatever the record has become.
func formVersion(vals url.Values) (int, error) {
	n, err := strconv.Atoi(vals.Get("version"))
	if err != nil || n < 1 {
		return 0, errs.E(errs.Invalid, "error.form.version")
	}
	return n, nil
}

// handleForm registers a page's form at path: the posted form is read
// (at most MaxBody bytes; a form that does not read is the error page),
// then h records it.
func (s *Server) handleForm(path string, h func(http.ResponseWriter, *http.Request, url.Values)) {
	s.handle("POST", path, false, func(w http.ResponseWriter, r *http.Request) {
		vals, err := postForm(w, r)
		if err != nil {
			s.pageError(w, r, err)
			return
		}
		h(w, r, vals)
	})
}

// postForm reads a posted form of at most MaxBody bytes.
func postForm(w http.ResponseWriter, r *http.Request) (url.Values, error) {
	r.Body = http.MaxBytesReader(w, r.Body, MaxBody)
	if err := r.ParseForm(); err != nil {
		return nil, errs.E(errs.Invalid, "error.form")
	}
	return r.PostForm, nil
}

// --- reading typed values

// decimal reads a number written either way, 20.5 or 20,5; empty is 0 when
// optional.
func decimal(v url.Values, name string, optional bool) (float64, error) {
	s := strings.TrimSpace(v.Get(name))
	if s == "" && optional {
		return 0, nil
	}
	f, err := strconv.ParseFloat(strings.Replace(s, ",", ".", 1), 64)
	if s == "" || err != nil || !bounds.Finite(f) {
		return 0, inputError(name, "input.number")
	}
	return f, nil
}

// integer reads a whole number; spaces grouping the thousands are allowed.
func integer(v url.Values, name string) (int, error) {
	s := strings.Map(func(r rune) rune {
		if r == ' ' || r == '\u202f' || r == '\u00a0' {
			return -1
		}
		return r
	}, v.Get(name))
	if s == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		return 0, inputError(name, "input.integer")
	}
	return n, nil
}

// day reads a date written YYYY-MM-DD (what a date input sends) as the
// calendar day, the way the site model keeps due dates.
func day(v url.Values, name string) (time.Time, error) {
	s := strings.TrimSpace(v.Get(name))
	if s == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return time.Time{}, inputError(name, "input.date")
	}
	return t, bounds.Time(name, t)
}

func inputError(field, key string) error {
	return errs.Field(field, key)
}

func checked(v url.Values, name string) bool {
	s := v.Get(name)
	return s == "on" || s == "true"
}

// enumOptions lists the values of an enum with their labels.
func enumOptions[T ~string](lang, enum string, values []T) []option {
	out := make([]option, len(values))
	for i, v := range values {
		out[i] = option{Value: string(v), Label: tr(lang, enum+"."+string(v))}
	}
	return out
}

// withNone puts the empty choice first.
func withNone(lang, key string, opts []option) []option {
	return append([]option{{Value: "", Label: tr(lang, key)}}, opts...)
}

func fmtNum(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }
