package store

import (
	"context"
	"time"

	"galenix/internal/audit"
	"galenix/internal/errs"
	"galenix/internal/identity"
	"galenix/internal/production"
)

// --- orders

const orderCols = `id, client_id, product_id, master_id, code, quantity, unit, due_on`

// orderColsO are orderCols of the orders named o.
const orderColsO = `o.id, o.client_id, o.product_id, o.master_id, o.code, o.quantity, o.unit, o.due_on`

func scanOrder(sc scanner, o *production.Order) error {
	err := sc.Scan(&o.ID, &o.ClientID, &o.ProductID, &o.MasterID, &o.Code, &o.Quantity, &o.Unit, &o.DueOn)
	o.DueOn = o.DueOn.UTC()
	return err
}

// Orders lists the orders of the clients in the actor's scope, newest
// first.
func (s *ProductionStore) Orders(ctx context.Context) ([]production.Order, error) {
	a := actorOf(ctx)
	if err := needProductionView(a); err != nil {
		return nil, err
	}
	q, args := orderQuery(a.ClientScope(), production.OrderFilter{})
	return list(ctx, s.db, q+` ORDER BY `+orderOrder, args, scanOrder)
}

// orderOrder is the order of the lists of orders: newest first.
const orderOrder = `o.created_at DESC, o.code DESC, o.id`

// SearchOrders answers the page of orders in the actor's scope f asks
// for, newest first, and how many match f in all.
func (s *ProductionStore) SearchOrders(ctx context.Context, f production.OrderFilter) ([]production.Order, int, error) {
	var out []production.Order
	var total int
	err := s.db.Read(ctx, func(tx *Tx) error {
		if err := needProductionView(tx.actor); err != nil {
			return err
		}
		q, args := orderQuery(tx.actor.ClientScope(), f)
		var err error
		out, total, err = paged(tx, q, args, orderOrder, f.Limit, f.Offset, scanOrder)
		return err
	})
	return out, total, err
}

// orderQuery selects the orders in scope matching the filter (its page
// aside); Query finds an order by its code or its product's code or name.
func orderQuery(scope identity.Scope, f production.OrderFilter) (string, []any) {
	cond, args := inScope("o.client_id", scope)
	q, args := andIDFilters(`SELECT `+orderColsO+` FROM orders o JOIN products p ON p.id = o.product_id WHERE `+cond, args, "o.client_id", f.ClientID)
	q, args = andPeriod(q, args, "o.due_on", f.DueFrom, f.DueTo)
	return andSearch(q, args, f.Query, "o.code", "p.code", "p.name")
}

// Order returns one order with its batches.
func (s *ProductionStore) Order(ctx context.Context, id string) (*production.Order, error) {
	var o production.Order
	err := s.db.Read(ctx, func(tx *Tx) error {
		if err := needProductionView(tx.actor); err != nil {
			return err
		}
		cond, args := inScope("client_id", tx.actor.ClientScope())
		if err := tx.byID(`SELECT `+orderCols+` FROM orders WHERE id = ? AND `+cond, id, func(sc scanner) error { return scanOrder(sc, &o) },
			"store.no_such_order", args...); err != nil {
			return err
		}
		var err error
		o.Batches, err = tx.batches(production.BatchFilter{OrderID: o.ID})
		return err
	})
	return &o, err
}

// CreateOrder records an order and its planned batches.
func (s *ProductionStore) CreateOrder(ctx context.Context, o *production.Order) error {
	return s.db.Write(ctx, "order.create", "", func(tx *Tx) error {
		if err := production.MayPlan(tx.actor); err != nil {
			return err
		}
		if err := o.Validate(tx.now); err != nil {
			return err
		}
		return tx.createOrder(o)
	})
}

// createOrder records an order of a product from its effective master
// batch record, and as many planned batches as the master's batch size
// needs, each with its lot number.
func (tx *Tx) createOrder(o *production.Order) error {
	if o.DueOn.IsZero() {
		return errs.Field("due_on", "production.give_due_date_yyyy")
	}
	var p production.Product
	if err := tx.productByID(o.ProductID, &p); err != nil {
		return asField(err, "product_id")
	}
	m, err := tx.effectiveMaster(p.ID)
	if err != nil {
		return err
	}
	n, err := o.BatchCount(m)
	if err != nil {
		return err
	}
	seq, err := tx.nextNumber("order")
	if err != nil {
		return err
	}
	o.ID, o.ClientID, o.MasterID, o.Unit, o.Code = NewID(), p.ClientID, m.ID, m.Unit, production.OrderCode(tx.now, seq)
	if err := createClientRecord(tx, orderTable, o.ID, o.ClientID, o, orderRow(o, tx.now)); err != nil {
		return err
	}
	o.Batches = nil
	left := o.Quantity
	for i := 0; i < n; i++ {
		q := min(left, m.BatchSize)
		left -= q
		lot, err := tx.nextNumber("lot")
		if err != nil {
			return err
		}
		b := production.Batch{ID: NewID(), ClientID: o.ClientID, OrderID: o.ID, ProductID: p.ID, MasterID: m.ID,
			Lot: production.LotCode(tx.now, lot), Quantity: q, Unit: m.Unit, State: production.BatchPlanned, StepsTotal: m.Steps}
		if _, err := tx.exec(`INSERT INTO batches (id, client_id, order_id, product_id, master_id, lot, quantity, unit, state, steps_total, updated_at)
			VALUES (?,?,?,?,?,?,?,?,?,?,?)`, b.ID, b.ClientID, b.OrderID, b.ProductID, b.MasterID, b.Lot, b.Quantity, b.Unit, string(b.State), b.StepsTotal, tx.now); err != nil {
			return err
		}
		if err := tx.Audit(audit.Diff(batchTable.entity, b.ID, nil, b.AuditFields()), b.ClientID); err != nil {
			return err
		}
		full, err := tx.batch(b.ID)
		if err != nil {
			return err
		}
		o.Batches = append(o.Batches, *full)
	}
	return nil
}

func orderRow(o *production.Order, created time.Time) row {
	return row{"client_id": o.ClientID, "product_id": o.ProductID, "master_id": o.MasterID, "code": o.Code, "quantity": o.Quantity,
		"unit": o.Unit, "due_on": o.DueOn, "created_at": created}
}
