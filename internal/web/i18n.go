package web

import (
	"net/http"
	"strconv"
	"strings"
	"time"
	_ "time/tzdata" // Europe/Paris exists on any machine, even without a zoneinfo database
)

// The languages of the pages: French first, English second.
const (
	langFR = "fr"
	langEN = "en"
)

// languages lists the page languages, the default first.
var languages = []string{langFR, langEN}

// langCookie names the cookie that keeps the chosen page language.
const langCookie = "lang"

// langOf is the page language of the request: English when the lang cookie
// asks for it, French otherwise.
func langOf(r *http.Request) string {
	if c, err := r.Cookie(langCookie); err == nil && c.Value == langEN {
		return langEN
	}
	return langFR
}

// paris is the zone every time on the pages is shown in.
var paris = mustZone("Europe/Paris")

func mustZone(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		panic("web: time zone " + name + ": " + err.Error())
	}
	return loc
}

// msg is one message in both languages.
type msg struct{ fr, en string }

// tr returns the message of key in lang; a key missing from the catalogue
// shows as itself, so that the omission is visible (and a test catches it).
func tr(lang, key string) string {
	m, ok := catalogue[key]
	if !ok {
		return key
	}
	if lang == langEN {
		return m.en
	}
	return m.fr
}

// hasMsg reports whether the catalogue holds key.
func hasMsg(key string) bool {
	_, ok := catalogue[key]
	return ok
}

// formatDecimal writes f the way the language does: 20,5 in French, 20.5 in
// English.
func formatDecimal(lang string, f float64) string {
	s := strconv.FormatFloat(f, 'f', -1, 64)
	if lang == langFR {
		s = strings.Replace(s, ".", ",", 1)
	}
	return s
}

