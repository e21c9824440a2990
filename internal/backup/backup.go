// Package backup holds what a backup of the site is and what its restore
// drill decides: the manifest that goes with a SQLite backup, the figures
// that say what a database holds at a point, and the drill's record and its
// verdict. It runs no backup itself: the store copies the database, the
// pgbackrest package drives pgBackRest, and internal/app puts them together.
package backup

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// The kinds of database a backup is of.
const (
	SQLite   = "sqlite"
	Postgres = "postgres"
)

// ManifestFile is the name of the manifest in a SQLite backup's directory.
const ManifestFile = "manifest.json"

// ManifestFormat is the version of the manifest's layout.
const ManifestFormat = 1

// Head is the head of the audit chain: its last entry's sequence number and
// hash. Two databases with the same head hold the same trail.
type Head struct {
	Seq  int64  `json:"seq"`
	Hash string `json:"hash"`
}

// Figures are the counts of what a database holds, by name (FigureNames):
// a restore holds what the chosen point held when its figures are the same.
type Figures map[string]int64

// FigureNames are the figures a drill compares, in the order they are
// shown: the audit trail's entries, then the records an inspector counts.
var FigureNames = []string{"audit_entries", "signatures", "accounts", "people", "batches", "batch_steps", "deviations"}

// Manifest describes a SQLite backup: what it is a copy of, and the
// SHA-256 of each file, checked before a restore.
type Manifest struct {
	Format int `json:"format"`
	// ID names the backup; it is also its directory's name.
	ID        string    `json:"id"`
	CreatedAt time.Time `json:"created_at"`
	// Database is the kind of database (SQLite).
	Database string `json:"database"`
	// Schema is the galenix schema version (the last migration applied).
	Schema int64 `json:"schema_version"`
	// Galenix is the version of the galenix that made the backup.
	Galenix string `json:"galenix_version"`
	// File is the database file, in the backup's directory.
	File   string `json:"file"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
	// KeyFile, when set, is the copy of the site's audit signing key
	// (the data directory's), and KeySHA256 its SHA-256.
	KeyFile   string `json:"audit_key_file,omitempty"`
	KeySHA256 string `json:"audit_key_sha256,omitempty"`
	// TOTPKeyFile, when set, is the copy of the key of the second-factor
	// secrets (the data directory's), and TOTPKeySHA256 its SHA-256.
	TOTPKeyFile   string `json:"totp_key_file,omitempty"`
	TOTPKeySHA256 string `json:"totp_key_sha256,omitempty"`
	// Audit is the head of the audit chain in the copy.
	Audit Head `json:"audit"`
	// Figures are the counts of the copy.
	Figures Figures `json:"figures"`
}

// NewID names a backup made at t: its time in UTC, sortable, and safe in
// a file name.
func NewID(t time.Time) string {
	return t.UTC().Format("20060102T150405.000000Z")
}

// Problem is a backup that cannot be used, and why; the command line shows
// it as it is.
type Problem struct{ Msg string }

func (p *Problem) Error() string { return p.Msg }

func problem(format string, args ...any) error {
	return &Problem{Msg: fmt.Sprintf(format, args...)}
}

// ReadManifest reads the manifest of the backup in dir and checks that it
// is whole: a directory that is no backup, or a manifest that is not one
// galenix wrote, is refused with a Problem.
func ReadManifest(dir string) (*Manifest, error) {
	b, err := os.ReadFile(filepath.Join(dir, ManifestFile))
	if errors.Is(err, os.ErrNotExist) {
		if _, derr := os.Stat(dir); derr != nil {
			return nil, problem("no backup at %s: the directory does not exist", dir)
		}
		return nil, problem("no backup at %s: it has no %s (give the directory of one backup, as galenix backup printed it)", dir, ManifestFile)
	}
	if err != nil {
		return nil, err
	}
	var m Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, problem("the manifest %s cannot be read: %v", filepath.Join(dir, ManifestFile), err)
	}
	switch {
	case m.Format != ManifestFormat:
		return nil, problem("the manifest %s has format %d; this galenix reads format %d", filepath.Join(dir, ManifestFile), m.Format, ManifestFormat)
	case m.Database != SQLite:
		return nil, problem("the backup at %s is of a %q database; galenix restores SQLite backups from a directory (PostgreSQL ones through pgBackRest)", dir, m.Database)
	case !plainName(m.File) || (m.KeyFile != "" && !plainName(m.KeyFile)) || (m.TOTPKeyFile != "" && !plainName(m.TOTPKeyFile)):
		return nil, problem("the manifest %s names a file outside its directory", filepath.Join(dir, ManifestFile))
	case len(m.SHA256) != 64:
		return nil, problem("the manifest %s has no SHA-256 of its database", filepath.Join(dir, ManifestFile))
	}
	return &m, nil
}

// plainName reports whether name is a file name with no directory part.
func plainName(name string) bool {
	return name != "" && name != "." && name != ".." && !strings.ContainsAny(name, `/\`)
}

// WriteManifest writes the manifest into dir and syncs it.
func WriteManifest(dir string, m *Manifest) error {
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	return WriteFileSync(filepath.Join(dir, ManifestFile), append(b, '\n'), 0o600)
}

// WriteFileSync writes a file and syncs it to disk before it returns.
func WriteFileSync(path string, data []byte, perm os.FileMode) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// FileSHA256 returns the SHA-256 of a file, in hexadecimal, and its size.
func FileSHA256(path string) (string, int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", 0, err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return "", 0, err
	}
	return hex.EncodeToString(h.Sum(nil)), n, nil
}

// CopyFile copies src to dst, a new file, syncs it, and returns the
// SHA-256 of what it wrote.
func CopyFile(dst, src string, perm os.FileMode) (string, error) {
	in, err := os.Open(src)
	if err != nil {
		return "", err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
	if err != nil {
		return "", err
	}
	h := sha256.New()
	if _, err := io.Copy(io.MultiWriter(out, h), in); err != nil {
		out.Close()
		return "", err
	}
	if err := out.Sync(); err != nil {
		out.Close()
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), out.Close()
}

// SyncDir syncs a directory, so that the files created in it stay after a
// power loss.
func SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// EmptyDir reports whether dir is missing or empty: a restore goes only
// into a fresh place.
func EmptyDir(dir string) (bool, error) {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return true, nil
	}
	if err != nil {
		return false, err
	}
	return len(entries) == 0, nil
}

// Names returns the figures' names in display order: FigureNames first,
// then any other, sorted.
func (f Figures) Names() []string {
	var out []string
	for _, n := range FigureNames {
		if _, ok := f[n]; ok {
			out = append(out, n)
		}
	}
	var rest []string
	for n := range f {
		if !slices.Contains(FigureNames, n) {
			rest = append(rest, n)
		}
	}
	slices.Sort(rest)
	return append(out, rest...)
}
