package demo

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strconv"
	"time"

	"galenix/internal/esign"
	"galenix/internal/identity"
	"galenix/internal/production"
	"galenix/internal/site"
	"galenix/internal/store"
)

// productSpec is a demo product: the product, the client that owns it (by
// code) and the formula its master batch record is generated from.
type productSpec struct {
	client string
	production.Product
	formula
}

// The units of the demo batches.
const (
	unitAmpoules = "ampoules"
	unitVials    = "flacons"
	unitSyringes = "seringues"
	unitTablets  = "comprimés"
	unitCapsules = "gélules"
	unitTubes    = "tubes"
)

// productSpecs are the three clients' products: every galenic form of the
// site, some of a special class.
var productSpecs = []productSpec{
	{"ALPHA", production.Product{Code: "ALP-ONDA-AMP", Name: "Ondansétron Alpha 4 mg/2 mL, solution injectable", Form: site.FormAmpoule,
		Strength: "4 mg/2 mL", Presentation: "Boîte de 5 ampoules de 2 mL", Storage: "15–25 °C, à l'abri de la lumière", ShelfLifeMonths: 36},
		formula{size: 60000, unit: unitAmpoules, hours: 22, api: dose{"MP-ONDA", 0.313},
			excipients: []dose{{"EX-NACL", 1.125}, {"EX-CITR", 0.063}, {"EX-CITNA", 0.031}}, solvent: dose{"EX-EPPI", 125},
			primary: []dose{{"AC-AMP2", 61500}}, printed: []dose{{"AC-ETUI", 12000}, {"AC-NOTI", 12000}},
			ph: rng{3.6, 3.3, 4.0}, fill: rng{2.08, 2.03, 2.15}, ipc: 14}},
	{"ALPHA", production.Product{Code: "ALP-MORPH-AMP", Name: "Morphine Alpha 10 mg/mL, solution injectable", Form: site.FormAmpoule,
		Strength: "10 mg/1 mL", Presentation: "Boîte de 10 ampoules de 1 mL", SpecialClass: production.ClassNarcotic, Storage: "15–25 °C, coffre des stupéfiants", ShelfLifeMonths: 36},
		formula{size: 40000, unit: unitAmpoules, hours: 20, api: dose{"MP-MORPH", 0.42},
			excipients: []dose{{"EX-NACL", 0.336}}, solvent: dose{"EX-EPPI", 42},
			primary: []dose{{"AC-AMP1", 41000}}, printed: []dose{{"AC-ETUI", 4000}, {"AC-NOTI", 4000}},
			ph: rng{4.5, 3.5, 5.5}, fill: rng{1.05, 1.02, 1.10}, ipc: 12}},
	{"ALPHA", production.Product{Code: "ALP-ENOX-SER", Name: "Énoxaparine Alpha 4 000 UI/0,4 mL, solution injectable en seringue préremplie", Form: site.FormSyringe,
		Strength: "4 000 UI (40 mg)/0,4 mL", Presentation: "Boîte de 10 seringues préremplies", Storage: "≤ 25 °C", ShelfLifeMonths: 36},
		formula{size: 50000, unit: unitSyringes, hours: 26, api: dose{"MP-ENOX", 2.1}, solvent: dose{"EX-EPPI", 21},
			primary: []dose{{"AC-SER", 51000}, {"AC-PIST", 51000}, {"AC-TIGE", 51000}}, printed: []dose{{"AC-ETUI", 5000}, {"AC-NOTI", 5000}},
			ph: rng{6.8, 6.2, 7.5}, fill: rng{0.42, 0.41, 0.44}, ipc: 14}},
	{"ALPHA", production.Product{Code: "ALP-PARA-CP", Name: "Paracétamol Alpha 500 mg, comprimé pelliculé", Form: site.FormTablet,
		Strength: "500 mg", Presentation: "Boîte de 16 comprimés sous plaquettes", Storage: "≤ 25 °C", ShelfLifeMonths: 36},
		formula{size: 1200000, unit: unitTablets, hours: 30, api: dose{"MP-PARA", 600},
			excipients: []dose{{"EX-AMID", 60}, {"EX-POVI", 18}, {"EX-CROS", 21}, {"EX-SILI", 1.2}, {"EX-MGST", 3.6}}, solvent: dose{"EX-EAUP", 90},
			primary: []dose{{"EX-OPAD", 21}, {"AC-PVC", 3100}, {"AC-ALU", 2900}}, printed: []dose{{"AC-ETUI", 75000}, {"AC-NOTI", 75000}},
			fill: rng{585, 565, 605}, ipc: 12, wet: true}},
	{"ALPHA", production.Product{Code: "ALP-AMOX-GEL", Name: "Amoxicilline Alpha 500 mg, gélule", Form: site.FormCapsule,
		Strength: "500 mg", Presentation: "Boîte de 12 gélules sous plaquettes", Storage: "≤ 25 °C", ShelfLifeMonths: 36},
		formula{size: 600000, unit: unitCapsules, hours: 24, api: dose{"MP-AMOX", 344},
			excipients: []dose{{"EX-SILI", 1.2}, {"EX-MGST", 3}},
			primary:    []dose{{"AC-GEL0", 612000}, {"AC-PVC", 2100}, {"AC-ALU", 2000}}, printed: []dose{{"AC-ETUI", 50000}, {"AC-NOTI", 50000}},
			fill: rng{580, 555, 605}, ipc: 10}},
	{"ALPHA", production.Product{Code: "ALP-IBU-SIR", Name: "Ibuprofène Alpha 20 mg/mL, suspension buvable", Form: site.FormSyrup,
		Strength: "20 mg/mL", Presentation: "Flacon de 150 mL avec seringue doseuse", Storage: "≤ 25 °C", ShelfLifeMonths: 36},
		formula{size: 20000, unit: unitVials, hours: 20, api: dose{"MP-IBU", 60},
			excipients: []dose{{"EX-SORB", 900}, {"EX-GLYC", 300}, {"EX-XANT", 6}, {"EX-PARAB", 3}, {"EX-CITR", 3}, {"EX-AROM", 1.5}}, solvent: dose{"EX-EAUP", 3000},
			primary: []dose{{"AC-FLA150", 20400}, {"AC-BVIS", 20400}}, printed: []dose{{"AC-ETUI", 20000}, {"AC-NOTI", 20000}, {"AC-ETIQ", 20400}},
			ph: rng{5.0, 4.5, 5.5}, fill: rng{150.5, 149, 153}, ipc: 8}},

	{"BETA", production.Product{Code: "BET-ADAL-SER", Name: "Adalimumab Beta 40 mg/0,4 mL, solution injectable en seringue préremplie", Form: site.FormSyringe,
		Strength: "40 mg/0,4 mL", Presentation: "Boîte de 2 seringues préremplies", SpecialClass: production.ClassBiologic, Storage: "2–8 °C, à l'abri de la lumière", ShelfLifeMonths: 24},
		formula{size: 30000, unit: unitSyringes, hours: 30, api: dose{"MP-ADAL", 12},
			excipients: []dose{{"EX-MANN", 0.5}, {"EX-PS80", 0.013}}, solvent: dose{"EX-EPPI", 1},
			primary: []dose{{"AC-SER", 30600}, {"AC-PIST", 30600}, {"AC-TIGE", 30600}}, printed: []dose{{"AC-ETUI", 15000}, {"AC-NOTI", 15000}},
			ph: rng{5.2, 4.9, 5.5}, fill: rng{0.42, 0.41, 0.44}, ipc: 12}},
	{"BETA", production.Product{Code: "BET-INSU-FL", Name: "Insuline glargine Beta 100 U/mL, solution injectable en flacon", Form: site.FormVial,
		Strength: "100 U/mL", Presentation: "Flacon de 10 mL", SpecialClass: production.ClassBiologic, Storage: "2–8 °C, ne pas congeler", ShelfLifeMonths: 24},
		formula{size: 25000, unit: unitVials, hours: 30, api: dose{"MP-INSU", 920},
			excipients: []dose{{"EX-MCRE", 0.68}, {"EX-GLYC", 4.3}}, solvent: dose{"EX-EPPI", 252},
			primary: []dose{{"AC-FL10", 25800}, {"AC-BOU20", 25800}, {"AC-CAP20", 25800}}, printed: []dose{{"AC-ETUI", 25000}, {"AC-NOTI", 25000}, {"AC-ETIQ", 25500}},
			ph: rng{4.0, 3.8, 4.2}, fill: rng{10.2, 10.1, 10.4}, ipc: 12}},
	{"BETA", production.Product{Code: "BET-RITU-FL", Name: "Rituximab Beta 500 mg/50 mL, solution à diluer pour perfusion", Form: site.FormVial,
		Strength: "500 mg/50 mL", Presentation: "Flacon de 50 mL", SpecialClass: production.ClassBiologic, Storage: "2–8 °C", ShelfLifeMonths: 24},
		formula{size: 4000, unit: unitVials, hours: 36, api: dose{"MP-RITU", 82},
			excipients: []dose{{"EX-CITNA", 1.5}, {"EX-NACL", 1.8}, {"EX-PS80", 0.15}}, solvent: dose{"EX-EPPI", 125},
			primary: []dose{{"AC-FL50", 4100}, {"AC-BOU20", 4100}, {"AC-CAP20", 4100}}, printed: []dose{{"AC-ETUI", 4000}, {"AC-NOTI", 4000}, {"AC-ETIQ", 4050}},
			ph: rng{6.5, 6.2, 6.8}, fill: rng{50.5, 50.2, 51.0}, ipc: 14}},
	{"BETA", production.Product{Code: "BET-SACB-GEL", Name: "Saccharomyces boulardii Beta 250 mg, gélule", Form: site.FormCapsule,
		Strength: "250 mg", Presentation: "Boîte de 20 gélules sous plaquettes", Storage: "≤ 25 °C", ShelfLifeMonths: 36},
		formula{size: 500000, unit: unitCapsules, hours: 20, api: dose{"MP-SACB", 125},
			excipients: []dose{{"EX-LACT", 30}, {"EX-MGST", 1.5}},
			primary:    []dose{{"AC-GEL1", 510000}, {"AC-PVC", 1700}, {"AC-ALU", 1600}}, printed: []dose{{"AC-ETUI", 25000}, {"AC-NOTI", 25000}},
			fill: rng{315, 300, 330}, ipc: 8}},
	{"BETA", production.Product{Code: "BET-VITD-GTT", Name: "Cholécalciférol Beta 10 000 UI/mL, solution buvable en gouttes", Form: site.FormDrops,
		Strength: "10 000 UI/mL", Presentation: "Flacon de 30 mL avec compte-gouttes", Storage: "≤ 25 °C, à l'abri de la lumière", ShelfLifeMonths: 36},
		formula{size: 30000, unit: unitVials, hours: 16, api: dose{"MP-VITD", 1}, solvent: dose{"EX-TCM", 930},
			primary: []dose{{"AC-FLA30", 30600}, {"AC-CPTG", 30600}, {"AC-BVIS", 30600}}, printed: []dose{{"AC-ETUI", 30000}, {"AC-NOTI", 30000}, {"AC-ETIQ", 30600}},
			fill: rng{30.3, 30.0, 31.0}, ipc: 6}},

	{"GAMMA", production.Product{Code: "GAM-LEVO-CP", Name: "Lévothyroxine Gamma 100 µg, comprimé pelliculé", Form: site.FormTablet,
		Strength: "100 µg", Presentation: "Boîte de 30 comprimés sous plaquettes", SpecialClass: production.ClassHormone, Storage: "≤ 25 °C, à l'abri de la lumière", ShelfLifeMonths: 36},
		formula{size: 2000000, unit: unitTablets, hours: 28, api: dose{"MP-LEVO", 212},
			excipients: []dose{{"EX-MCC", 140}, {"EX-AMID", 50}, {"EX-CROS", 6}, {"EX-MGST", 1}},
			primary:    []dose{{"EX-OPAD", 6}, {"AC-PVC", 2300}, {"AC-ALU", 2200}}, printed: []dose{{"AC-ETUI", 66700}, {"AC-NOTI", 66700}},
			fill: rng{100, 95, 105}, ipc: 10}},
	{"GAMMA", production.Product{Code: "GAM-PROG-GEL", Name: "Progestérone Gamma 100 mg, gélule", Form: site.FormCapsule,
		Strength: "100 mg", Presentation: "Boîte de 30 gélules sous plaquettes", SpecialClass: production.ClassHormone, Storage: "≤ 25 °C", ShelfLifeMonths: 36},
		formula{size: 400000, unit: unitCapsules, hours: 22, api: dose{"MP-PROG", 40},
			excipients: []dose{{"EX-LACT", 60}, {"EX-TALC", 1}, {"EX-MGST", 1}},
			primary:    []dose{{"AC-GEL1", 408000}, {"AC-PVC", 1400}, {"AC-ALU", 1300}}, printed: []dose{{"AC-ETUI", 13400}, {"AC-NOTI", 13400}},
			fill: rng{255, 243, 267}, ipc: 8}},
	{"GAMMA", production.Product{Code: "GAM-METH-SIR", Name: "Méthadone Gamma 1 mg/mL, sirop", Form: site.FormSyrup,
		Strength: "1 mg/mL", Presentation: "Flacon de 150 mL", SpecialClass: production.ClassNarcotic, Storage: "≤ 25 °C, coffre des stupéfiants", ShelfLifeMonths: 36},
		formula{size: 12000, unit: unitVials, hours: 18, api: dose{"MP-METH", 1.85},
			excipients: []dose{{"EX-SACC", 1500}, {"EX-PARAB", 1.8}, {"EX-CITR", 2}, {"EX-AROM", 1}}, solvent: dose{"EX-EAUP", 1800},
			primary: []dose{{"AC-FLA150", 12300}, {"AC-BVIS", 12300}}, printed: []dose{{"AC-ETUI", 12000}, {"AC-NOTI", 12000}, {"AC-ETIQ", 12300}},
			ph: rng{4.0, 3.5, 4.5}, fill: rng{150.5, 149, 153}, ipc: 6}},
	{"GAMMA", production.Product{Code: "GAM-PERM-LOT", Name: "Perméthrine Gamma 1 %, lotion", Form: site.FormLotion,
		Strength: "1 %", Presentation: "Flacon de 100 mL", Storage: "≤ 25 °C", ShelfLifeMonths: 36},
		formula{size: 25000, unit: unitVials, hours: 16, api: dose{"MP-PERM", 25.5},
			excipients: []dose{{"EX-ETOH", 250}, {"EX-GLYC", 75}, {"EX-CARB", 6}, {"EX-TEA", 6}}, solvent: dose{"EX-EAUP", 2200},
			primary: []dose{{"AC-PEHD", 25500}}, printed: []dose{{"AC-ETUI", 25000}, {"AC-NOTI", 25000}, {"AC-ETIQ", 25500}},
			ph: rng{6.5, 6.0, 7.0}, fill: rng{100.5, 99.5, 102}, ipc: 6}},
	{"GAMMA", production.Product{Code: "GAM-ZINC-PAT", Name: "Oxyde de zinc Gamma 10 %, pâte dermique", Form: site.FormPaste,
		Strength: "10 %", Presentation: "Tube de 50 g", Storage: "≤ 25 °C", ShelfLifeMonths: 36},
		formula{size: 20000, unit: unitTubes, hours: 14, api: dose{"MP-ZINC", 101},
			excipients: []dose{{"EX-LANO", 150}, {"EX-TALC", 100}}, solvent: dose{"EX-VASE", 660},
			primary: []dose{{"AC-TUBE", 20400}}, printed: []dose{{"AC-ETUI", 20000}, {"AC-NOTI", 20000}},
			fill: rng{50.5, 50, 52}, ipc: 6}},
	{"GAMMA", production.Product{Code: "GAM-DEXA-FL", Name: "Dexaméthasone Gamma 4 mg/mL, solution injectable", Form: site.FormVial,
		Strength: "4 mg/mL", Presentation: "Boîte de 10 flacons de 1 mL", Storage: "≤ 25 °C, à l'abri de la lumière", ShelfLifeMonths: 36},
		formula{size: 80000, unit: unitVials, hours: 26, api: dose{"MP-DEXA", 440},
			excipients: []dose{{"EX-CITNA", 0.5}, {"EX-NACL", 0.6}}, solvent: dose{"EX-EPPI", 100},
			primary: []dose{{"AC-FL2", 81600}, {"AC-BOU13", 81600}, {"AC-CAP13", 81600}}, printed: []dose{{"AC-ETUI", 8000}, {"AC-NOTI", 8000}, {"AC-ETIQ", 81000}},
			ph: rng{7.5, 7.0, 8.5}, fill: rng{1.10, 1.07, 1.15}, ipc: 12}},
}

