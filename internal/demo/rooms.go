package demo

import (
	"fmt"
	"slices"

	"galenix/internal/site"
)

// env is a room's target temperature (°C) and relative humidity (%RH).
type env struct{ tMin, tMax, hMin, hMax float64 }

// The environments of the demo's rooms.
var (
	aseptic  = env{18, 22, 35, 55} // grades A and B
	clean    = env{18, 24, 30, 60} // grades C and D
	process  = env{18, 25, 30, 65} // controlled, not classified production
	corridor = env{17, 26, 20, 70}
	lab      = env{19, 25, 30, 60}
	ambient  = env{15, 25, 20, 60} // storage "below 25 °C"
	cold     = env{2, 8, 30, 85}   // cold rooms
	dock     = env{5, 30, 10, 90}
	office   = env{19, 26, 25, 70}
	servers  = env{18, 27, 20, 70}
	plant    = env{5, 40, 10, 90}
)

// room is a room of the demo: to is the code of the room it cascades its
// pressure to, pa the target differential to it.
type room struct {
	building, code, name string
	grade                site.Grade
	env                  env
	to                   string
	pa                   float64
}

// rooms lists the rooms so that each comes after the room it cascades to:
// pressure falls from the cleanest rooms down to the corridors.
var rooms = slices.Concat(
	[]room{
		{"PCS", "PCS-01", "Poste central de sécurité", site.GradeUnclassified, office, "", 0},
		{"PCS", "PCS-02", "Loge d'accueil et contrôle des entrées", site.GradeUnclassified, office, "", 0},
		{"PCS", "PCS-03", "Salle de vidéosurveillance", site.GradeUnclassified, servers, "", 0},
		{"PCS", "PCS-04", "Accueil visiteurs", site.GradeUnclassified, office, "", 0},

		{"CHA", "CHA-01", "Salle des chaudières", site.GradeUnclassified, plant, "", 0},
		{"CHA", "CHA-02", "Centrales de traitement d'air", site.GradeUnclassified, plant, "", 0},
		{"CHA", "CHA-03", "Production d'eau purifiée et d'eau PPI", site.GradeUnclassified, plant, "", 0},
		{"CHA", "CHA-04", "Groupes froids", site.GradeUnclassified, plant, "", 0},
		{"CHA", "CHA-05", "Supervision GTC", site.GradeUnclassified, office, "", 0},

		{"B25", "B25-U01", "Couloir du laboratoire", site.GradeUnclassified, corridor, "", 0},
		{"B25", "B25-N01", "Réception des échantillons", site.GradeCNC, lab, "", 0},
		{"B25", "B25-N02", "Laboratoire physico-chimie 1", site.GradeCNC, lab, "", 0},
		{"B25", "B25-N03", "Laboratoire physico-chimie 2", site.GradeCNC, lab, "", 0},
		{"B25", "B25-N04", "Salle HPLC", site.GradeCNC, lab, "", 0},
		{"B25", "B25-N05", "Salle des balances", site.GradeCNC, lab, "", 0},
		{"B25", "B25-N06", "Salle des enceintes de stabilité", site.GradeCNC, lab, "", 0},
		{"B25", "B25-N07", "Échantillothèque", site.GradeCNC, ambient, "", 0},
		{"B25", "B25-D01", "Laboratoire de microbiologie", site.GradeD, clean, "B25-U01", 10},
		{"B25", "B25-C01", "Sas de microbiologie", site.GradeC, clean, "B25-D01", 10},
		{"B25", "B25-B01", "Salle des essais de stérilité", site.GradeB, aseptic, "B25-C01", 15},
		{"B25", "B25-A01", "Isolateur d'essais de stérilité", site.GradeA, aseptic, "B25-B01", 10},
	},
	sterileRooms(),
	nonSterileRooms(),
	[]room{
		{"B70", "B70-U01", "Quais de réception et d'expédition", site.GradeUnclassified, dock, "", 0},
		{"B70", "B70-N01", "Zone de quarantaine", site.GradeCNC, ambient, "", 0},
		{"B70", "B70-N02", "Stockage matières premières", site.GradeCNC, ambient, "", 0},
		{"B70", "B70-N03", "Stockage articles de conditionnement", site.GradeCNC, ambient, "", 0},
		{"B70", "B70-N04", "Stockage produits finis", site.GradeCNC, ambient, "", 0},
		{"B70", "B70-N05", "Zone des produits refusés", site.GradeCNC, ambient, "", 0},
		{"B70", "B70-F01", "Chambre froide 1 (2–8 °C)", site.GradeCNC, cold, "", 0},
		{"B70", "B70-F02", "Chambre froide 2 (2–8 °C)", site.GradeCNC, cold, "", 0},
		{"B70", "B70-S01", "Coffre des stupéfiants", site.GradeCNC, ambient, "", 0},
		{"B70", "B70-D01", "Cabine de prélèvement", site.GradeD, clean, "B70-N02", 10},

		{"B90", "B90-01", "Bureaux plateau 1", site.GradeUnclassified, office, "", 0},
		{"B90", "B90-02", "Bureaux plateau 2", site.GradeUnclassified, office, "", 0},
		{"B90", "B90-03", "Salles de réunion", site.GradeUnclassified, office, "", 0},
		{"B90", "B90-04", "Archives GMP", site.GradeUnclassified, ambient, "", 0},
		{"B90", "B90-S01", "Salle serveurs 1", site.GradeUnclassified, servers, "", 0},
		{"B90", "B90-S02", "Salle serveurs 2", site.GradeUnclassified, servers, "", 0},
		{"B90", "B90-S03", "Local télécom", site.GradeUnclassified, servers, "", 0},
	},
)

