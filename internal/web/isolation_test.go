package web_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"galenix/docs"
	"galenix/internal/client"
	"galenix/internal/demo"
	"galenix/internal/demotest"
	"galenix/internal/identity"
	"galenix/internal/ingest"
	"galenix/internal/store"
	"galenix/internal/web"
)

// The isolation test walks every GET route the router has — API and pages,
// taken from web.Server.Routes so that a route is covered the day it is
// added — as a user of each of two client laboratories and as a member of
// staff assigned to no client, with the ids of the items of every client.
// It finds no item, id or name outside the caller's scope in any answer, and
// every by-id request outside the scope answers 404.

// caller is one of the people the isolation test signs in as.
type caller struct {
	username string
	// scope lists the codes of the clients whose data they may see.
	scope []string
}

var callers = []caller{
	{"client-alpha", []string{"ALPHA"}},
	{"client-beta", []string{"BETA"}},
	{"operator", []string{"ALPHA"}}, // site staff assigned to the client alpha
	{"maintenance", nil},            // site staff assigned to no client
}

// perClient is how many items of each client a by-id route is asked
// for: every client's, but not all of a demo's thousands of batches.
const perClient = 5

// item is something an API list answered, with the client owning it.
type item struct {
	id       string
	clientID string
}

func TestIsolation(t *testing.T) {
	for _, d := range []store.Dialect{store.SQLite, store.Postgres} {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			isolation(t, d)
		})
	}
}

