package demo

import (
	"fmt"
	"strings"

	"galenix/internal/production"
	"galenix/internal/site"
)

// materials are the site's raw materials and components: the active
// substances of the demo products (MP-), excipients and solvents (EX-),
// containers, closures and printed articles (AC-).
var materials = []production.Material{
	{Code: "MP-ONDA", Name: "Chlorhydrate d'ondansétron dihydraté", Kind: production.MaterialRaw, Unit: "kg"},
	{Code: "MP-MORPH", Name: "Chlorhydrate de morphine trihydraté", Kind: production.MaterialRaw, Unit: "kg"},
	{Code: "MP-ENOX", Name: "Énoxaparine sodique", Kind: production.MaterialRaw, Unit: "kg"},
	{Code: "MP-PARA", Name: "Paracétamol", Kind: production.MaterialRaw, Unit: "kg"},
	{Code: "MP-AMOX", Name: "Amoxicilline trihydratée", Kind: production.MaterialRaw, Unit: "kg"},
	{Code: "MP-IBU", Name: "Ibuprofène", Kind: production.MaterialRaw, Unit: "kg"},
	{Code: "MP-ADAL", Name: "Adalimumab, substance active en solution à 100 mg/mL", Kind: production.MaterialRaw, Unit: "L"},
	{Code: "MP-INSU", Name: "Insuline glargine", Kind: production.MaterialRaw, Unit: "g"},
	{Code: "MP-RITU", Name: "Rituximab, substance active en solution à 25 mg/mL", Kind: production.MaterialRaw, Unit: "L"},
	{Code: "MP-SACB", Name: "Saccharomyces boulardii lyophilisé", Kind: production.MaterialRaw, Unit: "kg"},
	{Code: "MP-VITD", Name: "Cholécalciférol, concentré huileux", Kind: production.MaterialRaw, Unit: "kg"},
	{Code: "MP-LEVO", Name: "Lévothyroxine sodique", Kind: production.MaterialRaw, Unit: "g"},
	{Code: "MP-PROG", Name: "Progestérone micronisée", Kind: production.MaterialRaw, Unit: "kg"},
	{Code: "MP-METH", Name: "Chlorhydrate de méthadone", Kind: production.MaterialRaw, Unit: "kg"},
	{Code: "MP-PERM", Name: "Perméthrine", Kind: production.MaterialRaw, Unit: "kg"},
	{Code: "MP-ZINC", Name: "Oxyde de zinc", Kind: production.MaterialRaw, Unit: "kg"},
	{Code: "MP-DEXA", Name: "Phosphate sodique de dexaméthasone", Kind: production.MaterialRaw, Unit: "g"},

	{Code: "EX-EPPI", Name: "Eau pour préparations injectables", Kind: production.MaterialRaw, Unit: "L"},
	{Code: "EX-EAUP", Name: "Eau purifiée", Kind: production.MaterialRaw, Unit: "L"},
	{Code: "EX-NACL", Name: "Chlorure de sodium", Kind: production.MaterialRaw, Unit: "kg"},
	{Code: "EX-CITR", Name: "Acide citrique monohydraté", Kind: production.MaterialRaw, Unit: "kg"},
	{Code: "EX-CITNA", Name: "Citrate de sodium dihydraté", Kind: production.MaterialRaw, Unit: "kg"},
	{Code: "EX-PHOS", Name: "Phosphate disodique dodécahydraté", Kind: production.MaterialRaw, Unit: "kg"},
	{Code: "EX-HIST", Name: "L-histidine", Kind: production.MaterialRaw, Unit: "kg"},
	{Code: "EX-PS80", Name: "Polysorbate 80", Kind: production.MaterialRaw, Unit: "kg"},
	{Code: "EX-SACC", Name: "Saccharose", Kind: production.MaterialRaw, Unit: "kg"},
	{Code: "EX-MANN", Name: "Mannitol", Kind: production.MaterialRaw, Unit: "kg"},
	{Code: "EX-MCRE", Name: "Métacrésol", Kind: production.MaterialRaw, Unit: "kg"},
	{Code: "EX-GLYC", Name: "Glycérol", Kind: production.MaterialRaw, Unit: "kg"},
	{Code: "EX-LACT", Name: "Lactose monohydraté", Kind: production.MaterialRaw, Unit: "kg"},
	{Code: "EX-MCC", Name: "Cellulose microcristalline", Kind: production.MaterialRaw, Unit: "kg"},
	{Code: "EX-AMID", Name: "Amidon de maïs", Kind: production.MaterialRaw, Unit: "kg"},
	{Code: "EX-POVI", Name: "Povidone K30", Kind: production.MaterialRaw, Unit: "kg"},
	{Code: "EX-CROS", Name: "Croscarmellose sodique", Kind: production.MaterialRaw, Unit: "kg"},
	{Code: "EX-MGST", Name: "Stéarate de magnésium", Kind: production.MaterialRaw, Unit: "kg"},
	{Code: "EX-SILI", Name: "Silice colloïdale anhydre", Kind: production.MaterialRaw, Unit: "kg"},
	{Code: "EX-OPAD", Name: "Mélange de pelliculage blanc", Kind: production.MaterialRaw, Unit: "kg"},
	{Code: "EX-SORB", Name: "Sorbitol liquide non cristallisable", Kind: production.MaterialRaw, Unit: "kg"},
	{Code: "EX-PARAB", Name: "Parahydroxybenzoate de méthyle", Kind: production.MaterialRaw, Unit: "kg"},
	{Code: "EX-AROM", Name: "Arôme orange", Kind: production.MaterialRaw, Unit: "kg"},
	{Code: "EX-XANT", Name: "Gomme xanthane", Kind: production.MaterialRaw, Unit: "kg"},
	{Code: "EX-TCM", Name: "Triglycérides à chaîne moyenne", Kind: production.MaterialRaw, Unit: "kg"},
	{Code: "EX-ETOH", Name: "Éthanol à 96 %", Kind: production.MaterialRaw, Unit: "kg"},
	{Code: "EX-CARB", Name: "Carbomère 980", Kind: production.MaterialRaw, Unit: "kg"},
	{Code: "EX-TEA", Name: "Trolamine", Kind: production.MaterialRaw, Unit: "kg"},
	{Code: "EX-VASE", Name: "Vaseline blanche", Kind: production.MaterialRaw, Unit: "kg"},
	{Code: "EX-LANO", Name: "Lanoline", Kind: production.MaterialRaw, Unit: "kg"},
	{Code: "EX-TALC", Name: "Talc", Kind: production.MaterialRaw, Unit: "kg"},

	{Code: "AC-AMP1", Name: "Ampoule en verre de type I, 1 mL", Kind: production.MaterialComponent, Unit: "u"},
	{Code: "AC-AMP2", Name: "Ampoule en verre de type I, 2 mL", Kind: production.MaterialComponent, Unit: "u"},
	{Code: "AC-FL2", Name: "Flacon en verre de type I, 2 mL", Kind: production.MaterialComponent, Unit: "u"},
	{Code: "AC-FL10", Name: "Flacon en verre de type I, 10 mL", Kind: production.MaterialComponent, Unit: "u"},
	{Code: "AC-FL50", Name: "Flacon en verre de type I, 50 mL", Kind: production.MaterialComponent, Unit: "u"},
	{Code: "AC-BOU13", Name: "Bouchon en bromobutyle, 13 mm, prêt à l'emploi", Kind: production.MaterialComponent, Unit: "u"},
	{Code: "AC-BOU20", Name: "Bouchon en bromobutyle, 20 mm, prêt à l'emploi", Kind: production.MaterialComponent, Unit: "u"},
	{Code: "AC-CAP13", Name: "Capsule flip-off en aluminium, 13 mm", Kind: production.MaterialComponent, Unit: "u"},
	{Code: "AC-CAP20", Name: "Capsule flip-off en aluminium, 20 mm", Kind: production.MaterialComponent, Unit: "u"},
	{Code: "AC-SER", Name: "Seringue en verre 1 mL à aiguille sertie, en nid stérile", Kind: production.MaterialComponent, Unit: "u"},
	{Code: "AC-PIST", Name: "Bouchon-piston stérile", Kind: production.MaterialComponent, Unit: "u"},
	{Code: "AC-TIGE", Name: "Tige de piston", Kind: production.MaterialComponent, Unit: "u"},
	{Code: "AC-GEL0", Name: "Gélule vide de taille 0", Kind: production.MaterialComponent, Unit: "u"},
	{Code: "AC-GEL1", Name: "Gélule vide de taille 1", Kind: production.MaterialComponent, Unit: "u"},
	{Code: "AC-PVC", Name: "Film PVC/PVDC thermoformable", Kind: production.MaterialComponent, Unit: "m"},
	{Code: "AC-ALU", Name: "Aluminium d'operculage imprimé", Kind: production.MaterialComponent, Unit: "m"},
	{Code: "AC-FLA30", Name: "Flacon en verre ambré, 30 mL", Kind: production.MaterialComponent, Unit: "u"},
	{Code: "AC-FLA150", Name: "Flacon en verre ambré, 150 mL", Kind: production.MaterialComponent, Unit: "u"},
	{Code: "AC-PEHD", Name: "Flacon en PEHD, 100 mL", Kind: production.MaterialComponent, Unit: "u"},
	{Code: "AC-CPTG", Name: "Compte-gouttes", Kind: production.MaterialComponent, Unit: "u"},
	{Code: "AC-BVIS", Name: "Bouchon à vis avec sécurité enfant", Kind: production.MaterialComponent, Unit: "u"},
	{Code: "AC-TUBE", Name: "Tube en aluminium verni, 50 g", Kind: production.MaterialComponent, Unit: "u"},
	{Code: "AC-ETIQ", Name: "Étiquette imprimée", Kind: production.MaterialComponent, Unit: "u"},
	{Code: "AC-ETUI", Name: "Étui en carton imprimé", Kind: production.MaterialComponent, Unit: "u"},
	{Code: "AC-NOTI", Name: "Notice", Kind: production.MaterialComponent, Unit: "u"},
}

