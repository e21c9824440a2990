package site

import (
	"errors"
	"strings"
	"testing"
	"time"

	"galenix/internal/errs"
	"galenix/internal/identity"
)

// wantField checks err is invalid input naming field, with a message for a
// person in both languages.
func wantField(t *testing.T, err error, field string) {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error, want invalid %s", field)
	}
	if got := errs.CodeOf(err); got != errs.Invalid {
		t.Errorf("code: got %s, want %s (%v)", got, errs.Invalid, err)
	}
	if got := errs.FieldOf(err); got != field {
		t.Errorf("field: got %q, want %q (%v)", got, field, err)
	}
	for _, lang := range []string{"en", "fr"} {
		if msg := errs.MessageOf(err, lang); msg == "" || !strings.HasSuffix(msg, ".") {
			t.Errorf("%s message %q: want a sentence", lang, msg)
		}
	}
	if errs.MessageOf(err, "fr") == errs.MessageOf(err, "en") {
		t.Errorf("the French message is the English one: %q", errs.MessageOf(err, "fr"))
	}
}

// check runs Validate-style cases: an empty field means the input is valid.
func check(t *testing.T, name, field string, err error) {
	t.Helper()
	t.Run(name, func(t *testing.T) {
		t.Helper()
		if field == "" {
			if err != nil {
				t.Fatalf("got %v, want no error", err)
			}
			return
		}
		wantField(t, err, field)
	})
}

func goodBuilding() Building {
	return Building{Code: "B1", Name: "Sterile production", Role: RoleSterileProduction}
}

func TestBuildingValidate(t *testing.T) {
	tests := []struct {
		name  string
		edit  func(b *Building)
		field string
	}{
		{"valid", func(b *Building) {}, ""},
		{"code trimmed", func(b *Building) { b.Code = "  B1 " }, ""},
		{"no code", func(b *Building) { b.Code = " " }, "code"},
		{"code with a space", func(b *Building) { b.Code = "B 1" }, "code"},
		{"code too long", func(b *Building) { b.Code = strings.Repeat("x", 33) }, "code"},
		{"no name", func(b *Building) { b.Name = "" }, "name"},
		{"name too long", func(b *Building) { b.Name = strings.Repeat("é", 121) }, "name"},
		{"unknown role", func(b *Building) { b.Role = "garage" }, "role"},
		{"no role", func(b *Building) { b.Role = "" }, "role"},
	}
	for _, tt := range tests {
		b := goodBuilding()
		tt.edit(&b)
		check(t, tt.name, tt.field, b.Validate())
	}
	b := Building{Code: " B1\t", Name: " Sterile ", Role: RoleProduction}
	if err := b.Validate(); err != nil {
		t.Fatal(err)
	}
	if b.Code != "B1" || b.Name != "Sterile" {
		t.Errorf("got code %q name %q, want them trimmed", b.Code, b.Name)
	}
}

func goodRoom() Room {
	return Room{BuildingID: "b", Code: "R1", Name: "Filling", Grade: GradeB,
		TempMin: 18, TempMax: 24, HumidityMin: 30, HumidityMax: 60}
}

func TestRoomValidate(t *testing.T) {
	tests := []struct {
		name  string
		edit  func(r *Room)
		field string
	}{
		{"valid", func(r *Room) {}, ""},
		{"valid with a cascade", func(r *Room) { r.CascadesTo = "x"; r.PressureDiffPa = 15 }, ""},
		{"no building", func(r *Room) { r.BuildingID = "" }, "building_id"},
		{"no code", func(r *Room) { r.Code = "" }, "code"},
		{"no name", func(r *Room) { r.Name = "" }, "name"},
		{"unknown grade", func(r *Room) { r.Grade = "E" }, "grade"},
		{"temp_min equals temp_max", func(r *Room) { r.TempMin, r.TempMax = 20, 20 }, "temp_min"},
		{"temp_min above temp_max", func(r *Room) { r.TempMin, r.TempMax = 25, 20 }, "temp_min"},
		{"temp_min too cold", func(r *Room) { r.TempMin = -81 }, "temp_min"},
		{"temp_max too hot", func(r *Room) { r.TempMax = 81 }, "temp_max"},
		{"humidity_min below 0", func(r *Room) { r.HumidityMin = -1 }, "humidity_min"},
		{"humidity_max above 100", func(r *Room) { r.HumidityMax = 120 }, "humidity_max"},
		{"humidity_min equals humidity_max", func(r *Room) { r.HumidityMin, r.HumidityMax = 50, 50 }, "humidity_min"},
		{"pressure without a cascade", func(r *Room) { r.PressureDiffPa = 10 }, "pressure_diff_pa"},
		{"negative pressure", func(r *Room) { r.CascadesTo = "x"; r.PressureDiffPa = -5 }, "pressure_diff_pa"},
		{"pressure too high", func(r *Room) { r.CascadesTo = "x"; r.PressureDiffPa = 101 }, "pressure_diff_pa"},
		{"cascades to itself", func(r *Room) { r.ID = "r"; r.CascadesTo = "r" }, "cascades_to"},
	}
	for _, tt := range tests {
		r := goodRoom()
		tt.edit(&r)
		check(t, tt.name, tt.field, r.Validate())
	}
}

