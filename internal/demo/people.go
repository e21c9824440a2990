package demo

import (
	"fmt"

	"galenix/internal/site"
)

// shifts are the site's working periods: two day shifts and normal office
// hours, the night, and the weekend in two halves.
var shifts = []site.Shift{
	{Code: "MAT", Name: "Matin", Kind: site.ShiftDay, Start: "06:00", End: "14:00"},
	{Code: "APM", Name: "Après-midi", Kind: site.ShiftDay, Start: "14:00", End: "22:00"},
	{Code: "JOUR", Name: "Journée", Kind: site.ShiftDay, Start: "08:00", End: "17:00"},
	{Code: "NUIT", Name: "Nuit", Kind: site.ShiftNight, Start: "22:00", End: "06:00"},
	{Code: "WEJ", Name: "Week-end jour", Kind: site.ShiftWeekend, Start: "06:00", End: "18:00"},
	{Code: "WEN", Name: "Week-end nuit", Kind: site.ShiftWeekend, Start: "18:00", End: "06:00"},
}

// job is a job title and its weight in a team's mix.
type job struct {
	title  string
	weight int
}

// staffing is the staff of one building: a team per shift worked there and
// its headcount; heads are posts held once, by the first people of the
// first team; the others take the jobs of mix in turn.
type staffing struct {
	building, label string
	heads           []string
	mix             []job
	teams           []headcount
}

type headcount struct {
	shift string
	n     int
}

// staff is the site's 800 people: production around the clock, the
// laboratory and warehouse in day shifts and weekends, the gatehouse and
// plant room 24/7, the offices in normal hours.
var staff = []staffing{
	{"B30", "Production stérile", []string{"responsable de production stérile", "pharmacien de production"},
		[]job{{"chef d'équipe de production", 1}, {"opérateur de production stérile", 10}, {"conducteur de ligne", 3},
			{"technicien de préparation", 2}, {"technicien de maintenance", 2}, {"technicien assurance qualité", 1}, {"opérateur de laverie", 1}},
		[]headcount{{"MAT", 80}, {"APM", 80}, {"NUIT", 60}, {"WEJ", 35}, {"WEN", 25}}},
	{"B40", "Production non stérile", []string{"responsable de production non stérile"},
		[]job{{"chef d'équipe de production", 1}, {"opérateur de production", 10}, {"conducteur de ligne", 3},
			{"opérateur de conditionnement", 3}, {"technicien de maintenance", 2}, {"technicien assurance qualité", 1}},
		[]headcount{{"MAT", 60}, {"APM", 60}, {"NUIT", 40}, {"WEJ", 25}}},
	{"B25", "Laboratoire de contrôle qualité", []string{"responsable du contrôle qualité"},
		[]job{{"chef d'équipe laboratoire", 1}, {"analyste CQ", 8}, {"technicien de microbiologie", 3},
			{"technicien de laboratoire", 3}, {"pharmacien", 1}},
		[]headcount{{"JOUR", 50}, {"MAT", 20}, {"APM", 20}, {"WEJ", 10}}},
	{"B70", "Magasin", []string{"responsable logistique", "pharmacien responsable des stupéfiants"},
		[]job{{"chef magasinier", 1}, {"magasinier", 6}, {"cariste", 3}, {"préparateur de commandes", 2}},
		[]headcount{{"JOUR", 15}, {"MAT", 20}, {"APM", 15}, {"WEJ", 10}}},
	{"PCS", "Sécurité", []string{"responsable sûreté"},
		[]job{{"chef de poste", 1}, {"agent de sécurité", 5}, {"agent de sécurité incendie", 2}},
		[]headcount{{"MAT", 8}, {"APM", 8}, {"NUIT", 6}, {"WEJ", 5}, {"WEN", 5}}},
	{"CHA", "Utilités", []string{"responsable maintenance et utilités"},
		[]job{{"chef d'équipe utilités", 1}, {"technicien CVC", 3}, {"technicien de maintenance", 2},
			{"technicien traitement des eaux", 2}, {"électricien", 1}},
		[]headcount{{"MAT", 10}, {"APM", 8}, {"NUIT", 5}, {"WEJ", 4}, {"WEN", 3}}},
	{"B90", "Services", []string{"directeur de site", "pharmacien responsable", "directeur de l'assurance qualité",
		"directeur de production", "directeur technique", "responsable des systèmes d'information",
		"responsable des ressources humaines", "responsable HSE"},
		[]job{{"ingénieur assurance qualité", 4}, {"chef de projet client", 3}, {"pharmacien assurance qualité", 1},
			{"ingénieur validation", 2}, {"planificateur", 2}, {"administrateur systèmes", 2}, {"acheteur", 1},
			{"assistant administratif", 2}, {"comptable", 1}, {"chargé de ressources humaines", 1}, {"chargé d'affaires réglementaires", 1}},
		[]headcount{{"JOUR", 113}}},
}

