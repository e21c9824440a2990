package pdf

import (
	"bytes"
	"compress/zlib"
	"crypto/md5"
	_ "embed"
	"encoding/hex"
	"fmt"
	"html"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf16"
)

// sRGB is the ICC profile of the documents' output intent: sRGB
// IEC 61966-2.1, from Debian's icc-profiles-free (licence in icc/).
//
//go:embed icc/sRGB.icc
var sRGB []byte

// Meta is what a document says of itself, in its information dictionary
// and its XMP metadata alike.
type Meta struct {
	Title   string
	Lang    string // "fr", "en"
	Created time.Time
}

// Producer names the software in the metadata.
const Producer = "galenix"

var (
	reStartXref = regexp.MustCompile(`startxref\s+(\d+)\s+%%EOF\s*$`)
	reRoot      = regexp.MustCompile(`/Root\s+(\d+)\s+0\s+R`)
	reInfo      = regexp.MustCompile(`/Info\s+(\d+)\s+0\s+R`)
	rePages     = regexp.MustCompile(`/Pages\s+(\d+)\s+0\s+R`)
)

// PDFA rewrites a document written by gofpdf (a classic cross-reference
// table, one revision, no encryption) as PDF/A-2b: a PDF 1.7 header with
// its binary comment; the same objects, but a new information dictionary
// and a catalog that references XMP metadata declaring PDF/A-2b
// (pdfaid:part 2, conformance B) with the same title, dates and producer,
// and an output intent GTS_PDFA1 with the sRGB profile; and a trailer with
// the file identifier. The fonts are embedded by the writer itself (the
// documents use only Galenix Sans); gofpdf can do none of the rest, hence
// this step (docs/architecture.md).
func PDFA(doc []byte, m Meta) ([]byte, error) {
	sx := reStartXref.FindSubmatch(doc)
	if sx == nil {
		return nil, fmt.Errorf("pdf/a: no startxref")
	}
	xref, _ := strconv.Atoi(string(sx[1]))
	if xref <= 0 || xref >= len(doc) || !bytes.HasPrefix(doc[xref:], []byte("xref")) {
		return nil, fmt.Errorf("pdf/a: no cross-reference table at %d", xref)
	}
	tail := doc[xref:]
	ti := bytes.Index(tail, []byte("trailer"))
	if ti < 0 {
		return nil, fmt.Errorf("pdf/a: no trailer")
	}
	trailer := tail[ti:]
	if bytes.Contains(trailer, []byte("/Encrypt")) || bytes.Contains(trailer, []byte("/Prev")) {
		return nil, fmt.Errorf("pdf/a: an encrypted or updated document")
	}
	root, info := reRoot.FindSubmatch(trailer), reInfo.FindSubmatch(trailer)
	if root == nil || info == nil {
		return nil, fmt.Errorf("pdf/a: the trailer lacks /Root or /Info")
	}
	rootN, _ := strconv.Atoi(string(root[1]))
	infoN, _ := strconv.Atoi(string(info[1]))

	// The table: "xref", "0 N", then N entries.
	fields := strings.Fields(string(tail[:ti]))
	if len(fields) < 3 || fields[0] != "xref" || fields[1] != "0" {
		return nil, fmt.Errorf("pdf/a: a cross-reference table of one section expected")
	}
	size, err := strconv.Atoi(fields[2])
	if err != nil || len(fields) != 3+3*size {
		return nil, fmt.Errorf("pdf/a: a malformed cross-reference table")
	}
	offsets := make([]int, size)
	for i := 1; i < size; i++ {
		offsets[i], err = strconv.Atoi(fields[3+3*i])
		if err != nil || fields[5+3*i] != "n" || offsets[i] <= 0 || offsets[i] >= xref {
			return nil, fmt.Errorf("pdf/a: entry %d of the cross-reference table", i)
		}
	}
	// Each object runs from its offset to the next one's.
	sorted := slices.Clone(offsets[1:])
	sorted = append(sorted, xref)
	slices.Sort(sorted)
	body := func(i int) []byte {
		at := offsets[i]
		j, _ := slices.BinarySearch(sorted, at)
		return bytes.TrimRight(doc[at:sorted[j+1]], " \r\n")
	}
	catalog := body(rootN)
	pages := rePages.FindSubmatch(catalog)
	if pages == nil || !bytes.HasPrefix(catalog, []byte(strconv.Itoa(rootN)+" 0 obj")) {
		return nil, fmt.Errorf("pdf/a: object %d is not the catalog", rootN)
	}

	var out bytes.Buffer
	out.WriteString("%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
	next := size
	metaN, iccN, intentN := next, next+1, next+2
	total := next + 3
	newOffsets := make([]int, total)
	put := func(n int, content []byte) {
		newOffsets[n] = out.Len()
		out.Write(content)
		out.WriteString("\n")
	}
	created := m.Created.UTC().Truncate(time.Second)
	pdfDate := created.Format("D:20060102150405") + "+00'00'"
	for i := 1; i < size; i++ {
		switch i {
		case infoN:
			put(i, fmt.Appendf(nil, "%d 0 obj\n<< /Title %s /Creator %s /Producer %s /CreationDate (%s) /ModDate (%s) >>\nendobj",
				i, textString(m.Title), textString(Producer), textString(Producer), pdfDate, pdfDate))
		case rootN:
			lang := ""
			if m.Lang != "" {
				lang = " /Lang " + textString(m.Lang)
			}
			put(i, fmt.Appendf(nil, "%d 0 obj\n<< /Type /Catalog /Pages %s 0 R /Metadata %d 0 R /OutputIntents [%d 0 R]%s >>\nendobj",
				i, pages[1], metaN, intentN, lang))
		default:
			put(i, body(i))
		}
	}
	xmp := xmpPacket(m, created)
	put(metaN, fmt.Appendf(nil, "%d 0 obj\n<< /Type /Metadata /Subtype /XML /Length %d >>\nstream\n%s\nendstream\nendobj", metaN, len(xmp), xmp))
	var icc bytes.Buffer
	zw := zlib.NewWriter(&icc)
	_, _ = zw.Write(sRGB)
	_ = zw.Close()
	put(iccN, fmt.Appendf(nil, "%d 0 obj\n<< /N 3 /Alternate /DeviceRGB /Filter /FlateDecode /Length %d >>\nstream\n%s\nendstream\nendobj", iccN, icc.Len(), icc.Bytes()))
	put(intentN, fmt.Appendf(nil, "%d 0 obj\n<< /Type /OutputIntent /S /GTS_PDFA1 /OutputConditionIdentifier (sRGB IEC61966-2.1) /Info (sRGB IEC61966-2.1) /RegistryName (http://www.color.org) /DestOutputProfile %d 0 R >>\nendobj", intentN, iccN))

	sum := md5.Sum(out.Bytes())
	id := hex.EncodeToString(sum[:])
	start := out.Len()
	fmt.Fprintf(&out, "xref\n0 %d\n0000000000 65535 f\r\n", total)
	for i := 1; i < total; i++ {
		fmt.Fprintf(&out, "%010d 00000 n\r\n", newOffsets[i])
	}
	fmt.Fprintf(&out, "trailer\n<< /Size %d /Root %d 0 R /Info %d 0 R /ID [<%s> <%s>] >>\nstartxref\n%d\n%%%%EOF\n", total, rootN, infoN, id, id, start)
	return out.Bytes(), nil
}

// textString writes s as a PDF text string: UTF-16BE with its byte order
// mark, in hexadecimal, which needs no escaping.
func textString(s string) string {
	var b strings.Builder
	b.WriteString("<FEFF")
	for _, u := range utf16.Encode([]rune(s)) {
		fmt.Fprintf(&b, "%04X", u)
	}
	b.WriteString(">")
	return b.String()
}

// xmpPacket is the document's XMP metadata: the same title, producer and
// dates as its information dictionary, and the PDF/A-2b identification.
func xmpPacket(m Meta, created time.Time) string {
	date := created.Format("2006-01-02T15:04:05") + "+00:00"
	title := html.EscapeString(m.Title)
	lang := m.Lang
	if lang == "" {
		lang = "x-default"
	}
	return `<?xpacket begin="` + "\ufeff" + `" id="W5M0MpCehiHzreSzNTczkc9d"?>
<x:xmpmeta xmlns:x="adobe:ns:meta/">
 <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
  <rdf:Description rdf:about=""
    xmlns:dc="http://purl.org/dc/elements/1.1/"
    xmlns:xmp="http://ns.adobe.com/xap/1.0/"
    xmlns:pdf="http://ns.adobe.com/pdf/1.3/"
    xmlns:pdfaid="http://www.aiim.org/pdfa/ns/id/">
   <dc:format>application/pdf</dc:format>
   <dc:title><rdf:Alt><rdf:li xml:lang="x-default">` + title + `</rdf:li></rdf:Alt></dc:title>
   <dc:language><rdf:Bag><rdf:li>` + html.EscapeString(lang) + `</rdf:li></rdf:Bag></dc:language>
   <xmp:CreatorTool>` + Producer + `</xmp:CreatorTool>
   <xmp:CreateDate>` + date + `</xmp:CreateDate>
   <xmp:ModifyDate>` + date + `</xmp:ModifyDate>
   <xmp:MetadataDate>` + date + `</xmp:MetadataDate>
   <pdf:Producer>` + Producer + `</pdf:Producer>
   <pdfaid:part>2</pdfaid:part>
   <pdfaid:conformance>B</pdfaid:conformance>
  </rdf:Description>
 </rdf:RDF>
</x:xmpmeta>
<?xpacket end="w"?>`
}
