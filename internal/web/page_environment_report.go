package web

import (
	"bytes"
	"fmt"
	"math"
	"mime"
	"net/http"
	"strconv"
	"time"

	"github.com/johnfercher/maroto/v2/pkg/consts/fontstyle"
	"github.com/johnfercher/maroto/v2/pkg/core"
	"github.com/johnfercher/maroto/v2/pkg/props"

	"galenix/internal/environment"
	"galenix/internal/errs"
	"galenix/internal/identity"
	"galenix/internal/site"
	"galenix/internal/text"
)

// MaxReportDays bounds the period of a room's report.
const MaxReportDays = 31

// envReportPage is how many readings a report reads at a time.
const envReportPage = 20000

// envReport is what a room's report covers: the room, its sensors and the
// period, from (included) to to (excluded).
type envReport struct {
	room     *site.Room
	sensors  []environment.SensorStatus
	codeOf   map[string]string
	from, to time.Time
	lang     string
}

// roomReport reads the room, its sensors and the period of a report: from
// and to as days in the site's zone (to included), or RFC 3339 times; the
// last seven days by default; at most MaxReportDays.
func (s *Server) roomReport(r *http.Request) (*envReport, error) {
	ctx := r.Context()
	ev, err := s.envViews(ctx)
	if err != nil {
		return nil, err
	}
	room, err := s.Site.Room(ctx, r.PathValue("id"))
	if err != nil {
		return nil, err
	}
	q := r.URL.Query()
	from, to, err := periodOf(q, s.zone())
	if err != nil {
		return nil, err
	}
	if to.IsZero() {
		to = time.Now().In(s.zone())
		to = time.Date(to.Year(), to.Month(), to.Day()+1, 0, 0, 0, 0, s.zone())
	}
	if from.IsZero() {
		from = to.AddDate(0, 0, -7)
	}
	if !to.After(from) {
		return nil, errs.Field("to", "env.report.bad_period")
	}
	if to.Sub(from) > MaxReportDays*24*time.Hour+time.Hour {
		return nil, errs.Field("from", "env.report.too_long", text.Int(MaxReportDays))
	}
	p, err := s.readPlant(ctx)
	if err != nil {
		return nil, err
	}
	sensors, err := ev.SensorStatuses(ctx, p.places(room.ID), true)
	if err != nil {
		return nil, err
	}
	return &envReport{room: room, sensors: sensors, codeOf: p.codeOf, from: from.UTC(), to: to.UTC(), lang: csvLang(r)}, nil
}

// eachReading calls fn with each of a sensor's readings of the period, in
// time order, a page at a time.
func (s *Server) eachReading(r *http.Request, rep *envReport, sensorID string, fn func(environment.Reading) error) error {
	from := rep.from
	var last *environment.Reading
	for {
		rs, err := s.EnvironmentViews.Readings(r.Context(), sensorID, from, rep.to, envReportPage)
		if err != nil {
			return err
		}
		fresh := 0
		for _, x := range rs {
			// A page starts at the last time seen: skip what was given.
			if last != nil && x.At.Equal(last.At) && x.Seq <= last.Seq {
				continue
			}
			fresh++
			if err := fn(x); err != nil {
				return err
			}
			x := x
			last = &x
		}
		if len(rs) < envReportPage || fresh == 0 {
			return nil
		}
		from = last.At
	}
}

// envFlagKeys are the words of a reading's flags.
var envFlagKeys = map[string]string{"calibration_overdue": "env.flag.calibration_overdue", "moved": "env.flag.moved"}

