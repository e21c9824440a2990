// Package pdftest checks a PDF galenix wrote with tools independent of
// the code that wrote it (poppler's pdftotext and pdffonts, qpdf): its
// text reads back, every font is embedded, its syntax is sound and it
// carries the PDF/A-2b structure (XMP metadata declaring it, consistent
// with the information dictionary, and an sRGB output intent). For tests.
package pdftest

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"encoding/xml"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// Tools skips the test when a tool is missing, or fails it under CI
// (.ci/run installs poppler-utils and qpdf).
func Tools(t testing.TB) {
	t.Helper()
	for _, tool := range []string{"pdftotext", "pdffonts", "qpdf"} {
		if _, err := exec.LookPath(tool); err != nil {
			if os.Getenv("CI") != "" {
				t.Fatalf("%s is needed to check the PDFs (Debian packages poppler-utils and qpdf)", tool)
			}
			t.Skipf("%s not installed: apt-get install poppler-utils qpdf to check the PDFs", tool)
		}
	}
}

// Check runs every check on doc and returns its text as pdftotext gives
// it (UTF-8, layout kept), each run of white space made one space.
func Check(t testing.TB, doc []byte) string {
	t.Helper()
	Tools(t)
	path := filepath.Join(t.TempDir(), "doc.pdf")
	if err := os.WriteFile(path, doc, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("pdftotext", "-layout", "-enc", "UTF-8", path, "-").Output()
	if err != nil {
		t.Fatalf("pdftotext: %v", err)
	}
	Fonts(t, path)
	if out, err := exec.Command("qpdf", "--check", path).CombinedOutput(); err != nil {
		t.Errorf("qpdf --check: %v\n%s", err, out)
	}
	Structure(t, doc, path)
	return strings.Join(strings.Fields(string(out)), " ")
}

// Fonts checks with pdffonts that the document lists fonts and that each
// is embedded.
func Fonts(t testing.TB, path string) {
	t.Helper()
	out, err := exec.Command("pdffonts", path).Output()
	if err != nil {
		t.Fatalf("pdffonts: %v", err)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(lines) < 3 {
		t.Fatalf("pdffonts lists no font:\n%s", out)
	}
	for _, l := range lines[2:] {
		// name type [type] encoding emb sub uni object ID: emb is the
		// sixth field from the end.
		f := strings.Fields(l)
		if len(f) < 7 || f[len(f)-5] != "yes" {
			t.Errorf("a font not embedded: %q\n%s", l, out)
		}
	}
}

// Structure reads the document's objects through qpdf's JSON and checks
// the PDF/A-2b items veraPDF would start with.
func Structure(t testing.TB, doc []byte, path string) {
	t.Helper()
	if !bytes.HasPrefix(doc, []byte("%PDF-1.7\n%")) || len(doc) < 14 || doc[10] < 128 || doc[11] < 128 || doc[12] < 128 || doc[13] < 128 {
		t.Errorf("the header is not %%PDF-1.7 with a binary comment: %q", doc[:min(16, len(doc))])
	}
	raw, err := exec.Command("qpdf", "--json", "--json-stream-data=inline", "--decode-level=generalized", path).Output()
	if err != nil {
		t.Fatalf("qpdf --json: %v", err)
	}
	var top struct {
		QPDF []json.RawMessage `json:"qpdf"`
	}
	if err := json.Unmarshal(raw, &top); err != nil || len(top.QPDF) != 2 {
		t.Fatalf("qpdf's JSON: %v", err)
	}
	var objs map[string]struct {
		Value  map[string]any `json:"value"`
		Stream *struct {
			Dict map[string]any `json:"dict"`
			Data string         `json:"data"`
		} `json:"stream"`
	}
	if err := json.Unmarshal(top.QPDF[1], &objs); err != nil {
		t.Fatalf("qpdf's objects: %v", err)
	}
	ref := func(v any) string { s, _ := v.(string); return "obj:" + s }
	str := func(v any) string { s, _ := v.(string); return strings.TrimPrefix(strings.TrimPrefix(s, "u:"), "b:") }
	trailer := objs["trailer"].Value
	if ids, _ := trailer["/ID"].([]any); len(ids) != 2 {
		t.Error("the trailer has no file identifier /ID")
	}
	if _, ok := trailer["/Encrypt"]; ok {
		t.Error("the document is encrypted")
	}
	info := objs[ref(trailer["/Info"])].Value
	catalog := objs[ref(trailer["/Root"])].Value
	if catalog == nil || info == nil {
		t.Fatalf("no catalog or information dictionary: %v", trailer)
	}

	// The XMP metadata: PDF/A-2b, and what the information dictionary says.
	md := objs[ref(catalog["/Metadata"])].Stream
	if md == nil || md.Dict["/Type"] != "/Metadata" || md.Dict["/Subtype"] != "/XML" {
		t.Fatalf("the catalog has no XMP metadata stream: %v", catalog)
	}
	xmp, err := base64.StdEncoding.DecodeString(md.Data)
	if err != nil {
		t.Fatal(err)
	}
	x := xmpValues(t, xmp)
	for k, want := range map[string]string{
		"http://www.aiim.org/pdfa/ns/id/ part":        "2",
		"http://www.aiim.org/pdfa/ns/id/ conformance": "B",
		"http://purl.org/dc/elements/1.1/ title":      str(info["/Title"]),
		"http://ns.adobe.com/pdf/1.3/ Producer":       str(info["/Producer"]),
		"http://ns.adobe.com/xap/1.0/ CreatorTool":    str(info["/Creator"]),
		"http://ns.adobe.com/xap/1.0/ CreateDate":     xmpDate(str(info["/CreationDate"])),
		"http://ns.adobe.com/xap/1.0/ ModifyDate":     xmpDate(str(info["/ModDate"])),
	} {
		if x[k] != want || want == "" {
			t.Errorf("XMP %s = %q, want %q (information dictionary %v)", k, x[k], want, info)
		}
	}

	// The output intent: GTS_PDFA1 with an RGB ICC profile.
	intents, _ := catalog["/OutputIntents"].([]any)
	found := false
	for _, r := range intents {
		oi := objs[ref(r)].Value
		if oi["/S"] != "/GTS_PDFA1" {
			continue
		}
		p := objs[ref(oi["/DestOutputProfile"])].Stream
		if p == nil {
			t.Error("the GTS_PDFA1 output intent has no DestOutputProfile stream")
			continue
		}
		icc, _ := base64.StdEncoding.DecodeString(p.Data)
		if n, _ := p.Dict["/N"].(float64); n != 3 || len(icc) < 40 || string(icc[36:40]) != "acsp" || string(icc[16:20]) != "RGB " {
			t.Errorf("the output intent's profile is not an RGB ICC profile (/N %v)", p.Dict["/N"])
			continue
		}
		found = true
	}
	if !found {
		t.Errorf("no GTS_PDFA1 output intent: %v", catalog)
	}

	// Every font descriptor carries its font program.
	fonts := 0
	for k, o := range objs {
		d := o.Value
		if o.Stream != nil {
			d = o.Stream.Dict
		}
		if d["/Type"] != "/FontDescriptor" {
			continue
		}
		fonts++
		if d["/FontFile"] == nil && d["/FontFile2"] == nil && d["/FontFile3"] == nil {
			t.Errorf("font %s %v is not embedded", k, d["/FontName"])
		}
	}
	if fonts == 0 {
		t.Error("no font descriptor: a standard font, not embedded, is used")
	}
}

// xmpValues are the text values of the XMP packet's properties, by
// namespace and name; a language alternative or a bag gives its first
// item.
func xmpValues(t testing.TB, packet []byte) map[string]string {
	t.Helper()
	d := xml.NewDecoder(bytes.NewReader(packet))
	vals := map[string]string{}
	var stack []xml.Name
	const rdf = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
	for {
		tok, err := d.Token()
		if err != nil {
			break
		}
		switch el := tok.(type) {
		case xml.StartElement:
			stack = append(stack, el.Name)
		case xml.EndElement:
			stack = stack[:len(stack)-1]
		case xml.CharData:
			// the nearest element outside the rdf namespace names it
			for i := len(stack) - 1; i >= 0; i-- {
				if stack[i].Space != rdf {
					k := stack[i].Space + " " + stack[i].Local
					if s := strings.TrimSpace(string(el)); s != "" && vals[k] == "" {
						vals[k] = s
					}
					break
				}
			}
		}
	}
	if len(vals) == 0 {
		t.Errorf("XMP metadata that does not parse:\n%s", packet)
	}
	return vals
}

// xmpDate writes a PDF date "D:20261204110841+00'00'" as XMP writes it,
// "2026-12-04T11:08:41+00:00"; "" if it is not one.
func xmpDate(s string) string {
	s = strings.TrimPrefix(s, "D:")
	if len(s) < 14 {
		return ""
	}
	out := s[0:4] + "-" + s[4:6] + "-" + s[6:8] + "T" + s[8:10] + ":" + s[10:12] + ":" + s[12:14]
	switch z := s[14:]; {
	case z == "Z":
		return out + "Z"
	case len(z) >= 6 && (z[0] == '+' || z[0] == '-'):
		return out + z[0:3] + ":" + z[4:6]
	}
	return ""
}

// RawText is the document's text in the order it is written (pdftotext
// -raw): the lines of one cell follow each other.
func RawText(t testing.TB, doc []byte) string {
	t.Helper()
	Tools(t)
	path := filepath.Join(t.TempDir(), "doc.pdf")
	if err := os.WriteFile(path, doc, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("pdftotext", "-raw", "-enc", "UTF-8", path, "-").Output()
	if err != nil {
		t.Fatalf("pdftotext: %v", err)
	}
	return string(out)
}
