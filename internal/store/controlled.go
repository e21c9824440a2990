package store

import (
	"context"
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"galenix/internal/access"
	"galenix/internal/audit"
	"galenix/internal/controlled"
	"galenix/internal/errs"
	"galenix/internal/esign"
	"galenix/internal/identity"
	"galenix/internal/production"
	"galenix/internal/text"

	"github.com/google/uuid"
)

// The controlled-substance register (package controlled): substances,
// containers and movements. A movement is entered by its performer, naming
// its witness; it counts once both have signed it (performed, then
// verified on the same device), when it takes the register's next serial
// number and moves the balances. A dispensing to a batch is written by the
// batch record's material addition on a controlled lot, and validated by
// the step's own two signatures. A validated movement is never changed:
// a correcting movement sets it right.

// ControlledStore keeps the register.
type ControlledStore struct{ db *DB }

// Controlled returns the register's store.
func (db *DB) Controlled() *ControlledStore { return &ControlledStore{db: db} }

var _ controlled.Service = (*ControlledStore)(nil)

// view reads what fn reads of the register for who may read it.
func view[T any](ctx context.Context, s *ControlledStore, fn func(tx *Tx) (T, error)) (T, error) {
	return readIf(ctx, s.db, controlled.MayView, fn)
}

// readIf reads what fn reads, in one read transaction, for an actor the
// domain's rule may lets read it.
func readIf[T any](ctx context.Context, db *DB, may func(identity.Actor) error, fn func(tx *Tx) (T, error)) (T, error) {
	var out T
	if err := may(actorOf(ctx)); err != nil {
		return out, err
	}
	err := db.Read(ctx, func(tx *Tx) error {
		var err error
		out, err = fn(tx)
		return err
	})
	return out, err
}

var substanceTable = table{"controlled_substances", "controlled_substance", []string{"code", "name", "class", "unit", "client_id", "material_id"}}

var containerTable = table{"controlled_containers", "controlled_container", []string{"substance_id", "code", "lot_id", "lot_code", "place", "place_kind"}}

var movementTable = table{"controlled_movements", controlled.EntityMovement, []string{"state", "at", "kind", "substance_id", "container_id", "to_container_id",
	"quantity", "party", "document", "cause", "batch_id", "step_id", "scale", "corrects", "increase", "performer_id", "performer_name", "witness_id",
	"witness_name", "entered_at"}}

// counterRegister is the counter of the site's validations (entry); each
// substance's serial numbers are counted by counterRegister:<substance>.
const counterRegister = "controlled_register"

// The audit trail's names of a movement's validation and of an alert.
const (
	fieldSerial = "serial"
	fieldState  = "state"
)

const substanceCols = `s.id, s.code, s.name, s.class, s.unit, CAST(s.client_id AS TEXT), (SELECT name FROM clients WHERE id = s.client_id),
	COALESCE(CAST(s.material_id AS TEXT), ''), s.version`

func scanSubstance(sc scanner, s *controlled.Substance) error {
	var class string
	err := sc.Scan(&s.ID, &s.Code, &s.Name, &class, &s.Unit, &s.ClientID, &s.Client, &s.MaterialID, &s.Version)
	s.Class = controlled.Class(class)
	return err
}

// Substances lists the register's substances by code.
func (s *ControlledStore) Substances(ctx context.Context) ([]controlled.Substance, error) {
	return view(ctx, s, func(tx *Tx) ([]controlled.Substance, error) {
		return collect(tx, `SELECT `+substanceCols+` FROM controlled_substances s ORDER BY s.code`, nil, scanSubstance)
	})
}

// substance reads one substance.
func (tx *Tx) substance(id string, s *controlled.Substance) error {
	return tx.byID(`SELECT `+substanceCols+` FROM controlled_substances s WHERE s.id = ?`, id, func(sc scanner) error { return scanSubstance(sc, s) },
		"controlled.no_such_substance")
}

// Substance reads one substance; to who may not read the register, it
// does not exist.
func (s *ControlledStore) Substance(ctx context.Context, id string) (*controlled.Substance, error) {
	if controlled.MayView(actorOf(ctx)) != nil {
		return nil, errs.E(errs.NotFound, "controlled.no_such_substance")
	}
	var v controlled.Substance
	err := s.db.Read(ctx, func(tx *Tx) error { return tx.substance(id, &v) })
	return &v, err
}

