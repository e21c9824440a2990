package demo

import (
	"context"
	"fmt"
	"time"

	"galenix/internal/project"
)

// The demo's projects: each client laboratory has one or two projects
// with the site, in different phases, with their milestones, objectives,
// decisions taken on both sides, tasks of both sides (one of them late)
// and a thread of messages. The site's side is quality assurance, project
// lead for the clients it is assigned to; the client's side is its own
// user. Each client's first project holds its documents (documents.go).

// demoEntry is one entry of a demo project: days after the project's
// start when recorded, due days after the load's day (negative: past).
type demoEntry struct {
	kind        project.Kind
	client      bool // recorded by the client's user
	title, body string
	side        project.Side
	owner       string
	at          int // days after the project's start
	due         int // days from today; 0: none
	state       project.State
}

// demoProject is one demo project.
type demoProject struct {
	client, code, title, summary string
	phase                        project.Phase
	started                      int // days ago
	target                       int // days from today
	entries                      []demoEntry
}

var demoProjects = []demoProject{
	{client: "ALPHA", code: "PRJ-ALPHA-01", title: "Suspension buvable pédiatrique sans sucre", phase: project.TechTransfer, started: 240, target: 150,
		summary: "Transfert de la formule de suspension buvable à 5 mg/mL du laboratoire Alpha vers la ligne des sirops du Bâtiment 20.",
		entries: []demoEntry{
			{kind: project.KindObjective, title: "Trois lots de validation conformes", at: 2, due: 120},
			{kind: project.KindObjective, title: "Coût de revient inférieur à 1,20 € le flacon", at: 2, due: 150},
			{kind: project.KindMilestone, title: "Rapport de faisabilité approuvé", at: 3, due: -180, state: project.Reached},
			{kind: project.KindMilestone, title: "Lot pilote de 50 L fabriqué", at: 3, due: -20, state: project.Reached},
			{kind: project.KindMilestone, title: "Lot d'industrialisation à l'échelle 500 L", at: 3, due: 30},
			{kind: project.KindDecision, client: true, title: "Base sans saccharose retenue", body: "Usage pédiatrique : le comité pédiatrique du client l'exige ; édulcorant sucralose.", at: 40},
			{kind: project.KindDecision, title: "Homogénéisation à 3 000 tr/min pendant 20 min", body: "Le lot pilote a montré une sédimentation à 12 min ; essai concluant à 20 min.", at: 200},
			{kind: project.KindTask, client: true, title: "Envoyer l'étalon de référence du principe actif", side: project.ClientSide, owner: "Sophie Marchand", at: 205, due: -3, state: project.Todo},
			{kind: project.KindTask, title: "Rédiger le protocole de validation de procédé", side: project.SiteSide, owner: "Assurance qualité", at: 205, due: 12, state: project.Doing},
			{kind: project.KindTask, title: "Qualifier le mélangeur de la ligne sirops", side: project.SiteSide, owner: "Maintenance B20", at: 206, due: 20, state: project.Todo},
			{kind: project.KindTask, client: true, title: "Valider les articles de conditionnement", side: project.ClientSide, owner: "Service emballage Alpha", at: 150, due: -40, state: project.Done},
			{kind: project.KindMessage, client: true, body: "Bonjour, l'étalon part de notre site de Lyon lundi prochain, avec son certificat.", at: 225},
			{kind: project.KindMessage, body: "Merci, nous le réceptionnerons en quarantaine et l'analyserons à son arrivée.", at: 226},
		}},
	{client: "ALPHA", code: "PRJ-ALPHA-02", title: "Comprimé pelliculé 500 mg — faisabilité", phase: project.Feasibility, started: 30, target: 400,
		summary: "Étude de faisabilité d'un comprimé pelliculé à 500 mg sur la presse du Bâtiment 10.",
		entries: []demoEntry{
			{kind: project.KindMilestone, title: "Essais de compression", at: 5, due: 25},
			{kind: project.KindTask, title: "Caractériser la poudre (écoulement, densité)", side: project.SiteSide, owner: "Laboratoire de développement", at: 6, due: 10, state: project.Doing},
			{kind: project.KindMessage, client: true, body: "Pouvez-vous nous proposer deux pelliculages, l'un opaque, l'autre teinté ?", at: 12},
		}},
	{client: "BETA", code: "PRJ-BETA-01", title: "Anticorps monoclonal en seringue préremplie", phase: project.ProcessValidation, started: 420, target: 60,
		summary: "Remplissage aseptique de l'anticorps de Beta Biotech en seringues préremplies de 1 mL.",
		entries: []demoEntry{
			{kind: project.KindObjective, title: "Trois lots de validation conformes", at: 300, due: 45},
			{kind: project.KindMilestone, title: "Simulation de procédé aseptique (media fill) conforme", at: 300, due: -30, state: project.Reached},
			{kind: project.KindMilestone, title: "Troisième lot de validation", at: 300, due: 21},
			{kind: project.KindDecision, client: true, title: "Seringue en verre de type I retenue", body: "Compatibilité de l'anticorps meilleure qu'avec le polymère lors des études de stabilité.", at: 100},
			{kind: project.KindTask, title: "Rapport de validation des lots 1 et 2", side: project.SiteSide, owner: "Assurance qualité", at: 390, due: 7, state: project.Doing},
			{kind: project.KindTask, client: true, title: "Approuver le protocole de stabilité en temps réel", side: project.ClientSide, owner: "QA Beta Biotech", at: 395, due: 5, state: project.Todo},
			{kind: project.KindMessage, client: true, body: "Le lot 2 est-il libérable pour nos études cliniques de phase III ?", at: 410},
		}},
	{client: "GAMMA", code: "PRJ-GAMMA-01", title: "Gel dermique 2 % — approvisionnement commercial", phase: project.Commercial, started: 900, target: 0,
		summary: "Fabrication commerciale du gel dermique de Gamma Santé, tubes de 50 g.",
		entries: []demoEntry{
			{kind: project.KindObjective, title: "Livrer 12 lots par an", at: 800, due: 200},
			{kind: project.KindDecision, title: "Passage aux tubes aluminium recyclé", body: "Demande du client, qualification du fournisseur faite en juin.", at: 850},
			{kind: project.KindTask, client: true, title: "Transmettre les prévisions du semestre", side: project.ClientSide, owner: "Laura Schmitt", at: 880, due: 14, state: project.Todo},
			{kind: project.KindMessage, client: true, body: "Prévisions du second semestre : 14 lots.", at: 890},
		}},
}

