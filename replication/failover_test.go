package replication

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/clckpt/libclckpt/config"
	"github.com/clckpt/libclckpt/engine"
	"github.com/clckpt/libclckpt/replication/directory"
	"github.com/clckpt/libclckpt/replication/wire"
)

// activeOf returns the member that is active for the checkpoint.
func (cl *cluster) activeOf(m *Member, name string) string { return cl.entryOf(m, name).Active }

// entryOf reads the directory entry of checkpoint name through member m.
func (cl *cluster) entryOf(m *Member, name string) *directory.Entry {
	id, err := m.dir.Lookup(bg, []byte(name))
	require.NoError(cl.t, err)
	e, err := m.dir.Get(bg, id)
	require.NoError(cl.t, err)
	return e
}

// TestElectionAfterTheActiveServerDies: WR_ALL_REPLICAS on three servers, a writer making numbered
// writes; the active server dies in the middle; writes continue on a new active and every
// acknowledged write is there.
func TestElectionAfterTheActiveServerDies(t *testing.T) {
	cl := newCluster(t)
	for _, s := range []string{"s1", "s2", "s3"} {
		cl.join(s, directory.KindServer)
	}
	app := cl.join("app", directory.KindApplication)
	h, err := app.Open(bg, "ck", attrs(engine.WriteAllReplicas), rwc)
	require.NoError(t, err)
	_, err = h.CreateSection(bg, []byte("n"), engine.Never, make([]byte, 8))
	require.NoError(t, err)
	active := cl.activeOf(app, "ck")
	acked := uint64(0)
	for i := uint64(1); i <= 300; i++ {
		if i == 150 {
			cl.crash(active)
		}
		err := h.Overwrite(bg, []byte("n"), binary.BigEndian.AppendUint64(nil, i))
		require.NoError(t, err, "write %d", i)
		acked = i
	}
	newActive := cl.activeOf(app, "ck")
	require.NotEqual(t, active, newActive)
	// The metrics say so: one election named it, and it took the role over once.
	elected := 0.0
	for _, m := range cl.members {
		elected += metricSum(t, m, "clckpt_elections_total", "result", "elected")
	}
	require.GreaterOrEqual(t, elected, 1.0)
	require.Equal(t, 1.0, metricSum(t, cl.members[newActive], "clckpt_failovers_total"))
	el := []engine.ReadElement{{SectionID: []byte("n")}}
	require.NoError(t, h.Read(bg, el))
	require.Equal(t, acked, binary.BigEndian.Uint64(el[0].Buffer))
	// The surviving replicas converge to the same content.
	var survivors []*Member
	for name, m := range cl.members {
		if name != "app" {
			survivors = append(survivors, m)
		}
	}
	require.Len(t, survivors, 2)
	require.Eventually(t, func() bool {
		return replicaContent(t, survivors[0], "ck") == replicaContent(t, survivors[1], "ck")
	}, 10*time.Second, 20*time.Millisecond)
}

// TestRestartedReplicaCatchesUp: a replica is down during writes, comes back on the same data
// directory, and ends byte-identical to the active.
func TestRestartedReplicaCatchesUp(t *testing.T) {
	cl, app, h, _ := serversAndApp(t)
	for i := 0; i < 8; i++ {
		_, err := h.CreateSection(bg, []byte(fmt.Sprint(i)), engine.Never, []byte("start"))
		require.NoError(t, err)
	}
	active := cl.activeOf(app, "ck")
	follower := "s1"
	if active == "s1" {
		follower = "s2"
	}
	cl.crash(follower)
	for i := 0; i < 200; i++ {
		retryWhileTryAgain(t, func() error {
			return h.Overwrite(bg, []byte(fmt.Sprint(i%8)), []byte(fmt.Sprintf("value %d", i)))
		})
	}
	cl.join(follower, directory.KindServer)
	require.Eventually(t, func() bool {
		return replicaContent(t, cl.members[follower], "ck") == replicaContent(t, cl.members[active], "ck")
	}, 15*time.Second, 20*time.Millisecond, "the restarted replica catches up")
	require.GreaterOrEqual(t, metricSum(t, cl.members[active], "clckpt_catchup_copies_total"), 1.0, "a copy caught it up")
	require.Greater(t, metricSum(t, cl.members[active], "clckpt_catchup_copy_bytes_total"), 0.0)
	// And it is back in the in-sync set.
	require.Eventually(t, func() bool {
		id, _ := app.dir.Lookup(bg, []byte("ck"))
		e, _ := app.dir.Get(bg, id)
		return e != nil && e.IsSynced(follower)
	}, 10*time.Second, 20*time.Millisecond)
}

