package backup

import (
	"encoding/json"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"galenix/internal/audit"
	"galenix/internal/errs"
)

// Result is where a restore drill stands.
type Result string

// The results of a drill: running until it ends, then ok or failed.
const (
	Running Result = "running"
	OK      Result = "ok"
	Failed  Result = "failed"
)

// Results lists every result, in display order.
var Results = []Result{Running, OK, Failed}

// The kinds of point a drill restores to.
const (
	// TargetBackup: the backup's own point (a SQLite copy).
	TargetBackup = "backup"
	// TargetTime: a point in time after the backup, reached by replaying
	// the archived write-ahead log (PostgreSQL).
	TargetTime = "time"
)

// Target is the point a drill restores to, and the head of the audit chain
// the live database had at that point.
type Target struct {
	Kind string `json:"kind"`
	// Time is the point in time (TargetTime); for TargetBackup, when the
	// backup was made.
	Time      time.Time `json:"time"`
	AuditSeq  int64     `json:"audit_seq"`
	AuditHash string    `json:"audit_hash"`
}

// Head is the audit chain's head the target names.
func (t Target) Head() Head { return Head{Seq: t.AuditSeq, Hash: t.AuditHash} }

// Failure is why a drill failed: a code and its parameters, rendered in the
// reader's language when shown, never a sentence in one language.
type Failure struct {
	Code   string            `json:"code"`
	Params map[string]string `json:"params,omitempty"`
}

// The failure codes of a drill, each with the parameters it carries.
const (
	// FailBackup: the backup could not be made {detail}.
	FailBackup = "backup_failed"
	// FailRestore: the backup could not be restored {detail}.
	FailRestore = "restore_failed"
	// FailStart: the restored database could not be opened {detail}.
	FailStart = "start_failed"
	// FailAuditBroken: audit verify fails on the restore, at an entry
	// {seq, detail}.
	FailAuditBroken = "audit_broken"
	// FailVerify: the restore's audit trail could not be checked {detail}.
	FailVerify = "verify_failed"
	// FailHeadDiffers: the restore's audit chain does not end where the
	// target does {want_seq, got_seq}.
	FailHeadDiffers = "head_differs"
	// FailFigureDiffers: a count of the restore differs from the target's
	// {figure, want, got}.
	FailFigureDiffers = "figure_differs"
)

// FailureCodes lists every failure code, with the names of its parameters
// in the order a message shows them.
var FailureCodes = map[string][]string{
	FailBackup:        {"detail"},
	FailRestore:       {"detail"},
	FailStart:         {"detail"},
	FailAuditBroken:   {"seq", "detail"},
	FailVerify:        {"detail"},
	FailHeadDiffers:   {"want_seq", "got_seq"},
	FailFigureDiffers: {"figure", "want", "got"},
}

// Fail builds a failure; details longer than 500 bytes are cut, as tool
// output can be long.
func Fail(code string, params ...string) *Failure {
	f := &Failure{Code: code, Params: map[string]string{}}
	names := FailureCodes[code]
	for i, p := range params {
		if i < len(names) {
			f.Params[names[i]] = cut(strings.TrimSpace(p), 500)
		}
	}
	return f
}