// projects writes the demo's projects, as quality assurance and the
// clients' users, each entry dated when it was recorded.
func (l *loader) projects() error {
	now := l.h.Now()
	defer func() { l.h.Backdate(now) }()
	today := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
	a, err := l.person("qa")
	if err != nil {
		return err
	}
	qa := l.h.As(l.ctx, a)
	users := map[string]context.Context{}
	for _, acc := range accounts {
		if acc.client == "" {
			continue
		}
		u, err := l.person(acc.username)
		if err != nil {
			return err
		}
		users[acc.client] = l.h.As(l.ctx, u)
	}
	ps := l.db.Projects()
	for _, dp := range demoProjects {
		cid, err := l.id(dp.client)
		if err != nil {
			return err
		}
		start := now.AddDate(0, 0, -dp.started)
		l.h.Backdate(start)
		p := project.Project{ClientID: cid, Code: dp.code, Title: dp.title, Summary: dp.summary}
		if dp.target != 0 {
			t := today.AddDate(0, 0, dp.target)
			p.TargetOn = &t
		}
		if err := ps.CreateProject(qa, &p); err != nil {
			return fmt.Errorf("project %s: %w", dp.code, err)
		}
		if err := l.record(dp.code, p.ID); err != nil {
			return err
		}
		for _, e := range dp.entries {
			at := start.AddDate(0, 0, e.at)
			l.h.Backdate(at)
			ctx := qa
			if e.client {
				ctx = users[dp.client]
			}
			en := project.Entry{ProjectID: p.ID, Kind: e.kind, Title: e.title, Body: e.body, Side: e.side, Owner: e.owner}
			if e.due != 0 {
				d := today.AddDate(0, 0, e.due)
				en.DueOn = &d
			}
			if err := ps.AddEntry(ctx, &en); err != nil {
				return fmt.Errorf("project %s, entry %q: %w", dp.code, e.title+e.body, err)
			}
			if e.state != "" && e.state != en.State {
				l.h.Backdate(at.Add(time.Hour))
				if _, err := ps.MoveEntry(ctx, p.ID, en.ID, e.state, 0, ""); err != nil {
					return fmt.Errorf("project %s, entry %q: %w", dp.code, e.title, err)
				}
			}
		}
		// The phase reached, one step at a time.
		for p.Phase != dp.phase {
			next := project.Phases[p.Phase.Index()+1]
			l.h.Backdate(start.AddDate(0, 0, dp.started*(next.Index())/len(project.Phases)))
			p.Phase = next
			if err := ps.UpdateProject(qa, &p, "Revue de fin de phase approuvée par les deux parties."); err != nil {
				return fmt.Errorf("project %s to %s: %w", dp.code, next, err)
			}
		}
	}
	return nil
}
