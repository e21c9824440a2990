package web

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"galenix/internal/errs"
	"galenix/internal/identity"
	"galenix/internal/production"
	"galenix/internal/site"
)

// The planning pages: the orders and their batches, a new order, and a
// batch placed on a line at a time (scheduled, or moved to another line or
// time) or moved along its life (released to the floor, unscheduled).
// Every write goes through the production service, as the API's do: the
// same permissions, rules and audit trail.

func (s *Server) routesPlanningPages() {
	s.handle("GET", "/orders", false, s.ordersPage)
	routesEditor(s, "/orders", orderEditor(s))
	s.handle("GET", "/batches/{id}/schedule", false, s.batchSchedulePage)
	s.formWrite("/batches/{id}/schedule", s.batchSchedule)
	s.formWrite("/batches/{id}/move", s.batchMove)
	s.formWrite("/batches/{id}/steps/{step_id}/correct", s.batchCorrect)
}

// orderEditor records an order: the production service makes its batches
// from the product's effective master, as POST /api/v1/orders does.
func orderEditor(s *Server) *editor[production.Order] {
	return &editor[production.Order]{
		entity: "order", nav: "batches", may: production.MayPlan,
		fields: []fieldSpec{
			{Name: "product_id", Kind: "select", Required: true, Choices: "products", Wide: true},
			{Name: "quantity", Kind: "decimal", Required: true},
			{Name: "due_on", Kind: "date", Required: true},
		},
		// An order is recorded once; its batches change by their moves.
		get: s.Production.Order, create: s.Production.CreateOrder,
		setID: func(o *production.Order, id string) { o.ID = id },
		values: func(o *production.Order) url.Values {
			return url.Values{"product_id": {o.ProductID}, "quantity": {fmtNum(o.Quantity)}, "due_on": {o.DueOn.UTC().Format(time.DateOnly)}}
		},
		parse: func(v url.Values) (*production.Order, error) {
			o := &production.Order{ProductID: v.Get("product_id")}
			var err error
			if o.Quantity, err = decimal(v, "quantity", false); err != nil {
				return nil, err
			}
			o.DueOn, err = day(v, "due_on")
			return o, err
		},
		choices: func(r *http.Request, _ url.Values) (map[string][]option, error) {
			lang := langOf(r)
			ps, err := s.Production.Products(r.Context(), production.ProductFilter{})
			if err != nil {
				return nil, err
			}
			names, err := s.clientNames(r.Context())
			if err != nil {
				return nil, err
			}
			slices.SortStableFunc(ps, func(a, b production.Product) int { return strings.Compare(names[a.ClientID], names[b.ClientID]) })
			opts := make([]option, len(ps))
			for i, p := range ps {
				opts[i] = option{Value: p.ID, Label: p.Code + " — " + p.Name, Group: names[p.ClientID]}
			}
			return map[string][]option{"products": withNone(lang, "common.choose", opts)}, nil
		},
		defaults: func(q url.Values) url.Values { return url.Values{"product_id": {q.Get("product_id")}} },
		cancel:   func(url.Values, string) string { return "/orders" },
		saved:    func(o *production.Order) string { return "/orders?saved=1#order-" + o.ID },
	}
}

// clientNames names the client laboratories the reader sees, by id.
func (s *Server) clientNames(ctx context.Context) (map[string]string, error) {
	out := map[string]string{}
	if s.Clients == nil {
		return out, nil
	}
	cs, err := s.Clients.Clients(ctx)
	if err != nil {
		return nil, err
	}
	for _, c := range cs {
		out[c.ID] = c.Name + " (" + c.Code + ")"
	}
	return out, nil
}

// ordersPage lists the orders in the reader's scope, each with its
// product, client, quantity, due date and batches.
type ordersPage struct {
	prodBase
	listFilter
	Orders []orderRow
	// CanCreate shows the link to a new order.
	CanCreate bool
}

// orderRow is one order as the list shows it.
type orderRow struct {
	production.Order
	Product, Client string
}

func (s *Server) ordersPage(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	lf, err := s.listFilterOf(ctx, r.URL.Query())
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	f := production.OrderFilter{ClientID: lf.ClientID, Query: lf.Query, Limit: lf.Size, Offset: lf.Offset()}
	// Due dates are calendar days, the same everywhere (as the API).
	if f.DueFrom, f.DueTo, err = lf.period(r.URL.Query(), time.UTC); err != nil {
		s.pageError(w, r, err)
		return
	}
	d := ordersPage{prodBase: s.prodBase(r, "batches", "orders"), listFilter: lf}
	orders, total, err := s.Production.SearchOrders(ctx, f)
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	d.paged(len(orders), total, "/orders", nil)
	ps, err := s.Production.Products(ctx, production.ProductFilter{})
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	names, err := s.clientNames(ctx)
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	products := map[string]string{}
	for _, p := range ps {
		products[p.ID] = p.Code + " — " + p.Name
	}
	for _, o := range orders {
		// The batches of the page's orders only (an order makes a few).
		if o.Batches, err = s.Production.Batches(ctx, production.BatchFilter{OrderID: o.ID}); err != nil {
			s.pageError(w, r, err)
			return
		}
		slices.SortFunc(o.Batches, func(a, b production.Batch) int { return strings.Compare(a.Lot, b.Lot) })
		d.Orders = append(d.Orders, orderRow{Order: o, Product: products[o.ProductID], Client: names[o.ClientID]})
	}
	d.CanCreate = !d.Client && production.MayPlan(d.Actor) == nil
	s.render(w, r, http.StatusOK, "orders", d)
}

