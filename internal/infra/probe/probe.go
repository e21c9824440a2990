// Package probe runs the infrastructure's supervision checks (package
// infra): a TCP connection, an HTTP request, a TLS handshake reading the
// certificate's end. None needs ping's raw sockets.
package probe

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"net/http"
	"strconv"
	"syscall"
	"time"

	"galenix/internal/infra"
	"galenix/internal/text"
)

// Run runs one check and says what it found, within the check's timeout.
func Run(ctx context.Context, c infra.Check, now time.Time) infra.Result {
	ctx, cancel := context.WithTimeout(ctx, c.Timeout())
	defer cancel()
	switch c.Kind {
	case infra.CheckHTTP:
		return httpCheck(ctx, c.Target)
	case infra.CheckTLS:
		return tlsCheck(ctx, c.Target, c.WarnDays, now)
	}
	d := net.Dialer{}
	conn, err := d.DialContext(ctx, "tcp", c.Target)
	if err != nil {
		return down(err)
	}
	conn.Close()
	return infra.Result{State: infra.StateUp, Detail: text.Code("stored.infra.tcp_up")}
}

// down is a failed check's result, naming the failure in words.
func down(err error) infra.Result {
	var ne net.Error
	switch {
	case errors.Is(err, context.DeadlineExceeded) || errors.As(err, &ne) && ne.Timeout():
		return infra.Result{State: infra.StateDown, Detail: text.Code("stored.infra.timeout")}
	case errors.Is(err, syscall.ECONNREFUSED):
		return infra.Result{State: infra.StateDown, Detail: text.Code("stored.infra.refused")}
	}
	return infra.Result{State: infra.StateDown, Detail: text.Code("stored.infra.unreachable", text.Str(short(err.Error())))}
}

// short bounds an error's text kept in a result.
func short(s string) string {
	if len(s) > 200 {
		return s[:200]
	}
	return s
}

// client is the HTTP checks' client: it follows no redirect (a 3xx answer
// is an answer) and keeps no connection.
var client = &http.Client{
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	Transport:     &http.Transport{DisableKeepAlives: true, Proxy: nil},
}

func httpCheck(ctx context.Context, url string) infra.Result {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return down(err)
	}
	req.Header.Set("User-Agent", "galenix-supervision")
	resp, err := client.Do(req)
	if err != nil {
		return down(err)
	}
	resp.Body.Close()
	code := text.Str(strconv.Itoa(resp.StatusCode))
	if resp.StatusCode >= 500 {
		return infra.Result{State: infra.StateDown, Detail: text.Code("stored.infra.http_status", code)}
	}
	return infra.Result{State: infra.StateUp, Detail: text.Code("stored.infra.http_status", code)}
}

// tlsCheck shakes hands with the target and reads its certificate's end:
// ended, it is down; ending within warnDays, degraded. The certificate is
// read, not trusted: a site's internal authority is not this machine's.
func tlsCheck(ctx context.Context, target string, warnDays int, now time.Time) infra.Result {
	d := tls.Dialer{Config: &tls.Config{InsecureSkipVerify: true}} //nolint:gosec // reads the end date only
	conn, err := d.DialContext(ctx, "tcp", target)
	if err != nil {
		return down(err)
	}
	defer conn.Close()
	certs := conn.(*tls.Conn).ConnectionState().PeerCertificates
	if len(certs) == 0 {
		return infra.Result{State: infra.StateDown, Detail: text.Code("stored.infra.tls_none")}
	}
	end := certs[0].NotAfter
	day := text.Arg{Day: end.UTC().Format(time.DateOnly)}
	switch {
	case !now.Before(end):
		return infra.Result{State: infra.StateDown, Detail: text.Code("stored.infra.tls_ended", day)}
	case end.Sub(now) < time.Duration(warnDays)*24*time.Hour:
		return infra.Result{State: infra.StateDegraded, Detail: text.Code("stored.infra.tls_ending", day)}
	}
	return infra.Result{State: infra.StateUp, Detail: text.Code("stored.infra.tls_until", day)}
}
