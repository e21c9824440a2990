package demo

import (
	"context"
	"fmt"
	"slices"
	"time"

	"galenix/internal/access"
	"galenix/internal/controlled"
	"galenix/internal/esign"
	"galenix/internal/identity"
	"galenix/internal/production"
	"galenix/internal/qualification"
	"galenix/internal/store"
)

// The demo's controlled-substance register: Alpha's morphine and Gamma's
// progesterone, each in the narcotics vault of Bâtiment 70 and in a locked
// cabinet where its product is made, the morphine also in the
// laboratory's; a year of movements on a fixed schedule, each entered at
// the time of the operation by one person and signed by them and a
// witness: the supplier's deliveries, each sampled for its reception
// control; the laboratory's monthly supply and its weekly analyses; one
// destruction of the laboratory's residues; one entry set right by a
// correction; a loss discharged by the inspector's report months ago, and
// one of the last month awaiting it; the campaign's stock taken to
// production twelve days ago and the dispensings of the batches that have
// begun. The products' batches only began this week (their masters took
// effect two months ago): the months before hold no dispensing, the stock
// being built up for the campaign. The inventory of the previous week
// finds the morphine vault 0.150 g short (a deviation, an alert); each
// month's balance is recorded as it ends; the vault, opened this week by
// two people for no movement, is raised by the cross-check.

// regSubstance is a substance of the demo's register: its material's
// code, the supplier's and its delivery notes' prefix, its production
// cabinet and the supervisor of its client's batches, who opens the vault
// with the pharmacist; whether the laboratory keeps some; its quantities:
// a delivery, its reception sample, the stock taken to production.
type regSubstance struct {
	material string
	controlled.Substance
	supplier, notes, cabinet, supervisor string
	lab                                  bool
	receipt, sample, stock               controlled.Qty
	// every is how many months apart its deliveries come, day how many
	// days into the month, hour at what hour of the day.
	every, day, hour int
}

// grams is a quantity in grams: the demo's substances are counted in grams.
func grams(v float64) controlled.Qty { return controlled.Qty(v*controlled.QtyScale + 0.5) }

// regSubstances are the register's substances: the morphine of Alpha's
// ampoules, delivered every other month, and the progesterone of Gamma's
// capsules, every month.
var regSubstances = []regSubstance{
	{material: "MP-MORPH", Substance: controlled.Substance{Code: "MORPHINE", Name: "Chlorhydrate de morphine trihydraté", Class: controlled.Narcotic, Unit: "g"},
		supplier: "Francopia", notes: "FRA", cabinet: "Armoire sécurisée, Bâtiment 30", supervisor: "supervisor", lab: true,
		receipt: grams(1500), sample: grams(5), stock: grams(2520), every: 2, day: 2, hour: 9},
	{material: "MP-PROG", Substance: controlled.Substance{Code: "PROGESTERONE", Name: "Progestérone micronisée", Class: controlled.Hormone, Unit: "g"},
		supplier: "Sanofi Chimie", notes: "SCV", cabinet: "Armoire sécurisée, Bâtiment 40", supervisor: "supervisor2",
		receipt: grams(50000), sample: grams(20), stock: grams(160000), every: 1, day: 4, hour: 11},
}

// The places of the containers.
const (
	regVault = "Coffre stupéfiants, Bâtiment 70"
	regLab   = "Laboratoire de contrôle qualité"
	regLabAt = "Armoire sécurisée du laboratoire de contrôle qualité, Bâtiment 25"
)

// The texts of the register's particular movements.
const (
	regOldLoss = "Sachet intérieur fendu constaté à l'ouverture du fût du %s : poudre répandue dans le coffre, non récupérable. " +
		"Perte déclarée à l'ANSM et à l'ARS."
	regNewLoss = "Flacon de solution mère brisé lors de la préparation d'une gamme d'étalonnage ; résidus neutralisés et conservés pour destruction. " +
		"Perte déclarée à l'ANSM et à l'ARS."
	regCorrection = "Prélèvement de réception du %s saisi à 50,000 g au lieu de 5,000 g (bulletin d'analyse %s) : 45,000 g réintégrés au coffre."
	regShort      = "Inventaire contradictoire par pesée (balance BAL-03 vérifiée le jour même) : 0,150 g manquants au coffre. Recherche de l'écart en cours."
	regCounted    = "Inventaire contradictoire par pesée : conforme au registre."
	regContractor = "Sarp Industries, Limay"
)

