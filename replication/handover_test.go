package replication

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/clckpt/libclckpt/config"
	"github.com/clckpt/libclckpt/engine"
	"github.com/clckpt/libclckpt/replication/directory"
	"github.com/clckpt/libclckpt/replication/wire"
)

// TestActiveReplicaSetRacesLoseNoWrite: three members keep taking the active role of a collocated
// asynchronous checkpoint from one another while each writes its own sections and reads them back.
// Every ActiveReplicaSet succeeds and every acknowledged write is read back: the previous active,
// alive, hands over all its ops, also when two members take over from it at once or when it is
// slow to answer.
func TestActiveReplicaSetRacesLoseNoWrite(t *testing.T) {
	cl := newCluster(t)
	names := []string{"a", "b", "c"}
	hs := map[string]engine.Checkpoint{}
	for _, n := range names {
		m := cl.join(n, "application")
		h, err := m.Open(bg, "race", attrs(engine.Collocated|engine.WriteActiveReplica), rwc)
		require.NoError(t, err)
		hs[n] = h
	}
	require.NoError(t, hs["a"].SetActiveReplica(bg))

	const writes, writers = 150, 2
	var wg sync.WaitGroup
	errs := make(chan error, 100)
	report := func(err error) {
		select {
		case errs <- err:
		default:
		}
	}
	stop := make(chan struct{})
	var switchers sync.WaitGroup
	for _, n := range names {
		switchers.Add(1)
		go func() {
			defer switchers.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				if err := hs[n].SetActiveReplica(bg); err != nil {
					report(fmt.Errorf("%s: ActiveReplicaSet: %w", n, err))
				}
			}
		}()
		for w := range writers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				id := []byte(fmt.Sprintf("%s%d", n, w))
				if _, err := hs[n].CreateSection(bg, id, engine.Never, nil); err != nil {
					report(fmt.Errorf("%s: create: %w", id, err))
					return
				}
				for k := range writes {
					want := fmt.Sprintf("%s-%d", id, k)
					if err := hs[n].Overwrite(bg, id, []byte(want)); err != nil {
						report(fmt.Errorf("%s: overwrite %d: %w", id, k, err))
						continue
					}
					el := []engine.ReadElement{{SectionID: id}}
					if err := hs[n].Read(bg, el); err != nil {
						report(fmt.Errorf("%s: read %d: %w", id, k, err))
					} else if got := string(el[0].Buffer); got != want {
						report(fmt.Errorf("%s: read %q after writing %q", id, got, want))
					}
				}
			}()
		}
	}
	wg.Wait()
	close(stop)
	switchers.Wait()
	close(errs)
	var all []string
	for err := range errs {
		all = append(all, err.Error())
	}
	require.Empty(t, all)
}

// TestAHandoverDoesNotWaitForTheAckTimeout: while the active hands over it is fenced, and the
// acknowledgements of its last ops, which the handover waits for, must still reach its streams.
// With an ack timeout of a minute, twenty handovers under writes each finish well within it; a
// handover that missed the target's acknowledgements would wait until the timeout made the stream
// ask the target where it is.
func TestAHandoverDoesNotWaitForTheAckTimeout(t *testing.T) {
	cl := newCluster(t)
	cl.tune = func(c *config.Config) { c.AckTimeout = time.Minute }
	names := []string{"a", "b", "c"}
	hs := map[string]engine.Checkpoint{}
	for _, n := range names {
		h, err := cl.join(n, "application").Open(bg, "handover", attrs(engine.Collocated|engine.WriteActiveReplica), rwc)
		require.NoError(t, err)
		hs[n] = h
	}
	require.NoError(t, hs["a"].SetActiveReplica(bg))
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for _, n := range names {
		wg.Add(1)
		go func() { // writes through whichever member is active, so every handover has ops to pass on
			defer wg.Done()
			id := []byte(n)
			_, _ = hs[n].CreateSection(bg, id, engine.Never, nil)
			for k := 0; ; k++ {
				select {
				case <-stop:
					return
				case <-time.After(time.Millisecond):
				}
				_ = hs[n].Overwrite(bg, id, []byte(fmt.Sprint(k)))
			}
		}()
	}
	defer func() { close(stop); wg.Wait() }()
	for i := range 20 {
		n := names[(i+1)%len(names)]
		ctx, cancel := context.WithTimeout(bg, 20*time.Second)
		err := hs[n].SetActiveReplica(ctx)
		cancel()
		require.NoError(t, err, "handover %d to %s", i, n)
		time.Sleep(50 * time.Millisecond)
	}
}

