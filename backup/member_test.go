package backup

import (
	"context"
	"log/slog"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/clckpt/libclckpt/ckpt"
	"github.com/clckpt/libclckpt/config"
	"github.com/clckpt/libclckpt/replication"
	"github.com/clckpt/libclckpt/replication/directory"
	"github.com/clckpt/libclckpt/replication/natsconn"
	"github.com/stretchr/testify/require"
)

func joinMember(t *testing.T, url, root, name string) *replication.Member {
	t.Helper()
	c := config.Default()
	c.Node = name
	c.DataDir = filepath.Join(root, name)
	c.NATS.URL = url
	c.Lease = time.Second
	m, err := replication.Join(context.Background(), replication.Options{Config: c, Kind: directory.KindApplication, Logger: slog.New(slog.DiscardHandler)})
	require.NoError(t, err)
	t.Cleanup(func() { _ = m.Close() })
	return m
}

// TestMemberBackupAtActive backs up a replicated checkpoint at the member holding its active
// replica while another member writes to it through the service: the copy is a cut (every
// section holds the same counter), and it restores into a single-process service. The member
// without the active replica refuses with ErrTryAgain naming the active one.
func TestMemberBackupAtActive(t *testing.T) {
	ctx := context.Background()
	root := t.TempDir()
	s, err := natsconn.StartServer(natsconn.ServerOptions{Name: "t", Host: "127.0.0.1", Port: -1, StoreDir: filepath.Join(root, "nats")})
	require.NoError(t, err)
	t.Cleanup(s.Shutdown)
	a := joinMember(t, s.ClientURL(), root, "a")
	b := joinMember(t, s.ClientURL(), root, "b")
	const nsec = 8
	ca, err := a.Open(ctx, "rep", &testAttrs, ckpt.OpenCreate|ckpt.OpenRead|ckpt.OpenWrite)
	require.NoError(t, err)
	defer ca.Close()
	for i := range nsec {
		_, err := ca.CreateSection(ctx, secID(i), ckpt.Never, make([]byte, 8))
		require.NoError(t, err)
	}
	e, err := a.Entry(ctx, "rep")
	require.NoError(t, err)
	require.Equal(t, "a", e.Active)
	cb, err := b.Open(ctx, "rep", nil, ckpt.OpenWrite)
	require.NoError(t, err)
	defer cb.Close()

	var counter atomic.Uint64
	stop := counterWriters(ctx, []ckpt.Checkpoint{ca, cb}, nsec, &counter)
	require.Eventually(t, func() bool { return counter.Load() > 50 }, time.Minute, time.Millisecond)
	ar := openArchive(t, filepath.Join(root, "backups"))
	d := backupOne(t, New(a, ar), "rep", "at-a", CompressZstd)
	j, err := New(b, ar).Start(ctx, Request{Items: []Item{{Checkpoint: "rep", BackupName: "at-b"}}})
	require.NoError(t, err) // the job starts; its cut fails
	_, err = j.Wait(ctx)
	require.ErrorIs(t, err, ckpt.ErrTryAgain)
	require.ErrorContains(t, err, "member a")
	require.NoError(t, stop())
	require.NotZero(t, d.LSN)

	_, err = New(a, ar).Restore(ctx, RestoreRequest{BackupName: "at-a"})
	require.ErrorIs(t, err, ckpt.ErrBadOperation, "a member does not restore")
	l := openLocal(t, filepath.Join(root, "local"))
	r, err := New(l, ar).Restore(ctx, RestoreRequest{BackupName: "at-a", Flags: ckpt.OpenRead})
	require.NoError(t, err)
	defer r.Close()
	vals, err := readCounters(ctx, r, nsec)
	require.NoError(t, err)
	for i := range vals {
		require.Equal(t, vals[0], vals[i], "section %d", i)
	}
	require.NotZero(t, vals[0])
}
