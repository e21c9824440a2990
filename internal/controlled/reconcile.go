package controlled

// Reconciliation confronts, for one batch and one substance, what the
// batch's master record says it takes (the material additions of the
// substance's material: their quantities, within their tolerances) with
// what the register dispensed to it, net of the returns.
type Reconciliation struct {
	BatchID     string `json:"batch_id"`
	Batch       string `json:"batch"`
	State       string `json:"state"`
	SubstanceID string `json:"substance_id"`
	Substance   string `json:"substance"`
	Unit        string `json:"unit"`
	// Theoretical is the master's quantity; Tolerance how far from it
	// the net may be.
	Theoretical Qty `json:"theoretical"`
	Tolerance   Qty `json:"tolerance"`
	Dispensed   Qty `json:"dispensed"`
	Returned    Qty `json:"returned"`
	// Difference is the net (dispensed less returned) less the
	// theoretical.
	Difference Qty  `json:"difference"`
	Within     bool `json:"within"`
}

// Reconcile adds a batch's movements of the substance to its line and
// decides it: the net within the tolerance of the theoretical quantity.
func (r *Reconciliation) Reconcile(movements []Movement) {
	r.Dispensed, r.Returned = 0, 0
	for i := range movements {
		m := &movements[i]
		if m.BatchID != r.BatchID || m.SubstanceID != r.SubstanceID || m.State != Validated {
			continue
		}
		switch m.Kind {
		case Dispensing:
			r.Dispensed += m.Quantity
		case Return:
			r.Returned += m.Quantity
		}
	}
	r.Difference = r.Dispensed - r.Returned - r.Theoretical
	d := r.Difference
	if d < 0 {
		d = -d
	}
	r.Within = d <= r.Tolerance
}

// Total is the sum of lines over a period: what the batches should have
// taken, what was dispensed and returned.
func Total(lines []Reconciliation) Reconciliation {
	var t Reconciliation
	for _, l := range lines {
		t.Theoretical += l.Theoretical
		t.Tolerance += l.Tolerance
		t.Dispensed += l.Dispensed
		t.Returned += l.Returned
	}
	t.Difference = t.Dispensed - t.Returned - t.Theoretical
	d := t.Difference
	if d < 0 {
		d = -d
	}
	t.Within = d <= t.Tolerance
	return t
}
