package demo

import (
	"context"
	"fmt"
	"testing"
	"time"

	"galenix/internal/client"
	"galenix/internal/identity"
	"galenix/internal/site"
	"galenix/internal/store"
)

// siteData is everything the demo loads, as the services list it.
type siteData struct {
	buildings []site.Building
	rooms     []site.Room
	lines     []site.Line
	equipment []site.Equipment
	shifts    []site.Shift
	teams     []site.Team
	people    []site.Person
	clients   []client.Client
	accounts  []identity.Account
}

// read lists everything the demo loads.
func read(t *testing.T, db *store.DB) siteData {
	t.Helper()
	ctx := identity.WithActor(context.Background(), identity.System)
	s := db.Site()
	var d siteData
	var err error
	check := func(what string) {
		if err != nil {
			t.Fatalf("listing %s: %v", what, err)
		}
	}
	d.buildings, err = s.Buildings(ctx)
	check("buildings")
	d.rooms, err = s.Rooms(ctx, site.RoomFilter{})
	check("rooms")
	d.lines, err = s.Lines(ctx, site.LineFilter{})
	check("lines")
	d.equipment, err = s.Equipment(ctx, site.EquipmentFilter{})
	check("equipment")
	d.shifts, err = s.Shifts(ctx)
	check("shifts")
	d.teams, err = s.Teams(ctx)
	check("teams")
	d.people, err = s.People(ctx, site.PersonFilter{})
	check("people")
	d.clients, err = db.Clients().Clients(ctx)
	check("clients")
	d.accounts, err = db.Identity().Accounts(ctx)
	check("accounts")
	return d
}

// snapshot lists every record the demo loads, one line each, in the
// services' order, with references written as the codes of the records they
// name: two loads must give the same lines, whatever the ids.
func snapshot(t *testing.T, db *store.DB) []string {
	t.Helper()
	d := read(t, db)
	code := map[string]string{}
	for _, b := range d.buildings {
		code[b.ID] = b.Code
	}
	for _, r := range d.rooms {
		code[r.ID] = r.Code
	}
	for _, l := range d.lines {
		code[l.ID] = l.Code
	}
	for _, s := range d.shifts {
		code[s.ID] = s.Code
	}
	for _, tm := range d.teams {
		code[tm.ID] = tm.Code
	}
	for _, c := range d.clients {
		code[c.ID] = c.Code
	}
	var out []string
	add := func(format string, args ...any) { out = append(out, fmt.Sprintf(format, args...)) }
	for _, b := range d.buildings {
		add("building %s|%s|%s", b.Code, b.Name, b.Role)
	}
	for _, r := range d.rooms {
		add("room %s|%s|%s|%s|%g|%g|%g|%g|%s|%g", r.Code, r.Name, code[r.BuildingID], r.Grade,
			r.TempMin, r.TempMax, r.HumidityMin, r.HumidityMax, code[r.CascadesTo], r.PressureDiffPa)
	}
	for _, l := range d.lines {
		add("line %s|%s|%s|%s|%v|%s|%s|%d", l.Code, l.Name, code[l.BuildingID], code[l.RoomID], l.Sterile,
			site.FormsText(l.Forms), l.Status, l.CapacityPerHour)
	}
	for _, e := range d.equipment {
		add("equipment %s|%s|%s|%s|%s|%s", e.Code, e.Name, e.Kind, code[e.LineID], e.Status, e.QualificationDue.Format(time.DateOnly))
	}
	for _, s := range d.shifts {
		add("shift %s|%s|%s|%s|%s", s.Code, s.Name, s.Kind, s.Start, s.End)
	}
	for _, tm := range d.teams {
		add("team %s|%s|%s|%s", tm.Code, tm.Name, code[tm.BuildingID], code[tm.ShiftID])
	}
	for _, p := range d.people {
		add("person %s|%s|%s|%s", p.Badge, p.Name, p.Job, code[p.TeamID])
	}
	for _, c := range d.clients {
		add("client %s|%s", c.Code, c.Name)
	}
	for _, a := range d.accounts {
		add("account %s|%s|%v|%s|%v", a.Username, a.Name, a.Roles, code[a.ClientID], a.Active)
	}
	return out
}
