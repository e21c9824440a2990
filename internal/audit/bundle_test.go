package audit

import (
	"bytes"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"
)

// site is a chain of entries about three records, with a checkpoint signed
// every seven entries.
type site struct {
	key     ed25519.PrivateKey
	entries []Entry
	cps     []Checkpoint
}

// records are the records of the test chain: a line of the site's, and a
// batch of each of two clients.
var records = []struct{ entity, id, client, secret string }{
	{"line", "LINE-1", "", "line-secret"},
	{"batch", "B-ALPHA", "alpha", "alpha-secret"},
	{"batch", "B-BETA", "beta", "beta-secret"},
}

func newSite(t *testing.T, n int) *site {
	t.Helper()
	_, key, err := ed25519.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	s := &site{key: key}
	prev := Genesis
	at := time.Date(2026, 11, 22, 8, 0, 0, 123456000, time.UTC)
	for i := range n {
		r := records[(i*i+i/3)%len(records)]
		e := Entry{Seq: int64(i + 1), At: at.Add(time.Duration(i) * time.Second), ActorID: "u1", ActorName: "Anne Durand",
			SessionID: "s1", Address: "10.0.0.1", Command: r.entity + ".update", Entity: r.entity, EntityID: r.id,
			Field: "note", Old: fmt.Sprintf("%s-%d", r.secret, i), New: fmt.Sprintf("%s-%d <&>é", r.secret, i+1), Reason: "correction", ClientID: r.client}
		h := Link(prev, e.Digest())
		e.PrevHash, e.Hash = prev.String(), h.String()
		prev = h
		s.entries = append(s.entries, e)
		if (i+1)%7 == 0 || i == n-1 {
			s.checkpoint()
		}
	}
	return s
}

func (s *site) checkpoint() {
	last := s.entries[len(s.entries)-1]
	cp := Checkpoint{Seq: last.Seq, Hash: last.Hash, At: last.At.Add(time.Second)}
	cp.Sign(s.key)
	s.cps = append(s.cps, cp)
}

