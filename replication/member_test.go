package replication

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"path/filepath"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/stretchr/testify/require"

	"github.com/clckpt/libclckpt/config"
	"github.com/clckpt/libclckpt/engine"
	"github.com/clckpt/libclckpt/engine/clock"
	"github.com/clckpt/libclckpt/replication/directory"
	"github.com/clckpt/libclckpt/replication/wire"
)

func TestSingleMemberOnTheEmbeddedDefault(t *testing.T) {
	c := config.Default()
	c.Node, c.DataDir, c.Port = "solo", t.TempDir(), freePort(t)
	m, err := Join(bg, Options{Config: c, Logger: testLogger(t)})
	require.NoError(t, err)
	h, err := m.Open(bg, "ck", attrs(engine.WriteAllReplicas), rwc)
	require.NoError(t, err)
	_, err = h.CreateSection(bg, []byte("s"), engine.Never, []byte("one"))
	require.NoError(t, err)
	require.NoError(t, h.Overwrite(bg, []byte("s"), []byte("two")))
	require.Equal(t, "two", read(t, h, "s"))
	st, err := h.Status(bg)
	require.NoError(t, err)
	require.Equal(t, uint32(1), st.NumberOfSections)
	require.NoError(t, h.Close())
	require.NoError(t, m.Close())

	// A restart on the same data directory finds the checkpoint (retention forever) and its data.
	m, err = Join(bg, Options{Config: c, Logger: testLogger(t)})
	require.NoError(t, err)
	defer m.Close()
	h, err = m.Open(bg, "ck", nil, engine.OpenRead)
	require.NoError(t, err)
	require.Equal(t, "two", read(t, h, "s"))
}

func TestNonCollocatedGoesToServersAndEveryReplicaIsIdentical(t *testing.T) {
	cl, app, h, _ := serversAndApp(t)
	for i := 0; i < 20; i++ {
		var err error
		if i == 0 {
			_, err = h.CreateSection(bg, []byte("s"), engine.Never, []byte("0"))
		} else {
			err = h.Overwrite(bg, []byte("s"), []byte(fmt.Sprint(i)))
		}
		require.NoError(t, err)
	}
	require.Equal(t, "19", read(t, h, "s"))
	require.Equal(t, "no replica", replicaContent(t, app, "ck"))
	// WR_ALL_REPLICAS: both servers had it when the write returned.
	require.Equal(t, replicaContent(t, cl.members["s1"], "ck"), replicaContent(t, cl.members["s2"], "ck"))
	require.Contains(t, replicaContent(t, cl.members["s1"], "ck"), "lsn 20")
}

func TestSecondOpenerOfANonCollocatedCheckpointForwardsToTheActive(t *testing.T) {
	_, _, b, ha, hb := twoApps(t, "ck", engine.WriteActiveReplica)
	_, err := hb.CreateSection(bg, nil, engine.Never, []byte("from b"))
	require.NoError(t, err)
	require.Equal(t, "from b", read(t, ha, "generatedSection0\x00"))
	_, err = b.Open(bg, "ck", attrs(engine.WriteAllReplicas), rwc)
	require.ErrorIs(t, err, engine.ErrAlreadyExist)
	require.NoError(t, hb.Synchronize(bg))
}

