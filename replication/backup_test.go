package replication

import (
	"fmt"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/clckpt/libclckpt/backup"
	"github.com/clckpt/libclckpt/backup/archive"
	"github.com/clckpt/libclckpt/config"
	"github.com/clckpt/libclckpt/engine"
	"github.com/clckpt/libclckpt/internal/backuptest"
	"github.com/clckpt/libclckpt/replication/directory"
)

var counterAttrs = engine.Attributes{Flags: engine.WriteAllReplicas, Retention: engine.RetainForever, MaxSections: 64, MaxSectionIDSize: 32}

// counterCkpt creates a checkpoint of n sections, each 8 counter bytes followed by pad bytes.
func counterCkpt(t *testing.T, m *Member, name string, n, pad int) engine.Checkpoint {
	t.Helper()
	h, err := m.Open(bg, name, &counterAttrs, rwc)
	require.NoError(t, err)
	t.Cleanup(func() { _ = h.Close() })
	for i := range n {
		_, err := h.CreateSection(bg, backuptest.SectionID(i), engine.Never, make([]byte, 8+pad))
		require.NoError(t, err)
	}
	return h
}

// sameCounter checks that every section holds the same counter, and returns it.
func sameCounter(t *testing.T, h engine.Checkpoint, n int) uint64 {
	t.Helper()
	v, err := backuptest.OneCounter(bg, h, n)
	require.NoError(t, err, h.Name())
	return v
}

// TestBackupAndRestoreThroughMembers: two servers hold the replicas of two checkpoints, two
// application members hold none; 32 writers (16 on each application member) keep every section of
// the first at the same counter. A backup transaction of both, made through application member b,
// is a cut of each (restored: every section the same counter). Restores through b make a new
// checkpoint, refuse an existing name without replace and with other attributes, and replace one
// atomically while a reader reads through the other member: every read sees one counter, the old
// or the restored one.
func TestBackupAndRestoreThroughMembers(t *testing.T) {
	cl := newCluster(t)
	// 32 writers on a busy machine: followers slow to acknowledge stay in the in-sync set (else a
	// call that times out on the active finds no replica to elect, and fails).
	cl.tune = func(c *config.Config) { c.AckTimeout = 2 * time.Second }
	cl.join("s1", directory.KindServer)
	cl.join("s2", directory.KindServer)
	a := cl.join("a", directory.KindApplication)
	b := cl.join("b", directory.KindApplication)
	const nsec = 16
	counterCkpt(t, a, "ck", nsec, 100)
	other := counterCkpt(t, a, "ck2", nsec, 0)
	require.NoError(t, backuptest.WriteCounter(bg, other, nsec, 7))
	require.NotContains(t, []string{"a", "b"}, cl.activeOf(a, "ck"))
	var hs []engine.Checkpoint
	for i := range 32 {
		m := a
		if i%2 == 1 {
			m = b
		}
		h, err := m.Open(bg, "ck", nil, engine.OpenWrite)
		require.NoError(t, err)
		defer h.Close()
		hs = append(hs, h)
	}
	w := backuptest.StartWriters(hs, nsec)
	require.Eventually(t, func() bool { return w.Writes() > 200 }, time.Minute, time.Millisecond)
	ar, err := archive.OpenDir(filepath.Join(cl.root, "backups"))
	require.NoError(t, err)
	mb := backup.New(b, ar)
	j, err := mb.Start(bg, backup.Request{Items: []backup.Item{{Checkpoint: "ck", BackupName: "bk"}, {Checkpoint: "ck2", BackupName: "bk2"}},
		Compression: backup.CompressZstd})
	require.NoError(t, err)
	ds, err := j.Wait(bg)
	require.NoError(t, err)
	require.Len(t, ds, 2)
	require.NoError(t, w.Stop())

	// A new checkpoint from the copy, through a member holding no replica of anything.
	r, err := mb.Restore(bg, backup.RestoreRequest{BackupName: "bk", Target: "ck-restored", Flags: engine.OpenRead | engine.OpenWrite})
	require.NoError(t, err)
	defer r.Close()
	got := sameCounter(t, r, nsec)
	require.NotZero(t, got)
	require.LessOrEqual(t, got, w.Highest())
	st, err := r.Status(bg)
	require.NoError(t, err)
	require.Equal(t, counterAttrs, st.Attributes)
	require.EqualValues(t, nsec, st.NumberOfSections)
	require.NoError(t, backuptest.WriteCounter(bg, r, nsec, got+1), "the restored checkpoint takes writes")
	// Another member opens it and reads the same.
	ra, err := a.Open(bg, "ck-restored", nil, engine.OpenRead)
	require.NoError(t, err)
	defer ra.Close()
	require.Equal(t, got+1, sameCounter(t, ra, nsec))
	r2, err := mb.Restore(bg, backup.RestoreRequest{BackupName: "bk2", Target: "ck2-restored", Flags: engine.OpenRead})
	require.NoError(t, err)
	require.Equal(t, uint64(7), sameCounter(t, r2, nsec))
	require.NoError(t, r2.Close())

	// Existing names.
	_, err = mb.Restore(bg, backup.RestoreRequest{BackupName: "bk", Target: "ck2"})
	require.ErrorIs(t, err, engine.ErrAlreadyExist)
	odd := counterAttrs
	odd.MaxSections = 63
	h3, err := a.Open(bg, "odd", &odd, rwc)
	require.NoError(t, err)
	defer h3.Close()
	_, err = mb.Restore(bg, backup.RestoreRequest{BackupName: "bk", Target: "odd", Replace: true})
	require.ErrorIs(t, err, engine.ErrAlreadyExist)

	// Replace "ck2" (counter 7) with the copy of "ck" while a reader on a reads it, opening it
	// afresh each time: it sees 7 or got, whole, and got once the restore returned.
	var reads atomic.Int64
	seen := map[uint64]bool{}
	done := make(chan struct{})
	readerErr := make(chan error, 1)
	go func() {
		defer close(readerErr)
		for {
			select {
			case <-done:
				return
			default:
			}
			h, err := a.Open(bg, "ck2", nil, engine.OpenRead)
			if err != nil {
				readerErr <- err
				return
			}
			v, err := backuptest.OneCounter(bg, h, nsec)
			_ = h.Close()
			if err != nil {
				readerErr <- err
				return
			}
			if v != 7 && v != got {
				readerErr <- fmt.Errorf("read %d, neither the old 7 nor the restored %d", v, got)
				return
			}
			seen[v] = true
			reads.Add(1)
		}
	}()
	require.Eventually(t, func() bool { return reads.Load() > 3 }, time.Minute, time.Millisecond)
	r3, err := mb.Restore(bg, backup.RestoreRequest{BackupName: "bk", Target: "ck2", Replace: true, Flags: engine.OpenRead})
	require.NoError(t, err)
	n := reads.Load()
	require.Eventually(t, func() bool { return reads.Load() > n+3 }, time.Minute, time.Millisecond)
	close(done)
	require.NoError(t, <-readerErr)
	require.True(t, seen[got], "reads after the restore see the restored checkpoint")
	require.Equal(t, got, sameCounter(t, r3, nsec))
	require.NoError(t, r3.Close())
	// The old handle keeps the old checkpoint until it closes.
	require.Equal(t, uint64(7), sameCounter(t, other, nsec))
}

