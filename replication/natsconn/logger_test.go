package natsconn

import (
	"bytes"
	"log/slog"
	"testing"

	"github.com/stretchr/testify/require"
)

// What NATS says at every start after the process was killed (JetStream rebuilding its indexes)
// and while a cluster forms needs nothing from anyone: it is not a warning. Other warnings stay.
func TestServerNoticesThatNeedNothingAreNotWarnings(t *testing.T) {
	l, out := warningsOnly()
	for _, msg := range []string{
		"Filestore [KV_clckpt-dir] TTL state is outdated; attempting to recover using linear scan (seq 1 to 32)",
		"Filestore [KV_clckpt-members] Recovering stream state from index errored: prior state file",
		"Filestore [KV_clckpt-dir] Stream state outdated, last block has additional entries, will rebuild",
		"Filestore [KV_clckpt-dir] Stream state detected prior state, could not locate msg block 3",
		"Waiting for routing to be established...",
		"JetStream has not established contact with a meta leader",
		"Maximum payloads over 8 MB are generally discouraged",
	} {
		l.Warnf("%s", msg)
	}
	require.Empty(t, out.String())
	l.Warnf("Filestore [KV_clckpt-dir] Error loading msg block with seq %d for recovering per-message state", 7)
	require.Contains(t, out.String(), "level=WARN")
}

// A client that closes its connection in the middle of the TLS handshake (one that gave up waiting
// for a server busy restarting after kill -9) is not an error; a handshake that fails on its merits
// is.
func TestAClientLeavingItsTLSHandshakeIsNotAnError(t *testing.T) {
	l, out := warningsOnly()
	for _, msg := range []string{
		"127.0.0.1:59896 - cid:509 - TLS handshake error: read tcp 127.0.0.1:44091->127.0.0.1:59896: use of closed network connection",
		"127.0.0.1:59896 - cid:510 - TLS handshake error: EOF",
		"127.0.0.1:59896 - cid:511 - TLS handshake error: read tcp 127.0.0.1:44091->127.0.0.1:59896: read: connection reset by peer",
	} {
		l.Errorf("%s", msg)
	}
	require.Empty(t, out.String())
	l.Errorf("%s", "127.0.0.1:34870 - cid:211 - TLS handshake error: remote error: tls: bad certificate")
	require.Contains(t, out.String(), "level=ERROR")
}

// warningsOnly is a server logger whose warnings and errors are kept in out.
func warningsOnly() (*serverLogger, *bytes.Buffer) {
	out := &bytes.Buffer{}
	return &serverLogger{l: slog.New(slog.NewTextHandler(out, &slog.HandlerOptions{Level: slog.LevelWarn}))}, out
}
