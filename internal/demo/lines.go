package demo

import (
	"fmt"
	"slices"
	"time"

	"galenix/internal/site"
)

// lineGroup is a run of similar production lines of one building.
type lineGroup struct {
	// prefix starts the lines' codes, numbered across the building.
	prefix string
	// name is the lines' name, %d their number within the group; a group
	// of one has no number.
	name     string
	forms    []site.Form
	count    int
	capacity []int // units per hour, taken in turn
	// rooms are the rooms the lines stand in, spread evenly.
	rooms []string
	// equipment lists the kinds of equipment on every line, in process
	// order; extra is a further piece on the group's odd-numbered lines,
	// at place extraAt of that order.
	equipment []string
	extra     string
	extraAt   int
}

var (
	ampoule = []site.Form{site.FormAmpoule}
	vial    = []site.Form{site.FormVial}
	syringe = []site.Form{site.FormSyringe}
)

// lineGroups are the 20 sterile lines of Bâtiment 30, one per grade A
// filling zone, then the 30 non-sterile lines of Bâtiment 40.
var lineGroups = []lineGroup{
	{"L30", "Ligne ampoules %d", ampoule, 7, []int{24000, 18000, 18000, 12000}, zones(1, 7),
		[]string{"Laveuse d'ampoules", "Tunnel de dépyrogénation", "Remplisseuse-scelleuse d'ampoules", "Mireuse automatique"}, "", 0},
	{"L30", "Ligne flacons %d", vial, 7, []int{12000, 9000, 6000}, zones(8, 14),
		[]string{"Laveuse de flacons", "Tunnel de dépyrogénation", "Remplisseuse de flacons", "Boucheuse", "Sertisseuse"}, "", 0},
	{"L30", "Ligne mixte ampoules et flacons", []site.Form{site.FormAmpoule, site.FormVial}, 1, []int{9000}, zones(15, 15),
		[]string{"Laveuse", "Tunnel de dépyrogénation", "Remplisseuse multiformat", "Sertisseuse"}, "", 0},
	{"L30", "Ligne seringues préremplies %d", syringe, 5, []int{24000, 12000, 18000}, zones(16, 20),
		[]string{"Ouvreuse de nids", "Remplisseuse-bouchonneuse de seringues", "Mireuse automatique"}, "Poseuse de tiges de piston", 2},

	{"L40", "Ligne comprimés %d", []site.Form{site.FormTablet}, 10, []int{120000, 90000, 150000, 60000},
		[]string{"B40-D11", "B40-D12", "B40-D13", "B40-D14", "B40-D15"},
		[]string{"Mélangeur", "Presse à comprimer", "Pelliculeuse", "Blistereuse"}, "Granulateur-sécheur", 0},
	{"L40", "Ligne gélules %d", []site.Form{site.FormCapsule}, 6, []int{60000, 45000, 30000},
		[]string{"B40-D21", "B40-D22", "B40-D23"},
		[]string{"Mélangeur", "Géluleuse", "Trieuse pondérale", "Blistereuse"}, "", 0},
	{"L40", "Ligne gouttes buvables %d", []site.Form{site.FormDrops}, 2, []int{6000, 4000}, []string{"B40-D31"},
		[]string{"Cuve de préparation", "Remplisseuse de flacons compte-gouttes", "Boucheuse-visseuse", "Étiqueteuse"}, "", 0},
	{"L40", "Ligne liquides buvables", []site.Form{site.FormDrops, site.FormSyrup}, 1, []int{4000}, []string{"B40-D31"},
		[]string{"Cuve de préparation", "Remplisseuse de flacons", "Boucheuse-visseuse"}, "", 0},
	{"L40", "Ligne sirops %d", []site.Form{site.FormSyrup}, 5, []int{8000, 6000, 5000}, []string{"B40-D41", "B40-D42"},
		[]string{"Cuve de préparation", "Station de filtration", "Remplisseuse de flacons", "Boucheuse-visseuse"}, "Étiqueteuse", 4},
	{"L40", "Ligne lotions %d", []site.Form{site.FormLotion}, 3, []int{4000, 3000}, []string{"B40-N51"},
		[]string{"Cuve de préparation", "Homogénéisateur", "Remplisseuse de flacons", "Étiqueteuse"}, "", 0},
	{"L40", "Ligne pâtes %d", []site.Form{site.FormPaste}, 3, []int{5000, 3000}, []string{"B40-N61"},
		[]string{"Mélangeur-malaxeur sous vide", "Remplisseuse de tubes", "Étuyeuse"}, "", 0},
}

