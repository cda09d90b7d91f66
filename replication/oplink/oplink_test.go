package oplink

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// echo is a listener that answers every frame with "from:" + frame.
func echo(t *testing.T, useTLS bool) *Listener {
	t.Helper()
	l, err := Listen("127.0.0.1:0", useTLS, func(from string, frame []byte) []byte {
		return append([]byte(from+":"), frame...)
	}, nil)
	require.NoError(t, err)
	t.Cleanup(l.Close)
	return l
}

func TestFramesGoBothWaysInOrder(t *testing.T) {
	for _, useTLS := range []bool{false, true} {
		t.Run(fmt.Sprintf("tls=%v", useTLS), func(t *testing.T) {
			l := echo(t, useTLS)
			a := l.Address("")
			require.Equal(t, useTLS, a.Fingerprint != "")
			got := make(chan []byte, 1000)
			// Generous bounds: 33 MiB go each way, and on a loaded machine the reader goroutine
			// may wait for a processor long enough for a 1 s stall bound to take the link down.
			link, err := Dial(a, "m1", 10*time.Second, func(f []byte) { got <- bytes.Clone(f) }, nil)
			require.NoError(t, err)
			defer link.Close()
			// Small frames (one write with the header) and large ones (two writes), in order.
			sizes := []int{0, 1, 300, 4096, 4097, 1 << 20}
			for i := range 200 {
				frame := bytes.Repeat([]byte{byte(i)}, sizes[i%len(sizes)])
				require.NoError(t, link.Send(frame, 10*time.Second))
				if i%2 == 0 {
					link.Nudge() // the reader goroutine reads; the other replies wait for it
				}
			}
			for i := range 200 {
				select {
				case f := <-got:
					want := append([]byte("m1:"), bytes.Repeat([]byte{byte(i)}, sizes[i%len(sizes)])...)
					require.Equal(t, want, f, "reply %d", i)
				case <-time.After(10 * time.Second):
					t.Fatalf("reply %d did not come", i)
				}
			}
		})
	}
}

func TestAWrongKeyOrCertificateIsRefused(t *testing.T) {
	for _, useTLS := range []bool{false, true} {
		t.Run(fmt.Sprintf("tls=%v", useTLS), func(t *testing.T) {
			var mu sync.Mutex
			handled := 0
			l, err := Listen("127.0.0.1:0", useTLS, func(string, []byte) []byte {
				mu.Lock()
				handled++
				mu.Unlock()
				return nil
			}, nil)
			require.NoError(t, err)
			defer l.Close()
			a := l.Address("")

			wrongKey := a
			wrongKey.Key = hex.EncodeToString(bytes.Repeat([]byte{7}, 32))
			_, err = Dial(wrongKey, "intruder", time.Second, func([]byte) {}, nil)
			require.ErrorIs(t, err, ErrRefused)

			if useTLS {
				// The right key does not help against a listener whose certificate is not the
				// published one (a man in the middle): the dialer refuses it before sending anything.
				other := echo(t, true).Address("")
				impostor := other
				impostor.Key = a.Key
				impostor.Fingerprint = a.Fingerprint
				_, err = Dial(impostor, "m1", time.Second, func([]byte) {}, nil)
				require.ErrorIs(t, err, ErrRefused)
			}

			// A raw client that skips the handshake and sends frames gets nothing handled.
			c, err := net.Dial("tcp", a.Addr)
			require.NoError(t, err)
			_, _ = c.Write([]byte{5, 0, 0, 0, 'h', 'e', 'l', 'l', 'o'})
			_ = c.SetReadDeadline(time.Now().Add(2 * time.Second))
			buf := make([]byte, 256)
			for {
				if _, err := c.Read(buf); err != nil {
					break // closed by the listener (or the deadline)
				}
			}
			_ = c.Close()

			link, err := Dial(a, "m1", time.Second, func([]byte) {}, nil)
			require.NoError(t, err, "the right key is still let in")
			require.NoError(t, link.Send([]byte("op"), time.Second))
			require.Eventually(t, func() bool {
				mu.Lock()
				defer mu.Unlock()
				return handled == 1
			}, 5*time.Second, 10*time.Millisecond, "only the authenticated frame is handled")
			link.Close()
		})
	}
}

