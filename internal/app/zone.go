package app

import (
	"context"
	"log/slog"
	"time"

	"galenix/internal/errs"
	"galenix/internal/site"
	"galenix/internal/store"
)

// siteZone reads, once at start, the site's time zone from its settings:
// what the pages, the documents and the days of the queries are in. A
// database without a site yet (before the demo or the first set-up) takes
// site.DefaultTimezone; a node must be restarted to take a site's new zone.
func siteZone(ctx context.Context, db *store.DB, log *slog.Logger) *time.Location {
	st, err := db.Site().Site(ctx)
	if err != nil {
		if !errs.Is(err, errs.NotFound) && log != nil {
			log.Warn("reading the site's time zone; showing times in the default zone", slog.String("zone", site.DefaultTimezone), slog.Any("err", err))
		}
		return site.DefaultLocation()
	}
	return st.Location()
}
