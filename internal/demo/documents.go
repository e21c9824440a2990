package demo

import (
	"fmt"

	"galenix/internal/document"
	"galenix/internal/esign"
)

// The demo's documents: for each client laboratory a specification (its
// cahier des charges, approved by the site and awaiting the client's
// approval, as a specification needs both sides), a validation protocol
// and a certificate of analysis, both approved by quality assurance. Each
// is sealed under its client's key, which the site's master key wraps; a
// database opened without that key (a tool beside a node) gets none.

// demoDocument is one demo document.
type demoDocument struct {
	category    document.Category
	title       string
	file        string
	contentType string
	body        string
	approve     bool
}

// minimalPDF is a one-page PDF holding one line of text.
func minimalPDF(line string) string {
	return "%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n2 0 obj << /Type /Pages /Kids [3 0 R] /Count 1 >> endobj\n" +
		"3 0 obj << /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R >> endobj\n" +
		"4 0 obj << /Length " + fmt.Sprint(len(line)+30) + " >> stream\nBT /F1 12 Tf 72 770 Td (" + line + ") Tj ET\nendstream endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
}

// documents writes the demo's documents, as quality assurance.
func (l *loader) documents() error {
	if !l.db.HasMasterKey() {
		return nil
	}
	a, err := l.person("qa")
	if err != nil {
		return err
	}
	qa := l.h.As(l.ctx, a)
	docs := l.db.Documents()
	for _, c := range clients {
		id, err := l.id(c.Code)
		if err != nil {
			return err
		}
		for _, d := range []demoDocument{
			{document.Specification, "Cahier des charges — " + c.Name, "cahier-des-charges.pdf", document.TypePDF,
				minimalPDF("Cahier des charges " + c.Code + " v1"), false},
			{document.Protocol, "Protocole de validation de procédé — " + c.Code, "protocole-validation.txt", document.TypeText,
				"Protocole de validation de procédé\nClient : " + c.Name + "\nTrois lots consécutifs, critères d'acceptation selon la spécification.\n", true},
			{document.Certificate, "Certificat d'analyse de référence — " + c.Code, "certificat-analyse.pdf", document.TypePDF,
				minimalPDF("Certificat d'analyse " + c.Code), true},
		} {
			// The specification and the protocol are those of the
			// client's first project.
			var projectID string
			if d.category != document.Certificate {
				projectID = l.codes["PRJ-"+c.Code+"-01"]
			}
			doc, err := docs.Upload(qa, document.NewDocument{ClientID: id, ProjectID: projectID, Category: d.category, Title: d.title},
				document.File{Name: d.file, ContentType: d.contentType, Content: []byte(d.body)})
			if err != nil {
				return fmt.Errorf("document %q of %s: %w", d.title, c.Code, err)
			}
			// Quality assurance's approval; the specification's too, which
			// then waits for the client's.
			if d.approve || d.category == document.Specification {
				if err := l.h.SignRecord(document.EntityVersion, doc.Versions[0].ID, esign.Approved, a.UserID, a.Name, ""); err != nil {
					return fmt.Errorf("approving %q: %w", d.title, err)
				}
			}
		}
	}
	return nil
}