// revised is the product whose master was revised: its batches of the last
// weeks keep version 1, now superseded; new orders take version 2. drafts
// are the masters whose next version is under way.
const revised = "ALP-PARA-CP"

var drafts = map[string]production.MasterStatus{"GAM-ZINC-PAT": production.MasterDraft, "BET-VITD-GTT": production.MasterInReview}

// horizon is how far ahead the lines are scheduled.
const horizon = 21 * 24 * time.Hour

// factory holds what the production stage has written so far.
type factory struct {
	*loader
	// now is the load's clock; the stage moves the transaction's clock back (Backdate) to date the
	// batches of the past, and puts it back after.
	now time.Time
	// lotOf is the lot a material addition takes, by material id.
	lotOf    map[string]string
	products []*demoProduct
	lines    []demoLine
	// windows, last and free are by line code: the maintenance windows,
	// the last batch placed and when the line is free from.
	windows map[string][]production.Window
	last    map[string]production.Slot
	free    map[string]time.Time
	// operators perform the steps (and sign them performed),
	// supervisors verify the critical ones: the demo's people, each for
	// the clients they are assigned to.
	operators, supervisors []crew
	// qa reviews and approves the masters.
	qa signer
}

// crew is a person of the floor: the actor the steps are recorded as, in
// the load (store.History.As).
type crew struct {
	act identity.Actor
	ctx context.Context
}

