package privdir

import (
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestFilesCreatedLaterArePrivate: with the usual umask 022, files and directories that other code
// creates inside a private directory with mode 0666/0777 end up 0600/0700.
func TestFilesCreatedLaterArePrivate(t *testing.T) {
	old := syscall.Umask(0o022)
	defer syscall.Umask(old)
	dir := filepath.Join(t.TempDir(), "a", "b")
	require.NoError(t, Make(dir))
	require.NoError(t, Make(dir), "again: it exists")
	require.NoError(t, os.WriteFile(filepath.Join(dir, "file"), []byte("x"), 0o666))
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "sub", "deeper"), 0o777))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "sub", "deeper", "file"), []byte("x"), 0o666))
	requirePrivate(t, dir)
	info, err := os.Stat(filepath.Dir(dir))
	require.NoError(t, err)
	require.Equal(t, fs.FileMode(0o700), info.Mode().Perm(), "a parent Make created")
}

// TestOwnNarrowsWhatIsAlreadyThere: a store made before, with open modes, is narrowed.
func TestOwnNarrowsWhatIsAlreadyThere(t *testing.T) {
	old := syscall.Umask(0)
	defer syscall.Umask(old)
	dir := t.TempDir()
	require.NoError(t, os.Chmod(dir, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "open"), []byte("x"), 0o644))
	require.NoError(t, os.Mkdir(filepath.Join(dir, "sub"), 0o777))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "sub", "exec"), []byte("x"), 0o755))
	require.NoError(t, Own(dir))
	requirePrivate(t, dir)
	info, err := os.Stat(filepath.Join(dir, "sub", "exec"))
	require.NoError(t, err)
	require.Equal(t, fs.FileMode(0o600), info.Mode().Perm(), "narrowed, never widened")
}

// requirePrivate checks that nothing under dir grants anything to group or others, and that
// nothing is wider than 0600 (files) or 0700 (directories).
func requirePrivate(t *testing.T, dir string) {
	t.Helper()
	require.NoError(t, filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		require.NoError(t, err)
		info, err := d.Info()
		require.NoError(t, err)
		want := fs.FileMode(0o600)
		if d.IsDir() {
			want = 0o700
		}
		require.Zero(t, info.Mode().Perm()&^want, "%s is %v", path, info.Mode().Perm())
		return nil
	}))
}

// TestMakeLeavesAnExistingDirectoryAlone: the user's own directory keeps its mode and contents.
func TestMakeLeavesAnExistingDirectoryAlone(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.Chmod(dir, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "theirs"), []byte("x"), 0o644))
	require.NoError(t, Make(dir))
	info, err := os.Stat(dir)
	require.NoError(t, err)
	require.Equal(t, fs.FileMode(0o755), info.Mode().Perm())
	require.NoError(t, Make(filepath.Join(dir, "ours")))
	requirePrivate(t, filepath.Join(dir, "ours"))
	info, err = os.Stat(filepath.Join(dir, "theirs"))
	require.NoError(t, err)
	require.Equal(t, fs.FileMode(0o644), info.Mode().Perm())
}
