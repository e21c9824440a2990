package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"slices"
	"strconv"
	"strings"

	"galenix/internal/audit"
	"galenix/internal/errs"
	"galenix/internal/esign"
	"galenix/internal/identity"
	"galenix/internal/production"
	"galenix/internal/quality"
	"galenix/internal/site"
)

// The disposition of batches: QA's review by exception and the qualified
// person's certification register. The decisions are signatures on the
// batch (meanings reviewed, released, rejected); onBatchSigned applies the
// quality rules to them in the signature's transaction.

// ReleaseStore is the quality unit's disposition of batches.
type ReleaseStore struct{ db *DB }

// Release returns the disposition service.
func (db *DB) Release() *ReleaseStore { return &ReleaseStore{db: db} }

var _ quality.Release = (*ReleaseStore)(nil)

var (
	reviewTable = table{"batch_reviews", "batch_review", []string{"batch_id", "client_id", "justifications", "reviewed_by", "reviewed_name",
		"reviewed_at", "signature_id"}}
	certificationTable = table{"certifications", "certification", []string{"seq", "batch_id", "client_id", "lot", "product_code", "product_name",
		"decision", "reason", "certificate", "qp_id", "qp_name", "signed_at", "signature_id"}}
)

func reviewRow(r *quality.BatchReview) row {
	j, _ := json.Marshal(r.Justifications)
	return row{"batch_id": r.BatchID, "client_id": r.ClientID, "justifications": string(j), "reviewed_by": r.ReviewedBy,
		"reviewed_name": r.ReviewedName, "reviewed_at": r.ReviewedAt, "signature_id": nullable(r.SignatureID)}
}

func certificationRow(c *quality.Certification) row {
	return row{"seq": c.Seq, "batch_id": c.BatchID, "client_id": c.ClientID, "lot": c.Lot, "product_code": c.ProductCode,
		"product_name": c.ProductName, "decision": string(c.Decision), "reason": c.Reason, "certificate": c.Certificate,
		"qp_id": c.QPID, "qp_name": c.QPName, "signed_at": c.SignedAt, "signature_id": c.SignatureID}
}

const reviewCols = `id, batch_id, client_id, justifications, reviewed_by, reviewed_name, reviewed_at, COALESCE(CAST(signature_id AS TEXT), ''), version`

func scanReview(sc scanner, r *quality.BatchReview) error {
	var j string
	var at sql.NullTime
	if err := sc.Scan(&r.ID, &r.BatchID, &r.ClientID, &j, &r.ReviewedBy, &r.ReviewedName, &at, &r.SignatureID, &r.Version); err != nil {
		return err
	}
	if at.Valid {
		t := at.Time.UTC()
		r.ReviewedAt = &t
	}
	r.Justifications = map[string]string{}
	return json.Unmarshal([]byte(j), &r.Justifications)
}

// review reads a batch's review; an empty one (no id) before any
// justification.
func (tx *Tx) review(b *production.Batch) (*quality.BatchReview, error) {
	r := &quality.BatchReview{BatchID: b.ID, ClientID: b.ClientID, Justifications: map[string]string{}}
	err := scanReview(tx.queryRow(`SELECT `+reviewCols+` FROM batch_reviews WHERE batch_id = ?`, b.ID), r)
	if err == sql.ErrNoRows {
		return &quality.BatchReview{BatchID: b.ID, ClientID: b.ClientID, Justifications: map[string]string{}}, nil
	}
	return r, err
}

// reviewer refuses, as not found, whoever neither reviews nor releases
// batches: the review names the people who did the work.
func reviewer(a identity.Actor) error {
	if !isStaff(a) || !(a.Can(identity.PermBatchReview) || a.Can(identity.PermQualityDecide) || a.Can(identity.PermBatchRelease)) {
		return errs.E(errs.NotFound, "store.no_such_batch")
	}
	return nil
}

// Review returns QA's review of a batch.
func (s *ReleaseStore) Review(ctx context.Context, batchID string) (*quality.BatchReview, error) {
	var r *quality.BatchReview
	err := s.db.Read(ctx, func(tx *Tx) error {
		if err := reviewer(tx.actor); err != nil {
			return err
		}
		b, err := tx.batch(batchID)
		if err != nil {
			return err
		}
		r, err = tx.review(b)
		return err
	})
	return r, err
}