// regOp is a step of the register's year, at its time.
type regOp struct {
	at time.Time
	do func() error
}

// regMove is a movement to enter: its containers by code, who performs and
// who witnesses it (usernames); key names it for a later correction or
// discharge, corrects the one it corrects.
type regMove struct {
	controlled.Movement
	from, to, by, witness, key, corrects string
}

// registerDemo writes the register.
type registerDemo struct {
	*loader
	reg       *store.ControlledStore
	midnight  time.Time
	ops       []regOp
	actors    map[string]identity.Actor
	container map[string]*controlled.Container // by code
	entered   map[string]*controlled.Movement  // by key
}

// controlledDemo writes the register's substances, containers and year of
// movements, the inventory, the month's balances, and the vault's opening
// the cross-check raises.
func (l *loader) controlledDemo() error {
	defer l.h.Backdate(l.began)
	local := l.began.In(l.zone)
	r := &registerDemo{loader: l, reg: l.db.Controlled(), midnight: time.Date(local.Year(), local.Month(), local.Day(), 0, 0, 0, 0, l.zone),
		actors: map[string]identity.Actor{}, container: map[string]*controlled.Container{}, entered: map[string]*controlled.Movement{}}
	for _, u := range []string{"qa", "qp", "supervisor", "supervisor2"} {
		a, err := l.person(u)
		if err != nil {
			return err
		}
		r.actors[u] = a
	}
	if err := r.habilitate(); err != nil {
		return err
	}
	// The establishment's authorisation, which the register's first page
	// prints, set by the responsible pharmacist when the register opened.
	if err := l.h.Backdate(r.on(-400, 9, 0)); err != nil {
		return err
	}
	if err := r.reg.SetEstablishment(l.h.As(l.ctx, r.actors["qp"]), &controlled.Establishment{Authorisation: "ANSM n° 2025-EP-0178",
		AuthorisedOn: "2025-03-14", Pharmacist: "Hélène Rousseau, pharmacien responsable"}, ""); err != nil {
		return err
	}
	for i := range regSubstances {
		if err := r.substance(&regSubstances[i]); err != nil {
			return err
		}
	}
	r.inventory()
	r.months()
	slices.SortStableFunc(r.ops, func(a, b regOp) int { return a.at.Compare(b.at) })
	for _, op := range r.ops {
		if err := op.do(); err != nil {
			return err
		}
	}
	// The month just ended, if the load comes within its ten minutes.
	if err := l.h.Backdate(l.began); err != nil {
		return err
	}
	if _, err := r.reg.RecordMonths(l.ctx); err != nil {
		return err
	}
	// Three days ago (the Friday before, on a weekend), the supervisor and
	// the pharmacist opened the vault and moved nothing.
	if err := r.vaultOpening(r.on(-3, 11, 5)); err != nil {
		return err
	}
	_, err := r.reg.CrossCheckVault(l.ctx)
	return err
}

// on is a time of the site's day n days from today, moved back to the
// Friday before when it falls on a weekend: the register's work is the
// week's.
func (r *registerDemo) on(n, hour, minute int) time.Time {
	t := time.Date(r.midnight.Year(), r.midnight.Month(), r.midnight.Day()+n, hour, minute, 0, 0, r.zone)
	switch t.Weekday() {
	case time.Saturday:
		t = t.AddDate(0, 0, -1)
	case time.Sunday:
		t = t.AddDate(0, 0, -2)
	}
	return t.UTC()
}

// as is the context of a person of the register.
func (r *registerDemo) as(username string) context.Context { return r.h.As(r.ctx, r.actors[username]) }

// habilitate grants the people who open the vault, the supervisors and
// the pharmacist, their narcotics qualification, recorded and granted by
// quality assurance thirteen months ago: the vault's door asks for it.
func (r *registerDemo) habilitate() error {
	qa := signer{id: r.actors["qa"].UserID, name: r.actors["qa"].Name}
	from := r.midnight.AddDate(0, -13, 0).Add(10 * time.Hour)
	for _, u := range []string{"supervisor", "supervisor2", "qp"} {
		if err := r.grant(r.as("qa"), qa, r.actors[u].UserID, qualification.Qualification{Kind: qualification.Narcotics, GrantedAt: from,
			ValidUntil: from.AddDate(2, 0, 0), Evidence: "Formation à la réglementation des stupéfiants (R.5132-74 et suivants) et aux procédures du coffre"}); err != nil {
			return err
		}
	}
	return nil
}

