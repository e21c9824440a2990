package store_test

import (
	"reflect"
	"testing"
	"time"

	"galenix/internal/audit"
	"galenix/internal/identity"
	"galenix/internal/site"
	"galenix/internal/store"
)

// sameRow fails the test unless the record read back equals the one written.
func sameRow[T any](t *testing.T, got *T, err error, want *T) {
	t.Helper()
	if err != nil {
		t.Fatalf("read back: %v", err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("read back:\n got %+v\nwant %+v", *got, *want)
	}
}

// fieldValue is one audited field and its value.
type fieldValue struct{ field, value string }

// wantEntries checks the audit entries of one command: one per field, in
// order, attributed to the actor, the command and the clock.
func wantEntries(t *testing.T, es []audit.Entry, actor identity.Actor, command, entity, id, reason string) {
	t.Helper()
	for _, e := range es {
		if e.Command != command || e.Entity != entity || e.EntityID != id || e.ActorID != actor.UserID ||
			e.ActorName != actor.Name || e.SessionID != actor.SessionID || e.Address != actor.Address || e.Reason != reason {
			t.Errorf("entry %d: got command %q entity %s/%s actor %q %q session %q address %q reason %q,"+
				" want %q %s/%s %q %q %q %q %q", e.Seq, e.Command, e.Entity, e.EntityID, e.ActorID, e.ActorName, e.SessionID, e.Address, e.Reason,
				command, entity, id, actor.UserID, actor.Name, actor.SessionID, actor.Address, reason)
		}
		if !e.At.Equal(now) || e.At.Location() != time.UTC {
			t.Errorf("entry %d: got time %v, want %v in UTC", e.Seq, e.At, now)
		}
	}
}

func TestCreateWritesRowAndAudit(t *testing.T) {
	t.Parallel()
	forEachDB(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		s := db.Site()
		ctx := as(alice)
		t.Run("site", func(t *testing.T) {
			es := entries(t, db, "site", f.site.ID, 0)
			var got []fieldValue
			for _, e := range es {
				got = append(got, fieldValue{e.Field, e.New})
			}
			want := []fieldValue{{"code", "LYO"}, {"name", "Lyon site"}, {"timezone", "Europe/Paris"}}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("audited fields:\n got %v\nwant %v", got, want)
			}
			wantEntries(t, es, alice, "site.create", "site", f.site.ID, "")
		})
		tests := []struct {
			entity string
			// create writes a record, checks it reads back the same and
			// returns its id and the fields the trail should hold.
			create func(t *testing.T) (string, []fieldValue)
		}{
			{"building", func(t *testing.T) (string, []fieldValue) {
				b := site.Building{Code: "B3", Name: "Warehouse", Role: site.RoleWarehouse}
				must(t, s.CreateBuilding(ctx, &b))
				if b.SiteID != f.site.ID {
					t.Errorf("site: got %q, want %q", b.SiteID, f.site.ID)
				}
				got, err := s.Building(ctx, b.ID)
				sameRow(t, got, err, &b)
				return b.ID, []fieldValue{{"code", "B3"}, {"name", "Warehouse"}, {"role", "warehouse"}}
			}},
			{"room", func(t *testing.T) (string, []fieldValue) {
				r := site.Room{BuildingID: f.building.ID, Code: "R-A", Name: "Grade A zone", Grade: site.GradeA,
					TempMin: 19.5, TempMax: 23, HumidityMin: 35, HumidityMax: 55, CascadesTo: f.roomB.ID, PressureDiffPa: 10}
				must(t, s.CreateRoom(ctx, &r))
				got, err := s.Room(ctx, r.ID)
				sameRow(t, got, err, &r)
				return r.ID, []fieldValue{{"building_id", f.building.ID}, {"code", "R-A"}, {"name", "Grade A zone"}, {"grade", "A"},
					{"temp_min", "19.5"}, {"temp_max", "23"}, {"humidity_min", "35"}, {"humidity_max", "55"},
					{"cascades_to", f.roomB.ID}, {"pressure_diff_pa", "10"}}
			}},
			{"line", func(t *testing.T) (string, []fieldValue) {
				l := site.Line{Code: "L2", Name: "Tablets", RoomID: f.roomD.ID, Forms: []site.Form{site.FormTablet, site.FormCapsule}}
				must(t, s.CreateLine(ctx, &l))
				if l.BuildingID != f.building.ID {
					t.Errorf("building: got %q, want the room's %q", l.BuildingID, f.building.ID)
				}
				got, err := s.Line(ctx, l.ID)
				sameRow(t, got, err, &l)
				return l.ID, []fieldValue{{"code", "L2"}, {"name", "Tablets"}, {"building_id", f.building.ID}, {"room_id", f.roomD.ID},
					{"sterile", "false"}, {"forms", "tablet,capsule"}, {"status", "available"}, {"capacity_per_hour", "0"}}
			}},
			{"equipment", func(t *testing.T) (string, []fieldValue) {
				paris := time.FixedZone("CET", 3600)
				e := site.Equipment{Code: "E2", Name: "Autoclave", Kind: "autoclave", LineID: f.line.ID,
					QualificationDue: time.Date(2027, 1, 15, 14, 0, 0, 0, paris)}
				must(t, s.CreateEquipment(ctx, &e))
				got, err := s.EquipmentItem(ctx, e.ID)
				sameRow(t, got, err, &e)
				return e.ID, []fieldValue{{"code", "E2"}, {"name", "Autoclave"}, {"kind", "autoclave"}, {"line_id", f.line.ID},
					{"status", "clean"}, {"qualification_due", "2027-01-15"}}
			}},
			{"shift", func(t *testing.T) (string, []fieldValue) {
				sh := site.Shift{Code: "N", Name: "Night", Kind: site.ShiftNight, Start: "21:00", End: "05:00"}
				must(t, s.CreateShift(ctx, &sh))
				got, err := s.Shift(ctx, sh.ID)
				sameRow(t, got, err, &sh)
				return sh.ID, []fieldValue{{"code", "N"}, {"name", "Night"}, {"kind", "night"}, {"start", "21:00"}, {"end", "05:00"}}
			}},
			{"team", func(t *testing.T) (string, []fieldValue) {
				tm := site.Team{Code: "T2", Name: "Night team", ShiftID: f.shift.ID}
				must(t, s.CreateTeam(ctx, &tm))
				got, err := s.Team(ctx, tm.ID)
				sameRow(t, got, err, &tm)
				return tm.ID, []fieldValue{{"code", "T2"}, {"name", "Night team"}, {"shift_id", f.shift.ID}}
			}},
			{"person", func(t *testing.T) (string, []fieldValue) {
				p := site.Person{Badge: "0042", Name: "Claire Dubois", Job: "Operator", TeamID: f.team.ID}
				must(t, s.CreatePerson(ctx, &p))
				got, err := s.Person(ctx, p.ID)
				sameRow(t, got, err, &p)
				return p.ID, []fieldValue{{"badge", "0042"}, {"name", "Claire Dubois"}, {"job", "Operator"}, {"team_id", f.team.ID}}
			}},
		}
		for _, tt := range tests {
			t.Run(tt.entity, func(t *testing.T) {
				id, want := tt.create(t)
				es := entries(t, db, tt.entity, id, 0)
				got := make([]fieldValue, len(es))
				for i, e := range es {
					got[i] = fieldValue{e.Field, e.New}
					if e.Old != "" {
						t.Errorf("entry %d of a creation has old value %q", e.Seq, e.Old)
					}
				}
				if !reflect.DeepEqual(got, want) {
					t.Errorf("audited fields:\n got %v\nwant %v", got, want)
				}
				wantEntries(t, es, alice, tt.entity+".create", tt.entity, id, "")
			})
		}
	})
}

