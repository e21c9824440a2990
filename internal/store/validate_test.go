package store_test

import (
	"context"
	"testing"
	"time"

	"galenix/internal/errs"
	"galenix/internal/identity"
	"galenix/internal/site"
	"galenix/internal/store"
)

func TestRefusedWritesChangeNothing(t *testing.T) {
	t.Parallel()
	forEachDB(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		s := db.Site()
		ctx := as(alice)
		unknown := store.NewID()
		// room returns a valid room of the first building, changed by edit.
		room := func(edit func(r *site.Room)) *site.Room {
			r := &site.Room{BuildingID: f.building.ID, Code: "R-NEW", Name: "New room", Grade: site.GradeD,
				TempMin: 18, TempMax: 24, HumidityMin: 30, HumidityMax: 60}
			edit(r)
			return r
		}
		// line returns a valid non-sterile line in the grade D room, changed by edit.
		line := func(edit func(l *site.Line)) *site.Line {
			l := &site.Line{Code: "L-NEW", Name: "New line", RoomID: f.roomD.ID, Forms: []site.Form{site.FormTablet}}
			edit(l)
			return l
		}
		stored := func(get func() (*site.Room, error)) *site.Room {
			r, err := get()
			must(t, err)
			return r
		}
		var roomD2 site.Room // a second grade D room, cascading to the first
		tests := []struct {
			name  string
			setup func(t *testing.T)
			write func() error
			code  errs.Code
			field string
		}{
			{name: "site in an unknown time zone",
				write: func() error {
					return db.Write(ctx, "site.create", "", func(tx *store.Tx) error {
						return tx.CreateSite(&site.Site{Code: "MRS", Name: "Marseille", Timezone: "Europe/Marseille"})
					})
				},
				code: errs.Invalid, field: "timezone"},
			{name: "building of an unknown site",
				write: func() error {
					return s.CreateBuilding(ctx, &site.Building{SiteID: unknown, Code: "B9", Name: "Offices", Role: site.RoleOffices})
				},
				code: errs.Invalid, field: "site_id"},
			{name: "building of a malformed site id",
				write: func() error {
					return s.CreateBuilding(ctx, &site.Building{SiteID: "nope", Code: "B9", Name: "Offices", Role: site.RoleOffices})
				},
				code: errs.Invalid, field: "site_id"},
			{name: "account of a malformed client id",
				write: func() error {
					return db.Write(ctx, "account.create", "", func(tx *store.Tx) error {
						return tx.CreateAccount(&identity.Account{Username: "eve", Name: "Eve", Roles: []identity.Role{identity.RoleClientUser}, ClientID: "nope"}, "x")
					})
				},
				code: errs.Invalid},
			{name: "account of an unknown client",
				write: func() error {
					return db.Write(ctx, "account.create", "", func(tx *store.Tx) error {
						return tx.CreateAccount(&identity.Account{Username: "eve", Name: "Eve", Roles: []identity.Role{identity.RoleClientUser}, ClientID: unknown}, "x")
					})
				},
				code: errs.Invalid},
			{name: "sterile line in a grade D room",
				write: func() error {
					return s.CreateLine(ctx, line(func(l *site.Line) { l.Sterile, l.Forms = true, []site.Form{site.FormVial} }))
				},
				code: errs.Invalid, field: "room_id"},
			{name: "sterile line moved to a grade D room",
				write: func() error {
					l := f.line
					l.RoomID = f.roomD.ID
					return s.UpdateLine(ctx, &l, "Moved")
				},
				code: errs.Invalid, field: "room_id"},
			{name: "non-sterile line with a sterile form",
				write: func() error {
					return s.CreateLine(ctx, line(func(l *site.Line) { l.Forms = []site.Form{site.FormTablet, site.FormSyringe} }))
				},
				code: errs.Invalid, field: "forms"},
			{name: "duplicate line code",
				write: func() error { return s.CreateLine(ctx, line(func(l *site.Line) { l.Code = "L1" })) },
				code:  errs.Conflict, field: "code"},
			{name: "line renamed to a code in use",
				setup: func(t *testing.T) { must(t, s.CreateLine(ctx, line(func(l *site.Line) { l.Code = "L2" }))) },
				write: func() error {
					l := f.line
					l.Code = "L2"
					return s.UpdateLine(ctx, &l, "Renumbered")
				},
				code: errs.Conflict, field: "code"},
			{name: "duplicate building code",
				write: func() error {
					return s.CreateBuilding(ctx, &site.Building{Code: "B1", Name: "Again", Role: site.RoleOffices})
				},
				code: errs.Conflict, field: "code"},
			{name: "duplicate room code",
				write: func() error { return s.CreateRoom(ctx, room(func(r *site.Room) { r.Code = "R-B" })) },
				code:  errs.Conflict, field: "code"},
			{name: "duplicate badge",
				setup: func(t *testing.T) {
					must(t, s.CreatePerson(ctx, &site.Person{Badge: "0042", Name: "Claire Dubois", Job: "Operator"}))
				},
				write: func() error {
					return s.CreatePerson(ctx, &site.Person{Badge: "0042", Name: "Marc Leroy", Job: "Technician"})
				},
				code: errs.Conflict, field: "badge"},
			{name: "temp_min equal to temp_max",
				write: func() error { return s.CreateRoom(ctx, room(func(r *site.Room) { r.TempMin, r.TempMax = 22, 22 })) },
				code:  errs.Invalid, field: "temp_min"},
			{name: "temp_min above temp_max on update",
				write: func() error {
					r := stored(func() (*site.Room, error) { return s.Room(ctx, f.roomD.ID) })
					r.TempMin = 30
					return s.UpdateRoom(ctx, r, "Tighter limits")
				},
				code: errs.Invalid, field: "temp_min"},
			{name: "humidity above 100 %",
				write: func() error { return s.CreateRoom(ctx, room(func(r *site.Room) { r.HumidityMax = 120 })) },
				code:  errs.Invalid, field: "humidity_max"},
			{name: "humidity below 0 %",
				write: func() error { return s.CreateRoom(ctx, room(func(r *site.Room) { r.HumidityMin = -5 })) },
				code:  errs.Invalid, field: "humidity_min"},
			{name: "room cascading to a cleaner room",
				write: func() error { return s.CreateRoom(ctx, room(func(r *site.Room) { r.CascadesTo = f.roomB.ID })) },
				code:  errs.Invalid, field: "cascades_to"},
			{name: "room cascading to another building",
				write: func() error {
					return s.CreateRoom(ctx, room(func(r *site.Room) { r.CascadesTo = f.roomAnnex.ID }))
				},
				code: errs.Invalid, field: "cascades_to"},
			{name: "room cascading in a loop",
				setup: func(t *testing.T) {
					roomD2 = *room(func(r *site.Room) { r.Code, r.CascadesTo, r.PressureDiffPa = "R-D2", f.roomD.ID, 5 })
					must(t, s.CreateRoom(ctx, &roomD2))
				},
				write: func() error {
					r := stored(func() (*site.Room, error) { return s.Room(ctx, f.roomD.ID) })
					r.CascadesTo, r.PressureDiffPa = roomD2.ID, 5
					return s.UpdateRoom(ctx, r, "New airlock")
				},
				code: errs.Invalid, field: "cascades_to"},
			{name: "room cascading to itself",
				write: func() error {
					r := stored(func() (*site.Room, error) { return s.Room(ctx, f.roomD.ID) })
					r.CascadesTo = r.ID
					return s.UpdateRoom(ctx, r, "Loop")
				},
				code: errs.Invalid, field: "cascades_to"},
			{name: "room cascading to an unknown room",
				write: func() error { return s.CreateRoom(ctx, room(func(r *site.Room) { r.CascadesTo = unknown })) },
				code:  errs.Invalid, field: "cascades_to"},
			{name: "room in an unknown building",
				write: func() error { return s.CreateRoom(ctx, room(func(r *site.Room) { r.BuildingID = unknown })) },
				code:  errs.Invalid, field: "building_id"},
			{name: "room in a malformed building id",
				write: func() error { return s.CreateRoom(ctx, room(func(r *site.Room) { r.BuildingID = "nope" })) },
				code:  errs.Invalid, field: "building_id"},
			{name: "line in an unknown room",
				write: func() error { return s.CreateLine(ctx, line(func(l *site.Line) { l.RoomID = unknown })) },
				code:  errs.Invalid, field: "room_id"},
			{name: "line in a malformed room id",
				write: func() error { return s.CreateLine(ctx, line(func(l *site.Line) { l.RoomID = "nope" })) },
				code:  errs.Invalid, field: "room_id"},
			{name: "equipment on a malformed line id",
				write: func() error {
					return s.CreateEquipment(ctx, &site.Equipment{Code: "E9", Name: "Mixer", Kind: "mixer", LineID: "nope", QualificationDue: now})
				},
				code: errs.Invalid, field: "line_id"},
			{name: "equipment moved to an unknown line",
				write: func() error {
					e := f.equipment
					e.LineID = unknown
					return s.UpdateEquipment(ctx, &e, "Moved")
				},
				code: errs.Invalid, field: "line_id"},
			{name: "team on an unknown shift",
				write: func() error { return s.CreateTeam(ctx, &site.Team{Code: "T9", Name: "Team nine", ShiftID: unknown}) },
				code:  errs.Invalid, field: "shift_id"},
			{name: "team in a malformed building id",
				write: func() error {
					return s.CreateTeam(ctx, &site.Team{Code: "T9", Name: "Team nine", ShiftID: f.shift.ID, BuildingID: "nope"})
				},
				code: errs.Invalid, field: "building_id"},
			{name: "person in a malformed team id",
				write: func() error {
					return s.CreatePerson(ctx, &site.Person{Badge: "0099", Name: "Marc Leroy", Job: "Technician", TeamID: "nope"})
				},
				code: errs.Invalid, field: "team_id"},
			{name: "update of a record that does not exist",
				write: func() error {
					return s.UpdateBuilding(ctx, &site.Building{ID: unknown, Code: "B9", Name: "Ghost", Role: site.RoleOffices}, "Renamed")
				},
				code: errs.NotFound},
			{name: "update of a malformed id",
				write: func() error {
					return s.UpdateShift(ctx, &site.Shift{ID: "nope", Code: "X", Name: "X", Kind: site.ShiftDay, Start: "08:00", End: "16:00"}, "Why")
				},
				code: errs.NotFound},
			{name: "create without an actor",
				write: func() error {
					return s.CreateBuilding(context.Background(), &site.Building{Code: "B9", Name: "Nobody's", Role: site.RoleOffices})
				},
				code: errs.Forbidden},
			{name: "update without an actor",
				write: func() error {
					b := f.building
					b.Name = "Nobody's"
					return s.UpdateBuilding(context.Background(), &b, "No one")
				},
				code: errs.Forbidden},
			{name: "admin role without a user id",
				write: func() error {
					ctx := as(identity.Actor{Name: "Ghost", Roles: []identity.Role{identity.RoleAdmin}})
					return s.CreateBuilding(ctx, &site.Building{Code: "B9", Name: "Ghost's", Role: site.RoleOffices})
				},
				code: errs.Internal},
			{name: "raw write without an actor",
				write: func() error {
					return db.Write(context.Background(), "building.create", "", func(tx *store.Tx) error {
						return tx.CreateBuilding(&site.Building{Code: "B9", Name: "Nobody's", Role: site.RoleOffices})
					})
				},
				code: errs.Internal},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				if tt.setup != nil {
					tt.setup(t)
				}
				before := counts(t, db)
				wantErr(t, tt.write(), tt.code, tt.field)
				sameCounts(t, db, before)
			})
		}
	})
}

