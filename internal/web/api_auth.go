package web

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"galenix/internal/errs"
	"galenix/internal/identity"
)

// routesAuth registers signing in and out, passwords, the second factor,
// sessions, the sign-in policy and security events: through the API and
// on the pages (page_auth.go, page_account.go, page_security.go).
func (s *Server) routesAuth() {
	s.loginLimit = newRateLimiter(loginPerMinute, loginBurst, loginAddresses)

	s.handle("POST", "/api/v1/login", true, s.apiLogin)
	s.handle("POST", "/api/v1/logout", false, s.apiLogout)
	s.handle("GET", "/api/v1/me", false, s.apiMe)
	s.handle("POST", "/api/v1/password", false, s.apiChangePassword)
	s.handle("POST", "/api/v1/sessions/revoke-all", false, s.apiRevokeSessions)
	s.handle("POST", "/api/v1/totp/enroll", false, s.apiEnrollTOTP)
	s.handle("POST", "/api/v1/totp/confirm", false, s.apiConfirmTOTP)
	s.handle("GET", "/api/v1/policy", false, s.apiPolicy)
	s.handle("PUT", "/api/v1/policy", false, s.apiSetPolicy)
	s.handle("GET", "/api/v1/security/events", false, s.apiSecurityEvents)
	s.handle("POST", "/api/v1/security/events/{id}/acknowledge", false, s.apiAcknowledgeEvent)

	s.routesAccountPages()
	s.routesSecurityPages()
}

// loginBody is what POST /api/v1/login takes.
type loginBody struct {
	Username string `json:"username"`
	Password string `json:"password"`
	// TOTP is the second factor's code, for an account that has one.
	TOTP string `json:"totp"`
	// Device is "api" (the default) or "shopfloor" for a shared device on
	// the shop floor, whose session ends sooner when idle.
	Device string `json:"device"`
}

func (s *Server) apiLogin(w http.ResponseWriter, r *http.Request) {
	var in loginBody
	if err := decode(w, r, &in); err != nil {
		s.apiError(w, r, err)
		return
	}
	// A body that says nothing is no attempt: only attempts count.
	addr := clientAddress(r)
	if ok, wait := s.loginLimit.take(addr); !ok {
		retryAfter(w, wait)
		s.metrics.signinFailures.WithLabelValues(string(errs.RateLimited)).Inc()
		s.apiError(w, r, errRateLimited())
		return
	}
	if in.Device == "" {
		in.Device = identity.DeviceAPI
	}
	tok, _, err := s.Identity.SignIn(r.Context(), identity.Credentials{Username: in.Username, Password: in.Password,
		TOTP: in.TOTP, Device: in.Device, Address: addr})
	if err != nil {
		s.signinFailed(addr, err)
		s.apiError(w, r, err)
		return
	}
	s.loginLimit.give(addr)
	s.signedIn(tok, in.Device)
	writeJSON(w, http.StatusOK, map[string]string{"token": tok})
}

func (s *Server) apiLogout(w http.ResponseWriter, r *http.Request) {
	if err := s.Identity.Logout(r.Context(), token(r)); err != nil {
		s.apiError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) apiMe(w http.ResponseWriter, r *http.Request) {
	a, _ := identity.ActorFrom(r.Context())
	writeJSON(w, http.StatusOK, map[string]any{"id": a.UserID, "username": a.Username, "name": a.Name, "roles": a.Roles,
		"client_id": a.ClientID, "pending": a.Pending})
}

// passwordBody is what POST /api/v1/password takes.
type passwordBody struct {
	Current string `json:"current"`
	New     string `json:"new"`
}

func (s *Server) apiChangePassword(w http.ResponseWriter, r *http.Request) {
	var in passwordBody
	if err := decode(w, r, &in); err != nil {
		s.apiError(w, r, err)
		return
	}
	if err := s.Identity.ChangePassword(r.Context(), in.Current, in.New); err != nil {
		s.apiError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// decodeNothing reads a body that carries nothing: none, or an empty JSON
// object.
func decodeNothing(w http.ResponseWriter, r *http.Request) error {
	b, err := readBody(w, r)
	if err != nil || len(b) == 0 {
		return err
	}
	return decodeStrict(b, &struct{}{})
}

func (s *Server) apiRevokeSessions(w http.ResponseWriter, r *http.Request) {
	if err := decodeNothing(w, r); err != nil {
		s.apiError(w, r, err)
		return
	}
	n, err := s.Identity.RevokeSessions(r.Context())
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]int{"ended": n})
}

func (s *Server) apiEnrollTOTP(w http.ResponseWriter, r *http.Request) {
	if err := decodeNothing(w, r); err != nil {
		s.apiError(w, r, err)
		return
	}
	en, err := s.Identity.EnrollTOTP(r.Context())
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	// The second factor's seed must not linger in any cache, nor be kept
	// for a retry (idempotency.go).
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, en)
}

