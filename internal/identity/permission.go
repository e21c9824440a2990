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
	// PermProductionView: see products, orders and batches of the
	// clients in one's scope (a client's users: their own, without the
	// names of the operators).
	PermProductionView Permission = "production.view"
	// PermProductionPlan: create products and orders, schedule batches on
	// lines and release them to the floor.
	PermProductionPlan Permission = "production.plan"
	// PermLineMaintenance: plan the maintenance windows of the lines.
	PermLineMaintenance Permission = "line.maintenance"
	// PermMasterEdit: write master batch records and submit them for
	// review.
	PermMasterEdit Permission = "master.edit"
	// PermMasterApprove: approve master batch records (by signature),
	// make them effective, retire them.
	PermMasterApprove Permission = "master.approve"
	// PermBatchExecute: execute batches on the shop floor: line
	// clearance, steps, completion.
	PermBatchExecute Permission = "batch.execute"
	// PermBatchReview: review batch records by exception and export them.
	PermBatchReview Permission = "batch.review"
	// PermStockEdit: record materials and received lots.
	PermStockEdit Permission = "stock.edit"
	// PermLotStatus: release, quarantine or reject a material lot.
	PermLotStatus Permission = "lot.status"
	// PermBackupView: see the restore drills of the site's backups (EU GMP
	// Annex 11 §7.2): IT's administrators and quality assurance.
	PermBackupView Permission = "backup.view"
	// PermRecordPrint: print a whole batch record (PDF): quality, who
	// reviews it, and production supervisors, who run the batches; not
	// operators, nor the client's users, who see the batch's summary.
	PermRecordPrint Permission = "batch.record.print"
	// PermLabWork: the QC laboratory's work: receive samples, enter,
	// import and review results, investigate an OOS in the laboratory
	// (phase I).
	PermLabWork Permission = "lab.work"
	// PermSpecEdit: write product specifications and submit them for
	// review.
	PermSpecEdit Permission = "spec.edit"
	// PermDeviationWork: assess and investigate deviations, record their
	// CAPA, investigate an OOS in full (phase II).
	PermDeviationWork Permission = "deviation.work"
	// PermQualityDecide: quality assurance's decisions: approve
	// specifications and deviation assessments, close deviations and OOS
	// investigations, check CAPA effectiveness, sign a batch's review.
	PermQualityDecide Permission = "quality.decide"
	// PermEquipmentMaintain: clean equipment, take it out of and back in
	// service, renew its qualification (by signature).
	PermEquipmentMaintain Permission = "equipment.maintain"
	// PermClientApprove: a client laboratory's own approvals that its
	// quality agreement asks for (the closure of a major deviation on its
	// batches), by its manager's signature.
	PermClientApprove Permission = "client.approve"
	// PermClientDocuments: a client laboratory's documents on its side:
	// upload them, and approve its specification (cahier des charges) by
	// signature, as the site's quality assurance does on the other.
	PermClientDocuments Permission = "client.documents"
	// PermProjectEdit: open a client's project with the site, move its
	// phase, set its milestones and objectives (the site's project leads).
	PermProjectEdit Permission = "project.edit"
	// PermProjectWork: take part in a client's project, on either side:
	// record decisions, tasks and messages, move tasks.
	PermProjectWork Permission = "project.work"
	// PermTrainingRecord: record a person's training or qualification,
	// which quality assurance then grants by signature.
	PermTrainingRecord Permission = "training.record"
	// PermControlledView: read the controlled-substance register, its
	// balances, editions and alerts.
	PermControlledView Permission = "controlled.view"
	// PermControlledRecord: enter the register's movements, sign them as
	// performer or witness, count an inventory, take charge of its alerts.
	PermControlledRecord Permission = "controlled.record"
	// PermInfraView: read the site's IT and OT infrastructure: its
	// assets, their dependencies, their states, and what a failure or a
	// planned shutdown would stop.
	PermInfraView Permission = "infra.view"
	// PermInfraEdit: keep the infrastructure's inventory, dependencies,
	// zones and conduits, and supervision checks; draft planned shutdowns.
	PermInfraEdit Permission = "infra.edit"
)

// Permissions lists every permission, in display order.
var Permissions = []Permission{PermSiteView, PermSiteEdit, PermStaffView, PermStaffEdit, PermClientDirectory,
	PermAccountsView, PermAccountsAdmin, PermAuditSite, PermSecurityEvents, PermBatchRelease, PermClientUsers,
	PermProductionView, PermProductionPlan, PermLineMaintenance, PermMasterEdit, PermMasterApprove, PermBatchExecute,
	PermBatchReview, PermStockEdit, PermLotStatus, PermBackupView, PermRecordPrint, PermLabWork, PermSpecEdit, PermDeviationWork,
	PermQualityDecide, PermEquipmentMaintain, PermClientApprove, PermClientDocuments, PermProjectEdit, PermProjectWork, PermTrainingRecord,
	PermControlledView, PermControlledRecord, PermInfraView, PermInfraEdit}

