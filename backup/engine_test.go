package backup

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/clckpt/libclckpt/ckpt"
	"github.com/clckpt/libclckpt/engine"
	"github.com/stretchr/testify/require"
)

// TestRestoreOverOpenHandleAndRestart restores over a checkpoint that a handle keeps open: the
// handle goes on reading the old content, a new open gets the new one, and the data directory
// reopens cleanly afterwards, with the restored content under the name.
func TestRestoreOverOpenHandleAndRestart(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	l, err := engine.OpenLocal(engine.Options{Dir: filepath.Join(dir, "store")})
	require.NoError(t, err)
	ar := openArchive(t, filepath.Join(dir, "backups"))
	m := New(l, ar)
	const nsec = 4
	ck := counterCheckpoint(t, l, "c", nsec)
	require.NoError(t, counterWrite(ctx, ck, nsec, 7))
	backupOne(t, m, "c", "seven", CompressNone)
	require.NoError(t, counterWrite(ctx, ck, nsec, 8))

	r, err := m.Restore(ctx, RestoreRequest{BackupName: "seven", Replace: true, Flags: ckpt.OpenRead})
	require.NoError(t, err)
	vals, err := readCounters(ctx, ck, nsec)
	require.NoError(t, err)
	require.Equal(t, uint64(8), vals[0], "the old handle keeps the old content")
	vals, err = readCounters(ctx, r, nsec)
	require.NoError(t, err)
	require.Equal(t, uint64(7), vals[0])
	require.NoError(t, r.Close())

	// Close the service with the old handle still open, as a dying process would leave it.
	require.NoError(t, l.Close())
	l2 := openLocal(t, filepath.Join(dir, "store"))
	ck2, err := l2.Open(ctx, "c", nil, ckpt.OpenRead)
	require.NoError(t, err)
	defer ck2.Close()
	vals, err = readCounters(ctx, ck2, nsec)
	require.NoError(t, err)
	require.Equal(t, uint64(7), vals[0])
}
