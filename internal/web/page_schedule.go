package web

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"galenix/internal/bounds"
	"galenix/internal/errs"
	"galenix/internal/production"
	"galenix/internal/site"
)

// The schedule of a building's lines as a Gantt chart, and their load week
// by week. The chart is plain SVG: bars placed in percent of the period,
// no script and no inline style (the CSP forbids them).

// schedulePage is the Gantt chart of a building's lines.
type schedulePage struct {
	prodBase
	Buildings []site.Building
	Building  *site.Building
	From, To  time.Time
	Weeks     int
	Days      []ganttDay
	Rows      []ganttRow
	// NowX places the line of the present moment, if within the period.
	NowX string
	// Prev, Next and Today move the period.
	Prev, Next, Today string
	// TodayX and TodayW shade today's column, if within the period.
	TodayX, TodayW string
	// Tips are the bars' tooltips: a popover each, opened by a tap, a
	// click or the keyboard on its bar.
	Tips []ganttTip
	// States are the batch states the chart shows, for its legend.
	States []production.BatchState
	// Clients are the clients whose batches the chart shows, when the
	// reader sees several: each has its colour, in the legend.
	Clients []ganttClient
	// CanPlan shows the links to schedule and move batches; Planned are
	// the batches waiting for a line and a time.
	CanPlan bool
	Planned []production.Batch
	// Notice confirms a batch just scheduled or moved.
	Notice string
	// Here is the chart's own address, where the forms return.
	Here string
}

// ganttClient is a client's colour on the chart.
type ganttClient struct {
	Name  string
	Color int
}

// ganttClientColors is how many client colours the chart has.
const ganttClientColors = 6

// ganttTip is what a bar's tooltip says, and where it leads.
type ganttTip struct {
	ID, Lot, Product, Client, Line, Span string
	State                                production.BatchState
	Href, Move                           string
	Reserved                             bool
	// Color is the client's colour, -1 when the chart shows none.
	Color int
}

// ganttDay is one day column of the chart.
type ganttDay struct {
	X, W, Mid string
	Label     string
	Weekend   bool
}

// ganttRow is one line of the chart.
type ganttRow struct {
	Line    site.Line
	Bars    []ganttBar
	Windows []ganttBar
}

// ganttBar is a batch (or a maintenance window) on the chart: its place
// and width in percent of the period, what it says, where it leads.
type ganttBar struct {
	X, W, TextX string
	Label       string
	Title       string
	Href        string
	Reserved    bool
	// State colours a batch's bar; Color is its client's colour when the
	// chart shows several (-1: none); Tip names its tooltip.
	State production.BatchState
	Color int
	Tip   string
}

// The weeks a chart may span.
const (
	scheduleWeeks    = 3
	scheduleMinWeeks = 2
	scheduleMaxWeeks = 4
	// ganttLabelWidth is the narrowest bar, in percent of the chart,
	// that holds a whole lot number; a narrower one shows its sequence
	// number only (L2612-0942: 0942), its tooltip the whole.
	ganttLabelWidth = 7.5
)

// weekMonday is the Monday 00:00, site time, of the week holding t.
func weekMonday(t time.Time, zone *time.Location) time.Time {
	lt := t.In(zone)
	d := time.Date(lt.Year(), lt.Month(), lt.Day(), 0, 0, 0, 0, zone)
	return d.AddDate(0, 0, -((int(d.Weekday()) + 6) % 7))
}

// queryDay reads a day (YYYY-MM-DD) of the query as midnight, site time;
// the fallback when absent.
func queryDay(q url.Values, name string, fallback time.Time, zone *time.Location) (time.Time, error) {
	v := strings.TrimSpace(q.Get(name))
	if v == "" {
		return fallback, nil
	}
	t, err := time.ParseInLocation(time.DateOnly, v, zone)
	if err != nil {
		return time.Time{}, errs.Field(name, "web.give_date_yyyy_mm")
	}
	return t, bounds.Time(name, t)
}

// ganttPct writes the place of t within [from, to) in percent, bounded.
func ganttPct(t, from, to time.Time) float64 {
	p := float64(t.Sub(from)) / float64(to.Sub(from)) * 100
	return min(max(p, 0), 100)
}

func ganttPctText(f float64) string { return strconv.FormatFloat(f, 'f', 3, 64) + "%" }

