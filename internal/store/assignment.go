package store

import (
	"galenix/internal/audit"
	"galenix/internal/errs"
)

// assignments lists the ids of the clients an account is assigned to.
func (tx *Tx) assignments(accountID string) ([]string, error) {
	rows, err := tx.query(`SELECT client_id FROM client_assignments WHERE account_id = ? ORDER BY client_id`, accountID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		out = append(out, id)
	}
	return out, rows.Err()
}

// AssignClient assigns a member of staff to a client laboratory, giving them
// sight of its confidential data; the grant is in the audit trail, where the
// client's own users can see it too (Annex 11 §12.3).
func (tx *Tx) AssignClient(accountID, clientID string) error {
	var clientAccount string
	err := tx.queryRow(`SELECT COALESCE(CAST(client_id AS TEXT), '') FROM accounts WHERE id = ?`, accountID).Scan(&clientAccount)
	if err != nil {
		return asField(notFound(err, "No such account.", "Ce compte n'existe pas."), "account_id")
	}
	if clientAccount != "" {
		return errs.Field("account_id", "A client laboratory's user belongs to their laboratory; only staff are assigned to clients.",
			"Un utilisateur de laboratoire client appartient à son laboratoire ; seul le personnel est affecté aux clients.")
	}
	if _, err := tx.exec(`INSERT INTO client_assignments (account_id, client_id, created_at) VALUES (?,?,?)`, accountID, clientID, tx.Now); err != nil {
		return err
	}
	return tx.Audit([]audit.Change{{Entity: "account", EntityID: accountID, Field: "assigned_client", New: clientID}}, clientID)
}
