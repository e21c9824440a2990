package store

import (
	"context"
	"database/sql"
	"errors"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"galenix/internal/audit"
	"galenix/internal/errs"
	"galenix/internal/esign"
	"galenix/internal/identity"
)

// SignatureStore implements esign.Service: electronic signatures bound to
// the content of the records they sign, each written with its audit entry.
type SignatureStore struct {
	db *DB
	// ids records a wrong password given when signing as a failed
	// sign-in, with the site's policy.
	ids *IdentityStore
}

// Signatures returns the electronic signature service. It re-checks
// credentials as this identity store signs people in, with its policy.
func (s *IdentityStore) Signatures() esign.Service { return &SignatureStore{db: s.db, ids: s} }

var _ esign.Service = (*SignatureStore)(nil)

// The commands of signing. signCommand's audit entries are those that
// VerifyAudit checks every signature against.
const (
	signCommand      = "signature.sign"
	refusedCommand   = "signature.refused"
	challengeCommand = "signature.challenge"
)

// maxReason bounds a signer's comment, in characters.
const maxReason = 2000

// signerOf returns the actor of ctx if they may sign: a person signed in,
// in a session that a challenge can be bound to.
func signerOf(ctx context.Context) (identity.Actor, error) {
	a := actorOf(ctx)
	if err := esign.CanSign(a); err != nil {
		return a, err
	}
	if a.SessionID == "" {
		return a, errs.E(errs.Unauthorized, "store.signing_needs_signed_session")
	}
	return a, nil
}

func errNoRecord() error {
	return errs.E(errs.NotFound, "store.no_such_record_sign")
}

// errSignCredentials refuses a signature whose credentials do not hold; it
// says not which part was wrong, nor that the account is locked.
func errSignCredentials() error {
	return errs.E(errs.Unauthorized, "store.wrong_username_password_nothing")
}

// signTarget is what a signature is about: the record, its client, its
// current content hash and the signatures it already carries.
type signTarget struct {
	entity, entityID string
	meaning          esign.Meaning
	clientID         string
	hash             string
	existing         []esign.Signature
}

// target resolves the record and its current content. A record the actor
// may not see, or an entity that cannot be signed, is not found. For
// signing, a period of the audit trail must be over and hold entries.
func (tx *Tx) target(entity, entityID string, m esign.Meaning, signing bool) (*signTarget, error) {
	t := &signTarget{entity: entity, entityID: entityID, meaning: m}
	if entity == esign.EntityAuditPeriod {
		p, err := esign.ParsePeriod(entityID, tx.siteZone())
		if err != nil {
			return nil, err
		}
		if !isStaff(tx.actor) || !tx.actor.Can(identity.PermAuditSite) {
			return nil, errNoRecord()
		}
		t.entityID = p.ID
		if signing {
			if err := p.Ended(tx.now); err != nil {
				return nil, err
			}
		}
		if t.hash, err = tx.periodHash(p); err != nil {
			return nil, err
		}
		if signing && t.hash == "" {
			return nil, errs.Field("entity_id", "store.there_no_audit_entry")
		}
	} else {
		load, ok := signables[entity]
		if !ok {
			return nil, errNoRecord()
		}
		tx.signing = signing
		fields, clientID, err := load(tx, entityID)
		tx.signing = false
		if err != nil {
			if errs.Is(err, errs.NotFound) {
				return nil, errNoRecord()
			}
			return nil, err
		}
		t.clientID = clientID
		t.hash = esign.ContentHash(entity, entityID, fields)
	}
	var err error
	t.existing, err = tx.signaturesOf(t.entity, t.entityID)
	return t, err
}

// periodHash returns the hash of the audit chain at the last entry of the
// period, "" when the period holds none. The review covers the whole trail,
// every client's entries included, whatever the reviewer's own scope: the
// hash reveals nothing of any entry.
func (tx *Tx) periodHash(p esign.Period) (string, error) {
	var h string
	err := tx.unscoped(func() error {
		return tx.queryRow(`SELECT hash FROM audit_log WHERE at >= ? AND at < ? ORDER BY seq DESC LIMIT 1`, p.From.UTC(), p.To.UTC()).Scan(&h)
	})
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	return h, err
}

// unscoped runs fn past PostgreSQL's row-level security, then restores the
// actor's scope. Only for queries whose answer reveals no client's data.
func (tx *Tx) unscoped(fn func() error) error {
	if tx.db.dialect != Postgres {
		return fn()
	}
	if _, err := tx.exec(`SELECT set_config('galenix.all', 'on', true)`); err != nil {
		return err
	}
	err := fn()
	if _, rerr := tx.exec(`SELECT set_config('galenix.all', ?, true)`, onOff(tx.actor.ClientScope().All)); rerr != nil && err == nil {
		err = rerr
	}
	return err
}

