package web

import (
	"net/http"
	"net/url"
	"slices"

	"galenix/internal/client"
	"galenix/internal/document"
	"galenix/internal/errs"
	"galenix/internal/esign"
	"galenix/internal/identity"
	"galenix/internal/project"
)

// The documents' pages: the list of a reader's documents, a document with
// its versions (download, approval by signature, a new version), the
// upload form, and the administrator's end of a client's contract (legal
// hold, and the destruction of the client's key, signed). The service
// checks every permission and the client scope; the pages only hide the
// forms that would be refused.

// routesDocumentPages registers the documents' pages.
func (s *Server) routesDocumentPages() {
	write := s.handleForm
	s.handle("GET", "/documents", false, s.documentsPage)
	s.handle("GET", "/documents/new", false, func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		s.renderDocumentNew(w, r, http.StatusOK, &form{Values: url.Values{"client_id": {q.Get("client_id")}, "project_id": {q.Get("project_id")}}, lang: langOf(r)})
	})
	s.handle("POST", "/documents/new", false, s.documentCreate)
	s.handle("GET", "/documents/{id}", false, func(w http.ResponseWriter, r *http.Request) { s.renderDocument(w, r, http.StatusOK, "", nil) })
	s.handle("POST", "/documents/{id}/versions", false, s.documentVersionCreate)
	write("/documents/{id}/approve", s.documentApprove)
	s.handle("GET", "/clients/{id}/end-of-contract", false, func(w http.ResponseWriter, r *http.Request) {
		s.renderEndOfContract(w, r, http.StatusOK, "", nil)
	})
	write("/clients/{id}/legal-hold", s.legalHoldForm)
	write("/clients/{id}/shred", s.shredForm)
}

// docBase is what every document page has: the production pages'
// helpers (When), no tabs.
func (s *Server) docBase(r *http.Request) prodBase {
	p := s.prodBase(r, "documents", "")
	p.Tabs = nil
	return p
}

// clientOptions are the clients in the reader's scope, for a form.
func (s *Server) clientOptions(r *http.Request, a identity.Actor) ([]option, map[string]client.Client, error) {
	cs, err := s.Clients.Clients(r.Context())
	if err != nil {
		return nil, nil, err
	}
	var out []option
	byID := map[string]client.Client{}
	for _, c := range cs {
		if a.ClientScope().Has(c.ID) {
			out = append(out, option{Value: c.ID, Label: c.Code + " — " + c.Name})
			byID[c.ID] = c
		}
	}
	return out, byID, nil
}

type documentsPage struct {
	prodBase
	Documents []document.Document
	Clients   map[string]client.Client
	// Category is the filter as given.
	Category   string
	Categories []document.Category
	CanUpload  bool
	// EndOfContract lists the clients whose end of contract the reader
	// (an administrator, or quality assurance for the legal hold) may
	// open.
	EndOfContract []option
}

func (s *Server) documentsPage(w http.ResponseWriter, r *http.Request) {
	svc, err := s.documents()
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	d := documentsPage{prodBase: s.docBase(r), Categories: document.Categories, Category: r.URL.Query().Get("category")}
	if !slices.Contains(document.Categories, document.Category(d.Category)) {
		d.Category = ""
	}
	if d.Documents, err = svc.Documents(r.Context(), document.Filter{Category: document.Category(d.Category)}); err != nil {
		s.pageError(w, r, err)
		return
	}
	var opts []option
	if opts, d.Clients, err = s.clientOptions(r, d.Actor); err != nil {
		s.pageError(w, r, err)
		return
	}
	d.CanUpload = document.MayWrite(d.Actor) == nil
	if !d.Actor.IsClient() && (d.Actor.Can(identity.PermAccountsAdmin) || d.Actor.Can(identity.PermQualityDecide)) {
		d.EndOfContract = opts
	}
	s.render(w, r, http.StatusOK, "documents", d)
}

type documentNewPage struct {
	prodBase
	Form         *form
	Clients      []option
	Categories   []document.Category
	ContentTypes []string
	MaxMiB       int
	// Projects are the projects in the reader's scope a document may be
	// filed under.
	Projects []option
}

func (s *Server) renderDocumentNew(w http.ResponseWriter, r *http.Request, status int, f *form) {
	d := documentNewPage{prodBase: s.docBase(r), Form: f, Categories: document.Categories, ContentTypes: document.ContentTypes, MaxMiB: document.MaxSize >> 20}
	if err := document.MayWrite(d.Actor); err != nil {
		s.pageError(w, r, err)
		return
	}
	if !d.Actor.IsClient() {
		var err error
		if d.Clients, _, err = s.clientOptions(r, d.Actor); err != nil {
			s.pageError(w, r, err)
			return
		}
	}
	if s.Projects != nil && project.MayRead(d.Actor) == nil {
		ps, err := s.Projects.Projects(r.Context(), project.Filter{})
		if err != nil {
			s.pageError(w, r, err)
			return
		}
		for _, p := range ps {
			d.Projects = append(d.Projects, option{Value: p.ID, Label: p.Code + " — " + p.Title})
		}
	}
	s.render(w, r, status, "document_new", d)
}

