package web

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"galenix/internal/audit"
	"galenix/internal/client"
	"galenix/internal/errs"
	"galenix/internal/identity"
)

// The administration pages: accounts and their roles, the client
// assignments of staff, machine tokens. The Admin service checks every
// permission; the pages only hide what would be refused anyway.

// routesAdminPages registers the administration pages.
func (s *Server) routesAdminPages() {
	s.handle("GET", "/admin/accounts", false, s.adminAccounts)
	s.handle("GET", "/admin/accounts/new", false, s.adminAccountNew)
	s.handle("POST", "/admin/accounts", false, s.adminAccountCreate)
	s.handle("GET", "/admin/accounts/{id}", false, s.adminAccount)
	s.handle("GET", "/admin/accounts/{id}/edit", false, s.adminAccountEdit)
	s.handle("POST", "/admin/accounts/{id}", false, s.adminAccountUpdate)
	s.handle("POST", "/admin/accounts/{id}/withdraw", false, s.adminAccountWithdraw)
	s.handle("POST", "/admin/accounts/{id}/password", false, s.adminAccountPassword)

	s.handle("GET", "/admin/assignments", false, s.adminAssignments)
	s.handle("POST", "/admin/assignments", false, s.adminAssign)
	s.handle("POST", "/admin/assignments/{id}/withdraw", false, s.adminUnassign)

	s.routesAdminTokenPages()
}

// adminBase is what every administration page shows: the tabs it may use.
type adminBase struct {
	base
	// CanAdmin: the actor administers accounts (PermAccountsAdmin).
	CanAdmin bool
	// SeesAll: the actor sees every account, the assignments and the
	// tokens (PermAccountsView); a client manager sees only their users.
	SeesAll bool
	Tab     string
}

func (s *Server) adminBase(r *http.Request, tab string) adminBase {
	b := s.base(r, "admin")
	return adminBase{base: b, CanAdmin: b.Actor.Can(identity.PermAccountsAdmin), SeesAll: b.Actor.Can(identity.PermAccountsView), Tab: tab}
}

// clientsByID are the client laboratories whose names the actor may see.
func (s *Server) clientsByID(r *http.Request) (map[string]*client.Client, []client.Client, error) {
	cs, err := s.Clients.Clients(r.Context())
	if err != nil {
		return nil, nil, err
	}
	return byID(cs, func(c client.Client) string { return c.ID }), cs, nil
}

// adminAccountsPage lists accounts.
type adminAccountsPage struct {
	adminBase
	Accounts  []identity.Account
	Clients   map[string]*client.Client
	ClientIDs []client.Client
	ClientID  string
	CanCreate bool
	// KeyFingerprint is the SHA-256 fingerprint of the site's audit
	// signing key, in groups of eight digits, shown to administrators so
	// that they can give it to clients and inspectors out of band.
	KeyFingerprint string
}

func (s *Server) adminAccounts(w http.ResponseWriter, r *http.Request) {
	clientID := r.URL.Query().Get("client_id")
	accounts, err := s.Admin.Accounts(r.Context(), identity.AccountFilter{ClientID: clientID})
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	byClient, cs, err := s.clientsByID(r)
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	d := adminAccountsPage{adminBase: s.adminBase(r, "accounts"), Accounts: accounts, Clients: byClient, ClientID: clientID}
	d.CanCreate = d.Actor.MayManageAccounts() == nil
	if d.SeesAll {
		d.ClientIDs = cs
	}
	if d.CanAdmin && s.AuditKey != nil {
		if key := s.AuditKey(); key != nil {
			d.KeyFingerprint = groupDigits(audit.KeyFingerprintOf(key), 8)
		}
	}
	s.render(w, r, http.StatusOK, "admin_accounts", d)
}

// groupDigits writes s in groups of n characters, for a person to read
// aloud and compare.
func groupDigits(s string, n int) string {
	var b strings.Builder
	for i := 0; i < len(s); i += n {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(s[i:min(i+n, len(s))])
	}
	return b.String()
}

