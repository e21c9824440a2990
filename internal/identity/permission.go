package identity

import (
	"sort"

	"galenix/internal/errs"
)

// Permission is a named rule of what an actor may do. Services check
// permissions, whoever calls them; handlers and pages only use them to hide
// what would be refused anyway.
type Permission string

// The permissions. Each names one capability; the matrix below grants them
// to roles.
const (
	// PermSiteView: see site operations data (buildings, rooms, lines,
	// equipment, sensors). Client users see it too, without other
	// clients' names.
	PermSiteView Permission = "site.view"
	// PermSiteEdit: create and change the site model.
	PermSiteEdit Permission = "site.edit"
	// PermStaffView: see people, teams and shifts.
	PermStaffView Permission = "staff.view"
	// PermStaffEdit: create and change people, teams and shifts.
	PermStaffEdit Permission = "staff.edit"
	// PermClientDirectory: see every client laboratory's name and code
	// (not their confidential data), to assign staff or release batches.
	PermClientDirectory Permission = "client.directory"
	// PermAccountsView: see accounts, their roles and assignments.
	PermAccountsView Permission = "accounts.view"
	// PermAccountsAdmin: create, change and withdraw accounts, roles,
	// client assignments and machine tokens.
	PermAccountsAdmin Permission = "accounts.admin"
	// PermAuditSite: read the audit trail of site data and of the
	// clients in one's scope.
	PermAuditSite Permission = "audit.site"
	// PermSecurityEvents: see and acknowledge security events (failed
	// sign-ins, locked accounts, denied access).
	PermSecurityEvents Permission = "security.events"
	// PermBatchRelease: release or reject a batch (Qualified Person).
	PermBatchRelease Permission = "batch.release"
	// PermClientUsers: manage one's own laboratory's users.
	PermClientUsers Permission = "client.users"
)

// Permissions lists every permission, in display order.
var Permissions = []Permission{PermSiteView, PermSiteEdit, PermStaffView, PermStaffEdit, PermClientDirectory,
	PermAccountsView, PermAccountsAdmin, PermAuditSite, PermSecurityEvents, PermBatchRelease, PermClientUsers}

// staffView is what every member of staff may do.
var staffView = []Permission{PermSiteView, PermStaffView, PermAuditSite}

// grants is the permission matrix: what each role may do. docs/security.md
// shows it, and a test keeps the two equal.
var grants = map[Role][]Permission{
	RoleAdmin:         append([]Permission{PermSiteEdit, PermStaffEdit, PermClientDirectory, PermAccountsView, PermAccountsAdmin, PermSecurityEvents}, staffView...),
	RoleOperator:      staffView,
	RoleSupervisor:    append([]Permission{PermSiteEdit, PermStaffEdit}, staffView...),
	RoleMaintenance:   staffView,
	RoleQA:            append([]Permission{PermClientDirectory, PermAccountsView}, staffView...),
	RoleQP:            append([]Permission{PermClientDirectory, PermBatchRelease}, staffView...),
	RoleLab:           staffView,
	RoleSecurity:      append([]Permission{PermAccountsView, PermSecurityEvents}, staffView...),
	RoleClientUser:    {PermSiteView},
	RoleClientManager: {PermSiteView, PermClientUsers},
}

// Grants reports whether the role holds the permission.
func (r Role) Grants(p Permission) bool {
	for _, g := range grants[r] {
		if g == p {
			return true
		}
	}
	return false
}

// Can reports whether the actor may do what the permission names. The
// system actor may do everything.
func (a Actor) Can(p Permission) bool {
	if a.IsSystem() {
		return true
	}
	for _, r := range a.Roles {
		if r.Grants(p) {
			return true
		}
	}
	return false
}

// Require refuses, with a forbidden error, an actor without the permission.
func (a Actor) Require(p Permission) error {
	if a.Can(p) {
		return nil
	}
	m := refusals[p]
	if m.en == "" {
		m = refusal{"You are not allowed to do this.", "Vous n'êtes pas autorisé à faire ceci."}
	}
	return errs.E(errs.Forbidden, m.en, m.fr)
}

type refusal struct{ en, fr string }

var refusals = map[Permission]refusal{
	PermSiteEdit:       {"Only an administrator or a production supervisor may change the site model.", "Seul un administrateur ou un superviseur de production peut modifier le modèle du site."},
	PermStaffView:      {"Staff records are for site staff only.", "Les données du personnel sont réservées au personnel du site."},
	PermStaffEdit:      {"Only an administrator or a production supervisor may change staff, teams and shifts.", "Seul un administrateur ou un superviseur de production peut modifier le personnel, les équipes et les horaires."},
	PermAccountsView:   {"Only administrators, quality assurance and security may see accounts.", "Seuls les administrateurs, l'assurance qualité et la sécurité peuvent voir les comptes."},
	PermAccountsAdmin:  {"Only an administrator may manage accounts, roles and access rights.", "Seul un administrateur peut gérer les comptes, les rôles et les droits d'accès."},
	PermSecurityEvents: {"Only security and administrators may see security events.", "Seuls la sécurité et les administrateurs peuvent voir les événements de sécurité."},
	PermBatchRelease:   {"Only a Qualified Person may release a batch.", "Seule une personne qualifiée peut libérer un lot."},
}

// RolesGranting lists the roles that hold the permission, in role order.
func RolesGranting(p Permission) []Role {
	var out []Role
	for _, r := range Roles {
		if r.Grants(p) {
			out = append(out, r)
		}
	}
	return out
}

// IsSystem reports whether the actor is galenix itself.
func (a Actor) IsSystem() bool { return a.UserID == System.UserID }

// IsClient reports whether the actor is a client laboratory's user.
func (a Actor) IsClient() bool { return a.ClientID != "" }

// Scope is the set of client laboratories whose data an actor may see.
type Scope struct {
	// All: every client (galenix itself).
	All bool
	// Clients lists the clients in scope, sorted.
	Clients []string
}

// Has reports whether the client is in the scope.
func (s Scope) Has(clientID string) bool {
	if s.All {
		return true
	}
	for _, c := range s.Clients {
		if c == clientID {
			return true
		}
	}
	return false
}

// ClientScope is the set of clients whose confidential data the actor may
// see: a client's user, their own laboratory; a member of staff, the
// clients they are assigned to (need to know); galenix itself, all. No role
// widens it: an administrator not assigned to a client does not see that
// client's data.
func (a Actor) ClientScope() Scope {
	switch {
	case a.IsSystem():
		return Scope{All: true}
	case a.IsClient():
		return Scope{Clients: []string{a.ClientID}}
	}
	c := append([]string(nil), a.Assigned...)
	sort.Strings(c)
	return Scope{Clients: c}
}

// DirectoryScope is the set of clients whose name and code the actor may
// see: the client scope, or every client with PermClientDirectory.
func (a Actor) DirectoryScope() Scope {
	if !a.IsClient() && a.Can(PermClientDirectory) {
		return Scope{All: true}
	}
	return a.ClientScope()
}