func (s *Server) schedulePage(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	q := r.URL.Query()
	d := schedulePage{prodBase: s.prodBase(r, "batches", "schedule"), Weeks: scheduleWeeks}
	if n, err := strconv.Atoi(q.Get("weeks")); err == nil {
		d.Weeks = min(max(n, scheduleMinWeeks), scheduleMaxWeeks)
	}
	from, err := queryDay(q, "from", weekMonday(time.Now(), s.zone()), s.zone())
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	d.From, d.To = from, from.AddDate(0, 0, 7*d.Weeks)
	if d.Buildings, d.Building, err = s.productionBuildings(ctx, q.Get("building")); err != nil {
		s.pageError(w, r, err)
		return
	}
	if d.Building == nil {
		s.render(w, r, http.StatusOK, "schedule", d)
		return
	}
	sc, err := s.Production.Schedule(ctx, production.ScheduleFilter{BuildingID: d.Building.ID, From: d.From, To: d.To})
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	products, err := s.Production.Products(ctx, production.ProductFilter{})
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	names := map[string]string{}
	for _, p := range products {
		names[p.ID] = p.Code + " " + p.Name
	}
	clientNames, err := s.clientNames(ctx)
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	d.CanPlan = !d.Client && production.MayPlan(d.Actor) == nil
	d.Notice = doneNotice(d.Lang, q.Get("done"))
	// The clients whose batches the chart shows, each with its colour,
	// when there are several.
	colors := map[string]int{}
	var seen []string
	for _, l := range sc.Lines {
		for _, sl := range l.Slots {
			if !sl.Hidden && !slices.Contains(seen, sl.ClientID) {
				seen = append(seen, sl.ClientID)
			}
		}
	}
	if len(seen) > 1 {
		slices.SortFunc(seen, func(a, b string) int { return strings.Compare(clientNames[a], clientNames[b]) })
		for i, id := range seen {
			colors[id] = i % ganttClientColors
			d.Clients = append(d.Clients, ganttClient{Name: clientNames[id], Color: i % ganttClientColors})
		}
	}
	if d.CanPlan {
		if d.Planned, err = s.Production.Batches(ctx, production.BatchFilter{States: []production.BatchState{production.BatchPlanned}, Limit: 50}); err != nil {
			s.pageError(w, r, err)
			return
		}
	}

	link := func(from time.Time) string {
		v := url.Values{"building": {d.Building.ID}, "from": {from.Format(time.DateOnly)}}
		if d.Weeks != scheduleWeeks {
			v.Set("weeks", strconv.Itoa(d.Weeks))
		}
		return "/schedule?" + v.Encode()
	}
	d.Prev, d.Next, d.Today = link(d.From.AddDate(0, 0, -7)), link(d.From.AddDate(0, 0, 7)), link(weekMonday(time.Now(), s.zone()))
	d.Here = link(d.From)
	if now := time.Now(); !now.Before(d.From) && now.Before(d.To) {
		d.NowX = ganttPctText(ganttPct(now, d.From, d.To))
		lt := now.In(s.zone())
		today := time.Date(lt.Year(), lt.Month(), lt.Day(), 0, 0, 0, 0, s.zone())
		x, end := ganttPct(today, d.From, d.To), ganttPct(today.AddDate(0, 0, 1), d.From, d.To)
		d.TodayX, d.TodayW = ganttPctText(x), ganttPctText(end-x)
	}
	for day := d.From; day.Before(d.To); day = day.AddDate(0, 0, 1) {
		x, end := ganttPct(day, d.From, d.To), ganttPct(day.AddDate(0, 0, 1), d.From, d.To)
		wd := day.Weekday()
		d.Days = append(d.Days, ganttDay{X: ganttPctText(x), W: ganttPctText(end - x), Mid: ganttPctText((x + end) / 2),
			Label: tr(d.Lang, "weekday."+strconv.Itoa(int(wd))) + " " + day.Format("02"), Weekend: wd == time.Saturday || wd == time.Sunday})
	}
	span := func(a, b time.Time) string {
		return prodWhen(d.Lang, a, s.zone()) + " → " + prodWhen(d.Lang, b, s.zone())
	}
	place := func(a, b time.Time) (ganttBar, bool) {
		x, end := ganttPct(a, d.From, d.To), ganttPct(b, d.From, d.To)
		return ganttBar{X: ganttPctText(x), W: ganttPctText(end - x), TextX: ganttPctText(x + 0.3)}, end > x
	}
	rows := map[string]*ganttRow{}
	states := map[production.BatchState]bool{}
	for li, l := range sc.Lines {
		row := ganttRow{Line: l.Line}
		for si, sl := range l.Slots {
			bar, ok := place(sl.Start, sl.End)
			if !ok {
				continue
			}
			tip := ganttTip{Line: l.Line.Code, Span: span(sl.Start, sl.End), Color: -1}
			bar.Color = -1
			if sl.Hidden {
				bar.Reserved = true
				bar.Label = tr(d.Lang, "schedule.reserved")
				bar.Title = tr(d.Lang, "schedule.reserved") + " — " + span(sl.Start, sl.End)
				tip.ID, tip.Reserved = "tip-r"+strconv.Itoa(li)+"-"+strconv.Itoa(si), true
			} else {
				bar.Href = "/batches/" + url.PathEscape(sl.BatchID)
				bar.Label = sl.Lot
				if i := strings.LastIndexByte(sl.Lot, '-'); i >= 0 && ganttPct(sl.End, d.From, d.To)-ganttPct(sl.Start, d.From, d.To) < ganttLabelWidth {
					bar.Label = sl.Lot[i+1:]
				}
				bar.State = sl.State
				bar.Title = strings.TrimSpace(sl.Lot + " — " + names[sl.ProductID] + " — " + span(sl.Start, sl.End))
				states[sl.State] = true
				tip.ID, tip.Lot, tip.Product, tip.State, tip.Href = "tip-"+sl.BatchID, sl.Lot, names[sl.ProductID], sl.State, bar.Href
				if c, ok := colors[sl.ClientID]; ok {
					bar.Color, tip.Color, tip.Client = c, c, clientNames[sl.ClientID]
				}
				if _, err := sl.State.Allowed(production.MoveSchedule); err == nil && d.CanPlan {
					tip.Move = bar.Href + "/schedule?" + url.Values{"back": {d.Here}}.Encode()
				}
			}
			bar.Tip = tip.ID
			d.Tips = append(d.Tips, tip)
			row.Bars = append(row.Bars, bar)
		}
		d.Rows = append(d.Rows, row)
		rows[l.Line.ID] = &d.Rows[len(d.Rows)-1]
	}
	for _, st := range production.BatchStates {
		if states[st] {
			d.States = append(d.States, st)
		}
	}
	for _, win := range sc.Windows {
		row := rows[win.LineID]
		if row == nil {
			continue
		}
		if bar, ok := place(win.Start, win.End); ok {
			bar.Title = tr(d.Lang, "schedule.maintenance") + " — " + win.Reason + " — " + span(win.Start, win.End)
			row.Windows = append(row.Windows, bar)
		}
	}
	s.render(w, r, http.StatusOK, "schedule", d)
}

