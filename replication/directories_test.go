package replication

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/clckpt/libclckpt/engine"
	"github.com/clckpt/libclckpt/replication/directory"
	"github.com/clckpt/libclckpt/replication/natsconn"
)

// TestAReplicaAnotherDirectoryDoesNotKnowIsKept: a member writes a checkpoint through one NATS
// server's directory, then its slot joins a fresh server (another JetStream store, as a new node or
// deployment would be): the checkpoint is missing there, but it was never destroyed, so the replica
// stays. Back on the first server the data is all there.
func TestAReplicaAnotherDirectoryDoesNotKnowIsKept(t *testing.T) {
	cl := newCluster(t)
	a := cl.join("a", directory.KindApplication)
	h, err := a.Open(bg, "kept", attrs(engine.WriteAllReplicas), rwc)
	require.NoError(t, err)
	_, err = h.CreateSection(bg, []byte("s"), engine.Never, []byte("A"))
	require.NoError(t, err)
	require.NoError(t, h.Close())
	delete(cl.members, "a")
	require.NoError(t, a.Close())

	other, err := natsconn.StartServer(natsconn.ServerOptions{Name: "other", Host: "127.0.0.1", Port: -1, StoreDir: filepath.Join(t.TempDir(), "nats")})
	require.NoError(t, err)
	t.Cleanup(other.Shutdown)
	cfg := cl.config("a")
	cfg.NATS.URL = other.ClientURL()
	away, err := Join(bg, Options{Config: cfg, Logger: testLogger(t)})
	require.NoError(t, err)
	require.Equal(t, "lsn 1: s=41;", replicaContent(t, away, "kept"), "the other directory does not know it; it is kept")
	require.NoError(t, away.Close())

	back := cl.join("a", directory.KindApplication)
	h, err = back.Open(bg, "kept", nil, engine.OpenRead|engine.OpenWrite)
	require.NoError(t, err)
	require.Equal(t, "A", read(t, h, "s"))
	require.NoError(t, h.Close())
}
