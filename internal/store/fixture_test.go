package store_test

import (
	"testing"
	"time"

	"galenix/internal/site"
	"galenix/internal/store"
)

// fixture is a small site, written by the system actor: two buildings,
// rooms of grade B, C and D in the first cascading B → C → D, a room in the
// second, a sterile line with a piece of equipment, a shift and a team.
type fixture struct {
	site                site.Site
	building, annex     site.Building
	roomB, roomC, roomD site.Room
	roomAnnex           site.Room
	line                site.Line
	equipment           site.Equipment
	shift               site.Shift
	team                site.Team
}

func newFixture(t *testing.T, db *store.DB) *fixture {
	t.Helper()
	ctx := as(alice)
	f := &fixture{site: site.Site{Code: "LYO", Name: "Lyon site", Timezone: "Europe/Paris"}}
	must(t, db.Write(ctx, "site.create", "", func(tx *store.Tx) error { return tx.CreateSite(&f.site) }))
	s := db.Site()
	f.building = site.Building{Code: "B1", Name: "Sterile production", Role: site.RoleSterileProduction}
	must(t, s.CreateBuilding(ctx, &f.building))
	f.annex = site.Building{Code: "B2", Name: "Annex", Role: site.RoleProduction}
	must(t, s.CreateBuilding(ctx, &f.annex))
	room := func(r *site.Room, b *site.Building, code string, g site.Grade, to *site.Room) {
		t.Helper()
		*r = site.Room{BuildingID: b.ID, Code: code, Name: "Room " + code, Grade: g, TempMin: 18, TempMax: 24, HumidityMin: 30, HumidityMax: 60}
		if to != nil {
			r.CascadesTo, r.PressureDiffPa = to.ID, 15
		}
		must(t, s.CreateRoom(ctx, r))
	}
	room(&f.roomD, &f.building, "R-D", site.GradeD, nil)
	room(&f.roomC, &f.building, "R-C", site.GradeC, &f.roomD)
	room(&f.roomB, &f.building, "R-B", site.GradeB, &f.roomC)
	room(&f.roomAnnex, &f.annex, "A-D", site.GradeD, nil)
	f.line = site.Line{Code: "L1", Name: "Vial filling", RoomID: f.roomB.ID, Sterile: true, Forms: []site.Form{site.FormVial}, CapacityPerHour: 6000}
	must(t, s.CreateLine(ctx, &f.line))
	f.equipment = site.Equipment{Code: "E1", Name: "Filler", Kind: "filler", LineID: f.line.ID, QualificationDue: time.Date(2026, 9, 30, 0, 0, 0, 0, time.UTC)}
	must(t, s.CreateEquipment(ctx, &f.equipment))
	f.shift = site.Shift{Code: "M", Name: "Morning", Kind: site.ShiftDay, Start: "05:00", End: "13:00"}
	must(t, s.CreateShift(ctx, &f.shift))
	f.team = site.Team{Code: "T1", Name: "Team one", BuildingID: f.building.ID, ShiftID: f.shift.ID}
	must(t, s.CreateTeam(ctx, &f.team))
	return f
}
