package quality

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"galenix/internal/errs"
	"galenix/internal/identity"
)

func goodAgreement() Agreement {
	return Agreement{ClientID: "c1", Reference: " QA-ALPHA-2026 ", NotifyMajorHours: 48, NotifyCriticalHours: 24, SummaryWorkingDays: 5,
		ClientApprovesMajorClosure: true, BatchDocuments: []BatchDocument{DocCertificate, DocBatchRecord}}
}

// TestAgreementValidate: an agreement's deadlines and documents are
// checked field by field; its documents come back in a fixed order.
func TestAgreementValidate(t *testing.T) {
	ag := goodAgreement()
	if err := ag.Validate(); err != nil {
		t.Fatal(err)
	}
	if ag.Reference != "QA-ALPHA-2026" || len(ag.BatchDocuments) != 2 || ag.BatchDocuments[0] != DocBatchRecord {
		t.Errorf("validated: %+v", ag)
	}
	ag.NotifyTo = []string{" qa@alpha.example ", "", "qp@alpha.example"}
	if err := ag.Validate(); err != nil || !slices.Equal(ag.NotifyTo, []string{"qa@alpha.example", "qp@alpha.example"}) {
		t.Errorf("the addresses validated: %q, %v", ag.NotifyTo, err)
	}
	for _, c := range []struct {
		name, field string
		edit        func(*Agreement)
	}{
		{"no reference", "reference", func(a *Agreement) { a.Reference = "  " }},
		{"zero hours", "notify_major_hours", func(a *Agreement) { a.NotifyMajorHours = 0 }},
		{"more than a week", "notify_critical_hours", func(a *Agreement) { a.NotifyCriticalHours = MaxNotifyHours + 1 }},
		{"critical later than major", "notify_critical_hours", func(a *Agreement) { a.NotifyCriticalHours = 72 }},
		{"no summary days", "summary_working_days", func(a *Agreement) { a.SummaryWorkingDays = 0 }},
		{"too many days", "summary_working_days", func(a *Agreement) { a.SummaryWorkingDays = 61 }},
		{"unknown document", "batch_documents", func(a *Agreement) { a.BatchDocuments = []BatchDocument{"recipe"} }},
		{"document twice", "batch_documents", func(a *Agreement) { a.BatchDocuments = []BatchDocument{DocBatchRecord, DocBatchRecord} }},
		{"not an address", "notify_to", func(a *Agreement) { a.NotifyTo = []string{"quality desk"} }},
		{"an address with a name", "notify_to", func(a *Agreement) { a.NotifyTo = []string{"Quality <qa@alpha.example>"} }},
		{"two addresses in one", "notify_to", func(a *Agreement) { a.NotifyTo = []string{"qa@alpha.example, qp@alpha.example"} }},
		{"an address twice", "notify_to", func(a *Agreement) { a.NotifyTo = []string{"qa@alpha.example", "QA@alpha.example"} }},
		{"too many addresses", "notify_to", func(a *Agreement) {
			a.NotifyTo = nil
			for i := range MaxNotifyTo + 1 {
				a.NotifyTo = append(a.NotifyTo, fmt.Sprintf("qa%d@alpha.example", i))
			}
		}},
	} {
		ag := goodAgreement()
		c.edit(&ag)
		if err := ag.Validate(); errs.FieldOf(err) != c.field {
			t.Errorf("%s: %v, want an error on %s", c.name, err, c.field)
		}
	}
}