func goodLine() Line {
	return Line{Code: "L1", Name: "Vial filling", RoomID: "r", Sterile: true, Forms: []Form{FormVial, FormAmpoule}}
}

func TestLineValidate(t *testing.T) {
	tests := []struct {
		name  string
		edit  func(l *Line)
		field string
	}{
		{"valid sterile", func(l *Line) {}, ""},
		{"valid non-sterile", func(l *Line) { l.Sterile = false; l.Forms = []Form{FormTablet, FormCapsule} }, ""},
		{"no code", func(l *Line) { l.Code = "" }, "code"},
		{"no name", func(l *Line) { l.Name = "" }, "name"},
		{"no room", func(l *Line) { l.RoomID = "" }, "room_id"},
		{"unknown status", func(l *Line) { l.Status = "flying" }, "status"},
		{"no forms", func(l *Line) { l.Forms = nil }, "forms"},
		{"unknown form", func(l *Line) { l.Forms = []Form{"gummy"} }, "forms"},
		{"form twice", func(l *Line) { l.Forms = []Form{FormVial, FormVial} }, "forms"},
		{"sterile line, non-sterile form", func(l *Line) { l.Forms = []Form{FormVial, FormTablet} }, "forms"},
		{"non-sterile line, sterile form", func(l *Line) { l.Sterile = false; l.Forms = []Form{FormSyringe} }, "forms"},
		{"negative capacity", func(l *Line) { l.CapacityPerHour = -1 }, "capacity_per_hour"},
		{"capacity too high", func(l *Line) { l.CapacityPerHour = 1_000_001 }, "capacity_per_hour"},
	}
	for _, tt := range tests {
		l := goodLine()
		tt.edit(&l)
		check(t, tt.name, tt.field, l.Validate())
	}
	l := goodLine()
	if err := l.Validate(); err != nil {
		t.Fatal(err)
	}
	if l.Status != LineAvailable {
		t.Errorf("default status: got %q, want %q", l.Status, LineAvailable)
	}
}

func goodEquipment() Equipment {
	return Equipment{Code: "E1", Name: "Filler", Kind: "filler", LineID: "l",
		QualificationDue: time.Date(2026, 9, 30, 15, 4, 5, 0, time.FixedZone("CEST", 2*3600))}
}

func TestEquipmentValidate(t *testing.T) {
	tests := []struct {
		name  string
		edit  func(e *Equipment)
		field string
	}{
		{"valid", func(e *Equipment) {}, ""},
		{"no code", func(e *Equipment) { e.Code = "" }, "code"},
		{"no name", func(e *Equipment) { e.Name = "" }, "name"},
		{"no kind", func(e *Equipment) { e.Kind = " " }, "kind"},
		{"no line", func(e *Equipment) { e.LineID = "" }, "line_id"},
		{"unknown status", func(e *Equipment) { e.Status = "broken" }, "status"},
		{"no qualification date", func(e *Equipment) { e.QualificationDue = time.Time{} }, "qualification_due"},
	}
	for _, tt := range tests {
		e := goodEquipment()
		tt.edit(&e)
		check(t, tt.name, tt.field, e.Validate())
	}
	e := goodEquipment()
	if err := e.Validate(); err != nil {
		t.Fatal(err)
	}
	if want := time.Date(2026, 9, 30, 0, 0, 0, 0, time.UTC); !e.QualificationDue.Equal(want) || e.QualificationDue.Location() != time.UTC {
		t.Errorf("qualification due: got %v, want %v (a UTC day)", e.QualificationDue, want)
	}
	if e.Status != EquipmentClean {
		t.Errorf("default status: got %q, want %q", e.Status, EquipmentClean)
	}
	day := e.QualificationDue
	for _, tt := range []struct {
		at   time.Time
		want bool
	}{
		{day.Add(-time.Hour), true},
		{day.Add(23*time.Hour + 59*time.Minute), true},
		{day.Add(24 * time.Hour), false},
	} {
		if got := e.QualifiedOn(tt.at); got != tt.want {
			t.Errorf("QualifiedOn(%v): got %v, want %v", tt.at, got, tt.want)
		}
	}
}