// staffView is what every member of staff may do.
var staffView = []Permission{PermSiteView, PermStaffView, PermAuditSite}

// grants is the permission matrix: what each role may do. docs/security.md
// shows it, and a test keeps the two equal.
var grants = map[Role][]Permission{
	RoleAdmin:         append([]Permission{PermSiteEdit, PermStaffEdit, PermClientDirectory, PermAccountsView, PermAccountsAdmin, PermSecurityEvents, PermProductionView, PermBackupView, PermInfraView}, staffView...),
	RoleOperator:      append([]Permission{PermProductionView, PermBatchExecute}, staffView...),
	RoleSupervisor:    append([]Permission{PermSiteEdit, PermStaffEdit, PermProductionView, PermProductionPlan, PermLineMaintenance, PermMasterEdit, PermBatchExecute, PermStockEdit, PermRecordPrint, PermDeviationWork, PermProjectEdit, PermProjectWork, PermTrainingRecord, PermControlledView, PermControlledRecord, PermInfraView}, staffView...),
	RoleMaintenance:   append([]Permission{PermProductionView, PermLineMaintenance, PermEquipmentMaintain, PermInfraView}, staffView...),
	RoleQA:            append([]Permission{PermClientDirectory, PermAccountsView, PermProductionView, PermMasterApprove, PermBatchReview, PermStockEdit, PermLotStatus, PermBackupView, PermRecordPrint, PermSpecEdit, PermDeviationWork, PermQualityDecide, PermProjectEdit, PermProjectWork, PermTrainingRecord, PermControlledView, PermControlledRecord, PermInfraView}, staffView...),
	RoleQP:            append([]Permission{PermClientDirectory, PermBatchRelease, PermProductionView, PermBatchReview, PermRecordPrint, PermControlledView, PermControlledRecord}, staffView...),
	RoleLab:           append([]Permission{PermProductionView, PermLabWork, PermSpecEdit, PermProjectWork}, staffView...),
	RoleSecurity:      append([]Permission{PermAccountsView, PermSecurityEvents}, staffView...),
	RoleIT:            append([]Permission{PermBackupView, PermInfraView, PermInfraEdit}, staffView...),
	RoleClientUser:    {PermSiteView, PermProductionView, PermClientDocuments, PermProjectWork},
	RoleClientManager: {PermSiteView, PermClientUsers, PermProductionView, PermClientApprove, PermClientDocuments, PermProjectWork},
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
	key, ok := refusals[p]
	if !ok {
		key = "identity.refused"
	}
	return errs.E(errs.Forbidden, key)
}

// refusals are the catalogue keys of the refusal of each permission.
var refusals = map[Permission]string{
	PermSiteEdit:          "identity.refused.site_edit",
	PermStaffView:         "identity.refused.staff_view",
	PermStaffEdit:         "identity.refused.staff_edit",
	PermAccountsView:      "identity.refused.accounts_view",
	PermAccountsAdmin:     "identity.refused.accounts_admin",
	PermSecurityEvents:    "identity.refused.security_events",
	PermBatchRelease:      "identity.refused.batch_release",
	PermProductionView:    "identity.refused.production_view",
	PermProductionPlan:    "identity.refused.production_plan",
	PermLineMaintenance:   "identity.refused.line_maintenance",
	PermMasterEdit:        "identity.refused.master_edit",
	PermMasterApprove:     "identity.refused.master_approve",
	PermBatchExecute:      "identity.refused.batch_execute",
	PermBatchReview:       "identity.refused.batch_review",
	PermStockEdit:         "identity.refused.stock_edit",
	PermLotStatus:         "identity.refused.lot_status",
	PermBackupView:        "identity.refused.backup_view",
	PermLabWork:           "identity.refused.lab_work",
	PermSpecEdit:          "identity.refused.spec_edit",
	PermDeviationWork:     "identity.refused.deviation_work",
	PermQualityDecide:     "identity.refused.quality_decide",
	PermEquipmentMaintain: "identity.refused.equipment_maintain",
	PermTrainingRecord:    "identity.refused.training_record",
	PermControlledView:    "identity.refused.controlled_view",
	PermControlledRecord:  "identity.refused.controlled_record",
	PermInfraView:         "identity.refused.infra_view",
	PermInfraEdit:         "identity.refused.infra_edit",
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

// RequireSystem refuses, with a forbidden error, anyone but galenix itself:
// for what no role does (setting up the site, recording a client
// laboratory), which the installation or the demo's loader does.
func (a Actor) RequireSystem() error {
	if a.IsSystem() {
		return nil
	}
	return errs.E(errs.Forbidden, "identity.refused")
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
