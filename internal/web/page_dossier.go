package web

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/johnfercher/maroto/v2/pkg/consts/fontstyle"
	"github.com/johnfercher/maroto/v2/pkg/core"
	"github.com/johnfercher/maroto/v2/pkg/props"

	"galenix/internal/environment"
	"galenix/internal/errs"
	"galenix/internal/identity"
	"galenix/internal/production"
	"galenix/internal/quality"
	"galenix/internal/text"
)

// A batch's dossier: the documents its client receives for it under its
// quality agreement (quality.Dossier), listed as JSON and each answered as
// a PDF, in the reader's language: the batch record (the client's copy
// names no person of the site), the certificate of analysis, the
// certificate of conformity, the summaries of its deviations and the
// environment of its room while it was made. The client reads them once
// the batch is certified; the staff who review or release batches read
// the dossier as the client will receive it.

// routesDossier registers the dossier's routes: the API's and the pages'
// links answer the same documents.
func (s *Server) routesDossier() {
	rel := s.Release
	s.handle("GET", "/api/v1/batches/{id}/dossier", false, get(s, rel.Dossier))
	s.handle("GET", "/api/v1/batches/{id}/dossier/{document}", false, s.dossierDocument)
	s.handle("GET", "/batches/{id}/dossier/{document}", false, s.dossierDocument)
}

// dossierDocument answers one document of a batch's dossier as a PDF.
func (s *Server) dossierDocument(w http.ResponseWriter, r *http.Request) {
	refuse := s.pageError
	if strings.HasPrefix(r.URL.Path, "/api/") {
		refuse = s.apiError
	}
	ctx := r.Context()
	doc, err := quality.ParseBatchDocument(r.PathValue("document"))
	if err != nil {
		refuse(w, r, err)
		return
	}
	if doc == quality.DocCertificate {
		s.certificatePDF(w, r)
		return
	}
	lang := langOf(r)
	if v := r.URL.Query().Get("lang"); v == langFR || v == langEN {
		lang = v
	}
	a, _ := identity.ActorFrom(ctx)
	printedBy := a.Name
	if printedBy == "" {
		printedBy = a.Username
	}
	var pdf []byte
	var lot string
	if doc == quality.DocEnvironmentReport {
		if s.EnvironmentViews == nil {
			refuse(w, r, errs.E(errs.Internal, "web.environment_unavailable"))
			return
		}
		rep, err := s.EnvironmentViews.BatchReport(ctx, r.PathValue("id"))
		if err != nil {
			refuse(w, r, err)
			return
		}
		lot = rep.Lot
		pdf, err = s.batchEnvironmentDoc(lang, rep, printedBy)
		if err != nil {
			refuse(w, r, errs.Wrap(err, "environment report PDF"))
			return
		}
	} else {
		d, err := s.Release.Delivery(ctx, r.PathValue("id"), doc)
		if err != nil {
			refuse(w, r, err)
			return
		}
		lot = d.Lot
		clientName := d.ClientID
		if c, err := s.Clients.Client(ctx, d.ClientID); err == nil {
			clientName = c.Name + " (" + c.Code + ")"
		}
		switch doc {
		case quality.DocBatchRecord:
			// The materials as the batch consumed them: a client does not
			// read the site's catalogue.
			mats := map[string]production.Material{}
			for _, c := range d.Record.Consumed {
				mats[c.MaterialID] = production.Material{ID: c.MaterialID, Name: c.Material, Unit: c.Unit}
			}
			if !a.IsClient() {
				if mats, err = s.materialsByID(r); err != nil {
					refuse(w, r, err)
					return
				}
			}
			pdf, err = s.recordDoc(lang, d.Record, mats, clientName, printedBy)
		case quality.DocConformity:
			pdf, err = s.conformityDoc(lang, d, clientName)
		case quality.DocDeviationSummary:
			pdf, err = s.deviationSummariesDoc(r, lang, d, clientName, printedBy)
		}
		if err != nil {
			s.logIfInternal(r, err)
			refuse(w, r, errs.Wrap(err, "dossier PDF"))
			return
		}
	}
	writePDF(w, lang, fmt.Sprintf(tr(lang, dossierFiles[doc]), fileSafe(lot)), pdf)
}

// dossierFiles name the dossier's documents' files, by document.
var dossierFiles = map[quality.BatchDocument]string{
	quality.DocBatchRecord: "dossier.file.batch_record", quality.DocConformity: "dossier.file.certificate_of_conformity",
	quality.DocDeviationSummary: "dossier.file.deviation_summaries", quality.DocEnvironmentReport: "dossier.file.environment_report",
}