// Justify records QA's justifications of the batch's exceptions before the
// review is signed. Only the exceptions of the batch's record may be
// justified; a justification changed after it was first written needs a
// reason, like any record.
func (s *ReleaseStore) Justify(ctx context.Context, batchID string, justifications map[string]string, version int, reason string) (*quality.BatchReview, error) {
	var out *quality.BatchReview
	err := s.db.Write(ctx, "batch.review.justify", reason, func(tx *Tx) error {
		if err := reviewer(tx.actor); err != nil {
			return err
		}
		b, err := tx.batch(batchID)
		if err != nil {
			return err
		}
		exceptions, err := tx.exceptions(b.ID)
		if err != nil {
			return err
		}
		old, err := tx.review(b)
		if err != nil {
			return err
		}
		next, err := quality.Justify(tx.actor, *b, exceptions, *old, justifications)
		if err != nil {
			return err
		}
		next.Version = version
		if old.ID == "" {
			next.ID = NewID()
			err = createClientRecord(tx, reviewTable, next.ID, b.ClientID, next, reviewRow(next))
		} else {
			err = updateClientRecord(tx, reviewTable, old.ID, b.ClientID, old, next, reviewRow(next))
		}
		out = next
		return err
	})
	return out, err
}

// exceptions lists the steps of a batch's record recorded out of limits.
func (tx *Tx) exceptions(batchID string) ([]quality.Exception, error) {
	steps, err := collect(tx, `SELECT `+stepCols+stepFrom+` WHERE s.batch_id = ? AND s.exception = ? ORDER BY s.seq`, []any{batchID, true}, scanStep)
	if err != nil {
		return nil, err
	}
	out := make([]quality.Exception, len(steps))
	for i, st := range steps {
		out[i] = quality.Exception{StepID: st.ID, Label: st.Label()}
	}
	return out, nil
}

// onBatchSigned applies a signature on a batch: QA's review (reviewed)
// moves it to QA reviewed; the qualified person's decision (released or
// rejected) certifies or rejects it and writes the register's line.
func onBatchSigned(tx *Tx, sig *esign.Signature) error {
	b, err := tx.batch(sig.EntityID)
	if err != nil {
		return err
	}
	switch sig.Meaning {
	case esign.Reviewed:
		return tx.signReview(b, sig)
	case esign.Released, esign.Rejected:
		return tx.certify(b, sig)
	}
	return errs.Field("meaning", "quality.release.sign_meaning")
}

// signReview is QA's signed review by exception.
func (tx *Tx) signReview(b *production.Batch, sig *esign.Signature) error {
	exceptions, err := tx.exceptions(b.ID)
	if err != nil {
		return err
	}
	rv, err := tx.review(b)
	if err != nil {
		return err
	}
	for i := range exceptions {
		exceptions[i].Justification = rv.Justifications[exceptions[i].StepID]
	}
	moved, _, err := quality.ReviewBatch(quality.Reviewing{Actor: tx.actor, Batch: *b, Exceptions: exceptions, Now: tx.now})
	if err != nil {
		return err
	}
	signed := *rv
	signed.ReviewedBy, signed.ReviewedName, signed.ReviewedAt, signed.SignatureID = sig.SignerID, sig.SignerName, &sig.SignedAt, sig.ID
	if rv.ID == "" {
		signed.ID = NewID()
		if err := createClientRecord(tx, reviewTable, signed.ID, b.ClientID, &signed, reviewRow(&signed)); err != nil {
			return err
		}
	} else {
		if _, err := tx.exec(`UPDATE batch_reviews SET reviewed_by = ?, reviewed_name = ?, reviewed_at = ?, signature_id = ?, version = version + 1 WHERE id = ?`,
			signed.ReviewedBy, signed.ReviewedName, signed.ReviewedAt, signed.SignatureID, rv.ID); err != nil {
			return err
		}
		if err := tx.Audit(audit.Diff(reviewTable.entity, rv.ID, rv.AuditFields(), signed.AuditFields()), b.ClientID); err != nil {
			return err
		}
	}
	return tx.saveBatch(b, moved)
}

// certify is the qualified person's signed decision: certified only when
// nothing blocks (quality.Certify reads the batch's live data), rejected
// with its reason; either way one line of the register, and for a
// certified batch the number of its certificate of analysis.
func (tx *Tx) certify(b *production.Batch, sig *esign.Signature) error {
	c, err := tx.releasing(b)
	if err != nil {
		return err
	}
	moved, err := quality.Certify(*c, sig.Meaning, sig.Reason)
	if err != nil {
		return err
	}
	line := &quality.Certification{ID: NewID(), BatchID: b.ID, ClientID: b.ClientID, Lot: b.Lot, ProductCode: b.ProductCode,
		ProductName: b.Product, Decision: quality.DecisionRejected, Reason: strings.TrimSpace(sig.Reason), QPID: sig.SignerID,
		QPName: sig.SignerName, SignedAt: sig.SignedAt, SignatureID: sig.ID}
	if line.Seq, err = tx.nextNumber("certification"); err != nil {
		return err
	}
	if moved.State == production.BatchCertified {
		// Certificates have numbers of their own, without the gaps the
		// register's rejections would leave.
		n, err := tx.nextNumber("certificate")
		if err != nil {
			return err
		}
		line.Decision = quality.DecisionCertified
		line.Certificate = "CoA-" + strconv.Itoa(tx.now.Year()) + "-" + pad4(n)
	}
	if err := createClientRecord(tx, certificationTable, line.ID, b.ClientID, line, certificationRow(line)); err != nil {
		return err
	}
	if line.Certificate != "" {
		tx.enqueueCertificate(line)
	}
	return tx.saveBatch(b, moved)
}

