package replication

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/clckpt/libclckpt/engine"
	"github.com/clckpt/libclckpt/replication/directory"
)

// TestReplicationTable checks every cell of the table in REPLICATION.md, for every kind of
// checkpoint: two servers (s1, s2) and two applications (a creates and writes, b opens later).
func TestReplicationTable(t *testing.T) {
	rows := []struct {
		name  string
		flags engine.CreationFlags
	}{
		{"collocated WR_ACTIVE_REPLICA", engine.Collocated | engine.WriteActiveReplica},
		{"collocated WR_ACTIVE_REPLICA_WEAK", engine.Collocated | engine.WriteActiveReplicaWeak},
		{"COLLOCATED with WR_ALL_REPLICAS (openers hold replicas, the active is chosen)", engine.Collocated | engine.WriteAllReplicas},
		{"non-collocated WR_ALL_REPLICAS", engine.WriteAllReplicas},
		{"non-collocated WR_ACTIVE_REPLICA", engine.WriteActiveReplica},
		{"non-collocated WR_ACTIVE_REPLICA_WEAK", engine.WriteActiveReplicaWeak},
		{"DISTRIBUTED WR_ALL_REPLICAS", engine.Distributed | engine.WriteAllReplicas},
		{"DISTRIBUTED collocated", engine.Distributed | engine.Collocated | engine.WriteActiveReplica},
		{"ALL_OPEN_ARE_REPLICAS", engine.AllOpenAreReplicas | engine.WriteActiveReplica},
	}
	for _, row := range rows {
		t.Run(row.name, func(t *testing.T) {
			cl := newCluster(t)
			cl.join("s1", directory.KindServer)
			cl.join("s2", directory.KindServer)
			a := cl.join("a", directory.KindApplication)
			b := cl.join("b", directory.KindApplication)
			collocated := row.flags.IsCollocated()
			openersHold := row.flags&(engine.Collocated|engine.Distributed|engine.AllOpenAreReplicas) != 0
			sync := row.flags&engine.WriteAllReplicas != 0
			at := attrs(row.flags)
			entry := func() *directory.Entry {
				id, err := b.dir.Lookup(bg, []byte("ck"))
				require.NoError(t, err)
				e, err := b.dir.Get(bg, id)
				require.NoError(t, err)
				return e
			}

			ha, err := a.Open(bg, "ck", at, rwc)
			require.NoError(t, err)
			hb, err := b.Open(bg, "ck", at, rwc)
			require.NoError(t, err)

			// Where replicas are created.
			e := entry()
			var want []string
			if !collocated {
				want = []string{"s1", "s2"}
			}
			if openersHold {
				want = append(want, "a", "b")
			}
			require.ElementsMatch(t, want, e.Replicas, "replicas")

			// Which replica is active: collocated ones wait for ActiveReplicaSet.
			if collocated {
				require.Empty(t, e.Active)
				_, err := ha.CreateSection(bg, []byte("s"), engine.Never, nil)
				require.ErrorIs(t, err, engine.ErrNotExist, "no active replica yet")
				require.NoError(t, ha.SetActiveReplica(bg))
				require.Equal(t, "a", entry().Active)
			} else {
				require.ErrorIs(t, ha.SetActiveReplica(bg), engine.ErrBadOperation)
				require.Contains(t, []string{"s1", "s2"}, e.Active, "a server is active")
			}
			active := entry().Active

			// Writes go to the active, from any member; reads too.
			_, err = hb.CreateSection(bg, []byte("s"), engine.Never, []byte("0"))
			require.NoError(t, err)
			require.NoError(t, ha.Overwrite(bg, []byte("s"), []byte("1")))
			require.Equal(t, "1", read(t, hb, "s"))
			require.Equal(t, "1", read(t, ha, "s"))

			// When a write returns: with WR_ALL_REPLICAS, every in-sync replica has it.
			if sync {
				for _, r := range entry().Synced {
					require.Contains(t, replicaContent(t, cl.members[r], "ck"), fmt.Sprintf("s=%x;", "1"), "in-sync replica %s", r)
				}
			} else {
				require.Contains(t, replicaContent(t, cl.members[active], "ck"), fmt.Sprintf("s=%x;", "1"), "the active has it")
			}

			// What Synchronize waits for.
			require.NoError(t, ha.Overwrite(bg, []byte("s"), []byte("2")))
			if sync {
				require.ErrorIs(t, ha.Synchronize(bg), engine.ErrBadOperation)
			} else {
				require.NoError(t, ha.Synchronize(bg))
				for _, r := range entry().Replicas {
					require.Contains(t, replicaContent(t, cl.members[r], "ck"), fmt.Sprintf("s=%x;", "2"), "after Synchronize, replica %s", r)
				}
			}

			// Catch-up: a member that opens later and holds a replica gets a copy (snapshot, then tail).
			c := cl.join("c", directory.KindApplication)
			hc, err := c.Open(bg, "ck", nil, engine.OpenRead|engine.OpenWrite)
			require.NoError(t, err)
			require.NoError(t, ha.Overwrite(bg, []byte("s"), []byte("3")))
			if openersHold {
				require.Eventually(t, func() bool {
					return replicaContent(t, c, "ck") == replicaContent(t, cl.members[entry().Active], "ck")
				}, 10*time.Second, 10*time.Millisecond, "the late opener's replica catches up")
			} else {
				require.Equal(t, "no replica", replicaContent(t, c, "ck"))
			}
			require.Equal(t, "3", read(t, hc, "s"))

			// When the active dies.
			if !sync {
				require.NoError(t, ha.Synchronize(bg))
			}
			if active == "a" {
				cl.crash("a")
			} else {
				cl.crash(active)
			}
			if collocated {
				// Nothing automatic: NOT_EXIST until a member calls ActiveReplicaSet.
				require.Eventually(t, func() bool {
					err := hb.Read(bg, []engine.ReadElement{{SectionID: []byte("s")}})
					return err != nil
				}, 10*time.Second, 20*time.Millisecond)
				require.ErrorIs(t, hb.Read(bg, []engine.ReadElement{{SectionID: []byte("s")}}), engine.ErrNotExist)
				require.NoError(t, hb.SetActiveReplica(bg))
			}
			// The survivors go on (non-collocated: a new active was elected).
			require.Equal(t, "3", read(t, hb, "s"), "no synchronized write is lost")
			require.NoError(t, hb.Overwrite(bg, []byte("s"), []byte("4")))
			require.Equal(t, "4", read(t, hc, "s"))
			e = entry()
			require.NotEqual(t, active, e.Active)
			require.True(t, slices.Contains(e.Replicas, e.Active))
		})
	}
}