// documentCreate uploads a new document from the form (multipart).
func (s *Server) documentCreate(w http.ResponseWriter, r *http.Request) {
	svc, err := s.documents()
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	f, field, err := upload(w, r)
	vals := url.Values{}
	if field != nil {
		for _, k := range []string{"client_id", "project_id", "category", "title"} {
			vals.Set(k, field(k))
		}
	}
	var d *document.Document
	if err == nil {
		d, err = svc.Upload(r.Context(), document.NewDocument{ClientID: vals.Get("client_id"), ProjectID: vals.Get("project_id"),
			Category: document.Category(vals.Get("category")), Title: vals.Get("title")}, f)
	}
	if err != nil {
		s.logIfInternal(r, err)
		s.renderDocumentNew(w, r, refusalStatus(err), &form{Values: vals, Err: err, lang: langOf(r),
			shown: []string{"client_id", "project_id", "category", "title", "file", "file_name", "content_type"}})
		return
	}
	http.Redirect(w, r, "/documents/"+url.PathEscape(d.ID)+"?saved=1", http.StatusSeeOther)
}

// documentPage is a document with its versions and the forms the reader
// may use now.
type documentPage struct {
	prodBase
	D      *document.Document
	Client client.Client
	// Draft is the newest version when it awaits approval; Content its
	// hash as signed.
	Draft *document.Version
	// Project is the project the document is filed under, if any.
	Project    *project.Project
	Signatures []esign.Signature
	Forms      map[string]*form
	// What the reader may do now.
	CanUpload, CanApprove bool
	Error                 string
}

func (s *Server) renderDocument(w http.ResponseWriter, r *http.Request, status int, failed string, f *form) {
	svc, err := s.documents()
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	ctx := r.Context()
	doc, err := svc.Document(ctx, r.PathValue("id"))
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	d := documentPage{prodBase: s.docBase(r), D: doc, Forms: map[string]*form{"approve": {Values: url.Values{}, lang: langOf(r)},
		"version": {Values: url.Values{}, lang: langOf(r)}}}
	if r.Method == http.MethodPost {
		d.Path = "/documents/" + url.PathEscape(doc.ID)
	}
	if f != nil {
		d.Forms[failed] = f
	}
	if c, err := s.Clients.Client(ctx, doc.ClientID); err == nil {
		d.Client = *c
	}
	if doc.ProjectID != "" && s.Projects != nil {
		if v, err := s.Projects.Project(ctx, doc.ProjectID); err == nil {
			d.Project = &v.Project
		}
	}
	a := d.Actor
	d.CanUpload = document.MayWrite(a) == nil && doc.Readable
	if len(doc.Versions) > 0 && doc.Versions[0].State == document.Draft {
		v := doc.Versions[0]
		d.Draft = &v
		if a.IsClient() {
			d.CanApprove = doc.Category == document.Specification && a.Can(identity.PermClientDocuments) && v.ClientApprovedAt == nil
		} else {
			d.CanApprove = a.Can(identity.PermQualityDecide) && v.SiteApprovedAt == nil
		}
		d.Forms["approve"].Values.Set("content_sha256", s.contentOf(r, document.EntityVersion, v.ID))
		if sg := s.Signatures; sg != nil && !a.IsClient() {
			if d.Signatures, err = sg.Signatures(ctx, document.EntityVersion, v.ID); err != nil {
				s.pageError(w, r, err)
				return
			}
		}
	}
	if f != nil && f.Err != nil && failed == "approve" && !d.CanApprove {
		d.Error = errs.MessageOf(f.Err, d.Lang)
	}
	s.render(w, r, status, "document", d)
}

// documentVersionCreate uploads a new version from the form (multipart).
func (s *Server) documentVersionCreate(w http.ResponseWriter, r *http.Request) {
	svc, err := s.documents()
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	id := r.PathValue("id")
	f, _, err := upload(w, r)
	if err == nil {
		_, err = svc.AddVersion(r.Context(), id, f)
	}
	if err != nil {
		if errs.Is(err, errs.NotFound) && errs.FieldOf(err) == "" {
			s.pageError(w, r, err)
			return
		}
		s.logIfInternal(r, err)
		s.renderDocument(w, r, refusalStatus(err), "version", &form{Values: url.Values{}, Err: err, lang: langOf(r), shown: []string{"file", "content_type", "file_name"}})
		return
	}
	http.Redirect(w, r, "/documents/"+url.PathEscape(id)+"?saved=1", http.StatusSeeOther)
}

