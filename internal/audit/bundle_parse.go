package audit

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"regexp"
	"strconv"
	"time"
)

// ParseBundle reads a bundle as docs/audit-bundle.md specifies it, from its
// parsed JSON content: one JSON object, every member named exactly as the
// specification names it (no other, none missing unless optional), each of
// its type; integers from 1 to 2^53-1, times in RFC 3339 UTC ("Z"), byte
// strings in canonical standard base64. Whitespace and the order of members
// do not count. The rules are those tools/verify-bundle.sh applies, so that
// both read the same bundles the same way.
func ParseBundle(data []byte) (*Bundle, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrNotBundle, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("%w: something follows the bundle", ErrNotBundle)
	}
	var r shapeReader
	b := r.bundle(v)
	if r.err != nil {
		return nil, fmt.Errorf("%w: %v", ErrNotBundle, r.err)
	}
	if b.Format != BundleFormat {
		return nil, fmt.Errorf("%w: its format is %q, not %q", ErrNotBundle, b.Format, BundleFormat)
	}
	return b, nil
}

// The members of each object of a bundle; the optional ones may be left
// out, and read as empty then.
var (
	bundleMembers     = members{req: []string{"format", "entity", "entity_id", "entries", "segments", "public_key"}}
	entryMembers      = members{req: []string{"seq", "at", "actor_id", "actor_name", "command", "entity", "entity_id", "field", "old", "new", "prev_hash", "hash"}, opt: []string{"session_id", "address", "reason", "client_id"}}
	segmentMembers    = members{req: []string{"first", "prev_hash", "others", "checkpoint"}}
	sealedMembers     = members{req: []string{"seq", "digest"}}
	checkpointMembers = members{req: []string{"seq", "hash", "at", "signature"}, opt: []string{"key", "next_key", "next_signature"}}
)

type members struct{ req, opt []string }

// bundleTime is the form of a bundle's times: RFC 3339 in UTC, with a
// fraction of 1 to 9 digits or none.
var bundleTime = regexp.MustCompile(`^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,9})?Z$`)

// maxInt is the largest integer a bundle holds: 2^53-1, which every JSON
// reader keeps exactly.
const maxInt = 1<<53 - 1

// shapeReader builds a Bundle from a decoded JSON value, keeping the first
// way it differs from the specification.
type shapeReader struct{ err error }

func (r *shapeReader) fail(format string, a ...any) {
	if r.err == nil {
		r.err = fmt.Errorf(format, a...)
	}
}

func (r *shapeReader) bundle(v any) *Bundle {
	m := r.object(v, "the bundle", bundleMembers)
	b := &Bundle{Format: r.str(m, "format", "the bundle"), Entity: r.str(m, "entity", "the bundle"),
		EntityID: r.str(m, "entity_id", "the bundle"), PublicKey: r.str(m, "public_key", "the bundle")}
	for i, e := range r.array(m, "entries", "the bundle") {
		where := fmt.Sprintf("entries[%d]", i)
		m := r.object(e, where, entryMembers)
		b.Entries = append(b.Entries, Entry{Seq: r.int(m, "seq", where), At: r.time(m, "at", where),
			ActorID: r.str(m, "actor_id", where), ActorName: r.str(m, "actor_name", where),
			SessionID: r.str(m, "session_id", where), Address: r.str(m, "address", where),
			Command: r.str(m, "command", where), Entity: r.str(m, "entity", where), EntityID: r.str(m, "entity_id", where),
			Field: r.str(m, "field", where), Old: r.str(m, "old", where), New: r.str(m, "new", where),
			Reason: r.str(m, "reason", where), ClientID: r.str(m, "client_id", where),
			PrevHash: r.str(m, "prev_hash", where), Hash: r.str(m, "hash", where)})
	}
	for i, s := range r.array(m, "segments", "the bundle") {
		where := fmt.Sprintf("segments[%d]", i)
		m := r.object(s, where, segmentMembers)
		seg := Segment{First: r.int(m, "first", where), PrevHash: r.str(m, "prev_hash", where), Others: []Sealed{}}
		for j, o := range r.array(m, "others", where) {
			where := fmt.Sprintf("%s.others[%d]", where, j)
			m := r.object(o, where, sealedMembers)
			seg.Others = append(seg.Others, Sealed{Seq: r.int(m, "seq", where), Digest: r.str(m, "digest", where)})
		}
		where += ".checkpoint"
		c := r.object(m["checkpoint"], where, checkpointMembers)
		seg.Checkpoint = Checkpoint{Seq: r.int(c, "seq", where), Hash: r.str(c, "hash", where), At: r.time(c, "at", where),
			Signature: r.bytes(c, "signature", where), Key: r.bytes(c, "key", where),
			NextKey: r.bytes(c, "next_key", where), NextSignature: r.bytes(c, "next_signature", where)}
		b.Segments = append(b.Segments, seg)
	}
	return b
}