// retryWhileTryAgain calls f until it returns something else than ErrTryAgain (for at most 30 s),
// as a program does, and requires that to be nil. With one replica of two down, a loaded machine can
// let the active's lease lapse for a moment: the other members then see no in-sync replica to
// elect and answer TRY_AGAIN until the active renews it.
func retryWhileTryAgain(t *testing.T, f func() error) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	err := f()
	for errors.Is(err, engine.ErrTryAgain) && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
		err = f()
	}
	require.NoError(t, err)
}

// TestDistributedNotificationsReachOtherMembers: every subscribed handle on every member hears about
// a change, except the handle that made it.
func TestDistributedNotificationsReachOtherMembers(t *testing.T) {
	_, _, b, ha, hb := twoApps(t, "hot", engine.Distributed|engine.WriteAllReplicas)
	var mu sync.Mutex
	got := map[string][]string{}
	for name, h := range map[string]engine.Checkpoint{"a": ha, "b": hb} {
		require.NoError(t, h.Subscribe(func(u engine.Update) {
			mu.Lock()
			defer mu.Unlock()
			got[name] = append(got[name], string(u.Elements[0].Data))
		}))
	}
	_, err := ha.CreateSection(bg, []byte("s"), engine.Never, nil)
	require.NoError(t, err)
	// b's replica must be in place before the writes it should hear of.
	require.Eventually(t, func() bool { return replicaContent(t, b, "hot") != "no replica" }, 10*time.Second, 10*time.Millisecond)
	require.NoError(t, ha.Overwrite(bg, []byte("s"), []byte("from a")))
	require.NoError(t, hb.Overwrite(bg, []byte("s"), []byte("from b")))
	require.Eventually(t, func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(got["a"]) == 1 && len(got["b"]) == 1
	}, 10*time.Second, 10*time.Millisecond)
	mu.Lock()
	defer mu.Unlock()
	require.Equal(t, []string{"from b"}, got["a"])
	require.Equal(t, []string{"from a"}, got["b"])
}

// TestLifecycleAcrossMembers: opens count across members, delete unlinks the name at once, retention
// 0 destroys at the last close anywhere, and the death of a member closes its opens.
func TestLifecycleAcrossMembers(t *testing.T) {
	cl := newCluster(t)
	a := cl.join("a", directory.KindApplication)
	b := cl.join("b", directory.KindApplication)
	zero := attrs(engine.WriteActiveReplica)
	zero.Retention = 0
	ha, err := a.Open(bg, "z", zero, rwc)
	require.NoError(t, err)
	hb, err := b.Open(bg, "z", nil, engine.OpenRead)
	require.NoError(t, err)
	require.NoError(t, ha.Close())
	require.True(t, exists(a, "z"), "b still has it open")
	require.NoError(t, hb.Close())
	require.False(t, exists(a, "z"), "destroyed at the last close, on another member")

	// Delete while open elsewhere: the name goes at once, the handle keeps working.
	hd, err := a.Open(bg, "d", attrs(engine.WriteActiveReplica), rwc)
	require.NoError(t, err)
	_, err = hd.CreateSection(bg, []byte("s"), engine.Never, []byte("x"))
	require.NoError(t, err)
	require.NoError(t, b.Delete(bg, "d"))
	_, err = b.Open(bg, "d", nil, engine.OpenRead)
	require.ErrorIs(t, err, engine.ErrNotExist)
	require.Equal(t, "x", read(t, hd, "s"))
	require.NoError(t, hd.Close())
	list, err := a.dir.List(bg)
	require.NoError(t, err)
	for _, e := range list {
		require.NotEqual(t, "d", string(e.Name), "destroyed at the last close")
	}

	// A member dies with a checkpoint open: its open counts as closed, retention 0 destroys it.
	_, err = b.Open(bg, "dies", zero, rwc)
	require.NoError(t, err)
	cl.crash("b")
	require.Eventually(t, func() bool { return !exists(a, "dies") }, 15*time.Second, 50*time.Millisecond)
}

