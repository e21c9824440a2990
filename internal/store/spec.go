package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"galenix/internal/audit"
	"galenix/internal/errs"
	"galenix/internal/esign"
	"galenix/internal/identity"
	"galenix/internal/quality"
)

// LabStore implements quality.Lab: the QC laboratory's specifications
// (this file), samples (sample.go), results (result.go) and OOS
// investigations (oos.go).
type LabStore struct{ db *DB }

var _ quality.Lab = (*LabStore)(nil)

// Lab returns the laboratory's service of the database.
func (db *DB) Lab() *LabStore { return &LabStore{db: db} }

// The laboratory's tables, with the entity names the audit trail gives
// them.
var (
	specTable   = table{"specs", EntitySpec, []string{"client_id", "product_id", "code", "version", "title", "market", "status", "effective_from", "body", "tests"}}
	sampleTable = table{"samples", "sample", []string{"client_id", "code", "kind", "batch_id", "lot_id", "product_id", "step_id", "spec_id", "spec_version",
		"state", "taken_at", "taken_by", "taken_name", "due_at", "tests", "received_by", "received_name", "received_at", "quantity", "unit", "condition", "note"}}
	resultTable = table{"results", "result", []string{"client_id", "sample_id", "batch_id", "test", "seq", "value", "number", "unit", "verdict", "instrument",
		"state", "entered_by", "entered_name", "entered_at", "reviewed_by", "reviewed_name", "reviewed_at", "retest", "investigation_id", "comment"}}
	oosTable = table{"oos_investigations", EntityInvestigation, []string{"client_id", "code", "result_id", "sample_id", "batch_id", "test", "analyst", "state",
		"opened_at", "hypothesis", "hypothesis_by", "hypothesis_at", "retests_planned", "lab_error", "lab_error_cause", "findings", "deviation_id", "outcome",
		"closed_by", "closed_name", "closed_at"}}
)

const specCols = `id, client_id, product_id, code, version, revision, title, market, status, effective_from, body`

func scanSpec(sc scanner, s *quality.Spec) error {
	var body string
	if err := sc.Scan(&s.ID, &s.ClientID, &s.ProductID, &s.Code, &s.Version, &s.Revision, &s.Title, &s.Market, &s.Status, &s.EffectiveFrom, &body); err != nil {
		return err
	}
	s.EffectiveFrom = s.EffectiveFrom.UTC()
	s.Tests = nil
	if err := json.Unmarshal([]byte(body), &s.Tests); err != nil {
		return fmt.Errorf("spec %s: decoding its body: %w", s.ID, err)
	}
	return nil
}

func specRow(s *quality.Spec) row {
	return row{"client_id": s.ClientID, "product_id": s.ProductID, "code": s.Code, "version": s.Version, "title": s.Title, "market": s.Market,
		"status": string(s.Status), "effective_from": s.EffectiveFrom, "body": s.Body(), "tests": len(s.Tests)}
}

// specByID reads a specification version in the actor's scope, as stored
// (its status approved, not yet shown as effective or superseded).
func (tx *Tx) specByID(id string, s *quality.Spec) error {
	cond, args := inScope("client_id", tx.actor.ClientScope())
	return tx.byID(`SELECT `+specCols+` FROM specs WHERE id = ? AND `+cond, id,
		func(sc scanner) error { return scanSpec(sc, s) }, "store.no_such_spec", args...)
}

// specVersions reads every version of a product's specification in the
// actor's scope, for InForce and StatusAt.
func (tx *Tx) specVersions(productID string) ([]quality.Spec, error) {
	cond, args := inScope("client_id", tx.actor.ClientScope())
	return collect(tx, `SELECT `+specCols+` FROM specs WHERE product_id = ? AND `+cond+` ORDER BY code, version`,
		append([]any{productID}, args...), scanSpec)
}

// showStatus sets the status each version shows now among its product's
// versions: an approved version is effective from its day, superseded once
// a later one is in force.
func (tx *Tx) showStatus(specs []quality.Spec) {
	byProduct := map[string][]quality.Spec{}
	for _, s := range specs {
		byProduct[s.ProductID] = append(byProduct[s.ProductID], s)
	}
	for i := range specs {
		specs[i].Status = quality.StatusAt(byProduct[specs[i].ProductID], &specs[i], tx.now)
	}
}

