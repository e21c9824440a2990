package controlled

import (
	"sort"
	"time"
)

// The vault's cross-checks (the site's rule, over the gatehouse's
// events): every movement of a vault container has two people's entry
// into the vault around it, and every entry into the vault has a movement
// around it. Either missing is raised to the pharmacist.

// VaultWindow is how far from a movement its vault entries may be, and
// from an entry its movement.
const VaultWindow = time.Hour

// VaultEntry is a badge let into the vault.
type VaultEntry struct {
	// Ref names the event: its reader and sequence number.
	Ref   string    `json:"ref"`
	At    time.Time `json:"at"`
	Badge string    `json:"badge"`
	Name  string    `json:"name"`
}

// Finding is what a cross-check raises: a movement without two people's
// entry (AlertMovementAlone, Ref the movement's id), or an opening of the
// vault without a movement (AlertEntryIdle, Ref the first entry's).
type Finding struct {
	Kind AlertKind `json:"kind"`
	Ref  string    `json:"ref"`
	At   time.Time `json:"at"`
	// Serial is the movement's; Names the people who entered.
	Serial int64    `json:"serial,omitempty"`
	Names  []string `json:"names,omitempty"`
}

// CrossCheck confronts the vault's movements with its entries. Entries
// within two minutes of each other are one opening of the vault, found
// idle once.
func CrossCheck(movements []Movement, entries []VaultEntry) []Finding {
	sort.Slice(entries, func(i, j int) bool { return entries[i].At.Before(entries[j].At) })
	near := func(a, b time.Time) bool { return a.Sub(b) <= VaultWindow && b.Sub(a) <= VaultWindow }
	var out []Finding
	for _, m := range movements {
		badges := map[string]bool{}
		for _, e := range entries {
			if near(e.At, m.At) {
				badges[e.Badge] = true
			}
		}
		if len(badges) < 2 {
			out = append(out, Finding{Kind: AlertMovementAlone, Ref: m.ID, At: m.At, Serial: m.Serial})
		}
	}
	for i := 0; i < len(entries); {
		j := i + 1
		for j < len(entries) && entries[j].At.Sub(entries[j-1].At) <= 2*time.Minute {
			j++
		}
		idle := true
		for _, m := range movements {
			if near(m.At, entries[i].At) || near(m.At, entries[j-1].At) {
				idle = false
				break
			}
		}
		if idle {
			f := Finding{Kind: AlertEntryIdle, Ref: entries[i].Ref, At: entries[i].At}
			for _, e := range entries[i:j] {
				f.Names = append(f.Names, e.Name)
			}
			out = append(out, f)
		}
		i = j
	}
	return out
}

// TouchesVault reports whether a movement takes from or puts into a vault
// container, given each container's place.
func TouchesVault(m *Movement, place map[string]PlaceKind) bool {
	return place[m.ContainerID] == Vault || (m.ToContainerID != "" && place[m.ToContainerID] == Vault)
}

// DoorEvent is an event of a vault door's reader, as the cross-check reads
// it: let in, or the first badge of two waiting for the second.
type DoorEvent struct {
	VaultEntry
	Reader string
	Allow  bool
	Rule   string
}

// PairEntries are the entries into the vault that door events show, in
// time order: each badge let in, and each first badge of two (its event
// the wait, refused, under rule wait) followed within window at the same
// reader by another badge let in. A wait no one followed is no entry.
func PairEntries(events []DoorEvent, wait string, window time.Duration) []VaultEntry {
	sort.SliceStable(events, func(i, j int) bool { return events[i].At.Before(events[j].At) })
	var out []VaultEntry
	for i, e := range events {
		if e.Allow {
			out = append(out, e.VaultEntry)
			continue
		}
		if e.Rule != wait {
			continue
		}
		for _, n := range events[i+1:] {
			if n.At.Sub(e.At) > window {
				break
			}
			if n.Allow && n.Reader == e.Reader && n.Badge != e.Badge {
				out = append(out, e.VaultEntry)
				break
			}
		}
	}
	return out
}
