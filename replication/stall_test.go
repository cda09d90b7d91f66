package replication

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/stretchr/testify/require"

	"github.com/clckpt/libclckpt/config"
	"github.com/clckpt/libclckpt/engine"
	"github.com/clckpt/libclckpt/replication/directory"
	"github.com/clckpt/libclckpt/replication/wire"
)

// childEnv, when set, makes the test binary a member process (childMember) instead of running tests:
// a real process that a test can stop with SIGSTOP or kill.
const childEnv = "CLCKPT_TEST_CHILD_OPENS"

// childKindEnv, when set, is the kind of member the child joins as (default: an application).
const childKindEnv = "CLCKPT_TEST_CHILD_KIND"

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) != "" {
		childMember()
		return
	}
	os.Exit(m.Run())
}

// childMember joins as configured by the environment, opens the checkpoints named in childEnv
// (comma-separated, WR_ALL_REPLICAS and ALL_OPEN_ARE_REPLICAS: it holds a replica of each), prints
// "ready" and stays until SIGTERM.
func childMember() {
	fail := func(err error) {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	cfg, err := config.FromEnv()
	if err != nil {
		fail(err)
	}
	kind := directory.KindApplication
	if os.Getenv(childKindEnv) != "" {
		kind = os.Getenv(childKindEnv)
	}
	m, err := Join(bg, Options{Config: cfg, Kind: kind})
	if err != nil {
		fail(err)
	}
	for _, name := range strings.Split(os.Getenv(childEnv), ",") {
		if name == "-" { // opens nothing
			continue
		}
		if _, err := m.Open(bg, name, stallAttrs(), rwc); err != nil {
			fail(err)
		}
	}
	fmt.Println("ready")
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM)
	<-stop
	_ = m.Close()
}

func stallAttrs() *engine.Attributes {
	a := attrs(engine.WriteAllReplicas | engine.AllOpenAreReplicas)
	a.MaxSections = 64
	return a
}

// startChild runs a member process named name that opens the checkpoints opens.
func (cl *cluster) startChild(name string, opens ...string) *os.Process {
	return cl.startChildKind(name, directory.KindApplication, opens...)
}

// startServer runs a server member process named name that opens nothing.
func (cl *cluster) startServer(name string) *os.Process {
	return cl.startChildKind(name, directory.KindServer, "-")
}

func (cl *cluster) startChildKind(name, kind string, opens ...string) *os.Process {
	t := cl.t
	c := cl.config(name)
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), childEnv+"="+strings.Join(opens, ","), childKindEnv+"="+kind, "CLCKPT_NODE="+name,
		"CLCKPT_DATA_DIR="+c.DataDir, "CLCKPT_NATS_URL="+c.NATS.URL, "CLCKPT_LEASE="+c.Lease.String(),
		"CLCKPT_ACK_TIMEOUT="+c.AckTimeout.String(), "CLCKPT_LOG_LEVEL=error")
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGCONT)
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	ready := make(chan bool, 1)
	go func() {
		sc := bufio.NewScanner(out)
		ok := false
		for sc.Scan() {
			if sc.Text() == "ready" && !ok {
				ok = true
				ready <- true
			}
		}
		if !ok {
			ready <- false
		}
	}()
	select {
	case ok := <-ready:
		require.True(t, ok, "the child member %s failed", name)
	case <-time.After(time.Minute):
		t.Fatalf("the child member %s did not start", name)
	}
	return cmd.Process
}

