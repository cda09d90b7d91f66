package backup

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/clckpt/libclckpt/ckpt"
	"github.com/stretchr/testify/require"
)

// v1Sections is the content of the checkpoint "old" kept in testdata/v1: objects in the first
// format ("CLCKBK01", every byte hashed into the whole-object digest), one plain ("plain") and one
// zstd ("zstd") copy, both of several chunks.
func v1Sections() map[string][]byte {
	out := map[string][]byte{}
	for i := range 5 {
		out[fmt.Sprintf("sec%d", i)] = bytes.Repeat([]byte{byte('a' + i)}, 300_000+i)
	}
	out["tiny"] = []byte{7}
	return out
}

// TestRestoreFirstFormat restores copies written in the first object format: they stay readable,
// and a damaged one is still refused.
func TestRestoreFirstFormat(t *testing.T) {
	ctx := context.Background()
	root := t.TempDir()
	require.NoError(t, os.CopyFS(filepath.Join(root, "ar"), os.DirFS("testdata/v1")))
	ar := openArchive(t, filepath.Join(root, "ar"))
	l := openLocal(t, filepath.Join(root, "store"))
	m := New(l, ar)
	want := v1Sections()
	for _, name := range []string{"plain", "zstd"} {
		r, err := m.Restore(ctx, RestoreRequest{BackupName: name, Target: "r-" + name, Flags: ckpt.OpenRead})
		require.NoError(t, err, name)
		got := readContent(t, r)
		require.Len(t, got.Sections, len(want), name)
		for id, data := range want {
			require.Equal(t, data, got.Data[id], "%s: section %s", name, id)
		}
		require.NoError(t, r.Close())
	}
	ds, err := m.Query(ctx, Query{BackupName: "plain"})
	require.NoError(t, err)
	d, err := ds.First()
	require.NoError(t, err)
	path := filepath.Join(ar.Root(), filepath.FromSlash(dataName(d.CopyID)))
	good, err := os.ReadFile(path)
	require.NoError(t, err)
	for _, at := range []int{9, 60, len(good) / 2, len(good) - 40} {
		b := bytes.Clone(good)
		b[at] ^= 0x10
		require.NoError(t, os.WriteFile(path, b, 0o600))
		_, err := m.Restore(ctx, RestoreRequest{BackupName: "plain", Target: "bad"})
		require.ErrorIs(t, err, ErrDamaged, "flip at %d", at)
		_, err = l.Open(ctx, "bad", nil, ckpt.OpenRead)
		require.ErrorIs(t, err, ckpt.ErrNotExist)
	}
}
