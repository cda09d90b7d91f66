package natsconn

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/pem"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
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
	pem, err := EmbeddedTLS(dir)
	require.NoError(t, err)
	_, err = nats.Connect(url, nats.RootCAs(pem))
	require.ErrorIs(t, err, nats.ErrAuthorization, "no token")
	other, err := EmbeddedToken(t.TempDir())
	require.NoError(t, err)
	_, err = nats.Connect(url, nats.Token(other), nats.RootCAs(pem))
	require.ErrorIs(t, err, nats.ErrAuthorization, "another data directory's token")

	token, err := EmbeddedToken(dir)
	require.NoError(t, err)
	nc, err := nats.Connect(url, nats.Token(token), nats.RootCAs(pem))
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

// TestASquatterOnThePortGetsNothing: another process (another user's, say) runs a JetStream NATS
// server without authentication on the embedded default's port before any member: a member does
// not take it for its server, never sends it the token, creates nothing in it, and fails with an
// error that says so (no retry cures it).
func TestASquatterOnThePortGetsNothing(t *testing.T) {
	port := freePort(t)
	var connects atomic.Int64
	var tokens sync.Map
	squatter, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: port, JetStream: true, StoreDir: t.TempDir(),
		NoSigs: true, NoLog: true, CustomClientAuthentication: recordAuth{func(token string) {
			connects.Add(1)
			tokens.Store(token, true)
		}}})
	require.NoError(t, err)
	go squatter.Start()
	require.True(t, squatter.ReadyForConnections(10*time.Second))
	defer squatter.Shutdown()

	dir := t.TempDir()
	_, err = Connect(context.Background(), embeddedConfig(t, dir, port), "victim", slog.New(slog.DiscardHandler))
	require.Error(t, err)
	require.ErrorIs(t, err, config.ErrBadSetting)
	require.Contains(t, err.Error(), "is not the one of data directory")
	require.Contains(t, err.Error(), "the token was not sent")
	require.Zero(t, connects.Load(), "no CONNECT reached the squatter")
	token, err := EmbeddedToken(dir)
	require.NoError(t, err)
	_, sent := tokens.Load(token)
	require.False(t, sent)
	nc, err := nats.Connect(squatter.ClientURL())
	require.NoError(t, err)
	defer nc.Close()
	js, err := jetstream.New(nc)
	require.NoError(t, err)
	names := js.StreamNames(context.Background())
	n := 0
	for range names.Name() {
		n++
	}
	require.Zero(t, n, "no bucket made in the squatter's JetStream")
}

// recordAuth lets every client in and reports the token it presented.
type recordAuth struct{ seen func(token string) }

func (a recordAuth) Check(c server.ClientAuthentication) bool {
	a.seen(c.GetOpts().Token)
	return true
}

// TestDataDirectoryAndTokenAreCheckedWhenOpened: a data directory and token made too open (by hand,
// or an old version) are narrowed to 0700 and 0600; a data directory of another user is refused.
func TestDataDirectoryAndTokenAreCheckedWhenOpened(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	_, err := EmbeddedToken(dir)
	require.NoError(t, err)
	require.NoError(t, os.Chmod(dir, 0o755))
	require.NoError(t, os.Chmod(filepath.Join(dir, "nats.token"), 0o644))
	_, err = EmbeddedToken(dir)
	require.NoError(t, err)
	for path, want := range map[string]os.FileMode{dir: 0o700, filepath.Join(dir, "nats.token"): 0o600} {
		info, err := os.Stat(path)
		require.NoError(t, err)
		require.Equal(t, want, info.Mode().Perm(), path)
	}
	if os.Geteuid() != 0 {
		t.Log("the refusal of another user's directory needs root to make one (skipped part)")
		return
	}
	foreign := filepath.Join(t.TempDir(), "foreign")
	require.NoError(t, os.Mkdir(foreign, 0o700))
	require.NoError(t, os.Chown(foreign, 65534, 65534))
	_, err = EmbeddedToken(foreign)
	require.ErrorContains(t, err, "belongs to user 65534")
	_, err = LockHost(foreign)
	require.ErrorContains(t, err, "belongs to user 65534")
}

// TestATokenMismatchIsCalledSo: a server that presents the data directory's certificate but does not
// take its token (the token file replaced) is a token mismatch, not a port in use.
func TestATokenMismatchIsCalledSo(t *testing.T) {
	ctx := context.Background()
	dir, port := t.TempDir(), freePort(t)
	host, err := Connect(ctx, embeddedConfig(t, dir, port), "host", slog.New(slog.DiscardHandler))
	require.NoError(t, err)
	defer host.Close()
	other := t.TempDir()
	b, err := os.ReadFile(filepath.Join(dir, "nats.pem"))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(other, "nats.pem"), b, 0o600))
	_, err = Connect(ctx, embeddedConfig(t, other, port), "other", slog.New(slog.DiscardHandler))
	require.ErrorIs(t, err, config.ErrBadSetting)
	require.ErrorContains(t, err, "token mismatch")
	require.NotContains(t, err.Error(), "in use")
}

