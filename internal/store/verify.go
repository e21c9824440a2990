package store

import (
	"context"
	"crypto/ed25519"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"math"
	"strings"

	"galenix/internal/audit"
	"galenix/internal/errs"
	"galenix/internal/identity"
	"galenix/internal/text"
)

// Checkpoint signs the head of the audit chain with the site's key, if the
// chain grew since the last checkpoint; it returns nil when there was
// nothing new to sign.
func (db *DB) Checkpoint(ctx context.Context, key ed25519.PrivateKey) (*audit.Checkpoint, error) {
	var cp *audit.Checkpoint
	err := db.Write(identity.WithActor(ctx, identity.System), "audit.checkpoint", "", func(tx *Tx) error {
		var seq, last int64
		var hash string
		if err := tx.queryRow(`SELECT seq, hash FROM audit_head WHERE id = 1`).Scan(&seq, &hash); err != nil {
			return err
		}
		if err := tx.queryRow(`SELECT COALESCE(MAX(seq), 0) FROM audit_checkpoints`).Scan(&last); err != nil {
			return err
		}
		if seq == 0 || seq <= last {
			return nil
		}
		// Never sign with a key the site no longer signs with: another
		// node may have rotated it since this one started.
		if err := tx.keySignsNext(key); err != nil {
			return err
		}
		cp = &audit.Checkpoint{Seq: seq, Hash: hash, At: tx.now}
		cp.Sign(key)
		return tx.insertCheckpoint(cp)
	})
	return cp, err
}

// keySignsNext checks that key is the one that signs the next checkpoint:
// the key of the latest checkpoint, or the key its handover hands over to.
func (tx *Tx) keySignsNext(key ed25519.PrivateKey) error {
	var last audit.Checkpoint
	err := scanCheckpoint(tx.queryRow(`SELECT `+checkpointCols+` FROM audit_checkpoints ORDER BY seq DESC LIMIT 1`), &last)
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	}
	if err != nil {
		return err
	}
	if err := last.SignsNext(key.Public().(ed25519.PublicKey)); err != nil {
		return fmt.Errorf("this node's audit key is not the site's (the checkpoint at entry %d is signed by, or hands over to, another): "+
			"give it the site's key (docs/operations.md, \"Rotating the site's audit key\"): %w", last.Seq, err)
	}
	return nil
}

// insertCheckpoint appends a signed checkpoint.
func (tx *Tx) insertCheckpoint(cp *audit.Checkpoint) error {
	b64 := base64.StdEncoding
	_, err := tx.exec(`INSERT INTO audit_checkpoints (seq, hash, at, signature, key, next_key, next_signature) VALUES (?,?,?,?,?,?,?)`,
		cp.Seq, cp.Hash, cp.At, b64.EncodeToString(cp.Signature), b64.EncodeToString(cp.Key), b64.EncodeToString(cp.NextKey),
		b64.EncodeToString(cp.NextSignature))
	return err
}

