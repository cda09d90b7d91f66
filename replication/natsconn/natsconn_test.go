package natsconn

import (
	"context"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/nats-io/nkeys"
	"github.com/stretchr/testify/require"

	"github.com/clckpt/libclckpt/config"
)

func freePort(t *testing.T) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func embeddedConfig(t *testing.T, dir string, port int) config.Config {
	c := config.Default()
	c.Node, c.DataDir, c.Port = "n", dir, port
	return c
}

// TestEmbeddedServerMovesToASurvivingProcess: the first member hosts the embedded server, the second
// joins it; when the host goes, the second takes the server over on the same port and JetStream
// store, so what was stored survives.
func TestEmbeddedServerMovesToASurvivingProcess(t *testing.T) {
	ctx := context.Background()
	dir, port := t.TempDir(), freePort(t)
	log := slog.New(slog.DiscardHandler)
	first, err := Connect(ctx, embeddedConfig(t, dir, port), "first", log)
	require.NoError(t, err)
	require.True(t, first.Hosting())
	second, err := Connect(ctx, embeddedConfig(t, dir, port), "second", log)
	require.NoError(t, err)
	defer second.Close()
	require.False(t, second.Hosting())

	js, err := jetstream.New(second.Conn)
	require.NoError(t, err)
	kv, err := js.CreateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: "test", Storage: jetstream.FileStorage})
	require.NoError(t, err)
	_, err = kv.Put(ctx, "k", []byte("survives"))
	require.NoError(t, err)

	first.Close()
	require.Eventually(t, second.Hosting, 10*time.Second, 10*time.Millisecond)
	require.Eventually(t, second.IsConnected, 10*time.Second, 10*time.Millisecond)
	kv, err = js.KeyValue(ctx, "test")
	require.NoError(t, err)
	e, err := kv.Get(ctx, "k")
	require.NoError(t, err)
	require.Equal(t, "survives", string(e.Value()))
}

func TestExternalURLAndTLSSettingsAreChecked(t *testing.T) {
	c := config.Default()
	c.Node, c.DataDir = "n", t.TempDir()
	c.NATS.URL = "nats://127.0.0.1:1" // nothing listens there
	_, err := Connect(context.Background(), c, "x", slog.New(slog.DiscardHandler))
	require.Error(t, err)
	c.NATS.TLSCert = "cert.pem"
	_, err = Connect(context.Background(), c, "x", slog.New(slog.DiscardHandler))
	require.ErrorContains(t, err, "CLCKPT_NATS_TLS_KEY")
}

func TestServersFormACluster(t *testing.T) {
	p1, p2, p3 := freePort(t), freePort(t), freePort(t)
	routes := []string{
		"nats-route://127.0.0.1:" + strconv.Itoa(p1), "nats-route://127.0.0.1:" + strconv.Itoa(p2), "nats-route://127.0.0.1:" + strconv.Itoa(p3),
	}
	for i, rp := range []int{p1, p2, p3} {
		s, err := StartServer(ServerOptions{Name: "s" + strconv.Itoa(i), Host: "127.0.0.1", Port: -1, StoreDir: t.TempDir(),
			ClusterName: "c", ClusterHost: "127.0.0.1", ClusterPort: rp, Routes: routes})
		require.NoError(t, err)
		defer s.Shutdown()
		if i == 2 {
			require.Eventually(t, func() bool { return s.NumRoutes() >= 2 }, 10*time.Second, 20*time.Millisecond)
		}
	}
}

