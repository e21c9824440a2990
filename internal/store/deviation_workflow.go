package store

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"time"

	"galenix/internal/audit"
	"galenix/internal/errs"
	"galenix/internal/esign"
	"galenix/internal/identity"
	"galenix/internal/outbox"
	"galenix/internal/production"
	"galenix/internal/quality"
)

// The deviations' workflow: each step reads the deviation in the actor's
// scope, asks package quality to decide, writes the row at the version it
// was decided on and audits the change, in one command. The closure is
// QA's signature, whose hook is closeDeviation.

// OpenDeviation records a deviation reported by hand, numbered like the
// batch record's.
func (s *DeviationStore) OpenDeviation(ctx context.Context, n quality.NewDeviation) (*quality.Deviation, error) {
	var d *quality.Deviation
	err := s.db.Write(ctx, "deviation.open", "", func(tx *Tx) error {
		lot := ""
		if n.BatchID = strings.TrimSpace(n.BatchID); n.BatchID != "" {
			b, err := tx.batch(n.BatchID)
			if err != nil {
				return asField(err, "batch_id")
			}
			if n.ClientID == "" {
				n.ClientID = b.ClientID
			}
			if b.ClientID != n.ClientID {
				return errs.Field("batch_id", "quality.deviation.other_client", b.Lot)
			}
			lot = b.Lot
		}
		if n.ClientID != "" && !tx.actor.ClientScope().Has(n.ClientID) {
			return errs.Field("client_id", "store.no_such_client")
		}
		var err error
		if d, err = quality.OpenDeviation(tx.actor, n, tx.now); err != nil {
			return err
		}
		seq, err := tx.nextNumber("deviation")
		if err != nil {
			return err
		}
		d.ID, d.Code, d.OpenedName, d.BatchLot = NewID(), production.DeviationCode(tx.now, seq), actorName(tx.actor), lot
		if err := createClientRecord(tx, devTable, d.ID, d.ClientID, d, deviationRow(d)); err != nil {
			return err
		}
		// After the commit, as the batch record's (enqueueDeviation).
		tx.enqueue(outbox.DeviationOpened, devTable.entity, d.ID, d.ClientID, map[string]any{"code": d.Code, "batch_id": d.BatchID})
		return nil
	})
	return d, err
}

// actorName is the printed name of the actor.
func actorName(a identity.Actor) string {
	if a.Name != "" {
		return a.Name
	}
	return a.Username
}

// deviationStep runs one step of the workflow in the command's transaction, on the
// version of the deviation its author read: read, decide, write.
func (tx *Tx) deviationStep(id string, st quality.DeviationStep, decide func(d quality.Deviation) (*quality.Deviation, error)) (*quality.Deviation, error) {
	old, err := tx.deviation(id)
	if err != nil {
		return nil, err
	}
	if st.Version != 0 && st.Version != old.Version {
		return nil, errs.StaleVersion(st.Version, old.Version)
	}
	d, err := decide(*old)
	if err != nil {
		return nil, err
	}
	return d, tx.saveDeviation(old, d)
}

// saveDeviation writes a step of the workflow at the version it was
// decided on, and audits the fields that changed. The version is checked
// in the UPDATE itself: of two steps decided on one version (two QA
// closing at once), the second finds none and is refused as stale. Each
// step is its own justification (its class reason, root cause, evidence,
// note, or signature): no separate reason is asked.
func (tx *Tx) saveDeviation(old, d *quality.Deviation) error {
	changes := audit.Diff(devTable.entity, d.ID, old.AuditFields(), d.AuditFields())
	vals, err := devTable.values(deviationRow(d))
	if err != nil {
		return err
	}
	set := make([]string, len(devTable.cols))
	for i, c := range devTable.cols {
		set[i] = c + " = ?"
	}
	if err := tx.updateAtVersion("deviations", strings.Join(set, ", "), vals, d.ID, old.Version); err != nil {
		return err
	}
	d.Version = old.Version + 1
	return tx.Audit(changes, d.ClientID)
}