// TestACollectorReadsItsOwnReply: a sender that collects gets its reply on its own goroutine (before
// Collect returns); what it does not wait for is read by the reader goroutine.
func TestACollectorReadsItsOwnReply(t *testing.T) {
	for _, useTLS := range []bool{false, true} {
		t.Run(fmt.Sprintf("tls=%v", useTLS), func(t *testing.T) {
			l := echo(t, useTLS)
			var mu sync.Mutex
			var got []string
			link, err := Dial(l.Address(""), "m1", time.Second, func(f []byte) {
				mu.Lock()
				got = append(got, string(f))
				mu.Unlock()
			}, nil)
			require.NoError(t, err)
			defer link.Close()
			count := func() int {
				mu.Lock()
				defer mu.Unlock()
				return len(got)
			}
			for i := range 100 {
				require.NoError(t, link.Send([]byte(fmt.Sprint(i)), time.Second))
				require.True(t, link.Collect(func() bool { return count() > i }, 5*time.Second), "op %d", i)
				require.Equal(t, i+1, count(), "the reply of op %d was read by its sender", i)
			}
			// Three sent, the collector waits for the first only: the other two come anyway.
			for i := 100; i < 103; i++ {
				require.NoError(t, link.Send([]byte(fmt.Sprint(i)), time.Second))
			}
			link.Collect(func() bool { return count() > 100 }, 5*time.Second)
			require.Eventually(t, func() bool { return count() == 103 }, 5*time.Second, time.Millisecond)
			require.Equal(t, "m1:102", got[102])
		})
	}
}

// TestARepliesDeadlineKeepsThePartFrame: a collector that gives up while a reply is half read leaves
// it whole for the next reader.
func TestARepliesDeadlineKeepsThePartFrame(t *testing.T) {
	addr := fakeListener(t, func(c net.Conn) {
		op := make([]byte, 4+2)
		_, _ = io.ReadFull(c, op)
		_, _ = c.Write([]byte{5, 0, 0, 0, 'h', 'e'}) // half a reply, the rest later
		time.Sleep(300 * time.Millisecond)
		_, _ = c.Write([]byte("llo"))
		time.Sleep(time.Minute)
	})
	got := make(chan string, 1)
	link, err := Dial(addr, "m1", time.Second, func(f []byte) { got <- string(f) }, nil)
	require.NoError(t, err)
	defer link.Close()
	require.NoError(t, link.Send([]byte("op"), time.Second))
	require.False(t, link.Collect(func() bool { return false }, 100*time.Millisecond), "nothing whole came in time")
	select {
	case f := <-got:
		require.Equal(t, "hello", f)
	case <-time.After(5 * time.Second):
		t.Fatal("the reply was lost")
	}
}

// TestALinkReportsItsEnd: a link finds that the listener went away at its next use (nobody reads an
// idle link: the directory tells when a member leaves), and reports it.
// TestAliveSeesTheEndOfAnIdleLink: a link with no reply owed is read by nobody; Alive finds that its
// peer closed it (as a process that dies does), with TLS and without, and says up while it is.
func TestAliveSeesTheEndOfAnIdleLink(t *testing.T) {
	for _, useTLS := range []bool{false, true} {
		l := echo(t, useTLS)
		link, err := Dial(l.Address(""), "m1", time.Second, func([]byte) {}, nil)
		require.NoError(t, err)
		require.NoError(t, link.Send([]byte("op"), time.Second))
		reply, err := link.Next(time.Second)
		require.NoError(t, err)
		require.Equal(t, "m1:op", string(reply))
		time.Sleep(20 * time.Millisecond)
		require.True(t, link.Alive(), "tls=%v", useTLS)
		l.Close() // the listener's end of every link closes
		require.Eventually(t, func() bool { return !link.Alive() }, 5*time.Second, time.Millisecond, "tls=%v", useTLS)
		<-link.Done()
	}
}