// exists looks a checkpoint up in the directory without opening it.
func exists(m *Member, name string) bool {
	_, err := m.dir.Lookup(bg, []byte(name))
	return !errors.Is(err, directory.ErrNotFound)
}

// TestHandoverWhileBothAreAlive: ActiveReplicaSet on the standby while the active still runs; the
// standby gets every op of the old active, and writes continue there.
func TestHandoverWhileBothAreAlive(t *testing.T) {
	cl := newCluster(t)
	a := cl.join("a", directory.KindApplication)
	b := cl.join("b", directory.KindApplication)
	at := &engine.Attributes{Flags: engine.Collocated | engine.WriteActiveReplica, MaxSections: 4, MaxSectionIDSize: 8}
	ha, err := a.Open(bg, "c", at, rwc)
	require.NoError(t, err)
	hb, err := b.Open(bg, "c", at, rwc)
	require.NoError(t, err)
	require.NoError(t, ha.SetActiveReplica(bg))
	_, err = ha.CreateSection(bg, []byte("s"), engine.Never, nil)
	require.NoError(t, err)
	for i := 0; i < 100; i++ { // asynchronous: no Synchronize, the handover must carry them
		require.NoError(t, ha.Overwrite(bg, []byte("s"), []byte(fmt.Sprint(i))))
	}
	require.NoError(t, hb.SetActiveReplica(bg))
	require.Equal(t, "99", read(t, hb, "s"))
	require.Equal(t, "b", cl.activeOf(a, "c"))
	require.NoError(t, ha.Overwrite(bg, []byte("s"), []byte("from a, through b")))
	require.Equal(t, "from a, through b", read(t, hb, "s"))
	require.Eventually(t, func() bool { return replicaContent(t, a, "c") == replicaContent(t, b, "c") }, 10*time.Second, 10*time.Millisecond)
}

// serversAndApp makes two server members and an application member that opens the WR_ALL_REPLICAS
// checkpoint "ck" (whose directory id it returns).
func serversAndApp(t *testing.T) (*cluster, *Member, engine.Checkpoint, uint64) {
	cl := newCluster(t)
	for _, s := range []string{"s1", "s2"} {
		cl.join(s, directory.KindServer)
	}
	app := cl.join("app", directory.KindApplication)
	h, err := app.Open(bg, "ck", attrs(engine.WriteAllReplicas), rwc)
	require.NoError(t, err)
	id, err := app.dir.Lookup(bg, []byte("ck"))
	require.NoError(t, err)
	return cl, app, h, id
}

// TestARetriedCallIsAppliedOnce: a forwarded change whose reply was lost is sent again, to the same
// active and, after that one died, to the new active. Each time it gets the first outcome: the
// same generated section, and no second one.
func TestARetriedCallIsAppliedOnce(t *testing.T) {
	cl, app, h, id := serversAndApp(t)
	call := func() *wire.ReplyMsg {
		e, err := app.dir.Get(bg, id)
		require.NoError(t, err)
		r, err := app.request(bg, e.Active, &wire.CallMsg{Kind: wire.CallCreateSection, Ckpt: id, Epoch: e.Epoch,
			Origin: "app/99", Request: 0xabcdef, Expiration: engine.Never.UnixNano(), Data: []byte("once")})
		require.NoError(t, err)
		require.False(t, r.NotActive)
		require.NoError(t, r.Err)
		return r
	}
	first := call()
	require.Equal(t, "generatedSection0\x00", string(first.Section))
	require.Equal(t, first.Section, call().Section, "sent again to the same active")

	active := cl.activeOf(app, "ck")
	cl.crash(active)
	cl.waitDead(active)
	// Any call makes the service elect a new active; the status call changes nothing.
	st, err := h.Status(bg)
	require.NoError(t, err)
	require.NotEqual(t, active, cl.activeOf(app, "ck"))
	require.Equal(t, first.Section, call().Section, "sent again to the new active")
	st, err = h.Status(bg)
	require.NoError(t, err)
	require.Equal(t, uint32(1), st.NumberOfSections)

	// A new request is a new change.
	next, err := h.CreateSection(bg, nil, engine.Never, []byte("twice"))
	require.NoError(t, err)
	require.Equal(t, "generatedSection1\x00", string(next))
}