// object reads an object with exactly the given members.
func (r *shapeReader) object(v any, where string, ms members) map[string]any {
	m, ok := v.(map[string]any)
	if !ok {
		r.fail("%s is not an object", where)
		return nil
	}
	known := map[string]bool{}
	for _, k := range ms.req {
		known[k] = true
		if _, ok := m[k]; !ok {
			r.fail("%s lacks %q", where, k)
		}
	}
	for _, k := range ms.opt {
		known[k] = true
	}
	for k := range m {
		if !known[k] {
			r.fail("%s has an unknown member %q", where, k)
		}
	}
	return m
}

func (r *shapeReader) array(m map[string]any, k, where string) []any {
	a, ok := m[k].([]any)
	if !ok && m != nil {
		r.fail("%s.%s is not an array", where, k)
	}
	return a
}

// str reads a string member; an optional one left out is empty.
func (r *shapeReader) str(m map[string]any, k, where string) string {
	v, present := m[k]
	if !present {
		return ""
	}
	s, ok := v.(string)
	if !ok {
		r.fail("%s.%s is not a string", where, k)
	}
	return s
}

// int reads an integer from 1 to 2^53-1, in whatever way JSON writes it
// (12, 12.0 or 1.2e1 alike, as every JSON reader takes them).
func (r *shapeReader) int(m map[string]any, k, where string) int64 {
	n, ok := m[k].(json.Number)
	if !ok {
		if m != nil {
			r.fail("%s.%s is not a number", where, k)
		}
		return 0
	}
	f, err := strconv.ParseFloat(string(n), 64)
	if err != nil || f != math.Trunc(f) || f < 1 || f > maxInt {
		r.fail("%s.%s is not an integer from 1 to 2^53-1: %s", where, k, n)
		return 0
	}
	return int64(f)
}

// time reads a time in RFC 3339, UTC.
func (r *shapeReader) time(m map[string]any, k, where string) time.Time {
	s := r.str(m, k, where)
	if !bundleTime.MatchString(s) {
		r.fail("%s.%s is not a time in RFC 3339 UTC (YYYY-MM-DDTHH:MM:SS[.fraction]Z): %q", where, k, s)
		return time.Time{}
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		r.fail("%s.%s is not a valid time: %v", where, k, err)
	}
	return t.UTC()
}

// bytes reads bytes in canonical standard base64 (RFC 4648 §4, padded,
// unused bits zero, nothing else); an optional member left out is none.
func (r *shapeReader) bytes(m map[string]any, k, where string) []byte {
	s := r.str(m, k, where)
	if s == "" {
		return nil
	}
	b, err := base64.StdEncoding.Strict().DecodeString(s)
	if err != nil || base64.StdEncoding.EncodeToString(b) != s {
		r.fail("%s.%s is not canonical base64", where, k)
		return nil
	}
	return b
}