// sterileLines is the number of lines of Bâtiment 30, each in its own
// grade A filling zone; two zones share each grade B aseptic room.
const sterileLines = 20

// sterileRooms are the clean rooms of Bâtiment 30: grade A filling zones in
// grade B aseptic rooms, grade C preparation rooms, grade D corridors and
// airlocks, down to the building's unclassified corridor.
func sterileRooms() []room {
	rs := []room{
		{"B30", "B30-U01", "Couloir de circulation", site.GradeUnclassified, corridor, "", 0},
		{"B30", "B30-D01", "Couloir propre classe D", site.GradeD, clean, "B30-U01", 10},
		{"B30", "B30-D02", "Sas personnel classe D", site.GradeD, clean, "B30-U01", 10},
		{"B30", "B30-D03", "Sas matériel classe D", site.GradeD, clean, "B30-U01", 10},
		{"B30", "B30-D04", "Laverie", site.GradeD, clean, "B30-U01", 10},
		{"B30", "B30-D05", "Stockage des composants", site.GradeD, clean, "B30-D01", 10},
		{"B30", "B30-C01", "Sas d'habillage classe C", site.GradeC, clean, "B30-D02", 15},
		{"B30", "B30-C02", "Couloir classe C", site.GradeC, clean, "B30-D01", 15},
		{"B30", "B30-C03", "Sas matériel classe C", site.GradeC, clean, "B30-D03", 15},
		{"B30", "B30-C04", "Préparation des solutions 1", site.GradeC, clean, "B30-C02", 10},
		{"B30", "B30-C05", "Préparation des solutions 2", site.GradeC, clean, "B30-C02", 10},
		{"B30", "B30-C06", "Préparation des solutions 3", site.GradeC, clean, "B30-C02", 10},
		{"B30", "B30-C07", "Préparation des composants", site.GradeC, clean, "B30-C02", 10},
		{"B30", "B30-C08", "Salle des autoclaves", site.GradeC, clean, "B30-C02", 10},
		{"B30", "B30-B01", "Sas d'habillage classe B", site.GradeB, aseptic, "B30-C01", 15},
		{"B30", "B30-B02", "Sas matériel classe B", site.GradeB, aseptic, "B30-C03", 15},
	}
	for i := 1; i <= sterileLines/2; i++ {
		rs = append(rs, room{"B30", fmt.Sprintf("B30-B%02d", 10+i), fmt.Sprintf("Salle de remplissage aseptique %d", i),
			site.GradeB, aseptic, "B30-C02", 15})
	}
	for i := 1; i <= sterileLines; i++ {
		rs = append(rs, room{"B30", zone(i), fmt.Sprintf("Zone de remplissage classe A n° %d", i),
			site.GradeA, aseptic, fmt.Sprintf("B30-B%02d", 10+(i+1)/2), 10})
	}
	return rs
}

