package backup

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/clckpt/libclckpt/backup/archive"
	"github.com/clckpt/libclckpt/ckpt"
	"github.com/clckpt/libclckpt/engine"
	"github.com/clckpt/libclckpt/replication/natsconn"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/require"
)

func names(ds []Descriptor) []string {
	var out []string
	for _, d := range ds {
		out = append(out, d.BackupName)
	}
	return out
}

func TestCatalogQueryDeleteRetention(t *testing.T) {
	ctx := context.Background()
	l, m, ar := setup(t)
	makeRandom(t, l, "app/one", 2, 100)
	makeRandom(t, l, "app/two", 2, 100)
	start := time.Now().UTC()
	backupOne(t, m, "app/one", "one-1", CompressNone)
	backupOne(t, m, "app/one", "one-2", CompressNone)
	mid := time.Now().UTC()
	backupOne(t, m, "app/two", "two-1", CompressNone)
	j, err := m.Start(ctx, Request{Items: []Item{{Checkpoint: "app/one", BackupName: "one-3", CopyType: CopyArchive,
		Description: "nightly", ObjectInfo: "info", Expires: time.Now().Add(time.Hour)}}})
	require.NoError(t, err)
	_, err = j.Wait(ctx)
	require.NoError(t, err)

	query := func(q Query) []string {
		t.Helper()
		r, err := m.Query(ctx, q)
		require.NoError(t, err)
		return names(r.All())
	}
	require.Equal(t, []string{"one-1", "one-2", "two-1", "one-3"}, query(Query{}))
	require.Equal(t, []string{"one-1", "one-2", "one-3"}, query(Query{Checkpoint: "app/o*"}))
	require.Equal(t, []string{"one-1", "one-2", "two-1"}, query(Query{BackupName: "???-?", CopyType: CopyBackup}))
	require.Equal(t, []string{"one-2", "two-1", "one-3"}, query(Query{Status: MostRecent}))
	require.Equal(t, []string{"one-1"}, query(Query{Status: NotMostRecent}))
	require.Equal(t, []string{"two-1", "one-3"}, query(Query{From: mid}))
	require.Equal(t, []string{"one-1", "one-2"}, query(Query{From: start, To: mid}))
	_, err = m.Query(ctx, Query{BackupName: "["})
	require.ErrorIs(t, err, ckpt.ErrInvalidParameter)

	// First/Next, Get.
	r, err := m.Query(ctx, Query{Checkpoint: "app/two"})
	require.NoError(t, err)
	d, err := r.First()
	require.NoError(t, err)
	require.Equal(t, "two-1", d.BackupName)
	_, err = r.Next()
	require.True(t, IsEnd(err))
	require.ErrorIs(t, err, ckpt.ErrNotExist)
	got, err := m.Get(ctx, d.CopyID)
	require.NoError(t, err)
	require.Equal(t, d, got)
	require.Equal(t, "two-1", got.BackupName)
	require.Equal(t, d.Created.Location(), time.UTC)
	require.NotEmpty(t, got.Owner)

	// Names are unique; Overwrite replaces in the same commit.
	_, err = m.Start(ctx, Request{Items: []Item{{Checkpoint: "app/two", BackupName: "one-1"}}})
	require.ErrorIs(t, err, ckpt.ErrAlreadyExist)
	j, err = m.Start(ctx, Request{Items: []Item{{Checkpoint: "app/two", BackupName: "one-1"}}, Overwrite: true})
	require.NoError(t, err)
	_, err = j.Wait(ctx)
	require.NoError(t, err)
	require.Equal(t, []string{"one-2", "two-1", "one-3", "one-1"}, query(Query{}))
	require.Equal(t, []string{"two-1"}, query(Query{Checkpoint: "app/two", Status: NotMostRecent}))

	// Field limits.
	_, err = m.Start(ctx, Request{Items: []Item{{Checkpoint: "app/two", BackupName: "z", Description: string(make([]byte, 101))}}})
	require.ErrorIs(t, err, ckpt.ErrInvalidParameter)

	// Delete is one commit: all or nothing.
	one2, _ := m.Query(ctx, Query{BackupName: "one-2"})
	two1, _ := m.Query(ctx, Query{BackupName: "two-1"})
	require.ErrorIs(t, m.Delete(ctx, one2.All()[0].CopyID, 12345), ckpt.ErrNotExist)
	require.Len(t, query(Query{}), 4)
	require.NoError(t, m.Delete(ctx, one2.All()[0].CopyID, two1.All()[0].CopyID))
	require.Equal(t, []string{"one-3", "one-1"}, query(Query{}))

	// Retention: expiry, then keep-last.
	rep, err := m.Sweep(ctx, SweepOptions{Now: time.Now().Add(2 * time.Hour)})
	require.NoError(t, err)
	require.Equal(t, 1, rep.Expired)
	require.Equal(t, 1, rep.Orphans, "the object of the expired copy (Delete and Overwrite remove theirs)")
	require.Equal(t, []string{"one-1"}, query(Query{}))
	backupOne(t, m, "app/two", "two-2", CompressNone)
	backupOne(t, m, "app/two", "two-3", CompressNone)
	rep, err = m.Sweep(ctx, SweepOptions{KeepLast: 2, Grace: time.Nanosecond})
	require.NoError(t, err)
	require.Equal(t, 1, rep.Pruned)
	require.Equal(t, []string{"two-2", "two-3"}, query(Query{}))
	objs, err := ar.List(ctx, dataPrefix)
	require.NoError(t, err)
	require.Len(t, objs, 2)
	recs, err := ar.List(ctx, catalogPrefix)
	require.NoError(t, err)
	require.Len(t, recs, 2, "compaction leaves one record per live commit")

	// The catalogue survives a restart: a new manager on the same archive reads the same.
	ar2, err := archive.OpenDir(ar.Root())
	require.NoError(t, err)
	r2, err := New(l, ar2).Query(ctx, Query{})
	require.NoError(t, err)
	require.Equal(t, []string{"two-2", "two-3"}, names(r2.All()))
}