// bundle builds the bundle of a record as the store does: a segment from
// each group of the record's entries to the first checkpoint after them.
func (s *site) bundle(t *testing.T, entity, id string) []byte {
	t.Helper()
	pem, err := PublicKeyPEM(s.key.Public().(ed25519.PublicKey))
	if err != nil {
		t.Fatal(err)
	}
	b := Bundle{Format: BundleFormat, Entity: entity, EntityID: id, PublicKey: string(pem)}
	var seg *Segment
	for _, e := range s.entries {
		mine := e.Entity == entity && e.EntityID == id
		if seg == nil && mine {
			b.Segments = append(b.Segments, Segment{First: e.Seq, PrevHash: e.PrevHash, Others: []Sealed{}})
			seg = &b.Segments[len(b.Segments)-1]
		}
		if seg == nil {
			continue
		}
		if mine {
			b.Entries = append(b.Entries, e)
		} else {
			seg.Others = append(seg.Others, e.Seal())
		}
		for _, cp := range s.cps {
			if cp.Seq == e.Seq {
				seg.Checkpoint, seg = cp, nil
			}
		}
	}
	if seg != nil {
		t.Fatal("no checkpoint after the last entry")
	}
	out, err := b.Encode()
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestBundleVerifies(t *testing.T) {
	s := newSite(t, 70)
	for _, r := range records {
		data := s.bundle(t, r.entity, r.id)
		rep, err := VerifyBundle(data)
		if err != nil {
			t.Fatalf("%s %s: %v", r.entity, r.id, err)
		}
		if rep.Entity != r.entity || rep.EntityID != r.id || rep.Entries == 0 || rep.Checkpoints == 0 || rep.Linked < int64(rep.Entries) {
			t.Errorf("%s %s: report %+v", r.entity, r.id, rep)
		}
		if len(rep.KeyFingerprint) != 64 {
			t.Errorf("key fingerprint %q", rep.KeyFingerprint)
		}
		// The other records' values are not in it, their digests are.
		for _, o := range records {
			if o.id != r.id && (bytes.Contains(data, []byte(o.secret)) || bytes.Contains(data, []byte(o.id))) {
				t.Errorf("the bundle of %s reveals %s's values", r.id, o.id)
			}
		}
		if !bytes.Contains(data, []byte(r.secret)) {
			t.Errorf("the bundle of %s lacks its own values", r.id)
		}
	}
}

// TestBundleEveryByteCounts changes each byte of a bundle in turn: the
// result never verifies, unless its parsed content is the same (an escape
// \u003c written \u003C is still "<").
func TestBundleEveryByteCounts(t *testing.T) {
	s := newSite(t, 30)
	data := s.bundle(t, "batch", "B-ALPHA")
	if _, err := VerifyBundle(data); err != nil {
		t.Fatal(err)
	}
	masks := []byte{0x01, 0x20, 0x02, 0x80, 0x04, 0x40, 0x08, 0x10}
	step := 1
	if testing.Short() {
		step = 7
	}
	for i := 0; i < len(data); i += step {
		bad := bytes.Clone(data)
		bad[i] ^= masks[i%len(masks)]
		if _, err := VerifyBundle(bad); err == nil && !sameContent(t, data, bad) {
			t.Errorf("byte %d changed from %q to %q: the bundle still verifies (…%s…)", i, data[i], bad[i], data[max(0, i-20):min(len(data), i+20)])
		}
	}
}

func TestBundleNamesTheEntry(t *testing.T) {
	s := newSite(t, 40)
	data := s.bundle(t, "batch", "B-ALPHA")
	var b Bundle
	if err := decodeForTest(data, &b); err != nil {
		t.Fatal(err)
	}
	e := b.Entries[1]
	sealed := b.Segments[0].Others[0]
	tests := []struct {
		name    string
		edit    func(b *Bundle)
		wantSeq int64
		reason  string
	}{
		{"edited value", func(b *Bundle) { b.Entries[1].New = "forged" }, e.Seq, "changed"},
		{"edited value, hash recomputed", func(b *Bundle) {
			x := &b.Entries[1]
			x.New = "forged"
			prev, _ := ParseHash(x.PrevHash)
			x.Hash = Link(prev, x.Digest()).String()
		}, 0, ""},
		{"other entry's digest", func(b *Bundle) { b.Segments[0].Others[0].Digest = strings.Repeat("ab", 32) }, 0, ""},
		{"other entry removed", func(b *Bundle) { b.Segments[0].Others = b.Segments[0].Others[1:] }, sealed.Seq, "lacks it"},
		{"entry removed", func(b *Bundle) { b.Entries = append(b.Entries[:1:1], b.Entries[2:]...) }, e.Seq, ""},
		{"another record's entry", func(b *Bundle) { b.Entries[1].EntityID = "B-BETA" }, e.Seq, "not about"},
		{"checkpoint moved", func(b *Bundle) { b.Segments[0].Checkpoint.Seq++ }, 0, ""},
		{"checkpoint time", func(b *Bundle) { b.Segments[0].Checkpoint.At = b.Segments[0].Checkpoint.At.Add(time.Second) }, 0, "signature"},
		{"another key", func(b *Bundle) {
			pub, _, _ := ed25519.GenerateKey(nil)
			pem, _ := PublicKeyPEM(pub)
			b.PublicKey = string(pem)
		}, 0, "signature"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b Bundle
			if err := decodeForTest(data, &b); err != nil {
				t.Fatal(err)
			}
			tt.edit(&b)
			out, err := b.Encode()
			if err != nil {
				t.Fatal(err)
			}
			_, err = VerifyBundle(out)
			var broken *Broken
			if !errors.As(err, &broken) {
				t.Fatalf("got %v, want a broken entry", err)
			}
			if tt.wantSeq != 0 && broken.Seq != tt.wantSeq {
				t.Errorf("names entry %d (%s), want %d", broken.Seq, broken.Reason, tt.wantSeq)
			}
			if !strings.Contains(broken.Reason, tt.reason) {
				t.Errorf("reason %q, want it to say %q", broken.Reason, tt.reason)
			}
		})
	}
}