// substance records a substance and its containers a year and some days
// ago, and plans its year of movements.
func (r *registerDemo) substance(s *regSubstance) error {
	if err := r.h.Backdate(r.on(-366, 9, 0)); err != nil {
		return err
	}
	sub := s.Substance
	var err error
	if sub.MaterialID, err = r.id(s.material); err != nil {
		return err
	}
	client := "ALPHA" // the client of the product made of it; Alpha, whose ampoules are the morphine's, if none
	for _, p := range productSpecs {
		if p.api.material == s.material {
			client = p.client
		}
	}
	if sub.ClientID, err = r.id(client); err != nil {
		return err
	}
	if err := r.reg.CreateSubstance(r.as("qp"), &sub); err != nil {
		return fmt.Errorf("substance %s: %w", sub.Code, err)
	}
	// Each container holds the material's released lot, the one the
	// batches take: a material addition dispenses from its cabinet.
	lots, err := r.prod.Lots(r.ctx, production.LotFilter{MaterialID: sub.MaterialID, Status: production.LotReleased})
	if err != nil {
		return err
	}
	if len(lots) == 0 {
		return fmt.Errorf("no released lot of %s", s.material)
	}
	lot := lots[0]
	places := []controlled.Container{{Code: "COF-" + sub.Code, Place: regVault, PlaceKind: controlled.Vault},
		{Code: "PROD-" + sub.Code, Place: s.cabinet, PlaceKind: controlled.Production}}
	if s.lab {
		places = append(places, controlled.Container{Code: "LAB-" + sub.Code, Place: regLabAt, PlaceKind: controlled.Laboratory})
	}
	for i := range places {
		c := &places[i]
		c.SubstanceID, c.LotID = sub.ID, lot.ID
		if err := r.reg.CreateContainer(r.as("qp"), c); err != nil {
			return fmt.Errorf("container %s: %w", c.Code, err)
		}
		r.container[c.Code] = c
	}
	r.year(s, &sub)
	return r.dispensings(s, &sub, &lot)
}

// year plans a substance's twelve months, from 360 days ago to
// yesterday, one month a cycle of thirty days: the deliveries, each
// sampled the next day; for the morphine, the laboratory's monthly supply
// and four analyses a month, a loss at a delivery seven months ago,
// discharged six weeks later, a reception sample entered wrong and set
// right the next day, the laboratory's residues destroyed, and a loss of
// the last month; then the stock of the campaign taken to production.
func (r *registerDemo) year(s *regSubstance, sub *controlled.Substance) {
	vault, prod, lab := "COF-"+sub.Code, "PROD-"+sub.Code, "LAB-"+sub.Code
	who := s.supervisor
	for k := range 12 {
		start := -360 + 30*k
		if k%s.every == 0 {
			at := r.on(start+s.day, s.hour, 40)
			note := fmt.Sprintf("BL-%s-%s-%03d", s.notes, at.In(r.zone).Format("0601"), 410+13*k)
			r.move(regMove{Movement: controlled.Movement{At: at, Kind: controlled.Receipt, Quantity: s.receipt, Party: s.supplier, Document: note},
				from: vault, by: who, witness: "qp"})
			if s.lab && k == 4 {
				r.move(regMove{Movement: controlled.Movement{At: r.on(start+s.day, s.hour+1, 20), Kind: controlled.Loss, Quantity: grams(2.5),
					Cause: fmt.Sprintf(regOldLoss, note)}, from: vault, by: who, witness: "qp", key: "old-loss"})
				r.discharge("old-loss", r.on(start+s.day+45, 10, 0))
			}
			at = r.on(start+s.day+1, s.hour+1, 15)
			m := regMove{Movement: controlled.Movement{At: at, Kind: controlled.Sampling, Quantity: s.sample, Party: regLab, Document: r.request(at, sub.Code)},
				from: vault, by: who, witness: "qp"}
			if s.lab && k == 6 {
				m.Quantity, m.key = 10*s.sample, "wrong"
				r.move(m)
				r.move(regMove{Movement: controlled.Movement{At: r.on(start+s.day+2, s.hour+2, 0), Kind: controlled.Correction, Quantity: 9 * s.sample,
					Increase: true, Cause: fmt.Sprintf(regCorrection, note, m.Document)}, from: vault, by: who, witness: "qp", corrects: "wrong"})
			} else {
				r.move(m)
			}
		}
		if !s.lab {
			continue
		}
		r.move(regMove{Movement: controlled.Movement{At: r.on(start+5, 11, 10), Kind: controlled.Transfer, Quantity: grams(6)},
			from: vault, to: lab, by: who, witness: "qp"})
		for i, q := range []float64{0.8, 1.1, 0.95, 1.25} {
			at := r.on(start+8+6*i, 9, 20)
			r.move(regMove{Movement: controlled.Movement{At: at, Kind: controlled.Sampling, Quantity: grams(q), Party: regLab, Document: r.request(at, sub.Code)},
				from: lab, by: "qa", witness: "qp"})
		}
		switch k {
		case 8:
			at := r.on(start+24, 14, 30)
			r.move(regMove{Movement: controlled.Movement{At: at, Kind: controlled.Destruction, Quantity: grams(10), Party: regContractor,
				Document: fmt.Sprintf("CD-%d-%04d", at.In(r.zone).Year(), 31)}, from: lab, by: "qp", witness: "qa"})
		case 11:
			r.move(regMove{Movement: controlled.Movement{At: r.on(start+14, 11, 30), Kind: controlled.Loss, Quantity: grams(1.2), Cause: regNewLoss},
				from: lab, by: "qa", witness: "qp"})
		}
	}
	r.move(regMove{Movement: controlled.Movement{At: r.on(-12, s.hour-1, 30), Kind: controlled.Transfer, Quantity: s.stock},
		from: vault, to: prod, by: who, witness: "qp"})
}

