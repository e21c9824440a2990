// Package pgbackrest drives pgBackRest, the backup tool of galenix on
// PostgreSQL (Debian package pgbackrest): full backups, the archive of the
// write-ahead log, and restores to a point in time. It also starts a
// throwaway PostgreSQL on a restored data directory, for the restore drill.
// galenix never copies PostgreSQL's files itself.
package pgbackrest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Config says how galenix runs pgBackRest: which stanza of which
// configuration, and as which system user.
type Config struct {
	// Bin is the pgbackrest program; "pgbackrest" (on the PATH) when empty.
	Bin string
	// Stanza is the stanza of the site's database.
	Stanza string
	// ConfigFile is pgBackRest's configuration; its default
	// (/etc/pgbackrest/pgbackrest.conf) when empty.
	ConfigFile string
	// User is the system user pgBackRest and PostgreSQL run as (the owner
	// of the data directory and of the repository, usually postgres):
	// galenix run as root switches to it with runuser. Empty: the user
	// galenix runs as.
	User string
	// RetentionFull, when above 0, is how many full backups the
	// repository keeps (repo1-retention-full), overriding the
	// configuration file for backup and expire: when a full backup
	// expires, the differential and incremental ones that depend on it
	// and the archived log only it needed go with it.
	RetentionFull int
	// RetentionDiff, when above 0, is how many differential backups are
	// kept (repo1-retention-diff).
	RetentionDiff int
}

// Set is one backup in the repository.
type Set struct {
	Label string
	// Type is full, diff or incr.
	Type string
	// Start and Stop are when the backup began and ended (to the second):
	// a restore reaches points in time from Stop on.
	Start, Stop time.Time
	Annotation  map[string]string
	// Prior is the backup a diff or incr is based on; empty for a full.
	Prior string
	// WALStart and WALStop are the first and last segments of the
	// write-ahead log the backup needs to be consistent.
	WALStart, WALStop string
	// Size is the size of the database backed up; RepoSize what this
	// backup adds to the repository (compressed, its changes only).
	Size, RepoSize int64
}

// Stanza is what the repository holds for the stanza: its backups, oldest
// first, and the range of the archived write-ahead log.
type Stanza struct {
	Sets []Set
	// ArchiveMin and ArchiveMax are the oldest and newest segments
	// archived (for the current database); empty when none is.
	ArchiveMin, ArchiveMax string
}

// Error is pgBackRest's refusal or failure, with what it said.
type Error struct {
	Args   []string
	Output string
	Err    error
}

func (e *Error) Error() string {
	out := strings.TrimSpace(e.Output)
	if len(out) > 2000 {
		out = "…" + out[len(out)-2000:]
	}
	return fmt.Sprintf("pgbackrest %s: %v: %s", strings.Join(e.Args, " "), e.Err, out)
}

func (e *Error) Unwrap() error { return e.Err }

// args are the options every command takes, then the command's own.
func (c Config) args(cmd string, extra ...string) []string {
	a := []string{"--stanza=" + c.Stanza}
	if c.ConfigFile != "" {
		a = append(a, "--config="+c.ConfigFile)
	}
	a = append(a, "--log-level-console=error", "--log-level-stderr=off")
	if cmd == "backup" || cmd == "expire" {
		if c.RetentionFull > 0 {
			a = append(a, "--repo1-retention-full="+strconv.Itoa(c.RetentionFull))
		}
		if c.RetentionDiff > 0 {
			a = append(a, "--repo1-retention-diff="+strconv.Itoa(c.RetentionDiff))
		}
	}
	a = append(a, extra...)
	return append(a, cmd)
}

// Check says whether the configuration can work: a stanza is named and
// the program is found.
func (c Config) Check() error {
	if c.Stanza == "" {
		return errors.New("name the pgBackRest stanza of the database (--pgbackrest-stanza or GALENIX_PGBACKREST_STANZA)")
	}
	if c.RetentionFull < 0 || c.RetentionDiff < 0 {
		return fmt.Errorf("a retention counts the backups kept: %d full, %d differential is not one", c.RetentionFull, c.RetentionDiff)
	}
	if _, err := exec.LookPath(c.bin()); err != nil {
		return fmt.Errorf("pgBackRest is not installed (%s: %v): install the Debian package pgbackrest, or name the program with --pgbackrest", c.bin(), err)
	}
	return asUser(c.User)
}

