package quality

import (
	"context"
	"galenix/internal/text"
	"sort"
	"strconv"
	"time"

	"galenix/internal/audit"
)

// BatchReview is QA's review of a batch by exception: the justification of
// each exception, written before QA signs the review (esign meaning
// reviewed), and who signed it when.
type BatchReview struct {
	ID       string `json:"id"`
	BatchID  string `json:"batch_id"`
	ClientID string `json:"client_id"`
	// Justifications are by step id.
	Justifications map[string]string `json:"justifications"`
	ReviewedBy     string            `json:"reviewed_by,omitempty"`
	ReviewedName   string            `json:"reviewed_name,omitempty"`
	ReviewedAt     *time.Time        `json:"reviewed_at,omitempty"`
	SignatureID    string            `json:"signature_id,omitempty"`
	Version        int               `json:"version"`
}

// VersionRef returns the address of the review's version.
func (r *BatchReview) VersionRef() *int { return &r.Version }

// AuditFields are the review's fields as the audit trail records them: one
// per justification, by step id, in order.
func (r *BatchReview) AuditFields() []audit.Field {
	ids := make([]string, 0, len(r.Justifications))
	for id := range r.Justifications {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	fs := []audit.Field{audit.F("batch_id", r.BatchID)}
	for _, id := range ids {
		fs = append(fs, audit.F("justification."+id, r.Justifications[id]))
	}
	return append(fs, audit.F("reviewed_by", r.ReviewedBy), audit.F("signature_id", r.SignatureID))
}

// Decision is the qualified person's decision on a batch.
type Decision string

// The decisions of the certification register.
const (
	DecisionCertified Decision = "certified"
	DecisionRejected  Decision = "rejected"
)

// Certification is one line of the certification register (EU GMP Annex
// 16): a batch decided by a qualified person, in order, never changed.
type Certification struct {
	ID          string   `json:"id"`
	Seq         int      `json:"seq"`
	BatchID     string   `json:"batch_id"`
	ClientID    string   `json:"client_id"`
	Lot         string   `json:"lot"`
	ProductCode string   `json:"product_code"`
	ProductName string   `json:"product_name"`
	Decision    Decision `json:"decision"`
	Reason      string   `json:"reason,omitempty"`
	// Certificate is the certificate of analysis' number, for a
	// certified batch.
	Certificate string    `json:"certificate,omitempty"`
	QPID        string    `json:"qp_id,omitempty"`
	QPName      string    `json:"qp_name,omitempty"`
	SignedAt    time.Time `json:"signed_at"`
	SignatureID string    `json:"signature_id"`
}

// AuditFields are the register line's fields as the trail records them.
func (c *Certification) AuditFields() []audit.Field {
	return []audit.Field{audit.F("seq", strconv.Itoa(c.Seq)), audit.F("batch_id", c.BatchID), audit.F("lot", c.Lot), audit.F("decision", string(c.Decision)),
		audit.F("reason", c.Reason), audit.F("certificate", c.Certificate), audit.F("qp_name", c.QPName), audit.F("signature_id", c.SignatureID)}
}

// RegisterFilter narrows the register.
type RegisterFilter struct {
	From, To time.Time
	ClientID string
}

// Release is the disposition of batches: QA's review by exception and the
// qualified person's register. The decisions themselves are signatures
// (esign meanings reviewed, released, rejected on the batch), which the
// store reacts to.
type Release interface {
	// Review returns QA's review of a batch, empty before any
	// justification.
	Review(ctx context.Context, batchID string) (*BatchReview, error)
	// Justify records QA's justifications of the batch's exceptions, by
	// step id, before the review is signed; changing one already written
	// needs a reason.
	Justify(ctx context.Context, batchID string, justifications map[string]string, version int, reason string) (*BatchReview, error)
	// View returns the qualified person's view of a batch: what blocks
	// its certification, from live data.
	View(ctx context.Context, batchID string) (*ReleaseView, error)
	// Certificate returns the certificate of analysis of a certified
	// batch, for its client and the quality unit; not found otherwise.
	Certificate(ctx context.Context, batchID string) (*Certificate, error)
	// Metrics returns the quality unit's figures over the actor's
	// clients.
	Metrics(ctx context.Context) (*Metrics, error)
	// Register lists the certification register, oldest first.
	Register(ctx context.Context, f RegisterFilter) ([]Certification, error)
	// Dossier returns what the batch's client receives for it under its
	// quality agreement; Delivery one of its documents with what it is
	// made of, for whom may read it (Dossier.MayDeliver).
	Dossier(ctx context.Context, batchID string) (*Dossier, error)
	Delivery(ctx context.Context, batchID string, doc BatchDocument) (*Delivery, error)
}

// ReleaseView is what the qualified person reads before deciding, from
// live data: the batch, QA's review, what blocks its certification, in
// words, and the records behind it.
type ReleaseView struct {
	Releasing
	Review BatchReview
	// Blockers are empty when the batch may be certified.
	Blockers []Blocker
	// Decision is the register's line, once decided.
	Decision *Certification
	// Excursions are the action-level excursions of environmental
	// monitoring in the batch's room and on its line while it was in
	// progress, in words (each opened a deviation naming the batch).
	Excursions []text.Msg
}