// crewFor is the first of people assigned to the client.
func crewFor(people []crew, clientID string) (*crew, error) {
	for i := range people {
		if slices.Contains(people[i].act.Assigned, clientID) {
			return &people[i], nil
		}
	}
	return nil, fmt.Errorf("no demo person assigned to the client %s", clientID)
}

type signer struct{ id, name string }

type demoProduct struct {
	spec   *productSpec
	p      production.Product
	master production.Master
	// executed counts its batches executed, so that the runs spread
	// over the products.
	executed int
}

// demoLine is a line as the stage sees it: its forms and its equipment.
type demoLine struct {
	id, code  string
	forms     []site.Form
	status    site.LineStatus
	equipment []site.Equipment
	used      bool // a batch was executed on it
}

// production writes the production demo: the materials and their lots, the
// clients' products and their effective master batch records, maintenance
// windows, batches executed in the last days (in review, completed, in
// progress, released to the floor), and a schedule filling the lines for
// the coming weeks.
func (l *loader) production() error {
	p := &factory{loader: l, now: l.h.Now(), lotOf: map[string]string{}, windows: map[string][]production.Window{},
		last: map[string]production.Slot{}, free: map[string]time.Time{}}
	defer func() { l.h.Backdate(p.now) }()
	for _, a := range accounts {
		act, err := l.person(a.username)
		if err != nil {
			return err
		}
		switch a.role {
		case identity.RoleOperator:
			p.operators = append(p.operators, crew{act: act, ctx: l.h.As(l.ctx, act)})
		case identity.RoleSupervisor:
			p.supervisors = append(p.supervisors, crew{act: act, ctx: l.h.As(l.ctx, act)})
		case identity.RoleQA:
			p.qa = signer{id: act.UserID, name: act.Name}
		}
	}
	for _, stage := range []func() error{p.staffPeople, p.materials, p.catalogue, p.lineTable, p.maintenance, p.history, p.revise, p.schedule, p.backlog} {
		if err := stage(); err != nil {
			return err
		}
	}
	return nil
}

