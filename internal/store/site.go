package store

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"galenix/internal/audit"
	"galenix/internal/errs"
	"galenix/internal/esign"
	"galenix/internal/production"
	"galenix/internal/site"
)

// SiteStore implements site.Service.
type SiteStore struct{ db *DB }

// Site returns the site service of the database.
func (db *DB) Site() *SiteStore { return &SiteStore{db: db} }

var _ site.Service = (*SiteStore)(nil)

var (
	buildingTable  = table{"buildings", "building", []string{"site_id", "code", "name", "role"}}
	roomTable      = table{"rooms", "room", []string{"building_id", "code", "name", "grade", "temp_min", "temp_max", "humidity_min", "humidity_max", "cascades_to", "pressure_diff_pa"}}
	lineTable      = table{"lines", "line", []string{"code", "name", "building_id", "room_id", "sterile", "forms", "status", "capacity_per_hour"}}
	equipmentTable = table{"equipment", "equipment", []string{"code", "name", "kind", "line_id", "status", "qualification_due", "qualification_report"}}
)

// Site returns the site; there is one per database.
func (s *SiteStore) Site(ctx context.Context) (*site.Site, error) {
	var st site.Site
	err := s.db.Read(ctx, func(tx *Tx) error {
		return tx.queryRow(`SELECT id, code, name, timezone, address FROM sites ORDER BY code LIMIT 1`).Scan(&st.ID, &st.Code, &st.Name, &st.Timezone, &st.Address)
	})
	return &st, notFound(err, "overview.nosite")
}

// siteZone is the site's time zone, from its settings; the default zone
// (site.DefaultTimezone) before the site is set up.
func (tx *Tx) siteZone() *time.Location {
	var st site.Site
	if err := tx.queryRow(`SELECT timezone FROM sites ORDER BY code LIMIT 1`).Scan(&st.Timezone); err != nil {
		return site.DefaultLocation()
	}
	return st.Location()
}

var siteTable = table{"sites", "site", []string{"code", "name", "timezone", "address"}}

// CreateSite records the site, the root of the model ("site.create"): once
// per database, by galenix itself.
func (s *SiteStore) CreateSite(ctx context.Context, st *site.Site) error {
	if err := site.MayCreateSite(actorOf(ctx)); err != nil {
		return err
	}
	return s.db.Write(ctx, "site.create", "", func(tx *Tx) error { return tx.createSite(st) })
}

// createSite records the site, the root of the model; there is one per
// database.
func (tx *Tx) createSite(st *site.Site) error {
	if err := st.Validate(); err != nil {
		return err
	}
	if has, err := tx.hasSite(); err != nil {
		return err
	} else if has {
		return errs.E(errs.Conflict, "store.site_already_set_up")
	}
	st.ID = NewID()
	return create(tx, siteTable, st.ID, st, row{"code": st.Code, "name": st.Name, "timezone": st.Timezone, "address": st.Address})
}

// --- buildings

const buildingCols = `id, site_id, code, name, role, version`

func scanBuilding(sc scanner, b *site.Building) error {
	return sc.Scan(&b.ID, &b.SiteID, &b.Code, &b.Name, &b.Role, &b.Version)
}

// Buildings lists the buildings by code.
func (s *SiteStore) Buildings(ctx context.Context) ([]site.Building, error) {
	return list(ctx, s.db, `SELECT `+buildingCols+` FROM buildings ORDER BY code`, nil, scanBuilding)
}

// Building returns one building.
func (s *SiteStore) Building(ctx context.Context, id string) (*site.Building, error) {
	var b site.Building
	err := s.db.Read(ctx, func(tx *Tx) error { return tx.building(id, &b) })
	return &b, err
}

func (tx *Tx) building(id string, b *site.Building) error {
	return tx.byID(`SELECT `+buildingCols+` FROM buildings WHERE id = ?`, id, func(sc scanner) error { return scanBuilding(sc, b) }, "store.no_such_building")
}

