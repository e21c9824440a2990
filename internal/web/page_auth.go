package web

import (
	"net/http"
	"time"

	"galenix/internal/errs"
	"galenix/internal/identity"
	"galenix/internal/text"
)

// loginPage is the sign-in form.
type loginPage struct {
	base
	Username string
	Next     string
	Error    string
	// NeedCode shows the second factor's field: the account has one.
	NeedCode bool
	// Shopfloor keeps the "shared shop-floor device" box ticked.
	Shopfloor bool
	// Reason says why the person signs in again: the session closed
	// after so many minutes without activity.
	Reason string
}

// loginForm is the sign-in form; reason=idle (with device=shopfloor for a
// shared shop-floor device) says that the session closed for inactivity,
// after the minutes the site's policy gives that kind of session, as the
// page that counted them down asks.
func (s *Server) loginForm(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	d := loginPage{base: s.base(r, ""), Next: localPath(q.Get("next")), Shopfloor: q.Get("device") == identity.DeviceShopfloor}
	if q.Get("reason") == "idle" {
		device := identity.DeviceBrowser
		if d.Shopfloor {
			device = identity.DeviceShopfloor
		}
		if p, err := s.Identity.SignInPolicy(r.Context()); err == nil {
			d.Reason = text.Render(d.Lang, "login.idle_reason", int(p.IdleFor(device)/time.Minute))
		} else {
			s.logIfInternal(r, err)
		}
	}
	s.render(w, r, http.StatusOK, "login", d)
}

// login checks the credentials, opens a session kept in a cookie the page
// scripts cannot read, and goes back to the page asked for, or first to
// the step the policy makes the person take (an expired password, a
// second factor to set up). Attempts are limited per address.
func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, MaxBody)
	if err := r.ParseForm(); err != nil {
		s.pageError(w, r, errs.E(errs.Invalid, "error.form"))
		return
	}
	d := loginPage{base: s.base(r, ""), Username: r.PostForm.Get("username"), Next: localPath(r.PostForm.Get("next")),
		Shopfloor: r.PostForm.Get("shopfloor") != "", NeedCode: r.PostForm.Get("totp") != ""}
	d.Path = "/login?next=" + urlQueryEscape(d.Next)
	addr := clientAddress(r)
	fail := func(err error) {
		s.logIfInternal(r, err)
		d.Error = errs.MessageOf(err, d.Lang)
		d.NeedCode = d.NeedCode || errs.FieldOf(err) == "totp"
		status, ok := statusOf[errs.CodeOf(err)]
		if !ok {
			status = http.StatusInternalServerError
		}
		s.render(w, r, status, "login", d)
	}
	if ok, wait := s.loginLimit.take(addr); !ok {
		retryAfter(w, wait)
		s.metrics.signinFailures.WithLabelValues(string(errs.RateLimited)).Inc()
		fail(errRateLimited())
		return
	}
	device := identity.DeviceBrowser
	if d.Shopfloor {
		device = identity.DeviceShopfloor
	}
	ctx := r.Context()
	tok, _, err := s.Identity.SignIn(ctx, identity.Credentials{Username: d.Username, Password: r.PostForm.Get("password"),
		TOTP: r.PostForm.Get("totp"), Device: device, Address: addr})
	if err != nil {
		s.signinFailed(addr, err)
		fail(err)
		return
	}
	s.loginLimit.give(addr)
	s.signedIn(tok, device)
	// A session cookie, with neither Max-Age nor Expires: it ends with the
	// browser, on a shared shop-floor tablet as on a desk. The server's
	// idle and absolute timeouts end the session itself whatever the
	// browser keeps.
	http.SetCookie(w, &http.Cookie{
		Name: sessionCookie, Value: tok, Path: "/",
		HttpOnly: true, Secure: s.Secure, SameSite: http.SameSiteStrictMode,
	})
	next := d.Next
	if a, err := s.Identity.Authenticate(ctx, tok); err == nil && a.Pending != "" {
		next = pendingPage[a.Pending] + "?next=" + urlQueryEscape(d.Next)
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
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
	forgetSession(w, s.Secure)
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}

// forgetSession removes the session cookie from the browser.
func forgetSession(w http.ResponseWriter, secure bool) {
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, Secure: secure, SameSite: http.SameSiteStrictMode})
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
