package store

import (
	"context"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"galenix/internal/audit"
	"galenix/internal/document"
	"galenix/internal/errs"
	"galenix/internal/esign"
	"galenix/internal/identity"
	"galenix/internal/production"
	"galenix/internal/text"
)

// DocumentStore implements document.Service: a client laboratory's
// documents, each version sealed under a fresh data key wrapped by the
// client's key, itself wrapped by the site's master key (Config.MasterKey,
// a file outside the database). The database and its backups hold only
// wrapped keys and ciphertexts.
type DocumentStore struct{ db *DB }

// Documents returns the documents' service.
func (db *DB) Documents() *DocumentStore { return &DocumentStore{db: db} }

var _ document.Service = (*DocumentStore)(nil)

var (
	documentTable = table{"documents", document.EntityDocument, []string{"client_id", "project_id", "category", "title", "created_by", "created_at"}}
	versionTable  = table{"document_versions", document.EntityVersion, []string{"document_id", "client_id", "number", "file_name", "content_type",
		"size", "sha256", "state", "uploaded_by", "uploaded_name", "uploaded_at", "site_approved_name", "site_approved_at",
		"client_approved_name", "client_approved_at", "data_key", "ciphertext"}}
)

// errNoMasterKey: galenix was started without the site's master key of
// documents; nothing is sealed or opened.
func errNoMasterKey() error {
	return &errs.Error{Code: errs.Unavailable, Key: "document.no_master_key"}
}

func errNoDocument() error { return errs.E(errs.NotFound, "document.no_such_document") }

// errUnreadable: the content does not open: the client's key was
// destroyed, or the bytes were altered.
func errUnreadable(cause error) error {
	return &errs.Error{Code: errs.Conflict, Key: "document.unreadable", Cause: cause}
}

// clientKey returns the client's key unwrapped, making it (audited) when
// the client has none yet and make is set. A client whose key was
// destroyed gets no new one: its contract is over.
func (tx *Tx) clientKey(clientID string, make bool) ([]byte, error) {
	master := tx.db.masterKey
	if master == nil {
		return nil, errNoMasterKey()
	}
	var wrapped []byte
	err := tx.queryRow(`SELECT wrapped_key FROM client_keys WHERE client_id = ?`, clientID).Scan(&wrapped)
	if err == nil {
		k, err := document.UnwrapClientKey(master, wrapped, clientID)
		if err != nil {
			return nil, errUnreadable(fmt.Errorf("client %s: its key does not open with the site's master key: %w", clientID, err))
		}
		return k, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return nil, err
	}
	if shredded, err := tx.shredding(clientID); err != nil {
		return nil, err
	} else if shredded != nil {
		return nil, errs.E(errs.Conflict, "document.key_destroyed")
	}
	if !make {
		return nil, errUnreadable(errors.New("client " + clientID + " has no key"))
	}
	k, err := document.NewKey()
	if err != nil {
		return nil, err
	}
	if wrapped, err = document.WrapClientKey(master, k, clientID); err != nil {
		return nil, err
	}
	if _, err := tx.exec(`INSERT INTO client_keys (client_id, wrapped_key, fingerprint, created_at) VALUES (?,?,?,?)`,
		clientID, wrapped, document.Fingerprint(wrapped), tx.now); err != nil {
		return nil, err
	}
	return k, tx.Audit([]audit.Change{{Entity: document.EntityClientKey, EntityID: clientID, Field: "fingerprint",
		New: document.Fingerprint(wrapped)}}, clientID)
}

// shredding reads the record of the client's key destroyed, nil if none.
func (tx *Tx) shredding(clientID string) (*document.Shredding, error) {
	var s document.Shredding
	err := tx.queryRow(`SELECT client_id, fingerprint, documents, versions, shredded_at, signer_name, CAST(signature_id AS TEXT)
		FROM client_key_shreddings WHERE client_id = ?`, clientID).
		Scan(&s.ClientID, &s.Fingerprint, &s.Documents, &s.Versions, &s.ShreddedAt, &s.SignerName, &s.SignatureID)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	s.ShreddedAt = s.ShreddedAt.UTC()
	return &s, err
}

const documentCols = `d.id, d.client_id, COALESCE(d.project_id, ''), d.category, d.title, d.created_at, d.version,
	(SELECT COUNT(*) FROM client_keys k WHERE k.client_id = d.client_id)`

