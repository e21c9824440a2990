package controlled

import (
	"strings"
	"testing"
	"time"

	"galenix/internal/errs"
	"galenix/internal/text"
)

var paris = func() *time.Location { z, _ := time.LoadLocation("Europe/Paris"); return z }()

func TestQty(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Qty
		ok   bool
	}{
		{"12.5", 12500, true}, {"0.250", 250, true}, {"3", 3000, true}, {" 7.001 ", 7001, true},
		{"-1", 0, false}, {"1.2345", 0, false}, {"1.", 0, false}, {".5", 0, false}, {"abc", 0, false}, {"1e3", 0, false}, {"99999999", 0, false},
	} {
		got, ok := ParseQty(tc.in)
		if ok != tc.ok || (ok && got != tc.want) {
			t.Errorf("ParseQty(%q) = %d %v, want %d %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
	if s := Qty(12500).String(); s != "12.500" {
		t.Errorf("12.5 written %q", s)
	}
	if s := Qty(-250).String(); s != "-0.250" {
		t.Errorf("-0.25 written %q", s)
	}
}

// movement is a valid movement of the kind, 1 unit of container c.
func movement(k Kind, c string, q Qty) Movement {
	m := Movement{Kind: k, SubstanceID: "morphine", ContainerID: c, Quantity: q, PerformerID: "anne", WitnessID: "bruno",
		Party: "Fournisseur", Document: "BL-1", Cause: "Flacon brisé", BatchID: "batch-1", Corrects: 1}
	if k == Transfer {
		m.ToContainerID = "prod"
	}
	return m
}

// TestValidate: each refusal of a movement as entered, naming the field
// at fault.
func TestValidate(t *testing.T) {
	for _, tc := range []struct {
		name  string
		edit  func(*Movement)
		field string
	}{
		{"no witness", func(m *Movement) { m.WitnessID = "" }, "witness_id"},
		{"the witness is the performer", func(m *Movement) { m.WitnessID = m.PerformerID }, "witness_id"},
		{"no performer", func(m *Movement) { m.PerformerID = "" }, "performer_id"},
		{"nothing moves", func(m *Movement) { m.Quantity = 0 }, "quantity"},
		{"a negative quantity", func(m *Movement) { m.Quantity = -5 }, "quantity"},
		{"an unknown kind", func(m *Movement) { m.Kind = "gift" }, "kind"},
		{"a destruction without its certificate", func(m *Movement) { m.Kind, m.Document = Destruction, " " }, "document"},
		{"a receipt without its supplier", func(m *Movement) { m.Kind, m.Party = Receipt, "" }, "party"},
		{"a receipt without its delivery note", func(m *Movement) { m.Kind, m.Document = Receipt, "" }, "document"},
		{"a loss without its cause", func(m *Movement) { m.Kind, m.Cause = Loss, "" }, "cause"},
		{"a theft without its report", func(m *Movement) { m.Kind, m.Document = Theft, "" }, "document"},
		{"a dispensing without its batch", func(m *Movement) { m.Kind, m.BatchID = Dispensing, "" }, "batch_id"},
		{"a transfer to itself", func(m *Movement) { m.Kind, m.ToContainerID = Transfer, m.ContainerID }, "to_container_id"},
		{"a correction of nothing", func(m *Movement) { m.Kind, m.Corrects = Correction, 0 }, "corrects"},
	} {
		m := movement(Receipt, "vault", 1000)
		tc.edit(&m)
		if err := m.Validate(); errs.FieldOf(err) != tc.field {
			t.Errorf("%s: %v, want a refusal on %s", tc.name, err, tc.field)
		}
	}
	for _, k := range Kinds {
		m := movement(k, "vault", 1000)
		if err := m.Validate(); err != nil {
			t.Errorf("a valid %s: %v", k, err)
		}
	}
}

// TestLedger: movements numbered one after the other; one that would
// leave a container below zero refused, changing nothing; a transfer
// moves between containers; a correction sets right a movement in the
// register, never one that is not.
func TestLedger(t *testing.T) {
	l := NewLedger()
	apply := func(m Movement) (Movement, error) {
		t.Helper()
		if err := m.Validate(); err != nil {
			t.Fatalf("%s: %v", m.Kind, err)
		}
		err := l.Apply(&m)
		return m, err
	}
	r, err := apply(movement(Receipt, "vault", 10_000))
	if err != nil || r.Serial != 1 || l.Balances["vault"] != 10_000 {
		t.Fatalf("receipt: %v %+v %v", err, r, l.Balances)
	}
	if _, err := apply(movement(Transfer, "vault", 4_000)); err != nil || l.Balances["vault"] != 6_000 || l.Balances["prod"] != 4_000 {
		t.Fatalf("transfer: %v %v", err, l.Balances)
	}
	if _, err := apply(movement(Dispensing, "prod", 4_500)); errs.CodeOf(err) != errs.Conflict || l.Balances["prod"] != 4_000 || l.Last != 2 ||
		errs.MessageOf(err, text.FR) != "Refusé : le contenant n'en contient que 4,000, le mouvement en demande 4,500. Le solde ne peut devenir négatif ; l'écart est signalé." {
		t.Fatalf("a dispensing beyond the container: %v %v last %d", err, l.Balances, l.Last)
	}
	d, err := apply(movement(Dispensing, "prod", 3_750))
	if err != nil || d.Serial != 3 || l.Balances["prod"] != 250 {
		t.Fatalf("dispensing: %v %+v %v", err, d, l.Balances)
	}
	// The dispensing was 3.700: a correction gives back 0.050.
	c := movement(Correction, "prod", 50)
	c.Corrects, c.Increase = 3, true
	if c, err := apply(c); err != nil || c.Serial != 4 || l.Balances["prod"] != 300 {
		t.Fatalf("correction: %v %+v %v", err, c, l.Balances)
	}
	bad := movement(Correction, "prod", 50)
	bad.Corrects = 99
	if _, err := apply(bad); errs.FieldOf(err) != "corrects" || l.Last != 4 {
		t.Fatalf("correcting no movement: %v", err)
	}
	ms := []Movement{{Serial: 1}, {Serial: 2}, {Serial: 4}}
	if err := CheckSerials(ms); errs.CodeOf(err) != errs.Conflict {
		t.Error("a gap in the serials not seen")
	}
	if err := CheckSerials(ms[:2]); err != nil {
		t.Error(err)
	}
}

// TestStatement: a constructed year of morphine (a receipt each quarter,
// a transfer to production, dispensings to batches and a return each
// month, a sampling each month, a loss, a destruction, a shipment, a
// correction) gives the monthly balances and the annual statement the law
// asks for, their sums agreeing: opening plus what came in less what went
// out is the closing, each month's closing the next month's opening, the
// year's closing the containers' balances, the serials without gap.
func TestStatement(t *testing.T) {
	l := NewLedger()
	var all []Movement
	add := func(m Movement, at time.Time) Movement {
		t.Helper()
		m.At = at
		if err := m.Validate(); err != nil {
			t.Fatal(err)
		}
		if err := l.Apply(&m); err != nil {
			t.Fatalf("%s on %v: %v", m.Kind, at, err)
		}
		all = append(all, m)
		return m
	}
	// The stock carried over from the year before.
	add(movement(Receipt, "vault", 2_000_000), time.Date(2025, 12, 10, 9, 0, 0, 0, paris))
	var march Movement
	for month := time.January; month <= time.December; month++ {
		day := func(d int) time.Time { return time.Date(2026, month, d, 10, 0, 0, 0, paris) }
		if (month-1)%3 == 0 {
			add(movement(Receipt, "vault", 1_000_000), day(2))
		}
		add(movement(Transfer, "vault", 450_000), day(5))
		d := add(movement(Dispensing, "prod", 430_000), day(6))
		if month == time.March {
			march = d
			add(movement(Loss, "prod", 2_000), day(9))
		}
		add(movement(Return, "prod", 15_000), day(7))
		add(movement(Sampling, "prod", 1_000), day(8))
		switch month {
		case time.April:
			c := movement(Correction, "prod", 500)
			c.Corrects, c.Increase = march.Serial, true
			add(c, day(10))
		case time.June:
			add(movement(Destruction, "vault", 10_000), day(20))
		case time.September:
			add(movement(Shipment, "vault", 100_000), day(21))
		}
	}
	// The first hour of 2027 in Paris (still 2026 in UTC) is next year's.
	add(movement(Receipt, "vault", 7_000), time.Date(2027, 1, 1, 0, 30, 0, 0, paris))

	got := Annual(all, "morphine", 2026, paris)
	want := Statement{SubstanceID: "morphine", Year: 2026, Opening: 2_000_000, Received: 4_000_000, Used: 12*430_000 - 12*15_000, Lost: 2_000,
		Destroyed: 10_000, Sampled: 12_000, Shipped: 100_000, Corrected: 500, Closing: 896_500}
	if got != want {
		t.Fatalf("the statement:\n got %+v\nwant %+v", got, want)
	}
	if sum := l.Balances["vault"] + l.Balances["prod"] - 7_000; sum != got.Closing {
		t.Errorf("the containers hold %s, the statement closes at %s", sum, got.Closing)
	}
	opening, received := got.Opening, Qty(0)
	for month := time.January; month <= time.December; month++ {
		m := Month(all, "morphine", time.Date(2026, month, 15, 0, 0, 0, 0, paris), paris)
		if m.Opening != opening {
			t.Errorf("%s opens at %s, the month before closed at %s", month, m.Opening, opening)
		}
		if m.Count == 0 || m.Serials[0] > m.Serials[1] {
			t.Errorf("%s: %d movements, serials %v", month, m.Count, m.Serials)
		}
		opening, received = m.Closing, received+m.In[Receipt]
	}
	if opening != got.Closing || received != got.Received {
		t.Errorf("the months close at %s having received %s; the year at %s having received %s", opening, received, got.Closing, got.Received)
	}
	if err := CheckSerials(all); err != nil {
		t.Error(err)
	}
	if other := Annual(all, "estradiol", 2026, paris); other.Closing != 0 || other.Received != 0 {
		t.Errorf("another substance's statement: %+v", other)
	}
}

// TestCrossCheck: a vault movement needs two people's entry within the
// hour around it; an opening of the vault, a movement within the hour.
func TestCrossCheck(t *testing.T) {
	at := time.Date(2026, 5, 4, 9, 0, 0, 0, time.UTC)
	ms := []Movement{{ID: "m1", Serial: 1, At: at}, {ID: "m2", Serial: 2, At: at.Add(5 * time.Hour)}}
	entries := []VaultEntry{
		{Ref: "e1", At: at.Add(-10 * time.Minute), Badge: "B1", Name: "Anne"},
		{Ref: "e2", At: at.Add(-9*time.Minute - 30*time.Second), Badge: "B2", Name: "Bruno"},
		// m2 has one person only.
		{Ref: "e3", At: at.Add(5*time.Hour - 5*time.Minute), Badge: "B1", Name: "Anne"},
		// An opening with no movement: two people, one alert.
		{Ref: "e4", At: at.Add(9 * time.Hour), Badge: "B1", Name: "Anne"},
		{Ref: "e5", At: at.Add(9*time.Hour + 20*time.Second), Badge: "B2", Name: "Bruno"},
	}
	got := CrossCheck(ms, entries)
	if len(got) != 2 || got[0].Kind != AlertMovementAlone || got[0].Ref != "m2" || got[1].Kind != AlertEntryIdle || got[1].Ref != "e4" ||
		len(got[1].Names) != 2 {
		t.Fatalf("findings: %+v", got)
	}
	if got := CrossCheck(ms[:1], entries[:2]); len(got) != 0 {
		t.Fatalf("a movement with its two people: %+v", got)
	}
}

// TestCopy: the copy's lines chain; a line altered, removed or reordered
// breaks the chain; a copy that differs from the register, or holds more
// than it, is refused; one that lags behind says how much.
func TestCopy(t *testing.T) {
	at := time.Date(2026, 5, 4, 9, 0, 0, 0, time.UTC)
	var ms []Movement
	for i := 1; i <= 3; i++ {
		v := at.Add(time.Duration(i) * time.Minute)
		ms = append(ms, Movement{Serial: int64(i), Entry: int64(i), At: at, Kind: Receipt, Substance: "MORPH", Container: "V-1", Quantity: Qty(i * 1000), Unit: "g",
			Party: "Francopia", Document: "BL", PerformerName: "Anne", WitnessName: "Bruno", ValidatedAt: &v})
	}
	var b strings.Builder
	prev := ""
	for i := range ms {
		l := LineOf(&ms[i], prev)
		b.WriteString(string(l.Marshal()))
		prev = l.Hash
	}
	lines, err := ReadCopy(strings.NewReader(b.String()))
	if err != nil || len(lines) != 3 {
		t.Fatalf("read: %d lines, %v", len(lines), err)
	}
	if missing, err := CompareCopy(lines[:2], ms); err != nil || missing != 1 {
		t.Fatalf("lagging copy: %d %v", missing, err)
	}
	if _, err := CompareCopy(lines, ms[:2]); err == nil {
		t.Fatal("a copy ahead of the register was accepted")
	}
	other := append([]Movement(nil), ms...)
	other[1].Quantity = 5
	if _, err := CompareCopy(lines, other); err == nil {
		t.Fatal("a copy that differs from the register was accepted")
	}
	text := b.String()
	rows := strings.Split(strings.TrimSpace(text), "\n")
	for name, broken := range map[string]string{
		"altered":   strings.Replace(text, `"quantity":"2.000"`, `"quantity":"2.500"`, 1),
		"removed":   rows[0] + "\n" + rows[2] + "\n",
		"reordered": rows[1] + "\n" + rows[0] + "\n" + rows[2] + "\n",
		"garbage":   rows[0] + "\n{not json\n",
	} {
		if _, err := ReadCopy(strings.NewReader(broken)); err == nil {
			t.Errorf("%s copy read without error", name)
		}
	}
}

// TestPairEntries: the vault's door lets two people in on the second
// badge; the first one's wait counts as an entry when the second follows
// within the window at the same door, not otherwise.
func TestPairEntries(t *testing.T) {
	at := time.Date(2026, 5, 4, 9, 0, 0, 0, time.UTC)
	ev := func(ref, reader, badge string, s int, allow bool, rule string) DoorEvent {
		return DoorEvent{VaultEntry: VaultEntry{Ref: ref, At: at.Add(time.Duration(s) * time.Second), Badge: badge}, Reader: reader, Allow: allow, Rule: rule}
	}
	got := PairEntries([]DoorEvent{
		ev("1", "V-IN", "B1", 0, false, "wait"), ev("2", "V-IN", "B2", 20, true, "two_person"),
		ev("3", "V-IN", "B1", 300, false, "wait"),                                        // no one followed
		ev("4", "V-IN", "B3", 600, false, "wait"), ev("5", "V-IN", "B3", 610, true, "x"), // the same badge again: no pair
		ev("6", "V-IN", "B1", 900, false, "wait"), ev("7", "V-IN", "B2", 1000, true, "y"), // too late
	}, "wait", time.Minute)
	var refs []string
	for _, e := range got {
		refs = append(refs, e.Ref)
	}
	if strings.Join(refs, ",") != "1,2,5,7" {
		t.Fatalf("entries: %v", refs)
	}
}

// TestReconcile: a batch's net (dispensed less returned) against its
// master's quantity, within its tolerance or not; the period's total.
func TestReconcile(t *testing.T) {
	ms := []Movement{
		{BatchID: "b1", SubstanceID: "s", State: Validated, Kind: Dispensing, Quantity: 10_100},
		{BatchID: "b1", SubstanceID: "s", State: Validated, Kind: Return, Quantity: 50},
		{BatchID: "b1", SubstanceID: "s", State: Entered, Kind: Dispensing, Quantity: 99_000}, // not signed: not counted
		{BatchID: "b1", SubstanceID: "other", State: Validated, Kind: Dispensing, Quantity: 5},
		{BatchID: "b2", SubstanceID: "s", State: Validated, Kind: Dispensing, Quantity: 12_000},
	}
	b1 := Reconciliation{BatchID: "b1", SubstanceID: "s", Theoretical: 10_000, Tolerance: 200}
	b1.Reconcile(ms)
	if b1.Dispensed != 10_100 || b1.Returned != 50 || b1.Difference != 50 || !b1.Within {
		t.Fatalf("b1: %+v", b1)
	}
	b2 := Reconciliation{BatchID: "b2", SubstanceID: "s", Theoretical: 10_000, Tolerance: 200}
	b2.Reconcile(ms)
	if b2.Difference != 2_000 || b2.Within {
		t.Fatalf("b2: %+v", b2)
	}
	if tot := Total([]Reconciliation{b1, b2}); tot.Theoretical != 20_000 || tot.Difference != 2_050 || tot.Within {
		t.Fatalf("total: %+v", tot)
	}
}