func TestCollocatedOnePlusOneFailover(t *testing.T) {
	cl := newCluster(t)
	a := cl.join("a", directory.KindApplication)
	b := cl.join("b", directory.KindApplication)
	at := &engine.Attributes{Flags: engine.Collocated | engine.WriteActiveReplicaWeak, CheckpointSize: 4, MaxSections: 2, MaxSectionSize: 4, MaxSectionIDSize: 64}
	ha, err := a.Open(bg, "counter", at, rwc)
	require.NoError(t, err)
	hb, err := b.Open(bg, "counter", at, rwc)
	require.NoError(t, err)
	// No active yet: data calls say NOT_EXIST.
	_, err = ha.CreateSection(bg, []byte("1"), engine.Never, []byte{0})
	require.ErrorIs(t, err, engine.ErrNotExist)
	require.NoError(t, ha.SetActiveReplica(bg))
	_, err = ha.CreateSection(bg, []byte("1"), engine.Never, []byte{0})
	require.NoError(t, err)
	for i := 1; i <= 10; i++ {
		require.NoError(t, ha.Overwrite(bg, []byte("1"), []byte{0, 0, 0, byte(i)}))
		require.NoError(t, ha.Synchronize(bg))
	}
	// The standby reads through the active.
	require.Equal(t, "\x00\x00\x00\x0a", read(t, hb, "1"))
	cl.crash("a")
	// Until the standby takes over, there is no active.
	require.Eventually(t, func() bool {
		err := hb.Read(bg, []engine.ReadElement{{SectionID: []byte("1")}})
		return err != nil
	}, 10*time.Second, 20*time.Millisecond)
	require.NoError(t, hb.SetActiveReplica(bg))
	require.Equal(t, "\x00\x00\x00\x0a", read(t, hb, "1"), "the standby has every synchronized value")
	require.NoError(t, hb.Overwrite(bg, []byte("1"), []byte{0, 0, 0, 11}))
	require.Equal(t, "\x00\x00\x00\x0b", read(t, hb, "1"))
}

var _ = filepath.Join

// TestDestroyedCheckpointsLeaveNothingBehind: checkpoints created, used and destroyed over and over
// (by delete, or by their last close with retention 0) leave no state in any member's table.
func TestDestroyedCheckpointsLeaveNothingBehind(t *testing.T) {
	cl := newCluster(t)
	for _, s := range []string{"s1", "s2"} {
		cl.join(s, directory.KindServer)
	}
	app := cl.join("app", directory.KindApplication)
	held := func() map[string]int {
		out := map[string]int{}
		for name, m := range cl.members {
			m.mu.Lock()
			out[name] = len(m.ckpts)
			m.mu.Unlock()
		}
		return out
	}
	before := held()
	for i := 0; i < 40; i++ {
		name := fmt.Sprintf("tmp-%d", i)
		a := attrs(engine.WriteAllReplicas)
		if i%2 == 1 {
			a.Retention = 0
		}
		h, err := app.Open(bg, name, a, rwc)
		require.NoError(t, err)
		_, err = h.CreateSection(bg, []byte("s"), engine.Never, []byte("v"))
		require.NoError(t, err)
		if i%2 == 0 {
			require.NoError(t, app.Delete(bg, name))
		}
		require.NoError(t, h.Close())
	}
	require.Eventually(t, func() bool { return maps.Equal(before, held()) }, 10*time.Second, 20*time.Millisecond,
		"tables before %v, now %v", before, held())
}

// fakeLease joins member a with the lease on a fake clock and its renewals answered by the test:
// each renewal sends its start time on calls and returns what the test sends on results.
func fakeLease(t *testing.T, lease time.Duration) (m *Member, fake *clock.Fake, t0 time.Time, calls chan time.Time, results chan error) {
	cl := newCluster(t)
	c := cl.config("a")
	c.Lease = lease
	t0 = time.Now()
	fake = clock.NewFake(t0)
	m, err := Join(bg, Options{Config: c, Logger: testLogger(t), Clock: fake})
	require.NoError(t, err)
	cl.members["a"] = m
	calls, results = make(chan time.Time), make(chan error)
	m.renew = func(context.Context) error {
		select {
		case calls <- fake.Now():
		case <-m.ctx.Done():
			return m.ctx.Err()
		}
		select {
		case err := <-results:
			return err
		case <-m.ctx.Done():
			return m.ctx.Err()
		}
	}
	return m, fake, t0, calls, results
}

func (m *Member) fenceDeadline() time.Time {
	m.lease.mu.Lock()
	defer m.lease.mu.Unlock()
	return m.lease.deadline
}

