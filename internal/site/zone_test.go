package site_test

import (
	"testing"

	"galenix/internal/site"
)

func TestLocation(t *testing.T) {
	for _, tt := range []struct {
		site *site.Site
		want string
	}{
		{&site.Site{Timezone: "America/Montreal"}, "America/Montreal"},
		{&site.Site{Timezone: "Europe/Paris"}, "Europe/Paris"},
		{&site.Site{}, site.DefaultTimezone},
		{&site.Site{Timezone: "Nowhere/Atlantis"}, site.DefaultTimezone},
		{nil, site.DefaultTimezone},
	} {
		if got := tt.site.Location().String(); got != tt.want {
			t.Errorf("%+v: zone %q, want %q", tt.site, got, tt.want)
		}
	}
	if site.DefaultTimezone != "Europe/Paris" || site.DefaultLocation().String() != "Europe/Paris" {
		t.Errorf("the default zone is %q", site.DefaultLocation())
	}
}
