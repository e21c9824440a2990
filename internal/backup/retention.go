package backup

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Listed is one backup as galenix backup list shows it, of either kind of
// database.
type Listed struct {
	// ID names the backup: a SQLite backup's directory, or pgBackRest's
	// label.
	ID string `json:"id"`
	// Type is "copy" for a SQLite backup; full, diff or incr for
	// pgBackRest's.
	Type string `json:"type"`
	// Start and Stop are when the backup began and ended.
	Start time.Time `json:"start"`
	Stop  time.Time `json:"stop"`
	// Size is the size of the database backed up, in bytes; RepoSize,
	// PostgreSQL only, what the backup adds to the repository.
	Size     int64 `json:"size"`
	RepoSize int64 `json:"repository_size,omitempty"`
	// Prior is the backup a diff or incr builds on.
	Prior string `json:"prior,omitempty"`
	// WALStart and WALStop are the segments of the write-ahead log the
	// backup needs (PostgreSQL).
	WALStart string `json:"wal_start,omitempty"`
	WALStop  string `json:"wal_stop,omitempty"`
	// Schema is galenix's schema version, and AuditSeq the audit chain's
	// last entry, as the backup began; 0 when unknown (a backup galenix
	// did not make).
	Schema   int64 `json:"schema_version,omitempty"`
	AuditSeq int64 `json:"audit_seq,omitempty"`
	// RestoresFrom is the first point in time the backup restores to:
	// the instant it ended. A SQLite backup restores to that instant only;
	// a PostgreSQL one to any instant from it to the end of the archived
	// log (Listing.ArchiveMax).
	RestoresFrom time.Time `json:"restores_from"`
}

// Ignored is a directory among the SQLite backups that is not one.
type Ignored struct {
	Name string `json:"name"`
	Why  string `json:"why"`
}

// Listing is what galenix backup list shows: the backups, oldest first,
// and for PostgreSQL the range of the archived write-ahead log.
type Listing struct {
	Database string `json:"database"`
	// Where is the SQLite backups' directory, or pgBackRest's stanza.
	Where   string   `json:"where"`
	Backups []Listed `json:"backups"`
	// ArchiveMin and ArchiveMax are the oldest and newest segments of the
	// write-ahead log archived (PostgreSQL): a backup restores to the
	// points in time from its end to the last commit in ArchiveMax.
	ArchiveMin string `json:"archive_min,omitempty"`
	ArchiveMax string `json:"archive_max,omitempty"`
	// Ignored are directories beside the SQLite backups that are none (a
	// backup being made has no manifest yet).
	Ignored []Ignored `json:"ignored,omitempty"`
}

// CheckKeep refuses a retention (given with the flag named) that is no
// count of backups to keep: a negative one, and 0 (it would remove every
// backup).
func CheckKeep(flag string, keep int) error {
	switch {
	case keep < 0:
		return problem("%s %d: a retention is the number of backups to keep, 1 or more", flag, keep)
	case keep == 0:
		return problem("%s 0 would remove every backup: keep at least 1", flag)
	}
	return nil
}

// CheckRetention refuses negative retentions, before anything is done; 0
// is no retention given.
func CheckRetention(keep, keepDiff int) error {
	if keep < 0 {
		return CheckKeep("--keep", keep)
	}
	if keepDiff < 0 {
		return CheckKeep("--keep-diff", keepDiff)
	}
	return nil
}

// Beyond returns the SQLite backups a retention of keep removes: all but
// the newest keep, oldest first. The order is the backups' creation time
// (their IDs, which sort by it, for equal times).
func Beyond(ms []*Manifest, keep int) ([]*Manifest, error) {
	if err := CheckKeep("--keep", keep); err != nil {
		return nil, err
	}
	sorted := slices.Clone(ms)
	slices.SortFunc(sorted, func(a, b *Manifest) int {
		if c := a.CreatedAt.Compare(b.CreatedAt); c != 0 {
			return c
		}
		return cmp.Compare(a.ID, b.ID)
	})
	if len(sorted) <= keep {
		return nil, nil
	}
	return sorted[:len(sorted)-keep], nil
}

// MayRemove refuses to remove the backup id: one that is not among ids,
// or the only one (a site is never left without a backup by a command).
func MayRemove(ids []string, id string) error {
	if !slices.Contains(ids, id) {
		return problem("no backup %q (the backups: %s)", id, listOrNone(ids))
	}
	if len(ids) == 1 {
		return problem("%s is the only backup: it is not removed (make another first)", id)
	}
	return nil
}

func listOrNone(ids []string) string {
	if len(ids) == 0 {
		return "none"
	}
	return strings.Join(ids, ", ")
}

// The backup types `galenix backup --type` takes on PostgreSQL; Auto
// chooses between full and diff (ChooseType).
const (
	Full = "full"
	Diff = "diff"
	Incr = "incr"
	Auto = "auto"
)

// ChooseType decides the type of an automatic backup: full when no full
// backup ended within fullEvery before now (lastFull is zero when there is
// none), differential otherwise. A nightly run so makes a weekly full and
// a differential on the other nights, each restore needing two backups at
// most.
func ChooseType(lastFull, now time.Time, fullEvery time.Duration) (string, error) {
	if fullEvery <= 0 {
		return "", fmt.Errorf("--full-every %s: give a positive duration, e.g. 168h for a weekly full backup", fullEvery)
	}
	if lastFull.IsZero() || !lastFull.After(now.Add(-fullEvery)) {
		return Full, nil
	}
	return Diff, nil
}