func TestOnlyEditorsChangeTheSite(t *testing.T) {
	t.Parallel()
	forEachDB(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		s := db.Site()
		due := time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)
		writes := []struct {
			name  string
			write func(ctx context.Context) error
		}{
			{"building.create", func(ctx context.Context) error {
				return s.CreateBuilding(ctx, &site.Building{Code: "B9", Name: "Offices", Role: site.RoleOffices})
			}},
			{"building.update", func(ctx context.Context) error {
				b := f.building
				b.Name = "Renamed"
				return s.UpdateBuilding(ctx, &b, "Renamed")
			}},
			{"room.create", func(ctx context.Context) error {
				return s.CreateRoom(ctx, &site.Room{BuildingID: f.building.ID, Code: "R9", Name: "Store", Grade: site.GradeD,
					TempMin: 15, TempMax: 25, HumidityMin: 20, HumidityMax: 70})
			}},
			{"room.update", func(ctx context.Context) error {
				r := f.roomD
				r.Name = "Renamed"
				return s.UpdateRoom(ctx, &r, "Renamed")
			}},
			{"line.create", func(ctx context.Context) error {
				return s.CreateLine(ctx, &site.Line{Code: "L9", Name: "Syrups", RoomID: f.roomD.ID, Forms: []site.Form{site.FormSyrup}})
			}},
			{"line.update", func(ctx context.Context) error {
				l := f.line
				l.Status = site.LineStopped
				return s.UpdateLine(ctx, &l, "Stopped")
			}},
			{"equipment.create", func(ctx context.Context) error {
				return s.CreateEquipment(ctx, &site.Equipment{Code: "E9", Name: "Washer", Kind: "washer", LineID: f.line.ID, QualificationDue: due})
			}},
			{"equipment.update", func(ctx context.Context) error {
				e := f.equipment
				e.Status = site.EquipmentMaintenance
				return s.UpdateEquipment(ctx, &e, "Broken")
			}},
			{"shift.create", func(ctx context.Context) error {
				return s.CreateShift(ctx, &site.Shift{Code: "W", Name: "Weekend", Kind: site.ShiftWeekend, Start: "06:00", End: "18:00"})
			}},
			{"shift.update", func(ctx context.Context) error {
				sh := f.shift
				sh.End = "14:00"
				return s.UpdateShift(ctx, &sh, "Longer")
			}},
			{"team.create", func(ctx context.Context) error {
				return s.CreateTeam(ctx, &site.Team{Code: "T9", Name: "Weekend team", ShiftID: f.shift.ID})
			}},
			{"team.update", func(ctx context.Context) error {
				tm := f.team
				tm.Name = "Renamed"
				return s.UpdateTeam(ctx, &tm, "Renamed")
			}},
			{"person.create", func(ctx context.Context) error {
				return s.CreatePerson(ctx, &site.Person{Badge: "0077", Name: "Marc Leroy", Job: "Technician"})
			}},
		}
		for _, w := range writes {
			t.Run(w.name, func(t *testing.T) {
				before := counts(t, db)
				wantErr(t, w.write(as(bruno)), errs.Forbidden, "")
				sameCounts(t, db, before)
			})
		}
	})
}

