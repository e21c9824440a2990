package web

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"strings"
	"time"

	"galenix/internal/errs"
	"galenix/internal/idem"
	"galenix/internal/identity"
)

// IdempotencyKeeper keeps the first answers of writes sent with an
// idempotency key (the store's IdempotencyStore).
type IdempotencyKeeper interface {
	Answer(ctx context.Context, principal, key string) (*idem.Answer, error)
	Record(ctx context.Context, principal, key string, a idem.Answer) error
}

// IdempotencyHeader names the API's key; formFieldIdempotency the pages'.
const (
	IdempotencyHeader    = "Idempotency-Key"
	formFieldIdempotency = "idempotency_key"
	// replayWait is how long a retry waits for the answer of a write that
	// committed a moment ago and is still writing it.
	replayWait = 2 * time.Second
)

// idempotent applies a write once per key: a request that carries a key
// (the Idempotency-Key header, or a form's hidden idempotency_key) claims it
// in the same transaction as its write (the store does, see idem.Claim);
// the answer is recorded after the commit, before the client sees it. The same key sent again by the
// same account gets that first answer, marked Idempotent-Replayed, and
// changes nothing; the same key with another request is refused.
func (s *Server) idempotent(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if s.Idempotency == nil {
			next(w, r)
			return
		}
		api := strings.HasPrefix(r.URL.Path, "/api/")
		key, hash, err := requestKey(w, r, api)
		if err != nil {
			s.answerError(w, r, api, err)
			return
		}
		actor, ok := identity.ActorFrom(r.Context())
		if key == "" || !ok {
			next(w, r)
			return
		}
		principal := actor.UserID
		if s.replay(w, r, api, principal, key, hash) {
			return
		}
		claim := &idem.Claim{Principal: principal, Key: key, Hash: hash}
		rec := &recorder{ResponseWriter: w, status: http.StatusOK}
		next(rec, r.WithContext(idem.With(r.Context(), claim)))
		if rec.taken && s.replayTaken(rec, r, api, principal, key, hash) {
			return
		}
		if claim.Committed() {
			// The write is committed: keep its answer for a retry,
			// before the client can see it. The request's own context
			// may be ending; the record must not.
			ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), 5*time.Second)
			a := idem.Answer{Status: rec.status, ContentType: rec.Header().Get("Content-Type"),
				Location: rec.Header().Get("Location"), Body: rec.body.Bytes()}
			if err := s.Idempotency.Record(ctx, principal, key, a); err != nil {
				// The write stands; a retry is told it was applied.
				s.log.Warn("recording an idempotent answer", "err", err, "request_id", RequestID(r.Context()))
			}
			cancel()
		}
		rec.flush()
	}
}

// requestKey reads the request's key, if any, and the hash of what the
// request asks: method, path and body.
func requestKey(w http.ResponseWriter, r *http.Request, api bool) (key, hash string, err error) {
	h := sha256.New()
	h.Write([]byte(r.Method + " " + r.URL.Path + "\n"))
	if api {
		key = r.Header.Get(IdempotencyHeader)
		if key == "" {
			return "", "", nil
		}
		// The body is read for its hash and given back to the handler,
		// which bounds its size as before.
		body, rerr := io.ReadAll(io.LimitReader(r.Body, MaxBody+1))
		if rerr != nil {
			return "", "", errs.E(errs.Invalid, "The request's body could not be read.", "Le corps de la requête n'a pas pu être lu.")
		}
		h.Write(body)
		r.Body = io.NopCloser(io.MultiReader(bytes.NewReader(body), r.Body))
	} else {
		if strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/") {
			return "", "", nil
		}
		r.Body = http.MaxBytesReader(w, r.Body, MaxBody)
		if perr := r.ParseForm(); perr != nil {
			return "", "", nil // the handler answers the bad form
		}
		key = r.PostForm.Get(formFieldIdempotency)
		if key == "" {
			return "", "", nil
		}
		h.Write([]byte(r.PostForm.Encode()))
	}
	if !idem.ValidKey(key) {
		return "", "", errs.E(errs.Invalid,
			"The Idempotency-Key must be 1 to 200 printable ASCII characters without spaces (a UUID, say).",
			"La clé d'idempotence (Idempotency-Key) doit compter de 1 à 200 caractères ASCII imprimables, sans espace (un UUID par exemple).")
	}
	return key, hex.EncodeToString(h.Sum(nil)), nil
}