// suppliers deliver the demo's materials; prefix starts their lot numbers.
var suppliers = []struct{ name, prefix string }{
	{"Merck KGaA", "K"}, {"Sigma-Aldrich Chimie", "SA-"}, {"Fresenius Kabi", "FK"}, {"Roquette Frères", "RQ"},
	{"Schott AG", "SC-"}, {"Gerresheimer", "GX"}, {"Aptar Pharma", "AP-"}, {"Cooper Pharma", "CP"},
}

// decideLot signs QA's decision on a lot received in quarantine: its
// approval releases it, its rejection rejects it, each with its reason.
func (p *factory) decideLot(lot *production.Lot, to production.LotStatus) error {
	meaning, reason := esign.Approved, "Certificat d'analyse du fournisseur conforme, contrôles de réception conformes."
	switch to {
	case production.LotReleased:
	case production.LotRejected:
		meaning, reason = esign.Rejected, "Teneur hors spécification au contrôle de réception."
	default:
		return nil
	}
	if err := p.h.SignRecord("lot", lot.ID, meaning, p.qa.id, p.qa.name, reason); err != nil {
		return fmt.Errorf("lot %s: %w", lot.Code, err)
	}
	lot.Status = to
	return nil
}

// materials writes the materials and their lots: a released lot of each,
// with stock for every batch of the demo, some lots in quarantine and one
// rejected.
func (p *factory) materials() error {
	need := map[string]float64{} // the largest quantity a batch takes, by material
	for _, s := range productSpecs {
		for _, d := range slices.Concat([]dose{s.api, s.solvent}, s.excipients, s.primary, s.printed) {
			need[d.material] = max(need[d.material], d.qty)
		}
	}
	for i, m := range materials {
		if err := p.prod.CreateMaterial(p.ctx, &m); err != nil {
			return fmt.Errorf("material %s: %w", m.Code, err)
		}
		lots := []production.Lot{{Status: production.LotReleased, Quantity: stock(need[m.Code] * 60), ExpiresOn: p.now.AddDate(1, 6+i%12, 0)}}
		if i%6 == 1 {
			lots = append(lots, production.Lot{Status: production.LotQuarantine, Quantity: stock(need[m.Code] * 20), ExpiresOn: p.now.AddDate(3, i%6, 0)})
		}
		if m.Code == "MP-ONDA" {
			lots = append(lots, production.Lot{Status: production.LotRejected, Quantity: stock(need[m.Code] * 10), ExpiresOn: p.now.AddDate(2, 0, 0)})
		}
		for k := range lots {
			lot := &lots[k]
			lot.MaterialID = m.ID
			lot.Code = fmt.Sprintf("%s-%c%03d", m.Code, 'A'+k, 101+(i*37+k*53)%800)
			sup := suppliers[(i+k)%len(suppliers)]
			lot.Supplier, lot.SupplierLot = sup.name, fmt.Sprintf("%s%06d", sup.prefix, 100000+(i*7919+k*104729)%900000)
			// Received in quarantine; QA's signature releases or
			// rejects it, as on the lot's page.
			decided := lot.Status
			lot.Status = production.LotQuarantine
			if err := p.prod.CreateLot(p.ctx, lot); err != nil {
				return fmt.Errorf("lot %s: %w", lot.Code, err)
			}
			if err := p.decideLot(lot, decided); err != nil {
				return err
			}
		}
		p.lotOf[m.ID] = lots[0].Code
		if err := p.record(m.Code, m.ID); err != nil {
			return err
		}
	}
	return nil
}

// stock rounds a lot's quantity up to two significant digits.
func stock(q float64) float64 {
	if q <= 0 {
		return 100
	}
	unit := math.Pow(10, math.Floor(math.Log10(q))-1)
	return math.Ceil(q/unit) * unit
}

