package web

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"golang.org/x/crypto/argon2"

	"galenix/internal/errs"
	"galenix/internal/identity"
	"galenix/internal/store"
)

// fuzzServer is a galenix on a fresh SQLite database with one account,
// "operator", signed in once: the server, its database, the account and
// its session token.
func fuzzServer(f *testing.F) (*Server, *store.DB, identity.Account, string) {
	f.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, store.Config{DataDir: f.TempDir()})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { db.Close() })
	// A well-formed hash of the least argon2id parameters: coverage
	// instrumentation makes argon2 many times slower while fuzzing.
	salt := []byte("saltsalt")
	b64 := base64.RawStdEncoding
	hash := "$argon2id$v=19$m=8,t=1,p=1$" + b64.EncodeToString(salt) + "$" +
		b64.EncodeToString(argon2.IDKey([]byte(pageTestPassword), salt, 1, 8, 1, 16))
	acc := identity.Account{Username: "operator", Name: "Otto Opérateur", Roles: []identity.Role{identity.RoleOperator}}
	if err := db.WriteHistory(identity.WithActor(ctx, identity.System), "test.seed", func(ctx context.Context, h *store.History) error { return h.CreateAccount(&acc, hash) }); err != nil {
		f.Fatal(err)
	}
	tok, _, err := db.Identity().Login(ctx, "operator", pageTestPassword, "127.0.0.1")
	if err != nil {
		f.Fatal(err)
	}
	return New(Deps{Site: db.Site(), Clients: db.Clients(), Identity: db.Identity(), Admin: db.Identity().Admin(), Signatures: db.Identity().Signatures(), Audit: db.Audit(), AuditBundles: db.Audit(), Production: db.Production(), Release: db.Release(), DB: db, Drills: db}), db, acc, tok
}

// FuzzAPILogin feeds POST /api/v1/login arbitrary bodies, through the whole
// handler: decoding, the sign-in, the password hash check. It never answers
// 5xx, always in JSON, an error always in the envelope with the status of
// its code; and it opens a session only for operator's right password.
func FuzzAPILogin(f *testing.F) {
	for _, seed := range []string{
		`{"username":"operator","password":"correct horse battery staple"}`,
		`{"username":" operator ","password":"correct horse battery staple","device":"shopfloor"}`,
		`{"username":"operator","password":"correct horse battery staple","device":"toaster"}`,
		`{"username":"operator","password":"correct horse battery staple","totp":"123456"}`,
		`{"username":"operator","password":"wrong"}`,
		`{"username":"nobody","password":"x"}`,
		`{"username":"gxm_operator","password":""}`,
		`{"username":"operator","password":"correct horse battery staple","extra":1}`,
		`{"username":1}`, `{"username":"\u0000","password":"\ud800"}`, `{}`, `[]`, `null`, `"x"`, `{`, ``,
		`{"username":"a"}{"username":"b"}`, `{"password":"` + strings.Repeat("p", 5000) + `"}`,
		"{\"username\":\"\xff\xfe\",\"password\":\"x\"}",
	} {
		f.Add([]byte(seed))
	}
	s, db, acc, _ := fuzzServer(f)
	h := s.Handler()
	sys := identity.WithActor(context.Background(), identity.System)
	var n atomic.Int64
	f.Fuzz(func(t *testing.T, body []byte) {
		// Each input comes from its own address, so that the rate limit
		// does not hide the sign-in behind 429s; the account is unlocked
		// again, so that earlier inputs do not hide it behind the lock.
		i := n.Add(1)
		if err := db.Identity().Admin().(*store.AdminStore).Unlock(sys, acc.ID, "test: earlier inputs locked the account"); err != nil && !errs.Is(err, errs.Conflict) {
			t.Fatal(err)
		}
		req := httptest.NewRequest("POST", "/api/v1/login", bytes.NewReader(body))
		req.RemoteAddr = fmt.Sprintf("10.%d.%d.%d:4000", byte(i>>16), byte(i>>8), byte(i))
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)

		if rec.Code >= 500 {
			t.Fatalf("body %q: status %d: %s", body, rec.Code, rec.Body)
		}
		if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
			t.Fatalf("body %q: Content-Type %q", body, ct)
		}
		if rec.Code == http.StatusOK {
			var in loginBody
			if err := decodeStrict(body, &in); err != nil || strings.TrimSpace(in.Username) != "operator" || in.Password != pageTestPassword {
				t.Fatalf("body %q opened a session", body)
			}
			var out struct{ Token string }
			if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil || out.Token == "" {
				t.Fatalf("body %q: answer %s", body, rec.Body)
			}
			if a, err := db.Identity().Authenticate(context.Background(), out.Token); err != nil || a.UserID != acc.ID {
				t.Fatalf("body %q: the token answered is no session of operator: %+v %v", body, a, err)
			}
			return
		}
		var env struct {
			Error struct {
				Code    errs.Code `json:"code"`
				Message string    `json:"message"`
			} `json:"error"`
		}
		if err := json.Unmarshal(rec.Body.Bytes(), &env); err != nil || env.Error.Message == "" || !slices.Contains(errs.Codes, env.Error.Code) {
			t.Fatalf("body %q: status %d, answer %s: not the error envelope", body, rec.Code, rec.Body)
		}
		if statusOf[env.Error.Code] != rec.Code {
			t.Fatalf("body %q: status %d for code %s", body, rec.Code, env.Error.Code)
		}
	})
}

