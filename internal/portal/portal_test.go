package portal

import (
	"encoding/json"
	"galenix/internal/outbox"
	"testing"
	"time"

	"galenix/internal/production"
	"galenix/internal/project"
	"galenix/internal/quality"
)

// TestSummarize: the client's batches by phase, those on the floor most
// advanced first, ordered against delivered by product (certified
// batches delivered, rejected ones apart, the rest in making), and the
// agreement's deadlines not met, soonest first, the late ones counted.
func TestSummarize(t *testing.T) {
	now := time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)
	orders := []production.Order{
		{ProductID: "p1", Quantity: 30000, Unit: "flacons"},
		{ProductID: "p1", Quantity: 10000, Unit: "flacons"},
		{ProductID: "p2", Quantity: 5000, Unit: "comprimés"},
	}
	b := func(lot, product string, st production.BatchState, qty float64, done, total int) production.Batch {
		return production.Batch{Lot: lot, ProductID: product, ProductCode: map[string]string{"p1": "ALP-VIAL", "p2": "ALP-TAB", "p3": "ALP-SYR"}[product],
			State: st, Quantity: qty, Unit: "u", StepsDone: done, StepsTotal: total}
	}
	batches := []production.Batch{
		b("L1", "p1", production.BatchCertified, 10000, 20, 20),
		b("L2", "p1", production.BatchCertified, 10000, 20, 20),
		b("L3", "p1", production.BatchInProgress, 10000, 5, 20),
		b("L4", "p1", production.BatchReleased, 10000, 0, 20),
		b("L5", "p2", production.BatchRejected, 5000, 12, 12),
		b("L6", "p2", production.BatchInProgress, 5000, 9, 12),
		b("L7", "p3", production.BatchInReview, 100, 8, 8),
		b("L8", "p3", production.BatchScheduled, 100, 0, 8),
	}
	late, running := now.Add(-time.Hour), now.Add(5*time.Hour)
	met := now.Add(-48 * time.Hour)
	obligations := []quality.ObligationItem{
		{Obligation: quality.Obligation{ID: "o1", Kind: quality.ObligeSummary, Due: running}},
		{Obligation: quality.Obligation{ID: "o2", Kind: quality.ObligeNotify, Due: late}},
		{Obligation: quality.Obligation{ID: "o3", Kind: quality.ObligeNotify, Due: late, DoneAt: &met}},
	}
	d := Summarize(orders, batches, obligations, now)
	want := map[Phase]int{PhasePlanned: 1, PhaseFloor: 3, PhaseReview: 1, PhaseCertified: 2, PhaseRejected: 1}
	for p, n := range want {
		if d.Phases[p] != n {
			t.Errorf("phase %s: %d batches, want %d", p, d.Phases[p], n)
		}
	}
	if len(d.Live) != 3 || d.Live[0].Lot != "L6" || d.Live[1].Lot != "L3" || d.Live[2].Lot != "L4" {
		t.Errorf("live batches: %+v", d.Live)
	}
	if len(d.Volumes) != 3 {
		t.Fatalf("volumes: %+v", d.Volumes)
	}
	v := d.Volumes[2] // ALP-VIAL
	if v.ProductCode != "ALP-VIAL" || v.Ordered != 40000 || v.Delivered != 20000 || v.InMaking != 20000 || v.Rejected != 0 || v.Share() != 0.5 {
		t.Errorf("ALP-VIAL: %+v", v)
	}
	if tab := d.Volumes[0]; tab.ProductCode != "ALP-SYR" || tab.Ordered != 0 || tab.InMaking != 200 || tab.Share() != 0 {
		t.Errorf("a product without an order: %+v", tab)
	}
	if tab := d.Volumes[1]; tab.ProductCode != "ALP-TAB" || tab.Rejected != 5000 || tab.InMaking != 5000 || tab.Delivered != 0 {
		t.Errorf("ALP-TAB: %+v", tab)
	}
	if len(d.Due) != 2 || d.Due[0].ID != "o2" || d.Late != 1 {
		t.Errorf("due: %+v, %d late", d.Due, d.Late)
	}
	if e := Summarize(nil, nil, nil, now); len(e.Volumes) != 0 || e.Phases[PhaseFloor] != 0 || e.Live == nil || e.Due == nil {
		t.Errorf("an empty dashboard: %+v", e)
	}
}

