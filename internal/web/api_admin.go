package web

import (
	"context"
	"net/http"
	"time"

	"galenix/internal/errs"
	"galenix/internal/identity"
)

// routesAdmin registers the administration of accounts, roles, client
// assignments and machine tokens: the API here, the pages in page_admin.go.
// The Admin service checks every permission; the handlers only translate.
func (s *Server) routesAdmin() {
	s.handle("GET", "/api/v1/accounts", false, list(s, func(r *http.Request) ([]identity.Account, error) {
		return s.Admin.Accounts(r.Context(), identity.AccountFilter{ClientID: r.URL.Query().Get("client_id")})
	}))
	s.handle("POST", "/api/v1/accounts", false, s.apiCreateAccount)
	s.handle("GET", "/api/v1/accounts/{id}", false, get(s, func(ctx context.Context, id string) (*identity.Account, error) {
		return s.Admin.Account(ctx, id)
	}))
	s.handle("PUT", "/api/v1/accounts/{id}", false, s.apiUpdateAccount)
	s.handle("POST", "/api/v1/accounts/{id}/withdraw", false, s.apiWithdrawAccount)
	s.handle("POST", "/api/v1/accounts/{id}/password", false, s.apiResetPassword)
	s.handle("POST", "/api/v1/accounts/{id}/unlock", false, s.apiUnlockAccount)

	s.handle("GET", "/api/v1/assignments", false, list(s, func(r *http.Request) ([]identity.Assignment, error) {
		q := r.URL.Query()
		return s.Admin.Assignments(r.Context(), identity.AssignmentFilter{AccountID: q.Get("account_id"), ClientID: q.Get("client_id")})
	}))
	s.handle("POST", "/api/v1/assignments", false, s.apiAssign)
	s.handle("GET", "/api/v1/assignments/{id}", false, get(s, func(ctx context.Context, id string) (*identity.Assignment, error) {
		return s.Admin.Assignment(ctx, id)
	}))
	s.handle("POST", "/api/v1/assignments/{id}/withdraw", false, s.apiUnassign)

	s.handle("GET", "/api/v1/tokens", false, list(s, func(r *http.Request) ([]identity.Token, error) { return s.Admin.Tokens(r.Context()) }))
	s.handle("POST", "/api/v1/tokens", false, s.apiCreateToken)
	s.handle("GET", "/api/v1/tokens/{id}", false, get(s, func(ctx context.Context, id string) (*identity.Token, error) {
		return s.Admin.Token(ctx, id)
	}))
	s.handle("POST", "/api/v1/tokens/{id}/revoke", false, s.apiRevokeToken)

	s.routesAdminPages()
}

// accountCreateBody is what POST /api/v1/accounts takes.
type accountCreateBody struct {
	Username string          `json:"username"`
	Name     string          `json:"name"`
	Roles    []identity.Role `json:"roles"`
	ClientID string          `json:"client_id"`
	Password string          `json:"password"`
	Reason   string          `json:"reason"`
}

func (s *Server) apiCreateAccount(w http.ResponseWriter, r *http.Request) {
	var in accountCreateBody
	if err := decode(w, r, &in); err != nil {
		s.apiError(w, r, err)
		return
	}
	a := identity.Account{Username: in.Username, Name: in.Name, Roles: in.Roles, ClientID: in.ClientID}
	if err := s.Admin.CreateAccount(r.Context(), &a, in.Password, in.Reason); err != nil {
		s.apiError(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, &a)
}

// accountUpdateBody is what PUT /api/v1/accounts/{id} takes: the account as
// GET answers it, with a reason. Only name, roles and active change; the
// others, when sent, must be the account's own.
type accountUpdateBody struct {
	ID        string          `json:"id"`
	Username  string          `json:"username"`
	Name      string          `json:"name"`
	Roles     []identity.Role `json:"roles"`
	ClientID  string          `json:"client_id"`
	Active    *bool           `json:"active"`
	Source    string          `json:"source"`
	CreatedAt time.Time       `json:"created_at"`
	Version   int             `json:"version"`
	Reason    string          `json:"reason"`
}

func (s *Server) apiUpdateAccount(w http.ResponseWriter, r *http.Request) {
	var in accountUpdateBody
	if err := decode(w, r, &in); err != nil {
		s.apiError(w, r, err)
		return
	}
	if in.Active == nil {
		s.apiError(w, r, errs.Field("active", "web.say_whether_account_active"))
		return
	}
	a := identity.Account{ID: r.PathValue("id"), Username: in.Username, Name: in.Name, Roles: in.Roles, ClientID: in.ClientID,
		Active: *in.Active, Version: in.Version}
	if err := ifMatch(r, &a); err != nil {
		s.apiError(w, r, err)
		return
	}
	if err := s.Admin.UpdateAccount(r.Context(), &a, in.Reason); err != nil {
		s.apiError(w, r, err)
		return
	}
	setETag(w, &a)
	writeJSON(w, http.StatusOK, &a)
}

// reasonBody is the body of a withdrawal: why.
type reasonBody struct {
	Reason string `json:"reason"`
}

func (s *Server) apiWithdrawAccount(w http.ResponseWriter, r *http.Request) {
	var in reasonBody
	if err := decode(w, r, &in); err != nil {
		s.apiError(w, r, err)
		return
	}
	a, err := s.Admin.WithdrawAccount(r.Context(), r.PathValue("id"), in.Reason)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, a)
}

