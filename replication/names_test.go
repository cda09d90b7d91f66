package replication

import (
	"bytes"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/clckpt/libclckpt/engine"
	"github.com/clckpt/libclckpt/replication/directory"
)

// A checkpoint named with the longest name (2048 bytes: SAF extended names) created on one member is
// opened, read and written on the other; a name differing in its last byte only is another
// checkpoint; one byte more is refused. After the active member dies and comes back on its data
// directory, both checkpoints are found again, by both members, with their data.
func TestLongestNamesAcrossMembersAndARestart(t *testing.T) {
	cl := newCluster(t)
	a := cl.join("a", directory.KindServer)
	b := cl.join("b", directory.KindServer)
	long := bytes.Repeat([]byte{'L'}, engine.MaxNameLength)
	long[len(long)-1] = 'a'
	sibling := bytes.Clone(long)
	sibling[len(sibling)-1] = 'b'

	ha, err := a.Open(bg, string(long), attrs(engine.WriteAllReplicas), rwc)
	require.NoError(t, err)
	_, err = ha.CreateSection(bg, []byte("s"), engine.Never, []byte("from a"))
	require.NoError(t, err)

	hb, err := b.Open(bg, string(long), nil, engine.OpenRead|engine.OpenWrite)
	require.NoError(t, err)
	require.Equal(t, "from a", read(t, hb, "s"))
	_, err = hb.CreateSection(bg, []byte("t"), engine.Never, []byte("from b"))
	require.NoError(t, err)
	require.Equal(t, "from b", read(t, ha, "t"))

	_, err = b.Open(bg, string(sibling), nil, engine.OpenRead)
	require.ErrorIs(t, err, engine.ErrNotExist)
	hs, err := b.Open(bg, string(sibling), attrs(engine.WriteAllReplicas), rwc)
	require.NoError(t, err)
	_, err = hs.CreateSection(bg, []byte("s"), engine.Never, []byte("sibling"))
	require.NoError(t, err)
	require.Equal(t, "from a", read(t, ha, "s"), "the sibling is another checkpoint")

	_, err = a.Open(bg, string(long)+"x", attrs(engine.WriteAllReplicas), rwc)
	require.ErrorIs(t, err, engine.ErrInvalidParameter)

	// The active dies (kill -9) and comes back on its data directory.
	active := cl.activeOf(b, string(long))
	survivor := cl.members["a"]
	if active == "a" {
		survivor = cl.members["b"]
	}
	cl.crash(active)
	cl.waitDead(active)
	back := cl.join(active, directory.KindServer)
	for _, name := range [][]byte{long, sibling} {
		require.Eventually(t, func() bool {
			return replicaContent(t, back, string(name)) == replicaContent(t, survivor, string(name))
		}, 15*time.Second, 20*time.Millisecond, "the restarted member's replica of a long name catches up")
	}
	last := "from a"
	for _, m := range []*Member{back, survivor} {
		h, err := m.Open(bg, string(long), nil, engine.OpenRead|engine.OpenWrite)
		require.NoError(t, err)
		require.Equal(t, last, read(t, h, "s"))
		require.Equal(t, "from b", read(t, h, "t"))
		require.Equal(t, string(long), h.Name())
		require.NoError(t, h.Overwrite(bg, []byte("s"), []byte("again "+m.name)))
		last = "again " + m.name
		require.Equal(t, last, read(t, h, "s"))
		require.NoError(t, h.Close())
		h, err = m.Open(bg, string(sibling), nil, engine.OpenRead)
		require.NoError(t, err)
		require.Equal(t, "sibling", read(t, h, "s"))
		require.NoError(t, h.Close())
	}
	require.NoError(t, survivor.Delete(bg, string(long)))
	_, err = back.Open(bg, string(long), nil, engine.OpenRead)
	require.ErrorIs(t, err, engine.ErrNotExist)
	h, err := back.Open(bg, string(sibling), nil, engine.OpenRead)
	require.NoError(t, err, "deleting one name leaves its sibling")
	require.NoError(t, h.Close())
}