// TestAHandoverIsOfTheEpochAsked: a member asked to hand over the role of an epoch it does not hold
// (it holds a newer one: it took the role again after a handover, and the asker read the directory
// before) answers NotActive and keeps serving; handing over its current role would leave out the
// writes it makes in that role.
func TestAHandoverIsOfTheEpochAsked(t *testing.T) {
	cl := newCluster(t)
	m := cl.join("a", "application")
	h, err := m.Open(bg, "epoch-asked", attrs(engine.Collocated|engine.WriteActiveReplica), rwc)
	require.NoError(t, err)
	require.NoError(t, h.SetActiveReplica(bg))
	c := h.(*handle).c
	a := c.handingOver()
	require.NotNil(t, a)
	for _, epoch := range []uint64{a.epoch - 1, a.epoch + 1} {
		r := m.serve(bg, &wire.CallMsg{Kind: wire.CallHandover, Ckpt: c.id, Epoch: epoch, Origin: "b"})
		require.True(t, r.NotActive, "a handover of epoch %d asked of the active of epoch %d", epoch, a.epoch)
	}
	_, err = h.CreateSection(bg, []byte("s"), engine.Never, []byte("still active"))
	require.NoError(t, err, "the active is not fenced")
	r := m.serve(bg, &wire.CallMsg{Kind: wire.CallHandover, Ckpt: c.id, Epoch: a.epoch, Origin: "b"})
	require.False(t, r.NotActive)
	require.NoError(t, r.Err)
	require.Equal(t, uint64(a.lsn), r.LSN, "handed over at its last op")
	ctx, cancel := context.WithTimeout(bg, 500*time.Millisecond) // nobody takes the role: the write waits
	defer cancel()
	_, err = h.CreateSection(ctx, []byte("t"), engine.Never, nil)
	require.ErrorIs(t, err, engine.ErrTimeout, "fenced after the handover of its own epoch")
}

// TestACallThatFoundTheActiveBeforeItsHandoverIsNotAcknowledgedThere: a call takes the local
// replica while this member is active, and reaches it only after the role went to another member
// and this one stepped down. The change must fail (the caller retries at the new active), not be
// made and acknowledged on a replica that no longer replicates: that write would be on no other
// replica, and lost when this one follows the new active.
func TestACallThatFoundTheActiveBeforeItsHandoverIsNotAcknowledgedThere(t *testing.T) {
	cl := newCluster(t)
	_, hs := activeAndStandby(t, cl, "late-call")
	id := []byte("s")
	c := hs["a"].(*handle).c
	rep, act := c.localActive() // what a call routed now holds
	require.NotNil(t, rep)
	require.NotNil(t, act)
	retried := engine.Caller{Origin: "elsewhere", Request: 7}
	require.NoError(t, rep.Overwrite(bg, retried, id, []byte("before")))

	require.NoError(t, hs["b"].SetActiveReplica(bg))
	require.Eventually(t, func() bool { return c.handingOver() == nil }, 10*time.Second, time.Millisecond,
		"a stepped down once the directory named b")

	for i, call := range []func() error{
		func() error { return rep.Overwrite(bg, engine.Caller{}, id, []byte("late")) },
		func() error {
			_, err := rep.CreateSection(bg, engine.Caller{}, []byte("t"), engine.Never, nil)
			return err
		},
		func() error { return rep.DeleteSection(bg, engine.Caller{}, id) },
		// A request made while active and retried now: whether its op reached the replicas that
		// must hold it is for the new active to answer.
		func() error { return rep.Overwrite(bg, retried, id, []byte("before")) },
	} {
		require.ErrorIs(t, call(), errDeposed, "change %d made on a replica that is no longer active", i)
	}
	el := []engine.ReadElement{{SectionID: id}}
	require.NoError(t, hs["b"].Read(bg, el))
	require.Equal(t, "before", string(el[0].Buffer))
	require.NoError(t, hs["a"].Read(bg, el))
	require.Equal(t, "before", string(el[0].Buffer))
}