// spread turns a mix into the sequence its jobs are given in, one of each
// job first and then the heavier ones again, so that even a small team has
// a bit of every job.
func spread(mix []job) []string {
	var out []string
	for round := 0; ; round++ {
		n := len(out)
		for _, j := range mix {
			if j.weight > round {
				out = append(out, j.title)
			}
		}
		if len(out) == n {
			return out
		}
	}
}

// people writes the shifts, the teams and their members.
func (l *loader) people() error {
	for _, s := range shifts {
		if err := l.plant.CreateShift(l.ctx, &s); err != nil {
			return fmt.Errorf("shift %s: %w", s.Code, err)
		}
		if err := l.record(s.Code, s.ID); err != nil {
			return err
		}
	}
	n := 0 // people written so far
	for _, b := range staff {
		building, err := l.id(b.building)
		if err != nil {
			return err
		}
		jobs := spread(b.mix)
		heads := b.heads
		for _, hc := range b.teams {
			shift, err := l.id(hc.shift)
			if err != nil {
				return err
			}
			var shiftName string
			for _, s := range shifts {
				if s.Code == hc.shift {
					shiftName = s.Name
				}
			}
			t := &site.Team{Code: b.building + "-" + hc.shift, Name: b.label + " — " + shiftName, BuildingID: building, ShiftID: shift}
			if err := l.plant.CreateTeam(l.ctx, t); err != nil {
				return fmt.Errorf("team %s: %w", t.Code, err)
			}
			if err := l.record(t.Code, t.ID); err != nil {
				return err
			}
			for i := range hc.n {
				title := jobs[i%len(jobs)]
				if len(heads) > 0 {
					title, heads = heads[0], heads[1:]
				}
				p := &site.Person{Badge: fmt.Sprintf("B%06d", 101+n), Name: personName(n), Job: title, TeamID: t.ID}
				if err := l.plant.CreatePerson(l.ctx, p); err != nil {
					return fmt.Errorf("person %s: %w", p.Badge, err)
				}
				n++
			}
		}
	}
	return nil
}

// personName is the n-th person's name. Stepping through the pairs of
// first and last names by a prime stride mixes them, and as long as the two
// lists' lengths share no factor no pair comes twice before all have come.
func personName(n int) string {
	k := (n*7919 + 1234) % (len(firstNames) * len(lastNames))
	return firstNames[k%len(firstNames)] + " " + lastNames[k%len(lastNames)]
}

var firstNames = []string{
	"Camille", "Lucas", "Léa", "Hugo", "Manon", "Thomas", "Chloé", "Nicolas", "Inès", "Julien",
	"Sarah", "Maxime", "Emma", "Antoine", "Laura", "Alexandre", "Pauline", "Romain", "Julie", "Mathieu",
	"Clara", "Kévin", "Marie", "Quentin", "Anaïs", "Florian", "Céline", "Sébastien", "Élodie", "Guillaume",
	"Sophie", "Yanis", "Nathalie", "Karim", "Audrey", "Mehdi", "Aurélie", "Jérôme", "Fatima", "David",
	"Émilie", "Olivier", "Nadia", "Christophe", "Valérie", "Stéphane", "Sandrine", "Franck", "Amina", "Pierre",
	"Isabelle", "Benoît", "Hélène",
}

var lastNames = []string{
	"Martin", "Bernard", "Dubois", "Lemoine", "Robert", "Richard", "Petit", "Durand", "Leroy", "Moreau",
	"Simon", "Laurent", "Lefebvre", "Michel", "Garcia", "Marchand", "Bertrand", "Roux", "Vincent", "Fournier",
	"Morel", "Girard", "André", "Lefèvre", "Mercier", "Dupont", "Lambert", "Bonnet", "François", "Martinez",
	"Legrand", "Garnier", "Faure", "Rousseau", "Blanc", "Guérin", "Muller", "Henry", "Roussel", "Aubert",
	"Perrin", "Morin", "Barbier", "Clément", "Gauthier", "Dumont", "Lopez", "Fontaine", "Chevalier", "Robin",
	"Masson", "Sanchez", "Gérard", "Nguyen", "Boyer", "Denis", "Lemaire", "Duval", "Joly", "Gautier",
	"Benali",
}
