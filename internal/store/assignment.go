package store

import (
	"context"
	"database/sql"
	"errors"

	"github.com/google/uuid"

	"galenix/internal/audit"
	"galenix/internal/errs"
	"galenix/internal/identity"
)

// assignClient assigns a member of staff to a client laboratory, giving them
// sight of its confidential data; the grant is in the audit trail, where the
// client's own users can see it too (Annex 11 §12.3).
func (tx *Tx) assignClient(accountID, clientID string) error {
	_, err := tx.assign(accountID, clientID)
	return err
}

// assign records the assignment and returns its id.
func (tx *Tx) assign(accountID, clientID string) (string, error) {
	var clientAccount string
	err := tx.queryRow(`SELECT COALESCE(CAST(client_id AS TEXT), '') FROM accounts WHERE id = ?`, accountID).Scan(&clientAccount)
	if err != nil {
		return "", asField(notFound(err, "store.no_such_account"), "account_id")
	}
	if clientAccount != "" {
		return "", errs.Field("account_id", "store.client_laboratory_user_belongs")
	}
	var n int
	if err := tx.queryRow(`SELECT COUNT(*) FROM client_assignments WHERE account_id = ? AND client_id = ?`, accountID, clientID).Scan(&n); err != nil {
		return "", err
	}
	if n > 0 {
		return "", &errs.Error{Code: errs.Conflict, Field: "client_id",
			Key: "store.member_staff_already_assigned"}
	}
	id := NewID()
	if _, err := tx.exec(`INSERT INTO client_assignments (id, account_id, client_id, created_at) VALUES (?,?,?,?)`, id, accountID, clientID, tx.now); err != nil {
		return "", err
	}
	return id, tx.Audit([]audit.Change{{Entity: "account", EntityID: accountID, Field: "assigned_client", New: clientID}}, clientID)
}

// unassignClient withdraws the assignment of a member of staff to a client
// laboratory: they no longer see its confidential data. Like any change of
// a record that exists, it needs a reason; the withdrawal is in the audit
// trail, with the client's id, as the grant was.
func (tx *Tx) unassignClient(accountID, clientID string) error {
	if tx.reason == "" {
		return errReasonRequired()
	}
	res, err := tx.exec(`DELETE FROM client_assignments WHERE account_id = ? AND client_id = ?`, accountID, clientID)
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil {
		return err
	} else if n == 0 {
		return errNoAssignment()
	}
	return tx.Audit([]audit.Change{{Entity: "account", EntityID: accountID, Field: "assigned_client", Old: clientID}}, clientID)
}

func errNoAssignment() error {
	return errs.E(errs.NotFound, "store.no_such_client_assignment")
}

func errReasonRequired() error {
	return errs.Field("reason", "reason.required_access")
}

// --- the administration of assignments

// assignmentSelect reads assignments with their account and, when the
// actor may see it, their client's code and name (clientCond, on c.id).
func assignmentSelect(clientCond string) string {
	return `SELECT s.id, s.account_id, a.username, a.name, s.client_id, COALESCE(c.code, ''), COALESCE(c.name, ''), s.created_at
		FROM client_assignments s JOIN accounts a ON a.id = s.account_id
		LEFT JOIN clients c ON c.id = s.client_id AND ` + clientCond
}

func scanAssignment(sc scanner, as *identity.Assignment) error {
	err := sc.Scan(&as.ID, &as.AccountID, &as.Username, &as.Name, &as.ClientID, &as.ClientCode, &as.ClientName, &as.CreatedAt)
	as.CreatedAt = as.CreatedAt.UTC()
	return err
}

// Assignments lists the client assignments of staff, by username then
// client, to those who may see accounts.
func (s *AdminStore) Assignments(ctx context.Context, f identity.AssignmentFilter) ([]identity.Assignment, error) {
	a := actorOf(ctx)
	if err := a.Require(identity.PermAccountsView); err != nil {
		return nil, err
	}
	cond, args := inScope("c.id", a.DirectoryScope())
	q, wargs := where(assignmentSelect(cond), "s.account_id", f.AccountID, "s.client_id", f.ClientID)
	return list(ctx, s.db, q+` ORDER BY a.username, c.code, s.client_id`, append(args, wargs...), scanAssignment)
}

// Assignment returns one assignment; to those who may not see accounts it
// is not found.
func (s *AdminStore) Assignment(ctx context.Context, id string) (*identity.Assignment, error) {
	var as identity.Assignment
	err := s.db.Read(ctx, func(tx *Tx) error { return tx.assignment(id, &as) })
	return &as, err
}

func (tx *Tx) assignment(id string, as *identity.Assignment) error {
	if _, err := uuid.Parse(id); err != nil || !tx.actor.Can(identity.PermAccountsView) {
		return errNoAssignment()
	}
	cond, args := inScope("c.id", tx.actor.DirectoryScope())
	err := scanAssignment(tx.queryRow(assignmentSelect(cond)+` WHERE s.id = ?`, append(args, id)...), as)
	if errors.Is(err, sql.ErrNoRows) {
		return errNoAssignment()
	}
	return err
}

// Assign assigns a member of staff to a client laboratory.
func (s *AdminStore) Assign(ctx context.Context, as *identity.Assignment, reason string) error {
	if err := actorOf(ctx).Require(identity.PermAccountsAdmin); err != nil {
		return err
	}
	if _, err := uuid.Parse(as.AccountID); err != nil {
		return errs.Field("account_id", "store.no_such_account")
	}
	if _, err := uuid.Parse(as.ClientID); err != nil {
		return errs.Field("client_id", "store.no_such_client")
	}
	return s.db.Write(ctx, "account.assign", reason, func(tx *Tx) error {
		var n int
		if err := tx.queryRow(`SELECT COUNT(*) FROM clients WHERE id = ?`, as.ClientID).Scan(&n); err != nil {
			return err
		}
		if n == 0 {
			return errs.Field("client_id", "store.no_such_client")
		}
		id, err := tx.assign(as.AccountID, as.ClientID)
		if err != nil {
			return err
		}
		return tx.assignment(id, as)
	})
}

// Unassign withdraws an assignment and returns it as it was.
func (s *AdminStore) Unassign(ctx context.Context, id, reason string) (*identity.Assignment, error) {
	if err := actorOf(ctx).Require(identity.PermAccountsAdmin); err != nil {
		return nil, err
	}
	var as identity.Assignment
	err := s.db.Write(ctx, "account.unassign", reason, func(tx *Tx) error {
		if err := tx.assignment(id, &as); err != nil {
			return err
		}
		return tx.unassignClient(as.AccountID, as.ClientID)
	})
	return &as, err
}
