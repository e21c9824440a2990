// Package portal is the client laboratory's space: what its dashboard
// shows of its own work, computed from its orders, batches and the
// obligations of its quality agreement (rules only; the store scopes every
// read to the client, and the web draws it).
package portal

import (
	"cmp"
	"slices"
	"time"

	"galenix/internal/production"
	"galenix/internal/project"
	"galenix/internal/quality"
)

// Phase groups a batch's states as a client follows them.
type Phase string

// The phases, in the order a batch goes through them.
const (
	PhasePlanned   Phase = "planned"   // planned or scheduled
	PhaseFloor     Phase = "floor"     // released to the floor or in progress
	PhaseReview    Phase = "review"    // completed, in QA's review, reviewed
	PhaseCertified Phase = "certified" // certified by the qualified person
	PhaseRejected  Phase = "rejected"
)

// Phases lists them in order.
var Phases = []Phase{PhasePlanned, PhaseFloor, PhaseReview, PhaseCertified, PhaseRejected}

// PhaseOf is the phase of a batch's state.
func PhaseOf(s production.BatchState) Phase {
	switch s {
	case production.BatchPlanned, production.BatchScheduled:
		return PhasePlanned
	case production.BatchReleased, production.BatchInProgress:
		return PhaseFloor
	case production.BatchCompleted, production.BatchInReview, production.BatchQAReviewed:
		return PhaseReview
	case production.BatchCertified:
		return PhaseCertified
	}
	return PhaseRejected
}

// Volume is, for one product, what the client ordered against what was
// delivered (certified), what is being made and what was rejected, in
// the product's unit.
type Volume struct {
	ProductID   string  `json:"product_id"`
	ProductCode string  `json:"product_code"`
	Product     string  `json:"product"`
	Unit        string  `json:"unit"`
	Ordered     float64 `json:"ordered"`
	Delivered   float64 `json:"delivered"`
	InMaking    float64 `json:"in_making"`
	Rejected    float64 `json:"rejected"`
}

// Share is the delivered part of the ordered quantity, 0 to 1 (0 when
// nothing was ordered).
func (v Volume) Share() float64 {
	if v.Ordered <= 0 {
		return 0
	}
	return min(v.Delivered/v.Ordered, 1)
}

// Dashboard is the client's overview.
type Dashboard struct {
	// Phases counts the batches by phase.
	Phases map[Phase]int `json:"phases"`
	// Live are the batches on the floor, their progress and exceptions,
	// the most advanced first.
	Live []production.Batch `json:"live"`
	// Volumes are forecast (ordered) against delivered, by product.
	Volumes []Volume `json:"volumes"`
	// Due are the agreement's obligations not met, soonest first; Late
	// counts those past their deadline.
	Due  []quality.ObligationItem `json:"due"`
	Late int                      `json:"late"`
	// Notices are the last things the client was told, newest first.
	Notices []Notice `json:"notices"`
	// Projects are the client's projects with the site.
	Projects []ProjectItem `json:"projects"`
	// Dossiers are the client's last certified batches with the
	// documents its quality agreement gives it for each.
	Dossiers []DossierItem `json:"dossiers"`
	// Approvals are the client's master batch records in review that its
	// quality agreement has its quality assurance approve.
	Approvals []production.Master `json:"approvals"`
}

// DossierItem is a certified batch and the documents its client receives
// for it.
type DossierItem struct {
	BatchID     string                  `json:"batch_id"`
	Lot         string                  `json:"lot"`
	ProductCode string                  `json:"product_code"`
	Product     string                  `json:"product"`
	Documents   []quality.BatchDocument `json:"documents"`
}

// MaxDossiers is how many certified batches the dashboard lists.
const MaxDossiers = 10

// Dossiers lists the certified batches among the client's, the last made
// first, MaxDossiers at most, with the documents its agreement (nil: none)
// delivers for each.
func Dossiers(batches []production.Batch, ag *quality.Agreement) []DossierItem {
	var certified []production.Batch
	for _, b := range batches {
		if b.State == production.BatchCertified {
			certified = append(certified, b)
		}
	}
	at := func(b production.Batch) time.Time {
		if b.End != nil {
			return *b.End
		}
		return time.Time{}
	}
	slices.SortStableFunc(certified, func(x, y production.Batch) int { return cmp.Or(at(y).Compare(at(x)), cmp.Compare(y.Lot, x.Lot)) })
	out := []DossierItem{}
	for _, b := range certified[:min(len(certified), MaxDossiers)] {
		out = append(out, DossierItem{BatchID: b.ID, Lot: b.Lot, ProductCode: b.ProductCode, Product: b.Product, Documents: ag.Delivered()})
	}
	return out
}