func cut(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

// Drill is one restore drill: a backup restored into a fresh place, its
// audit trail verified and its figures compared with the point it was
// restored to (EU GMP Annex 11 §7.2). It is recorded when it starts and
// completed when it ends, so that a drill that never ended shows.
type Drill struct {
	ID         string     `json:"id"`
	StartedAt  time.Time  `json:"started_at"`
	FinishedAt *time.Time `json:"finished_at"`
	// PerformedBy and PerformedByName are who ran it: the actor of the
	// command that recorded it.
	PerformedBy     string `json:"performed_by"`
	PerformedByName string `json:"performed_by_name"`
	// Database is the kind of database drilled (SQLite or PostgreSQL).
	Database string `json:"database"`
	// BackupID names the backup restored: a SQLite backup's id, or
	// pgBackRest's label.
	BackupID string `json:"backup_id"`
	Target   Target `json:"target"`
	Result   Result `json:"result"`
	// Expected are the figures at the target; Restored, the restore's.
	Expected Figures `json:"expected"`
	Restored Figures `json:"restored"`
	// RestoreMillis is how long the restore took, until the restored
	// database answered: the measure of the restore time we promise.
	RestoreMillis int64    `json:"restore_ms"`
	Failure       *Failure `json:"failure,omitempty"`
}

// Validate checks a drill as it starts.
func (d *Drill) Validate() error {
	switch {
	case d.Database != SQLite && d.Database != Postgres:
		return errs.Field("database", "backup.drill_names_kind_database")
	case d.BackupID == "" || len(d.BackupID) > 200:
		return errs.Field("backup_id", "backup.name_backup_drill_restores")
	case d.Target.Kind != TargetBackup && d.Target.Kind != TargetTime:
		return errs.Field("target", "backup.drill_restores_backup_point")
	case d.Target.Time.IsZero():
		return errs.Field("target", "backup.drill_target_time")
	case d.StartedAt.IsZero():
		return errs.Field("started_at", "backup.drill_start_time")
	}
	if d.Result == "" {
		d.Result = Running
	}
	if d.Expected == nil {
		d.Expected = Figures{}
	}
	if d.Restored == nil {
		d.Restored = Figures{}
	}
	d.StartedAt, d.Target.Time = d.StartedAt.UTC(), d.Target.Time.UTC()
	return nil
}

// MayFinish refuses to complete a drill that already ended: its record is
// evidence, written once.
func (d *Drill) MayFinish() error {
	if d.Result != Running {
		return errs.E(errs.Conflict, "backup.drill_already_ended_record")
	}
	return nil
}

// Finish ends a drill at t: ok when nothing failed, failed with the
// failure otherwise.
func (d *Drill) Finish(t time.Time, restored Figures, restoreMillis int64, failure *Failure) {
	t = t.UTC()
	d.FinishedAt = &t
	d.Restored = restored
	if d.Restored == nil {
		d.Restored = Figures{}
	}
	d.RestoreMillis = restoreMillis
	d.Failure = failure
	d.Result = OK
	if failure != nil {
		d.Result = Failed
	}
}

// Compare decides whether a restore holds what the target held: the same
// head of the audit chain and the same figures. It returns the first
// difference, or nil.
func Compare(want Head, wantFigures Figures, got Head, gotFigures Figures) *Failure {
	if want != got {
		return Fail(FailHeadDiffers, strconv.FormatInt(want.Seq, 10), strconv.FormatInt(got.Seq, 10))
	}
	for _, n := range wantFigures.Names() {
		if w, g := wantFigures[n], gotFigures[n]; w != g {
			return Fail(FailFigureDiffers, n, strconv.FormatInt(w, 10), strconv.FormatInt(g, 10))
		}
	}
	for _, n := range gotFigures.Names() {
		if _, ok := wantFigures[n]; !ok {
			return Fail(FailFigureDiffers, n, "", strconv.FormatInt(gotFigures[n], 10))
		}
	}
	return nil
}

// AuditFields lists the drill's fields for the audit trail.
func (d *Drill) AuditFields() []audit.Field {
	finished := ""
	if d.FinishedAt != nil {
		finished = d.FinishedAt.Format(time.RFC3339Nano)
	}
	failure := ""
	if d.Failure != nil {
		failure = jsonText(d.Failure)
	}
	restoreMS := ""
	if d.RestoreMillis > 0 {
		restoreMS = strconv.FormatInt(d.RestoreMillis, 10)
	}
	return []audit.Field{
		audit.F("started_at", d.StartedAt.Format(time.RFC3339Nano)),
		audit.F("finished_at", finished),
		audit.F("database", d.Database),
		audit.F("backup_id", d.BackupID),
		audit.F("target", jsonText(d.Target)),
		audit.F("result", string(d.Result)),
		audit.F("expected", jsonText(d.Expected)),
		audit.F("restored", figuresText(d.Restored)),
		audit.F("restore_ms", restoreMS),
		audit.F("failure", failure),
	}
}

// figuresText is the figures as the audit trail records them; none is
// nothing.
func figuresText(f Figures) string {
	if len(f) == 0 {
		return ""
	}
	return jsonText(f)
}

// jsonText encodes v as JSON text (map keys sorted, so the same value
// gives the same text).
func jsonText(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return ""
	}
	return string(b)
}