// CreateSubstance records a substance the register follows, linked to
// the production material it is, if any: that material's lots are then
// controlled lots.
func (s *ControlledStore) CreateSubstance(ctx context.Context, v *controlled.Substance) error {
	if err := controlled.MayRecord(actorOf(ctx)); err != nil {
		return err
	}
	if err := v.Validate(); err != nil {
		return err
	}
	return s.db.Write(ctx, "controlled.substance.create", "", func(tx *Tx) error {
		if v.MaterialID != "" {
			var m production.Material
			if err := tx.materialByID(v.MaterialID, &m); err != nil {
				return asField(err, "material_id")
			}
		}
		if _, err := uuid.Parse(v.ClientID); err != nil {
			return errs.Field("client_id", "store.no_such_client")
		}
		var n int
		if err := tx.queryRow(`SELECT COUNT(*) FROM clients WHERE id = ?`, v.ClientID).Scan(&n); err != nil || n == 0 {
			return errs.Field("client_id", "store.no_such_client")
		}
		if err := tx.unique(`SELECT COUNT(*) FROM controlled_substances WHERE code = ? OR (material_id IS NOT NULL AND material_id = ?)`,
			[]any{v.Code, nullable(v.MaterialID)}, "code", "controlled.substance_taken", v.Code); err != nil {
			return err
		}
		v.ID = NewID()
		// Audited as the client's it is held for: its id named to no one
		// of another client.
		return createClientRecord(tx, substanceTable, v.ID, v.ClientID, v, row{"code": v.Code, "name": v.Name, "class": string(v.Class), "unit": v.Unit, "client_id": v.ClientID,
			"material_id": nullable(v.MaterialID)})
	})
}

// unique refuses, on field with the key, a value the count query finds
// already taken.
func (tx *Tx) unique(q string, args []any, field, key string, keyArgs ...any) error {
	var n int
	if err := tx.queryRow(q, args...).Scan(&n); err != nil {
		return err
	}
	if n > 0 {
		return &errs.Error{Code: errs.Conflict, Field: field, Key: key, Args: keyArgs}
	}
	return nil
}

const containerCols = `c.id, c.substance_id, s.code, s.unit, c.code, COALESCE(CAST(c.lot_id AS TEXT), ''), c.lot_code, c.place, c.place_kind, c.balance,
	c.balance - COALESCE((SELECT SUM(m.quantity) FROM controlled_movements m WHERE m.state = 'entered' AND m.container_id = c.id
		AND m.kind NOT IN ('receipt', 'return') AND NOT (m.kind = 'correction' AND m.increase)), 0), c.version`

const containerFrom = ` FROM controlled_containers c JOIN controlled_substances s ON s.id = c.substance_id`

func scanContainer(sc scanner, c *controlled.Container) error {
	var kind string
	var bal, avail int64
	err := sc.Scan(&c.ID, &c.SubstanceID, &c.Substance, &c.Unit, &c.Code, &c.LotID, &c.LotCode, &c.Place, &kind, &bal, &avail, &c.Version)
	c.PlaceKind, c.Balance, c.Available = controlled.PlaceKind(kind), controlled.Qty(bal), controlled.Qty(avail)
	return err
}

// Containers lists the containers, of one substance if named, by
// substance and code.
func (s *ControlledStore) Containers(ctx context.Context, substanceID string) ([]controlled.Container, error) {
	return view(ctx, s, func(tx *Tx) ([]controlled.Container, error) {
		q, args := `SELECT `+containerCols+containerFrom, []any{}
		if substanceID != "" {
			q, args = q+` WHERE c.substance_id = ?`, append(args, substanceID)
		}
		return collect(tx, q+` ORDER BY s.code, c.code`, args, scanContainer)
	})
}

// container reads one container.
func (tx *Tx) container(id string, c *controlled.Container) error {
	return tx.byID(`SELECT `+containerCols+containerFrom+` WHERE c.id = ?`, id, func(sc scanner) error { return scanContainer(sc, c) },
		"controlled.no_such_container")
}

// CreateContainer records a container of a substance, empty: a receipt
// or a transfer fills it.
func (s *ControlledStore) CreateContainer(ctx context.Context, c *controlled.Container) error {
	if err := controlled.MayRecord(actorOf(ctx)); err != nil {
		return err
	}
	if err := c.Validate(); err != nil {
		return err
	}
	return s.db.Write(ctx, "controlled.container.create", "", func(tx *Tx) error {
		var sub controlled.Substance
		if err := tx.substance(c.SubstanceID, &sub); err != nil {
			return asField(err, "substance_id")
		}
		if c.LotID != "" {
			var l production.Lot
			if err := tx.lotByID(c.LotID, &l); err != nil {
				return asField(err, "lot_id")
			}
			if sub.MaterialID == "" || l.MaterialID != sub.MaterialID {
				return errs.Field("lot_id", "controlled.lot_not_substance", l.Code, sub.Code)
			}
			c.LotCode = l.Code
		}
		if err := tx.unique(`SELECT COUNT(*) FROM controlled_containers WHERE code = ?`, []any{c.Code}, "code", "controlled.container_taken", c.Code); err != nil {
			return err
		}
		c.ID, c.Substance, c.Unit, c.Balance, c.Available = NewID(), sub.Code, sub.Unit, 0, 0
		return create(tx, containerTable, c.ID, c, row{"substance_id": c.SubstanceID, "code": c.Code, "lot_id": nullable(c.LotID), "lot_code": c.LotCode,
			"place": c.Place, "place_kind": string(c.PlaceKind)})
	})
}