// --- a batch placed on the schedule

// batchSchedulePage places a batch on a line at a time: scheduling a
// planned batch, or moving a scheduled one to another line or time.
type batchSchedulePage struct {
	prodBase
	Batch  *production.Batch
	Form   *form
	Fields []fieldView
	// Back is where the page returns: the chart it came from, or the
	// batch's page.
	Back string
	// Zone names the site's time zone, which the start is typed in.
	Zone string
}

// scheduleFields are the fields of the schedule form: the line, the
// start's day and time in the site's zone, and why.
var scheduleFields = []fieldSpec{
	{Name: "line_id", Kind: "select", Required: true, Choices: "lines", Wide: true},
	{Name: "start_on", Kind: "date", Required: true},
	{Name: "start", Kind: "time", Required: true},
	{Name: "reason", Kind: "textarea", Wide: true, Max: 500},
}

// scheduleBack is where the schedule form returns: the schedule's chart
// the person came from, or the batch's page. Only those addresses are
// followed, never another site's.
func scheduleBack(v string, batchID string) string {
	if v == "/schedule" || strings.HasPrefix(v, "/schedule?") {
		return v
	}
	return "/batches/" + url.PathEscape(batchID)
}

func (s *Server) batchSchedulePage(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	b, err := s.Production.Batch(ctx, r.PathValue("id"))
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	if !s.mayOpen(w, r, production.MayPlan) {
		return
	}
	vals := url.Values{"back": {r.URL.Query().Get("back")}}
	if b.LineID != "" && b.Start != nil {
		lt := b.Start.In(s.zone())
		vals.Set("line_id", b.LineID)
		vals.Set("start_on", lt.Format(time.DateOnly))
		vals.Set("start", lt.Format("15:04"))
	}
	s.renderSchedule(w, r, http.StatusOK, b, vals, nil)
}

// renderSchedule draws the schedule form of the batch with the values and
// the refusal, if any.
func (s *Server) renderSchedule(w http.ResponseWriter, r *http.Request, status int, b *production.Batch, vals url.Values, refusal error) {
	d := batchSchedulePage{prodBase: s.prodBase(r, "batches", "schedule"), Batch: b, Zone: s.zone().String()}
	d.Back = scheduleBack(vals.Get("back"), b.ID)
	if r.Method == http.MethodPost {
		d.Path = "/batches/" + url.PathEscape(b.ID) + "/schedule"
	}
	lines, err := s.Site.Lines(r.Context(), site.LineFilter{})
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	bs, err := s.Site.Buildings(r.Context())
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	building := map[string]string{}
	for _, bl := range bs {
		building[bl.ID] = bl.Name
	}
	slices.SortStableFunc(lines, func(a, b site.Line) int { return strings.Compare(building[a.BuildingID], building[b.BuildingID]) })
	opts := make([]option, len(lines))
	for i, l := range lines {
		opts[i] = option{Value: l.ID, Label: l.Code + " — " + l.Name, Group: building[l.BuildingID]}
	}
	choices := map[string][]option{"lines": withNone(d.Lang, "common.choose", opts)}
	d.Form = &form{Values: vals, Err: refusal, lang: d.Lang}
	for _, fs := range scheduleFields {
		d.Form.shown = append(d.Form.shown, fs.Name)
		d.Fields = append(d.Fields, newField(d.Lang, d.Form, "schedule", fs, choices))
	}
	s.render(w, r, status, "batch_schedule", d)
}

// scheduleStart reads the start typed: a day and a time of day in the
// site's zone. Either missing leaves the start unset, for the rules to
// ask for it.
func scheduleStart(v url.Values, zone *time.Location) (time.Time, error) {
	d, t := strings.TrimSpace(v.Get("start_on")), strings.TrimSpace(v.Get("start"))
	if d == "" || t == "" {
		return time.Time{}, nil
	}
	if _, err := time.Parse(time.DateOnly, d); err != nil {
		return time.Time{}, inputError("start_on", "input.date")
	}
	if _, err := time.Parse("15:04", t); err != nil {
		return time.Time{}, inputError("start", "input.time")
	}
	return time.ParseInLocation(time.DateOnly+" 15:04", d+" "+t, zone)
}

