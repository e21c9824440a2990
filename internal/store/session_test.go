package store_test

import (
	"context"
	"testing"
	"time"

	"galenix/internal/errs"
	"galenix/internal/identity"
	"galenix/internal/store"
)

// TestSessionTimeouts checks the idle timeout of each kind of session (the
// shop floor's shorter) and the absolute timeout, all from the policy.
func TestSessionTimeouts(t *testing.T) {
	t.Parallel()
	forEachDB(t, func(t *testing.T, db *store.DB) {
		c := newClock(db)
		ids := db.Identity()
		p := identity.DefaultPolicy()
		p.Idle, p.ShopfloorIdle, p.Absolute = 10*time.Minute, 2*time.Minute, time.Hour
		setPolicy(t, db, p)
		acc := identity.Account{Username: "claire", Name: "Claire Dubois", Roles: []identity.Role{identity.RoleOperator}}
		newAccount(t, db, &acc)
		ctx := context.Background()
		open := func(device string) string {
			tok, _, err := ids.SignIn(ctx, identity.Credentials{Username: "claire", Password: password, Device: device})
			must(t, err)
			return tok
		}
		live := func(tok string) bool {
			_, err := ids.Authenticate(ctx, tok)
			if err != nil && !errs.Is(err, errs.Unauthorized) {
				t.Fatal(err)
			}
			return err == nil
		}

		for _, tt := range []struct {
			device string
			idle   time.Duration
		}{{"", 10 * time.Minute}, {identity.DeviceBrowser, 10 * time.Minute}, {identity.DeviceAPI, 10 * time.Minute}, {identity.DeviceShopfloor, 2 * time.Minute}} {
			t.Run("idle "+tt.device, func(t *testing.T) {
				tok := open(tt.device)
				c.add(tt.idle - time.Second)
				if !live(tok) {
					t.Fatalf("ended before its idle timeout of %v", tt.idle)
				}
				c.add(tt.idle - time.Second)
				if !live(tok) {
					t.Fatalf("used again within %v: ended", tt.idle)
				}
				c.add(tt.idle + time.Second)
				if live(tok) {
					t.Fatalf("alive after %v idle", tt.idle+time.Second)
				}
			})
		}

		t.Run("absolute", func(t *testing.T) {
			start := c.now()
			tok := open(identity.DeviceBrowser)
			for c.now().Sub(start) <= time.Hour-9*time.Minute {
				c.add(9 * time.Minute)
				if !live(tok) {
					t.Fatalf("used every 9 minutes, ended after %v", c.now().Sub(start))
				}
			}
			c.add(9 * time.Minute)
			if live(tok) {
				t.Fatalf("alive %v after it opened", c.now().Sub(start))
			}
		})

		t.Run("a shorter absolute timeout reaches open sessions", func(t *testing.T) {
			tok := open(identity.DeviceBrowser)
			q := p
			q.Absolute = 20 * time.Minute
			setPolicy(t, db, q)
			c.add(9 * time.Minute)
			if !live(tok) {
				t.Fatal("ended early")
			}
			c.add(9 * time.Minute)
			live(tok)
			c.add(3 * time.Minute)
			if live(tok) {
				t.Error("alive past the new absolute timeout")
			}
			setPolicy(t, db, p)
		})

		t.Run("the time seen is written", func(t *testing.T) {
			tok := open(identity.DeviceBrowser)
			c.add(5 * time.Minute)
			if !live(tok) {
				t.Fatal("ended early")
			}
			if at, err := db.LastSeen(tok); err != nil || !at.Equal(c.now().UTC().Truncate(time.Microsecond)) {
				t.Errorf("last seen %v (%v), want %v", at, err, c.now())
			}
		})

		t.Run("bad device", func(t *testing.T) {
			_, _, err := ids.SignIn(ctx, identity.Credentials{Username: "claire", Password: password, Device: "toaster"})
			wantErr(t, err, errs.Invalid, "device")
		})
	})
}

// TestRevokeSessions checks "sign out everywhere": every session of the
// person ends, others' go on, and it is audited.
func TestRevokeSessions(t *testing.T) {
	t.Parallel()
	forEachDB(t, func(t *testing.T, db *store.DB) {
		newClock(db)
		ids := db.Identity()
		for _, a := range []identity.Account{
			{Username: "claire", Name: "Claire Dubois", Roles: []identity.Role{identity.RoleQA}},
			{Username: "bruno", Name: "Bruno Petit", Roles: []identity.Role{identity.RoleOperator}},
		} {
			newAccount(t, db, &a)
		}
		var mine []string
		var me identity.Actor
		for _, d := range []string{identity.DeviceBrowser, identity.DeviceShopfloor, identity.DeviceAPI} {
			tok, a := signIn(t, ids, identity.Credentials{Username: "claire", Password: password, Device: d})
			mine, me = append(mine, tok), a
		}
		theirs, _ := signIn(t, ids, identity.Credentials{Username: "bruno", Password: password})

		my, err := ids.MyAccount(identity.WithActor(context.Background(), me))
		must(t, err)
		current := 0
		for _, si := range my.Sessions {
			if si.Current {
				current++
			}
		}
		if len(my.Sessions) != 3 || current != 1 {
			t.Errorf("my sessions: %+v, want 3, one of them the current one", my.Sessions)
		}

		seq := lastSeq(t, db)
		n, err := ids.RevokeSessions(identity.WithActor(context.Background(), me))
		must(t, err)
		if n != 3 {
			t.Errorf("%d sessions ended, want 3", n)
		}
		for _, tok := range mine {
			_, err := ids.Authenticate(context.Background(), tok)
			wantErr(t, err, errs.Unauthorized, "")
		}
		if _, err := ids.Authenticate(context.Background(), theirs); err != nil {
			t.Errorf("another person's session ended: %v", err)
		}
		es := entries(t, db, "account", me.UserID, seq)
		if len(es) != 1 || es[0].Command != "session.revoke_all" || es[0].Old != "3" || es[0].New != "0" {
			t.Errorf("audited as %+v", es)
		}
		_, err = ids.RevokeSessions(context.Background())
		wantErr(t, err, errs.Unauthorized, "")
	})
}