// request is the laboratory's analysis request for a sample of the day.
func (r *registerDemo) request(at time.Time, code string) string {
	return "DA-" + at.In(r.zone).Format("060102") + "-" + code[:3]
}

// dispensings plans the dispensing of each addition of the substance's lot
// to a batch of the demo, at its time, from the production cabinet: the
// batches recorded their additions before the register's substances were
// written (production is loaded first), so their supervisor enters each
// dispensing, quality assurance witnessing.
func (r *registerDemo) dispensings(s *regSubstance, sub *controlled.Substance, lot *production.Lot) error {
	uses, err := r.prod.LotUses(r.ctx, lot.ID)
	if err != nil {
		return err
	}
	for _, u := range uses {
		q, err := controlled.Convert(u.Quantity, u.Unit, sub.Unit)
		if err != nil {
			return fmt.Errorf("the addition to %s: %w", u.BatchLot, err)
		}
		r.move(regMove{Movement: controlled.Movement{At: u.At.Add(3 * time.Minute).Truncate(time.Minute), Kind: controlled.Dispensing, Quantity: q,
			Party: u.BatchLot, BatchID: u.BatchID}, from: "PROD-" + sub.Code, by: s.supervisor, witness: "qa"})
	}
	return nil
}

// move plans a movement: entered a minute after its operation, signed
// performed a minute later, then verified by its witness, which
// validates it.
func (r *registerDemo) move(mv regMove) {
	r.ops = append(r.ops, regOp{at: mv.At, do: func() error {
		m := mv.Movement
		c := r.container[mv.from]
		m.SubstanceID, m.ContainerID, m.WitnessID = c.SubstanceID, c.ID, r.actors[mv.witness].UserID
		if mv.to != "" {
			m.ToContainerID = r.container[mv.to].ID
		}
		if mv.corrects != "" {
			m.Corrects = r.entered[mv.corrects].Serial
		}
		what := fmt.Sprintf("%s of %s %s on %s", m.Kind, m.Quantity, mv.from, m.At.Format(time.DateTime))
		if err := r.h.Backdate(m.At.Add(time.Minute)); err != nil {
			return err
		}
		if err := r.reg.EnterMovement(r.as(mv.by), &m); err != nil {
			return fmt.Errorf("register %s: %w", what, err)
		}
		for i, s := range []struct {
			who     string
			meaning esign.Meaning
		}{{mv.by, esign.Performed}, {mv.witness, esign.Verified}} {
			if err := r.h.Backdate(m.At.Add(time.Duration(2+i) * time.Minute)); err != nil {
				return err
			}
			a := r.actors[s.who]
			if err := r.h.SignRecord(controlled.EntityMovement, m.ID, s.meaning, a.UserID, a.Name, ""); err != nil {
				return fmt.Errorf("register %s, signature %s: %w", what, s.meaning, err)
			}
		}
		if mv.key != "" {
			got, err := r.reg.Movement(r.ctx, m.ID)
			if err != nil {
				return err
			}
			r.entered[mv.key] = got
		}
		return nil
	}})
}

