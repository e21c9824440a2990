package store_test

import (
	"context"
	"errors"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"galenix/internal/audit"
	"galenix/internal/errs"
	"galenix/internal/site"
	"galenix/internal/store"
)

func TestFailedWriteLeavesNothing(t *testing.T) {
	t.Parallel()
	forEachDB(t, func(t *testing.T, db *store.DB) {
		newFixture(t, db)
		ctx := as(alice)
		boom := errors.New("label printer offline")
		tests := []struct {
			name string
			fn   func(tx *store.Tx) error
			code errs.Code
		}{
			{"error after the insert", func(tx *store.Tx) error {
				if err := tx.CreateBuilding(&site.Building{Code: "B9", Name: "Warehouse", Role: site.RoleWarehouse}); err != nil {
					return err
				}
				return boom
			}, errs.Internal},
			{"refusal after the insert", func(tx *store.Tx) error {
				if err := tx.CreateBuilding(&site.Building{Code: "B9", Name: "Warehouse", Role: site.RoleWarehouse}); err != nil {
					return err
				}
				return tx.CreateBuilding(&site.Building{Code: "B1", Name: "Duplicate", Role: site.RoleWarehouse})
			}, errs.Conflict},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				before := counts(t, db)
				err := db.Write(ctx, "building.create", "", tt.fn)
				if got := errs.CodeOf(err); got != tt.code {
					t.Fatalf("got %v, want %s", err, tt.code)
				}
				if tt.code == errs.Internal && !errors.Is(err, boom) {
					t.Errorf("the internal error lost its cause: %v", err)
				}
				sameCounts(t, db, before)
				if es, err := db.Audit().Entries(ctx, audit.Filter{Entity: "building"}); err != nil || len(es) != 2*3 {
					t.Errorf("building audit entries: got %d (%v), want the fixture's %d", len(es), err, 2*3)
				}
			})
		}

		// A transaction left open by a panic would hold its locks (and on
		// SQLite the only writing connection) for good: the write below
		// would fail, and closing the database would hang until go test's
		// own timeout.
		t.Run("panic", func(t *testing.T) {
			before := counts(t, db)
			func() {
				defer func() {
					if p := recover(); p != "printer on fire" {
						t.Errorf("recovered %v, want the panic to go on up", p)
					}
				}()
				db.Write(ctx, "building.create", "", func(tx *store.Tx) error {
					if err := tx.CreateBuilding(&site.Building{Code: "B9", Name: "Warehouse", Role: site.RoleWarehouse}); err != nil {
						return err
					}
					panic("printer on fire")
				})
			}()
			sameCounts(t, db, before)
			// The transaction was rolled back, so the next write does not
			// wait for it (SQLite has a single writer).
			wctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			defer cancel()
			must(t, db.Site().CreateBuilding(wctx, &site.Building{Code: "B9", Name: "Warehouse", Role: site.RoleWarehouse}))
		})
	})
}