// CreateBuilding records a new building of the site.
func (s *SiteStore) CreateBuilding(ctx context.Context, b *site.Building) error {
	if err := checkEdit(ctx); err != nil {
		return err
	}
	return s.db.Write(ctx, "building.create", "", func(tx *Tx) error { return tx.createBuilding(b) })
}

// createBuilding records a building in this transaction.
func (tx *Tx) createBuilding(b *site.Building) error {
	if err := b.Validate(); err != nil {
		return err
	}
	// There is one site per database: the building belongs to it.
	var siteID string
	if err := tx.queryRow(`SELECT id FROM sites ORDER BY code LIMIT 1`).Scan(&siteID); err != nil {
		return notFound(err, "store.set_up_site_before")
	}
	if b.SiteID != "" && b.SiteID != siteID {
		return errs.Field("site_id", "store.not_site_id_leave")
	}
	b.SiteID = siteID
	b.ID = NewID()
	return create(tx, buildingTable, b.ID, b, buildingRow(b))
}

// UpdateBuilding changes a building.
func (s *SiteStore) UpdateBuilding(ctx context.Context, b *site.Building, reason string) error {
	if err := checkEdit(ctx); err != nil {
		return err
	}
	return s.db.Write(ctx, "building.update", reason, func(tx *Tx) error {
		if err := b.Validate(); err != nil {
			return err
		}
		var old site.Building
		if err := tx.building(b.ID, &old); err != nil {
			return err
		}
		b.SiteID = old.SiteID
		return update(tx, buildingTable, b.ID, &old, b, buildingRow(b))
	})
}

// --- rooms

const roomCols = `id, building_id, code, name, grade, temp_min, temp_max, humidity_min, humidity_max, COALESCE(CAST(cascades_to AS TEXT), ''), pressure_diff_pa, version`

func scanRoom(sc scanner, r *site.Room) error {
	return sc.Scan(&r.ID, &r.BuildingID, &r.Code, &r.Name, &r.Grade, &r.TempMin, &r.TempMax,
		&r.HumidityMin, &r.HumidityMax, &r.CascadesTo, &r.PressureDiffPa, &r.Version)
}

// Rooms lists rooms by code.
func (s *SiteStore) Rooms(ctx context.Context, f site.RoomFilter) ([]site.Room, error) {
	q, args := where(`SELECT `+roomCols+` FROM rooms`, "building_id", f.BuildingID)
	return list(ctx, s.db, q+` ORDER BY code`, args, scanRoom)
}

// Room returns one room.
func (s *SiteStore) Room(ctx context.Context, id string) (*site.Room, error) {
	var r site.Room
	err := s.db.Read(ctx, func(tx *Tx) error { return tx.room(id, &r) })
	return &r, err
}

func (tx *Tx) room(id string, r *site.Room) error {
	return tx.byID(`SELECT `+roomCols+` FROM rooms WHERE id = ?`, id, func(sc scanner) error { return scanRoom(sc, r) }, "store.no_such_room")
}

// CreateRoom records a new room.
func (s *SiteStore) CreateRoom(ctx context.Context, r *site.Room) error {
	if err := checkEdit(ctx); err != nil {
		return err
	}
	return s.db.Write(ctx, "room.create", "", func(tx *Tx) error { return tx.createRoom(r) })
}

// createRoom records a room in this transaction.
func (tx *Tx) createRoom(r *site.Room) error {
	if err := r.Validate(); err != nil {
		return err
	}
	r.ID = NewID()
	if err := tx.checkRoom(r); err != nil {
		return err
	}
	return create(tx, roomTable, r.ID, r, roomRow(r))
}

// UpdateRoom changes a room.
func (s *SiteStore) UpdateRoom(ctx context.Context, r *site.Room, reason string) error {
	if err := checkEdit(ctx); err != nil {
		return err
	}
	return s.db.Write(ctx, "room.update", reason, func(tx *Tx) error {
		if err := r.Validate(); err != nil {
			return err
		}
		var old site.Room
		if err := tx.room(r.ID, &old); err != nil {
			return err
		}
		if err := tx.checkRoom(r); err != nil {
			return err
		}
		return update(tx, roomTable, r.ID, &old, r, roomRow(r))
	})
}

