package gotests

import (
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/clckpt/libclckpt/backup"
	"github.com/clckpt/libclckpt/backup/archive"
	"github.com/clckpt/libclckpt/config"
	"github.com/clckpt/libclckpt/engine"
	"github.com/clckpt/libclckpt/internal/backuptest"
	"github.com/clckpt/libclckpt/replication"
	"github.com/clckpt/libclckpt/replication/directory"
)

const backupSections = 16

// oneCounter reads every section's counter through h and fails unless they are all the same.
func oneCounter(t *testing.T, h engine.Checkpoint) uint64 {
	t.Helper()
	v, err := backuptest.OneCounter(bg, h, backupSections)
	require.NoError(t, err)
	return v
}

// TestBackupWhileTheActiveIsKilled: three `clckpt serve` processes hold the replicas of a
// checkpoint whose 16 sections 8 writers in this process keep at one counter (one multi-section
// write each); a backup into the NATS object store is being pulled from the active server's
// process when that process is killed with SIGKILL. The backup ends with ErrTryAgain and leaves no
// copy in the catalogue; once a new active is elected, a backup made under the writers completes,
// and restored (to a new name, then over the checkpoint itself) it holds one counter in every
// section.
func TestBackupWhileTheActiveIsKilled(t *testing.T) {
	dir := t.TempDir()
	port := freePort(t)
	natsServer(t, filepath.Join(dir, "nats"), port)
	url := "nats://127.0.0.1:" + strconv.Itoa(port)
	nodes := map[string]*proc{}
	for _, name := range []string{"s1", "s2", "s3"} {
		// A generous ack timeout: followers slowed by a busy machine stay in the in-sync set, so
		// that one can be elected when the active dies.
		env := append(memberEnv(name, filepath.Join(dir, name), url), "CLCKPT_ACK_TIMEOUT=2s")
		p := start(t, name, env, bin("clckpt"), "serve", "--node", name, "--nats-url", url)
		nodes[name] = p
	}
	for _, p := range nodes {
		p.waitLine("^ready", 60*time.Second)
	}
	c := config.Default()
	c.Node, c.DataDir, c.NATS.URL, c.Lease, c.AckTimeout = "app", filepath.Join(dir, "app"), url, time.Second, 2*time.Second
	var app *replication.Member
	settled(t, func() (err error) {
		app, err = replication.Join(bg, replication.Options{Config: c, Kind: directory.KindApplication})
		return
	})
	defer app.Close()
	attrs := engine.Attributes{Flags: engine.WriteAllReplicas, Retention: engine.RetainForever, MaxSections: backupSections, MaxSectionIDSize: 8}
	var h engine.Checkpoint
	settled(t, func() (err error) {
		h, err = app.Open(bg, "ck", &attrs, engine.OpenCreate|engine.OpenRead|engine.OpenWrite)
		return
	})
	defer h.Close()
	for i := range backupSections {
		_, err := h.CreateSection(bg, backuptest.SectionID(i), engine.Never, make([]byte, 8+16<<10))
		require.NoError(t, err)
	}
	w := backuptest.StartWriters([]engine.Checkpoint{h, h, h, h, h, h, h, h}, backupSections)
	stopped := false
	defer func() {
		if !stopped {
			_ = w.Stop()
		}
	}()
	require.Eventually(t, func() bool { return w.Writes() > 50 }, time.Minute, time.Millisecond)

	js, replicas := app.Archive()
	ar, err := archive.OpenObjectStore(bg, js, "backups", replicas)
	require.NoError(t, err)
	var active string
	killed := false
	for try := 0; !killed; try++ {
		// A backup can also fail before the kill, with ErrTryAgain, when the active's lease lapses
		// for a moment on a busy machine: then it is tried again.
		require.Less(t, try, 10, "the backup never reached the kill")
		e, err := app.Entry(bg, "ck")
		require.NoError(t, err)
		active = e.Active
		require.Contains(t, nodes, active)
		src := &backuptest.MidCut{Source: app, Do: func() { nodes[active].kill9(); killed = true }}
		j, err := backup.New(src, ar).Start(bg, backup.Request{Items: []backup.Item{{Checkpoint: "ck", BackupName: "during"}}})
		require.NoError(t, err)
		_, err = j.Wait(bg)
		require.ErrorIs(t, err, engine.ErrTryAgain)
	}
	mg := backup.New(app, ar)
	res, err := mg.Query(bg, backup.Query{})
	require.NoError(t, err)
	require.Empty(t, res.All(), "no copy of the interrupted backup")

	require.Eventually(t, func() bool {
		e, err := app.Entry(bg, "ck")
		return err == nil && e.Active != "" && e.Active != active
	}, 2*time.Minute, 50*time.Millisecond, "a new active is elected")
	n := w.Writes()
	require.Eventually(t, func() bool { return w.Writes() > n+20 }, 2*time.Minute, time.Millisecond, "writes go on")
	j, err := mg.Start(bg, backup.Request{Items: []backup.Item{{Checkpoint: "ck", BackupName: "after"}}, Compression: backup.CompressZstd})
	require.NoError(t, err)
	ds, err := j.Wait(bg)
	require.NoError(t, err)
	require.Len(t, ds, 1)
	stopped = true
	require.NoError(t, w.Stop(), "a write failed")

	r, err := mg.Restore(bg, backup.RestoreRequest{BackupName: "after", Target: "ck-restored", Flags: engine.OpenRead})
	require.NoError(t, err)
	cut := oneCounter(t, r)
	require.NotZero(t, cut)
	require.NoError(t, r.Close())
	r, err = mg.Restore(bg, backup.RestoreRequest{BackupName: "after", Replace: true, Flags: engine.OpenRead})
	require.NoError(t, err)
	require.Equal(t, cut, oneCounter(t, r))
	require.NoError(t, r.Close())
	h2, err := app.Open(bg, "ck", nil, engine.OpenRead)
	require.NoError(t, err)
	require.Equal(t, cut, oneCounter(t, h2))
	require.NoError(t, h2.Close())
}
