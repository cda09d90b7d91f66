package replication

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/clckpt/libclckpt/engine"
	"github.com/clckpt/libclckpt/replication/directory"
)

// A tool's handle (Inspect) reads and writes through the active replica of a checkpoint whose
// openers hold replicas, without counting an open or taking a replica: the entry is the same
// before and after, and closing it leaves the checkpoint's opens alone.
func TestInspectCountsNoOpenAndTakesNoReplica(t *testing.T) {
	cl, _, _, ha, _ := twoApps(t, "hot", engine.Distributed|engine.WriteAllReplicas)
	tool := cl.join("tool", directory.KindApplication)
	_, err := ha.CreateSection(bg, []byte("s"), engine.Never, []byte("one"))
	require.NoError(t, err)
	before, err := tool.Entry(bg, "hot")
	require.NoError(t, err)

	h, err := tool.Inspect(bg, "hot", engine.OpenRead|engine.OpenWrite)
	require.NoError(t, err)
	require.Equal(t, "one", read(t, h, "s"))
	st, err := h.Status(bg)
	require.NoError(t, err)
	require.Equal(t, uint32(1), st.NumberOfSections)
	require.NoError(t, h.Overwrite(bg, []byte("s"), []byte("two")))
	require.Equal(t, "two", read(t, ha, "s"))
	require.ErrorIs(t, h.Subscribe(func(engine.Update) {}), engine.ErrNotPermitted)
	after, err := tool.Entry(bg, "hot")
	require.NoError(t, err)
	require.Equal(t, before.Openers, after.Openers)
	require.Equal(t, before.Replicas, after.Replicas)
	require.NoError(t, h.Close())
	require.ErrorIs(t, h.Close(), engine.ErrBadHandle)
	after, err = tool.Entry(bg, "hot")
	require.NoError(t, err)
	require.Equal(t, 2, after.Opens())
	require.Nil(t, tool.reps.Get(after.ID), "no local replica")

	_, err = tool.Inspect(bg, "missing", engine.OpenRead)
	require.ErrorIs(t, err, engine.ErrNotExist)
	_, err = tool.Inspect(bg, "hot", engine.OpenRead|engine.OpenCreate)
	require.ErrorIs(t, err, engine.ErrBadFlag)
}