func roomRow(r *site.Room) row {
	return row{"building_id": r.BuildingID, "code": r.Code, "name": r.Name, "grade": r.Grade, "temp_min": r.TempMin, "temp_max": r.TempMax,
		"humidity_min": r.HumidityMin, "humidity_max": r.HumidityMax, "cascades_to": nullable(r.CascadesTo), "pressure_diff_pa": r.PressureDiffPa}
}

func buildingRow(b *site.Building) row {
	return row{"site_id": b.SiteID, "code": b.Code, "name": b.Name, "role": b.Role}
}

// checkRoom checks the room's building exists and its place in the cascade.
func (tx *Tx) checkRoom(r *site.Room) error {
	var b site.Building
	if err := tx.building(r.BuildingID, &b); err != nil {
		return asField(err, "building_id")
	}
	if r.CascadesTo == "" {
		return nil
	}
	var to site.Room
	if err := tx.room(r.CascadesTo, &to); err != nil {
		return asField(err, "cascades_to")
	}
	return site.CheckCascade(r, &to, func(id string) (*site.Room, error) {
		var n site.Room
		return &n, tx.room(id, &n)
	})
}

// --- lines

const lineCols = `id, code, name, building_id, room_id, sterile, forms, status, capacity_per_hour, version`

func scanLine(sc scanner, l *site.Line) error {
	var forms string
	err := sc.Scan(&l.ID, &l.Code, &l.Name, &l.BuildingID, &l.RoomID, &l.Sterile, &forms, &l.Status, &l.CapacityPerHour, &l.Version)
	l.Forms = site.ParseForms(forms)
	return err
}

// Lines lists production lines by code, each with its state.
func (s *SiteStore) Lines(ctx context.Context, f site.LineFilter) ([]site.Line, error) {
	q, args := where(`SELECT `+lineCols+` FROM lines`, "building_id", f.BuildingID, "room_id", f.RoomID)
	var out []site.Line
	err := s.db.Read(ctx, func(tx *Tx) error {
		var err error
		if out, err = collect(tx, q+` ORDER BY code`, args, scanLine); err != nil {
			return err
		}
		return tx.withLineStates(out)
	})
	return out, err
}

// Line returns one production line with its state.
func (s *SiteStore) Line(ctx context.Context, id string) (*site.Line, error) {
	var l site.Line
	err := s.db.Read(ctx, func(tx *Tx) error {
		if err := tx.line(id, &l); err != nil {
			return err
		}
		return tx.withLineStates([]site.Line{l}, &l)
	})
	return &l, err
}

// withLineStates derives the state of lines (site.LineStateOf) from their
// equipment and the batches in progress, read in the same transaction:
// two queries however many lines. The batches are read whatever their
// client: that a line is in production is the site's to know, not the
// batch. into, when given, receives the states in place of lines (one
// each).
func (tx *Tx) withLineStates(lines []site.Line, into ...*site.Line) error {
	if len(lines) == 0 {
		return nil
	}
	var ids []any
	marks := make([]string, len(lines))
	for i := range lines {
		ids = append(ids, lines[i].ID)
		marks[i] = "?"
	}
	in := `(` + strings.Join(marks, ", ") + `)`
	var busy map[string]bool
	err := tx.unscoped(func() (err error) {
		busy, err = idSet(tx, `SELECT DISTINCT line_id FROM batches WHERE state = ? AND line_id IN `+in,
			append([]any{string(production.BatchInProgress)}, ids...)...)
		return err
	})
	if err != nil {
		return err
	}
	eq, err := collect(tx, `SELECT `+equipmentCols+` FROM equipment WHERE line_id IN `+in, ids, scanEquipment)
	if err != nil {
		return err
	}
	of := map[string][]site.Equipment{}
	for _, e := range eq {
		of[e.LineID] = append(of[e.LineID], e)
	}
	for i := range lines {
		l := &lines[i]
		if i < len(into) {
			l = into[i]
		}
		l.State = site.LineStateOf(l, of[l.ID], busy[l.ID], tx.now)
	}
	return nil
}

