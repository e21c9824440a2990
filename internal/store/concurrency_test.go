package store_test

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"galenix/internal/audit"
	"galenix/internal/errs"
	"galenix/internal/site"
	"galenix/internal/store"
)

func TestConcurrentWrites(t *testing.T) {
	t.Parallel()
	const writers, each = 8, 20
	forEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := as(alice)
		s := db.Site()
		var wg sync.WaitGroup
		errc := make(chan error, writers*each)
		for w := range writers {
			wg.Go(func() {
				for i := range each {
					p := site.Person{Badge: fmt.Sprintf("%02d-%03d", w, i), Name: fmt.Sprintf("Person %d.%d", w, i), Job: "Operator"}
					// A write that waited DefaultPoolWait for the
					// writer answers busy, nothing done, as a
					// loaded machine may: the writer tries again,
					// as the message tells people to, and the
					// counts below show that the busy one wrote
					// nothing.
					err := s.CreatePerson(ctx, &p)
					for try := 0; errs.Is(err, errs.Unavailable) && try < 5; try++ {
						p = site.Person{Badge: p.Badge, Name: p.Name, Job: p.Job}
						err = s.CreatePerson(ctx, &p)
					}
					if err != nil {
						errc <- fmt.Errorf("writer %d, person %d: %w", w, i, err)
					}
				}
			})
		}
		// Readers run alongside: on SQLite they must neither block the
		// writer nor be refused.
		var done atomic.Bool
		var readers sync.WaitGroup
		for range 2 {
			readers.Go(func() {
				for !done.Load() {
					if _, err := s.People(ctx, site.PersonFilter{Limit: 50}); err != nil {
						errc <- fmt.Errorf("reader: %w", err)
						return
					}
				}
			})
		}
		wg.Wait()
		done.Store(true)
		readers.Wait()
		close(errc)
		for err := range errc {
			t.Error(err)
		}

		people, err := s.People(ctx, site.PersonFilter{})
		must(t, err)
		if got, want := len(people), writers*each; got != want {
			t.Errorf("people: got %d, want %d", got, want)
		}
		es, err := db.Audit().Entries(ctx, audit.Filter{Entity: "person"})
		must(t, err)
		if got, want := len(es), writers*each*3; got != want { // badge, name, job
			t.Errorf("person audit entries: got %d, want %d", got, want)
		}
		perPerson := map[string]int{}
		for _, e := range es {
			perPerson[e.EntityID]++
		}
		for _, p := range people {
			if perPerson[p.ID] != 3 {
				t.Errorf("person %s has %d audit entries, want 3", p.Badge, perPerson[p.ID])
			}
		}
	})
}
