package store

import (
	"context"
	"crypto/ed25519"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"math"

	"galenix/internal/audit"
	"galenix/internal/identity"
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
		cp = &audit.Checkpoint{Seq: seq, Hash: hash, At: tx.Now}
		cp.Sign(key)
		_, err := tx.exec(`INSERT INTO audit_checkpoints (seq, hash, at, signature) VALUES (?,?,?,?)`,
			cp.Seq, cp.Hash, cp.At, base64.StdEncoding.EncodeToString(cp.Signature))
		return err
	})
	return cp, err
}

// Checkpoints lists the signed checkpoints, oldest first.
func (db *DB) Checkpoints(ctx context.Context) ([]audit.Checkpoint, error) {
	return list(identity.WithActor(ctx, identity.System), db, `SELECT seq, hash, at, signature FROM audit_checkpoints ORDER BY seq`, nil, scanCheckpoint)
}

// LastCheckpoint returns the latest signed checkpoint, or nil when none was
// signed yet.
func (db *DB) LastCheckpoint(ctx context.Context) (*audit.Checkpoint, error) {
	cps, err := list(identity.WithActor(ctx, identity.System), db, `SELECT seq, hash, at, signature FROM audit_checkpoints ORDER BY seq DESC LIMIT 1`, nil, scanCheckpoint)
	if err != nil || len(cps) == 0 {
		return nil, err
	}
	return &cps[0], nil
}

func scanCheckpoint(sc scanner, c *audit.Checkpoint) error {
	var sig string
	if err := sc.Scan(&c.Seq, &c.Hash, &c.At, &sig); err != nil {
		return err
	}
	c.At = c.At.UTC()
	var err error
	c.Signature, err = base64.StdEncoding.DecodeString(sig)
	return err
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
	at := make(map[int64]*audit.Checkpoint, len(cps))
	for i := range cps {
		if err := cps[i].Verify(pub); err != nil {
			return rep, err
		}
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
