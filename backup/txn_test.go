package backup

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/clckpt/libclckpt/backup/archive"
	"github.com/clckpt/libclckpt/ckpt"
	"github.com/clckpt/libclckpt/engine"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// stallingSource passes sections through until `after` of them went, then announces it on
// reached and stalls until the context ends. It cuts one checkpoint at a time (no SetSource).
type stallingSource struct {
	l       *engine.Local
	after   int
	reached chan struct{}
}

func (s *stallingSource) SnapshotCheckpoint(ctx context.Context, name string, header func(engine.SnapshotHeader) error, section func(*engine.SnapshotSection) error) error {
	n := 0
	return s.l.SnapshotCheckpoint(ctx, name, header, func(sec *engine.SnapshotSection) error {
		if n++; n == s.after {
			close(s.reached)
			<-ctx.Done()
			return ctx.Err()
		}
		return section(sec)
	})
}

// RestoreCheckpoint passes sections through until `after` of them went, then announces it on
// reached and stalls until the context ends.
func (s *stallingSource) RestoreCheckpoint(ctx context.Context, name string, h engine.SnapshotHeader, replace bool, flags ckpt.OpenFlags, next func() (*engine.SnapshotSection, error)) (ckpt.Checkpoint, error) {
	n := 0
	return s.l.RestoreCheckpoint(ctx, name, h, replace, flags, func() (*engine.SnapshotSection, error) {
		if n++; n == s.after {
			close(s.reached)
			<-ctx.Done()
			return nil, ctx.Err()
		}
		return next()
	})
}

// makeRandom creates a checkpoint of n random sections of size bytes.
func makeRandom(t *testing.T, l *engine.Local, name string, n, size int) {
	t.Helper()
	ctx := context.Background()
	ck, err := l.Open(ctx, name, &testAttrs, ckpt.OpenCreate|ckpt.OpenWrite)
	require.NoError(t, err)
	defer ck.Close()
	for i := range n {
		b := make([]byte, size)
		_, _ = rand.Read(b)
		_, err := ck.CreateSection(ctx, secID(i), ckpt.Never, b)
		require.NoError(t, err)
	}
}

func TestTransactionAllOrNothing(t *testing.T) {
	ctx := context.Background()
	l, m, ar := setup(t)
	makeRandom(t, l, "a", 4, 1000)
	makeRandom(t, l, "b", 4, 1000)

	// The second item fails: nothing is committed and no object stays behind.
	j, err := m.Start(ctx, Request{Items: []Item{{Checkpoint: "a", BackupName: "x1"}, {Checkpoint: "missing", BackupName: "x2"}}})
	require.NoError(t, err)
	_, err = j.Wait(ctx)
	require.ErrorIs(t, err, ckpt.ErrNotExist)
	res, err := m.Query(ctx, Query{})
	require.NoError(t, err)
	require.Empty(t, res.All())
	objs, err := ar.List(ctx, dataPrefix)
	require.NoError(t, err)
	require.Empty(t, objs)

	// Both succeed: both appear, in one commit.
	j, err = m.Start(ctx, Request{Items: []Item{{Checkpoint: "a", BackupName: "x1", Description: "first"}, {Checkpoint: "b", BackupName: "x2", CopyType: CopyArchive}}})
	require.NoError(t, err)
	ds, err := j.Wait(ctx)
	require.NoError(t, err)
	require.Len(t, ds, 2)
	require.Equal(t, Progress{ItemsDone: 2, Items: 2, Bytes: ds[0].Size + ds[1].Size}, j.Progress())
	recs, err := ar.List(ctx, catalogPrefix)
	require.NoError(t, err)
	require.Len(t, recs, 1)

	// Cancel in the middle: nothing is committed.
	src := &stallingSource{l: l, after: 2, reached: make(chan struct{})}
	m2 := New(src, ar)
	j, err = m2.Start(ctx, Request{Items: []Item{{Checkpoint: "a", BackupName: "c1"}, {Checkpoint: "b", BackupName: "c2"}}})
	require.NoError(t, err)
	<-src.reached
	j.Cancel()
	_, err = j.Wait(ctx)
	require.ErrorIs(t, err, context.Canceled)
	res, err = m.Query(ctx, Query{BackupName: "c*"})
	require.NoError(t, err)
	require.Empty(t, res.All())
}

