package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"
)

// session is a signed-in account: its token serves as bearer token for
// the API and as session cookie for the pages.
type session struct {
	username, password string
	accountID          string
	token              string
	// device is the kind of session to open ("shopfloor" for a line's
	// tablet); empty: the API's default.
	device string
}

// client sends the benchmark's requests to one server and records them.
type client struct {
	base string
	http *http.Client
	rec  *recorder
	// serverPID is galenix's process, for the CPU it uses.
	serverPID int
}

func newClient(base string, timeout time.Duration) *client {
	tr := &http.Transport{MaxIdleConns: 2000, MaxIdleConnsPerHost: 2000, IdleConnTimeout: 90 * time.Second}
	// A page that sends to the sign-in page has refused the session: the
	// redirect is the answer, not followed.
	noRedirect := func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &client{base: base, http: &http.Client{Transport: tr, Timeout: timeout, CheckRedirect: noRedirect}}
}

// answer is a request's outcome.
type answer struct {
	status int
	// shed: refused at capacity (503 with Retry-After).
	shed bool
	body []byte
	err  error
}

func (a answer) ok() bool { return a.err == nil && a.status >= 200 && a.status <= 299 }

// failure describes a request that did not succeed, for an error message.
func (a answer) failure() string {
	if a.err != nil {
		return a.err.Error()
	}
	return fmt.Sprintf("status %d: %s", a.status, clip(string(a.body), 300))
}

// send sends one request as the session (none: anonymous) and reads the
// whole answer. page sends the token as the session cookie, as a browser
// does, instead of a bearer token; discard reads the body without keeping
// it.
func (c *client) send(ctx context.Context, s *session, method, path string, body any, page, discard bool) answer {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return answer{err: err}
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		return answer{err: err}
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if s != nil && s.token != "" {
		if page {
			req.AddCookie(&http.Cookie{Name: "galenix_session", Value: s.token})
		} else {
			req.Header.Set("Authorization", "Bearer "+s.token)
		}
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return answer{err: err}
	}
	defer resp.Body.Close()
	a := answer{status: resp.StatusCode, shed: resp.StatusCode == http.StatusServiceUnavailable && resp.Header.Get("Retry-After") != ""}
	ok := a.ok()
	if discard && ok {
		_, a.err = io.Copy(io.Discard, resp.Body)
	} else {
		a.body, a.err = io.ReadAll(resp.Body)
	}
	return a
}

// timed sends a request of the kind, scheduled at sched (the latency counts
// from then, so that a late start is not hidden), and records it.
func (c *client) timed(ctx context.Context, kind string, sched time.Time, s *session, method, path string, body any, page, discard bool) answer {
	a := c.send(ctx, s, method, path, body, page, discard)
	if ctx.Err() != nil && a.err != nil {
		// The run ended while the request was in flight: not the server's
		// failure.
		return a
	}
	c.rec.add(kind, sched, time.Now(), a.status, a.shed, a.err, method+" "+path, a.body)
	return a
}

// call sends a setup request (not measured) and decodes its answer into
// out, if not nil; anything but a 2xx is an error.
func (c *client) call(ctx context.Context, s *session, method, path string, body, out any) error {
	a := c.send(ctx, s, method, path, body, false, false)
	if !a.ok() {
		return fmt.Errorf("%s %s: %s", method, path, a.failure())
	}
	if out != nil {
		if err := json.Unmarshal(a.body, out); err != nil {
			return fmt.Errorf("%s %s: decoding the answer: %w", method, path, err)
		}
	}
	return nil
}

// items is the envelope of every list of the API.
type items[T any] struct {
	Items []T `json:"items"`
}

// login signs the session's account in and keeps its token.
func (c *client) login(ctx context.Context, s *session) error {
	var out struct {
		Token string `json:"token"`
	}
	body := map[string]string{"username": s.username, "password": s.password}
	if s.device != "" {
		body["device"] = s.device
	}
	err := c.call(ctx, nil, "POST", "/api/v1/login", body, &out)
	if err != nil {
		return fmt.Errorf("signing in as %s: %w", s.username, err)
	}
	s.token = out.Token
	return nil
}
