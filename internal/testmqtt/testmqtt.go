// Package testmqtt starts a throwaway mosquitto broker on loopback for
// tests: its own configuration file and persistence directory in a
// temporary directory, never the system's instance.
//
// A test takes the broker away as in production: Stop (a clean stop, the
// broker saves its persistence file), Kill (a crash: what it held in
// memory since its last save is gone) and Restart (start it again on the
// same port and persistence directory).
package testmqtt

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

const notInstalled = "mosquitto not installed (mosquitto not found on the PATH nor in /usr/sbin): skipping; install the mosquitto package"

var (
	binOnce sync.Once
	bin     string // the mosquitto program; empty if not found
)

// Available reports whether the mosquitto broker is installed. It does
// not start anything.
func Available() bool {
	binOnce.Do(func() {
		if p, err := exec.LookPath("mosquitto"); err == nil {
			bin = p
			return
		}
		// Debian installs it in /usr/sbin, not on every user's PATH.
		if _, err := os.Stat("/usr/sbin/mosquitto"); err == nil {
			bin = "/usr/sbin/mosquitto"
		}
	})
	return bin != ""
}

// Need skips the test when mosquitto is not installed, or fails it if the
// CI environment variable is set: CI never passes by skipping.
func Need(t testing.TB) {
	t.Helper()
	if !Available() {
		if os.Getenv("CI") != "" {
			t.Fatal(notInstalled + " (CI is set, so this is an error)")
		}
		t.Skip(notInstalled)
	}
}

// Options say how to start a broker.
type Options struct {
	// AutosaveInterval is how often, in seconds, the broker writes its
	// persistence file (mosquitto's autosave_interval); 0 keeps
	// mosquitto's default, 1800. Between two saves, and but for a clean
	// stop, what the broker holds lives in memory only.
	AutosaveInterval int
	// Settings are more lines of mosquitto.conf.
	Settings []string
}

// Broker is a mosquitto owned by this process, in a temporary directory,
// listening on 127.0.0.1.
type Broker struct {
	root string // temporary directory created by us
	port int
	conf string

	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{} // closed when cmd has exited
}

// New starts a broker for the test and removes it when the test ends.
// Without mosquitto the test is skipped, or fails if CI is set.
func New(t testing.TB, opts Options) *Broker {
	t.Helper()
	Need(t)
	b, err := Start(opts)
	if err != nil {
		t.Fatalf("testmqtt: %v", err)
	}
	t.Cleanup(b.Close)
	return b
}

// Start writes a configuration in a new temporary directory and starts
// the broker on a free port of 127.0.0.1, with persistence in that
// directory. Close it when done.
func Start(opts Options) (*Broker, error) {
	if !Available() {
		return nil, errors.New(notInstalled)
	}
	root, err := os.MkdirTemp("", "testmqtt-")
	if err != nil {
		return nil, err
	}
	b := &Broker{root: root, conf: filepath.Join(root, "mosquitto.conf")}
	if b.port, err = freePort(); err != nil {
		b.Close()
		return nil, fmt.Errorf("pick port: %v", err)
	}
	if err := os.Mkdir(b.DataDir(), 0o700); err != nil {
		b.Close()
		return nil, err
	}
	// As root, mosquitto drops to its own user unless told to stay: it
	// stays the test's user, who owns the directory.
	name := "root"
	if u, err := user.Current(); err == nil {
		name = u.Username
	}
	conf := []string{
		fmt.Sprintf("listener %d 127.0.0.1", b.port),
		"allow_anonymous true",
		"persistence true",
		"persistence_location " + b.DataDir() + "/",
		"persistence_file mosquitto.db",
		// Sessions queue what arrives while their client is away: a
		// 30-second outage at a few hundred readings a second is more
		// than mosquitto's default of 1,000.
		"max_queued_messages 1000000",
		"user " + name,
		"log_dest file " + b.logPath(),
		"log_type error",
		"log_type warning",
		"log_type notice",
		"log_type information",
		"connection_messages true",
	}
	if opts.AutosaveInterval > 0 {
		conf = append(conf, fmt.Sprintf("autosave_interval %d", opts.AutosaveInterval))
	}
	conf = append(conf, opts.Settings...)
	if err := os.WriteFile(b.conf, []byte(strings.Join(conf, "\n")+"\n"), 0o600); err != nil {
		b.Close()
		return nil, err
	}
	if err := b.start(); err != nil {
		b.Close()
		return nil, err
	}
	return b, nil
}