const signatureCols = `id, entity, entity_id, meaning, signer_id, signer_name, signed_at, content_hash, reason, COALESCE(client_id, '')`

func scanSignature(sc scanner, s *esign.Signature) error {
	err := sc.Scan(&s.ID, &s.Entity, &s.EntityID, &s.Meaning, &s.SignerID, &s.SignerName, &s.SignedAt, &s.ContentHash, &s.Reason, &s.ClientID)
	s.SignedAt = s.SignedAt.UTC()
	return err
}

// signaturesOf lists the signatures of a record, oldest first.
func (tx *Tx) signaturesOf(entity, entityID string) ([]esign.Signature, error) {
	rows, err := tx.query(`SELECT `+signatureCols+` FROM signatures WHERE entity = ? AND entity_id = ? ORDER BY signed_at, id`, entity, entityID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []esign.Signature{}
	for rows.Next() {
		var s esign.Signature
		if err := scanSignature(rows, &s); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

// Signatures lists the signatures of a record, oldest first: "valid" while
// the record's content is the one signed, "broken" once it changed.
func (s *SignatureStore) Signatures(ctx context.Context, entity, entityID string) ([]esign.Signature, error) {
	entity, entityID = strings.TrimSpace(entity), strings.TrimSpace(entityID)
	if err := needTarget(entity, entityID); err != nil {
		return nil, err
	}
	var out []esign.Signature
	err := s.db.Read(ctx, func(tx *Tx) error {
		t, err := tx.target(entity, entityID, "", false)
		if err != nil {
			return err
		}
		out = t.existing
		for i := range out {
			out[i].Status = esign.StatusOf(out[i].ContentHash, t.hash)
		}
		return nil
	})
	return out, err
}

// Content returns the content hash of the record as it stands, the one a
// challenge binds; a record outside the actor's scope is not found.
func (s *SignatureStore) Content(ctx context.Context, entity, entityID string) (string, error) {
	entity, entityID = strings.TrimSpace(entity), strings.TrimSpace(entityID)
	if err := needTarget(entity, entityID); err != nil {
		return "", err
	}
	var hash string
	err := s.db.Read(ctx, func(tx *Tx) error {
		t, err := tx.target(entity, entityID, "", false)
		if err != nil {
			return err
		}
		hash = t.hash
		return nil
	})
	return hash, err
}

// signRequestOf reads what a challenge and a signature share: the signer
// (the actor, who must be able to sign), the record named by entity and id,
// and the meaning.
func signRequestOf(ctx context.Context, entity, entityID, meaning string) (identity.Actor, string, string, esign.Meaning, error) {
	a, err := signerOf(ctx)
	if err != nil {
		return a, "", "", "", err
	}
	entity, entityID = strings.TrimSpace(entity), strings.TrimSpace(entityID)
	if err := needTarget(entity, entityID); err != nil {
		return a, "", "", "", err
	}
	m, err := esign.ParseMeaning(meaning)
	return a, entity, entityID, m, err
}

func needTarget(entity, entityID string) error {
	if entity == "" {
		return errs.Field("entity", "store.name_kind_record_signed")
	}
	if entityID == "" {
		return errs.Field("entity_id", "store.name_record_signed_id")
	}
	return nil
}

// secondSigner is a second person signing on another's session: their
// account and who they are, in that session.
type secondSigner struct {
	acc   signerAccount
	actor identity.Actor
	// mustChange: their password was set by an administrator and not
	// changed since; said only once their password is checked.
	mustChange bool
}

// secondSigner finds the person of a username who may sign on the session
// of the actor a; nil when there is none: no such account, one withdrawn,
// a client's, or one signing in through the directory (whose signatures
// galenix does not take yet).
func (tx *Tx) secondSigner(username string, a identity.Actor) (*secondSigner, error) {
	var s secondSigner
	var acc identity.Account
	var clients sql.NullString
	err := tx.unscoped(func() error {
		return scanAccount(tx.queryRow(`SELECT `+accountCols+`, password_hash, locked_until, password_must_change,
			(SELECT `+tx.db.joined("CAST(c.client_id AS TEXT)", ',')+` FROM client_assignments c WHERE c.account_id = accounts.id)
			FROM accounts WHERE username = ?`, username), &acc, &s.acc.hash, &s.acc.locked, &s.mustChange, &clients)
	})
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if !acc.Active || acc.Source == SourceLDAP || acc.ClientID != "" || acc.ID == a.UserID {
		return nil, nil
	}
	s.acc.username, s.acc.name, s.acc.source = acc.Username, acc.Name, acc.Source
	s.actor = acc.Actor()
	if clients.String != "" {
		s.actor.Assigned = strings.Split(clients.String, ",")
		slices.Sort(s.actor.Assigned)
	}
	s.actor.SessionID, s.actor.Device, s.actor.Address = a.SessionID, a.Device, a.Address
	return &s, nil
}

// signerAccount is what signing needs to know of the signer's account.
type signerAccount struct {
	username, name, hash, source string
	locked                       sql.NullTime
}

// signerAccount reads the signer's account, and refuses one that cannot
// sign: withdrawn, of the directory, or holding a password an
// administrator set that its owner has not changed yet (whoever set it
// could sign as them: 21 CFR 11.300, Annex 11 §14).
func (tx *Tx) signerAccount(id string) (*signerAccount, error) {
	var a signerAccount
	var active, mustChange bool
	err := tx.byID(`SELECT username, name, password_hash, source, active, locked_until, password_must_change FROM accounts WHERE id = ?`, id,
		func(sc scanner) error {
			return sc.Scan(&a.username, &a.name, &a.hash, &a.source, &active, &a.locked, &mustChange)
		},
		"store.your_account_no_longer")
	if err == nil && !active {
		err = errs.E(errs.Unauthorized, "store.your_account_withdrawn_cannot")
	}
	if err == nil && a.source == SourceLDAP {
		err = errs.E(errs.Forbidden, "store.electronic_signatures_not_yet")
	}
	if err == nil && mustChange {
		err = identity.ErrPasswordAdminSet()
	}
	return &a, err
}

// Sign records an electronic signature of the actor on a record. The
// signer enters their username and password again (11.200(a)), carries a
// challenge issued to their session for this record and meaning, and
// passes the rules of signing (esign.Check). The signature is bound to the
// SHA-256 of the record's current content and written, with its audit
// entry, in one command ("signature.sign"). A wrong password, a username
// not the signer's, or a challenge that does not hold signs nothing; the
// attempt is audited ("signature.refused"), and a wrong password counts as
// a failed sign-in of the account, towards its lock. The verification at
// the line (esign.OnSameDevice) may be a second person's on this session:
// they enter their own username and password, and the signature, its
// rules and its entry are theirs.
func (s *SignatureStore) Sign(ctx context.Context, r esign.SignRequest) (*esign.Signature, error) {
	a, entity, entityID, m, err := signRequestOf(ctx, r.Entity, r.EntityID, r.Meaning)
	if err != nil {
		return nil, err
	}
	username := strings.TrimSpace(r.Username)
	reason := strings.TrimSpace(r.Reason)
	switch {
	case username == "":
		return nil, errs.Field("username", "store.enter_your_username_sign")
	case r.Password == "":
		return nil, errs.Field("password", "store.enter_your_password_sign")
	case strings.TrimSpace(r.Challenge) == "":
		return nil, errs.Field("challenge", "store.ask_challenge_post_api")
	case !utf8.ValidString(reason) || utf8.RuneCountInString(reason) > maxReason:
		return nil, errs.Field("reason", "store.comment_must_text_most", strconv.Itoa(maxReason))
	}

	// What is signed, by whom, with which challenge; the password is
	// checked outside any write, argon2id being slow on purpose. The
	// signer is the session's person, or a second person signing on this
	// session (esign.OnSameDevice) with their own username and password.
	var acc *signerAccount
	var t *signTarget
	var ch *issued
	var second *secondSigner
	err = s.db.Read(ctx, func(tx *Tx) error {
		var err error
		if acc, err = tx.signerAccount(a.UserID); err != nil {
			return err
		}
		if t, err = tx.target(entity, entityID, m, true); err != nil {
			return err
		}
		if ch, err = tx.challenge(r.Challenge); err != nil {
			return err
		}
		if username != acc.username && esign.OnSameDevice(t.entity, m) {
			second, err = tx.secondSigner(username, a)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	signer, sacc := a, acc
	if username != acc.username && esign.OnSameDevice(t.entity, m) {
		if second == nil {
			// No person of that username who may sign: said as a wrong
			// password is, naming no one.
			if err := s.refuse(ctx, t, ch.ownedBy(a), "second person unknown"); err != nil {
				return nil, err
			}
			return nil, errSignCredentials()
		}
		signer, sacc = second.actor, &second.acc
	}
	if err := esign.Check(signer, t.entity, m, t.existing); err != nil {
		return nil, err
	}
	if username != sacc.username {
		if err := s.refuse(ctx, t, ch.ownedBy(a), "username is not the signer's own"); err != nil {
			return nil, err
		}
		return nil, &errs.Error{Code: errs.Unauthorized, Field: "username",
			Key: "store.sign_your_own_username", Args: []any{acc.username}}
	}
	if why, refusal := ch.refusal(a, t, s.db.Now().UTC()); refusal != nil {
		// A challenge of another session is not this one's to spend.
		if err := s.refuse(ctx, t, nil, why); err != nil {
			return nil, err
		}
		return nil, refusal
	}
	passwordOK, err := s.db.passwords.Verify(ctx, sacc.hash, r.Password)
	if err != nil {
		return nil, err // busy: nothing signed, nothing counted against the signer
	}
	locked := sacc.locked.Valid && s.db.Now().Before(sacc.locked.Time)
	if !passwordOK || locked {
		why, f := "wrong password", failure{kind: identity.EventLoginFailed, audit: "wrong password when signing", count: true}
		if locked {
			why, f = "account locked", failure{kind: identity.EventLoginLocked, audit: "account locked, when signing", detail: "locked until " + auditAt(sacc.locked.Time)}
		}
		if err := s.refuse(ctx, t, ch.ownedBy(a), why); err != nil {
			return nil, err
		}
		// The failure counts against the account whose password was
		// typed, a second person's too, in this session.
		who := identity.Account{ID: signer.UserID, Username: sacc.username}
		if err := s.ids.recordFailure(ctx, a, &who, sacc.username, f); err != nil {
			return nil, err
		}
		return nil, errSignCredentials()
	}
	if second != nil && second.mustChange {
		// As for the session's own person (signerAccount): whoever set
		// that password could sign as them.
		if err := s.refuse(ctx, t, ch.ownedBy(a), "second person's password set by an administrator"); err != nil {
			return nil, err
		}
		return nil, identity.ErrPasswordAdminSet()
	}

	var sig *esign.Signature
	err = s.db.Write(ctx, signCommand, reason, func(tx *Tx) error {
		// A second person signs in their own name and scope: the record
		// must be theirs to see, the entry is theirs, in this session.
		if second != nil {
			if err := tx.actAs(signer); err != nil {
				return err
			}
		}
		// Everything again, in the transaction that signs: the record may
		// have changed, the challenge been spent, and the password been
		// reset by an administrator, since they were read.
		if _, err := tx.signerAccount(a.UserID); err != nil {
			return err
		}
		t, err := tx.target(entity, entityID, m, true)
		if err != nil {
			return err
		}
		if err := esign.Check(signer, t.entity, m, t.existing); err != nil {
			return err
		}
		ch, err := tx.challenge(r.Challenge)
		if err != nil {
			return err
		}
		if _, refusal := ch.refusal(a, t, tx.now); refusal != nil {
			return refusal
		}
		if err := tx.spend(ch); err != nil {
			return err
		}
		sig = &esign.Signature{ID: NewID(), Entity: t.entity, EntityID: t.entityID, Meaning: m, SignerID: signer.UserID,
			SignerName: sacc.name, SignedAt: tx.now, ContentHash: t.hash, Reason: reason, ClientID: t.clientID, Status: esign.Valid}
		if err := tx.insertSignature(sig, a.SessionID); err != nil {
			return err
		}
		if err := tx.Audit([]audit.Change{{Entity: sig.Entity, EntityID: sig.EntityID, Field: "signature", New: signatureEntry(sig)}}, sig.ClientID); err != nil {
			return err
		}
		tx.enqueueSignature(sig)
		return tx.publish(Event{Kind: SignatureGiven, Entity: sig.Entity, Signature: sig})
	})
	if err != nil {
		return nil, err
	}
	return sig, nil
}

// refuse audits a refused signature ("signature.refused") on its record,
// and spends the challenge it came with, if any: a challenge is good for
// one attempt.
func (s *SignatureStore) refuse(ctx context.Context, t *signTarget, ch *issued, why string) error {
	return s.db.Write(ctx, refusedCommand, "", func(tx *Tx) error {
		if ch != nil && !ch.used.Valid {
			if _, err := tx.exec(`UPDATE signature_challenges SET used_at = ? WHERE id = ? AND used_at IS NULL`, tx.now, ch.id); err != nil {
				return err
			}
		}
		return tx.Audit([]audit.Change{{Entity: t.entity, EntityID: t.entityID, Field: "signature",
			New: "refused " + string(t.meaning) + ": " + why}}, t.clientID)
	})
}

// insertSignature writes a signature's row, given in the session.
func (tx *Tx) insertSignature(sig *esign.Signature, session string) error {
	_, err := tx.exec(`INSERT INTO signatures (id, entity, entity_id, meaning, signer_id, signer_name, signed_at, content_hash, reason, client_id, session_id) VALUES (?,?,?,?,?,?,?,?,?,?,?)`,
		sig.ID, sig.Entity, sig.EntityID, string(sig.Meaning), sig.SignerID, sig.SignerName, sig.SignedAt, sig.ContentHash, sig.Reason, nullable(sig.ClientID), session)
	return err
}
