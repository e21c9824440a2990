package web

import (
	"net/http"
	"net/url"
	"time"

	"galenix/internal/errs"
	"galenix/internal/identity"
)

// The pages of machine tokens: the list, with revocation, and the form of
// a new token, whose secret is shown once, on the page that answers it.

func (s *Server) routesAdminTokenPages() {
	s.handle("GET", "/admin/tokens", false, s.adminTokens)
	s.handle("GET", "/admin/tokens/new", false, s.adminTokenNew)
	s.handle("POST", "/admin/tokens", false, s.adminTokenCreate)
	s.handle("POST", "/admin/tokens/{id}/revoke", false, s.adminTokenRevoke)
}

// tokenRow is a token as the list shows it.
type tokenRow struct {
	identity.Token
	Live    bool
	Expired bool
}

// adminTokensPage lists the machine tokens.
type adminTokensPage struct {
	adminBase
	Tokens []tokenRow
	// Failed is the token whose revocation was refused, Form its values
	// and refusal.
	Failed      string
	Form        *form
	FailMessage string
}

func (s *Server) adminTokens(w http.ResponseWriter, r *http.Request) {
	s.renderTokens(w, r, http.StatusOK, "", nil, nil)
}

func (s *Server) renderTokens(w http.ResponseWriter, r *http.Request, status int, failed string, vals url.Values, ferr error) {
	ts, err := s.Admin.Tokens(r.Context())
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	d := adminTokensPage{adminBase: s.adminBase(r, "tokens"), Failed: failed}
	d.Path = "/admin/tokens"
	if vals == nil {
		vals = url.Values{}
	}
	d.Form = &form{Values: vals, Err: ferr, lang: d.Lang, shown: []string{"reason"}}
	if ferr != nil {
		d.FailMessage = errs.MessageOf(ferr, d.Lang)
	}
	now := time.Now()
	for _, t := range ts {
		d.Tokens = append(d.Tokens, tokenRow{Token: t, Live: t.Live(now), Expired: t.RevokedAt.IsZero() && !t.Live(now)})
	}
	s.render(w, r, status, "admin_tokens", d)
}

// tokenFormPage is the form of a new machine token; once the token is
// recorded, the same page shows its secret, once.
type tokenFormPage struct {
	adminBase
	Form    *form
	Fields  []fieldView
	Created *identity.Token
	Secret  string
}

var tokenFields = []fieldSpec{
	{Name: "name", Kind: "text", Required: true, Max: 120, Wide: true},
	{Name: "scopes", Kind: "checks", Choices: "scopes", Wide: true},
	{Name: "expires_on", Kind: "date"},
	{Name: "reason", Kind: "textarea", Wide: true, Max: 500},
}

func (s *Server) renderTokenForm(w http.ResponseWriter, r *http.Request, status int, vals url.Values, ferr error) {
	d := tokenFormPage{adminBase: s.adminBase(r, "tokens")}
	d.Path = "/admin/tokens/new"
	f := &form{Values: vals, Err: ferr, lang: d.Lang}
	d.Form = f
	choices := map[string][]option{"scopes": enumOptions(d.Lang, "scope", identity.TokenScopes)}
	for _, spec := range tokenFields {
		f.shown = append(f.shown, spec.Name)
		d.Fields = append(d.Fields, newField(d.Lang, f, "token", spec, choices))
	}
	// The refusal of an expiry in the past names expires_at; the form
	// shows it under its date field.
	if errs.FieldOf(ferr) == "expires_at" {
		for i := range d.Fields {
			if d.Fields[i].Name == "expires_on" {
				d.Fields[i].Error = errs.MessageOf(ferr, d.Lang)
			}
		}
		f.shown = append(f.shown, "expires_at")
	}
	s.render(w, r, status, "admin_token_form", d)
}

func (s *Server) adminTokenNew(w http.ResponseWriter, r *http.Request) {
	a, _ := identity.ActorFrom(r.Context())
	if err := a.Require(identity.PermAccountsAdmin); err != nil {
		s.pageError(w, r, err)
		return
	}
	s.renderTokenForm(w, r, http.StatusOK, url.Values{"scopes": {string(identity.ScopeSiteRead)}}, nil)
}

func (s *Server) adminTokenCreate(w http.ResponseWriter, r *http.Request) {
	vals, err := postForm(w, r)
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	t := identity.Token{Name: vals.Get("name")}
	for _, sc := range vals["scopes"] {
		t.Scopes = append(t.Scopes, identity.TokenScope(sc))
	}
	var secret string
	on, err := day(vals, "expires_on")
	if err == nil && !on.IsZero() {
		// The token stops working as the day chosen begins, in the site's
		// time zone.
		t.ExpiresAt = time.Date(on.Year(), on.Month(), on.Day(), 0, 0, 0, 0, s.zone())
	}
	if err == nil {
		secret, err = s.Admin.CreateToken(r.Context(), &t, vals.Get("reason"))
	}
	if err != nil {
		s.logIfInternal(r, err)
		s.renderTokenForm(w, r, statusOfErr(err), vals, err)
		return
	}
	d := tokenFormPage{adminBase: s.adminBase(r, "tokens"), Created: &t, Secret: secret}
	d.Path = "/admin/tokens"
	s.render(w, r, http.StatusOK, "admin_token_form", d)
}

func (s *Server) adminTokenRevoke(w http.ResponseWriter, r *http.Request) {
	vals, err := postForm(w, r)
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	id := r.PathValue("id")
	if _, err := s.Admin.RevokeToken(r.Context(), id, vals.Get("reason")); err != nil {
		if errs.Is(err, errs.NotFound) {
			s.pageError(w, r, err)
			return
		}
		s.logIfInternal(r, err)
		s.renderTokens(w, r, statusOfErr(err), id, vals, err)
		return
	}
	http.Redirect(w, r, "/admin/tokens?saved=1", http.StatusSeeOther)
}