// zones lists the grade A filling zones from..to of Bâtiment 30.
func zones(from, to int) []string {
	var out []string
	for i := from; i <= to; i++ {
		out = append(out, zone(i))
	}
	return out
}

// lineStatus is what the lines not simply available are doing.
var lineStatus = map[string]site.LineStatus{
	"L30-02": site.LineRunning, "L30-05": site.LineRunning, "L30-09": site.LineRunning,
	"L30-12": site.LineRunning, "L30-17": site.LineRunning, "L30-10": site.LineCleaning,
	"L40-01": site.LineRunning, "L40-04": site.LineRunning, "L40-08": site.LineRunning,
	"L40-12": site.LineRunning, "L40-17": site.LineRunning, "L40-22": site.LineRunning,
	"L40-15": site.LineCleaning, "L40-26": site.LineMaintenance,
}

// lines writes the production lines and their equipment.
func (l *loader) lines() error {
	numbers := map[string]int{} // last line number, per code prefix
	piece := 0                  // equipment written so far, across lines
	for _, g := range lineGroups {
		for i := range g.count {
			numbers[g.prefix]++
			code := fmt.Sprintf("%s-%02d", g.prefix, numbers[g.prefix])
			name := g.name
			if g.count > 1 {
				name = fmt.Sprintf(g.name, i+1)
			}
			// What a line is doing is derived from its batches and its
			// equipment (site.LineStateOf); only its service status is
			// stored: in maintenance, or available.
			line := &site.Line{Code: code, Name: name, Sterile: g.forms[0].Sterile(), Forms: g.forms,
				Status: site.LineAvailable, CapacityPerHour: g.capacity[i%len(g.capacity)]}
			status := site.LineAvailable
			if s, ok := lineStatus[code]; ok {
				status = s
			}
			if status == site.LineMaintenance {
				line.Status = status
			}
			var err error
			if line.RoomID, err = l.id(g.rooms[i*len(g.rooms)/g.count]); err != nil {
				return err
			}
			if err := l.plant.CreateLine(l.ctx, line); err != nil {
				return fmt.Errorf("line %s: %w", code, err)
			}
			if err := l.record(code, line.ID); err != nil {
				return err
			}
			kinds := g.equipment
			if g.extra != "" && i%2 == 0 {
				kinds = slices.Insert(slices.Clone(kinds), g.extraAt, g.extra)
			}
			for j, kind := range kinds {
				e := &site.Equipment{Code: fmt.Sprintf("%s-E%d", code, j+1), Name: kind + " " + code, Kind: kind,
					LineID: line.ID, Status: equipmentStatus(status, j, piece), QualificationDue: qualificationDue(piece)}
				if err := l.plant.CreateEquipment(l.ctx, e); err != nil {
					return fmt.Errorf("equipment %s: %w", e.Code, err)
				}
				piece++
			}
		}
	}
	return nil
}

// equipmentStatus is the status of the j-th piece of a line, the n-th piece
// of the site: in use on a running line, dirty on one being cleaned, one
// piece down on a line in maintenance; on available lines mostly clean, with
// a few pieces still dirty from the last batch and one under repair.
func equipmentStatus(line site.LineStatus, j, n int) site.EquipmentStatus {
	switch {
	case line == site.LineRunning:
		return site.EquipmentInUse
	case line == site.LineCleaning:
		return site.EquipmentDirty
	case line == site.LineMaintenance && j == 1:
		return site.EquipmentMaintenance
	case line == site.LineAvailable && n%41 == 20:
		return site.EquipmentMaintenance
	case line == site.LineAvailable && n%9 == 4:
		return site.EquipmentDirty
	}
	return site.EquipmentClean
}

// qualificationDue spreads the n-th piece's requalification over the two
// years after the reference day; one piece in seventeen is already overdue.
func qualificationDue(n int) time.Time {
	if n%17 == 5 {
		return reference.AddDate(0, 0, -(10 + n%80))
	}
	return reference.AddDate(0, 0, 1+(n*97)%730)
}