// TestEmbeddedServerRequiresTheDataDirectorysToken: the embedded server lets in the processes that
// share its data directory (they read its token) and no one else: a client without the token, or
// with the token of another data directory, is refused.
func TestEmbeddedServerRequiresTheDataDirectorysToken(t *testing.T) {
	ctx := context.Background()
	dir, port := t.TempDir(), freePort(t)
	host, err := Connect(ctx, embeddedConfig(t, dir, port), "host", slog.New(slog.DiscardHandler))
	require.NoError(t, err)
	defer host.Close()
	require.True(t, host.Hosting())
	info, err := os.Stat(filepath.Join(dir, "nats.token"))
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o600), info.Mode().Perm())

	url := EmbeddedURL(port)
	_, err = nats.Connect(url)
	require.ErrorIs(t, err, nats.ErrAuthorization, "no token")
	other, err := EmbeddedToken(t.TempDir())
	require.NoError(t, err)
	_, err = nats.Connect(url, nats.Token(other))
	require.ErrorIs(t, err, nats.ErrAuthorization, "another data directory's token")

	token, err := EmbeddedToken(dir)
	require.NoError(t, err)
	nc, err := nats.Connect(url, nats.Token(token))
	require.NoError(t, err)
	nc.Close()
	second, err := Connect(ctx, embeddedConfig(t, dir, port), "second", slog.New(slog.DiscardHandler))
	require.NoError(t, err, "a process of the same data directory")
	require.False(t, second.Hosting())
	second.Close()
}

// TestEmbeddedTokenIsOneForConcurrentCreators: creators of the token at the same time (threads of
// one process here: they share a pid) all end up with the same one, and leave no temporary file.
func TestEmbeddedTokenIsOneForConcurrentCreators(t *testing.T) {
	for range 20 {
		dir := t.TempDir()
		type result struct {
			tok string
			err error
		}
		results := make(chan result, 16)
		for range 16 {
			go func() {
				tok, err := EmbeddedToken(dir)
				results <- result{tok, err}
			}()
		}
		var first string
		for i := range 16 {
			r := <-results
			require.NoError(t, r.err)
			if i == 0 {
				first = r.tok
			}
			require.Len(t, r.tok, 64)
			require.Equal(t, first, r.tok)
		}
		left, err := filepath.Glob(filepath.Join(dir, "*.tmp"))
		require.NoError(t, err)
		require.Empty(t, left)
	}
}

// TestNKeyAuthentication: a member authenticates with the nkey seed file of CLCKPT_NATS_NKEY; a
// member without it, or with another key, is refused.
func TestNKeyAuthentication(t *testing.T) {
	user, err := nkeys.CreateUser()
	require.NoError(t, err)
	pub, err := user.PublicKey()
	require.NoError(t, err)
	seed, err := user.Seed()
	require.NoError(t, err)
	dir := t.TempDir()
	seedFile := filepath.Join(dir, "user.nk")
	require.NoError(t, os.WriteFile(seedFile, seed, 0o600))
	stranger, err := nkeys.CreateUser()
	require.NoError(t, err)
	strangerSeed, err := stranger.Seed()
	require.NoError(t, err)
	strangerFile := filepath.Join(dir, "stranger.nk")
	require.NoError(t, os.WriteFile(strangerFile, strangerSeed, 0o600))

	s, err := StartServer(ServerOptions{Name: "nk", Host: "127.0.0.1", Port: -1, StoreDir: filepath.Join(dir, "js"),
		NKeys: []*server.NkeyUser{{Nkey: pub}}})
	require.NoError(t, err)
	defer s.Shutdown()
	ctx := context.Background()
	c := config.Default()
	c.Node, c.DataDir, c.NATS.URL = "m", dir, s.ClientURL()
	_, err = Connect(ctx, c, "without", slog.New(slog.DiscardHandler))
	require.ErrorIs(t, err, nats.ErrAuthorization)
	c.NATS.NKey = strangerFile
	_, err = Connect(ctx, c, "stranger", slog.New(slog.DiscardHandler))
	require.ErrorIs(t, err, nats.ErrAuthorization)
	c.NATS.NKey = seedFile
	conn, err := Connect(ctx, c, "with", slog.New(slog.DiscardHandler))
	require.NoError(t, err)
	conn.Close()
}
