package web

import (
	"net/http"
	"net/url"

	"galenix/internal/site"
)

// The staff pages: shifts, teams and people, each a list and its forms.

// shiftsPage lists the shifts.
type shiftsPage struct {
	base
	Shifts []site.Shift
}

func (s *Server) shiftsPage(w http.ResponseWriter, r *http.Request) {
	shifts, err := s.Site.Shifts(r.Context())
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "shifts", shiftsPage{base: s.base(r, "shifts"), Shifts: shifts})
}

func shiftEditor(s *Server) *editor[site.Shift] {
	return &editor[site.Shift]{
		entity: "shift", nav: "shifts",
		fields: []fieldSpec{
			{Name: "code", Kind: "text", Required: true, Max: 32},
			{Name: "name", Kind: "text", Required: true, Max: 120},
			{Name: "kind", Kind: "select", Required: true, Choices: "kinds", Wide: true},
			{Name: "start", Kind: "time", Required: true},
			{Name: "end", Kind: "time", Required: true},
		},
		get: s.Site.Shift, create: s.Site.CreateShift, update: s.Site.UpdateShift,
		setID: func(v *site.Shift, id string) { v.ID = id },
		values: func(v *site.Shift) url.Values {
			return url.Values{"code": {v.Code}, "name": {v.Name}, "kind": {string(v.Kind)}, "start": {v.Start}, "end": {v.End}}
		},
		parse: func(v url.Values) (*site.Shift, error) {
			return &site.Shift{Code: v.Get("code"), Name: v.Get("name"), Kind: site.ShiftKind(v.Get("kind")), Start: v.Get("start"), End: v.Get("end")}, nil
		},
		choices: func(r *http.Request, _ url.Values) (map[string][]option, error) {
			lang := langOf(r)
			return map[string][]option{"kinds": withNone(lang, "common.choose", enumOptions(lang, "shiftkind", site.ShiftKinds))}, nil
		},
		cancel: func(url.Values, string) string { return "/shifts" },
		saved:  func(*site.Shift) string { return "/shifts?saved=1" },
	}
}

// teamsPage lists the teams with their building and shift.
type teamsPage struct {
	base
	Teams     []site.Team
	Buildings map[string]*site.Building
	Shifts    map[string]*site.Shift
}

func (s *Server) teamsPage(w http.ResponseWriter, r *http.Request) {
	teams, err := s.Site.Teams(r.Context())
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	bs, err := s.Site.Buildings(r.Context())
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	shifts, err := s.Site.Shifts(r.Context())
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	d := teamsPage{base: s.base(r, "teams"), Teams: teams, Buildings: byID(bs, func(b site.Building) string { return b.ID }),
		Shifts: byID(shifts, func(v site.Shift) string { return v.ID })}
	s.render(w, r, http.StatusOK, "teams", d)
}

func teamEditor(s *Server) *editor[site.Team] {
	return &editor[site.Team]{
		entity: "team", nav: "teams",
		fields: []fieldSpec{
			{Name: "code", Kind: "text", Required: true, Max: 32},
			{Name: "name", Kind: "text", Required: true, Max: 120},
			{Name: "building_id", Kind: "select", Choices: "buildings"},
			{Name: "shift_id", Kind: "select", Required: true, Choices: "shifts"},
		},
		get: s.Site.Team, create: s.Site.CreateTeam, update: s.Site.UpdateTeam,
		setID: func(v *site.Team, id string) { v.ID = id },
		values: func(v *site.Team) url.Values {
			return url.Values{"code": {v.Code}, "name": {v.Name}, "building_id": {v.BuildingID}, "shift_id": {v.ShiftID}}
		},
		parse: func(v url.Values) (*site.Team, error) {
			return &site.Team{Code: v.Get("code"), Name: v.Get("name"), BuildingID: v.Get("building_id"), ShiftID: v.Get("shift_id")}, nil
		},
		choices: func(r *http.Request, _ url.Values) (map[string][]option, error) {
			lang := langOf(r)
			bs, err := s.Site.Buildings(r.Context())
			if err != nil {
				return nil, err
			}
			shifts, err := s.Site.Shifts(r.Context())
			if err != nil {
				return nil, err
			}
			so := make([]option, len(shifts))
			for i, v := range shifts {
				so[i] = option{Value: v.ID, Label: v.Name + " (" + v.Start + "–" + v.End + ")"}
			}
			return map[string][]option{
				"buildings": withNone(lang, "common.none", buildingOptions(bs)),
				"shifts":    withNone(lang, "common.choose", so),
			}, nil
		},
		cancel: func(url.Values, string) string { return "/teams" },
		saved:  func(*site.Team) string { return "/teams?saved=1" },
	}
}

