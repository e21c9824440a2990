package store_test

import (
	"context"
	"testing"
	"time"

	"galenix/internal/errs"
	"galenix/internal/identity"
	"galenix/internal/production"
	"galenix/internal/site"
	"galenix/internal/store"
)

// TestListSearch: the lists people search answer a page of the records
// matching their words and filters, and how many match in all, on both
// databases; a client's user finds only its laboratory's records, and
// bad pages are clamped.
func TestListSearch(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *store.DB) {
		e := newProdEnv(t, db)
		prod := db.Production()
		must(t, db.WriteHistory(as(identity.System), "test.seed", func(ctx context.Context, h *store.History) error {
			ms, err := prod.Masters(ctx, production.MasterFilter{ProductID: e.betaSyrup.ID})
			if err != nil || len(ms) != 1 {
				t.Fatalf("beta's master: %v %v", ms, err)
			}
			return h.SetMasterStatus(ms[0].ID, production.MasterEffective)
		}))
		// A planner who plans for both laboratories.
		pa := e.acc["victor"].Actor()
		pa.SessionID, pa.Assigned = "session-victor-both", []string{e.alpha.ID, e.beta.ID}
		both := as(pa)
		var syrupLot string
		var vials []string
		for _, p := range []production.Product{e.vial, e.vial, e.vial, e.tablet, e.tablet, e.betaSyrup} {
			o := &production.Order{ProductID: p.ID, Quantity: 1000, DueOn: now.AddDate(0, 1, 0)}
			if p.ID == e.betaSyrup.ID {
				o.DueOn = now.AddDate(0, 2, 0)
			}
			must(t, prod.CreateOrder(both, o))
			if p.ID == e.betaSyrup.ID {
				syrupLot = o.Batches[0].Lot
			}
			if p.ID == e.vial.ID {
				vials = append(vials, o.Batches[0].ID)
			}
		}
		// Two vial batches on the schedule, on the 3rd and the 5th.
		for i, day := range []int{3, 5} {
			_, err := prod.ScheduleBatch(both, vials[i], production.ScheduleRequest{LineID: e.f.line.ID, Start: at(day, 6)}, "")
			must(t, err)
		}
		carla := e.actor("carla")

		type result struct {
			n, total int
			err      error
		}
		batches := func(ctx context.Context, f production.BatchFilter) result {
			bs, n, err := prod.SearchBatches(ctx, f)
			for _, b := range bs {
				if ctx == carla && b.ClientID != e.alpha.ID {
					t.Errorf("a client's user found another laboratory's batch %s", b.Lot)
				}
			}
			return result{len(bs), n, err}
		}
		for _, c := range []struct {
			name string
			got  result
			want result
		}{
			{"first page", batches(both, production.BatchFilter{Limit: 2}), result{2, 6, nil}},
			{"last page", batches(both, production.BatchFilter{Limit: 4, Offset: 4}), result{2, 6, nil}},
			{"past the end", batches(both, production.BatchFilter{Limit: 4, Offset: 60}), result{0, 6, nil}},
			{"product name, case aside", batches(both, production.BatchFilter{Query: " ALPHADOL ", Limit: 50}), result{2, 2, nil}},
			{"product code", batches(both, production.BatchFilter{Query: "bet-syr", Limit: 50}), result{1, 1, nil}},
			{"lot", batches(both, production.BatchFilter{Query: syrupLot, Limit: 50}), result{1, 1, nil}},
			{"wildcards are letters", batches(both, production.BatchFilter{Query: "%", Limit: 50}), result{0, 0, nil}},
			{"client", batches(both, production.BatchFilter{ClientID: e.beta.ID, Limit: 50}), result{1, 1, nil}},
			{"client that is no id", batches(both, production.BatchFilter{ClientID: "garbage", Limit: 50}), result{0, 0, nil}},
			{"state", batches(both, production.BatchFilter{States: []production.BatchState{production.BatchPlanned}, Query: "alpha", Limit: 50}), result{3, 3, nil}},
			{"scheduled", batches(both, production.BatchFilter{States: []production.BatchState{production.BatchScheduled}, Limit: 50}), result{2, 2, nil}},
			{"other state", batches(both, production.BatchFilter{States: []production.BatchState{production.BatchReleased}, Limit: 50}), result{0, 0, nil}},
			{"negative page clamped", batches(both, production.BatchFilter{Limit: -5, Offset: -3}), result{1, 6, nil}},
			{"huge page clamped", batches(both, production.BatchFilter{Limit: 1 << 30}), result{6, 6, nil}},
			{"client's user", batches(carla, production.BatchFilter{Limit: 50}), result{5, 5, nil}},
			{"client's user searching another's", batches(carla, production.BatchFilter{Query: "betasirop", Limit: 50}), result{0, 0, nil}},
			{"client's user filtering another's", batches(carla, production.BatchFilter{ClientID: e.beta.ID, Limit: 50}), result{0, 0, nil}},
			{"started from", batches(both, production.BatchFilter{From: at(4, 0), Limit: 50}), result{1, 1, nil}},
			{"started before", batches(both, production.BatchFilter{To: at(5, 6), Limit: 50}), result{1, 1, nil}},
			{"started in a period", batches(both, production.BatchFilter{From: at(3, 0), To: at(6, 0), Limit: 1}), result{1, 2, nil}},
			{"period and line", batches(both, production.BatchFilter{From: at(3, 0), LineID: e.f.line.ID, Query: "alphaca", Limit: 50}), result{2, 2, nil}},
			{"empty period", batches(both, production.BatchFilter{From: at(6, 0), To: at(3, 0), Limit: 50}), result{0, 0, nil}},
			{"client's user, period", batches(carla, production.BatchFilter{From: at(1, 0), Limit: 50}), result{2, 2, nil}},
		} {
			if c.got != c.want {
				t.Errorf("batches, %s: got %+v, want %+v", c.name, c.got, c.want)
			}
		}

		products := func(ctx context.Context, f production.ProductFilter) result {
			ps, n, err := prod.SearchProducts(ctx, f)
			return result{len(ps), n, err}
		}
		orders := func(ctx context.Context, f production.OrderFilter) result {
			os, n, err := prod.SearchOrders(ctx, f)
			for _, o := range os {
				if ctx == carla && o.ClientID != e.alpha.ID {
					t.Errorf("a client's user found another laboratory's order %s", o.Code)
				}
			}
			return result{len(os), n, err}
		}
		lots := func(ctx context.Context, f production.LotFilter) result {
			ls, n, err := prod.SearchLots(ctx, f)
			return result{len(ls), n, err}
		}
		for _, c := range []struct {
			name string
			got  result
			want result
		}{
			{"products", products(both, production.ProductFilter{Limit: 2}), result{2, 3, nil}},
			{"products by name", products(both, production.ProductFilter{Query: "SIROP", Limit: 50}), result{1, 1, nil}},
			{"products by client", products(both, production.ProductFilter{ClientID: e.alpha.ID, Limit: 50}), result{2, 2, nil}},
			{"products of a client's user", products(carla, production.ProductFilter{Limit: 50}), result{2, 2, nil}},
			{"products of another, searched by a client's user", products(carla, production.ProductFilter{Query: "bet", Limit: 50}), result{0, 0, nil}},
			{"products by form", products(both, production.ProductFilter{Form: site.FormSyrup, Limit: 50}), result{1, 1, nil}},
			{"products by form and words", products(both, production.ProductFilter{Form: site.FormTablet, Query: "alpha", Limit: 50}), result{1, 1, nil}},
			{"products of a form no product has", products(both, production.ProductFilter{Form: site.FormPaste, Limit: 50}), result{0, 0, nil}},
			{"products of another's form, by a client's user", products(carla, production.ProductFilter{Form: site.FormSyrup, Limit: 50}), result{0, 0, nil}},
			{"orders", orders(both, production.OrderFilter{Limit: 4}), result{4, 6, nil}},
			{"orders by product", orders(both, production.OrderFilter{Query: "alphacaïne", Limit: 50}), result{3, 3, nil}},
			{"orders by client", orders(both, production.OrderFilter{ClientID: e.beta.ID, Limit: 50}), result{1, 1, nil}},
			{"orders of a client's user", orders(carla, production.OrderFilter{Offset: 3, Limit: 50}), result{2, 5, nil}},
			{"orders of another, searched by a client's user", orders(carla, production.OrderFilter{Query: "syr", Limit: 50}), result{0, 0, nil}},
			{"orders due from", orders(both, production.OrderFilter{DueFrom: now.AddDate(0, 1, 15), Limit: 50}), result{1, 1, nil}},
			{"orders due before", orders(both, production.OrderFilter{DueTo: now.AddDate(0, 1, 15), Limit: 2}), result{2, 5, nil}},
			{"orders due on the day", orders(both, production.OrderFilter{DueFrom: day(now.AddDate(0, 2, 0)), DueTo: day(now.AddDate(0, 2, 1)), Limit: 50}), result{1, 1, nil}},
			{"orders due later, by a client's user", orders(carla, production.OrderFilter{DueFrom: now.AddDate(0, 1, 15), Limit: 50}), result{0, 0, nil}},
			{"lots", lots(both, production.LotFilter{Limit: 50}), result{2, 2, nil}},
			{"lots by code", lots(both, production.LotFilter{Query: "lot-o", Limit: 50}), result{1, 1, nil}},
			{"lots by material", lots(both, production.LotFilter{Query: "base", Limit: 1}), result{1, 2, nil}},
			{"lots by status", lots(both, production.LotFilter{Status: production.LotQuarantine, Limit: 50}), result{1, 1, nil}},
			{"lots of a client's user", lots(carla, production.LotFilter{Limit: 50}), result{0, 0, nil}},
			{"lots expiring before", lots(both, production.LotFilter{ExpiresTo: now.AddDate(1, 0, 1), Limit: 50}), result{2, 2, nil}},
			{"lots expiring later", lots(both, production.LotFilter{ExpiresFrom: now.AddDate(1, 0, 1), Limit: 50}), result{0, 0, nil}},
			{"lots expiring on the day, in quarantine", lots(both, production.LotFilter{ExpiresFrom: day(now.AddDate(1, 0, 0)),
				ExpiresTo: day(now.AddDate(1, 0, 1)), Status: production.LotQuarantine, Limit: 50}), result{1, 1, nil}},
			{"lots expiring, of a client's user", lots(carla, production.LotFilter{ExpiresTo: now.AddDate(2, 0, 0), Limit: 50}), result{0, 0, nil}},
		} {
			if c.got != c.want {
				t.Errorf("%s: got %+v, want %+v", c.name, c.got, c.want)
			}
		}

		s := db.Site()
		for _, p := range []site.Person{{Badge: "0101", Name: "Ana Lima", Job: "Opératrice"}, {Badge: "0102", Name: "Bruno Costa", Job: "Opérateur"},
			{Badge: "0201", Name: "Chloé Martin", Job: "Technicienne QC"}} {
			must(t, s.CreatePerson(as(alice), &p))
		}
		people := func(ctx context.Context, f site.PersonFilter) result {
			ps, n, err := s.SearchPeople(ctx, f)
			return result{len(ps), n, err}
		}
		for _, c := range []struct {
			name string
			got  result
			want result
		}{
			// Three people, and the fixture's two of the floor (olga and
			// victor, whose accounts they are): Olga Opératrice's name
			// matches too.
			{"people", people(as(alice), site.PersonFilter{Limit: 2}), result{2, 5, nil}},
			{"people by job", people(as(alice), site.PersonFilter{Query: "opérat", Limit: 50}), result{3, 3, nil}},
			{"people by badge", people(as(alice), site.PersonFilter{Query: "0201", Limit: 50}), result{1, 1, nil}},
			{"people of a team that is no id", people(as(alice), site.PersonFilter{TeamID: "x", Limit: 50}), result{0, 0, nil}},
		} {
			if c.got != c.want {
				t.Errorf("%s: got %+v, want %+v", c.name, c.got, c.want)
			}
		}
		// Staff are not a client's to search.
		_, _, err := s.SearchPeople(carla, site.PersonFilter{Query: "Ana", Limit: 50})
		wantErr(t, err, errs.Forbidden, "")
	})
}

// day is the midnight (UTC) that starts t's day.
func day(t time.Time) time.Time { return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC) }
