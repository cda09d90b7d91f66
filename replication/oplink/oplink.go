// Package oplink carries replication ops and their acknowledgements on direct TCP connections
// between members, beside NATS: a write to an in-sync replica then costs one trip between the two
// processes instead of two trips through a NATS server and the goroutine hand-offs of two NATS
// clients (BENCHMARKS.md). NATS stays the control plane and the fallback: a member sends an op here
// when a link is up and through NATS otherwise, and the protocol does not depend on which one
// carried it (ops carry their epoch and position, and a gap is acknowledged as one).
//
// Trust. A link is only as open as the directory: the listening member publishes its address, a
// random key and, with TLS, its certificate's fingerprint in its lease record, which only clients
// that NATS lets read the directory can see. The dialer proves it knows the key (an HMAC of a fresh
// nonce and its own name); a link with TLS pins the listener's certificate to the published
// fingerprint. So a client that NATS keeps out cannot reach the ops either.
//
// Wire format, after the handshake (and inside TLS when on): frames of a 4-byte little-endian
// length and that many bytes, in both directions. The dialer sends ops (or the pieces of a replica
// copy, or forwarded calls one at a time, on links of their own); the listener answers each with
// exactly one frame (its acknowledgement or reply, possibly empty: a reply larger than MaxReply is
// sent empty), in the order they came.
//
// Handshake: the listener sends magic (6 bytes) and a 32-byte nonce; the dialer sends its name
// (2-byte length, then the name) and HMAC-SHA256(key, magic || nonce || name); the listener answers
// one byte 1 and the link is up, or closes the connection.
package oplink

import (
	"bufio"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

const (
	magic = "CLKL01"
	// MaxFrame bounds one frame; an op is bounded by the checkpoint's limits, far below.
	MaxFrame = 1 << 30
	// handshakeTimeout bounds the handshake on both sides.
	handshakeTimeout = 5 * time.Second
	maxName          = 256
	// replyTimeout bounds a reply's write: a dialer that stopped reading loses its link.
	replyTimeout = 5 * time.Second
	// maxPending bounds the connections in their handshake: one more is closed at once. Each costs
	// a goroutine and a few hundred bytes (a TLS handshake, a few KiB) for at most handshakeTimeout.
	maxPending = 64
	// MaxReply bounds a reply that a dialer reads (an acknowledgement: far less; a listener that
	// would answer more answers nothing instead).
	MaxReply = 4 << 20
	// readStep is the most a frame's buffer grows ahead of the bytes that came: a length prefix
	// alone does not make the listener allocate the length.
	readStep = 1 << 20
)

// ErrRefused is a handshake the listener did not accept (wrong key or certificate).
var ErrRefused = errors.New("oplink: link refused")

// Address is what a dialer needs to reach a listener: the three are published in the listener's
// lease record.
type Address struct {
	Addr        string // host:port
	Key         string // hex of the 32-byte key
	Fingerprint string // hex SHA-256 of the listener's certificate; empty: no TLS
}

// Handler takes one frame from the member named from and returns the reply (nil, or one larger than
// MaxReply: an empty one).
// Frames of one link are handled one at a time, in order, and every frame gets exactly one reply:
// the dialer counts on it. Each frame is a buffer of its own, which the handler may keep.
type Handler func(from string, frame []byte) []byte

// Listener accepts links from other members.
type Listener struct {
	ln      net.Listener
	key     []byte
	tls     *tls.Config // nil: plain TCP
	fp      string
	handler Handler
	log     *slog.Logger

	mu      sync.Mutex
	conns   map[net.Conn]struct{}
	pending int // connections in their handshake
	closed  bool
	wg      sync.WaitGroup
}

// Listen listens on addr (host:port; port 0 picks one) and hands every frame of every accepted link
// to handler. With useTLS the links are TLS with a fresh self-signed certificate.
func Listen(addr string, useTLS bool, handler Handler, log *slog.Logger) (*Listener, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	l := &Listener{key: make([]byte, 32), handler: handler, log: log, conns: make(map[net.Conn]struct{})}
	if _, err := rand.Read(l.key); err != nil {
		return nil, err
	}
	if useTLS {
		cert, fp, err := selfSigned()
		if err != nil {
			return nil, fmt.Errorf("oplink: certificate: %w", err)
		}
		l.tls = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS13}
		l.fp = fp
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("oplink: listen on %s: %w", addr, err)
	}
	l.ln = ln
	l.wg.Add(1)
	go l.accept()
	return l, nil
}

