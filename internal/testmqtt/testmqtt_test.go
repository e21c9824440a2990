package testmqtt

import (
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestBroker(t *testing.T) {
	b := New(t, Options{AutosaveInterval: 3600})
	dial := func() error {
		c, err := net.DialTimeout("tcp", b.Addr(), time.Second)
		if err == nil {
			c.Close()
		}
		return err
	}
	if err := dial(); err != nil {
		t.Fatalf("the broker does not accept connections: %v", err)
	}
	if !strings.HasPrefix(b.URL(), "mqtt://127.0.0.1:") {
		t.Errorf("URL %q", b.URL())
	}
	conf, err := os.ReadFile(filepath.Join(b.root, "mosquitto.conf"))
	if err != nil || !strings.Contains(string(conf), "persistence_location "+b.DataDir()) || !strings.Contains(string(conf), "autosave_interval 3600") {
		t.Fatalf("configuration: %v\n%s", err, conf)
	}

	// A clean stop saves the persistence file; the port is closed until
	// the restart.
	if err := b.Stop(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(b.DataDir(), "mosquitto.db")); err != nil {
		t.Errorf("no persistence file after a clean stop: %v\n%s", err, b.Log())
	}
	if dial() == nil {
		t.Fatal("the broker still accepts connections after Stop")
	}
	if err := b.Restart(); err != nil {
		t.Fatal(err)
	}
	if err := dial(); err != nil {
		t.Fatalf("after Restart: %v", err)
	}

	// A kill, then a start again on the same port.
	if err := b.Kill(); err != nil {
		t.Fatal(err)
	}
	if dial() == nil {
		t.Fatal("the broker still accepts connections after Kill")
	}
	if err := b.Restart(); err != nil {
		t.Fatal(err)
	}
	if err := dial(); err != nil {
		t.Fatalf("after a kill and Restart: %v", err)
	}
}
