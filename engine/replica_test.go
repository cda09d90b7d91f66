package engine

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/clckpt/libclckpt/engine/clock"
	"github.com/clckpt/libclckpt/engine/store"
	"github.com/stretchr/testify/require"
)

// forward is a Sink that applies every op to a follower at once, as a synchronous replica would.
type forward struct {
	t        *testing.T
	follower *Replica
	ops      []Op
}

func (f *forward) Emit(op *Op) func(context.Context) error {
	c := *op // the op is only valid during Emit: keep a deep copy
	c.Section = bytes.Clone(op.Section)
	c.Data = bytes.Clone(op.Data)
	c.Writes = slices.Clone(op.Writes)
	for i := range c.Writes {
		c.Writes[i].SectionID = bytes.Clone(c.Writes[i].SectionID)
		c.Writes[i].Data = bytes.Clone(c.Writes[i].Data)
	}
	f.ops = append(f.ops, c)
	if f.follower != nil {
		require.NoError(f.t, f.follower.Apply(&c))
	}
	return nil
}

func (f *forward) Await(uint64) func(context.Context) error { return nil }

func newReplicas(t *testing.T, fc *clock.Fake) *Replicas {
	reps, err := OpenReplicas(ReplicasOptions{Store: store.NewMemory(), Clock: fc})
	require.NoError(t, err)
	t.Cleanup(reps.Close)
	return reps
}

// dump is the whole visible state of a replica, for comparisons.
func dump(t *testing.T, r *Replica) string {
	t.Helper()
	var out bytes.Buffer
	e, lsn := r.Position()
	fmt.Fprintf(&out, "epoch %d lsn %d %+v\n", e, lsn, r.Status())
	ids := make([][]byte, 0)
	r.mu.RLock()
	for _, s := range r.sections {
		ids = append(ids, s.sid())
	}
	gen := r.gen
	r.mu.RUnlock()
	fmt.Fprintf(&out, "gen %d\n", gen)
	slices.SortFunc(ids, bytes.Compare)
	for _, id := range ids {
		d, ok := r.Describe(id)
		require.True(t, ok)
		el := []ReadElement{{SectionID: id}}
		if len(id) == 0 {
			el[0].SectionID = nil
		}
		require.NoError(t, r.Read(el))
		fmt.Fprintf(&out, "%q exp %d upd %d size %d state %d data %x\n", id, d.Expiration.UnixNano(), d.LastUpdate.UnixNano(), d.Size, d.State, el[0].Buffer)
	}
	return out.String()
}

// randomOps drives n random calls on r, some of which fail as the rules say; it returns how many
// of each kind of call succeeded.
func randomOps(t *testing.T, rng *rand.Rand, fc *clock.Fake, r *Replica, n int) map[int]int {
	ok := map[int]int{}
	ids := func() []byte { return []byte(fmt.Sprintf("s%d", rng.IntN(10))) }
	data := func() []byte {
		b := make([]byte, rng.IntN(40))
		for i := range b {
			b[i] = byte(rng.Uint32())
		}
		return b
	}
	for i := 0; i < n; i++ {
		fc.Advance(time.Duration(rng.IntN(300)) * time.Millisecond)
		var err error
		kind := rng.IntN(7)
		switch kind {
		case 0:
			exp := Never
			if rng.IntN(3) == 0 {
				exp = fc.Now().Add(time.Duration(rng.IntN(5000)) * time.Millisecond)
			}
			id := ids()
			if rng.IntN(4) == 0 {
				id = nil
			}
			_, err = r.CreateSection(bg, Caller{Origin: "o"}, id, exp, data())
		case 1:
			err = r.DeleteSection(bg, Caller{Origin: "o"}, ids())
		case 2:
			err = r.Overwrite(bg, Caller{Origin: "o"}, ids(), data())
		case 3, 4:
			elems := make([]WriteElement, 1+rng.IntN(3))
			for j := range elems {
				elems[j] = WriteElement{SectionID: ids(), Offset: int64(rng.IntN(60)), Data: data()}
			}
			err = r.Write(bg, Caller{Origin: "o"}, elems)
		case 5:
			err = r.SetSectionExpiration(bg, Caller{Origin: "o"}, ids(), fc.Now().Add(time.Duration(rng.IntN(4000))*time.Millisecond))
		case 6:
			err = r.SetSectionExpiration(bg, Caller{Origin: "o"}, ids(), Never)
		}
		var ee *ElementError
		if err == nil || errors.As(err, &ee) && ee.Index > 0 { // a vector write applies its good prefix
			ok[kind]++
		}
	}
	return ok
}