// materialNames maps a material's code to its name, for the steps' texts.
var materialNames = func() map[string]string {
	m := map[string]string{}
	for _, mat := range materials {
		m[mat.Code] = mat.Name
	}
	return m
}()

// rng is a controlled value: its target and its limits.
type rng struct{ target, low, high float64 }

// dose is a quantity of a material, in the material's unit.
type dose struct {
	material string
	qty      float64
}

// formula is what a product's master batch record is generated from: the
// batch, the formula and the values the in-process controls check.
type formula struct {
	size  float64 // units of product per batch
	unit  string
	hours float64
	// api is the active substance; excipients are weighed with it, in
	// their order of addition.
	api        dose
	excipients []dose
	// solvent is the water or oil of a liquid or semi-solid, added at the
	// preparation (80 % first, the rest to volume).
	solvent dose
	// primary are the containers and closures, in order of use; printed
	// are the labels, leaflets and boxes.
	primary []dose
	printed []dose
	// ph is the solution's pH (zero target: not controlled); fill is the
	// fill volume (mL), the unit weight (mg) or the tube's weight (g).
	ph   rng
	fill rng
	// ipc is how many in-process controls run during filling or
	// compression; wet asks for a wet granulation.
	ipc int
	wet bool
}

// The equipment kinds the masters check, as lines.go names them.
const (
	kindAmpouleWasher = "Laveuse d'ampoules"
	kindVialWasher    = "Laveuse de flacons"
	kindTunnel        = "Tunnel de dépyrogénation"
	kindAmpouleFiller = "Remplisseuse-scelleuse d'ampoules"
	kindVialFiller    = "Remplisseuse de flacons"
	kindStopperer     = "Boucheuse"
	kindCrimper       = "Sertisseuse"
	kindNestOpener    = "Ouvreuse de nids"
	kindSyringeFiller = "Remplisseuse-bouchonneuse de seringues"
	kindInspection    = "Mireuse automatique"
	kindGranulator    = "Granulateur-sécheur"
	kindBlender       = "Mélangeur"
	kindPress         = "Presse à comprimer"
	kindCoater        = "Pelliculeuse"
	kindBlister       = "Blistereuse"
	kindEncapsulator  = "Géluleuse"
	kindCheckweigher  = "Trieuse pondérale"
	kindTank          = "Cuve de préparation"
	kindDropsFiller   = "Remplisseuse de flacons compte-gouttes"
	kindBottleFiller  = "Remplisseuse de flacons"
	kindCapper        = "Boucheuse-visseuse"
	kindLabeller      = "Étiqueteuse"
	kindFilterStation = "Station de filtration"
	kindHomogeniser   = "Homogénéisateur"
	kindVacuumMixer   = "Mélangeur-malaxeur sous vide"
	kindTubeFiller    = "Remplisseuse de tubes"
	kindCartoner      = "Étuyeuse"
)

