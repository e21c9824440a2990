package web

import (
	"net/http"
	"net/url"
	"strconv"
	"time"

	"galenix/internal/site"
)

// The entry forms of the site model: buildings, rooms, lines, equipment.

func buildingEditor(s *Server) *editor[site.Building] {
	return &editor[site.Building]{
		entity: "building",
		fields: []fieldSpec{
			{Name: "code", Kind: "text", Required: true, Max: 32},
			{Name: "name", Kind: "text", Required: true, Max: 120},
			{Name: "role", Kind: "select", Required: true, Choices: "roles", Wide: true},
		},
		get: s.Site.Building, create: s.Site.CreateBuilding, update: s.Site.UpdateBuilding,
		setID: func(b *site.Building, id string) { b.ID = id },
		values: func(b *site.Building) url.Values {
			return url.Values{"code": {b.Code}, "name": {b.Name}, "role": {string(b.Role)}}
		},
		parse: func(v url.Values) (*site.Building, error) {
			return &site.Building{Code: v.Get("code"), Name: v.Get("name"), Role: site.BuildingRole(v.Get("role"))}, nil
		},
		choices: func(r *http.Request, _ url.Values) (map[string][]option, error) {
			lang := langOf(r)
			return map[string][]option{"roles": withNone(lang, "common.choose", enumOptions(lang, "role", site.BuildingRoles))}, nil
		},
		saved: func(b *site.Building) string { return "/site?saved=1#building-" + b.ID },
	}
}

func roomEditor(s *Server) *editor[site.Room] {
	return &editor[site.Room]{
		entity: "room",
		fields: []fieldSpec{
			{Name: "building_id", Kind: "select", Required: true, Choices: "buildings", HXGet: "/rooms/cascade-options", HXTarget: "cascades_to"},
			{Name: "grade", Kind: "select", Required: true, Choices: "grades"},
			{Name: "code", Kind: "text", Required: true, Max: 32},
			{Name: "name", Kind: "text", Required: true, Max: 120},
			{Name: "temp_min", Kind: "decimal", Required: true},
			{Name: "temp_max", Kind: "decimal", Required: true},
			{Name: "humidity_min", Kind: "decimal", Required: true},
			{Name: "humidity_max", Kind: "decimal", Required: true},
			{Name: "cascades_to", Kind: "select", Choices: "rooms"},
			{Name: "pressure_diff_pa", Kind: "decimal"},
		},
		get: s.Site.Room, create: s.Site.CreateRoom, update: s.Site.UpdateRoom,
		setID: func(r *site.Room, id string) { r.ID = id },
		values: func(r *site.Room) url.Values {
			return url.Values{"building_id": {r.BuildingID}, "grade": {string(r.Grade)}, "code": {r.Code}, "name": {r.Name},
				"temp_min": {fmtNum(r.TempMin)}, "temp_max": {fmtNum(r.TempMax)},
				"humidity_min": {fmtNum(r.HumidityMin)}, "humidity_max": {fmtNum(r.HumidityMax)},
				"cascades_to": {r.CascadesTo}, "pressure_diff_pa": {fmtNum(r.PressureDiffPa)}}
		},
		parse: parseRoom,
		choices: func(r *http.Request, vals url.Values) (map[string][]option, error) {
			lang := langOf(r)
			bs, err := s.Site.Buildings(r.Context())
			if err != nil {
				return nil, err
			}
			c := map[string][]option{
				"buildings": withNone(lang, "common.choose", buildingOptions(bs)),
				"grades":    withNone(lang, "common.choose", enumOptions(lang, "grade", site.Grades)),
			}
			c["rooms"], err = s.cascadeChoices(r, vals.Get("building_id"))
			return c, err
		},
		defaults: func(q url.Values) url.Values {
			return url.Values{"building_id": {q.Get("building_id")}, "pressure_diff_pa": {"0"}}
		},
		saved: func(r *site.Room) string { return "/site?saved=1#room-" + r.ID },
	}
}