// AssessDeviation records the assessment: class and reason, recurrence of
// an earlier deviation (by its code, in the assessor's scope), impact on
// each batch (of the deviation's client).
func (s *DeviationStore) AssessDeviation(ctx context.Context, id string, st quality.DeviationStep, as quality.Assessment) (*quality.Deviation, error) {
	var out *quality.Deviation
	err := s.db.Write(ctx, "deviation.assess", "", func(tx *Tx) (err error) {
		out, err = tx.deviationStep(id, st, func(d quality.Deviation) (*quality.Deviation, error) {
			if code := strings.TrimSpace(as.RecurrenceOf); code != "" {
				cond, args := inScope("client_id", tx.actor.ClientScope())
				var earlier string
				err := tx.queryRow(`SELECT id FROM deviations WHERE code = ? AND `+cond, append([]any{code}, args...)...).Scan(&earlier)
				if errors.Is(err, sql.ErrNoRows) {
					return nil, errs.Field("recurrence_of", "quality.deviation.no_such_code", code)
				} else if err != nil {
					return nil, err
				}
				as.RecurrenceOf = code
			}
			for i := range as.Impacts {
				im := &as.Impacts[i]
				if im.BatchID == "" {
					continue // the rule names it
				}
				b, err := tx.batch(im.BatchID)
				if err != nil {
					return nil, asField(err, "impacts")
				}
				if b.ClientID != d.ClientID {
					return nil, errs.Field("impacts", "quality.deviation.other_client", b.Lot)
				}
				im.Lot = b.Lot
			}
			out, err := quality.Assess(tx.actor, d, as, tx.now)
			if err != nil {
				return nil, err
			}
			for i := range out.Impacts {
				if out.Impacts[i].BatchID == d.BatchID && out.Impacts[i].Lot == "" {
					out.Impacts[i].Lot = d.BatchLot
				}
			}
			out.AssessedName = actorName(tx.actor)
			return out, nil
		})
		if err != nil {
			return err
		}
		// Classified major or critical: the client's quality agreement
		// starts the countdown of its notification.
		return tx.startObligations(out)
	})
	return out, err
}

// ApproveAssessment is QA's approval of the assessment, by someone other
// than the assessor: a plain audited command (the closure is signed).
func (s *DeviationStore) ApproveAssessment(ctx context.Context, id string, st quality.DeviationStep) (*quality.Deviation, error) {
	var out *quality.Deviation
	err := s.db.Write(ctx, "deviation.approve", "", func(tx *Tx) (err error) {
		out, err = tx.deviationStep(id, st, func(d quality.Deviation) (*quality.Deviation, error) {
			out, err := quality.ApproveAssessment(tx.actor, d, tx.now)
			if err == nil {
				out.ApprovedName = actorName(tx.actor)
			}
			return out, err
		})
		return err
	})
	return out, err
}

// InvestigateDeviation records the root cause and the CAPA actions. An
// action already recorded is named by its id and may be changed until
// done, never removed; one without an id is new.
func (s *DeviationStore) InvestigateDeviation(ctx context.Context, id string, st quality.DeviationStep, f quality.Findings) (*quality.Deviation, error) {
	var out *quality.Deviation
	err := s.db.Write(ctx, "deviation.investigate", "", func(tx *Tx) (err error) {
		out, err = tx.deviationStep(id, st, func(d quality.Deviation) (*quality.Deviation, error) {
			known := map[string]quality.Action{}
			for _, ac := range d.Actions {
				known[ac.ID] = ac
			}
			kept := map[string]bool{}
			for i := range f.Actions {
				ac := &f.Actions[i]
				if ac.ID != "" {
					old, ok := known[ac.ID]
					if !ok {
						return nil, errs.Field("actions", "quality.deviation.no_such_action")
					}
					kept[ac.ID] = true
					ac.DoneAt, ac.DoneBy, ac.DoneName, ac.Evidence = old.DoneAt, old.DoneBy, old.DoneName, old.Evidence
				}
				if ac.OwnerID = strings.TrimSpace(ac.OwnerID); ac.OwnerID != "" {
					name, err := tx.ownerName(ac.OwnerID)
					if err != nil {
						return nil, err
					}
					ac.OwnerName = name
				}
			}
			for _, ac := range d.Actions {
				if !kept[ac.ID] {
					return nil, errs.Field("actions", "quality.deviation.action_kept")
				}
			}
			out, err := quality.Investigate(tx.actor, d, f, tx.now)
			if err != nil {
				return nil, err
			}
			out.InvestigatorName = actorName(tx.actor)
			var seq int
			if err := tx.queryRow(`SELECT COALESCE(MAX(seq), 0) FROM deviation_actions WHERE deviation_id = ?`, d.ID).Scan(&seq); err != nil {
				return nil, err
			}
			for i := range out.Actions {
				ac := &out.Actions[i]
				if old, ok := known[ac.ID]; ok {
					if err := tx.saveAction(d.ClientID, &old, ac); err != nil {
						return nil, err
					}
					continue
				}
				ac.ID = NewID()
				seq++
				if err := createClientRecord(tx, actionTable, ac.ID, d.ClientID, ac, actionRow(d.ClientID, d.ID, seq, ac)); err != nil {
					return nil, err
				}
			}
			return out, nil
		})
		return err
	})
	return out, err
}

// ownerName finds the member of staff an action is given to.
func (tx *Tx) ownerName(id string) (string, error) {
	var name string
	err := tx.byID(`SELECT name FROM accounts WHERE id = ? AND client_id IS NULL AND active = ?`, id,
		func(sc scanner) error { return sc.Scan(&name) }, "store.no_such_account", true)
	return name, asField(err, "owner_id")
}