// adminAccountPage shows one account: its roles, its client assignments,
// the forms that change them, and the trail of its access rights.
type adminAccountPage struct {
	adminBase
	Account     *identity.Account
	Client      *client.Client
	Assignments []identity.Assignment
	// Assignable are the clients the account may still be assigned to.
	Assignable  []client.Client
	CanWithdraw bool
	Trail       []auditRow
	// Failed names the form whose submission was refused, Form its values
	// and FailMessage its refusal.
	Failed      string
	Form        *form
	FailMessage string
}

// adminDateTime writes t, to the second, in the site's zone.
func adminDateTime(lang string, t time.Time, zone *time.Location) string {
	if lang == langEN {
		return t.In(zone).Format("2 Jan 2006 15:04:05")
	}
	return t.In(zone).Format("02/01/2006 15:04:05")
}

func (s *Server) adminAccount(w http.ResponseWriter, r *http.Request) {
	s.renderAccount(w, r, r.PathValue("id"), http.StatusOK, "", nil, nil)
}

// renderAccount draws the page of account id; after a refused form, with
// that form's values and refusal under the refusal's status.
func (s *Server) renderAccount(w http.ResponseWriter, r *http.Request, id string, status int, failed string, vals url.Values, ferr error) {
	ctx := r.Context()
	a, err := s.Admin.Account(ctx, id)
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	byClient, cs, err := s.clientsByID(r)
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	d := adminAccountPage{adminBase: s.adminBase(r, "accounts"), Account: a, Client: byClient[a.ClientID], Failed: failed}
	d.Path = "/admin/accounts/" + url.PathEscape(id)
	d.Form = &form{Values: vals, Err: ferr, lang: d.Lang, shown: []string{"reason", "password", "client_id"}}
	if vals == nil {
		d.Form.Values = url.Values{}
	}
	d.CanWithdraw = a.Active && d.Actor.CheckWithdraw(a) == nil
	if a.ClientID == "" && d.SeesAll {
		if d.Assignments, err = s.Admin.Assignments(ctx, identity.AssignmentFilter{AccountID: a.ID}); err != nil {
			s.pageError(w, r, err)
			return
		}
		for _, c := range cs {
			if !slices.ContainsFunc(d.Assignments, func(as identity.Assignment) bool { return as.ClientID == c.ID }) {
				d.Assignable = append(d.Assignable, c)
			}
		}
	}
	trail, err := s.Audit.Entries(ctx, audit.Filter{Entity: "account", EntityID: a.ID})
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	for _, e := range trail {
		row := s.auditRowOf(d.Lang, e)
		row.When = adminDateTime(d.Lang, e.At, s.zone())
		d.Trail = append(d.Trail, row)
	}
	if ferr != nil {
		d.FailMessage = errs.MessageOf(ferr, d.Lang)
	}
	s.render(w, r, status, "admin_account", d)
}

// accountRefused shows the account page again after a refused form.
func (s *Server) accountRefused(w http.ResponseWriter, r *http.Request, failed string, vals url.Values, err error) {
	// A refusal of the whole request, or a record that does not exist,
	// is its own page.
	if (errs.Is(err, errs.NotFound) && errs.FieldOf(err) == "") || errs.Is(err, errs.Forbidden) {
		s.pageError(w, r, err)
		return
	}
	s.logIfInternal(r, err)
	status, ok := statusOf[errs.CodeOf(err)]
	if !ok {
		status = http.StatusInternalServerError
	}
	s.renderAccount(w, r, r.PathValue("id"), status, failed, vals, err)
}

func (s *Server) adminAccountWithdraw(w http.ResponseWriter, r *http.Request) {
	vals, err := postForm(w, r)
	if err == nil {
		_, err = s.Admin.WithdrawAccount(r.Context(), r.PathValue("id"), vals.Get("reason"))
	}
	if err != nil {
		s.accountRefused(w, r, "withdraw", vals, err)
		return
	}
	http.Redirect(w, r, "/admin/accounts/"+url.PathEscape(r.PathValue("id"))+"?saved=1", http.StatusSeeOther)
}

