package store_test

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"galenix/internal/access"
	"galenix/internal/controlled"
	"galenix/internal/errs"
	"galenix/internal/esign"
	"galenix/internal/identity"
	"galenix/internal/production"
	"galenix/internal/store"
	"galenix/internal/text"
)

// TestControlledRegister: the register of a substance held for a client,
// from its receipt in the vault to its dispensing through a batch step.
// Each movement counts only once its performer and its witness (another
// person) have signed it, takes the next serial number, and moves the
// balances; each refusal (a witness missing or the performer, a
// destruction without its certificate, a negative balance, a signature of
// the wrong person, a validated movement changed or deleted) changes
// nothing but the alert a negative balance raises. An inventory's
// discrepancy opens a deviation and alerts the pharmacist; the month's
// balance is recorded once the month is over.
func TestControlledRegister(t *testing.T) {
	t.Parallel()
	forEachDB(t, func(t *testing.T, db *store.DB) {
		e := newProdEnv(t, db)
		reg, prod := db.Controlled(), db.Production()
		qa, sup, op, qp := e.actor("quinn"), e.actor("victor"), e.actor("olga"), e.actor("paula")
		quinn, victor, paula := e.acc["quinn"].ID, e.acc["victor"].ID, e.acc["paula"].ID

		// Who may keep the register: not an operator, not a client.
		sub := &controlled.Substance{Code: "API-1", Name: "Alphacaïne base", Class: controlled.Narcotic, Unit: "kg", ClientID: e.alpha.ID, MaterialID: e.api.ID}
		wantErr(t, reg.CreateSubstance(op, sub), errs.Forbidden, "")
		wantErr(t, reg.CreateSubstance(e.actor("carla"), sub), errs.Forbidden, "")
		_, err := reg.Substances(op)
		wantErr(t, err, errs.Forbidden, "")
		bad := *sub
		bad.Class = "spice"
		wantErr(t, reg.CreateSubstance(qa, &bad), errs.Invalid, "class")
		bad = *sub
		bad.ClientID = "not-a-client"
		wantErr(t, reg.CreateSubstance(qa, &bad), errs.Invalid, "client_id")
		must(t, reg.CreateSubstance(qa, sub))
		again := *sub
		again.ID = ""
		wantErr(t, reg.CreateSubstance(qa, &again), errs.Conflict, "code")

		vault := &controlled.Container{SubstanceID: sub.ID, Code: "V-1", LotCode: "SUP-2026-001", Place: "Coffre, Bâtiment 70", PlaceKind: controlled.Vault}
		must(t, reg.CreateContainer(qa, vault))
		floor := &controlled.Container{SubstanceID: sub.ID, Code: "P-1", LotID: e.lotOK.ID, Place: "Armoire L1", PlaceKind: controlled.Production}
		must(t, reg.CreateContainer(qa, floor))
		if floor.LotCode != "LOT-OK" {
			t.Fatalf("the production container's lot: %q", floor.LotCode)
		}

		serials := func() []controlled.Movement {
			t.Helper()
			ms, err := reg.Register(qa, controlled.Filter{})
			must(t, err)
			return ms
		}
		balance := func(c *controlled.Container) controlled.Qty {
			t.Helper()
			cs, err := reg.Containers(qa, sub.ID)
			must(t, err)
			for _, x := range cs {
				if x.ID == c.ID {
					return x.Balance
				}
			}
			t.Fatalf("no container %s", c.Code)
			return 0
		}
		// sign signs a movement: performed by its performer, verified by
		// the witness on the performer's session.
		sign := func(t *testing.T, performer string, witness string, id string) error {
			t.Helper()
			if _, err := e.sign(t, performer, controlled.EntityMovement, id, esign.Performed); err != nil {
				return err
			}
			ctx := e.actor(performer)
			c, err := e.svc.Challenge(ctx, esign.ChallengeRequest{Entity: controlled.EntityMovement, EntityID: id, Meaning: "verified", SecondPerson: true})
			if err != nil {
				return err
			}
			_, err = e.svc.Sign(ctx, esign.SignRequest{Entity: controlled.EntityMovement, EntityID: id, Meaning: "verified", Username: witness, Password: password, Challenge: c.Challenge})
			return err
		}

		// The refusals of an entry: nothing written.
		receipt := func() *controlled.Movement {
			return &controlled.Movement{Kind: controlled.Receipt, SubstanceID: sub.ID, ContainerID: vault.ID, Quantity: 100_000, Party: "Francopia",
				Document: "BL-778", WitnessID: victor}
		}
		before := counts(t, db)
		noWitness := receipt()
		noWitness.WitnessID = ""
		wantErr(t, reg.EnterMovement(qa, noWitness), errs.Invalid, "witness_id")
		self := receipt()
		self.WitnessID = quinn
		wantErr(t, reg.EnterMovement(qa, self), errs.Invalid, "witness_id")
		noNote := receipt()
		noNote.Document = ""
		wantErr(t, reg.EnterMovement(qa, noNote), errs.Invalid, "document")
		clientWitness := receipt()
		clientWitness.WitnessID = e.acc["carla"].ID
		wantErr(t, reg.EnterMovement(qa, clientWitness), errs.Invalid, "witness_id")
		wantErr(t, reg.EnterMovement(op, receipt()), errs.Forbidden, "")
		destroy := &controlled.Movement{Kind: controlled.Destruction, SubstanceID: sub.ID, ContainerID: vault.ID, Quantity: 1, WitnessID: victor}
		wantErr(t, reg.EnterMovement(qa, destroy), errs.Invalid, "document")
		sameCounts(t, db, before)

		// A receipt: entered, not yet in the register; signed by the
		// performer, then by the named witness only.
		r1 := receipt()
		must(t, reg.EnterMovement(qa, r1))
		if r1.State != controlled.Entered || r1.Serial != 0 || len(serials()) != 0 {
			t.Fatalf("entered: %+v, register %d", r1, len(serials()))
		}
		if _, err := e.sign(t, "victor", controlled.EntityMovement, r1.ID, esign.Performed); !errs.Is(err, errs.Forbidden) {
			t.Fatalf("performed by another than the performer: %v", err)
		}
		if err := sign(t, "quinn", "paula", r1.ID); !errs.Is(err, errs.Forbidden) {
			t.Fatalf("verified by another than the named witness: %v", err)
		}
		if len(serials()) != 0 || balance(vault) != 0 {
			t.Fatal("a movement counts before its witness signed it")
		}
		c, err := e.svc.Challenge(qa, esign.ChallengeRequest{Entity: controlled.EntityMovement, EntityID: r1.ID, Meaning: "verified", SecondPerson: true})
		must(t, err)
		_, err = e.svc.Sign(qa, esign.SignRequest{Entity: controlled.EntityMovement, EntityID: r1.ID, Meaning: "verified", Username: "victor", Password: password, Challenge: c.Challenge})
		must(t, err)
		if ms := serials(); len(ms) != 1 || ms[0].Serial != 1 || ms[0].WitnessName != "Victor Vérificateur" || len(ms[0].Signatures) != 2 || balance(vault) != 100_000 {
			t.Fatalf("validated: %+v, balance %v", ms, balance(vault))
		}
		// Signed for good: no third signature, no edit, no deletion.
		_, err = e.svc.Challenge(qa, esign.ChallengeRequest{Entity: controlled.EntityMovement, EntityID: r1.ID, Meaning: "performed"})
		wantErr(t, err, errs.Conflict, "")
		if _, err := db.WriteSQL().Exec(`UPDATE controlled_movements SET quantity = 1 WHERE id = ?`, r1.ID); err == nil {
			t.Fatal("a validated movement was changed")
		}
		if _, err := db.WriteSQL().Exec(`DELETE FROM controlled_movements WHERE id = ?`, r1.ID); err == nil {
			t.Fatal("a movement of the register was deleted")
		}

		// A negative balance: refused, nothing written, but raised.
		over := &controlled.Movement{Kind: controlled.Sampling, SubstanceID: sub.ID, ContainerID: floor.ID, Quantity: 500, Party: "Laboratoire CQ", WitnessID: victor}
		err = reg.EnterMovement(qa, over)
		wantErr(t, err, errs.Conflict, "")
		if !strings.Contains(errs.MessageOf(err, "fr"), "0,000") {
			t.Errorf("the refusal: %q", errs.MessageOf(err, "fr"))
		}
		if ms, _ := reg.Register(qa, controlled.Filter{Pending: true}); len(ms) != 0 {
			t.Fatalf("a refused movement was written: %+v", ms)
		}
		alerts, err := reg.Alerts(qp)
		must(t, err)
		if len(alerts) != 1 || alerts[0].Kind != controlled.AlertNegative || !strings.Contains(alerts[0].Detail.Render(text.EN), "P-1") {
			t.Fatalf("alerts after the refusal: %+v", alerts)
		}

		// A transfer to production of 5 kg: too little for the batch.
		move := func(q controlled.Qty) {
			t.Helper()
			m := &controlled.Movement{Kind: controlled.Transfer, SubstanceID: sub.ID, ContainerID: vault.ID, ToContainerID: floor.ID, Quantity: q, WitnessID: paula}
			must(t, reg.EnterMovement(sup, m))
			must(t, sign(t, "victor", "paula", m.ID))
		}
		move(5_000)

		// The batch: its material addition on the controlled lot writes
		// the dispensing.
		b := e.order(t, e.vial, 10000)
		_, err = prod.ScheduleBatch(sup, b.ID, production.ScheduleRequest{LineID: e.f.line.ID, Start: at(3, 6)}, "")
		must(t, err)
		_, err = prod.MoveBatch(sup, b.ID, production.MoveRelease, "")
		must(t, err)
		rec, err := prod.Record(sup, b.ID)
		must(t, err)
		st := rec.Steps
		_, err = prod.RecordStep(op, b.ID, production.Entry{StepID: st[0].ID, Checked: []bool{true, true}, Reason: "Test slot far from now."})
		must(t, err)
		_, err = prod.RecordStep(op, b.ID, production.Entry{StepID: st[1].ID, Value: "7,0"})
		must(t, err)
		_, err = prod.RecordStep(op, b.ID, production.Entry{StepID: st[2].ID, Lot: "LOT-OK", Quantity: "10,1", Scale: "BAL-07 10.100 kg"})
		wantErr(t, err, errs.Conflict, "")
		if alerts, _ := reg.Alerts(qp); len(alerts) != 2 {
			t.Fatalf("the refused dispensing was not raised: %+v", alerts)
		}
		move(15_000)
		r, err := prod.RecordStep(op, b.ID, production.Entry{StepID: st[2].ID, Lot: "LOT-OK", Quantity: "10,1", Scale: "BAL-07 10.100 kg"})
		must(t, err)
		_, err = e.sign(t, "olga", "batch_step", r.ID, esign.Performed)
		must(t, err)
		if pending, _ := reg.Register(qa, controlled.Filter{Pending: true}); len(pending) != 1 || pending[0].StepID != r.ID || pending[0].Quantity != 10_100 {
			t.Fatalf("the dispensing waits for the step's witness: %+v", pending)
		}
		if got, _ := prod.Batch(sup, b.ID); got.StepsDone != 2 {
			t.Fatalf("a controlled addition is done without its witness: %d steps done", got.StepsDone)
		}
		_, err = e.sign(t, "victor", "batch_step", r.ID, esign.Verified)
		must(t, err)
		ms := serials()
		if len(ms) != 4 {
			t.Fatalf("register: %d movements", len(ms))
		}
		d := ms[3]
		if d.Kind != controlled.Dispensing || d.Serial != 4 || d.Batch != b.Lot || d.Scale != "BAL-07 10.100 kg" || d.PerformerName != "Olga Opératrice" ||
			d.WitnessName != "Victor Vérificateur" || len(d.Signatures) != 2 || balance(floor) != 9_900 {
			t.Fatalf("the dispensing: %+v, balance %v", d, balance(floor))
		}
		must(t, controlled.CheckSerials(ms))
		// The batch record never rewrites a material added: the register
		// keeps what was dispensed (a correcting movement sets it right).
		_, err = prod.CorrectStep(sup, b.ID, production.Entry{StepID: r.ID, Lot: "LOT-OK", Quantity: "10"}, "Erreur de saisie")
		wantErr(t, err, errs.Conflict, "")

		// Reconciliation: 10.1 kg for the master's 10 kg ± 2 %: within.
		rec1, err := reg.Reconcile(qa, controlled.Filter{SubstanceID: sub.ID})
		must(t, err)
		if len(rec1) != 1 || rec1[0].Batch != b.Lot || rec1[0].Theoretical != 10_000 || rec1[0].Tolerance != 200 || rec1[0].Dispensed != 10_100 || !rec1[0].Within {
			t.Fatalf("reconciliation: %+v", rec1)
		}
		// 1 kg back from the batch: 9.1 kg net, beyond the tolerance; once
		// the batch is done, raised and a deviation opened for it.
		back := &controlled.Movement{Kind: controlled.Return, SubstanceID: sub.ID, ContainerID: floor.ID, Quantity: 1_000, BatchID: b.ID, WitnessID: victor}
		must(t, reg.EnterMovement(qa, back))
		must(t, sign(t, "quinn", "victor", back.ID))
		if n, err := reg.ReconcileBatches(as(identity.System)); err != nil || n != 0 {
			t.Fatalf("a batch in progress reconciled: %d %v", n, err)
		}
		r, err = prod.RecordStep(op, b.ID, production.Entry{StepID: st[3].ID, Equipment: e.f.equipment.Code})
		must(t, err)
		_, err = e.sign(t, "olga", "batch_step", r.ID, esign.Performed)
		must(t, err)
		_, err = e.sign(t, "victor", "batch_step", r.ID, esign.Verified)
		must(t, err)
		_, err = prod.RecordStep(op, b.ID, production.Entry{StepID: st[4].ID, Confirm: true})
		must(t, err)
		_, err = prod.MoveBatch(sup, b.ID, production.MoveComplete, "")
		must(t, err)
		if n, err := reg.ReconcileBatches(as(identity.System)); err != nil || n != 1 {
			t.Fatalf("the batch beyond its tolerance: %d raised, %v", n, err)
		}
		if n, err := reg.ReconcileBatches(as(identity.System)); err != nil || n != 0 {
			t.Fatalf("raised again: %d %v", n, err)
		}
		rec1, err = reg.Reconcile(qa, controlled.Filter{SubstanceID: sub.ID})
		must(t, err)
		if len(rec1) != 1 || rec1[0].Returned != 1_000 || rec1[0].Difference != -900 || rec1[0].Within {
			t.Fatalf("reconciliation after the return: %+v", rec1)
		}
		must(t, controlled.CheckSerials(serials()))

		// A correction of the receipt: a new movement; the first stays.
		fix := &controlled.Movement{Kind: controlled.Correction, SubstanceID: sub.ID, ContainerID: vault.ID, Quantity: 500, Corrects: 1,
			Cause: "Bon de livraison : 99,5 kg", WitnessID: victor}
		must(t, reg.EnterMovement(qa, fix))
		must(t, sign(t, "quinn", "victor", fix.ID))
		if balance(vault) != 79_500 || serials()[0].Quantity != 100_000 || balance(floor) != 10_900 {
			t.Fatalf("after the correction: vault %v", balance(vault))
		}
		nope := &controlled.Movement{Kind: controlled.Correction, SubstanceID: sub.ID, ContainerID: vault.ID, Quantity: 1, Corrects: 99, Cause: "x", WitnessID: victor}
		wantErr(t, reg.EnterMovement(qa, nope), errs.Invalid, "corrects")

		// The inventory: 79.4 kg found where the register holds 79.5.
		cnt := &controlled.Count{ContainerID: vault.ID, Counted: 79_400, Note: "Pesée contradictoire, balance BAL-02"}
		wantErr(t, reg.Count(op, cnt), errs.Forbidden, "")
		must(t, reg.Count(qa, cnt))
		if cnt.Expected != 79_500 || cnt.Deviation == "" {
			t.Fatalf("count: %+v", cnt)
		}
		dev, err := db.Deviations().Deviation(qa, cnt.DeviationID)
		must(t, err)
		if dev.ClientID != e.alpha.ID || !strings.Contains(text.RenderStored(text.FR, dev.Title), "79,400") {
			t.Fatalf("the discrepancy's deviation: %+v", dev)
		}
		alerts, err = reg.Alerts(qp)
		must(t, err)
		if len(alerts) != 4 || alerts[0].Kind != controlled.AlertDiscrepancy || alerts[1].Kind != controlled.AlertReconciliation {
			t.Fatalf("alerts: %+v", alerts)
		}
		wantErr(t, reg.AcknowledgeAlert(qp, alerts[0].ID, " "), errs.Invalid, "comment")
		must(t, reg.AcknowledgeAlert(qp, alerts[0].ID, "Écart à instruire dans la déviation"))
		wantErr(t, reg.AcknowledgeAlert(qp, alerts[0].ID, "encore"), errs.Conflict, "")

		// The month and the year.
		year := e.clock.now().In(time.UTC).Year()
		st2, err := reg.Annual(qa, sub.ID, year)
		must(t, err)
		if st2.Received != 100_000 || st2.Used != 9_100 || st2.Corrected != -500 || st2.Closing != 90_400 {
			t.Fatalf("annual statement: %+v", st2)
		}
		sum, recorded, err := reg.Month(qa, sub.ID, e.clock.now())
		must(t, err)
		if sum.Closing != 90_400 || sum.Count != 6 || recorded != nil {
			t.Fatalf("month: %+v %+v", sum, recorded)
		}
		_, err = reg.RecordMonths(qa)
		wantErr(t, err, errs.Forbidden, "")
		if n, err := reg.RecordMonths(as(identity.System)); err != nil || n != 0 {
			t.Fatalf("months recorded before the month's end: %d %v", n, err)
		}
		e.clock.add(40 * 24 * time.Hour)
		if n, err := reg.RecordMonths(as(identity.System)); err != nil || n != 1 {
			t.Fatalf("months recorded: %d %v", n, err)
		}
		if n, err := reg.RecordMonths(as(identity.System)); err != nil || n != 0 {
			t.Fatalf("months recorded again: %d %v", n, err)
		}
		_, recorded, err = reg.Month(qa, sub.ID, now)
		must(t, err)
		if recorded == nil || recorded.Closing != 90_400 || recorded.FirstSerial != 1 || recorded.LastSerial != 6 {
			t.Fatalf("the month recorded: %+v", recorded)
		}
	})
}