const movementCols = `m.id, COALESCE(m.serial, 0), COALESCE(m.entry, 0), m.state, m.at, m.kind, m.substance_id, s.code, s.unit, m.container_id, c.code,
	COALESCE(CAST(m.to_container_id AS TEXT), ''), COALESCE(tc.code, ''), m.quantity, m.party, m.document, m.cause,
	COALESCE(CAST(m.batch_id AS TEXT), ''), COALESCE(b.lot, ''), COALESCE(CAST(m.step_id AS TEXT), ''), m.scale, COALESCE(m.corrects, 0), m.increase,
	m.performer_id, m.performer_name, COALESCE(CAST(m.witness_id AS TEXT), ''), m.witness_name, m.entered_at, m.validated_at, dd.at, COALESCE(dd.document, ''),
	COALESCE(CAST(b.client_id AS TEXT), '')`

const movementFrom = ` FROM controlled_movements m JOIN controlled_substances s ON s.id = m.substance_id
	JOIN controlled_containers c ON c.id = m.container_id LEFT JOIN controlled_containers tc ON tc.id = m.to_container_id
	LEFT JOIN batches b ON b.id = m.batch_id LEFT JOIN controlled_discharges dd ON dd.movement_id = m.id`

func scanMovement(sc scanner, m *controlled.Movement) error {
	var state, kind string
	var q int64
	var validated, discharged sql.NullTime
	err := sc.Scan(&m.ID, &m.Serial, &m.Entry, &state, &m.At, &kind, &m.SubstanceID, &m.Substance, &m.Unit, &m.ContainerID, &m.Container,
		&m.ToContainerID, &m.ToContainer, &q, &m.Party, &m.Document, &m.Cause, &m.BatchID, &m.Batch, &m.StepID, &m.Scale, &m.Corrects, &m.Increase,
		&m.PerformerID, &m.PerformerName, &m.WitnessID, &m.WitnessName, &m.EnteredAt, &validated, &discharged, &m.Discharge, &m.BatchClient)
	m.State, m.Kind, m.Quantity, m.At, m.EnteredAt = controlled.State(state), controlled.Kind(kind), controlled.Qty(q), m.At.UTC(), m.EnteredAt.UTC()
	m.ValidatedAt, m.DischargedAt = timePtr(validated), timePtr(discharged)
	return err
}

func movementRow(m *controlled.Movement) row {
	var corrects any
	if m.Corrects > 0 {
		corrects = m.Corrects
	}
	return row{"state": string(m.State), "at": m.At.UTC(), "kind": string(m.Kind), "substance_id": m.SubstanceID, "container_id": m.ContainerID,
		"to_container_id": nullable(m.ToContainerID), "quantity": int64(m.Quantity), "party": m.Party, "document": m.Document, "cause": m.Cause,
		"batch_id": nullable(m.BatchID), "step_id": nullable(m.StepID), "scale": m.Scale, "corrects": corrects, "increase": m.Increase,
		"performer_id": m.PerformerID, "performer_name": m.PerformerName, "witness_id": nullable(m.WitnessID), "witness_name": m.WitnessName,
		"entered_at": m.EnteredAt.UTC()}
}

// movement reads one movement with its signatures.
func (tx *Tx) movement(id string, m *controlled.Movement) error {
	if err := tx.byID(`SELECT `+movementCols+movementFrom+` WHERE m.id = ?`, id, func(sc scanner) error { return scanMovement(sc, m) },
		"controlled.no_such_movement"); err != nil {
		return err
	}
	return tx.movementSignatures(m)
}

// movementSeen reads one movement as the acting person sees it.
func (tx *Tx) movementSeen(id string, m *controlled.Movement) error {
	if err := tx.movement(id, m); err != nil {
		return err
	}
	tx.seenMovement(m)
	return nil
}

// seenMovement is what the acting person sees of a movement: the register
// is the site's, whole, but the batch of a client outside their scope is
// not named (its id, its lot, its step).
func (tx *Tx) seenMovement(m *controlled.Movement) {
	if m.BatchID == "" || tx.actor.ClientScope().Has(m.BatchClient) {
		return
	}
	m.BatchID, m.Batch, m.StepID = "", "", ""
	if m.Kind == controlled.Dispensing || m.Kind == controlled.Return {
		m.Party = ""
	}
}

// movementSignatures reads a movement's signatures, each with its status:
// its own, or for a dispensing written by the batch record, its step's.
// The register is the site's: its readers see the step's signatures
// whatever clients they are assigned to.
func (tx *Tx) movementSignatures(m *controlled.Movement) error {
	if m.StepID == "" {
		sigs, err := tx.signaturesOf(controlled.EntityMovement, m.ID)
		hash := esign.ContentHash(controlled.EntityMovement, m.ID, m.AuditFields())
		for i := range sigs {
			sigs[i].Status = esign.StatusOf(sigs[i].ContentHash, hash)
		}
		m.Signatures = sigs
		return err
	}
	return tx.unscoped(func() error {
		var r production.StepRecord
		if err := scanStep(tx.queryRow(`SELECT `+stepCols+stepFrom+` WHERE s.id = ?`, m.StepID), &r); err != nil {
			return err
		}
		if err := tx.withSignatures(&r); err != nil {
			return err
		}
		m.Signatures = r.Signatures
		return nil
	})
}

