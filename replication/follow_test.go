package replication

import (
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/clckpt/libclckpt/engine"
	"github.com/clckpt/libclckpt/replication/directory"
)

// TestFollowJoinsTheReplicasOfACheckpointPlacedElsewhere: a member that follows a checkpoint
// placed on a server (WR_ALL_REPLICAS, not collocated) holds no replica until it follows; then it
// joins the replica set, hears of every creation, write and overwrite of the writer on another
// member in order, and leaves the set when it closes, after which the writer's writes no longer
// wait for it.
func TestFollowJoinsTheReplicasOfACheckpointPlacedElsewhere(t *testing.T) {
	cl := newCluster(t)
	s := cl.join("s", directory.KindServer)
	w := cl.join("w", directory.KindApplication)
	f := cl.join("f", directory.KindApplication)
	hw, err := w.Open(bg, "arr", attrs(engine.WriteAllReplicas), rwc)
	require.NoError(t, err)
	hf, err := f.Open(bg, "arr", nil, engine.OpenRead)
	require.NoError(t, err)
	id, err := s.dir.Lookup(bg, []byte("arr"))
	require.NoError(t, err)
	entry := func() *directory.Entry {
		e, err := s.dir.Get(bg, id)
		require.NoError(t, err)
		return e
	}
	require.Equal(t, []string{"s"}, entry().Replicas)
	require.Equal(t, "no replica", replicaContent(t, f, "arr"))
	_, err = hw.CreateSection(bg, []byte("before"), engine.Never, []byte("old")) // in the copy, not announced
	require.NoError(t, err)

	var mu sync.Mutex
	var got []engine.Update
	require.NoError(t, hf.Follow(func(u engine.Update) {
		mu.Lock()
		defer mu.Unlock()
		got = append(got, u)
	}))
	e := entry()
	require.True(t, e.HasReplica("f") && e.IsSynced("f"), "replicas %v, in sync %v", e.Replicas, e.Synced)
	require.False(t, e.HasReplica("w"))

	_, err = hw.CreateSection(bg, []byte("a"), engine.Never, []byte("abc"))
	require.NoError(t, err)
	require.NoError(t, hw.Write(bg, []engine.WriteElement{
		{SectionID: []byte("a"), Offset: 1, Data: []byte("XY")},
		{SectionID: []byte("before"), Offset: 0, Data: []byte("n")},
	}))
	require.NoError(t, hw.Overwrite(bg, []byte("a"), []byte("whole")))
	_, err = hw.CreateSection(bg, []byte("b"), engine.Never, nil)
	require.NoError(t, err)
	want := []engine.Update{
		{Name: "arr", Created: true, Elements: []engine.UpdateElement{{SectionID: []byte("a"), Data: []byte("abc")}}},
		{Name: "arr", Elements: []engine.UpdateElement{
			{SectionID: []byte("a"), Offset: 1, Data: []byte("XY")},
			{SectionID: []byte("before"), Offset: 0, Data: []byte("n")},
		}},
		{Name: "arr", Elements: []engine.UpdateElement{{SectionID: []byte("a"), Data: []byte("whole")}}},
		{Name: "arr", Created: true, Elements: []engine.UpdateElement{{SectionID: []byte("b")}}},
	}
	require.Eventually(t, func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(got) >= len(want)
	}, 10*time.Second, 10*time.Millisecond)
	mu.Lock()
	require.Len(t, got, len(want))
	for i := range want {
		require.Equal(t, want[i].Created, got[i].Created, "update %d", i)
		require.Equal(t, len(want[i].Elements), len(got[i].Elements), "update %d", i)
		for j, we := range want[i].Elements {
			ge := got[i].Elements[j]
			require.Equal(t, string(we.SectionID), string(ge.SectionID), "update %d element %d", i, j)
			require.Equal(t, we.Offset, ge.Offset, "update %d element %d", i, j)
			require.Equal(t, string(we.Data), string(ge.Data), "update %d element %d", i, j)
		}
	}
	mu.Unlock()
	require.Equal(t, "whole", read(t, hf, "a"))

	// The last close: the follower leaves the replica set and drops its copy.
	require.NoError(t, hf.Close())
	e = entry()
	require.False(t, e.HasReplica("f") || e.IsSynced("f"), "replicas %v, in sync %v", e.Replicas, e.Synced)
	require.Eventually(t, func() bool { return replicaContent(t, f, "arr") == "no replica" }, 10*time.Second, 10*time.Millisecond)
	// The active no longer streams to it nor counts it: a write succeeds with the follower gone
	// while the writer still sees it alive.
	require.Eventually(t, func() bool {
		c, _ := s.replicaOf(id)
		c.mu.Lock()
		a := c.act
		c.mu.Unlock()
		if a == nil {
			return false
		}
		a.mu.Lock()
		defer a.mu.Unlock()
		return a.streams["f"] == nil && !a.synced["f"]
	}, 10*time.Second, 10*time.Millisecond)
	cl.crash("f")
	require.NoError(t, hw.Overwrite(bg, []byte("a"), []byte("after")))
	require.True(t, w.alive("f") && s.alive("f"), "the follower's lease ran out before the write returned")
	require.Equal(t, "after", read(t, hw, "a"))
}

// TestFollowKeepsTheReplicasOfAPlacedMember: a member placement chose does not leave the replica
// set when its follow ends.
func TestFollowKeepsTheReplicasOfAPlacedMember(t *testing.T) {
	cl := newCluster(t)
	s := cl.join("s", directory.KindServer)
	h, err := s.Open(bg, "placed", attrs(0), rwc)
	require.NoError(t, err)
	require.NoError(t, h.Follow(func(engine.Update) {}))
	require.NoError(t, h.Follow(nil))
	require.NoError(t, h.Close())
	id, err := s.dir.Lookup(bg, []byte("placed"))
	require.NoError(t, err)
	e, err := s.dir.Get(bg, id)
	require.NoError(t, err)
	require.Equal(t, []string{"s"}, e.Replicas)
}
