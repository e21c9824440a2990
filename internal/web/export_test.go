package web

import "time"

// SetEventsPoll sets how often the live streams read the change mark: a
// test sets it beyond its own length to see what wakes a stream at once.
func (s *Server) SetEventsPoll(d time.Duration) { s.eventsPoll = d }

// The API's answers of a step and a deviation, for the OpenAPI test to
// compare with their schemas.
type (
	APIStep      = apiStep
	APIDeviation = apiDeviation
)

// CSVSafe is csvSafe, for the tests.
var CSVSafe = csvSafe

// AuditKey and AuditWord are auditKey and auditWord, for the tests.
var (
	AuditKey  = auditKey
	AuditWord = auditWord
)