func (s *Server) apiConfirmTOTP(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Code string `json:"code"`
	}
	if err := decode(w, r, &in); err != nil {
		s.apiError(w, r, err)
		return
	}
	if err := s.Identity.ConfirmTOTP(r.Context(), in.Code); err != nil {
		s.apiError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// policyBody is the sign-in policy as the API writes it: durations in the
// units people set them in.
type policyBody struct {
	MinLength            int  `json:"min_length"`
	History              int  `json:"history"`
	MaxAgeDays           int  `json:"max_age_days"`
	LockAfter            int  `json:"lock_after"`
	LockForMinutes       int  `json:"lock_for_minutes"`
	IdleMinutes          int  `json:"idle_minutes"`
	ShopfloorIdleMinutes int  `json:"shopfloor_idle_minutes"`
	AbsoluteMinutes      int  `json:"absolute_minutes"`
	AdminTOTP            bool `json:"admin_totp"`
	Version              int  `json:"version"`
}

// VersionRef returns the address of the policy's version (ETag).
func (p *policyBody) VersionRef() *int { return &p.Version }

const policyDay = 24 * time.Hour

func policyOut(p identity.Policy) policyBody {
	return policyBody{MinLength: p.MinLength, History: p.History, MaxAgeDays: int(p.MaxAge / policyDay), LockAfter: p.LockAfter,
		LockForMinutes: int(p.LockFor / time.Minute), IdleMinutes: int(p.Idle / time.Minute),
		ShopfloorIdleMinutes: int(p.ShopfloorIdle / time.Minute), AbsoluteMinutes: int(p.Absolute / time.Minute), AdminTOTP: p.AdminTOTP,
		Version: p.Version}
}

// policyIn is what PUT /api/v1/policy takes: every field of policyBody,
// none left out (a field left out must not quietly become false or 0).
type policyIn struct {
	MinLength            *int  `json:"min_length"`
	History              *int  `json:"history"`
	MaxAgeDays           *int  `json:"max_age_days"`
	LockAfter            *int  `json:"lock_after"`
	LockForMinutes       *int  `json:"lock_for_minutes"`
	IdleMinutes          *int  `json:"idle_minutes"`
	ShopfloorIdleMinutes *int  `json:"shopfloor_idle_minutes"`
	AbsoluteMinutes      *int  `json:"absolute_minutes"`
	AdminTOTP            *bool `json:"admin_totp"`
	// Version is the version of the policy changed (0: any); If-Match
	// says it too.
	Version int `json:"version"`
}

// VersionRef returns the address of the version a change names.
func (in *policyIn) VersionRef() *int { return &in.Version }

func (in policyIn) policy() (identity.Policy, error) {
	var p identity.Policy
	for _, f := range []struct {
		name string
		v    *int
		set  func(int)
	}{
		{"min_length", in.MinLength, func(n int) { p.MinLength = n }},
		{"history", in.History, func(n int) { p.History = n }},
		{"max_age_days", in.MaxAgeDays, func(n int) { p.MaxAge = time.Duration(n) * policyDay }},
		{"lock_after", in.LockAfter, func(n int) { p.LockAfter = n }},
		{"lock_for_minutes", in.LockForMinutes, func(n int) { p.LockFor = time.Duration(n) * time.Minute }},
		{"idle_minutes", in.IdleMinutes, func(n int) { p.Idle = time.Duration(n) * time.Minute }},
		{"shopfloor_idle_minutes", in.ShopfloorIdleMinutes, func(n int) { p.ShopfloorIdle = time.Duration(n) * time.Minute }},
		{"absolute_minutes", in.AbsoluteMinutes, func(n int) { p.Absolute = time.Duration(n) * time.Minute }},
	} {
		if f.v == nil {
			return p, missing(f.name)
		}
		// Bounds far beyond any the policy allows keep the durations
		// from overflowing; Validate gives the real ones.
		if *f.v < -1 || *f.v > 100_000 {
			return p, errs.Field(f.name, "web.value_out_range")
		}
		f.set(*f.v)
	}
	if in.AdminTOTP == nil {
		return p, missing("admin_totp")
	}
	p.AdminTOTP = *in.AdminTOTP
	return p, nil
}

func missing(field string) error {
	return errs.Field(field, "web.field_required_send_whole", field)
}

func (s *Server) apiPolicy(w http.ResponseWriter, r *http.Request) {
	p, err := s.Identity.SignInPolicy(r.Context())
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	out := policyOut(p)
	setETag(w, &out)
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) apiSetPolicy(w http.ResponseWriter, r *http.Request) {
	var in policyIn
	reason, err := decodeWithReason(w, r, &in)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	if err := ifMatch(r, &in); err != nil {
		s.apiError(w, r, err)
		return
	}
	p, err := in.policy()
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	p.Version = in.Version
	if p, err = s.Identity.SetSignInPolicy(r.Context(), p, reason); err != nil {
		s.apiError(w, r, err)
		return
	}
	out := policyOut(p)
	setETag(w, &out)
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) apiSecurityEvents(w http.ResponseWriter, r *http.Request) {
	var f identity.EventFilter
	var err error
	switch r.URL.Query().Get("open") {
	case "", "false":
	case "true":
		f.Open = true
	default:
		s.apiError(w, r, errs.Field("open", "web.filter_open_true_false"))
		return
	}
	if f.Kind, err = eventKind(r); err != nil {
		s.apiError(w, r, err)
		return
	}
	if f.From, f.To, err = eventDays(r.URL.Query(), s.zone()); err != nil {
		s.apiError(w, r, err)
		return
	}
	evs, err := s.Identity.SecurityEvents(r.Context(), f)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, itemsBody[identity.SecurityEvent]{Items: evs})
}

// eventKind is the kind of security event the request filters on: empty,
// or one of identity.EventKinds.
func eventKind(r *http.Request) (string, error) {
	k := r.URL.Query().Get("kind")
	if k != "" && !slices.Contains(identity.EventKinds, k) {
		return "", errs.Field("kind", "web.filter_event_kind", strings.Join(identity.EventKinds, ", "))
	}
	return k, nil
}

// eventDays are the days (YYYY-MM-DD, site time) the security events are
// filtered on: from the start of "from" to the end of "to", each side open
// when absent.
func eventDays(q url.Values, zone *time.Location) (from, to time.Time, err error) {
	if from, err = queryDay(q, "from", time.Time{}, zone); err != nil {
		return
	}
	if to, err = queryDay(q, "to", time.Time{}, zone); err != nil || to.IsZero() {
		return
	}
	return from, to.AddDate(0, 0, 1), nil
}

func (s *Server) apiAcknowledgeEvent(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Comment string `json:"comment"`
	}
	b, err := readBody(w, r)
	if err == nil && len(b) > 0 {
		err = decodeStrict(b, &in)
	}
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	e, err := s.Identity.AcknowledgeEvent(r.Context(), r.PathValue("id"), in.Comment)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, e)
}
