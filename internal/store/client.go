package store

import (
	"context"

	"galenix/internal/audit"
	"galenix/internal/client"
	"galenix/internal/identity"
)

// ClientStore implements client.Service.
type ClientStore struct{ db *DB }

// Clients returns the client service of the database.
func (db *DB) Clients() *ClientStore { return &ClientStore{db: db} }

var _ client.Service = (*ClientStore)(nil)

var clientTable = table{"clients", "client", []string{"code", "name"}}

func scanClient(sc scanner, c *client.Client) error { return sc.Scan(&c.ID, &c.Code, &c.Name) }

// clientScope returns the client the actor is confined to, if any.
func clientScope(ctx context.Context) string {
	a, _ := identity.ActorFrom(ctx)
	return a.ClientID
}

// Clients lists the client laboratories the actor may see, by code.
func (s *ClientStore) Clients(ctx context.Context) ([]client.Client, error) {
	q, args := where(`SELECT id, code, name FROM clients`, "id", clientScope(ctx))
	return list(ctx, s.db, q+` ORDER BY code`, args, scanClient)
}

// Client returns one client laboratory, if the actor may see it.
func (s *ClientStore) Client(ctx context.Context, id string) (*client.Client, error) {
	var c client.Client
	err := s.db.Read(ctx, func(tx *Tx) error {
		scope := clientScope(ctx)
		if scope != "" && scope != id {
			id = ""
		}
		return tx.byID(`SELECT id, code, name FROM clients WHERE id = ?`, id,
			func(sc scanner) error { return scanClient(sc, &c) }, "No such client.", "Ce client n'existe pas.")
	})
	return &c, err
}

// CreateClient records a client laboratory in this transaction.
func (tx *Tx) CreateClient(c *client.Client) error {
	if err := c.Validate(); err != nil {
		return err
	}
	c.ID = NewID()
	if _, err := tx.exec(`INSERT INTO clients (id, code, name) VALUES (?,?,?)`, c.ID, c.Code, c.Name); err != nil {
		return err
	}
	// The client's own record belongs to it: its users see its trail.
	return tx.Audit(audit.Diff(clientTable.entity, c.ID, nil, c.AuditFields()), c.ID)
}
