package audit

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
)

// walk verifies the entries one by one with Add, or in batches of size n
// with AddBatch, and returns the error and the verifier.
func walk(es []Entry, hs []Hash, n int) (*Verifier, error) {
	v := NewVerifier()
	prevs := make([]Hash, len(es))
	for i := range es {
		prevs[i] = prevOf(hs, i)
	}
	for start := 0; start < len(es); start += max(n, 1) {
		end := min(len(es), start+max(n, 1))
		var err error
		if n == 0 {
			err = v.Add(&es[start], prevs[start], hs[start])
		} else {
			err = v.AddBatch(es[start:end], prevs[start:end], hs[start:end])
		}
		if err != nil {
			return v, err
		}
	}
	return v, nil
}

// TestAddBatchIsAdd tampers with a chain in many ways: AddBatch, whatever
// the batch size, names the same entry with the same reason as Add.
func TestAddBatchIsAdd(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	tampers := []func(es []Entry, hs []Hash, i int) ([]Entry, []Hash){
		func(es []Entry, hs []Hash, i int) ([]Entry, []Hash) { return es, hs },
		func(es []Entry, hs []Hash, i int) ([]Entry, []Hash) { es[i].New = "forged"; return es, hs },
		func(es []Entry, hs []Hash, i int) ([]Entry, []Hash) { es[i].Seq++; return es, hs },
		func(es []Entry, hs []Hash, i int) ([]Entry, []Hash) { hs[i][0] ^= 1; return es, hs },
		func(es []Entry, hs []Hash, i int) ([]Entry, []Hash) {
			return slices.Delete(es, i, i+1), slices.Delete(hs, i, i+1)
		},
		func(es []Entry, hs []Hash, i int) ([]Entry, []Hash) {
			return slices.Insert(es, i, es[i]), slices.Insert(hs, i, hs[i])
		},
		func(es []Entry, hs []Hash, i int) ([]Entry, []Hash) {
			es[i], es[i+1] = es[i+1], es[i]
			hs[i], hs[i+1] = hs[i+1], hs[i]
			return es, hs
		},
		func(es []Entry, hs []Hash, i int) ([]Entry, []Hash) {
			es[i].Old = "forged"
			hs[i] = Link(prevOf(hs, i), es[i].Digest())
			return es, hs
		},
	}
	for k, tamper := range tampers {
		for range 5 {
			es, hs := chain(1500)
			i := r.IntN(len(es) - 1)
			es, hs = tamper(es, hs, i)
			_, want := walk(es, hs, 0)
			for _, n := range []int{1, 7, 300, 1024, len(es)} {
				v, got := walk(es, hs, n)
				if fmt.Sprint(got) != fmt.Sprint(want) {
					t.Errorf("tamper %d at %d, batches of %d: got %v, want %v", k, i, n, got, want)
				}
				if want == nil && v.Count != int64(len(es)) {
					t.Errorf("batches of %d: %d entries verified, want %d", n, v.Count, len(es))
				}
			}
		}
	}
}