// Movement reads one movement with its signatures; to who may not read
// the register, it does not exist.
func (s *ControlledStore) Movement(ctx context.Context, id string) (*controlled.Movement, error) {
	if controlled.MayView(actorOf(ctx)) != nil {
		return nil, errs.E(errs.NotFound, "controlled.no_such_movement")
	}
	var m controlled.Movement
	err := s.db.Read(ctx, func(tx *Tx) error { return tx.movementSeen(id, &m) })
	return &m, err
}

// Register lists the validated movements in the order of their
// validation (each substance's serial numbers in order), each with its two signatures, or the movements waiting for
// them.
func (s *ControlledStore) Register(ctx context.Context, f controlled.Filter) ([]controlled.Movement, error) {
	return view(ctx, s, func(tx *Tx) ([]controlled.Movement, error) { return tx.register(f) })
}

func (tx *Tx) register(f controlled.Filter) ([]controlled.Movement, error) {
	q, args := `SELECT `+movementCols+movementFrom+` WHERE m.state = ?`, []any{string(controlled.Validated)}
	if f.Pending {
		args[0] = string(controlled.Entered)
	}
	if f.SubstanceID != "" {
		q, args = q+` AND m.substance_id = ?`, append(args, f.SubstanceID)
	}
	if !f.From.IsZero() {
		q, args = q+` AND m.at >= ?`, append(args, f.From.UTC())
	}
	if !f.To.IsZero() {
		q, args = q+` AND m.at < ?`, append(args, f.To.UTC())
	}
	// In the order of validation: each substance's serial order.
	order := ` ORDER BY m.entry`
	if f.Pending {
		order = ` ORDER BY m.entered_at`
	}
	out, err := collect(tx, q+order, args, scanMovement)
	if err != nil {
		return nil, err
	}
	for i := range out {
		if err := tx.movementSignatures(&out[i]); err != nil {
			return nil, err
		}
		tx.seenMovement(&out[i])
	}
	return out, nil
}

// EnterMovement enters a movement performed by the acting person, naming
// its witness: checked (controlled.Movement.Validate), its containers the
// substance's, a correction's serial one of the substance's, what it
// takes out within what its container holds net of the outflows waiting
// for their signatures. A movement refused for a negative balance changes
// nothing and is raised to the pharmacist; a theft is raised at once. It
// counts once its performer and its witness have signed it.
func (s *ControlledStore) EnterMovement(ctx context.Context, m *controlled.Movement) error {
	a := actorOf(ctx)
	if err := controlled.MayRecord(a); err != nil {
		return err
	}
	// What the register fills itself, never the entry's to say.
	m.PerformerID, m.Serial, m.StepID, m.ID, m.PerformerName, m.WitnessName = a.UserID, 0, "", "", "", ""
	m.ValidatedAt, m.DischargedAt, m.Discharge, m.Signatures = nil, nil, "", nil
	if err := m.Validate(); err != nil {
		return err
	}
	err := s.db.Write(ctx, "controlled.movement.enter", "", func(tx *Tx) error {
		if m.At.IsZero() {
			m.At = tx.now
		}
		if err := controlled.CheckAt(m.At, tx.now); err != nil {
			return err
		}
		if err := tx.checkMovement(m); err != nil {
			return err
		}
		var w identity.Account
		if err := tx.byID(`SELECT `+accountCols+` FROM accounts WHERE id = ?`, m.WitnessID, func(sc scanner) error { return scanAccount(sc, &w) },
			"controlled.no_such_witness"); err != nil || !w.Active || w.ClientID != "" {
			return errs.Field("witness_id", "controlled.no_such_witness")
		}
		return tx.insertMovement(m)
	})
	if errs.Is(err, errs.Conflict) && isNegative(err) {
		// Refused, and raised, in a write of its own: the refused movement
		// wrote nothing.
		if rerr := s.db.Write(ctx, "controlled.alert.raise", "", func(tx *Tx) error {
			return tx.raiseControlled(controlled.AlertNegative, m.SubstanceID, "", negativeDetail(m))
		}); rerr != nil {
			return rerr
		}
	}
	return err
}

// negativeDetail says what a refused movement asked for.
func negativeDetail(m *controlled.Movement) text.Coded {
	kind := text.Code(controlled.KindKey(m.Kind))
	return text.Code("controlled.alert.negative_detail", text.Arg{Text: &kind}, text.Arg{Num: m.Quantity.String()}, text.Str(m.Unit),
		text.Str(m.Substance), text.Str(m.Container))
}

// isNegative reports whether err is the refusal of a negative balance.
func isNegative(err error) bool {
	var e *errs.Error
	return errors.As(err, &e) && e.Key == "controlled.negative"
}

