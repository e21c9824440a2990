package web

import (
	"net/http"

	"galenix/internal/identity"
)

// routesAuth registers signing in and out through the API.
func (s *Server) routesAuth() {
	s.handle("POST", "/api/v1/login", true, s.apiLogin)
	s.handle("POST", "/api/v1/logout", false, s.apiLogout)
	s.handle("GET", "/api/v1/me", false, s.apiMe)
}

// loginBody is what POST /api/v1/login takes.
type loginBody struct {
	Username string `json:"username"`
	Password string `json:"password"`
}

func (s *Server) apiLogin(w http.ResponseWriter, r *http.Request) {
	var in loginBody
	if err := decode(w, r, &in); err != nil {
		s.apiError(w, r, err)
		return
	}
	tok, _, err := s.Identity.Login(r.Context(), in.Username, in.Password, clientAddress(r))
	if err != nil {
		s.apiError(w, r, err)
		return
	}
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
	writeJSON(w, http.StatusOK, map[string]any{"id": a.UserID, "username": a.Username, "name": a.Name, "roles": a.Roles, "client_id": a.ClientID})
}