// TestBackupDuringFailover: three servers hold a checkpoint that writers on an application
// member keep at one counter across its sections; a backup through the application member is
// under way when the active server dies (as by kill -9). The backup fails cleanly (ErrTryAgain,
// no copy in the catalogue); one taken after the election, under the writers, completes and is a
// cut.
func TestBackupDuringFailover(t *testing.T) {
	cl := newCluster(t)
	// Followers slowed by a busy machine stay in the in-sync set, so that one can be elected.
	cl.tune = func(c *config.Config) { c.AckTimeout = 2 * time.Second }
	for _, s := range []string{"s1", "s2", "s3"} {
		cl.join(s, directory.KindServer)
	}
	app := cl.join("app", directory.KindApplication)
	const nsec = 48
	h := counterCkpt(t, app, "ck", nsec, 32<<10) // 1.5 MiB: several pulls
	w := backuptest.StartWriters([]engine.Checkpoint{h, h}, nsec)
	stopped := false
	defer func() {
		if !stopped {
			_ = w.Stop()
		}
	}()
	if !assert.Eventually(t, func() bool { return w.Writes() > 20 }, time.Minute, time.Millisecond) {
		stopped = true
		t.Fatalf("the writers stopped: %v", w.Stop())
	}
	ar, err := archive.OpenDir(filepath.Join(cl.root, "backups"))
	require.NoError(t, err)
	var active string
	crashed := false
	for try := 0; !crashed; try++ {
		// A backup can also fail before the crash, with ErrTryAgain, when the active's lease
		// lapses for a moment on a busy machine: then it is tried again.
		require.Less(t, try, 10, "the backup never reached the crash")
		active = cl.activeOf(app, "ck")
		src := &backuptest.MidCut{Source: app, Do: func() { cl.crash(active); crashed = true }}
		j, err := backup.New(src, ar).Start(bg, backup.Request{Items: []backup.Item{{Checkpoint: "ck", BackupName: "during"}}})
		require.NoError(t, err)
		_, err = j.Wait(bg)
		require.ErrorIs(t, err, engine.ErrTryAgain)
	}
	mg := backup.New(app, ar)
	res, err := mg.Query(bg, backup.Query{})
	require.NoError(t, err)
	require.Empty(t, res.All(), "no copy of the failed backup")

	cl.waitDead(active)
	require.Eventually(t, func() bool { a := cl.activeOf(app, "ck"); return a != "" && a != active }, time.Minute, 10*time.Millisecond)
	n := w.Writes()
	if !assert.Eventually(t, func() bool { return w.Writes() > n+20 }, time.Minute, time.Millisecond, "writes go on after the election") {
		stopped = true
		t.Fatalf("the writers stopped: %v", w.Stop())
	}
	j, err := mg.Start(bg, backup.Request{Items: []backup.Item{{Checkpoint: "ck", BackupName: "after"}}})
	require.NoError(t, err)
	ds, err := j.Wait(bg)
	require.NoError(t, err)
	require.Len(t, ds, 1)
	stopped = true
	require.NoError(t, w.Stop())
	r, err := mg.Restore(bg, backup.RestoreRequest{BackupName: "after", Target: "ck-after", Flags: engine.OpenRead})
	require.NoError(t, err)
	defer r.Close()
	require.NotZero(t, sameCounter(t, r, nsec))
}