// discharge plans the inspector's discharge of a loss, recorded by the
// pharmacist.
func (r *registerDemo) discharge(key string, at time.Time) {
	r.ops = append(r.ops, regOp{at: at, do: func() error {
		if err := r.h.Backdate(at); err != nil {
			return err
		}
		_, err := r.reg.Discharge(r.as("qp"), r.entered[key].ID, fmt.Sprintf("PV-ARS-%d-%04d", at.In(r.zone).Year(), 147))
		return err
	}})
}

// months plans galenix's recording of each month's balance, ten minutes
// after it ends.
func (r *registerDemo) months() {
	first := r.midnight.AddDate(0, 0, -366)
	for t := time.Date(first.Year(), first.Month()+1, 1, 0, 10, 0, 0, r.zone); t.Before(r.began); t = t.AddDate(0, 1, 0) {
		r.ops = append(r.ops, regOp{at: t, do: func() error {
			if err := r.h.Backdate(t); err != nil {
				return err
			}
			_, err := r.reg.RecordMonths(r.ctx)
			return err
		}})
	}
}

// inventory plans the physical inventory of every container, by the
// pharmacist, the previous week, after the vault's last movement: each as
// the register holds it but the morphine vault, 0.150 g short.
func (r *registerDemo) inventory() {
	at := r.on(-9, 15, 0)
	r.ops = append(r.ops, regOp{at: at, do: func() error {
		codes := []string{}
		for code := range r.container {
			codes = append(codes, code)
		}
		slices.Sort(codes)
		for i, code := range codes {
			if err := r.h.Backdate(at.Add(time.Duration(i*12) * time.Minute)); err != nil {
				return err
			}
			cs, err := r.reg.Containers(r.ctx, r.container[code].SubstanceID)
			if err != nil {
				return err
			}
			j := slices.IndexFunc(cs, func(c controlled.Container) bool { return c.Code == code })
			n := &controlled.Count{ContainerID: cs[j].ID, Counted: cs[j].Balance, Note: regCounted}
			if code == "COF-MORPHINE" {
				n.Counted, n.Note = cs[j].Balance-grams(0.15), regShort
			}
			if err := r.reg.Count(r.as("qp"), n); err != nil {
				return fmt.Errorf("inventory of %s: %w", code, err)
			}
		}
		return nil
	}})
}

// vaultOpening has the supervisor and the pharmacist open the vault at a
// time, its door deciding by its own logic (the first badge waits for the
// second), and leave it twelve minutes later, with no movement: the
// events reach galenix as the door delivers them.
func (r *registerDemo) vaultOpening(at time.Time) error {
	d, policy, err := r.device()
	if err != nil {
		return err
	}
	i := slices.IndexFunc(zonesOf, func(z demoZone) bool { return z.zone.Kind == access.Vault })
	reader := "R-" + zonesOf[i].zone.Code[2:]
	first, second := r.badgeOf(policy, r.actors["supervisor"].UserID), r.badgeOf(policy, r.actors["qp"].UserID)
	d.Swipe(reader+"-in", first, at)
	if ev := d.Swipe(reader+"-in", second, at.Add(15*time.Second)); !ev.Allow {
		return fmt.Errorf("the vault's door refused the second badge: %s", ev.Rule)
	}
	d.Swipe(reader+"-out", second, at.Add(12*time.Minute))
	d.Swipe(reader+"-out", first, at.Add(12*time.Minute+20*time.Second))
	if err := r.h.Backdate(at.Add(13 * time.Minute)); err != nil {
		return err
	}
	res, err := r.db.Access().Intake(r.ctx, d.Pending())
	if err != nil {
		return err
	}
	if res.Refused > 0 {
		return fmt.Errorf("the vault's opening: %d events refused", res.Refused)
	}
	return r.h.Backdate(r.began)
}
