package web

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
	"maps"
	"mime"
	"mime/multipart"
	"net/http"
	"slices"
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
	// ReplayedHeader marks an answer given again to a retry.
	ReplayedHeader = "Idempotent-Replayed"
	// replayWait is how long a retry waits for the answer of a write that
	// committed a moment ago and is still recording it.
	replayWait = 2 * time.Second
)

// idempotent applies a write once per key. The design, and why:
//
//   - A request that carries a key (the Idempotency-Key header, or a form's
//     hidden idempotency_key) puts a claim in its context; the store inserts
//     it in the same transaction as the request's first write (Tx.claim),
//     before the write's own statements. The claim commits with the write
//     or not at all: a committed write always has its key, a refused or
//     failed one never (the client may correct it and send it again).
//     Keys are scoped by the account (or machine token) that sent them.
//   - Two requests with one key at once: the primary key (principal, key)
//     makes the second wait for the first's transaction; once it has
//     committed, the second finds the key taken, applies nothing and is
//     answered with the first's answer (or, if the first rolled back,
//     applies itself).
//   - The answer is known only once the handler has written it, after the
//     commit (a handler reads after it writes, on other connections): it is
//     held in a buffer, recorded in the key's row, and only then sent. A
//     node that stops between the commit and the record leaves a key without
//     an answer: its retry is told that the request was applied, with 409
//     idempotency_applied, and the write is never applied again.
//   - A write committed whose answer is a failure (5xx: the request's time
//     ran out after the commit, a read after the write failed) is not
//     replayed, which would have the client retry forever: its retry is
//     told it was applied (409 idempotency_applied).
//   - An answer marked Cache-Control: no-store holds a secret shown only
//     once (a machine token, a second factor's seed): its body is not kept,
//     and a retry is told it was applied (409 idempotency_applied).
//   - The same key with another request (method, path or body) answers 422
//     idempotency_mismatch and changes nothing.
func (s *Server) idempotent(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if s.Idempotency == nil {
			next(w, r)
			return
		}
		api := strings.HasPrefix(r.URL.Path, "/api/")
		key, hash, err := s.requestKey(w, r, api)
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
		rec := &recorder{ResponseWriter: w, header: http.Header{}, status: http.StatusOK}
		next(rec, r.WithContext(idem.With(r.Context(), claim)))
		if claim.Taken() && !claim.Committed() && s.replay(w, r, api, principal, key, hash) {
			// A request with the same key committed first: its answer,
			// not this one's refusal.
			return
		}
		if claim.Committed() && rec.status >= http.StatusInternalServerError {
			// The write is committed but the answer is a failure after it
			// (the request's time ran out, a read after the write failed).
			// Replaying it would send the client retrying forever: the key
			// stays without an answer, and the retry is told the request
			// was applied (409 idempotency_applied).
			s.log.WarnContext(r.Context(), "a write committed with its idempotency key answered a failure; its retry will be told it was applied",
				"status", rec.status)
		} else if claim.Committed() {
			// The write is committed: keep its answer for a retry before
			// sending it. The request's own context may be ending (a
			// timeout); the record must not.
			ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), 5*time.Second)
			a := idem.Answer{Status: rec.status, ContentType: rec.header.Get("Content-Type"),
				Location: rec.header.Get("Location"), ETag: rec.header.Get("ETag"), Body: rec.body.Bytes(),
				Withheld: noStore(rec.header)}
			if err := s.Idempotency.Record(ctx, principal, key, a); err != nil {
				s.log.WarnContext(r.Context(), "recording an idempotent answer", "err", err)
			}
			cancel()
		}
		rec.flush()
	}
}

// noStore reports whether an answer may not be kept: it holds a secret.
func noStore(h http.Header) bool {
	for _, v := range h.Values("Cache-Control") {
		if strings.Contains(strings.ToLower(v), "no-store") {
			return true
		}
	}
	return false
}