// dossierHead writes a dossier document's title and the batch it is of.
func (s *Server) dossierHead(m core.Maroto, lang, title string, d *quality.Delivery, clientName string, extra ...[2]string) {
	m.AddAutoRow(pdfCol(pdfGrid, title, props.Text{Size: 16, Style: fontstyle.Bold, Bottom: 4}))
	head := [][2]string{
		{tr(lang, "coa.client"), clientName},
		{tr(lang, "coa.product"), d.ProductCode + " — " + d.Product},
		{tr(lang, "coa.lot"), d.Lot},
		{tr(lang, "record.master"), d.Master.Code + " " + tr(lang, "record.version") + " " + strconv.Itoa(d.Master.Version) + " — " + d.Master.Title},
	}
	for _, h := range append(head, extra...) {
		m.AddAutoRow(pdfCol(6, h[0], props.Text{Style: fontstyle.Bold}), pdfCol(pdfGrid-6, h[1]))
	}
}

// conformityDoc writes the certificate of conformity: the batch was made
// to its approved master batch record under GMP and certified by the
// qualified person, whose signature the register holds.
func (s *Server) conformityDoc(lang string, d *quality.Delivery, clientName string) ([]byte, error) {
	if d.Certification == nil {
		return nil, errs.E(errs.Conflict, "quality.dossier.not_certified", d.Lot)
	}
	c := d.Certification
	setup := pdfSetup{title: tr(lang, "dossier.coc.title") + " " + d.Lot, lang: lang, margin: 15, fontSize: 10, pageLabel: d.Lot}
	m, err := newPDF(setup)
	if err != nil {
		return nil, err
	}
	s.dossierHead(m, lang, tr(lang, "dossier.coc.title"), d, clientName,
		[2]string{tr(lang, "dossier.coc.certified"), formatStamp(lang, c.SignedAt, s.zone())},
		[2]string{tr(lang, "dossier.coc.signature"), c.SignatureID})
	m.AddAutoRow(pdfCol(pdfGrid, text.Render(lang, "dossier.coc.statement", d.Lot, d.Master.Code, d.Master.Version), props.Text{Top: 8, Size: 11}))
	if c.QPName != "" {
		m.AddAutoRow(pdfCol(pdfGrid, tr(lang, "dossier.coc.qp")+" "+c.QPName, props.Text{Top: 6}))
	}
	return finishPDF(m, setup)
}

// deviationSummariesDoc writes the deviations of the batch as its client
// reads them (quality.Deviation.ClientView, the CAPA when the agreement
// shares them), each with what the site told the client of it.
func (s *Server) deviationSummariesDoc(r *http.Request, lang string, d *quality.Delivery, clientName, printedBy string) ([]byte, error) {
	ctx := r.Context()
	if s.Deviations == nil {
		return nil, errs.Wrap(errNoDeviations, "deviations")
	}
	devs, err := s.Deviations.Deviations(ctx, quality.DeviationFilter{BatchID: d.BatchID})
	if err != nil {
		return nil, err
	}
	shareCAPA := false
	told := map[string][]quality.ObligationItem{}
	if s.Agreements != nil {
		ag, err := s.Agreements.Agreement(ctx, d.ClientID)
		if err != nil && !errs.Is(err, errs.NotFound) {
			return nil, err
		}
		shareCAPA = ag != nil && ag.ShareCAPA
		for _, dv := range devs {
			if told[dv.ID], err = s.Agreements.Obligations(ctx, quality.ObligationFilter{DeviationID: dv.ID}); err != nil {
				return nil, err
			}
		}
	}
	views := make([]quality.Deviation, len(devs))
	for i := range devs {
		views[i] = devs[i].ClientView(shareCAPA)
	}
	return s.deviationSummariesPDF(lang, d, clientName, printedBy, views, told)
}