func scanDocument(sc scanner, d *document.Document) error {
	var keys int
	err := sc.Scan(&d.ID, &d.ClientID, &d.ProjectID, &d.Category, &d.Title, &d.CreatedAt, &d.Version, &keys)
	d.CreatedAt, d.Readable, d.Versions = d.CreatedAt.UTC(), keys > 0, []document.Version{}
	return err
}

const docVersionCols = `v.id, v.document_id, v.client_id, v.number, v.file_name, v.content_type, v.size, v.sha256, v.state, v.uploaded_name,
	v.uploaded_at, v.site_approved_name, v.site_approved_at, v.client_approved_name, v.client_approved_at`

func scanVersion(sc scanner, v *document.Version, extra ...any) error {
	var site, cl sql.NullTime
	if err := sc.Scan(append([]any{&v.ID, &v.DocumentID, &v.ClientID, &v.Number, &v.FileName, &v.ContentType, &v.Size, &v.SHA256, &v.State,
		&v.UploadedBy, &v.UploadedAt, &v.SiteApprovedName, &site, &v.ClientApprovedName, &cl}, extra...)...); err != nil {
		return err
	}
	v.UploadedAt, v.SiteApprovedAt, v.ClientApprovedAt = v.UploadedAt.UTC(), timeOf(site), timeOf(cl)
	return nil
}

func versionRow(v *document.Version, s *document.Sealed, userID string) row {
	return row{"document_id": v.DocumentID, "client_id": v.ClientID, "number": v.Number, "file_name": v.FileName,
		"content_type": v.ContentType, "size": v.Size, "sha256": v.SHA256, "state": string(v.State), "uploaded_by": userID,
		"uploaded_name": v.UploadedBy, "uploaded_at": v.UploadedAt, "site_approved_name": v.SiteApprovedName,
		"site_approved_at": v.SiteApprovedAt, "client_approved_name": v.ClientApprovedName, "client_approved_at": v.ClientApprovedAt,
		"data_key": s.DataKey, "ciphertext": s.Ciphertext}
}

// mayRead refuses an actor who reads no documents.
func mayReadDocuments(a identity.Actor) error { return document.MayRead(a) }

// Documents lists the documents in the actor's scope, newest first, with
// their versions.
func (s *DocumentStore) Documents(ctx context.Context, f document.Filter) ([]document.Document, error) {
	a := actorOf(ctx)
	if err := mayReadDocuments(a); err != nil {
		return nil, err
	}
	var out []document.Document
	err := s.db.Read(ctx, func(tx *Tx) error {
		cond, args := inScope("d.client_id", a.ClientScope())
		q, args := andIDFilters(`SELECT `+documentCols+` FROM documents d WHERE `+cond, args, "d.client_id", f.ClientID)
		if f.ProjectID != "" {
			q += ` AND d.project_id = ?`
			args = append(args, strings.ToLower(f.ProjectID))
		}
		if f.Category != "" {
			q += ` AND d.category = ?`
			args = append(args, string(f.Category))
		}
		var err error
		if out, err = collect(tx, q+` ORDER BY d.created_at DESC, d.id`, args, scanDocument); err != nil {
			return err
		}
		byID := map[string]*document.Document{}
		for i := range out {
			byID[out[i].ID] = &out[i]
		}
		vcond, vargs := inScope("v.client_id", a.ClientScope())
		vs, err := collect(tx, `SELECT `+docVersionCols+` FROM document_versions v WHERE `+vcond+` ORDER BY v.number DESC`, vargs,
			func(sc scanner, v *document.Version) error { return scanVersion(sc, v) })
		for _, v := range vs {
			if d := byID[v.DocumentID]; d != nil {
				d.Versions = append(d.Versions, v)
			}
		}
		for i := range out {
			out[i].State = document.StateOf(out[i].Versions)
			names(a, &out[i])
		}
		return err
	})
	if out == nil {
		out = []document.Document{}
	}
	return out, err
}

// names hides the site's people from a client's user: who uploaded or
// approved on the site's side is not theirs to know.
func names(a identity.Actor, d *document.Document) {
	if !a.IsClient() {
		return
	}
	for i := range d.Versions {
		v := &d.Versions[i]
		v.UploadedBy = ""
		if v.SiteApprovedName != "" {
			v.SiteApprovedName = "—"
		}
	}
}