// requestKey reads the request's key, if any, and the hash of what the
// request asks: method, path and body (a form's values, sorted).
func (s *Server) requestKey(w http.ResponseWriter, r *http.Request, api bool) (key, hash string, err error) {
	h := hmac.New(sha256.New, s.idemHashKey)
	h.Write([]byte(r.Method + " " + r.URL.Path + "\n"))
	if api {
		key = r.Header.Get(IdempotencyHeader)
		if _, sent := r.Header[IdempotencyHeader]; !sent {
			return "", "", nil
		}
		if !idem.ValidKey(key) {
			return "", "", errs.Field(IdempotencyHeader, "web.idempotency_key_header_must")
		}
		// The body is read for its hash and given back to the handler,
		// which bounds its size as before.
		body, rerr := io.ReadAll(io.LimitReader(r.Body, bodyLimit(r)+1))
		if rerr != nil {
			return "", "", errs.E(errs.Invalid, "web.request_body_could_not")
		}
		h.Write(body)
		r.Body = io.NopCloser(io.MultiReader(bytes.NewReader(body), r.Body))
	} else {
		if mt, params, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); strings.HasPrefix(mt, "multipart/") {
			return multipartKey(h, r, params["boundary"])
		}
		r.Body = http.MaxBytesReader(w, r.Body, MaxBody)
		if perr := r.ParseForm(); perr != nil {
			return "", "", nil // the handler answers the bad form
		}
		if _, sent := r.PostForm[formFieldIdempotency]; !sent {
			return "", "", nil
		}
		key = r.PostForm.Get(formFieldIdempotency)
		if !idem.ValidKey(key) {
			return "", "", errs.E(errs.Invalid, "error.idem.key")
		}
		h.Write([]byte(r.PostForm.Encode()))
	}
	return key, hex.EncodeToString(h.Sum(nil)), nil
}

// multipartKey reads the key of a page's multipart form (an upload) and
// hashes its parts, names and contents: a form sent twice hashes the same
// though its boundary differs. The body, bounded as the
// handler bounds it, is given back to the handler; a form that does not
// parse carries no key here, and its handler answers it.
func multipartKey(h hash.Hash, r *http.Request, boundary string) (key, sum string, err error) {
	body, rerr := io.ReadAll(io.LimitReader(r.Body, bodyLimit(r)+1))
	r.Body = io.NopCloser(io.MultiReader(bytes.NewReader(body), r.Body))
	if rerr != nil || boundary == "" {
		return "", "", nil
	}
	mr := multipart.NewReader(bytes.NewReader(body), boundary)
	sent := false
	var parts []string
	for {
		part, perr := mr.NextPart()
		if perr == io.EOF {
			break
		}
		if perr != nil {
			return "", "", nil
		}
		v, perr := io.ReadAll(part)
		if perr != nil {
			return "", "", nil
		}
		if part.FormName() == formFieldIdempotency {
			key, sent = string(v), true
			continue
		}
		d := sha256.Sum256(v)
		parts = append(parts, fmt.Sprintf("%q %q %x\n", part.FormName(), part.FileName(), d))
	}
	// By name, as a form's values are: the same form hashes the same
	// whatever the order its parts were sent in.
	slices.Sort(parts)
	for _, p := range parts {
		h.Write([]byte(p))
	}
	if !sent {
		return "", "", nil
	}
	if !idem.ValidKey(key) {
		return "", "", errs.E(errs.Invalid, "error.idem.key")
	}
	return key, hex.EncodeToString(h.Sum(nil)), nil
}

// replay answers a request whose key was already committed, waiting a
// moment for the answer of a write committed but still recording it. It
// reports whether it answered.
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
		switch {
		case a.Hash != hash:
			s.answerError(w, r, api, idemError(api, errs.IdempotencyMismatch, "mismatch"))
			return true
		case a.Withheld:
			s.answerError(w, r, api, idemError(api, errs.IdempotencyApplied, "withheld"))
			return true
		case a.Status != 0:
			s.metrics.replays.Inc()
			h := w.Header()
			for name, v := range map[string]string{"Content-Type": a.ContentType, "Location": a.Location, "ETag": a.ETag} {
				if v != "" {
					h.Set(name, v)
				}
			}
			h.Set(ReplayedHeader, "true")
			w.WriteHeader(a.Status)
			_, _ = w.Write(a.Body)
			return true
		case time.Now().After(deadline):
			s.answerError(w, r, api, idemError(api, errs.IdempotencyApplied, "lost"))
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

// idemError is the refusal of a retry, in the API's words or the pages'
// (messages error.idem.<what> and error.idem.page.<what>).
func idemError(api bool, code errs.Code, what string) error {
	k := "error.idem." + what
	if !api {
		k = "error.idem.page." + what
	}
	return errs.E(code, k)
}

func (s *Server) answerError(w http.ResponseWriter, r *http.Request, api bool, err error) {
	if api {
		s.apiError(w, r, err)
		return
	}
	s.pageError(w, r, err)
}

// recorder holds a write's answer, headers included, until the handler is
// done: the answer is recorded for a retry before it is sent, or dropped
// for the first request's answer when the key turns out taken.
type recorder struct {
	http.ResponseWriter
	header http.Header
	status int
	wrote  bool
	body   bytes.Buffer
}

func (rec *recorder) Header() http.Header { return rec.header }

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
	maps.Copy(rec.ResponseWriter.Header(), rec.header)
	rec.ResponseWriter.WriteHeader(rec.status)
	_, _ = rec.ResponseWriter.Write(rec.body.Bytes())
}
