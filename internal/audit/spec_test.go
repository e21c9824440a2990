package audit

import (
	"bytes"
	"crypto/ed25519"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// specFile is the specification of the bundle format.
var specFile = filepath.Join("..", "..", "docs", "audit-bundle.md")

// vectorBlock is a test vector of the specification: a fenced block after
// a comment naming it.
var vectorBlock = regexp.MustCompile("(?s)<!-- vector: ([a-z0-9._-]+) -->\n```[a-z]*\n(.*?)\n```")

// specVectors reads the test vectors out of the specification.
func specVectors(t *testing.T) map[string]string {
	t.Helper()
	doc, err := os.ReadFile(specFile)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, m := range vectorBlock.FindAllStringSubmatch(string(doc), -1) {
		if _, dup := out[m[1]]; dup {
			t.Fatalf("vector %s twice in %s", m[1], specFile)
		}
		out[m[1]] = m[2]
	}
	return out
}

// TestSpecVectors checks that the test vectors of docs/audit-bundle.md are
// what galenix computes: the test key and its fingerprint, each entry's
// canonical bytes, digest and hash, the checkpoint's and the handover's
// messages and signatures, and the whole bundle, which verifies (also with
// the reference verifier, when its tools are installed).
func TestSpecVectors(t *testing.T) {
	v := specVectors(t)
	get := func(name string) string {
		t.Helper()
		s, ok := v[name]
		if !ok {
			t.Fatalf("%s has no vector %s", specFile, name)
		}
		return s
	}
	hexOf := func(name string) string { return strings.Join(strings.Fields(get(name)), "") }

	blk, _ := pem.Decode([]byte(get("test-key.pem")))
	if blk == nil {
		t.Fatal("test-key.pem is not PEM")
	}
	k, err := x509.ParsePKCS8PrivateKey(blk.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	key := k.(ed25519.PrivateKey)
	pub := key.Public().(ed25519.PublicKey)
	if p, _ := PublicKeyPEM(pub); string(p) != get("test-key.pub.pem")+"\n" {
		t.Errorf("test-key.pub.pem: galenix writes\n%s", p)
	}
	if fp := KeyFingerprint(pub); fp != get("test-key.fingerprint") {
		t.Errorf("test-key.fingerprint: galenix computes %s", fp)
	}
	pub2, err := ParsePublicKeyPEM([]byte(get("test-key-2.pub.pem")))
	if err != nil {
		t.Fatal(err)
	}
	if fp := KeyFingerprint(pub2); fp != get("test-key-2.fingerprint") {
		t.Errorf("test-key-2.fingerprint: galenix computes %s", fp)
	}

	prev := Genesis
	var last Entry
	for _, n := range []string{"1", "2", "3"} {
		name := "entry-" + n
		var e Entry
		if err := json.Unmarshal([]byte(get(name+".json")), &e); err != nil {
			t.Fatalf("%s.json: %v", name, err)
		}
		if got := hex.EncodeToString(e.AppendCanonical(nil)); got != hexOf(name+".canonical") {
			t.Errorf("%s.canonical: galenix computes\n%s", name, got)
		}
		if got := e.Digest().String(); got != get(name+".digest") {
			t.Errorf("%s.digest: galenix computes %s", name, got)
		}
		h := Link(prev, e.Digest())
		if h.String() != get(name+".hash") || e.PrevHash != prev.String() || e.Hash != h.String() {
			t.Errorf("%s: hash %s after %s; the vector's JSON says %s after %s, the vector %s", name, h, prev, e.Hash, e.PrevHash, get(name+".hash"))
		}
		prev, last = h, e
	}

	var bundle Bundle
	if err := json.Unmarshal([]byte(get("bundle.json")), &bundle); err != nil {
		t.Fatal(err)
	}
	cp := bundle.Segments[0].Checkpoint
	if cp.Seq != last.Seq || cp.Hash != prev.String() {
		t.Fatalf("the bundle's checkpoint %+v is not at entry 3", cp)
	}
	if got := string(cp.signed()); got != get("checkpoint.message")+"\n" {
		t.Errorf("checkpoint.message: galenix signs\n%q", got)
	}
	want := Checkpoint{Seq: cp.Seq, Hash: cp.Hash, At: cp.At}
	want.Sign(key)
	if got := base64.StdEncoding.EncodeToString(want.Signature); got != get("checkpoint.signature") || !bytes.Equal(cp.Signature, want.Signature) {
		t.Errorf("checkpoint.signature: galenix signs %s", got)
	}

	// The handover: the second key's private half is RFC 8032's second
	// test seed; its public key must be the vector's.
	seed2, _ := hex.DecodeString("4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb")
	key2 := ed25519.NewKeyFromSeed(seed2)
	if !pub2.Equal(key2.Public()) {
		t.Fatal("test-key-2.pub.pem is not RFC 8032's second test key")
	}
	ho := Checkpoint{Seq: cp.Seq, Hash: cp.Hash, At: cp.At}
	ho.SignHandover(key, key2)
	if got := string(ho.signed()); got != get("handover.message")+"\n" {
		t.Errorf("handover.message: galenix signs\n%q", got)
	}
	if got := base64.StdEncoding.EncodeToString(ho.Signature); got != get("handover.signature") {
		t.Errorf("handover.signature: galenix signs %s", got)
	}
	if got := base64.StdEncoding.EncodeToString(ho.NextSignature); got != get("handover.next_signature") {
		t.Errorf("handover.next_signature: galenix signs %s", got)
	}

	data := []byte(get("bundle.json") + "\n")
	rep, err := VerifyBundle(data)
	if err != nil {
		t.Fatalf("bundle.json does not verify: %v", err)
	}
	if rep.Entries != 2 || rep.Linked != 3 || rep.KeyFingerprint != get("test-key.fingerprint") {
		t.Errorf("bundle.json: %+v", rep)
	}
	// A vector changed (here the old value of entry 3) no longer holds.
	if _, err := VerifyBundle(bytes.Replace(data, []byte(`"old": "0,4"`), []byte(`"old": "0,5"`), 1)); err == nil {
		t.Error("bundle.json with entry 3 changed verifies")
	}

	for _, tool := range []string{"bash", "jq", "openssl", "sha256sum"} {
		if _, err := exec.LookPath(tool); err != nil {
			if os.Getenv("CI") != "" {
				t.Fatalf("%s is not installed: CI must install it (.ci/run)", tool)
			}
			t.Skipf("%s is not installed: the reference verifier is not run on the specification's bundle", tool)
		}
	}
	file := filepath.Join(t.TempDir(), "bundle.json")
	if err := os.WriteFile(file, data, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("bash", filepath.Join("..", "..", "tools", "verify-bundle.sh"), "--fingerprint", get("test-key.fingerprint"), file).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "OK: the 2 audit entries of batch_step 0195f1a2-0000-7000-8000-0000000057e9 hold (entries 1 to 3)") {
		t.Errorf("the reference verifier on the specification's bundle: %v\n%s", err, out)
	}
}