// Document returns one document with its versions.
func (s *DocumentStore) Document(ctx context.Context, id string) (*document.Document, error) {
	a := actorOf(ctx)
	if err := mayReadDocuments(a); err != nil {
		return nil, refusalOr(err, errNoDocument())
	}
	var d *document.Document
	err := s.db.Read(ctx, func(tx *Tx) (err error) {
		d, err = tx.document(id)
		return err
	})
	if err != nil {
		return nil, err
	}
	names(a, d)
	return d, nil
}

// document reads a document in the actor's scope, with its versions.
func (tx *Tx) document(id string) (*document.Document, error) {
	var d document.Document
	cond, args := inScope("d.client_id", tx.actor.ClientScope())
	if err := tx.byID(`SELECT `+documentCols+` FROM documents d WHERE d.id = ? AND `+cond, id,
		func(sc scanner) error { return scanDocument(sc, &d) }, "document.no_such_document", args...); err != nil {
		return nil, err
	}
	vs, err := collect(tx, `SELECT `+docVersionCols+` FROM document_versions v WHERE v.document_id = ? ORDER BY v.number DESC`, []any{d.ID},
		func(sc scanner, v *document.Version) error { return scanVersion(sc, v) })
	d.Versions, d.State = vs, document.StateOf(vs)
	return &d, err
}

// Upload records a new document and its first version, sealed, in one
// command ("document.upload"). A refused file stores nothing.
func (s *DocumentStore) Upload(ctx context.Context, n document.NewDocument, f document.File) (*document.Document, error) {
	a := actorOf(ctx)
	if err := n.Check(a); err != nil {
		return nil, err
	}
	name, typ, err := document.CheckFile(f)
	if err != nil {
		return nil, err
	}
	var d *document.Document
	err = s.db.Write(ctx, "document.upload", "", func(tx *Tx) error {
		if _, err := uuid.Parse(n.ClientID); err != nil || !tx.actor.ClientScope().Has(n.ClientID) {
			return errs.Field("client_id", "store.no_such_client")
		}
		if n.ProjectID != "" {
			// A project of the document's client, in the actor's scope.
			if p, err := tx.project(n.ProjectID); err != nil || p.ClientID != n.ClientID {
				return errs.Field("project_id", "store.no_such_project")
			}
		}
		d = &document.Document{ID: NewID(), ClientID: n.ClientID, ProjectID: n.ProjectID, Category: n.Category, Title: n.Title, CreatedAt: tx.now}
		if err := createClientRecord(tx, documentTable, d.ID, d.ClientID, d, row{"client_id": d.ClientID, "project_id": nullable(d.ProjectID),
			"category": string(d.Category), "title": d.Title, "created_by": actorName(tx.actor), "created_at": tx.now}); err != nil {
			return err
		}
		if err := tx.addVersion(d, 1, name, typ, f.Content); err != nil {
			return err
		}
		var err error
		d, err = tx.document(d.ID)
		return err
	})
	return d, err
}

// addVersion seals the content and writes the version, audited.
func (tx *Tx) addVersion(d *document.Document, number int, name, typ string, content []byte) error {
	key, err := tx.clientKey(d.ClientID, true)
	if err != nil {
		return err
	}
	sealed, sha, err := document.Seal(key, d.ID, number, d.ClientID, content)
	if err != nil {
		return err
	}
	v := &document.Version{ID: NewID(), DocumentID: d.ID, ClientID: d.ClientID, Number: number, FileName: name, ContentType: typ,
		Size: int64(len(content)), SHA256: sha, State: document.Draft, UploadedBy: actorName(tx.actor), UploadedAt: tx.now}
	return createClientRecord(tx, versionTable, v.ID, d.ClientID, v, versionRow(v, sealed, tx.actor.UserID))
}

// AddVersion uploads a new version ("document.version.add"), a draft
// until approved.
func (s *DocumentStore) AddVersion(ctx context.Context, id string, f document.File) (*document.Document, error) {
	a := actorOf(ctx)
	if err := document.MayWrite(a); err != nil {
		return nil, err
	}
	name, typ, err := document.CheckFile(f)
	if err != nil {
		return nil, err
	}
	var d *document.Document
	err = s.db.Write(ctx, "document.version.add", "", func(tx *Tx) error {
		old, err := tx.document(id)
		if err != nil {
			return err
		}
		next := 1
		if len(old.Versions) > 0 {
			next = old.Versions[0].Number + 1
		}
		if err := tx.addVersion(old, next, name, typ, f.Content); err != nil {
			return err
		}
		d, err = tx.document(id)
		return err
	})
	return d, err
}

