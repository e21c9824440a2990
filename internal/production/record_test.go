package production

import (
	"strings"
	"testing"
	"time"

	"galenix/internal/errs"
	"galenix/internal/esign"
	"galenix/internal/identity"
	"galenix/internal/site"
	"galenix/internal/text"
)

// The batch record's rules, without a database: each case builds what the
// store would read, decides, and checks the outcome or the refusal.

var (
	now      = time.Date(2026, 3, 2, 9, 30, 0, 0, time.UTC)
	olga     = identity.Actor{UserID: "olga", Name: "Olga Opératrice", Roles: []identity.Role{identity.RoleOperator}}
	victor   = identity.Actor{UserID: "victor", Name: "Victor Vérificateur", Roles: []identity.Role{identity.RoleOperator}}
	quentin  = identity.Actor{UserID: "quentin", Name: "Quentin QA", Roles: []identity.Role{identity.RoleQA}}
	claire   = identity.Actor{UserID: "claire", Name: "Claire Client", Roles: []identity.Role{identity.RoleClientUser}, ClientID: "c"}
	maintena = identity.Actor{UserID: "marc", Name: "Marc Maintenance", Roles: []identity.Role{identity.RoleMaintenance}}
)

// stepOf is step (op, no) of the test master as a batch's record holds it.
func stepOf(op, no int, state StepState) *StepRecord {
	m := master()
	if err := m.Validate(); err != nil {
		panic(err)
	}
	st, _ := m.StepAt(op, no)
	return &StepRecord{ID: "s" + string(rune('0'+op)) + string(rune('0'+no)), BatchID: "b", ClientID: "c", Op: op, Step: *st, State: state, Version: 1}
}

func batchIn(state BatchState) Batch {
	return Batch{ID: "b", ClientID: "c", Lot: "L2603", State: state, LineID: "line"}
}

func releasedLot() *Lot {
	return &Lot{ID: "lot", MaterialID: "m", Material: "Principe actif", Code: "API-01", Status: LotReleased, Quantity: 25, Unit: "g",
		ExpiresOn: now.AddDate(1, 0, 0)}
}

func filler() *site.Equipment {
	return &site.Equipment{ID: "eq", Code: "REMP-1", Kind: "filler", LineID: "line", Status: site.EquipmentClean, QualificationDue: now.AddDate(0, 6, 0)}
}

// refused checks an error's code, field and that its message names want.
func refused(t *testing.T, err error, code errs.Code, field, want string) {
	t.Helper()
	if !errs.Is(err, code) || errs.FieldOf(err) != field || !strings.Contains(errs.MessageOf(err, "en"), want) ||
		errs.MessageOf(err, "fr") == errs.MessageOf(err, "en") {
		t.Errorf("got %v (field %q), want %s on %q saying %q in both languages", err, errs.FieldOf(err), code, field, want)
	}
}

