package identity

import (
	"strings"
	"testing"
	"time"

	"galenix/internal/errs"
)

func TestCheckPasswordPolicy(t *testing.T) {
	p := DefaultPolicy()
	for _, tt := range []struct {
		name, password, username string
		ok                       bool
	}{
		{"a passphrase", "cheval ciseaux horizon", "claire", true},
		{"twelve characters", "vélo-3-rouge", "claire", true},
		{"eleven characters", "vélo-3-roug", "claire", false},
		{"twelve accented letters count as twelve", "éléphantéeée", "claire", true},
		{"common, English", "password1234", "claire", false},
		{"common, French", "motdepasse123", "claire", false},
		{"common, any case", "AzErTyUiOp123", "claire", false},
		{"a French word with digits and signs", "Soleil2024!!!", "claire", false},
		{"a name with digits", "Nicolas-19850412", "claire", false},
		{"a French keyboard's digit row", "&é\"'(-è_çà)=", "claire", false},
		{"repeated word", "doudoudoudou", "claire", false},
		{"repeated common word with digits", "soleilsoleil13", "claire", false},
		{"one character", "aaaaaaaaaaaaaaa", "claire", false},
		{"sequence", "123456789012", "claire", false},
		{"sequence, letters", "abcdefghijklm", "claire", false},
		{"descending digits", "9876543210987", "claire", false},
		{"contains the username", "mot-de-claire-42", "claire", false},
		{"contains the username, other case", "mot-de-CLAIRE-42", "claire", false},
		{"a two-letter username is no rule", "aquarium-d-eau-douce", "qa", true},
		{"too long", strings.Repeat("long passphrase ", 20), "claire", false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			err := p.CheckPassword(tt.password, tt.username)
			if tt.ok != (err == nil) {
				t.Fatalf("CheckPassword(%q): %v, want ok %v", tt.password, err, tt.ok)
			}
			if err != nil && (errs.FieldOf(err) != "password" || errs.MessageOf(err, "fr") == errs.MessageOf(err, "en")) {
				t.Errorf("error %v: want field password, in French and English", err)
			}
		})
	}
	p.MinLength = 16
	if err := p.CheckPassword("vélo-3-rouge-et", "claire"); err == nil || !strings.Contains(errs.MessageOf(err, "fr"), "16") {
		t.Errorf("a longer minimum: %v", err)
	}
}

func TestCommonPasswords(t *testing.T) {
	if n := CommonPasswordCount(); n < 3000 {
		t.Errorf("the list holds %d passwords, want a few thousand", n)
	}
	for _, pw := range []string{"123456", "password", "azerty", "motdepasse", "soleil", "doudou", "loulou", "marseille", "jetaime",
		"bonjour", "chouchou", "princesse", "nicolas", "qwertyuiop", "iloveyou", "galenix"} {
		if !IsCommonPassword(pw) || !IsCommonPassword(strings.ToUpper(pw)) {
			t.Errorf("%q is not taken as common", pw)
		}
	}
	for _, pw := range []string{"cheval ciseaux horizon", "ornithorynque-bleu", "Xq7#vL2!pR9z"} {
		if IsCommonPassword(pw) {
			t.Errorf("%q is taken as common", pw)
		}
	}
}

func TestPolicyValidate(t *testing.T) {
	if err := DefaultPolicy().Validate(); err != nil {
		t.Fatalf("the default policy: %v", err)
	}
	for field, change := range map[string]func(*Policy){
		"min_length":             func(p *Policy) { p.MinLength = 11 },
		"history":                func(p *Policy) { p.History = 25 },
		"max_age_days":           func(p *Policy) { p.MaxAge = time.Hour },
		"lock_after":             func(p *Policy) { p.LockAfter = 21 },
		"lock_for_minutes":       func(p *Policy) { p.LockFor = 0 },
		"idle_minutes":           func(p *Policy) { p.Idle = 13 * time.Hour },
		"shopfloor_idle_minutes": func(p *Policy) { p.ShopfloorIdle = time.Hour },
		"absolute_minutes":       func(p *Policy) { p.Absolute = 8 * 24 * time.Hour },
	} {
		p := DefaultPolicy()
		change(&p)
		if err := p.Validate(); errs.FieldOf(err) != field {
			t.Errorf("%s: %v", field, err)
		}
	}
}

