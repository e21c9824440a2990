package outbox

import (
	"testing"
	"time"
)

// TestBackoff: the wait after failures in a row doubles from MinBackoff
// and stays at MaxBackoff.
func TestBackoff(t *testing.T) {
	d := New(nil, nil)
	d.MinBackoff, d.MaxBackoff = 100*time.Millisecond, time.Second
	for n, want := range map[int]time.Duration{1: 100 * time.Millisecond, 2: 200 * time.Millisecond, 4: 800 * time.Millisecond, 5: time.Second, 50: time.Second} {
		if got := d.backoff(n); got != want {
			t.Errorf("backoff after %d failures: %s, want %s", n, got, want)
		}
	}
}

// TestSubscribeTwiceRefused: two subscribers of one name would share a
// durable cursor; the wiring mistake is refused at start.
func TestSubscribeTwiceRefused(t *testing.T) {
	d := New(nil, nil)
	d.Subscribe(Subscriber{Name: "a"})
	defer func() {
		if recover() == nil {
			t.Error("a second subscriber named a was accepted")
		}
	}()
	d.Subscribe(Subscriber{Name: "a"})
}
