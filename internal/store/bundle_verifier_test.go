package store_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"galenix/internal/audit"
	"galenix/internal/identity"
)

// referenceVerifier is the verifier of audit bundles written with standard
// tools only (docs/audit-bundle.md).
var referenceVerifier = filepath.Join("..", "..", "tools", "verify-bundle.sh")

// needTools skips the test when a tool the reference verifier uses is
// missing, or fails it under CI.
func needTools(t *testing.T, tools ...string) {
	t.Helper()
	for _, tool := range tools {
		if _, err := exec.LookPath(tool); err != nil {
			if os.Getenv("CI") != "" {
				t.Fatalf("%s is not installed: CI must install it (.ci/run)", tool)
			}
			t.Skipf("%s is not installed: the reference verifier of audit bundles is not run", tool)
		}
	}
}

// runReference runs tools/verify-bundle.sh on a bundle; it returns whether
// the bundle holds and what the verifier said.
func runReference(t *testing.T, data []byte, args ...string) (bool, string) {
	t.Helper()
	file := filepath.Join(t.TempDir(), "bundle.json")
	if err := os.WriteFile(file, data, 0o600); err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	cmd := exec.Command("bash", append(append([]string{referenceVerifier}, args...), file)...)
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	var exit *exec.ExitError
	switch {
	case err == nil:
		return true, out.String()
	case errors.As(err, &exit) && exit.ExitCode() == 1 && errOut.Len() == 0:
		return false, out.String()
	}
	t.Fatalf("the reference verifier did not run: %v\n%s%s", err, out.String(), errOut.String())
	return false, ""
}

