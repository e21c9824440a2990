package probe

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"galenix/internal/infra"
)

// TestRun: each kind of check against a real listener on loopback: up,
// refused once closed, an HTTP 5xx down, a TLS certificate read for its
// end (up, degraded within warn_days, down once ended).
func TestRun(t *testing.T) {
	ctx := context.Background()
	now := time.Now()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	tcp := infra.Check{Kind: infra.CheckTCP, Target: ln.Addr().String(), Every: 5}
	if r := Run(ctx, tcp, now); r.State != infra.StateUp || r.Detail.Key != "stored.infra.tcp_up" {
		t.Errorf("tcp up: %+v", r)
	}
	ln.Close()
	if r := Run(ctx, tcp, now); r.State != infra.StateDown || r.Detail.Key != "stored.infra.refused" {
		t.Errorf("tcp refused: %+v", r)
	}

	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/broken" {
			w.WriteHeader(http.StatusBadGateway)
			return
		}
		http.Redirect(w, r, "/elsewhere", http.StatusFound)
	}))
	defer srv.Close()
	if r := Run(ctx, infra.Check{Kind: infra.CheckHTTP, Target: srv.URL + "/", Every: 5}, now); r.State != infra.StateUp || r.Detail.Args[0].Str != "302" {
		t.Errorf("http redirect: %+v", r)
	}
	if r := Run(ctx, infra.Check{Kind: infra.CheckHTTP, Target: srv.URL + "/broken", Every: 5}, now); r.State != infra.StateDown || r.Detail.Args[0].Str != "502" {
		t.Errorf("http 502: %+v", r)
	}

	tlsSrv := httptest.NewTLSServer(http.NotFoundHandler())
	defer tlsSrv.Close()
	end := tlsSrv.Certificate().NotAfter
	host := tlsSrv.Listener.Addr().String()
	tls := infra.Check{Kind: infra.CheckTLS, Target: host, Every: 5, WarnDays: 21}
	for _, c := range []struct {
		at   time.Time
		want infra.State
		key  string
	}{
		{end.AddDate(0, 0, -60), infra.StateUp, "stored.infra.tls_until"},
		{end.AddDate(0, 0, -3), infra.StateDegraded, "stored.infra.tls_ending"},
		{end.Add(time.Hour), infra.StateDown, "stored.infra.tls_ended"},
	} {
		if r := Run(ctx, tls, c.at); r.State != c.want || r.Detail.Key != c.key || r.Detail.Args[0].Day != end.UTC().Format(time.DateOnly) {
			t.Errorf("tls at %s: %+v, want %s", c.at, r, c.want)
		}
	}
}
