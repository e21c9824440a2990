package demo

import (
	"context"
	"fmt"
	"time"

	"galenix/internal/esign"
	"galenix/internal/identity"
	"galenix/internal/production"
	"galenix/internal/qualification"
	"galenix/internal/site"
	"galenix/internal/store"
)

// The demo's qualifications: each staff account is a person of the staff
// with a badge; the people of the floor hold their gowning (grade A,
// which covers every grade) and, for each master made effective, its
// training, recorded by a supervisor and granted by quality assurance's
// signature. One operator's gowning lapsed ten days before the load: the
// shop floor and the doors refuse them a clean area.

// lapsedOperator is the operator whose gowning lapsed.
const lapsedOperator = "operator3"

// gowningYears is how long a gowning qualification holds in the demo.
const gowningYears = 1

// staffPeople writes a person for each staff account, with a badge and
// the account linked, and grants the gowning of the floor's people.
func (p *factory) staffPeople() error {
	p.loader.personOf = map[string]string{}
	// On the staff before any of their qualifications.
	p.at(p.now.AddDate(-2, 0, 0))
	defer p.at(p.now)
	for i, a := range accounts {
		if a.client != "" {
			continue
		}
		act, err := p.person(a.username)
		if err != nil {
			return err
		}
		team, err := p.id(teamOf[a.role])
		if err != nil {
			return err
		}
		person := site.Person{Badge: fmt.Sprintf("B%06d", 901+i), Name: a.name, Job: jobOf[a.role], TeamID: team, AccountID: act.UserID}
		if err := p.plant.CreatePerson(p.ctx, &person); err != nil {
			return fmt.Errorf("person of %s: %w", a.username, err)
		}
		p.personOf[act.UserID] = person.ID
	}
	floor := append(append([]crew{}, p.operators...), p.supervisors...)
	for _, c := range floor {
		// Granted half a year ago; the second supervisor's lapses in
		// twenty days (QA sees it coming), the lapsed operator's ten days
		// ago.
		grade, from := "A", p.now.AddDate(0, -6, 0)
		switch c.act.Username {
		case lapsedOperator:
			from = p.now.AddDate(-gowningYears, 0, -10)
		case "supervisor2":
			from = p.now.AddDate(-gowningYears, 0, 20)
		}
		if err := p.qualify(c.act.UserID, qualification.Qualification{Kind: qualification.Gowning, Subject: grade, GrantedAt: from,
			ValidUntil: from.AddDate(gowningYears, 0, 0), Evidence: "Qualification d'habillage : test de contamination des gants et media fill"}); err != nil {
			return err
		}
	}
	return nil
}

// train grants the training on a master's version, made effective at
// the load's clock, to the people of the floor assigned to its client.
func (p *factory) train(m *production.Master) error {
	at := p.h.Now()
	for _, c := range append(append([]crew{}, p.operators...), p.supervisors...) {
		if !assignedTo(c.act, m.ClientID) {
			continue
		}
		if err := p.qualify(c.act.UserID, qualification.Qualification{Kind: qualification.MasterTraining, Subject: m.Code, Version: m.Version,
			GrantedAt: at.Add(-time.Hour), ValidUntil: at.AddDate(2, 0, 0), Evidence: "Formation au dossier de lot " + m.Code + " v" + fmt.Sprint(m.Version) + ", lecture et mise en situation"}); err != nil {
			return err
		}
	}
	return nil
}

func assignedTo(a identity.Actor, clientID string) bool {
	for _, c := range a.Assigned {
		if c == clientID {
			return true
		}
	}
	return false
}

// qualify records a qualification of the person behind an account, as the
// first supervisor records it, and grants it by quality assurance's
// signature.
func (p *factory) qualify(accountID string, q qualification.Qualification) error {
	return p.grant(p.supervisors[0].ctx, p.qa, accountID, q)
}

// grant records a qualification of the person behind an account, as
// recorder, and grants it by the signature of qa, both on the day it
// holds from.
func (l *loader) grant(recorder context.Context, qa signer, accountID string, q qualification.Qualification) error {
	back := l.h.Now()
	if err := l.h.Backdate(q.GrantedAt); err != nil {
		return err
	}
	q.PersonID = l.personOf[accountID]
	rec, err := l.db.Qualifications().RecordQualification(recorder, q)
	if err != nil {
		return fmt.Errorf("qualification %s %s: %w", q.Kind, q.Subject, err)
	}
	if err := l.h.SignRecord(store.EntityQualification, rec.ID, esign.Approved, qa.id, qa.name, ""); err != nil {
		return fmt.Errorf("grant of qualification %s %s: %w", q.Kind, q.Subject, err)
	}
	return l.h.Backdate(back)
}

// qualifyAnalysts grants the laboratory's analysts each method of the
// specifications, from the day before the specifications were written.
func (q *qualityStage) qualifyAnalysts(methods []string, from time.Time) error {
	for _, who := range []string{"lab", "lab2"} {
		a, err := q.person(who)
		if err != nil {
			return err
		}
		for _, m := range methods {
			if err := q.grant(q.supervisor, q.qaSigner, a.UserID, qualification.Qualification{Kind: qualification.Method, Subject: m,
				GrantedAt: from, ValidUntil: from.AddDate(2, 0, 0), Evidence: "Habilitation à la méthode : essais en double, rapport de transfert"}); err != nil {
				return err
			}
		}
	}
	return nil
}

// teamOf is the team of the person behind each staff account: the floor's
// in the sterile building's morning shift.
var teamOf = map[identity.Role]string{
	identity.RoleAdmin: "B90-JOUR", identity.RoleOperator: "B30-MAT", identity.RoleSupervisor: "B30-MAT", identity.RoleMaintenance: "CHA-MAT",
	identity.RoleQA: "B90-JOUR", identity.RoleQP: "B90-JOUR", identity.RoleLab: "B25-JOUR", identity.RoleSecurity: "PCS-MAT",
	identity.RoleIT: "B90-JOUR",
}

// jobOf is the job of the person behind each staff account.
var jobOf = map[identity.Role]string{
	identity.RoleAdmin: "administrateur systèmes", identity.RoleOperator: "opérateur de production", identity.RoleSupervisor: "chef d'équipe production",
	identity.RoleMaintenance: "technicien de maintenance", identity.RoleQA: "ingénieur assurance qualité", identity.RoleQP: "pharmacien responsable",
	identity.RoleLab: "technicien de laboratoire", identity.RoleSecurity: "agent de sécurité",
	identity.RoleIT: "ingénieur infrastructure IT/OT",
}
