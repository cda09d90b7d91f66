package config

import (
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func writeFile(t *testing.T, text string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "clckpt.toml")
	require.NoError(t, os.WriteFile(p, []byte(text), 0o600))
	return p
}

// The environment overrides the file, which overrides the defaults; [serve] keys the file leaves
// out keep their defaults.
func TestConfigFilePrecedence(t *testing.T) {
	p := writeFile(t, `
node = "from-file"
data_dir = "/file"
lease = "5s"
replicas = 2
log_level = "info"
[nats]
url = "nats://file:4222"
token = "t0k3n"
[serve]
cluster_port = 6250
routes = ["nats-route://a:6250", "nats-route://b:6250"]
`)
	t.Setenv("CLCKPT_CONFIG", p)
	t.Setenv("CLCKPT_NODE", "")
	t.Setenv("CLCKPT_LEASE", "4s")
	c, err := FromEnv()
	require.NoError(t, err)
	require.Equal(t, "from-file", c.Node)
	require.Equal(t, "/file", c.DataDir)
	require.Equal(t, 4*time.Second, c.Lease, "the environment overrides the file")
	require.Equal(t, 2, c.Replicas)
	require.Equal(t, time.Second, c.AckTimeout, "a default the file leaves alone")
	require.Equal(t, "nats://file:4222", c.NATS.URL)

	_, f, err := Load(p)
	require.NoError(t, err)
	want := DefaultServe()
	want.ClusterPort, want.Routes = 6250, []string{"nats-route://a:6250", "nats-route://b:6250"}
	require.Equal(t, want, f.Serve)

	// What Print writes reads back to the same settings, secrets aside.
	out, err := Print(c, &f.Serve)
	require.NoError(t, err)
	require.NotContains(t, string(out), "t0k3n")
	require.Contains(t, string(out), "(redacted)")
	t.Setenv("CLCKPT_LEASE", "")
	back, f2, err := Load(writeFile(t, string(out)))
	require.NoError(t, err)
	c.NATS.Token, back.NATS.Token = "", ""
	c.Lease = back.Lease
	require.Equal(t, c, back)
	require.Equal(t, f.Serve, f2.Serve)
}

// A bad file fails with the key named: unknown keys, values of the wrong type, bad durations and
// levels, and values that Validate refuses.
func TestConfigFileErrors(t *testing.T) {
	for _, c := range []struct{ text, want string }{
		{"lease = \"3s\"\nleese = \"1s\"\n", "unknown key leese"},
		{"[serve]\nclustr_port = 1\n", "unknown key serve.clustr_port"},
		{"[nats]\nurl = 5\n", "nats.url"},
		{"port = \"x\"\n", "port"},
		{"ack_timeout = \"soon\"\n", "key ack_timeout"},
		{"log_level = \"loud\"\n", "key log_level"},
		{"lease = \"1ms\"\n", "lease (CLCKPT_LEASE) 1ms is shorter than 300ms"},
		{"port = 70000\n", "port (CLCKPT_PORT) 70000 out of range"},
		{"node = \"a b\"\n", "node (CLCKPT_NODE)"},
	} {
		t.Setenv("CLCKPT_CONFIG", writeFile(t, c.text))
		_, err := FromEnv()
		require.ErrorContains(t, err, c.want, c.text)
		require.ErrorIs(t, err, ErrBadSetting)
	}
	t.Setenv("CLCKPT_CONFIG", filepath.Join(t.TempDir(), "missing.toml"))
	_, err := FromEnv()
	require.ErrorContains(t, err, "missing.toml")
}

// The README's example file is one that Load takes.
func TestTheReadmeExampleFileLoads(t *testing.T) {
	b, err := os.ReadFile("../README.md")
	require.NoError(t, err)
	_, rest, ok := strings.Cut(string(b), "```toml\n")
	require.True(t, ok, "no TOML example in the README")
	example, _, ok := strings.Cut(rest, "```")
	require.True(t, ok)
	c, f, err := Load(writeFile(t, example))
	require.NoError(t, err)
	require.NoError(t, c.Validate())
	require.Equal(t, 6250, f.Serve.ClusterPort)
}

// Log levels: the four names in any case, and slog's offsets ("ERROR+4", quieter than error), which
// the fuzz harnesses and earlier releases' users set.
func TestLogLevels(t *testing.T) {
	for v, want := range map[string]slog.Level{"error": slog.LevelError, "WARN": slog.LevelWarn, "Info": slog.LevelInfo,
		"debug": slog.LevelDebug, "ERROR+4": slog.LevelError + 4, "info-2": slog.LevelInfo - 2} {
		l, err := ParseLevel(v)
		require.NoError(t, err, v)
		require.Equal(t, want, l, v)
	}
	_, err := ParseLevel("loud")
	require.ErrorContains(t, err, "use error, warn, info or debug")
}
