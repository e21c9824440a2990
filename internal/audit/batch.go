package audit

import (
	"runtime"
	"sync"
)

// AddBatch verifies the next entries, in sequence order, against their
// stored previous hashes and hashes, as Add would one by one, and fails on
// the same first entry with the same reason. It hashes on every CPU: with
// the stored hashes at hand, whether an entry matches its own hash does not
// depend on the entries before it; only the links between stored hashes,
// compared in order afterwards, do.
func (v *Verifier) AddBatch(es []Entry, prev, hash []Hash) error {
	if len(prev) != len(es) || len(hash) != len(es) {
		panic("audit: AddBatch needs a previous hash and a hash for each entry")
	}
	ok := make([]bool, len(es))
	workers := min(runtime.GOMAXPROCS(0), max(1, len(es)/256))
	var wg sync.WaitGroup
	for w := range workers {
		lo, hi := w*len(es)/workers, (w+1)*len(es)/workers
		wg.Go(func() {
			for i := lo; i < hi; i++ {
				ok[i] = Link(prev[i], es[i].Digest()) == hash[i]
			}
		})
	}
	wg.Wait()
	for i := range es {
		if err := v.check(es[i].Seq, prev[i]); err != nil {
			return err
		}
		if !ok[i] {
			return &Broken{es[i].Seq, "its content does not match its hash: the entry was changed"}
		}
		v.prev, v.next = hash[i], es[i].Seq+1
		v.Count++
	}
	return nil
}