// TestOnlyAnInSyncReplicaIsElected: a WR_ALL_REPLICAS checkpoint whose active had taken its only
// other replica out of the in-sync set loses that active: the out-of-sync replica, which may lack
// acknowledged writes, is not elected; calls say TRY_AGAIN instead of answering from it.
func TestOnlyAnInSyncReplicaIsElected(t *testing.T) {
	cl, app, h, id := serversAndApp(t)
	_, err := h.CreateSection(bg, []byte("s"), engine.Never, []byte("v1"))
	require.NoError(t, err)
	active := cl.activeOf(app, "ck")
	// What the active records before it acknowledges writes without a replica that stopped answering.
	_, err = app.dir.Update(bg, id, func(e *directory.Entry) error {
		e.Synced = []string{active}
		return nil
	})
	require.NoError(t, err)
	cl.crash(active)
	cl.waitDead(active)
	err = h.Write(bg, []engine.WriteElement{{SectionID: []byte("s"), Data: []byte("v2")}})
	require.ErrorIs(t, err, engine.ErrTryAgain)
	e, err := app.dir.Get(bg, id)
	require.NoError(t, err)
	require.Equal(t, active, e.Active, "no replica out of sync was elected")
}

// TestAnIdleFollowerRejoinsTheInSyncSet: a follower taken out of the in-sync set while it was alive
// and caught up (its lease seemed to end, or the directory could not take a change) is put back
// without waiting for another write.
func TestAnIdleFollowerRejoinsTheInSyncSet(t *testing.T) {
	cl, app, h, id := serversAndApp(t)
	_, err := h.CreateSection(bg, []byte("s"), engine.Never, []byte("v1"))
	require.NoError(t, err)
	active := cl.activeOf(app, "ck")
	follower := map[string]string{"s1": "s2", "s2": "s1"}[active]
	synced := func() bool {
		e, err := app.dir.Get(bg, id)
		require.NoError(t, err)
		return e.IsSynced(follower)
	}
	require.Eventually(t, synced, 10*time.Second, 10*time.Millisecond)
	_, a := cl.members[active].ckptFor(id).localActive()
	require.NotNil(t, a)
	require.Eventually(t, func() bool { // every ack and copy of the start is over: the stream is idle
		a.mu.Lock()
		defer a.mu.Unlock()
		s := a.streams[follower]
		return s != nil && s.phase == phaseLive && s.acked == a.lsn && !s.rejoining && a.synced[follower] && !a.joining[follower]
	}, 10*time.Second, 10*time.Millisecond)
	a.forget(follower)
	require.False(t, synced(), "taken out")
	require.Eventually(t, synced, 10*time.Second, 10*time.Millisecond, "back in, with no write since")
}