func TestRecordStepRefusals(t *testing.T) {
	clearance := stepOf(1, 1, StepPending)
	pending := stepOf(1, 3, StepPending)
	cases := map[string]struct {
		c            Recording
		e            Entry
		code         errs.Code
		field, names string
	}{
		"a client's user":          {Recording{Actor: claire, Batch: batchIn(BatchInProgress), Next: clearance}, Entry{StepID: clearance.ID}, errs.Forbidden, "", ""},
		"maintenance":              {Recording{Actor: maintena, Batch: batchIn(BatchInProgress), Next: clearance}, Entry{StepID: clearance.ID}, errs.Forbidden, "", ""},
		"a batch not on the floor": {Recording{Actor: olga, Batch: batchIn(BatchScheduled), Next: clearance}, Entry{StepID: clearance.ID}, errs.Conflict, "", "released to the floor"},
		"a completed batch":        {Recording{Actor: olga, Batch: batchIn(BatchCompleted), Next: clearance}, Entry{StepID: clearance.ID}, errs.Conflict, "", "until it is completed"},
		"every step done":          {Recording{Actor: olga, Batch: batchIn(BatchInProgress)}, Entry{StepID: "x"}, errs.Conflict, "", "Every step"},
		"not the next step":        {Recording{Actor: olga, Batch: batchIn(BatchInProgress), Next: pending}, Entry{StepID: clearance.ID}, errs.Conflict, "", "the next step is 1.3"},
		"waiting for signatures":   {Recording{Actor: olga, Batch: batchIn(BatchInProgress), Next: stepOf(1, 4, StepRecorded)}, Entry{StepID: "s14"}, errs.Conflict, "", "waits for its signatures"},
		"a clearance not ticked":   {Recording{Actor: olga, Batch: batchIn(BatchReleased), Next: clearance}, Entry{StepID: clearance.ID, Checked: []bool{false}}, errs.Invalid, "checked", "not ticked"},
		"an unknown lot": {Recording{Actor: olga, Batch: batchIn(BatchInProgress), Next: pending},
			Entry{StepID: pending.ID, Lot: " API-99 ", Quantity: "10"}, errs.Invalid, "lot", "Lot API-99 is unknown"},
		"a lot of another material": {Recording{Actor: olga, Batch: batchIn(BatchInProgress), Next: pending, Lot: func() *Lot { l := releasedLot(); l.MaterialID = "x"; return l }()},
			Entry{StepID: pending.ID, Lot: "API-01", Quantity: "10"}, errs.Invalid, "lot", "not of the material"},
		"a lot in quarantine": {Recording{Actor: olga, Batch: batchIn(BatchInProgress), Next: pending, Lot: func() *Lot { l := releasedLot(); l.Status = LotQuarantine; return l }()},
			Entry{StepID: pending.ID, Lot: "API-01", Quantity: "10"}, errs.Invalid, "lot", "quarantine"},
		"an expired lot": {Recording{Actor: olga, Batch: batchIn(BatchInProgress), Next: pending, Lot: func() *Lot { l := releasedLot(); l.ExpiresOn = now.AddDate(0, 0, -1); return l }()},
			Entry{StepID: pending.ID, Lot: "API-01", Quantity: "10"}, errs.Invalid, "lot", "expired"},
		"a lot without the stock": {Recording{Actor: olga, Batch: batchIn(BatchInProgress), Next: pending, Lot: func() *Lot { l := releasedLot(); l.Quantity = 9.9; return l }()},
			Entry{StepID: pending.ID, Lot: "API-01", Quantity: "10"}, errs.Invalid, "quantity", "less than the 10 asked"},
		"an unknown equipment": {Recording{Actor: olga, Batch: batchIn(BatchInProgress), Next: stepOf(1, 4, StepPending)},
			Entry{StepID: "s14", Equipment: "NOPE"}, errs.Invalid, "equipment", "Equipment NOPE is unknown"},
		"an equipment of another line": {Recording{Actor: olga, Batch: batchIn(BatchInProgress), Next: stepOf(1, 4, StepPending), Equipment: func() *site.Equipment { e := filler(); e.LineID = "other"; return e }()},
			Entry{StepID: "s14", Equipment: "REMP-1"}, errs.Invalid, "equipment", "another line"},
		"a dirty equipment": {Recording{Actor: olga, Batch: batchIn(BatchInProgress), Next: stepOf(1, 4, StepPending), Equipment: func() *site.Equipment { e := filler(); e.Status = site.EquipmentDirty; return e }()},
			Entry{StepID: "s14", Equipment: "REMP-1"}, errs.Conflict, "", "not clean"},
		"an equipment past its qualification": {Recording{Actor: olga, Batch: batchIn(BatchInProgress), Next: stepOf(1, 4, StepPending), Equipment: func() *site.Equipment { e := filler(); e.QualificationDue = now.AddDate(0, 0, -1); return e }()},
			Entry{StepID: "s14", Equipment: "REMP-1"}, errs.Conflict, "", "past its qualification"},
		// 1.7e308 is finite, but rounded to the step's decimal it is +Inf.
		"a value that overflows once rounded": {Recording{Actor: olga, Batch: batchIn(BatchInProgress), Next: stepOf(1, 2, StepPending)},
			Entry{StepID: "s12", Value: "1.7e308"}, errs.Invalid, "value", "too large"},
		"a value past the largest number": {Recording{Actor: olga, Batch: batchIn(BatchInProgress), Next: stepOf(1, 2, StepPending)},
			Entry{StepID: "s12", Value: "1e309"}, errs.Invalid, "value", ""},
		"an infinite value": {Recording{Actor: olga, Batch: batchIn(BatchInProgress), Next: stepOf(1, 2, StepPending)},
			Entry{StepID: "s12", Value: "+Inf"}, errs.Invalid, "value", ""},
		"a quantity not a number": {Recording{Actor: olga, Batch: batchIn(BatchInProgress), Next: pending, Lot: releasedLot()},
			Entry{StepID: pending.ID, Lot: "API-01", Quantity: "NaN"}, errs.Invalid, "quantity", ""},
		// A value out of limits is kept only once confirmed and explained.
		"a value out of limits, not confirmed": {Recording{Actor: olga, Batch: batchIn(BatchInProgress), Next: stepOf(1, 2, StepPending)},
			Entry{StepID: "s12", Value: "7,46", Comment: "Sonde recalibrée"}, errs.Invalid, "confirm_out_of_limits", "Value out of limits [6.8; 7.2]: confirm it and explain"},
		"a value out of limits, confirmed without a comment": {Recording{Actor: olga, Batch: batchIn(BatchInProgress), Next: stepOf(1, 2, StepPending)},
			Entry{StepID: "s12", Value: "7,46", ConfirmOutOfLimits: true}, errs.Invalid, "comment", "Value out of limits [6.8; 7.2]"},
		"a value out of limits, confirmed with a blank comment": {Recording{Actor: olga, Batch: batchIn(BatchInProgress), Next: stepOf(1, 2, StepPending)},
			Entry{StepID: "s12", Value: "6.2", ConfirmOutOfLimits: true, Comment: "  \t "}, errs.Invalid, "comment", "explain in a comment"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			c.c.Now = now
			out, err := RecordStep(c.c, c.e)
			if out != nil {
				t.Errorf("an outcome for a refusal: %+v", out)
			}
			refused(t, err, c.code, c.field, c.names)
		})
	}
}