func (tx *Tx) line(id string, l *site.Line) error {
	return tx.byID(`SELECT `+lineCols+` FROM lines WHERE id = ?`, id, func(sc scanner) error { return scanLine(sc, l) }, "store.no_such_production_line")
}

// CreateLine records a new production line.
func (s *SiteStore) CreateLine(ctx context.Context, l *site.Line) error {
	if err := checkEdit(ctx); err != nil {
		return err
	}
	return s.db.Write(ctx, "line.create", "", func(tx *Tx) error {
		if err := tx.createLine(l); err != nil {
			return err
		}
		return tx.withLineStates([]site.Line{*l}, l)
	})
}

// createLine records a production line in this transaction.
func (tx *Tx) createLine(l *site.Line) error {
	if err := l.Validate(); err != nil {
		return err
	}
	if err := tx.checkLine(l); err != nil {
		return err
	}
	l.ID = NewID()
	return create(tx, lineTable, l.ID, l, lineRow(l))
}

// UpdateLine changes a production line.
func (s *SiteStore) UpdateLine(ctx context.Context, l *site.Line, reason string) error {
	if err := checkEdit(ctx); err != nil {
		return err
	}
	return s.db.Write(ctx, "line.update", reason, func(tx *Tx) error {
		if err := l.Validate(); err != nil {
			return err
		}
		var old site.Line
		if err := tx.line(l.ID, &old); err != nil {
			return err
		}
		if err := tx.checkLine(l); err != nil {
			return err
		}
		if err := update(tx, lineTable, l.ID, &old, l, lineRow(l)); err != nil {
			return err
		}
		return tx.withLineStates([]site.Line{*l}, l)
	})
}

func lineRow(l *site.Line) row {
	return row{"code": l.Code, "name": l.Name, "building_id": l.BuildingID, "room_id": l.RoomID, "sterile": l.Sterile,
		"forms": site.FormsText(l.Forms), "status": l.Status, "capacity_per_hour": l.CapacityPerHour}
}

func equipmentRow(e *site.Equipment) row {
	return row{"code": e.Code, "name": e.Name, "kind": e.Kind, "line_id": e.LineID, "status": e.Status, "qualification_due": e.QualificationDue,
		"qualification_report": e.QualificationReport}
}

func (tx *Tx) checkLine(l *site.Line) error {
	var r site.Room
	if err := tx.room(l.RoomID, &r); err != nil {
		return asField(err, "room_id")
	}
	return l.CheckRoom(&r)
}

// --- equipment

const equipmentCols = `id, code, name, kind, line_id, status, qualification_due, version, qualification_report`

func scanEquipment(sc scanner, e *site.Equipment) error {
	err := sc.Scan(&e.ID, &e.Code, &e.Name, &e.Kind, &e.LineID, &e.Status, &e.QualificationDue, &e.Version, &e.QualificationReport)
	e.QualificationDue = e.QualificationDue.UTC()
	return err
}

// Equipment lists equipment by code.
func (s *SiteStore) Equipment(ctx context.Context, f site.EquipmentFilter) ([]site.Equipment, error) {
	q, args := where(`SELECT `+equipmentCols+` FROM equipment`, "line_id", f.LineID)
	return list(ctx, s.db, q+` ORDER BY code`, args, scanEquipment)
}

// EquipmentItem returns one piece of equipment.
func (s *SiteStore) EquipmentItem(ctx context.Context, id string) (*site.Equipment, error) {
	var e site.Equipment
	err := s.db.Read(ctx, func(tx *Tx) error { return tx.equipment(id, &e) })
	return &e, err
}

func (tx *Tx) equipment(id string, e *site.Equipment) error {
	return tx.byID(`SELECT `+equipmentCols+` FROM equipment WHERE id = ?`, id, func(sc scanner) error { return scanEquipment(sc, e) }, "store.no_such_equipment")
}

