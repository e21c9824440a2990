package controlled

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"strconv"
	"time"

	"galenix/internal/errs"
)

// The register's second medium (R.5132-36: electronic records are
// duplicated on two separate media): each validated movement, as it is
// validated, is appended as one line of JSON to a file on another disk
// than the database's, each line chained to the one before by its
// SHA-256, so that the copy alone proves it is whole and unaltered.

// CopyFile is the copy's file name in its directory.
const CopyFile = "controlled-register.jsonl"

// CopyLine is one movement in the copy: what the register prints of it,
// with the chain.
type CopyLine struct {
	// Entry is the line's number, the site's validations in one series;
	// Serial the movement's number in its substance's register.
	Entry       int64  `json:"entry"`
	Serial      int64  `json:"serial"`
	At          string `json:"at"`
	Kind        Kind   `json:"kind"`
	Substance   string `json:"substance"`
	Container   string `json:"container"`
	ToContainer string `json:"to_container,omitempty"`
	Quantity    string `json:"quantity"`
	Unit        string `json:"unit"`
	Party       string `json:"party,omitempty"`
	Document    string `json:"document,omitempty"`
	Cause       string `json:"cause,omitempty"`
	Batch       string `json:"batch,omitempty"`
	Scale       string `json:"scale,omitempty"`
	Corrects    int64  `json:"corrects,omitempty"`
	Increase    bool   `json:"increase,omitempty"`
	Performer   string `json:"performer"`
	Witness     string `json:"witness"`
	ValidatedAt string `json:"validated_at"`
	// Prev is the hash of the line before ("" for the first), Hash this
	// line's: the SHA-256 of its JSON without Hash.
	Prev string `json:"prev"`
	Hash string `json:"hash,omitempty"`
}

// LineOf is a validated movement's line, chained to prev.
func LineOf(m *Movement, prev string) CopyLine {
	l := CopyLine{Entry: m.Entry, Serial: m.Serial, At: m.At.UTC().Format(time.RFC3339), Kind: m.Kind, Substance: m.Substance, Container: m.Container,
		ToContainer: m.ToContainer, Quantity: m.Quantity.String(), Unit: m.Unit, Party: m.Party, Document: m.Document, Cause: m.Cause,
		Batch: m.Batch, Scale: m.Scale, Corrects: m.Corrects, Increase: m.Increase, Performer: m.PerformerName, Witness: m.WitnessName, Prev: prev}
	if m.ValidatedAt != nil {
		l.ValidatedAt = m.ValidatedAt.UTC().Format(time.RFC3339)
	}
	l.Hash = l.hash()
	return l
}

func (l CopyLine) hash() string {
	l.Hash = ""
	b, _ := json.Marshal(l) // strings and numbers: cannot fail
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// Marshal writes the line with its newline.
func (l CopyLine) Marshal() []byte {
	b, _ := json.Marshal(l)
	return append(b, '\n')
}

// ReadCopy reads a copy, checking its chain and its entry numbers from 1
// without gap: the lines, or the first break found.
func ReadCopy(r io.Reader) ([]CopyLine, error) {
	var out []CopyLine
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	prev := ""
	for sc.Scan() {
		if len(bytes.TrimSpace(sc.Bytes())) == 0 {
			continue
		}
		var l CopyLine
		dec := json.NewDecoder(bytes.NewReader(sc.Bytes()))
		dec.DisallowUnknownFields()
		n := int64(len(out) + 1)
		if err := dec.Decode(&l); err != nil {
			return out, errs.E(errs.Conflict, "controlled.copy_unreadable", strconv.FormatInt(n, 10))
		}
		switch {
		case l.Entry != n:
			return out, errs.E(errs.Conflict, "controlled.copy_gap", strconv.FormatInt(n, 10), strconv.FormatInt(l.Entry, 10))
		case l.Prev != prev || l.Hash != l.hash():
			return out, errs.E(errs.Conflict, "controlled.copy_altered", strconv.FormatInt(n, 10))
		}
		out = append(out, l)
		prev = l.Hash
	}
	return out, sc.Err()
}

// CompareCopy checks a copy's lines against the register's validated
// movements (by entry): the copy may lag behind the register by the
// movements not copied yet, never differ.
func CompareCopy(lines []CopyLine, movements []Movement) (missing int, err error) {
	if len(lines) > len(movements) {
		return 0, errs.E(errs.Conflict, "controlled.copy_ahead", strconv.Itoa(len(lines)), strconv.Itoa(len(movements)))
	}
	prev := ""
	for i, l := range lines {
		want := LineOf(&movements[i], prev)
		if want != l {
			return 0, errs.E(errs.Conflict, "controlled.copy_differs", strconv.FormatInt(l.Entry, 10))
		}
		prev = l.Hash
	}
	return len(movements) - len(lines), nil
}
