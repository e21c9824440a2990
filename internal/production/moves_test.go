package production

import (
	"strings"
	"testing"
	"time"

	"galenix/internal/errs"
	"galenix/internal/esign"
	"galenix/internal/identity"
	"galenix/internal/site"
)

var (
	paul  = identity.Actor{UserID: "paul", Name: "Paul Planificateur", Roles: []identity.Role{identity.RoleSupervisor}}
	quinn = identity.Actor{UserID: "quinn", Name: "Quinn QA", Roles: []identity.Role{identity.RoleQA}}
)

func TestMoveBatch(t *testing.T) {
	at := time.Date(2026, 3, 2, 6, 0, 0, 0, time.UTC)
	scheduled := batchIn(BatchScheduled)
	scheduled.LineCode, scheduled.Start, scheduled.End = "L1", &at, &at
	cases := []struct {
		name  string
		c     Moving
		mv    BatchMove
		code  errs.Code
		field string
		says  string
	}{
		{"not a move", Moving{Actor: paul, Batch: scheduled}, "dance", errs.Invalid, "action", "must be one of"},
		{"scheduling is not a move here", Moving{Actor: paul, Batch: scheduled}, MoveSchedule, errs.Invalid, "action", "must be one of"},
		{"an operator releases", Moving{Actor: olga, Batch: scheduled}, MoveRelease, errs.Forbidden, "", ""},
		{"a client completes", Moving{Actor: claire, Batch: batchIn(BatchInProgress)}, MoveComplete, errs.Forbidden, "", ""},
		{"an operator sends to review", Moving{Actor: olga, Batch: batchIn(BatchCompleted)}, MoveReview, errs.Forbidden, "", ""},
		{"release of a planned batch", Moving{Actor: paul, Batch: batchIn(BatchPlanned)}, MoveRelease, errs.Conflict, "", "cannot be moved by \"release to the floor\"; that needs a batch that is Scheduled"},
		{"completion with a step left", Moving{Actor: olga, Batch: batchIn(BatchInProgress), Next: stepOf(2, 1, StepRecorded)}, MoveComplete, errs.Conflict, "", "Step 2.1 is not done yet"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out, err := MoveBatch(c.c, c.mv)
			if out != nil {
				t.Errorf("an outcome for a refusal: %+v", out)
			}
			refused(t, err, c.code, c.field, c.says)
			// What the batch is does not matter to who may not move it.
			if c.code == errs.Forbidden || c.field == "action" {
				if err := MayMove(c.c.Actor, c.mv); errs.CodeOf(err) != c.code {
					t.Errorf("MayMove: %v, want %s", err, c.code)
				}
			}
		})
	}
	for _, c := range []struct {
		name           string
		c              Moving
		mv             BatchMove
		to             BatchState
		release, dirty bool
	}{
		{"unschedule", Moving{Actor: paul, Batch: scheduled}, MoveUnschedule, BatchPlanned, false, false},
		{"release", Moving{Actor: paul, Batch: scheduled}, MoveRelease, BatchReleased, true, false},
		{"complete", Moving{Actor: olga, Batch: batchIn(BatchInProgress)}, MoveComplete, BatchCompleted, false, true},
		{"review", Moving{Actor: quinn, Batch: batchIn(BatchCompleted)}, MoveReview, BatchInReview, false, false},
	} {
		out, err := MoveBatch(c.c, c.mv)
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		if out.Batch.State != c.to || out.Release != c.release || out.Dirty != c.dirty {
			t.Errorf("%s: %+v", c.name, out)
		}
		if c.mv == MoveUnschedule && (out.Batch.LineID != "" || out.Batch.LineCode != "" || out.Batch.Start != nil || out.Batch.End != nil) {
			t.Errorf("unscheduled, the batch keeps its place: %+v", out.Batch)
		}
		if c.c.Batch.State == out.Batch.State {
			t.Errorf("%s: the batch read was changed in place", c.name)
		}
	}
}

