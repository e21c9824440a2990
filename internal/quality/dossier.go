package quality

import (
	"slices"
	"time"

	"galenix/internal/errs"
	"galenix/internal/identity"
	"galenix/internal/production"
)

// A batch's dossier: the documents its client receives for it, as the
// quality agreement names them (BatchDocuments), delivered once the
// qualified person certified the batch and not before; a document the
// agreement does not name is not delivered. Without an agreement, the
// client receives the certificate of analysis alone. The staff who review
// or release batches read the dossier as the client will receive it.

// Delivers says whether the agreement gives the client document d for
// each of its batches.
func (ag *Agreement) Delivers(d BatchDocument) bool {
	return slices.Contains(ag.Delivered(), d)
}

// Delivered lists the documents the client receives for each batch, in
// the order pages show them; a nil agreement delivers the certificate of
// analysis.
func (ag *Agreement) Delivered() []BatchDocument {
	if ag == nil {
		return []BatchDocument{DocCertificate}
	}
	return ag.BatchDocuments
}

// ParseBatchDocument reads a document's name as a route gives it.
func ParseBatchDocument(s string) (BatchDocument, error) {
	d := BatchDocument(s)
	if !slices.Contains(BatchDocuments, d) {
		return "", errs.E(errs.NotFound, "quality.dossier.unknown_document", s)
	}
	return d, nil
}

// Dossier is what a batch's client receives for it.
type Dossier struct {
	BatchID     string `json:"batch_id"`
	ClientID    string `json:"client_id"`
	Lot         string `json:"lot"`
	ProductCode string `json:"product_code"`
	Product     string `json:"product"`
	// Certified says whether the qualified person certified the batch,
	// CertifiedAt when: the documents are delivered from then on.
	Certified   bool       `json:"certified"`
	CertifiedAt *time.Time `json:"certified_at,omitempty"`
	// Documents are the documents the agreement names.
	Documents []BatchDocument `json:"documents"`
}

// MayDeliver checks that the actor may read document d of the dossier:
// the batch's client once certified, when its agreement names d; the
// staff who review or release batches, whatever the state, to see what
// the client receives. A client asking for a document its agreement does
// not name is told so; before certification, nothing is delivered.
func (ds *Dossier) MayDeliver(a identity.Actor, d BatchDocument) error {
	if !a.IsClient() {
		if a.Can(identity.PermBatchReview) || a.Can(identity.PermQualityDecide) || a.Can(identity.PermBatchRelease) {
			return nil
		}
		return errs.E(errs.Forbidden, "identity.refused.batch_review")
	}
	if !ds.Certified {
		return errs.E(errs.Conflict, "quality.dossier.not_certified", ds.Lot)
	}
	if !slices.Contains(ds.Documents, d) {
		return errs.E(errs.Forbidden, "quality.dossier.not_agreed", string(d))
	}
	return nil
}

// Delivery is one document of a batch's dossier with what it is made of.
type Delivery struct {
	Dossier
	Document BatchDocument `json:"document"`
	// Certification is the register's line of a certified batch (the
	// qualified person's name blank for the client).
	Certification *Certification `json:"certification,omitempty"`
	// Master is the master batch record the batch was made to, without
	// its operations.
	Master production.Master `json:"master"`
	// Record is the batch record, for DocBatchRecord: for the client,
	// without a person of the site (ForClient).
	Record *production.Record `json:"record,omitempty"`
}
