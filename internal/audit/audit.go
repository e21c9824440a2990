// Package audit holds the audit trail's entries and the rules that turn a
// change of GMP data into them: one entry per changed field, old value and
// new value, who, when, by which command, and why.
package audit

import "time"

// Entry is one row of the audit trail.
type Entry struct {
	Seq       int64     `json:"seq"`
	At        time.Time `json:"at"`
	ActorID   string    `json:"actor_id"`
	ActorName string    `json:"actor_name"`
	SessionID string    `json:"session_id,omitempty"`
	Address   string    `json:"address,omitempty"`
	Command   string    `json:"command"`
	Entity    string    `json:"entity"`
	EntityID  string    `json:"entity_id"`
	Field     string    `json:"field"`
	Old       string    `json:"old"`
	New       string    `json:"new"`
	Reason    string    `json:"reason,omitempty"`
	// ClientID is the client laboratory owning the entity, if any.
	ClientID string `json:"client_id,omitempty"`
	// EntityLabel, OldLabel and NewLabel name the record the entity id, the
	// old value and the new value identify, when they are the id of one the
	// reader may see: a lot, a product's code, a person's name. The store
	// resolves them in the reader's scope; the trail keeps the ids.
	EntityLabel string `json:"entity_label,omitempty"`
	OldLabel    string `json:"old_label,omitempty"`
	NewLabel    string `json:"new_label,omitempty"`
	// ActorStaff marks, for a client laboratory's reader, an entry made by
	// the site's staff: its actor is not given (ActorID and ActorName are
	// empty), and nor is any value naming a person of the site.
	ActorStaff bool `json:"actor_staff,omitempty"`
	// PrevHash and Hash link the entry into the chain (see chain.go).
	PrevHash string `json:"prev_hash"`
	Hash     string `json:"hash"`
}

// Field is one named value of a record, in the form the trail shows it.
type Field struct {
	Name  string
	Value string
}

// Change is what one command did to one field of one entity.
type Change struct {
	Entity   string
	EntityID string
	Field    string
	Old      string
	New      string
}

// Diff lists the changes between two versions of a record. A nil old means
// the record is created (every non-empty field is recorded); a nil new means
// it is removed. Fields are compared by name, in the order of the newer
// version; a field that did not change gives no change.
func Diff(entity, id string, old, new []Field) []Change {
	var out []Change
	switch {
	case old == nil:
		for _, f := range new {
			if f.Value != "" {
				out = append(out, Change{Entity: entity, EntityID: id, Field: f.Name, New: f.Value})
			}
		}
	case new == nil:
		for _, f := range old {
			if f.Value != "" {
				out = append(out, Change{Entity: entity, EntityID: id, Field: f.Name, Old: f.Value})
			}
		}
	default:
		was := make(map[string]string, len(old))
		for _, f := range old {
			was[f.Name] = f.Value
		}
		for _, f := range new {
			if w := was[f.Name]; w != f.Value {
				out = append(out, Change{Entity: entity, EntityID: id, Field: f.Name, Old: w, New: f.Value})
			}
		}
	}
	return out
}

// StaffLabel is the label of a value naming a person of the site, for a
// client laboratory's reader; the pages render it as "site staff".
const StaffLabel = "\x00site_staff"

// Filter selects audit entries.
type Filter struct {
	Entity   string
	EntityID string
	Actor    string
	// Person is a username or a person's name: the entries of the accounts
	// so named.
	Person string
	// Record is a record's human code: a batch's lot (its steps included),
	// a material lot, a product's, master's, room's or line's code, an
	// account's username.
	Record  string
	Command string
	From    time.Time
	To      time.Time
	// AfterSeq pages forward: only entries with a greater sequence.
	AfterSeq int64
	// BeforeSeq pages back: only entries with a smaller sequence.
	BeforeSeq int64
	// Newest lists the newest entries first (with AfterSeq, the oldest
	// entries after it, answered newest first).
	Newest bool
	Limit  int
}

// F builds a field.
func F(name, value string) Field { return Field{Name: name, Value: value} }