// TestObjectStoreRestoreAfterWipe backs up into a JetStream object store, wipes the data
// directory, and restores everything from the object store into a new one.
func TestObjectStoreRestoreAfterWipe(t *testing.T) {
	ctx := context.Background()
	s, err := natsconn.StartServer(natsconn.ServerOptions{Name: "t", Host: "127.0.0.1", Port: -1, StoreDir: t.TempDir()})
	require.NoError(t, err)
	t.Cleanup(s.Shutdown)
	connect := func() *archive.ObjectStore {
		nc, err := nats.Connect(s.ClientURL())
		require.NoError(t, err)
		t.Cleanup(nc.Close)
		js, err := jetstream.New(nc)
		require.NoError(t, err)
		o, err := archive.OpenObjectStore(ctx, js, "ckpt-backups", 1)
		require.NoError(t, err)
		return o
	}
	dataDir := filepath.Join(t.TempDir(), "store")
	l, err := engine.OpenLocal(engine.Options{Dir: dataDir})
	require.NoError(t, err)
	ck := makeCheckpoint(t, l, "orig")
	want := readContent(t, ck)
	m := New(l, connect())
	j, err := m.Start(ctx, Request{Items: []Item{{Checkpoint: "orig", BackupName: "b1"}}, Compression: CompressZstd})
	require.NoError(t, err)
	_, err = j.Wait(ctx)
	require.NoError(t, err)
	require.NoError(t, ck.Close())
	require.NoError(t, l.Close())
	require.NoError(t, os.RemoveAll(dataDir))

	l2 := openLocal(t, dataDir)
	m2 := New(l2, connect())
	r, err := m2.Query(ctx, Query{Checkpoint: "orig"})
	require.NoError(t, err)
	require.Equal(t, []string{"b1"}, names(r.All()))
	rc, err := m2.Restore(ctx, RestoreRequest{CopyID: r.All()[0].CopyID, Flags: ckpt.OpenRead})
	require.NoError(t, err)
	defer rc.Close()
	require.Equal(t, want, readContent(t, rc))
}