// TestCallsKeepNoneOfTheCallersBuffers: once a write returns, its caller may reuse the buffers it
// passed (the C library hands the engine a pooled copy that serves the next call). Every write
// below is followed by scribbling over its buffer; the replicas, the notifications and the reads
// must all have what was written, never the scribble. Writes go to the local active and through
// another member, in each write mode.
func TestCallsKeepNoneOfTheCallersBuffers(t *testing.T) {
	cl := newCluster(t)
	a := cl.join("a", directory.KindApplication)
	b := cl.join("b", directory.KindApplication)
	for _, mode := range []engine.CreationFlags{engine.WriteAllReplicas, engine.WriteActiveReplica} {
		name := fmt.Sprintf("buffers-%d", mode)
		at := attrs(engine.Distributed | mode)
		ha, err := a.Open(bg, name, at, rwc)
		require.NoError(t, err)
		hb, err := b.Open(bg, name, at, rwc)
		require.NoError(t, err)
		near, err := a.Open(bg, name, nil, engine.OpenRead) // hears of a's writes on a itself
		require.NoError(t, err)
		var mu sync.Mutex
		heard := map[engine.Checkpoint][][]byte{}
		for _, h := range []engine.Checkpoint{hb, near} {
			require.NoError(t, h.Subscribe(func(u engine.Update) {
				mu.Lock()
				defer mu.Unlock()
				for _, e := range u.Elements {
					heard[h] = append(heard[h], e.Data)
				}
			}))
		}
		for _, s := range []string{"s", "t"} {
			_, err = ha.CreateSection(bg, []byte(s), engine.Never, nil)
			require.NoError(t, err)
		}
		require.Eventually(t, func() bool { return replicaContent(t, b, name) != "no replica" }, 10*time.Second, 10*time.Millisecond)
		fill := func(p []byte, v byte) []byte {
			for i := range p {
				p[i] = v
			}
			return p
		}
		buf, other := make([]byte, 4096), make([]byte, 512)
		writes := 0
		for i := range 50 {
			v := byte(i + 1)
			require.NoError(t, ha.Overwrite(bg, []byte("s"), fill(buf, v)))
			fill(buf, 0xEE)
			require.NoError(t, hb.Write(bg, []engine.WriteElement{{SectionID: []byte("t"), Data: fill(other, v)}}))
			fill(other, 0xEE)
			writes += 2
		}
		if mode != engine.WriteAllReplicas {
			require.NoError(t, ha.Synchronize(bg))
		}
		want := fmt.Sprintf("s=%x;t=%x;", fill(make([]byte, 4096), 50), fill(make([]byte, 512), 50))
		for _, m := range []*Member{a, b} {
			require.Eventually(t, func() bool { return strings.HasSuffix(replicaContent(t, m, name), ": "+want) }, 10*time.Second, 10*time.Millisecond,
				"%s's replica of %s", m.Name(), name)
		}
		require.Equal(t, fill(make([]byte, 4096), 50), []byte(read(t, hb, "s")))
		// hb hears of a's overwrites, not of its own writes; near hears of both.
		require.Eventually(t, func() bool {
			mu.Lock()
			defer mu.Unlock()
			return len(heard[hb]) == writes/2 && len(heard[near]) == writes
		}, 10*time.Second, 10*time.Millisecond)
		mu.Lock()
		for i, d := range heard[hb] {
			require.Equal(t, fill(make([]byte, 4096), byte(i+1)), d, "notification %d of %s on b", i, name)
		}
		overwrites := 0
		for _, d := range heard[near] {
			if len(d) == 4096 { // the order of a's and b's changes may differ from the calls'
				overwrites++
				require.Equal(t, fill(make([]byte, 4096), byte(overwrites)), d, "notification of overwrite %d of %s on a", overwrites, name)
			} else {
				require.NotContains(t, d, byte(0xEE), "notification of a write of %s on a", name)
			}
		}
		mu.Unlock()
		for _, h := range []engine.Checkpoint{ha, hb, near} {
			require.NoError(t, h.Close())
		}
	}
}

// TestAFencedActiveTakesItsRoleBackWhenTheDirectoryRecovers: an active whose lease lapsed gives up
// its role and takes it back once the lease is renewed, by reading the directory. While that read
// fails (JetStream still electing leaders after a cut), nobody else may take over, since the
// member's lease is alive: it must keep reading until it can, or the checkpoint has no active for
// good.
func TestAFencedActiveTakesItsRoleBackWhenTheDirectoryRecovers(t *testing.T) {
	cl, a, b, ha, hb := twoApps(t, "ck", engine.Collocated|engine.WriteActiveReplica)
	require.NoError(t, ha.SetActiveReplica(bg))
	_, err := ha.CreateSection(bg, []byte("s"), engine.Never, []byte("v1"))
	require.NoError(t, err)

	const failures = 3
	var calls atomic.Int32
	real := a.resync
	a.resync = func(ctx context.Context) error {
		if calls.Add(1) <= failures {
			return fmt.Errorf("%w: the directory does not answer (injected)", directory.ErrUnavailable)
		}
		return real(ctx)
	}
	id, err := a.dir.Lookup(bg, []byte("ck"))
	require.NoError(t, err)
	a.fence() // as when renewals fail for two thirds of the lease; the next one succeeds
	rep, _ := a.ckptFor(id).localActive()
	require.Nil(t, rep, "fenced: not active")

	// Calls on the member's own handle (a call forwarded from another member would make it read
	// the entry itself).
	require.Eventually(t, func() bool {
		return ha.Overwrite(bg, []byte("s"), []byte("v2")) == nil
	}, 15*time.Second, 20*time.Millisecond, "the active serves again")
	require.Equal(t, "v2", read(t, hb, "s"))
	require.Equal(t, "a", cl.activeOf(b, "ck"), "the same member, not a takeover")
	require.Greater(t, calls.Load(), int32(failures), "the directory was read again after each failure")
}