// Content decrypts a version of a document in the actor's scope and checks
// its SHA-256; number 0 is the newest.
func (s *DocumentStore) Content(ctx context.Context, id string, number int) (*document.Content, error) {
	a := actorOf(ctx)
	if err := mayReadDocuments(a); err != nil {
		return nil, refusalOr(err, errNoDocument())
	}
	var c *document.Content
	err := s.db.Read(ctx, func(tx *Tx) error {
		d, err := tx.document(id)
		if err != nil {
			return err
		}
		var v *document.Version
		for i := range d.Versions {
			if number == 0 || d.Versions[i].Number == number {
				v = &d.Versions[i]
				break
			}
		}
		if v == nil {
			return errs.E(errs.NotFound, "document.no_such_version")
		}
		var sealed document.Sealed
		if err := tx.queryRow(`SELECT data_key, ciphertext FROM document_versions WHERE id = ?`, v.ID).Scan(&sealed.DataKey, &sealed.Ciphertext); err != nil {
			return err
		}
		key, err := tx.clientKey(d.ClientID, false)
		if err != nil {
			if errs.Is(err, errs.Conflict) {
				return errUnreadable(err)
			}
			return err
		}
		body, err := document.Open(key, d.ID, v.Number, d.ClientID, sealed, v.SHA256)
		if err != nil {
			return errUnreadable(fmt.Errorf("document %s version %d: %w", d.ID, v.Number, err))
		}
		c = &document.Content{FileName: v.FileName, ContentType: v.ContentType, SHA256: v.SHA256, Body: body}
		return nil
	})
	return c, err
}

// signableVersion reads a version for a signature: its content's hash and
// where it belongs (document.Version.SignedFields), for those who read the
// client's documents.
func signableVersion(tx *Tx, id string) ([]audit.Field, string, error) {
	if mayReadDocuments(tx.actor) != nil {
		return nil, "", errNoRecord()
	}
	v, _, err := tx.version(id)
	if err != nil {
		return nil, "", err
	}
	return v.SignedFields(), v.ClientID, nil
}

// version reads a version in the actor's scope, with its document's
// category and version.
func (tx *Tx) version(id string) (*document.Version, document.Category, error) {
	var v document.Version
	var cat document.Category
	cond, args := inScope("v.client_id", tx.actor.ClientScope())
	err := tx.byID(`SELECT `+docVersionCols+`, d.category FROM document_versions v JOIN documents d ON d.id = v.document_id WHERE v.id = ? AND `+cond, id,
		func(sc scanner) error { return scanVersion(sc, &v, &cat) }, "document.no_such_version", args...)
	return &v, cat, err
}

// approveVersion is the hook of a signature on a version: the meaning
// approved records that side's approval (document.Approve); once every
// side has signed, the version is approved and the one approved before
// it superseded. A refusal refuses the signature.
func approveVersion(tx *Tx, sig *esign.Signature) error {
	if sig.Meaning != esign.Approved {
		return nil
	}
	old, cat, err := tx.version(sig.EntityID)
	if err != nil {
		return err
	}
	v, done, err := document.Approve(tx.actor, cat, *old, sig.SignerName, tx.now)
	if err != nil {
		return err
	}
	res, err := tx.exec(`UPDATE document_versions SET state = ?, site_approved_name = ?, site_approved_at = ?, client_approved_name = ?,
		client_approved_at = ?, version = version + 1 WHERE id = ? AND state = ?`,
		string(v.State), v.SiteApprovedName, v.SiteApprovedAt, v.ClientApprovedName, v.ClientApprovedAt, v.ID, string(document.Draft))
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil {
		return err
	} else if n == 0 {
		return errs.E(errs.Conflict, "document.version_not_draft", v.Number)
	}
	approval := audit.Change{Entity: document.EntityVersion, EntityID: v.ID, Field: "site_approval", New: sig.SignerName + " (" + sig.ID + ")"}
	if tx.actor.IsClient() {
		approval.Field = "client_approval"
	}
	changes := []audit.Change{approval}
	if done {
		changes = append(changes, audit.Change{Entity: document.EntityVersion, EntityID: v.ID, Field: "state", Old: string(document.Draft),
			New: string(document.Approved)})
		prev, err := collect(tx, `SELECT id FROM document_versions WHERE document_id = ? AND state = ? AND id <> ?`,
			[]any{v.DocumentID, string(document.Approved), v.ID}, func(sc scanner, id *string) error { return sc.Scan(id) })
		if err != nil {
			return err
		}
		for _, p := range prev {
			if _, err := tx.exec(`UPDATE document_versions SET state = ?, version = version + 1 WHERE id = ?`, string(document.Superseded), p); err != nil {
				return err
			}
			changes = append(changes, audit.Change{Entity: document.EntityVersion, EntityID: p, Field: "state", Old: string(document.Approved),
				New: string(document.Superseded)})
		}
	}
	return tx.Audit(changes, v.ClientID)
}

