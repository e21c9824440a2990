package store

import (
	"context"

	"github.com/google/uuid"

	"galenix/internal/audit"
	"galenix/internal/errs"
	"galenix/internal/identity"
	"galenix/internal/production"
)

// The production catalogue: the client-owned products, the site's
// materials and their lots, and the versioned master batch records.
// Products and masters are read within the actor's client scope; materials
// and lots are the site's, for staff only. Masters too are for staff: a
// client laboratory sees its products and batches, not how they are made.

// --- products

const productCols = `id, client_id, code, name, form, sterile, strength, presentation, special_class, storage, shelf_life_months, version`

func scanProduct(sc scanner, p *production.Product) error {
	return sc.Scan(&p.ID, &p.ClientID, &p.Code, &p.Name, &p.Form, &p.Sterile, &p.Strength, &p.Presentation, &p.SpecialClass, &p.Storage, &p.ShelfLifeMonths, &p.Version)
}

func productRow(p *production.Product) row {
	return row{"client_id": p.ClientID, "code": p.Code, "name": p.Name, "form": string(p.Form), "sterile": p.Sterile, "strength": p.Strength,
		"presentation": p.Presentation, "special_class": string(p.SpecialClass), "storage": p.Storage,
		"shelf_life_months": p.ShelfLifeMonths}
}

// Products lists the products of the clients in the actor's scope, by code.
func (s *ProductionStore) Products(ctx context.Context, f production.ProductFilter) ([]production.Product, error) {
	a := actorOf(ctx)
	if err := needProductionView(a); err != nil {
		return nil, err
	}
	q, args := productQuery(a.ClientScope(), f)
	return list(ctx, s.db, q+` ORDER BY code`, args, scanProduct)
}

// SearchProducts answers the page of products in the actor's scope f asks
// for, by code, and how many match f in all.
func (s *ProductionStore) SearchProducts(ctx context.Context, f production.ProductFilter) ([]production.Product, int, error) {
	var out []production.Product
	var total int
	err := s.db.Read(ctx, func(tx *Tx) error {
		if err := needProductionView(tx.actor); err != nil {
			return err
		}
		q, args := productQuery(tx.actor.ClientScope(), f)
		var err error
		out, total, err = paged(tx, q, args, `code, id`, f.Limit, f.Offset, scanProduct)
		return err
	})
	return out, total, err
}

// productQuery selects the products in scope matching the filter (its
// page aside).
func productQuery(scope identity.Scope, f production.ProductFilter) (string, []any) {
	cond, args := inScope("client_id", scope)
	q, args := andIDFilters(`SELECT `+productCols+` FROM products WHERE `+cond, args, "client_id", f.ClientID)
	if f.Form != "" {
		q += ` AND form = ?`
		args = append(args, string(f.Form))
	}
	return andSearch(q, args, f.Query, "code", "name")
}

// Product returns one product of a client in the actor's scope.
func (s *ProductionStore) Product(ctx context.Context, id string) (*production.Product, error) {
	if err := needProductionView(actorOf(ctx)); err != nil {
		return nil, err
	}
	var p production.Product
	if err := s.db.Read(ctx, func(tx *Tx) error { return tx.productByID(id, &p) }); err != nil {
		return nil, err
	}
	return &p, nil
}

// productByID reads a product of a client in the actor's scope; any other
// is not found.
func (tx *Tx) productByID(id string, p *production.Product) error {
	cond, args := inScope("client_id", tx.actor.ClientScope())
	return tx.byID(`SELECT `+productCols+` FROM products WHERE id = ? AND `+cond, id,
		func(sc scanner) error { return scanProduct(sc, p) }, "store.no_such_product", args...)
}

// CreateProduct records a client's product.
func (s *ProductionStore) CreateProduct(ctx context.Context, p *production.Product) error {
	if err := production.MayPlan(actorOf(ctx)); err != nil {
		return err
	}
	return s.db.Write(ctx, "product.create", "", func(tx *Tx) error { return tx.createProduct(p) })
}

// createProduct records a product in this transaction, for a client in the
// actor's scope, audited as that client's.
func (tx *Tx) createProduct(p *production.Product) error {
	if err := p.Validate(); err != nil {
		return err
	}
	if err := tx.clientOfScope(p.ClientID); err != nil {
		return err
	}
	p.ID = NewID()
	return createClientRecord(tx, productTable, p.ID, p.ClientID, p, productRow(p))
}

// UpdateProduct changes a product; it stays with its client.
func (s *ProductionStore) UpdateProduct(ctx context.Context, p *production.Product, reason string) error {
	if err := production.MayPlan(actorOf(ctx)); err != nil {
		return err
	}
	return s.db.Write(ctx, "product.update", reason, func(tx *Tx) error {
		var old production.Product
		if err := tx.productByID(p.ID, &old); err != nil {
			return err
		}
		if p.ClientID == "" {
			p.ClientID = old.ClientID
		}
		if p.ClientID != old.ClientID {
			return errs.Field("client_id", "store.product_stays_with_client")
		}
		if err := p.Validate(); err != nil {
			return err
		}
		return updateClientRecord(tx, productTable, p.ID, old.ClientID, &old, p, productRow(p))
	})
}

// clientOfScope checks that a client-owned record names an existing client
// of the actor's scope.
func (tx *Tx) clientOfScope(clientID string) error {
	if _, err := uuid.Parse(clientID); err != nil || !tx.actor.ClientScope().Has(clientID) {
		return errs.Field("client_id", "store.choose_client_laboratory_you")
	}
	var n int
	if err := tx.queryRow(`SELECT COUNT(*) FROM clients WHERE id = ?`, clientID).Scan(&n); err != nil {
		return err
	}
	if n == 0 {
		return errs.Field("client_id", "store.no_such_client_laboratory")
	}
	return nil
}

// signableProduct reads a product for a signature: for those who see it.
func signableProduct(tx *Tx, id string) ([]audit.Field, string, error) {
	if needProductionView(tx.actor) != nil {
		return nil, "", errNoRecord()
	}
	var p production.Product
	if err := tx.productByID(id, &p); err != nil {
		return nil, "", err
	}
	return p.AuditFields(), p.ClientID, nil
}

// --- shared helpers

// andIDFilters appends "AND col = ?" to a query that has a WHERE clause, for the
// non-empty values of pairs (column, value ...). A value that is not a
// UUID names no record: it matches nothing.
func andIDFilters(q string, args []any, pairs ...string) (string, []any) {
	for i := 0; i+1 < len(pairs); i += 2 {
		v := pairs[i+1]
		if v == "" {
			continue
		}
		if _, err := uuid.Parse(v); err != nil {
			q += " AND 1 = 0"
			continue
		}
		q += " AND " + pairs[i] + " = ?"
		args = append(args, v)
	}
	return q, args
}

// refusalOr returns err if set, else otherwise: a refusal of the actor
// comes before a not-found.
func refusalOr(err, otherwise error) error {
	if err != nil {
		return err
	}
	return otherwise
}