// CreateEquipment records a new piece of equipment.
func (s *SiteStore) CreateEquipment(ctx context.Context, e *site.Equipment) error {
	if err := checkEdit(ctx); err != nil {
		return err
	}
	return s.db.Write(ctx, "equipment.create", "", func(tx *Tx) error { return tx.createEquipment(e) })
}

// createEquipment records a piece of equipment in this transaction.
func (tx *Tx) createEquipment(e *site.Equipment) error {
	if err := e.Validate(); err != nil {
		return err
	}
	var l site.Line
	if err := tx.line(e.LineID, &l); err != nil {
		return asField(err, "line_id")
	}
	e.ID = NewID()
	// The report is a renewal's (renewQualification), never given here.
	e.QualificationReport = ""
	return create(tx, equipmentTable, e.ID, e, equipmentRow(e))
}

// UpdateEquipment changes a piece of equipment.
func (s *SiteStore) UpdateEquipment(ctx context.Context, e *site.Equipment, reason string) error {
	if err := checkEdit(ctx); err != nil {
		return err
	}
	return s.db.Write(ctx, "equipment.update", reason, func(tx *Tx) error {
		if err := e.Validate(); err != nil {
			return err
		}
		var old site.Equipment
		if err := tx.equipment(e.ID, &old); err != nil {
			return err
		}
		var l site.Line
		if err := tx.line(e.LineID, &l); err != nil {
			return asField(err, "line_id")
		}
		// The report is a renewal's (renewQualification), kept by an edit.
		e.QualificationReport = old.QualificationReport
		return update(tx, equipmentTable, e.ID, &old, e, equipmentRow(e))
	})
}

// MaintainEquipment applies maintenance's action to a piece of equipment
// ("equipment.clean", "equipment.out_of_service", "equipment.in_service"),
// the comment being the change's reason in the audit trail.
func (s *SiteStore) MaintainEquipment(ctx context.Context, id string, act site.EquipmentAction, comment string) (*site.Equipment, error) {
	if err := site.CanMaintain(actorOf(ctx)); err != nil {
		return nil, err
	}
	if _, err := site.ParseEquipmentAction(string(act)); err != nil {
		return nil, err
	}
	if err := site.CheckActionComment(act, comment); err != nil {
		return nil, err
	}
	var e site.Equipment
	apply := func(tx *Tx) error {
		if err := tx.equipment(id, &e); err != nil {
			return err
		}
		old := e
		if err := e.Apply(act); err != nil {
			return err
		}
		return update(tx, equipmentTable, e.ID, &old, &e, equipmentRow(&e))
	}
	// One command per action, each named as it is, so that the trail's
	// words cover every one.
	var err error
	switch act {
	case site.ActionClean:
		err = s.db.Write(ctx, "equipment.clean", comment, apply)
	case site.ActionOutOfService:
		err = s.db.Write(ctx, "equipment.out_of_service", comment, apply)
	case site.ActionInService:
		err = s.db.Write(ctx, "equipment.in_service", comment, apply)
	}
	if err != nil {
		return nil, err
	}
	return &e, nil
}

// renewQualification is the reaction to maintenance's signature on a
// piece of equipment (meaning approved): the renewal the signature was
// given with (site.WithRenewal) is recorded in the signature's own
// transaction, with the signer's comment as its reason; a signature
// without one is refused, and nothing is signed.
func renewQualification(tx *Tx, sig *esign.Signature) error {
	if sig.Meaning != esign.Approved {
		return nil
	}
	r, ok := site.RenewalFrom(tx.ctx)
	if !ok {
		return errs.Field("qualification_due", "site.renewal_needs_due")
	}
	if err := site.CanMaintain(tx.actor); err != nil {
		return err
	}
	if tx.reason == "" {
		return errs.Field("reason", "site.renewal_reason_required")
	}
	var e site.Equipment
	if err := tx.equipment(sig.EntityID, &e); err != nil {
		return err
	}
	old := e
	if err := e.Renew(r, tx.now.In(tx.siteZone())); err != nil {
		return err
	}
	return update(tx, equipmentTable, e.ID, &old, &e, equipmentRow(&e))
}