// mayHold: administrators and quality assurance set a client's legal
// hold, within their client scope.
func mayHold(a identity.Actor) error {
	if a.IsClient() || !(a.Can(identity.PermAccountsAdmin) || a.Can(identity.PermQualityDecide)) {
		return errs.E(errs.Forbidden, "document.refused.hold")
	}
	return nil
}

// inClientScope refuses a client outside the actor's scope as not found.
func inClientScope(a identity.Actor, clientID string) error {
	if _, err := uuid.Parse(clientID); err != nil || !a.ClientScope().Has(clientID) {
		return errs.E(errs.NotFound, "store.no_such_client")
	}
	return nil
}

// hold reads a client's legal hold (none: not held).
func (tx *Tx) hold(clientID string) (*document.Hold, error) {
	h := document.Hold{ClientID: clientID}
	var at sql.NullTime
	err := tx.queryRow(`SELECT held, reason, set_name, set_at FROM client_legal_holds WHERE client_id = ?`, clientID).Scan(&h.Held, &h.Reason, &h.SetName, &at)
	if errors.Is(err, sql.ErrNoRows) {
		return &h, nil
	}
	h.SetAt = timeOf(at)
	return &h, err
}

// LegalHold returns a client's legal hold.
func (s *DocumentStore) LegalHold(ctx context.Context, clientID string) (*document.Hold, error) {
	a := actorOf(ctx)
	if err := inClientScope(a, clientID); err != nil {
		return nil, err
	}
	if err := mayHold(a); err != nil {
		return nil, err
	}
	var h *document.Hold
	err := s.db.Read(ctx, func(tx *Tx) (err error) {
		h, err = tx.hold(clientID)
		return err
	})
	return h, err
}

// SetLegalHold places a client under legal hold or lifts it
// ("client.legal_hold", its reason required).
func (s *DocumentStore) SetLegalHold(ctx context.Context, clientID string, held bool, reason string) (*document.Hold, error) {
	a := actorOf(ctx)
	if err := inClientScope(a, clientID); err != nil {
		return nil, err
	}
	if err := mayHold(a); err != nil {
		return nil, err
	}
	reason = strings.TrimSpace(reason)
	if n := len([]rune(reason)); n < 5 || n > 2000 {
		return nil, errs.Field("reason", "document.hold_reason")
	}
	var h *document.Hold
	err := s.db.Write(ctx, "client.legal_hold", reason, func(tx *Tx) error {
		old, err := tx.hold(clientID)
		if err != nil {
			return err
		}
		if old.SetAt != nil && old.Held == held {
			h = old
			return nil // nothing changes, nothing written
		}
		name := actorName(tx.actor)
		if old.SetAt == nil {
			_, err = tx.exec(`INSERT INTO client_legal_holds (client_id, held, reason, set_by, set_name, set_at) VALUES (?,?,?,?,?,?)`,
				clientID, held, reason, tx.actor.UserID, name, tx.now)
		} else {
			_, err = tx.exec(`UPDATE client_legal_holds SET held = ?, reason = ?, set_by = ?, set_name = ?, set_at = ?, version = version + 1
				WHERE client_id = ?`, held, reason, tx.actor.UserID, name, tx.now, clientID)
		}
		if err != nil {
			return err
		}
		now := tx.now
		h = &document.Hold{ClientID: clientID, Held: held, Reason: reason, SetName: name, SetAt: &now}
		return tx.Audit([]audit.Change{{Entity: document.EntityHold, EntityID: clientID, Field: "held", Old: strconv.FormatBool(old.Held),
			New: strconv.FormatBool(held)}}, clientID)
	})
	return h, err
}

// mayShred: an administrator, within their client scope.
func mayShred(a identity.Actor) error {
	if a.IsClient() || !a.Can(identity.PermAccountsAdmin) {
		return errs.E(errs.Forbidden, "document.refused.shred")
	}
	return nil
}