func TestRecordStepOutcomes(t *testing.T) {
	t.Run("the line clearance starts the batch", func(t *testing.T) {
		next := stepOf(1, 1, StepPending)
		out, err := RecordStep(Recording{Actor: olga, Batch: batchIn(BatchReleased), Next: next, Now: now}, Entry{StepID: next.ID, Checked: []bool{true}})
		if err != nil {
			t.Fatal(err)
		}
		s := out.Step
		if !out.Start || s.State != StepDone || s.Value != `{"key":"stored.step.checked","args":[{"str":"1"},{"str":"1"}]}` || s.PerformedBy != "olga" || s.PerformedName != "Olga Opératrice" ||
			!s.PerformedAt.Equal(now) || s.Version != 2 || out.Use != nil || out.InUse != "" || out.Deviation != nil || out.Before.State != StepPending {
			t.Errorf("outcome %+v", out)
		}
	})
	t.Run("a value out of limits is recorded and opens a deviation", func(t *testing.T) {
		next := stepOf(1, 2, StepPending)
		out, err := RecordStep(Recording{Actor: olga, Batch: batchIn(BatchInProgress), Next: next, Now: now},
			Entry{StepID: next.ID, Value: "7,46", ConfirmOutOfLimits: true, Comment: " Sonde vérifiée, mesure refaite : 7,46. "})
		if err != nil {
			t.Fatal(err)
		}
		s, d := out.Step, out.Deviation
		if out.Start || *s.Number != 7.5 || !s.Exception ||
			d == nil || d.BatchID != "b" || d.StepID != next.ID || d.ClientID != "c" || d.Status != "open" || !d.OpenedAt.Equal(now) {
			t.Fatalf("outcome %+v, deviation %+v", out, d)
		}
		// The operator's explanation, as typed, stays with the step and
		// opens the deviation's description.
		if s.Comment != "Sonde vérifiée, mesure refaite : 7,46." || d.Description != s.Comment {
			t.Errorf("the step's comment is %q, the deviation's description %q", s.Comment, d.Description)
		}
		why := `{"key":"stored.why.outside_limits","args":[{"num":"7.5"},{"str":"pH"},{"num":"6.8"},{"num":"7.2"}]}`
		stored(t, "value", s.Value, `{"key":"stored.step.numeric","args":[{"num":"7.5"},{"str":"pH"}]}`, "7,5 pH", "7.5 pH")
		// A signature binds the stored form, whoever reads it.
		for _, f := range s.SignedFields() {
			if f.Name == "value" && f.Value != s.Value {
				t.Errorf("the signed value is %q, not the stored %q", f.Value, s.Value)
			}
		}
		stored(t, "why", s.Why, why, "7,5 pH est hors des limites [6,8 ; 7,2] pH.", "7.5 pH is outside the limits [6.8; 7.2] pH.")
		stored(t, "deviation title", d.Title, `{"key":"stored.deviation.title","args":[{"str":"L2603"},{"str":"1.2"},{"text":`+why+`}]}`,
			"Lot L2603, étape 1.2 : 7,5 pH est hors des limites [6,8 ; 7,2] pH.", "Batch L2603, step 1.2: 7.5 pH is outside the limits [6.8; 7.2] pH.")
	})
	t.Run("an instruction confirmed", func(t *testing.T) {
		next := stepOf(1, 2, StepPending)
		next.Step = Step{No: 2, Kind: StepInstruction, Text: "Nettoyer"}
		out, err := RecordStep(Recording{Actor: olga, Batch: batchIn(BatchInProgress), Next: next, Now: now}, Entry{StepID: next.ID, Confirm: true})
		if err != nil {
			t.Fatal(err)
		}
		stored(t, "value", out.Step.Value, `{"key":"stored.step.confirmed"}`, "confirmée", "confirmed")
	})
	t.Run("a value within limits opens nothing", func(t *testing.T) {
		next := stepOf(1, 2, StepPending)
		out, err := RecordStep(Recording{Actor: olga, Batch: batchIn(BatchInProgress), Next: next, Now: now}, Entry{StepID: next.ID, Value: "7.0"})
		if err != nil || out.Step.Exception || out.Deviation != nil {
			t.Errorf("outcome %+v %v", out, err)
		}
	})
	t.Run("a value on its limits needs no confirmation", func(t *testing.T) {
		for _, v := range []string{"6,8", "7.2"} {
			next := stepOf(1, 2, StepPending)
			out, err := RecordStep(Recording{Actor: olga, Batch: batchIn(BatchInProgress), Next: next, Now: now}, Entry{StepID: next.ID, Value: v})
			if err != nil || out.Step.Exception || out.Deviation != nil {
				t.Errorf("%s: outcome %+v %v", v, out, err)
			}
		}
	})
	t.Run("a material addition takes from its lot", func(t *testing.T) {
		next := stepOf(1, 3, StepPending)
		out, err := RecordStep(Recording{Actor: olga, Batch: batchIn(BatchInProgress), Next: next, Lot: releasedLot(), Now: now},
			Entry{StepID: next.ID, Lot: "API-01", Quantity: "10,1"})
		if err != nil {
			t.Fatal(err)
		}
		if out.Use == nil || *out.Use != (LotUse{LotID: "lot", Quantity: 10.1}) || out.Step.LotID != "lot" || out.Step.LotCode != "API-01" ||
			out.Step.Exception {
			t.Errorf("outcome %+v", out)
		}
		stored(t, "value", out.Step.Value, `{"key":"stored.step.material","args":[{"num":"10.1"},{"str":"g"},{"str":"API-01"}]}`,
			"10,1 g, lot API-01", "10.1 g, lot API-01")
	})
	t.Run("a quantity outside the tolerance", func(t *testing.T) {
		next := stepOf(1, 3, StepPending)
		rec := Recording{Actor: olga, Batch: batchIn(BatchInProgress), Next: next, Lot: releasedLot(), Now: now}
		// Confirmed and explained, or refused, as a value out of limits.
		_, err := RecordStep(rec, Entry{StepID: next.ID, Lot: "API-01", Quantity: "10.5"})
		refused(t, err, errs.Invalid, "confirm_out_of_limits", "10 ± 2 %")
		_, err = RecordStep(rec, Entry{StepID: next.ID, Lot: "API-01", Quantity: "10.5", ConfirmOutOfLimits: true, Comment: " "})
		refused(t, err, errs.Invalid, "comment", "out of tolerance")
		out, err := RecordStep(rec, Entry{StepID: next.ID, Lot: "API-01", Quantity: "10.5", ConfirmOutOfLimits: true, Comment: "Balance vérifiée"})
		if err != nil || !out.Step.Exception || out.Deviation == nil || out.Use.Quantity != 10.5 {
			t.Fatalf("outcome %+v %v", out, err)
		}
		stored(t, "why", out.Step.Why, `{"key":"stored.why.outside_tolerance","args":[{"num":"10.5"},{"num":"10"},{"num":"2"}]}`,
			"10,5 ajouté, hors de 10 ± 2 %.", "10.5 added, outside 10 ± 2 %.")
	})
	t.Run("an equipment checked goes in use, and the step waits for its signatures", func(t *testing.T) {
		next := stepOf(1, 4, StepPending)
		out, err := RecordStep(Recording{Actor: olga, Batch: batchIn(BatchInProgress), Next: next, Equipment: filler(), Now: now},
			Entry{StepID: next.ID, Equipment: " REMP-1 "})
		if err != nil {
			t.Fatal(err)
		}
		if out.InUse != "eq" || out.Step.EquipmentID != "eq" || out.Step.Equipment != "REMP-1" || out.Step.State != StepRecorded {
			t.Errorf("outcome %+v", out)
		}
		stored(t, "value", out.Step.Value, `{"key":"stored.step.equipment","args":[{"str":"REMP-1"}]}`,
			"REMP-1 : propre, qualifié", "REMP-1: clean, qualified")
	})
}