func pad4(n int) string {
	s := strconv.Itoa(n)
	for len(s) < 4 {
		s = "0" + s
	}
	return s
}

const certificationCols = `id, seq, batch_id, client_id, lot, product_code, product_name, decision, reason, certificate, qp_id, qp_name, signed_at, CAST(signature_id AS TEXT)`

func scanCertification(sc scanner, c *quality.Certification) error {
	var d string
	err := sc.Scan(&c.ID, &c.Seq, &c.BatchID, &c.ClientID, &c.Lot, &c.ProductCode, &c.ProductName, &d, &c.Reason, &c.Certificate,
		&c.QPID, &c.QPName, &c.SignedAt, &c.SignatureID)
	c.Decision, c.SignedAt = quality.Decision(d), c.SignedAt.UTC()
	return err
}

// Register lists the certification register in the actor's scope, oldest
// first: staff who review or release batches see every line of their
// clients; a client laboratory's users see their own, without the
// qualified person's name.
func (s *ReleaseStore) Register(ctx context.Context, f quality.RegisterFilter) ([]quality.Certification, error) {
	var out []quality.Certification
	err := s.db.Read(ctx, func(tx *Tx) error {
		a := tx.actor
		if !a.IsClient() && !(a.Can(identity.PermBatchReview) || a.Can(identity.PermQualityDecide)) {
			return errs.E(errs.Forbidden, "identity.refused.batch_review")
		}
		cond, args := inScope("client_id", a.ClientScope())
		q := `SELECT ` + certificationCols + ` FROM certifications WHERE ` + cond
		if f.ClientID != "" {
			q += ` AND client_id = ?`
			args = append(args, f.ClientID)
		}
		if !f.From.IsZero() {
			q += ` AND signed_at >= ?`
			args = append(args, f.From)
		}
		if !f.To.IsZero() {
			q += ` AND signed_at < ?`
			args = append(args, f.To)
		}
		var err error
		out, err = collect(tx, q+` ORDER BY seq`, args, scanCertification)
		if a.IsClient() {
			for i := range out {
				out[i].QPID, out[i].QPName = "", ""
			}
		}
		return err
	})
	return out, err
}

// signableBatch reads a batch for a signature: for those who review or
// release batches. What QA and the qualified person sign is the batch as
// made, not its state, which their signature changes.
func signableBatch(tx *Tx, id string) ([]audit.Field, string, error) {
	if reviewer(tx.actor) != nil {
		return nil, "", errNoRecord()
	}
	b, err := tx.batch(id)
	if err != nil {
		return nil, "", err
	}
	return []audit.Field{audit.F("lot", b.Lot), audit.F("product_id", b.ProductID), audit.F("master_id", b.MasterID),
		audit.F("quantity", strconv.FormatFloat(b.Quantity, 'f', -1, 64)), audit.F("unit", b.Unit), audit.F("steps", strconv.Itoa(b.StepsTotal)),
		audit.F("exceptions", strconv.Itoa(b.Exceptions))}, b.ClientID, nil
}

