// Package document holds a client laboratory's confidential documents
// (specifications, formulas, protocols, reports, certificates): their
// versions, the rules of their upload and of their approval by electronic
// signature, their encryption at rest under a key per client (envelope
// encryption, crypto.go), and the rule of retention that decides when a
// client's key may be destroyed at the end of its contract
// (retention.go). Pure rules and cryptography: no SQL, no HTTP.
package document

import (
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"galenix/internal/audit"
	"galenix/internal/errs"
	"galenix/internal/identity"
)

// Category is the kind of a document.
type Category string

// The categories.
const (
	Specification Category = "specification"
	Formula       Category = "formula"
	Protocol      Category = "protocol"
	Report        Category = "report"
	Certificate   Category = "certificate"
)

// Categories lists the categories in display order.
var Categories = []Category{Specification, Formula, Protocol, Report, Certificate}

// State is where a version, or a document, stands.
type State string

// The states: a version is uploaded as a draft; approved once signed by
// the site (and, for a specification, by the client too); superseded once
// a newer version is approved. A document is approved while one of its
// versions is.
const (
	Draft      State = "draft"
	Approved   State = "approved"
	Superseded State = "superseded"
)

// MaxSize bounds an uploaded file, in bytes (20 MiB).
const MaxSize = 20 << 20

// The content types galenix keeps. Office files (XLSX, DOCX) are zip
// archives, which is what sniffing them finds.
const (
	TypePDF  = "application/pdf"
	TypePNG  = "image/png"
	TypeJPEG = "image/jpeg"
	TypeText = "text/plain"
	TypeCSV  = "text/csv"
	TypeXLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
	TypeDOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
)

// sniffed is what net/http.DetectContentType must find for each declared
// type.
var sniffed = map[string]string{
	TypePDF:  "application/pdf",
	TypePNG:  "image/png",
	TypeJPEG: "image/jpeg",
	TypeText: "text/plain; charset=utf-8",
	TypeCSV:  "text/plain; charset=utf-8",
	TypeXLSX: "application/zip",
	TypeDOCX: "application/zip",
}

// ContentTypes lists the types allowed, for the upload form.
var ContentTypes = []string{TypePDF, TypePNG, TypeJPEG, TypeText, TypeCSV, TypeXLSX, TypeDOCX}

// Version is one version of a document's file. Its content is kept
// encrypted; SHA256 is the hash of the plaintext, which an approval signs.
type Version struct {
	ID          string    `json:"id"`
	DocumentID  string    `json:"document_id"`
	ClientID    string    `json:"client_id"`
	Number      int       `json:"number"`
	FileName    string    `json:"file_name"`
	ContentType string    `json:"content_type"`
	Size        int64     `json:"size"`
	SHA256      string    `json:"sha256"`
	State       State     `json:"state"`
	UploadedBy  string    `json:"uploaded_by,omitempty"`
	UploadedAt  time.Time `json:"uploaded_at"`
	// The site's approval (quality assurance) and the client's (its
	// manager; needed for a specification only), each an electronic
	// signature (meaning approved) on the version.
	SiteApprovedName   string     `json:"site_approved_name,omitempty"`
	SiteApprovedAt     *time.Time `json:"site_approved_at,omitempty"`
	ClientApprovedName string     `json:"client_approved_name,omitempty"`
	ClientApprovedAt   *time.Time `json:"client_approved_at,omitempty"`
}

// Document is a client's document and its versions, newest first.
type Document struct {
	ID       string `json:"id"`
	ClientID string `json:"client_id"`
	// ProjectID is the partnership project the document belongs to, if
	// any.
	ProjectID string    `json:"project_id,omitempty"`
	Category  Category  `json:"category"`
	Title     string    `json:"title"`
	State     State     `json:"state"`
	CreatedAt time.Time `json:"created_at"`
	Versions  []Version `json:"versions"`
	// Readable is false once the client's key is destroyed.
	Readable bool `json:"readable"`
	Version  int  `json:"version"`
}

// AuditFields are the document's fields as the audit trail records them.
func (d *Document) AuditFields() []audit.Field {
	return []audit.Field{audit.F("client_id", d.ClientID), audit.F("project_id", d.ProjectID), audit.F("category", string(d.Category)),
		audit.F("title", d.Title)}
}

// AuditFields are a version's fields as the audit trail records them:
// never its content.
func (v *Version) AuditFields() []audit.Field {
	return []audit.Field{audit.F("document_id", v.DocumentID), audit.F("number", strconv.Itoa(v.Number)), audit.F("file_name", v.FileName),
		audit.F("content_type", v.ContentType), audit.F("size", strconv.FormatInt(v.Size, 10)), audit.F("sha256", v.SHA256),
		audit.F("state", string(v.State))}
}

// SignedFields are what an approval signs: the version's content, by its
// hash, and where it belongs. The approvals themselves are not among them,
// so that the site's and the client's signatures bind the same content.
func (v *Version) SignedFields() []audit.Field {
	return []audit.Field{audit.F("client_id", v.ClientID), audit.F("document_id", v.DocumentID), audit.F("number", strconv.Itoa(v.Number)),
		audit.F("file_name", v.FileName), audit.F("content_type", v.ContentType), audit.F("sha256", v.SHA256)}
}

// StateOf is a document's state, from its versions.
func StateOf(vs []Version) State {
	st := Draft
	for _, v := range vs {
		if v.State == Approved {
			return Approved
		}
		if v.State == Superseded {
			st = Superseded
		}
	}
	return st
}