// TestWorkingDays: Saturdays, Sundays and France's public holidays (fixed
// and those after Easter) are not worked; a deadline of n working days
// keeps the time of day in Paris.
func TestWorkingDays(t *testing.T) {
	day := func(s string) time.Time {
		d, err := time.ParseInLocation("2006-01-02 15:04", s, Paris)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	for _, c := range []struct {
		day    string
		worked bool
	}{
		{"2026-12-04 10:00", true},  // Friday
		{"2026-12-05 10:00", false}, // Saturday
		{"2026-12-06 10:00", false}, // Sunday
		{"2026-12-25 10:00", false}, // Christmas
		{"2026-04-06 10:00", false}, // Easter Monday 2026 (Easter: 5 April)
		{"2026-05-14 10:00", false}, // Ascension 2026
		{"2026-05-25 10:00", false}, // Whit Monday 2026
		{"2027-03-29 10:00", false}, // Easter Monday 2027 (Easter: 28 March)
		{"2026-07-14 10:00", false}, // Bastille Day
		{"2026-07-15 10:00", true},  // the day after
		{"2026-11-11 10:00", false}, // Armistice
		{"2026-05-08 10:00", false}, // Victory in Europe day
		{"2026-04-07 10:00", true},  // Tuesday after Easter Monday
		{"2026-12-31 23:30", true},  // Thursday, late
		{"2027-01-01 00:30", false}, // New Year's Day
	} {
		if got := WorkingDay(day(c.day)); got != c.worked {
			t.Errorf("%s worked: %v, want %v", c.day, got, c.worked)
		}
	}
	for _, c := range []struct {
		from string
		n    int
		want string
	}{
		{"2026-12-01 09:30", 5, "2026-12-08 09:30"}, // Tuesday: over a weekend
		{"2026-12-04 16:00", 1, "2026-12-07 16:00"}, // Friday → Monday
		{"2026-12-05 11:00", 2, "2026-12-09 00:00"}, // Saturday: from Monday's start
		{"2026-12-23 10:00", 3, "2026-12-29 10:00"}, // over Christmas and a weekend
		{"2026-05-07 08:00", 2, "2026-05-12 08:00"}, // over 8 May and a weekend
		{"2026-04-01 14:00", 5, "2026-04-09 14:00"}, // over Good Friday (worked) and Easter Monday
	} {
		got := AddWorkingDays(day(c.from), c.n)
		if want := day(c.want); !got.Equal(want) || !WorkingDay(got) {
			t.Errorf("%s + %d working days: %s, want %s", c.from, c.n, got.In(Paris), want)
		}
	}
}

// TestObligations: a major or critical deviation of the client's batches
// starts the notification's countdown as the agreement says; a minor one
// or another client's starts none; the notification starts the summary's,
// which needs the investigation; a late obligation escalates once.
func TestObligations(t *testing.T) {
	ag := goodAgreement()
	if err := ag.Validate(); err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 12, 3, 9, 0, 0, 0, time.UTC) // a Thursday
	d := &Deviation{ID: "d1", ClientID: "c1", Code: "DEV-1", Class: Critical, State: DeviationApproved}
	o := NotifyObligation(&ag, d, at)
	if o == nil || o.Kind != ObligeNotify || !o.Due.Equal(at.Add(24*time.Hour)) {
		t.Fatalf("critical: %+v, want notification due in 24 h", o)
	}
	d.Class = Major
	if o := NotifyObligation(&ag, d, at); o == nil || !o.Due.Equal(at.Add(48*time.Hour)) {
		t.Errorf("major: %+v, want notification due in 48 h", o)
	}
	d.Class = Minor
	if o := NotifyObligation(&ag, d, at); o != nil {
		t.Errorf("minor: %+v, want none", o)
	}
	d.Class = Critical
	if o := NotifyObligation(nil, d, at); o != nil {
		t.Errorf("no agreement: %+v", o)
	}
	other := *d
	other.ClientID = "c2"
	if o := NotifyObligation(&ag, &other, at); o != nil {
		t.Errorf("another client's deviation: %+v", o)
	}

	// The countdown, on both sides.
	if s, left := o.State(at.Add(23*time.Hour)), o.Left(at.Add(23*time.Hour)); s != ObligationRunning || left != time.Hour {
		t.Errorf("an hour before: %s, %s left", s, left)
	}
	late := at.Add(25 * time.Hour)
	if s, left := o.State(late), o.Left(late); s != ObligationLate || left != -time.Hour {
		t.Errorf("an hour late: %s, %s left", s, left)
	}
	if o.ToEscalate(at.Add(23*time.Hour)) || !o.ToEscalate(late) {
		t.Error("escalation: not before the deadline, yes after")
	}
	o.EscalatedAt = &late
	if o.ToEscalate(late.Add(time.Hour)) {
		t.Error("escalated twice")
	}

	qa := identity.Actor{UserID: "q", Roles: []identity.Role{identity.RoleQA}}
	op := identity.Actor{UserID: "o", Roles: []identity.Role{identity.RoleOperator}}
	if _, err := Meet(op, *o, d, late); errs.CodeOf(err) != errs.Forbidden {
		t.Errorf("an operator notified the client: %v", err)
	}
	met, err := Meet(qa, *o, d, late)
	if err != nil || met.State(late) != ObligationMetLate || met.Left(late) != 0 {
		t.Fatalf("met late: %+v %v", met, err)
	}
	if _, err := Meet(qa, *met, d, late); errs.CodeOf(err) != errs.Conflict {
		t.Errorf("met twice: %v", err)
	}

	// The summary: five working days from the notification (Friday 10:00
	// → the next Friday), not before the investigation.
	s := SummaryObligation(&ag, d, late)
	if want := time.Date(2026, 12, 11, 10, 0, 0, 0, time.UTC); s.Kind != ObligeSummary || !s.Due.Equal(want) {
		t.Errorf("summary due %s, want %s", s.Due, want)
	}
	if _, err := Meet(qa, *s, d, late); errs.CodeOf(err) != errs.Conflict {
		t.Errorf("a summary before the investigation: %v", err)
	}
	inv := late
	d.InvestigatedAt, d.State = &inv, DeviationInvestigated
	if m, err := Meet(qa, *s, d, late.Add(time.Hour)); err != nil || m.State(late) != ObligationMet {
		t.Errorf("summary in time: %+v %v", m, err)
	}

	// The client approves the closure of a major or critical one only.
	if !ag.ClientApprovesClosure(d) {
		t.Error("closing a critical deviation does not need the client")
	}
	d.Class = Minor
	if ag.ClientApprovesClosure(d) {
		t.Error("closing a minor deviation needs the client")
	}
}
