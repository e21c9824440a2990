package identity

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"galenix/internal/errs"
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

// TestPasswordQueueBounded fills every slot: a check waits at most
// HashWait, one past HashQueue answers busy at once, neither says anything
// of the password, and a check given its turn in time answers as usual.
func TestPasswordQueueBounded(t *testing.T) {
	hash, err := HashPassword("correct horse battery staple")
	if err != nil {
		t.Fatal(err)
	}
	oldQueue, oldWait := HashQueue, HashWait
	HashQueue, HashWait = 1, 200*time.Millisecond
	defer func() { HashQueue, HashWait = oldQueue, oldWait }()
	var held []struct{}
	for range cap(hashSlots) {
		held = append(held, <-hashSlots)
	}
	give := func() {
		for _, s := range held {
			hashSlots <- s
		}
		held = nil
	}
	defer func() { give() }()

	yielded, resumed := 0, 0
	ctx := WithYield(context.Background(), func() func() { yielded++; return func() { resumed++ } })
	first := make(chan error, 1)
	t0 := time.Now()
	go func() { _, err := VerifyPassword(ctx, hash, "correct horse battery staple"); first <- err }()
	for hashWaiting.Load() != 1 {
		time.Sleep(time.Millisecond)
	}
	if _, err := VerifyPassword(context.Background(), hash, "correct horse battery staple"); !errors.Is(err, ErrBusy) {
		t.Fatalf("a check past the queue answered %v, want busy at once", err)
	}
	if d := time.Since(t0); d > 150*time.Millisecond {
		t.Fatalf("the check past the queue took %v", d)
	}
	if err := <-first; !errors.Is(err, ErrBusy) || time.Since(t0) < 200*time.Millisecond {
		t.Fatalf("a waiting check answered %v after %v; want busy after 200 ms", err, time.Since(t0))
	}
	if errs.CodeOf(ErrBusy) != errs.Unavailable {
		t.Fatalf("busy is %s, want unavailable (503)", errs.CodeOf(ErrBusy))
	}
	if yielded != 1 || resumed != 1 {
		t.Fatalf("the check gave its place %d times and took it back %d times, want once each", yielded, resumed)
	}
	// A cancelled request stops waiting.
	cctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := VerifyPassword(cctx, hash, "x"); err == nil || errors.Is(err, ErrBusy) {
		t.Fatalf("a cancelled check answered %v", err)
	}
	give()
	for _, pw := range []string{"correct horse battery staple", "wrong"} {
		ok, err := VerifyPassword(ctx, hash, pw)
		if err != nil || ok != (pw != "wrong") {
			t.Fatalf("with a slot free, %q checked %v, %v", pw, ok, err)
		}
	}
	if hashWaiting.Load() != 0 {
		t.Fatalf("%d checks still counted as waiting", hashWaiting.Load())
	}
}
