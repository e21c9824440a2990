// Package pdf holds what every PDF galenix writes shares: its embedded font
// (Galenix Sans, see fonts/build.py), the measure of text in that font to
// break lines without changing the text, and the conversion of a written
// document to PDF/A-2b (pdfa.go).
package pdf

import (
	_ "embed"
	"strings"
	"sync"

	"golang.org/x/image/font"
	"golang.org/x/image/font/sfnt"
	"golang.org/x/image/math/fixed"
)

// The fonts: DejaVu Sans (Latin with its extensions, Greek, Cyrillic,
// symbols) merged with the CJK glyphs of Droid Sans Fallback, regular and
// bold. Licences next to them, in fonts/.
var (
	//go:embed fonts/GalenixSans-Regular.ttf
	RegularTTF []byte
	//go:embed fonts/GalenixSans-Bold.ttf
	BoldTTF []byte
)

// metrics are one font's advance widths, in thousandths of an em as the
// PDF writer rounds them, read once per rune.
type metrics struct {
	once  sync.Once
	ttf   []byte
	f     *sfnt.Font
	err   error
	upem  int
	mu    sync.Mutex
	width map[rune]int
	glyph map[rune]bool
}

var regular, bold = &metrics{ttf: RegularTTF}, &metrics{ttf: BoldTTF}

func (m *metrics) load() error {
	m.once.Do(func() {
		m.f, m.err = sfnt.Parse(m.ttf)
		if m.err == nil {
			m.upem = int(m.f.UnitsPerEm())
			m.width = map[rune]int{}
		}
	})
	return m.err
}

// advance is r's width in thousandths of an em; a rune outside the font
// has the width of its .notdef glyph.
func (m *metrics) advance(r rune) int {
	if m.load() != nil {
		return 600
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if w, ok := m.width[r]; ok {
		return w
	}
	var buf sfnt.Buffer
	gi, err := m.f.GlyphIndex(&buf, r)
	if err != nil {
		gi = 0
	}
	adv, err := m.f.GlyphAdvance(&buf, gi, fixed.I(m.upem), font.HintingNone)
	w := 600
	if err == nil {
		// as gofpdf: round(advance × 1000 / unitsPerEm)
		w = (adv.Round()*1000 + m.upem/2) / m.upem
	}
	m.width[r] = w
	return w
}

// has tells whether the font has a glyph for r, remembered per rune.
func (m *metrics) has(r rune) bool {
	if m.load() != nil {
		return false
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.glyph == nil {
		m.glyph = map[rune]bool{}
	}
	if ok, seen := m.glyph[r]; seen {
		return ok
	}
	var buf sfnt.Buffer
	gi, err := m.f.GlyphIndex(&buf, r)
	m.glyph[r] = err == nil && gi != 0
	return m.glyph[r]
}

// Covers tells whether the embedded font has a glyph for every rune of s
// (spaces and line breaks aside).
func Covers(s string) bool {
	for _, r := range s {
		if r != ' ' && r != '\n' && !regular.has(r) {
			return false
		}
	}
	return true
}

// Missing is what a character the font has no glyph for prints as: the
// replacement character, visible, rather than the empty box of the
// font's .notdef glyph, which PDF/A forbids a text to show.
const Missing = '\uFFFD'

// Printable is s with every character the font lacks (Hangul, an
// ideograph beyond the BMP, a control character) replaced by Missing; a
// tab becomes a space and a carriage return goes.
func Printable(s string) string {
	ok := true
	for _, r := range s {
		if r != ' ' && r != '\n' && !regular.has(r) {
			ok = false
			break
		}
	}
	if ok {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '\t':
			b.WriteRune(' ')
		case r == '\r':
		case r == ' ' || r == '\n' || regular.has(r):
			b.WriteRune(r)
		default:
			b.WriteRune(Missing)
		}
	}
	return b.String()
}

// Width is the width of s in millimetres, set in the embedded font at
// size points, bold or not.
func Width(s string, size float64, isBold bool) float64 {
	m := regular
	if isBold {
		m = bold
	}
	n := 0
	for _, r := range s {
		n += m.advance(r)
	}
	return float64(n) * size / 1000 * 25.4 / 72
}
