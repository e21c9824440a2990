package store

import (
	"context"
	"crypto/ed25519"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"galenix/internal/audit"
	"galenix/internal/errs"
	"galenix/internal/identity"
)

// Bundle builds the proof of one record's audit entries that its holder
// verifies offline (audit.Bundle, audit.VerifyBundle): the entries of the
// record that the actor in ctx may see (as Entries scopes them: a client's
// user only its own laboratory's), and the chain segments that link them to
// signed checkpoints, the other entries shown by their digests only. When
// no checkpoint covers the last of them yet, it signs one with key first.
// A record without entries the actor may see is not found.
func (s *AuditStore) Bundle(ctx context.Context, entity, entityID string, key ed25519.PrivateKey) (*audit.Bundle, error) {
	entity, entityID = strings.TrimSpace(entity), strings.TrimSpace(entityID)
	switch {
	case entity == "":
		return nil, errs.Field("entity", "store.name_kind_record_example")
	case entityID == "":
		return nil, errs.Field("entity_id", "store.name_record_id")
	case len(key) != ed25519.PrivateKeySize:
		return nil, errs.Wrap(errors.New("no audit signing key"), "audit bundle")
	}
	mine, err := s.recordEntries(ctx, entity, entityID)
	if err != nil {
		return nil, err
	}
	if len(mine) == 0 {
		return nil, errs.E(errs.NotFound, "store.there_no_audit_trail")
	}
	if err := s.covered(ctx, mine[len(mine)-1].Seq, key); err != nil {
		return nil, err
	}
	pem, err := audit.PublicKeyPEM(key.Public().(ed25519.PublicKey))
	if err != nil {
		return nil, errs.Wrap(err, "audit bundle")
	}
	b := &audit.Bundle{Format: audit.BundleFormat, Entity: entity, EntityID: entityID, PublicKey: string(pem)}
	// The segments are read as galenix itself, in one snapshot: they hold
	// other records' entries, which leave this function as digests only.
	err = s.db.Read(identity.WithActor(ctx, identity.System), func(tx *Tx) error {
		for i := 0; i < len(mine); {
			seg, n, err := tx.segment(mine[i:])
			if err != nil {
				return err
			}
			b.Entries = append(b.Entries, mine[i:i+n]...)
			b.Segments = append(b.Segments, seg)
			i += n
		}
		return nil
	})
	if err != nil {
		return nil, s.db.classify(err, "audit bundle")
	}
	return b, nil
}

// recordEntries lists all the entries of one record the actor may see.
func (s *AuditStore) recordEntries(ctx context.Context, entity, entityID string) ([]audit.Entry, error) {
	const page = 1000
	var out []audit.Entry
	f := audit.Filter{Entity: entity, EntityID: entityID, Limit: page}
	for {
		es, err := s.entries(ctx, f)
		if err != nil {
			return nil, err
		}
		out = append(out, es...)
		if len(es) < page {
			return out, nil
		}
		f.AfterSeq = es[len(es)-1].Seq
	}
}

// covered makes sure a signed checkpoint covers entry seq, signing the head
// of the chain when none does yet.
func (s *AuditStore) covered(ctx context.Context, seq int64, key ed25519.PrivateKey) error {
	sys := identity.WithActor(ctx, identity.System)
	var last int64
	if err := s.db.Read(sys, func(tx *Tx) error {
		return tx.queryRow(`SELECT COALESCE(MAX(seq), 0) FROM audit_checkpoints`).Scan(&last)
	}); err != nil {
		return s.db.classify(err, "audit bundle")
	}
	if last >= seq {
		return nil
	}
	// Another node may sign the same head at the same moment: its
	// checkpoint serves as well as ours, so only the result counts.
	_, cerr := s.db.Checkpoint(ctx, key)
	if err := s.db.Read(sys, func(tx *Tx) error {
		return tx.queryRow(`SELECT COALESCE(MAX(seq), 0) FROM audit_checkpoints`).Scan(&last)
	}); err != nil {
		return s.db.classify(err, "audit bundle")
	}
	if last < seq {
		return errs.Wrap(fmt.Errorf("no checkpoint covers audit entry %d after signing one: %v", seq, cerr), "audit bundle")
	}
	return nil
}

// segment reads the segment of the chain from mine[0] to the first signed
// checkpoint at or after it, and returns it with the number of entries of
// mine it holds. The segment's entries not in mine are sealed: sequence and
// content digest only.
func (tx *Tx) segment(mine []audit.Entry) (audit.Segment, int, error) {
	seg := audit.Segment{First: mine[0].Seq, PrevHash: mine[0].PrevHash, Others: []audit.Sealed{}}
	cp := &seg.Checkpoint
	// A checkpoint of the site's key of today: after a rotation, the
	// entries before it are sealed up to the handover (which the new key
	// co-signed) or a later checkpoint, so that the bundle verifies with
	// the one key it carries.
	err := scanCheckpoint(tx.queryRow(`SELECT `+checkpointCols+` FROM audit_checkpoints
		WHERE seq >= ? AND seq >= (SELECT COALESCE(MAX(seq), 0) FROM audit_checkpoints WHERE next_key <> '') ORDER BY seq LIMIT 1`, seg.First), cp)
	if err != nil {
		return seg, 0, fmt.Errorf("the checkpoint after audit entry %d: %w", seg.First, err)
	}
	n := 0
	for n < len(mine) && mine[n].Seq <= cp.Seq {
		n++
	}
	rows, err := tx.query(`SELECT `+auditColumns+` FROM audit_log WHERE seq >= ? AND seq <= ? ORDER BY seq`, seg.First, cp.Seq)
	if err != nil {
		return seg, 0, err
	}
	defer rows.Close()
	var e audit.Entry
	var client sql.NullString
	k := 0 // the next of mine
	for rows.Next() {
		if err := rows.Scan(&e.Seq, &e.At, &e.ActorID, &e.ActorName, &e.SessionID, &e.Address, &e.Command,
			&e.Entity, &e.EntityID, &e.Field, &e.Old, &e.New, &e.Reason, &client, &e.PrevHash, &e.Hash); err != nil {
			return seg, 0, err
		}
		for k < n && mine[k].Seq < e.Seq {
			k++
		}
		if k < n && mine[k].Seq == e.Seq {
			continue // the record's own entry: in full, in the bundle's entries
		}
		e.At, e.ClientID = e.At.UTC(), client.String
		seg.Others = append(seg.Others, e.Seal())
	}
	return seg, n, rows.Err()
}