func TestPendingFor(t *testing.T) {
	now := time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)
	p := DefaultPolicy()
	p.MaxAge = 90 * 24 * time.Hour
	old := now.Add(-p.MaxAge)
	for _, tt := range []struct {
		name    string
		roles   []Role
		local   bool
		totp    bool
		set     bool
		changed time.Time
		want    Pending
	}{
		{"fresh operator", []Role{RoleOperator}, true, false, false, now, ""},
		{"expired", []Role{RoleOperator}, true, false, false, old, PendingPassword},
		{"expired, directory", []Role{RoleOperator}, false, false, false, old, ""},
		{"admin without TOTP", []Role{RoleAdmin}, true, false, false, now, PendingTOTP},
		{"admin with TOTP", []Role{RoleAdmin}, true, true, false, now, ""},
		{"admin expired without TOTP: the password first", []Role{RoleAdmin}, true, false, false, old, PendingPassword},
		{"set by an administrator", []Role{RoleOperator}, true, false, true, now, PendingPasswordAdminSet},
		{"set by an administrator, and expired: the administrator's first", []Role{RoleOperator}, true, false, true, old, PendingPasswordAdminSet},
		{"set by an administrator, admin without TOTP: the password first", []Role{RoleAdmin}, true, false, true, now, PendingPasswordAdminSet},
		{"directory: never ours to force", []Role{RoleOperator}, false, false, true, now, ""},
	} {
		if got := p.PendingFor(tt.roles, tt.local, tt.totp, tt.set, tt.changed, now); got != tt.want {
			t.Errorf("%s: %q, want %q", tt.name, got, tt.want)
		}
	}
	p.AdminTOTP = false
	if got := p.PendingFor([]Role{RoleAdmin}, true, false, false, now, now); got != "" {
		t.Errorf("AdminTOTP off: %q", got)
	}
}

func TestTOTP(t *testing.T) {
	en, err := NewTOTP("claire")
	if err != nil {
		t.Fatal(err)
	}
	again, err := TOTPFor("claire", en.Secret)
	if err != nil || again != en {
		t.Fatalf("TOTPFor: %+v %v, want %+v", again, err, en)
	}
	at := time.Date(2026, 3, 2, 8, 0, 10, 0, time.UTC)
	code, err := TOTPCode(en.Secret, at)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		code string
		at   time.Time
		ok   bool
	}{
		{code, at, true}, {code, at.Add(30 * time.Second), true}, {code, at.Add(-30 * time.Second), true},
		{code, at.Add(90 * time.Second), false}, {code[:3] + " " + code[3:], at, true},
		{"", at, false}, {"12345", at, false}, {"abcdef", at, false}, {code + "0", at, false},
	} {
		if got := CheckTOTP(en.Secret, tt.code, tt.at); got != tt.ok {
			t.Errorf("CheckTOTP(%q at %v) = %v", tt.code, tt.at, got)
		}
	}
	if CheckTOTP("", code, at) || CheckTOTP("not base32!", code, at) {
		t.Error("a code passes without a valid secret")
	}
}

// FuzzCheckPassword feeds the password hash parser arbitrary hashes: it
// never panics, and never matches a hash that is not argon2id's PHC form.
func FuzzCheckPassword(f *testing.F) {
	good, err := HashPassword("pw")
	if err != nil {
		f.Fatal(err)
	}
	for _, h := range []string{good, "", "$", "$$$$$", "plaintext", "$argon2id$v=19$m=8,t=1,p=1$c2FsdHNhbHQ$MDEyMzQ1Njc4OWFiY2RlZg",
		"$argon2id$v=19$m=65536,t=3,p=2$!!!$AAAA", "$argon2i$v=19$m=8,t=1,p=1$c2FsdHNhbHQ$MDEyMzQ1Njc4OWFiY2RlZg",
		"$argon2id$v=19$m=08,t=1,p=1$c2FsdHNhbHQ$MDEyMzQ1Njc4OWFiY2RlZg", "$argon2id$v=19$m=8,t=1,p=1,x=1$c2FsdHNhbHQ$MDEyMzQ1Njc4OWFiY2RlZg"} {
		f.Add(h, "pw")
	}
	f.Fuzz(func(t *testing.T, hash, password string) {
		ok := CheckPassword(hash, password)
		if ok && !strings.HasPrefix(hash, "$argon2id$v=19$m=") {
			t.Fatalf("hash %q matches %q", hash, password)
		}
	})
}