func TestShiftValidate(t *testing.T) {
	good := func() Shift { return Shift{Code: "N", Name: "Night", Kind: ShiftNight, Start: "21:00", End: "05:00"} }
	tests := []struct {
		name  string
		edit  func(s *Shift)
		field string
	}{
		{"valid past midnight", func(s *Shift) {}, ""},
		{"no code", func(s *Shift) { s.Code = "" }, "code"},
		{"no name", func(s *Shift) { s.Name = "" }, "name"},
		{"unknown kind", func(s *Shift) { s.Kind = "siesta" }, "kind"},
		{"start not a time", func(s *Shift) { s.Start = "9h" }, "start"},
		{"start hour 24", func(s *Shift) { s.Start = "24:00" }, "start"},
		{"end minute 60", func(s *Shift) { s.End = "05:60" }, "end"},
		{"start equals end", func(s *Shift) { s.End = s.Start }, "end"},
	}
	for _, tt := range tests {
		s := good()
		tt.edit(&s)
		check(t, tt.name, tt.field, s.Validate())
	}
}

func TestTeamValidate(t *testing.T) {
	good := func() Team { return Team{Code: "T1", Name: "Team one", ShiftID: "s"} }
	tests := []struct {
		name  string
		edit  func(t *Team)
		field string
	}{
		{"valid", func(t *Team) {}, ""},
		{"no code", func(t *Team) { t.Code = "" }, "code"},
		{"no name", func(t *Team) { t.Name = "" }, "name"},
		{"no shift", func(t *Team) { t.ShiftID = "" }, "shift_id"},
	}
	for _, tt := range tests {
		tm := good()
		tt.edit(&tm)
		check(t, tt.name, tt.field, tm.Validate())
	}
}

func TestPersonValidate(t *testing.T) {
	good := func() Person { return Person{Badge: "0042", Name: "Claire Dubois", Job: "Operator"} }
	tests := []struct {
		name  string
		edit  func(p *Person)
		field string
	}{
		{"valid", func(p *Person) {}, ""},
		{"no badge", func(p *Person) { p.Badge = "" }, "badge"},
		{"badge with a space", func(p *Person) { p.Badge = "00 42" }, "badge"},
		{"no name", func(p *Person) { p.Name = "" }, "name"},
		{"no job", func(p *Person) { p.Job = "" }, "job"},
	}
	for _, tt := range tests {
		p := good()
		tt.edit(&p)
		check(t, tt.name, tt.field, p.Validate())
	}
}

func TestGradeSterileCapable(t *testing.T) {
	want := map[Grade]bool{GradeA: true, GradeB: true, GradeC: true, GradeD: false, GradeCNC: false, GradeUnclassified: false, "": false, "Z": false}
	for g, w := range want {
		if got := g.SterileCapable(); got != w {
			t.Errorf("Grade(%q).SterileCapable(): got %v, want %v", g, got, w)
		}
	}
	for _, g := range Grades {
		if g.SterileCapable() && !g.Graded() {
			t.Errorf("grade %s is sterile-capable but not graded", g)
		}
	}
}

func TestLineCheckRoom(t *testing.T) {
	tests := []struct {
		sterile bool
		grade   Grade
		ok      bool
	}{
		{true, GradeA, true},
		{true, GradeB, true},
		{true, GradeC, true},
		{true, GradeD, false},
		{true, GradeCNC, false},
		{true, GradeUnclassified, false},
		{false, GradeD, true},
		{false, GradeUnclassified, true},
		{false, GradeA, true},
	}
	for _, tt := range tests {
		l := Line{Code: "L1", Sterile: tt.sterile, BuildingID: "stale"}
		r := &Room{ID: "r", BuildingID: "b2", Code: "R-" + string(tt.grade), Grade: tt.grade}
		err := l.CheckRoom(r)
		if tt.ok {
			if err != nil {
				t.Errorf("sterile=%v grade %s: got %v, want no error", tt.sterile, tt.grade, err)
			}
			if l.BuildingID != "b2" {
				t.Errorf("sterile=%v grade %s: building got %q, want the room's %q", tt.sterile, tt.grade, l.BuildingID, "b2")
			}
			continue
		}
		wantField(t, err, "room_id")
		if msg := errs.MessageOf(err, "en"); !strings.Contains(msg, r.Code) || !strings.Contains(msg, "grade "+string(tt.grade)) {
			t.Errorf("message %q should name the room %s and its grade %s", msg, r.Code, tt.grade)
		}
		if l.BuildingID != "stale" {
			t.Errorf("a refused room changed the line's building to %q", l.BuildingID)
		}
	}
}