func (s *Server) adminAccountPassword(w http.ResponseWriter, r *http.Request) {
	vals, err := postForm(w, r)
	if err == nil {
		err = s.Admin.ResetPassword(r.Context(), r.PathValue("id"), vals.Get("password"), vals.Get("reason"))
	}
	if err != nil {
		// The password typed is never sent back.
		vals.Del("password")
		s.accountRefused(w, r, "password", vals, err)
		return
	}
	http.Redirect(w, r, "/admin/accounts/"+url.PathEscape(r.PathValue("id"))+"?saved=1", http.StatusSeeOther)
}

// --- the account forms

// accountFormPage is the form of a new account or of an account's change.
type accountFormPage struct {
	adminBase
	Title   string
	Action  string
	Cancel  string
	Edit    bool
	Form    *form
	Fields  []fieldView
	Comment fieldView
	// Version is the version of the account edited.
	Version string
}

var (
	newAccountFields = []fieldSpec{
		{Name: "username", Kind: "text", Required: true, Max: 64},
		{Name: "name", Kind: "text", Required: true, Max: 120},
		{Name: "roles", Kind: "checks", Choices: "roles", Wide: true},
		{Name: "client_id", Kind: "select", Choices: "clients", Wide: true},
	}
	editAccountFields = []fieldSpec{
		{Name: "name", Kind: "text", Required: true, Max: 120},
		{Name: "roles", Kind: "checks", Choices: "roles", Wide: true},
		{Name: "active", Kind: "checkbox", Wide: true},
	}
)

// renderAccountForm draws the form of a new account (id empty) or of the
// account id, with the values typed and the refusal, if any.
func (s *Server) renderAccountForm(w http.ResponseWriter, r *http.Request, status int, id string, vals url.Values, ferr error) {
	d := accountFormPage{adminBase: s.adminBase(r, "accounts"), Edit: id != "", Action: "/admin/accounts", Cancel: "/admin/accounts"}
	f := &form{Values: vals, Err: ferr, lang: d.Lang}
	d.Form = f
	a := d.Actor
	var roles []identity.Role
	var clients []option
	if a.Can(identity.PermAccountsAdmin) {
		roles = identity.Roles
		_, cs, err := s.clientsByID(r)
		if err != nil {
			s.pageError(w, r, err)
			return
		}
		for _, c := range cs {
			clients = append(clients, option{Value: c.ID, Label: c.Name + " (" + c.Code + ")"})
		}
		clients = withNone(d.Lang, "admin.staff_account", clients)
	} else {
		// A client manager creates their own laboratory's users only.
		roles = []identity.Role{identity.RoleClientUser}
		if c, err := s.Clients.Client(r.Context(), a.ClientID); err == nil {
			clients = []option{{Value: c.ID, Label: c.Name + " (" + c.Code + ")"}}
		}
	}
	choices := map[string][]option{"roles": enumOptions(d.Lang, "userrole", roles), "clients": clients}
	specs := newAccountFields
	d.Title = tr(d.Lang, "account.new")
	if d.Edit {
		specs = editAccountFields
		d.Version = vals.Get("version")
		d.Title = tr(d.Lang, "account.edit")
		d.Action = "/admin/accounts/" + url.PathEscape(id)
		d.Cancel = d.Action
	}
	if r.Method == http.MethodPost {
		// After a refused post, the language switch goes back to the form.
		d.Path = "/admin/accounts/new"
		if d.Edit {
			d.Path = "/admin/accounts/" + url.PathEscape(id) + "/edit"
		}
	}
	for _, spec := range specs {
		f.shown = append(f.shown, spec.Name)
		d.Fields = append(d.Fields, newField(d.Lang, f, "account", spec, choices))
	}
	f.shown = append(f.shown, "password", "reason")
	// The reason of a change is required; a creation may carry a comment.
	entity := "accountnew"
	if d.Edit {
		entity = "account"
	}
	d.Comment = newField(d.Lang, f, entity, fieldSpec{Name: "reason", Kind: "textarea", Required: d.Edit, Wide: true, Max: 500}, nil)
	s.render(w, r, status, "admin_account_form", d)
}

