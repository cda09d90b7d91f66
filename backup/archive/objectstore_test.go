package archive

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"hash"
	"io"
	"net"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/clckpt/libclckpt/internal/backuptest"
	"github.com/clckpt/libclckpt/replication/natsconn"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/require"
)

const putHelperEnv = "CLCKPT_ARCHIVE_PUT_HELPER"

func connect(t *testing.T, url string) jetstream.JetStream {
	t.Helper()
	nc, err := nats.Connect(url)
	require.NoError(t, err)
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	require.NoError(t, err)
	return js
}

// stallReader gives n bytes, then blocks for ever.
type stallReader struct{ n int }

func (s *stallReader) Read(p []byte) (int, error) {
	if s.n == 0 {
		select {}
	}
	k := min(len(p), s.n)
	s.n -= k
	return k, nil
}

// TestPutHelperProcess is the process TestObjectStoreSweepsKilledPut kills in the middle of a Put.
func TestPutHelperProcess(t *testing.T) {
	url := os.Getenv(putHelperEnv)
	if url == "" {
		t.Skip("run by TestObjectStoreSweepsKilledPut only")
	}
	o, err := OpenObjectStore(context.Background(), connect(t, url), "b", 1)
	require.NoError(t, err)
	// two windows of chunks, both stored, then the Put waits for more
	_ = o.Put(context.Background(), "data/killed", &stallReader{n: 2 * putWindow * putChunkSize})
}

func chunkSubjects(t *testing.T, js jetstream.JetStream) int {
	t.Helper()
	st, err := js.Stream(context.Background(), "OBJ_b")
	require.NoError(t, err)
	si, err := st.Info(context.Background(), jetstream.WithSubjectFilter("$O.b.C.>"))
	require.NoError(t, err)
	return len(si.State.Subjects)
}

// TestObjectStoreSweepsKilledPut kills -9 a process in the middle of a Put into the object store:
// the object never appears, and Sweep purges its chunks once they are older than the grace.
func TestObjectStoreSweepsKilledPut(t *testing.T) {
	ctx := context.Background()
	s, err := natsconn.StartServer(natsconn.ServerOptions{Name: "t", Host: "127.0.0.1", Port: -1, StoreDir: t.TempDir()})
	require.NoError(t, err)
	t.Cleanup(s.Shutdown)
	js := connect(t, s.ClientURL())
	o, err := OpenObjectStore(ctx, js, "b", 1)
	require.NoError(t, err)
	require.NoError(t, o.Put(ctx, "data/kept", bytes.NewReader(bytes.Repeat([]byte("k"), 1<<20))))

	cmd := exec.Command(os.Args[0], "-test.run=^TestPutHelperProcess$", "-test.count=1")
	cmd.Env = append(os.Environ(), putHelperEnv+"="+s.ClientURL())
	require.NoError(t, cmd.Start())
	require.Eventually(t, func() bool { return chunkSubjects(t, js) == 2 }, time.Minute, 10*time.Millisecond,
		"the helper's chunks never arrived")
	require.NoError(t, cmd.Process.Signal(syscall.SIGKILL))
	_ = cmd.Wait()

	infos, err := o.List(ctx, "")
	require.NoError(t, err)
	require.Len(t, infos, 1)
	require.Equal(t, "data/kept", infos[0].Name)

	n, err := o.Sweep(ctx, time.Now().Add(-time.Hour))
	require.NoError(t, err)
	require.Zero(t, n, "young chunks may belong to a Put in progress")
	n, err = o.Sweep(ctx, time.Now().Add(time.Hour))
	require.NoError(t, err)
	require.Equal(t, 1, n)
	require.Equal(t, 1, chunkSubjects(t, js))

	rc, err := o.Get(ctx, "data/kept")
	require.NoError(t, err)
	b, err := io.ReadAll(rc)
	require.NoError(t, err)
	require.Len(t, b, 1<<20)
	_, err = o.Get(ctx, "data/killed")
	require.ErrorIs(t, err, ErrNotFound)
}

