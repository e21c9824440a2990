package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"time"

	"galenix/internal/errs"
	"galenix/internal/infra"
	"galenix/internal/outbox"
	"galenix/internal/text"
)

// The supervision's checks, run by the leading node, and the changes of
// state they find (events).

var checkTable = table{"infra_checks", infra.EntityCheck, []string{"asset_id", "kind", "target", "every_s", "warn_days"}}

const checkCols = `c.id, CAST(c.asset_id AS TEXT), a.code, c.kind, c.target, c.every_s, c.warn_days, c.state, c.since, c.last_at, c.detail, c.version`

func scanCheck(sc scanner, c *infra.Check) error {
	var kind, state, detail string
	var since, last sql.NullTime
	err := sc.Scan(&c.ID, &c.AssetID, &c.Asset, &kind, &c.Target, &c.Every, &c.WarnDays, &state, &since, &last, &detail, &c.Version)
	c.Kind, c.State, c.Since, c.LastAt = infra.CheckKind(kind), infra.State(state), timePtr(since), timePtr(last)
	c.Detail = decodeCoded(detail)
	return err
}

// decodeCoded reads a stored coded text (none: the zero text).
func decodeCoded(s string) text.Coded {
	var c text.Coded
	if s != "" {
		_ = json.Unmarshal([]byte(s), &c)
	}
	return c
}

// checks reads the checks the condition selects, by asset and kind.
func (tx *Tx) checks(cond string, args ...any) ([]infra.Check, error) {
	q := `SELECT ` + checkCols + ` FROM infra_checks c JOIN infra_assets a ON a.id = c.asset_id`
	if cond != "" {
		q += ` WHERE ` + cond
	}
	return collect(tx, q+` ORDER BY a.code, c.kind, c.target`, args, scanCheck)
}

// Checks lists the checks, of one asset if named.
func (s *InfraStore) Checks(ctx context.Context, assetID string) ([]infra.Check, error) {
	return infraRead(ctx, s, func(tx *Tx) ([]infra.Check, error) {
		if assetID == "" {
			return tx.checks("")
		}
		if !validID(assetID) {
			return []infra.Check{}, nil
		}
		return tx.checks(`c.asset_id = ?`, assetID)
	})
}

func checkRow(c *infra.Check) row {
	return row{"asset_id": c.AssetID, "kind": string(c.Kind), "target": c.Target, "every_s": c.Every, "warn_days": c.WarnDays}
}

// CreateCheck adds a check to an asset; its state is unknown until it
// first runs.
func (s *InfraStore) CreateCheck(ctx context.Context, c *infra.Check) error {
	if err := c.Validate(); err != nil {
		return err
	}
	if err := infra.MayEdit(actorOf(ctx)); err != nil {
		return err
	}
	return s.db.Write(ctx, "infra.check.create", "", func(tx *Tx) error {
		a, err := tx.asset(c.AssetID)
		if err != nil {
			return asField(err, "asset_id")
		}
		c.ID, c.Asset, c.State = NewID(), a.Code, infra.StateUnknown
		return create(tx, checkTable, c.ID, c, checkRow(c))
	})
}

// UpdateCheck changes a check's settings at the version read, with a
// reason; its last result stands until it runs again.
func (s *InfraStore) UpdateCheck(ctx context.Context, c *infra.Check, reason string) error {
	if err := c.Validate(); err != nil {
		return err
	}
	if err := infra.MayEdit(actorOf(ctx)); err != nil {
		return err
	}
	return s.db.Write(ctx, "infra.check.update", reason, func(tx *Tx) error {
		old, err := tx.check(c.ID)
		if err != nil {
			return err
		}
		if c.AssetID != old.AssetID {
			return errs.Field("asset_id", "infra.check_moved")
		}
		c.Asset, c.State, c.Since, c.LastAt, c.Detail = old.Asset, old.State, old.Since, old.LastAt, old.Detail
		return update(tx, checkTable, c.ID, old, c, checkRow(c))
	})
}

func (tx *Tx) check(id string) (*infra.Check, error) {
	if !validID(id) {
		return nil, errs.E(errs.NotFound, "infra.no_such_check")
	}
	cs, err := tx.checks(`c.id = ?`, id)
	if err != nil {
		return nil, err
	}
	if len(cs) == 0 {
		return nil, errs.E(errs.NotFound, "infra.no_such_check")
	}
	return &cs[0], nil
}