// FuzzToken feeds arbitrary Authorization and Cookie headers to the token
// parsing (token) and, through the middleware, to the session lookup,
// machine tokens ("gxm_") included: only the real session's token signs in,
// nothing answers 5xx.
func FuzzToken(f *testing.F) {
	s, db, acc, tok := fuzzServer(f)
	for _, seed := range [][2]string{
		{"Bearer " + tok, ""}, {"bearer " + tok, ""}, {"BEARER \t" + tok + " ", ""}, {"", sessionCookie + "=" + tok},
		{"Basic " + tok, ""}, {tok, ""}, {"Bearer", ""}, {"Bearer ", ""}, {"Bearer gxm_", ""}, {"Bearer gxm_" + tok, ""},
		{"", sessionCookie + "=gxm_x; other=1"}, {"", `a=b; ` + sessionCookie + `="quoted"`}, {"", sessionCookie + "="},
		{"Bearer " + strings.Repeat("x", 300), ""}, {"Bearer \xff\x00", "\xff"}, {"", sessionCookie + "=" + tok + "; " + sessionCookie + "=x"},
	} {
		f.Add(seed[0], seed[1])
	}
	h := s.Handler()
	f.Fuzz(func(t *testing.T, auth, cookie string) {
		req := httptest.NewRequest("GET", "/api/v1/me", nil)
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		if cookie != "" {
			req.Header.Set("Cookie", cookie)
		}
		got := token(req)
		switch {
		case auth != "":
			if got != "" && (len(auth) < 7 || !strings.EqualFold(auth[:7], "Bearer ") || got != strings.TrimSpace(auth[7:])) {
				t.Fatalf("Authorization %q gave the token %q", auth, got)
			}
		case got != "":
			if c, err := req.Cookie(sessionCookie); err != nil || c.Value != got {
				t.Fatalf("Cookie %q gave the token %q", cookie, got)
			}
		}

		a, err := db.Identity().Authenticate(context.Background(), got)
		switch {
		case got == tok:
			if err != nil || a.UserID != acc.ID {
				t.Fatalf("the real token: %+v %v", a, err)
			}
		case err == nil:
			t.Fatalf("token %q authenticated as %+v", got, a)
		case !errs.Is(err, errs.Unauthorized):
			t.Fatalf("token %q: %v, want unauthorized", got, err)
		}

		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		want := http.StatusUnauthorized
		if got == tok {
			want = http.StatusOK
		}
		if rec.Code != want {
			t.Fatalf("Authorization %q, Cookie %q: status %d, want %d: %s", auth, cookie, rec.Code, want, rec.Body)
		}
	})
}