// saveAction writes an action's changes, once, and audits them: of two
// writes of one action decided on the same reading, the second finds it
// done and is refused.
func (tx *Tx) saveAction(clientID string, old, a *quality.Action) error {
	changes := audit.Diff(actionTable.entity, a.ID, old.AuditFields(), a.AuditFields())
	if len(changes) == 0 {
		return nil
	}
	res, err := tx.exec(`UPDATE deviation_actions SET description = ?, owner_id = ?, owner_name = ?, due_on = ?, preventive = ?, done_at = ?,
		done_by = ?, done_name = ?, evidence = ?, version = version + 1 WHERE id = ? AND done_at IS NULL`,
		a.Description, a.OwnerID, a.OwnerName, a.Due, a.Preventive, a.DoneAt, a.DoneBy, a.DoneName, a.Evidence, a.ID)
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil {
		return err
	} else if n == 0 {
		return errs.E(errs.Conflict, "quality.deviation.action_done")
	}
	return tx.Audit(changes, clientID)
}

// CompleteAction records an action done with its evidence, by its owner
// or quality assurance.
func (s *DeviationStore) CompleteAction(ctx context.Context, id, actionID, evidence string) (*quality.Deviation, error) {
	var out *quality.Deviation
	err := s.db.Write(ctx, "deviation.action.complete", "", func(tx *Tx) error {
		d, err := tx.deviation(id)
		if err != nil {
			return err
		}
		if out, err = quality.CompleteAction(tx.actor, *d, actionID, evidence, tx.now); err != nil {
			return err
		}
		for i := range out.Actions {
			if out.Actions[i].ID == actionID {
				out.Actions[i].DoneName = actorName(tx.actor)
				return tx.saveAction(d.ClientID, &d.Actions[i], &out.Actions[i])
			}
		}
		return nil
	})
	return out, err
}

// PlanEffectivenessCheck sets the day of the effectiveness check, before
// QA signs the closure, which signs it with the rest.
func (s *DeviationStore) PlanEffectivenessCheck(ctx context.Context, id string, st quality.DeviationStep, due time.Time) (*quality.Deviation, error) {
	var out *quality.Deviation
	err := s.db.Write(ctx, "deviation.plan_check", "", func(tx *Tx) (err error) {
		out, err = tx.deviationStep(id, st, func(d quality.Deviation) (*quality.Deviation, error) {
			return quality.PlanEffectivenessCheck(tx.actor, d, due.UTC(), tx.now)
		})
		return err
	})
	return out, err
}

// CheckEffectiveness records whether the actions were effective: QA, not
// the investigator, on or after the day planned.
func (s *DeviationStore) CheckEffectiveness(ctx context.Context, id string, st quality.DeviationStep, effective bool, note string) (*quality.Deviation, error) {
	var out *quality.Deviation
	err := s.db.Write(ctx, "deviation.check", "", func(tx *Tx) (err error) {
		out, err = tx.deviationStep(id, st, func(d quality.Deviation) (*quality.Deviation, error) {
			out, err := quality.CheckEffectiveness(tx.actor, d, effective, note, tx.now)
			if err == nil {
				out.CheckedName = actorName(tx.actor)
			}
			return out, err
		})
		return err
	})
	return out, err
}

// closeDeviation is the hook of a signature on a deviation: QA's signature
// meaning "approved" closes it (quality.CloseDeviation: investigated, every
// batch's impact decided, the effectiveness check planned for a major or
// critical one). A refusal refuses the signature. Other meanings close
// nothing.
func closeDeviation(tx *Tx, sig *esign.Signature) error {
	if sig.Meaning != esign.Approved {
		return nil
	}
	old, err := tx.deviation(sig.EntityID)
	if err != nil {
		return err
	}
	d, err := quality.CloseDeviation(tx.actor, *old, old.EffectivenessDue, tx.now)
	if err != nil {
		return err
	}
	// The client's approval first, when its quality agreement asks for it.
	if err := tx.clientApproved(old); err != nil {
		return err
	}
	d.ClosedName = actorName(tx.actor)
	return tx.saveDeviation(old, d)
}

// signableDeviation reads a deviation for a signature, staff only: what
// the closure signs (quality.Deviation.SignedFields).
func signableDeviation(tx *Tx, id string) ([]audit.Field, string, error) {
	if !isStaff(tx.actor) || mayReadDeviations(tx.actor) != nil {
		return nil, "", errNoRecord()
	}
	d, err := tx.deviation(id)
	if err != nil {
		return nil, "", err
	}
	return d.SignedFields(), d.ClientID, nil
}