// A Get whose context has no deadline reads the whole object however long the reading takes (the
// client library's default timeout, shortened here to 500 ms, ended it before), and cancelling the
// context of a Get ends its reads.
func TestObjectStoreGetOutlastsTheDefaultTimeout(t *testing.T) {
	ctx := context.Background()
	s, err := natsconn.StartServer(natsconn.ServerOptions{Name: "t", Host: "127.0.0.1", Port: -1, StoreDir: t.TempDir()})
	require.NoError(t, err)
	t.Cleanup(s.Shutdown)
	data := bytes.Repeat([]byte("0123456789abcdef"), 1<<16) // 1 MiB: 8 chunks
	// Stored with the usual timeout: the short one is for the reading alone (on a loaded machine
	// the bucket's creation may take longer).
	put, err := OpenObjectStore(ctx, connect(t, s.ClientURL()), "b", 1)
	require.NoError(t, err)
	require.NoError(t, put.Put(ctx, "data/slow", bytes.NewReader(data)))
	nc, err := nats.Connect(s.ClientURL())
	require.NoError(t, err)
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc, jetstream.WithDefaultTimeout(500*time.Millisecond))
	require.NoError(t, err)
	o, err := OpenObjectStore(ctx, js, "b", 1)
	require.NoError(t, err)

	rc, err := o.Get(ctx, "data/slow")
	require.NoError(t, err)
	var got []byte
	buf := make([]byte, 64<<10)
	start := time.Now()
	for {
		n, err := rc.Read(buf)
		got = append(got, buf[:n]...)
		if err == io.EOF {
			break
		}
		require.NoError(t, err, "after %d bytes", len(got))
		if time.Since(start) < 2*time.Second {
			time.Sleep(150 * time.Millisecond) // a slow reader: well past the 500 ms
		}
	}
	require.NoError(t, rc.Close())
	require.True(t, bytes.Equal(data, got))

	cctx, cancel := context.WithCancel(ctx)
	rc, err = o.Get(cctx, "data/slow")
	require.NoError(t, err)
	_, err = rc.Read(buf)
	require.NoError(t, err)
	cancel()
	_, err = io.ReadAll(rc)
	require.Error(t, err, "a cancelled Get's reads fail")
	require.NoError(t, rc.Close())
}

// Concurrent Puts of large objects into a server that syncs every write to disk: the client
// library's own Put sent every chunk at once and failed with "too many requests" once the
// stream's ingest queue (128 MiB) was full; the archive's Put keeps a bounded window in flight.
// Every object is then read whole by Get, which checks the digest.
func TestObjectStorePutUnderLoad(t *testing.T) {
	ctx := context.Background()
	s, err := natsconn.StartServer(natsconn.ServerOptions{Name: "t", Host: "127.0.0.1", Port: -1,
		StoreDir: t.TempDir(), SyncAlways: true})
	require.NoError(t, err)
	t.Cleanup(s.Shutdown)
	o, err := OpenObjectStore(ctx, connect(t, s.ClientURL()), "b", 1)
	require.NoError(t, err)
	data := make([]byte, 96<<20)
	_, _ = rand.Read(data)
	const puts = 4
	var wg sync.WaitGroup
	errs := make([]error, puts)
	for i := range puts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = o.Put(ctx, fmt.Sprintf("data/big%d", i), bytes.NewReader(data))
		}()
	}
	wg.Wait()
	for i, err := range errs {
		require.NoError(t, err, "put %d", i)
	}
	want := sha256.Sum256(data)
	for i := range puts {
		rc, err := o.Get(ctx, fmt.Sprintf("data/big%d", i))
		require.NoError(t, err)
		h := sha256.New()
		_, err = io.Copy(h, rc)
		require.NoError(t, err)
		require.NoError(t, rc.Close())
		require.Equal(t, want[:], h.Sum(nil), "object %d", i)
	}
}

// A server whose stream ingest queue holds 1 MiB, less than the Put's first window (4 MiB), and
// that syncs every write: the windows answered "too many requests" are undone and sent again in
// smaller windows, and the object is read back whole by Get, which checks the digest.
func TestObjectStorePutResendsWindows(t *testing.T) {
	ctx := context.Background()
	s, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: -1, JetStream: true, StoreDir: t.TempDir(),
		NoSigs: true, NoLog: true, SyncAlways: true, StreamMaxBufferedSize: 1 << 20})
	require.NoError(t, err)
	s.Start()
	t.Cleanup(s.Shutdown)
	require.True(t, s.ReadyForConnections(30*time.Second))
	o, err := OpenObjectStore(ctx, connect(t, s.ClientURL()), "b", 1)
	require.NoError(t, err)
	data := make([]byte, 16<<20)
	_, _ = rand.Read(data)
	require.NoError(t, o.Put(ctx, "data/resent", bytes.NewReader(data)))
	rc, err := o.Get(ctx, "data/resent")
	require.NoError(t, err)
	got, err := io.ReadAll(rc)
	require.NoError(t, err)
	require.NoError(t, rc.Close())
	require.True(t, bytes.Equal(data, got))
}