// TestAStoppedFollowerStallsNoReaderNorOtherWriter: the follower of a WR_ALL_REPLICAS checkpoint is
// a process stopped with SIGSTOP while writers send it megabytes (more than the kernel's buffers
// take). The writes' ops leave the active without waiting for the follower; reads of that
// checkpoint return while the follower is stopped, still in the in-sync set, its link still up;
// writes to another checkpoint go on; the stalled writes return once the follower is taken out of the
// in-sync set (after the ack timeout), and it comes back in sync after SIGCONT.
func TestAStoppedFollowerStallsNoReaderNorOtherWriter(t *testing.T) {
	cl := newCluster(t)
	cl.tune = func(c *config.Config) {
		// The ack timeout bounds the window in which the test looks: from the first op the
		// follower does not take until the test has made the writes, read them back and written
		// the other checkpoint (2-5 s on a loaded 2-core host with the race detector). It is what
		// the stalled writes wait for before they return, so it is also what the test costs. The
		// lease outlasts the whole stop (about an ack timeout and a quarter), so that the
		// follower's link is never closed because its lease ended.
		c.Lease = time.Minute
		c.AckTimeout = 12 * time.Second
	}
	a := cl.join("a", directory.KindApplication)
	b := cl.join("b", directory.KindApplication)
	hs, err := a.Open(bg, "stalled", stallAttrs(), rwc)
	require.NoError(t, err)
	ho, err := a.Open(bg, "other", stallAttrs(), rwc)
	require.NoError(t, err)
	_, err = b.Open(bg, "other", stallAttrs(), rwc)
	require.NoError(t, err)
	f := cl.startChild("f", "stalled")
	require.Eventually(t, func() bool { return a.alive("f") }, 10*time.Second, 10*time.Millisecond)
	sid, err := a.dir.Lookup(bg, []byte("stalled"))
	require.NoError(t, err)
	synced := func(id uint64, member string) bool {
		e, err := a.dir.Get(bg, id)
		require.NoError(t, err)
		require.Equal(t, "a", e.Active)
		return e.IsSynced(member)
	}
	oid, err := a.dir.Lookup(bg, []byte("other"))
	require.NoError(t, err)
	_, err = ho.CreateSection(bg, []byte("o"), engine.Never, []byte("0"))
	require.NoError(t, err)
	big := make([]byte, 1<<20)
	const writers = 24 // MiB: more than the kernel's buffers hold, less than the link's queue
	for i := range writers {
		_, err := hs.CreateSection(bg, []byte(fmt.Sprintf("s%02d", i)), engine.Never, big)
		require.NoError(t, err)
	}
	require.Eventually(t, func() bool {
		require.NoError(t, hs.Overwrite(bg, []byte("s00"), []byte("x")))
		return synced(sid, "f") && synced(oid, "b") && a.links.up("f") != nil
	}, 20*time.Second, 10*time.Millisecond, "the follower is in sync and its link up")
	link := a.links.up("f")
	act := func() *active {
		c := a.ckptFor(sid)
		c.mu.Lock()
		defer c.mu.Unlock()
		return c.act
	}()
	require.NotNil(t, act)
	act.mu.Lock()
	start := act.lsn
	act.mu.Unlock()

	require.NoError(t, f.Signal(syscall.SIGSTOP))
	done := make(chan error, writers)
	for i := range writers {
		go func() { done <- hs.Overwrite(bg, []byte(fmt.Sprintf("s%02d", i)), big) }()
	}
	// Every write is made and its op sent (or queued for the link) without waiting for the follower:
	// all of them while the link is the same and up and the follower still in the in-sync set. A send
	// that waited for the follower would hold the replica's lock until the ack timeout closed the
	// link or took the follower out; the writes would be made only after that.
	for deadline := time.Now().Add(time.Minute); ; {
		act.mu.Lock()
		lsn, in := act.lsn, act.synced["f"]
		act.mu.Unlock()
		up := a.links.up("f") == link && !isDown(link) // looked at after: a closed link stays closed
		if lsn == start+writers {
			require.True(t, in && up, "the writes were made only once the follower was given up (in sync %v, link up %v)", in, up)
			break
		}
		require.True(t, in && up, "the follower was given up before the writes were made (%d of %d): they waited for it (in sync %v, link up %v)",
			lsn-start, writers, in, up)
		select {
		case err := <-done: // none may return while the follower is stopped and in sync
			require.NoError(t, err, "a write failed")
			require.Fail(t, "a write returned while the follower was stopped and in sync")
		default:
		}
		require.True(t, time.Now().Before(deadline), "the writes were made (%d of %d)", lsn-start, writers)
		time.Sleep(5 * time.Millisecond)
	}
	for i := range writers {
		el := []engine.ReadElement{{SectionID: []byte(fmt.Sprintf("s%02d", i))}}
		require.NoError(t, hs.Read(bg, el))
		require.Len(t, el[0].Buffer, len(big))
	}
	// The reads did not wait for the link to give up: it is the same one, up, and the follower is
	// still in the in-sync set, so no write has returned.
	require.True(t, a.links.up("f") == link && !isDown(link), "the link to the stopped follower was not closed")
	require.True(t, synced(sid, "f"))
	require.Empty(t, done)
	// Writes to another checkpoint go on.
	for i := 1; i <= 20; i++ {
		require.NoError(t, ho.Overwrite(bg, []byte("o"), []byte(fmt.Sprint(i))))
	}
	require.Equal(t, "20", read(t, ho, "o"))
	require.True(t, synced(sid, "f"), "the other writes did not wait for the ack timeout")

	// The stalled writes return once the follower is out of the in-sync set.
	for range writers {
		select {
		case err := <-done:
			require.NoError(t, err)
		case <-time.After(time.Minute):
			t.Fatal("the writes did not resume")
		}
	}
	require.False(t, synced(sid, "f"), "the follower was taken out of the in-sync set")

	require.NoError(t, f.Signal(syscall.SIGCONT))
	require.Eventually(t, func() bool {
		_ = hs.Overwrite(bg, []byte("s00"), []byte("y"))
		return synced(sid, "f")
	}, time.Minute, 50*time.Millisecond, "the follower is back in sync")
}