// DeleteCheck withdraws a check, with a reason; its events stay.
func (s *InfraStore) DeleteCheck(ctx context.Context, id, reason string) error {
	if err := infra.MayEdit(actorOf(ctx)); err != nil {
		return err
	}
	return s.db.Write(ctx, "infra.check.delete", reason, func(tx *Tx) error {
		if tx.reason == "" {
			return errs.Field("reason", "reason.required_kept", text.Key("reason.what.remove"))
		}
		c, err := tx.check(id)
		if err != nil {
			return err
		}
		return tx.deleteRecord(checkTable, id, c)
	})
}

// Due lists the checks to run at now: never run, or last run at least
// their interval ago.
func (s *InfraStore) Due(ctx context.Context, now time.Time) ([]infra.Check, error) {
	return infraRead(ctx, s, func(tx *Tx) ([]infra.Check, error) {
		all, err := tx.checks("")
		if err != nil {
			return nil, err
		}
		due := all[:0]
		for _, c := range all {
			if c.Due(now) {
				due = append(due, c)
			}
		}
		return due, nil
	})
}

// Record writes the checks' results at a time: a check whose state
// changes records an event, and tells the outbox; the others note their
// last run. The supervision's own results are operations, not GMP
// records: they are in the events, not the audit trail.
func (s *InfraStore) Record(ctx context.Context, results map[string]infra.Result, at time.Time) (int, error) {
	changed := 0
	err := s.infraRecord(ctx, func(tx *Tx) error {
		changed = 0
		for id, r := range results {
			c, err := tx.check(id)
			if errs.Is(err, errs.NotFound) {
				continue // withdrawn while it ran
			}
			if err != nil {
				return err
			}
			detail := r.Detail.String()
			if r.State == c.State {
				if _, err := tx.exec(`UPDATE infra_checks SET last_at = ?, detail = ? WHERE id = ?`, at, detail, id); err != nil {
					return err
				}
				continue
			}
			changed++
			if _, err := tx.exec(`UPDATE infra_checks SET state = ?, since = ?, last_at = ?, detail = ? WHERE id = ?`,
				string(r.State), at, at, detail, id); err != nil {
				return err
			}
			ev := NewID()
			if _, err := tx.exec(`INSERT INTO infra_events (id, at, check_id, asset_id, asset_code, from_state, to_state, detail)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, ev, at, id, c.AssetID, c.Asset, string(c.State), string(r.State), detail); err != nil {
				return err
			}
			tx.enqueue(outbox.InfraStateChanged, infra.EntityCheck, id, "", map[string]any{"asset_id": c.AssetID, "asset": c.Asset,
				"from": string(c.State), "to": string(r.State)})
		}
		return nil
	})
	return changed, err
}

// infraRecord runs the supervision's write as the command
// infra.checks.record: by the system on the leading node, or by who may
// keep the infrastructure.
func (s *InfraStore) infraRecord(ctx context.Context, fn func(tx *Tx) error) error {
	if a := actorOf(ctx); !a.IsSystem() {
		if err := infra.MayEdit(a); err != nil {
			return err
		}
	}
	return s.db.Write(ctx, "infra.checks.record", "", fn)
}

const infraEventCols = `e.id, e.at, CAST(e.check_id AS TEXT), CAST(e.asset_id AS TEXT), e.asset_code, e.from_state, e.to_state, e.detail`

func scanInfraEvent(sc scanner, e *infra.Event) error {
	var from, to, detail string
	err := sc.Scan(&e.ID, &e.At, &e.CheckID, &e.AssetID, &e.Asset, &from, &to, &detail)
	e.From, e.To, e.Detail = infra.State(from), infra.State(to), decodeCoded(detail)
	return err
}

// Events lists the changes of state, the newest first, of one asset if
// named; at most limit (1 to 1000).
func (s *InfraStore) Events(ctx context.Context, assetID string, limit int) ([]infra.Event, error) {
	limit = max(1, min(limit, 1000))
	return infraRead(ctx, s, func(tx *Tx) ([]infra.Event, error) {
		if assetID == "" {
			return collect(tx, `SELECT `+infraEventCols+` FROM infra_events e ORDER BY e.at DESC, e.id DESC LIMIT ?`, []any{limit}, scanInfraEvent)
		}
		if !validID(assetID) {
			return []infra.Event{}, nil
		}
		return collect(tx, `SELECT `+infraEventCols+` FROM infra_events e WHERE e.asset_id = ? ORDER BY e.at DESC, e.id DESC LIMIT ?`,
			[]any{assetID, limit}, scanInfraEvent)
	})
}
