package web

import (
	"bytes"
	"encoding/base64"
	"html/template"
	"image/png"
	"net/http"
	"time"

	"github.com/pquerna/otp"

	"galenix/internal/errs"
	"galenix/internal/identity"
)

// routesAccountPages registers a person's own account pages: their sign-in,
// their password, their second factor, their sessions.
func (s *Server) routesAccountPages() {
	s.handle("GET", "/account", false, s.accountPage)
	s.handle("POST", "/account/sessions/revoke-all", false, s.revokeSessions)
	s.handle("GET", "/account/password", false, s.passwordForm)
	s.handle("POST", "/account/password", false, s.changePassword)
	s.handle("GET", "/account/totp", false, s.totpPage)
	s.handle("POST", "/account/totp", false, s.enrollTOTP)
	s.handle("POST", "/account/totp/confirm", false, s.confirmTOTP)
}

// accountView is the "my account" page.
type accountView struct {
	base
	Info      identity.AccountSecurity
	Changed   string
	Expires   string
	Sessions  []sessionRow
	MinLength int
}

type sessionRow struct {
	identity.SessionInfo
	Opened, Seen string
}

func (s *Server) accountPage(w http.ResponseWriter, r *http.Request) {
	info, err := s.Identity.MyAccount(r.Context())
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	d := accountView{base: s.base(r, "account"), Info: info}
	d.Changed = formatDateTime(d.Lang, info.PasswordChangedAt, s.zone())
	if !info.PasswordExpiresAt.IsZero() {
		d.Expires = formatDateTime(d.Lang, info.PasswordExpiresAt, s.zone())
	}
	for _, si := range info.Sessions {
		d.Sessions = append(d.Sessions, sessionRow{SessionInfo: si, Opened: formatDateTime(d.Lang, si.CreatedAt, s.zone()), Seen: formatDateTime(d.Lang, si.LastSeen, s.zone())})
	}
	s.render(w, r, http.StatusOK, "account", d)
}

// revokeSessions signs the person out everywhere, this browser included.
func (s *Server) revokeSessions(w http.ResponseWriter, r *http.Request) {
	if _, err := s.Identity.RevokeSessions(r.Context()); err != nil {
		s.pageError(w, r, err)
		return
	}
	forgetSession(w, s.Secure)
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}

// passwordView is the form that changes one's own password.
type passwordView struct {
	base
	Next    string
	Expired bool
	// AdminSet: an administrator set the password, which its owner must
	// change first.
	AdminSet bool
	Policy   identity.Policy
	Error    string
	// Field names the field at fault.
	Field string
}

func (s *Server) passwordView(r *http.Request) passwordView {
	d := passwordView{base: s.base(r, "account"), Next: localPath(r.URL.Query().Get("next"))}
	d.Expired = d.Actor.Pending == identity.PendingPassword
	d.AdminSet = d.Actor.Pending == identity.PendingPasswordAdminSet
	d.Policy, _ = s.Identity.SignInPolicy(r.Context())
	return d
}

func (s *Server) passwordForm(w http.ResponseWriter, r *http.Request) {
	s.render(w, r, http.StatusOK, "account_password", s.passwordView(r))
}

func (s *Server) changePassword(w http.ResponseWriter, r *http.Request) {
	if err := s.parseForm(w, r); err != nil {
		s.pageError(w, r, err)
		return
	}
	d := s.passwordView(r)
	d.Next = localPath(r.PostForm.Get("next"))
	// The second typing guards against a typo nobody could sign in with.
	next := r.PostForm.Get("new")
	var err error
	if next != r.PostForm.Get("confirm") {
		err = errs.Field("confirm", "web.two_new_passwords_differ")
	} else {
		err = s.Identity.ChangePassword(r.Context(), r.PostForm.Get("current"), next)
	}
	if err != nil {
		s.logIfInternal(r, err)
		d.Error, d.Field = errs.MessageOf(err, d.Lang), errs.FieldOf(err)
		status, ok := statusOf[errs.CodeOf(err)]
		if !ok {
			status = http.StatusInternalServerError
		}
		s.render(w, r, status, "account_password", d)
		return
	}
	if d.Expired || d.AdminSet {
		http.Redirect(w, r, d.Next, http.StatusSeeOther)
		return
	}
	http.Redirect(w, r, "/account?saved=1", http.StatusSeeOther)
}

