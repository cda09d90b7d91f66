package natsconn

import (
	"context"
	"log/slog"
	"net"
	"strconv"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
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