// checkMovement checks what a movement names against the register: the
// substance, its containers, the corrected serial, the batch, and the
// balance available.
func (tx *Tx) checkMovement(m *controlled.Movement) error {
	var sub controlled.Substance
	if err := tx.substance(m.SubstanceID, &sub); err != nil {
		return asField(err, "substance_id")
	}
	m.Substance, m.Unit = sub.Code, sub.Unit
	var c controlled.Container
	if err := tx.container(m.ContainerID, &c); err != nil {
		return asField(err, "container_id")
	}
	if c.SubstanceID != m.SubstanceID {
		return errs.Field("container_id", "controlled.container_not_substance", c.Code, sub.Code)
	}
	m.Container = c.Code
	available := map[string]controlled.Qty{c.ID: c.Available}
	if m.ToContainerID != "" {
		var to controlled.Container
		if err := tx.container(m.ToContainerID, &to); err != nil {
			return asField(err, "to_container_id")
		}
		if to.SubstanceID != m.SubstanceID {
			return errs.Field("to_container_id", "controlled.container_not_substance", to.Code, sub.Code)
		}
		m.ToContainer, available[to.ID] = to.Code, to.Available
	}
	if m.Kind == controlled.Correction {
		var n int
		if err := tx.queryRow(`SELECT COUNT(*) FROM controlled_movements WHERE serial = ? AND substance_id = ?`, m.Corrects, m.SubstanceID).Scan(&n); err != nil {
			return err
		}
		if n == 0 {
			return errs.Field("corrects", "controlled.no_such_serial", m.Corrects)
		}
	}
	if m.BatchID != "" {
		b, err := tx.batch(m.BatchID)
		if err != nil {
			return asField(err, "batch_id")
		}
		m.Batch, m.BatchClient = b.Lot, b.ClientID
	}
	return controlled.CheckBalance(available, m)
}

// insertMovement writes a movement entered, waiting for its signatures.
func (tx *Tx) insertMovement(m *controlled.Movement) error {
	m.ID, m.State, m.EnteredAt = NewID(), controlled.Entered, tx.now
	if m.PerformerName == "" {
		var err error
		if m.PerformerName, err = tx.accountName(m.PerformerID); err != nil {
			return err
		}
	}
	if m.WitnessID != "" && m.WitnessName == "" {
		var err error
		if m.WitnessName, err = tx.accountName(m.WitnessID); err != nil {
			return err
		}
	}
	// A movement of a client's batch is audited as that client's: its
	// batch and step are not shown to those of other clients.
	if err := createClientRecord(tx, movementTable, m.ID, m.BatchClient, m, movementRow(m)); err != nil {
		return err
	}
	if m.Kind == controlled.Theft {
		return tx.raiseControlled(controlled.AlertTheft, m.SubstanceID, m.ID, text.Code("controlled.alert.theft_detail",
			text.Arg{Num: m.Quantity.String()}, text.Str(m.Unit), text.Str(m.Substance), text.Str(m.Container), text.Str(m.Document)))
	}
	return nil
}

// accountName is an account's printed name.
func (tx *Tx) accountName(id string) (string, error) {
	var name string
	err := tx.queryRow(`SELECT name FROM accounts WHERE id = ?`, id).Scan(&name)
	return name, notFound(err, "store.no_such_account")
}

// signableMovement reads a movement's signed content: what was entered,
// for those who may read the register.
func signableMovement(tx *Tx, id string) ([]audit.Field, string, error) {
	if controlled.MayView(tx.actor) != nil {
		return nil, "", errNoRecord()
	}
	var m controlled.Movement
	if err := tx.movement(id, &m); err != nil {
		return nil, "", err
	}
	if tx.signing && (m.State != controlled.Entered || m.StepID != "") {
		// A validated movement is signed for good; a step's dispensing is
		// signed on its step.
		return nil, "", errs.E(errs.Conflict, "controlled.signed_already")
	}
	return m.AuditFields(), "", nil
}

// movementSigned checks a signature just given on a movement: the
// performer's own "performed", the witness named's "verified"; once both
// hold, the movement is validated.
func movementSigned(tx *Tx, sig *esign.Signature) error {
	var m controlled.Movement
	if err := tx.movement(sig.EntityID, &m); err != nil {
		return err
	}
	switch {
	case sig.Meaning == esign.Performed && sig.SignerID != m.PerformerID:
		return errs.E(errs.Forbidden, "controlled.sign_performer_only", m.PerformerName)
	case sig.Meaning == esign.Verified && sig.SignerID != m.WitnessID:
		return errs.E(errs.Forbidden, "controlled.sign_witness_only", m.WitnessName)
	}
	if !signedBoth(m.Signatures, m.PerformerID, m.WitnessID) {
		return nil
	}
	return tx.validateMovement(&m)
}

// signedBoth reports whether the signatures hold the performer's
// "performed" and the witness's "verified", both valid.
func signedBoth(sigs []esign.Signature, performer, witness string) bool {
	var p, w bool
	for _, g := range sigs {
		if g.Status != esign.Valid && g.Status != "" {
			continue
		}
		p = p || (g.Meaning == esign.Performed && g.SignerID == performer)
		w = w || (g.Meaning == esign.Verified && g.SignerID == witness && witness != performer)
	}
	return p && w
}