func TestBundleNotABundle(t *testing.T) {
	s := newSite(t, 14)
	data := s.bundle(t, "line", "LINE-1")
	for name, bad := range map[string][]byte{
		"empty":            nil,
		"not JSON":         []byte("hello"),
		"cut short":        data[:len(data)/2],
		"trailing data":    append(bytes.Clone(data), "{}"...),
		"other format":     bytes.Replace(data, []byte(BundleFormat), []byte("galenix-audit-bundle/9"), 1),
		"unknown field":    bytes.Replace(data, []byte(`"entity":`), []byte(`"extra": 1, "entity":`), 1),
		"key case":         bytes.Replace(data, []byte(`"first":`), []byte(`"First":`), 1),
		"member missing":   bytes.Replace(data, []byte(`"actor_name": "Anne Durand",`), nil, 1),
		"null optional":    bytes.Replace(data, []byte(`"reason": "correction"`), []byte(`"reason": null`), 1),
		"number a string":  firstSeq.ReplaceAll(data, []byte(`"first": "1",`)),
		"sequence zero":    firstSeq.ReplaceAll(data, []byte(`"first": 0,`)),
		"sequence 1.5":     firstSeq.ReplaceAll(data, []byte(`"first": 1.5,`)),
		"sequence 2^53":    firstSeq.ReplaceAll(data, []byte(`"first": 9007199254740992,`)),
		"time offset":      bytes.Replace(data, []byte(`08:00:00.123456Z"`), []byte(`09:00:00.123456+01:00"`), 1),
		"time lower z":     bytes.Replace(data, []byte(`08:00:00.123456Z"`), []byte(`08:00:00.123456z"`), 1),
		"time no seconds":  bytes.Replace(data, []byte(`08:00:00.123456Z"`), []byte(`08:00Z"`), 1),
		"time 30 February": bytes.Replace(data, []byte(`"2026-11-22T08:00:00.123456Z"`), []byte(`"2026-02-30T08:00:00.123456Z"`), 1),
		"base64 stray bit": strayBit(t, data),
		"base64 newline":   bytes.Replace(data, []byte(`"signature": "`), []byte(`"signature": "\n`), 1),
		"two bundles":      append(bytes.Clone(data), data...),
		"an array":         append(append([]byte("["), data...), ']'),
	} {
		if bytes.Equal(bad, data) {
			t.Fatalf("%s: the same bytes", name)
		}
		if _, err := VerifyBundle(bad); !errors.Is(err, ErrNotBundle) {
			t.Errorf("%s: got %v, want ErrNotBundle", name, err)
		}
	}
}

func decodeForTest(data []byte, b *Bundle) error { return json.Unmarshal(data, b) }

// firstSeq is a segment's first sequence in an encoded bundle.
var firstSeq = regexp.MustCompile(`"first": ([0-9]+),`)

// strayBit sets an unused bit of the first signature's base64: the same
// bytes to a lenient decoder, not canonical base64.
func strayBit(t *testing.T, data []byte) []byte {
	t.Helper()
	i := bytes.Index(data, []byte(`"signature": "`))
	j := i + len(`"signature": "`) + 86 // 64 bytes: 85 characters and a half, then "=="
	if i < 0 || data[j+1] != '=' {
		t.Fatalf("no signature where expected: %q", data[j-2:j+3])
	}
	bad := bytes.Clone(data)
	bad[j-1] ^= 1 // the last character before "==" carries 4 unused bits
	return bad
}

// sameContent reports whether two bundles parse to the same content.
func sameContent(t *testing.T, a, b []byte) bool {
	t.Helper()
	ba, err := ParseBundle(a)
	if err != nil {
		return false
	}
	bb, err := ParseBundle(b)
	if err != nil {
		return false
	}
	ea, _ := ba.Encode()
	eb, _ := bb.Encode()
	return bytes.Equal(ea, eb)
}

// TestBundleReencoded verifies a bundle whose JSON was written again in
// other ways: what counts is its content, not its bytes.
func TestBundleReencoded(t *testing.T) {
	s := newSite(t, 30)
	data := s.bundle(t, "batch", "B-ALPHA")
	want, err := VerifyBundle(data)
	if err != nil {
		t.Fatal(err)
	}
	var generic any
	if err := json.Unmarshal(data, &generic); err != nil {
		t.Fatal(err)
	}
	sorted, err := json.Marshal(generic) // compact, members in alphabetical order
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Index(sorted, []byte(`"actor_id"`)) > bytes.Index(sorted, []byte(`"seq"`)) {
		t.Fatal("re-encoding did not reorder the members")
	}
	tabs, _ := json.MarshalIndent(generic, "", "\t")
	for name, re := range map[string][]byte{
		"compact, members reordered": sorted,
		"tabs, no final newline":     tabs,
		"CRLF":                       bytes.ReplaceAll(data, []byte("\n"), []byte("\r\n")),
		"escapes spelled otherwise":  bytes.ReplaceAll(bytes.ReplaceAll(data, []byte(`\u003c`), []byte(`<`)), []byte(`é`), []byte(`\u00E9`)),
		"integers as decimals":       firstSeq.ReplaceAll(data, []byte(`"first": ${1}.0e0,`)),
		"time fraction of 9 digits":  bytes.ReplaceAll(data, []byte(`.123456Z"`), []byte(`.123456999Z"`)),
	} {
		if bytes.Equal(re, data) {
			t.Fatalf("%s: the same bytes", name)
		}
		got, err := VerifyBundle(re)
		if err != nil {
			t.Errorf("%s: %v", name, err)
		} else if got != want {
			t.Errorf("%s: report %+v, want %+v", name, got, want)
		}
	}
}
