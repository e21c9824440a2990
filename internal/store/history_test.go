package store_test

import (
	"testing"
	"time"

	"galenix/internal/audit"
	"galenix/internal/errs"
	"galenix/internal/esign"
	"galenix/internal/identity"
	"galenix/internal/site"
	"galenix/internal/store"
)

// TestHistoryLoad: only a history load, by the system, dates what it
// writes in the past (and writes past signatures, and sets a master's
// status as the history has it); its entries carry the dates it gave and
// its command. Outside one, a transaction's clock and actor are fixed.
func TestHistoryLoad(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *store.DB) {
		sys := as(identity.System)
		before := lastSeqAll(t, db)
		// An ordinary write may not backdate, nor sign without
		// credentials.
		err := db.Write(sys, "test.write", "", func(tx *store.Tx) error {
			if err := tx.Backdate(time.Now().AddDate(-1, 0, 0)); err != nil {
				return err
			}
			return tx.CreateSite(&site.Site{Code: "FSB", Name: "Fontenay", Timezone: "Europe/Paris"})
		})
		if errs.CodeOf(err) != errs.Internal {
			t.Errorf("a backdated ordinary write: %v", err)
		}
		err = db.Write(sys, "test.write", "", func(tx *store.Tx) error {
			return tx.DemoSign(store.NewID(), esign.Performed, identity.System.UserID, "Nobody")
		})
		if errs.CodeOf(err) != errs.Internal {
			t.Errorf("a demo signature in an ordinary write: %v", err)
		}
		// Only the system loads a history.
		olga := identity.Actor{UserID: store.NewID(), Name: "Olga", Roles: []identity.Role{identity.RoleAdmin}}
		if err := db.WriteHistory(as(olga), "test.history", func(*store.Tx) error { return nil }); err == nil {
			t.Error("a person loaded a history")
		}
		if got := lastSeqAll(t, db); got != before {
			t.Fatalf("refused writes left %d audit entries", got-before)
		}
		// A history load dates its records as told.
		past := time.Date(2026, 1, 5, 8, 0, 0, 0, time.UTC)
		must(t, db.WriteHistory(sys, "test.history", func(tx *store.Tx) error {
			now := tx.Now()
			if err := tx.Backdate(past); err != nil {
				return err
			}
			if !tx.Now().Equal(past) || tx.Actor().UserID != identity.System.UserID {
				t.Errorf("clock %v, actor %+v", tx.Now(), tx.Actor())
			}
			if err := tx.CreateSite(&site.Site{Code: "FSB", Name: "Fontenay", Timezone: "Europe/Paris"}); err != nil {
				return err
			}
			return tx.Backdate(now)
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
	})
}