func TestStepInputs(t *testing.T) {
	e := Entry{Lot: " API-01 ", Equipment: " REMP-1 "}
	for _, c := range []struct {
		next           *StepRecord
		lot, equipment string
	}{
		{nil, "", ""},
		{stepOf(1, 1, StepPending), "", ""},
		{stepOf(1, 3, StepPending), "API-01", ""},
		{stepOf(1, 4, StepPending), "", "REMP-1"},
	} {
		if lot, eq := StepInputs(c.next, e); lot != c.lot || eq != c.equipment {
			t.Errorf("%+v: %q %q, want %q %q", c.next, lot, eq, c.lot, c.equipment)
		}
	}
}

func TestCorrectStep(t *testing.T) {
	recorded := func() *StepRecord {
		s := stepOf(1, 2, StepDone)
		v := 7.0
		s.Value, s.Number, s.PerformedBy, s.Version = text.Code("stored.step.numeric", text.Num(v, 1), text.Str("pH")).String(), &v, "olga", 2
		return s
	}
	ok := Correcting{Actor: olga, Batch: batchIn(BatchInProgress), Step: recorded(), Reason: "Typo on the tablet", Now: now}
	cases := map[string]struct {
		change       func(c *Correcting, e *Entry)
		code         errs.Code
		field, names string
	}{
		"a client's user":      {func(c *Correcting, e *Entry) { c.Actor = claire }, errs.Forbidden, "", ""},
		"no reason":            {func(c *Correcting, e *Entry) { c.Reason = "  " }, errs.Invalid, "reason", "a reason is required"},
		"a batch completed":    {func(c *Correcting, e *Entry) { c.Batch.State = BatchCompleted }, errs.Conflict, "", "only while it is in progress"},
		"no such step":         {func(c *Correcting, e *Entry) { c.Step = nil }, errs.NotFound, "", "No such step"},
		"another batch's step": {func(c *Correcting, e *Entry) { c.Step.BatchID = "other" }, errs.NotFound, "", "No such step"},
		"a step not recorded":  {func(c *Correcting, e *Entry) { c.Step.State = StepPending }, errs.Conflict, "", "record it instead"},
		"a material addition":  {func(c *Correcting, e *Entry) { c.Step = stepOf(1, 3, StepDone) }, errs.Conflict, "", "open a deviation"},
		"a stale version":      {func(c *Correcting, e *Entry) { e.Version = 1 }, errs.Stale, "", ""},
		"a value not a number": {func(c *Correcting, e *Entry) { e.Value = "sept" }, errs.Invalid, "value", "Enter a number"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			cc := ok
			cc.Step = recorded()
			e := Entry{StepID: cc.Step.ID, Value: "7.1", Version: 2}
			c.change(&cc, &e)
			out, err := CorrectStep(cc, e)
			if out != nil {
				t.Errorf("an outcome for a refusal: %+v", out)
			}
			if c.code == errs.Stale {
				if !errs.Is(err, errs.Stale) {
					t.Errorf("got %v, want stale", err)
				}
				return
			}
			refused(t, err, c.code, c.field, c.names)
		})
	}
	t.Run("a correction out of limits counts, and opens a deviation once", func(t *testing.T) {
		cc := ok
		cc.Step = recorded()
		// Out of limits, a correction is confirmed and explained as a
		// first entry is, or refused.
		_, err := CorrectStep(cc, Entry{StepID: cc.Step.ID, Value: "7.3", Version: 2})
		refused(t, err, errs.Invalid, "confirm_out_of_limits", "[6.8; 7.2]")
		_, err = CorrectStep(cc, Entry{StepID: cc.Step.ID, Value: "7.3", Version: 2, ConfirmOutOfLimits: true})
		refused(t, err, errs.Invalid, "comment", "[6.8; 7.2]")
		out, err := CorrectStep(cc, Entry{StepID: cc.Step.ID, Value: "7.3", Version: 2, ConfirmOutOfLimits: true, Comment: "Mesure refaite"})
		if err != nil {
			t.Fatal(err)
		}
		if out.Step.Corrections != 1 || out.Step.Version != 3 || !out.Step.Exception || out.Deviation == nil ||
			text.RenderStored(text.EN, out.Before.Value) != "7.0 pH" {
			t.Fatalf("outcome %+v", out)
		}
		stored(t, "value", out.Step.Value, `{"key":"stored.step.numeric","args":[{"num":"7.3"},{"str":"pH"}]}`, "7,3 pH", "7.3 pH")
		stored(t, "deviation title", out.Deviation.Title, `{"key":"stored.deviation.title","args":[{"str":"L2603"},{"str":"1.2"},{"text":`+out.Step.Why+`}]}`,
			"Lot L2603, étape 1.2 : 7,3 pH est hors des limites [6,8 ; 7,2] pH.", "Batch L2603, step 1.2: 7.3 pH is outside the limits [6.8; 7.2] pH.")
		cc.Step = &out.Step
		cc.Step.DeviationID = "dev"
		again, err := CorrectStep(cc, Entry{StepID: cc.Step.ID, Value: "7.4", ConfirmOutOfLimits: true, Comment: "Encore"})
		if err != nil || again.Deviation != nil || again.Step.Corrections != 2 {
			t.Errorf("a second correction out of limits: %+v %v", again, err)
		}
	})
	t.Run("a step that needs signatures needs them again", func(t *testing.T) {
		cc := ok
		cc.Step = stepOf(2, 1, StepDone)
		cc.Step.Step.Sign = true
		out, err := CorrectStep(cc, Entry{StepID: cc.Step.ID, Value: "ECH-2"})
		if err != nil || out.Step.State != StepRecorded || out.Step.Value != "ECH-2" {
			t.Errorf("outcome %+v %v", out, err)
		}
	})
	t.Run("a sample's label is stored as typed, unless it would read as a coded text", func(t *testing.T) {
		cc := ok
		cc.Step = stepOf(2, 1, StepDone)
		_, err := CorrectStep(cc, Entry{StepID: cc.Step.ID, Value: `{"key":"stored.step.confirmed"}`})
		refused(t, err, errs.Invalid, "value", "coded text")
		out, err := CorrectStep(cc, Entry{StepID: cc.Step.ID, Value: "{ECH-3}"})
		if err != nil || out.Step.Value != "{ECH-3}" || text.RenderStored(text.FR, out.Step.Value) != "{ECH-3}" {
			t.Errorf("a label in braces: %+v %v", out, err)
		}
	})
}

