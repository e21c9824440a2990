package web

import (
	"net/http"
	"slices"
	"strings"

	"galenix/internal/errs"
	"galenix/internal/identity"
)

// pendingRoutes are the routes a session may use while a step is pending:
// those of the step itself, who is signed in, and signing out.
var pendingRoutes = map[identity.Pending][]string{
	identity.PendingPassword:         passwordRoutes,
	identity.PendingPasswordAdminSet: passwordRoutes,
	identity.PendingTOTP: {
		"POST /api/v1/totp/enroll", "POST /api/v1/totp/confirm", "GET /api/v1/me", "POST /api/v1/logout",
		"GET /account/totp", "POST /account/totp", "POST /account/totp/confirm",
	},
}

// passwordRoutes are those of changing one's own password, whether it
// expired or an administrator set it. No signature is among them.
var passwordRoutes = []string{
	"POST /api/v1/password", "GET /api/v1/me", "POST /api/v1/logout",
	"GET /account/password", "POST /account/password",
}

// pendingPage is the page where each pending step is taken.
var pendingPage = map[identity.Pending]string{
	identity.PendingPassword:         "/account/password",
	identity.PendingPasswordAdminSet: "/account/password",
	identity.PendingTOTP:             "/account/totp",
}

// pendingAllows reports whether a session with the step pending may use the
// route pattern.
func pendingAllows(p identity.Pending, pattern string) bool {
	return slices.Contains(pendingRoutes[p], pattern)
}

// pendingView is the page that refuses a request while a step is pending,
// and leads to the step.
type pendingView struct {
	base
	Message string
	Link    string
}

// pendingRefused answers 403 to a request the pending step does not allow:
// in the error envelope for the API, with a page leading to the step
// otherwise.
func (s *Server) pendingRefused(w http.ResponseWriter, r *http.Request, p identity.Pending) {
	err := p.Refusal()
	if strings.HasPrefix(r.URL.Path, "/api/") {
		s.apiError(w, r, err)
		return
	}
	d := pendingView{base: s.base(r, ""), Link: pendingPage[p]}
	d.Message = errs.MessageOf(err, d.Lang)
	s.render(w, r, http.StatusForbidden, "pending", d)
}