func TestScheduleDecisions(t *testing.T) {
	now := time.Date(2026, 3, 2, 5, 0, 0, 0, time.UTC) // Monday 06:00 in Paris
	b := batchIn(BatchPlanned)
	b.Hours, b.ProductID, b.Class = 6, "p1", ClassNone
	r := ScheduleRequest{LineID: "line", Start: now.Add(2 * time.Hour).Add(30 * time.Second)}
	for _, c := range []struct {
		name    string
		a       identity.Actor
		b       Batch
		r       ScheduleRequest
		history bool
		code    errs.Code
		field   string
	}{
		{"an operator", olga, b, r, false, errs.Forbidden, ""},
		{"a start in the past", paul, b, ScheduleRequest{LineID: "line", Start: now.Add(-2 * time.Minute)}, false, errs.Conflict, "rule:" + RulePast},
		{"a batch in progress", paul, batchIn(BatchInProgress), r, false, errs.Conflict, ""},
		{"no line", paul, b, ScheduleRequest{Start: r.Start}, false, errs.Invalid, "line_id"},
		{"no start", paul, b, ScheduleRequest{LineID: "line"}, false, errs.Invalid, "start"},
	} {
		if _, err := PlanSlot(c.a, &c.b, c.r, now, c.history); !errs.Is(err, c.code) || errs.FieldOf(err) != c.field {
			t.Errorf("%s: %v (field %q), want %s %q", c.name, err, errs.FieldOf(err), c.code, c.field)
		}
	}
	// The demo's history places a batch in the past; a minute's grace.
	if _, err := PlanSlot(paul, &b, ScheduleRequest{LineID: "line", Start: now.AddDate(0, 0, -3)}, now, true); err != nil {
		t.Errorf("history: %v", err)
	}
	if _, err := PlanSlot(paul, &b, ScheduleRequest{LineID: "line", Start: now.Add(-30 * time.Second)}, now, false); err != nil {
		t.Errorf("half a minute ago: %v", err)
	}
	s, err := PlanSlot(paul, &b, r, now, false)
	if err != nil {
		t.Fatal(err)
	}
	if !s.Start.Equal(now.Add(2*time.Hour)) || s.End.Sub(s.Start) != 6*time.Hour || s.LineID != "line" || s.BatchID != "b" {
		t.Errorf("slot %+v", s)
	}
	if from, to := s.Around(); s.Start.Sub(from) != ChangeoverFull || to.Sub(s.End) != ChangeoverFull {
		t.Errorf("around: %v %v", from, to)
	}
	line := site.Line{ID: "line", Code: "L1", Forms: []site.Form{site.FormTablet}}
	tablets := Product{ID: "p1", Code: "P1", Form: site.FormTablet}
	cal := Calendar{Shifts: demoShifts}
	placed, err := PlaceBatch(b, s, Scheduling{Line: line, Product: tablets, Calendar: cal})
	if err != nil || placed.State != BatchScheduled || placed.LineID != "line" || placed.LineCode != "L1" || !placed.Start.Equal(s.Start) || !placed.End.Equal(s.End) {
		t.Errorf("placed %+v %v", placed, err)
	}
	if b.State != BatchPlanned {
		t.Error("the batch read was changed in place")
	}
	sterile := tablets
	sterile.Sterile = true
	if _, err := PlaceBatch(b, s, Scheduling{Line: line, Product: sterile, Calendar: cal}); errs.FieldOf(err) != "rule:"+RuleLineForm {
		t.Errorf("a sterile product on a non-sterile line: %v", err)
	}
	other := Slot{BatchID: "o", Lot: "L2603-0009", ClientID: "c2", ProductID: "p9", LineID: "line", Start: s.End.Add(time.Hour), End: s.End.Add(5 * time.Hour)}
	if _, err := PlaceBatch(b, s, Scheduling{Line: line, Product: tablets, Calendar: cal, Others: []Slot{other}}); errs.FieldOf(err) != "rule:"+RuleChangeover ||
		!strings.Contains(errs.MessageOf(err, "en"), "L2603-0009") {
		t.Errorf("another client's batch an hour after: %v", err)
	}
}

