package document

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"galenix/internal/errs"
	"galenix/internal/identity"
)

func key(t *testing.T) []byte {
	t.Helper()
	k, err := NewKey()
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestEnvelope(t *testing.T) {
	master, alpha, beta := key(t), key(t), key(t)
	plain := []byte("%PDF-1.4 the specification of alpha's product")
	s, sha, err := Seal(alpha, "doc-1", 1, "client-a", plain)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(s.Ciphertext, []byte("specification")) {
		t.Fatal("the ciphertext holds the plaintext")
	}
	got, err := Open(alpha, "doc-1", 1, "client-a", *s, sha)
	if err != nil || !bytes.Equal(got, plain) {
		t.Fatalf("Open = %q, %v", got, err)
	}
	// Another client's key, another row, another version: unreadable.
	for name, try := range map[string]func() ([]byte, error){
		"other client's key": func() ([]byte, error) { return Open(beta, "doc-1", 1, "client-a", *s, sha) },
		"other client id":    func() ([]byte, error) { return Open(alpha, "doc-1", 1, "client-b", *s, sha) },
		"other document":     func() ([]byte, error) { return Open(alpha, "doc-2", 1, "client-a", *s, sha) },
		"other version":      func() ([]byte, error) { return Open(alpha, "doc-1", 2, "client-a", *s, sha) },
		"tampered content": func() ([]byte, error) {
			ct := bytes.Clone(s.Ciphertext)
			ct[len(ct)-20] ^= 1
			return Open(alpha, "doc-1", 1, "client-a", Sealed{Ciphertext: ct, DataKey: s.DataKey}, sha)
		},
		"tampered data key": func() ([]byte, error) {
			dk := bytes.Clone(s.DataKey)
			dk[13] ^= 0x80
			return Open(alpha, "doc-1", 1, "client-a", Sealed{Ciphertext: s.Ciphertext, DataKey: dk}, sha)
		},
		"wrong hash": func() ([]byte, error) { return Open(alpha, "doc-1", 1, "client-a", *s, Hash([]byte("other"))) },
		"truncated": func() ([]byte, error) {
			return Open(alpha, "doc-1", 1, "client-a", Sealed{Ciphertext: s.Ciphertext[:5], DataKey: s.DataKey}, sha)
		},
	} {
		if p, err := try(); !errors.Is(err, ErrUnreadable) || p != nil {
			t.Errorf("%s: got %q, %v; want ErrUnreadable", name, p, err)
		}
	}
	// Two seals of the same content differ (fresh data key and nonce).
	s2, _, _ := Seal(alpha, "doc-1", 1, "client-a", plain)
	if bytes.Equal(s.Ciphertext, s2.Ciphertext) || bytes.Equal(s.DataKey, s2.DataKey) {
		t.Error("two seals are equal")
	}

	// The client's key wrapped by the master key opens only with it, and
	// only for its client.
	w, err := WrapClientKey(master, alpha, "client-a")
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(w, alpha) {
		t.Fatal("the wrapped key holds the key")
	}
	if k, err := UnwrapClientKey(master, w, "client-a"); err != nil || !bytes.Equal(k, alpha) {
		t.Fatalf("unwrap: %v", err)
	}
	if _, err := UnwrapClientKey(master, w, "client-b"); !errors.Is(err, ErrUnreadable) {
		t.Errorf("a key unwrapped for another client: %v", err)
	}
	if _, err := UnwrapClientKey(beta, w, "client-a"); !errors.Is(err, ErrUnreadable) {
		t.Errorf("a key unwrapped with another master key: %v", err)
	}
	if fp := Fingerprint(w); len(fp) != 32 || fp == Fingerprint(append(bytes.Clone(w), 0)) {
		t.Errorf("fingerprint %q", fp)
	}
	if _, err := WrapClientKey(master[:16], alpha, "client-a"); err == nil {
		t.Error("a short master key wraps")
	}
}

func TestCheckFile(t *testing.T) {
	pdf := []byte("%PDF-1.7\n1 0 obj\n")
	png := []byte("\x89PNG\r\n\x1a\n0000")
	zip := []byte("PK\x03\x04" + strings.Repeat("x", 40))
	for _, c := range []struct {
		name, typ string
		body      []byte
		code      errs.Code
		wantType  string
	}{
		{"spec.pdf", "application/pdf", pdf, "", TypePDF},
		{"dir/photo.png", "image/png", png, "", TypePNG},
		{"data.csv", "text/csv; charset=utf-8", []byte("a,b\n1,2\n"), "", TypeCSV},
		{"notes.txt", "text/plain", []byte("hello"), "", TypeText},
		{"sheet.xlsx", TypeXLSX, zip, "", TypeXLSX},
		{"letter.docx", TypeDOCX, zip, "", TypeDOCX},
		{"fake.pdf", "application/pdf", []byte("<html><script>alert(1)</script>"), errs.Invalid, ""},
		{"page.html", "text/html", []byte("<html></html>"), errs.Invalid, ""},
		{"run.exe", "application/octet-stream", []byte("MZ\x90\x00"), errs.Invalid, ""},
		{"png-as-pdf.pdf", "application/pdf", png, errs.Invalid, ""},
		{"empty.pdf", "application/pdf", nil, errs.Invalid, ""},
		{"", "application/pdf", pdf, errs.Invalid, ""},
		{"big.txt", "text/plain", bytes.Repeat([]byte("a"), MaxSize+1), errs.TooLarge, ""},
	} {
		name, typ, err := CheckFile(File{Name: c.name, ContentType: c.typ, Content: c.body})
		if c.code == "" {
			if err != nil || typ != c.wantType || strings.ContainsAny(name, "/") {
				t.Errorf("%s: %q %q %v", c.name, name, typ, err)
			}
			continue
		}
		if !errs.Is(err, c.code) {
			t.Errorf("%s: err %v, want %s", c.name, err, c.code)
		}
	}
}

func TestNewDocumentAndApproval(t *testing.T) {
	qa := identity.Actor{UserID: "qa", Roles: []identity.Role{identity.RoleQA}}
	op := identity.Actor{UserID: "op", Roles: []identity.Role{identity.RoleOperator}}
	mgr := identity.Actor{UserID: "m", ClientID: "c1", Roles: []identity.Role{identity.RoleClientManager}}
	usr := identity.Actor{UserID: "u", ClientID: "c1", Roles: []identity.Role{identity.RoleClientUser}}
	// An account of the client without a role: no documents' permission.
	bare := identity.Actor{UserID: "b", ClientID: "c1"}
	n := NewDocument{ClientID: "c1", Category: Specification, Title: "Spec"}
	if err := n.Check(qa); err != nil {
		t.Fatal(err)
	}
	for name, c := range map[string]struct {
		a identity.Actor
		n NewDocument
	}{
		"operator":              {op, n},
		"client without a role": {bare, n},
		"category":              {qa, NewDocument{ClientID: "c1", Category: "memo", Title: "Spec"}},
		"title":                 {qa, NewDocument{ClientID: "c1", Category: Report, Title: "x"}},
		"project":               {qa, NewDocument{ClientID: "c1", Category: Report, Title: "Report", ProjectID: "p1"}},
		"no client":             {qa, NewDocument{Category: Report, Title: "Report"}},
	} {
		if err := c.n.Check(c.a); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	m := NewDocument{Category: Protocol, Title: "Protocol", ProjectID: "0B1C2D3E-0000-4000-8000-000000000001"}
	if err := m.Check(mgr); err != nil || m.ClientID != "c1" || m.ProjectID != "0b1c2d3e-0000-4000-8000-000000000001" {
		t.Fatalf("manager's document: %+v %v", m, err)
	}

	now := time.Date(2026, 12, 5, 8, 0, 0, 0, time.UTC)
	v := Version{ClientID: "c1", Number: 1, State: Draft}
	// A specification needs both sides.
	v1, done, err := Approve(qa, Specification, v, "QA", now)
	if err != nil || done || v1.State != Draft {
		t.Fatalf("site side: %v %v", done, err)
	}
	if _, _, err := Approve(qa, Specification, *v1, "QA", now); !errs.Is(err, errs.Conflict) {
		t.Errorf("second site approval: %v", err)
	}
	if _, _, err := Approve(bare, Specification, *v1, "B", now); !errs.Is(err, errs.Forbidden) {
		t.Errorf("a client's account without a role approves: %v", err)
	}
	if u := (NewDocument{ClientID: "c1", Category: Protocol, Title: "Protocol"}); u.Check(usr) != nil {
		t.Errorf("the client's user uploads: %v", u.Check(usr))
	}
	if v3, done, err := Approve(usr, Specification, *v1, "U", now); err != nil || !done || v3.State != Approved {
		t.Errorf("the client's user approves the specification: %v %v", done, err)
	}
	other := mgr
	other.ClientID = "c2"
	if _, _, err := Approve(other, Specification, *v1, "O", now); !errs.Is(err, errs.Forbidden) {
		t.Errorf("another client's manager approves: %v", err)
	}
	v2, done, err := Approve(mgr, Specification, *v1, "M", now)
	if err != nil || !done || v2.State != Approved {
		t.Fatalf("client side: %v %v", done, err)
	}
	if _, _, err := Approve(qa, Specification, *v2, "QA", now); !errs.Is(err, errs.Conflict) {
		t.Errorf("approved twice: %v", err)
	}
	// Another category: the site alone; the client may not.
	if _, _, err := Approve(mgr, Report, v, "M", now); !errs.Is(err, errs.Forbidden) {
		t.Errorf("client approves a report: %v", err)
	}
	if _, _, err := Approve(op, Report, v, "O", now); !errs.Is(err, errs.Forbidden) {
		t.Errorf("operator approves: %v", err)
	}
	if r, done, err := Approve(qa, Report, v, "QA", now); err != nil || !done || r.State != Approved {
		t.Errorf("report: %v %v", done, err)
	}
	if StateOf([]Version{{State: Draft}, {State: Approved}, {State: Superseded}}) != Approved || StateOf([]Version{{State: Draft}}) != Draft {
		t.Error("StateOf")
	}
}

func TestRetention(t *testing.T) {
	day := func(s string) *time.Time {
		d, err := time.Parse(time.DateOnly, s)
		if err != nil {
			t.Fatal(err)
		}
		return &d
	}
	// Five years after certification, unless expiry + one year is later.
	if u, ok := RetainedUntil(BatchRecord{DecidedAt: day("2020-03-01"), ExpiresOn: day("2022-03-01")}); !ok || !u.Equal(*day("2025-03-01")) {
		t.Errorf("certification rules: %v %v", u, ok)
	}
	if u, ok := RetainedUntil(BatchRecord{DecidedAt: day("2020-03-01"), ExpiresOn: day("2025-06-01")}); !ok || !u.Equal(*day("2026-06-01")) {
		t.Errorf("expiry rules: %v %v", u, ok)
	}
	if _, ok := RetainedUntil(BatchRecord{}); ok {
		t.Error("an undecided batch has an end of retention")
	}
	now := *day("2026-12-05")
	old := BatchRecord{Lot: "L-OLD", Started: true, DecidedAt: day("2020-01-10")}
	recent := BatchRecord{Lot: "L-NEW", Started: true, DecidedAt: day("2022-01-10")}
	if err := MayShred(now, false, []BatchRecord{old}); err != nil {
		t.Errorf("past retention refused: %v", err)
	}
	if err := MayShred(now, false, []BatchRecord{{Lot: "L-PLANNED"}}); err != nil {
		t.Errorf("a batch only planned refused: %v", err)
	}
	if err := MayShred(now, false, nil); err != nil {
		t.Errorf("no batch refused: %v", err)
	}
	for name, c := range map[string]struct {
		hold bool
		bs   []BatchRecord
		key  string
	}{
		"hold":      {true, []BatchRecord{old}, "document.shred.legal_hold"},
		"retention": {false, []BatchRecord{old, recent}, "document.shred.retention"},
		"open":      {false, []BatchRecord{old, {Lot: "L-RUN", Started: true}, {Lot: "L-PLANNED"}}, "document.shred.batch_open"},
		"expiry":    {false, []BatchRecord{{Lot: "L-EXP", Started: true, DecidedAt: day("2020-01-10"), ExpiresOn: day("2026-06-01")}}, "document.shred.retention"},
	} {
		err := MayShred(now, c.hold, c.bs)
		var e *errs.Error
		if !errors.As(err, &e) || e.Key != c.key || e.Code != errs.Conflict {
			t.Errorf("%s: %v, want %s", name, err, c.key)
		}
	}
	// The last day of retention still refuses; the next allows.
	edge := BatchRecord{Lot: "L", Started: true, DecidedAt: day("2021-12-05")}
	if MayShred(now.Add(-time.Second), false, []BatchRecord{edge}) == nil || MayShred(now, false, []BatchRecord{edge}) != nil {
		t.Error("the edge of retention")
	}
}
