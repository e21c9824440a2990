package store

import (
	"galenix/internal/client"
	"galenix/internal/identity"
	"galenix/internal/production"
	"galenix/internal/site"
)

// The store's own tests (package store_test) write their fixtures and
// probe persistence through the transaction's helpers, which no other
// package reaches: other packages write through the services. These
// wrappers exist in the store's test build only.

func (tx *Tx) CreateAccount(a *identity.Account, passwordHash string) error {
	return tx.createAccount(a, passwordHash)
}
func (tx *Tx) AssignClient(accountID, clientID string) error {
	return tx.assignClient(accountID, clientID)
}
func (tx *Tx) CreateClient(c *client.Client) error         { return tx.createClient(c) }
func (tx *Tx) CreateSite(st *site.Site) error              { return tx.createSite(st) }
func (tx *Tx) CreateBuilding(b *site.Building) error       { return tx.createBuilding(b) }
func (tx *Tx) HasSite() (bool, error)                      { return tx.hasSite() }
func (tx *Tx) CreateProduct(p *production.Product) error   { return tx.createProduct(p) }
func (tx *Tx) CreateMaterial(m *production.Material) error { return tx.createMaterial(m) }
func (tx *Tx) CreateLot(l *production.Lot) error           { return tx.createLot(l) }
func (tx *Tx) CreateMaster(m *production.Master) error     { return tx.createMaster(m) }
func (tx *Tx) CreateOrder(o *production.Order) error       { return tx.createOrder(o) }
func (tx *Tx) ConsumeLot(lotID string, qty float64) error  { return tx.consumeLot(lotID, qty) }
func (tx *Tx) Policy() (identity.Policy, error)            { return tx.policy() }
func (tx *Tx) SetPolicy(p identity.Policy) error           { return tx.setPolicy(p, false) }
func (tx *Tx) ResetTOTP(accountID string) error            { return tx.resetTOTP(accountID) }
func (tx *Tx) EffectiveMaster(productID string) (*production.Master, error) {
	return tx.effectiveMaster(productID)
}
func (tx *Tx) SetPassword(accountID, password string, policy identity.Policy) error {
	return tx.setPassword(accountID, password, policy)
}