func TestLoadAndWeek(t *testing.T) {
	// Wednesday 4 March 2026 14:00 in Paris: the week from Monday 2 March
	// 00:00 Paris (1 March 23:00 UTC).
	paris := site.DefaultLocation()
	from, to := WeekOf(time.Date(2026, 3, 4, 13, 0, 0, 0, time.UTC), paris)
	if !from.Equal(time.Date(2026, 3, 1, 23, 0, 0, 0, time.UTC)) || to.Sub(from) != 7*24*time.Hour {
		t.Fatalf("week %v to %v", from, to)
	}
	// A Sunday belongs to the week that started the Monday before.
	if f, _ := WeekOf(time.Date(2026, 3, 8, 12, 0, 0, 0, time.UTC), paris); !f.Equal(from) {
		t.Errorf("Sunday's week starts %v", f)
	}
	// The site's zone decides: in Tokyo (UTC+9) the same week starts at
	// Monday 00:00 Tokyo, 1 March 15:00 UTC.
	tokyo, err := time.LoadLocation("Asia/Tokyo")
	if err != nil {
		t.Fatal(err)
	}
	if f, _ := WeekOf(time.Date(2026, 3, 4, 13, 0, 0, 0, time.UTC), tokyo); !f.Equal(time.Date(2026, 3, 1, 15, 0, 0, 0, time.UTC)) {
		t.Errorf("Tokyo's week starts %v", f)
	}
	lines := []site.Line{{ID: "l1", Code: "L1"}, {ID: "l2", Code: "L2"}}
	slots := []Slot{
		{LineID: "l1", Start: from.Add(10 * time.Hour), End: from.Add(18 * time.Hour)},
		// Half of it before the week: 4 of its 8 hours count.
		{LineID: "l1", Start: from.Add(-4 * time.Hour), End: from.Add(4 * time.Hour)},
	}
	windows := []Window{{LineID: "l2", Start: to.Add(-2 * time.Hour), End: to.Add(2 * time.Hour)}}
	got := Load(lines, Calendar{}, slots, windows, from, to)
	if len(got) != 2 || got[0].Available != 168 || got[0].Booked != 12 || got[0].Batches != 2 || got[0].Maintenance != 0 ||
		got[1].Available != 166 || got[1].Maintenance != 2 || got[1].Booked != 0 || got[1].Batches != 0 {
		t.Errorf("load %+v", got)
	}
	staffed := Load(lines[:1], Calendar{Shifts: demoShifts[:3]}, nil, nil, from, to)
	if h := staffed[0].Available; h <= 0 || h >= 168 {
		t.Errorf("weekday shifts staff %v hours of 168", h)
	}
}

