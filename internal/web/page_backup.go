package web

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"galenix/internal/backup"
	"galenix/internal/errs"
)

// DrillReader lists the restore drills of the site's backups; the store is
// one.
type DrillReader interface {
	Drills(ctx context.Context, limit int) ([]backup.Drill, error)
}

// routesBackup registers the restore drills' list, in the API and as an
// administration page, so that an inspector sees that backups are tested
// (EU GMP Annex 11 §7.2). The drills themselves are run and recorded by
// `galenix backup drill`.
func (s *Server) routesBackup() {
	s.handle("GET", "/api/v1/backup-drills", false, list(s, s.listDrills))
	s.handle("GET", "/admin/backup-drills", false, s.drillsPage)
}

func (s *Server) drills(ctx context.Context, limit int) ([]backup.Drill, error) {
	if s.Drills == nil {
		return nil, errs.Wrap(fmt.Errorf("no drill reader"), "backup drills")
	}
	return s.Drills.Drills(ctx, limit)
}

func (s *Server) listDrills(r *http.Request) ([]backup.Drill, error) {
	limit := 100
	if v := r.URL.Query().Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			return nil, errs.Field("limit", "web.limit_must_whole_number")
		}
		limit = n
	}
	return s.drills(r.Context(), limit)
}

// drillsPageSize is how many drills the page shows.
const drillsPageSize = 200

// drillsView is the page of restore drills.
type drillsView struct {
	adminBase
	Drills []drillRow
	// LastOK is when the latest drill that passed ended; zero if none.
	LastOK string
}

// drillRow is a drill as the page shows it, its texts in the reader's
// language.
type drillRow struct {
	backup.Drill
	Started, Finished, Target, Took, Failure string
	Figures                                  []figureRow
}

type figureRow struct {
	Name, Expected, Restored string
	Differs                  bool
}

func (s *Server) drillsPage(w http.ResponseWriter, r *http.Request) {
	ds, err := s.drills(r.Context(), drillsPageSize)
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	d := drillsView{adminBase: s.adminBase(r, "drills")}
	for _, dr := range ds {
		row := drillRow{Drill: dr, Started: formatDateTime(d.Lang, dr.StartedAt, s.zone()), Target: drillTarget(d.Lang, dr.Target, s.zone()),
			Failure: drillFailure(d.Lang, dr.Failure)}
		if dr.FinishedAt != nil {
			row.Finished = formatDateTime(d.Lang, *dr.FinishedAt, s.zone())
			if dr.Result == backup.OK && d.LastOK == "" {
				d.LastOK = row.Finished
			}
		}
		if dr.RestoreMillis > 0 {
			row.Took = formatDuration(d.Lang, time.Duration(dr.RestoreMillis)*time.Millisecond)
		}
		for _, n := range dr.Expected.Names() {
			fr := figureRow{Name: tr(d.Lang, "drill.figure."+n), Expected: formatInt(d.Lang, int(dr.Expected[n])), Restored: "—"}
			if got, ok := dr.Restored[n]; ok {
				fr.Restored = formatInt(d.Lang, int(got))
				fr.Differs = got != dr.Expected[n]
			}
			row.Figures = append(row.Figures, fr)
		}
		d.Drills = append(d.Drills, row)
	}
	s.render(w, r, http.StatusOK, "admin_backup_drills", d)
}

// drillTarget says, in the reader's language, which point a drill restored
// to.
func drillTarget(lang string, t backup.Target, zone *time.Location) string {
	seq := formatInt(lang, int(t.AuditSeq))
	if t.Kind == backup.TargetTime {
		return fmt.Sprintf(tr(lang, "drill.target.time"), formatSeconds(lang, t.Time, zone), seq)
	}
	return fmt.Sprintf(tr(lang, "drill.target.backup"), formatSeconds(lang, t.Time, zone), seq)
}

// drillFailure renders a drill's failure, stored as a code and its
// parameters, in the reader's language.
func drillFailure(lang string, f *backup.Failure) string {
	if f == nil {
		return ""
	}
	key := "drill.failure." + f.Code
	if !hasMsg(key) {
		return f.Code
	}
	var args []any
	for _, p := range backup.FailureCodes[f.Code] {
		v := f.Params[p]
		if p == "figure" {
			v = tr(lang, "drill.figure."+v)
		}
		args = append(args, v)
	}
	return fmt.Sprintf(tr(lang, key), args...)
}

// formatSeconds writes t to the second, in the site's zone.
func formatSeconds(lang string, t time.Time, zone *time.Location) string {
	if lang == langEN {
		return t.In(zone).Format("2 Jan 2006 15:04:05")
	}
	return t.In(zone).Format("02/01/2006 15:04:05")
}

// formatDuration writes a duration to a tenth of a second, or in minutes
// and seconds past a minute.
func formatDuration(lang string, d time.Duration) string {
	if d < time.Minute {
		return formatDecimal(lang, float64(d.Round(100*time.Millisecond))/float64(time.Second)) + " s"
	}
	d = d.Round(time.Second)
	return fmt.Sprintf("%d min %02d s", int(d.Minutes()), int(d.Seconds())%60)
}
