package archive

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// failingReader gives some bytes, then fails.
type failingReader struct{ n int }

func (f *failingReader) Read(p []byte) (int, error) {
	if f.n == 0 {
		return 0, errors.New("source failed")
	}
	k := min(len(p), f.n)
	f.n -= k
	return k, nil
}

func TestDirPutIsAllOrNothing(t *testing.T) {
	ctx := context.Background()
	d, err := OpenDir(filepath.Join(t.TempDir(), "a"))
	require.NoError(t, err)
	require.NoError(t, d.Put(ctx, "data/x", bytes.NewReader([]byte("first"))))

	// A failed Put leaves the previous object and no piece.
	require.Error(t, d.Put(ctx, "data/x", &failingReader{n: 3}))
	rc, err := d.Get(ctx, "data/x")
	require.NoError(t, err)
	b, _ := io.ReadAll(rc)
	require.NoError(t, rc.Close())
	require.Equal(t, "first", string(b))
	left, _ := filepath.Glob(filepath.Join(d.Root(), "data", "*"+partSuffix))
	require.Empty(t, left)

	// A cancelled context stops a Put too.
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	require.ErrorIs(t, d.Put(cctx, "data/y", bytes.NewReader([]byte("y"))), context.Canceled)
	_, err = d.Get(ctx, "data/y")
	require.ErrorIs(t, err, ErrNotFound)

	infos, err := d.List(ctx, "data/")
	require.NoError(t, err)
	require.Len(t, infos, 1)
	require.Equal(t, "data/x", infos[0].Name)
	require.Equal(t, int64(5), infos[0].Size)

	require.NoError(t, d.Delete(ctx, "data/x"))
	require.NoError(t, d.Delete(ctx, "data/x"), "deleting a missing object is fine")

	// Pieces a dead process left are swept once older than the limit.
	piece := filepath.Join(d.Root(), "data", "z.0123456789abcdef"+partSuffix)
	require.NoError(t, os.WriteFile(piece, []byte("half"), 0o600))
	n, err := d.Sweep(ctx, time.Now().Add(-time.Hour))
	require.NoError(t, err)
	require.Zero(t, n)
	n, err = d.Sweep(ctx, time.Now().Add(time.Hour))
	require.NoError(t, err)
	require.Equal(t, 1, n)
	require.NoFileExists(t, piece)
}

func TestNames(t *testing.T) {
	ctx := context.Background()
	d, err := OpenDir(t.TempDir())
	require.NoError(t, err)
	for _, bad := range []string{"", "/abs", "a/../b", "..", "a//b", "a/./b", "sp ace", "x\x00", "a/b" + partSuffix} {
		require.Error(t, d.Put(ctx, bad, bytes.NewReader(nil)), "%q", bad)
		_, err := d.Get(ctx, bad)
		require.Error(t, err, "%q", bad)
	}
	require.NoError(t, CheckName("catalog/2026-x_y.json"))
}
