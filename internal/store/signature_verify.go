package store

import (
	"strings"
	"time"

	"galenix/internal/audit"
	"galenix/internal/esign"
)

// signatureEntry is the new value of a signature's audit entry:
// "<meaning> <signature id> sha256:<content hash>".
func signatureEntry(s *esign.Signature) string {
	return string(s.Meaning) + " " + s.ID + " sha256:" + s.ContentHash
}

// parseSignatureEntry reads the new value signatureEntry wrote.
func parseSignatureEntry(v string) (meaning, id, hash string, ok bool) {
	parts := strings.Split(v, " ")
	if len(parts) != 3 || !strings.HasPrefix(parts[2], "sha256:") {
		return "", "", "", false
	}
	return parts[0], parts[1], strings.TrimPrefix(parts[2], "sha256:"), true
}

// signedEntry is what the audit entry of a signature says of it.
type signedEntry struct {
	seq                                                 int64
	entity, entityID, meaning, hash, signerID, clientID string
	at                                                  time.Time
}

// signatureEntries collects, during a walk of the audit chain, the entries
// that record signatures, by signature id.
type signatureEntries map[string]signedEntry

// add keeps e if it records a signature.
func (m signatureEntries) add(e *audit.Entry) {
	if e.Field != "signature" || e.Command != signCommand {
		return
	}
	meaning, id, hash, ok := parseSignatureEntry(e.New)
	if !ok {
		return
	}
	m[id] = signedEntry{seq: e.Seq, entity: e.Entity, entityID: e.EntityID, meaning: meaning, hash: hash,
		signerID: e.ActorID, clientID: e.ClientID, at: e.At}
}

// verifySignatures checks every signature against the audit entry that
// recorded it, once the chain holds: same record, meaning, content hash,
// signer and time. A signature moved to another record or changed, one
// deleted, or one written behind galenix's back (it has no entry) makes it
// fail, naming the first entry that does not hold; a signature without an
// entry is named after the last entry, last.
func (tx *Tx) verifySignatures(entries signatureEntries, last int64) error {
	rows, err := tx.query(`SELECT ` + signatureCols + ` FROM signatures`)
	if err != nil {
		return err
	}
	defer rows.Close()
	var first *audit.Broken
	found := func(b *audit.Broken) {
		if first == nil || b.Seq < first.Seq {
			first = b
		}
	}
	seen := make(map[string]bool, len(entries))
	for rows.Next() {
		var s esign.Signature
		if err := scanSignature(rows, &s); err != nil {
			return err
		}
		e, ok := entries[s.ID]
		if !ok {
			found(&audit.Broken{Seq: last + 1, Reason: "signature " + s.ID + " (" + string(s.Meaning) + " of " + s.Entity + " " + s.EntityID +
				") has no audit entry: it was written behind galenix's back"})
			continue
		}
		seen[s.ID] = true
		switch {
		case s.Entity != e.entity || s.EntityID != e.entityID || s.ClientID != e.clientID:
			found(&audit.Broken{Seq: e.seq, Reason: "the signature " + s.ID + " it records, of " + e.entity + " " + e.entityID +
				", is now on " + s.Entity + " " + s.EntityID + ": the signature was moved to another record"})
		case string(s.Meaning) != e.meaning || s.ContentHash != e.hash || s.SignerID != e.signerID || !s.SignedAt.Equal(e.at):
			found(&audit.Broken{Seq: e.seq, Reason: "the signature " + s.ID + " it records no longer has the meaning, content hash, signer or time it was signed with: the signature was changed"})
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	for id, e := range entries {
		if !seen[id] {
			found(&audit.Broken{Seq: e.seq, Reason: "the signature " + id + " it records is missing: the signature was deleted"})
		}
	}
	if first != nil {
		return first
	}
	return nil
}