func TestUpdateAuditsChangedFields(t *testing.T) {
	t.Parallel()
	forEachDB(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		s := db.Site()
		ctx := as(sofia) // a supervisor may change the site model
		person := site.Person{Badge: "0042", Name: "Claire Dubois", Job: "Operator"}
		must(t, s.CreatePerson(as(alice), &person))

		type change struct{ field, old, new string }
		tests := []struct {
			entity string
			id     string
			get    func(id string) (any, error)
			// update reads the record, changes it the same way every
			// time, and saves it with the reason.
			update func(id, reason string) error
			want   []change
		}{
			{"building", f.building.ID,
				func(id string) (any, error) { return s.Building(ctx, id) },
				func(id, reason string) error {
					b, err := s.Building(ctx, id)
					must(t, err)
					b.Name = "Sterile production unit"
					return s.UpdateBuilding(ctx, b, reason)
				},
				[]change{{"name", "Sterile production", "Sterile production unit"}}},
			{"room", f.roomC.ID,
				func(id string) (any, error) { return s.Room(ctx, id) },
				func(id, reason string) error {
					r, err := s.Room(ctx, id)
					must(t, err)
					r.TempMax, r.HumidityMin = 22.5, 35
					return s.UpdateRoom(ctx, r, reason)
				},
				[]change{{"temp_max", "24", "22.5"}, {"humidity_min", "30", "35"}}},
			{"line", f.line.ID,
				func(id string) (any, error) { return s.Line(ctx, id) },
				func(id, reason string) error {
					l, err := s.Line(ctx, id)
					must(t, err)
					l.Name, l.Forms, l.Status = "Vial and ampoule filling", []site.Form{site.FormVial, site.FormAmpoule}, site.LineRunning
					return s.UpdateLine(ctx, l, reason)
				},
				[]change{{"name", "Vial filling", "Vial and ampoule filling"}, {"forms", "vial", "vial,ampoule"}, {"status", "available", "running"}}},
			{"equipment", f.equipment.ID,
				func(id string) (any, error) { return s.EquipmentItem(ctx, id) },
				func(id, reason string) error {
					e, err := s.EquipmentItem(ctx, id)
					must(t, err)
					e.Status, e.QualificationDue = site.EquipmentDirty, time.Date(2027, 3, 31, 0, 0, 0, 0, time.UTC)
					return s.UpdateEquipment(ctx, e, reason)
				},
				[]change{{"status", "clean", "dirty"}, {"qualification_due", "2026-09-30", "2027-03-31"}}},
			{"shift", f.shift.ID,
				func(id string) (any, error) { return s.Shift(ctx, id) },
				func(id, reason string) error {
					sh, err := s.Shift(ctx, id)
					must(t, err)
					sh.End = "13:30"
					return s.UpdateShift(ctx, sh, reason)
				},
				[]change{{"end", "13:00", "13:30"}}},
			{"team", f.team.ID,
				func(id string) (any, error) { return s.Team(ctx, id) },
				func(id, reason string) error {
					tm, err := s.Team(ctx, id)
					must(t, err)
					tm.BuildingID = ""
					return s.UpdateTeam(ctx, tm, reason)
				},
				[]change{{"building_id", f.building.ID, ""}}},
			{"person", person.ID,
				func(id string) (any, error) { return s.Person(ctx, id) },
				func(id, reason string) error {
					p, err := s.Person(ctx, id)
					must(t, err)
					p.Job, p.TeamID = "Team leader", f.team.ID
					return s.UpdatePerson(ctx, p, reason)
				},
				[]change{{"job", "Operator", "Team leader"}, {"team_id", "", f.team.ID}}},
		}
		for _, tt := range tests {
			t.Run(tt.entity, func(t *testing.T) {
				before, err := tt.get(tt.id)
				must(t, err)
				audited := len(entries(t, db, tt.entity, tt.id, 0))
				rows := counts(t, db)

				for _, reason := range []string{"", " \t "} {
					err := tt.update(tt.id, reason)
					wantErr(t, err, "invalid", "reason")
					after, err := tt.get(tt.id)
					must(t, err)
					if !reflect.DeepEqual(after, before) {
						t.Errorf("reason %q: a refused update changed the record:\n got %+v\nwant %+v", reason, after, before)
					}
					if n := len(entries(t, db, tt.entity, tt.id, 0)); n != audited {
						t.Errorf("reason %q: a refused update wrote %d audit entries", reason, n-audited)
					}
					sameCounts(t, db, rows)
				}

				seq := lastSeq(t, db)
				must(t, tt.update(tt.id, "  Wrong value at creation "))
				es := entries(t, db, tt.entity, tt.id, seq)
				got := make([]change, len(es))
				for i, e := range es {
					got[i] = change{e.Field, e.Old, e.New}
				}
				if !reflect.DeepEqual(got, tt.want) {
					t.Errorf("audited changes:\n got %v\nwant %v", got, tt.want)
				}
				wantEntries(t, es, sofia, tt.entity+".update", tt.entity, tt.id, "Wrong value at creation")

				// The row now holds the new values: the same change again
				// changes nothing, and writes nothing, with or without a reason.
				seq = lastSeq(t, db)
				rows = counts(t, db)
				for _, reason := range []string{"Again", ""} {
					if err := tt.update(tt.id, reason); err != nil {
						t.Errorf("update that changes nothing, reason %q: %v", reason, err)
					}
				}
				if es := entries(t, db, "", "", seq); len(es) != 0 {
					t.Errorf("an update that changes nothing wrote %d audit entries: %+v", len(es), es)
				}
				sameCounts(t, db, rows)
			})
		}
	})
}