// TestReferenceVerifier makes bundles with galenix, from a store holding
// records of two clients, signed checkpoints and a rotation of the site's
// key, and runs the reference verifier on them: untouched or re-encoded
// they hold, and tampered in each way galenix's verifier finds they fail,
// naming the same entry for the same reason.
func TestReferenceVerifier(t *testing.T) {
	needTools(t, "bash", "jq", "openssl", "sha256sum")
	db := openDB(t, databases[0].cfg(t))
	s := newBundleSite(t, db)
	// The key is rotated, then the batch changes again: its bundle runs
	// through the handover to a checkpoint of the new key.
	_, next, err := ed25519.GenerateKey(nil)
	must(t, err)
	if _, err := db.RotateAuditKey(as(identity.System), s.key, next, "Yearly rotation"); err != nil {
		t.Fatal(err)
	}
	record(t, db, s.batchAlpha, s.alpha.ID, "note", "", "après la rotation", "")
	record(t, db, s.batchBeta, s.beta.ID, "note", "", "beta-secret-note", "")
	record(t, db, s.batchAlpha, s.alpha.ID, "yield", "alpha-98.7 %", "", "erreur de saisie ≥ µ 王芳")

	bundleOf := func(ctx context.Context, entity, id string) *audit.Bundle {
		b, err := db.Audit().Bundle(ctx, entity, id, next)
		must(t, err)
		return b
	}
	encode := func(b *audit.Bundle) []byte {
		out, err := b.Encode()
		must(t, err)
		return out
	}
	batch := bundleOf(s.ofAlpha, "batch", s.batchAlpha)
	client := bundleOf(s.ofAlpha, "client", s.alpha.ID)
	person := bundleOf(as(bruno), "person", s.person.ID)
	if len(batch.Segments) < 2 || !batch.Segments[0].Checkpoint.Handover() || len(batch.Segments[0].Others) == 0 || len(batch.Entries) < 4 {
		t.Fatalf("the batch's bundle does not run through a handover with other entries: %+v", batch.Segments)
	}
	if client.Segments[0].First != 1 {
		t.Fatalf("the client's bundle does not start the chain: %+v", client.Segments[0])
	}

	t.Run("untouched and re-encoded", func(t *testing.T) {
		for name, b := range map[string]*audit.Bundle{"batch": batch, "client": client, "person": person} {
			data := encode(b)
			rep, err := audit.VerifyBundle(data)
			if err != nil {
				t.Fatalf("%s: galenix: %v", name, err)
			}
			variants := map[string][]byte{"untouched": data}
			if b == batch {
				for how, args := range map[string][]string{"jq -S .": {"-S", "."}, "jq -c": {"-c", "."}, "jq --tab": {"--tab", "."}} {
					variants[how] = jqFilter(t, data, args...)
				}
			}
			for how, v := range variants {
				if _, err := audit.VerifyBundle(v); err != nil {
					t.Errorf("%s, %s: galenix: %v", name, how, err)
				}
				ok, out := runReference(t, v)
				want := fmt.Sprintf("OK: the %d audit entries of %s %s hold (entries %d to %d)", rep.Entries, rep.Entity, rep.EntityID, rep.First, rep.Last)
				if !ok || !strings.Contains(out, want) || !strings.Contains(out, rep.KeyFingerprint) ||
					!strings.Contains(out, fmt.Sprintf("linked through %d entries of the chain to %d signed checkpoints", rep.Linked, rep.Checkpoints)) {
					t.Errorf("%s, %s: the reference verifier says\n%s\nwant %q", name, how, out, want)
				}
			}
		}
		data := encode(batch)
		pub := filepath.Join(t.TempDir(), "site.pem")
		pem, err := audit.PublicKeyPEM(next.Public().(ed25519.PublicKey))
		must(t, err)
		must(t, os.WriteFile(pub, pem, 0o600))
		if ok, out := runReference(t, data, "--public-key", pub); !ok {
			t.Errorf("with the site's key: %s", out)
		}
		if ok, out := runReference(t, data, "--fingerprint", strings.ToUpper(audit.KeyFingerprintOf(next))); !ok {
			t.Errorf("with the site's fingerprint: %s", out)
		}
		if ok, out := runReference(t, data, "--fingerprint", audit.KeyFingerprintOf(s.key)); ok || !strings.Contains(out, "signed with another key") {
			t.Errorf("with the old key's fingerprint: %v %s", ok, out)
		}
	})

	other := strings.Repeat("ab", 32)
	seg0 := batch.Segments[0]
	tampers := []struct {
		name   string
		of     *audit.Bundle
		edit   func(b *audit.Bundle)
		nobody bool // no entry is named: the file is not a bundle
	}{
		{"changed value", batch, func(b *audit.Bundle) { b.Entries[1].New = "forged" }, false},
		{"changed value, hash recomputed", batch, func(b *audit.Bundle) {
			e := &b.Entries[1]
			e.New = "forged"
			prev, _ := audit.ParseHash(e.PrevHash)
			e.Hash = audit.Link(prev, e.Digest()).String()
		}, false},
		{"changed reason", batch, func(b *audit.Bundle) { b.Entries[len(b.Entries)-1].Reason = "erreur de saisie" }, false},
		{"changed actor", batch, func(b *audit.Bundle) { b.Entries[0].ActorName = "Someone Else" }, false},
		{"changed time", batch, func(b *audit.Bundle) { b.Entries[0].At = b.Entries[0].At.Add(time.Microsecond) }, false},
		{"changed hash", batch, func(b *audit.Bundle) { b.Entries[0].Hash = other }, false},
		{"changed previous hash", batch, func(b *audit.Bundle) { b.Entries[2].PrevHash = other }, false},
		{"another record's entry", batch, func(b *audit.Bundle) { b.Entries[1].EntityID = s.batchBeta }, false},
		{"deleted entry", batch, func(b *audit.Bundle) { b.Entries = slices.Delete(b.Entries, 1, 2) }, false},
		{"deleted last entry", batch, func(b *audit.Bundle) { b.Entries = b.Entries[:len(b.Entries)-1] }, false},
		{"deleted sealed entry", batch, func(b *audit.Bundle) { b.Segments[0].Others = b.Segments[0].Others[1:] }, false},
		{"reordered entries", batch, func(b *audit.Bundle) { b.Entries[0], b.Entries[1] = b.Entries[1], b.Entries[0] }, false},
		{"entry twice", batch, func(b *audit.Bundle) { b.Entries = slices.Insert(b.Entries, 1, b.Entries[0]) }, false},
		{"inserted entry", batch, func(b *audit.Bundle) {
			// A forged entry in place of another record's.
			o := b.Segments[0].Others[0]
			e := b.Entries[0]
			e.Seq, e.New = o.Seq, "forged"
			b.Segments[0].Others = b.Segments[0].Others[1:]
			i, _ := slices.BinarySearchFunc(b.Entries, e.Seq, func(x audit.Entry, seq int64) int { return int(x.Seq - seq) })
			b.Entries = slices.Insert(b.Entries, i, e)
		}, false},
		{"changed sealed digest", batch, func(b *audit.Bundle) { b.Segments[0].Others[0].Digest = other }, false},
		{"sealed digest not a hash", batch, func(b *audit.Bundle) { b.Segments[0].Others[0].Digest = strings.ToUpper(other) }, false},
		{"sealed entry moved", batch, func(b *audit.Bundle) { b.Segments[0].Others[0].Seq = b.Segments[len(b.Segments)-1].Checkpoint.Seq + 5 }, false},
		{"segment's previous hash", batch, func(b *audit.Bundle) { b.Segments[0].PrevHash = other }, false},
		{"segment's previous hash not a hash", batch, func(b *audit.Bundle) { b.Segments[0].PrevHash = "" }, false},
		{"chain's start", client, func(b *audit.Bundle) { b.Segments[0].PrevHash = other }, false},
		{"segments overlap", batch, func(b *audit.Bundle) { b.Segments = slices.Insert(b.Segments, 1, b.Segments[0]) }, false},
		{"truncated chain: last segment", batch, func(b *audit.Bundle) { b.Segments = b.Segments[:len(b.Segments)-1] }, false},
		{"truncated chain: first segment", batch, func(b *audit.Bundle) { b.Segments = b.Segments[1:] }, false},
		{"truncated segment", batch, func(b *audit.Bundle) {
			sg := &b.Segments[len(b.Segments)-1]
			sg.Others = sg.Others[:len(sg.Others)-1]
		}, false},
		{"checkpoint moved on", batch, func(b *audit.Bundle) { b.Segments[1].Checkpoint.Seq++ }, false},
		{"checkpoint moved back", batch, func(b *audit.Bundle) { b.Segments[0].Checkpoint.Seq = seg0.First - 1 }, false},
		{"checkpoint before its segment", batch, func(b *audit.Bundle) {
			b.Segments[0].Checkpoint.Seq, b.Segments[0].Others = seg0.First-1, []audit.Sealed{}
		}, false},
		{"checkpoint hash", batch, func(b *audit.Bundle) { b.Segments[1].Checkpoint.Hash = other }, false},
		{"checkpoint time", batch, func(b *audit.Bundle) {
			b.Segments[1].Checkpoint.At = b.Segments[1].Checkpoint.At.Add(time.Second)
		}, false},
		{"checkpoint signature", batch, func(b *audit.Bundle) {
			b.Segments[1].Checkpoint.Signature = slices.Clone(b.Segments[1].Checkpoint.Signature)
			b.Segments[1].Checkpoint.Signature[7] ^= 1
		}, false},
		{"checkpoint signature cut", batch, func(b *audit.Bundle) {
			b.Segments[1].Checkpoint.Signature = b.Segments[1].Checkpoint.Signature[:63]
		}, false},
		{"handover time", batch, func(b *audit.Bundle) {
			b.Segments[0].Checkpoint.At = b.Segments[0].Checkpoint.At.Add(time.Microsecond)
		}, false},
		{"handover's new key's signature", batch, func(b *audit.Bundle) {
			b.Segments[0].Checkpoint.NextSignature = slices.Clone(b.Segments[0].Checkpoint.NextSignature)
			b.Segments[0].Checkpoint.NextSignature[0] ^= 0x80
		}, false},
		{"handover's old key replaced", batch, func(b *audit.Bundle) {
			pub, _, _ := ed25519.GenerateKey(nil)
			b.Segments[0].Checkpoint.Key = pub
		}, false},
		{"handover made a checkpoint", batch, func(b *audit.Bundle) {
			b.Segments[0].Checkpoint.Key, b.Segments[0].Checkpoint.NextKey, b.Segments[0].Checkpoint.NextSignature = nil, nil, nil
		}, false},
		{"another key", batch, func(b *audit.Bundle) {
			pub, _, _ := ed25519.GenerateKey(nil)
			pem, _ := audit.PublicKeyPEM(pub)
			b.PublicKey = string(pem)
		}, false},
		{"the old key", batch, func(b *audit.Bundle) {
			pem, _ := audit.PublicKeyPEM(s.key.Public().(ed25519.PublicKey))
			b.PublicKey = string(pem)
		}, false},
		{"no entries", batch, func(b *audit.Bundle) { b.Entries = []audit.Entry{} }, true},
		{"another format", batch, func(b *audit.Bundle) { b.Format = "galenix-audit-bundle/2" }, true},
		{"public key with text after it", batch, func(b *audit.Bundle) { b.PublicKey += "more" }, true},
		{"public key not a key", batch, func(b *audit.Bundle) { b.PublicKey = "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n" }, true},
	}
	for _, tt := range tampers {
		t.Run(tt.name, func(t *testing.T) {
			var b audit.Bundle
			must(t, jsonClone(tt.of, &b))
			tt.edit(&b)
			compare(t, encode(&b), tt.nobody)
		})
	}

	// What JSON itself would let pass, the specification refuses.
	data := encode(batch)
	sig := batch.Segments[1].Checkpoint.Signature
	b64 := []byte(base64.StdEncoding.EncodeToString(sig))
	bent := slices.Clone(b64)
	bent[len(bent)-3] ^= 1 // an unused bit of the last character before "=="
	for name, bad := range map[string][]byte{
		"not JSON":             data[:len(data)/2],
		"two values":           append(slices.Clone(data), data...),
		"unknown member":       bytes.Replace(data, []byte(`"entity":`), []byte(`"extra": 1, "entity":`), 1),
		"member's case":        bytes.Replace(data, []byte(`"first":`), []byte(`"First":`), 1),
		"member missing":       bytes.Replace(data, []byte(`"actor_id": "`), []byte(`"actor": "`), 1),
		"time with an offset":  bytes.Replace(data, []byte(`Z",`), []byte(`+00:00",`), 1),
		"time out of range":    bytes.Replace(data, []byte(`"at": "2026-`), []byte(`"at": "2026-13-`), 1),
		"base64 with a stray":  bytes.Replace(data, b64, bent, 1),
		"sequence as a string": firstSeqRe(data),
	} {
		if bytes.Equal(bad, data) {
			t.Fatalf("%s: nothing changed", name)
		}
		t.Run(name, func(t *testing.T) { compare(t, bad, true) })
	}
}

