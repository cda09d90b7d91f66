// Package callbackq queues the completions of asynchronous C calls (OpenAsync, SynchronizeAsync)
// until the application dispatches them, and exposes an eventfd that is readable exactly while
// completions are pending, for programs that poll() or select() on it.
package callbackq

import (
	"errors"
	"fmt"
	"sync"

	"golang.org/x/sys/unix"
)

// ErrClosed is returned by Push after Close.
var ErrClosed = errors.New("callbackq: closed")

// maxFD: programs pass the selection object to select(), which only takes fds below FD_SETSIZE.
const maxFD = 1024

// Queue is a FIFO of callbacks with an eventfd semaphore counting them.
type Queue struct {
	fd   int
	wake chan struct{} // poked on Push and Close, for blocking dispatch

	mu     sync.Mutex
	items  []func()
	closed bool
}

// New creates a queue and its eventfd.
func New() (*Queue, error) {
	fd, err := unix.Eventfd(0, unix.EFD_SEMAPHORE|unix.EFD_NONBLOCK|unix.EFD_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("callbackq: eventfd: %w", err)
	}
	if fd >= maxFD {
		unix.Close(fd)
		return nil, fmt.Errorf("callbackq: no file descriptor below %d is free for the selection object", maxFD)
	}
	return &Queue{fd: fd, wake: make(chan struct{}, 1)}, nil
}

// FD is the selection object: readable while callbacks are pending.
func (q *Queue) FD() int { return q.fd }

// Push queues f. The eventfd counter and the queue change together under the lock, so the fd is
// readable exactly while the queue is not empty.
func (q *Queue) Push(f func()) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed {
		return ErrClosed
	}
	if err := eventfdAdd(q.fd); err != nil {
		return err
	}
	q.items = append(q.items, f)
	select {
	case q.wake <- struct{}{}:
	default:
	}
	return nil
}

// pop removes the first callback, if any.
func (q *Queue) pop() (func(), bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed || len(q.items) == 0 {
		return nil, false
	}
	f := q.items[0]
	q.items[0] = nil
	q.items = q.items[1:]
	eventfdTake(q.fd)
	return f, true
}

// DispatchOne runs the first pending callback, if any, on the calling goroutine.
func (q *Queue) DispatchOne() {
	if f, ok := q.pop(); ok {
		f()
	}
}

// DispatchAll runs the callbacks pending now (not those they queue).
func (q *Queue) DispatchAll() {
	q.mu.Lock()
	n := len(q.items)
	q.mu.Unlock()
	for i := 0; i < n; i++ {
		f, ok := q.pop()
		if !ok {
			return
		}
		f()
	}
}

// DispatchBlocking runs callbacks as they come until Close.
func (q *Queue) DispatchBlocking() {
	for {
		if f, ok := q.pop(); ok {
			f()
			continue
		}
		if q.isClosed() {
			return
		}
		<-q.wake
	}
}

func (q *Queue) isClosed() bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.closed
}

// Pending is the number of queued callbacks.
func (q *Queue) Pending() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.items)
}

// Close drops pending callbacks, closes the eventfd and ends DispatchBlocking.
func (q *Queue) Close() {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed {
		return
	}
	q.closed = true
	q.items = nil
	unix.Close(q.fd)
	close(q.wake)
}

func eventfdAdd(fd int) error {
	var one = [8]byte{1}
	_, err := unix.Write(fd, one[:])
	if err != nil {
		return fmt.Errorf("callbackq: eventfd write: %w", err)
	}
	return nil
}

// eventfdTake takes one token. It fails with EAGAIN only if the program read the fd itself, which
// is harmless.
func eventfdTake(fd int) {
	var buf [8]byte
	_, _ = unix.Read(fd, buf[:])
}