// validateMovement enters a signed movement in the register for good: the
// balances move, never below zero (checked again, in the UPDATE itself),
// and it takes the next serial number.
func (tx *Tx) validateMovement(m *controlled.Movement) error {
	if err := m.Validate(); err != nil {
		return err
	}
	for c, d := range m.Delta() {
		res, err := tx.exec(`UPDATE controlled_containers SET balance = balance + ? WHERE id = ? AND balance + ? >= 0`, int64(d), c, int64(d))
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n != 1 {
			var have int64
			if err := tx.queryRow(`SELECT balance FROM controlled_containers WHERE id = ?`, c).Scan(&have); err != nil {
				return err
			}
			return errs.E(errs.Conflict, "controlled.negative", controlled.Qty(have), m.Quantity)
		}
	}
	serial, err := tx.nextNumber(counterRegister + ":" + m.SubstanceID)
	if err != nil {
		return err
	}
	entry, err := tx.nextNumber(counterRegister)
	if err != nil {
		return err
	}
	now := tx.now
	if _, err := tx.exec(`UPDATE controlled_movements SET state = ?, serial = ?, entry = ?, validated_at = ?, witness_id = ?, witness_name = ?, version = version + 1 WHERE id = ? AND state = ?`,
		string(controlled.Validated), serial, entry, now, m.WitnessID, m.WitnessName, m.ID, string(controlled.Entered)); err != nil {
		return err
	}
	m.State, m.Serial, m.Entry, m.ValidatedAt = controlled.Validated, int64(serial), int64(entry), &now
	changes := []audit.Change{{Entity: movementTable.entity, EntityID: m.ID, Field: fieldState, Old: string(controlled.Entered), New: string(controlled.Validated)},
		{Entity: movementTable.entity, EntityID: m.ID, Field: fieldSerial, New: strconv.Itoa(serial)}}
	if m.StepID != "" {
		changes = append(changes, audit.Change{Entity: movementTable.entity, EntityID: m.ID, Field: "witness_id", New: m.WitnessID})
	}
	return tx.Audit(changes, m.BatchClient)
}

// dispenseControlled writes the dispensing a material addition on a
// controlled lot makes: from the lot's container in production, in the
// substance's unit, with the scale's reading, performed by the step's
// performer; its witness is the step's verifier. A lot no substance
// follows dispenses nothing. Refused, with the step, when no container of
// the lot is in production or it holds too little.
func (tx *Tx) dispenseControlled(b *production.Batch, r *production.StepRecord, lot *production.Lot, scale string) (*controlled.Movement, error) {
	var sub controlled.Substance
	err := scanSubstance(tx.queryRow(`SELECT `+substanceCols+` FROM controlled_substances s WHERE s.material_id = ?`, lot.MaterialID), &sub)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var c controlled.Container
	err = scanContainer(tx.queryRow(`SELECT `+containerCols+containerFrom+` WHERE c.lot_id = ? AND c.place_kind = ? ORDER BY c.code LIMIT 1`,
		lot.ID, string(controlled.Production)), &c)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errs.Field("lot", "controlled.no_production_container", lot.Code)
	}
	if err != nil {
		return nil, err
	}
	q, err := controlled.Convert(*r.Number, lot.Unit, sub.Unit)
	if err != nil {
		return nil, err
	}
	m := &controlled.Movement{Kind: controlled.Dispensing, At: tx.now, SubstanceID: sub.ID, ContainerID: c.ID, Quantity: q, Party: b.Lot,
		BatchID: b.ID, BatchClient: b.ClientID, StepID: r.ID, Scale: strings.TrimSpace(scale), PerformerID: r.PerformedBy, PerformerName: r.PerformedName,
		Substance: sub.Code, Unit: sub.Unit, Container: c.Code}
	if err := controlled.CheckBalance(map[string]controlled.Qty{c.ID: c.Available}, m); err != nil {
		return m, err
	}
	return m, tx.insertMovement(m)
}

// stepDispensed validates the dispensing a step wrote, once the step is
// done: its witness is the step's verifier.
func (tx *Tx) stepDispensed(r *production.StepRecord) error {
	var m controlled.Movement
	err := scanMovement(tx.queryRow(`SELECT `+movementCols+movementFrom+` WHERE m.step_id = ? AND m.state = ?`, r.ID, string(controlled.Entered)), &m)
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	}
	if err != nil {
		return err
	}
	for _, s := range r.Signatures {
		if s.Meaning == esign.Verified {
			m.WitnessID, m.WitnessName = s.SignerID, s.SignerName
		}
	}
	if m.WitnessID == "" {
		return errs.Field("witness_id", "controlled.witness")
	}
	return tx.validateMovement(&m)
}

// raiseControlled raises an alert to the responsible pharmacist, once per
// reference when it has one.
func (tx *Tx) raiseControlled(kind controlled.AlertKind, substanceID, ref string, detail text.Coded) error {
	_, err := tx.raiseOnce(kind, substanceID, ref, detail)
	return err
}

