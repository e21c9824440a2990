package web

import (
	"net/http"
	"time"
	_ "time/tzdata" // the site's zone exists on any machine, even without a zoneinfo database

	"galenix/internal/site"
	"galenix/internal/text"
)

// The languages of the pages: French first, English second.
const (
	langFR = "fr"
	langEN = "en"
)

// languages lists the page languages, the default first.
var languages = []string{langFR, langEN}

// langCookie names the cookie that keeps the chosen page language.
const langCookie = "lang"

// langOf is the page language of the request: English when the lang cookie
// asks for it, French otherwise.
func langOf(r *http.Request) string {
	if c, err := r.Cookie(langCookie); err == nil && c.Value == langEN {
		return langEN
	}
	return langFR
}

// zone is the site's time zone, which every time on the pages is shown in
// and the days of the queries are read in: Deps.Zone, given by app from the
// site's settings, or the default zone of a site without one.
func (s *Server) zone() *time.Location {
	if s.Zone != nil {
		return s.Zone
	}
	return site.DefaultLocation()
}

// tr returns the message of key in lang from the catalogue (internal/text);
// a key missing from it shows as itself, so that the omission is visible
// (and a test catches it).
func tr(lang, key string) string { return text.Render(lang, key) }

// storedText writes a text kept in a record (text.Coded's stored form) in
// lang; a string that is not one, a free text or a row from before texts
// were coded, is written as it is.
func storedText(lang, s string) string { return text.RenderStored(lang, s) }

// hasMsg reports whether the catalogue holds key.
func hasMsg(key string) bool { return text.Has(key) }

// formatDecimal writes f to read, the way the language does: 12 500,5 in
// French, 12,500.5 in English (text.FormatQuantity); not for a form's
// input, which reads numbers without grouping.
func formatDecimal(lang string, f float64) string { return text.FormatQuantity(lang, f) }

// formatInt writes n with its thousands grouped: 12 000 in French (narrow
// no-break space), 12,000 in English.
func formatInt(lang string, n int) string { return text.FormatInt(lang, n) }

// formatDate writes the calendar day of t in the site's zone.
func formatDate(lang string, t time.Time, zone *time.Location) string {
	return text.FormatDate(lang, t, zone)
}