// zone is the code of the i-th grade A filling zone of Bâtiment 30.
func zone(i int) string { return fmt.Sprintf("B30-A%02d", i) }

// nonSterileRooms are the rooms of Bâtiment 40: grade D workshops for the
// dry and oral liquid forms, controlled not classified ones for the
// dermal forms and packaging.
func nonSterileRooms() []room {
	return []room{
		{"B40", "B40-U01", "Couloir de circulation", site.GradeUnclassified, corridor, "", 0},
		{"B40", "B40-D01", "Couloir propre classe D", site.GradeD, clean, "B40-U01", 10},
		{"B40", "B40-D02", "Sas personnel classe D", site.GradeD, clean, "B40-U01", 10},
		{"B40", "B40-D03", "Sas matériel classe D", site.GradeD, clean, "B40-U01", 10},
		{"B40", "B40-D04", "Pesée centrale", site.GradeD, clean, "B40-D01", 10},
		{"B40", "B40-D11", "Atelier comprimés 1", site.GradeD, clean, "B40-D01", 10},
		{"B40", "B40-D12", "Atelier comprimés 2", site.GradeD, clean, "B40-D01", 10},
		{"B40", "B40-D13", "Atelier comprimés 3", site.GradeD, clean, "B40-D01", 10},
		{"B40", "B40-D14", "Atelier comprimés 4", site.GradeD, clean, "B40-D01", 10},
		{"B40", "B40-D15", "Atelier comprimés 5", site.GradeD, clean, "B40-D01", 10},
		{"B40", "B40-D21", "Atelier gélules 1", site.GradeD, clean, "B40-D01", 10},
		{"B40", "B40-D22", "Atelier gélules 2", site.GradeD, clean, "B40-D01", 10},
		{"B40", "B40-D23", "Atelier gélules 3", site.GradeD, clean, "B40-D01", 10},
		{"B40", "B40-D31", "Atelier gouttes buvables", site.GradeD, clean, "B40-D01", 10},
		{"B40", "B40-D41", "Atelier sirops 1", site.GradeD, clean, "B40-D01", 10},
		{"B40", "B40-D42", "Atelier sirops 2", site.GradeD, clean, "B40-D01", 10},
		{"B40", "B40-N51", "Atelier lotions", site.GradeCNC, process, "B40-U01", 10},
		{"B40", "B40-N61", "Atelier pâtes et pommades", site.GradeCNC, process, "B40-U01", 10},
		{"B40", "B40-N71", "Conditionnement secondaire 1", site.GradeCNC, process, "B40-U01", 10},
		{"B40", "B40-N72", "Conditionnement secondaire 2", site.GradeCNC, process, "B40-U01", 10},
		{"B40", "B40-N81", "Lavage des équipements", site.GradeCNC, process, "B40-U01", 10},
	}
}

// rooms writes the rooms of every building.
func (l *loader) rooms() error {
	for _, r := range rooms {
		rec := &site.Room{Code: r.code, Name: r.name, Grade: r.grade,
			TempMin: r.env.tMin, TempMax: r.env.tMax, HumidityMin: r.env.hMin, HumidityMax: r.env.hMax, PressureDiffPa: r.pa}
		var err error
		if rec.BuildingID, err = l.id(r.building); err != nil {
			return err
		}
		if r.to != "" {
			if rec.CascadesTo, err = l.id(r.to); err != nil {
				return err
			}
		}
		if err := l.plant.CreateRoom(l.ctx, rec); err != nil {
			return fmt.Errorf("room %s: %w", r.code, err)
		}
		if err := l.record(r.code, rec.ID); err != nil {
			return err
		}
	}
	return nil
}