// Certificate returns the certificate of analysis of a certified batch:
// for the batch's client laboratory when its agreement delivers it (any,
// without one), and for the staff who review or release batches. Before
// certification, or to anyone else, it is not
// found, so that another client cannot learn that it exists.
func (s *ReleaseStore) Certificate(ctx context.Context, batchID string) (*quality.Certificate, error) {
	var cert *quality.Certificate
	err := s.db.Read(ctx, func(tx *Tx) error {
		a := tx.actor
		if !a.IsClient() && reviewer(a) != nil {
			return errs.E(errs.NotFound, "quality.certificate.none")
		}
		b, err := tx.batch(batchID)
		if errs.Is(err, errs.NotFound) {
			return errs.E(errs.NotFound, "quality.certificate.none")
		}
		if err != nil {
			return err
		}
		ds, line, err := tx.dossier(b)
		if err != nil {
			return err
		}
		if line == nil {
			return errs.E(errs.NotFound, "quality.certificate.none")
		}
		// The client receives it when its agreement names it.
		if a.IsClient() {
			if err := ds.MayDeliver(a, quality.DocCertificate); err != nil {
				return err
			}
		}
		var sig esign.Signature
		if err := scanSignature(tx.queryRow(`SELECT `+signatureCols+` FROM signatures WHERE id = ?`, line.SignatureID), &sig); err != nil {
			return err
		}
		c, err := tx.releasing(b)
		if err != nil {
			return err
		}
		if cert, err = quality.BuildCertificate(*c, *line, sig); err != nil {
			return err
		}
		// The laboratory that tested it: the site's QC laboratory.
		var siteName, address, lab string
		if err := tx.queryRow(`SELECT name, address FROM sites ORDER BY code LIMIT 1`).Scan(&siteName, &address); err != nil {
			return err
		}
		if err := tx.queryRow(`SELECT name FROM buildings WHERE role = ? ORDER BY code LIMIT 1`, string(site.RoleLaboratory)).Scan(&lab); err != nil && err != sql.ErrNoRows {
			return err
		}
		cert.Laboratory, cert.Address = siteName, address
		if lab != "" {
			cert.Laboratory = siteName + " — " + lab
		}
		return tx.queryRow(`SELECT name FROM clients WHERE id = ?`, b.ClientID).Scan(&cert.Client)
	})
	return cert, err
}

// dossier reads what the batch's client receives for it: the documents its
// agreement names, and whether and when the batch was certified.
func (tx *Tx) dossier(b *production.Batch) (*quality.Dossier, *quality.Certification, error) {
	ds := &quality.Dossier{BatchID: b.ID, ClientID: b.ClientID, Lot: b.Lot, ProductCode: b.ProductCode, Product: b.Product}
	ag, err := tx.agreement(b.ClientID)
	if err != nil {
		return nil, nil, err
	}
	var terms *quality.Agreement
	if ag != nil {
		terms = &ag.Agreement
	}
	ds.Documents = slices.Clone(terms.Delivered())
	var line quality.Certification
	err = scanCertification(tx.queryRow(`SELECT `+certificationCols+` FROM certifications WHERE batch_id = ? AND decision = ?`,
		b.ID, string(quality.DecisionCertified)), &line)
	if err == sql.ErrNoRows {
		return ds, nil, nil
	}
	if err != nil {
		return nil, nil, err
	}
	if tx.actor.IsClient() {
		line.QPID, line.QPName = "", ""
	}
	at := line.SignedAt
	ds.Certified, ds.CertifiedAt = true, &at
	return ds, &line, nil
}

// dossierOf reads a batch's dossier for the actor: the batch's client
// laboratory and the staff who review or release batches; to anyone else
// the batch is not found.
func (tx *Tx) dossierOf(batchID string) (*production.Batch, *quality.Dossier, *quality.Certification, error) {
	a := tx.actor
	if !a.IsClient() && reviewer(a) != nil {
		return nil, nil, nil, errs.E(errs.NotFound, "store.no_such_batch")
	}
	b, err := tx.batch(batchID)
	if err != nil {
		return nil, nil, nil, err
	}
	ds, line, err := tx.dossier(b)
	return b, ds, line, err
}

// Dossier returns what the batch's client receives for it under its
// quality agreement.
func (s *ReleaseStore) Dossier(ctx context.Context, batchID string) (*quality.Dossier, error) {
	var out *quality.Dossier
	err := s.db.Read(ctx, func(tx *Tx) error {
		var err error
		_, out, _, err = tx.dossierOf(batchID)
		return err
	})
	return out, err
}

// Delivery returns one document of a batch's dossier with what it is made
// of, when the actor may read it (quality.Dossier.MayDeliver): the client
// receives its batch record without a person of the site.
func (s *ReleaseStore) Delivery(ctx context.Context, batchID string, doc quality.BatchDocument) (*quality.Delivery, error) {
	var out *quality.Delivery
	err := s.db.Read(ctx, func(tx *Tx) error {
		b, ds, line, err := tx.dossierOf(batchID)
		if err != nil {
			return err
		}
		if err := ds.MayDeliver(tx.actor, doc); err != nil {
			return err
		}
		d := &quality.Delivery{Dossier: *ds, Document: doc, Certification: line}
		if err := tx.masterHead(b.MasterID, &d.Master); err != nil {
			return err
		}
		if doc == quality.DocBatchRecord {
			if d.Record, err = tx.recordOf(b); err != nil {
				return err
			}
			if tx.actor.IsClient() {
				d.Record.ForClient()
			}
		}
		out = d
		return nil
	})
	return out, err
}