func TestFollowerAppliesOpsToAnIdenticalReplica(t *testing.T) {
	for seed := uint64(1); seed <= 5; seed++ {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			fc := clock.NewFake(t0)
			a := Attributes{Flags: Distributed, MaxSections: 10, MaxSectionSize: 100, MaxSectionIDSize: 20}
			leaderSet, followerSet := newReplicas(t, fc), newReplicas(t, fc)
			leader, err := leaderSet.Create(42, "c", a, 3, false)
			require.NoError(t, err)
			follower, err := followerSet.Create(42, "c", a, 3, false)
			require.NoError(t, err)
			leader.SetExpiring(true) // only the active replica expires sections
			sink := &forward{t: t, follower: follower}
			leader.SetSink(sink)
			rng := rand.New(rand.NewPCG(seed, seed))
			okCalls := randomOps(t, rng, fc, leader, 800)
			for kind := 0; kind < 7; kind++ {
				require.Greater(t, okCalls[kind], 3, "calls of kind %d that succeeded", kind)
			}
			require.Equal(t, dump(t, leader), dump(t, follower))
			_, lsn := leader.Position()
			require.Equal(t, uint64(len(sink.ops)), lsn)
			// Replaying the same ops is a no-op; a gap is refused.
			require.NoError(t, follower.Apply(&sink.ops[0]))
			gap := sink.ops[len(sink.ops)-1]
			gap.LSN += 2
			require.ErrorIs(t, follower.Apply(&gap), ErrOutOfOrder)
		})
	}
}

func TestSnapshotInstallThenTailReachesTheSameState(t *testing.T) {
	fc := clock.NewFake(t0)
	a := Attributes{Flags: WriteActiveReplica, MaxSections: 8, MaxSectionSize: 80, MaxSectionIDSize: 20}
	leaderSet, followerSet := newReplicas(t, fc), newReplicas(t, fc)
	leader, err := leaderSet.Create(7, "c", a, 1, false)
	require.NoError(t, err)
	leader.SetExpiring(true)
	sink := &forward{t: t}
	leader.SetSink(sink)
	rng := rand.New(rand.NewPCG(9, 9))
	randomOps(t, rng, fc, leader, 200)

	// A follower joins: a snapshot, then the ops made after the snapshot's LSN.
	header, secs := snapshotOf(t, leader)
	randomOps(t, rng, fc, leader, 200)
	follower, err := followerSet.Install(header, sectionsOf(secs))
	require.NoError(t, err)
	for _, op := range sink.ops {
		if op.LSN > header.LSN {
			require.NoError(t, follower.Apply(&op))
		}
	}
	require.Equal(t, dump(t, leader), dump(t, follower))

	// An install that fails half-way leaves no replica behind.
	_, err = followerSet.Install(header, func() (*SnapshotSection, error) { return nil, fmt.Errorf("connection lost") })
	require.Error(t, err)
	require.Nil(t, followerSet.Get(7))
}