// TestAMemberFencesItselfAMarginBeforeItsLeaseCanExpire drives the lease on a fake clock with
// renewals that the test answers (a directory that is slow, then stalls). The member stops serving
// Lease - Lease/3 after SENDING the last renewal that succeeded (however long the answer took), so a
// third of the lease before anyone can see it expire, and a renewal that succeeds within that
// deadline lifts the fence while one that returns past it does not.
func TestAMemberFencesItselfAMarginBeforeItsLeaseCanExpire(t *testing.T) {
	const lease = 30 * time.Second // long in real time too: the real renewals stop during the test
	m, fake, t0, calls, results := fakeLease(t, lease)
	sixth := lease / 6
	require.Eventually(t, func() bool { return m.fenceDeadline().Equal(t0.Add(4 * sixth)) }, 10*time.Second, time.Millisecond,
		"the first deadline is counted from the registration")

	// A renewal sent at t0+L/6 whose answer takes L/12: the deadline counts from its send.
	fake.Advance(sixth)
	require.Equal(t, t0.Add(sixth), <-calls)
	fake.Advance(sixth / 2)
	results <- nil
	require.Eventually(t, func() bool { return m.fenceDeadline().Equal(t0.Add(5 * sixth)) }, 10*time.Second, time.Millisecond,
		"the deadline is L - L/3 after the renewal's send, not after its answer")

	// The next renewal (t0+2L/6) stalls. Nothing happens until the deadline, then the member fences,
	// a third of the lease before the lease (renewed at t0+L/6) can expire at t0+7L/6.
	fake.Advance(sixth / 2)
	require.Equal(t, t0.Add(2*sixth), <-calls)
	fake.Advance(3*sixth - time.Millisecond)
	require.False(t, m.fenced.Load(), "not fenced before the deadline")
	fake.Advance(time.Millisecond)
	require.True(t, m.fenced.Load(), "fenced at L - L/3 after the last successful renewal's send")

	// The stalled renewal succeeds after all, within its own deadline (t0+2L/6 + 4L/6): serving again.
	results <- nil
	require.Eventually(t, func() bool { return !m.fenced.Load() }, 10*time.Second, time.Millisecond)
	require.Equal(t, t0.Add(6*sixth), m.fenceDeadline())

	// The next renewal (queued while the last one stalled) starts now, at t0+5L/6, and answers only
	// after its own deadline has passed: it lifts no fence.
	require.Equal(t, t0.Add(5*sixth), <-calls)
	fake.Advance(4 * sixth)
	require.True(t, m.fenced.Load())
	results <- nil
	require.Eventually(t, func() bool { return m.fenceDeadline().Equal(t0.Add(9 * sixth)) }, 10*time.Second, time.Millisecond)
	require.True(t, m.fenced.Load(), "a renewal answered past its deadline does not lift the fence")
}

// TestARenewalThatFailsOnceDoesNotFence: a renewal that fails (the directory said no at once, as
// when a lagging server answered) leaves time for more attempts before the fence; the next one that
// succeeds keeps the member serving without a break.
func TestARenewalThatFailsOnceDoesNotFence(t *testing.T) {
	const lease = 30 * time.Second
	m, fake, t0, calls, results := fakeLease(t, lease)
	sixth := lease / 6
	require.Eventually(t, func() bool { return m.fenceDeadline().Equal(t0.Add(4 * sixth)) }, 10*time.Second, time.Millisecond)
	next := func() time.Time { // advances the clock a sixth at a time until a renewal starts
		for {
			fake.Advance(sixth)
			select {
			case at := <-calls:
				return at
			case <-time.After(200 * time.Millisecond):
			}
		}
	}
	for round := 0; round < 3; round++ {
		sent := next()
		require.False(t, m.fenced.Load(), "fenced before a second attempt at %s", sent.Sub(t0))
		results <- fmt.Errorf("%w: the lease changed", directory.ErrConflict)
		sent = next()
		require.False(t, m.fenced.Load(), "fenced before a second attempt at %s", sent.Sub(t0))
		results <- nil
		require.Eventually(t, func() bool { return m.fenceDeadline().Equal(sent.Add(4 * sixth)) }, 10*time.Second, time.Millisecond)
	}
	require.False(t, m.fenced.Load())
}

// TestStatusShowsTheRetentionJustSet: Status right after SetRetention on the same member reports the
// new retention, also when the active replica is on another member, whose directory watch may not
// have the change yet.
func TestStatusShowsTheRetentionJustSet(t *testing.T) {
	cl := newCluster(t)
	cl.join("s", directory.KindServer)
	cl.tune = func(c *config.Config) { c.Replicas = 1 }
	app := cl.join("app", directory.KindApplication)
	h, err := app.Open(bg, "ck", attrs(engine.WriteAllReplicas), rwc)
	require.NoError(t, err)
	e, err := app.Entry(bg, "ck")
	require.NoError(t, err)
	require.Equal(t, "s", e.Active, "the active is on the server: Status is forwarded to it")
	for i := 1; i <= 100; i++ {
		require.NoError(t, h.SetRetention(bg, time.Duration(i)*time.Second))
		st, err := h.Status(bg)
		require.NoError(t, err)
		require.Equal(t, time.Duration(i)*time.Second, st.Attributes.Retention, "after SetRetention number %d", i)
	}
}