func TestAuditTrailIsAppendOnly(t *testing.T) {
	t.Parallel()
	forEachDB(t, func(t *testing.T, db *store.DB) {
		newFixture(t, db)
		ctx := as(alice)
		before, err := db.Audit().Entries(ctx, audit.Filter{})
		must(t, err)
		if len(before) == 0 {
			t.Fatal("the fixture wrote no audit entries")
		}
		first := before[0]
		statements := []string{
			`UPDATE audit_log SET new_value = 'forged' WHERE seq = ` + itoa(first.Seq),
			`UPDATE audit_log SET reason = 'forged'`,
			`DELETE FROM audit_log WHERE seq = ` + itoa(first.Seq),
			`DELETE FROM audit_log`,
		}
		switch db.Dialect() {
		case store.Postgres:
			statements = append(statements,
				`TRUNCATE audit_log`,
				`INSERT INTO audit_log (seq, at, actor_id, actor_name, session_id, address, command, entity, entity_id, field, old_value, new_value, reason)
				 OVERRIDING SYSTEM VALUE VALUES (`+itoa(first.Seq)+`, now(), 'x', 'x', '', '', 'x', 'x', 'x', 'x', '', 'forged', '')
				 ON CONFLICT (seq) DO UPDATE SET new_value = excluded.new_value`)
		case store.SQLite:
			statements = append(statements,
				`INSERT OR REPLACE INTO audit_log (seq, at, actor_id, actor_name, session_id, address, command, entity, entity_id, field, old_value, new_value, reason)
				 VALUES (`+itoa(first.Seq)+`, '2026-01-01 00:00:00+00:00', 'x', 'x', '', '', 'x', 'x', 'x', 'x', '', 'forged', '')`,
				`REPLACE INTO audit_log (seq, at, actor_id, actor_name, session_id, address, command, entity, entity_id, field, old_value, new_value, reason)
				 VALUES (`+itoa(first.Seq)+`, '2026-01-01 00:00:00+00:00', 'x', 'x', '', '', 'x', 'x', 'x', 'x', '', 'forged', '')`,
				`INSERT INTO audit_log (seq, at, actor_id, actor_name, session_id, address, command, entity, entity_id, field, old_value, new_value, reason)
				 VALUES (`+itoa(first.Seq)+`, '2026-01-01 00:00:00+00:00', 'x', 'x', '', '', 'x', 'x', 'x', 'x', '', 'forged', '')
				 ON CONFLICT (seq) DO UPDATE SET new_value = excluded.new_value`)
		}
		for _, q := range statements {
			name, _, _ := strings.Cut(strings.TrimSpace(q), " (")
			t.Run(name, func(t *testing.T) {
				err := db.ExecRaw(q)
				if err == nil {
					t.Fatalf("%s: the database accepted it", q)
				}
				if !strings.Contains(err.Error(), "append-only") {
					t.Errorf("%s: got %v, want the append-only trigger's refusal", q, err)
				}
				after, err := db.Audit().Entries(ctx, audit.Filter{})
				must(t, err)
				if !reflect.DeepEqual(after, before) {
					t.Errorf("%s changed the audit trail", q)
				}
			})
		}
		// Appending is still allowed.
		must(t, db.Site().CreateShift(ctx, &site.Shift{Code: "N", Name: "Night", Kind: site.ShiftNight, Start: "21:00", End: "05:00"}))
	})
}

func TestAuditFilters(t *testing.T) {
	t.Parallel()
	forEachDB(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		later := now.Add(90 * time.Minute)
		db.Now = func() time.Time { return later }
		l := f.line
		l.Status = site.LineCleaning
		must(t, db.Site().UpdateLine(as(sofia), &l, "End of campaign"))
		ctx := as(alice)
		all, err := db.Audit().Entries(ctx, audit.Filter{})
		must(t, err)
		tests := []struct {
			name   string
			filter audit.Filter
			want   int
		}{
			{"everything", audit.Filter{}, len(all)},
			{"by actor", audit.Filter{Actor: sofia.UserID}, 1},
			{"from the later time", audit.Filter{From: later}, 1},
			{"from the later time, in Paris", audit.Filter{From: later.In(time.FixedZone("CET", 3600))}, 1},
			{"before the later time", audit.Filter{To: later}, len(all) - 1},
			{"a window around the first writes", audit.Filter{From: now.Add(-time.Second), To: now.Add(time.Second)}, len(all) - 1},
			{"a window with nothing", audit.Filter{From: now.Add(time.Second), To: later}, 0},
			{"the line", audit.Filter{Entity: "line", EntityID: f.line.ID}, 8 + 1},
			{"after the second entry", audit.Filter{AfterSeq: all[1].Seq}, len(all) - 2},
			{"limited", audit.Filter{Limit: 3}, 3},
		}
		for _, tt := range tests {
			got, err := db.Audit().Entries(ctx, tt.filter)
			if err != nil {
				t.Errorf("%s: %v", tt.name, err)
				continue
			}
			if len(got) != tt.want {
				t.Errorf("%s: got %d entries, want %d", tt.name, len(got), tt.want)
			}
			for i := 1; i < len(got); i++ {
				if got[i].Seq <= got[i-1].Seq {
					t.Errorf("%s: entries out of order: %d after %d", tt.name, got[i].Seq, got[i-1].Seq)
				}
			}
		}
		last := all[len(all)-1]
		if last.Field != "status" || last.Old != "available" || last.New != "cleaning" || !last.At.Equal(later) {
			t.Errorf("last entry: got %+v, want status available → cleaning at %v", last, later)
		}
	})
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
