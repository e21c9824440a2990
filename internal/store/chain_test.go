package store_test

import (
	"fmt"
	"sync"
	"testing"

	"galenix/internal/audit"
	"galenix/internal/identity"
	"galenix/internal/site"
	"galenix/internal/store"
)

// TestAuditChain: concurrent commands append their entries to one hash
// chain, in sequence order, without a gap, each linked to the one before.
func TestAuditChain(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *store.DB) {
		var wg sync.WaitGroup
		errc := make(chan error, 40)
		for w := 0; w < 4; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; i < 10; i++ {
					p := &site.Person{Badge: fmt.Sprintf("C%d-%02d", w, i), Name: "Personne", Job: "Opérateur"}
					errc <- db.Site().CreatePerson(as(alice), p)
				}
			}()
		}
		wg.Wait()
		close(errc)
		for err := range errc {
			must(t, err)
		}
		es, err := db.Audit().Entries(as(identity.System), audit.Filter{})
		must(t, err)
		if len(es) != 40*3 {
			t.Fatalf("%d entries, want %d", len(es), 40*3)
		}
		v := audit.NewVerifier()
		for i := range es {
			prev, err1 := audit.ParseHash(es[i].PrevHash)
			hash, err2 := audit.ParseHash(es[i].Hash)
			if err1 != nil || err2 != nil {
				t.Fatalf("entry %d: hashes %q %q", es[i].Seq, es[i].PrevHash, es[i].Hash)
			}
			if err := v.Add(&es[i], prev, hash); err != nil {
				t.Fatal(err)
			}
		}
		if v.Count != int64(len(es)) {
			t.Errorf("verified %d of %d", v.Count, len(es))
		}
	})
}
