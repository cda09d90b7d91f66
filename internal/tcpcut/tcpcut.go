// Package tcpcut is a TCP forwarder whose connections a test can cut all at once, as a network link
// that goes down, and later let through again. Tests put it between a NATS client or route and its
// server.
package tcpcut

import (
	"io"
	"net"
	"sync"
)

// Forwarder accepts on a loopback port and forwards each connection to a target address.
type Forwarder struct {
	l      net.Listener
	target string
	mu     sync.Mutex
	conns  []net.Conn
	down   bool
}

// New listens on a free loopback port and forwards to target until Close.
func New(target string) (*Forwarder, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	f := &Forwarder{l: l, target: target}
	go f.accept()
	return f, nil
}

func (f *Forwarder) accept() {
	for {
		in, err := f.l.Accept()
		if err != nil {
			return
		}
		out, err := net.Dial("tcp", f.target)
		f.mu.Lock()
		if err != nil || f.down {
			f.mu.Unlock()
			in.Close()
			if out != nil {
				out.Close()
			}
			continue
		}
		f.conns = append(f.conns, in, out)
		f.mu.Unlock()
		go func() { _, _ = io.Copy(out, in); out.Close() }()
		go func() { _, _ = io.Copy(in, out); in.Close() }()
	}
}

// Addr is the address to connect to instead of the target.
func (f *Forwarder) Addr() string { return f.l.Addr().String() }

// Cut closes every forwarded connection and refuses new ones until Restore.
func (f *Forwarder) Cut() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.down = true
	for _, c := range f.conns {
		c.Close()
	}
	f.conns = nil
}

// Restore forwards new connections again.
func (f *Forwarder) Restore() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.down = false
}

// Close stops listening and cuts every connection.
func (f *Forwarder) Close() {
	f.l.Close()
	f.Cut()
}