// approve takes a master written as a draft to the status given as its
// life cycle does, at the load's clock: signed by its author (which submits
// it for review), reviewed and approved by
// quality assurance's signatures a day apart (the approval moves it to
// approved), then effective, a day later.
func (p *factory) approve(m *production.Master, to production.MasterStatus) error {
	// Its author, a supervisor of the client's, signs it as written, which
	// submits it for review.
	author, err := crewFor(p.supervisors, m.ClientID)
	if err != nil {
		return err
	}
	if err := p.h.SignRecord(store.EntityMaster, m.ID, esign.Authored, author.act.UserID, author.act.Name, ""); err != nil {
		return fmt.Errorf("author's signature of master %s: %w", m.Code, err)
	}
	p.at(p.h.Now().Add(day24))
	if err := p.h.SignRecord(store.EntityMaster, m.ID, esign.Reviewed, p.qa.id, p.qa.name, ""); err != nil {
		return fmt.Errorf("review of master %s: %w", m.Code, err)
	}
	p.at(p.h.Now().Add(day24))
	if err := p.h.SignRecord(store.EntityMaster, m.ID, esign.Approved, p.qa.id, p.qa.name, ""); err != nil {
		return fmt.Errorf("approval of master %s: %w", m.Code, err)
	}
	p.at(p.h.Now().Add(day24))
	if to != production.MasterApproved {
		if err := p.h.SetMasterStatus(m.ID, to); err != nil {
			return fmt.Errorf("master %s: %w", m.Code, err)
		}
	}
	if to == production.MasterEffective {
		// The floor is trained on it before its first batch.
		if err := p.train(m); err != nil {
			return err
		}
	}
	m.Status = to
	return nil
}

// catalogue writes the products and their masters, reviewed, approved and
// made effective two months before the load.
func (p *factory) catalogue() error {
	p.at(p.now.AddDate(0, -2, 0))
	defer p.at(p.now)
	for i := range productSpecs {
		s := &productSpecs[i]
		prod := s.Product
		var err error
		if prod.ClientID, err = p.id(s.client); err != nil {
			return err
		}
		if err := p.prod.CreateProduct(p.ctx, &prod); err != nil {
			return fmt.Errorf("product %s: %w", prod.Code, err)
		}
		d := &demoProduct{spec: s, p: prod}
		f := s.formula
		if s.Code == revised {
			f.ipc -= 4 // version 2 adds in-process controls
		}
		if d.master, err = p.master(d, f, 1); err != nil {
			return err
		}
		at := p.h.Now()
		if err := p.approve(&d.master, production.MasterEffective); err != nil {
			return err
		}
		p.at(at)
		p.products = append(p.products, d)
	}
	return nil
}

// master writes a draft version of a product's master.
func (p *factory) master(d *demoProduct, f formula, version int) (production.Master, error) {
	m := production.Master{ProductID: d.p.ID, Code: "DLM-" + d.p.Code, Title: "Dossier de lot maître — " + d.p.Name,
		BatchSize: f.size, Unit: f.unit, Hours: f.hours,
		Operations: operations(d.p.Form, d.p.SpecialClass, f, func(code string) string { return p.codes[code] })}
	if err := p.prod.CreateMaster(p.ctx, &m); err != nil {
		return m, fmt.Errorf("master of %s: %w", d.p.Code, err)
	}
	if m.Version != version {
		return m, fmt.Errorf("master %s: version %d, want %d", m.Code, m.Version, version)
	}
	return m, nil
}

// revise writes the new versions: the revised product's version 2, made
// effective (version 1 is superseded), and the drafts under way.
func (p *factory) revise() error {
	for _, d := range p.products {
		status, draft := drafts[d.p.Code]
		if d.p.Code != revised && !draft {
			continue
		}
		f := d.spec.formula
		if draft {
			f.ipc += 2 // the revision under way adds in-process controls
		}
		if !draft {
			// Version 2 was written four days and a half before the
			// load and took effect a day and a half before it, after
			// the last orders of version 1 (three days before).
			p.at(p.now.Add(-4*day24 - 12*time.Hour))
		}
		m, err := p.master(d, f, 2)
		if err != nil {
			return err
		}
		switch {
		case !draft:
			if err := p.approve(&m, production.MasterEffective); err != nil {
				return err
			}
			p.at(p.now)
			d.master = m
		case status != production.MasterDraft:
			if err := p.h.SetMasterStatus(m.ID, status); err != nil {
				return fmt.Errorf("master %s v2: %w", m.Code, err)
			}
		}
	}
	return nil
}

// lineTable reads back the lines and their equipment as lines.go wrote
// them, walking the same tables in the same order.
func (p *factory) lineTable() error {
	numbers := map[string]int{}
	piece := 0
	for _, g := range lineGroups {
		for i := range g.count {
			numbers[g.prefix]++
			code := fmt.Sprintf("%s-%02d", g.prefix, numbers[g.prefix])
			id, err := p.id(code)
			if err != nil {
				return err
			}
			ln := demoLine{id: id, code: code, forms: g.forms, status: site.LineAvailable}
			if s, ok := lineStatus[code]; ok {
				ln.status = s
			}
			kinds := g.equipment
			if g.extra != "" && i%2 == 0 {
				kinds = slices.Insert(slices.Clone(kinds), g.extraAt, g.extra)
			}
			for j, kind := range kinds {
				ln.equipment = append(ln.equipment, site.Equipment{Code: fmt.Sprintf("%s-E%d", code, j+1), Kind: kind,
					Status: equipmentStatus(ln.status, j, piece), QualificationDue: qualificationDue(piece)})
				piece++
			}
			p.lines = append(p.lines, ln)
		}
	}
	return nil
}

// fits reports whether the line makes the product and has every kind of
// equipment its master checks: a batch scheduled on it can be executed
// there.
func (ln *demoLine) fits(d *demoProduct) bool {
	if !slices.Contains(ln.forms, d.p.Form) {
		return false
	}
	for _, s := range steps(&d.master) {
		if s.Kind == production.StepEquipment && !slices.ContainsFunc(ln.equipment, func(e site.Equipment) bool { return e.Kind == s.EquipmentKind }) {
			return false
		}
	}
	return true
}

// usable returns the code of the line's piece of the kind that a step may
// check at time t, if any: clean, and qualified for a while yet.
func (ln *demoLine) usable(kind string, t time.Time) (string, bool) {
	for _, e := range ln.equipment {
		if e.Kind == kind && e.Status == site.EquipmentClean && e.QualificationDue.After(day(t).AddDate(0, 0, 14)) {
			return e.Code, true
		}
	}
	return "", false
}

func day(t time.Time) time.Time { return t.UTC().Truncate(24 * time.Hour) }

// steps lists a master's steps in order.
func steps(m *production.Master) []production.Step {
	var out []production.Step
	for _, op := range m.Operations {
		out = append(out, op.Steps...)
	}
	return out
}

