package store

import (
	"context"
	"strings"

	"galenix/internal/errs"
	"galenix/internal/infra"
	"galenix/internal/text"
)

// The IEC 62443 zones and conduits, and the flows declared between assets,
// which the conduit rules are checked against.

var (
	netZoneTable = table{"infra_zones", infra.EntityZone, []string{"code", "name", "target_sl"}}
	conduitTable = table{"infra_conduits", infra.EntityConduit, []string{"code", "name", "zone_a", "zone_b", "target_sl", "services"}}
	flowTable    = table{"infra_flows", infra.EntityFlow, []string{"from_id", "to_id", "service", "purpose"}}
)

const netZoneCols = `z.id, z.code, z.name, z.target_sl, z.version`

func scanNetZone(sc scanner, z *infra.Zone) error {
	return sc.Scan(&z.ID, &z.Code, &z.Name, &z.Target, &z.Version)
}

// Zones lists the zones by code.
func (s *InfraStore) Zones(ctx context.Context) ([]infra.Zone, error) {
	return infraRead(ctx, s, func(tx *Tx) ([]infra.Zone, error) {
		return collect(tx, `SELECT `+netZoneCols+` FROM infra_zones z ORDER BY z.code`, nil, scanNetZone)
	})
}

// CreateZone records a zone.
func (s *InfraStore) CreateZone(ctx context.Context, z *infra.Zone) error {
	if err := z.Validate(); err != nil {
		return err
	}
	if err := infra.MayEdit(actorOf(ctx)); err != nil {
		return err
	}
	return s.db.Write(ctx, "infra.zone.create", "", func(tx *Tx) error {
		if err := tx.unique(`SELECT COUNT(*) FROM infra_zones WHERE code = ?`, []any{z.Code}, "code", "infra.code_taken", z.Code); err != nil {
			return err
		}
		z.ID = NewID()
		return create(tx, netZoneTable, z.ID, z, row{"code": z.Code, "name": z.Name, "target_sl": z.Target})
	})
}

// UpdateZone changes a zone at the version read, with a reason.
func (s *InfraStore) UpdateZone(ctx context.Context, z *infra.Zone, reason string) error {
	if err := z.Validate(); err != nil {
		return err
	}
	if err := infra.MayEdit(actorOf(ctx)); err != nil {
		return err
	}
	return s.db.Write(ctx, "infra.zone.update", reason, func(tx *Tx) error {
		var old infra.Zone
		if err := tx.byID(`SELECT `+netZoneCols+` FROM infra_zones z WHERE z.id = ?`, z.ID, func(sc scanner) error { return scanNetZone(sc, &old) },
			"infra.no_such_zone"); err != nil {
			return err
		}
		if err := tx.unique(`SELECT COUNT(*) FROM infra_zones WHERE code = ? AND id <> ?`, []any{z.Code, z.ID}, "code", "infra.code_taken", z.Code); err != nil {
			return err
		}
		return update(tx, netZoneTable, z.ID, &old, z, row{"code": z.Code, "name": z.Name, "target_sl": z.Target})
	})
}

const conduitCols = `c.id, c.code, c.name, CAST(c.zone_a AS TEXT), CAST(c.zone_b AS TEXT), c.target_sl, c.services, c.version`

func scanConduit(sc scanner, c *infra.Conduit) error {
	var svcs string
	err := sc.Scan(&c.ID, &c.Code, &c.Name, &c.ZoneA, &c.ZoneB, &c.Target, &svcs, &c.Version)
	c.Services = strings.Fields(svcs)
	return err
}

// Conduits lists the conduits by code.
func (s *InfraStore) Conduits(ctx context.Context) ([]infra.Conduit, error) {
	return infraRead(ctx, s, func(tx *Tx) ([]infra.Conduit, error) {
		return collect(tx, `SELECT `+conduitCols+` FROM infra_conduits c ORDER BY c.code`, nil, scanConduit)
	})
}

func conduitRow(c *infra.Conduit) row {
	return row{"code": c.Code, "name": c.Name, "zone_a": c.ZoneA, "zone_b": c.ZoneB, "target_sl": c.Target, "services": strings.Join(c.Services, " ")}
}

// zonesExist refuses a conduit joining a zone that is not.
func (tx *Tx) zonesExist(c *infra.Conduit) error {
	for _, z := range []struct{ field, id string }{{"zone_a_id", c.ZoneA}, {"zone_b_id", c.ZoneB}} {
		var n int
		if !validID(z.id) || tx.queryRow(`SELECT COUNT(*) FROM infra_zones WHERE id = ?`, z.id).Scan(&n) != nil || n == 0 {
			return errs.Field(z.field, "infra.no_such_zone")
		}
	}
	return nil
}

// CreateConduit records a conduit between two zones.
func (s *InfraStore) CreateConduit(ctx context.Context, c *infra.Conduit) error {
	if err := c.Validate(); err != nil {
		return err
	}
	if err := infra.MayEdit(actorOf(ctx)); err != nil {
		return err
	}
	return s.db.Write(ctx, "infra.conduit.create", "", func(tx *Tx) error {
		if err := tx.zonesExist(c); err != nil {
			return err
		}
		if err := tx.unique(`SELECT COUNT(*) FROM infra_conduits WHERE code = ?`, []any{c.Code}, "code", "infra.code_taken", c.Code); err != nil {
			return err
		}
		c.ID = NewID()
		return create(tx, conduitTable, c.ID, c, conduitRow(c))
	})
}

