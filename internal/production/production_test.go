package production

import (
	"strings"
	"testing"
	"time"

	"galenix/internal/errs"
	"galenix/internal/esign"
	"galenix/internal/site"
)

func f(v float64) *float64 { return &v }

func master() *Master {
	return &Master{ProductID: "p", Code: "MBR-1", Title: "Flacons", BatchSize: 1000, Unit: "flacons", Hours: 8, Operations: []Operation{
		{Title: "Préparation", Steps: []Step{
			{Kind: StepClearance, Text: "Vide de ligne", Checklist: []string{"Ligne vide"}},
			{Kind: StepNumeric, Text: "pH", Unit: "pH", Target: f(7), Low: f(6.8), High: f(7.2), Decimals: 1},
			{Kind: StepMaterial, Text: "Principe actif", MaterialID: "m", Quantity: 10, Tolerance: 2},
			{Kind: StepEquipment, Text: "Remplisseuse", EquipmentKind: "filler", Critical: true},
		}},
		{Title: "Remplissage", Steps: []Step{{Kind: StepSampling, Text: "Prélever", SamplePoint: "Sortie"}, {Kind: StepInstruction, Text: "Lancer"}}},
	}}
}

func TestMasterValidate(t *testing.T) {
	m := master()
	if err := m.Validate(); err != nil {
		t.Fatal(err)
	}
	if m.Steps != 6 || m.Operations[1].No != 2 || m.Operations[1].Steps[1].No != 2 || !m.Operations[0].Steps[3].Sign {
		t.Fatalf("numbering and derived fields: %+v", m)
	}
	cases := map[string]func(m *Master){
		"first step must be the line clearance": func(m *Master) { m.Operations[0].Steps = m.Operations[0].Steps[1:] },
		"limits must frame the target":          func(m *Master) { m.Operations[0].Steps[1].Low = f(7.1) },
		"a numeric entry needs its unit":        func(m *Master) { m.Operations[0].Steps[1].Unit = "" },
		"a material addition names":             func(m *Master) { m.Operations[0].Steps[2].MaterialID = "" },
		"tolerance":                             func(m *Master) { m.Operations[0].Steps[2].Tolerance = 80 },
		"checklist":                             func(m *Master) { m.Operations[0].Steps[0].Checklist = nil },
		"kind must be one of":                   func(m *Master) { m.Operations[1].Steps[1].Kind = "dance" },
		"no step":                               func(m *Master) { m.Operations[1].Steps = nil },
		"batch size":                            func(m *Master) { m.BatchSize = 0 },
		"half an hour":                          func(m *Master) { m.Hours = 0.1 },
	}
	for want, change := range cases {
		m := master()
		change(m)
		err := m.Validate()
		if !errs.Is(err, errs.Invalid) || !strings.Contains(errs.MessageOf(err, "en"), want) || errs.MessageOf(err, "fr") == errs.MessageOf(err, "en") {
			t.Errorf("%s: got %v", want, err)
		}
	}
}

func TestMasterLifeCycleRules(t *testing.T) {
	next := func(s MasterStatus, mv MasterMove) MasterStatus {
		to, err := s.Next(mv)
		if err != nil {
			return ""
		}
		return to
	}
	if next(MasterDraft, MoveSubmit) != MasterInReview || next(MasterInReview, MoveApproved) != MasterApproved ||
		next(MasterApproved, MoveEffect) != MasterEffective || next(MasterEffective, MoveRetire) != MasterRetired {
		t.Fatal("the life cycle's path")
	}
	for _, c := range []struct {
		s  MasterStatus
		mv MasterMove
	}{{MasterDraft, MoveEffect}, {MasterInReview, MoveEffect}, {MasterEffective, MoveSubmit}, {MasterSuperseded, MoveEffect}, {MasterRetired, MoveEffect}} {
		if _, err := c.s.Next(c.mv); !errs.Is(err, errs.Conflict) {
			t.Errorf("%s by %s: %v", c.s, c.mv, err)
		}
	}
	if _, err := ParseMove("approve"); !errs.Is(err, errs.Invalid) {
		t.Errorf("approval is a signature, not a move: %v", err)
	}
	m := master()
	m.Status = MasterApproved
	if err := m.NotEffective(); !errs.Is(err, errs.Conflict) {
		t.Errorf("an approved master used for an order: %v", err)
	}
}

