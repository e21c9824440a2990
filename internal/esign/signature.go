package esign

import (
	"context"
	"time"
	_ "time/tzdata" // the site's zone exists on any machine, even without a zoneinfo database

	"galenix/internal/site"
)

// Signature is an electronic signature: who signed (their printed name,
// 11.50(a)(1)), when (11.50(a)(2)), what it meant (11.50(a)(3)), and the
// SHA-256 of the exact content signed, which links it to its record
// (11.70).
type Signature struct {
	ID       string  `json:"id"`
	Entity   string  `json:"entity"`
	EntityID string  `json:"entity_id"`
	Meaning  Meaning `json:"meaning"`
	// SignerID is the signer's account id; SignerName their printed name
	// at the time of signing.
	SignerID   string    `json:"signer_id"`
	SignerName string    `json:"signer_name"`
	SignedAt   time.Time `json:"signed_at"`
	// ContentHash is the SHA-256, in hexadecimal, of the content signed
	// (ContentHash), or, for a period of the audit trail, the chain's hash
	// at its last entry.
	ContentHash string `json:"content_sha256"`
	// Reason is the signer's comment, if any.
	Reason string `json:"reason,omitempty"`
	// ClientID is the client laboratory owning the record, if any.
	ClientID string `json:"client_id,omitempty"`
	// Status says whether the record's content is still the one signed;
	// set when signatures are listed.
	Status Status `json:"status"`
}

// Status says whether a signature still holds for its record.
type Status string

// The statuses of a signature.
const (
	// Valid: the record's content is the one signed.
	Valid Status = "valid"
	// Broken: the record changed after it was signed.
	Broken Status = "broken"
)

// StatusOf compares the hash signed with the record's current one.
func StatusOf(signed, current string) Status {
	if signed != "" && signed == current {
		return Valid
	}
	return Broken
}

// DisplayIn writes the signature as every screen and printout shows it, in
// the site's time zone zone: printed name, date and time with the zone, and
// meaning (11.50(b)):
//
//	Printed Name — 22/11/2026 14:03 (Europe/Paris, UTC+01:00) — Vérifié / Verified
func (s *Signature) DisplayIn(zone *time.Location) string {
	t := s.SignedAt.In(zone)
	return s.SignerName + " — " + t.Format("02/01/2006 15:04") + " (" + zone.String() + ", UTC" + t.Format("-07:00") + ") — " + s.Meaning.Labels()
}

// Display writes the signature as DisplayIn does, in the default zone of a
// site (site.DefaultTimezone).
func (s *Signature) Display() string { return s.DisplayIn(site.DefaultLocation()) }

// ChallengeTTL is how long a signing challenge may be used.
const ChallengeTTL = 5 * time.Minute

// ChallengeRequest asks for a challenge to sign one record with one meaning.
type ChallengeRequest struct {
	Entity   string `json:"entity"`
	EntityID string `json:"entity_id"`
	Meaning  string `json:"meaning"`
	// ContentHash is, if given, the content hash of the record as the
	// signer was shown it; a record changed since is refused.
	ContentHash string `json:"content_sha256,omitempty"`
	// SecondPerson asks for a second person's signature on this session
	// (SecondPerson): the verification at the line, on the operator's
	// tablet, by someone who then enters their own username and password.
	SecondPerson bool `json:"second_person,omitempty"`
}

// Challenge is a one-time token that a signature must carry: good for one
// attempt, within ChallengeTTL, from the session that asked for it, for the
// record and meaning it names. It keeps a signing request from being
// replayed.
type Challenge struct {
	Challenge string  `json:"challenge"`
	Entity    string  `json:"entity"`
	EntityID  string  `json:"entity_id"`
	Meaning   Meaning `json:"meaning"`
	// ContentHash is the content the challenge binds: a signature
	// carrying it is refused once the record has changed.
	ContentHash string    `json:"content_sha256"`
	ExpiresAt   time.Time `json:"expires_at"`
}

// SignRequest is a signature as the signer gives it: the record and the
// meaning, their credentials entered again (11.200(a)), a comment, and the
// challenge obtained for it.
type SignRequest struct {
	Entity    string `json:"entity"`
	EntityID  string `json:"entity_id"`
	Meaning   string `json:"meaning"`
	Username  string `json:"username"`
	Password  string `json:"password"`
	Reason    string `json:"reason"`
	Challenge string `json:"challenge"`
}

// Service signs records and lists their signatures, scoped to the actor in
// the context: a record the actor may not see is not found.
type Service interface {
	// Challenge issues a one-time challenge to sign the record.
	Challenge(ctx context.Context, r ChallengeRequest) (*Challenge, error)
	// Sign checks the credentials, the challenge and the rules, and
	// records the signature with its audit entry.
	Sign(ctx context.Context, r SignRequest) (*Signature, error)
	// Signatures lists the signatures of a record, oldest first, each
	// with its status.
	Signatures(ctx context.Context, entity, entityID string) ([]Signature, error)
	// Content returns the content hash of the record as it stands: a page
	// carries it in its signing form, and the challenge then refuses a
	// record that changed since the page showed it (11.50, 11.70).
	Content(ctx context.Context, entity, entityID string) (string, error)
}