// recipe builds a master's operations; mat resolves a material's code to
// its id.
type recipe struct {
	ops []production.Operation
	mat func(code string) string
}

func (r *recipe) op(title string, steps ...production.Step) {
	r.ops = append(r.ops, production.Operation{Title: title, Steps: steps})
}

// operations generates the master batch record of a product of the form,
// from its formula: every master starts with the line clearance, sterile
// ones are longer.
func operations(form site.Form, class production.SpecialClass, f formula, mat func(code string) string) []production.Operation {
	r := &recipe{mat: mat}
	r.opening(form.Sterile(), class)
	r.dispensing(f, class)
	switch form {
	case site.FormAmpoule, site.FormVial, site.FormSyringe:
		r.sterile(form, class == production.ClassBiologic, f)
	case site.FormTablet, site.FormCapsule:
		r.solid(form, f)
	case site.FormDrops, site.FormSyrup, site.FormLotion:
		r.liquid(form, f)
	case site.FormPaste:
		r.paste(f)
	}
	r.closing()
	return r.ops
}

// --- the kinds of step

func ptr(f float64) *float64 { return &f }

func do(text string) production.Step {
	return production.Step{Kind: production.StepInstruction, Text: text}
}

func measure(text, unit string, v rng, decimals int) production.Step {
	return production.Step{Kind: production.StepNumeric, Text: text, Unit: unit,
		Target: ptr(v.target), Low: ptr(v.low), High: ptr(v.high), Decimals: decimals}
}

func (r *recipe) add(text string, d dose, tolerance float64) production.Step {
	return production.Step{Kind: production.StepMaterial, Text: text, MaterialID: r.mat(d.material),
		Quantity: d.qty, Tolerance: tolerance}
}

func check(kind string) production.Step {
	return production.Step{Kind: production.StepEquipment, EquipmentKind: kind,
		Text: fmt.Sprintf("Vérifier l'équipement « %s » : propre, qualifié, étiquette de statut valide", kind)}
}

func sample(text, point string) production.Step {
	return production.Step{Kind: production.StepSampling, Text: text, SamplePoint: point}
}

func signed(s production.Step) production.Step { s.Sign = true; return s }

func critical(s production.Step) production.Step { s.Sign, s.Critical = true, true; return s }

// lower puts a material's name in the middle of a sentence.
func lower(name string) string {
	if name == "" || strings.HasPrefix(name, "L-") {
		return name
	}
	first := []rune(name)
	if len(first) > 1 && first[1] >= 'a' && first[1] <= 'z' {
		return strings.ToLower(string(first[:1])) + string(first[1:])
	}
	return name
}

func scale(d dose, share float64) dose { return dose{d.material, round3(d.qty * share)} }

func round3(f float64) float64 { return float64(int64(f*1000+0.5)) / 1000 }

// --- the operations every master shares