func TestALinkReportsItsEnd(t *testing.T) {
	l := echo(t, false)
	closed := make(chan error, 1)
	link, err := Dial(l.Address(""), "m1", time.Second, func([]byte) {}, func(err error) { closed <- err })
	require.NoError(t, err)
	l.Close() // the listener's member stops
	if link.Send([]byte("op"), time.Second) == nil {
		link.Nudge()
	}
	select {
	case <-closed:
	case <-time.After(5 * time.Second):
		t.Fatal("onClose did not run")
	}
	<-link.Done()
	require.Error(t, link.Send([]byte("op"), time.Second), "a send on a link that is down fails")

	// Closed by its owner: onClose runs too.
	l2 := echo(t, false)
	link, err = Dial(l2.Address(""), "m1", time.Second, func([]byte) {}, func(err error) { closed <- err })
	require.NoError(t, err)
	link.Close()
	select {
	case <-closed:
	case <-time.After(5 * time.Second):
		t.Fatal("onClose did not run after Close")
	}
}

func TestAStalledPeerFailsTheSendInsteadOfBlockingIt(t *testing.T) {
	// A peer that accepts and then never reads: the socket buffers fill and a send must give up.
	addr := fakeListener(t, func(net.Conn) { time.Sleep(time.Minute) })
	link, err := Dial(addr, "m1", time.Second, func([]byte) {}, nil)
	require.NoError(t, err)
	defer link.Close()
	frame := make([]byte, 1<<20)
	var sendErr error
	for i := 0; i < 1000 && sendErr == nil; i++ {
		sendErr = link.Send(frame, 200*time.Millisecond)
	}
	require.Error(t, sendErr, "the send gave up on a peer that does not read")
	require.Error(t, link.Send([]byte("x"), time.Second), "and the link is down after it")
}

// TestSendsToAStalledPeerDoNotWait: a peer that accepts and then stops reading. Sends return at
// once (the bytes the kernel does not take wait in the link's queue for its writer goroutine), even
// with a stall time of an hour; the send that would queue more than QueueLimit fails and the link
// goes down.
func TestSendsToAStalledPeerDoNotWait(t *testing.T) {
	for _, useTLS := range []bool{false, true} {
		t.Run(fmt.Sprintf("tls=%v", useTLS), func(t *testing.T) {
			stalled := make(chan struct{})
			l, err := Listen("127.0.0.1:0", useTLS, func(string, []byte) []byte {
				<-stalled // the first frame stops the listener's reading
				return nil
			}, nil)
			require.NoError(t, err)
			t.Cleanup(func() { close(stalled); l.Close() })
			down := make(chan error, 1)
			link, err := Dial(l.Address(""), "m1", time.Second, func([]byte) {}, func(err error) { down <- err })
			require.NoError(t, err)
			defer link.Close()
			frame := make([]byte, 1<<20)
			sent := make(chan error, 1)
			go func() {
				// Twice what the kernel buffers of a loopback connection hold at most (16 MiB), and
				// less than the queue can take beyond them.
				for range QueueLimit>>20 - 1 {
					if err := link.Send(frame, time.Hour); err != nil {
						sent <- err
						return
					}
				}
				sent <- nil
			}()
			select {
			case err := <-sent:
				require.NoError(t, err)
			case <-time.After(time.Minute):
				t.Fatal("sends to a stalled peer waited for it")
			}
			var err2 error
			for range 64 {
				if err2 = link.Send(frame, time.Hour); err2 != nil {
					break
				}
			}
			require.ErrorIs(t, err2, ErrQueueFull, "the queue is bounded")
			select {
			case <-down:
			case <-time.After(10 * time.Second):
				t.Fatal("the link did not go down")
			}
			require.Error(t, link.Send([]byte("x"), time.Second))
		})
	}
}