// TestNotices: the client's events become notices with their words'
// key, parameters and link; another topic, or a payload that cannot be
// read, is left out.
func TestNotices(t *testing.T) {
	at := time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)
	ev := func(seq int64, topic, id, payload string) outbox.Event {
		return outbox.Event{Seq: seq, At: at, Topic: topic, EntityID: id, Payload: json.RawMessage(payload)}
	}
	got := Notices([]outbox.Event{
		ev(9, outbox.BatchMoved, "b1", `{"lot":"L2603-0001","from":"in_progress","to":"completed"}`),
		ev(8, outbox.DeviationOpened, "d1", `{"code":"DEV2603-0001","batch_id":"b1"}`),
		ev(7, outbox.CertificatePublished, "c1", `{"lot":"L2603-0001","batch_id":"b1"}`),
		ev(6, outbox.ClientNotified, "o1", `{"deviation":"DEV2603-0001","kind":"notify","lot":"L2603-0001","deviation_id":"d1"}`),
		ev(5, outbox.ObligationEscalated, "o2", `{"deviation":"DEV2603-0001","kind":"summary","lot":"","deviation_id":"d1"}`),
		ev(4, outbox.SignatureGiven, "s1", `{"meaning":"approved"}`),
		ev(3, outbox.BatchMoved, "b2", `not json`),
		ev(2, outbox.ClientNotified, "o3", `{"kind":"other"}`),
		ev(1, outbox.ProjectChanged, "p1", `{"code":"PRJ-A-01","phase":"formulation"}`),
		ev(1, outbox.ProjectEntryAdded, "e1", `{"code":"PRJ-A-01","project_id":"p1","kind":"decision","side":"client"}`),
		ev(1, outbox.ProjectEntryAdded, "e2", `{"code":"PRJ-A-01","project_id":"p1","kind":"milestone","side":"client"}`),
	})
	want := []struct{ key, href string }{
		{"notice.batch_moved", "/batches/b1"}, {"notice.deviation_opened", "/deviations/d1"}, {"notice.certificate_published", "/certificates"},
		{"notice.client_notified.notify", "/deviations/d1"}, {"notice.obligation_escalated.summary.no_lot", "/deviations/d1"},
		{"notice.project_changed", "/projects/p1"}, {"notice.project.decision.client", "/projects/p1"},
	}
	if len(got) != len(want) {
		t.Fatalf("notices: %+v", got)
	}
	for i, w := range want {
		if got[i].Key != w.key || got[i].Href != w.href || !got[i].At.Equal(at) {
			t.Errorf("notice %d: %+v, want %s → %s", i, got[i], w.key, w.href)
		}
	}
	if got[0].Args[0] != "L2603-0001" || got[0].Args[1] != "state:completed" {
		t.Errorf("a batch moved: %v", got[0].Args)
	}
	if got[5].Args[0] != "PRJ-A-01" || got[5].Args[1] != "phase:formulation" {
		t.Errorf("a project moved: %v", got[5].Args)
	}
}

// TestProjects: the client's projects with their open tasks counted, the
// client's side's and the overdue ones apart; a task of another project
// is left out.
func TestProjects(t *testing.T) {
	now := time.Date(2026, 12, 5, 10, 0, 0, 0, time.UTC)
	day := func(d int) *time.Time { t := time.Date(2026, 12, d, 0, 0, 0, 0, time.UTC); return &t }
	ps := []project.Project{{ID: "p1", Code: "PRJ-A-01", Title: "Suspension", Phase: project.TechTransfer}, {ID: "p2", Code: "PRJ-A-02", Title: "Tablet"}}
	tasks := []project.Entry{
		{ProjectID: "p1", Kind: project.KindTask, Side: project.ClientSide, State: project.Todo, DueOn: day(1)},
		{ProjectID: "p1", Kind: project.KindTask, Side: project.SiteSide, State: project.Doing, DueOn: day(20)},
		{ProjectID: "p9", Kind: project.KindTask, Side: project.SiteSide, State: project.Todo, DueOn: day(1)},
	}
	got := Projects(ps, tasks, now, time.UTC)
	if len(got) != 2 || got[0].OpenTasks != 2 || got[0].YourTasks != 1 || got[0].Overdue != 1 || got[1].OpenTasks != 0 || got[0].Phase != project.TechTransfer {
		t.Errorf("projects: %+v", got)
	}
}
