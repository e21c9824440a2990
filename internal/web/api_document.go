package web

import (
	"errors"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"

	"galenix/internal/document"
	"galenix/internal/errs"
	"galenix/internal/esign"
)

// The documents' JSON API: a client laboratory's confidential documents,
// uploaded (multipart/form-data with a part "file", or the file itself as
// the raw body, its type in Content-Type and the document's fields in the
// query), versioned, downloaded decrypted, and approved by electronic
// signature (POST /api/v1/signatures, entity "document_version", meaning
// "approved"). The end of a client's contract: its legal hold, what
// destroying its key would make unreadable, and the destruction itself,
// an administrator's signed act.

// errNoDocuments: galenix was wired without the documents' service.
var errNoDocuments = errors.New("web: no document service wired")

// maxUpload bounds an upload's request: the largest file and room for
// the form around it.
const maxUpload = document.MaxSize + MaxBody

// isUpload names the routes that read an upload's body themselves.
func isUpload(r *http.Request) bool {
	if r.Method != http.MethodPost {
		return false
	}
	p := r.URL.Path
	return p == "/api/v1/documents" || p == "/documents/new" ||
		(strings.HasPrefix(p, "/api/v1/documents/") || strings.HasPrefix(p, "/documents/")) && strings.HasSuffix(p, "/versions")
}

// documents returns the documents' service, or the error a request gets
// when galenix was wired without one.
func (s *Server) documents() (document.Service, error) {
	if s.Documents == nil {
		return nil, errs.Wrap(errNoDocuments, "documents")
	}
	return s.Documents, nil
}

// upload reads an uploaded file and the form's fields: multipart, or the
// raw body with its fields in the query. A body past maxUpload is refused
// before anything is stored.
func upload(w http.ResponseWriter, r *http.Request) (document.File, func(string) string, error) {
	r.Body = http.MaxBytesReader(w, r.Body, maxUpload)
	tooBig := func(err error) error {
		var mb *http.MaxBytesError
		if errors.As(err, &mb) {
			return &errs.Error{Code: errs.TooLarge, Field: "file", Key: "document.file_too_large", Args: []any{document.MaxSize >> 20}}
		}
		return errs.E(errs.Invalid, "web.request_body_unreadable")
	}
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if ct == "multipart/form-data" {
		if err := r.ParseMultipartForm(8 << 20); err != nil {
			return document.File{}, nil, tooBig(err)
		}
		if err := cleanValues(r.MultipartForm.Value); err != nil {
			return document.File{}, nil, err
		}
		f, fh, err := r.FormFile("file")
		if err != nil {
			return document.File{}, nil, errs.Field("file", "document.file_empty")
		}
		defer f.Close()
		body, err := io.ReadAll(io.LimitReader(f, document.MaxSize+1))
		if err != nil {
			return document.File{}, nil, tooBig(err)
		}
		typ := r.FormValue("content_type")
		if typ == "" {
			typ = fh.Header.Get("Content-Type")
		}
		return document.File{Name: fh.Filename, ContentType: typ, Content: body}, r.FormValue, nil
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return document.File{}, nil, tooBig(err)
	}
	q := r.URL.Query()
	return document.File{Name: q.Get("file_name"), ContentType: r.Header.Get("Content-Type"), Content: body}, q.Get, nil
}

// apiDocument is a document as the API answers it: the site's people
// hidden from a client's user (the store does it; this is the second
// wall).
func apiDocument(r *http.Request, d *document.Document) *document.Document {
	if !seesNames(r.Context()) {
		for i := range d.Versions {
			d.Versions[i].UploadedBy = ""
		}
	}
	if d.Versions == nil {
		d.Versions = []document.Version{}
	}
	return d
}

