package portal

import (
	"testing"
	"time"

	"galenix/internal/production"
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