// Address is what the member publishes; host replaces the listening host (which may be 0.0.0.0).
func (l *Listener) Address(host string) Address {
	listening, port, _ := net.SplitHostPort(l.ln.Addr().String())
	if host == "" {
		host = listening
	}
	return Address{Addr: net.JoinHostPort(host, port), Key: hex.EncodeToString(l.key), Fingerprint: l.fp}
}

// Close stops accepting, closes every link and waits for their handlers to return.
func (l *Listener) Close() {
	l.mu.Lock()
	l.closed = true
	for c := range l.conns {
		_ = c.Close()
	}
	l.mu.Unlock()
	_ = l.ln.Close()
	l.wg.Wait()
}

func (l *Listener) accept() {
	defer l.wg.Done()
	for {
		c, err := l.ln.Accept()
		if err != nil {
			return
		}
		l.mu.Lock()
		if l.closed {
			l.mu.Unlock()
			_ = c.Close()
			return
		}
		if l.pending >= maxPending {
			l.mu.Unlock()
			l.log.Debug("link refused: too many handshakes under way", "from", c.RemoteAddr().String())
			_ = c.Close()
			continue
		}
		l.pending++
		l.conns[c] = struct{}{}
		l.wg.Add(1)
		l.mu.Unlock()
		go l.serve(c)
	}
}

func (l *Listener) serve(raw net.Conn) {
	defer l.wg.Done()
	defer func() {
		l.mu.Lock()
		delete(l.conns, raw)
		l.mu.Unlock()
		_ = raw.Close()
	}()
	noDelay(raw)
	from, c, err := l.handshake(raw)
	l.mu.Lock()
	l.pending--
	l.mu.Unlock()
	if err != nil {
		l.log.Warn("link refused", "from", raw.RemoteAddr().String(), "err", err)
		return
	}
	_ = c.SetDeadline(time.Time{})
	w := &writer{c: c}
	r := bufio.NewReaderSize(c, 64<<10)
	for {
		frame, err := readFrame(r)
		if err != nil {
			return
		}
		reply := l.handler(from, frame)
		if len(reply) > MaxReply {
			reply = nil // the dialer would drop the link for it
		}
		if err := w.send(reply, replyTimeout); err != nil {
			return
		}
	}
}

// handshake runs TLS (if on) and admit, within handshakeTimeout, and returns the dialer's name and
// the connection to use.
func (l *Listener) handshake(raw net.Conn) (string, net.Conn, error) {
	c := raw
	_ = c.SetDeadline(time.Now().Add(handshakeTimeout))
	if l.tls != nil {
		tc := tls.Server(raw, l.tls)
		if err := tc.Handshake(); err != nil {
			return "", nil, fmt.Errorf("TLS handshake: %w", err)
		}
		c = tc
	}
	from, err := l.admit(c)
	return from, c, err
}

// admit runs the listener's side of the handshake and returns the dialer's name.
func (l *Listener) admit(c net.Conn) (string, error) {
	hello := make([]byte, len(magic)+32)
	copy(hello, magic)
	if _, err := rand.Read(hello[len(magic):]); err != nil {
		return "", err
	}
	if _, err := c.Write(hello); err != nil {
		return "", err
	}
	var n [2]byte
	if _, err := io.ReadFull(c, n[:]); err != nil {
		return "", err
	}
	size := int(binary.LittleEndian.Uint16(n[:]))
	if size == 0 || size > maxName {
		return "", fmt.Errorf("name of %d bytes", size)
	}
	rest := make([]byte, size+sha256.Size)
	if _, err := io.ReadFull(c, rest); err != nil {
		return "", err
	}
	name, mac := rest[:size], rest[size:]
	if !hmac.Equal(mac, proof(l.key, hello, name)) {
		return "", errors.New("wrong key")
	}
	if _, err := c.Write([]byte{1}); err != nil {
		return "", err
	}
	return string(name), nil
}

