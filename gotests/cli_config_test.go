package gotests

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// clckpt serve reads a TOML file (--config, or CLCKPT_CONFIG as every member does), under the
// environment and the flags; --print-config shows the result with the secrets redacted; a bad
// file is refused naming the key. A node started from the file alone is found by a client command
// given nothing but CLCKPT_CONFIG.
func TestServeConfigFile(t *testing.T) {
	dir := t.TempDir()
	port := freePort(t)
	file := filepath.Join(dir, "clckpt.toml")
	require.NoError(t, os.WriteFile(file, []byte(fmt.Sprintf(`
node = "from-file"
data_dir = %q
port = %d
lease = "2s"
log_level = "info"

[nats]
password = "file-secret"

[serve]
host = "127.0.0.1"
`, filepath.Join(dir, "data"), port)), 0o600))
	clean := []string{"CLCKPT_NODE=", "CLCKPT_DATA_DIR=", "CLCKPT_PORT=", "CLCKPT_LEASE=", "CLCKPT_LOG_LEVEL=", "CLCKPT_CONFIG="}

	out := cliOK(t, clean, nil, "serve", "--config", file, "--print-config")
	require.Contains(t, out, "node = 'from-file'")
	require.Contains(t, out, "port = "+strconv.Itoa(port))
	require.Contains(t, out, "lease = '2s'")
	require.Contains(t, out, "log_level = 'info'")
	require.Contains(t, out, "ack_timeout = '1s'", "defaults for the keys the file leaves out")
	require.NotContains(t, out, "file-secret")
	env := append(append([]string{}, clean...), "CLCKPT_CONFIG="+file, "CLCKPT_NODE=from-env", "CLCKPT_NATS_PASSWORD=env-secret")
	out = cliOK(t, env, nil, "serve", "--print-config")
	require.Contains(t, out, "node = 'from-env'", "the environment overrides the file")
	require.NotContains(t, out, "env-secret")
	require.Contains(t, out, "password = '(redacted)'")
	out = cliOK(t, env, nil, "serve", "--print-config", "--node", "from-flag", "--routes", "nats-route://a:1,nats-route://b:2")
	require.Contains(t, out, "node = 'from-flag'", "flags override the environment")
	require.Contains(t, out, "routes = ['nats-route://a:1', 'nats-route://b:2']")
	require.Contains(t, cliOK(t, env, nil, "serve", "--print-config", "--log-level", "debug"), "log_level = 'debug'")

	bad := filepath.Join(dir, "bad.toml")
	for _, c := range []struct{ text, msg string }{
		{"lease = \"2s\"\n[serve]\nprot = 1\n", "unknown key serve.prot"},
		{"lease = \"forever\"\n", "key lease"},
		{"replicas = 0\n", "replicas (CLCKPT_REPLICAS) 0 must be at least 1"},
	} {
		require.NoError(t, os.WriteFile(bad, []byte(c.text), 0o600))
		_, errOut, code := cli(t, clean, nil, "serve", "--config", bad)
		require.Equal(t, exitUsage, code, errOut)
		require.Contains(t, errOut, c.msg)
		// A client command reads the same file, with the same errors.
		_, errOut, code = cli(t, append(append([]string{}, clean...), "CLCKPT_CONFIG="+bad), nil, "status")
		require.Equal(t, exitUsage, code, errOut)
		require.Contains(t, errOut, c.msg)
	}

	node := start(t, "serve", clean, bin("clckpt"), "serve", "--config", file)
	node.waitLine(`^ready tls://127\.0\.0\.1:`+strconv.Itoa(port)+`$`, 60*time.Second)
	node.waitLog(`level=INFO msg=ready`, 10*time.Second) // log_level from the file
	out = cliOK(t, append(append([]string{}, clean...), "CLCKPT_CONFIG="+file), nil, "status")
	require.Regexp(t, `(?m)^\s+from-file\s+server\s+lease ends in \S+\s+link`, out)
	require.Equal(t, 0, node.stop())
}
