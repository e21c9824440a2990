package production

import "galenix/internal/identity"

// Who may do what in production, one rule per kind of command, asked by
// the store before it reads anything (so that who may not learns nothing
// of a record) and by the domain's commands that decide with the records.

// MayPlan refuses who may not create products and orders: production
// supervisors.
func MayPlan(a identity.Actor) error { return a.Require(identity.PermProductionPlan) }

// MayEditMaster refuses who may not write master batch records.
func MayEditMaster(a identity.Actor) error { return a.Require(identity.PermMasterEdit) }

// MayEditStock refuses who may not record materials and lots.
func MayEditStock(a identity.Actor) error { return a.Require(identity.PermStockEdit) }

// MayPlanMaintenance refuses who may not plan the lines' maintenance
// windows.
func MayPlanMaintenance(a identity.Actor) error { return a.Require(identity.PermLineMaintenance) }

// MayReview refuses who may not review batch records by exception.
func MayReview(a identity.Actor) error { return a.Require(identity.PermBatchReview) }