// batchSchedule places the batch as the form asks, by the service's
// rules; a refusal shows the form again with what was typed and the rule
// in words, and nothing is changed.
func (s *Server) batchSchedule(w http.ResponseWriter, r *http.Request, vals url.Values) {
	ctx := r.Context()
	id := r.PathValue("id")
	start, err := scheduleStart(vals, s.zone())
	if err == nil {
		_, err = s.Production.ScheduleBatch(ctx, id, production.ScheduleRequest{LineID: vals.Get("line_id"), Start: start}, vals.Get("reason"))
	}
	if err != nil {
		// The batch as it is: it is also how a batch outside the reader's
		// scope, or none, answers not found before any refusal.
		b, gerr := s.Production.Batch(ctx, id)
		if gerr != nil {
			s.pageError(w, r, gerr)
			return
		}
		if errs.Is(err, errs.Forbidden) {
			s.pageError(w, r, err)
			return
		}
		s.logIfInternal(r, err)
		s.renderSchedule(w, r, refusalStatus(err), b, vals, err)
		return
	}
	back := scheduleBack(vals.Get("back"), id)
	sep := "?"
	if strings.Contains(back, "?") {
		sep = "&"
	}
	http.Redirect(w, r, back+sep+"done=schedule", http.StatusSeeOther)
}

// batchMoves are the moves the batch's page offers planners, with their
// reason: release to the floor and back to planned. Completion is the
// floor's, the QA review the review page's.
var batchMoves = []production.BatchMove{production.MoveRelease, production.MoveUnschedule}

// planMove is a move's button on the batch's page: its label, and that of
// its reason.
type planMove struct {
	Action        production.BatchMove
	Label, Reason string
}

// planMoveKeys are the catalogue's keys of each move's button and reason.
var planMoveKeys = map[production.BatchMove]planMove{
	production.MoveRelease:    {Label: "batch.move.release", Reason: "batch.move.release_reason"},
	production.MoveUnschedule: {Label: "batch.move.unschedule", Reason: "batch.move.unschedule_reason"},
}

// batchDone are the confirmations of a batch's move just made, by the
// done parameter of the page it returns to.
var batchDone = map[string]string{
	"schedule":   "batch.done.schedule",
	"release":    "batch.done.release",
	"unschedule": "batch.done.unschedule",
	"correct":    "batch.done.correct",
}

// doneNotice is the confirmation the done parameter asks for, if any.
func doneNotice(lang, done string) string {
	if k, ok := batchDone[done]; ok {
		return tr(lang, k)
	}
	return ""
}

// batchMove applies a move other than scheduling, as POST
// /api/v1/batches/{id}/move does.
func (s *Server) batchMove(w http.ResponseWriter, r *http.Request, vals url.Values) {
	id := r.PathValue("id")
	mv, err := parseBatchMove(vals.Get("action"))
	if err == nil {
		_, err = s.Production.MoveBatch(r.Context(), id, mv, vals.Get("reason"))
	}
	if err != nil {
		if errs.Is(err, errs.NotFound) && errs.FieldOf(err) == "" {
			s.pageError(w, r, err)
			return
		}
		if _, gerr := s.Production.Batch(r.Context(), id); gerr != nil {
			s.pageError(w, r, gerr)
			return
		}
		s.logIfInternal(r, err)
		s.renderBatch(w, r, refusalStatus(err), &form{Values: vals, Err: err, lang: langOf(r)})
		return
	}
	http.Redirect(w, r, "/batches/"+url.PathEscape(id)+"?done="+url.QueryEscape(string(mv)), http.StatusSeeOther)
}

// batchActions are the planner's actions on a batch's page: schedule or
// move it, release it to the floor, take it back to planned.
type batchActions struct {
	// Schedule: the batch may be placed (planned) or moved (scheduled).
	Schedule bool
	Moves    []planMove
	Form     *form
}

// planActions lists what the actor may do to the batch from its page;
// nil for who does not plan.
func planActions(a identity.Actor, b *production.Batch, f *form) *batchActions {
	if a.IsClient() || production.MayPlan(a) != nil {
		return nil
	}
	out := &batchActions{Form: f}
	if _, err := b.State.Allowed(production.MoveSchedule); err == nil {
		out.Schedule = true
	}
	refused := production.BatchMove("")
	if f != nil && f.Err != nil {
		refused = production.BatchMove(f.Get("action"))
	}
	for _, mv := range batchMoves {
		// The move refused is offered again, with its reason and why.
		if _, err := b.State.Allowed(mv); err == nil || mv == refused {
			m := planMoveKeys[mv]
			m.Action = mv
			out.Moves = append(out.Moves, m)
		}
	}
	if !out.Schedule && len(out.Moves) == 0 && (f == nil || f.Err == nil) {
		return nil
	}
	return out
}