// opening is the line clearance and the checks of the room before the
// batch starts.
func (r *recipe) opening(sterile bool, class production.SpecialClass) {
	items := []string{
		"Aucun produit, article ni document du lot précédent sur la ligne et dans la salle",
		"Étiquettes et imprimés du lot précédent retirés, détruits ou retournés au magasin",
		"Équipements et surfaces nettoyés, étiquette « propre » en place et dans sa validité",
		"Statut de la salle vérifié : propre, en classe, différentiels de pression conformes",
		"Dossier de lot, étiquettes de statut et articles du lot présents et à la bonne version",
	}
	if class != production.ClassNone {
		items = append(items, "Nettoyage renforcé après changement de classe particulière vérifié et enregistré")
	}
	steps := []production.Step{
		signed(production.Step{Kind: production.StepClearance, Text: "Réaliser le vide de ligne avant le démarrage du lot", Checklist: items}),
		measure("Relever la pression différentielle de la salle par rapport au sas", "Pa", rng{15, 10, 25}, 1),
		measure("Relever la température de la salle", "°C", rng{21, 18, 24}, 1),
		measure("Relever l'humidité relative de la salle", "%HR", rng{45, 30, 60}, 0),
		do("Vérifier que le dossier de lot est complet et à la version en vigueur"),
	}
	if sterile {
		steps = append(steps,
			do("Vérifier l'habillage stérile des opérateurs : tenue, cagoule, lunettes, double paire de gants"),
			measure("Relever le comptage particulaire de la zone de classe A au repos (≥ 0,5 µm)", "part/m³", rng{0, 0, 3520}, 0),
			do("Vérifier la date de la dernière désinfection de la salle et l'absence d'alerte environnementale"))
	}
	if class == production.ClassNarcotic {
		steps = append(steps, signed(do("Vérifier la réception des stupéfiants sous double contrôle et leur inscription au registre")))
	}
	r.op("Vide de ligne et vérifications préalables", steps...)
}

// dispensing weighs the active substance and the excipients.
func (r *recipe) dispensing(f formula, class production.SpecialClass) {
	steps := []production.Step{
		measure("Vérifier la balance de pesée avec le poids étalon de 1 kg", "g", rng{1000, 999.5, 1000.5}, 1),
		do("Vérifier l'identité, le statut « libéré » et la date de péremption de chaque matière à peser"),
		critical(r.add("Peser le principe actif : "+lower(materialNames[f.api.material]), f.api, 0.5)),
	}
	if class == production.ClassHormone || class == production.ClassBiologic {
		steps = append(steps, do("Manipuler le principe actif sous hotte de pesée à flux laminaire, avec protection respiratoire"))
	}
	for i, e := range f.excipients {
		s := r.add("Peser l'excipient : "+lower(materialNames[e.material]), e, 2)
		if i == 0 {
			s = signed(s)
		}
		steps = append(steps, s)
	}
	steps = append(steps,
		do("Étiqueter chaque contenant pesé : matière, lot, quantité, date et opérateur"),
		signed(do("Vérifier la réconciliation de la pesée et transférer les matières vers la zone de fabrication")))
	r.op("Pesée des matières premières", steps...)
}

// closing hands the line over and the record to quality.
func (r *recipe) closing() {
	r.op("Clôture du lot",
		do("Retirer de la ligne les articles, étiquettes et documents du lot"),
		do("Apposer l'étiquette « à nettoyer » sur les équipements utilisés"),
		signed(measure("Calculer le rendement final du lot", "%", rng{97, 94, 100.5}, 1)),
		signed(do("Vérifier la complétude du dossier de lot avant transmission à l'assurance qualité")))
}

// --- sterile products: ampoules, vials, prefilled syringes

