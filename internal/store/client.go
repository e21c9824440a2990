package store

import (
	"context"

	"galenix/internal/audit"
	"galenix/internal/client"
)

// ClientStore implements client.Service.
type ClientStore struct{ db *DB }

// Clients returns the client service of the database.
func (db *DB) Clients() *ClientStore { return &ClientStore{db: db} }

var _ client.Service = (*ClientStore)(nil)

var clientTable = table{"clients", "client", []string{"code", "name"}}

func scanClient(sc scanner, c *client.Client) error { return sc.Scan(&c.ID, &c.Code, &c.Name) }

// Clients lists the client laboratories the actor may see, by code: a
// client's user sees their own; staff the clients they are assigned to, or
// all of them with the client directory permission.
func (s *ClientStore) Clients(ctx context.Context) ([]client.Client, error) {
	cond, args := inScope("id", actorOf(ctx).DirectoryScope())
	return list(ctx, s.db, `SELECT id, code, name FROM clients WHERE `+cond+` ORDER BY code`, args, scanClient)
}

// Client returns one client laboratory, if the actor may see it; else it is
// not found, so that its existence does not leak.
func (s *ClientStore) Client(ctx context.Context, id string) (*client.Client, error) {
	var c client.Client
	err := s.db.Read(ctx, func(tx *Tx) error {
		cond, args := inScope("id", tx.actor.DirectoryScope())
		return tx.byID(`SELECT id, code, name FROM clients WHERE id = ? AND `+cond, id,
			func(sc scanner) error { return scanClient(sc, &c) }, "store.no_such_client", args...)
	})
	return &c, err
}

// CreateClient records a client laboratory ("client.create").
func (s *ClientStore) CreateClient(ctx context.Context, c *client.Client) error {
	if err := client.MayCreate(actorOf(ctx)); err != nil {
		return err
	}
	return s.db.Write(ctx, "client.create", "", func(tx *Tx) error { return tx.createClient(c) })
}

// createClient records a client laboratory in this transaction.
func (tx *Tx) createClient(c *client.Client) error {
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
