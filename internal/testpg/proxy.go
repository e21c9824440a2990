package testpg

import (
	"io"
	"net"
	"net/url"
	"sync"
	"testing"
)

// Proxy stands between galenix and a test database on loopback, so that a
// test can take the database away without stopping the shared server: Down
// cuts every connection and refuses new ones (a crash, a failover), Freeze
// keeps connections open but lets nothing through (a frozen server), Up
// brings it back.
type Proxy struct {
	ln     net.Listener
	target string
	mu     sync.Mutex
	state  proxyState
	conns  map[net.Conn]struct{}
	thaw   chan struct{}
}

type proxyState int

const (
	proxyUp proxyState = iota
	proxyDown
	proxyFrozen
)

// NewProxy starts a proxy to the database of dsn and returns the DSN that
// goes through it; the proxy stops with the test.
func NewProxy(t testing.TB, dsn string) (*Proxy, string) {
	t.Helper()
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &Proxy{ln: ln, target: u.Host, conns: map[net.Conn]struct{}{}, thaw: make(chan struct{})}
	go p.serve()
	t.Cleanup(func() { ln.Close(); p.Down() })
	u.Host = ln.Addr().String()
	return p, u.String()
}

func (p *Proxy) serve() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		state, thaw := p.state, p.thaw
		if state == proxyDown {
			p.mu.Unlock()
			c.Close()
			continue
		}
		p.conns[c] = struct{}{}
		p.mu.Unlock()
		go p.pipe(c, state == proxyFrozen, thaw)
	}
}

func (p *Proxy) pipe(c net.Conn, frozen bool, thaw chan struct{}) {
	if frozen {
		<-thaw
	}
	s, err := net.Dial("tcp", p.target)
	if err != nil {
		c.Close()
		return
	}
	p.mu.Lock()
	p.conns[s] = struct{}{}
	p.mu.Unlock()
	go func() { p.copy(s, c); s.Close() }()
	p.copy(c, s)
	c.Close()
}

// copy moves bytes from src to dst, holding them while the proxy is frozen.
func (p *Proxy) copy(dst, src net.Conn) {
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			p.mu.Lock()
			thaw, frozen := p.thaw, p.state == proxyFrozen
			p.mu.Unlock()
			if frozen {
				<-thaw
			}
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			if err != io.EOF {
				return
			}
			return
		}
	}
}

// Down cuts every connection through the proxy and refuses new ones.
func (p *Proxy) Down() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.state = proxyDown
	for c := range p.conns {
		c.Close()
	}
	p.conns = map[net.Conn]struct{}{}
	p.release()
}

// Freeze lets nothing through while keeping connections open.
func (p *Proxy) Freeze() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.state = proxyFrozen
}

// Up lets everything through again.
func (p *Proxy) Up() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.state = proxyUp
	p.release()
}

// release wakes what a freeze held; the caller holds mu.
func (p *Proxy) release() {
	close(p.thaw)
	p.thaw = make(chan struct{})
}
