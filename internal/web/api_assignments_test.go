package web_test

import (
	"context"
	"fmt"
	"maps"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"testing"

	"galenix/internal/audit"
	"galenix/internal/identity"
)

func TestAssignmentsAPI(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		op := e.accounts["operator"].ID
		// The operator is assigned to no client: alpha's data is hidden.
		e.call(t, "operator", "GET", "/api/v1/clients/"+e.alpha.ID, nil).wantError(t, http.StatusNotFound, "not_found", "")

		r := e.call(t, "admin", "POST", "/api/v1/assignments", map[string]string{"account_id": op, "client_id": e.alpha.ID, "reason": "Alpha launch"})
		if r.status != http.StatusCreated {
			t.Fatalf("assign: %d %s", r.status, r.body)
		}
		as := r.object(t)
		if as["account_id"] != op || as["client_id"] != e.alpha.ID || as["client_code"] != "ALPHA" || as["username"] != "operator" || as["id"] == "" {
			t.Errorf("assignment %s", r.body)
		}
		id := as["id"].(string)
		// Need to know: now the operator sees alpha.
		if r := e.call(t, "operator", "GET", "/api/v1/clients/"+e.alpha.ID, nil); r.status != http.StatusOK {
			t.Errorf("the assigned operator does not see alpha: %d", r.status)
		}
		// Alpha's own users see that someone of the site was given sight
		// of their data, and by the site's staff, never by whom.
		var seen []string
		for _, it := range e.call(t, "client-alpha", "GET", "/api/v1/audit?entity=account&entity_id="+op, nil).items(t) {
			actor, _ := it["actor_id"].(string)
			seen = append(seen, fmt.Sprint(it["command"], " ", it["new"], " by ", actor, " staff ", it["actor_staff"]))
		}
		if want := "account.assign " + e.alpha.ID + " by  staff true"; !slices.Equal(seen, []string{want}) {
			t.Errorf("alpha's user sees %q of the operator's trail, want %q", seen, want)
		}

		for _, tt := range []struct {
			name   string
			body   map[string]string
			status int
			code   string
			field  string
		}{
			{"twice", map[string]string{"account_id": op, "client_id": e.alpha.ID}, http.StatusConflict, "conflict", "client_id"},
			{"a client's user", map[string]string{"account_id": e.accounts["client-alpha"].ID, "client_id": e.beta.ID}, http.StatusBadRequest, "invalid", "account_id"},
			{"no such client", map[string]string{"account_id": op, "client_id": newUUID(t)}, http.StatusBadRequest, "invalid", "client_id"},
			{"no such account", map[string]string{"account_id": newUUID(t), "client_id": e.beta.ID}, http.StatusBadRequest, "invalid", "account_id"},
		} {
			t.Run(tt.name, func(t *testing.T) {
				before := e.adminSnapshot(t)
				e.call(t, "admin", "POST", "/api/v1/assignments", tt.body).wantError(t, tt.status, tt.code, tt.field)
				e.adminUnchanged(t, before)
			})
		}

		byAccount := e.call(t, "admin", "GET", "/api/v1/assignments?account_id="+op, nil).items(t)
		byClient := e.call(t, "admin", "GET", "/api/v1/assignments?client_id="+e.beta.ID, nil).items(t)
		if len(byAccount) != 1 || byAccount[0]["id"] != id || len(byClient) != 1 || byClient[0]["id"] != e.adminBeta.ID {
			t.Errorf("per account %v, per client %v", byAccount, byClient)
		}
		if got := e.call(t, "admin", "GET", "/api/v1/assignments/"+id, nil).object(t); got["client_id"] != e.alpha.ID {
			t.Errorf("got %v", got)
		}

		before := e.adminSnapshot(t)
		e.call(t, "admin", "POST", "/api/v1/assignments/"+id+"/withdraw", map[string]string{"reason": ""}).wantError(t, http.StatusBadRequest, "invalid", "reason")
		e.adminUnchanged(t, before)
		if r := e.call(t, "admin", "POST", "/api/v1/assignments/"+id+"/withdraw", map[string]string{"reason": "launch over"}); r.status != http.StatusNoContent {
			t.Fatalf("withdraw: %d %s", r.status, r.body)
		}
		e.call(t, "admin", "GET", "/api/v1/assignments/"+id, nil).wantError(t, http.StatusNotFound, "not_found", "")
		e.call(t, "operator", "GET", "/api/v1/clients/"+e.alpha.ID, nil).wantError(t, http.StatusNotFound, "not_found", "")
		es, err := e.db.Audit().Entries(identity.WithActor(context.Background(), identity.System), audit.Filter{Entity: "account", EntityID: op})
		if err != nil {
			t.Fatal(err)
		}
		last := es[len(es)-1]
		if last.Command != "account.unassign" || last.Old != e.alpha.ID || last.New != "" || last.Reason != "launch over" ||
			last.ClientID != e.alpha.ID || last.ActorID != e.accounts["admin"].ID {
			t.Errorf("withdrawal entry %+v", last)
		}
	})
}

