package backup

import (
	"context"
	"log/slog"
	"path/filepath"
	"strings"
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

// twoMembers starts a NATS server and two application members, a and b, under a fresh root
// directory (returned).
func twoMembers(t *testing.T) (string, *replication.Member, *replication.Member) {
	t.Helper()
	root := t.TempDir()
	s, err := natsconn.StartServer(natsconn.ServerOptions{Name: "t", Host: "127.0.0.1", Port: -1, StoreDir: filepath.Join(root, "nats")})
	require.NoError(t, err)
	t.Cleanup(s.Shutdown)
	return root, joinMember(t, s.ClientURL(), root, "a"), joinMember(t, s.ClientURL(), root, "b")
}

// TestMemberBackupAtActive backs up a replicated checkpoint at the member holding its active
// replica, and through the member without it, while both write to it through the service: each
// copy is a cut (every section holds the same counter), and it restores into a single-process
// service.
func TestMemberBackupAtActive(t *testing.T) {
	ctx := context.Background()
	root, a, b := twoMembers(t)
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
	db := backupOne(t, New(b, ar), "rep", "at-b", CompressNone)
	require.NoError(t, stop())
	require.NotZero(t, d.LSN)
	require.GreaterOrEqual(t, db.LSN, d.LSN)

	l := openLocal(t, filepath.Join(root, "local"))
	for _, name := range []string{"at-a", "at-b"} {
		r, err := New(l, ar).Restore(ctx, RestoreRequest{BackupName: name, Target: name, Flags: ckpt.OpenRead})
		require.NoError(t, err)
		defer r.Close()
		vals, err := readCounters(ctx, r, nsec)
		require.NoError(t, err)
		for i := range vals {
			require.Equal(t, vals[0], vals[i], "section %d of %s", i, name)
		}
		require.NotZero(t, vals[0])
	}
}

// A checkpoint with the longest name (2048 bytes) is backed up on one member, listed by its name, and
// restored over itself through the other member (its directory name moves to the restored copy)
// and into a single-process service under the same name; the backup name may be as long.
func TestLongestNameBackupAndRestore(t *testing.T) {
	ctx := context.Background()
	root, a, b := twoMembers(t)
	name := strings.Repeat("n", ckpt.MaxNameLength-1) + "a"
	sibling := name[:len(name)-1] + "b"
	ca, err := a.Open(ctx, name, &testAttrs, ckpt.OpenCreate|ckpt.OpenRead|ckpt.OpenWrite)
	require.NoError(t, err)
	defer ca.Close()
	_, err = ca.CreateSection(ctx, secID(0), ckpt.Never, []byte("backed up"))
	require.NoError(t, err)

	ar := openArchive(t, filepath.Join(root, "backups"))
	backupName := strings.Repeat("b", ckpt.MaxNameLength)
	d := backupOne(t, New(a, ar), name, backupName, CompressZstd)
	require.Equal(t, name, d.Checkpoint)
	r, err := New(b, ar).Query(ctx, Query{Checkpoint: name})
	require.NoError(t, err)
	require.Len(t, r.All(), 1)
	r, err = New(b, ar).Query(ctx, Query{Checkpoint: sibling})
	require.NoError(t, err)
	require.Empty(t, r.All())
	_, err = New(a, ar).Start(ctx, Request{Items: []Item{{Checkpoint: name + "x", BackupName: "x"}}})
	require.ErrorIs(t, err, ckpt.ErrInvalidParameter)

	require.NoError(t, ca.Overwrite(ctx, secID(0), []byte("changed")))
	rb, err := New(b, ar).Restore(ctx, RestoreRequest{BackupName: backupName, Replace: true, Flags: ckpt.OpenRead})
	require.NoError(t, err)
	defer rb.Close()
	require.Equal(t, name, rb.Name())
	fresh, err := a.Open(ctx, name, nil, ckpt.OpenRead)
	require.NoError(t, err, "the name now names the restored checkpoint")
	defer fresh.Close()
	for _, ck := range []ckpt.Checkpoint{rb, fresh} {
		el := []ckpt.ReadElement{{SectionID: secID(0)}}
		require.NoError(t, ck.Read(ctx, el))
		require.Equal(t, "backed up", string(el[0].Buffer[:el[0].ReadSize]))
	}

	l := openLocal(t, filepath.Join(root, "local"))
	rl, err := New(l, ar).Restore(ctx, RestoreRequest{CopyID: d.CopyID, Flags: ckpt.OpenRead})
	require.NoError(t, err)
	defer rl.Close()
	require.Equal(t, name, rl.Name())
	_, err = l.Open(ctx, sibling, nil, ckpt.OpenRead)
	require.ErrorIs(t, err, ckpt.ErrNotExist)
}
