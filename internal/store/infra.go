package store

import (
	"context"
	"slices"
	"strings"

	"galenix/internal/audit"
	"galenix/internal/errs"
	"galenix/internal/infra"
	"galenix/internal/text"

	"github.com/google/uuid"
)

// The site's IT and OT infrastructure (package infra): assets with what
// they depend on, zones, conduits and flows, supervision checks and their
// events, planned shutdowns. It is site data: no client's, read with
// infra.view and kept with infra.edit.

// InfraStore keeps the infrastructure.
type InfraStore struct{ db *DB }

// Infra returns the infrastructure's store.
func (db *DB) Infra() *InfraStore { return &InfraStore{db: db} }

var _ infra.Service = (*InfraStore)(nil)

var assetTable = table{"infra_assets", infra.EntityAsset, []string{"code", "name", "kind", "building_id", "room_id", "line_id", "model", "serial",
	"addresses", "owner", "contract", "contract_ends", "isa95_level", "zone_id", "gmp_impact", "need"}}

// infraRead reads what fn reads for who may read the infrastructure.
func infraRead[T any](ctx context.Context, s *InfraStore, fn func(tx *Tx) (T, error)) (T, error) {
	return readIf(ctx, s.db, infra.MayView, fn)
}

const assetCols = `a.id, a.code, a.name, a.kind, COALESCE(CAST(a.building_id AS TEXT), ''), COALESCE(b.code, ''), COALESCE(CAST(a.room_id AS TEXT), ''),
	COALESCE(r.code, ''), COALESCE(r.grade, ''), COALESCE(CAST(a.line_id AS TEXT), ''), COALESCE(l.code, ''), a.model, a.serial, a.addresses, a.owner,
	a.contract, a.contract_ends, a.isa95_level, COALESCE(CAST(a.zone_id AS TEXT), ''), COALESCE(z.code, ''), a.gmp_impact, a.need, a.version`

const assetFrom = ` FROM infra_assets a LEFT JOIN buildings b ON b.id = a.building_id LEFT JOIN rooms r ON r.id = a.room_id
	LEFT JOIN lines l ON l.id = a.line_id LEFT JOIN infra_zones z ON z.id = a.zone_id`

func scanAsset(sc scanner, a *infra.Asset) error {
	var kind, impact, addrs string
	var level int
	err := sc.Scan(&a.ID, &a.Code, &a.Name, &kind, &a.BuildingID, &a.Building, &a.RoomID, &a.Room, &a.Grade, &a.LineID, &a.Line, &a.Model,
		&a.Serial, &addrs, &a.Owner, &a.Contract, &a.ContractEnds, &level, &a.ZoneID, &a.Zone, &impact, &a.Need, &a.Version)
	a.Kind, a.Impact, a.Level, a.Addresses = infra.Kind(kind), infra.Impact(impact), infra.Level(level), strings.Fields(addrs)
	a.DependsOn, a.Depends, a.State = []string{}, []string{}, infra.StateUnknown
	if a.Addresses == nil {
		a.Addresses = []string{}
	}
	return err
}

// assets reads the assets the condition selects (all: ""), by code, each
// with its dependencies and its state, a redundancy group's its members'.
func (tx *Tx) assets(cond string, args ...any) ([]infra.Asset, error) {
	as, err := tx.assetRows(cond, args...)
	if err != nil {
		return nil, err
	}
	return as, tx.groupStates(as, cond == "")
}