// formatInt writes n with its thousands grouped: 12 000 in French (narrow
// no-break space), 12,000 in English.
func formatInt(lang string, n int) string {
	s := strconv.Itoa(n)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	sep := ","
	if lang == langFR {
		sep = "\u202f"
	}
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteString(sep)
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// formatDate writes the calendar day of t in Europe/Paris.
func formatDate(lang string, t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	if lang == langEN {
		return t.In(paris).Format("2 Jan 2006")
	}
	return t.In(paris).Format("02/01/2006")
}

// catalogue holds every message the pages show, by key. Enum labels are
// keyed by the enum's name and value ("grade.A", "form.vial").
var catalogue = map[string]msg{
	// layout
	"app.tagline":      {"Système de gestion des opérations BPF", "GMP operations system"},
	"nav.overview":     {"Site", "Site"},
	"nav.people":       {"Personnel", "Staff"},
	"nav.teams":        {"Équipes", "Teams"},
	"nav.shifts":       {"Horaires", "Shifts"},
	"nav.main":         {"Navigation principale", "Main navigation"},
	"nav.lang":         {"Langue", "Language"},
	"nav.logout":       {"Se déconnecter", "Sign out"},
	"nav.signedin":     {"Connecté :", "Signed in:"},
	"nav.skip":         {"Aller au contenu", "Skip to content"},
	"common.save":      {"Enregistrer", "Save"},
	"common.cancel":    {"Annuler", "Cancel"},
	"common.edit":      {"Modifier", "Edit"},
	"common.yes":       {"Oui", "Yes"},
	"common.no":        {"Non", "No"},
	"common.none":      {"— aucune —", "— none —"},
	"common.choose":    {"— choisir —", "— choose —"},
	"common.saved":     {"Modifications enregistrées.", "Changes saved."},
	"common.back_site": {"Retour au site", "Back to the site"},
	"common.previous":  {"← Précédents", "← Previous"},
	"common.next":      {"Suivants →", "Next →"},
	"common.all":       {"Toutes", "All"},
	"common.filter":    {"Filtrer", "Filter"},
	"common.per_hour":  {"unités/h", "units/h"},
	"common.count":     {"Effectif", "Headcount"},

	// login
	"login.title":    {"Connexion", "Sign in"},
	"login.intro":    {"Connectez-vous avec votre compte galenix.", "Sign in with your galenix account."},
	"login.username": {"Identifiant", "Username"},
	"login.password": {"Mot de passe", "Password"},
	"login.submit":   {"Se connecter", "Sign in"},

	// errors
	"error.title.400": {"Demande incorrecte", "Bad request"},
	"error.title.401": {"Connexion requise", "Sign-in required"},
	"error.title.403": {"Accès refusé", "Access denied"},
	"error.title.404": {"Page introuvable", "Page not found"},
	"error.title.405": {"Méthode non autorisée", "Method not allowed"},
	"error.title.409": {"Conflit", "Conflict"},
	"error.title.413": {"Demande trop volumineuse", "Request too large"},
	"error.title.500": {"Erreur interne", "Internal error"},
	"error.notfound":  {"Cette page n'existe pas, ou l'élément demandé a été déplacé.", "This page does not exist, or the item asked for has moved."},
	"error.form":      {"Le formulaire n'a pas pu être lu.", "The form could not be read."},

	// overview
	"overview.title":        {"Vue du site", "Site overview"},
	"overview.nosite":       {"Le site n'est pas encore configuré.", "The site is not set up yet."},
	"overview.buildings":    {"Bâtiments", "Buildings"},
	"overview.rooms":        {"Salles", "Rooms"},
	"overview.lines":        {"Lignes", "Lines"},
	"overview.norooms":      {"Aucune salle dans ce bâtiment.", "No rooms in this building."},
	"overview.nolines":      {"—", "—"},
	"overview.new_building": {"Nouveau bâtiment", "New building"},
	"overview.new_room":     {"Nouvelle salle", "New room"},
	"overview.new_line":     {"Nouvelle ligne", "New line"},
	"overview.jump":         {"Aller au bâtiment", "Go to building"},
	"overview.summary":      {"Lignes par statut", "Lines by status"},
	"count.buildings":       {"bâtiments", "buildings"},
	"count.rooms":           {"salles", "rooms"},
	"count.lines":           {"lignes", "lines"},

	"col.code":        {"Code", "Code"},
	"col.name":        {"Nom", "Name"},
	"col.grade":       {"Classe", "Grade"},
	"col.temp":        {"Température", "Temperature"},
	"col.humidity":    {"Humidité", "Humidity"},
	"col.cascade":     {"Cascade vers", "Cascades to"},
	"col.lines":       {"Lignes", "Lines"},
	"col.kind":        {"Type", "Kind"},
	"col.status":      {"Statut", "Status"},
	"col.qualif":      {"Échéance de qualification", "Qualification due"},
	"col.actions":     {"Actions", "Actions"},
	"col.badge":       {"Badge", "Badge"},
	"col.job":         {"Fonction", "Job"},
	"col.team":        {"Équipe", "Team"},
	"col.building":    {"Bâtiment", "Building"},
	"col.shift":       {"Horaire", "Shift"},
	"col.hours":       {"Heures", "Hours"},
	"col.sterile":     {"Stérile", "Sterile"},
	"col.forms":       {"Formes", "Forms"},
	"col.capacity":    {"Cadence nominale", "Nominal capacity"},
	"col.room":        {"Salle", "Room"},
	"col.equipment":   {"Équipements", "Equipment"},
	"line.title":      {"Ligne", "Line"},
	"line.equipment":  {"Équipements de la ligne", "Equipment of the line"},
	"line.noequip":    {"Aucun équipement enregistré sur cette ligne.", "No equipment recorded on this line."},
	"line.overdue":    {"échue", "overdue"},
	"line.new_equip":  {"Ajouter un équipement", "Add equipment"},
	"line.edit":       {"Modifier la ligne", "Edit the line"},
	"line.sterile":    {"Ligne stérile", "Sterile line"},
	"line.nonsterile": {"Ligne non stérile", "Non-sterile line"},

	// forms
	"building.new":   {"Nouveau bâtiment", "New building"},
	"building.edit":  {"Modifier le bâtiment", "Edit the building"},
	"room.new":       {"Nouvelle salle", "New room"},
	"room.edit":      {"Modifier la salle", "Edit the room"},
	"line.new":       {"Nouvelle ligne de production", "New production line"},
	"equipment.new":  {"Nouvel équipement", "New equipment"},
	"equipment.edit": {"Modifier l'équipement", "Edit the equipment"},
	"shift.new":      {"Nouvel horaire", "New shift"},
	"shift.edit":     {"Modifier l'horaire", "Edit the shift"},
	"team.new":       {"Nouvelle équipe", "New team"},
	"team.edit":      {"Modifier l'équipe", "Edit the team"},
	"person.new":     {"Nouvelle personne", "New person"},
	"person.edit":    {"Modifier la personne", "Edit the person"},
	"input.req_mark": {"obligatoire", "required"},
	"input.problem":  {"L'enregistrement a été refusé :", "The record was refused:"},

	"field.code":                 {"Code", "Code"},
	"field.name":                 {"Nom", "Name"},
	"field.role":                 {"Rôle", "Role"},
	"field.building_id":          {"Bâtiment", "Building"},
	"field.grade":                {"Classe de propreté", "Clean-room grade"},
	"field.temp_min":             {"Température minimale (°C)", "Minimum temperature (°C)"},
	"field.temp_max":             {"Température maximale (°C)", "Maximum temperature (°C)"},
	"field.humidity_min":         {"Humidité minimale (% HR)", "Minimum humidity (% RH)"},
	"field.humidity_max":         {"Humidité maximale (% HR)", "Maximum humidity (% RH)"},
	"field.cascades_to":          {"Cascade de pression vers", "Pressure cascades to"},
	"field.pressure_diff_pa":     {"Différentiel de pression (Pa)", "Pressure differential (Pa)"},
	"field.room_id":              {"Salle", "Room"},
	"field.sterile":              {"Ligne stérile", "Sterile line"},
	"field.forms":                {"Formes galéniques", "Galenic forms"},
	"field.status":               {"Statut", "Status"},
	"field.capacity_per_hour":    {"Cadence nominale (unités/h)", "Nominal capacity (units/h)"},
	"field.kind":                 {"Type", "Kind"},
	"field.equipment.kind":       {"Type d'équipement", "Kind of equipment"},
	"field.shift.kind":           {"Type d'horaire", "Kind of shift"},
	"field.line_id":              {"Ligne", "Line"},
	"field.qualification_due":    {"Échéance de qualification", "Qualification due"},
	"field.start":                {"Début (HH:MM)", "Start (HH:MM)"},
	"field.end":                  {"Fin (HH:MM)", "End (HH:MM)"},
	"field.shift_id":             {"Horaire", "Shift"},
	"field.team_id":              {"Équipe", "Team"},
	"field.badge":                {"Numéro de badge", "Badge number"},
	"field.job":                  {"Fonction", "Job title"},
	"field.reason":               {"Raison de la modification", "Reason for the change"},
	"hint.reason":                {"Exigée par les BPF : elle figure dans la piste d'audit.", "Required by GMP: it is kept in the audit trail."},
	"hint.room.cascades_to":      {"La salle, du même bâtiment, vers laquelle l'air s'écoule : elle doit être de classe égale ou inférieure.", "The room of the same building the air flows to: it must be of the same or a lower grade."},
	"hint.line.forms":            {"Une ligne stérile ne produit que des formes stériles, et inversement.", "A sterile line runs sterile forms only, and the reverse."},
	"hint.line.room_id":          {"Une ligne stérile se trouve dans une salle de classe A, B ou C.", "A sterile line stands in a room of grade A, B or C."},
	"hint.shift.end":             {"Une fin antérieure au début signifie que l'horaire passe minuit.", "An end before the start means the shift runs past midnight."},
	"hint.equipment.kind":        {"Par exemple : remplisseuse, autoclave, mélangeur.", "For example: filler, autoclave, mixer."},
	"input.number":               {"Écrivez un nombre, par exemple 20,5.", "Write a number, for example 20.5."},
	"input.integer":              {"Écrivez un nombre entier, par exemple 1200.", "Write a whole number, for example 1200."},
	"input.date":                 {"Choisissez une date.", "Choose a date."},
	"input.required":             {"Ce champ est obligatoire.", "This field is required."},
	"people.title":               {"Personnel", "Staff"},
	"people.page":                {"Page %d", "Page %d"},
	"people.showing":             {"Personnes %d à %d", "People %d to %d"},
	"people.none":                {"Aucune personne ici.", "Nobody here."},
	"teams.title":                {"Équipes", "Teams"},
	"teams.none":                 {"Aucune équipe.", "No teams."},
	"shifts.title":               {"Horaires", "Shifts"},
	"shifts.none":                {"Aucun horaire.", "No shifts."},
	"lang.fr":                    {"Français", "Français"},
	"lang.en":                    {"English", "English"},
	"grade.A":                    {"Classe A", "Grade A"},
	"grade.B":                    {"Classe B", "Grade B"},
	"grade.C":                    {"Classe C", "Grade C"},
	"grade.D":                    {"Classe D", "Grade D"},
	"grade.CNC":                  {"Contrôlée non classée (CNC)", "Controlled not classified (CNC)"},
	"grade.U":                    {"Non classée", "Unclassified"},
	"gradeshort.A":               {"A", "A"},
	"gradeshort.B":               {"B", "B"},
	"gradeshort.C":               {"C", "C"},
	"gradeshort.D":               {"D", "D"},
	"gradeshort.CNC":             {"CNC", "CNC"},
	"gradeshort.U":               {"NC", "UC"},
	"form.ampoule":               {"ampoule", "ampoule"},
	"form.vial":                  {"flacon", "vial"},
	"form.prefilled_syringe":     {"seringue préremplie", "prefilled syringe"},
	"form.tablet":                {"comprimé", "tablet"},
	"form.capsule":               {"gélule", "capsule"},
	"form.drops":                 {"gouttes", "drops"},
	"form.lotion":                {"lotion", "lotion"},
	"form.paste":                 {"pâte", "paste"},
	"form.syrup":                 {"sirop", "syrup"},
	"role.security":              {"Poste de sécurité : entrées, sorties et règles de sûreté", "Security gatehouse: entries, exits and safety rules"},
	"role.utilities":             {"Chaufferie : chaleur, froid et traitement d'air", "Boiler and HVAC plant"},
	"role.laboratory":            {"Laboratoire de contrôle qualité", "Quality control laboratory"},
	"role.production_sterile":    {"Production stérile", "Sterile production"},
	"role.production_nonsterile": {"Production non stérile", "Non-sterile production"},
	"role.warehouse":             {"Entrepôt et magasins", "Warehouse"},
	"role.offices":               {"Bureaux et informatique", "Offices and IT"},
	"linestatus.available":       {"Disponible", "Available"},
	"linestatus.running":         {"En production", "Running"},
	"linestatus.cleaning":        {"Nettoyage", "Cleaning"},
	"linestatus.maintenance":     {"Maintenance", "Maintenance"},
	"linestatus.stopped":         {"Arrêtée", "Stopped"},
	"eqstatus.clean":             {"Propre", "Clean"},
	"eqstatus.in_use":            {"En service", "In use"},
	"eqstatus.dirty":             {"À nettoyer", "Dirty"},
	"eqstatus.maintenance":       {"Maintenance", "Maintenance"},
	"shiftkind.day":              {"Jour", "Day"},
	"shiftkind.night":            {"Nuit", "Night"},
	"shiftkind.weekend":          {"Week-end", "Weekend"},
}