func parseRoom(v url.Values) (*site.Room, error) {
	r := &site.Room{BuildingID: v.Get("building_id"), Grade: site.Grade(v.Get("grade")), Code: v.Get("code"), Name: v.Get("name"),
		CascadesTo: v.Get("cascades_to")}
	var err error
	for _, f := range []struct {
		name     string
		dst      *float64
		optional bool
	}{{"temp_min", &r.TempMin, false}, {"temp_max", &r.TempMax, false},
		{"humidity_min", &r.HumidityMin, false}, {"humidity_max", &r.HumidityMax, false},
		{"pressure_diff_pa", &r.PressureDiffPa, true}} {
		if *f.dst, err = decimal(v, f.name, f.optional); err != nil {
			return nil, err
		}
	}
	return r, nil
}

// cascadeChoices are the rooms of the building a room may cascade to.
func (s *Server) cascadeChoices(r *http.Request, buildingID string) ([]option, error) {
	lang := langOf(r)
	if buildingID == "" {
		return withNone(lang, "common.none", nil), nil
	}
	rooms, err := s.Site.Rooms(r.Context(), site.RoomFilter{BuildingID: buildingID})
	if err != nil {
		return nil, err
	}
	opts := make([]option, len(rooms))
	for i, rm := range rooms {
		opts[i] = option{Value: rm.ID, Label: rm.Code + " — " + rm.Name + " (" + tr(lang, "gradeshort."+string(rm.Grade)) + ")"}
	}
	return withNone(lang, "common.none", opts), nil
}

// optionsPage is a list of options, sent in place of a select box's own.
type optionsPage struct {
	Options  []option
	Selected string
}

// cascadeOptions answers the options of the "cascades to" select box for
// the building chosen in the room form.
func (s *Server) cascadeOptions(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	opts, err := s.cascadeChoices(r, q.Get("building_id"))
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	s.renderPart(w, r, "form", "options", optionsPage{Options: opts, Selected: q.Get("cascades_to")})
}

func lineEditor(s *Server) *editor[site.Line] {
	return &editor[site.Line]{
		entity: "line",
		fields: []fieldSpec{
			{Name: "code", Kind: "text", Required: true, Max: 32},
			{Name: "name", Kind: "text", Required: true, Max: 120},
			{Name: "room_id", Kind: "select", Required: true, Choices: "rooms", Wide: true},
			{Name: "sterile", Kind: "checkbox", Wide: true},
			{Name: "forms", Kind: "checks", Choices: "forms", Wide: true},
			{Name: "status", Kind: "select", Required: true, Choices: "statuses"},
			{Name: "capacity_per_hour", Kind: "integer"},
		},
		get: s.Site.Line, create: s.Site.CreateLine, update: s.Site.UpdateLine,
		setID: func(l *site.Line, id string) { l.ID = id },
		values: func(l *site.Line) url.Values {
			v := url.Values{"code": {l.Code}, "name": {l.Name}, "room_id": {l.RoomID}, "status": {string(l.Status)},
				"capacity_per_hour": {strconv.Itoa(l.CapacityPerHour)}}
			if l.Sterile {
				v.Set("sterile", "on")
			}
			for _, f := range l.Forms {
				v.Add("forms", string(f))
			}
			return v
		},
		parse: func(v url.Values) (*site.Line, error) {
			l := &site.Line{Code: v.Get("code"), Name: v.Get("name"), RoomID: v.Get("room_id"), Sterile: checked(v, "sterile"),
				Status: site.LineStatus(v.Get("status"))}
			for _, f := range v["forms"] {
				l.Forms = append(l.Forms, site.Form(f))
			}
			var err error
			l.CapacityPerHour, err = integer(v, "capacity_per_hour")
			return l, err
		},
		choices: func(r *http.Request, _ url.Values) (map[string][]option, error) {
			lang := langOf(r)
			rooms, err := s.roomChoices(r)
			return map[string][]option{
				"rooms":    withNone(lang, "common.choose", rooms),
				"forms":    enumOptions(lang, "form", site.Forms),
				"statuses": enumOptions(lang, "linestatus", site.LineServiceStatuses),
			}, err
		},
		defaults: func(q url.Values) url.Values {
			return url.Values{"room_id": {q.Get("room_id")}, "status": {string(site.LineAvailable)}}
		},
		cancel: func(_ url.Values, id string) string {
			if id != "" {
				return "/lines/" + url.PathEscape(id)
			}
			return "/site"
		},
		saved: func(l *site.Line) string { return "/lines/" + url.PathEscape(l.ID) + "?saved=1" },
	}
}