func TestStepCheck(t *testing.T) {
	m := master()
	if err := m.Validate(); err != nil {
		t.Fatal(err)
	}
	clear, ph, mat := m.Operations[0].Steps[0], m.Operations[0].Steps[1], m.Operations[0].Steps[2]
	if _, err := clear.Check(Entry{Checked: []bool{false}}); errs.FieldOf(err) != "checked" {
		t.Errorf("unticked clearance: %v", err)
	}
	r, err := ph.Check(Entry{Value: "7,04"})
	if err != nil || r.Exception || r.Value != `{"key":"stored.step.numeric","args":[{"num":"7.0"},{"str":"pH"}]}` {
		t.Errorf("pH within limits: %+v %v", r, err)
	}
	r, err = ph.Check(Entry{Value: "7.3"})
	if err != nil || !r.Exception || r.Why.String() != `{"key":"stored.why.outside_limits","args":[{"num":"7.3"},{"str":"pH"},{"num":"6.8"},{"num":"7.2"}]}` {
		t.Errorf("pH out of limits: %+v %v", r, err)
	}
	if _, err := ph.Check(Entry{Value: "sept"}); errs.FieldOf(err) != "value" {
		t.Errorf("not a number: %v", err)
	}
	r, err = mat.Check(Entry{Lot: "L1", Quantity: "10.2"})
	if err != nil || r.Exception {
		t.Errorf("within tolerance: %+v %v", r, err)
	}
	r, _ = mat.Check(Entry{Lot: "L1", Quantity: "10.3"})
	if !r.Exception || r.Why.String() != `{"key":"stored.why.outside_tolerance","args":[{"num":"10.3"},{"num":"10"},{"num":"2"}]}` {
		t.Errorf("outside the tolerance: %+v", r)
	}
	now := time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)
	lot := &Lot{MaterialID: "m", Code: "L1", Status: LotReleased, Quantity: 5, ExpiresOn: now.AddDate(0, 1, 0), Unit: "kg"}
	if err := mat.CheckLot(lot, 10, now); errs.FieldOf(err) != "quantity" {
		t.Errorf("stock too low: %v", err)
	}
	lot.Quantity, lot.Status = 50, LotQuarantine
	if err := mat.CheckLot(lot, 10, now); err == nil || !strings.Contains(errs.MessageOf(err, "en"), "quarantine") {
		t.Errorf("lot in quarantine: %v", err)
	}
	lot.Status, lot.ExpiresOn = LotReleased, now.AddDate(0, 0, -1)
	if err := mat.CheckLot(lot, 10, now); err == nil || !strings.Contains(errs.MessageOf(err, "en"), "expired") {
		t.Errorf("expired lot: %v", err)
	}
	lot.ExpiresOn, lot.MaterialID = now.AddDate(1, 0, 0), "other"
	if err := mat.CheckLot(lot, 10, now); err == nil {
		t.Error("a lot of another material")
	}
	eqStep := m.Operations[0].Steps[3]
	eq := &site.Equipment{Code: "E1", Kind: "filler", LineID: "l", Status: site.EquipmentDirty, QualificationDue: now.AddDate(0, 1, 0)}
	if err := eqStep.CheckEquipment(eq, "l", now); !errs.Is(err, errs.Conflict) {
		t.Errorf("dirty equipment: %v", err)
	}
	eq.Status, eq.QualificationDue = site.EquipmentClean, now.AddDate(0, 0, -1)
	if err := eqStep.CheckEquipment(eq, "l", now); !errs.Is(err, errs.Conflict) {
		t.Errorf("qualification lapsed: %v", err)
	}
	if got := eqStep.Needs(); len(got) != 2 || got[1] != esign.Verified {
		t.Errorf("a critical step needs performed and verified: %v", got)
	}
	if eqStep.Complete([]esign.Signature{{Meaning: esign.Performed, Status: esign.Valid}, {Meaning: esign.Verified, Status: esign.Broken}}) {
		t.Error("a broken verification completes the step")
	}
}

