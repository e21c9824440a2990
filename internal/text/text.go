// Package text holds what people read: one catalogue of messages per
// language, in files (catalog/fr.json, catalog/en.json), and the rendering
// of a message key with its arguments in the reader's language, with that
// language's number and date format. Errors (errs), pages (web), signature
// meanings (esign) and PDFs all take their words from here.
//
// A message is a plain string; given arguments, it is a fmt format: %s, %d,
// %[2]s (a language may put the arguments in another order), or {name} for
// the named arguments of a Named value. An argument that knows how to write
// itself in a language (a Localizer: Int, Decimal, Date ...) is written
// the reader's way before formatting.
package text

import (
	"embed"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"sync"
)

// The languages: French first (the site's), English second.
const (
	FR = "fr"
	EN = "en"
)

// Languages lists the catalogue's languages, the default first.
var Languages = []string{FR, EN}

//go:embed catalog/*.json
var files embed.FS

// catalogue is every language's messages by key, read once from the
// embedded files. A file that does not parse is a build mistake that the
// package's tests catch; the program would then panic at its first message.
var catalogue = sync.OnceValue(func() map[string]map[string]string {
	c := make(map[string]map[string]string, len(Languages))
	for _, lang := range Languages {
		b, err := files.ReadFile("catalog/" + lang + ".json")
		if err != nil {
			panic("text: " + err.Error())
		}
		m := map[string]string{}
		if err := json.Unmarshal(b, &m); err != nil {
			panic("text: catalog/" + lang + ".json: " + err.Error())
		}
		c[lang] = m
	}
	return c
})

// Lang returns the catalogue language nearest to lang: English for "en",
// French (the site's language) otherwise.
func Lang(lang string) string {
	if lang == EN {
		return EN
	}
	return FR
}

// Has reports whether the catalogue holds key.
func Has(key string) bool {
	_, ok := catalogue()[FR][key]
	if !ok {
		_, ok = catalogue()[EN][key]
	}
	return ok
}

// Keys returns the keys of lang's catalogue, sorted.
func Keys(lang string) []string {
	m := catalogue()[lang]
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// Message returns the message of key in lang as written in the catalogue,
// unformatted, and whether the catalogue holds it in lang.
func Message(lang, key string) (string, bool) {
	m, ok := catalogue()[Lang(lang)][key]
	return m, ok
}

// Render writes the message of key in lang with its arguments. A key the
// catalogue lacks shows as itself, so that the omission is visible (and the
// catalogue's tests catch it).
func Render(lang, key string, args ...any) string {
	lang = Lang(lang)
	m, ok := catalogue()[lang][key]
	if !ok {
		return key
	}
	return Format(lang, m, args...)
}

// RenderCount writes the message of key for a count n, as Render does:
// its singular form, key+".one", when the catalogue has one and n is
// singular in lang (0 and 1 in French, 1 in English), key otherwise. n is
// not an argument of the message: pass it in args where the message shows
// it.
func RenderCount(lang, key string, n int, args ...any) string {
	lang = Lang(lang)
	if singular(lang, n) {
		if _, ok := catalogue()[lang][key+PluralOne]; ok {
			key += PluralOne
		}
	}
	return Render(lang, key, args...)
}

// PluralOne ends the key of a message's singular form (see RenderCount).
const PluralOne = ".one"

// singular reports whether a count of n takes the singular in lang.
func singular(lang string, n int) bool {
	if lang == FR {
		return n == 0 || n == 1
	}
	return n == 1
}

// Format writes the format f in lang with args: Localizer arguments are
// written the reader's way, a Named argument fills the {name} places, the
// others go to fmt.Sprintf. Without arguments f is returned as it is.
func Format(lang, f string, args ...any) string {
	if len(args) == 0 {
		return f
	}
	if len(args) == 1 {
		if n, ok := args[0].(Named); ok {
			return n.fill(lang, f)
		}
	}
	vals := make([]any, len(args))
	for i, a := range args {
		vals[i] = localize(lang, a)
	}
	return fmt.Sprintf(f, vals...)
}

// Named holds the named arguments of a message written with {name} places.
type Named map[string]any

func (n Named) fill(lang, f string) string {
	var b strings.Builder
	for {
		i := strings.IndexByte(f, '{')
		if i < 0 {
			b.WriteString(f)
			return b.String()
		}
		j := strings.IndexByte(f[i:], '}')
		if j < 0 {
			b.WriteString(f)
			return b.String()
		}
		b.WriteString(f[:i])
		name := f[i+1 : i+j]
		if v, ok := n[name]; ok {
			b.WriteString(fmt.Sprint(localize(lang, v)))
		} else {
			b.WriteString(f[i : i+j+1])
		}
		f = f[i+j+1:]
	}
}

// Localizer is an argument that writes itself in a language.
type Localizer interface {
	Localize(lang string) string
}

// Key is an argument that is itself a message key, written in the reader's
// language (a signature's meaning, an enum's label).
type Key string

// Localize renders the key in lang.
func (k Key) Localize(lang string) string { return Render(lang, string(k)) }

// Msg is an argument that is itself a message with its own arguments
// ("batch L2603-0001" / "le lot L2603-0001"), written in the reader's
// language.
type Msg struct {
	Key  string
	Args []any
}

// Localize renders the message in lang.
func (m Msg) Localize(lang string) string { return Render(lang, m.Key, m.Args...) }

func localize(lang string, a any) any {
	if l, ok := a.(Localizer); ok {
		return l.Localize(lang)
	}
	return a
}