func (r *recipe) sterile(form site.Form, biologic bool, f formula) {
	// The solution.
	steps := []production.Step{}
	if biologic {
		steps = append(steps,
			do("Sortir la substance active de la chambre froide et vérifier l'enregistrement de température du transport"),
			measure("Relever la température de la substance active", "°C", rng{5, 2, 8}, 1),
			do("Homogénéiser la substance active par retournements lents, sans agitation ni mousse"))
	}
	steps = append(steps,
		r.add("Introduire 80 % de l'eau pour préparations injectables dans la cuve de préparation", scale(f.solvent, 0.8), 2),
		measure("Contrôler la température de l'eau pour préparations injectables", "°C", rng{22, 15, 30}, 1),
		do("Démarrer l'agitation de la cuve à 300 tr/min"))
	for _, e := range f.excipients {
		steps = append(steps, do("Introduire l'excipient pesé et dissoudre sous agitation : "+lower(materialNames[e.material])))
	}
	addAPI := "Introduire le principe actif pesé et dissoudre sous agitation"
	if biologic {
		addAPI = "Introduire la substance active et homogénéiser à faible agitation, sans mousse"
	}
	steps = append(steps,
		signed(do(addAPI)),
		measure("Relever la durée d'agitation", "min", rng{30, 20, 45}, 0),
		do("Vérifier visuellement la dissolution complète : solution limpide, sans particule visible"),
		measure("Contrôler le pH de la solution", "pH", f.ph, 2),
		do("Ajuster le pH avec de l'hydroxyde de sodium 1 M ou de l'acide chlorhydrique 1 M si nécessaire"),
		r.add("Compléter au volume final avec l'eau pour préparations injectables", scale(f.solvent, 0.2), 10),
		signed(measure("Contrôler le pH de la solution au volume final", "pH", f.ph, 2)),
		measure("Contrôler la densité de la solution", "g/mL", rng{1.010, 1.000, 1.025}, 3),
		measure("Contrôler l'osmolalité de la solution", "mOsm/kg", rng{295, 270, 330}, 0),
		sample("Prélever l'échantillon de contrôle en cours : titre, pH, aspect", "Cuve de préparation — vanne de fond"),
		sample("Prélever l'échantillon de biocharge avant filtration", "Cuve de préparation — amont du filtre"))
	r.op("Préparation de la solution", steps...)

	r.op("Filtration stérilisante",
		do("Monter le filtre stérilisant 0,22 µm sur la ligne de transfert et noter son numéro de lot"),
		critical(measure("Vérifier l'intégrité du filtre 0,22 µm avant filtration (point de bulle)", "bar", rng{3.6, 3.2, 5.0}, 2)),
		measure("Relever la pression de filtration", "bar", rng{1.5, 0.5, 2.5}, 1),
		measure("Relever la durée de filtration", "min", rng{45, 15, 90}, 0),
		critical(measure("Vérifier l'intégrité du filtre 0,22 µm après filtration (point de bulle)", "bar", rng{3.6, 3.2, 5.0}, 2)),
		sample("Prélever l'échantillon de la solution filtrée", "Cuve de réception stérile"),
		measure("Relever le temps écoulé depuis le début de la préparation", "h", rng{6, 0, 24}, 1))

	// The containers.
	switch form {
	case site.FormSyringe:
		r.op("Préparation des seringues",
			check(kindNestOpener),
			r.add("Introduire les nids de seringues stériles dans l'isolateur", f.primary[0], 2),
			do("Décontaminer les bacs de nids au peroxyde d'hydrogène à l'entrée de l'isolateur"),
			measure("Relever la concentration résiduelle de peroxyde d'hydrogène dans l'isolateur", "ppm", rng{0.5, 0, 1}, 1),
			measure("Relever la pression différentielle de l'isolateur", "Pa", rng{50, 30, 80}, 0),
			do("Retirer les couvercles Tyvek des bacs et présenter les nids à l'ouvreuse"))
	default:
		washer, container := kindAmpouleWasher, "ampoules"
		if form == site.FormVial {
			washer, container = kindVialWasher, "flacons"
		}
		r.op("Lavage et dépyrogénation des "+container,
			check(washer),
			r.add("Charger les "+container+" vides dans la laveuse", f.primary[0], 3),
			measure("Relever la température de l'eau de rinçage", "°C", rng{70, 60, 80}, 0),
			measure("Relever la conductivité de l'eau de rinçage", "µS/cm", rng{0.8, 0, 1.3}, 2),
			check(kindTunnel),
			signed(measure("Relever la température de la zone chaude du tunnel", "°C", rng{320, 300, 350}, 0)),
			measure("Relever la vitesse de la bande du tunnel", "mm/min", rng{120, 100, 140}, 0),
			measure("Relever la pression différentielle entre le tunnel et la salle", "Pa", rng{10, 5, 20}, 1),
			do("Vérifier l'enregistrement du cycle de dépyrogénation et l'annexer au dossier"))
	}

	r.op("Stérilisation du circuit de répartition",
		do("Monter le circuit de répartition emballé et le charger dans l'autoclave"),
		signed(measure("Relever la température du palier de stérilisation", "°C", rng{122, 121, 124}, 1)),
		measure("Relever la durée du palier de stérilisation", "min", rng{20, 20, 30}, 0),
		measure("Relever la valeur stérilisatrice F0 du cycle", "min", rng{25, 15, 60}, 1),
		do("Vérifier le virage de l'indicateur de stérilisation et annexer l'enregistrement du cycle"),
		do("Transférer le circuit stérile en zone A sans rompre son emballage"))

	// The aseptic filling, with its in-process controls.
	filler := map[site.Form]string{site.FormAmpoule: kindAmpouleFiller, site.FormVial: kindVialFiller, site.FormSyringe: kindSyringeFiller}[form]
	steps = []production.Step{
		check(filler),
		do("Monter le circuit de remplissage stérile et purger la ligne"),
		signed(measure("Régler le volume de remplissage", "mL", f.fill, 3)),
		do("Éliminer les premières unités remplies"),
	}
	for k := 1; k <= f.ipc; k++ {
		steps = append(steps, measure(fmt.Sprintf("Contrôle du volume de remplissage n° %d (moyenne de 5 unités)", k), "mL", f.fill, 3))
		if k%2 == 0 {
			steps = append(steps, measure(fmt.Sprintf("Comptage particulaire en zone A n° %d (≥ 0,5 µm)", k/2), "part/m³", rng{0, 0, 3520}, 0))
		}
		if k%4 == 0 {
			steps = append(steps, measure(fmt.Sprintf("Relever la pression différentielle de la zone A n° %d", k/4), "Pa", rng{15, 10, 25}, 1))
		}
	}
	steps = append(steps,
		sample("Placer les boîtes de sédimentation en zone A pendant la répartition", "Zone A — poste de remplissage"),
		sample("Prélever une gélose contact sur les gants des opérateurs en fin de répartition", "Gants des opérateurs"))
	switch form {
	case site.FormAmpoule:
		steps = append(steps,
			do("Vérifier la qualité des scellages : pointe régulière, sans brûlure ni capillaire"),
			do("Réaliser le test d'étanchéité des ampoules par immersion dans le bleu de méthylène sous vide"),
			signed(measure("Relever le nombre d'ampoules colorées au test d'étanchéité", "u", rng{0, 0, 0}, 0)))
	case site.FormVial:
		steps = append(steps,
			check(kindStopperer),
			r.add("Charger les bouchons en bromobutyle stériles", f.primary[1], 3),
			do("Contrôler l'enfoncement des bouchons sur 20 flacons"))
	case site.FormSyringe:
		steps = append(steps,
			r.add("Charger les bouchons-pistons stériles", f.primary[1], 3),
			measure("Contrôler la position du bouchon-piston", "mm", rng{8, 6.5, 9.5}, 1))
	}
	steps = append(steps,
		measure("Relever le nombre d'unités remplies", f.unit, rng{f.size, f.size * 0.94, f.size * 1.02}, 0),
		signed(measure("Calculer le rendement de répartition", "%", rng{98, 95, 100.5}, 1)))
	r.op("Répartition aseptique", steps...)

	if form == site.FormVial {
		r.op("Sertissage",
			check(kindCrimper),
			r.add("Charger les capsules en aluminium", f.primary[2], 3),
			measure("Contrôler la force de sertissage", "N", rng{80, 60, 100}, 0),
			measure("Contrôler l'aspect du sertissage : unités non conformes sur 100", "u", rng{0, 0, 2}, 0))
	}
	if form == site.FormSyringe {
		r.op("Pose des tiges de piston",
			r.add("Charger les tiges de piston", f.primary[2], 3),
			do("Poser les tiges de piston à la poseuse ou au poste manuel selon la ligne"),
			measure("Contrôler la force de vissage des tiges de piston", "N·cm", rng{8, 5, 12}, 1))
	}

	// Inspection: automatic where the line has an inspection machine,
	// by hand on the vial lines.
	steps = nil
	if form == site.FormVial {
		steps = append(steps,
			do("Réaliser le mirage manuel sur fond noir et fond blanc, 10 s par flacon"),
			signed(do("Vérifier la qualification visuelle en cours de validité des mireurs")))
	} else {
		steps = append(steps,
			check(kindInspection),
			signed(do("Passer le kit de défauts de référence et vérifier que chaque défaut est détecté")))
	}
	steps = append(steps,
		measure("Relever le nombre d'unités rejetées au mirage", "u", rng{f.size * 0.005, 0, f.size * 0.02}, 0),
		measure("Calculer le taux de rejet au mirage", "%", rng{0.5, 0, 2}, 2),
		do("Réaliser le contrôle visuel par échantillonnage (AQL) sur les unités acceptées"),
		signed(measure("Relever le nombre de défauts critiques au contrôle AQL", "u", rng{0, 0, 0}, 0)),
		sample("Prélever les échantillons du contrôle qualité libératoire", "Sortie du mirage"),
		sample("Prélever les échantillons de l'échantillothèque", "Sortie du mirage"))
	r.op("Mirage", steps...)

	r.packaging(f, false)
}