// demoShifts are the demo site's shifts: 24/7 cover.
var demoShifts = []site.Shift{
	{Code: "MAT", Kind: site.ShiftDay, Start: "06:00", End: "14:00"}, {Code: "APM", Kind: site.ShiftDay, Start: "14:00", End: "22:00"},
	{Code: "NUIT", Kind: site.ShiftNight, Start: "22:00", End: "06:00"},
	{Code: "WEJ", Kind: site.ShiftWeekend, Start: "06:00", End: "18:00"}, {Code: "WEN", Kind: site.ShiftWeekend, Start: "18:00", End: "06:00"},
}

func TestCheckSlot(t *testing.T) {
	base := time.Date(2026, 3, 2, 5, 0, 0, 0, time.UTC) // Monday 06:00 in Paris
	a := Slot{BatchID: "a", Lot: "L2603-0001", ClientID: "c1", ProductID: "p1", Class: ClassNone, Start: base, End: base.Add(8 * time.Hour)}
	cal := Calendar{Shifts: demoShifts}
	if _, ok := cal.Covers(base, base.Add(7*24*time.Hour)); !ok {
		t.Fatal("the demo shifts cover the whole week")
	}
	slot := func(client, product string, class SpecialClass, after time.Duration) Slot {
		return Slot{BatchID: "b", ClientID: client, ProductID: product, Class: class, Start: a.End.Add(after), End: a.End.Add(after + 4*time.Hour)}
	}
	rule := func(err error) string {
		if err == nil {
			return ""
		}
		return strings.TrimPrefix(errs.FieldOf(err), "rule:")
	}
	for _, c := range []struct {
		s    Slot
		want string
	}{
		{slot("c1", "p1", ClassNone, -time.Hour), RuleOverlap},
		{slot("c1", "p1", ClassNone, time.Hour), RuleChangeover},
		{slot("c1", "p1", ClassNone, 2*time.Hour), ""},
		{slot("c1", "p2", ClassNone, 3*time.Hour), RuleChangeover},
		{slot("c1", "p2", ClassNone, 4*time.Hour), ""},
		{slot("c2", "p3", ClassNone, 7*time.Hour), RuleChangeover},
		{slot("c1", "p2", ClassHormone, 7*time.Hour), RuleChangeover},
		{slot("c2", "p3", ClassNone, 8*time.Hour), ""},
	} {
		if got := rule(CheckSlot(c.s, []Slot{a}, nil, cal, time.Time{})); got != c.want {
			t.Errorf("slot %v after %v: rule %q, want %q", c.s.ClientID+"/"+c.s.ProductID, c.s.Start.Sub(a.End), got, c.want)
		}
	}
	err := CheckSlot(slot("c1", "p1", ClassNone, -time.Hour), []Slot{a}, nil, cal, time.Time{})
	if !strings.Contains(errs.MessageOf(err, "en"), "L2603-0001") {
		t.Errorf("the conflict names the batch: %v", err)
	}
	hidden := a
	hidden.Hidden = true
	err = CheckSlot(slot("c1", "p1", ClassNone, -time.Hour), []Slot{hidden}, nil, cal, time.Time{})
	if strings.Contains(errs.MessageOf(err, "en"), "L2603") || !strings.Contains(errs.MessageOf(err, "en"), "reserved") {
		t.Errorf("a hidden batch is named: %v", err)
	}
	w := Window{Start: a.End.Add(10 * time.Hour), End: a.End.Add(12 * time.Hour), Reason: "Requalification"}
	if got := rule(CheckSlot(slot("c2", "p3", ClassNone, 9*time.Hour), nil, []Window{w}, cal, time.Time{})); got != RuleMaintenance {
		t.Errorf("maintenance window: %q", got)
	}
	weekdays := Calendar{Shifts: demoShifts[:3]}
	sat := time.Date(2026, 3, 7, 9, 0, 0, 0, time.UTC)
	if got := rule(CheckSlot(Slot{Start: sat, End: sat.Add(time.Hour)}, nil, nil, weekdays, time.Time{})); got != RuleCalendar {
		t.Errorf("Saturday without weekend shifts: %q", got)
	}
	// The Friday night shift runs into Saturday morning.
	if !weekdays.Staffed(time.Date(2026, 3, 7, 4, 0, 0, 0, time.UTC)) {
		t.Error("Saturday 05:00 in Paris is Friday's night shift")
	}
	if weekdays.Staffed(time.Date(2026, 3, 8, 4, 0, 0, 0, time.UTC)) {
		t.Error("Sunday 05:00 in Paris is Saturday's night: no weekday shift")
	}
	// The shifts' hours are the site's: a site in Montreal (UTC-5) has
	// Monday's morning shift at 11:00 UTC, not at 05:00, and a refusal
	// names the times as the site's screens show them.
	montreal, err := time.LoadLocation("America/Montreal")
	if err != nil {
		t.Fatal(err)
	}
	there := Calendar{Shifts: demoShifts[:3], Zone: montreal}
	if there.Staffed(time.Date(2026, 3, 2, 4, 0, 0, 0, time.UTC)) || !there.Staffed(time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC)) {
		t.Error("Montreal's shifts are read in Paris time")
	}
	other := Slot{BatchID: "o", Lot: "L2603-0002", ClientID: "c1", Start: time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC), End: time.Date(2026, 3, 2, 14, 0, 0, 0, time.UTC)}
	err = CheckSlot(Slot{BatchID: "n", ClientID: "c1", Start: other.Start, End: other.End}, []Slot{other}, nil, there, time.Time{})
	if msg := errs.MessageOf(err, "en"); !strings.Contains(msg, "02/03/2026 07:00") {
		t.Errorf("a refusal in Montreal names %q", msg)
	}
	if got := rule(CheckSlot(slot("c2", "p3", ClassNone, 9*time.Hour), nil, nil, cal, a.End.Add(10*time.Hour))); got != RulePast {
		t.Errorf("start in the past: %q", got)
	}
}

// TestProductShelfLife: a product's shelf life is 0 (not given) to ten
// years; a batch's expiry follows from it.
func TestProductShelfLife(t *testing.T) {
	p := Product{ClientID: "c1", Code: "ALP-SYR", Name: "Alphasirop", Form: site.FormSyrup, Strength: "5 mg/mL", Presentation: "150 mL", Storage: "< 25 °C"}
	if err := p.Validate(); err != nil {
		t.Fatal(err)
	}
	made := time.Date(2026, 3, 31, 0, 0, 0, 0, time.UTC)
	if _, ok := p.ExpiresOn(made); ok {
		t.Error("an expiry without a shelf life")
	}
	for _, m := range []int{-1, MaxShelfLifeMonths + 1} {
		q := p
		q.ShelfLifeMonths = m
		if err := q.Validate(); errs.FieldOf(err) != "shelf_life_months" {
			t.Errorf("%d months: %v", m, err)
		}
	}
	p.ShelfLifeMonths = 36
	if err := p.Validate(); err != nil {
		t.Fatal(err)
	}
	if exp, ok := p.ExpiresOn(made); !ok || !exp.Equal(time.Date(2029, 3, 31, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("expiry: %v %v", exp, ok)
	}
}