// TestAnInstallOfManySmallSectionsFitsTheStore: Badger bounds one atomic write (by a share of its
// memtable) far below the install's 4 MiB batches when the values are small enough to stay in its
// tree: the install splits its batches instead of failing (it used to fail with ErrTooBig, and the
// replica could never be copied).
func TestAnInstallOfManySmallSectionsFitsTheStore(t *testing.T) {
	st, err := store.OpenBadger(store.BadgerOptions{Dir: t.TempDir()})
	require.NoError(t, err)
	defer st.Close()
	reps, err := OpenReplicas(ReplicasOptions{Store: st})
	require.NoError(t, err)
	var secs []*SnapshotSection
	for i := range 20000 {
		data := bytes.Repeat([]byte{byte(i)}, 300+i%500)
		secs = append(secs, &SnapshotSection{ID: []byte(fmt.Sprintf("s%06d", i)), Data: data, State: SectionValid, LSN: 3})
	}
	h := SnapshotHeader{ID: 9, Name: "many", Attrs: Attributes{MaxSections: 30000, MaxSectionSize: 1000, MaxSectionIDSize: 16},
		Epoch: 1, LSN: 5}
	_, err = reps.Install(h, sectionsOf(secs))
	require.NoError(t, err)
	reps.Close()

	// Everything is in the store: a restart finds the replica complete, with every section.
	reps, err = OpenReplicas(ReplicasOptions{Store: st})
	require.NoError(t, err)
	defer reps.Close()
	r := reps.Get(9)
	require.NotNil(t, r)
	require.Equal(t, uint32(20000), r.Status().NumberOfSections)
	_, got := snapshotOf(t, r)
	require.Len(t, got, len(secs))
	for i := range secs {
		require.Equal(t, secs[i].ID, got[i].ID)
		require.Equal(t, secs[i].Data, got[i].Data, "section %s", secs[i].ID)
	}
}

func TestInterruptedInstallIsDroppedAtTheNextStart(t *testing.T) {
	st := store.NewMemory()
	reps, err := OpenReplicas(ReplicasOptions{Store: st})
	require.NoError(t, err)
	_, err = reps.Create(5, "c", Attributes{MaxSections: 2}, 1, true)
	require.NoError(t, err)
	// The process dies here, before the install completes.
	reps, err = OpenReplicas(ReplicasOptions{Store: st})
	require.NoError(t, err)
	require.Nil(t, reps.Get(5))
}

func TestFollowerNotifiesItsSubscribersButNotTheWriter(t *testing.T) {
	fc := clock.NewFake(t0)
	a := Attributes{Flags: Distributed, MaxSections: 4, MaxSectionIDSize: 8}
	leader, err := newReplicas(t, fc).Create(1, "hot", a, 1, false)
	require.NoError(t, err)
	follower, err := newReplicas(t, fc).Create(1, "hot", a, 1, false)
	require.NoError(t, err)
	leader.SetSink(&forward{t: t, follower: follower})
	writerCh, otherCh := make(chan Update, 10), make(chan Update, 10)
	follower.Subscribe("member-b/1", func(u Update) { writerCh <- u })
	follower.Subscribe("member-b/2", func(u Update) { otherCh <- u })
	_, err = leader.CreateSection(bg, Caller{Origin: "member-b/1"}, sec("s"), Never, nil)
	require.NoError(t, err)
	require.NoError(t, leader.Overwrite(bg, Caller{Origin: "member-b/1"}, sec("s"), []byte("v")))
	require.Equal(t, "v", string(next(t, otherCh).Elements[0].Data))
	none(t, writerCh)
}

