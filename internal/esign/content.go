package esign

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"sort"

	"galenix/internal/audit"
)

// A signature is bound to the SHA-256 of the exact content signed (11.70):
// the record's fields as the audit trail records them (its AuditFields), so
// that any record type with AuditFields can be signed, and a change of any
// of its fields afterwards shows the signature as broken.
//
// The canonical bytes of a record are:
//
//	"galenix esign content v1"
//	‖ len(entity) ‖ entity ‖ len(id) ‖ id
//	‖ count of fields
//	‖ for each field, sorted by name: len(name) ‖ name ‖ len(value) ‖ value
//
// every length and the count written as unsigned varints, so that no two
// records share their bytes. The kind and id are part of them: the hash of a
// record is never the hash of another, even with the same field values.
// Fields are sorted by name so that the order in which a record type lists
// them does not matter.

// contentTag starts the canonical bytes, naming their version.
const contentTag = "galenix esign content v1"

// AppendCanonical appends the canonical bytes of a record's content to b.
func AppendCanonical(b []byte, entity, id string, fields []audit.Field) []byte {
	sorted := append([]audit.Field(nil), fields...)
	sort.SliceStable(sorted, func(i, j int) bool { return sorted[i].Name < sorted[j].Name })
	b = append(b, contentTag...)
	b = appendString(b, entity)
	b = appendString(b, id)
	b = binary.AppendUvarint(b, uint64(len(sorted)))
	for _, f := range sorted {
		b = appendString(b, f.Name)
		b = appendString(b, f.Value)
	}
	return b
}

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// ContentHash returns the SHA-256, in hexadecimal, of a record's canonical
// content.
func ContentHash(entity, id string, fields []audit.Field) string {
	h := sha256.Sum256(AppendCanonical(nil, entity, id, fields))
	return hex.EncodeToString(h[:])
}