// packaging labels, boxes and reconciles the printed articles; blister
// says the units come off a blister machine.
func (r *recipe) packaging(f formula, blister bool) {
	steps := []production.Step{}
	for _, p := range f.printed {
		steps = append(steps, r.add("Charger les articles imprimés : "+lower(materialNames[p.material]), p, 1))
	}
	steps = append(steps,
		signed(do("Vérifier le marquage du premier étui : numéro de lot et date de péremption")),
		measure("Relever le nombre d'étuis conditionnés", "u", rng{f.printed[0].qty * 0.99, f.printed[0].qty * 0.9, f.printed[0].qty * 1.01}, 0),
		critical(do("Réconcilier les articles de conditionnement imprimés : utilisés, détruits, retournés")))
	title := "Conditionnement secondaire"
	if blister {
		title = "Mise en étui"
	}
	r.op(title, steps...)
}

// --- solid oral forms: tablets and capsules

func (r *recipe) solid(form site.Form, f formula) {
	if f.wet {
		r.op("Granulation humide et séchage",
			check(kindGranulator),
			do("Charger le principe actif et les diluants pesés dans le granulateur"),
			measure("Relever la durée du prémélange à sec", "min", rng{5, 3, 8}, 0),
			r.add("Préparer la solution de mouillage à l'eau purifiée", f.solvent, 5),
			measure("Relever la vitesse de l'agitateur", "tr/min", rng{150, 120, 180}, 0),
			measure("Relever la puissance en fin de granulation", "kW", rng{12, 9, 15}, 1),
			measure("Relever la température de l'air d'entrée du séchage", "°C", rng{60, 55, 65}, 0),
			measure("Relever la température du produit en fin de séchage", "°C", rng{42, 38, 46}, 0),
			signed(measure("Contrôler la perte à la dessiccation du grain", "%", rng{2, 1, 3}, 2)),
			sample("Prélever l'échantillon de grain sec", "Sortie du granulateur"),
			do("Calibrer le grain sur grille de 1 mm"))
	}
	mix := []production.Step{
		check(kindBlender),
		do("Charger le mélangeur dans l'ordre du dossier de fabrication"),
		measure("Relever la vitesse de rotation du mélangeur", "tr/min", rng{12, 10, 14}, 0),
		measure("Relever la durée de mélange", "min", rng{20, 15, 25}, 0),
		do("Ajouter le lubrifiant tamisé et mélanger 3 minutes"),
	}
	for i, point := range []string{"haut", "milieu", "bas"} {
		mix = append(mix, sample(fmt.Sprintf("Prélever l'échantillon d'homogénéité n° %d", i+1), "Mélangeur — "+point))
	}
	mix = append(mix, signed(measure("Relever le coefficient de variation de l'homogénéité du mélange", "%", rng{2, 0, 5}, 1)))
	r.op("Mélange final", mix...)

	if form == site.FormTablet {
		steps := []production.Step{
			check(kindPress),
			do("Monter les poinçons et la matrice au format du produit"),
			signed(measure("Régler la masse unitaire des comprimés (moyenne de 20)", "mg", f.fill, 1)),
			measure("Contrôler la dureté des comprimés (moyenne de 10)", "N", rng{90, 60, 130}, 0),
			measure("Contrôler l'épaisseur des comprimés", "mm", rng{5.2, 4.9, 5.5}, 2),
			measure("Contrôler la friabilité", "%", rng{0.3, 0, 1}, 2),
			measure("Contrôler le temps de désagrégation", "min", rng{5, 0, 15}, 0),
		}
		for k := 1; k <= f.ipc; k++ {
			steps = append(steps, measure(fmt.Sprintf("Contrôle de masse en cours n° %d (moyenne de 20 comprimés)", k), "mg", f.fill, 1))
			if k%2 == 0 {
				steps = append(steps, measure(fmt.Sprintf("Contrôle de dureté en cours n° %d", k/2), "N", rng{90, 60, 130}, 0))
			}
		}
		steps = append(steps,
			sample("Prélever les comprimés nus pour le contrôle qualité", "Sortie de la presse"),
			measure("Relever la quantité de comprimés nus", "kg", rng{f.size * f.fill.target / 1e6, f.size * f.fill.target / 1e6 * 0.95, f.size * f.fill.target / 1e6 * 1.01}, 1))
		r.op("Compression", steps...)
		r.op("Pelliculage",
			check(kindCoater),
			r.add("Préparer la suspension de pelliculage : mélange de pelliculage", f.primary[0], 2),
			do("Disperser le mélange de pelliculage dans l'eau purifiée 45 minutes"),
			measure("Relever la température de l'air d'entrée", "°C", rng{60, 55, 70}, 0),
			measure("Relever la température du lit de comprimés", "°C", rng{42, 38, 46}, 0),
			measure("Relever le débit de pulvérisation", "g/min", rng{250, 200, 300}, 0),
			signed(measure("Contrôler la prise de masse des comprimés pelliculés", "%", rng{3, 2.5, 3.5}, 2)),
			sample("Prélever les comprimés pelliculés pour le contrôle qualité", "Sortie de la pelliculeuse"))
	} else {
		steps := []production.Step{
			check(kindEncapsulator),
			r.add("Charger les gélules vides", f.primary[0], 2),
			do("Monter les pièces de format de la taille de gélule"),
			signed(measure("Régler la masse de remplissage (moyenne de 20 gélules)", "mg", f.fill, 1)),
		}
		for k := 1; k <= f.ipc; k++ {
			steps = append(steps, measure(fmt.Sprintf("Contrôle de masse en cours n° %d (moyenne de 20 gélules)", k), "mg", f.fill, 1))
		}
		steps = append(steps,
			measure("Contrôler le temps de désagrégation", "min", rng{8, 0, 15}, 0),
			check(kindCheckweigher),
			do("Vérifier le rejet des gélules étalons trop légères et trop lourdes"),
			measure("Calculer le taux de rejet de la trieuse pondérale", "%", rng{0.5, 0, 2}, 2),
			sample("Prélever les gélules pour le contrôle qualité", "Sortie de la trieuse pondérale"))
		r.op("Mise en gélules", steps...)
	}

	film := f.primary[len(f.primary)-2:]
	r.op("Mise sous blister",
		check(kindBlister),
		r.add("Charger le film de formage", film[0], 3),
		r.add("Charger l'aluminium d'operculage", film[1], 3),
		measure("Relever la température de thermoscellage", "°C", rng{160, 150, 175}, 0),
		measure("Relever la température de formage", "°C", rng{130, 120, 140}, 0),
		do("Réaliser le test d'étanchéité au bleu de méthylène sur 4 cycles"),
		signed(measure("Relever le nombre de blisters non étanches", "u", rng{0, 0, 0}, 0)),
		do("Vérifier l'impression du numéro de lot et de la date de péremption sur l'operculage"))
	r.packaging(f, true)
}