// replay answers a request whose key was already committed, waiting up to
// replayWait for the answer of a write committed a moment ago. It reports
// whether it answered.
func (s *Server) replay(w http.ResponseWriter, r *http.Request, api bool, principal, key, hash string) bool {
	deadline := time.Now().Add(replayWait)
	for {
		a, err := s.Idempotency.Answer(r.Context(), principal, key)
		if err != nil {
			s.answerError(w, r, api, err)
			return true
		}
		if a == nil {
			return false
		}
		if a.Hash != hash {
			s.answerError(w, r, api, errs.E(errs.Conflict,
				"This Idempotency-Key was already used for another request; send a new key with each new request.",
				"Cette clé d'idempotence a déjà servi à une autre requête ; envoyez une nouvelle clé avec chaque nouvelle requête."))
			return true
		}
		if a.Status != 0 {
			s.metrics.replays.Inc()
			h := w.Header()
			if a.ContentType != "" {
				h.Set("Content-Type", a.ContentType)
			}
			if a.Location != "" {
				h.Set("Location", a.Location)
			}
			h.Set("Idempotent-Replayed", "true")
			w.WriteHeader(a.Status)
			_, _ = w.Write(a.Body)
			return true
		}
		if time.Now().After(deadline) {
			// Still a replay of the first request's outcome: applied.
			w.Header().Set("Idempotent-Replayed", "true")
			s.answerError(w, r, api, errs.E(errs.Conflict,
				"This request was already applied, but its answer was lost (the server stopped just after the write). Nothing was applied twice; reload the record to see it.",
				"Cette requête a déjà été appliquée, mais sa réponse a été perdue (le serveur s'est arrêté juste après l'écriture). Rien n'a été appliqué deux fois ; rechargez l'enregistrement pour le voir."))
			return true
		}
		select {
		case <-r.Context().Done():
			s.answerError(w, r, api, errs.Unavailability(r.Context().Err()))
			return true
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// replayTaken answers, with the first request's answer, a request whose
// write found its key taken by a concurrent request with the same key.
func (s *Server) replayTaken(rec *recorder, r *http.Request, api bool, principal, key, hash string) bool {
	rec.body.Reset()
	return s.replay(rec.ResponseWriter, r, api, principal, key, hash)
}

func (s *Server) answerError(w http.ResponseWriter, r *http.Request, api bool, err error) {
	if api {
		s.apiError(w, r, err)
		return
	}
	s.pageError(w, r, err)
}

// recorder holds a write's answer until the handler is done, so that the
// answer can be recorded for a retry, or replaced by the first answer when
// the key turns out taken.
type recorder struct {
	http.ResponseWriter
	status  int
	wrote   bool
	body    bytes.Buffer
	taken   bool
	flushed bool
}

func (rec *recorder) WriteHeader(status int) {
	if !rec.wrote {
		rec.status, rec.wrote = status, true
	}
}

func (rec *recorder) Write(b []byte) (int, error) {
	rec.wrote = true
	return rec.body.Write(b)
}

// flush sends the recorded answer.
func (rec *recorder) flush() {
	if rec.flushed {
		return
	}
	rec.flushed = true
	rec.ResponseWriter.WriteHeader(rec.status)
	_, _ = rec.ResponseWriter.Write(rec.body.Bytes())
}

// noteTaken is called by the error writers: a write refused because its
// key was taken is answered with the first request's answer instead.
func noteTaken(w http.ResponseWriter, err error) bool {
	rec, ok := w.(*recorder)
	if !ok || !errors.Is(err, idem.ErrTaken) {
		return false
	}
	rec.taken = true
	return true
}