func (c Config) bin() string {
	if c.Bin == "" {
		return "pgbackrest"
	}
	return c.Bin
}

// run runs pgBackRest with args and returns its standard output.
func (c Config) run(ctx context.Context, args ...string) ([]byte, error) {
	bin, err := exec.LookPath(c.bin())
	if err != nil {
		return nil, &Error{Args: args, Err: err}
	}
	cmd, err := Command(ctx, c.User, bin, args...)
	if err != nil {
		return nil, err
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return stdout.Bytes(), &Error{Args: args, Output: stderr.String() + stdout.String(), Err: err}
	}
	return stdout.Bytes(), nil
}

// Command is the command that runs bin with args as the system user
// (through runuser when galenix runs as root), in a directory that user
// can enter.
func Command(ctx context.Context, as, bin string, args ...string) (*exec.Cmd, error) {
	if err := asUser(as); err != nil {
		return nil, err
	}
	var cmd *exec.Cmd
	if as != "" && os.Geteuid() == 0 {
		cmd = exec.CommandContext(ctx, "runuser", append([]string{"-u", as, "--", bin}, args...)...)
	} else {
		cmd = exec.CommandContext(ctx, bin, args...)
	}
	cmd.Dir = os.TempDir()
	cmd.WaitDelay = 10 * time.Second
	return cmd, nil
}

// asUser refuses a user galenix cannot run programs as: only root switches
// users.
func asUser(name string) error {
	if name == "" || os.Geteuid() == 0 {
		return nil
	}
	if u, err := user.Current(); err == nil && u.Username == name {
		return nil
	}
	return fmt.Errorf("pgBackRest runs as the user %s: run galenix as %s, or as root", name, name)
}

// StanzaCreate creates the stanza in the repository; on a stanza that
// exists already and matches the database it does nothing.
func (c Config) StanzaCreate(ctx context.Context) error {
	_, err := c.run(ctx, c.args("stanza-create")...)
	return err
}

// Verify checks that the database's write-ahead log reaches the
// repository: pgBackRest switches to a new segment and waits for it to be
// archived. After it, every commit made before it can be replayed.
func (c Config) Verify(ctx context.Context) error {
	_, err := c.run(ctx, c.args("check")...)
	return err
}

// Backup takes a backup of type full, diff or incr, annotated, and returns
// its set.
func (c Config) Backup(ctx context.Context, typ string, annotation map[string]string) (*Set, error) {
	if !slices.Contains([]string{"full", "diff", "incr"}, typ) {
		return nil, fmt.Errorf("backup type %q: say full, diff or incr", typ)
	}
	mark := strconv.FormatInt(time.Now().UnixNano(), 36)
	args := []string{"--type=" + typ, "--annotation=galenix-mark=" + mark}
	for _, k := range sortedKeys(annotation) {
		args = append(args, "--annotation="+k+"="+annotation[k])
	}
	if _, err := c.run(ctx, c.args("backup", args...)...); err != nil {
		return nil, err
	}
	sets, err := c.Info(ctx)
	if err != nil {
		return nil, err
	}
	for i := len(sets) - 1; i >= 0; i-- {
		if sets[i].Annotation["galenix-mark"] == mark {
			return &sets[i], nil
		}
	}
	return nil, errors.New("pgBackRest reported success but its repository does not list the backup")
}

func sortedKeys(m map[string]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// info is the part of `pgbackrest info --output=json` galenix reads.
type info struct {
	Name   string `json:"name"`
	Status struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	} `json:"status"`
	Archive []struct {
		ID       string `json:"id"`
		Database struct {
			ID int `json:"id"`
		} `json:"database"`
		Min string `json:"min"`
		Max string `json:"max"`
	} `json:"archive"`
	DB []struct {
		ID int `json:"id"`
	} `json:"db"`
	Backup []struct {
		Label      string            `json:"label"`
		Type       string            `json:"type"`
		Error      bool              `json:"error"`
		Prior      *string           `json:"prior"`
		Annotation map[string]string `json:"annotation"`
		Timestamp  struct {
			Start int64 `json:"start"`
			Stop  int64 `json:"stop"`
		} `json:"timestamp"`
		Archive struct {
			Start string `json:"start"`
			Stop  string `json:"stop"`
		} `json:"archive"`
		Info struct {
			Size       int64 `json:"size"`
			Repository struct {
				Delta int64 `json:"delta"`
			} `json:"repository"`
		} `json:"info"`
	} `json:"backup"`
}

