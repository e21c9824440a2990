package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"galenix/internal/store"
)

// TestReleasePages: quality assurance justifies the exception and signs its
// review on the batch's review page; the qualified person's queue shows the
// batch and the quality figures, its view says in words what blocks, and
// the rejection signed on the page enters the register; the client's
// certificates page lists no rejected batch; an operator reaches none of
// it. French first, then English.
func TestReleasePages(t *testing.T) {
	e := newEnv(t, store.SQLite)
	p := newProdEnv(t, e, "operator")
	p.assign(t, "qp")
	product := p.created(t, "supervisor", "/api/v1/products", p.productBody("PAGE-CEF"))
	p.effectiveMaster(t, product, "MBR-PAGE")
	b, ph := p.inReview(t, product, slot(time.Wednesday, 6))

	qa := e.browserWith(t, "qa", testPassword, "")
	review := "/batches/" + b + "/review"
	qa.get(review).has(t, http.StatusOK, "Revue QA par exception", "Justifiez chaque exception", `name="j-`+ph+`"`, "Signer la revue")
	// Signed before the justification: refused, in words, nothing written.
	sign := url.Values{"username": {"qa"}, "password": {testPassword}}
	qa.post(review+"/sign", sign).has(t, http.StatusBadRequest, "Justifiez l'exception de l'étape")
	qa.post("/batches/"+b+"/justify", url.Values{"j-" + ph: {"court"}, "version": {"0"}}).has(t, http.StatusBadRequest, "Justifiez l'exception")
	done := qa.post("/batches/"+b+"/justify", url.Values{"j-" + ph: {"pH 8,2 : tampon surdosé, voir la déviation."}, "version": {"0"}})
	qa.follow(t, done).has(t, http.StatusOK, "Justifications enregistrées", "tampon surdosé")
	signed := qa.post(review+"/sign", sign)
	qa.follow(t, signed).has(t, http.StatusOK, "Revue QA signée", "empêchent la certification", "Aucune spécification")

	qp := e.browserWith(t, "qp", testPassword, "")
	qp.get("/release").has(t, http.StatusOK, "Libération des lots", "Indicateurs qualité", p.batchLot(t, b), "bons du premier coup")
	view := qp.get("/batches/" + b + "/release")
	view.has(t, http.StatusOK, "points empêchent la certification", "Aucune spécification n'était en vigueur", "Signer la décision", "Refuser le lot")
	// The certification is not offered while something blocks it.
	if !strings.Contains(view.body, `value="released" disabled`) {
		t.Error("the certification is offered while something blocks it")
	}
	qp.post("/batches/"+b+"/decide", url.Values{"meaning": {"rejected"}, "username": {"qp"}, "password": {testPassword}}).
		has(t, http.StatusBadRequest, "Dites pourquoi le lot est refusé")
	decided := qp.post("/batches/"+b+"/decide", url.Values{"meaning": {"rejected"}, "username": {"qp"}, "password": {testPassword},
		"reason": {"pH hors limites ; l'évaluation de la déviation ne permet pas la libération."}})
	qp.follow(t, decided).has(t, http.StatusOK, "Lot refusé", "Ligne 1 du registre")
	qp.get("/register").has(t, http.StatusOK, "Registre des certifications", p.batchLot(t, b), "Refusé", "Paula Personne Qualifiée")

	// The client: certificates, no rejected batch, no QP's name.
	cl := e.browserWith(t, "client-alpha", testPassword, "")
	cp := cl.get("/certificates")
	cp.has(t, http.StatusOK, "Certificats d'analyse", "Aucun lot certifié")
	if strings.Contains(cp.text, "Paula") {
		t.Error("the client's page names the QP")
	}
	if strings.Contains(cl.get("/batches").body, `href="/release"`) {
		t.Error("a client's menu offers the release")
	}
	// An operator reaches none of it.
	op := e.browserWith(t, "operator", testPassword, "")
	op.get("/release").has(t, http.StatusForbidden)
	op.get("/batches/"+b+"/release").has(t, http.StatusNotFound)

	// In English.
	en := e.browserWith(t, "qp", testPassword, "en")
	en.get("/batches/"+b+"/release").has(t, http.StatusOK, "The qualified person's decision", "Rejected", "Line 1 of the register")
	en.get("/release").has(t, http.StatusOK, "Quality figures", "right first time")
}