// raiseOnce raises an alert, and reports whether it did: not when one of
// its kind was raised about the same reference.
func (tx *Tx) raiseOnce(kind controlled.AlertKind, substanceID, ref string, detail text.Coded) (bool, error) {
	if ref != "" {
		var n int
		if err := tx.queryRow(`SELECT COUNT(*) FROM controlled_alerts WHERE kind = ? AND ref = ?`, string(kind), ref).Scan(&n); err != nil || n > 0 {
			return false, err
		}
	}
	id := NewID()
	if _, err := tx.exec(`INSERT INTO controlled_alerts (id, at, kind, substance_id, detail, ref) VALUES (?,?,?,?,?,?)`,
		id, tx.now, string(kind), nullable(substanceID), detail.String(), ref); err != nil {
		return false, err
	}
	return true, tx.Audit([]audit.Change{{Entity: "controlled_alert", EntityID: id, Field: "kind", New: string(kind)}}, "")
}

// controlledLot reports whether a lot is of a substance the register
// follows.
func (tx *Tx) controlledLot(l *production.Lot) (bool, error) {
	var n int
	err := tx.queryRow(`SELECT COUNT(*) FROM controlled_substances WHERE material_id = ?`, l.MaterialID).Scan(&n)
	return n > 0, err
}

// Discharge records the inspector's discharge of a loss, by the report's
// reference: once, on a loss validated.
func (s *ControlledStore) Discharge(ctx context.Context, movementID, document string) (*controlled.Movement, error) {
	if err := controlled.MayRecord(actorOf(ctx)); err != nil {
		return nil, err
	}
	document = strings.TrimSpace(document)
	if document == "" || utf8.RuneCountInString(document) > controlled.MaxDocument {
		return nil, errs.Field("document", "controlled.discharge_document")
	}
	var m controlled.Movement
	err := s.db.Write(ctx, "controlled.movement.discharge", "", func(tx *Tx) error {
		if err := tx.movement(movementID, &m); err != nil {
			return err
		}
		switch {
		case m.Kind != controlled.Loss || m.State != controlled.Validated:
			return errs.E(errs.Conflict, "controlled.discharge_loss_only")
		case m.DischargedAt != nil:
			return errs.E(errs.Conflict, "controlled.discharged_already", m.Discharge)
		}
		if _, err := tx.exec(`INSERT INTO controlled_discharges (movement_id, at, document, recorded_by, recorded_name) VALUES (?,?,?,?,?)`,
			m.ID, tx.now, document, tx.actor.UserID, actorName(tx.actor)); err != nil {
			return err
		}
		now := tx.now
		m.DischargedAt, m.Discharge = &now, document
		tx.seenMovement(&m)
		return tx.Audit([]audit.Change{{Entity: movementTable.entity, EntityID: m.ID, Field: "discharge", New: document}}, "")
	})
	return &m, err
}