// environmentRoomCSV answers a room's readings over a period as CSV: one
// row a reading, French with ";" and a decimal comma, English with ","
// and a decimal point (csvFormatOf).
func (s *Server) environmentRoomCSV(w http.ResponseWriter, r *http.Request) {
	rep, err := s.roomReport(r)
	if err != nil {
		s.exportError(w, r, err)
		return
	}
	f, err := csvFormatOf(r, rep.lang)
	if err != nil {
		s.exportError(w, r, err)
		return
	}
	var buf bytes.Buffer
	cw := newCSV(&buf, f)
	lang, zone := rep.lang, s.zone()
	head := []string{}
	for _, k := range []string{"env.csv.room", "env.csv.sensor", "env.csv.name", "env.csv.place", "env.csv.kind", "env.csv.at", "env.csv.seq",
		"env.csv.value", "env.csv.unit", "env.csv.flags"} {
		head = append(head, tr(lang, k))
	}
	_ = cw.Write(head)
	for _, st := range rep.sensors {
		sn := st.Sensor
		place := rep.codeOf[sn.PlaceID]
		err := s.eachReading(r, rep, sn.ID, func(x environment.Reading) error {
			flags := ""
			for i, n := range x.Flags.Names() {
				if i > 0 {
					flags += " "
				}
				flags += tr(lang, envFlagKeys[n])
			}
			return cw.Write([]string{csvSafe(rep.room.Code), csvSafe(sn.Code), csvSafe(sn.Name), csvSafe(place), tr(lang, "env.kind."+string(sn.Kind)),
				x.At.In(zone).Format("2006-01-02T15:04:05.000000Z07:00"), strconv.FormatUint(x.Seq, 10),
				f.value(strconv.FormatFloat(x.Value, 'f', sn.Decimals, 64)), sn.Kind.Unit(), flags})
		})
		if err != nil {
			s.exportError(w, r, err)
			return
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		s.exportError(w, r, errs.Wrap(err, "room report CSV"))
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/csv; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Language", lang)
	h.Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": rep.fileName("csv")}))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(buf.Bytes())
}

func (rep *envReport) fileName(ext string) string {
	return "environment-" + fileSafe(rep.room.Code) + "-" + rep.from.Format("20060102") + "-" + rep.to.Format("20060102") + "." + ext
}

// environmentRoomPDF answers a room's report over a period as a PDF: per
// sensor the readings' count, least, greatest and mean value and the
// limits, then the alarms of the period.
func (s *Server) environmentRoomPDF(w http.ResponseWriter, r *http.Request) {
	rep, err := s.roomReport(r)
	if err != nil {
		s.exportError(w, r, err)
		return
	}
	ctx := r.Context()
	a, _ := identity.ActorFrom(ctx)
	lang, zone := rep.lang, s.zone()
	setup := pdfSetup{title: tr(lang, "env.pdf.title") + " " + rep.room.Code, lang: lang, landscape: true, margin: 12, fontSize: 9, pageLabel: rep.room.Code}
	m, err := newPDF(setup)
	if err != nil {
		s.exportError(w, r, errs.Wrap(err, "room report PDF"))
		return
	}
	printedBy := a.Name
	if printedBy == "" {
		printedBy = a.Username
	}
	m.AddAutoRow(pdfCol(pdfGrid, tr(lang, "env.pdf.title")+" — "+rep.room.Code+" "+rep.room.Name, props.Text{Size: 14, Style: fontstyle.Bold}))
	m.AddAutoRow(pdfCol(pdfGrid, fmt.Sprintf(tr(lang, "audit.pdf.printed"), formatStamp(lang, time.Now(), zone), printedBy), props.Text{Top: 1, Bottom: 2}))
	m.AddAutoRow(pdfCol(5, tr(lang, "env.pdf.period"), props.Text{Style: fontstyle.Bold}),
		pdfCol(pdfGrid-5, formatStamp(lang, rep.from, zone)+" → "+formatStamp(lang, rep.to, zone)))
	m.AddAutoRow(pdfCol(5, tr(lang, "env.pdf.grade"), props.Text{Style: fontstyle.Bold}), pdfCol(pdfGrid-5, tr(lang, "grade."+string(rep.room.Grade))))

	var alarms []environment.Alarm
	sums := make([]environment.SensorSummary, 0, len(rep.sensors))
	for _, st := range rep.sensors {
		sn := st.Sensor
		sum := environment.SensorSummary{Sensor: sn, Limits: st.Limits}
		var total float64
		err := s.eachReading(r, rep, sn.ID, func(x environment.Reading) error {
			if sum.Count == 0 || x.Value < sum.Min {
				sum.Min = x.Value
			}
			if sum.Count == 0 || x.Value > sum.Max {
				sum.Max = x.Value
			}
			sum.Count++
			total += x.Value
			return nil
		})
		if err != nil {
			s.exportError(w, r, err)
			return
		}
		if sum.Count > 0 {
			sum.Mean = total / float64(sum.Count)
		}
		sums = append(sums, sum)
		as, err := s.EnvironmentViews.Alarms(ctx, sn.ID, 1000)
		if err != nil {
			s.exportError(w, r, err)
			return
		}
		for _, al := range as {
			if al.Start.Before(rep.to) && (al.End.IsZero() || al.End.After(rep.from)) {
				alarms = append(alarms, al)
			}
		}
	}
	envReportTables(m, lang, zone, sums, alarms)
	doc, err := finishPDF(m, setup)
	if err != nil {
		s.exportError(w, r, errs.Wrap(err, "room report PDF"))
		return
	}
	h := w.Header()
	h.Set("Content-Type", "application/pdf")
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Language", lang)
	h.Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": rep.fileName("pdf")}))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(doc)
}

// envReportTables writes a report's sensors, their readings summarized
// against their limits, then the alarms of the period.
func envReportTables(m core.Maroto, lang string, zone *time.Location, sums []environment.SensorSummary, alarms []environment.Alarm) {
	m.AddAutoRow(pdfCol(pdfGrid, tr(lang, "env.pdf.sensors"), props.Text{Size: 12, Style: fontstyle.Bold, Top: 5, Bottom: 2}))
	cols := []struct {
		size int
		key  string
	}{{4, "env.csv.sensor"}, {3, "env.csv.kind"}, {2, "env.pdf.count"}, {2, "env.pdf.min"}, {2, "env.pdf.mean"}, {2, "env.pdf.max"}, {9, "env.pdf.limits"}}
	head := make([]core.Col, len(cols))
	for i, c := range cols {
		head[i] = pdfCol(c.size, tr(lang, c.key), props.Text{Style: fontstyle.Bold, Left: 1, Top: 1, Bottom: 1})
	}
	m.AddAutoRow(head...).WithStyle(&props.Cell{BackgroundColor: pdfGrey})
	cell := props.Text{Size: 8, Left: 1, Right: 1, Top: 1, Bottom: 1}
	codes, decimals := map[string]string{}, map[string]int{}
	for _, sum := range sums {
		sn := sum.Sensor
		codes[sn.ID], decimals[sn.ID] = sn.Code, sn.Decimals
		num := func(v float64, d int) string {
			if sum.Count == 0 {
				return "—"
			}
			return text.FormatFixed(lang, v, d)
		}
		limits := tr(lang, "env.limits.unset")
		if sum.Limits != nil {
			limits = text.Render(lang, "env.limits.at_rest", thresholdsText(lang, sum.Limits.AtRest, sn.Decimals))
			if sum.Limits.InOperation != nil {
				limits += "\n" + text.Render(lang, "env.limits.in_operation", thresholdsText(lang, *sum.Limits.InOperation, sn.Decimals))
			}
		}
		m.AddAutoRow(pdfCol(4, sn.Code+"\n"+sn.Name, cell), pdfCol(3, tr(lang, "env.kind."+string(sn.Kind))+" ("+sn.Kind.Unit()+")", cell),
			pdfCol(2, text.FormatInt(lang, int(sum.Count)), cell), pdfCol(2, num(sum.Min, sn.Decimals), cell),
			pdfCol(2, num(sum.Mean, min(sn.Decimals+1, environment.MaxDecimals)), cell), pdfCol(2, num(sum.Max, sn.Decimals), cell), pdfCol(9, limits, cell))
	}

	m.AddAutoRow(pdfCol(pdfGrid, tr(lang, "env.pdf.alarms"), props.Text{Size: 12, Style: fontstyle.Bold, Top: 5, Bottom: 2}))
	if len(alarms) == 0 {
		m.AddAutoRow(pdfCol(pdfGrid, tr(lang, "env.pdf.no_alarms"), cell))
		return
	}
	acols := []struct {
		size int
		key  string
	}{{3, "env.csv.sensor"}, {8, "env.pdf.alarm"}, {2, "env.pdf.level"}, {4, "env.pdf.start"}, {4, "env.pdf.end"}, {3, "env.pdf.peak"}}
	head = make([]core.Col, len(acols))
	for i, c := range acols {
		head[i] = pdfCol(c.size, tr(lang, c.key), props.Text{Style: fontstyle.Bold, Left: 1, Top: 1, Bottom: 1})
	}
	m.AddAutoRow(head...).WithStyle(&props.Cell{BackgroundColor: pdfGrey})
	for _, al := range alarms {
		end := tr(lang, "env.pdf.open")
		if !al.End.IsZero() {
			end = formatStamp(lang, al.End, zone)
		}
		peak := "—"
		if al.Kind == environment.AlarmLimit && !math.IsNaN(al.Peak) {
			peak = text.FormatFixed(lang, al.Peak, decimals[al.SensorID])
		}
		m.AddAutoRow(pdfCol(3, codes[al.SensorID], cell), pdfCol(8, al.Message.Render(lang), cell),
			pdfCol(2, tr(lang, "stored.environment.level."+string(al.Level)), cell), pdfCol(4, formatStamp(lang, al.Start, zone), cell),
			pdfCol(4, end, cell), pdfCol(3, peak, cell))
	}
}
