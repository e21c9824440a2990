package pdf

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"strings"
	"testing"
)

// TestFontCovers: the embedded font has a glyph for Latin with its
// extensions, Greek, Cyrillic, the symbols of specifications and Chinese
// and Japanese names; not for a character outside its documented sets
// (an ideograph beyond the BMP, Hangul, a private-use character).
func TestFontCovers(t *testing.T) {
	for _, s := range []string{"≥ ≤ ± ° µ → —", "Łukasz Żółć", "Δ", "Пётр", "王芳", "山田太郎", "ひらがな カタカナ", "ÀÉÈÇœ"} {
		if !Covers(s) {
			t.Errorf("the font lacks a glyph of %q", s)
		}
	}
	if Covers("𠀀") || Covers("김") || Covers("\ue000") {
		t.Error("Covers says yes to characters the font has not")
	}
	if got := Printable("김 王\tµ\r\n𠀀"); got != "\uFFFD 王 µ\n\uFFFD" {
		t.Errorf("Printable gives %q", got)
	}
	if s := "Łukasz Żółć Пётр 王芳 ≥ µ"; Printable(s) != s {
		t.Errorf("Printable changed %q", s)
	}
	if Width("王", 10, false) <= Width("i", 10, false) || Width("W", 10, true) <= Width("W", 10, false)*0.99 {
		t.Error("the widths are not the font's")
	}
}

// TestWrap: a UUID or a lot code too long for its column is broken after
// its own hyphens, a hash between characters, never with a character
// added; words wrap at spaces; line breaks are kept.
func TestWrap(t *testing.T) {
	const id = "01a240bc-e71f-7e12-a212-78a1c7895bbc"
	width := Width("01a240bc-e71f-7e12-", 7, false) + 0.1
	lines := Wrap(id, width, 7, false)
	if len(lines) < 2 || strings.Join(lines, "") != id {
		t.Fatalf("the id broken into %q", lines)
	}
	for _, l := range lines[:len(lines)-1] {
		if !strings.HasSuffix(l, "-") || strings.Count(id, l) != 1 {
			t.Errorf("line %q does not end at one of the id's hyphens", l)
		}
	}
	for _, l := range lines {
		if Width(l, 7, false) > width {
			t.Errorf("line %q is wider than the column", l)
		}
	}
	// A column the id fits in keeps it whole.
	if l := Wrap(id, Width(id, 7, false)+0.1, 7, false); len(l) != 1 || l[0] != id {
		t.Errorf("an id that fits is broken: %q", l)
	}

	hash := "sha256:540f1020c17fc62b2ce9b46a53a36b3cac004b93fdd07124eefa61823c6c9930"
	lines = Wrap(hash, 20, 7, false)
	if strings.Join(lines, "") != hash || len(lines) < 3 || lines[0] != "sha256:" {
		t.Errorf("the hash broken into %q", lines)
	}

	lines = Wrap("Measure the pH of the solution\nPасчёт 王芳", Width("Measure the pH", 8, true)+0.1, 8, true)
	want := []string{"Measure the pH", "of the solution", "Pасчёт 王芳"}
	if strings.Join(lines, "|") != strings.Join(want, "|") {
		t.Errorf("wrapped %q, want %q", lines, want)
	}
	// A column narrower than one character still gives every character.
	if l := Wrap("王芳", 0.1, 8, false); strings.Join(l, "") != "王芳" || len(l) != 2 {
		t.Errorf("a too narrow column: %q", l)
	}
	if l := Wrap("", 10, 8, false); len(l) != 1 || l[0] != "" {
		t.Errorf("an empty text: %q", l)
	}
}

// TestPDFARefuses: what is not a single-revision gofpdf document is
// refused, not half converted.
func TestPDFARefuses(t *testing.T) {
	for name, doc := range map[string]string{
		"not a PDF": "hello",
		"no table":  "%PDF-1.3\n1 0 obj\n<<>>\nendobj\nstartxref\n9\n%%EOF\n",
		"encrypted": "%PDF-1.3\n1 0 obj\n<< /Type /Catalog /Pages 1 0 R >>\nendobj\nxref\n0 2\n0000000000 65535 f \n0000000009 00000 n \ntrailer\n<< /Size 2 /Root 1 0 R /Info 1 0 R /Encrypt 1 0 R >>\nstartxref\n58\n%%EOF\n",
		"bad entry": "%PDF-1.3\n1 0 obj\n<< /Type /Catalog /Pages 1 0 R >>\nendobj\nxref\n0 2\n0000000000 65535 f \n0000009999 00000 n \ntrailer\n<< /Size 2 /Root 1 0 R /Info 1 0 R >>\nstartxref\n58\n%%EOF\n",
	} {
		if _, err := PDFA([]byte(doc), Meta{Title: "x"}); err == nil {
			t.Errorf("%s: converted", name)
		}
	}
}

// TestFontsAsBuilt: the embedded fonts are the ones fonts/build.py makes
// (their digests in fonts/SHA256SUMS), not a file changed by hand.
func TestFontsAsBuilt(t *testing.T) {
	sums, err := os.ReadFile("fonts/SHA256SUMS")
	if err != nil {
		t.Fatal(err)
	}
	for name, ttf := range map[string][]byte{"GalenixSans-Regular.ttf": RegularTTF, "GalenixSans-Bold.ttf": BoldTTF} {
		sum := sha256.Sum256(ttf)
		if !strings.Contains(string(sums), hex.EncodeToString(sum[:])+"  "+name) {
			t.Errorf("%s (%x) is not the font build.py makes", name, sum)
		}
	}
}
