package store_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"strings"
	"testing"
	"time"

	"galenix/internal/errs"
	"galenix/internal/identity"
	"galenix/internal/store"
)

func TestMachineTokens(t *testing.T) {
	t.Parallel()
	forEachDB(t, func(t *testing.T, db *store.DB) {
		c := newClock(db)
		f := newAdminFixture(t, db)
		adm := db.Identity().Admin()
		ids := db.Identity()
		ctx := context.Background()

		var tok identity.Token
		var secret string
		t.Run("create", func(t *testing.T) {
			seq := lastSeqAll(t, db)
			tok = identity.Token{Name: "Gateway B30", Scopes: []identity.TokenScope{identity.ScopeSiteRead}}
			var err error
			secret, err = adm.CreateToken(f.ctx("admin"), &tok, "sensor gateway of building 30")
			must(t, err)
			if !strings.HasPrefix(secret, store.MachineTokenPrefix) || len(secret) != len(store.MachineTokenPrefix)+43 {
				t.Errorf("secret %q: want gxm_ and 32 bytes in base64url", secret)
			}
			if tok.ID == "" || tok.CreatedBy != f.acc["admin"].ID || tok.CreatedByName != "Ada Admin" || !tok.CreatedAt.Equal(now) ||
				!tok.ExpiresAt.IsZero() || !tok.RevokedAt.IsZero() {
				t.Errorf("token %+v", tok)
			}
			es := trail(t, db, "api_token", tok.ID, seq)
			wantFields(t, es, "token.create name →Gateway B30 [sensor gateway of building 30]", "token.create scopes →site:read [sensor gateway of building 30]")
			for _, e := range es {
				if e.ActorID != f.acc["admin"].ID || !e.At.Equal(now) {
					t.Errorf("entry %+v: want the admin, now", e)
				}
			}
		})

		t.Run("never stored in clear", func(t *testing.T) {
			rows, err := db.RawRow("api_tokens", "id", tok.ID)
			must(t, err)
			if len(rows) != 1 {
				t.Fatalf("%d rows for the token", len(rows))
			}
			sum := sha256.Sum256([]byte(secret))
			if got := rows[0]["token_hash"]; got != hex.EncodeToString(sum[:]) {
				t.Errorf("token_hash %q, want the SHA-256 of the secret", got)
			}
			random := strings.TrimPrefix(secret, store.MachineTokenPrefix)
			for col, v := range rows[0] {
				if strings.Contains(v, random) {
					t.Errorf("column %s holds the secret in clear", col)
				}
			}
			es := trail(t, db, "api_token", tok.ID, 0)
			for _, e := range es {
				if strings.Contains(e.New+e.Old+e.Reason, random) || strings.Contains(e.New, rows[0]["token_hash"]) {
					t.Errorf("audit entry %s holds the secret or its hash", e.Field)
				}
			}
		})

		t.Run("authenticate", func(t *testing.T) {
			a, err := ids.Authenticate(ctx, secret)
			must(t, err)
			want := identity.Actor{UserID: "token:" + tok.ID, Username: "Gateway B30", Name: "Gateway B30", Scopes: []string{"site:read"}}
			if a.UserID != want.UserID || a.Name != want.Name || a.Username != want.Username || !slices.Equal(a.Scopes, want.Scopes) || len(a.Roles) != 0 || a.ClientID != "" {
				t.Errorf("actor %+v, want %+v", a, want)
			}
			used := func() time.Time {
				got, err := adm.Token(f.ctx("admin"), tok.ID)
				must(t, err)
				return got.LastUsedAt
			}
			if !used().Equal(c.now()) {
				t.Errorf("last use %v, want %v", used(), c.now())
			}
			// Marked used at most once a minute.
			first := c.now()
			c.add(30 * time.Second)
			_, err = ids.Authenticate(ctx, secret)
			must(t, err)
			if !used().Equal(first) {
				t.Errorf("last use moved to %v within a minute", used())
			}
			c.add(2 * time.Minute)
			_, err = ids.Authenticate(ctx, secret)
			must(t, err)
			if !used().Equal(c.now()) {
				t.Errorf("last use %v, want %v", used(), c.now())
			}
		})

		t.Run("garbage", func(t *testing.T) {
			before := adminCounts(t, db)
			random := strings.TrimPrefix(secret, store.MachineTokenPrefix)
			for _, bad := range []string{
				store.MachineTokenPrefix, store.MachineTokenPrefix + "x", secret + "x", secret[:len(secret)-1],
				store.MachineTokenPrefix + strings.ToUpper(random), store.MachineTokenPrefix + strings.Repeat("A", 43),
				store.MachineTokenPrefix + strings.Repeat("=", 43), store.MachineTokenPrefix + random[:42] + "+",
			} {
				_, err := ids.Authenticate(ctx, bad)
				wantErr(t, err, errs.Unauthorized, "")
				if errs.MessageOf(err, "en") != "This API token is not valid." {
					t.Errorf("%q: message %q", bad, errs.MessageOf(err, "en"))
				}
			}
			adminUnchanged(t, db, before)
		})

		t.Run("expiry", func(t *testing.T) {
			short := identity.Token{Name: "Badge reader gate 1", Scopes: []identity.TokenScope{identity.ScopeAccessWrite}, ExpiresAt: c.now().Add(time.Hour)}
			s, err := adm.CreateToken(f.ctx("admin"), &short, "")
			must(t, err)
			if !short.ExpiresAt.Equal(c.now().Add(time.Hour)) {
				t.Errorf("expires %v", short.ExpiresAt)
			}
			_, err = ids.Authenticate(ctx, s)
			must(t, err)
			c.add(time.Hour)
			_, err = ids.Authenticate(ctx, s)
			wantErr(t, err, errs.Unauthorized, "")
		})

		for _, tt := range []struct {
			name, who string
			tok       identity.Token
			code      errs.Code
			field     string
		}{
			{"expiry in the past", "admin", identity.Token{Name: "x", Scopes: []identity.TokenScope{identity.ScopeSiteRead}, ExpiresAt: now.Add(-time.Hour)}, errs.Invalid, "expires_at"},
			{"unknown scope", "admin", identity.Token{Name: "x", Scopes: []identity.TokenScope{"accounts:admin"}}, errs.Invalid, "scopes"},
			{"no scope", "admin", identity.Token{Name: "x"}, errs.Invalid, "scopes"},
			{"no name", "admin", identity.Token{Scopes: []identity.TokenScope{identity.ScopeSiteRead}}, errs.Invalid, "name"},
			{"by quality", "qa", identity.Token{Name: "x", Scopes: []identity.TokenScope{identity.ScopeSiteRead}}, errs.Forbidden, ""},
			{"by the operator", "operator", identity.Token{Name: "x", Scopes: []identity.TokenScope{identity.ScopeSiteRead}}, errs.Forbidden, ""},
			{"by a client manager", "manager-alpha", identity.Token{Name: "x", Scopes: []identity.TokenScope{identity.ScopeSiteRead}}, errs.Forbidden, ""},
		} {
			t.Run("refused: "+tt.name, func(t *testing.T) {
				before := adminCounts(t, db)
				secret, err := adm.CreateToken(f.ctx(tt.who), &tt.tok, "")
				wantErr(t, err, tt.code, tt.field)
				if secret != "" {
					t.Errorf("a refused creation answered a secret")
				}
				adminUnchanged(t, db, before)
			})
		}

		t.Run("list and get", func(t *testing.T) {
			for _, who := range []string{"admin", "qa", "security"} {
				got, err := adm.Tokens(f.ctx(who))
				must(t, err)
				if len(got) != 2 || got[0].Name != "Badge reader gate 1" || got[1].ID != tok.ID {
					t.Errorf("%s lists %+v, want the two tokens, newest first", who, got)
				}
			}
			for _, who := range []string{"operator", "user-alpha", "manager-alpha"} {
				_, err := adm.Tokens(f.ctx(who))
				wantErr(t, err, errs.Forbidden, "")
				_, err = adm.Token(f.ctx(who), tok.ID)
				wantErr(t, err, errs.NotFound, "")
			}
			_, err := adm.Token(f.ctx("admin"), store.NewID())
			wantErr(t, err, errs.NotFound, "")
		})

		t.Run("revoke", func(t *testing.T) {
			for _, tt := range []struct {
				name, who, reason string
				code              errs.Code
				field             string
			}{
				{"no reason", "admin", "", errs.Invalid, "reason"},
				{"by quality", "qa", "why", errs.Forbidden, ""},
				{"by the operator", "operator", "why", errs.Forbidden, ""},
			} {
				before := adminCounts(t, db)
				_, err := adm.RevokeToken(f.ctx(tt.who), tok.ID, tt.reason)
				wantErr(t, err, tt.code, tt.field)
				adminUnchanged(t, db, before)
			}
			_, err := ids.Authenticate(ctx, secret)
			must(t, err)
			seq := lastSeqAll(t, db)
			got, err := adm.RevokeToken(f.ctx("admin"), tok.ID, "gateway replaced")
			must(t, err)
			if !got.RevokedAt.Equal(c.now()) {
				t.Errorf("revoked at %v, want %v", got.RevokedAt, c.now())
			}
			wantFields(t, trail(t, db, "api_token", tok.ID, seq), "token.revoke revoked_at →"+c.now().UTC().Format(time.RFC3339)+" [gateway replaced]")
			_, err = ids.Authenticate(ctx, secret)
			wantErr(t, err, errs.Unauthorized, "")
			before := adminCounts(t, db)
			_, err = adm.RevokeToken(f.ctx("admin"), tok.ID, "again")
			wantErr(t, err, errs.Conflict, "")
			adminUnchanged(t, db, before)
		})
	})
}
