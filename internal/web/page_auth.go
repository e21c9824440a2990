package web

import (
	"net/http"
	"time"

	"galenix/internal/errs"
	"galenix/internal/identity"
)

// loginPage is the sign-in form.
type loginPage struct {
	base
	Username string
	Next     string
	Error    string
}

func (s *Server) loginForm(w http.ResponseWriter, r *http.Request) {
	s.render(w, r, http.StatusOK, "login", loginPage{base: s.base(r, ""), Next: localPath(r.URL.Query().Get("next"))})
}

// login checks the credentials, opens a session kept in a cookie the page
// scripts cannot read, and goes back to the page asked for.
func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, MaxBody)
	if err := r.ParseForm(); err != nil {
		s.pageError(w, r, errs.E(errs.Invalid, tr(langEN, "error.form"), tr(langFR, "error.form")))
		return
	}
	d := loginPage{base: s.base(r, ""), Username: r.PostForm.Get("username"), Next: localPath(r.PostForm.Get("next"))}
	d.Path = "/login?next=" + urlQueryEscape(d.Next)
	tok, _, err := s.Identity.Login(r.Context(), d.Username, r.PostForm.Get("password"), clientAddress(r))
	if err != nil {
		s.logIfInternal(r, err)
		d.Error = errs.MessageOf(err, d.Lang)
		status, ok := statusOf[errs.CodeOf(err)]
		if !ok {
			status = http.StatusInternalServerError
		}
		s.render(w, r, status, "login", d)
		return
	}
	http.SetCookie(w, &http.Cookie{
		Name: sessionCookie, Value: tok, Path: "/",
		MaxAge: int(identity.SessionAbsolute / time.Second), HttpOnly: true, Secure: s.Secure, SameSite: http.SameSiteStrictMode,
	})
	http.Redirect(w, r, d.Next, http.StatusSeeOther)
}

// logout ends the session, if any, and forgets the cookie.
func (s *Server) logout(w http.ResponseWriter, r *http.Request) {
	if c, err := r.Cookie(sessionCookie); err == nil && c.Value != "" {
		if _, ok := identity.ActorFrom(r.Context()); ok {
			if err := s.Identity.Logout(r.Context(), c.Value); err != nil {
				s.pageError(w, r, err)
				return
			}
		}
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, Secure: s.Secure, SameSite: http.SameSiteStrictMode})
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}

// setLang keeps the chosen language in a cookie and goes back to the page.
func (s *Server) setLang(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	lang := langFR
	if q.Get("to") == langEN {
		lang = langEN
	}
	http.SetCookie(w, &http.Cookie{
		Name: langCookie, Value: lang, Path: "/", MaxAge: 365 * 24 * 3600,
		HttpOnly: true, Secure: s.Secure, SameSite: http.SameSiteLaxMode,
	})
	http.Redirect(w, r, localPath(q.Get("next")), http.StatusSeeOther)
}