func TestCheckCascade(t *testing.T) {
	rooms := map[string]*Room{
		"b1": {ID: "b1", BuildingID: "B", Grade: GradeB, CascadesTo: "c1"},
		"c1": {ID: "c1", BuildingID: "B", Grade: GradeC, CascadesTo: "d1"},
		"d1": {ID: "d1", BuildingID: "B", Grade: GradeD},
		"d2": {ID: "d2", BuildingID: "B", Grade: GradeD, CascadesTo: "d3"},
		"d3": {ID: "d3", BuildingID: "B", Grade: GradeD, CascadesTo: "d2"}, // an existing loop not through r
		"x1": {ID: "x1", BuildingID: "X", Grade: GradeD},
	}
	next := func(id string) (*Room, error) {
		if r, ok := rooms[id]; ok {
			return r, nil
		}
		return nil, errs.E(errs.NotFound, "store.no_such_room")
	}
	tests := []struct {
		name  string
		r     Room
		to    string
		field string
	}{
		{"down the cascade", Room{ID: "a", BuildingID: "B", Grade: GradeA}, "b1", ""},
		{"same grade", Room{ID: "a", BuildingID: "B", Grade: GradeD}, "d1", ""},
		{"to a cleaner room", Room{ID: "a", BuildingID: "B", Grade: GradeD}, "b1", "cascades_to"},
		{"unclassified to grade D", Room{ID: "a", BuildingID: "B", Grade: GradeUnclassified}, "d1", "cascades_to"},
		{"to another building", Room{ID: "a", BuildingID: "B", Grade: GradeA}, "x1", "cascades_to"},
		{"back to itself", Room{ID: "d1", BuildingID: "B", Grade: GradeD}, "d1", "cascades_to"},
		{"loop through the chain", Room{ID: "d1", BuildingID: "B", Grade: GradeB}, "b1", "cascades_to"},
		{"into a loop elsewhere", Room{ID: "a", BuildingID: "B", Grade: GradeD}, "d2", "cascades_to"},
	}
	for _, tt := range tests {
		check(t, tt.name, tt.field, CheckCascade(&tt.r, rooms[tt.to], next))
	}

	t.Run("broken chain", func(t *testing.T) {
		boom := errors.New("database gone")
		r := Room{ID: "a", BuildingID: "B", Grade: GradeA}
		err := CheckCascade(&r, rooms["b1"], func(string) (*Room, error) { return nil, boom })
		if !errors.Is(err, boom) {
			t.Fatalf("got %v, want the lookup's error", err)
		}
	})
}

func TestCanEdit(t *testing.T) {
	tests := []struct {
		name  string
		actor identity.Actor
		ok    bool
	}{
		{"system", identity.System, true},
		{"admin", identity.Actor{UserID: "u", Roles: []identity.Role{identity.RoleAdmin}}, true},
		{"supervisor", identity.Actor{UserID: "u", Roles: []identity.Role{identity.RoleOperator, identity.RoleSupervisor}}, true},
		{"operator", identity.Actor{UserID: "u", Roles: []identity.Role{identity.RoleOperator}}, false},
		{"qa", identity.Actor{UserID: "u", Roles: []identity.Role{identity.RoleQA}}, false},
		{"nobody", identity.Actor{}, false},
	}
	for _, tt := range tests {
		err := CanEdit(tt.actor)
		if tt.ok && err != nil {
			t.Errorf("%s: got %v, want allowed", tt.name, err)
		}
		if !tt.ok && errs.CodeOf(err) != errs.Forbidden {
			t.Errorf("%s: got %v, want %s", tt.name, err, errs.Forbidden)
		}
	}
}

func TestForms(t *testing.T) {
	forms := []Form{FormVial, FormAmpoule}
	if got, want := FormsText(forms), "vial,ampoule"; got != want {
		t.Errorf("FormsText: got %q, want %q", got, want)
	}
	got := ParseForms(" vial, ampoule ,,")
	if len(got) != 2 || got[0] != FormVial || got[1] != FormAmpoule {
		t.Errorf("ParseForms: got %v, want %v", got, forms)
	}
	if got := ParseForms(""); got != nil {
		t.Errorf("ParseForms(\"\"): got %v, want nil", got)
	}
}

func TestLoadZone(t *testing.T) {
	a, err := LoadZone("Europe/Paris")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := LoadZone("Europe/Paris")
	if a != b || a.String() != "Europe/Paris" {
		t.Errorf("a zone is resolved once: %p %p %s", a, b, a)
	}
	if DefaultLocation() != a {
		t.Errorf("the default location is not the zone resolved once")
	}
	if _, err := LoadZone("Europe/Atlantis"); err == nil {
		t.Errorf("an unknown zone resolved")
	}
	if (&Site{Timezone: "Europe/Atlantis"}).Location() != a {
		t.Errorf("a site of an unknown zone is not shown in the default zone")
	}
}
