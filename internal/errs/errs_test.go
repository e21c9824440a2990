package errs_test

import (
	"errors"
	"testing"

	"galenix/internal/errs"
	"galenix/internal/text"
)

func TestMessageOf(t *testing.T) {
	for _, tt := range []struct {
		err    error
		fr, en string
	}{
		{errs.E(errs.Conflict, "errs.stale", 3, 4),
			text.Render(text.FR, "errs.stale", 3, 4), text.Render(text.EN, "errs.stale", 3, 4)},
		{errs.StaleVersion(3, 4), text.Render(text.FR, "errs.stale", 3, 4), text.Render(text.EN, "errs.stale", 3, 4)},
		{errs.Field("reason", "reason.required", text.Key("reason.what.change")),
			"Indiquez pourquoi vous faites cette modification : une raison est exigée pour modifier un enregistrement existant.",
			"Say why you make this change: a reason is required to change a record once it exists."},
		// An error made without its message shows nothing of itself.
		{&errs.Error{Code: errs.Invalid}, text.Render(text.FR, "errs.internal"), text.Render(text.EN, "errs.internal")},
		// An internal error shows nothing of its cause.
		{errs.Wrap(errors.New("disk on fire"), "saving"), text.Render(text.FR, "errs.internal"), text.Render(text.EN, "errs.internal")},
		{errors.New("plain"), text.Render(text.FR, "errs.internal"), text.Render(text.EN, "errs.internal")},
	} {
		if got := errs.MessageOf(tt.err, "fr"); got != tt.fr {
			t.Errorf("MessageOf(%v, fr) = %q, want %q", tt.err, got, tt.fr)
		}
		if got := errs.MessageOf(tt.err, "en"); got != tt.en {
			t.Errorf("MessageOf(%v, en) = %q, want %q", tt.err, got, tt.en)
		}
	}
	err := errs.Field("grade", "site.grade_must", "A, B")
	if got, want := err.Error(), "invalid: "+text.Render(text.EN, "site.grade_must", "A, B"); got != want {
		t.Errorf("Error() = %q, want %q (the log reads English)", got, want)
	}
	if errs.FieldOf(err) != "grade" || errs.CodeOf(err) != errs.Invalid {
		t.Errorf("field %q code %q", errs.FieldOf(err), errs.CodeOf(err))
	}
}
