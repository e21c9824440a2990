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
	"galenix/internal/errs"
	"galenix/internal/esign"
	"galenix/internal/identity"
	"galenix/internal/qualification"
	"galenix/internal/site"
)

// People's qualifications and training, in the JSON API and in pages: the
// list (a person's matrix, what awaits its grant, what lapses soon), a
// supervisor or quality assurance recording one, quality assurance
// granting it by signature (entity "qualification", meaning approved) or
// revoking it with a reason.

// errNoQualifications: galenix was wired without the qualifications'
// service.
var errNoQualifications = errors.New("web: no qualification service wired")

func (s *Server) qualifications() (qualification.Service, error) {
	if s.Qualifications == nil {
		return nil, errs.Wrap(errNoQualifications, "qualifications")
	}
	return s.Qualifications, nil
}

// expiringDays is how far ahead the list shows what lapses soon.
const expiringDays = 60

// qualificationFilter reads a list's filter from a query: person_id, kind,
// status, expiring_days, q.
func qualificationFilter(q url.Values) (qualification.Filter, error) {
	f := qualification.Filter{PersonID: q.Get("person_id"), Kind: qualification.Kind(q.Get("kind")), Status: qualification.Status(q.Get("status")),
		Query: strings.TrimSpace(q.Get("q"))}
	if f.Kind != "" && !slices.Contains(qualification.Kinds, f.Kind) {
		return f, errs.Field("kind", "qualification.kind", string(f.Kind))
	}
	if _, ok := qualification.StatusKeys[f.Status]; f.Status != "" && !ok {
		return f, errs.Field("status", "qualification.status", string(f.Status))
	}
	if v := q.Get("expiring_days"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 3*366 {
			return f, errs.Field("expiring_days", "qualification.expiring_days")
		}
		f.ExpiringDays = n
	}
	if len([]rune(f.Query)) > maxSearchLen {
		return f, errs.Field("q", "web.search_too_long", maxSearchLen)
	}
	return f, nil
}

// routesQualifications registers the qualifications' API and pages.
func (s *Server) routesQualifications() {
	s.handle("GET", "/api/v1/qualifications", false, list(s, func(r *http.Request) ([]qualification.Qualification, error) {
		svc, err := s.qualifications()
		if err != nil {
			return nil, err
		}
		f, err := qualificationFilter(r.URL.Query())
		if err != nil {
			return nil, err
		}
		return svc.Qualifications(r.Context(), f)
	}))
	s.handle("GET", "/api/v1/qualifications/{id}", false, func(w http.ResponseWriter, r *http.Request) {
		svc, err := s.qualifications()
		var q *qualification.Qualification
		if err == nil {
			q, err = svc.Qualification(r.Context(), r.PathValue("id"))
		}
		s.answer(w, r, http.StatusOK, q, err)
	})
	s.handle("POST", "/api/v1/qualifications", false, func(w http.ResponseWriter, r *http.Request) {
		var in qualification.Qualification
		if err := decode(w, r, &in); err != nil {
			s.apiError(w, r, err)
			return
		}
		svc, err := s.qualifications()
		var q *qualification.Qualification
		if err == nil {
			q, err = svc.RecordQualification(r.Context(), in)
		}
		s.answer(w, r, http.StatusCreated, q, err)
	})
	s.handle("POST", "/api/v1/qualifications/{id}/revoke", false, func(w http.ResponseWriter, r *http.Request) {
		var in struct {
			Reason   string `json:"reason"`
			Revision int    `json:"revision"`
		}
		if err := decode(w, r, &in); err != nil {
			s.apiError(w, r, err)
			return
		}
		svc, err := s.qualifications()
		var q *qualification.Qualification
		if err == nil {
			q, err = svc.RevokeQualification(r.Context(), r.PathValue("id"), in.Revision, in.Reason)
		}
		s.answer(w, r, http.StatusOK, q, err)
	})

	s.handle("GET", "/qualifications", false, func(w http.ResponseWriter, r *http.Request) { s.renderQualifications(w, r, http.StatusOK, nil) })
	s.formWrite("/qualifications", s.recordQualification)
	s.handle("GET", "/qualifications/{id}", false, func(w http.ResponseWriter, r *http.Request) {
		var notice string
		if key, ok := qualificationNotices[r.URL.Query().Get("done")]; ok {
			notice = tr(langOf(r), key)
		}
		s.renderQualification(w, r, http.StatusOK, nil, nil, notice)
	})
	s.formWrite("/qualifications/{id}/grant", s.grantQualification)
	s.formWrite("/qualifications/{id}/revoke", s.revokeQualification)
}