// TestALeaseEndedDuringAReadingStaysEnded: a reading of the directory's leases (reconcileAll, after
// a fence) that began before the watch brought the end of a lease does not bring that lease back:
// no later event would end it again, and its member would pass for alive for good, so nothing it
// was active for would get a new active. A lease taken again after its end is merged as read.
func TestALeaseEndedDuringAReadingStaysEnded(t *testing.T) {
	cl := newCluster(t)
	m := cl.join("a", directory.KindServer)
	ghost := directory.MemberInfo{Name: "ghost", Kind: directory.KindServer, Incarnation: "1"}
	m.onLease(directory.MemberEvent{Name: "ghost", Alive: true, Info: ghost})
	require.True(t, m.alive("ghost"))

	since := m.leaseEndsSeen() // a reading begins: it sees the lease alive
	read := map[string]directory.MemberInfo{"ghost": ghost}
	m.onLease(directory.MemberEvent{Name: "ghost"}) // the lease ends meanwhile
	m.mergeMembers(read, since)
	require.False(t, m.alive("ghost"), "the end seen during the reading stands")

	since = m.leaseEndsSeen() // a reading after the end, of a lease taken again
	m.mergeMembers(read, since)
	require.True(t, m.alive("ghost"))
}

// TestACopyOfADestroyedCheckpointLeavesNothingBehind: a copy that arrives after the checkpoint was
// destroyed (its active sent it just before) installs nothing and leaves no state in the member's
// table, through NATS and on a link; one whose install was under way when the member learnt of the
// destruction is dropped when it ends.
func TestACopyOfADestroyedCheckpointLeavesNothingBehind(t *testing.T) {
	cl := newCluster(t)
	a := cl.join("a", directory.KindApplication)
	b := cl.join("b", directory.KindApplication)
	create := func(name string) (uint64, engine.Checkpoint, engine.SnapshotHeader) {
		h, err := a.Open(bg, name, attrs(engine.WriteAllReplicas), rwc)
		require.NoError(t, err)
		_, err = h.CreateSection(bg, []byte("s"), engine.Never, []byte("v"))
		require.NoError(t, err)
		id, err := a.dir.Lookup(bg, []byte(name))
		require.NoError(t, err)
		return id, h, engine.SnapshotHeader{ID: id, Name: name, Attrs: *attrs(engine.WriteAllReplicas), Epoch: 1, LSN: 1}
	}
	destroy := func(name string, id uint64, h engine.Checkpoint) {
		require.NoError(t, a.Delete(bg, name))
		require.NoError(t, h.Close())
		require.Eventually(t, func() bool { _, err := b.dir.Get(bg, id); return errors.Is(err, directory.ErrNotFound) }, 10*time.Second, 10*time.Millisecond)
	}
	piece := func(id uint64, hdr engine.SnapshotHeader, part uint8, viaLink bool) wire.AckStatus {
		frame := (&wire.SnapshotMsg{Ckpt: id, Epoch: 1, Part: part, Header: hdr}).Encode(nil)
		if !viaLink {
			var got wire.AckStatus
			b.snapshotPiece(frame, func(ack wire.AckMsg) { got = ack.Status })
			return got
		}
		reply := b.onLinkFrame("a", frame)
		if reply == nil {
			return wire.AckFailed // refused without an answer
		}
		ack, err := wire.DecodeAckMsg(reply)
		require.NoError(t, err)
		return ack.Status
	}
	leftNothing := func(id uint64, what string) {
		require.Eventually(t, func() bool {
			b.mu.Lock()
			defer b.mu.Unlock()
			return b.ckpts[id] == nil
		}, 5*time.Second, 10*time.Millisecond, "%s: the table keeps the destroyed checkpoint", what)
		require.Eventually(t, func() bool { return b.reps.Get(id) == nil }, 5*time.Second, 10*time.Millisecond,
			"%s: a replica of the destroyed checkpoint stays", what)
	}

	// The copy arrives after the member learnt of the destruction.
	id, h, hdr := create("short-lived")
	destroy("short-lived", id, h)
	require.Eventually(t, func() bool { b.mu.Lock(); defer b.mu.Unlock(); return b.ckpts[id] == nil }, 10*time.Second, 10*time.Millisecond)
	for _, viaLink := range []bool{false, true} {
		for _, part := range []uint8{wire.SnapHeader, wire.SnapEnd} {
			require.NotEqual(t, wire.AckOK, piece(id, hdr, part, viaLink), "via link %v: a piece of a copy of a destroyed checkpoint was taken", viaLink)
		}
		leftNothing(id, fmt.Sprintf("via link %v", viaLink))
	}

	// The copy began before: its install ends after the destruction.
	id, h, hdr = create("shorter-lived")
	require.Equal(t, wire.AckOK, piece(id, hdr, wire.SnapHeader, false))
	destroy("shorter-lived", id, h)
	leftNothing(id, "an install under way") // (it would have waited a minute for the rest of the copy)
	require.NotEqual(t, wire.AckOK, piece(id, hdr, wire.SnapEnd, false), "the end of a copy whose install was given up")
	leftNothing(id, "the end of a copy given up")
}