func (s *Server) adminAccountNew(w http.ResponseWriter, r *http.Request) {
	a, _ := identity.ActorFrom(r.Context())
	if err := a.MayManageAccounts(); err != nil {
		s.pageError(w, r, err)
		return
	}
	vals := url.Values{"roles": {string(identity.RoleClientUser)}}
	if a.Can(identity.PermAccountsAdmin) {
		vals = url.Values{"client_id": {r.URL.Query().Get("client_id")}}
	}
	s.renderAccountForm(w, r, http.StatusOK, "", vals, nil)
}

func (s *Server) adminAccountCreate(w http.ResponseWriter, r *http.Request) {
	vals, err := postForm(w, r)
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	a := identity.Account{Username: vals.Get("username"), Name: vals.Get("name"), ClientID: vals.Get("client_id")}
	for _, role := range vals["roles"] {
		a.Roles = append(a.Roles, identity.Role(role))
	}
	if err := s.Admin.CreateAccount(r.Context(), &a, vals.Get("password"), vals.Get("reason")); err != nil {
		s.logIfInternal(r, err)
		vals.Del("password")
		s.renderAccountForm(w, r, statusOfErr(err), "", vals, err)
		return
	}
	http.Redirect(w, r, "/admin/accounts/"+url.PathEscape(a.ID)+"?saved=1", http.StatusSeeOther)
}

func (s *Server) adminAccountEdit(w http.ResponseWriter, r *http.Request) {
	// An account out of sight is not found, before any refusal, so that
	// its existence does not leak.
	a, err := s.Admin.Account(r.Context(), r.PathValue("id"))
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	actor, _ := identity.ActorFrom(r.Context())
	if err := actor.Require(identity.PermAccountsAdmin); err != nil {
		s.pageError(w, r, err)
		return
	}
	s.renderAccountForm(w, r, http.StatusOK, a.ID, accountValues(a), nil)
}

// accountValues are the edit form's values of an account, with its
// version.
func accountValues(a *identity.Account) url.Values {
	vals := url.Values{"name": {a.Name}, "version": {strconv.Itoa(a.Version)}}
	for _, role := range a.Roles {
		vals.Add("roles", string(role))
	}
	if a.Active {
		vals.Set("active", "on")
	}
	return vals
}

func (s *Server) adminAccountUpdate(w http.ResponseWriter, r *http.Request) {
	vals, err := postForm(w, r)
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	a := identity.Account{ID: r.PathValue("id"), Name: vals.Get("name"), Active: checked(vals, "active")}
	if a.Version, err = formVersion(vals); err != nil {
		s.pageError(w, r, err)
		return
	}
	for _, role := range vals["roles"] {
		a.Roles = append(a.Roles, identity.Role(role))
	}
	err = s.Admin.UpdateAccount(r.Context(), &a, vals.Get("reason"))
	if errs.Is(err, errs.Stale) {
		// Someone else saved the account meanwhile: show it as it is now,
		// with the reason why nothing was saved.
		cur, gerr := s.Admin.Account(r.Context(), a.ID)
		if gerr != nil {
			s.pageError(w, r, gerr)
			return
		}
		cv := accountValues(cur)
		cv.Set("reason", vals.Get("reason"))
		s.renderAccountForm(w, r, http.StatusPreconditionFailed, a.ID, cv, err)
		return
	}
	if errs.Is(err, errs.NotFound) && errs.FieldOf(err) == "" {
		s.pageError(w, r, err)
		return
	}
	if err != nil {
		s.logIfInternal(r, err)
		s.renderAccountForm(w, r, statusOfErr(err), a.ID, vals, err)
		return
	}
	http.Redirect(w, r, "/admin/accounts/"+url.PathEscape(a.ID)+"?saved=1", http.StatusSeeOther)
}

// statusOfErr is the HTTP status of an error's code.
func statusOfErr(err error) int {
	if status, ok := statusOf[errs.CodeOf(err)]; ok {
		return status
	}
	return http.StatusInternalServerError
}
