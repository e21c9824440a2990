package store_test

import (
	"context"
	"testing"
	"time"

	"galenix/internal/audit"
	"galenix/internal/errs"
	"galenix/internal/esign"
	"galenix/internal/identity"
	"galenix/internal/site"
	"galenix/internal/store"
)

// TestHistoryLoad: only the system loads a history; its writes go through
// the services in its one transaction, dated as it says (Backdate), and
// carry its command; the trail shows its past signatures in the session
// "demo". A write of the load that fails fails the whole load, even if the
// loader goes on; a load's context writes nothing once it has ended.
func TestHistoryLoad(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *store.DB) {
		sys := as(identity.System)
		before := lastSeqAll(t, db)
		// Only the system loads a history.
		olga := identity.Actor{UserID: store.NewID(), Name: "Olga", Roles: []identity.Role{identity.RoleAdmin}}
		if err := db.WriteHistory(as(olga), "test.history", func(context.Context, *store.History) error { return nil }); err == nil {
			t.Error("a person loaded a history")
		}
		// Another actor than the system in the load's context is refused,
		// and fails the load even if the loader carries on.
		err := db.WriteHistory(sys, "test.history", func(ctx context.Context, h *store.History) error {
			if err := db.Site().CreateSite(ctx, &site.Site{Code: "FSB", Name: "Fontenay", Timezone: "Europe/Paris"}); err != nil {
				return err
			}
			if err := db.Site().CreateBuilding(identity.WithActor(ctx, olga), &site.Building{Code: "B1", Name: "Un", Role: site.RoleOffices}); err == nil {
				t.Error("another actor wrote in a history load")
			}
			return nil
		})
		if err == nil {
			t.Error("a history load whose write failed committed")
		}
		// A write refused half-way fails the load too.
		err = db.WriteHistory(sys, "test.history", func(ctx context.Context, h *store.History) error {
			if err := db.Site().CreateSite(ctx, &site.Site{Code: "FSB", Name: "Fontenay", Timezone: "Europe/Paris"}); err != nil {
				return err
			}
			_ = db.Site().CreateBuilding(ctx, &site.Building{Code: "", Name: "Sans code", Role: site.RoleOffices})
			return nil
		})
		if errs.CodeOf(err) != errs.Invalid {
			t.Errorf("a history load with an invalid write: %v, want invalid", err)
		}
		if got := lastSeqAll(t, db); got != before {
			t.Fatalf("refused loads left %d audit entries", got-before)
		}
		if _, err := db.Site().Site(sys); !errs.Is(err, errs.NotFound) {
			t.Fatalf("refused loads left a site: %v", err)
		}

		// A history load dates its records as told; its reads see what it
		// wrote; its entries carry its command.
		past := time.Date(2026, 1, 5, 8, 0, 0, 0, time.UTC)
		var loaded context.Context
		var history *store.History
		must(t, db.WriteHistory(sys, "test.history", func(ctx context.Context, h *store.History) error {
			loaded, history = ctx, h
			now := h.Now()
			if err := h.Backdate(past); err != nil {
				return err
			}
			if !h.Now().Equal(past) {
				t.Errorf("clock %v, want %v", h.Now(), past)
			}
			if err := db.Site().CreateSite(ctx, &site.Site{Code: "FSB", Name: "Fontenay", Timezone: "Europe/Paris"}); err != nil {
				return err
			}
			if st, err := db.Site().Site(ctx); err != nil || st.Code != "FSB" {
				t.Errorf("the load reads its site: %+v, %v", st, err)
			}
			// Outside the load, nothing is there yet.
			if _, err := db.Site().Site(sys); !errs.Is(err, errs.NotFound) {
				t.Errorf("the load's site seen outside it: %v", err)
			}
			return h.Backdate(now)
		}))
		es, err := db.Audit().Entries(sys, audit.Filter{Entity: "site", Limit: 10})
		must(t, err)
		if len(es) == 0 {
			t.Fatal("the history wrote no entry")
		}
		for _, e := range es {
			if !e.At.Equal(past) || e.Command != "test.history" || e.ActorID != identity.System.UserID {
				t.Errorf("history entry %+v", e)
			}
		}
		// The load has ended: its context and its handle write nothing.
		if err := db.Site().CreateBuilding(loaded, &site.Building{Code: "B2", Name: "Deux", Role: site.RoleOffices}); errs.CodeOf(err) != errs.Internal {
			t.Errorf("a write with an ended load's context: %v", err)
		}
		if err := history.Backdate(past); errs.CodeOf(err) != errs.Internal {
			t.Errorf("backdating after the load: %v", err)
		}
		if err := history.Sign(store.NewID(), esign.Performed, identity.System.UserID, "Nobody"); errs.CodeOf(err) != errs.Internal {
			t.Errorf("a past signature after the load: %v", err)
		}
		// A load within a load is refused.
		err = db.WriteHistory(sys, "test.history", func(ctx context.Context, h *store.History) error {
			return db.WriteHistory(ctx, "test.inner", func(context.Context, *store.History) error { return nil })
		})
		if err == nil {
			t.Errorf("a history load within another: %v", err)
		}
	})
}
