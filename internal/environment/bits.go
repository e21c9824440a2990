package environment

// bitWriter appends bits, most significant first, to a byte slice.
type bitWriter struct {
	out  []byte
	acc  uint64 // pending bits, right-aligned
	nacc int
}

// write appends the n low bits of v (n ≤ 64).
func (w *bitWriter) write(v uint64, n int) {
	for n > 0 {
		take := min(n, 56-w.nacc)
		n -= take
		w.acc = w.acc<<take | (v>>n)&(1<<take-1)
		w.nacc += take
		for w.nacc >= 8 {
			w.nacc -= 8
			w.out = append(w.out, byte(w.acc>>w.nacc))
		}
		w.acc &= 1<<w.nacc - 1
	}
}

// flush pads the last byte with zero bits.
func (w *bitWriter) flush() []byte {
	if w.nacc > 0 {
		w.out = append(w.out, byte(w.acc<<(8-w.nacc)))
		w.acc, w.nacc = 0, 0
	}
	return w.out
}

// bitReader reads bits written by bitWriter; reading past the end sets
// err and returns zeros.
type bitReader struct {
	in  []byte
	pos int // in bits
	err bool
}

func (r *bitReader) read(n int) uint64 {
	var v uint64
	for n > 0 {
		i := r.pos >> 3
		if i >= len(r.in) {
			r.err = true
			return 0
		}
		off := r.pos & 7
		take := min(n, 8-off)
		b := uint64(r.in[i]>>(8-off-take)) & (1<<take - 1)
		v = v<<take | b
		r.pos += take
		n -= take
	}
	return v
}

func (r *bitReader) bit() bool { return r.read(1) == 1 }