// --- liquid and semi-solid forms: drops, syrups, lotions

func (r *recipe) liquid(form site.Form, f formula) {
	steps := []production.Step{
		check(kindTank),
		r.add("Introduire 80 % du véhicule dans la cuve de préparation", scale(f.solvent, 0.8), 2),
		measure("Contrôler la température du véhicule", "°C", rng{25, 20, 40}, 0),
		do("Démarrer l'agitation de la cuve"),
	}
	if form == site.FormLotion {
		steps = append(steps, check(kindHomogeniser))
	}
	for _, e := range f.excipients {
		steps = append(steps, do("Introduire l'excipient pesé et disperser : "+lower(materialNames[e.material])))
	}
	steps = append(steps,
		signed(do("Introduire le principe actif pesé et dissoudre ou disperser")),
		measure("Relever la durée d'agitation", "min", rng{40, 30, 60}, 0),
		r.add("Compléter au volume final avec le véhicule", scale(f.solvent, 0.2), 10))
	if f.ph.target != 0 {
		steps = append(steps, signed(measure("Contrôler le pH", "pH", f.ph, 2)))
	}
	if form != site.FormDrops {
		steps = append(steps, measure("Contrôler la viscosité", "mPa·s", rng{1500, 1000, 2500}, 0))
	}
	steps = append(steps,
		measure("Contrôler la densité", "g/mL", rng{1.05, 0.9, 1.3}, 3),
		sample("Prélever l'échantillon de contrôle en cours : dosage, aspect", "Cuve de préparation — vanne de fond"))
	r.op("Préparation", steps...)

	if form == site.FormSyrup {
		r.op("Filtration de clarification",
			check(kindFilterStation),
			do("Monter la cartouche filtrante de 20 µm"),
			measure("Relever la pression différentielle du filtre", "bar", rng{0.5, 0, 1.5}, 1),
			do("Vérifier l'aspect du sirop filtré : limpide, sans particule"))
	}

	filler := kindBottleFiller
	if form == site.FormDrops {
		filler = kindDropsFiller
	}
	steps = []production.Step{
		check(filler),
		r.add("Charger les flacons", f.primary[0], 3),
		signed(measure("Régler le volume de remplissage", "mL", f.fill, 2)),
	}
	for k := 1; k <= f.ipc; k++ {
		steps = append(steps, measure(fmt.Sprintf("Contrôle du volume de remplissage n° %d (moyenne de 5 flacons)", k), "mL", f.fill, 2))
	}
	if form == site.FormDrops {
		steps = append(steps, r.add("Charger les compte-gouttes", f.primary[1], 3))
	}
	if form != site.FormLotion {
		steps = append(steps,
			check(kindCapper),
			r.add("Charger les bouchons à vis", f.primary[len(f.primary)-1], 3),
			measure("Contrôler le couple de vissage", "N·cm", rng{120, 90, 150}, 0))
	} else {
		steps = append(steps, do("Visser les bouchons et contrôler l'étanchéité sur 10 flacons"))
	}
	steps = append(steps,
		sample("Prélever les flacons pour le contrôle qualité", "Sortie de la remplisseuse"),
		measure("Relever le nombre de flacons remplis", "u", rng{f.size, f.size * 0.94, f.size * 1.02}, 0))
	r.op("Remplissage", steps...)

	if form != site.FormSyrup {
		r.op("Étiquetage",
			check(kindLabeller),
			do("Vérifier le texte de l'étiquette contre le modèle approuvé"),
			signed(do("Vérifier l'impression du numéro de lot et de la date de péremption sur la première étiquette")),
			measure("Relever le nombre de flacons rejetés par le contrôle de présence d'étiquette", "u", rng{10, 0, 100}, 0))
	}
	r.packaging(f, false)
}