// RotateAuditKey hands the site's audit signing over from key to next: in
// one transaction it records the rotation in the audit trail (who, when,
// why, the two keys' fingerprints) and appends the handover checkpoint over
// the head of the chain, that entry included, signed by both keys. From
// then on checkpoints are signed with next; a node still holding key
// refuses to sign, and to start. key must be the site's key of today, and
// next another.
func (db *DB) RotateAuditKey(ctx context.Context, key, next ed25519.PrivateKey, reason string) (*audit.Checkpoint, error) {
	a := actorOf(ctx)
	if err := a.Require(identity.PermAccountsAdmin); err != nil && a.UserID != identity.System.UserID {
		return nil, err
	}
	if len(key) != ed25519.PrivateKeySize || len(next) != ed25519.PrivateKeySize {
		return nil, errs.Field("key", "store.both_site_key_new")
	}
	if key.Public().(ed25519.PublicKey).Equal(next.Public()) {
		return nil, errs.Field("new_key", "store.new_key_site_key")
	}
	if strings.TrimSpace(reason) == "" {
		return nil, errs.Field("reason", "reason.required_kept", text.Key("reason.what.key_rotation"))
	}
	var cp *audit.Checkpoint
	err := db.Write(ctx, "audit.key.rotate", reason, func(tx *Tx) error {
		if err := tx.keySignsNext(key); err != nil {
			return errs.Field("key", "store.key_not_site_audit", err.Error())
		}
		if err := tx.Audit([]audit.Change{{Entity: "audit_key", EntityID: "site", Field: "fingerprint",
			Old: audit.KeyFingerprintOf(key), New: audit.KeyFingerprintOf(next)}}, ""); err != nil {
			return err
		}
		if err := tx.rewrapHashKey(key, next); err != nil {
			return err
		}
		// The rotation's own entry joins the chain now, so that the
		// handover covers it.
		if err := tx.flushAudit(); err != nil {
			return err
		}
		var seq int64
		var hash string
		if err := tx.queryRow(`SELECT seq, hash FROM audit_head WHERE id = 1`).Scan(&seq, &hash); err != nil {
			return err
		}
		cp = &audit.Checkpoint{Seq: seq, Hash: hash, At: tx.now}
		cp.SignHandover(key, next)
		return tx.insertCheckpoint(cp)
	})
	if err != nil {
		return nil, err
	}
	return cp, nil
}

// checkpointCols are a checkpoint's columns, as scanCheckpoint reads them.
const checkpointCols = `seq, hash, at, signature, key, next_key, next_signature`

// Checkpoints lists the signed checkpoints, oldest first.
func (db *DB) Checkpoints(ctx context.Context) ([]audit.Checkpoint, error) {
	return list(identity.WithActor(ctx, identity.System), db, `SELECT `+checkpointCols+` FROM audit_checkpoints ORDER BY seq`, nil, scanCheckpoint)
}

// LastCheckpoint returns the latest signed checkpoint, or nil when none was
// signed yet.
func (db *DB) LastCheckpoint(ctx context.Context) (*audit.Checkpoint, error) {
	cps, err := list(identity.WithActor(ctx, identity.System), db, `SELECT `+checkpointCols+` FROM audit_checkpoints ORDER BY seq DESC LIMIT 1`, nil, scanCheckpoint)
	if err != nil || len(cps) == 0 {
		return nil, err
	}
	return &cps[0], nil
}

func scanCheckpoint(sc scanner, c *audit.Checkpoint) error {
	var sig, key, next, nextSig string
	if err := sc.Scan(&c.Seq, &c.Hash, &c.At, &sig, &key, &next, &nextSig); err != nil {
		return err
	}
	c.At = c.At.UTC()
	b64 := base64.StdEncoding
	var bad [4]error
	c.Signature, bad[0] = b64.DecodeString(sig)
	c.Key, bad[1] = b64.DecodeString(key)
	c.NextKey, bad[2] = b64.DecodeString(next)
	c.NextSignature, bad[3] = b64.DecodeString(nextSig)
	for _, err := range bad {
		if err != nil {
			return fmt.Errorf("the checkpoint at audit entry %d: %w", c.Seq, err)
		}
	}
	for _, b := range []*[]byte{&c.Key, &c.NextKey, &c.NextSignature} {
		if len(*b) == 0 {
			*b = nil
		}
	}
	return nil
}

// verifyBatch is how many entries VerifyAudit hashes at once.
const verifyBatch = 8192

// VerifyReport says what a verification walked.
type VerifyReport struct {
	Entries     int64
	Checkpoints int
	Head        int64
}