// reach is how many of the master's first steps a batch on the line can
// record at time t: up to the first equipment check the line cannot
// satisfy.
func (ln *demoLine) reach(m *production.Master, t time.Time) int {
	for i, s := range steps(m) {
		if s.Kind == production.StepEquipment {
			if _, ok := ln.usable(s.EquipmentKind, t); !ok {
				return i
			}
		}
	}
	return m.Steps
}

// maintenance plans maintenance windows on a few lines in the coming
// weeks, and the one under way on the line in maintenance.
func (p *factory) maintenance() error {
	morning := p.localDay(0).Add(6 * time.Hour)
	for _, w := range []struct {
		line        string
		from, hours int // from: days after today
		reason      string
	}{
		{"L40-26", -1, 72, "Remplacement du joint d'étanchéité de l'homogénéisateur (maintenance curative)"},
		{"L30-06", 5, 36, "Requalification annuelle de la remplisseuse-scelleuse d'ampoules"},
		{"L40-03", 9, 24, "Maintenance préventive de la presse à comprimer : poinçons et cames"},
		{"L30-13", 12, 48, "Requalification du tunnel de dépyrogénation (cartographie thermique)"},
		{"L40-21", 15, 24, "Étalonnage des capteurs de température et de pression de la cuve de préparation"},
		{"L30-19", 18, 24, "Maintenance préventive de l'isolateur : gants et joints de porte"},
	} {
		id, err := p.id(w.line)
		if err != nil {
			return err
		}
		win := &production.Window{LineID: id, Start: morning.AddDate(0, 0, w.from), Reason: w.reason}
		win.End = win.Start.Add(time.Duration(w.hours) * time.Hour)
		if err := p.prod.CreateWindow(p.ctx, win); err != nil {
			return fmt.Errorf("maintenance window on %s: %w", w.line, err)
		}
		p.windows[w.line] = append(p.windows[w.line], *win)
	}
	return nil
}

// localDay is midnight of the site's day, days after today.
func (p *factory) localDay(days int) time.Time {
	t := p.now.In(p.zone)
	return time.Date(t.Year(), t.Month(), t.Day()+days, 0, 0, 0, 0, p.zone).UTC()
}

// slot is a batch of the product at start, as the rules of the schedule
// see it.
func (d *demoProduct) slot(start time.Time) production.Slot {
	return production.Slot{ClientID: d.p.ClientID, ProductID: d.p.ID, Class: d.p.SpecialClass,
		Start: start, End: start.Add(hours(d.master.Hours))}
}

func hours(h float64) time.Duration { return time.Duration(h * float64(time.Hour)) }

