package controlled

import (
	"strconv"
	"strings"

	"galenix/internal/text"
)

// Qty is a quantity of a substance in thousandths of its unit (a gram
// kept as 1000 mg-like units, a milligram as thousandths): exact, so that
// a register's balances never drift as floating-point sums would.
type Qty int64

// QtyScale is how many Qty make one unit.
const QtyScale = 1000

// MaxQty bounds a quantity: ten tonnes of a unit, far above any
// movement, far below overflow of a year's sums.
const MaxQty Qty = 10_000_000 * QtyScale

// ParseQty reads a quantity written with a point and at most three
// decimals ("12.5", "0.250"); ok is false for anything else, a negative
// included.
func ParseQty(s string) (Qty, bool) {
	s = strings.TrimSpace(s)
	whole, frac, dotted := strings.Cut(s, ".")
	if whole == "" || len(frac) > 3 || (dotted && frac == "") || strings.ContainsAny(whole, "+-") || strings.ContainsAny(frac, "+-") {
		return 0, false
	}
	w, err := strconv.ParseInt(whole, 10, 64)
	if err != nil || w > int64(MaxQty/QtyScale) {
		return 0, false
	}
	var f int64
	if frac != "" {
		frac += strings.Repeat("0", 3-len(frac))
		if f, err = strconv.ParseInt(frac, 10, 64); err != nil {
			return 0, false
		}
	}
	q := Qty(w*QtyScale + f)
	return q, q <= MaxQty
}

// String writes the quantity with a point and three decimals ("12.500"),
// as the register stores and numbers localize it.
func (q Qty) String() string {
	sign := ""
	if q < 0 {
		sign, q = "-", -q
	}
	return sign + strconv.FormatInt(int64(q/QtyScale), 10) + "." + strconv.FormatInt(int64(q%QtyScale)+QtyScale, 10)[1:]
}

// Localize writes the quantity with the reader's decimal mark.
func (q Qty) Localize(lang string) string { return text.LocalizeNumber(lang, q.String()) }

// MarshalJSON writes the quantity as a decimal string ("12.500"): exact,
// whatever reads it.
func (q Qty) MarshalJSON() ([]byte, error) { return []byte(`"` + q.String() + `"`), nil }

// UnmarshalJSON reads a quantity given as a decimal string or number with
// at most three decimals. Anything else reads as -1, which every check of
// a quantity refuses with its field named, rather than a JSON error.
func (q *Qty) UnmarshalJSON(b []byte) error {
	v, ok := ParseQty(strings.Trim(string(b), `"`))
	if !ok {
		v = -1
	}
	*q = v
	return nil
}