// TestACallToAStoppedActiveEndsWithItsLease: the active of a WR_ALL_REPLICAS checkpoint is a
// server process stopped with SIGSTOP, as a host cut off the network would be, and the writer's
// member holds no replica (its calls are forwarded). The stopped member's subscriptions stay on
// the NATS server (which finds a silent client dead only after minutes of pings), so the probes of
// a call in flight to it time out instead of finding nobody there. The call ends when the stopped
// member's lease ends and the write is retried on the new active; it used to wait for the end of
// its attempt (a lease and two ack timeouts).
func TestACallToAStoppedActiveEndsWithItsLease(t *testing.T) {
	cl := newCluster(t)
	cl.tune = func(c *config.Config) {
		// An attempt of a forwarded call lasts a lease and two ack timeouts: long here, so that
		// only the lease's end can end the call within the test's wait.
		c.AckTimeout = 30 * time.Second
	}
	procs := map[string]*os.Process{"s1": cl.startServer("s1"), "s2": cl.startServer("s2")}
	w := cl.join("w", directory.KindApplication)
	require.Eventually(t, func() bool { return w.alive("s1") && w.alive("s2") }, 10*time.Second, 10*time.Millisecond)
	h, err := w.Open(bg, "cut", attrs(engine.WriteAllReplicas), rwc)
	require.NoError(t, err)
	_, err = h.CreateSection(bg, []byte("s"), engine.Never, []byte("0"))
	require.NoError(t, err)
	var active string
	require.Eventually(t, func() bool {
		require.NoError(t, h.Overwrite(bg, []byte("s"), []byte("1")))
		e, err := w.Entry(bg, "cut")
		require.NoError(t, err)
		require.False(t, e.HasReplica("w"))
		active = e.Active
		return e.IsSynced("s1") && e.IsSynced("s2")
	}, 20*time.Second, 10*time.Millisecond, "both replicas in sync")

	require.NoError(t, procs[active].Signal(syscall.SIGSTOP))
	require.Eventually(t, func() bool { // the signal is delivered asynchronously
		st, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", procs[active].Pid))
		require.NoError(t, err)
		return strings.Contains(string(st), "State:\tT")
	}, 10*time.Second, time.Millisecond, "the active's process is stopped")
	done := make(chan error, 1)
	go func() { done <- h.Overwrite(bg, []byte("s"), []byte("2")) }()
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(30 * time.Second): // the lease is 1 s; the attempt 61 s
		t.Fatal("the write to the stopped active did not return")
	}
	// The stopped member's subscriptions were still on the server: the call did not end because
	// nobody answered, but because the lease ended.
	_, err = w.nc.Request(w.subject(active, "pos"), (&wire.PositionMsg{}).Encode(nil), 500*time.Millisecond)
	require.ErrorIs(t, err, nats.ErrTimeout)
	e, err := w.Entry(bg, "cut")
	require.NoError(t, err)
	require.NotEqual(t, active, e.Active)
	el := []engine.ReadElement{{SectionID: []byte("s")}}
	require.NoError(t, h.Read(bg, el))
	require.Equal(t, "2", string(el[0].Buffer[:el[0].ReadSize]))
}