// TestShutdownWaitsForTheNATSHandlersUnderWay: NATS's Unsubscribe does not wait for a handler that
// is running; a member's shutdown does, before it closes the store that handler may be writing to
// (the race detector saw an op applied while the store was being closed), and no handler runs
// after it.
func TestShutdownWaitsForTheNATSHandlersUnderWay(t *testing.T) {
	cl := newCluster(t)
	m := cl.join("a", directory.KindApplication)
	entered, release := make(chan struct{}), make(chan struct{})
	h := m.handled(func(*nats.Msg) { close(entered); <-release })
	go h(&nats.Msg{})
	<-entered
	down := make(chan struct{})
	go func() {
		delete(cl.members, "a")
		m.closed.Store(true)
		m.shutdown()
		close(down)
	}()
	select {
	case <-down:
		t.Fatal("shutdown returned while a handler was running")
	case <-time.After(200 * time.Millisecond):
	}
	close(release)
	<-down
	ran := false
	m.handled(func(*nats.Msg) { ran = true })(&nats.Msg{})
	require.False(t, ran, "a handler ran after shutdown")
}

// TestACloseThatCannotReachTheDirectoryEndsTheHandle: an application closes a handle while its
// NATS connection is cut, until Close's deadline. The handle ends (Close returns nil, later calls
// say ErrBadHandle) though the directory still counts its open; once the application leaves, the
// open is counted closed.
func TestACloseThatCannotReachTheDirectoryEndsTheHandle(t *testing.T) {
	cl := newCluster(t)
	paths := cl.cutPaths("app")
	cl.tune = func(c *config.Config) { c.Lease = time.Minute } // the cut does not end app's lease
	s1 := cl.join("s1", directory.KindServer)
	app := cl.join("app", directory.KindApplication)
	h, err := app.Open(bg, "ck", attrs(0), rwc)
	require.NoError(t, err)
	_, err = h.CreateSection(bg, []byte("s"), engine.Never, []byte("x"))
	require.NoError(t, err)

	paths["app"].Cut()
	require.Eventually(t, func() bool { return !app.nc.IsConnected() }, 5*time.Second, time.Millisecond)
	ctx, cancel := context.WithTimeout(bg, 300*time.Millisecond) // Close's own deadline, shortened
	defer cancel()
	require.NoError(t, h.(*handle).close(ctx))
	require.ErrorIs(t, h.Close(), engine.ErrBadHandle)
	require.Equal(t, 1, cl.entryOf(s1, "ck").Openers["app"], "the directory saw the close")
	paths["app"].Restore()
	require.Eventually(t, app.nc.IsConnected, 5*time.Second, time.Millisecond)
	require.NoError(t, app.Close())
	delete(cl.members, "app")
	require.Eventually(t, func() bool { return cl.entryOf(s1, "ck").Openers["app"] == 0 }, 10*time.Second, 10*time.Millisecond)
}