// documentApprove signs the draft version (meaning approved).
func (s *Server) documentApprove(w http.ResponseWriter, r *http.Request, vals url.Values) {
	id := r.PathValue("id")
	_, err := s.signRecord(r, document.EntityVersion, vals.Get("version_id"), string(esign.Approved), vals)
	vals.Del("password")
	if err != nil {
		s.logIfInternal(r, err)
		s.renderDocument(w, r, refusalStatus(err), "approve", &form{Values: vals, Err: err, lang: langOf(r), shown: signFields})
		return
	}
	http.Redirect(w, r, "/documents/"+url.PathEscape(id)+"?saved=1", http.StatusSeeOther)
}

// endOfContractPage is the administrator's page of a client's end of
// contract.
type endOfContractPage struct {
	prodBase
	Client client.Client
	E      *document.EndOfContract
	// Refusal says, in the page's language, why the key may not be
	// destroyed now.
	Refusal string
	Forms   map[string]*form
	// CanShred: the reader is an administrator (quality assurance sees
	// the page and sets the legal hold).
	CanShred bool
}

func (s *Server) renderEndOfContract(w http.ResponseWriter, r *http.Request, status int, failed string, f *form) {
	svc, err := s.documents()
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	ctx := r.Context()
	e, err := svc.EndOfContract(ctx, r.PathValue("id"))
	if err != nil {
		s.clientPageError(w, r, err)
		return
	}
	c, err := s.Clients.Client(ctx, e.ClientID)
	if err != nil {
		s.clientPageError(w, r, err)
		return
	}
	d := endOfContractPage{prodBase: s.docBase(r), Client: *c, E: e, Forms: map[string]*form{"hold": {Values: url.Values{}, lang: langOf(r)},
		"shred": {Values: url.Values{}, lang: langOf(r)}}}
	if r.Method == http.MethodPost {
		d.Path = "/clients/" + url.PathEscape(c.ID) + "/end-of-contract"
	}
	if f != nil {
		d.Forms[failed] = f
	}
	if e.Refusal != nil {
		d.Refusal = errs.MessageOf(e.Refusal, d.Lang)
	}
	d.CanShred = d.Actor.Can(identity.PermAccountsAdmin)
	s.render(w, r, status, "end_of_contract", d)
}

func (s *Server) legalHoldForm(w http.ResponseWriter, r *http.Request, vals url.Values) {
	svc, err := s.documents()
	if err == nil {
		_, err = svc.SetLegalHold(r.Context(), r.PathValue("id"), vals.Get("held") == "yes", vals.Get("reason"))
	}
	s.afterEndOfContract(w, r, "hold", vals, []string{"held", "reason"}, err)
}

func (s *Server) shredForm(w http.ResponseWriter, r *http.Request, vals url.Values) {
	svc, err := s.documents()
	id := r.PathValue("id")
	if err == nil && s.Signatures != nil {
		var ch *esign.Challenge
		ch, err = s.Signatures.Challenge(r.Context(), esign.ChallengeRequest{Entity: document.EntityClientKey, EntityID: id,
			Meaning: string(esign.Approved), ContentHash: vals.Get("content_sha256")})
		if err == nil {
			_, err = svc.Shred(r.Context(), id, esign.SignRequest{Username: vals.Get("username"), Password: vals.Get("password"),
				Challenge: ch.Challenge, Reason: vals.Get("reason")})
		}
	}
	vals.Del("password")
	s.afterEndOfContract(w, r, "shred", vals, signFields, err)
}

// afterEndOfContract shows the end of contract again: refused, with the
// form; done, saved.
func (s *Server) afterEndOfContract(w http.ResponseWriter, r *http.Request, failed string, vals url.Values, shown []string, err error) {
	if err != nil {
		if errs.Is(err, errs.NotFound) && errs.FieldOf(err) == "" {
			s.clientPageError(w, r, err)
			return
		}
		s.logIfInternal(r, err)
		s.renderEndOfContract(w, r, refusalStatus(err), failed, &form{Values: vals, Err: err, lang: langOf(r), shown: shown})
		return
	}
	http.Redirect(w, r, "/clients/"+url.PathEscape(r.PathValue("id"))+"/end-of-contract?saved=1", http.StatusSeeOther)
}

// clientPageError is the error page of an address naming a client: its
// language switch returns to the documents, so that a client's id the
// reader may not know is not written back to them.
func (s *Server) clientPageError(w http.ResponseWriter, r *http.Request, err error) {
	r2 := r.Clone(r.Context())
	r2.URL = &url.URL{Path: "/documents"}
	s.pageError(w, r2, err)
}
