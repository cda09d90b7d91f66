package gotests

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestConfigurationErrorsAreNotTryAgain: clCkptInitialize in a C program returns
// CL_CKPT_ERR_INVALID_STATE, and logs why, for settings that no retry can cure: an unparsable NATS
// URL, an unresolvable host, credentials the server rejects, a CLCKPT_LINK or CLCKPT_METRICS_ADDR
// that cannot be bound or parsed,
// and (embedded default) a server on the port that is not this data directory's, which is said so
// (natsconn's tests cover the token mismatch). A server that is not there is CL_CKPT_ERR_TRY_AGAIN.
func TestConfigurationErrorsAreNotTryAgain(t *testing.T) {
	const invalidState, tryAgain = "0x160012", "0x160016"
	port := freePort(t)
	// The server's password comes from a file, out of the process list.
	passwordFile := filepath.Join(t.TempDir(), "password")
	require.NoError(t, os.WriteFile(passwordFile, []byte("right\n"), 0o600))
	s := start(t, "serve", []string{"CLCKPT_DATA_DIR=" + filepath.Join(t.TempDir(), "serve"), "CLCKPT_NODE=s", "CLCKPT_LOG_LEVEL=info"},
		bin("clckpt"), "serve", "--port", strconv.Itoa(port), "--user", "u", "--password-file", passwordFile)
	s.waitLine("^ready", 60*time.Second)
	url := fmt.Sprintf("nats://127.0.0.1:%d", port)
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer busy.Close()

	for _, c := range []struct {
		name, want, logs string
		env              []string
	}{
		{"unparsable URL", invalidState, "CLCKPT_NATS_URL", []string{"CLCKPT_NATS_URL=nats://127.0.0.1:port"}},
		{"unresolvable host", invalidState, "no such host", []string{"CLCKPT_NATS_URL=nats://no-such-host.invalid:4222"}},
		{"rejected password", invalidState, "Authorization Violation",
			[]string{"CLCKPT_NATS_URL=" + url, "CLCKPT_NATS_USER=u", "CLCKPT_NATS_PASSWORD=wrong"}},
		{"link not bound", invalidState, "CLCKPT_LINK",
			[]string{"CLCKPT_NATS_URL=" + url, "CLCKPT_NATS_USER=u", "CLCKPT_NATS_PASSWORD=right", "CLCKPT_LINK=" + busy.Addr().String()}},
		{"metrics address not bound", invalidState, "CLCKPT_METRICS_ADDR",
			[]string{"CLCKPT_NATS_URL=" + url, "CLCKPT_NATS_USER=u", "CLCKPT_NATS_PASSWORD=right", "CLCKPT_METRICS_ADDR=" + busy.Addr().String()}},
		{"metrics address that does not parse", invalidState, "CLCKPT_METRICS_ADDR", []string{"CLCKPT_METRICS_ADDR=somewhere"}},
		{"another data directory's server", invalidState, "is not the one of data directory", []string{"CLCKPT_PORT=" + strconv.Itoa(port)}},
		{"no server", tryAgain, "", []string{"CLCKPT_NATS_URL=nats://127.0.0.1:" + strconv.Itoa(freePort(t))}},
		{"the right settings", "0x0", "", []string{"CLCKPT_NATS_URL=" + url, "CLCKPT_NATS_USER=u", "CLCKPT_NATS_PASSWORD=right"}},
	} {
		env := append([]string{"CLCKPT_DATA_DIR=" + filepath.Join(t.TempDir(), "data"), "CLCKPT_NODE=p", "CLCKPT_LOG_LEVEL=info"}, c.env...)
		p := start(t, "init", env, faults, "init")
		got := p.waitLine(`^init (0x[0-9a-f]+)$`, 60*time.Second)[1]
		require.Equal(t, 0, p.wait(30*time.Second), c.name)
		require.Equal(t, c.want, got, c.name)
		log, err := os.ReadFile(p.log)
		require.NoError(t, err)
		require.Contains(t, string(log), c.logs, c.name)
		require.NotContains(t, string(log), "port in use", c.name)
	}
}