// qualificationNotices say what was done, after a redirection (?done=).
var qualificationNotices = map[string]string{
	"recorded": "qualification.done.recorded", "granted": "qualification.done.granted", "revoked": "qualification.done.revoked",
}

// qualificationsPage is the list: the filter, the qualifications it
// selects, what awaits quality assurance's grant, what lapses within
// expiringDays, and the form recording a new one.
type qualificationsPage struct {
	base
	Filter   qualification.Filter
	Person   *site.Person
	Items    []qualification.Qualification
	Pending  []qualification.Qualification
	Expiring []qualification.Qualification
	// CanRecord shows the recording form; CanGrant the grant's links.
	CanRecord, CanGrant bool
	Record              *form
	Kinds               []qualification.Kind
	Now                 time.Time
	Days                int
	zone                *time.Location
}

// Holds is where a qualification stands now, as the list's badge says.
func (p qualificationsPage) Holds(q qualification.Qualification) string { return q.HoldsAt(p.Now) }

// Day writes a qualification's bound as a day in the site's zone.
func (p qualificationsPage) Day(t time.Time) string { return formatDate(p.Lang, t, p.zone) }

// listLimit bounds the list's rows: a filter narrows it.
const qualificationListLimit = 300

func (s *Server) renderQualifications(w http.ResponseWriter, r *http.Request, status int, rec *form) {
	ctx := r.Context()
	svc, err := s.qualifications()
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	d := qualificationsPage{base: s.base(r, "qualifications"), Kinds: qualification.Kinds, Now: time.Now(), Days: expiringDays, zone: s.zone()}
	if err := qualification.MayRead(d.Actor); err != nil {
		s.pageError(w, r, err)
		return
	}
	if d.Filter, err = qualificationFilter(r.URL.Query()); err != nil {
		s.pageError(w, r, err)
		return
	}
	if d.Filter.PersonID != "" {
		if d.Person, err = s.Site.Person(ctx, d.Filter.PersonID); err != nil {
			s.pageError(w, r, err)
			return
		}
	}
	f := d.Filter
	f.Limit = qualificationListLimit
	if d.Items, err = svc.Qualifications(ctx, f); err != nil {
		s.pageError(w, r, err)
		return
	}
	if d.Pending, err = svc.Qualifications(ctx, qualification.Filter{Status: qualification.Recorded, Limit: qualificationListLimit}); err != nil {
		s.pageError(w, r, err)
		return
	}
	if d.Expiring, err = svc.Qualifications(ctx, qualification.Filter{ExpiringDays: expiringDays, Limit: qualificationListLimit}); err != nil {
		s.pageError(w, r, err)
		return
	}
	slices.SortStableFunc(d.Expiring, func(a, b qualification.Qualification) int { return a.ValidUntil.Compare(b.ValidUntil) })
	d.CanRecord = qualification.MayRecord(d.Actor) == nil
	d.CanGrant = esign.Permit(d.Actor, "qualification", esign.Approved) == nil
	if rec == nil {
		today := time.Now().In(d.zone)
		v := url.Values{"granted_at": {today.Format(time.DateOnly)}, "valid_until": {today.AddDate(1, 0, 0).Format(time.DateOnly)}, "kind": {string(qualification.MasterTraining)}}
		if d.Person != nil {
			v.Set("badge", d.Person.Badge)
		}
		rec = &form{Values: v, lang: d.Lang}
	}
	rec.shown = []string{"badge", "kind", "subject", "version", "granted_at", "valid_until", "evidence"}
	d.Record = rec
	s.render(w, r, status, "qualifications", d)
}