// TestControlledVaultAndCopy: the vault's movements against the
// gatehouse's entries (a movement without two people, an opening without
// a movement, each raised once), a loss discharged once, and the
// register's copy on its second medium: written as the register grows,
// checked line by line by an independent reading, an alteration found.
func TestControlledVaultAndCopy(t *testing.T) {
	t.Parallel()
	forEachDB(t, func(t *testing.T, db *store.DB) {
		e := newProdEnv(t, db)
		reg, acc := db.Controlled(), db.Access()
		qa, sys := e.actor("quinn"), as(identity.System)
		victor := e.acc["victor"].ID
		sub := &controlled.Substance{Code: "MORPH", Name: "Morphine", Class: controlled.Narcotic, Unit: "g", ClientID: e.alpha.ID}
		must(t, reg.CreateSubstance(qa, sub))
		vault := &controlled.Container{SubstanceID: sub.ID, Code: "V-1", LotCode: "S-1", Place: "Coffre B70", PlaceKind: controlled.Vault}
		must(t, reg.CreateContainer(qa, vault))
		lab := &controlled.Container{SubstanceID: sub.ID, Code: "LAB-1", LotCode: "S-1", Place: "Laboratoire", PlaceKind: controlled.Laboratory}
		must(t, reg.CreateContainer(qa, lab))
		enter := func(m *controlled.Movement) *controlled.Movement {
			t.Helper()
			m.SubstanceID, m.WitnessID = sub.ID, victor
			if m.ContainerID == "" {
				m.ContainerID = vault.ID
			}
			must(t, reg.EnterMovement(qa, m))
			_, err := e.sign(t, "quinn", controlled.EntityMovement, m.ID, esign.Performed)
			must(t, err)
			c, err := e.svc.Challenge(qa, esign.ChallengeRequest{Entity: controlled.EntityMovement, EntityID: m.ID, Meaning: "verified", SecondPerson: true})
			must(t, err)
			_, err = e.svc.Sign(qa, esign.SignRequest{Entity: controlled.EntityMovement, EntityID: m.ID, Meaning: "verified", Username: "victor", Password: password, Challenge: c.Challenge})
			must(t, err)
			return m
		}
		t0 := e.clock.now()
		r1 := enter(&controlled.Movement{Kind: controlled.Receipt, Quantity: 50_000, Party: "Francopia", Document: "BL-1"})

		// The vault and its reader; Quinn and Victor enter before the
		// receipt; at +3 h a sampling with nobody's entry; at +6 h both
		// open the vault for nothing.
		zone := access.Zone{Code: "VAULT", Name: "Coffre stupéfiants", Kind: access.Vault}
		must(t, acc.CreateZone(sys, &zone))
		must(t, acc.CreateReader(sys, &access.Reader{Code: "V-IN", ZoneID: zone.ID, Direction: access.In, Door: "Porte du coffre"}))
		var seq int64
		ev := func(badge string, at time.Time) access.Event {
			seq++
			return access.Event{Badge: badge, Reader: "V-IN", Seq: seq, At: at, Allow: true, Rule: access.RuleTwoPerson}
		}
		// The door lets two people in on the second badge: the first
		// waits, refused.
		wait := func(badge string, at time.Time) access.Event {
			e := ev(badge, at)
			e.Allow, e.Rule = false, access.RuleTwoPersonWait
			return e
		}
		e.clock.add(3 * time.Hour)
		enter(&controlled.Movement{Kind: controlled.Sampling, ContainerID: vault.ID, Quantity: 100, Party: "Laboratoire CQ"})
		e.clock.add(3 * time.Hour)
		machine := as(identity.Actor{UserID: "token:reader", Name: "Vault", Scopes: []string{string(identity.ScopeAccessWrite)}})
		_, err := acc.Intake(machine, []access.Event{wait("B-QUINN", t0.Add(-10*time.Minute)), ev("B-VICTOR", t0.Add(-10*time.Minute+20*time.Second)),
			wait("B-QUINN", t0.Add(6*time.Hour)), ev("B-VICTOR", t0.Add(6*time.Hour+20*time.Second))})
		must(t, err)
		e.clock.add(2 * time.Hour)
		_, err = reg.CrossCheckVault(qa)
		wantErr(t, err, errs.Forbidden, "")
		n, err := reg.CrossCheckVault(sys)
		must(t, err)
		if n != 2 {
			t.Fatalf("cross-check raised %d", n)
		}
		if n, err = reg.CrossCheckVault(sys); err != nil || n != 0 {
			t.Fatalf("cross-check raised again %d %v", n, err)
		}
		alerts, err := reg.Alerts(qa)
		must(t, err)
		kinds := map[controlled.AlertKind]string{}
		for _, a := range alerts {
			kinds[a.Kind] = a.Detail.Render(text.FR)
		}
		if !strings.Contains(kinds[controlled.AlertMovementAlone], "n° 2 ") || !strings.Contains(kinds[controlled.AlertEntryIdle], "B-QUINN, Victor Vérificateur") ||
			kinds[controlled.AlertMovementAlone] == "" {
			t.Fatalf("alerts: %v", kinds)
		}

		// A loss, discharged once by the inspector's report.
		loss := enter(&controlled.Movement{Kind: controlled.Loss, Quantity: 250, Cause: "Flacon brisé lors de la pesée"})
		_, err = reg.Discharge(qa, r1.ID, "PV-2026-14")
		wantErr(t, err, errs.Conflict, "")
		_, err = reg.Discharge(qa, loss.ID, " ")
		wantErr(t, err, errs.Invalid, "document")
		_, err = reg.Discharge(e.actor("olga"), loss.ID, "PV-2026-14")
		wantErr(t, err, errs.Forbidden, "")
		got, err := reg.Discharge(qa, loss.ID, "PV-2026-14")
		must(t, err)
		if got.DischargedAt == nil || got.Discharge != "PV-2026-14" {
			t.Fatalf("discharged: %+v", got)
		}
		_, err = reg.Discharge(qa, loss.ID, "PV-2026-15")
		wantErr(t, err, errs.Conflict, "")

		// The copy on the second medium.
		dir := t.TempDir()
		if n, err := reg.CopyRegister(sys, dir); err != nil || n != 3 {
			t.Fatalf("copied %d: %v", n, err)
		}
		if n, err := reg.CopyRegister(sys, dir); err != nil || n != 0 {
			t.Fatalf("copied again %d: %v", n, err)
		}
		enter(&controlled.Movement{Kind: controlled.Transfer, ToContainerID: lab.ID, Quantity: 1_000})
		if lines, missing, err := reg.VerifyCopy(qa, dir); err != nil || lines != 3 || missing != 1 {
			t.Fatalf("verify: %d lines, %d missing, %v", lines, missing, err)
		}
		if n, err := reg.CopyRegister(sys, dir); err != nil || n != 1 {
			t.Fatalf("copied the fourth: %d %v", n, err)
		}
		// An independent reading: JSON lines, serials 1 to 4, each hash
		// the SHA-256 of the line without it, chained.
		path := filepath.Join(dir, controlled.CopyFile)
		raw, err := os.ReadFile(path)
		must(t, err)
		prev := ""
		for i, line := range strings.Split(strings.TrimSpace(string(raw)), "\n") {
			var m map[string]any
			must(t, json.Unmarshal([]byte(line), &m))
			h := m["hash"].(string)
			delete(m, "hash")
			if m["serial"].(float64) != float64(i+1) || m["prev"] != prev {
				t.Fatalf("line %d: %v", i+1, m)
			}
			var l controlled.CopyLine
			must(t, json.Unmarshal([]byte(line), &l))
			l.Hash = ""
			b, _ := json.Marshal(l)
			sum := sha256.Sum256(b)
			if hex.EncodeToString(sum[:]) != h {
				t.Fatalf("line %d: its hash is not the SHA-256 of its content", i+1)
			}
			prev = h
		}
		if !strings.Contains(string(raw), `"kind":"loss"`) || !strings.Contains(string(raw), `"witness":"Victor Vérificateur"`) {
			t.Fatalf("the copy: %s", raw)
		}
		// Altered: found, and never extended.
		must(t, os.WriteFile(path, []byte(strings.Replace(string(raw), `"quantity":"0.250"`, `"quantity":"0.025"`, 1)), 0o640))
		_, _, err = reg.VerifyCopy(qa, dir)
		wantErr(t, err, errs.Conflict, "")
		if _, err := reg.CopyRegister(sys, dir); err == nil {
			t.Fatal("an altered copy was extended")
		}
	})
}