// peoplePage is one page of the staff list, optionally of one team.
type peoplePage struct {
	base
	listFilter
	People []site.Person
	Teams  []site.Team
	TeamOf map[string]*site.Team
	TeamID string
}

func (s *Server) peoplePage(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	teamID := q.Get("team_id")
	teams, err := s.Site.Teams(r.Context())
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	d := peoplePage{base: s.base(r, "people"), Teams: teams, TeamOf: byID(teams, func(t site.Team) string { return t.ID }), TeamID: teamID}
	if _, ok := d.TeamOf[teamID]; teamID != "" && !ok {
		s.notFound(w, r)
		return
	}
	lf, err := s.listFilterOf(r.Context(), q)
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	// Staff are the site's: no client to choose.
	lf.Clients, lf.ClientID = nil, ""
	people, total, err := s.Site.SearchPeople(r.Context(), site.PersonFilter{TeamID: teamID, Query: lf.Query, Limit: lf.Size, Offset: lf.Offset()})
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	d.People, d.listFilter = people, lf
	d.paged(len(people), total, "/people", url.Values{"team_id": {teamID}})
	s.render(w, r, http.StatusOK, "people", d)
}

func personEditor(s *Server) *editor[site.Person] {
	return &editor[site.Person]{
		entity: "person", nav: "people",
		fields: []fieldSpec{
			{Name: "badge", Kind: "text", Required: true, Max: 32},
			{Name: "name", Kind: "text", Required: true, Max: 120},
			{Name: "job", Kind: "text", Required: true, Max: 120},
			{Name: "team_id", Kind: "select", Choices: "teams"},
			{Name: "account_id", Kind: "select", Choices: "accounts"},
		},
		get: s.Site.Person, create: s.Site.CreatePerson, update: s.Site.UpdatePerson,
		setID: func(v *site.Person, id string) { v.ID = id },
		values: func(v *site.Person) url.Values {
			return url.Values{"badge": {v.Badge}, "name": {v.Name}, "job": {v.Job}, "team_id": {v.TeamID}, "account_id": {v.AccountID}}
		},
		parse: func(v url.Values) (*site.Person, error) {
			return &site.Person{Badge: v.Get("badge"), Name: v.Get("name"), Job: v.Get("job"), TeamID: v.Get("team_id"), AccountID: v.Get("account_id")}, nil
		},
		choices: func(r *http.Request, _ url.Values) (map[string][]option, error) {
			teams, err := s.Site.Teams(r.Context())
			if err != nil {
				return nil, err
			}
			to := make([]option, len(teams))
			for i, t := range teams {
				to[i] = option{Value: t.ID, Label: t.Name + " (" + t.Code + ")"}
			}
			accounts, err := s.Site.StaffAccounts(r.Context())
			if err != nil {
				return nil, err
			}
			ao := make([]option, len(accounts))
			for i, a := range accounts {
				ao[i] = option{Value: a.ID, Label: a.Name + " (" + a.Username + ")"}
			}
			return map[string][]option{"teams": withNone(langOf(r), "common.none", to), "accounts": withNone(langOf(r), "common.none", ao)}, nil
		},
		defaults: func(q url.Values) url.Values { return url.Values{"team_id": {q.Get("team_id")}} },
		cancel:   func(url.Values, string) string { return "/people" },
		saved:    func(*site.Person) string { return "/people?saved=1" },
	}
}

// byID indexes records by their id.
func byID[T any](items []T, id func(T) string) map[string]*T {
	m := make(map[string]*T, len(items))
	for i := range items {
		m[id(items[i])] = &items[i]
	}
	return m
}
