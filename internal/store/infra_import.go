package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	"galenix/internal/audit"
	"galenix/internal/errs"
	"galenix/internal/infra"
)

// Import creates or changes the assets of an inventory's CSV file, all or
// none: an asset whose code is known is changed (with the import's
// reason), another created. Every bad line is refused in words, naming its
// line; one refuses the file, and nothing is written.
func (s *InfraStore) Import(ctx context.Context, data []byte, reason string) (infra.Imported, error) {
	var out infra.Imported
	if err := infra.MayEdit(actorOf(ctx)); err != nil {
		return out, err
	}
	rows, bad, err := infra.ParseCSV(data)
	if err != nil {
		return out, err
	}
	err = s.db.Write(ctx, "infra.import", reason, func(tx *Tx) error {
		out = infra.Imported{}
		return tx.importAssets(rows, slices.Clone(bad), &out)
	})
	return out, err
}

// codes maps the codes of one table's records to their ids.
func (tx *Tx) codes(q string) (map[string]string, error) {
	rows, err := tx.query(q)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	m := map[string]string{}
	for rows.Next() {
		var code, id string
		if err := rows.Scan(&code, &id); err != nil {
			return nil, err
		}
		m[code] = id
	}
	return m, rows.Err()
}

// importAssets writes the rows of an import whose other lines were
// refused already (bad): every line's refusal is given at once.
func (tx *Tx) importAssets(rows []infra.Row, bad errs.Lines, out *infra.Imported) error {
	existing, err := tx.assetRows("")
	if err != nil {
		return err
	}
	byCode := make(map[string]*infra.Asset, len(existing))
	for i := range existing {
		byCode[existing[i].Code] = &existing[i]
	}
	var maps [4]map[string]string
	for i, q := range []string{`SELECT code, CAST(id AS TEXT) FROM buildings`, `SELECT code, CAST(id AS TEXT) FROM rooms`,
		`SELECT code, CAST(id AS TEXT) FROM lines`, `SELECT code, CAST(id AS TEXT) FROM infra_zones`} {
		if maps[i], err = tx.codes(q); err != nil {
			return err
		}
	}
	buildings, rooms, lines, zones := maps[0], maps[1], maps[2], maps[3]
	// First the places and the ids, so that a line may depend on an
	// asset of a later line.
	assets := make([]infra.Asset, len(rows))
	idOf := map[string]string{}
	for i, r := range rows {
		a := r.Asset
		if old := byCode[a.Code]; old != nil {
			a.ID = old.ID
		} else {
			a.ID = NewID()
		}
		idOf[a.Code] = a.ID
		for _, ref := range []struct {
			field, code, key string
			m                map[string]string
			to               *string
		}{{"building", r.Building, "infra.no_such_building_code", buildings, &a.BuildingID}, {"room", r.Room, "infra.no_such_room_code", rooms, &a.RoomID},
			{"line", r.Line, "infra.no_such_line_code", lines, &a.LineID}, {"zone", r.Zone, "infra.no_such_zone_code", zones, &a.ZoneID}} {
			if ref.code == "" {
				continue
			}
			id, ok := ref.m[ref.code]
			if !ok {
				bad.Add(r.At, errs.Field(ref.field, ref.key, ref.code))
				break
			}
			*ref.to = id
		}
		if old := byCode[a.Code]; old != nil {
			r.Keep(&a, old)
		}
		assets[i] = a
	}
	for i, r := range rows {
		a := &assets[i]
		if old := byCode[a.Code]; old != nil && !r.Given["depends_on"] {
			// What the file leaves out kept, the whole is checked again.
			if err := a.Validate(); err != nil {
				bad.Add(r.At, err)
			}
			continue
		}
		a.DependsOn = make([]string, 0, len(r.Depends))
		for _, code := range r.Depends {
			id, ok := idOf[code]
			if !ok {
				if old := byCode[code]; old != nil {
					id, ok = old.ID, true
				}
			}
			if !ok {
				bad.Add(r.At, errs.Field("depends_on", "infra.depends_unknown_code", code))
				break
			}
			a.DependsOn = append(a.DependsOn, id)
		}
		if a.Kind == infra.Group && a.Need > len(a.DependsOn) {
			bad.Add(r.At, errs.Field("need", "infra.need", len(a.DependsOn)))
		}
	}
	if len(bad) > 0 {
		bad.Sort()
		return bad.Err()
	}
	// The whole graph after the import must hold: no cycle.
	all := slices.Clone(existing)
	for i := range assets {
		if j := slices.IndexFunc(all, func(x infra.Asset) bool { return x.ID == assets[i].ID }); j >= 0 {
			all[j] = assets[i]
		} else {
			all = append(all, assets[i])
		}
	}
	if _, err := infra.NewGraph(all); err != nil {
		var e *errs.Error
		if errors.As(err, &e) {
			return errs.Field("file", e.Key, e.Args...)
		}
		return err
	}
	// Then the writes: the new assets, the changed ones, and last the new
	// assets' dependencies, once every asset they name is written.
	for i, r := range rows {
		a := &assets[i]
		if byCode[a.Code] != nil {
			continue
		}
		if err := tx.places(a); err != nil {
			bad.Add(r.At, err)
			continue
		}
		if err := create(tx, assetTable, a.ID, a, assetRow(a)); err != nil {
			return err
		}
		out.Created++
	}
	for i, r := range rows {
		a, old := &assets[i], byCode[assets[i].Code]
		if old == nil {
			continue
		}
		if err := tx.places(a); err != nil {
			bad.Add(r.At, err)
			continue
		}
		if len(audit.Diff(assetTable.entity, a.ID, old.AuditFields(), a.AuditFields())) == 0 {
			continue
		}
		if err := update(tx, assetTable, a.ID, old, a, assetRow(a)); err != nil {
			if errs.FieldOf(err) == "reason" {
				return err
			}
			bad.Add(r.At, err)
			continue
		}
		if !slices.Equal(old.DependsOn, a.DependsOn) {
			if err := tx.setDependencies(a); err != nil {
				return err
			}
		}
		out.Updated++
	}
	if len(bad) > 0 {
		bad.Sort()
		return bad.Err()
	}
	for i := range assets {
		if byCode[assets[i].Code] == nil {
			if err := tx.setDependencies(&assets[i]); err != nil {
				return err
			}
		}
	}
	return nil
}