// URL is the broker's address as an MQTT client takes it.
func (b *Broker) URL() string { return fmt.Sprintf("mqtt://127.0.0.1:%d", b.port) }

// Addr is the broker's HOST:PORT.
func (b *Broker) Addr() string { return fmt.Sprintf("127.0.0.1:%d", b.port) }

// DataDir is the broker's persistence directory.
func (b *Broker) DataDir() string { return filepath.Join(b.root, "data") }

func (b *Broker) logPath() string { return filepath.Join(b.root, "mosquitto.log") }

// Log returns the broker's log so far.
func (b *Broker) Log() string {
	out, _ := os.ReadFile(b.logPath())
	return string(out)
}

// start starts the broker and waits until it accepts connections.
func (b *Broker) start() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.cmd != nil {
		return errors.New("the broker is running already")
	}
	cmd := exec.Command(bin, "-c", b.conf)
	cmd.Dir = b.root
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	var stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stderr, &stderr
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("starting mosquitto: %v", err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	deadline := time.Now().Add(15 * time.Second)
	for {
		if b.answers() == nil {
			break
		}
		select {
		case <-done:
			return fmt.Errorf("mosquitto exited at start: %s\n%s\nlog tail:\n%s", cmd.ProcessState, stderr.String(), tail(b.Log()))
		default:
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			<-done
			return fmt.Errorf("mosquitto did not listen on %s within 15 s\nlog tail:\n%s", b.Addr(), tail(b.Log()))
		}
		time.Sleep(10 * time.Millisecond) // polling the port, with a deadline
	}
	b.cmd, b.done = cmd, done
	return nil
}

// answers connects to the broker as an MQTT client and waits for its
// answer. mosquitto listens before it installs its signal handlers and
// enters its loop: a broker that accepts a connection may still die of a
// SIGTERM without saving its persistence file, one that answers a CONNECT
// is in its loop and stops cleanly.
func (b *Broker) answers() error {
	c, err := net.DialTimeout("tcp", b.Addr(), time.Second)
	if err != nil {
		return err
	}
	defer c.Close()
	if err := c.SetDeadline(time.Now().Add(time.Second)); err != nil {
		return err
	}
	// CONNECT, MQTT 3.1.1, a clean session, a keep-alive of 60 s and
	// an empty client identifier (the broker names the client).
	connect := []byte{0x10, 12, 0, 4, 'M', 'Q', 'T', 'T', 4, 0x02, 0, 60, 0, 0}
	if _, err := c.Write(connect); err != nil {
		return err
	}
	ack := make([]byte, 4)
	if _, err := io.ReadFull(c, ack); err != nil {
		return err
	}
	if ack[0] != 0x20 {
		return fmt.Errorf("mosquitto answered a CONNECT with % x", ack)
	}
	_, err = c.Write([]byte{0xe0, 0}) // DISCONNECT
	return err
}

// stop signals the running broker and waits for it to exit.
func (b *Broker) stop(sig syscall.Signal) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.cmd == nil {
		return nil
	}
	if err := b.cmd.Process.Signal(sig); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return err
	}
	select {
	case <-b.done:
	case <-time.After(30 * time.Second):
		b.cmd.Process.Kill()
		<-b.done
		b.cmd = nil
		return errors.New("mosquitto did not stop within 30 s: killed")
	}
	b.cmd = nil
	return nil
}

// Stop stops the broker cleanly: it writes its persistence file, as on a
// planned restart. Restart starts it again.
func (b *Broker) Stop() error { return b.stop(syscall.SIGTERM) }

// Kill kills the broker at once, as a crash or a power cut would: what it
// received since its last save of the persistence file is lost, whether or
// not it acknowledged it. Restart starts it again.
func (b *Broker) Kill() error { return b.stop(syscall.SIGKILL) }

// Restart stops the broker cleanly if it runs, and starts it again on the
// same port and persistence directory.
func (b *Broker) Restart() error {
	if err := b.Stop(); err != nil {
		return err
	}
	return b.start()
}

// Close stops the broker and removes its temporary directory.
func (b *Broker) Close() {
	b.Kill()
	os.RemoveAll(b.root)
}

func tail(s string) string { return s[max(0, len(s)-4096):] }

// freePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