// TestObjectStoreCatalogSurvivesANodeLoss backs up into an object store replicated on a cluster of
// three NATS servers, stops the leader of the bucket's stream, then lists the catalogue, restores
// from it (the data compared), and backs up again, through the two servers left.
func TestObjectStoreCatalogSurvivesANodeLoss(t *testing.T) {
	ctx := context.Background()
	ports := make([]int, 3)
	var routes, urls []string
	for i := range ports {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		ports[i] = l.Addr().(*net.TCPAddr).Port
		require.NoError(t, l.Close())
		routes = append(routes, "nats-route://127.0.0.1:"+strconv.Itoa(ports[i]))
	}
	servers := map[string]*server.Server{}
	for i, rp := range ports {
		s, err := natsconn.StartServer(natsconn.ServerOptions{Name: "s" + strconv.Itoa(i), Host: "127.0.0.1", Port: -1,
			StoreDir: t.TempDir(), ClusterName: "c", ClusterHost: "127.0.0.1", ClusterPort: rp, Routes: routes})
		require.NoError(t, err)
		t.Cleanup(s.Shutdown)
		servers[s.Name()] = s
		urls = append(urls, s.ClientURL())
	}
	connect := func() (*archive.ObjectStore, jetstream.JetStream) {
		nc, err := nats.Connect(strings.Join(urls, ","), nats.MaxReconnects(-1))
		require.NoError(t, err)
		t.Cleanup(nc.Close)
		js, err := jetstream.New(nc)
		require.NoError(t, err)
		var o *archive.ObjectStore
		require.Eventually(t, func() bool { // until the cluster has formed and chosen a meta leader
			o, err = archive.OpenObjectStore(ctx, js, "ckpt-backups", 3)
			return err == nil
		}, time.Minute, 100*time.Millisecond, "opening the bucket: %v", err)
		return o, js
	}
	l := openLocal(t, filepath.Join(t.TempDir(), "store"))
	ck := makeCheckpoint(t, l, "orig")
	want := readContent(t, ck)
	o, js := connect()
	m := New(l, o)
	backupOne(t, m, "orig", "b1", CompressZstd)
	backupOne(t, m, "orig", "b2", CompressNone)

	st, err := js.Stream(ctx, "OBJ_ckpt-backups")
	require.NoError(t, err)
	si, err := st.Info(ctx)
	require.NoError(t, err)
	require.Equal(t, 3, si.Config.Replicas)
	require.NotNil(t, si.Cluster)
	leader := servers[si.Cluster.Leader]
	require.NotNil(t, leader, "stream leader %q", si.Cluster.Leader)
	leader.Shutdown()
	leader.WaitForShutdown()

	o2, _ := connect()
	m2 := New(l, o2)
	var r *Results
	require.Eventually(t, func() bool { // until the two servers left have chosen new leaders
		r, err = m2.Query(ctx, Query{Checkpoint: "orig"})
		return err == nil
	}, time.Minute, 100*time.Millisecond, "listing the catalogue: %v", err)
	require.Equal(t, []string{"b1", "b2"}, names(r.All()))
	for _, d := range r.All() {
		rc, err := m2.Restore(ctx, RestoreRequest{CopyID: d.CopyID, Target: "restored-" + d.BackupName, Flags: ckpt.OpenRead})
		require.NoError(t, err, d.BackupName)
		require.Equal(t, want, readContent(t, rc), d.BackupName)
		require.NoError(t, rc.Close())
	}
	// Each backup is listed by the query that follows it (the reads once went to any replica,
	// which could lack the record just written).
	wantNames := []string{"b1", "b2"}
	for i := 3; i < 13; i++ {
		wantNames = append(wantNames, "b"+strconv.Itoa(i))
		backupOne(t, m2, "orig", wantNames[len(wantNames)-1], CompressNone)
		r, err = m2.Query(ctx, Query{Checkpoint: "orig"})
		require.NoError(t, err)
		require.Equal(t, wantNames, names(r.All()))
	}
}
