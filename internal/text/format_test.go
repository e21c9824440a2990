package text

import "testing"

func TestFormatQuantity(t *testing.T) {
	for _, c := range []struct {
		lang string
		f    float64
		want string
	}{
		{"fr", 20000, "20\u202f000"},
		{"en", 20000, "20,000"},
		{"fr", 12500.5, "12\u202f500,5"},
		{"en", 12500.5, "12,500.5"},
		{"fr", 999, "999"},
		{"en", 0.25, "0.25"},
		{"fr", -1234567, "-1\u202f234\u202f567"},
		{"fr", -0.5, "-0,5"},
	} {
		if got := FormatQuantity(c.lang, c.f); got != c.want {
			t.Errorf("FormatQuantity(%s, %v) = %q, want %q", c.lang, c.f, got, c.want)
		}
	}
}