// Info lists the stanza's backups, oldest first. A stanza with no backup
// yet has none.
func (c Config) Info(ctx context.Context) ([]Set, error) {
	st, err := c.Repository(ctx)
	if err != nil {
		return nil, err
	}
	return st.Sets, nil
}

// Repository reads what the repository holds for the stanza: its backups,
// oldest first, and the range of the archived log.
func (c Config) Repository(ctx context.Context) (*Stanza, error) {
	out, err := c.run(ctx, c.args("info", "--output=json")...)
	if err != nil {
		return nil, err
	}
	return parseInfo(out, c.Stanza)
}

// parseInfo reads `pgbackrest info --output=json` for the stanza.
func parseInfo(out []byte, stanza string) (*Stanza, error) {
	var infos []info
	if err := json.Unmarshal(out, &infos); err != nil {
		return nil, fmt.Errorf("reading pgbackrest info: %w", err)
	}
	st := &Stanza{}
	for _, in := range infos {
		if in.Name != stanza {
			continue
		}
		// 0 ok; 2 no valid backups yet.
		if in.Status.Code != 0 && in.Status.Code != 2 {
			return nil, fmt.Errorf("pgBackRest's stanza %s: %s (status %d)", stanza, in.Status.Message, in.Status.Code)
		}
		// The archive of the current database (the newest db entry): an
		// upgraded cluster's older archive restores nothing into it.
		current := 0
		for _, db := range in.DB {
			current = max(current, db.ID)
		}
		for _, a := range in.Archive {
			if a.Database.ID == current {
				st.ArchiveMin, st.ArchiveMax = a.Min, a.Max
			}
		}
		for _, b := range in.Backup {
			if b.Error {
				continue
			}
			set := Set{Label: b.Label, Type: b.Type, Start: time.Unix(b.Timestamp.Start, 0).UTC(),
				Stop: time.Unix(b.Timestamp.Stop, 0).UTC(), Annotation: b.Annotation,
				WALStart: b.Archive.Start, WALStop: b.Archive.Stop, Size: b.Info.Size, RepoSize: b.Info.Repository.Delta}
			if b.Prior != nil {
				set.Prior = *b.Prior
			}
			st.Sets = append(st.Sets, set)
		}
	}
	return st, nil
}

// Expire has pgBackRest remove what the retention no longer keeps
// (RetentionFull, RetentionDiff, else the configuration's); with a label,
// that backup and the backups that depend on it, whatever the retention
// (pgBackRest keeps at least one full backup). The archived log that no
// remaining backup needs goes too.
func (c Config) Expire(ctx context.Context, label string) error {
	var extra []string
	if label != "" {
		extra = append(extra, "--set="+label)
	}
	_, err := c.run(ctx, c.args("expire", extra...)...)
	return err
}

// Find returns the set with the label, or nil.
func Find(sets []Set, label string) *Set {
	for i := range sets {
		if sets[i].Label == label {
			return &sets[i]
		}
	}
	return nil
}

// Labels lists the sets' labels, for a message.
func Labels(sets []Set) string {
	if len(sets) == 0 {
		return "none"
	}
	var out []string
	for _, s := range sets {
		out = append(out, s.Label)
	}
	return strings.Join(out, ", ")
}

// TargetFormat is how a point in time is written for pgBackRest and
// PostgreSQL's recovery_target_time: to the microsecond, in UTC.
const TargetFormat = "2006-01-02 15:04:05.999999-07"

// Restore restores the set into the data directory dir, which must be
// empty and owned by the configured user. With a target time, PostgreSQL,
// once started on dir, replays the archived log up to that instant and
// then opens for writes (promote); without one, it replays all of it.
func (c Config) Restore(ctx context.Context, dir, set string, target time.Time) error {
	args := []string{"--pg1-path=" + dir}
	if set != "" {
		args = append(args, "--set="+set)
	}
	if !target.IsZero() {
		args = append(args, "--type=time", "--target="+target.UTC().Format(TargetFormat), "--target-action=promote")
	}
	_, err := c.run(ctx, c.args("restore", args...)...)
	return err
}