// recordQualification records a person's qualification from the list's
// form: the person named by their badge, the days in the site's zone.
func (s *Server) recordQualification(w http.ResponseWriter, r *http.Request, vals url.Values) {
	svc, err := s.qualifications()
	var q *qualification.Qualification
	if err == nil {
		var in qualification.Qualification
		if in, err = s.qualificationOf(r, vals); err == nil {
			q, err = svc.RecordQualification(r.Context(), in)
		}
	}
	if err != nil {
		s.logIfInternal(r, err)
		s.renderQualifications(w, r, refusalStatus(err), &form{Values: vals, Err: err, lang: langOf(r)})
		return
	}
	http.Redirect(w, r, "/qualifications/"+url.PathEscape(q.ID)+"?done=recorded", http.StatusSeeOther)
}

// personNamed finds the person of the staff a form names by badge (or,
// when byName, by their full name), case aside; "" for none.
func (s *Server) personNamed(ctx context.Context, named string, byName bool) (string, error) {
	people, _, err := s.Site.SearchPeople(ctx, site.PersonFilter{Query: named, Limit: 20})
	if err != nil {
		return "", err
	}
	for _, p := range people {
		if strings.EqualFold(p.Badge, named) || (byName && strings.EqualFold(p.Name, named)) {
			return p.ID, nil
		}
	}
	return "", nil
}

// qualificationOf reads the recording form: the person by badge, the kind,
// its subject and version, the days it holds from and until (midnight in
// the site's zone), its evidence.
func (s *Server) qualificationOf(r *http.Request, v url.Values) (qualification.Qualification, error) {
	q := qualification.Qualification{Kind: qualification.Kind(v.Get("kind")), Subject: v.Get("subject"), Evidence: v.Get("evidence")}
	badge := strings.TrimSpace(v.Get("badge"))
	if badge == "" {
		return q, errs.Field("badge", "qualification.badge")
	}
	var err error
	if q.PersonID, err = s.personNamed(r.Context(), badge, false); err != nil {
		return q, err
	}
	if q.PersonID == "" {
		return q, errs.Field("badge", "qualification.no_badge", badge)
	}
	if n := strings.TrimSpace(v.Get("version")); n != "" && q.Kind == qualification.MasterTraining {
		if q.Version, err = strconv.Atoi(n); err != nil {
			return q, errs.Field("version", "qualification.master_version")
		}
	}
	zone := s.zone()
	for _, d := range []struct {
		name string
		into *time.Time
	}{{"granted_at", &q.GrantedAt}, {"valid_until", &q.ValidUntil}} {
		t, err := day(v, d.name)
		if err != nil {
			return q, err
		}
		if t.IsZero() {
			return q, errs.Field(d.name, "input.date")
		}
		*d.into = time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, zone)
	}
	return q, nil
}

// qualificationPage is one qualification: what it is, where it stands,
// quality assurance's grant and revocation, its signatures and history.
type qualificationPage struct {
	base
	Q          qualification.Qualification
	Holds      string
	CanGrant   bool
	CanRevoke  bool
	Grant      *form
	Revoke     *form
	Signatures []esign.Signature
	History    []audit.Entry
	Notice     string
	zone       *time.Location
}

// Day writes a qualification's bound as a day in the site's zone.
func (p qualificationPage) Day(t time.Time) string { return formatDate(p.Lang, t, p.zone) }

// When writes a time of the history in the site's zone, the reader's way.
func (p qualificationPage) When(v any) string { return prodWhen(p.Lang, v, p.zone) }