// signableEquipment reads a piece of equipment for a signature, site staff
// only. Its status and its qualification are left out of what is signed:
// using or cleaning it does not break the signature of its renewed
// qualification, which the signature itself changes (renewQualification).
func signableEquipment(tx *Tx, id string) ([]audit.Field, string, error) {
	fields, clientID, err := siteRecord(func(tx *Tx, id string) (auditable, error) {
		var v site.Equipment
		return &v, tx.equipment(id, &v)
	})(tx, id)
	if err != nil {
		return nil, "", err
	}
	var out []audit.Field
	for _, f := range fields {
		switch f.Name {
		case "status", "qualification_due", "qualification_report":
		default:
			out = append(out, f)
		}
	}
	return out, clientID, nil
}

// --- shared helpers

// scanner is a *sql.Row or *sql.Rows.
type scanner interface{ Scan(dest ...any) error }

// list runs a query in a read transaction and scans each row.
func list[T any](ctx context.Context, db *DB, q string, args []any, scan func(scanner, *T) error) ([]T, error) {
	out := []T{}
	err := db.Read(ctx, func(tx *Tx) error {
		rows, err := tx.query(q, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var v T
			if err := scan(rows, &v); err != nil {
				return err
			}
			out = append(out, v)
		}
		return rows.Err()
	})
	return out, err
}

// where appends "col = ?" conditions for the non-empty values of pairs
// (column, value, column, value ...). Every column is an id: a value that is
// not a UUID names no record, so it matches nothing on both databases
// (PostgreSQL would refuse to compare it with a uuid column).
func where(q string, pairs ...string) (string, []any) {
	var args []any
	sep := " WHERE "
	for i := 0; i+1 < len(pairs); i += 2 {
		if pairs[i+1] == "" {
			continue
		}
		q += sep
		sep = " AND "
		if _, err := uuid.Parse(pairs[i+1]); err != nil {
			q += "1 = 0"
			continue
		}
		q += pairs[i] + " = ?"
		args = append(args, pairs[i+1])
	}
	return q, args
}

// checkEdit checks the actor may edit the site model.
func checkEdit(ctx context.Context) error { return site.CanEdit(actorOf(ctx)) }

// checkEditStaff checks the actor may edit people, teams and shifts.
func checkEditStaff(ctx context.Context) error { return site.CanEditStaff(actorOf(ctx)) }

// asField turns a not-found reference into invalid input on that field: the
// request names something that does not exist.
func asField(err error, field string) error {
	var e *errs.Error
	if errors.As(err, &e) && e.Code == errs.NotFound {
		return errs.Field(field, "store.check_you_gave", e, field)
	}
	return err
}

// hasSite reports whether the site is set up, that is whether the database
// holds any site data yet.
func (tx *Tx) hasSite() (bool, error) {
	var n int
	err := tx.queryRow(`SELECT COUNT(*) FROM sites`).Scan(&n)
	return n > 0, err
}

// bulkLockKey is the PostgreSQL advisory lock that one-time bulk writes
// (loading the demo site) take, so that two nodes starting together run
// them one after the other. "galenixb" in ASCII.
const bulkLockKey = 0x67616c656e697862

// bulkWrite marks the transaction as a one-time bulk write: on PostgreSQL
// it waits for any other bulk write to end, and lifts the bounds that keep
// a request's statements short (statement_timeout, lock_timeout), which a
// load of the whole site in one transaction can exceed on a slow machine.
// Call it first in the transaction. SQLite already runs one write at a time.
func (tx *Tx) bulkWrite() error {
	if tx.db.dialect != Postgres {
		return nil
	}
	for _, q := range []string{
		`SET LOCAL statement_timeout = 0`,
		`SET LOCAL lock_timeout = 0`,
		`SELECT pg_advisory_xact_lock(` + strconv.FormatInt(bulkLockKey, 10) + `)`,
	} {
		if _, err := tx.exec(q); err != nil {
			return err
		}
	}
	return nil
}