func TestSignStep(t *testing.T) {
	critical := func() StepRecord {
		s := stepOf(1, 4, StepRecorded)
		s.PerformedBy = "olga"
		return *s
	}
	sig := func(m esign.Meaning, by string) esign.Signature {
		return esign.Signature{Meaning: m, SignerID: by, Status: esign.Valid}
	}
	cases := map[string]struct {
		c            Signing
		code         errs.Code
		field, names string
	}{
		"a meaning the step does not take": {Signing{Actor: olga, Step: critical(), Signature: sig(esign.Approved, "olga"), CheckSigner: true}, errs.Invalid, "meaning", "is not signed as"},
		"a step not recorded": {Signing{Actor: olga, Step: func() StepRecord { s := critical(); s.State = StepDone; return s }(), Signature: sig(esign.Performed, "olga"), CheckSigner: true},
			errs.Conflict, "", "nothing to sign"},
		"performed by another":      {Signing{Actor: victor, Step: critical(), Signature: sig(esign.Performed, "victor"), CheckSigner: true}, errs.Forbidden, "", "Only the person who recorded"},
		"verified by its performer": {Signing{Actor: olga, Step: critical(), Signature: sig(esign.Verified, "olga"), CheckSigner: true}, errs.Forbidden, "", "another person"},
		"a role that signs no step": {Signing{Actor: maintena, Step: critical(), Signature: sig(esign.Verified, "marc"), CheckSigner: true}, errs.Forbidden, "", ""},
		"verified by who corrected its value": {Signing{Actor: victor, Step: critical(), Signature: sig(esign.Verified, "victor"), CheckSigner: true, CorrectedBy: "victor"},
			errs.Forbidden, "", "You corrected this step's value"},
		"verified by its performer after another's correction": {Signing{Actor: olga, Step: critical(), Signature: sig(esign.Verified, "olga"), CheckSigner: true, CorrectedBy: "victor"},
			errs.Forbidden, "", "another person"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			done, err := SignStep(c.c)
			if done {
				t.Error("done on a refusal")
			}
			refused(t, err, c.code, c.field, c.names)
		})
	}
	performed, verified := sig(esign.Performed, "olga"), sig(esign.Verified, "victor")
	if done, err := SignStep(Signing{Actor: olga, Step: critical(), Signature: performed, Signatures: []esign.Signature{performed}, CheckSigner: true}); err != nil || done {
		t.Errorf("performed alone: done %v, %v; want waiting for the verification", done, err)
	}
	if done, err := SignStep(Signing{Actor: victor, Step: critical(), Signature: verified, Signatures: []esign.Signature{performed, verified}, CheckSigner: true}); err != nil || !done {
		t.Errorf("performed and verified: done %v, %v", done, err)
	}
	if done, err := SignStep(Signing{Actor: quentin, Step: critical(), Signature: sig(esign.Verified, "quentin"), Signatures: []esign.Signature{performed, sig(esign.Verified, "quentin")}, CheckSigner: true}); err != nil || !done {
		t.Errorf("verified by QA: done %v, %v", done, err)
	}
	// Corrected by victor: a third person verifies.
	if done, err := SignStep(Signing{Actor: quentin, Step: critical(), Signature: sig(esign.Verified, "quentin"), Signatures: []esign.Signature{performed, sig(esign.Verified, "quentin")}, CheckSigner: true, CorrectedBy: "victor"}); err != nil || !done {
		t.Errorf("corrected by victor, verified by QA: done %v, %v", done, err)
	}
	// The demo's loader writes a history without the signer's rules.
	if done, err := SignStep(Signing{Step: critical(), Signature: sig(esign.Verified, "olga"), Signatures: []esign.Signature{performed, sig(esign.Verified, "olga")}}); err != nil || !done {
		t.Errorf("a history: done %v, %v", done, err)
	}
}

