package web

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"runtime/debug"
	"strings"

	"galenix/internal/errs"
	"galenix/internal/identity"
)

// sessionCookie names the browser session cookie.
const sessionCookie = "galenix_session"

// securityHeaders sets the strict headers every answer carries.
func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "same-origin")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		h.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
		if r.TLS != nil {
			h.Set("Strict-Transport-Security", "max-age=63072000; includeSubDomains")
		}
		next.ServeHTTP(w, r)
	})
}

// recover turns a panic into an internal error answer and a log line.
func (s *Server) recover(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				// An internal error: answered in general words, logged
				// once with the panic and its stack.
				err := errs.Wrap(fmt.Errorf("panic: %v\n%s", v, debug.Stack()), "serving "+r.URL.Path)
				if strings.HasPrefix(r.URL.Path, "/api/") {
					s.apiError(w, r, err)
					return
				}
				s.pageError(w, r, err)
			}
		}()
		next.ServeHTTP(w, r)
	})
}

// token returns the session token of the request: the bearer token of the
// API, or the browser's session cookie.
func token(r *http.Request) string {
	if h := r.Header.Get("Authorization"); h != "" {
		// The scheme is case-insensitive (RFC 9110 §11.1): "bearer" is
		// as good as "Bearer".
		if len(h) > len("Bearer ") && strings.EqualFold(h[:len("Bearer ")], "Bearer ") {
			return strings.TrimSpace(h[len("Bearer "):])
		}
		return ""
	}
	if c, err := r.Cookie(sessionCookie); err == nil {
		return c.Value
	}
	return ""
}

// authenticate puts the actor of the request's session, if any, in its
// context. A request without a valid session goes on without an actor.
func (s *Server) authenticate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if t := token(r); t != "" && len(t) <= 256 {
			if a, err := s.Identity.Authenticate(r.Context(), t); err == nil {
				a.Address = clientAddress(r)
				s.signedIn(t, a.Device)
				noteActor(r, a)
				r = r.WithContext(identity.WithActor(r.Context(), a))
			} else if c := errs.CodeOf(err); c == errs.Unavailable || c == errs.Internal {
				// The session could not be looked up: it may well be valid.
				// A route that needs it answers this failure, never "sign
				// in first", so that clients keep their tokens; a public
				// route goes on without it.
				s.logIfInternal(r, err)
				r = r.WithContext(context.WithValue(r.Context(), lookupFailedKey{}, err))
			}
		}
		next.ServeHTTP(w, r)
	})
}

// lookupFailedKey marks in a request's context that its session could not
// be looked up (the database failed), with the error.
type lookupFailedKey struct{}

// requireActor refuses a request without a signed-in actor: the API answers
// 401, a page sends the browser to the login page. A machine (API token)
// reaches only the routes its scopes name.
func (s *Server) requireActor(pattern string, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if a, ok := identity.ActorFrom(r.Context()); ok {
			if a.IsMachine() && !s.machineMayUse(a, pattern) {
				s.apiError(w, r, errs.E(errs.Forbidden, "web.api_token_scopes_do"))
				return
			}
			// An expired password or a second factor still to set up
			// leaves the session good for that step alone (pending.go).
			if a.Pending != "" && !pendingAllows(a.Pending, pattern) {
				s.pendingRefused(w, r, a.Pending)
				return
			}
			next.ServeHTTP(w, r)
			return
		}
		if err, failed := r.Context().Value(lookupFailedKey{}).(error); failed {
			if strings.HasPrefix(r.URL.Path, "/api/") {
				s.apiError(w, r, err)
			} else {
				s.pageError(w, r, err)
			}
			return
		}
		if strings.HasPrefix(r.URL.Path, "/api/") {
			s.apiError(w, r, errs.E(errs.Unauthorized, "web.sign_first_request_needs"))
			return
		}
		http.Redirect(w, r, "/login?next="+urlQueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
	})
}

// clientAddress is the address the request came from: the one observe
// found (behind a trusted proxy, the client's), else the peer's.
func clientAddress(r *http.Request) string {
	if a, ok := r.Context().Value(clientAddrKey{}).(string); ok {
		return a
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}
