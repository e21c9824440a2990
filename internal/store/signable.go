package store

import (
	"strconv"
	"strings"

	"galenix/internal/audit"
	"galenix/internal/client"
	"galenix/internal/controlled"
	"galenix/internal/document"
	"galenix/internal/identity"
	"galenix/internal/site"
)

// signable finds the current content of a record that can be signed: its
// fields as the audit trail records them, and the client owning it, if any.
// A record the transaction's actor may not see is not found, so that its
// existence does not leak.
type signable func(tx *Tx, id string) (fields []audit.Field, clientID string, err error)

// signables are the records that can be signed, by the entity name the
// audit trail gives them. A new kind of record joins by naming how to read
// it here. (A period of the audit trail, esign.EntityAuditPeriod, is signed
// on the chain's hash instead: see Tx.target.)
var signables = map[string]signable{
	buildingTable.entity: siteRecord(func(tx *Tx, id string) (auditable, error) {
		var v site.Building
		return &v, tx.building(id, &v)
	}),
	roomTable.entity: siteRecord(func(tx *Tx, id string) (auditable, error) {
		var v site.Room
		return &v, tx.room(id, &v)
	}),
	lineTable.entity: siteRecord(func(tx *Tx, id string) (auditable, error) {
		var v site.Line
		return &v, tx.line(id, &v)
	}),
	equipmentTable.entity: signableEquipment,
	shiftTable.entity: staffRecord(func(tx *Tx, id string) (auditable, error) {
		var v site.Shift
		return &v, tx.shift(id, &v)
	}),
	teamTable.entity: staffRecord(func(tx *Tx, id string) (auditable, error) {
		var v site.Team
		return &v, tx.team(id, &v)
	}),
	personTable.entity: staffRecord(func(tx *Tx, id string) (auditable, error) {
		var v site.Person
		return &v, tx.person(id, &v)
	}),
	clientTable.entity: signableClient,
	"account":          signableAccount,
	// Production's records.
	productTable.entity: signableProduct,
	masterTable.entity:  signableMaster,
	lotTable.entity:     signableLot,
	stepTable.entity:    signableStep,
	batchTable.entity:   signableBatch,
	// The laboratory's: QA approves a specification, closes an OOS
	// investigation.
	specTable.entity: signableSpec,
	oosTable.entity:  signableOOS,
	// Quality's records.
	devTable.entity: signableDeviation,
	// A client's approval of a deviation's closure, under its agreement.
	entityClosure: signableClosure,
	// A client's approval of a master batch record in review, under its
	// agreement.
	entityMasterClient: signableMasterClient,
	// Environmental monitoring: an alarm's acknowledgement.
	entityAlarm: signableAlarm,
	// A client's documents: each side's approval of a version; the
	// destruction of the client's key at the end of its contract.
	versionTable.entity:      signableVersion,
	document.EntityClientKey: signableClientKey,
	// A person's qualification, granted by quality assurance.
	EntityQualification: signableQualification,
	// A movement of the controlled-substance register: its performer's and
	// its witness's signatures.
	controlled.EntityMovement: signableMovement,
}

// siteRecord reads a record of the site model. Its signatures, like its
// audit trail, are for site staff.
func siteRecord(load func(tx *Tx, id string) (auditable, error)) signable {
	return func(tx *Tx, id string) ([]audit.Field, string, error) {
		if !isStaff(tx.actor) {
			return nil, "", errNoRecord()
		}
		rec, err := load(tx, id)
		if err != nil {
			return nil, "", err
		}
		return rec.AuditFields(), "", nil
	}
}

// staffRecord reads a shift, a team or a person: for those who may see
// staff.
func staffRecord(load func(tx *Tx, id string) (auditable, error)) signable {
	return func(tx *Tx, id string) ([]audit.Field, string, error) {
		if site.CanViewStaff(tx.actor) != nil {
			return nil, "", errNoRecord()
		}
		rec, err := load(tx, id)
		if err != nil {
			return nil, "", err
		}
		return rec.AuditFields(), "", nil
	}
}

// signableClient reads a client laboratory's own record, which belongs to
// it: for those whose client scope holds it.
func signableClient(tx *Tx, id string) ([]audit.Field, string, error) {
	if !tx.actor.ClientScope().Has(id) {
		return nil, "", errNoRecord()
	}
	var c client.Client
	err := tx.byID(`SELECT id, code, name FROM clients WHERE id = ?`, id, func(sc scanner) error { return scanClient(sc, &c) },
		"store.no_such_client")
	if err != nil {
		return nil, "", err
	}
	return c.AuditFields(), c.ID, nil
}

// signableAccount reads an account (an access review signs one, say): for
// those who may see accounts, and one's own. A client laboratory's account
// belongs to it, and needs that client in scope too, as its trail does.
func signableAccount(tx *Tx, id string) ([]audit.Field, string, error) {
	a := tx.actor
	if !a.Can(identity.PermAccountsView) && a.UserID != id {
		return nil, "", errNoRecord()
	}
	var acc identity.Account
	err := tx.byID(`SELECT `+accountCols+` FROM accounts WHERE id = ?`, id, func(sc scanner) error { return scanAccount(sc, &acc) },
		"store.no_such_account")
	if err != nil {
		return nil, "", err
	}
	if acc.ClientID != "" && !a.ClientScope().Has(acc.ClientID) {
		return nil, "", errNoRecord()
	}
	roles := make([]string, len(acc.Roles))
	for i, r := range acc.Roles {
		roles[i] = string(r)
	}
	// The fields CreateAccount records in the trail; never the password.
	return []audit.Field{audit.F("username", acc.Username), audit.F("name", acc.Name), audit.F("roles", strings.Join(roles, ",")),
		audit.F("client_id", acc.ClientID), audit.F("active", strconv.FormatBool(acc.Active))}, acc.ClientID, nil
}