func TestLotRemaining(t *testing.T) {
	l := &Lot{Quantity: 22.4}
	for _, c := range []struct {
		take, left float64
		ok         bool
	}{
		{2.4, 20, true}, {22.4, 0, true}, {22.5, 0, false}, {0.1, 22.3, true}, {22.400001, 0, false}, {22.4000001, 0, true},
	} {
		left, ok := l.Remaining(c.take)
		if ok != c.ok || (ok && left != c.left) {
			t.Errorf("take %v from 22.4: %v %v, want %v %v", c.take, left, ok, c.left, c.ok)
		}
	}
	// Repeated takes do not drift.
	l.Quantity = 1
	for range 10 {
		l.Quantity, _ = l.Remaining(0.1)
	}
	if l.Quantity != 0 {
		t.Errorf("ten takes of 0.1 from 1 leave %v", l.Quantity)
	}
}

// stored checks a stored text: its stored form, a coded text, and how it
// reads in French and in English.
func stored(t *testing.T, what, got, want, fr, en string) {
	t.Helper()
	if got != want {
		t.Errorf("%s stored as %s, want %s", what, got, want)
	}
	if _, ok := text.ParseCoded(got); !ok {
		t.Errorf("%s is not stored as a coded text: %q", what, got)
	}
	if r := text.RenderStored(text.FR, got); r != fr {
		t.Errorf("%s in French: %q, want %q", what, r, fr)
	}
	if r := text.RenderStored(text.EN, got); r != en {
		t.Errorf("%s in English: %q, want %q", what, r, en)
	}
}

