package web

import (
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"

	"galenix/internal/errs"
)

// The sign-in rate limit: each client address has a bucket of loginBurst
// attempts, refilled at loginPerMinute a minute. At most loginAddresses
// buckets are kept, so that a flood of addresses cannot take the memory.
const (
	loginPerMinute = 10
	loginBurst     = 10
	loginAddresses = 10000
)

// rateLimiter is a token bucket per client address. An attempt takes a
// token before it is checked, so that parallel attempts cannot all pass
// an empty bucket; an attempt that succeeds gives its token back. Guessing
// is what the limit stops: a shift of people signing in one after the other
// from one gateway is never refused, however many they are.
type rateLimiter struct {
	mu      sync.Mutex
	perSec  float64
	burst   float64
	max     int
	now     func() time.Time
	buckets map[string]*bucket
}

type bucket struct {
	tokens float64
	// at is when tokens was reckoned; last, the last attempt.
	at, last time.Time
}

func newRateLimiter(perMinute, burst, max int) *rateLimiter {
	return &rateLimiter{perSec: float64(perMinute) / 60, burst: float64(burst), max: max,
		now: time.Now, buckets: map[string]*bucket{}}
}

// limitKey is the bucket of an address: the address itself for IPv4, its
// /64 network for IPv6, since one machine holds a whole /64.
func limitKey(addr string) string {
	ip := net.ParseIP(addr)
	if ip == nil || ip.To4() != nil {
		return addr
	}
	return ip.Mask(net.CIDRMask(64, 128)).String() + "/64"
}

// take takes a token of the address's bucket. When none is left it
// answers false and how long until one is.
func (l *rateLimiter) take(addr string) (bool, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	key := limitKey(addr)
	b := l.buckets[key]
	if b == nil {
		if len(l.buckets) >= l.max {
			l.sweep(now)
		}
		b = &bucket{tokens: l.burst, at: now}
		l.buckets[key] = b
	}
	l.refill(b, now)
	b.last = now
	if b.tokens < 1 {
		return false, time.Duration((1 - b.tokens) / l.perSec * float64(time.Second))
	}
	b.tokens--
	return true, 0
}

// give gives back the token of an attempt that succeeded.
func (l *rateLimiter) give(addr string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if b := l.buckets[limitKey(addr)]; b != nil {
		l.refill(b, l.now())
		b.tokens = min(l.burst, b.tokens+1)
	}
}

func (l *rateLimiter) refill(b *bucket, now time.Time) {
	if d := now.Sub(b.at); d > 0 {
		b.tokens = min(l.burst, b.tokens+d.Seconds()*l.perSec)
		b.at = now
	}
}

// sweep forgets the buckets that are full again, which hold nothing worth
// keeping; if all still hold something, the one idle longest goes.
func (l *rateLimiter) sweep(now time.Time) {
	var oldest string
	for k, b := range l.buckets {
		l.refill(b, now)
		if b.tokens >= l.burst {
			delete(l.buckets, k)
		} else if oldest == "" || b.last.Before(l.buckets[oldest].last) {
			oldest = k
		}
	}
	if len(l.buckets) >= l.max && oldest != "" {
		delete(l.buckets, oldest)
	}
}

// size is the number of buckets kept.
func (l *rateLimiter) size() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.buckets)
}

// settle gives back the token of a sign-in that failed for another reason
// than refused credentials: a database that could not answer (a restart, a
// failover) is no guess, and must not lock a whole shift's gateway out.
func (l *rateLimiter) settle(addr string, err error) {
	switch errs.CodeOf(err) {
	case errs.Unauthorized, errs.Forbidden, errs.Invalid:
	default:
		l.give(addr)
	}
}

// signinFailed counts a failed sign-in by its reason, and gives its
// attempt back when the credentials were not what failed.
func (s *Server) signinFailed(addr string, err error) {
	s.metrics.signinFailures.WithLabelValues(string(errs.CodeOf(err))).Inc()
	s.loginLimit.settle(addr, err)
}

// errRateLimited refuses a sign-in attempt over the limit.
func errRateLimited() error {
	return errs.E(errs.RateLimited, "web.too_many_sign_attempts")
}

// retryAfter says, in the Retry-After header, how long to wait.
func retryAfter(w http.ResponseWriter, wait time.Duration) {
	w.Header().Set("Retry-After", strconv.Itoa(int(wait/time.Second)+1))
}