// CrossCheckVault confronts the vault's movements with the gatehouse's
// entries into the vault over the last week, once each window is over
// (controlled.CrossCheck), and raises each finding once: galenix's own
// periodic work. It answers how many it raised.
func (s *ControlledStore) CrossCheckVault(ctx context.Context) (int, error) {
	if err := actorOf(ctx).RequireSystem(); err != nil {
		return 0, err
	}
	var findings []controlled.Finding
	var substanceOf map[string]string
	err := s.db.Read(ctx, func(tx *Tx) error {
		until := tx.now.Add(-controlled.VaultWindow)
		since := until.Add(-7 * 24 * time.Hour)
		place := map[string]controlled.PlaceKind{}
		if err := tx.each(`SELECT id, place_kind FROM controlled_containers`, nil, func(sc scanner) error {
			var id, kind string
			err := sc.Scan(&id, &kind)
			place[id] = controlled.PlaceKind(kind)
			return err
		}); err != nil {
			return err
		}
		all, err := collect(tx, `SELECT `+movementCols+movementFrom+` WHERE m.state = ? AND m.at >= ? AND m.at < ? ORDER BY m.at`,
			[]any{string(controlled.Validated), since.Add(-controlled.VaultWindow), tx.now}, scanMovement)
		if err != nil {
			return err
		}
		var ms []controlled.Movement
		substanceOf = map[string]string{}
		for i := range all {
			if controlled.TouchesVault(&all[i], place) {
				ms = append(ms, all[i])
				substanceOf[all[i].ID] = all[i].SubstanceID
			}
		}
		// The vault's door lets two people in on the second badge: the
		// first one's event is a wait, refused, which counts as an entry
		// when the second follows (controlled.PairEntries).
		doors, err := collect(tx, `SELECT e.reader_code, e.seq, e.at, e.badge, COALESCE(p.name, e.badge), e.allow, e.rule FROM access_events e
			JOIN access_zones z ON z.id = e.zone_id LEFT JOIN people p ON p.id = e.person_id
			WHERE z.kind = 'vault' AND e.direction = 'in' AND (e.allow OR e.rule = ?) AND e.at >= ? AND e.at < ? ORDER BY e.at`,
			[]any{access.RuleTwoPersonWait, since.Add(-controlled.VaultWindow), tx.now},
			func(sc scanner, v *controlled.DoorEvent) error {
				var seq int64
				err := sc.Scan(&v.Reader, &seq, &v.At, &v.Badge, &v.Name, &v.Allow, &v.Rule)
				v.Ref, v.At = v.Reader+"#"+strconv.FormatInt(seq, 10), v.At.UTC()
				return err
			})
		if err != nil {
			return err
		}
		entries := controlled.PairEntries(doors, access.RuleTwoPersonWait, time.Minute)
		for _, f := range controlled.CrossCheck(ms, entries) {
			// Only what lies in the window checked, whose surroundings
			// are all known.
			if !f.At.Before(since) && f.At.Before(until) {
				// Raised already: no write lock taken for it.
				var n int
				if err := tx.queryRow(`SELECT COUNT(*) FROM controlled_alerts WHERE kind = ? AND ref = ?`, string(f.Kind), f.Ref).Scan(&n); err != nil {
					return err
				}
				if n == 0 {
					findings = append(findings, f)
				}
			}
		}
		return nil
	})
	if err != nil || len(findings) == 0 {
		return 0, err
	}
	n := 0
	err = s.db.Write(ctx, "controlled.crosscheck", "", func(tx *Tx) error {
		for _, f := range findings {
			var detail text.Coded
			if f.Kind == controlled.AlertMovementAlone {
				detail = text.Code("controlled.alert.movement_alone_detail", text.Arg{Num: strconv.FormatInt(f.Serial, 10)},
					text.Moment(f.At, tx.siteZone()))
			} else {
				detail = text.Code("controlled.alert.entry_idle_detail", text.Str(strings.Join(f.Names, ", ")), text.Moment(f.At, tx.siteZone()))
			}
			raised, err := tx.raiseOnce(f.Kind, substanceOf[f.Ref], f.Ref, detail)
			if err != nil {
				return err
			}
			if raised {
				n++
			}
		}
		return nil
	})
	return n, err
}

// CopyRegister appends to the register's copy on its second medium (the
// file controlled.CopyFile in dir) the validated movements it lacks, in
// the order of their validation (entry), and syncs it to its disk. The copy
// is checked whole first: a copy altered or ahead of the register is
// refused, never extended. It answers how many lines it appended.
func (s *ControlledStore) CopyRegister(ctx context.Context, dir string) (int, error) {
	if err := actorOf(ctx).RequireSystem(); err != nil {
		return 0, err
	}
	path := filepath.Join(dir, controlled.CopyFile)
	lines, err := readCopyFile(path)
	if err != nil {
		return 0, err
	}
	ms, err := s.validated(ctx)
	if err != nil {
		return 0, err
	}
	missing, err := controlled.CompareCopy(lines, ms)
	if err != nil || missing == 0 {
		return 0, err
	}
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return 0, err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o640)
	if err != nil {
		return 0, err
	}
	prev := ""
	if len(lines) > 0 {
		prev = lines[len(lines)-1].Hash
	}
	var buf []byte
	for i := len(lines); i < len(ms); i++ {
		l := controlled.LineOf(&ms[i], prev)
		buf, prev = append(buf, l.Marshal()...), l.Hash
	}
	if _, err := f.Write(buf); err != nil {
		f.Close()
		return 0, err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return 0, err
	}
	return missing, f.Close()
}

// VerifyCopy checks the register's copy in dir against the register: its
// chain whole, each line the movement of its entry number. It answers
// how many lines the copy holds and how many validated movements it does
// not hold yet.
func (s *ControlledStore) VerifyCopy(ctx context.Context, dir string) (lines, missing int, err error) {
	if err := controlled.MayView(actorOf(ctx)); err != nil {
		return 0, 0, err
	}
	ls, err := readCopyFile(filepath.Join(dir, controlled.CopyFile))
	if err != nil {
		return len(ls), 0, err
	}
	ms, err := s.validated(ctx)
	if err != nil {
		return len(ls), 0, err
	}
	missing, err = controlled.CompareCopy(ls, ms)
	return len(ls), missing, err
}

// readCopyFile reads the copy's lines; none when it does not exist yet.
func readCopyFile(path string) ([]controlled.CopyLine, error) {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return controlled.ReadCopy(f)
}

// validated reads every validated movement in the order of validation
// (entry): what the copy holds, line by line.
func (s *ControlledStore) validated(ctx context.Context) ([]controlled.Movement, error) {
	var ms []controlled.Movement
	err := s.db.Read(ctx, func(tx *Tx) error {
		var err error
		ms, err = collect(tx, `SELECT `+movementCols+movementFrom+` WHERE m.state = ? ORDER BY m.entry`, []any{string(controlled.Validated)}, scanMovement)
		return err
	})
	return ms, err
}