func proof(key, hello, name []byte) []byte {
	h := hmac.New(sha256.New, key)
	h.Write(hello)
	h.Write(name)
	return h.Sum(nil)
}

// Link is the dialer's end. Ops go out with Send; the listener answers every op with exactly one
// reply, in order. Replies are read by whoever holds the link's read role: a writer that waits for
// its acknowledgement reads it on its own goroutine (Collect), which spares the wake of a reader
// goroutine and the hand-off from it to the writer (most of a round trip's cost on a quiet host:
// BENCHMARKS.md); the link's reader goroutine reads the replies nobody collects (Nudge).
type Link struct {
	c       net.Conn
	raw     net.Conn // the TCP connection under c (Alive looks at it)
	out     *outbox  // the write side of the TCP connection, under TLS if any
	w       *writer
	onReply func([]byte)
	onClose func(error)
	owed    atomic.Int64  // ops sent whose reply was not read yet
	nudge   chan struct{} // wakes the reader goroutine
	closing chan struct{} // closed by Close
	done    chan struct{} // closed when the link is down
	once    sync.Once
	closeMu sync.Once

	// The read role: whoever holds reading reads replies, and owns what follows.
	reading  sync.Mutex
	in       []byte // bytes read: in[start:end] is not consumed yet (a frame may be partly read)
	start    int
	end      int
	deadline time.Time // the connection's read deadline
}

// Dial connects to a listener as the member named from. onReply gets every reply the listener sends
// back, one at a time, on the goroutine that reads it (frame is only valid during the call); onClose
// runs once when the link is down, whatever the reason, on the goroutine that found it down.
func Dial(a Address, from string, timeout time.Duration, onReply func([]byte), onClose func(error)) (*Link, error) {
	key, err := hex.DecodeString(a.Key)
	if err != nil || len(key) != 32 {
		return nil, fmt.Errorf("oplink: bad key for %s", a.Addr)
	}
	if len(from) == 0 || len(from) > maxName {
		return nil, fmt.Errorf("oplink: bad name %q", from)
	}
	raw, err := net.DialTimeout("tcp", a.Addr, timeout)
	if err != nil {
		return nil, fmt.Errorf("oplink: %w", err)
	}
	noDelay(raw)
	out := newOutbox(raw) // blocking until the handshake is done
	var c net.Conn = out
	_ = c.SetDeadline(time.Now().Add(timeout))
	if a.Fingerprint != "" {
		want := a.Fingerprint
		tc := tls.Client(out, &tls.Config{
			MinVersion: tls.VersionTLS13,
			// The certificate is self-signed: it is trusted because its fingerprint is the one the
			// listener published in the directory, not because of a CA.
			InsecureSkipVerify: true,
			VerifyPeerCertificate: func(certs [][]byte, _ [][]*x509.Certificate) error {
				if len(certs) == 0 || fingerprint(certs[0]) != want {
					return fmt.Errorf("%w: certificate is not the published one", ErrRefused)
				}
				return nil
			},
		})
		if err := tc.Handshake(); err != nil {
			_ = raw.Close()
			return nil, fmt.Errorf("oplink: TLS with %s: %w", a.Addr, err)
		}
		c = tc
	}
	if err := join(c, key, from); err != nil {
		_ = raw.Close()
		return nil, err
	}
	_ = c.SetDeadline(time.Time{})
	l := &Link{c: c, raw: raw, out: out, w: &writer{c: c}, onReply: onReply, onClose: onClose, in: make([]byte, 4096),
		nudge: make(chan struct{}, 1), closing: make(chan struct{}), done: make(chan struct{})}
	out.start(func(error) { l.Close() })
	go l.readReplies()
	return l, nil
}