// TestCreatingAReplicatedBucketWaitsForAnOfflinePeer: a bucket with three replicas is created right
// after one of the cluster's three servers restarted (as after a node's upgrade). Until the cluster
// has that server's JetStream statistics again, JetStream refuses the placement ("no suitable peers
// for placement, peer offline", every time in this test before the change); OpenObjectStore waits for
// the server and creates the bucket with its three replicas.
func TestCreatingAReplicatedBucketWaitsForAnOfflinePeer(t *testing.T) {
	ctx := context.Background()
	var opts []natsconn.ServerOptions
	var routes []string
	for i := range 3 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		port := l.Addr().(*net.TCPAddr).Port
		require.NoError(t, l.Close())
		routes = append(routes, "nats-route://127.0.0.1:"+strconv.Itoa(port))
		opts = append(opts, natsconn.ServerOptions{Name: "s" + strconv.Itoa(i), Host: "127.0.0.1", Port: -1,
			StoreDir: t.TempDir(), ClusterName: "c", ClusterHost: "127.0.0.1", ClusterPort: port})
	}
	servers := make([]*server.Server, 3)
	startServer := func(i int) {
		o := opts[i]
		o.Routes = routes
		s, err := natsconn.StartServer(o)
		require.NoError(t, err)
		t.Cleanup(s.Shutdown)
		servers[i] = s
	}
	for i := range servers {
		startServer(i)
	}
	js := connect(t, servers[0].ClientURL())
	require.Eventually(t, func() bool { // until the cluster has formed and chosen a meta leader
		_, err := OpenObjectStore(ctx, js, "first", 3)
		return err == nil
	}, time.Minute, 100*time.Millisecond)

	for round := range 3 {
		servers[2].Shutdown()
		servers[2].WaitForShutdown()
		startServer(2)
		bucket := "backups-" + strconv.Itoa(round)
		long, cancel := context.WithTimeout(ctx, 2*time.Minute)
		_, err := OpenObjectStore(long, js, bucket, 3)
		cancel()
		require.NoError(t, err, "round %d", round)
		st, err := js.Stream(ctx, "OBJ_"+bucket)
		require.NoError(t, err)
		require.Equal(t, 3, st.CachedInfo().Config.Replicas)
	}
}

// selfChecked is a source whose bytes carry their own checks.
type selfChecked struct{ io.Reader }

func (selfChecked) SelfChecked() {}

// An object Put from a plain source carries the SHA-256 of its bytes in its metadata, and Get
// checks it (and the size) at the end; an object Put from a SelfChecked source is not hashed: its
// metadata has no digest, and Get reads it whole all the same.
func TestObjectStoreDigestUnlessSelfChecked(t *testing.T) {
	ctx := context.Background()
	js := backuptest.JetStream(t)
	o, err := OpenObjectStore(ctx, js, "b", 1)
	require.NoError(t, err)
	obs, err := js.ObjectStore(ctx, "b")
	require.NoError(t, err)
	data := make([]byte, 3*putChunkSize+17)
	_, _ = rand.Read(data)
	get := func(name string) ([]byte, error) {
		rc, err := o.Get(ctx, name)
		require.NoError(t, err)
		defer rc.Close()
		return io.ReadAll(rc)
	}

	require.NoError(t, o.Put(ctx, "data/plain", bytes.NewReader(data)))
	info, err := obs.GetInfo(ctx, "data/plain")
	require.NoError(t, err)
	require.Equal(t, jetstream.GetObjectDigestValue(sha256Of(data)), info.Digest)
	got, err := get("data/plain")
	require.NoError(t, err)
	require.True(t, bytes.Equal(data, got))

	require.NoError(t, o.Put(ctx, "data/self", selfChecked{bytes.NewReader(data)}))
	info, err = obs.GetInfo(ctx, "data/self")
	require.NoError(t, err)
	require.Empty(t, info.Digest, "a self-checked object is not hashed")
	require.EqualValues(t, len(data), info.Size)
	got, err = get("data/self")
	require.NoError(t, err)
	require.True(t, bytes.Equal(data, got))

	// Metadata whose digest or size does not match the chunks fails the read.
	rewrite := func(change func(*jetstream.ObjectInfo)) {
		info, err := obs.GetInfo(ctx, "data/plain")
		require.NoError(t, err)
		change(info)
		b, err := json.Marshal(info)
		require.NoError(t, err)
		m := nats.NewMsg("$O.b.M." + base64.URLEncoding.EncodeToString([]byte("data/plain")))
		m.Header.Set(jetstream.MsgRollup, jetstream.MsgRollupSubject)
		m.Data = b
		_, err = js.PublishMsg(ctx, m)
		require.NoError(t, err)
	}
	rewrite(func(i *jetstream.ObjectInfo) { i.Digest = jetstream.GetObjectDigestValue(sha256Of(data[1:])) })
	_, err = get("data/plain")
	require.ErrorIs(t, err, jetstream.ErrDigestMismatch)
	rewrite(func(i *jetstream.ObjectInfo) {
		i.Digest = jetstream.GetObjectDigestValue(sha256Of(data))
		i.Size++
	})
	_, err = get("data/plain")
	require.ErrorContains(t, err, "bytes in its chunks")
	rewrite(func(i *jetstream.ObjectInfo) { i.Size -= 2 })
	_, err = get("data/plain")
	require.ErrorContains(t, err, "more bytes in its chunks")
}

func sha256Of(b []byte) hash.Hash {
	h := sha256.New()
	h.Write(b)
	return h
}