// uuidRE is the form of an id.
var uuidRE = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)

// NewDocument is a document as its first upload gives it.
type NewDocument struct {
	ClientID  string   `json:"client_id"`
	ProjectID string   `json:"project_id"`
	Category  Category `json:"category"`
	Title     string   `json:"title"`
}

// MayWrite says whether the actor may upload documents of a client:
// quality assurance and those who edit specifications, on the site's side;
// the client's users and manager, on its own. The client's scope is checked by the
// store.
func MayWrite(a identity.Actor) error {
	if a.IsClient() {
		return a.Require(identity.PermClientDocuments)
	}
	if a.Can(identity.PermQualityDecide) || a.Can(identity.PermSpecEdit) {
		return nil
	}
	return errs.E(errs.Forbidden, "document.refused.write")
}

// MayRead says whether the actor may read documents: the client's own
// users, and staff who see production or specifications, within their
// client scope (checked by the store).
func MayRead(a identity.Actor) error {
	if a.IsClient() || a.Can(identity.PermProductionView) || a.Can(identity.PermSpecEdit) || a.Can(identity.PermQualityDecide) {
		return nil
	}
	return errs.E(errs.Forbidden, "document.refused.read")
}

// Check validates a new document.
func (n *NewDocument) Check(a identity.Actor) error {
	if err := MayWrite(a); err != nil {
		return err
	}
	n.ClientID, n.ProjectID, n.Title = strings.TrimSpace(n.ClientID), strings.ToLower(strings.TrimSpace(n.ProjectID)), strings.TrimSpace(n.Title)
	if a.IsClient() && n.ClientID == "" {
		n.ClientID = a.ClientID
	}
	if n.ClientID == "" {
		return errs.Field("client_id", "document.client_required")
	}
	if n.ProjectID != "" && !uuidRE.MatchString(n.ProjectID) {
		return errs.Field("project_id", "document.project_id")
	}
	if !slices.Contains(Categories, n.Category) {
		return errs.Field("category", "document.category")
	}
	if c := utf8.RuneCountInString(n.Title); !utf8.ValidString(n.Title) || c < 3 || c > 200 {
		return errs.Field("title", "document.title")
	}
	return nil
}

// File is an uploaded file as the request gives it.
type File struct {
	Name        string
	ContentType string
	Content     []byte
}

// CheckFile refuses a file galenix does not keep: empty, larger than
// MaxSize, of a type not allowed, or whose bytes are not of the type it
// declares. It returns the clean name and type.
func CheckFile(f File) (name, contentType string, err error) {
	name = strings.TrimSpace(f.Name)
	if i := strings.LastIndexAny(name, `/\`); i >= 0 {
		name = name[i+1:]
	}
	if c := utf8.RuneCountInString(name); !utf8.ValidString(name) || c == 0 || c > 200 || strings.ContainsAny(name, "\x00\r\n\"") {
		return "", "", errs.Field("file_name", "document.file_name")
	}
	if len(f.Content) == 0 {
		return "", "", errs.Field("file", "document.file_empty")
	}
	if len(f.Content) > MaxSize {
		return "", "", &errs.Error{Code: errs.TooLarge, Field: "file", Key: "document.file_too_large", Args: []any{MaxSize >> 20}}
	}
	contentType = strings.ToLower(strings.TrimSpace(f.ContentType))
	if i := strings.IndexByte(contentType, ';'); i >= 0 {
		contentType = strings.TrimSpace(contentType[:i])
	}
	want, ok := sniffed[contentType]
	if !ok {
		return "", "", errs.Field("content_type", "document.type_not_allowed", contentType)
	}
	if got := http.DetectContentType(f.Content); got != want {
		return "", "", errs.Field("content_type", "document.type_mismatch", contentType)
	}
	return name, contentType, nil
}

// Side is who an approval speaks for.
type Side string

// The two sides of an approval.
const (
	SiteSide   Side = "site"
	ClientSide Side = "client"
)

// Approve records one side's signed approval of a draft version: the
// site's quality assurance, or the client (a user or its manager) for a specification
// (whose content both parties agree). The version is approved once every
// side it needs has signed. It reports whether it became approved.
func Approve(a identity.Actor, cat Category, v Version, signer string, now time.Time) (*Version, bool, error) {
	if v.State != Draft {
		return nil, false, errs.E(errs.Conflict, "document.version_not_draft", v.Number)
	}
	if a.IsClient() {
		if cat != Specification {
			return nil, false, errs.E(errs.Forbidden, "document.client_approves_spec_only")
		}
		if a.ClientID != v.ClientID || !a.Can(identity.PermClientDocuments) {
			return nil, false, errs.E(errs.Forbidden, "document.refused.approve")
		}
		if v.ClientApprovedAt != nil {
			return nil, false, errs.E(errs.Conflict, "document.already_approved")
		}
		v.ClientApprovedName, v.ClientApprovedAt = signer, &now
	} else {
		if !a.Can(identity.PermQualityDecide) {
			return nil, false, errs.E(errs.Forbidden, "document.refused.approve")
		}
		if v.SiteApprovedAt != nil {
			return nil, false, errs.E(errs.Conflict, "document.already_approved")
		}
		v.SiteApprovedName, v.SiteApprovedAt = signer, &now
	}
	if v.SiteApprovedAt != nil && (cat != Specification || v.ClientApprovedAt != nil) {
		v.State = Approved
		return &v, true, nil
	}
	return &v, false, nil
}