// place moves start past the line's maintenance windows and the changeover
// after its last batch: the earliest start the rules accept.
func (p *factory) place(ln *demoLine, d *demoProduct, start time.Time) time.Time {
	if last, ok := p.last[ln.code]; ok {
		start = later(start, last.End.Add(production.Changeover(last, d.slot(start))))
	}
	for moved := true; moved; {
		moved = false
		s := d.slot(start)
		for _, w := range p.windows[ln.code] {
			if s.Start.Before(w.End) && w.Start.Before(s.End) {
				start, moved = w.End, true
			}
		}
	}
	return start.Truncate(time.Minute)
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// order orders n batches of the product, due a week after the last one
// ends, and schedules the first ones on the line, one at each of starts;
// the others stay planned.
func (p *factory) order(d *demoProduct, n int, ln *demoLine, starts []time.Time) ([]production.Batch, error) {
	due := p.now
	if len(starts) > 0 {
		due = starts[len(starts)-1].Add(hours(d.master.Hours))
	}
	o := &production.Order{ProductID: d.p.ID, Quantity: float64(n) * d.master.BatchSize, DueOn: due.AddDate(0, 0, 7)}
	if err := p.prod.CreateOrder(p.ctx, o); err != nil {
		return nil, fmt.Errorf("order of %s: %w", d.p.Code, err)
	}
	out := o.Batches
	for i, start := range starts {
		b, err := p.prod.ScheduleBatch(p.ctx, o.Batches[i].ID, production.ScheduleRequest{LineID: ln.id, Start: start}, "")
		if err != nil {
			return nil, fmt.Errorf("batch %s of %s on %s at %s: %w", o.Batches[i].Lot, d.p.Code, ln.code, start.Format(time.RFC3339), err)
		}
		out[i] = *b
		p.last[ln.code] = d.slot(start)
		p.free[ln.code] = start.Add(hours(d.master.Hours))
	}
	return out, nil
}

// schedule fills every line from when it is free to the horizon, with
// campaigns of two to four batches of a product and the changeovers the
// rules ask between them; the last order of every third line does not fit
// whole and leaves a batch planned.
func (p *factory) schedule() error {
	end := p.now.Add(horizon)
	for li := range p.lines {
		ln := &p.lines[li]
		var prods []*demoProduct
		for _, d := range p.products {
			if ln.fits(d) {
				prods = append(prods, d)
			}
		}
		if len(prods) == 0 {
			continue
		}
		cur := p.now.Truncate(time.Hour).Add(time.Duration(1+li*5%12) * time.Hour)
		if ln.status == site.LineCleaning {
			cur = cur.Add(4 * time.Hour)
		}
		cur = later(cur, p.free[ln.code])
		for c := 0; ; c++ {
			d := prods[(li+c)%len(prods)]
			n := 2 + (li+c)%3
			var starts []time.Time
			for range n {
				start := p.place(ln, d, cur)
				if !start.Add(hours(d.master.Hours)).Before(end) {
					break
				}
				starts = append(starts, start)
				p.last[ln.code] = d.slot(start)
				cur = start.Add(hours(d.master.Hours))
			}
			if len(starts) == 0 {
				break
			}
			if len(starts) == n || li%3 != 0 {
				n = len(starts)
			} else {
				n = len(starts) + 1
			}
			if _, err := p.order(d, n, ln, starts); err != nil {
				return err
			}
			if len(starts) < n {
				break
			}
		}
	}
	return nil
}

// backlog orders a few batches not yet scheduled, due in six weeks.
func (p *factory) backlog() error {
	for i, code := range []string{"ALP-ENOX-SER", "BET-RITU-FL", "GAM-LEVO-CP", "BET-ADAL-SER"} {
		for _, d := range p.products {
			if d.p.Code != code {
				continue
			}
			o := &production.Order{ProductID: d.p.ID, Quantity: float64(2+i%2) * d.master.BatchSize, DueOn: p.localDay(42 + 3*i)}
			if err := p.prod.CreateOrder(p.ctx, o); err != nil {
				return fmt.Errorf("order of %s: %w", code, err)
			}
		}
	}
	return nil
}

// at sets the transaction's clock, to date what follows.
func (p *factory) at(t time.Time) {
	// Only a history load dates what it writes: Load opens one.
	if err := p.h.Backdate(t); err != nil {
		panic(err)
	}
}

// value is the reading entered for a numeric step: near the target,
// varying from one step to the next within the limits; out of them when
// wrong.
func value(s production.Step, n int, wrong bool) string {
	low, high, target := *s.Low, *s.High, *s.Target
	span := high - low
	v := target + span*0.06*float64(n%5-2)
	if wrong {
		v = high + math.Max(span*0.15, math.Pow(10, -float64(s.Decimals)))
	}
	p := math.Pow(10, float64(s.Decimals))
	v = math.Round(v*p) / p
	if !wrong {
		v = math.Min(math.Max(v, low), high)
	}
	return strconv.FormatFloat(v, 'f', s.Decimals, 64)
}

// entry is what the operator enters for the step of a batch on the line.
func (p *factory) entry(r *production.StepRecord, lot string, ln *demoLine, wrong bool) (production.Entry, error) {
	e := production.Entry{StepID: r.ID}
	s := r.Step
	switch s.Kind {
	case production.StepClearance:
		e.Checked = make([]bool, len(s.Checklist))
		for i := range e.Checked {
			e.Checked[i] = true
		}
	case production.StepInstruction:
		e.Confirm = true
	case production.StepNumeric:
		e.Value = value(s, r.Seq, wrong)
		if wrong {
			e.ConfirmOutOfLimits = true
			e.Comment = "Valeur confirmée par une seconde mesure ; chef d'équipe prévenu."
		}
	case production.StepMaterial:
		e.Lot, e.Quantity = p.lotOf[s.MaterialID], strconv.FormatFloat(s.Quantity, 'f', -1, 64)
	case production.StepEquipment:
		code, ok := ln.usable(s.EquipmentKind, p.h.Now())
		if !ok {
			return e, fmt.Errorf("no %s usable on line %s", s.EquipmentKind, ln.code)
		}
		e.Equipment = code
	case production.StepSampling:
		e.Value = fmt.Sprintf("ECH-%s-%03d", lot, r.Seq)
	}
	return e, nil
}

// sign gives a recorded step the signatures it needs: the operator's who
// performed it, and a supervisor's for a critical step.
func (p *factory) sign(r *production.StepRecord, operator *crew, clientID string) error {
	for _, m := range r.Step.Needs() {
		p.at(p.h.Now().Add(time.Minute))
		who := operator.act
		if m == esign.Verified {
			sup, err := crewFor(p.supervisors, clientID)
			if err != nil {
				return err
			}
			who = sup.act
		}
		if err := p.h.Sign(r.ID, m, who.UserID, who.Name); err != nil {
			return fmt.Errorf("signature %s of step %s: %w", m, r.Label(), err)
		}
	}
	return nil
}

// execute records the first done steps of a batch started at start, spread
// over the time they take; wrong is the step entered out of limits (-1:
// none).
func (p *factory) execute(b *production.Batch, ln *demoLine, start time.Time, h float64, done, wrong int) error {
	operator, err := crewFor(p.operators, b.ClientID)
	if err != nil {
		return err
	}
	for i := range done {
		p.at(start.Add(time.Duration(float64(hours(h)) * float64(i+1) / float64(b.StepsTotal+1))))
		next, err := p.prod.NextStep(p.ctx, b.ID)
		if err != nil {
			return err
		}
		if next == nil {
			return fmt.Errorf("batch %s: no step left after %d", b.Lot, i)
		}
		e, err := p.entry(next, b.Lot, ln, i == wrong)
		if err != nil {
			return fmt.Errorf("batch %s step %s: %w", b.Lot, next.Label(), err)
		}
		r, err := p.prod.RecordStep(operator.ctx, b.ID, e)
		if err != nil {
			return fmt.Errorf("batch %s step %s: %w", b.Lot, next.Label(), err)
		}
		if err := p.sign(r, operator, b.ClientID); err != nil {
			return err
		}
	}
	return nil
}

// run is a batch of the demo's recent history, executed step by step: the
// state it is left in, the client and building wanted ("" for any), the
// share of its steps recorded when in progress, and offset: how long
// before now it ended (in review, completed) or after now it starts
// (released). wrong enters one value out of limits, which opens a
// deviation; numeric leaves a numeric entry as the next step; whole asks,
// if any line allows it, for a line where every step can be executed.
type run struct {
	state    production.BatchState
	client   string
	building string
	share    float64
	offset   time.Duration
	wrong    bool
	numeric  bool
	whole    bool
}

const day24 = 24 * time.Hour

// runs are the batches executed, in the order they are chosen: first the
// two Alpha batches of Bâtiment 30 the browser tests use (one released to
// the floor, its line clearance to do; one in progress, a numeric entry
// next), then batches in every state.
var runs = []run{
	{state: production.BatchReleased, client: "ALPHA", building: "L30-", offset: 90 * time.Minute, whole: true},
	{state: production.BatchInProgress, client: "ALPHA", building: "L30-", share: 0.4, numeric: true},
	{state: production.BatchInReview, offset: 9 * day24, wrong: true},
	{state: production.BatchCompleted, offset: 2 * day24, wrong: true},
	{state: production.BatchInProgress, share: 0.8, wrong: true},
	{state: production.BatchInReview, offset: 6 * day24},
	{state: production.BatchCompleted, offset: 30 * time.Hour},
	{state: production.BatchInProgress, share: 0.85},
	{state: production.BatchInReview, offset: 11 * day24},
	{state: production.BatchInReview, offset: 4 * day24},
	{state: production.BatchCompleted, offset: 3*day24 + 12*time.Hour},
	{state: production.BatchInProgress, share: 0.6},
	{state: production.BatchInProgress, building: "L40-", share: 0.2, numeric: true},
	{state: production.BatchInProgress, share: 0.25, numeric: true},
	{state: production.BatchInProgress, building: "L40-", share: 0.3},
	{state: production.BatchInProgress, building: "L40-", share: 0.5},
	{state: production.BatchReleased, building: "L40-", offset: 2 * time.Hour},
	{state: production.BatchReleased, building: "L40-", offset: 5 * time.Hour},
	{state: production.BatchReleased, client: "BETA", offset: 8 * time.Hour},
}

// history executes the runs, each on a line of its own whose equipment
// lets it record its steps; a run asking for more than any line allows
// asks again for less (any line, any building) before it is left out.
func (p *factory) history() error {
	for _, r := range runs {
		ln, d, done := p.pick(r)
		if ln == nil && r.whole {
			r.whole = false
			ln, d, done = p.pick(r)
		}
		if ln == nil && r.client == "" && r.building != "" {
			r.building = ""
			ln, d, done = p.pick(r)
		}
		if ln == nil {
			continue // no line can take it: the equipment it needs is not clean or not qualified
		}
		if err := p.run(r, ln, d, done); err != nil {
			return err
		}
	}
	return nil
}

// pick chooses the line and product of a run, and how many steps to
// record. A batch in progress not yet half done takes a running line
// first; a batch completed takes a line of Bâtiment 40 first, whose
// records are shorter.
func (p *factory) pick(r run) (*demoLine, *demoProduct, int) {
	type pass struct {
		status   site.LineStatus
		building string
	}
	passes := []pass{{site.LineAvailable, r.building}}
	switch {
	case r.state == production.BatchInProgress && r.share < 0.5:
		passes = []pass{{site.LineRunning, r.building}, {site.LineAvailable, r.building}}
	case r.building == "" && (r.state == production.BatchCompleted || r.state == production.BatchInReview):
		passes = []pass{{site.LineAvailable, "L40-"}, {site.LineAvailable, "L30-"}}
	}
	for _, ps := range passes {
		for li := range p.lines {
			ln := &p.lines[li]
			if ln.used || ln.status != ps.status || (ps.building != "" && ln.code[:4] != ps.building) {
				continue
			}
			var cands []*demoProduct
			for _, d := range p.products {
				if ln.fits(d) && (r.client == "" || r.client == d.spec.client) {
					cands = append(cands, d)
				}
			}
			slices.SortStableFunc(cands, func(a, b *demoProduct) int { return a.executed - b.executed })
			for _, d := range cands {
				done, ok := p.fits(r, ln, d)
				if ok && !p.inWindow(ln, d.slot(p.start(r, d, done))) {
					return ln, d, done
				}
			}
		}
	}
	return nil, nil, 0
}

// inWindow reports whether the slot crosses a maintenance window of the
// line.
func (p *factory) inWindow(ln *demoLine, s production.Slot) bool {
	for _, w := range p.windows[ln.code] {
		if s.Start.Before(w.End) && w.Start.Before(s.End) {
			return true
		}
	}
	return false
}

// start is when a run of the product starts: as long before now as its
// steps done took, or as long before its end.
func (p *factory) start(r run, d *demoProduct, done int) time.Time {
	h := hours(d.master.Hours)
	var start time.Time
	switch r.state {
	case production.BatchReleased:
		start = p.now.Add(r.offset)
	case production.BatchInProgress:
		start = p.now.Add(-time.Duration(float64(h)*float64(done)/float64(d.master.Steps+1)) - 20*time.Minute)
	default:
		start = p.now.Add(-r.offset - h)
	}
	return start.Truncate(time.Minute)
}

// fits says whether a run of the product can be executed on the line, and
// how many steps it records.
func (p *factory) fits(r run, ln *demoLine, d *demoProduct) (int, bool) {
	n := d.master.Steps
	reach := ln.reach(&d.master, p.now)
	switch r.state {
	case production.BatchReleased:
		return 0, reach >= min(12, n) && (!r.whole || reach == n)
	case production.BatchInProgress:
		want := int(math.Round(r.share * float64(n)))
		done := min(want, reach-1)
		if r.numeric {
			all := steps(&d.master)
			for k := done; k > done-10 && k > 1; k-- {
				if all[k].Kind == production.StepNumeric {
					done = k
					break
				}
			}
		}
		return done, done >= 3 && 4*done >= 3*want
	}
	return n, reach == n
}

// run executes one batch: ordered and scheduled days before, released to
// the floor, its steps recorded and signed over the hours they take, then
// completed and taken into review when its state asks.
func (p *factory) run(r run, ln *demoLine, d *demoProduct, done int) error {
	h := hours(d.master.Hours)
	start := p.start(r, d, done)
	before := start // ordered and released before it starts, or before now
	if p.now.Before(start) {
		before = p.now
	}
	defer p.at(p.now)
	p.at(before.Add(-3 * day24))
	batches, err := p.order(d, 1, ln, []time.Time{start})
	if err != nil {
		return err
	}
	b := &batches[0]
	p.at(before.Add(-4 * time.Hour))
	if b, err = p.prod.MoveBatch(p.ctx, b.ID, production.MoveRelease, ""); err != nil {
		return fmt.Errorf("release of %s: %w", b.Lot, err)
	}
	wrong := -1
	if r.wrong {
		all := steps(&d.master)
		for k := done / 3; k < done; k++ {
			if s := all[k]; s.Kind == production.StepNumeric && *s.High > *s.Low {
				wrong = k
				break
			}
		}
	}
	if err := p.execute(b, ln, start, d.master.Hours, done, wrong); err != nil {
		return err
	}
	if r.state == production.BatchCompleted || r.state == production.BatchInReview {
		p.at(start.Add(h))
		if _, err := p.prod.MoveBatch(p.ctx, b.ID, production.MoveComplete, ""); err != nil {
			return fmt.Errorf("completion of %s: %w", b.Lot, err)
		}
	}
	if r.state == production.BatchInReview {
		p.at(start.Add(h + 5*time.Hour))
		if _, err := p.prod.MoveBatch(p.ctx, b.ID, production.MoveReview, ""); err != nil {
			return fmt.Errorf("review of %s: %w", b.Lot, err)
		}
	}
	ln.used = true
	d.executed++
	return nil
}