// TestABackupRidesOutAFenceOfTheActive: the active's member is fenced in the middle of a cut
// pulled from it (its lease renewed late, as on a busy machine) and takes its role back in the
// same epoch: no other member was elected, so the backup completes, a cut.
func TestABackupRidesOutAFenceOfTheActive(t *testing.T) {
	cl := newCluster(t)
	s1 := cl.join("s1", directory.KindServer)
	app := cl.join("app", directory.KindApplication)
	const nsec = 48
	h := counterCkpt(t, app, "ck", nsec, 64<<10) // 3 MiB: two batches at least, the fence between
	require.NoError(t, backuptest.WriteCounter(bg, h, nsec, 5))
	require.Equal(t, "s1", cl.activeOf(app, "ck"))
	epoch := func() uint64 {
		e, err := app.Entry(bg, "ck")
		require.NoError(t, err)
		return e.Epoch
	}
	before := epoch()
	src := &backuptest.MidCut{Source: app, Do: func() {
		s1.fence()
		// The lease renewed: what leaseRenewed does.
		s1.fenced.Store(false)
		s1.workers.Add(1)
		go s1.resume(s1.resumes.Add(1))
		require.Eventually(t, func() bool {
			c := s1.ckptFor(s1.mustID(t, "ck"))
			rep, _ := c.localActive()
			return rep != nil
		}, time.Minute, time.Millisecond, "s1 serves again")
	}}
	ar, err := archive.OpenDir(filepath.Join(cl.root, "backups"))
	require.NoError(t, err)
	j, err := backup.New(src, ar).Start(bg, backup.Request{Items: []backup.Item{{Checkpoint: "ck", BackupName: "fenced"}}})
	require.NoError(t, err)
	_, err = j.Wait(bg)
	require.NoError(t, err)
	require.Equal(t, before, epoch(), "no election")
	r, err := backup.New(app, ar).Restore(bg, backup.RestoreRequest{BackupName: "fenced", Target: "ck-r", Flags: engine.OpenRead})
	require.NoError(t, err)
	defer r.Close()
	require.Equal(t, uint64(5), sameCounter(t, r, nsec))
}

// mustID is the id of the checkpoint called name.
func (m *Member) mustID(t *testing.T, name string) uint64 {
	e, err := m.Entry(bg, name)
	require.NoError(t, err)
	return e.ID
}

// TestAReconciliationDuringARestoreKeepsItsReplica: the member reads the whole directory again
// (as after its lease was renewed late) while a restore is filling the new replica, which no entry
// names yet: the replica is not taken for the leftover of a destroyed checkpoint, and the restored
// checkpoint holds every section.
func TestAReconciliationDuringARestoreKeepsItsReplica(t *testing.T) {
	cl := newCluster(t)
	cl.join("s1", directory.KindServer)
	b := cl.join("b", directory.KindApplication)
	const nsec = 4
	h := engine.SnapshotHeader{Attrs: counterAttrs, LSN: nsec}
	i := 0
	reconciled := make(chan error, 1)
	next := func() (*engine.SnapshotSection, error) {
		if i == nsec {
			return nil, nil
		}
		if i == 2 {
			go func() { reconciled <- b.reconcileAll(bg) }()
			select { // (a reconciliation that waits for the replica the restore fills ends after it)
			case err := <-reconciled:
				reconciled <- err
			case <-time.After(5 * time.Second):
			}
		}
		i++
		return &engine.SnapshotSection{ID: backuptest.SectionID(i - 1), LSN: uint64(i), LastUpdate: time.Now().UnixNano(),
			Expiration: int64(engine.Never.UnixNano()), Data: []byte{9, 0, 0, 0, 0, 0, 0, 0}}, nil
	}
	r, err := b.RestoreCheckpoint(bg, "restored", h, false, engine.OpenRead, next)
	require.NoError(t, err)
	defer r.Close()
	require.NoError(t, <-reconciled)
	require.Equal(t, uint64(9), sameCounter(t, r, nsec))
}