// --- pastes

func (r *recipe) paste(f formula) {
	steps := []production.Step{
		check(kindVacuumMixer),
		r.add("Introduire la base grasse dans le mélangeur-malaxeur", f.solvent, 2),
		measure("Relever la température de fusion de la base", "°C", rng{70, 65, 75}, 0),
	}
	for _, e := range f.excipients {
		steps = append(steps, do("Incorporer l'excipient pesé sous agitation : "+lower(materialNames[e.material])))
	}
	steps = append(steps,
		signed(do("Incorporer le principe actif pesé par petites fractions")),
		measure("Relever le vide du malaxeur", "mbar", rng{-800, -900, -600}, 0),
		measure("Relever la durée de malaxage", "min", rng{45, 30, 60}, 0),
		measure("Relever la température de la pâte en fin de refroidissement", "°C", rng{30, 25, 35}, 0),
		signed(measure("Contrôler la consistance de la pâte (pénétrométrie)", "1/10 mm", rng{220, 180, 260}, 0)),
		sample("Prélever l'échantillon de contrôle en cours : dosage, homogénéité", "Mélangeur-malaxeur — vanne de fond"))
	r.op("Préparation de la pâte", steps...)

	steps = []production.Step{
		check(kindTubeFiller),
		r.add("Charger les tubes", f.primary[0], 3),
		signed(measure("Régler la masse de remplissage des tubes", "g", f.fill, 2)),
	}
	for k := 1; k <= f.ipc; k++ {
		steps = append(steps, measure(fmt.Sprintf("Contrôle de masse en cours n° %d (moyenne de 5 tubes)", k), "g", f.fill, 2))
	}
	steps = append(steps,
		do("Contrôler la qualité du pli de fermeture et le marquage du lot sur 10 tubes"),
		sample("Prélever les tubes pour le contrôle qualité", "Sortie de la remplisseuse de tubes"),
		measure("Relever le nombre de tubes remplis", "u", rng{f.size, f.size * 0.94, f.size * 1.02}, 0))
	r.op("Remplissage des tubes", steps...)

	r.op("Mise en étui automatique",
		check(kindCartoner),
		do("Régler le format de l'étuyeuse et vérifier la présence de notice dans 10 étuis"))
	r.packaging(f, false)
}