// TestARetriedRequestIsAppliedOnce: a request retried on the same replica, or on a follower that
// became the active, gets the first outcome and changes nothing: the generated section is the same
// one, a creation or deletion that worked does not fail, a vector write stops at the same element.
func TestARetriedRequestIsAppliedOnce(t *testing.T) {
	fc := clock.NewFake(t0)
	a := Attributes{Flags: WriteAllReplicas, MaxSections: 8, MaxSectionSize: 16, MaxSectionIDSize: 20}
	leader, err := newReplicas(t, fc).Create(3, "c", a, 1, false)
	require.NoError(t, err)
	follower, err := newReplicas(t, fc).Create(3, "c", a, 1, false)
	require.NoError(t, err)
	leader.SetSink(&forward{t: t, follower: follower})
	by := func(req uint64) Caller { return Caller{Origin: "m/1", Request: req} }

	gen, err := leader.CreateSection(bg, by(1), nil, Never, []byte("g"))
	require.NoError(t, err)
	_, err = leader.CreateSection(bg, by(2), sec("named"), Never, []byte("n"))
	require.NoError(t, err)
	require.NoError(t, leader.DeleteSection(bg, by(3), sec("named")))
	err = leader.Write(bg, by(4), []WriteElement{{SectionID: gen, Data: []byte("w")}, {SectionID: sec("none"), Data: []byte("x")}})
	var ee *ElementError
	require.ErrorAs(t, err, &ee)
	require.Equal(t, 1, ee.Index)
	_, lsn := leader.Position()
	require.Equal(t, uint64(4), lsn)

	for _, r := range []*Replica{leader, follower} { // the follower plays the next active
		again, err := r.CreateSection(bg, by(1), nil, Never, []byte("g"))
		require.NoError(t, err)
		require.Equal(t, gen, again, "the same generated section")
		_, err = r.CreateSection(bg, by(2), sec("named"), Never, []byte("n"))
		require.NoError(t, err, "a creation that worked does not fail on its retry")
		require.NoError(t, r.DeleteSection(bg, by(3), sec("named")), "nor a deletion")
		err = r.Write(bg, by(4), []WriteElement{{SectionID: gen, Data: []byte("w")}, {SectionID: sec("none"), Data: []byte("x")}})
		require.ErrorAs(t, err, &ee)
		require.Equal(t, 1, ee.Index)
		_, after := r.Position()
		require.Equal(t, uint64(4), after, "no op was made")
		require.Equal(t, uint32(1), r.Status().NumberOfSections)
	}
	// A new request is a new change.
	_, err = follower.CreateSection(bg, by(5), sec("named"), Never, []byte("n"))
	require.NoError(t, err)
	_, err = follower.CreateSection(bg, by(6), sec("named"), Never, []byte("n"))
	require.ErrorIs(t, err, ErrAlreadyExist)
}

// TestARetryReachingASnapshotCopyIsNotAppliedTwice: a replica that got its content in a snapshot
// also knows the requests applied before it was cut, so a retry that reaches it (its active died
// or handed over) returns the first outcome: the creation does not come back ALREADY_EXIST.
func TestARetryReachingASnapshotCopyIsNotAppliedTwice(t *testing.T) {
	fc := clock.NewFake(t0)
	a := Attributes{Flags: WriteActiveReplica, MaxSections: 8, MaxSectionSize: 16, MaxSectionIDSize: 20}
	leader, err := newReplicas(t, fc).Create(5, "c", a, 1, false)
	require.NoError(t, err)
	by := func(req uint64) Caller { return Caller{Origin: "m/1", Request: req} }
	gen, err := leader.CreateSection(bg, by(1), nil, Never, []byte("g"))
	require.NoError(t, err)
	_, err = leader.CreateSection(bg, by(2), sec("named"), Never, []byte("n"))
	require.NoError(t, err)

	header, secs := snapshotOf(t, leader)
	copied, err := newReplicas(t, fc).Install(header, sectionsOf(secs))
	require.NoError(t, err)
	again, err := copied.CreateSection(bg, by(1), nil, Never, []byte("g"))
	require.NoError(t, err)
	require.Equal(t, gen, again, "the same generated section")
	_, err = copied.CreateSection(bg, by(2), sec("named"), Never, []byte("n"))
	require.NoError(t, err, "a creation that worked does not fail on its retry")
	require.Equal(t, uint32(2), copied.Status().NumberOfSections)
	_, err = copied.CreateSection(bg, by(3), sec("named"), Never, []byte("n"))
	require.ErrorIs(t, err, ErrAlreadyExist, "a new request is a new change")
}

// snapshotOf cuts a snapshot of r and keeps copies of its sections.
func snapshotOf(t *testing.T, r *Replica) (SnapshotHeader, []*SnapshotSection) {
	var header SnapshotHeader
	var secs []*SnapshotSection
	require.NoError(t, r.Snapshot(func(h SnapshotHeader) error { header = h; return nil }, func(s *SnapshotSection) error {
		c := *s
		c.ID, c.Data = bytes.Clone(s.ID), bytes.Clone(s.Data)
		secs = append(secs, &c)
		return nil
	}))
	return header, secs
}

// sectionsOf feeds secs to Install, then the end.
func sectionsOf(secs []*SnapshotSection) func() (*SnapshotSection, error) {
	i := 0
	return func() (*SnapshotSection, error) {
		if i == len(secs) {
			return nil, nil
		}
		i++
		return secs[i-1], nil
	}
}