func TestGetUnknownIsNotFound(t *testing.T) {
	t.Parallel()
	forEachDB(t, func(t *testing.T, db *store.DB) {
		newFixture(t, db)
		s := db.Site()
		ctx := as(alice)
		gets := []struct {
			name string
			get  func(id string) error
		}{
			{"building", func(id string) error { _, err := s.Building(ctx, id); return err }},
			{"room", func(id string) error { _, err := s.Room(ctx, id); return err }},
			{"line", func(id string) error { _, err := s.Line(ctx, id); return err }},
			{"equipment", func(id string) error { _, err := s.EquipmentItem(ctx, id); return err }},
			{"shift", func(id string) error { _, err := s.Shift(ctx, id); return err }},
			{"team", func(id string) error { _, err := s.Team(ctx, id); return err }},
			{"person", func(id string) error { _, err := s.Person(ctx, id); return err }},
			{"client", func(id string) error { _, err := db.Clients().Client(ctx, id); return err }},
		}
		for _, g := range gets {
			for _, id := range []string{store.NewID(), "nope", "", "'; DROP TABLE audit_log; --"} {
				t.Run(g.name+"/"+id, func(t *testing.T) { wantErr(t, g.get(id), errs.NotFound, "") })
			}
		}
	})
}

func TestListFilters(t *testing.T) {
	t.Parallel()
	forEachDB(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		s := db.Site()
		ctx := as(alice)
		for i, badge := range []string{"0003", "0001", "0002"} {
			p := site.Person{Badge: badge, Name: "Person " + badge, Job: "Operator"}
			if i < 2 {
				p.TeamID = f.team.ID
			}
			must(t, s.CreatePerson(ctx, &p))
		}
		tests := []struct {
			name string
			list func() (int, error)
			want int
		}{
			{"buildings", func() (int, error) { return size(s.Buildings(ctx)) }, 2},
			{"rooms", func() (int, error) { return size(s.Rooms(ctx, site.RoomFilter{})) }, 4},
			{"rooms of the annex", func() (int, error) { return size(s.Rooms(ctx, site.RoomFilter{BuildingID: f.annex.ID})) }, 1},
			{"rooms of an unknown building", func() (int, error) { return size(s.Rooms(ctx, site.RoomFilter{BuildingID: store.NewID()})) }, 0},
			{"rooms of a malformed building id", func() (int, error) { return size(s.Rooms(ctx, site.RoomFilter{BuildingID: "nope"})) }, 0},
			{"lines of room B", func() (int, error) {
				return size(s.Lines(ctx, site.LineFilter{BuildingID: f.building.ID, RoomID: f.roomB.ID}))
			}, 1},
			{"lines of room D", func() (int, error) { return size(s.Lines(ctx, site.LineFilter{RoomID: f.roomD.ID})) }, 0},
			{"lines of a malformed room id", func() (int, error) {
				return size(s.Lines(ctx, site.LineFilter{BuildingID: f.building.ID, RoomID: "nope"}))
			}, 0},
			{"equipment of the line", func() (int, error) { return size(s.Equipment(ctx, site.EquipmentFilter{LineID: f.line.ID})) }, 1},
			{"equipment of a malformed line id", func() (int, error) { return size(s.Equipment(ctx, site.EquipmentFilter{LineID: "nope"})) }, 0},
			{"people", func() (int, error) { return size(s.People(ctx, site.PersonFilter{})) }, 3},
			{"people of the team", func() (int, error) { return size(s.People(ctx, site.PersonFilter{TeamID: f.team.ID})) }, 2},
			{"people of a malformed team id", func() (int, error) { return size(s.People(ctx, site.PersonFilter{TeamID: "nope"})) }, 0},
			{"people, second page", func() (int, error) { return size(s.People(ctx, site.PersonFilter{Limit: 2, Offset: 2})) }, 1},
			{"shifts", func() (int, error) { return size(s.Shifts(ctx)) }, 1},
			{"teams", func() (int, error) { return size(s.Teams(ctx)) }, 1},
		}
		for _, tt := range tests {
			got, err := tt.list()
			if err != nil {
				t.Errorf("%s: %v", tt.name, err)
				continue
			}
			if got != tt.want {
				t.Errorf("%s: got %d, want %d", tt.name, got, tt.want)
			}
		}
		page, err := s.People(ctx, site.PersonFilter{Limit: 2})
		must(t, err)
		if len(page) != 2 || page[0].Badge != "0001" || page[1].Badge != "0002" {
			t.Errorf("first page of people: got %+v, want badges 0001, 0002", page)
		}
	})
}

// size returns the length of a list and the error of its query.
func size[T any](list []T, err error) (int, error) { return len(list), err }