var planTable = table{"infra_plans", infra.EntityPlan, []string{"code", "title", "scope", "from_at", "to_at", "measures", "impact",
	"drafted_by", "drafted_name", "drafted_at"}}

const planCols = `p.id, p.code, p.title, p.scope, p.from_at, p.to_at, p.measures, p.impact, CAST(p.drafted_by AS TEXT), p.drafted_name, p.drafted_at`

func scanPlan(sc scanner, p *infra.Plan) error {
	var scope, impact string
	if err := sc.Scan(&p.ID, &p.Code, &p.Title, &scope, &p.From, &p.To, &p.Measures, &impact, &p.DraftedBy, &p.DraftedName, &p.DraftedAt); err != nil {
		return err
	}
	if err := json.Unmarshal([]byte(scope), &p.Scope); err != nil {
		return err
	}
	return json.Unmarshal([]byte(impact), &p.Impact)
}

// Plans lists the planned shutdowns, the latest first.
func (s *InfraStore) Plans(ctx context.Context) ([]infra.Plan, error) {
	return infraRead(ctx, s, func(tx *Tx) ([]infra.Plan, error) {
		return collect(tx, `SELECT `+planCols+` FROM infra_plans p ORDER BY p.from_at DESC, p.code DESC`, nil, scanPlan)
	})
}

// Plan reads one planned shutdown.
func (s *InfraStore) Plan(ctx context.Context, id string) (*infra.Plan, error) {
	if infra.MayView(actorOf(ctx)) != nil {
		return nil, errs.E(errs.NotFound, "infra.no_such_plan")
	}
	var p infra.Plan
	err := s.db.Read(ctx, func(tx *Tx) error {
		return tx.byID(`SELECT `+planCols+` FROM infra_plans p WHERE p.id = ?`, id, func(sc scanner) error { return scanPlan(sc, &p) }, "infra.no_such_plan")
	})
	return &p, err
}

// DraftPlan records a planned shutdown with what its what-if finds now,
// numbered PS-<year>-<nnnn>.
func (s *InfraStore) DraftPlan(ctx context.Context, p *infra.Plan) error {
	if err := infra.MayEdit(actorOf(ctx)); err != nil {
		return err
	}
	return s.db.Write(ctx, "infra.plan.draft", "", func(tx *Tx) error {
		if err := p.Validate(tx.now); err != nil {
			return err
		}
		im, err := tx.whatIf(p.Scope)
		if err != nil {
			return err
		}
		n, err := tx.nextNumber("infra_plan")
		if err != nil {
			return err
		}
		p.ID, p.Code, p.Impact = NewID(), fmt.Sprintf("PS-%d-%04d", tx.now.Year(), n), *im
		p.DraftedBy, p.DraftedName, p.DraftedAt = tx.actor.UserID, actorName(tx.actor), tx.now
		scope, err := json.Marshal(p.Scope)
		if err != nil {
			return err
		}
		impact, err := json.Marshal(p.Impact)
		if err != nil {
			return err
		}
		return create(tx, planTable, p.ID, p, row{"code": p.Code, "title": p.Title, "scope": string(scope), "from_at": p.From.UTC(),
			"to_at": p.To.UTC(), "measures": p.Measures, "impact": string(impact), "drafted_by": p.DraftedBy, "drafted_name": p.DraftedName,
			"drafted_at": p.DraftedAt})
	})
}