// assetRows is assets but for the groups' states, which the graph built
// of them gives (infra.NewGraph).
func (tx *Tx) assetRows(cond string, args ...any) ([]infra.Asset, error) {
	q := `SELECT ` + assetCols + assetFrom
	if cond != "" {
		q += ` WHERE ` + cond
	}
	as, err := collect(tx, q+` ORDER BY a.code`, args, scanAsset)
	if err != nil {
		return nil, err
	}
	at := make(map[string]*infra.Asset, len(as))
	for i := range as {
		at[as[i].ID] = &as[i]
	}
	// One read of every dependency and check: a filtered list reads
	// more than it needs, which costs less than a query per asset.
	rows, err := tx.query(`SELECT CAST(d.asset_id AS TEXT), CAST(d.on_id AS TEXT), o.code FROM infra_dependencies d
		JOIN infra_assets o ON o.id = d.on_id ORDER BY d.asset_id, d.position`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var id, on, code string
		if err := rows.Scan(&id, &on, &code); err != nil {
			return nil, err
		}
		if a := at[id]; a != nil {
			a.DependsOn, a.Depends = append(a.DependsOn, on), append(a.Depends, code)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	states := map[string][]infra.State{}
	crows, err := tx.query(`SELECT CAST(asset_id AS TEXT), state FROM infra_checks`)
	if err != nil {
		return nil, err
	}
	defer crows.Close()
	for crows.Next() {
		var id, st string
		if err := crows.Scan(&id, &st); err != nil {
			return nil, err
		}
		states[id] = append(states[id], infra.State(st))
	}
	for id, ss := range states {
		if a := at[id]; a != nil {
			a.State = infra.AssetState(ss)
		}
	}
	return as, crows.Err()
}

// groupStates gives the redundancy groups among the assets the state
// their members make (infra.Graph); whole says the assets are all of
// them, so that their graph needs no second read.
func (tx *Tx) groupStates(as []infra.Asset, whole bool) error {
	if !slices.ContainsFunc(as, func(a infra.Asset) bool { return a.Kind == infra.Group }) {
		return nil
	}
	if whole {
		_, err := infra.NewGraph(as) // sets the groups' states in place
		return ignoreLoop(err)
	}
	g, err := tx.graph()
	if err != nil {
		return ignoreLoop(err)
	}
	for i := range as {
		if k, ok := g.Index(as[i].ID); ok && as[i].Kind == infra.Group {
			as[i].State = g.Assets[k].State
		}
	}
	return nil
}

// ignoreLoop lets a graph that does not hold (a loop, refused on every
// write) show its groups unknown rather than fail a read.
func ignoreLoop(err error) error {
	if errs.Is(err, errs.Invalid) {
		return nil
	}
	return err
}

// Assets lists the inventory, filtered, by code.
func (s *InfraStore) Assets(ctx context.Context, f infra.Filter) ([]infra.Asset, error) {
	return infraRead(ctx, s, func(tx *Tx) ([]infra.Asset, error) {
		var conds []string
		var args []any
		if f.BuildingID != "" {
			conds, args = append(conds, "a.building_id = ?"), append(args, f.BuildingID)
		}
		if f.Kind != "" {
			conds, args = append(conds, "a.kind = ?"), append(args, string(f.Kind))
		}
		if q := strings.ToLower(strings.TrimSpace(f.Q)); q != "" {
			like := "%" + likeEscape(q) + "%"
			conds = append(conds, `(LOWER(a.code) LIKE ? ESCAPE '\' OR LOWER(a.name) LIKE ? ESCAPE '\' OR LOWER(a.model) LIKE ? ESCAPE '\'
				OR LOWER(a.serial) LIKE ? ESCAPE '\' OR LOWER(a.addresses) LIKE ? ESCAPE '\')`)
			args = append(args, like, like, like, like, like)
		}
		if f.BuildingID != "" {
			if _, err := uuidOf(f.BuildingID); err != nil {
				return []infra.Asset{}, nil
			}
		}
		return tx.assets(strings.Join(conds, " AND "), args...)
	})
}

// likeEscape escapes LIKE's wildcards in a searched text.
func likeEscape(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// uuidOf checks an id is a UUID before a query compares it with a UUID
// column (PostgreSQL refuses the comparison otherwise).
func uuidOf(id string) (string, error) {
	if !validID(id) {
		return "", errs.E(errs.NotFound, "infra.no_such_asset")
	}
	return id, nil
}

// asset reads one asset.
func (tx *Tx) asset(id string) (*infra.Asset, error) {
	if !validID(id) {
		return nil, errs.E(errs.NotFound, "infra.no_such_asset")
	}
	as, err := tx.assets(`a.id = ?`, id)
	if err != nil {
		return nil, err
	}
	if len(as) == 0 {
		return nil, errs.E(errs.NotFound, "infra.no_such_asset")
	}
	return &as[0], nil
}

// Asset reads one asset; to who may not read the infrastructure, it does
// not exist.
func (s *InfraStore) Asset(ctx context.Context, id string) (*infra.Asset, error) {
	if infra.MayView(actorOf(ctx)) != nil {
		return nil, errs.E(errs.NotFound, "infra.no_such_asset")
	}
	var a *infra.Asset
	err := s.db.Read(ctx, func(tx *Tx) error {
		var err error
		a, err = tx.asset(id)
		return err
	})
	return a, err
}

func assetRow(a *infra.Asset) row {
	need := a.Need
	return row{"code": a.Code, "name": a.Name, "kind": string(a.Kind), "building_id": nullable(a.BuildingID), "room_id": nullable(a.RoomID),
		"line_id": nullable(a.LineID), "model": a.Model, "serial": a.Serial, "addresses": strings.Join(a.Addresses, " "), "owner": a.Owner,
		"contract": a.Contract, "contract_ends": a.ContractEnds, "isa95_level": int(a.Level), "zone_id": nullable(a.ZoneID),
		"gmp_impact": string(a.Impact), "need": need}
}

// places checks the asset's building, room, line and zone, filling in
// what the others imply: a line's room, a room's building.
func (tx *Tx) places(a *infra.Asset) error {
	if a.LineID != "" {
		var room, building string
		if err := tx.byID(`SELECT CAST(room_id AS TEXT), CAST(building_id AS TEXT) FROM lines WHERE id = ?`, a.LineID,
			func(sc scanner) error { return sc.Scan(&room, &building) }, "infra.no_such_line"); err != nil {
			return asField(err, "line_id")
		}
		if a.RoomID == "" {
			a.RoomID = room
		}
		if a.BuildingID == "" {
			a.BuildingID = building
		}
	}
	if a.RoomID != "" {
		var building string
		if err := tx.byID(`SELECT CAST(building_id AS TEXT) FROM rooms WHERE id = ?`, a.RoomID,
			func(sc scanner) error { return sc.Scan(&building) }, "infra.no_such_room"); err != nil {
			return asField(err, "room_id")
		}
		if a.BuildingID == "" {
			a.BuildingID = building
		}
		if a.BuildingID != building {
			return errs.Field("room_id", "infra.room_elsewhere")
		}
	}
	if a.BuildingID != "" {
		var n int
		if err := tx.byID(`SELECT COUNT(*) FROM buildings WHERE id = ?`, a.BuildingID, func(sc scanner) error { return sc.Scan(&n) },
			"infra.no_such_building"); err != nil || n == 0 {
			return errs.Field("building_id", "infra.no_such_building")
		}
	}
	if a.BuildingID == "" && a.Kind.Physical() {
		return errs.Field("building_id", "infra.building")
	}
	if a.ZoneID != "" {
		var n int
		if err := tx.byID(`SELECT COUNT(*) FROM infra_zones WHERE id = ?`, a.ZoneID, func(sc scanner) error { return sc.Scan(&n) },
			"infra.no_such_zone"); err != nil || n == 0 {
			return errs.Field("zone_id", "infra.no_such_zone")
		}
	}
	return nil
}

// checkGraph refuses the assets' dependencies if one names no asset or
// makes a cycle: the graph of all assets, with the changed ones replacing
// theirs, must build.
func (tx *Tx) checkGraph(changed ...*infra.Asset) error {
	all, err := tx.assetRows("")
	if err != nil {
		return err
	}
	for _, c := range changed {
		if i := slices.IndexFunc(all, func(a infra.Asset) bool { return a.ID == c.ID }); i >= 0 {
			all[i] = *c
		} else {
			all = append(all, *c)
		}
	}
	_, err = infra.NewGraph(all)
	return err
}

// setDependencies replaces what the asset depends on.
func (tx *Tx) setDependencies(a *infra.Asset) error {
	if _, err := tx.exec(`DELETE FROM infra_dependencies WHERE asset_id = ?`, a.ID); err != nil {
		return err
	}
	for i, d := range a.DependsOn {
		if _, err := tx.exec(`INSERT INTO infra_dependencies (asset_id, on_id, position) VALUES (?, ?, ?)`, a.ID, d, i); err != nil {
			return err
		}
	}
	return nil
}

// dependenciesExist refuses a dependency that names no asset.
func (tx *Tx) dependenciesExist(a *infra.Asset) error {
	for _, d := range a.DependsOn {
		var n int
		if !validID(d) {
			return errs.Field("depends_on", "infra.depends_unknown", a.Code, d)
		}
		if err := tx.queryRow(`SELECT COUNT(*) FROM infra_assets WHERE id = ?`, d).Scan(&n); err != nil {
			return err
		}
		if n == 0 {
			return errs.Field("depends_on", "infra.depends_unknown", a.Code, d)
		}
	}
	return nil
}

// CreateAsset records an asset with what it depends on.
func (s *InfraStore) CreateAsset(ctx context.Context, a *infra.Asset) error {
	if err := infra.MayEdit(actorOf(ctx)); err != nil {
		return err
	}
	a.ID = ""
	if err := a.Validate(); err != nil {
		return err
	}
	return s.db.Write(ctx, "infra.asset.create", "", func(tx *Tx) error {
		return tx.createAsset(a)
	})
}

func (tx *Tx) createAsset(a *infra.Asset) error {
	if err := tx.places(a); err != nil {
		return err
	}
	if err := tx.unique(`SELECT COUNT(*) FROM infra_assets WHERE code = ?`, []any{a.Code}, "code", "infra.code_taken", a.Code); err != nil {
		return err
	}
	if err := tx.dependenciesExist(a); err != nil {
		return err
	}
	a.ID = NewID()
	if err := create(tx, assetTable, a.ID, a, assetRow(a)); err != nil {
		return err
	}
	if err := tx.setDependencies(a); err != nil {
		return err
	}
	got, err := tx.asset(a.ID)
	if err == nil {
		*a = *got
	}
	return err
}

// UpdateAsset changes an asset at the version read, with a reason.
func (s *InfraStore) UpdateAsset(ctx context.Context, a *infra.Asset, reason string) error {
	if err := infra.MayEdit(actorOf(ctx)); err != nil {
		return err
	}
	if err := a.Validate(); err != nil {
		return err
	}
	return s.db.Write(ctx, "infra.asset.update", reason, func(tx *Tx) error {
		old, err := tx.asset(a.ID)
		if err != nil {
			return err
		}
		return tx.updateAsset(old, a, true)
	})
}

// updateAsset writes an asset's change; check: its dependencies are
// checked for a cycle here (an import checks them all at its end).
func (tx *Tx) updateAsset(old, a *infra.Asset, check bool) error {
	if err := tx.places(a); err != nil {
		return err
	}
	if a.Code != old.Code {
		if err := tx.unique(`SELECT COUNT(*) FROM infra_assets WHERE code = ? AND id <> ?`, []any{a.Code, a.ID}, "code", "infra.code_taken", a.Code); err != nil {
			return err
		}
	}
	if err := tx.dependenciesExist(a); err != nil {
		return err
	}
	if check {
		if err := tx.checkGraph(a); err != nil {
			return err
		}
	}
	if err := update(tx, assetTable, a.ID, old, a, assetRow(a)); err != nil {
		return err
	}
	if !slices.Equal(old.DependsOn, a.DependsOn) {
		return tx.setDependencies(a)
	}
	return nil
}

// DeleteAsset removes an asset nothing depends on any more, with its
// checks and the flows it takes part in; the trail keeps what it was.
func (s *InfraStore) DeleteAsset(ctx context.Context, id, reason string) error {
	if err := infra.MayEdit(actorOf(ctx)); err != nil {
		return err
	}
	return s.db.Write(ctx, "infra.asset.delete", reason, func(tx *Tx) error {
		if tx.reason == "" {
			return errs.Field("reason", "reason.required_kept", text.Key("reason.what.remove"))
		}
		a, err := tx.asset(id)
		if err != nil {
			return err
		}
		var users []string
		rows, err := tx.query(`SELECT o.code FROM infra_dependencies d JOIN infra_assets o ON o.id = d.asset_id WHERE d.on_id = ? ORDER BY o.code`, id)
		if err != nil {
			return err
		}
		for rows.Next() {
			var c string
			if err := rows.Scan(&c); err != nil {
				rows.Close()
				return err
			}
			users = append(users, c)
		}
		rows.Close()
		if len(users) > 0 {
			return errs.E(errs.Conflict, "infra.delete_used", a.Code, strings.Join(users[:min(len(users), 5)], ", "))
		}
		checks, err := tx.checks(`c.asset_id = ?`, id)
		if err != nil {
			return err
		}
		for i := range checks {
			if err := tx.deleteRecord(checkTable, checks[i].ID, &checks[i]); err != nil {
				return err
			}
		}
		flows, err := collect(tx, `SELECT `+flowCols+` FROM infra_flows f WHERE f.from_id = ? OR f.to_id = ?`, []any{id, id}, scanFlow)
		if err != nil {
			return err
		}
		for i := range flows {
			if err := tx.deleteRecord(flowTable, flows[i].ID, &flows[i]); err != nil {
				return err
			}
		}
		if _, err := tx.exec(`DELETE FROM infra_dependencies WHERE asset_id = ?`, id); err != nil {
			return err
		}
		return tx.deleteRecord(assetTable, id, a)
	})
}

// deleteRecord deletes a record and audits each of its fields as removed.
func (tx *Tx) deleteRecord(t table, id string, rec auditable) error {
	if _, err := tx.exec(`DELETE FROM `+t.name+` WHERE id = ?`, id); err != nil {
		return err
	}
	return tx.Audit(auditRemoved(t.entity, id, rec), "")
}

// Graph is the whole dependency graph, each asset with its state.
func (s *InfraStore) Graph(ctx context.Context) (*infra.Graph, error) {
	return infraRead(ctx, s, func(tx *Tx) (*infra.Graph, error) { return tx.graph() })
}

func (tx *Tx) graph() (*infra.Graph, error) {
	as, err := tx.assetRows("")
	if err != nil {
		return nil, err
	}
	return infra.NewGraph(as)
}

// Analysis finds the single points of failure, and what the loss of each
// building and room holding infrastructure stops beyond itself.
func (s *InfraStore) Analysis(ctx context.Context) (*infra.Analysis, error) {
	return infraRead(ctx, s, func(tx *Tx) (*infra.Analysis, error) {
		g, err := tx.graph()
		if err != nil {
			return nil, err
		}
		places, names, err := tx.infraPlaces()
		if err != nil {
			return nil, err
		}
		an := g.Analyse(places, names)
		return &an, nil
	})
}

// infraPlaces lists the site's buildings and rooms as places, with their
// words: each room after its building.
func (tx *Tx) infraPlaces() ([]infra.Place, map[infra.Place]string, error) {
	rows, err := tx.query(`SELECT CAST(b.id AS TEXT), '', b.code, b.name FROM buildings b
		UNION ALL SELECT CAST(r.building_id AS TEXT), CAST(r.id AS TEXT), r.code, r.name FROM rooms r ORDER BY 1, 2`)
	if err != nil {
		return nil, nil, err
	}
	defer rows.Close()
	var places []infra.Place
	names := map[infra.Place]string{}
	for rows.Next() {
		var p infra.Place
		var code, name string
		if err := rows.Scan(&p.BuildingID, &p.RoomID, &code, &name); err != nil {
			return nil, nil, err
		}
		places, names[p] = append(places, p), code+" — "+name
	}
	return places, names, rows.Err()
}

// WhatIf is what shutting the scope down would stop.
func (s *InfraStore) WhatIf(ctx context.Context, sc infra.Scope) (*infra.Impacted, error) {
	return infraRead(ctx, s, func(tx *Tx) (*infra.Impacted, error) { return tx.whatIf(sc) })
}

func (tx *Tx) whatIf(sc infra.Scope) (*infra.Impacted, error) {
	g, err := tx.graph()
	if err != nil {
		return nil, err
	}
	for _, p := range []struct{ field, id, q string }{{"building_id", sc.BuildingID, `SELECT COUNT(*) FROM buildings WHERE id = ?`},
		{"room_id", sc.RoomID, `SELECT COUNT(*) FROM rooms WHERE id = ?`}} {
		if p.id == "" {
			continue
		}
		var n int
		if !validID(p.id) || tx.queryRow(p.q, p.id).Scan(&n) != nil || n == 0 {
			return nil, errs.Field(p.field, "infra.no_such_place")
		}
	}
	failed, err := g.Failed(sc)
	if err != nil {
		return nil, err
	}
	im := g.Impact(failed)
	return &im, nil
}

// Live is what the assets the supervision finds down stop now.
func (s *InfraStore) Live(ctx context.Context) (*infra.Impacted, error) {
	return infraRead(ctx, s, func(tx *Tx) (*infra.Impacted, error) {
		g, err := tx.graph()
		if err != nil {
			return nil, err
		}
		im := g.Live()
		return &im, nil
	})
}

// validID reports whether id is a UUID: anything else names no record,
// without asking the database (PostgreSQL refuses the comparison).
func validID(id string) bool {
	_, err := uuid.Parse(id)
	return err == nil
}

// auditRemoved is the trail of a record removed: each field, from its
// value to nothing.
func auditRemoved(entity, id string, rec auditable) []audit.Change {
	return audit.Diff(entity, id, rec.AuditFields(), nil)
}