// join runs the dialer's side of the handshake.
func join(c net.Conn, key []byte, from string) error {
	hello := make([]byte, len(magic)+32)
	if _, err := io.ReadFull(c, hello); err != nil {
		return fmt.Errorf("oplink: handshake: %w", err)
	}
	if string(hello[:len(magic)]) != magic {
		return fmt.Errorf("%w: not a link listener", ErrRefused)
	}
	msg := binary.LittleEndian.AppendUint16(nil, uint16(len(from)))
	msg = append(msg, from...)
	msg = append(msg, proof(key, hello, []byte(from))...)
	if _, err := c.Write(msg); err != nil {
		return fmt.Errorf("oplink: handshake: %w", err)
	}
	var ok [1]byte
	if _, err := io.ReadFull(c, ok[:]); err != nil || ok[0] != 1 {
		return fmt.Errorf("%w (wrong key?)", ErrRefused)
	}
	return nil
}

// Send sends one frame and never waits for the peer: what the kernel takes at once is written on
// the calling goroutine, the rest is queued for the link's writer goroutine (outbox). It fails if the
// link is down or the queue is full (QueueLimit); a frame the peer does not take within timeout
// once queued closes the link, since a partly written frame cannot be taken back. The reply is read
// by the next Collect, or by the reader goroutine after a Nudge: a sender that will not collect
// nudges.
func (l *Link) Send(frame []byte, timeout time.Duration) error {
	select {
	case <-l.done:
		return errDown
	default:
	}
	l.out.setStall(timeout)
	l.owed.Add(1) // before the write: the reply may be read as soon as the frame is out
	if err := l.w.send(frame, 0); err != nil {
		l.Close()
		return err
	}
	return nil
}

// KeepBuffers makes the link keep the buffers of its send queue, up to n bytes each, from one burst
// to the next (by default those over 1 MiB go back to the heap): for a link that sends frames of
// megabytes back to back (a replica copy), each of which would otherwise grow a new buffer from
// nothing, copying what it holds at every doubling. The memory stays with the link until it closes.
func (l *Link) KeepBuffers(n int) { l.out.keepBuffers(n) }

// Nudge makes the reader goroutine read the replies owed, unless a collector is reading them.
func (l *Link) Nudge() {
	if l.owed.Load() > 0 {
		poke(l.nudge)
	}
}

// Collect reads replies on the calling goroutine, handing each to onReply, until done reports true,
// no reply is owed, or nothing came for wait; it does nothing if another goroutine is reading (that
// one hands the replies to onReply). It reports whether it read a reply. Replies still owed when it
// stops are left to the reader goroutine.
func (l *Link) Collect(done func() bool, wait time.Duration) bool {
	if l.owed.Load() == 0 || !l.reading.TryLock() {
		return false
	}
	l.armLocked(wait)
	read := false
	for l.owed.Load() > 0 && !done() && l.readLocked() {
		read = true
	}
	l.reading.Unlock()
	l.Nudge()
	return read
}

// Next reads the next reply on the calling goroutine and returns it (valid until the next read; empty
// when the listener had nothing to say), or nil if none came within wait. It is for a link whose
// sender reads every reply itself, one after the other: unlike Collect it leaves nothing to the
// reader goroutine.
func (l *Link) Next(wait time.Duration) ([]byte, error) {
	l.reading.Lock()
	defer l.reading.Unlock()
	if l.owed.Load() == 0 {
		return nil, errors.New("oplink: no reply is owed")
	}
	l.armLocked(wait)
	frame, err := l.nextLocked()
	if err != nil {
		if errors.Is(err, os.ErrDeadlineExceeded) {
			return nil, nil
		}
		l.down(err)
		return nil, err
	}
	l.owed.Add(-1)
	return frame, nil
}