// Summarize makes the dashboard of a client's orders, batches and
// obligations at now. The caller passes only the client's own records.
func Summarize(orders []production.Order, batches []production.Batch, obligations []quality.ObligationItem, now time.Time) Dashboard {
	d := Dashboard{Phases: map[Phase]int{}, Live: []production.Batch{}, Volumes: []Volume{}, Due: []quality.ObligationItem{}, Notices: []Notice{},
		Projects: []ProjectItem{}, Dossiers: []DossierItem{}, Approvals: []production.Master{}}
	for _, p := range Phases {
		d.Phases[p] = 0
	}
	vols := map[string]*Volume{}
	volume := func(productID, code, name, unit string) *Volume {
		v, ok := vols[productID]
		if !ok {
			v = &Volume{ProductID: productID, ProductCode: code, Product: name, Unit: unit}
			vols[productID] = v
		}
		if v.ProductCode == "" {
			v.ProductCode, v.Product = code, name
		}
		if v.Unit == "" {
			v.Unit = unit
		}
		return v
	}
	for _, o := range orders {
		volume(o.ProductID, "", "", o.Unit).Ordered += o.Quantity
	}
	for _, b := range batches {
		ph := PhaseOf(b.State)
		d.Phases[ph]++
		v := volume(b.ProductID, b.ProductCode, b.Product, b.Unit)
		switch ph {
		case PhaseCertified:
			v.Delivered += b.Quantity
		case PhaseRejected:
			v.Rejected += b.Quantity
		default:
			v.InMaking += b.Quantity
		}
		if ph == PhaseFloor {
			d.Live = append(d.Live, b)
		}
	}
	slices.SortStableFunc(d.Live, func(a, b production.Batch) int {
		return cmp.Or(cmp.Compare(progress(b), progress(a)), cmp.Compare(a.Lot, b.Lot))
	})
	for _, v := range vols {
		d.Volumes = append(d.Volumes, *v)
	}
	slices.SortFunc(d.Volumes, func(a, b Volume) int {
		return cmp.Or(cmp.Compare(a.ProductCode, b.ProductCode), cmp.Compare(a.ProductID, b.ProductID))
	})
	for _, o := range obligations {
		if o.DoneAt != nil {
			continue
		}
		d.Due = append(d.Due, o)
		if o.State(now) == quality.ObligationLate {
			d.Late++
		}
	}
	slices.SortStableFunc(d.Due, func(a, b quality.ObligationItem) int { return a.Due.Compare(b.Due) })
	return d
}

// progress is a batch's share of steps done.
func progress(b production.Batch) float64 {
	if b.StepsTotal == 0 {
		return 0
	}
	return float64(b.StepsDone) / float64(b.StepsTotal)
}

// ProjectItem is one of the client's projects as its space shows it.
type ProjectItem struct {
	ID       string        `json:"id"`
	Code     string        `json:"code"`
	Title    string        `json:"title"`
	Phase    project.Phase `json:"phase"`
	TargetOn *time.Time    `json:"target_on,omitempty"`
	// OpenTasks counts the tasks not done, of both sides; YourTasks those
	// of the client's side; Overdue those past their due date.
	OpenTasks int `json:"open_tasks"`
	YourTasks int `json:"your_tasks"`
	Overdue   int `json:"overdue"`
}

// Projects summarizes the client's projects with their open tasks, at now
// in the site's zone. The caller passes only the client's own records.
func Projects(ps []project.Project, openTasks []project.Entry, now time.Time, zone *time.Location) []ProjectItem {
	out := make([]ProjectItem, len(ps))
	at := map[string]int{}
	for i, p := range ps {
		out[i] = ProjectItem{ID: p.ID, Code: p.Code, Title: p.Title, Phase: p.Phase, TargetOn: p.TargetOn}
		at[p.ID] = i
	}
	for _, e := range openTasks {
		i, ok := at[e.ProjectID]
		if !ok {
			continue
		}
		out[i].OpenTasks++
		if e.Side == project.ClientSide {
			out[i].YourTasks++
		}
		if e.Overdue(now, zone) {
			out[i].Overdue++
		}
	}
	return out
}