// Word is a name of the trail in words: a command or a field.
func (p qualificationPage) Word(kind, name string) string { return auditWord(p.Lang, kind, name) }

// Old is an entry's old value in words.
func (p qualificationPage) Old(e audit.Entry) string {
	return auditValue(p.Lang, "qualification", e.Field, e.Old, e.OldLabel, p.zone)
}

// New is an entry's new value in words.
func (p qualificationPage) New(e audit.Entry) string {
	return auditValue(p.Lang, "qualification", e.Field, e.New, e.NewLabel, p.zone)
}

func (s *Server) renderQualification(w http.ResponseWriter, r *http.Request, status int, grant, revoke *form, notice string) {
	ctx := r.Context()
	id := r.PathValue("id")
	svc, err := s.qualifications()
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	content := s.contentOf(r, "qualification", id)
	q, err := svc.Qualification(ctx, id)
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	d := qualificationPage{base: s.base(r, "qualifications"), Q: *q, Holds: q.HoldsAt(time.Now()), Notice: notice, zone: s.zone()}
	d.CanGrant = q.Status == qualification.Recorded && esign.Permit(d.Actor, "qualification", esign.Approved) == nil
	d.CanRevoke = q.Status != qualification.Revoked && d.Actor.Can(identity.PermQualityDecide)
	if grant == nil {
		grant = &form{Values: url.Values{}, lang: d.Lang}
	}
	grant.shown = slices.Clip(signFields)
	grant.Values.Set("content_sha256", content)
	d.Grant = grant
	if revoke == nil {
		revoke = &form{Values: url.Values{}, lang: d.Lang}
	}
	revoke.shown = []string{"reason"}
	d.Revoke = revoke
	if d.History, d.Signatures, err = s.recordTrail(ctx, "qualification", q.ID); err != nil {
		s.pageError(w, r, err)
		return
	}
	s.render(w, r, status, "qualification", d)
}

// grantQualification is quality assurance's grant: its signature (meaning
// approved) on the qualification as the page showed it.
func (s *Server) grantQualification(w http.ResponseWriter, r *http.Request, vals url.Values) {
	id := r.PathValue("id")
	a, _ := identity.ActorFrom(r.Context())
	err := esign.Permit(a, "qualification", esign.Approved)
	if err == nil && vals.Get("password") == "" {
		err = errs.Field("password", "web.lot.password")
	}
	if err == nil {
		_, err = s.signRecord(r, "qualification", id, string(esign.Approved), vals)
	}
	if err != nil {
		if errs.Is(err, errs.NotFound) && errs.FieldOf(err) == "" {
			s.pageError(w, r, err)
			return
		}
		s.logIfInternal(r, err)
		vals.Del("password")
		s.renderQualification(w, r, refusalStatus(err), &form{Values: vals, Err: err, lang: langOf(r)}, nil, "")
		return
	}
	http.Redirect(w, r, "/qualifications/"+url.PathEscape(id)+"?done=granted", http.StatusSeeOther)
}

// revokeQualification is quality assurance's revocation, with its reason,
// at the revision the page showed.
func (s *Server) revokeQualification(w http.ResponseWriter, r *http.Request, vals url.Values) {
	id := r.PathValue("id")
	svc, err := s.qualifications()
	if err == nil {
		rev, _ := strconv.Atoi(vals.Get("revision"))
		_, err = svc.RevokeQualification(r.Context(), id, rev, vals.Get("reason"))
	}
	if err != nil {
		if errs.Is(err, errs.NotFound) && errs.FieldOf(err) == "" {
			s.pageError(w, r, err)
			return
		}
		s.logIfInternal(r, err)
		s.renderQualification(w, r, refusalStatus(err), nil, &form{Values: vals, Err: err, lang: langOf(r)}, "")
		return
	}
	http.Redirect(w, r, "/qualifications/"+url.PathEscape(id)+"?done=revoked", http.StatusSeeOther)
}
