package document

import (
	"context"
	"time"

	"galenix/internal/esign"
)

// Entities are the names the audit trail and the signatures give the
// records of documents.
const (
	EntityDocument  = "document"
	EntityVersion   = "document_version"
	EntityClientKey = "client_key"
	EntityHold      = "client_legal_hold"
)

// Filter narrows the list of documents.
type Filter struct {
	ClientID  string
	ProjectID string
	Category  Category
}

// Content is a version's plaintext, decrypted and checked against its
// SHA-256.
type Content struct {
	FileName    string
	ContentType string
	SHA256      string
	Body        []byte
}

// Hold is a client's legal hold.
type Hold struct {
	ClientID string     `json:"client_id"`
	Held     bool       `json:"held"`
	Reason   string     `json:"reason,omitempty"`
	SetName  string     `json:"set_name,omitempty"`
	SetAt    *time.Time `json:"set_at,omitempty"`
}

// Shredding is the record of a client's key destroyed.
type Shredding struct {
	ClientID    string    `json:"client_id"`
	Fingerprint string    `json:"fingerprint"`
	Documents   int       `json:"documents"`
	Versions    int       `json:"versions"`
	ShreddedAt  time.Time `json:"shredded_at"`
	SignerName  string    `json:"signer_name"`
	SignatureID string    `json:"signature_id"`
}

// EndOfContract is what the administrator sees before destroying a
// client's key: the key, the documents it opens, the legal hold, and
// whether retention allows it now (Refusal: the catalogue key and its
// arguments, when not).
type EndOfContract struct {
	ClientID    string     `json:"client_id"`
	Fingerprint string     `json:"fingerprint,omitempty"`
	Documents   int        `json:"documents"`
	Versions    int        `json:"versions"`
	Hold        Hold       `json:"legal_hold"`
	Allowed     bool       `json:"allowed"`
	Refusal     error      `json:"-"`
	Shredded    *Shredding `json:"shredded,omitempty"`
}

// Service is the documents' service, in the reader's client scope.
type Service interface {
	Documents(ctx context.Context, f Filter) ([]Document, error)
	Document(ctx context.Context, id string) (*Document, error)
	// Upload records a new document with its first version.
	Upload(ctx context.Context, n NewDocument, f File) (*Document, error)
	// AddVersion uploads a new version of a document.
	AddVersion(ctx context.Context, id string, f File) (*Document, error)
	// Content decrypts a version (number 0: the newest).
	Content(ctx context.Context, id string, number int) (*Content, error)
	LegalHold(ctx context.Context, clientID string) (*Hold, error)
	SetLegalHold(ctx context.Context, clientID string, held bool, reason string) (*Hold, error)
	EndOfContract(ctx context.Context, clientID string) (*EndOfContract, error)
	// Shred destroys the client's key: the administrator's electronic
	// signature (meaning approved, with its reason) on the client's key,
	// refused while a record is within retention or under legal hold.
	Shred(ctx context.Context, clientID string, r esign.SignRequest) (*Shredding, error)
}