// capacityPage is the load of a building's lines over one week.
type capacityPage struct {
	prodBase
	Buildings []site.Building
	Building  *site.Building
	Week      time.Time
	WeekEnd   time.Time
	Rows      []capacityRow
	Total     capacityRow
	// Prev, Next and This move the week.
	Prev, Next, This string
}

// capacityRow is one line's week: its load is the hours booked over the
// hours available (staffed by the shift calendar, less maintenance).
type capacityRow struct {
	production.LineCapacity
	Load int
}

func newCapacityRow(c production.LineCapacity) capacityRow {
	row := capacityRow{LineCapacity: c}
	if c.Available > 0 {
		row.Load = int(c.Booked/c.Available*100 + 0.5)
	} else if c.Booked > 0 {
		row.Load = 100
	}
	return row
}

// Meter is the load as the meter shows it, at most 100 %.
func (c capacityRow) Meter() int { return min(c.Load, 100) }

func (s *Server) capacityPage(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	q := r.URL.Query()
	d := capacityPage{prodBase: s.prodBase(r, "batches", "capacity")}
	week, err := queryDay(q, "week", time.Now(), s.zone())
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	d.Week = weekMonday(week, s.zone())
	d.WeekEnd = d.Week.AddDate(0, 0, 6)
	if d.Buildings, d.Building, err = s.productionBuildings(ctx, q.Get("building")); err != nil {
		s.pageError(w, r, err)
		return
	}
	if d.Building == nil {
		s.render(w, r, http.StatusOK, "capacity", d)
		return
	}
	c, err := s.Production.Capacity(ctx, d.Building.ID, d.Week)
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	link := func(t time.Time) string {
		return "/capacity?" + url.Values{"building": {d.Building.ID}, "week": {t.Format(time.DateOnly)}}.Encode()
	}
	d.Prev, d.Next, d.This = link(d.Week.AddDate(0, 0, -7)), link(d.Week.AddDate(0, 0, 7)), link(weekMonday(time.Now(), s.zone()))
	var total production.LineCapacity
	for _, lc := range c.Lines {
		d.Rows = append(d.Rows, newCapacityRow(lc))
		total.Available += lc.Available
		total.Maintenance += lc.Maintenance
		total.Booked += lc.Booked
		total.Batches += lc.Batches
	}
	d.Total = newCapacityRow(total)
	s.render(w, r, http.StatusOK, "capacity", d)
}