// endOfContract reads what deciding a client's end of contract needs.
func (tx *Tx) endOfContract(clientID string) (*document.EndOfContract, error) {
	e := &document.EndOfContract{ClientID: clientID}
	var err error
	if e.Shredded, err = tx.shredding(clientID); err != nil {
		return nil, err
	}
	var wrapped []byte
	err = tx.queryRow(`SELECT wrapped_key FROM client_keys WHERE client_id = ?`, clientID).Scan(&wrapped)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, err
	}
	if err == nil {
		e.Fingerprint = document.Fingerprint(wrapped)
	}
	if err := tx.queryRow(`SELECT COUNT(DISTINCT document_id), COUNT(*) FROM document_versions WHERE client_id = ?`, clientID).
		Scan(&e.Documents, &e.Versions); err != nil {
		return nil, err
	}
	h, err := tx.hold(clientID)
	if err != nil {
		return nil, err
	}
	e.Hold = *h
	// A batch's expiry follows from its product's shelf life, counted
	// from its certification: later than its manufacture, so that the
	// record is kept at least as long as the rule asks.
	batches, err := collect(tx, `SELECT b.lot, b.state, c.signed_at, p.shelf_life_months FROM batches b
		JOIN products p ON p.id = b.product_id LEFT JOIN certifications c ON c.batch_id = b.id
		WHERE b.client_id = ? ORDER BY b.lot`, []any{clientID}, func(sc scanner, r *document.BatchRecord) error {
		var state string
		var decided sql.NullTime
		var months int
		if err := sc.Scan(&r.Lot, &state, &decided, &months); err != nil {
			return err
		}
		r.Started = state != "planned" && state != "scheduled"
		r.DecidedAt = timeOf(decided)
		if r.DecidedAt != nil {
			if exp, ok := (&production.Product{ShelfLifeMonths: months}).ExpiresOn(*r.DecidedAt); ok {
				r.ExpiresOn = &exp
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	switch {
	case e.Shredded != nil:
		e.Refusal = errs.E(errs.Conflict, "document.key_destroyed")
	case e.Fingerprint == "":
		e.Refusal = errs.E(errs.Conflict, "document.no_key")
	default:
		e.Refusal = document.MayShred(tx.now, h.Held, batches)
	}
	e.Allowed = e.Refusal == nil
	return e, nil
}

// EndOfContract returns what the administrator decides on: for them and
// quality assurance (who set the legal hold), within their client scope.
func (s *DocumentStore) EndOfContract(ctx context.Context, clientID string) (*document.EndOfContract, error) {
	a := actorOf(ctx)
	if err := inClientScope(a, clientID); err != nil {
		return nil, err
	}
	if err := mayHold(a); err != nil {
		return nil, err
	}
	var e *document.EndOfContract
	err := s.db.Read(ctx, func(tx *Tx) (err error) {
		e, err = tx.endOfContract(clientID)
		return err
	})
	return e, err
}

// Shred destroys a client's key: the administrator's signature (meaning
// approved, its reason required) on the client's key, whose hook
// (shredKey) deletes the wrapped key and leaves the certificate in the
// audit trail. Refused while a batch record is within retention or the
// client under legal hold; the refused attempt is audited
// ("client_key.shred.refused") and spends no signature.
func (s *DocumentStore) Shred(ctx context.Context, clientID string, r esign.SignRequest) (*document.Shredding, error) {
	a := actorOf(ctx)
	if err := inClientScope(a, clientID); err != nil {
		return nil, err
	}
	if err := mayShred(a); err != nil {
		return nil, err
	}
	reason := strings.TrimSpace(r.Reason)
	if n := len([]rune(reason)); n < 5 || n > maxReason {
		return nil, errs.Field("reason", "document.shred.reason")
	}
	var e *document.EndOfContract
	if err := s.db.Read(ctx, func(tx *Tx) (err error) {
		e, err = tx.endOfContract(clientID)
		return err
	}); err != nil {
		return nil, err
	}
	if e.Refusal != nil {
		// Why, as a coded text: the trail shows it in its reader's language.
		why := e.Refusal.Error()
		var ee *errs.Error
		if errors.As(e.Refusal, &ee) {
			args := make([]text.Arg, len(ee.Args))
			for i, arg := range ee.Args {
				args[i] = text.Str(fmt.Sprint(arg))
			}
			why = text.Code(ee.Key, args...).String()
		}
		if err := s.db.Write(ctx, "client_key.shred.refused", reason, func(tx *Tx) error {
			return tx.Audit([]audit.Change{{Entity: document.EntityClientKey, EntityID: clientID, Field: "shred", New: why}}, clientID)
		}); err != nil {
			return nil, err
		}
		return nil, e.Refusal
	}
	r.Entity, r.EntityID, r.Meaning, r.Reason = document.EntityClientKey, clientID, string(esign.Approved), reason
	if _, err := s.db.Identity().Signatures().Sign(ctx, r); err != nil {
		return nil, err
	}
	var out *document.Shredding
	err := s.db.Read(ctx, func(tx *Tx) (err error) {
		out, err = tx.shredding(clientID)
		return err
	})
	return out, err
}

// signableClientKey reads a client's key for its destruction's signature:
// for an administrator with the client in scope; what is signed names the
// client and the key by its fingerprint.
func signableClientKey(tx *Tx, clientID string) ([]audit.Field, string, error) {
	if mayShred(tx.actor) != nil || inClientScope(tx.actor, clientID) != nil {
		return nil, "", errNoRecord()
	}
	var wrapped []byte
	if err := tx.queryRow(`SELECT wrapped_key FROM client_keys WHERE client_id = ?`, clientID).Scan(&wrapped); err != nil {
		return nil, "", notFound(err, "store.no_such_record_sign")
	}
	return []audit.Field{audit.F("client_id", clientID), audit.F("fingerprint", document.Fingerprint(wrapped))}, clientID, nil
}

// shredKey is the hook of the administrator's signature on a client's key:
// retention and legal hold checked again in this transaction, the wrapped
// key deleted, the act recorded (client_key_shreddings) and its
// certificate written in the audit trail, naming the client, the key's
// fingerprint, the documents made unreadable, the time and the signer.
func shredKey(tx *Tx, sig *esign.Signature) error {
	if sig.Meaning != esign.Approved {
		return errs.Field("meaning", "esign.meaning_not_for_record")
	}
	if len([]rune(strings.TrimSpace(sig.Reason))) < 5 {
		return errs.Field("reason", "document.shred.reason")
	}
	e, err := tx.endOfContract(sig.EntityID)
	if err != nil {
		return err
	}
	if e.Refusal != nil {
		return e.Refusal
	}
	var code, name string
	if err := tx.queryRow(`SELECT code, name FROM clients WHERE id = ?`, sig.EntityID).Scan(&code, &name); err != nil {
		return err
	}
	// On SQLite the page is written with the deleted row's bytes zeroed
	// (secure_delete), not kept as free space; older copies of the page
	// in the write-ahead log go at its next checkpoint. PostgreSQL's dead
	// row is reclaimed by its VACUUM. Until then, as in a backup, they
	// open only with the master key (see RotateMasterKey).
	if tx.db.dialect == SQLite {
		if _, err := tx.exec(`PRAGMA secure_delete = ON`); err != nil {
			return err
		}
	}
	res, err := tx.exec(`DELETE FROM client_keys WHERE client_id = ?`, sig.EntityID)
	if err != nil {
		return err
	}
	if tx.db.dialect == SQLite {
		if _, err := tx.exec(`PRAGMA secure_delete = OFF`); err != nil {
			return err
		}
	}
	if n, err := res.RowsAffected(); err != nil {
		return err
	} else if n != 1 {
		return errs.E(errs.Conflict, "document.key_destroyed")
	}
	if _, err := tx.exec(`INSERT INTO client_key_shreddings (client_id, fingerprint, documents, versions, shredded_at, signer_name, signature_id)
		VALUES (?,?,?,?,?,?,?)`, sig.EntityID, e.Fingerprint, e.Documents, e.Versions, tx.now, sig.SignerName, sig.ID); err != nil {
		return err
	}
	// The certificate, a coded text: the trail shows it in its reader's
	// language.
	cert := text.Code("stored.document.certificate", text.Str(code), text.Str(name), text.Str(e.Fingerprint), text.Num(float64(e.Documents), 0),
		text.Num(float64(e.Versions), 0), text.Str(tx.now.UTC().Format(time.RFC3339)), text.Str(sig.SignerName), text.Str(sig.ID)).String()
	return tx.Audit([]audit.Change{
		{Entity: document.EntityClientKey, EntityID: sig.EntityID, Field: "fingerprint", Old: e.Fingerprint, New: "destroyed"},
		{Entity: document.EntityClientKey, EntityID: sig.EntityID, Field: "certificate", New: cert},
	}, sig.EntityID)
}

// MasterKeyFile is the name of the site's master key of documents in the
// data directory, beside the other keys.
const MasterKeyFile = "document-master.key"

// LoadOrCreateMasterKey reads the master key of documents (32 random
// bytes in base64 on one line), or makes it, mode 0600, when the file does
// not exist yet.
func LoadOrCreateMasterKey(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		k, err := CreateSecretKey(path)
		if err != nil {
			return nil, fmt.Errorf("the master key of documents: %w", err)
		}
		return k, nil
	}
	if err != nil {
		return nil, fmt.Errorf("the master key of documents: %w", err)
	}
	key, err := base64.StdEncoding.DecodeString(strings.TrimSpace(string(b)))
	if err != nil || len(key) != document.KeySize {
		return nil, fmt.Errorf("%s holds no master key of documents (%d random bytes in base64)", path, document.KeySize)
	}
	return key, nil
}

// HasMasterKey reports whether the database was opened with the master
// key of documents: without it no document is sealed or opened.
func (db *DB) HasMasterKey() bool { return db.masterKey != nil }

// RotateMasterKey wraps every client's key again under a new master key,
// in one audited command ("client_key.rewrap", with its reason): each
// client's key is unwrapped with the database's master key and wrapped
// with newKey, its fingerprint's change audited as the client's. From then
// on the database opens its documents with newKey only, and a backup taken
// before opens with the old key only: once every copy of the old key is
// destroyed, a client key destroyed before the rotation can no longer be
// recovered from any backup. It returns how many keys it wrapped again.
// Only galenix itself (the command line) rotates.
func (db *DB) RotateMasterKey(ctx context.Context, newKey []byte, reason string) (int, error) {
	if err := actorOf(ctx).RequireSystem(); err != nil {
		return 0, err
	}
	if strings.TrimSpace(reason) == "" {
		return 0, errs.Field("reason", "reason.required_access")
	}
	if db.masterKey == nil {
		return 0, errNoMasterKey()
	}
	if len(newKey) != document.KeySize {
		return 0, errors.New("the new master key of documents must be 32 bytes")
	}
	n := 0
	err := db.Write(ctx, "client_key.rewrap", reason, func(tx *Tx) error {
		type row struct {
			clientID string
			wrapped  []byte
		}
		rows, err := collect(tx, `SELECT CAST(client_id AS TEXT), wrapped_key FROM client_keys ORDER BY client_id`, nil,
			func(sc scanner, r *row) error { return sc.Scan(&r.clientID, &r.wrapped) })
		if err != nil {
			return err
		}
		for _, r := range rows {
			k, err := document.UnwrapClientKey(db.masterKey, r.wrapped, r.clientID)
			if err != nil {
				// Another key wrapped it: nothing is rotated.
				return errUnreadable(fmt.Errorf("client %s: its key does not open with the current master key: %w", r.clientID, err))
			}
			w, err := document.WrapClientKey(newKey, k, r.clientID)
			if err != nil {
				return err
			}
			if _, err := tx.exec(`UPDATE client_keys SET wrapped_key = ?, fingerprint = ? WHERE client_id = ?`, w, document.Fingerprint(w), r.clientID); err != nil {
				return err
			}
			if err := tx.Audit([]audit.Change{{Entity: document.EntityClientKey, EntityID: r.clientID, Field: "fingerprint",
				Old: document.Fingerprint(r.wrapped), New: document.Fingerprint(w)}}, r.clientID); err != nil {
				return err
			}
		}
		n = len(rows)
		return nil
	})
	if err != nil {
		return 0, err
	}
	db.masterKey = newKey
	return n, nil
}

// MasterKeyState says whether the database holds clients' keys, and
// whether its master key of documents opens one of them (nil: it does, or
// there is none).
func (db *DB) MasterKeyState(ctx context.Context) (wrapped bool, err error) {
	var clientID string
	var w []byte
	err = db.Read(identity.WithActor(ctx, identity.System), func(tx *Tx) error {
		return tx.queryRow(`SELECT CAST(client_id AS TEXT), wrapped_key FROM client_keys ORDER BY client_id LIMIT 1`).Scan(&clientID, &w)
	})
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if db.masterKey == nil {
		return true, errNoMasterKey()
	}
	if _, err := document.UnwrapClientKey(db.masterKey, w, clientID); err != nil {
		return true, fmt.Errorf("client %s: its key does not open with this master key: %w", clientID, err)
	}
	return true, nil
}