// TestAWriteAfterACleanLeaveDoesNotWaitForTheLeaver: a member that leaves with Close gives its lease
// up, and the active takes it out of the replicas it waits for at once. With an ack timeout of ten
// minutes, a WR_ALL_REPLICAS write made after a follower left cleanly must complete; one that still
// waited for the leaver's acknowledgement would wait until that timeout. Both layouts: a follower
// server, and a follower application of a DISTRIBUTED checkpoint (a replica in each opener).
func TestAWriteAfterACleanLeaveDoesNotWaitForTheLeaver(t *testing.T) {
	for _, distributed := range []bool{false, true} {
		t.Run(fmt.Sprint("distributed=", distributed), func(t *testing.T) {
			cl := newCluster(t)
			cl.tune = func(c *config.Config) { c.AckTimeout = 10 * time.Minute }
			flags := engine.WriteAllReplicas
			kind := directory.KindServer
			if distributed {
				flags |= engine.Distributed
				kind = directory.KindApplication
			}
			for _, n := range []string{"s1", "s2"} {
				cl.join(n, kind)
			}
			app := cl.join("app", directory.KindApplication)
			h, err := app.Open(bg, "leave", attrs(flags), rwc)
			require.NoError(t, err)
			if distributed {
				for _, n := range []string{"s1", "s2"} {
					_, err := cl.members[n].Open(bg, "leave", attrs(flags), rwc)
					require.NoError(t, err)
				}
			}
			_, err = h.CreateSection(bg, []byte("s"), engine.Never, []byte("v0"))
			require.NoError(t, err)
			id, err := app.dir.Lookup(bg, []byte("leave"))
			require.NoError(t, err)
			active := cl.activeOf(app, "leave")
			var leaver string
			require.Eventually(t, func() bool { // a follower in the in-sync set, acknowledging writes
				e, err := app.dir.Get(bg, id)
				require.NoError(t, err)
				for _, f := range e.Synced {
					if f != active && f != "app" {
						leaver = f
						return true
					}
				}
				return false
			}, 30*time.Second, 10*time.Millisecond)
			ctx, cancel := context.WithTimeout(bg, 60*time.Second)
			require.NoError(t, h.Overwrite(ctx, []byte("s"), []byte("v1")), "the follower acknowledges")
			cancel()
			m := cl.members[leaver]
			delete(cl.members, leaver)
			require.NoError(t, m.Close())
			for i := range 3 {
				ctx, cancel := context.WithTimeout(bg, 60*time.Second)
				err := h.Overwrite(ctx, []byte("s"), []byte(fmt.Sprint("v", i+2)))
				cancel()
				require.NoError(t, err, "write %d after %s left", i, leaver)
			}
			require.Equal(t, "v4", read(t, h, "s"))
			// The others leave too: none waits for an answer from the member that is gone (a
			// stream's position query to it lasted the ack timeout and held Close).
			for n, m := range cl.members {
				delete(cl.members, n)
				closed := make(chan error, 1)
				go func() { closed <- m.Close() }()
				select {
				case err := <-closed:
					require.NoError(t, err)
				case <-time.After(60 * time.Second):
					t.Fatalf("Close of %s did not return", n)
				}
			}
		})
	}
}