// productClient reads the client of a product in the actor's scope.
func (tx *Tx) productClient(id string) (string, error) {
	cond, args := inScope("client_id", tx.actor.ClientScope())
	var clientID string
	err := tx.byID(`SELECT client_id FROM products WHERE id = ? AND `+cond, id, func(sc scanner) error { return sc.Scan(&clientID) },
		"store.no_such_product", args...)
	return clientID, err
}

// Specs lists the specification versions in the actor's scope, by code
// and version, each with the status it shows now.
func (s *LabStore) Specs(ctx context.Context, f quality.SpecFilter) ([]quality.Spec, error) {
	out := []quality.Spec{}
	err := s.db.Read(ctx, func(tx *Tx) error {
		if err := needProductionView(tx.actor); err != nil {
			return err
		}
		cond, args := inScope("client_id", tx.actor.ClientScope())
		q, idArgs := andIDFilters(`SELECT `+specCols+` FROM specs WHERE `+cond, args, "product_id", f.ProductID)
		all, err := collect(tx, q+` ORDER BY code, version`, idArgs, scanSpec)
		if err != nil {
			return err
		}
		tx.showStatus(all)
		for _, sp := range all {
			if f.Status == "" || sp.Status == f.Status {
				out = append(out, sp)
			}
		}
		return nil
	})
	return out, err
}

