package web

import (
	"net/http"
	"net/url"

	"galenix/internal/client"
	"galenix/internal/errs"
	"galenix/internal/identity"
)

// The pages of client assignments: the list, per client, and the forms
// that assign a member of staff to a client and withdraw the assignment.

// adminAssignmentsPage lists the client assignments of staff, for one
// client or all.
type adminAssignmentsPage struct {
	adminBase
	Assignments []identity.Assignment
	Clients     []client.Client
	ClientID    string
}

func (s *Server) adminAssignments(w http.ResponseWriter, r *http.Request) {
	clientID := r.URL.Query().Get("client_id")
	as, err := s.Admin.Assignments(r.Context(), identity.AssignmentFilter{ClientID: clientID})
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	_, cs, err := s.clientsByID(r)
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "admin_assignments", adminAssignmentsPage{adminBase: s.adminBase(r, "assignments"),
		Assignments: as, Clients: cs, ClientID: clientID})
}

// adminAssign assigns the account of the form to a client, from the
// account's page.
func (s *Server) adminAssign(w http.ResponseWriter, r *http.Request) {
	vals, err := postForm(w, r)
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	as := identity.Assignment{AccountID: vals.Get("account_id"), ClientID: vals.Get("client_id")}
	if err := s.Admin.Assign(r.Context(), &as, vals.Get("reason")); err != nil {
		if errs.FieldOf(err) == "account_id" {
			s.pageError(w, r, err)
			return
		}
		r.SetPathValue("id", as.AccountID)
		s.accountRefused(w, r, "assign", vals, err)
		return
	}
	http.Redirect(w, r, "/admin/accounts/"+url.PathEscape(as.AccountID)+"?saved=1", http.StatusSeeOther)
}

// adminUnassign withdraws an assignment, from the account's page or the
// list of assignments (back names which).
func (s *Server) adminUnassign(w http.ResponseWriter, r *http.Request) {
	vals, err := postForm(w, r)
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	id := r.PathValue("id")
	cur, err := s.Admin.Assignment(r.Context(), id)
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	if _, err := s.Admin.Unassign(r.Context(), id, vals.Get("reason")); err != nil {
		vals.Set("assignment_id", id)
		r.SetPathValue("id", cur.AccountID)
		s.accountRefused(w, r, "unassign", vals, err)
		return
	}
	back := "/admin/accounts/" + url.PathEscape(cur.AccountID) + "?saved=1"
	if vals.Get("back") == "list" {
		back = "/admin/assignments?saved=1"
	}
	http.Redirect(w, r, back, http.StatusSeeOther)
}