// compare verifies a tampered bundle with galenix and with the reference
// verifier: both refuse it, naming the same entry for the same reason, or
// both as no bundle at all.
func compare(t *testing.T, data []byte, nobody bool) {
	t.Helper()
	_, err := audit.VerifyBundle(data)
	ok, out := runReference(t, data)
	if ok {
		t.Errorf("the reference verifier accepts it:\n%s", out)
	}
	var broken *audit.Broken
	switch {
	case err == nil:
		t.Fatalf("galenix accepts it")
	case errors.As(err, &broken):
		if nobody {
			t.Errorf("galenix names an entry (%v), want no bundle", err)
		}
		want := fmt.Sprintf("FAILED: audit entry %d does not hold: %s\n", broken.Seq, broken.Reason)
		if !strings.Contains(out, want) {
			t.Errorf("the reference verifier says\n%s\ngalenix says\n%s", out, want)
		}
	case errors.Is(err, audit.ErrNotBundle):
		if !nobody {
			t.Errorf("galenix: %v, want an entry named", err)
		}
		if !strings.Contains(out, ": not an audit bundle: ") {
			t.Errorf("the reference verifier says\n%s\ngalenix says %v", out, err)
		}
	default:
		t.Fatalf("galenix: %v", err)
	}
}

// jqFilter runs jq on data.
func jqFilter(t *testing.T, data []byte, args ...string) []byte {
	t.Helper()
	cmd := exec.Command("jq", args...)
	cmd.Stdin = bytes.NewReader(data)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("jq %v: %v", args, err)
	}
	if bytes.Equal(out, data) {
		t.Fatalf("jq %v changed nothing", args)
	}
	return out
}

// jsonClone deep-copies a bundle through its encoding.
func jsonClone(b *audit.Bundle, into *audit.Bundle) error {
	data, err := b.Encode()
	if err != nil {
		return err
	}
	c, err := audit.ParseBundle(data)
	if err != nil {
		return err
	}
	*into = *c
	return nil
}

// firstSeqRe writes the first segment's first sequence as a string.
func firstSeqRe(data []byte) []byte {
	i := bytes.Index(data, []byte(`"first": `))
	j := i + len(`"first": `)
	k := j + bytes.IndexByte(data[j:], ',')
	return slices.Concat(data[:j], []byte(`"`), data[j:k], []byte(`"`), data[k:])
}
