package identity

import (
	"bytes"
	"context"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/argon2"
)

// recordingDeriver computes in the process and records the urgency of
// each key asked.
type recordingDeriver struct {
	mu     sync.Mutex
	urgent []bool
}

func (d *recordingDeriver) IDKey(urgent bool, password, salt []byte, time, memory uint32, threads uint8, keyLen uint32) []byte {
	d.mu.Lock()
	d.urgent = append(d.urgent, urgent)
	d.mu.Unlock()
	return argon2.IDKey(password, salt, time, memory, threads, keyLen)
}

// TestKeyDeriverUrgent: Passwords computes its keys with its KeyDeriver;
// a check that found a slot free asks for its key at low priority, one
// that queued asks for it as urgent; without a deriver, keys are computed
// in the process.
func TestKeyDeriverUrgent(t *testing.T) {
	d := &recordingDeriver{}
	pw := Passwords{Keys: d}
	hash, err := pw.Hash("correct horse battery staple")
	if err != nil {
		t.Fatal(err)
	}
	if ok, err := pw.Verify(context.Background(), hash, "correct horse battery staple"); !ok || err != nil {
		t.Fatalf("check with a slot free: %v, %v", ok, err)
	}
	var held []struct{}
	for range cap(hashSlots) {
		held = append(held, <-hashSlots)
	}
	done := make(chan bool, 1)
	go func() {
		ok, _ := pw.Verify(context.Background(), hash, "correct horse battery staple")
		done <- ok
	}()
	for hashWaiting.Load() != 1 {
		time.Sleep(time.Millisecond)
	}
	for _, s := range held {
		hashSlots <- s
	}
	if !<-done {
		t.Fatal("the check that queued failed")
	}
	d.mu.Lock()
	got := d.urgent
	d.mu.Unlock()
	if len(got) != 3 || got[0] || got[1] || !got[2] {
		t.Fatalf("urgency asked %v, want [false false true] (hash, free check, queued check)", got)
	}
	if !CheckPassword(hash, "correct horse battery staple") {
		t.Fatal("the deriver's hash does not check in the process")
	}
	if _, ok := (Passwords{}).keys().(InProcess); !ok {
		t.Fatal("without a deriver, keys are not computed in the process")
	}
	salt := []byte("0123456789abcdef")
	if got := idKey(InProcess{}, []byte("pw"), salt, 1, 64, 1, 16); !bytes.Equal(got, argon2.IDKey([]byte("pw"), salt, 1, 64, 1, 16)) {
		t.Fatal("the in-process key differs")
	}
}