// TestTransactionIsOneCut backs up two checkpoints in one transaction while a writer writes each
// counter first to "first" and then to "second": the copies come from one moment, so the copy of
// "first" holds the copy of "second"'s counter or the next one, never less.
func TestTransactionIsOneCut(t *testing.T) {
	ctx := context.Background()
	l, m, _ := setup(t)
	first := counterCheckpoint(t, l, "first", 1)
	defer first.Close()
	second := counterCheckpoint(t, l, "second", 1)
	defer second.Close()
	done := make(chan struct{})
	errc := make(chan error, 1)
	var written atomic.Uint64
	go func() {
		errc <- func() error {
			for v := uint64(1); ; v++ {
				select {
				case <-done:
					return nil
				default:
				}
				if err := counterWrite(ctx, first, 1, v); err != nil {
					return err
				}
				if err := counterWrite(ctx, second, 1, v); err != nil {
					return err
				}
				written.Store(v)
			}
		}()
	}()
	require.Eventually(t, func() bool { return written.Load() > 100 }, time.Minute, time.Millisecond)
	for round := range 5 {
		j, err := m.Start(ctx, Request{Items: []Item{
			{Checkpoint: "first", BackupName: fmt.Sprintf("f%d", round)},
			{Checkpoint: "second", BackupName: fmt.Sprintf("s%d", round)},
		}})
		require.NoError(t, err)
		_, err = j.Wait(ctx)
		require.NoError(t, err)
	}
	close(done)
	require.NoError(t, <-errc)
	for round := range 5 {
		var got [2]uint64
		for i, name := range []string{"f", "s"} {
			r, err := m.Restore(ctx, RestoreRequest{BackupName: fmt.Sprintf("%s%d", name, round), Target: fmt.Sprintf("r%s%d", name, round), Flags: ckpt.OpenRead})
			require.NoError(t, err)
			vals, err := readCounters(ctx, r, 1)
			require.NoError(t, err)
			got[i] = vals[0]
			require.NoError(t, r.Close())
		}
		require.Contains(t, []uint64{got[1], got[1] + 1}, got[0], "round %d: first %d, second %d", round, got[0], got[1])
	}
}

// TestRestoreJobCancel cancels a restore in the middle: nothing appears.
func TestRestoreJobCancel(t *testing.T) {
	ctx := context.Background()
	l, m, ar := setup(t)
	makeRandom(t, l, "a", 8, 1000)
	backupOne(t, m, "a", "b", CompressNone)
	src := &stallingSource{l: l, after: 4, reached: make(chan struct{})}
	j := New(src, ar).StartRestore(ctx, RestoreRequest{BackupName: "b", Target: "new"})
	<-src.reached
	j.Cancel()
	_, err := j.Wait(ctx)
	require.ErrorIs(t, err, context.Canceled)
	_, err = l.Open(ctx, "new", nil, ckpt.OpenRead)
	require.ErrorIs(t, err, ckpt.ErrNotExist)
}

// TestConcurrentSameName starts many backups of one name at once, repeatedly: exactly one copy
// of the name is ever committed, the others fail with ErrAlreadyExist.
func TestConcurrentSameName(t *testing.T) {
	ctx := context.Background()
	l, m, _ := setup(t)
	makeRandom(t, l, "a", 2, 100)
	for round := range 5 {
		name := fmt.Sprintf("n%d", round)
		var wg sync.WaitGroup
		var ok atomic.Int32
		for range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				j, err := m.Start(ctx, Request{Items: []Item{{Checkpoint: "a", BackupName: name}}})
				if err == nil {
					_, err = j.Wait(ctx)
				}
				if err == nil {
					ok.Add(1)
					return
				}
				assert.ErrorIs(t, err, ckpt.ErrAlreadyExist)
			}()
		}
		wg.Wait()
		require.Equal(t, int32(1), ok.Load())
		res, err := m.Query(ctx, Query{BackupName: name})
		require.NoError(t, err)
		require.Len(t, res.All(), 1)
	}
}

const killHelperEnv = "CLCKPT_BACKUP_KILL_HELPER"

// TestKillHelperProcess is the process that the kill tests kill: it starts a backup (or a
// restore over a checkpoint) that stalls half-way, says READY, and waits to be killed.
func TestKillHelperProcess(t *testing.T) {
	mode, dir, _ := strings.Cut(os.Getenv(killHelperEnv), ":")
	if dir == "" {
		t.Skip("run by TestKillMidBackup and TestKillMidRestore only")
	}
	ctx := context.Background()
	l, err := engine.OpenLocal(engine.Options{Dir: filepath.Join(dir, "store")})
	require.NoError(t, err)
	makeRandom(t, l, "k", 16, 512<<10)
	ar, err := archive.OpenDir(filepath.Join(dir, "backups"))
	require.NoError(t, err)
	src := &stallingSource{l: l, after: 12, reached: make(chan struct{})}
	m := New(src, ar)
	switch mode {
	case "backup":
		_, err = m.Start(ctx, Request{Items: []Item{{Checkpoint: "k", BackupName: "killed"}}})
		require.NoError(t, err)
	case "restore":
		backupOne(t, New(l, ar), "k", "whole", CompressNone)
		ck, err := l.Open(ctx, "k", nil, ckpt.OpenWrite)
		require.NoError(t, err)
		require.NoError(t, ck.Overwrite(ctx, secID(0), []byte("changed after the backup")))
		go func() { _, _ = m.Restore(ctx, RestoreRequest{BackupName: "whole", Replace: true}) }()
	}
	<-src.reached
	os.Stdout.WriteString("READY\n")
	select {}
}