// Close closes the link; onClose runs (on the reader goroutine, unless a reader finds it first).
func (l *Link) Close() {
	l.closeMu.Do(func() {
		_ = l.c.Close()
		close(l.closing)
	})
}

// Done is closed when the link is down.
func (l *Link) Done() <-chan struct{} { return l.done }

// Alive reports whether the link is up. A link that nobody reads (no reply owed: an idle call link)
// does not learn that its peer closed it until it reads; Alive looks at the socket, without taking
// anything from it or waiting, and finds the end that the peer's kernel sent when its process died.
func (l *Link) Alive() bool {
	select {
	case <-l.done:
		return false
	default:
	}
	if peerClosed(l.raw) {
		l.down(io.EOF)
		return false
	}
	return true
}

// peerClosed reports whether the peer of a TCP connection closed or reset it: a peek at the socket
// that does not wait (no deadline applies to it).
func peerClosed(c net.Conn) bool {
	sc, ok := c.(syscall.Conn)
	if !ok {
		return false
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return false
	}
	closed := false
	_ = rc.Control(func(fd uintptr) {
		var b [1]byte
		n, _, err := syscall.Recvfrom(int(fd), b[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
		closed = (n == 0 && err == nil) || (err != nil && err != syscall.EAGAIN && err != syscall.EINTR)
	})
	return closed
}

var errDown = errors.New("oplink: link is down")

// readReplies is the reader goroutine: it reads the replies nobody collects, and reports the end.
func (l *Link) readReplies() {
	for {
		select {
		case <-l.nudge:
		case <-l.closing:
			l.down(net.ErrClosed)
			return
		case <-l.done:
			return
		}
		// Loop until no reply is owed or a collector holds the role (it nudges when it stops).
		for l.owed.Load() > 0 && l.reading.TryLock() {
			l.armLocked(readWindow)
			for l.owed.Load() > 0 && l.readLocked() {
			}
			l.reading.Unlock()
			select {
			case <-l.done:
				return
			default:
			}
		}
	}
}

// readWindow is how long the reader goroutine waits for a reply before it looks again (a peer that
// answers nothing is found by the sender's ack timeout, not here).
const readWindow = time.Second

// armLocked makes the read deadline at most wait away. It is moved only when half used, since
// re-arming a runtime timer at every reply can wake the thread that waits for the network.
func (l *Link) armLocked(wait time.Duration) {
	now := time.Now()
	if left := l.deadline.Sub(now); left < wait/2 || left > wait {
		l.deadline = now.Add(wait)
		_ = l.c.SetReadDeadline(l.deadline)
	}
}

// readLocked reads one reply and hands it to onReply. It returns false when none came before the
// deadline or the link is down (which it reports).
func (l *Link) readLocked() bool {
	frame, err := l.nextLocked()
	if err != nil {
		if !errors.Is(err, os.ErrDeadlineExceeded) {
			l.down(err)
		}
		return false
	}
	l.owed.Add(-1)
	if len(frame) > 0 {
		l.onReply(frame)
	}
	return true
}

// nextLocked returns the next frame read from the connection, valid until the next call. A read cut
// short by the deadline keeps what it read: the frame is completed by the next call.
func (l *Link) nextLocked() ([]byte, error) {
	for {
		have := l.end - l.start
		need := 4
		if have >= 4 {
			n := binary.LittleEndian.Uint32(l.in[l.start:])
			if n > MaxReply {
				return nil, fmt.Errorf("oplink: reply of %d bytes", n)
			}
			need += int(n)
			if have >= need {
				frame := l.in[l.start+4 : l.start+need]
				l.start += need
				return frame, nil
			}
		}
		if l.start+need > len(l.in) { // make room: move the unread bytes to the front, or grow
			buf := l.in
			if need > len(buf) {
				buf = make([]byte, max(need, 2*len(buf)))
			}
			copy(buf, l.in[l.start:l.end])
			l.in, l.start, l.end = buf, 0, have
		}
		n, err := l.c.Read(l.in[l.end:])
		l.end += n
		if err != nil {
			return nil, err
		}
	}
}

// down marks the link down once: the connection closes and onClose runs.
func (l *Link) down(err error) {
	l.once.Do(func() {
		_ = l.c.Close()
		close(l.done)
		if l.onClose != nil {
			l.onClose(err)
		}
	})
}

// poke sends on a channel of capacity 1 without waiting.
func poke(ch chan struct{}) {
	select {
	case ch <- struct{}{}:
	default:
	}
}

// oneWrite is the largest frame a writer copies behind its header to write both at once; a larger one
// is written in two (the copy would cost more than the second system call).
const oneWrite = 64 << 10

// writer writes whole frames, one at a time.
type writer struct {
	mu       sync.Mutex
	c        net.Conn
	head     [4]byte
	buf      []byte // a small frame with its header
	deadline time.Time
	failed   error
}

func (w *writer) send(frame []byte, timeout time.Duration) error {
	if len(frame) > MaxFrame {
		return fmt.Errorf("oplink: frame of %d bytes", len(frame))
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.failed != nil {
		return w.failed
	}
	if timeout > 0 {
		// Moving the deadline re-arms a runtime timer, which can wake the thread that waits for
		// the network: move it only when half of it is used, so a write gives up after between
		// timeout/2 and timeout, and a run of quick writes costs no wake.
		if now := time.Now(); w.deadline.Sub(now) < timeout/2 {
			w.deadline = now.Add(timeout)
			_ = w.c.SetWriteDeadline(w.deadline)
		}
	}
	binary.LittleEndian.PutUint32(w.head[:], uint32(len(frame)))
	var err error
	if len(frame) <= oneWrite {
		// One write, so that the frame leaves as one segment (or a run of them) and the peer is
		// woken once, not once for the header and again for the rest: copy it behind the header.
		w.buf = append(append(w.buf[:0], w.head[:]...), frame...)
		_, err = w.c.Write(w.buf)
	} else if _, err = w.c.Write(w.head[:]); err == nil {
		_, err = w.c.Write(frame)
	}
	if err != nil {
		w.failed = fmt.Errorf("oplink: send: %w", err)
		_ = w.c.Close()
		return w.failed
	}
	return nil
}

// readFrame reads one frame into a buffer of its own.
func readFrame(r *bufio.Reader) ([]byte, error) {
	var head [4]byte
	if _, err := io.ReadFull(r, head[:]); err != nil {
		return nil, err
	}
	n := int(binary.LittleEndian.Uint32(head[:]))
	if n > MaxFrame {
		return nil, fmt.Errorf("oplink: frame of %d bytes", n)
	}
	// The buffer grows with the bytes that came, at most readStep ahead of them.
	frame := make([]byte, 0, min(n, readStep))
	for len(frame) < n {
		if len(frame) == cap(frame) {
			grown := make([]byte, len(frame), min(n, len(frame)+max(readStep, len(frame))))
			copy(grown, frame)
			frame = grown
		}
		k, err := r.Read(frame[len(frame):cap(frame)])
		frame = frame[:len(frame)+k]
		if err != nil && len(frame) < n {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return nil, err
		}
	}
	return frame, nil
}

func noDelay(c net.Conn) {
	if tc, ok := c.(*net.TCPConn); ok {
		_ = tc.SetNoDelay(true)
	}
}

func fingerprint(der []byte) string {
	sum := sha256.Sum256(der)
	return hex.EncodeToString(sum[:])
}

// selfSigned makes the listener's certificate: a fresh P-256 key, valid for ten years (it lives as
// long as the process; trust comes from the published fingerprint, not from its dates).
func selfSigned() (tls.Certificate, string, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, "", err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	if err != nil {
		return tls.Certificate{}, "", err
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: "clckpt member link"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().AddDate(10, 0, 0),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, "", err
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, fingerprint(der), nil
}