// routesDocuments registers the documents' API.
func (s *Server) routesDocuments() {
	s.handle("GET", "/api/v1/documents", false, list(s, func(r *http.Request) ([]document.Document, error) {
		svc, err := s.documents()
		if err != nil {
			return nil, err
		}
		q := r.URL.Query()
		out, err := svc.Documents(r.Context(), document.Filter{ClientID: q.Get("client_id"), ProjectID: q.Get("project_id"),
			Category: document.Category(q.Get("category"))})
		for i := range out {
			apiDocument(r, &out[i])
		}
		return out, err
	}))
	s.handle("POST", "/api/v1/documents", false, func(w http.ResponseWriter, r *http.Request) {
		svc, err := s.documents()
		if err != nil {
			s.apiError(w, r, err)
			return
		}
		f, field, err := upload(w, r)
		if err != nil {
			s.apiError(w, r, err)
			return
		}
		d, err := svc.Upload(r.Context(), document.NewDocument{ClientID: field("client_id"), ProjectID: field("project_id"),
			Category: document.Category(field("category")), Title: field("title")}, f)
		if err != nil {
			s.apiError(w, r, err)
			return
		}
		setETag(w, d)
		writeJSON(w, http.StatusCreated, apiDocument(r, d))
	})
	s.handle("GET", "/api/v1/documents/{id}", false, func(w http.ResponseWriter, r *http.Request) {
		svc, err := s.documents()
		if err != nil {
			s.apiError(w, r, err)
			return
		}
		d, err := svc.Document(r.Context(), r.PathValue("id"))
		if err != nil {
			s.apiError(w, r, err)
			return
		}
		setETag(w, d)
		writeJSON(w, http.StatusOK, apiDocument(r, d))
	})
	s.handle("GET", "/api/v1/documents/{id}/versions", false, list(s, func(r *http.Request) ([]document.Version, error) {
		svc, err := s.documents()
		if err != nil {
			return nil, err
		}
		d, err := svc.Document(r.Context(), r.PathValue("id"))
		if err != nil {
			return nil, err
		}
		return apiDocument(r, d).Versions, nil
	}))
	s.handle("POST", "/api/v1/documents/{id}/versions", false, func(w http.ResponseWriter, r *http.Request) {
		svc, err := s.documents()
		if err != nil {
			s.apiError(w, r, err)
			return
		}
		f, _, err := upload(w, r)
		if err != nil {
			s.apiError(w, r, err)
			return
		}
		d, err := svc.AddVersion(r.Context(), r.PathValue("id"), f)
		if err != nil {
			s.apiError(w, r, err)
			return
		}
		setETag(w, d)
		writeJSON(w, http.StatusCreated, apiDocument(r, d))
	})
	download := func(w http.ResponseWriter, r *http.Request) {
		refuse := s.pageError
		if strings.HasPrefix(r.URL.Path, "/api/") {
			refuse = s.apiError
		}
		svc, err := s.documents()
		if err != nil {
			refuse(w, r, err)
			return
		}
		n := 0
		if v := r.PathValue("number"); v != "" {
			if n, err = strconv.Atoi(v); err != nil || n < 1 {
				refuse(w, r, errs.E(errs.NotFound, "document.no_such_version"))
				return
			}
		}
		c, err := svc.Content(r.Context(), r.PathValue("id"), n)
		if err != nil {
			refuse(w, r, err)
			return
		}
		h := w.Header()
		h.Set("Content-Type", c.ContentType)
		h.Set("Content-Length", strconv.Itoa(len(c.Body)))
		h.Set("Cache-Control", "no-store")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Digest", "sha-256="+c.SHA256)
		h.Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": c.FileName}))
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(c.Body)
	}
	s.handle("GET", "/api/v1/documents/{id}/content", false, download)
	s.handle("GET", "/api/v1/documents/{id}/versions/{number}/content", false, download)
	s.handle("GET", "/documents/{id}/content", false, download)
	s.handle("GET", "/documents/{id}/versions/{number}/content", false, download)

	// The end of a client's contract.
	s.handle("GET", "/api/v1/clients/{id}/legal-hold", false, func(w http.ResponseWriter, r *http.Request) {
		svc, err := s.documents()
		if err == nil {
			var h *document.Hold
			if h, err = svc.LegalHold(r.Context(), r.PathValue("id")); err == nil {
				writeJSON(w, http.StatusOK, h)
				return
			}
		}
		s.apiError(w, r, err)
	})
	s.handle("POST", "/api/v1/clients/{id}/legal-hold", false, func(w http.ResponseWriter, r *http.Request) {
		var in struct {
			Held   *bool  `json:"held"`
			Reason string `json:"reason"`
		}
		if err := decode(w, r, &in); err != nil {
			s.apiError(w, r, err)
			return
		}
		if in.Held == nil {
			s.apiError(w, r, errs.Field("held", "document.held_required"))
			return
		}
		svc, err := s.documents()
		if err == nil {
			var h *document.Hold
			if h, err = svc.SetLegalHold(r.Context(), r.PathValue("id"), *in.Held, in.Reason); err == nil {
				writeJSON(w, http.StatusOK, h)
				return
			}
		}
		s.apiError(w, r, err)
	})
	s.handle("GET", "/api/v1/clients/{id}/end-of-contract", false, func(w http.ResponseWriter, r *http.Request) {
		svc, err := s.documents()
		if err == nil {
			var e *document.EndOfContract
			if e, err = svc.EndOfContract(r.Context(), r.PathValue("id")); err == nil {
				writeJSON(w, http.StatusOK, s.endOfContractAnswer(r, e))
				return
			}
		}
		s.apiError(w, r, err)
	})
	s.handle("POST", "/api/v1/clients/{id}/shred", false, func(w http.ResponseWriter, r *http.Request) {
		var in struct {
			Username  string `json:"username"`
			Password  string `json:"password"`
			Challenge string `json:"challenge"`
			Reason    string `json:"reason"`
		}
		if err := decode(w, r, &in); err != nil {
			s.apiError(w, r, err)
			return
		}
		svc, err := s.documents()
		if err == nil {
			var sh *document.Shredding
			if sh, err = svc.Shred(r.Context(), r.PathValue("id"), esign.SignRequest{Username: in.Username, Password: in.Password,
				Challenge: in.Challenge, Reason: in.Reason}); err == nil {
				writeJSON(w, http.StatusCreated, sh)
				return
			}
		}
		s.apiError(w, r, err)
	})
}

// endOfContract is the end of a client's contract as the API answers it:
// the refusal, when there is one, in the request's language.
type endOfContract struct {
	document.EndOfContract
	Refusal string `json:"refusal,omitempty"`
}

func (s *Server) endOfContractAnswer(r *http.Request, e *document.EndOfContract) endOfContract {
	out := endOfContract{EndOfContract: *e}
	if e.Refusal != nil {
		out.Refusal = errs.MessageOf(e.Refusal, apiLang(r))
	}
	return out
}
