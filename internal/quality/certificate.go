package quality

import (
	"time"

	"galenix/internal/errs"
	"galenix/internal/esign"
	"galenix/internal/production"
)

// Certificate is a batch's certificate of analysis, with what WHO TRS 1010
// annex 4 asks it to name: the laboratory that tested it, the certificate's
// number, the client, the product and the batch, each test with its method,
// result and acceptance criterion, the conformity statement and the
// qualified person's signature. It is issued only for a certified batch.
type Certificate struct {
	Number string `json:"number"`
	// Laboratory and Address name the site's QC laboratory.
	Laboratory string    `json:"laboratory"`
	Address    string    `json:"address"`
	Client     string    `json:"client"`
	Product    string    `json:"product"`
	ProductID  string    `json:"product_id"`
	Code       string    `json:"product_code"`
	Lot        string    `json:"lot"`
	Quantity   float64   `json:"quantity"`
	Unit       string    `json:"unit"`
	Spec       string    `json:"spec"`
	SpecVer    int       `json:"spec_version"`
	Tests      []Line    `json:"tests"`
	IssuedAt   time.Time `json:"issued_at"`
	// Signature is the qualified person's certification.
	Signature esign.Signature `json:"signature"`
}

// Line is one test on a certificate: its result against its criterion.
type Line struct {
	Test      Test    `json:"test"`
	Result    string  `json:"result"`
	Unit      string  `json:"unit,omitempty"`
	Verdict   Verdict `json:"verdict"`
	Retested  bool    `json:"retested"`
	SampleRef string  `json:"sample"`
}

// BuildCertificate makes the certificate of a certified batch from its
// register line, its signature and what the release checked: the
// finished product's tests (the in-process ones when the specification has
// none for the finished product), each with its reportable result.
func BuildCertificate(c Releasing, line Certification, sig esign.Signature) (*Certificate, error) {
	if c.Batch.State != production.BatchCertified || line.Decision != DecisionCertified || c.Spec == nil {
		return nil, errs.E(errs.NotFound, "quality.certificate.none")
	}
	cert := &Certificate{Number: line.Certificate, Product: c.Batch.Product, ProductID: c.Batch.ProductID, Code: c.Batch.ProductCode,
		Lot: c.Batch.Lot, Quantity: c.Batch.Quantity, Unit: c.Batch.Unit, Spec: c.Spec.Code, SpecVer: c.Spec.Version,
		IssuedAt: line.SignedAt, Signature: sig}
	kind := SampleFinished
	if len(c.Spec.TestsFor(kind)) == 0 {
		kind = SampleInProcess
	}
	for _, s := range c.Samples {
		if s.Kind != kind {
			continue
		}
		for _, code := range s.Tests {
			t, ok := c.Spec.TestFor(code)
			if !ok {
				continue
			}
			r, ok := Reportable(c.Results, c.Investigations, s.ID, code)
			if !ok {
				return nil, errs.E(errs.Conflict, "quality.block.no_result", code, s.Code)
			}
			cert.Tests = append(cert.Tests, Line{Test: *t, Result: r.Value, Unit: t.Unit, Verdict: r.Verdict, Retested: r.Retest, SampleRef: s.Code})
		}
	}
	return cert, nil
}