// VerifyAudit walks the whole audit trail in sequence order and checks the
// hash chain, every signed checkpoint, the head of the chain and every
// electronic signature against its audit entry. It returns
// an *audit.Broken naming the first entry that does not hold. progress,
// when set, is told how far the walk is.
func (db *DB) VerifyAudit(ctx context.Context, pub ed25519.PublicKey, progress func(done, total int64)) (VerifyReport, error) {
	var rep VerifyReport
	cps, err := db.Checkpoints(ctx)
	if err != nil {
		return rep, err
	}
	if err := audit.VerifyCheckpoints(cps, pub); err != nil {
		return rep, err
	}
	at := make(map[int64]*audit.Checkpoint, len(cps))
	for i := range cps {
		at[cps[i].Seq] = &cps[i]
	}
	err = db.Read(identity.WithActor(ctx, identity.System), func(tx *Tx) error {
		var total, headSeq int64
		var headHash string
		if err := tx.queryRow(`SELECT COUNT(*) FROM audit_log`).Scan(&total); err != nil {
			return err
		}
		if err := tx.queryRow(`SELECT seq, hash FROM audit_head WHERE id = 1`).Scan(&headSeq, &headHash); err != nil {
			return err
		}
		rows, err := tx.query(`SELECT ` + auditColumns + ` FROM audit_log ORDER BY seq`)
		if err != nil {
			return err
		}
		defer rows.Close()
		v := audit.NewVerifier()
		signed := signatureEntries{}
		// Entries are verified a batch at a time, hashed on every CPU
		// (audit.Verifier.AddBatch); the first entry that does not hold
		// is named all the same.
		es := make([]audit.Entry, 0, verifyBatch)
		prevs := make([]audit.Hash, 0, verifyBatch)
		hashes := make([]audit.Hash, 0, verifyBatch)
		flush := func() error {
			err := v.AddBatch(es, prevs, hashes)
			upTo := int64(math.MaxInt64)
			var b *audit.Broken
			if errors.As(err, &b) {
				upTo = b.Seq
			}
			for i := range es {
				if es[i].Seq >= upTo {
					break
				}
				if cp := at[es[i].Seq]; cp != nil && cp.Hash != es[i].Hash {
					return &audit.Broken{Seq: es[i].Seq, Reason: "its hash differs from the one the signed checkpoint holds: the chain was rewritten"}
				}
				signed.add(&es[i])
			}
			if err != nil {
				return err
			}
			if progress != nil {
				progress(v.Count, total)
			}
			es, prevs, hashes = es[:0], prevs[:0], hashes[:0]
			return nil
		}
		var client sql.NullString
		for rows.Next() {
			es = append(es, audit.Entry{})
			e := &es[len(es)-1]
			if err := rows.Scan(&e.Seq, &e.At, &e.ActorID, &e.ActorName, &e.SessionID, &e.Address, &e.Command,
				&e.Entity, &e.EntityID, &e.Field, &e.Old, &e.New, &e.Reason, &client, &e.PrevHash, &e.Hash); err != nil {
				return err
			}
			e.ClientID = client.String
			prev, err1 := audit.ParseHash(e.PrevHash)
			hash, err2 := audit.ParseHash(e.Hash)
			if err1 != nil || err2 != nil {
				es = es[:len(es)-1]
				if err := flush(); err != nil {
					return err
				}
				return &audit.Broken{Seq: e.Seq, Reason: "its stored hashes are not SHA-256 hashes"}
			}
			prevs, hashes = append(prevs, prev), append(hashes, hash)
			if len(es) == verifyBatch {
				if err := flush(); err != nil {
					return err
				}
			}
		}
		if err := flush(); err != nil {
			return err
		}
		if err := rows.Err(); err != nil {
			return err
		}
		last, lastHash := v.Head()
		for _, cp := range cps {
			if cp.Seq > last {
				return &audit.Broken{Seq: last + 1, Reason: fmt.Sprintf("it is missing, yet the signed checkpoint at entry %d holds it: entries were deleted", cp.Seq)}
			}
		}
		if headSeq != last || headHash != lastHash.String() {
			return &audit.Broken{Seq: last + 1, Reason: fmt.Sprintf("the chain ends at entry %d but its head says %d: entries were deleted at the end", last, headSeq)}
		}
		// Every signature against the entry that recorded it.
		if err := tx.verifySignatures(signed, last); err != nil {
			return err
		}
		if progress != nil {
			progress(v.Count, total)
		}
		rep = VerifyReport{Entries: v.Count, Checkpoints: len(cps), Head: last}
		return nil
	})
	return rep, err
}