// TestSyncWritesSyncJetStream: with CLCKPT_SYNC_WRITES=1 the embedded server's JetStream (the
// checkpoint directory, the leases) is written with an fsync after every write, not every two
// minutes.
func TestSyncWritesSyncJetStream(t *testing.T) {
	for _, sync := range []bool{false, true} {
		cfg := embeddedConfig(t, t.TempDir(), freePort(t))
		cfg.SyncWrites = sync
		c, err := Connect(context.Background(), cfg, "host", slog.New(slog.DiscardHandler))
		require.NoError(t, err)
		require.True(t, c.Hosting())
		require.Equal(t, sync, c.server.JetStreamConfig().SyncAlways)
		c.Close()
	}
}

// TestTheCertificateToCopyHoldsNoKey: nats.pem holds the embedded server's key; nats.crt, the file
// the guides say to copy to clients on other hosts or accounts, holds its certificate alone.
func TestTheCertificateToCopyHoldsNoKey(t *testing.T) {
	dir := t.TempDir()
	pemPath, err := EmbeddedTLS(dir)
	require.NoError(t, err)
	full, err := os.ReadFile(pemPath)
	require.NoError(t, err)
	require.Contains(t, string(full), "PRIVATE KEY")
	crt, err := os.ReadFile(filepath.Join(dir, "nats.crt"))
	require.NoError(t, err)
	require.NotContains(t, string(crt), "PRIVATE KEY")
	block, rest := pem.Decode(crt)
	require.NotNil(t, block)
	require.Equal(t, "CERTIFICATE", block.Type)
	require.Empty(t, bytes.TrimSpace(rest))
	require.Contains(t, string(full), string(crt), "the same certificate as the server's")
	_, err = x509.ParseCertificate(block.Bytes)
	require.NoError(t, err)
}

// A server that takes the connection but answers too late (a loaded machine) is tried again:
// the first connection here gets no answer until the client's timeout, the next ones reach the
// server.
func TestAServerSlowToAnswerIsTriedAgain(t *testing.T) {
	s, err := StartServer(ServerOptions{Name: "slow", Host: "127.0.0.1", Port: -1, StoreDir: t.TempDir()})
	require.NoError(t, err)
	t.Cleanup(s.Shutdown)
	front, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	var accepted atomic.Int32
	var silent net.Conn // the first connection: only the accepting goroutine sets it
	var wg sync.WaitGroup
	t.Cleanup(func() {
		_ = front.Close()
		wg.Wait()
	})
	wg.Go(func() {
		defer func() {
			if silent != nil {
				_ = silent.Close()
			}
		}()
		for {
			c, err := front.Accept()
			if err != nil {
				return
			}
			if accepted.Add(1) == 1 {
				silent = c
				continue
			}
			go func() {
				defer c.Close()
				back, err := net.Dial("tcp", strings.TrimPrefix(s.ClientURL(), "nats://"))
				if err != nil {
					return
				}
				defer back.Close()
				go func() { _, _ = io.Copy(back, c); _ = back.Close() }()
				_, _ = io.Copy(c, back)
			}()
		}
	})
	c := config.Default()
	c.Node, c.DataDir = "n", t.TempDir()
	c.NATS.URL = "nats://" + front.Addr().String()
	conn, err := Connect(context.Background(), c, "x", slog.New(slog.DiscardHandler))
	require.NoError(t, err)
	defer conn.Close()
	require.Equal(t, int32(2), accepted.Load(), "one try that timed out, then one that got through")
	require.NoError(t, conn.Publish("x", []byte("hello")))
	require.NoError(t, conn.Flush())
}

// The monitoring port has no authentication: it listens on loopback even when the server's
// clients are served on every address.
func TestMonitoringListensOnLoopbackOnly(t *testing.T) {
	s, err := StartServer(ServerOptions{Name: "mon", Host: "0.0.0.0", Port: -1, HTTPPort: -1, StoreDir: t.TempDir()})
	require.NoError(t, err)
	t.Cleanup(s.Shutdown)
	addr := s.MonitorAddr()
	require.NotNil(t, addr, "the monitoring port is open")
	require.True(t, addr.IP.IsLoopback(), "monitoring listens on %s", addr)
}