func TestCheckStart(t *testing.T) {
	slot := now
	b := batchIn(BatchReleased)
	b.Start = &slot
	cases := []struct {
		name   string
		at     time.Duration
		reason string
		want   string // "" when allowed, else the message's start
	}{
		{"on time", 0, "", ""},
		{"two hours early, the edge", -StartDrift, "", ""},
		{"two hours late, the edge", StartDrift, "", ""},
		{"three hours early", -3 * time.Hour, "", "is scheduled to start in 3 h"},
		{"five hours late", 5 * time.Hour, "", "was scheduled to start 5 h ago"},
		{"blank reason", 5 * time.Hour, "   ", "was scheduled to start 5 h ago"},
		{"early with a reason", -6 * time.Hour, "Line freed early; QA informed.", ""},
		{"late with a reason", 26 * time.Hour, "Material received late.", ""},
	}
	for _, c := range cases {
		err := CheckStart(&b, slot.Add(c.at), c.reason)
		if c.want == "" {
			if err != nil {
				t.Errorf("%s: %v", c.name, err)
			}
			continue
		}
		refused(t, err, errs.Invalid, "reason", c.want)
	}
	unscheduled := batchIn(BatchReleased)
	if err := CheckStart(&unscheduled, now, ""); err != nil {
		t.Errorf("a batch without a slot: %v", err)
	}
	// The line clearance asks for it; the steps after do not.
	next := stepOf(1, 1, StepPending)
	_, err := RecordStep(Recording{Actor: olga, Batch: b, Next: next, Now: slot.Add(4 * time.Hour)}, Entry{StepID: next.ID, Checked: []bool{true}})
	refused(t, err, errs.Invalid, "reason", "needs a reason")
	if _, err := RecordStep(Recording{Actor: olga, Batch: b, Next: next, Now: slot.Add(4 * time.Hour)}, Entry{StepID: next.ID, Checked: []bool{true}, Reason: "Changeover took longer."}); err != nil {
		t.Errorf("a start with a reason: %v", err)
	}
	b.State = BatchInProgress
	n2 := stepOf(1, 2, StepPending)
	if _, err := RecordStep(Recording{Actor: olga, Batch: b, Next: n2, Now: slot.Add(9 * time.Hour)}, Entry{StepID: n2.ID, Value: "7"}); err != nil {
		t.Errorf("a step after the start: %v", err)
	}
}