func TestMasterMovesAndApproval(t *testing.T) {
	editor := identity.Actor{UserID: "sam", Roles: []identity.Role{identity.RoleSupervisor}}
	for _, c := range []struct {
		name   string
		a      identity.Actor
		status MasterStatus
		mv     MasterMove
		reason string
		to     MasterStatus
		code   errs.Code
	}{
		{"QA rejects", quinn, MasterInReview, MoveReject, "Step 2.1 unclear", MasterDraft, ""},
		{"QA makes effective", quinn, MasterApproved, MoveEffect, "Training done", MasterEffective, ""},
		{"QA retires", quinn, MasterEffective, MoveRetire, "Product withdrawn", MasterRetired, ""},
		{"submission is the author's signature", editor, MasterDraft, MoveSubmit, "Ready", "", errs.Invalid},
		{"an operator rejects", olga, MasterInReview, MoveReject, "No", "", errs.Forbidden},
		{"the editor makes effective", editor, MasterApproved, MoveEffect, "Now", "", errs.Forbidden},
		{"approval is a signature", quinn, MasterInReview, MoveApproved, "OK", "", errs.Invalid},
		{"not a move", quinn, MasterInReview, "dance", "OK", "", errs.Invalid},
		{"a draft made effective", quinn, MasterDraft, MoveEffect, "Now", "", errs.Conflict},
		{"no reason", quinn, MasterInReview, MoveReject, "  ", "", errs.Invalid},
	} {
		m := &Master{Code: "MBR-1", Version: 2, Status: c.status}
		to, err := MoveMaster(c.a, m, c.mv, c.reason)
		switch {
		case c.code == "" && (err != nil || to != c.to):
			t.Errorf("%s: %v %v, want %s", c.name, to, err, c.to)
		case c.code != "" && !errs.Is(err, c.code):
			t.Errorf("%s: %v, want %s", c.name, err, c.code)
		}
		if m.Status != c.status {
			t.Errorf("%s: the master read was changed", c.name)
		}
	}
	draft := &Master{Code: "MBR-1", Version: 2, Status: MasterDraft}
	if ok, err := SubmitMaster(editor, draft, esign.Authored); !ok || err != nil {
		t.Errorf("the author signs a draft: %v %v", ok, err)
	}
	if ok, err := SubmitMaster(editor, draft, esign.Reviewed); ok || err != nil {
		t.Errorf("the author's review submits nothing: %v %v", ok, err)
	}
	if _, err := SubmitMaster(olga, draft, esign.Authored); !errs.Is(err, errs.Forbidden) {
		t.Errorf("an operator signs as author: %v", err)
	}
	if _, err := SubmitMaster(editor, &Master{Code: "MBR-1", Version: 2, Status: MasterInReview}, esign.Authored); !errs.Is(err, errs.Conflict) ||
		!strings.Contains(errs.MessageOf(err, "en"), "only a draft is signed by its author") {
		t.Errorf("a version in review signed as authored: %v", err)
	}
	if _, err := ParseMove("submit"); errs.FieldOf(err) != "action" {
		t.Errorf("submit as a move: %v", err)
	}
	inReview := &Master{Code: "MBR-1", Version: 2, Status: MasterInReview}
	if ok, err := ApproveMaster(quinn, inReview, esign.Approved); !ok || err != nil {
		t.Errorf("QA approves a version in review: %v %v", ok, err)
	}
	if ok, err := ApproveMaster(editor, inReview, esign.Reviewed); ok || err != nil {
		t.Errorf("another meaning changes nothing: %v %v", ok, err)
	}
	if _, err := ApproveMaster(editor, inReview, esign.Approved); !errs.Is(err, errs.Forbidden) {
		t.Errorf("the editor approves: %v", err)
	}
	if _, err := ApproveMaster(quinn, &Master{Code: "MBR-1", Version: 2, Status: MasterDraft}, esign.Approved); !errs.Is(err, errs.Conflict) ||
		!strings.Contains(errs.MessageOf(err, "en"), "only a version in review") {
		t.Errorf("a draft approved: %v", err)
	}
}

func TestMayChangeLotStatus(t *testing.T) {
	if err := MayChangeLotStatus(quinn, LotReleased, "CoA conforms"); err != nil {
		t.Errorf("QA releases: %v", err)
	}
	for _, c := range []struct {
		a      identity.Actor
		status LotStatus
		reason string
		code   errs.Code
		field  string
	}{
		{olga, LotReleased, "CoA conforms", errs.Forbidden, ""},
		{quinn, "lost", "CoA conforms", errs.Invalid, "status"},
		{quinn, LotRejected, " ", errs.Invalid, "reason"},
	} {
		if err := MayChangeLotStatus(c.a, c.status, c.reason); !errs.Is(err, c.code) || errs.FieldOf(err) != c.field {
			t.Errorf("%s %s %q: %v", c.a.UserID, c.status, c.reason, err)
		}
	}
}