// Spec returns one version with its tests and the status it shows now.
func (s *LabStore) Spec(ctx context.Context, id string) (*quality.Spec, error) {
	var sp quality.Spec
	err := s.db.Read(ctx, func(tx *Tx) error {
		if err := needProductionView(tx.actor); err != nil {
			return err
		}
		if err := tx.specByID(id, &sp); err != nil {
			return err
		}
		versions, err := tx.specVersions(sp.ProductID)
		if err != nil {
			return err
		}
		sp.Status = quality.StatusAt(versions, &sp, tx.now)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &sp, nil
}

// CreateSpec records a draft: the next version of its code, which belongs
// to one product. Without an effective day, the draft takes today's; the
// approval moves a day already past to its own time.
func (s *LabStore) CreateSpec(ctx context.Context, sp *quality.Spec) error {
	if err := actorOf(ctx).Require(identity.PermSpecEdit); err != nil {
		return err
	}
	return s.db.Write(ctx, "spec.create", "", func(tx *Tx) error {
		if err := sp.Validate(); err != nil {
			return err
		}
		clientID, err := tx.productClient(sp.ProductID)
		if err != nil {
			return asField(err, "product_id")
		}
		// The code's versions, whoever's product holds it: the answer says
		// no more than that it is taken.
		var owner string
		var last int
		err = tx.unscoped(func() error {
			return tx.queryRow(`SELECT product_id, version FROM specs WHERE code = ? ORDER BY version DESC LIMIT 1`, sp.Code).Scan(&owner, &last)
		})
		switch {
		case errors.Is(err, sql.ErrNoRows):
			last = 0
		case err != nil:
			return err
		case owner != sp.ProductID:
			return errs.Field("code", "store.spec_code_used", sp.Code)
		}
		sp.ID, sp.ClientID, sp.Version, sp.Status = NewID(), clientID, last+1, quality.SpecDraft
		if sp.EffectiveFrom.IsZero() {
			sp.EffectiveFrom = tx.now
		}
		sp.EffectiveFrom = sp.EffectiveFrom.UTC()
		return createClientRecord(tx, specTable, sp.ID, sp.ClientID, sp, specRow(sp))
	})
}

// UpdateSpec changes a draft at the revision it names; its code, product
// and version stay.
func (s *LabStore) UpdateSpec(ctx context.Context, sp *quality.Spec, reason string) error {
	if err := actorOf(ctx).Require(identity.PermSpecEdit); err != nil {
		return err
	}
	return s.db.Write(ctx, "spec.update", reason, func(tx *Tx) error {
		var old quality.Spec
		if err := tx.specByID(sp.ID, &old); err != nil {
			return err
		}
		if old.Status != quality.SpecDraft {
			return errs.E(errs.Conflict, "store.spec_not_draft", old.Code, old.Version)
		}
		if code := strings.TrimSpace(sp.Code); code != "" && code != old.Code {
			return errs.Field("code", "store.version_keeps_code_write")
		}
		if sp.ProductID != "" && sp.ProductID != old.ProductID {
			return errs.Field("product_id", "store.version_keeps_product_write")
		}
		sp.ClientID, sp.ProductID, sp.Code, sp.Version, sp.Status = old.ClientID, old.ProductID, old.Code, old.Version, old.Status
		if sp.EffectiveFrom.IsZero() {
			sp.EffectiveFrom = old.EffectiveFrom
		}
		sp.EffectiveFrom = sp.EffectiveFrom.UTC()
		if err := sp.Validate(); err != nil {
			return err
		}
		return updateClientRecord(tx, specTable, sp.ID, sp.ClientID, &old, sp, specRow(sp))
	})
}

// MoveSpec submits a draft for review, sends one in review back to draft,
// or retires an approved version (quality.MaySpecMove says who).
func (s *LabStore) MoveSpec(ctx context.Context, id string, mv quality.SpecMove, reason string) (*quality.Spec, error) {
	if err := quality.MaySpecMove(actorOf(ctx), mv, reason); err != nil {
		return nil, err
	}
	var sp quality.Spec
	err := s.db.Write(ctx, "spec.move", reason, func(tx *Tx) error {
		if err := tx.specByID(id, &sp); err != nil {
			return err
		}
		to, err := sp.Status.Next(mv)
		if err != nil {
			return err
		}
		if err := tx.writeSpecStatus(&sp, to); err != nil {
			return err
		}
		sp.Status, sp.Revision = to, sp.Revision+1
		versions, err := tx.specVersions(sp.ProductID)
		if err != nil {
			return err
		}
		sp.Status = quality.StatusAt(versions, &sp, tx.now)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &sp, nil
}

// writeSpecStatus moves a version from the status it was read in: of two
// moves decided on one reading, the second finds it moved and is refused.
func (tx *Tx) writeSpecStatus(sp *quality.Spec, to quality.SpecStatus) error {
	res, err := tx.exec(`UPDATE specs SET status = ?, revision = revision + 1 WHERE id = ? AND status = ?`, string(to), sp.ID, string(sp.Status))
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil {
		return err
	} else if n == 0 {
		return errs.E(errs.Conflict, "store.someone_else_moved_spec")
	}
	return tx.Audit([]audit.Change{{Entity: specTable.entity, EntityID: sp.ID, Field: "status", Old: string(sp.Status), New: string(to)}}, sp.ClientID)
}

// SpecSigned is the laboratory's reaction to a signature on a
// specification: one meaning approved is QA's approval of a version in
// review (quality.ApproveSpec), which it moves to approved, in force from
// its effective day. Other meanings change nothing. app subscribes it.
func (s *LabStore) SpecSigned(tx *Tx, ev Event) error {
	sig := ev.Signature
	if sig == nil || sig.Meaning != esign.Approved {
		return nil
	}
	var old quality.Spec
	if err := tx.specByID(sig.EntityID, &old); err != nil {
		return err
	}
	sp, err := quality.ApproveSpec(tx.actor, old, sig.Meaning, tx.now)
	if err != nil || sp == nil {
		return err
	}
	if err := tx.writeSpecStatus(&old, sp.Status); err != nil {
		return err
	}
	if sp.EffectiveFrom.Equal(old.EffectiveFrom) {
		return nil
	}
	if _, err := tx.exec(`UPDATE specs SET effective_from = ? WHERE id = ?`, sp.EffectiveFrom, sp.ID); err != nil {
		return err
	}
	return tx.Audit([]audit.Change{{Entity: specTable.entity, EntityID: sp.ID, Field: "effective_from", Old: old.EffectiveFrom.Format(time.RFC3339Nano),
		New: sp.EffectiveFrom.Format(time.RFC3339Nano)}}, sp.ClientID)
}

// signableSpec reads a specification for a signature, staff only: what
// the approval signs is its content (quality.Spec.SignedFields).
func signableSpec(tx *Tx, id string) ([]audit.Field, string, error) {
	if !isStaff(tx.actor) {
		return nil, "", errNoRecord()
	}
	var sp quality.Spec
	if err := tx.specByID(id, &sp); err != nil {
		return nil, "", err
	}
	return sp.SignedFields(), sp.ClientID, nil
}