// UpdateConduit changes a conduit at the version read, with a reason.
func (s *InfraStore) UpdateConduit(ctx context.Context, c *infra.Conduit, reason string) error {
	if err := c.Validate(); err != nil {
		return err
	}
	if err := infra.MayEdit(actorOf(ctx)); err != nil {
		return err
	}
	return s.db.Write(ctx, "infra.conduit.update", reason, func(tx *Tx) error {
		var old infra.Conduit
		if err := tx.byID(`SELECT `+conduitCols+` FROM infra_conduits c WHERE c.id = ?`, c.ID, func(sc scanner) error { return scanConduit(sc, &old) },
			"infra.no_such_conduit"); err != nil {
			return err
		}
		if err := tx.zonesExist(c); err != nil {
			return err
		}
		if err := tx.unique(`SELECT COUNT(*) FROM infra_conduits WHERE code = ? AND id <> ?`, []any{c.Code, c.ID}, "code", "infra.code_taken", c.Code); err != nil {
			return err
		}
		return update(tx, conduitTable, c.ID, &old, c, conduitRow(c))
	})
}

const flowCols = `f.id, CAST(f.from_id AS TEXT), CAST(f.to_id AS TEXT), f.service, f.purpose, f.version`

func scanFlow(sc scanner, f *infra.Flow) error {
	return sc.Scan(&f.ID, &f.From, &f.To, &f.Service, &f.Purpose, &f.Version)
}

// Flows lists the declared flows.
func (s *InfraStore) Flows(ctx context.Context) ([]infra.Flow, error) {
	return infraRead(ctx, s, func(tx *Tx) ([]infra.Flow, error) {
		return collect(tx, `SELECT `+flowCols+` FROM infra_flows f JOIN infra_assets a ON a.id = f.from_id ORDER BY a.code, f.service`, nil, scanFlow)
	})
}

// CreateFlow declares a flow between two assets.
func (s *InfraStore) CreateFlow(ctx context.Context, f *infra.Flow) error {
	if err := f.Validate(); err != nil {
		return err
	}
	if err := infra.MayEdit(actorOf(ctx)); err != nil {
		return err
	}
	return s.db.Write(ctx, "infra.flow.create", "", func(tx *Tx) error {
		for _, e := range []struct{ field, id string }{{"from_id", f.From}, {"to_id", f.To}} {
			if _, err := tx.asset(e.id); err != nil {
				return asField(err, e.field)
			}
		}
		if err := tx.unique(`SELECT COUNT(*) FROM infra_flows WHERE from_id = ? AND to_id = ? AND service = ?`, []any{f.From, f.To, f.Service},
			"service", "infra.flow_taken", f.Service); err != nil {
			return err
		}
		f.ID = NewID()
		return create(tx, flowTable, f.ID, f, row{"from_id": f.From, "to_id": f.To, "service": f.Service, "purpose": f.Purpose})
	})
}

// DeleteFlow withdraws a declared flow, with a reason.
func (s *InfraStore) DeleteFlow(ctx context.Context, id, reason string) error {
	if err := infra.MayEdit(actorOf(ctx)); err != nil {
		return err
	}
	return s.db.Write(ctx, "infra.flow.delete", reason, func(tx *Tx) error {
		if tx.reason == "" {
			return errs.Field("reason", "reason.required_kept", text.Key("reason.what.remove"))
		}
		var f infra.Flow
		if err := tx.byID(`SELECT `+flowCols+` FROM infra_flows f WHERE f.id = ?`, id, func(sc scanner) error { return scanFlow(sc, &f) },
			"infra.no_such_flow"); err != nil {
			return err
		}
		return tx.deleteRecord(flowTable, id, &f)
	})
}

// Findings confronts the declared flows with the conduits.
func (s *InfraStore) Findings(ctx context.Context) ([]infra.Finding, error) {
	return infraRead(ctx, s, func(tx *Tx) ([]infra.Finding, error) {
		as, err := tx.assetRows("")
		if err != nil {
			return nil, err
		}
		assets := make(map[string]*infra.Asset, len(as))
		for i := range as {
			assets[as[i].ID] = &as[i]
		}
		zs, err := collect(tx, `SELECT `+netZoneCols+` FROM infra_zones z`, nil, scanNetZone)
		if err != nil {
			return nil, err
		}
		zones := make(map[string]*infra.Zone, len(zs))
		for i := range zs {
			zones[zs[i].ID] = &zs[i]
		}
		cs, err := collect(tx, `SELECT `+conduitCols+` FROM infra_conduits c ORDER BY c.code`, nil, scanConduit)
		if err != nil {
			return nil, err
		}
		fs, err := collect(tx, `SELECT `+flowCols+` FROM infra_flows f ORDER BY f.id`, nil, scanFlow)
		if err != nil {
			return nil, err
		}
		out := infra.CheckConduits(assets, zones, cs, fs)
		if out == nil {
			out = []infra.Finding{}
		}
		return out, nil
	})
}
