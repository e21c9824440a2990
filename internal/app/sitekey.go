package app

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"galenix/internal/audit"
	"galenix/internal/store"
)

// siteKeyHolder holds the site's audit key as a running node knows it. When
// the key is rotated on another machine (galenix audit rotate-key), the
// node's key no longer signs the next checkpoint: the node reads its key
// file again, and takes the key found there if it is the one the rotation
// handed over to. So a rotation needs no restart: put the new key in every
// node's key file, rotate, and the nodes follow within seconds; a node
// whose file still holds the old key stays unready (/readyz: audit_key)
// and signs nothing until it is given the new one.
type siteKeyHolder struct {
	path string
	log  *slog.Logger
	key  atomic.Pointer[ed25519.PrivateKey]

	mu    sync.Mutex
	tried time.Time // the last reading of the file, to read it at most once a second
}

func newSiteKeyHolder(path string, key ed25519.PrivateKey, log *slog.Logger) *siteKeyHolder {
	h := &siteKeyHolder{path: path, log: log}
	h.key.Store(&key)
	return h
}

// get is the key held now.
func (h *siteKeyHolder) get() ed25519.PrivateKey { return *h.key.Load() }

// reloadEvery bounds how often the key file is read again while the key
// held does not sign next.
const reloadEvery = time.Second

// current returns the key that signs the site's next checkpoint: the one
// held, or the key file's when a rotation handed the signing over to it.
// It fails, saying why, when neither does.
func (h *siteKeyHolder) current(ctx context.Context, db *store.DB) (ed25519.PrivateKey, error) {
	last, err := db.LastCheckpoint(ctx)
	if err != nil {
		return nil, err
	}
	key := h.get()
	if last == nil {
		return key, nil
	}
	signs := last.SignsNext(key.Public().(ed25519.PublicKey))
	if signs == nil {
		return key, nil
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if key = h.get(); last.SignsNext(key.Public().(ed25519.PublicKey)) == nil {
		return key, nil // another caller took the new key meanwhile
	}
	if time.Since(h.tried) < reloadEvery {
		return nil, signs
	}
	h.tried = time.Now()
	next, err := audit.LoadKey(h.path)
	if err != nil {
		return nil, fmt.Errorf("%w; reading the key file %s again: %v", signs, h.path, err)
	}
	if err := last.SignsNext(next.Public().(ed25519.PublicKey)); err != nil {
		return nil, fmt.Errorf("the site's audit key was rotated and this node's key file %s does not hold the new key yet: %w", h.path, err)
	}
	h.key.Store(&next)
	h.log.Warn("the site's audit key was rotated: this node now signs with the new key from its key file",
		"key_file", h.path, "fingerprint", audit.KeyFingerprintOf(next), "handover_at_entry", last.Seq)
	return next, nil
}