// TestASlowActiveIsNotDeposed: a forwarded write to an active that is alive (its lease renewed, its
// probes answered) but slower than a whole attempt is tried again on it, not given to another
// replica: an asynchronous active may hold acknowledged writes its followers have not yet seen, and
// nobody may take over from a member whose lease is alive.
func TestASlowActiveIsNotDeposed(t *testing.T) {
	cl := newCluster(t)
	cl.tune = func(c *config.Config) {
		c.Lease = 2 * time.Second
		c.AckTimeout = 100 * time.Millisecond // an attempt: 2.2 s
	}
	cl.join("s1", directory.KindServer)
	cl.join("s2", directory.KindServer)
	app := cl.join("app", directory.KindApplication)
	h, err := app.Open(bg, "slow", attrs(0), rwc)
	require.NoError(t, err)
	_, err = h.CreateSection(bg, []byte("s"), engine.Never, []byte("0"))
	require.NoError(t, err)
	before := cl.entryOf(app, "slow")
	id := before.ID
	require.Len(t, before.Replicas, 2)
	require.False(t, before.HasReplica("app"))
	m := cl.members[before.Active]
	_, a := m.ckptFor(id).localActive()
	m.release(m.ckptFor(id))
	require.NotNil(t, a)

	// The active's writes stall for longer than an attempt: its replica's changes wait for a.mu.
	a.mu.Lock()
	released := make(chan struct{})
	go func() {
		time.Sleep(3500 * time.Millisecond)
		a.mu.Unlock()
		close(released)
	}()
	require.NoError(t, h.Overwrite(bg, []byte("s"), []byte("1")))
	<-released
	after := cl.entryOf(app, "slow")
	require.Equal(t, before.Active, after.Active, "the slow active was deposed")
	require.Equal(t, before.Epoch, after.Epoch)
	require.Equal(t, "1", read(t, h, "s"))
}

// TestAnActiveThatReconnectsIsNotDeposed: the NATS connection of an asynchronous checkpoint's
// active drops (the server restarted, or dropped it as a slow consumer) while a call forwarded to
// it is in flight on a call link; its subscriptions are gone until it reconnects, so the caller's
// probes get "no responders", and so do more calls made meanwhile, those that find no idle link
// going through NATS. The links show the process alive and its lease lives: the calls wait for
// the answers, and the active is not deposed (its writes that the follower has not yet seen would
// be lost).
func TestAnActiveThatReconnectsIsNotDeposed(t *testing.T) {
	cl := newCluster(t)
	paths := cl.cutPaths("s1", "s2")
	cl.tune = func(c *config.Config) {
		c.Lease = 2 * time.Second
		c.AckTimeout = 100 * time.Millisecond
	}
	cl.join("s1", directory.KindServer)
	cl.join("s2", directory.KindServer)
	app := cl.join("app", directory.KindApplication)
	h, err := app.Open(bg, "rc", attrs(0), rwc)
	require.NoError(t, err)
	for i := range 7 {
		_, err = h.CreateSection(bg, fmt.Appendf(nil, "s%d", i), engine.Never, []byte("0"))
		require.NoError(t, err)
	}
	require.Eventually(t, func() bool {
		require.NoError(t, h.Overwrite(bg, []byte("s0"), []byte("0")))
		onLinks, _ := app.CallsSent()
		return onLinks > 0
	}, 10*time.Second, 10*time.Millisecond, "calls never took a link")
	before := cl.entryOf(app, "rc")
	m := cl.members[before.Active]
	_, a := m.ckptFor(before.ID).localActive()
	m.release(m.ckptFor(before.ID))
	require.NotNil(t, a)

	// The active's changes wait for a.mu: the forwarded write is in flight on its link when the
	// active's NATS connection drops.
	a.mu.Lock()
	done := make(chan error, 7)
	write := func(i int) { done <- h.Overwrite(bg, fmt.Appendf(nil, "s%d", i), []byte("1")) }
	go write(0)
	time.Sleep(100 * time.Millisecond)
	paths[before.Active].Cut()
	require.Eventually(t, func() bool { return !m.nc.IsConnected() }, 5*time.Second, time.Millisecond)
	_, onNATS := app.CallsSent()
	for i := 1; i < 7; i++ { // more than maxCallLinks: some go through NATS
		go write(i)
	}
	time.Sleep(300 * time.Millisecond) // the caller's probes and calls meet "no responders" meanwhile
	paths[before.Active].Restore()
	require.Eventually(t, m.nc.IsConnected, 5*time.Second, time.Millisecond)
	a.mu.Unlock()
	for range 7 {
		require.NoError(t, <-done)
	}
	_, onNATSAfter := app.CallsSent()
	require.Greater(t, onNATSAfter, onNATS, "no call went through NATS during the cut")
	after := cl.entryOf(app, "rc")
	require.Equal(t, before.Active, after.Active, "the active was deposed while it reconnected")
	require.Equal(t, before.Epoch, after.Epoch)
	for i := range 7 {
		require.Equal(t, "1", read(t, h, fmt.Sprintf("s%d", i)))
	}
}

