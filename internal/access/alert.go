package access

import (
	"slices"
	"strconv"
	"time"

	"galenix/internal/identity"
)

// The kinds of door event a reader reports besides badges.
const (
	DoorForced = "door_forced"
	DoorHeld   = "door_held"
)

// The kinds of alert raised to the PC Sécurité, as security events.
const (
	AlertDenials    = identity.EventAccessDenials
	AlertForced     = identity.EventAccessForced
	AlertHeld       = identity.EventAccessHeld
	AlertTwoPlaces  = identity.EventAccessTwoPlaces
	AlertTailgating = identity.EventAccessTailgating
)

// The thresholds of the alerts.
const (
	// DenialsAlert denials of one badge within DenialsWindow raise one.
	DenialsAlert  = 3
	DenialsWindow = 10 * time.Minute
	// TwoPlacesWindow: a badge let into two buildings within it was
	// used in two places.
	TwoPlacesWindow = time.Minute
)

// Alert is something the PC Sécurité must see: its kind, the badge and
// reader concerned, when, and its parameters (not a sentence: the page
// words them).
type Alert struct {
	Kind   string    `json:"kind"`
	Badge  string    `json:"badge"`
	Reader string    `json:"reader"`
	At     time.Time `json:"at"`
	Detail string    `json:"detail"`
}

// Seen is an event with where its reader is: what the alerts read.
type Seen struct {
	Event
	ZoneID     string
	BuildingID string
	Direction  Direction
}

// Alerts reads the events just stored (fresh) against those stored
// before them within the windows (earlier, the same badges'): repeated
// denials, a door forced or held open, a badge let into two buildings at
// once, a badge leaving again a zone it had left without entering it
// since (someone let it in behind another: tailgating).
func Alerts(fresh, earlier []Seen) []Alert {
	all := append(slices.Clone(earlier), fresh...)
	slices.SortStableFunc(all, func(a, b Seen) int { return a.At.Compare(b.At) })
	type key struct {
		reader string
		seq    int64
	}
	isFresh := map[key]bool{}
	for _, f := range fresh {
		isFresh[key{f.Reader, f.Seq}] = true
	}
	var out []Alert
	denials := map[string][]time.Time{}
	lastIn := map[string]Seen{}              // badge → last entry let in (building or perimeter)
	inside := map[string]map[string]bool{}   // badge → zone → in
	seenZone := map[string]map[string]bool{} // badge → zone → seen at all
	for _, s := range all {
		fr := isFresh[key{s.Reader, s.Seq}]
		switch s.Kind {
		case DoorForced, DoorHeld:
			if fr {
				kind := AlertForced
				if s.Kind == DoorHeld {
					kind = AlertHeld
				}
				out = append(out, Alert{Kind: kind, Reader: s.Reader, At: s.At, Detail: "reader=" + s.Reader})
			}
			continue
		}
		if !s.Allow {
			ds := append(denials[s.Badge], s.At)
			n := 0
			for _, t := range ds {
				if s.At.Sub(t) <= DenialsWindow {
					n++
				}
			}
			denials[s.Badge] = ds
			if fr && n == DenialsAlert {
				out = append(out, Alert{Kind: AlertDenials, Badge: s.Badge, Reader: s.Reader, At: s.At,
					Detail: "badge=" + s.Badge + " denials=" + strconv.Itoa(n) + " reader=" + s.Reader})
			}
			continue
		}
		if inside[s.Badge] == nil {
			inside[s.Badge], seenZone[s.Badge] = map[string]bool{}, map[string]bool{}
		}
		if s.Direction == In {
			if prev, ok := lastIn[s.Badge]; ok && fr && prev.BuildingID != "" && s.BuildingID != "" && prev.BuildingID != s.BuildingID &&
				s.At.Sub(prev.At) < TwoPlacesWindow {
				out = append(out, Alert{Kind: AlertTwoPlaces, Badge: s.Badge, Reader: s.Reader, At: s.At,
					Detail: "badge=" + s.Badge + " first=" + prev.Reader + " second=" + s.Reader})
			}
			inside[s.Badge][s.ZoneID], seenZone[s.Badge][s.ZoneID] = true, true
			lastIn[s.Badge] = s
			continue
		}
		// Leaving a zone it had left and not entered again: it entered
		// behind another.
		if fr && seenZone[s.Badge][s.ZoneID] && !inside[s.Badge][s.ZoneID] {
			out = append(out, Alert{Kind: AlertTailgating, Badge: s.Badge, Reader: s.Reader, At: s.At,
				Detail: "badge=" + s.Badge + " reader=" + s.Reader})
		}
		inside[s.Badge][s.ZoneID], seenZone[s.Badge][s.ZoneID] = false, true
	}
	return out
}
