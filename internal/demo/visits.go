package demo

import (
	"fmt"
	"time"

	"galenix/internal/access"
)

// The demo's visitors: an auditor of Laboratoires Alpha on site with
// quality assurance, who escorts her into the laboratory (the readers'
// logic lets her in behind Isabelle Fontaine, and refuses her the grade B
// area: closed to visitors); a contractor of the cold unit still on site
// three quarters of an hour past his expected departure (the PC Sécurité
// alerted); an inspection expected tomorrow and a carrier later today; a
// calibration visit over yesterday; a visit cancelled.

// demoVisit is a visit of the demo: its host's account, when it is
// registered, expected and, as it happens, welcomed, left or cancelled
// (offsets from the load's now; zero: not that far).
type demoVisit struct {
	host, visitor, company, purpose string
	registered, from, until         time.Duration
	arrived, left, cancelled        time.Duration
	badge, cancelReason             string
}

var demoVisits = []demoVisit{
	{host: "qa", visitor: "Sophie Marchand", company: "Laboratoires Alpha", purpose: "Audit qualité fournisseur : revue des dossiers de lot Alpha",
		registered: -26 * time.Hour, from: -2 * time.Hour, until: 5 * time.Hour, arrived: -110 * time.Minute, badge: "V-0001"},
	{host: "maintenance", visitor: "Marc Lefèvre", company: "Froid Industriel SA", purpose: "Maintenance du groupe froid du bâtiment 70",
		registered: -50 * time.Hour, from: -6 * time.Hour, until: -45 * time.Minute, arrived: -350 * time.Minute, badge: "V-0002"},
	{host: "qp", visitor: "Pierre Garnier", company: "ANSM", purpose: "Inspection BPF de la ligne stérile du bâtiment 30",
		registered: -72 * time.Hour, from: 22 * time.Hour, until: 31 * time.Hour},
	{host: "supervisor", visitor: "Julie Perrin", company: "Transports Médilog", purpose: "Enlèvement de lots libérés",
		registered: -5 * time.Hour, from: 2 * time.Hour, until: 3 * time.Hour},
	{host: "maintenance", visitor: "Bruno Caron", company: "Metrologia", purpose: "Étalonnage des sondes de température",
		registered: -74 * time.Hour, from: -26 * time.Hour, until: -23 * time.Hour, arrived: -1555 * time.Minute, left: -1390 * time.Minute, badge: "V-0003"},
	{host: "qa", visitor: "Anne Leroy", company: "Beta Pharma", purpose: "Visite du projet de transfert",
		registered: -96 * time.Hour, from: 48 * time.Hour, until: 52 * time.Hour, cancelled: -50 * time.Hour, cancelReason: "Report à la demande du client"},
}

// visits registers, welcomes and closes the demo's visits at their times,
// has the readers decide the visitors' passages, and raises the overdue
// stay.
func (l *loader) visits() error {
	acc, now := l.db.Access(), l.began
	at := func(d time.Duration) error { return l.h.Backdate(now.Add(d)) }
	guard, err := l.person("security")
	if err != nil {
		return err
	}
	gate := l.h.As(l.ctx, guard)
	ids := map[string]string{}
	for _, dv := range demoVisits {
		host, err := l.person(dv.host)
		if err != nil {
			return err
		}
		as := l.h.As(l.ctx, host)
		if err := at(dv.registered); err != nil {
			return err
		}
		v := access.Visit{Visitor: dv.visitor, Company: dv.company, Purpose: dv.purpose, ExpectedAt: now.Add(dv.from), ExpectedUntil: now.Add(dv.until)}
		if err := acc.CreateVisit(as, &v); err != nil {
			return fmt.Errorf("visit of %s: %w", dv.visitor, err)
		}
		ids[dv.visitor] = v.ID
		steps := []struct {
			when time.Duration
			do   func() error
		}{
			{dv.arrived, func() error { _, err := acc.ArriveVisit(gate, v.ID, dv.badge); return err }},
			{dv.left, func() error { _, err := acc.DepartVisit(gate, v.ID); return err }},
			{dv.cancelled, func() error { _, err := acc.CancelVisit(as, v.ID, dv.cancelReason); return err }},
		}
		for _, s := range steps {
			if s.when == 0 {
				continue
			}
			if err := at(s.when); err != nil {
				return err
			}
			if err := s.do(); err != nil {
				return fmt.Errorf("visit of %s: %w", dv.visitor, err)
			}
		}
	}
	if err := at(0); err != nil {
		return err
	}
	if err := l.visitorPassages(now); err != nil {
		return err
	}
	_, err = acc.RaiseOverdueVisits(l.ctx)
	return err
}

// visitorPassages has the readers decide the visitors' way in today: the
// auditor through the gate into building 25, into its laboratory behind
// her host, then refused at the grade B airlock of building 30; the
// contractor through the gate into building 70.
func (l *loader) visitorPassages(now time.Time) error {
	acc := l.db.Access()
	d, policy, err := l.device()
	if err != nil {
		return err
	}
	qa, err := l.id("account:qa")
	if err != nil {
		return err
	}
	escort := l.badgeOf(policy, qa)
	for _, s := range []struct {
		reader, badge string
		at            time.Duration
	}{
		{"R-GATE-in", "V-0002", -345 * time.Minute},
		{"R-B70-in", "V-0002", -340 * time.Minute},
		{"R-GATE-in", "V-0001", -108 * time.Minute},
		{"R-B25-in", "V-0001", -100 * time.Minute},
		{"R-B25-LAB-in", "V-0001", -81 * time.Minute}, // alone: refused, her escort is not in yet
		{"R-B25-LAB-in", escort, -80 * time.Minute},
		{"R-B25-LAB-in", "V-0001", -80*time.Minute + 20*time.Second},
		{"R-B25-LAB-out", "V-0001", -40 * time.Minute},
		{"R-B30-B-in", "V-0001", -20 * time.Minute},
	} {
		if s.badge == "" {
			continue
		}
		d.Swipe(s.reader, s.badge, now.Add(s.at))
	}
	res, err := acc.Intake(l.ctx, d.Pending())
	if err != nil {
		return err
	}
	if res.Refused > 0 {
		return fmt.Errorf("visitors' passages: %d events refused", res.Refused)
	}
	return nil
}

// badgeOf is the badge of the person behind an account, "" for none.
func (l *loader) badgeOf(p *access.Policy, accountID string) string {
	person := l.personOf[accountID]
	for _, h := range p.Holders {
		if h.PersonID == person {
			return h.Badge
		}
	}
	return ""
}