// roomChoices are every room of the site, under the name of its building.
func (s *Server) roomChoices(r *http.Request) ([]option, error) {
	lang := langOf(r)
	bs, err := s.Site.Buildings(r.Context())
	if err != nil {
		return nil, err
	}
	rooms, err := s.Site.Rooms(r.Context(), site.RoomFilter{})
	if err != nil {
		return nil, err
	}
	var out []option
	for _, b := range bs {
		for _, rm := range rooms {
			if rm.BuildingID == b.ID {
				out = append(out, option{Value: rm.ID, Group: b.Name,
					Label: rm.Code + " — " + rm.Name + " (" + tr(lang, "grade."+string(rm.Grade)) + ")"})
			}
		}
	}
	return out, nil
}

func buildingOptions(bs []site.Building) []option {
	out := make([]option, len(bs))
	for i, b := range bs {
		out[i] = option{Value: b.ID, Label: b.Name + " (" + b.Code + ")"}
	}
	return out
}

func equipmentEditor(s *Server) *editor[site.Equipment] {
	return &editor[site.Equipment]{
		entity: "equipment",
		fields: []fieldSpec{
			{Name: "line_id", Kind: "select", Required: true, Choices: "lines", Wide: true},
			{Name: "code", Kind: "text", Required: true, Max: 32},
			{Name: "name", Kind: "text", Required: true, Max: 120},
			{Name: "kind", Kind: "text", Required: true, Max: 120},
			{Name: "status", Kind: "select", Required: true, Choices: "statuses"},
			{Name: "qualification_due", Kind: "date", Required: true},
		},
		get: s.Site.EquipmentItem, create: s.Site.CreateEquipment, update: s.Site.UpdateEquipment,
		setID: func(e *site.Equipment, id string) { e.ID = id },
		values: func(e *site.Equipment) url.Values {
			return url.Values{"line_id": {e.LineID}, "code": {e.Code}, "name": {e.Name}, "kind": {e.Kind},
				"status": {string(e.Status)}, "qualification_due": {e.QualificationDue.UTC().Format(time.DateOnly)}}
		},
		parse: func(v url.Values) (*site.Equipment, error) {
			e := &site.Equipment{LineID: v.Get("line_id"), Code: v.Get("code"), Name: v.Get("name"), Kind: v.Get("kind"),
				Status: site.EquipmentStatus(v.Get("status"))}
			var err error
			e.QualificationDue, err = day(v, "qualification_due")
			return e, err
		},
		choices: func(r *http.Request, _ url.Values) (map[string][]option, error) {
			lang := langOf(r)
			lines, err := s.lineChoices(r)
			return map[string][]option{
				"lines":    withNone(lang, "common.choose", lines),
				"statuses": enumOptions(lang, "eqstatus", site.EquipmentStatuses),
			}, err
		},
		defaults: func(q url.Values) url.Values {
			return url.Values{"line_id": {q.Get("line_id")}, "status": {string(site.EquipmentClean)}}
		},
		cancel: func(v url.Values, _ string) string {
			if id := v.Get("line_id"); id != "" {
				return "/lines/" + url.PathEscape(id)
			}
			return "/site"
		},
		saved: func(e *site.Equipment) string { return "/lines/" + url.PathEscape(e.LineID) + "?saved=1" },
	}
}

// lineChoices are every production line, under the name of its building.
func (s *Server) lineChoices(r *http.Request) ([]option, error) {
	bs, err := s.Site.Buildings(r.Context())
	if err != nil {
		return nil, err
	}
	lines, err := s.Site.Lines(r.Context(), site.LineFilter{})
	if err != nil {
		return nil, err
	}
	var out []option
	for _, b := range bs {
		for _, l := range lines {
			if l.BuildingID == b.ID {
				out = append(out, option{Value: l.ID, Group: b.Name, Label: l.Code + " — " + l.Name})
			}
		}
	}
	return out, nil
}
