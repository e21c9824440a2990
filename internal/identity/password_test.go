package identity

import (
	"strings"
	"sync"
	"testing"
)

func TestPasswordHash(t *testing.T) {
	h, err := HashPassword("correct horse battery staple")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$argon2id$v=19$m=65536,t=3,p=1$") {
		t.Errorf("hash %q is not an argon2id PHC string with the chosen parameters", h)
	}
	if !CheckPassword(h, "correct horse battery staple") {
		t.Error("the right password does not match")
	}
	if CheckPassword(h, "correct horse battery stapler") {
		t.Error("a wrong password matches")
	}
	h2, _ := HashPassword("correct horse battery staple")
	if h == h2 {
		t.Error("two hashes of one password are equal: the salt is not random")
	}
}

func TestCheckPasswordRefusesMalformedHashes(t *testing.T) {
	good, _ := HashPassword("pw")
	parts := strings.Split(good, "$")
	for _, h := range []string{
		"",
		"plaintext",
		"$argon2i$v=19$m=65536,t=3,p=2$" + parts[4] + "$" + parts[5],
		"$argon2id$v=18$m=65536,t=3,p=2$" + parts[4] + "$" + parts[5],
		"$argon2id$v=19$m=0,t=3,p=2$" + parts[4] + "$" + parts[5],
		"$argon2id$v=19$m=4194304,t=3,p=2$" + parts[4] + "$" + parts[5],
		"$argon2id$v=19$m=65536,t=99,p=2$" + parts[4] + "$" + parts[5],
		"$argon2id$v=19$m=65536,t=3,p=0$" + parts[4] + "$" + parts[5],
		"$argon2id$v=19$m=65536,t=3,p=2$!!!$" + parts[5],
		"$argon2id$v=19$m=65536,t=3,p=2$" + parts[4] + "$",
		"$argon2id$v=19$m=65536,t=3,p=2$" + parts[4],
	} {
		if CheckPassword(h, "pw") {
			t.Errorf("malformed hash %q matches", h)
		}
	}
}

func TestAccountValidate(t *testing.T) {
	ok := Account{Username: " jdupont ", Name: "Jeanne Dupont", Roles: []Role{RoleOperator}}
	if err := ok.Validate(); err != nil || ok.Username != "jdupont" {
		t.Fatalf("valid account refused: %v (username %q)", err, ok.Username)
	}
	for name, a := range map[string]Account{
		"no username":   {Name: "X", Roles: []Role{RoleQA}},
		"long username": {Username: strings.Repeat("u", 65), Name: "X", Roles: []Role{RoleQA}},
		"no name":       {Username: "x", Roles: []Role{RoleQA}},
		"no role":       {Username: "x", Name: "X"},
		"unknown role":  {Username: "x", Name: "X", Roles: []Role{"god"}},
	} {
		if err := a.Validate(); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// TestHashingBounded runs more password checks at once than the machine
// has slots for: no more than the bound run together, and all answer.
func TestHashingBounded(t *testing.T) {
	hash, err := HashPassword("correct horse battery staple")
	if err != nil {
		t.Fatal(err)
	}
	hashingPeak.Store(0)
	var wg sync.WaitGroup
	ok := make([]bool, 2*cap(hashSlots)+2)
	for i := range ok {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ok[i] = CheckPassword(hash, "correct horse battery staple")
		}()
	}
	wg.Wait()
	for i, v := range ok {
		if !v {
			t.Errorf("check %d failed", i)
		}
	}
	if peak := hashingPeak.Load(); peak < 1 || int(peak) > cap(hashSlots) {
		t.Errorf("%d argon2id computations ran at once; the bound is %d", peak, cap(hashSlots))
	}
}