// apiUnlockAccount ends an account's lock, with the reason (who asked and
// how they were recognised): the same command as the account's page
// ("account.unlock"); 409 when the account is not locked.
func (s *Server) apiUnlockAccount(w http.ResponseWriter, r *http.Request) {
	var in reasonBody
	if err := decode(w, r, &in); err != nil {
		s.apiError(w, r, err)
		return
	}
	id := r.PathValue("id")
	if err := s.Admin.Unlock(r.Context(), id, in.Reason); err != nil {
		s.apiError(w, r, err)
		return
	}
	a, err := s.Admin.Account(r.Context(), id)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, a)
}

// passwordResetBody is what POST /api/v1/accounts/{id}/password takes.
type passwordResetBody struct {
	Password string `json:"password"`
	Reason   string `json:"reason"`
}

func (s *Server) apiResetPassword(w http.ResponseWriter, r *http.Request) {
	var in passwordResetBody
	if err := decode(w, r, &in); err != nil {
		s.apiError(w, r, err)
		return
	}
	if err := s.Admin.ResetPassword(r.Context(), r.PathValue("id"), in.Password, in.Reason); err != nil {
		s.apiError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// assignmentBody is what POST /api/v1/assignments takes.
type assignmentBody struct {
	AccountID string `json:"account_id"`
	ClientID  string `json:"client_id"`
	Reason    string `json:"reason"`
}

func (s *Server) apiAssign(w http.ResponseWriter, r *http.Request) {
	var in assignmentBody
	if err := decode(w, r, &in); err != nil {
		s.apiError(w, r, err)
		return
	}
	as := identity.Assignment{AccountID: in.AccountID, ClientID: in.ClientID}
	if err := s.Admin.Assign(r.Context(), &as, in.Reason); err != nil {
		s.apiError(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, &as)
}

func (s *Server) apiUnassign(w http.ResponseWriter, r *http.Request) {
	var in reasonBody
	if err := decode(w, r, &in); err != nil {
		s.apiError(w, r, err)
		return
	}
	if _, err := s.Admin.Unassign(r.Context(), r.PathValue("id"), in.Reason); err != nil {
		s.apiError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// tokenCreateBody is what POST /api/v1/tokens takes.
type tokenCreateBody struct {
	Name      string                `json:"name"`
	Scopes    []identity.TokenScope `json:"scopes"`
	ExpiresAt time.Time             `json:"expires_at"`
	Reason    string                `json:"reason"`
}

// tokenCreated is a new token with its secret, the one time it is shown.
type tokenCreated struct {
	identity.Token
	Secret string `json:"secret"`
}

func (s *Server) apiCreateToken(w http.ResponseWriter, r *http.Request) {
	var in tokenCreateBody
	if err := decode(w, r, &in); err != nil {
		s.apiError(w, r, err)
		return
	}
	t := identity.Token{Name: in.Name, Scopes: in.Scopes, ExpiresAt: in.ExpiresAt}
	secret, err := s.Admin.CreateToken(r.Context(), &t, in.Reason)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	// The secret must not linger in any cache.
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusCreated, tokenCreated{Token: t, Secret: secret})
}

func (s *Server) apiRevokeToken(w http.ResponseWriter, r *http.Request) {
	var in reasonBody
	if err := decode(w, r, &in); err != nil {
		s.apiError(w, r, err)
		return
	}
	t, err := s.Admin.RevokeToken(r.Context(), r.PathValue("id"), in.Reason)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, t)
}