func TestTokensAPI(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		r := e.call(t, "admin", "POST", "/api/v1/tokens", map[string]any{"name": "Reader gate 2", "scopes": []string{"access:write"},
			"expires_at": "2099-12-31T23:00:00Z", "reason": "new badge reader"})
		if r.status != http.StatusCreated {
			t.Fatalf("create: %d %s", r.status, r.body)
		}
		if cc := r.header.Get("Cache-Control"); cc != "no-store" {
			t.Errorf("Cache-Control %q: the secret may be cached", cc)
		}
		created := r.object(t)
		secret, _ := created["secret"].(string)
		id, _ := created["id"].(string)
		if !strings.HasPrefix(secret, "gxm_") || created["expires_at"] != "2099-12-31T23:00:00Z" || created["created_by"] != e.accounts["admin"].ID {
			t.Errorf("created %s", r.body)
		}
		for _, path := range []string{"/api/v1/tokens", "/api/v1/tokens/" + id} {
			r := e.call(t, "admin", "GET", path, nil)
			if r.status != http.StatusOK || strings.Contains(string(r.body), secret[4:]) || strings.Contains(string(r.body), "secret") || strings.Contains(string(r.body), "hash") {
				t.Errorf("GET %s shows the secret or its hash: %s", path, r.body)
			}
		}
		if got := e.call(t, "admin", "GET", "/api/v1/tokens", nil).items(t); len(got) != 2 || got[0]["id"] != id {
			t.Errorf("tokens %v, want the new one first", got)
		}
		for _, bad := range []struct {
			body  map[string]any
			field string
		}{
			{map[string]any{"name": "x", "scopes": []string{"site:read"}, "expires_at": "2001-01-01T00:00:00Z"}, "expires_at"},
			{map[string]any{"name": "x", "scopes": []string{"everything"}}, "scopes"},
			{map[string]any{"name": "x", "scopes": []string{"site:read"}, "secret": "gxm_mine"}, "secret"},
		} {
			before := e.adminSnapshot(t)
			e.call(t, "admin", "POST", "/api/v1/tokens", bad.body).wantError(t, http.StatusBadRequest, "invalid", bad.field)
			e.adminUnchanged(t, before)
		}

		before := e.adminSnapshot(t)
		e.call(t, "admin", "POST", "/api/v1/tokens/"+id+"/revoke", map[string]string{}).wantError(t, http.StatusBadRequest, "invalid", "reason")
		e.adminUnchanged(t, before)
		r = e.call(t, "admin", "POST", "/api/v1/tokens/"+id+"/revoke", map[string]string{"reason": "reader replaced"})
		if r.status != http.StatusOK || r.object(t)["revoked_at"] == nil {
			t.Fatalf("revoke: %d %s", r.status, r.body)
		}
		e.call(t, "admin", "POST", "/api/v1/tokens/"+id+"/revoke", map[string]string{"reason": "again"}).wantError(t, http.StatusConflict, "conflict", "")
		e.call(t, "admin", "POST", "/api/v1/tokens/"+newUUID(t)+"/revoke", map[string]string{"reason": "x"}).wantError(t, http.StatusNotFound, "not_found", "")

		got := trailLines(e.trailOf(t, "api_token", id))
		revoked := e.call(t, "admin", "GET", "/api/v1/tokens/"+id, nil).object(t)["revoked_at"].(string)
		want := []string{"token.create name →Reader gate 2 [new badge reader]", "token.create scopes →access:write [new badge reader]",
			"token.create expires_at →2099-12-31T23:00:00Z [new badge reader]", "token.revoke revoked_at →" + revoked[:19] + "Z [reader replaced]"}
		if !slices.Equal(got, want) {
			t.Errorf("token trail:\n got %q\nwant %q", got, want)
		}
		// Those who see accounts see the trail of tokens; other staff do not.
		if items := e.call(t, "operator", "GET", "/api/v1/audit?entity=api_token", nil).items(t); len(items) != 0 {
			t.Errorf("the operator sees %d entries of the tokens' trail", len(items))
		}
	})
}

// TestOpenAPIAdminSchemas checks the administration's schemas against the
// Go types the API encodes, and the token scopes against the domain's.
func TestOpenAPIAdminSchemas(t *testing.T) {
	_, doc := openapiDoc(t)
	schemas := at(t, doc, "components", "schemas").(map[string]any)
	for name, v := range map[string]any{"Account": identity.Account{}, "Assignment": identity.Assignment{}, "Token": identity.Token{}} {
		got := slices.Sorted(maps.Keys(at(t, schemas, name, "properties").(map[string]any)))
		if want := jsonFields(reflect.TypeOf(v)); !slices.Equal(got, want) {
			t.Errorf("schema %s has properties %v; the API encodes %v", name, got, want)
		}
	}
	var scopes []string
	for _, v := range at(t, schemas, "TokenScope", "enum").([]any) {
		scopes = append(scopes, v.(string))
	}
	if want := strs(identity.TokenScopes); !slices.Equal(scopes, want) {
		t.Errorf("enum TokenScope: %v, want %v", scopes, want)
	}
}
