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
	// administration
	"nav.admin":                 {"Administration", "Administration"},
	"admin.tabs":                {"Rubriques de l'administration", "Administration sections"},
	"admin.accounts":            {"Comptes", "Accounts"},
	"admin.assignments":         {"Affectations aux clients", "Client assignments"},
	"admin.tokens":              {"Jetons d'API", "API tokens"},
	"admin.users_of":            {"Comptes de", "Accounts of"},
	"admin.all_accounts":        {"Tous les comptes", "All accounts"},
	"admin.laboratory":          {"Laboratoire client", "Client laboratory"},
	"admin.client_unnamed":      {"Laboratoire client (nom non visible)", "Client laboratory (name not visible)"},
	"admin.site_staff":          {"Personnel du site", "Site staff"},
	"admin.staff_account":       {"— personnel du site —", "— site staff —"},
	"admin.active":              {"Actif", "Active"},
	"admin.withdrawn":           {"Retiré", "Withdrawn"},
	"admin.open":                {"Ouvrir", "Open"},
	"admin.no_accounts":         {"Aucun compte ici.", "No accounts here."},
	"admin.source":              {"Connexion", "Sign-in"},
	"admin.created":             {"Créé le", "Created on"},
	"admin.assigned_to":         {"Affecté aux clients", "Assigned to clients"},
	"admin.assigned_help":       {"Un membre du personnel ne voit les données confidentielles d'un client que s'il lui est affecté (besoin d'en connaître).", "A member of staff sees a client's confidential data only when assigned to that client (need to know)."},
	"admin.since":               {"Depuis le", "Since"},
	"admin.withdraw_assignment": {"Retirer l'affectation", "Withdraw the assignment"},
	"admin.reason_placeholder":  {"Raison (obligatoire)", "Reason (required)"},
	"admin.unassign":            {"Retirer", "Withdraw"},
	"admin.no_assignments":      {"Aucune affectation.", "No assignments."},
	"admin.assign_reason":       {"Motif (facultatif)", "Comment (optional)"},
	"admin.assign":              {"Affecter à ce client", "Assign to this client"},
	"admin.reset_password":      {"Réinitialiser le mot de passe", "Reset the password"},
	"admin.new_password":        {"Nouveau mot de passe", "New password"},
	"admin.withdraw":            {"Retirer le compte", "Withdraw the account"},
	"admin.withdraw_help":       {"Le compte ne peut plus se connecter et ses sessions prennent fin ; il reste, avec sa piste d'audit.", "The account can no longer sign in and its sessions end; it stays, with its audit trail."},
	"admin.trail":               {"Piste d'audit des droits d'accès", "Audit trail of access rights"},
	"admin.no_trail":            {"Aucune entrée visible.", "No visible entries."},
	"admin.when":                {"Date", "When"},
	"admin.who":                 {"Par", "By"},
	"admin.command":             {"Commande", "Command"},
	"admin.field":               {"Champ", "Field"},
	"admin.old":                 {"Ancienne valeur", "Old value"},
	"admin.new":                 {"Nouvelle valeur", "New value"},
	"admin.tokens_help":         {"Les passerelles de capteurs et les lecteurs de badges s'authentifient avec un jeton aux portées restreintes ; son secret n'est montré qu'une fois.", "Sensor gateways and badge readers sign in with a token of narrow scopes; its secret is shown once."},
	"admin.created_by":          {"Créé par", "Created by"},
	"admin.expires":             {"Expiration", "Expires"},
	"admin.last_used":           {"Dernière utilisation", "Last used"},
	"admin.revoke":              {"Révoquer", "Revoke"},
	"admin.expired":             {"Expiré", "Expired"},
	"admin.revoked":             {"Révoqué", "Revoked"},
	"admin.never":               {"jamais", "never"},
	"admin.no_tokens":           {"Aucun jeton d'API.", "No API tokens."},
	"account.title":             {"Compte", "Account"},
	"account.new":               {"Nouveau compte", "New account"},
	"account.edit":              {"Modifier le compte", "Edit the account"},
	"token.new":                 {"Nouveau jeton d'API", "New API token"},
	"token.create":              {"Créer le jeton", "Create the token"},
	"token.created":             {"Jeton d'API créé", "API token created"},
	"token.once":                {"Copiez ce secret maintenant et installez-le sur la machine : il ne sera plus jamais affiché, seule son empreinte est conservée.", "Copy this secret now and install it on the machine: it will never be shown again, only its fingerprint is kept."},
	"token.secret":              {"Secret du jeton", "Token secret"},
	"token.done":                {"J'ai copié le secret", "I have copied the secret"},
	"field.username":            {"Identifiant", "Username"},
	"field.account.name":        {"Nom de la personne", "Person's name"},
	"field.roles":               {"Rôles", "Roles"},
	"field.client_id":           {"Laboratoire client", "Client laboratory"},
	"field.active":              {"Compte actif", "Active account"},
	"field.password":            {"Mot de passe initial", "Initial password"},
	"field.accountnew.reason":   {"Motif (facultatif)", "Comment (optional)"},
	"field.token.name":          {"Nom de la machine", "Machine name"},
	"field.scopes":              {"Portées", "Scopes"},
	"field.expires_on":          {"Expire le (à 0 h, heure de Paris)", "Expires on (at 0:00, Paris time)"},
	"field.token.reason":        {"Motif (facultatif)", "Comment (optional)"},
	"hint.account.password":     {"Selon la politique du site : 12 caractères au moins par défaut, ni un mot de passe courant ni un des derniers utilisés.", "As the site's policy says: at least 12 characters by default, neither a common password nor one of the last used."},
	"hint.account.roles":        {"Un compte de laboratoire client n'a que des rôles de client ; un compte du personnel, que des rôles du personnel.", "A client laboratory's account holds client roles only; a staff account, staff roles only."},
	"hint.account.client_id":    {"Seuls les utilisateurs d'un laboratoire client lui appartiennent ; le personnel y est affecté depuis la page du compte.", "Only a client laboratory's users belong to it; staff are assigned to it from the account's page."},
	"hint.accountnew.reason":    {"Conservé dans la piste d'audit avec la création du compte.", "Kept in the audit trail with the account's creation."},
	"hint.token.scopes":         {"Ce que la machine peut faire, et rien d'autre.", "What the machine may do, and nothing else."},
	"hint.token.expires_on":     {"Laissez vide pour un jeton sans expiration ; il reste révocable à tout moment.", "Leave empty for a token that does not expire; it can be revoked at any time."},
	"hint.token.reason":         {"Conservé dans la piste d'audit avec la création du jeton.", "Kept in the audit trail with the token's creation."},
	"userrole.admin":            {"Administrateur", "Administrator"},
	"userrole.operator":         {"Opérateur de production", "Production operator"},
	"userrole.supervisor":       {"Superviseur de production", "Production supervisor"},
	"userrole.maintenance":      {"Maintenance", "Maintenance"},
	"userrole.qa":               {"Assurance qualité", "Quality assurance"},
	"userrole.qp":               {"Personne qualifiée", "Qualified Person"},
	"userrole.lab":              {"Laboratoire de contrôle qualité", "QC laboratory"},
	"userrole.security":         {"Sécurité", "Security"},
	"userrole.client_user":      {"Utilisateur client", "Client user"},
	"userrole.client_manager":   {"Responsable client", "Client manager"},
	"source.local":              {"Mot de passe galenix", "galenix password"},
	"source.ldap":               {"Annuaire du site (LDAP)", "Site directory (LDAP)"},
	"scope.site:read":           {"site:read — lire le modèle du site (bâtiments, salles, lignes, équipements)", "site:read — read the site model (buildings, rooms, lines, equipment)"},
	"scope.telemetry:write":     {"telemetry:write — envoyer des mesures de capteurs", "telemetry:write — send sensor readings"},
	"scope.access:write":        {"access:write — envoyer des passages de badges", "access:write — send badge events"},
	// sign-in, one's own account, security events
	"login.totp":                   {"Code de vérification (application d'authentification)", "Verification code (authenticator app)"},
	"login.totp_hint":              {"Les 6 chiffres qu'affiche votre application en ce moment. Saisissez aussi votre mot de passe.", "The 6 digits your app shows right now. Enter your password too."},
	"login.shopfloor":              {"Poste partagé d'atelier", "Shared shop-floor device"},
	"login.shopfloor_hint":         {"La session se ferme après quelques minutes sans activité.", "The session ends after a few minutes without activity."},
	"error.title.429":              {"Trop de tentatives", "Too many attempts"},
	"nav.account":                  {"Mon compte", "My account"},
	"nav.security":                 {"Sécurité", "Security"},
	"myaccount.title":              {"Mon compte", "My account"},
	"myaccount.roles":              {"Rôles", "Roles"},
	"myaccount.password":           {"Mot de passe", "Password"},
	"myaccount.changed":            {"Changé le", "Changed on"},
	"myaccount.expires":            {"Expire le", "Expires on"},
	"myaccount.never":              {"N'expire pas", "Does not expire"},
	"myaccount.directory":          {"Vous vous connectez avec l'annuaire du site : votre mot de passe se change là.", "You sign in with the site's directory: your password is changed there."},
	"myaccount.sessions":           {"Sessions ouvertes", "Open sessions"},
	"myaccount.device":             {"Appareil", "Device"},
	"myaccount.address":            {"Adresse", "Address"},
	"myaccount.opened":             {"Ouverte le", "Opened"},
	"myaccount.seen":               {"Dernière activité", "Last active"},
	"myaccount.current":            {"cette session", "this session"},
	"myaccount.revoke_all":         {"Se déconnecter partout", "Sign out everywhere"},
	"myaccount.revoke_all_hint":    {"Ferme toutes vos sessions, celle-ci comprise, sur tous les appareils.", "Ends all your sessions, this one included, on every device."},
	"myaccount.back":               {"Retour à mon compte", "Back to my account"},
	"device.browser":               {"Navigateur", "Browser"},
	"device.shopfloor":             {"Poste partagé d'atelier", "Shared shop-floor device"},
	"device.api":                   {"Programme (API)", "Program (API)"},
	"pwchange.title":               {"Changer mon mot de passe", "Change my password"},
	"pwchange.expired":             {"Votre mot de passe a expiré : choisissez-en un nouveau pour continuer.", "Your password has expired: choose a new one to go on."},
	"pwchange.current":             {"Mot de passe actuel", "Current password"},
	"pwchange.new":                 {"Nouveau mot de passe", "New password"},
	"pwchange.confirm":             {"Nouveau mot de passe, encore", "New password, again"},
	"pwchange.rules":               {"Au moins %d caractères, sans votre identifiant, ni un mot de passe courant, ni l'un de vos %d derniers. Quelques mots sans rapport entre eux font un bon mot de passe.", "At least %d characters, without your username, neither a common password nor one of your last %d. A few unrelated words make a good password."},
	"pwchange.submit":              {"Changer le mot de passe", "Change the password"},
	"totp.title":                   {"Double authentification", "Two-factor authentication"},
	"totp.on":                      {"La double authentification est activée : chaque connexion demande un code de votre application.", "Two-factor authentication is on: every sign-in asks for a code from your app."},
	"totp.off":                     {"La double authentification n'est pas activée.", "Two-factor authentication is off."},
	"totp.required":                {"La politique du site l'exige pour votre compte.", "The site's policy requires it of your account."},
	"totp.required_now":            {"Les administrateurs doivent activer la double authentification avant toute autre action.", "Administrators must turn on two-factor authentication before anything else."},
	"totp.setup":                   {"Activer la double authentification", "Turn on two-factor authentication"},
	"totp.intro":                   {"Une application d'authentification (par exemple FreeOTP, Aegis, Google Authenticator, Microsoft Authenticator) affiche un code à 6 chiffres qui change toutes les 30 secondes ; il vous sera demandé à chaque connexion.", "An authenticator app (for example FreeOTP, Aegis, Google Authenticator, Microsoft Authenticator) shows a 6-digit code that changes every 30 seconds; it will be asked for at every sign-in."},
	"totp.start":                   {"Commencer", "Start"},
	"totp.step_app":                {"Ouvrez votre application d'authentification.", "Open your authenticator app."},
	"totp.step_scan":               {"Scannez le code QR, ou saisissez la clé secrète ci-dessous.", "Scan the QR code, or enter the secret key below."},
	"totp.step_code":               {"Saisissez le code à 6 chiffres qu'elle affiche.", "Enter the 6-digit code it shows."},
	"totp.qr_alt":                  {"Code QR de la clé secrète pour l'application d'authentification", "QR code of the secret key for the authenticator app"},
	"totp.secret":                  {"Clé secrète", "Secret key"},
	"totp.url":                     {"Adresse otpauth", "otpauth address"},
	"totp.code":                    {"Code à 6 chiffres", "6-digit code"},
	"totp.confirm":                 {"Activer", "Turn on"},
	"pending.title":                {"Une étape d'abord", "One step first"},
	"pending.go":                   {"Y aller", "Go there"},
	"secevent.title":               {"Événements de sécurité", "Security events"},
	"secevent.intro":               {"Échecs de connexion, comptes verrouillés, identifiants inconnus : les événements non pris en compte d'abord.", "Failed sign-ins, locked accounts, unknown usernames: those not yet acknowledged first."},
	"secevent.open":                {"À prendre en compte : %d.", "To acknowledge: %d."},
	"secevent.when":                {"Date", "When"},
	"secevent.kind":                {"Événement", "Event"},
	"secevent.detail":              {"Détail", "Detail"},
	"secevent.status":              {"Prise en compte", "Acknowledged"},
	"secevent.ack":                 {"Prendre en compte", "Acknowledge"},
	"secevent.acked":               {"par %s le %s", "by %s on %s"},
	"secevent.none":                {"Aucun événement de sécurité.", "No security events."},
	"secevent.kind.login_failed":   {"Mot de passe erroné", "Wrong password"},
	"secevent.kind.totp_failed":    {"Code de vérification erroné", "Wrong verification code"},
	"secevent.kind.account_locked": {"Compte verrouillé", "Account locked"},
	"secevent.kind.login_locked":   {"Tentative sur un compte verrouillé", "Attempt on a locked account"},
	"secevent.kind.login_inactive": {"Tentative sur un compte retiré", "Attempt on a withdrawn account"},
	"secevent.kind.unknown_user":   {"Identifiant inconnu", "Unknown username"},
	// the audit trail's page and CSV export
	"nav.audit":           {"Audit", "Audit"},
	"audit.title":         {"Piste d'audit", "Audit trail"},
	"audit.intro":         {"Chaque modification des données GMP : qui, quand, par quelle commande, ancienne et nouvelle valeur, et pourquoi. Les heures sont celles de Paris.", "Every change of GMP data: who, when, by which command, old and new value, and why. Times are Paris times."},
	"audit.entity":        {"Type d'enregistrement", "Kind of record"},
	"audit.entity_id":     {"Identifiant de l'enregistrement", "Record id"},
	"audit.actor":         {"Utilisateur (identifiant)", "User (id)"},
	"audit.from":          {"Du", "From"},
	"audit.to":            {"Au (inclus)", "To (included)"},
	"audit.export":        {"Exporter en CSV", "Export as CSV"},
	"audit.none":          {"Aucune entrée ne correspond à ces filtres.", "No entry matches these filters."},
	"audit.first":         {"Début", "Start"},
	"audit.showing":       {"%d entrées affichées, 200 au plus par page.", "%d entries shown, at most 200 a page."},
	"audit.modification":  {"modification", "change"},
	"audit.col.seq":       {"N°", "No."},
	"audit.col.at":        {"Date et heure", "Date and time"},
	"audit.col.who":       {"Qui", "Who"},
	"audit.col.command":   {"Commande", "Command"},
	"audit.col.record":    {"Enregistrement", "Record"},
	"audit.col.field":     {"Champ", "Field"},
	"audit.col.change":    {"Ancienne valeur → nouvelle valeur", "Old value → new value"},
	"audit.col.reason":    {"Raison", "Reason"},
	"audit.csv.file":      {"piste-audit.csv", "audit-trail.csv"},
	"audit.csv.seq":       {"séquence", "sequence"},
	"audit.csv.at":        {"date et heure (Europe/Paris)", "date and time (Europe/Paris)"},
	"audit.csv.who":       {"utilisateur", "user"},
	"audit.csv.command":   {"commande", "command"},
	"audit.csv.entity":    {"enregistrement", "record"},
	"audit.csv.entity_id": {"identifiant", "id"},
	"audit.csv.field":     {"champ", "field"},
	"audit.csv.old":       {"ancienne valeur", "old value"},
	"audit.csv.new":       {"nouvelle valeur", "new value"},
	"audit.csv.reason":    {"raison", "reason"},
	"audit.csv.modified":  {"modification", "change"},
	"audit.csv.yes":       {"oui", "yes"},
	"audit.export_pdf":    {"Exporter en PDF", "Export as PDF"},
	"audit.pdf.file":      {"piste-audit.pdf", "audit-trail.pdf"},
	"audit.pdf.title":     {"Piste d'audit / Audit trail", "Piste d'audit / Audit trail"},
	"audit.pdf.site":      {"Site", "Site"},
	"audit.pdf.filters":   {"Filtres", "Filters"},
	"audit.pdf.nofilter":  {"aucun (toute la piste visible)", "none (all of the visible trail)"},
	"audit.pdf.printed":   {"Imprimé le %s par %s", "Printed on %s by %s"},
	"audit.pdf.count":     {"%d entrées", "%d entries"},
	"audit.pdf.modified":  {"MODIFIÉ / CHANGED", "MODIFIÉ / CHANGED"},
	"audit.pdf.page":      {"page {current} / {total}", "page {current} / {total}"},
	"audit.pdf.sigs":      {"Signatures", "Signatures"},
	"audit.pdf.valid":     {"valide", "valid"},
	"audit.pdf.broken":    {"ROMPUE — contenu modifié après signature", "BROKEN — content changed after signing"},
	"audit.csv.no":        {"non", "no"},
}
