package site

import "testing"

// TestVersionField: the records of the site model have a version the
// store and the web layer reach alike; other values have none.
func TestVersionField(t *testing.T) {
	for _, rec := range []any{&Building{}, &Room{}, &Line{}, &Equipment{}, &Shift{}, &Team{}, &Person{}} {
		p := VersionField(rec)
		if p == nil {
			t.Fatalf("%T has no version field", rec)
		}
		*p = 7
		if VersionField(rec) == nil || *VersionField(rec) != 7 {
			t.Errorf("%T: the version set is not the record's", rec)
		}
	}
	var nilPerson *Person
	// A master batch record's version is its edition, not a count of
	// changes: a record with a field named Version is not versioned.
	for _, v := range []any{Building{}, nil, nilPerson, 3, &struct{ Version int }{}} {
		if VersionField(v) != nil {
			t.Errorf("VersionField(%#v) is not nil", v)
		}
	}
}