// TestAnActiveThatLeavesHandsOnItsLastWrites: the hot-standby pattern with asynchronous writes.
// The active process writes as fast as it can and then leaves (its last clCkptFinalize); the
// standby takes the role and reads the last value written. Leaving is not dying: the writes the
// active acknowledged reach the replicas before it goes.
func TestAnActiveThatLeavesHandsOnItsLastWrites(t *testing.T) {
	for round := range 5 {
		cl := newCluster(t)
		hs := map[string]engine.Checkpoint{}
		ms := map[string]*Member{}
		for _, n := range []string{"a", "b"} {
			ms[n] = cl.join(n, "application")
			h, err := ms[n].Open(bg, "leaving", attrs(engine.Collocated|engine.WriteActiveReplica), rwc)
			require.NoError(t, err)
			hs[n] = h
		}
		require.NoError(t, hs["a"].SetActiveReplica(bg))
		id := []byte("s")
		_, err := hs["a"].CreateSection(bg, id, engine.Never, nil)
		require.NoError(t, err)
		big := make([]byte, 64<<10)
		last := ""
		for k := range 400 {
			last = fmt.Sprintf("%d-%d", round, k)
			copy(big, last)
			require.NoError(t, hs["a"].Overwrite(bg, id, append([]byte(last+"|"), big[:len(big)-len(last)-1]...)))
		}
		require.NoError(t, ms["a"].Close())
		delete(cl.members, "a")
		require.NoError(t, hs["b"].SetActiveReplica(bg))
		el := []engine.ReadElement{{SectionID: id}}
		require.NoError(t, hs["b"].Read(bg, el))
		got, _, _ := strings.Cut(string(el[0].Buffer), "|")
		require.Equal(t, last, got, "round %d: the standby lacks the last writes of the active that left", round)
	}
}

// TestAStandbyWaitsForAnActiveThatReconnects: the active of an asynchronous collocated checkpoint
// acknowledges a write while its NATS connection is down (the op waits in its client's buffer),
// and the standby calls ActiveReplicaSet meanwhile. The handover request finds no responders, but
// the active's lease lives and its process answers on a link: the standby waits for it to come
// back and hand over, and has the write. (Taking over with what it had would lose it.)
func TestAStandbyWaitsForAnActiveThatReconnects(t *testing.T) {
	cl := newCluster(t)
	paths := cl.cutPaths("a", "b")
	cl.tune = func(c *config.Config) { c.Lease = 2 * time.Second }
	ms, hs := activeAndStandby(t, cl, "standby")
	id := []byte("s")
	require.Eventually(t, func() bool { return replicaContent(t, ms["b"], "standby") == replicaContent(t, ms["a"], "standby") },
		10*time.Second, 10*time.Millisecond)

	paths["a"].Cut()
	require.Eventually(t, func() bool { return !ms["a"].nc.IsConnected() }, 5*time.Second, time.Millisecond)
	require.NoError(t, hs["a"].Overwrite(bg, id, []byte("during")))
	done := make(chan error, 1)
	go func() { done <- hs["b"].SetActiveReplica(bg) }()
	time.Sleep(300 * time.Millisecond)
	select {
	case err := <-done:
		t.Fatalf("the standby took over from an active that was reconnecting (%v)", err)
	default:
	}
	paths["a"].Restore()
	require.NoError(t, <-done)
	require.Equal(t, "b", cl.activeOf(ms["b"], "standby"))
	require.Equal(t, "during", read(t, hs["b"], "s"))
}

// activeAndStandby joins applications a and b, opens a collocated asynchronous checkpoint on both,
// makes a's replica the active one and creates section "s" holding "before".
func activeAndStandby(t *testing.T, cl *cluster, name string) (map[string]*Member, map[string]engine.Checkpoint) {
	ms := map[string]*Member{}
	hs := map[string]engine.Checkpoint{}
	for _, n := range []string{"a", "b"} {
		ms[n] = cl.join(n, directory.KindApplication)
		h, err := ms[n].Open(bg, name, attrs(engine.Collocated|engine.WriteActiveReplica), rwc)
		require.NoError(t, err)
		hs[n] = h
	}
	require.NoError(t, hs["a"].SetActiveReplica(bg))
	_, err := hs["a"].CreateSection(bg, []byte("s"), engine.Never, []byte("before"))
	require.NoError(t, err)
	return ms, hs
}
