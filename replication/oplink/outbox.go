package oplink

import (
	"errors"
	"fmt"
	"net"
	"sync"
	"syscall"
	"time"
)

// QueueLimit bounds the bytes a link holds for a peer whose kernel buffers are full (the peer stalls,
// or its network does): a send that would queue more fails and closes the link. A replica copy's
// window (four messages of at most 4 MiB) fits in it.
const QueueLimit = 32 << 20

// spareMax is the largest queue buffer kept for the next burst by default (keepBuffers); a larger
// one goes back to the heap.
const spareMax = 1 << 20

// ErrQueueFull is a send to a peer that has not taken QueueLimit bytes queued for it.
var ErrQueueFull = errors.New("oplink: send queue full: the peer does not read")

// outbox is the write side of a link's connection once the link is up: a write never waits for the
// peer. The bytes the kernel takes at once are written on the caller's goroutine (one non-blocking
// system call, as cheap as a plain write: a write that waits for its acknowledgement gains by not
// handing the op to another goroutine); the rest is queued, up to QueueLimit, and written by the
// link's writer goroutine, which owns the connection's write side until the queue is empty. A write
// of the writer goroutine that the peer does not take within the stall time fails the outbox: the
// link is closed (fail), since a partly written frame cannot be taken back.
//
// Until start is called (the handshake), writes go straight to the connection and may wait.
type outbox struct {
	net.Conn                 // reads, deadlines and Close pass through
	raw      syscall.RawConn // nil: the connection has no descriptor to try (everything is queued)
	fail     func(error)     // called once, on the writer goroutine, when a write failed

	mu      sync.Mutex
	started bool
	queue   []byte // waiting for the writer goroutine
	spare   []byte // the writer goroutine's previous buffer, reused
	keep    int    // the largest spare kept (spareMax unless keepBuffers)
	inHand  int    // bytes the writer goroutine is writing
	stall   time.Duration
	failed  error
	wake    chan struct{}
	closing chan struct{}
}

func newOutbox(c net.Conn) *outbox {
	o := &outbox{Conn: c, keep: spareMax, wake: make(chan struct{}, 1), closing: make(chan struct{})}
	if sc, ok := c.(syscall.Conn); ok {
		if raw, err := sc.SyscallConn(); err == nil {
			o.raw = raw
		}
	}
	return o
}

// start makes writes non-blocking from now on and starts the writer goroutine; it ends at Close.
func (o *outbox) start(fail func(error)) {
	o.mu.Lock()
	o.started, o.fail = true, fail
	o.mu.Unlock()
	go o.run()
}

// keepBuffers makes the outbox keep queue buffers of up to n bytes from one burst to the next.
func (o *outbox) keepBuffers(n int) {
	o.mu.Lock()
	o.keep = n
	o.mu.Unlock()
}

// setStall sets how long one write of the writer goroutine may wait for the peer.
func (o *outbox) setStall(d time.Duration) {
	o.mu.Lock()
	o.stall = d
	o.mu.Unlock()
}

// Write takes all of p or fails; once started, it never waits for the peer.
func (o *outbox) Write(p []byte) (int, error) {
	o.mu.Lock()
	if !o.started {
		o.mu.Unlock()
		return o.Conn.Write(p)
	}
	defer o.mu.Unlock()
	if o.failed != nil {
		return 0, o.failed
	}
	total := len(p)
	if len(o.queue) == 0 && o.inHand == 0 && o.raw != nil {
		n, err := o.try(p)
		if err != nil {
			o.failLocked(fmt.Errorf("oplink: send: %w", err))
			return 0, o.failed
		}
		if p = p[n:]; len(p) == 0 {
			return total, nil
		}
	}
	if pending := len(o.queue) + o.inHand; pending > 0 && pending+len(p) > QueueLimit {
		o.failLocked(ErrQueueFull)
		return 0, o.failed
	}
	o.queue = append(o.queue, p...)
	poke(o.wake)
	return total, nil
}

// try writes what the kernel takes of p now, without waiting.
func (o *outbox) try(p []byte) (int, error) {
	n := 0
	var werr error
	err := o.raw.Write(func(fd uintptr) bool {
		for n < len(p) {
			k, err := syscall.Write(int(fd), p[n:])
			if k > 0 {
				n += k
			}
			switch {
			case err == syscall.EINTR:
				continue
			case err == syscall.EAGAIN:
				return true // full: the rest is queued
			case err != nil:
				werr = err
				return true
			case k <= 0:
				return true
			}
		}
		return true
	})
	if err == nil {
		err = werr
	}
	return n, err
}

// failLocked fails every later write and closes the connection (which ends the link); o.mu is held.
func (o *outbox) failLocked(err error) {
	if o.failed == nil {
		o.failed = err
		_ = o.Conn.Close()
		poke(o.wake) // the writer goroutine reports it
	}
}

// Close ends the writer goroutine and closes the connection.
func (o *outbox) Close() error {
	o.mu.Lock()
	select {
	case <-o.closing:
	default:
		close(o.closing)
	}
	o.mu.Unlock()
	return o.Conn.Close()
}

// run is the writer goroutine: it writes what was queued, in order, each write bounded by the stall
// time.
func (o *outbox) run() {
	for {
		select {
		case <-o.wake:
		case <-o.closing:
			return
		}
		for {
			o.mu.Lock()
			if o.failed != nil {
				err, fail := o.failed, o.fail
				o.fail = nil
				o.mu.Unlock()
				if fail != nil {
					fail(err)
				}
				return
			}
			if len(o.queue) == 0 {
				o.mu.Unlock()
				break
			}
			chunk, stall := o.queue, o.stall
			o.queue, o.spare, o.inHand = o.spare[:0], nil, len(chunk)
			o.mu.Unlock()

			if stall > 0 {
				_ = o.Conn.SetWriteDeadline(time.Now().Add(stall))
			}
			_, err := o.Conn.Write(chunk)
			if stall > 0 {
				_ = o.Conn.SetWriteDeadline(time.Time{}) // the caller's tries must not meet a deadline
			}

			o.mu.Lock()
			o.inHand = 0
			if cap(chunk) <= o.keep {
				o.spare = chunk[:0]
			}
			if err != nil {
				o.failLocked(fmt.Errorf("oplink: send (queued): %w", err))
			}
			o.mu.Unlock()
		}
	}
}