// deviationSummariesPDF writes the deviations as the client reads them,
// each with the notification and summary the site sent it (told, by
// deviation).
func (s *Server) deviationSummariesPDF(lang string, d *quality.Delivery, clientName, printedBy string, devs []quality.Deviation,
	told map[string][]quality.ObligationItem) ([]byte, error) {
	setup := pdfSetup{title: tr(lang, "dossier.dev.title") + " " + d.Lot, lang: lang, margin: 15, fontSize: 9, pageLabel: d.Lot}
	m, err := newPDF(setup)
	if err != nil {
		return nil, err
	}
	s.dossierHead(m, lang, tr(lang, "dossier.dev.title"), d, clientName)
	m.AddAutoRow(pdfCol(pdfGrid, fmt.Sprintf(tr(lang, "audit.pdf.printed"), formatStamp(lang, time.Now(), s.zone()), printedBy), props.Text{Top: 2, Bottom: 4}))
	if len(devs) == 0 {
		m.AddAutoRow(pdfCol(pdfGrid, tr(lang, "record.nodeviation")))
	}
	bold := props.Text{Style: fontstyle.Bold}
	for _, dv := range devs {
		head := dv.Code + " — " + tr(lang, "deviationstate."+string(dv.State))
		if dv.Class != "" {
			head += " — " + tr(lang, "deviationclass."+string(dv.Class))
		}
		m.AddAutoRow(pdfCol(pdfGrid, head, props.Text{Size: 11, Style: fontstyle.Bold, Top: 5, Bottom: 1}))
		m.AddAutoRow(pdfCol(6, tr(lang, "dossier.dev.opened"), bold), pdfCol(pdfGrid-6, formatStamp(lang, dv.OpenedAt, s.zone())))
		if dv.ClosedAt != nil {
			m.AddAutoRow(pdfCol(6, tr(lang, "dossier.dev.closed"), bold), pdfCol(pdfGrid-6, formatStamp(lang, *dv.ClosedAt, s.zone())))
		}
		for _, o := range told[dv.ID] {
			if o.DoneAt == nil || o.Message == "" {
				continue
			}
			m.AddAutoRow(pdfCol(6, tr(lang, "obligation."+string(o.Kind))+"\n"+formatStamp(lang, *o.DoneAt, s.zone()), bold), pdfCol(pdfGrid-6, o.Message))
		}
		for _, act := range dv.Actions {
			kind := tr(lang, "dossier.dev.corrective")
			if act.Preventive {
				kind = tr(lang, "dossier.dev.preventive")
			}
			state := text.Render(lang, "dossier.dev.due", formatDate(lang, act.Due, time.UTC))
			if act.DoneAt != nil {
				state = text.Render(lang, "dossier.dev.done", formatStamp(lang, *act.DoneAt, s.zone()))
			}
			m.AddAutoRow(pdfCol(6, kind, bold), pdfCol(pdfGrid-6, act.Description+" — "+state))
		}
	}
	return finishPDF(m, setup)
}

// batchEnvironmentDoc writes the environment of the batch's room while it
// was made.
func (s *Server) batchEnvironmentDoc(lang string, rep *environment.BatchReport, printedBy string) ([]byte, error) {
	zone := s.zone()
	setup := pdfSetup{title: tr(lang, "dossier.env.title") + " " + rep.Lot, lang: lang, landscape: true, margin: 12, fontSize: 9, pageLabel: rep.Lot}
	m, err := newPDF(setup)
	if err != nil {
		return nil, err
	}
	m.AddAutoRow(pdfCol(pdfGrid, tr(lang, "dossier.env.title")+" — "+rep.Lot, props.Text{Size: 14, Style: fontstyle.Bold}))
	m.AddAutoRow(pdfCol(pdfGrid, fmt.Sprintf(tr(lang, "audit.pdf.printed"), formatStamp(lang, time.Now(), zone), printedBy), props.Text{Top: 1, Bottom: 2}))
	m.AddAutoRow(pdfCol(5, tr(lang, "dossier.env.room"), props.Text{Style: fontstyle.Bold}), pdfCol(pdfGrid-5, rep.RoomCode+" — "+rep.RoomName))
	m.AddAutoRow(pdfCol(5, tr(lang, "env.pdf.grade"), props.Text{Style: fontstyle.Bold}), pdfCol(pdfGrid-5, tr(lang, "grade."+rep.Grade)))
	period := tr(lang, "dossier.env.not_made")
	if !rep.From.IsZero() {
		period = formatStamp(lang, rep.From, zone) + " → " + formatStamp(lang, rep.To, zone)
	}
	m.AddAutoRow(pdfCol(5, tr(lang, "env.pdf.period"), props.Text{Style: fontstyle.Bold}), pdfCol(pdfGrid-5, period))
	envReportTables(m, lang, zone, rep.Sensors, rep.Alarms)
	return finishPDF(m, setup)
}