// TestADeadActiveIsReplacedWhileItsLeaseLives: the caller holds idle call links to the active's
// process when it dies. Its kernel closes them, and "no responders" from NATS is then death: a new
// active is elected at once, long before the dead member's lease (10 s here) ends, and the write
// is sent again through NATS once only, after the link it took broke. (Idle links read by nobody
// would pass for up: each would be tried in turn, with a retry's wait after each.)
func TestADeadActiveIsReplacedWhileItsLeaseLives(t *testing.T) {
	cl := newCluster(t)
	cl.tune = func(c *config.Config) { c.Lease = 10 * time.Second }
	for _, s := range []string{"s1", "s2", "s3"} {
		cl.join(s, directory.KindServer)
	}
	app := cl.join("app", directory.KindApplication)
	h, err := app.Open(bg, "ck", attrs(engine.WriteAllReplicas), rwc)
	require.NoError(t, err)
	_, err = h.CreateSection(bg, []byte("n"), engine.Never, []byte("0"))
	require.NoError(t, err)
	fourCallLinks(t, app, h)
	dead := cl.activeOf(app, "ck")
	cl.crash(dead)
	resent := app.callsResent.Load()
	require.NoError(t, h.Overwrite(bg, []byte("n"), []byte("1")))
	require.True(t, app.alive(dead), "the write waited for the dead active's lease to end")
	require.LessOrEqual(t, app.callsResent.Load()-resent, uint64(1), "the write tried the dead active's links one by one")
	require.NotEqual(t, dead, cl.activeOf(app, "ck"))
	require.Equal(t, "1", read(t, h, "n"))
}

// TestADeadPeerSeenOnAnIdleOpLink: server s1 is the active of a WR_ALL_REPLICAS checkpoint that s2
// follows (s1 holds an op link to s2, idle once every op is acknowledged) and forwards a write on
// another checkpoint to its active, s2, which then dies. Looking at the op link for a sign of life
// finds it down, which runs its close handler: the write must go on to an election, not hang.
func TestADeadPeerSeenOnAnIdleOpLink(t *testing.T) {
	cl := newCluster(t)
	cl.tune = func(c *config.Config) { c.Lease = 10 * time.Second }
	s1 := cl.join("s1", directory.KindServer)
	cl.join("s2", directory.KindServer)
	cl.join("s3", directory.KindServer)
	var onS1, onS2 engine.Checkpoint // WR_ALL_REPLICAS active on s1 and followed by s2; active on s2
	for i := 0; onS1 == nil || onS2 == nil; i++ {
		require.Less(t, i, 64, "no placement of the kind needed")
		name := fmt.Sprintf("ck%d", i)
		h, err := s1.Open(bg, name, attrs(engine.WriteAllReplicas), rwc)
		require.NoError(t, err)
		_, err = h.CreateSection(bg, []byte("s"), engine.Never, []byte("0"))
		require.NoError(t, err)
		e := cl.entryOf(s1, name)
		switch {
		case onS1 == nil && e.Active == "s1" && e.HasReplica("s2"):
			onS1 = h
		case onS2 == nil && e.Active == "s2":
			onS2 = h
		default:
			require.NoError(t, h.Close())
		}
	}
	require.Eventually(t, func() bool { // the ops go on a link to s2 once it is dialed
		require.NoError(t, onS1.Overwrite(bg, []byte("s"), []byte("1")))
		return s1.links.up("s2") != nil
	}, 10*time.Second, 10*time.Millisecond, "no op link from s1 to s2")
	require.NoError(t, onS1.Overwrite(bg, []byte("s"), []byte("1"))) // acknowledged: nothing owed
	cl.crash("s2")
	done := make(chan error, 1)
	go func() { done <- onS2.Overwrite(bg, []byte("s"), []byte("2")) }()
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(time.Minute):
		t.Fatal("the write on the dead member's checkpoint hangs")
	}
	require.Equal(t, "2", read(t, onS2, "s"))
}
