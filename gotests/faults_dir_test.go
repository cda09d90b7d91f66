package gotests

import (
	"encoding/binary"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/clckpt/libclckpt/engine/store"
)

// TestBadDataDirectoryIsAClearError: clCkptInitialize on a data directory that is damaged, foreign,
// unwritable or of a future format returns CL_CKPT_ERR_NO_RESOURCE (never a crash), and the log
// names the directory and what is wrong with it.
func TestBadDataDirectoryIsAClearError(t *testing.T) {
	// A real store, written and closed by the library: the cases damage copies of it.
	tmpl := t.TempDir()
	env := func(data string) []string {
		return []string{"CLCKPT_DATA_DIR=" + data, "CLCKPT_NODE=n", "CLCKPT_PORT=" + strconv.Itoa(freePort(t)), "CLCKPT_LOG_LEVEL=warn"}
	}
	p := startInput(t, "template", env(tmpl), faults, "fill", "f", "64")
	p.waitLine("^ready$", 30*time.Second)
	p.send("write 20")
	p.waitLine("^ack 19$", 30*time.Second)
	p.send("quit")
	require.Equal(t, 0, p.wait(30*time.Second))
	copyOf := func(t *testing.T) string {
		d := filepath.Join(t.TempDir(), "data")
		out, err := exec.Command("cp", "-a", tmpl, d).CombinedOutput()
		require.NoError(t, err, string(out))
		return d
	}
	one := func(t *testing.T, dir, pattern string) string {
		m, err := filepath.Glob(filepath.Join(dir, "n", pattern))
		require.NoError(t, err)
		require.NotEmpty(t, m, "no %s in the store", pattern)
		return m[0]
	}
	overwrite := func(path string) error { return os.WriteFile(path, []byte(strings.Repeat("garbage!", 512)), 0o600) }
	truncate := func(path string) error { // cut in half
		fi, err := os.Stat(path)
		if err != nil {
			return err
		}
		return os.Truncate(path, fi.Size()/2)
	}

	// damage returns a case's preparation: a copy of the store with one file changed.
	damage := func(pattern string, change func(string) error) func(t *testing.T) string {
		return func(t *testing.T) string {
			d := copyOf(t)
			require.NoError(t, change(one(t, d, pattern)))
			return d
		}
	}
	cases := []struct {
		name    string
		prepare func(t *testing.T) string // returns CLCKPT_DATA_DIR
		want    string                    // in the log
	}{
		{"MANIFEST overwritten", damage("MANIFEST", overwrite), "MANIFEST"},
		{"MANIFEST truncated", damage("MANIFEST", truncate), "MANIFEST"},
		{"vlog overwritten", damage("*.vlog", overwrite), "vlog"},
		{"vlog truncated", damage("*.vlog", truncate), "vlog"},
		{"sst overwritten", damage("*.sst", overwrite), "sst"},
		{"sst truncated", damage("*.sst", truncate), "sst"},
		{"data dir is a file", func(t *testing.T) string {
			d := filepath.Join(t.TempDir(), "file")
			require.NoError(t, os.WriteFile(d, []byte("x"), 0o600))
			return d
		}, "not a directory"},
		{"store dir is a file", func(t *testing.T) string {
			d := t.TempDir()
			require.NoError(t, os.WriteFile(filepath.Join(d, "n"), []byte("x"), 0o600))
			return d
		}, "not a directory"},
		{"read-only file system", func(t *testing.T) string {
			d := copyOf(t)
			if os.Geteuid() != 0 {
				cannotRun(t, "a read-only mount needs root (euid %d)", os.Geteuid())
			}
			require.NoError(t, syscall.Mount(d, d, "", syscall.MS_BIND, ""))
			t.Cleanup(func() { _ = syscall.Unmount(d, syscall.MNT_DETACH) })
			require.NoError(t, syscall.Mount(d, d, "", syscall.MS_BIND|syscall.MS_REMOUNT|syscall.MS_RDONLY, ""))
			return d
		}, "read-only file system"},
		{"another program's files", func(t *testing.T) string {
			d := t.TempDir()
			require.NoError(t, os.MkdirAll(filepath.Join(d, "n", "base"), 0o700))
			require.NoError(t, os.WriteFile(filepath.Join(d, "n", "postgresql.conf"), []byte("port = 5432\n"), 0o600))
			return d
		}, "is not a clckpt data directory"},
		{"another program's Badger store", func(t *testing.T) string {
			d := t.TempDir()
			s, err := store.OpenBadger(store.BadgerOptions{Dir: filepath.Join(d, "n"), GCInterval: -1})
			require.NoError(t, err)
			var b store.Batch
			b.Set([]byte("user/42"), []byte("someone else's data"))
			require.NoError(t, s.Apply(&b))
			require.NoError(t, s.Close())
			return d
		}, "did not write"},
		{"future format version", func(t *testing.T) string {
			d := copyOf(t)
			s, err := store.OpenBadger(store.BadgerOptions{Dir: filepath.Join(d, "n"), GCInterval: -1})
			require.NoError(t, err)
			var b store.Batch
			b.Set([]byte("F"), binary.LittleEndian.AppendUint32([]byte("clckpt\x00"), 3))
			require.NoError(t, s.Apply(&b))
			require.NoError(t, s.Close())
			return d
		}, "format version 3"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			data := c.prepare(t)
			p := start(t, "init", env(data), faults, "init")
			rc := p.waitLine(`^init (0x[0-9a-f]+)$`, 60*time.Second)[1]
			require.Equal(t, 0, p.wait(30*time.Second), "no crash")
			log, err := os.ReadFile(p.log)
			require.NoError(t, err)
			t.Logf("%s: %s", rc, lastLine(string(log), "cannot start"))
			require.Equal(t, "0x16000b", rc, "CL_CKPT_ERR_NO_RESOURCE")
			require.Contains(t, string(log), c.want)
			require.Contains(t, string(log), data, "the log names the directory")
		})
	}
}

// lastLine returns the last line of s that contains substr.
func lastLine(s, substr string) string {
	lines := strings.Split(s, "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		if strings.Contains(lines[i], substr) {
			return lines[i]
		}
	}
	return ""
}
