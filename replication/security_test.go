package replication

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/nats-io/nats.go"
	"github.com/stretchr/testify/require"

	"github.com/clckpt/libclckpt/config"
	"github.com/clckpt/libclckpt/engine"
	"github.com/clckpt/libclckpt/replication/directory"
)

// TestDataDirectoryIsPrivate: with the usual umask 022, everything a member leaves in its data
// directory (the stores, the embedded NATS server's JetStream files, locks) is 0700 or 0600.
func TestDataDirectoryIsPrivate(t *testing.T) {
	old := syscall.Umask(0o022)
	defer syscall.Umask(old)
	c := config.Default()
	c.Node, c.DataDir, c.Port = "private", filepath.Join(t.TempDir(), "data"), freePort(t)
	m, err := Join(bg, Options{Config: c, Logger: testLogger(t)})
	require.NoError(t, err)
	h, err := m.Open(bg, "ck", attrs(engine.WriteAllReplicas), rwc)
	require.NoError(t, err)
	big := make([]byte, 256<<10) // values that go to Badger's value log
	for i := range 8 {
		_, err = h.CreateSection(bg, []byte{'s', byte('0' + i)}, engine.Never, big)
		require.NoError(t, err)
	}
	require.NoError(t, h.Close())
	require.NoError(t, m.Close())

	files := 0
	require.NoError(t, filepath.WalkDir(c.DataDir, func(path string, d fs.DirEntry, err error) error {
		require.NoError(t, err)
		info, err := d.Info()
		require.NoError(t, err)
		want := fs.FileMode(0o600)
		if d.IsDir() {
			want = 0o700
		} else {
			files++
		}
		require.Zero(t, info.Mode().Perm()&^want, "%s is %v", path, info.Mode().Perm())
		return nil
	}))
	require.Greater(t, files, 10, "the stores and JetStream wrote files")
}

// Names and section ids that mean something to a file system or to NATS.
var awkwardNames = []string{".", "..", "a.b", "*", ">", "a.*.>", "/", "../../escape", "dir/file", "a\x00b",
	"\xff\xfe\xfd", " ", "$JS.API.STREAM.DELETE.x", "_INBOX.x", "clckpt.m.s1.call", strings.Repeat("\xc3", 256)}

// TestNamesAndSectionIDsStayInsideTheirSpaces: checkpoints and sections named with path and
// subject syntax, NUL and invalid UTF-8 work like any other across members, and never show up in
// a file name or a NATS subject: members talk on subjects made of member names only, and the
// directory keys names in hex.
func TestNamesAndSectionIDsStayInsideTheirSpaces(t *testing.T) {
	cl := newCluster(t)
	spy, err := nats.Connect(cl.server.ClientURL())
	require.NoError(t, err)
	defer spy.Close()
	var mu sync.Mutex
	subjects := map[string]bool{}
	_, err = spy.Subscribe(">", func(msg *nats.Msg) {
		mu.Lock()
		subjects[msg.Subject] = true
		mu.Unlock()
	})
	require.NoError(t, err)
	require.NoError(t, spy.Flush())

	cl.join("s1", directory.KindServer)
	cl.join("s2", directory.KindServer)
	a := cl.join("a", directory.KindApplication)
	b := cl.join("b", directory.KindApplication)
	for _, name := range awkwardNames {
		ha, err := a.Open(bg, name, attrs(engine.WriteAllReplicas), rwc)
		require.NoError(t, err, "%q", name)
		for _, id := range awkwardNames[2:] { // not "." and "..": 16 sections at most
			if len(id) > 32 {
				continue
			}
			_, err := ha.CreateSection(bg, []byte(id), engine.Never, []byte(name+"|"+id))
			require.NoError(t, err, "%q / %q", name, id)
		}
		hb, err := b.Open(bg, name, nil, engine.OpenRead|engine.OpenWrite)
		require.NoError(t, err, "%q", name)
		require.Equal(t, name+"|/", read(t, hb, "/"))
		require.NoError(t, hb.Overwrite(bg, []byte("a\x00b"), []byte("from b")))
		require.Equal(t, "from b", read(t, ha, "a\x00b"))
		require.NoError(t, hb.Close())
		require.NoError(t, ha.Close())
	}
	// Every name is its own checkpoint.
	for _, name := range awkwardNames {
		h, err := b.Open(bg, name, nil, engine.OpenRead)
		require.NoError(t, err)
		require.Equal(t, name+"|*", read(t, h, "*"))
		require.NoError(t, h.Close())
	}

	// Subjects: the members' own ("clckpt.m.<member>.<what>"), JetStream's API and KV keys (hex
	// names, member names), inboxes.
	allowed := []*regexp.Regexp{
		regexp.MustCompile(`^clckpt\.m\.(s1|s2|a|b)\.[a-z]+$`),
		regexp.MustCompile(`^\$KV\.clckpt-dir\.([nc]\.[0-9a-f]+|id)$`), // entries, names, the identity
		regexp.MustCompile(`^\$KV\.clckpt-members\.(s1|s2|a|b)$`),
		regexp.MustCompile(`^\$JS\.(API|ACK|EVENT|FC)\.[A-Za-z0-9_.$*>-]+$`),
		regexp.MustCompile(`^_INBOX\.[A-Za-z0-9.]+$`),
	}
	mu.Lock()
	defer mu.Unlock()
	require.NotEmpty(t, subjects)
	for s := range subjects {
		ok := false
		for _, re := range allowed {
			ok = ok || re.MatchString(s)
		}
		require.True(t, ok, "subject %q", s)
		for _, part := range []string{"escape", "dir/file", "\x00", "\xff", "\xc3", " "} {
			require.NotContains(t, s, part)
		}
		require.NotContains(t, []string{"$JS.API.STREAM.DELETE.x", "_INBOX.x"}, s)
	}

	// Files: nothing outside the data directories, and no file named after a checkpoint.
	entries, err := os.ReadDir(cl.root)
	require.NoError(t, err)
	for _, e := range entries {
		require.Contains(t, []string{"nats", "s1", "s2", "a", "b"}, e.Name())
	}
	require.NoError(t, filepath.WalkDir(cl.root, func(path string, d fs.DirEntry, err error) error {
		require.NoError(t, err)
		require.NotContains(t, d.Name(), "escape")
		require.NotContains(t, d.Name(), "\xff")
		return nil
	}))
}