// fakeListener accepts one link, plays the listener's handshake (any key passes), then hands the
// connection to then; it returns the address to dial.
func fakeListener(t *testing.T, then func(c net.Conn)) Address {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { _ = ln.Close() })
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		_, _ = c.Write(append([]byte(magic), make([]byte, 32)...))
		answer := make([]byte, 2+2+sha256.Size) // the name "m1" and the proof
		_, _ = io.ReadFull(c, answer)
		_, _ = c.Write([]byte{1})
		then(c)
	}()
	return Address{Addr: ln.Addr().String(), Key: hex.EncodeToString(bytes.Repeat([]byte{1}, 32))}
}

// held is how many connections the listener holds, and how many of them are in their handshake.
func (l *Listener) held() (conns, pending int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.conns), l.pending
}

// TestRawClientsCostABoundedShare: connections that never finish the handshake (idle, garbage, a
// name length past the limit) are closed, and no more than maxPending of them are held at once;
// a real dialer gets in once they are gone.
func TestRawClientsCostABoundedShare(t *testing.T) {
	l := echo(t, false)
	addr := l.Address("").Addr
	closedByListener := func(c net.Conn) bool {
		_ = c.SetReadDeadline(time.Now().Add(30 * time.Second))
		_, err := io.Copy(io.Discard, c) // the hello, then the end (or a reset: bytes were unread)
		return !errors.Is(err, os.ErrDeadlineExceeded)
	}
	// Garbage instead of a name and proof; a name length of 65,535.
	for _, junk := range [][]byte{bytes.Repeat([]byte{0xff}, 4096), {0xff, 0xff, 'x'}} {
		c, err := net.Dial("tcp", addr)
		require.NoError(t, err)
		_, _ = c.Write(junk)
		require.True(t, closedByListener(c), "the listener closed the connection")
		c.Close()
	}
	// Many idle connections: at most maxPending held, the others closed at once.
	var idle []net.Conn
	for range 3 * maxPending {
		c, err := net.Dial("tcp", addr)
		require.NoError(t, err)
		idle = append(idle, c)
	}
	require.Eventually(t, func() bool { conns, pending := l.held(); return conns == maxPending && pending == maxPending },
		10*time.Second, 5*time.Millisecond)
	for range 20 {
		conns, _ := l.held()
		require.LessOrEqual(t, conns, maxPending)
	}
	for _, c := range idle {
		c.Close()
	}
	require.Eventually(t, func() bool { conns, _ := l.held(); return conns == 0 }, 30*time.Second, 10*time.Millisecond)
	link, err := Dial(l.Address(""), "m1", time.Second, func([]byte) {}, nil)
	require.NoError(t, err)
	require.NoError(t, link.Send([]byte("x"), time.Second))
	frame, err := link.Next(10 * time.Second)
	require.NoError(t, err)
	require.Equal(t, "m1:x", string(frame))
	link.Close()
}

// TestALengthPrefixAloneAllocatesLittle: a dialer (with the key) that announces a frame of 512 MiB
// and sends a few bytes costs the listener about readStep, not the announced length; one past
// MaxFrame is refused.
func TestALengthPrefixAloneAllocatesLittle(t *testing.T) {
	l := echo(t, false)
	for _, n := range []uint32{512 << 20, MaxFrame + 1} {
		link, err := Dial(l.Address(""), "m1", time.Second, func([]byte) {}, nil)
		require.NoError(t, err)
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		_, err = link.out.Conn.Write(append(binary.LittleEndian.AppendUint32(nil, n), "some bytes"...))
		require.NoError(t, err)
		if n > MaxFrame {
			// Refused: the listener closes the link.
			_ = link.out.Conn.SetReadDeadline(time.Now().Add(30 * time.Second))
			_, err := io.Copy(io.Discard, link.out.Conn)
			require.NotErrorIs(t, err, os.ErrDeadlineExceeded, "the listener closed the link")
			link.Close()
			continue
		}
		link.Close()
		require.Eventually(t, func() bool { conns, _ := l.held(); return conns == 0 }, 30*time.Second, 10*time.Millisecond)
		runtime.ReadMemStats(&after)
		require.Less(t, after.TotalAlloc-before.TotalAlloc, uint64(64<<20), "allocated for a frame that never came")
	}
}