// totpView is the page that sets up the second factor.
type totpView struct {
	base
	Next     string
	Enabled  bool
	Required bool
	// Enrollment, once started: the secret, its address and its QR code.
	Secret string
	URL    string
	QR     template.URL
	Error  string
}

func (s *Server) totpView(r *http.Request) (totpView, error) {
	info, err := s.Identity.MyAccount(r.Context())
	if err != nil {
		return totpView{}, err
	}
	next := r.URL.Query().Get("next")
	if r.PostForm != nil && r.PostForm.Has("next") {
		next = r.PostForm.Get("next")
	}
	return totpView{base: s.base(r, "account"), Next: localPath(next), Enabled: info.TOTPEnabled, Required: info.TOTPRequired}, nil
}

func (s *Server) totpPage(w http.ResponseWriter, r *http.Request) {
	d, err := s.totpView(r)
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "account_totp", d)
}

// enrollTOTP shows the secret to enter in the authenticator app, as text
// and as a QR code, with the field of the code that confirms it.
func (s *Server) enrollTOTP(w http.ResponseWriter, r *http.Request) {
	if err := s.parseForm(w, r); err != nil {
		s.pageError(w, r, err)
		return
	}
	d, err := s.totpView(r)
	if err == nil {
		err = s.enrollment(r, &d)
	}
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "account_totp", d)
}

// enrollment fills in the secret being set up.
func (s *Server) enrollment(r *http.Request, d *totpView) error {
	en, err := s.Identity.EnrollTOTP(r.Context())
	if err != nil {
		return err
	}
	d.Secret, d.URL = en.Secret, en.URL
	d.QR = qrCode(en.URL)
	return nil
}

func (s *Server) confirmTOTP(w http.ResponseWriter, r *http.Request) {
	if err := s.parseForm(w, r); err != nil {
		s.pageError(w, r, err)
		return
	}
	d, err := s.totpView(r)
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	err = s.Identity.ConfirmTOTP(r.Context(), r.PostForm.Get("code"))
	if err == nil {
		if d.Required {
			http.Redirect(w, r, d.Next, http.StatusSeeOther)
			return
		}
		http.Redirect(w, r, "/account?saved=1", http.StatusSeeOther)
		return
	}
	if !errs.Is(err, errs.Invalid) {
		s.pageError(w, r, err)
		return
	}
	d.Error = errs.MessageOf(err, d.Lang)
	if err := s.enrollment(r, &d); err != nil {
		s.pageError(w, r, err)
		return
	}
	s.render(w, r, http.StatusBadRequest, "account_totp", d)
}

// parseForm reads a posted form of at most MaxBody bytes.
func (s *Server) parseForm(w http.ResponseWriter, r *http.Request) error {
	r.Body = http.MaxBytesReader(w, r.Body, MaxBody)
	if err := r.ParseForm(); err != nil {
		return errs.E(errs.Invalid, "error.form")
	}
	return nil
}

// qrCode is the otpauth:// address as a QR code, a PNG data: URL the
// Content Security Policy allows (img-src data:). Empty if it cannot be
// drawn: the secret is shown as text anyway.
func qrCode(url string) template.URL {
	key, err := otp.NewKeyFromURL(url)
	if err != nil {
		return ""
	}
	img, err := key.Image(240, 240)
	if err != nil {
		return ""
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return ""
	}
	// The address is ours and the encoding base64: safe as an image source.
	return template.URL("data:image/png;base64," + base64.StdEncoding.EncodeToString(buf.Bytes()))
}

// formatDateTime writes a moment in the site's zone, to the minute.
func formatDateTime(lang string, t time.Time, zone *time.Location) string {
	if t.IsZero() {
		return "—"
	}
	if lang == langEN {
		return t.In(zone).Format("2 Jan 2006 15:04")
	}
	return t.In(zone).Format("02/01/2006 15:04")
}