func TestMayReceiveLot(t *testing.T) {
	for _, c := range []struct {
		a      identity.Actor
		status LotStatus
		code   errs.Code // "" when allowed
	}{
		{paul, LotQuarantine, ""},          // a supervisor records a received lot
		{paul, "", ""},                     // in quarantine
		{paul, LotReleased, errs.Invalid},  // but may not release it
		{quinn, LotReleased, errs.Invalid}, // nor may quality: its release is a signature
		{quinn, LotRejected, errs.Invalid},
		{olga, LotQuarantine, errs.Forbidden},
		{identity.System, LotRejected, errs.Invalid}, // galenix loading data, as anyone
	} {
		err := MayReceiveLot(c.a, &Lot{Status: c.status})
		if (c.code == "" && err != nil) || (c.code != "" && !errs.Is(err, c.code)) {
			t.Errorf("%s records a lot %s: %v, want %q", c.a.UserID, c.status, err, c.code)
		}
	}
}

// TestLotDecision: quality's approval of a lot releases it, its rejection
// rejects it; no other meaning decides a status.
func TestLotDecision(t *testing.T) {
	for m, want := range map[esign.Meaning]LotStatus{esign.Approved: LotReleased, esign.Rejected: LotRejected} {
		if got, ok := LotDecision(m); !ok || got != want {
			t.Errorf("%s: %q %v, want %q", m, got, ok, want)
		}
	}
	for _, m := range []esign.Meaning{esign.Acknowledged, esign.Reviewed, esign.Performed, esign.Verified, esign.Released} {
		if got, ok := LotDecision(m); ok {
			t.Errorf("%s decides %q", m, got)
		}
	}
}

// TestLotReceive: a lot received is dated the day it is recorded on the
// site's calendar, unless it says another day, never one to come; its
// expiry may not precede its receipt; its supplier's words are bounded.
func TestLotReceive(t *testing.T) {
	// 23:30 UTC on 4 December is already 5 December in Paris.
	now := time.Date(2026, 12, 4, 23, 30, 0, 0, time.UTC)
	base := func() Lot {
		return Lot{MaterialID: "m", Code: "L-1", Quantity: 5, ExpiresOn: time.Date(2028, 1, 31, 0, 0, 0, 0, time.UTC),
			Supplier: "  Sigma-Aldrich Chimie  ", SupplierLot: "SA-2611-0042"}
	}
	l := base()
	if err := l.Receive(now); err != nil {
		t.Fatal(err)
	}
	if l.ReceivedOn == nil || l.ReceivedOn.Format(time.DateOnly) != "2026-12-05" || l.Supplier != "Sigma-Aldrich Chimie" {
		t.Errorf("received %+v on %v", l, l.ReceivedOn)
	}
	for _, c := range []struct {
		name, field string
		change      func(l *Lot)
	}{
		{"a day to come", "received_on", func(l *Lot) { d := time.Date(2026, 12, 6, 0, 0, 0, 0, time.UTC); l.ReceivedOn = &d }},
		{"expiry before receipt", "expires_on", func(l *Lot) {
			d := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
			l.ReceivedOn, l.ExpiresOn = &d, d.AddDate(0, 0, -1)
		}},
		{"out of range", "received_on", func(l *Lot) { d := time.Date(1890, 1, 1, 0, 0, 0, 0, time.UTC); l.ReceivedOn = &d }},
		{"supplier too long", "supplier", func(l *Lot) { l.Supplier = strings.Repeat("x", 121) }},
		{"supplier's lot too long", "supplier_lot", func(l *Lot) { l.SupplierLot = strings.Repeat("x", 61) }},
	} {
		l := base()
		c.change(&l)
		if err := l.Receive(now); !errs.Is(err, errs.Invalid) || errs.FieldOf(err) != c.field {
			t.Errorf("%s: %v, want invalid %s", c.name, err, c.field)
		}
	}
	// A lot received earlier keeps its day.
	l = base()
	d := time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC)
	l.ReceivedOn = &d
	if err := l.Receive(now); err != nil || !l.ReceivedOn.Equal(d) {
		t.Errorf("received earlier: %v %v", l.ReceivedOn, err)
	}
}