// killHelper runs the helper process in mode on dir and kills it -9 once it says READY.
func killHelper(t *testing.T, mode, dir string) {
	cmd := exec.Command(os.Args[0], "-test.run=^TestKillHelperProcess$", "-test.count=1")
	cmd.Env = append(os.Environ(), killHelperEnv+"="+mode+":"+dir)
	out, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	guard := time.AfterFunc(2*time.Minute, func() { _ = cmd.Process.Kill() }) // never hang on a stuck helper
	defer guard.Stop()
	sc := bufio.NewScanner(out)
	ready := false
	for sc.Scan() {
		if strings.TrimSpace(sc.Text()) == "READY" {
			ready = true
			break
		}
	}
	require.True(t, ready, "the helper process did not reach the middle of its work")
	require.NoError(t, cmd.Process.Signal(syscall.SIGKILL))
	_ = cmd.Wait()
}

// TestKillMidRestore kills -9 a process in the middle of a restore over a checkpoint: the next
// start has the old content under the name and nothing of the half-made copy.
func TestKillMidRestore(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	killHelper(t, "restore", dir)
	var logs bytes.Buffer
	l, err := engine.OpenLocal(engine.Options{Dir: filepath.Join(dir, "store"), Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	require.NoError(t, err)
	defer l.Close()
	require.Contains(t, logs.String(), "dropping a replica whose copy was interrupted")
	ck, err := l.Open(ctx, "k", nil, ckpt.OpenRead)
	require.NoError(t, err)
	defer ck.Close()
	els := []ckpt.ReadElement{{SectionID: secID(0)}}
	require.NoError(t, ck.Read(ctx, els))
	require.Equal(t, "changed after the backup", string(els[0].Buffer[:els[0].ReadSize]))
	st, err := ck.Status(ctx)
	require.NoError(t, err)
	require.Equal(t, uint32(16), st.NumberOfSections)
	r, err := New(l, openArchive(t, filepath.Join(dir, "backups"))).Restore(ctx, RestoreRequest{BackupName: "whole", Target: "again"})
	require.NoError(t, err)
	require.NoError(t, r.Close())
}

// TestKillMidBackup kills -9 a process in the middle of a backup: no catalogue entry appears, and
// the sweeper removes what the backup had written.
func TestKillMidBackup(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	killHelper(t, "backup", dir)

	parts, err := filepath.Glob(filepath.Join(dir, "backups", "data", "*.part"))
	require.NoError(t, err)
	require.NotEmpty(t, parts, "the killed backup left its partial object")

	l := openLocal(t, filepath.Join(dir, "store"))
	ar, err := archive.OpenDir(filepath.Join(dir, "backups"))
	require.NoError(t, err)
	m := New(l, ar)
	res, err := m.Query(ctx, Query{})
	require.NoError(t, err)
	require.Empty(t, res.All())
	_, err = m.Restore(ctx, RestoreRequest{BackupName: "killed", Target: "x"})
	require.ErrorIs(t, err, ckpt.ErrNotExist)

	// A file that is not the manager's stays, whatever its age.
	foreign := filepath.Join(dir, "backups", "data", "README")
	require.NoError(t, os.WriteFile(foreign, []byte("notes"), 0o600))

	// A sweep with the default grace keeps the young piece (it could be a backup in progress).
	rep, err := m.Sweep(ctx, SweepOptions{})
	require.NoError(t, err)
	require.Zero(t, rep.Orphans)
	rep, err = m.Sweep(ctx, SweepOptions{Now: time.Now().Add(2 * time.Hour)})
	require.NoError(t, err)
	require.Equal(t, len(parts), rep.Orphans)
	parts, err = filepath.Glob(filepath.Join(dir, "backups", "data", "*"))
	require.NoError(t, err)
	require.Equal(t, []string{foreign}, parts)

	// The killed process's checkpoint is intact and backs up fine now.
	backupOne(t, m, "k", "after", CompressNone)
}