func isolation(t *testing.T, d store.Dialect) {
	cfg := store.Config{DataDir: demotest.DataDir(t), MasterKey: demotest.MasterKey, Keys: memoKeys}
	if d == store.Postgres {
		cfg = store.Config{DSN: demotest.DSN(t), MasterKey: demotest.MasterKey, Keys: memoKeys}
	}
	ctx := context.Background()
	db, err := store.Open(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	sys := identity.WithActor(ctx, identity.System)
	clients, err := db.Clients().Clients(sys)
	if err != nil || len(clients) < 3 {
		t.Fatalf("demo clients: %v %v", clients, err)
	}
	byCode := map[string]client.Client{}
	for _, c := range clients {
		byCode[c.Code] = c
	}

	// The oracle sees everything: an administrator with quality's and the
	// laboratory's rights, assigned to every client.
	hash, err := identity.HashPassword(demo.Password)
	if err != nil {
		t.Fatal(err)
	}
	oracle := identity.Account{Username: "oracle", Name: "Oracle", Roles: []identity.Role{identity.RoleAdmin, identity.RoleQA, identity.RoleLab}}
	if err := db.WriteHistory(sys, "test.seed", func(ctx context.Context, h *store.History) error {
		if err := h.CreateAccount(&oracle, hash); err != nil {
			return err
		}
		for _, c := range clients {
			if err := db.Identity().Admin().Assign(ctx, &identity.Assignment{AccountID: oracle.ID, ClientID: c.ID}, ""); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}

	s := web.New(web.Deps{Site: db.Site(), Clients: db.Clients(), Identity: db.Identity(), Admin: db.Identity().Admin(), Signatures: db.Identity().Signatures(), Audit: db.Audit(), AuditBundles: db.Audit(), Production: db.Production(), Release: db.Release(), DB: db, Drills: db, OpenAPI: docs.OpenAPI,
		Lab: db.Lab(), Deviations: db.Deviations(), Agreements: db.Agreements(), Qualifications: db.Qualifications(), Access: db.Access(), Controlled: db.Controlled(), Infra: db.Infra(), Documents: db.Documents(), Projects: db.Projects(), Notices: db.Outbox(), Environment: db.Environment(), Readings: &ingest.StoreSink{Env: db.Environment()}, EnvironmentViews: db.Environment()})
	srv := httptest.NewServer(checkContract(t, s.Handler()))
	t.Cleanup(srv.Close)

	oracleAPI := signIn(t, srv, "oracle")
	// The laboratory has no demo data yet: the oracle gives every client
	// some, so that its by-id routes have other clients' items to refuse.
	wireLab(db)
	seedLab(t, srv, oracleAPI.token, signIn(t, srv, "lab2").token, demo.Password)
	// Every item of every API list, as the oracle sees them, by resource.
	universe := map[string][]item{}
	listOf := func(resource string) []item {
		if items, ok := universe[resource]; ok {
			return items
		}
		status, body := oracleAPI.get(t, "/api/v1/"+resource)
		if status != http.StatusOK {
			t.Fatalf("the by-id routes of %q need a list at /api/v1/%s to find ids: status %d", resource, resource, status)
		}
		var out struct {
			Items []map[string]any `json:"items"`
		}
		if err := json.Unmarshal(body, &out); err != nil {
			t.Fatalf("/api/v1/%s: %v", resource, err)
		}
		var items []item
		taken := map[string]int{}
		for _, it := range out.Items {
			id, _ := it["id"].(string)
			cid, _ := it["client_id"].(string)
			if taken[cid]++; cid != "" && taken[cid] > perClient {
				continue
			}
			items = append(items, item{id: id, clientID: cid})
		}
		universe[resource] = items
		return items
	}

	// The demo's documents: a specification, a protocol and a certificate
	// per client, some approved, so that the walk below asks for other
	// clients' documents and their downloads.
	if status, body := oracleAPI.get(t, "/api/v1/documents"); status != http.StatusOK {
		t.Fatalf("documents: %d", status)
	} else {
		var out struct {
			Items []struct {
				ClientID string `json:"client_id"`
				State    string `json:"state"`
			} `json:"items"`
		}
		if err := json.Unmarshal(body, &out); err != nil {
			t.Fatal(err)
		}
		per, approved := map[string]int{}, 0
		for _, d := range out.Items {
			per[d.ClientID]++
			if d.State == "approved" {
				approved++
			}
		}
		for _, c := range clients {
			if per[c.ID] != 3 {
				t.Errorf("the demo's client %s has %d documents, want 3", c.Code, per[c.ID])
			}
		}
		if approved != 2*len(clients) {
			t.Errorf("%d demo documents approved, want %d", approved, 2*len(clients))
		}
	}

	// The demo's projects: one or two per client, so that the walk below
	// asks for other clients' projects (dashboards and API).
	perProject := map[string]int{}
	for _, it := range listOf("projects") {
		perProject[it.clientID]++
	}
	for _, c := range clients {
		if perProject[c.ID] == 0 {
			t.Errorf("the demo's client %s has no project", c.Code)
		}
	}

	// resourceOf names the API list of a by-id route's items: its path
	// before the id under /api/v1 (/api/v1/controlled/movements for
	// /api/v1/controlled/movements/{id}); for a page, the API list at the
	// same path, else at its last segment (/api/v1/accounts for
	// /admin/accounts/{id}).
	resourceOf := func(path string) string {
		prefix := strings.Trim(path[:strings.Index(path, "{id}")], "/")
		if rest, api := strings.CutPrefix(prefix, "api/v1/"); api {
			return rest
		}
		for _, r := range s.Routes() {
			if r.Method == "GET" && r.Path == "/api/v1/"+prefix {
				return prefix
			}
		}
		return prefix[strings.LastIndex(prefix, "/")+1:]
	}

	var routes []web.Route
	for _, r := range s.Routes() {
		if r.Method != "GET" {
			continue
		}
		// A batch's dossier: each of its documents.
		if strings.Contains(r.Path, "{document}") {
			for _, doc := range []string{"batch_record", "certificate_of_analysis", "certificate_of_conformity", "deviation_summaries", "environment_report"} {
				routes = append(routes, web.Route{Method: r.Method, Path: strings.ReplaceAll(r.Path, "{document}", doc)})
			}
			continue
		}
		routes = append(routes, r)
	}
	param := regexp.MustCompile(`\{[^}]*\}`)

	for _, c := range callers {
		t.Run(c.username, func(t *testing.T) {
			in := map[string]bool{}
			for _, code := range c.scope {
				in[byCode[code].ID] = true
			}
			// What must never reach this caller: the ids and names of the
			// other clients, and the ids of their items.
			var foreign []string
			for _, cl := range clients {
				if !in[cl.ID] {
					foreign = append(foreign, cl.ID, cl.Name)
				}
			}
			api := signIn(t, srv, c.username)
			page := signInBrowser(t, srv, c.username)
			checked, refused := 0, 0
			noLeak := func(path string, body []byte) {
				t.Helper()
				checked++
				for _, f := range foreign {
					if strings.Contains(string(body), f) {
						t.Errorf("GET %s shows %s something of another client: %q", path, c.username, f)
					}
				}
			}
			for _, r := range routes {
				get := page.get
				if strings.HasPrefix(r.Path, "/api/") {
					get = api.get
				}
				// A version's number: the first, which every document has.
				r.Path = strings.ReplaceAll(r.Path, "{number}", "1")
				params := param.FindAllString(strings.TrimSuffix(r.Path, "{$}"), -1)
				if len(params) == 0 {
					path := strings.TrimSuffix(r.Path, "{$}")
					status, body := get(t, path)
					noLeak(path, body)
					if status == http.StatusOK && strings.HasPrefix(r.Path, "/api/") {
						var list struct {
							Items []map[string]any `json:"items"`
						}
						if json.Unmarshal(body, &list) == nil {
							for _, it := range list.Items {
								if cid, ok := it["client_id"].(string); ok && cid != "" && !in[cid] {
									t.Errorf("GET %s: %s sees item %v of client %s", path, c.username, it["id"], cid)
								}
							}
						}
					}
					continue
				}
				if len(params) != 1 || params[0] != "{id}" {
					t.Fatalf("route %s %s has path parameters %v: teach the isolation test where to find their values", r.Method, r.Path, params)
				}
				resource := resourceOf(r.Path)
				shared := 0
				for _, it := range listOf(resource) {
					path := strings.Replace(r.Path, "{id}", it.id, 1)
					if it.clientID == "" {
						// Shared site data: a few are enough to look for leaks.
						if shared++; shared > 3 {
							continue
						}
						_, body := get(t, path)
						noLeak(path, body)
						continue
					}
					status, body := get(t, path)
					noLeak(path, body)
					if !in[it.clientID] {
						refused++
						if status != http.StatusNotFound {
							t.Errorf("GET %s (an item of another client) answered %s %d, want 404", path, c.username, status)
						}
					}
				}
			}
			if checked < len(routes) || refused == 0 {
				t.Errorf("%s: %d answers checked and %d out-of-scope items asked for: the test proves too little", c.username, checked, refused)
			}
		})
	}
}

// session is a signed-in HTTP client: API (bearer token) or browser (cookie).
type session struct {
	srv    *httptest.Server
	client *http.Client
	token  string
}

// get answers the status and body of a GET; of a live stream (server-sent
// events), the body up to its first event.
func (s *session) get(t *testing.T, path string) (int, []byte) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, "GET", s.srv.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if s.token != "" {
		req.Header.Set("Authorization", "Bearer "+s.token)
	}
	resp, err := s.client.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
		return resp.StatusCode, firstEvent(t, path, resp.Body)
	}
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// firstEvent reads a live stream up to the end of its first event.
func firstEvent(t *testing.T, path string, body io.Reader) []byte {
	t.Helper()
	var out []byte
	sc := bufio.NewScanner(body)
	sc.Buffer(make([]byte, 64*1024), 64<<20)
	event := false
	for sc.Scan() {
		out = append(append(out, sc.Bytes()...), '\n')
		if strings.HasPrefix(sc.Text(), "event:") {
			event = true
		}
		if event && sc.Text() == "" {
			return out
		}
	}
	t.Errorf("GET %s: the stream ended before its first event: %q", path, out)
	return out
}

func signIn(t *testing.T, srv *httptest.Server, username string) *session {
	t.Helper()
	body := fmt.Sprintf(`{"username":%q,"password":%q}`, username, demo.Password)
	resp, err := srv.Client().Post(srv.URL+"/api/v1/login", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct{ Token string }
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || out.Token == "" {
		t.Fatalf("login %s: status %d %v", username, resp.StatusCode, err)
	}
	return &session{srv: srv, client: srv.Client(), token: out.Token}
}

// signInBrowser signs in through the login form and keeps the cookie.
func signInBrowser(t *testing.T, srv *httptest.Server, username string) *session {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	c := srv.Client()
	c.Jar = jar
	resp, err := c.PostForm(srv.URL+"/login", url.Values{"username": {username}, "password": {demo.Password}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	u, _ := url.Parse(srv.URL)
	if len(jar.Cookies(u)) == 0 {
		t.Fatalf("browser login of %s set no cookie (status %d)", username, resp.StatusCode)
	}
	return &session{srv: srv, client: c}
}
