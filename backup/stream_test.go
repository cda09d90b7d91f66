package backup

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/clckpt/libclckpt/backup/archive"
	"github.com/clckpt/libclckpt/ckpt"
	"github.com/clckpt/libclckpt/engine"
	"github.com/clckpt/libclckpt/internal/backuptest"
	"github.com/stretchr/testify/require"
)

// TestObjectHashesChunksOnce: an object is written in the current format, where each chunk's
// bytes are hashed once, into the chunk's digest, which stands for them in the final digest. A
// chunk changed together with its digest is then still refused, by the final digest; a chunk
// changed alone, by its own digest.
func TestObjectHashesChunksOnce(t *testing.T) {
	ctx := context.Background()
	for _, comp := range []Compression{CompressNone, CompressZstd} {
		l, m, ar := setup(t)
		makeCheckpoint(t, l, "orig")
		d := backupOne(t, m, "orig", "b1", comp)
		path := filepath.Join(ar.Root(), filepath.FromSlash(dataName(d.CopyID)))
		good, err := os.ReadFile(path)
		require.NoError(t, err)
		require.Equal(t, magicV2, string(good[:len(magicV2)]))

		// The final digest is the SHA-256 of the magic, every chunk header and the end frame.
		h := sha256.New()
		h.Write(good[:len(magicV2)])
		off := len(magicV2)
		var chunks []int // offsets of the chunk frames
		for good[off] == frameChunk {
			chunks = append(chunks, off)
			h.Write(good[off : off+chunkHeaderLen])
			stored := int(binary.LittleEndian.Uint32(good[off+2:]))
			off += chunkHeaderLen + stored
		}
		require.Greater(t, len(chunks), 1, "makeCheckpoint's data takes several chunks")
		h.Write(good[off : off+9])
		require.Equal(t, good[off+9:], h.Sum(nil))
		require.Len(t, good, off+9+32)

		restoreFails := func(b []byte, why string) {
			t.Helper()
			require.NoError(t, os.WriteFile(path, b, 0o600))
			_, err := m.Restore(ctx, RestoreRequest{BackupName: "b1", Target: "copy"})
			require.ErrorIs(t, err, ErrDamaged)
			require.ErrorContains(t, err, why)
			_, err = l.Open(ctx, "copy", nil, ckpt.OpenRead)
			require.ErrorIs(t, err, ckpt.ErrNotExist)
		}
		second := chunks[1]
		b := bytes.Clone(good)
		b[second+chunkHeaderLen+5] ^= 0x40
		restoreFails(b, "chunk SHA-256 mismatch")
		stored := int(binary.LittleEndian.Uint32(b[second+2:]))
		sum := sha256.Sum256(b[second+chunkHeaderLen : second+chunkHeaderLen+stored])
		copy(b[second+10:], sum[:]) // the chunk now matches its digest
		if comp == CompressNone {   // and its raw bytes still decode
			restoreFails(b, "whole-object SHA-256 mismatch")
		} else {
			restoreFails(b, "")
		}
		require.NoError(t, os.WriteFile(path, good, 0o600))
		r, err := m.Restore(ctx, RestoreRequest{BackupName: "b1", Target: "copy"})
		require.NoError(t, err)
		require.NoError(t, r.Close())
	}
}

// countingSource counts the sections a cut has passed on.
type countingSource struct {
	l        *engine.Local
	sections atomic.Int64
}

func (s *countingSource) SnapshotCheckpoint(ctx context.Context, name string, header func(engine.SnapshotHeader) error, section func(*engine.SnapshotSection) error) error {
	return s.l.SnapshotCheckpoint(ctx, name, header, func(sec *engine.SnapshotSection) error {
		s.sections.Add(1)
		return section(sec)
	})
}

// pausedArchive is a directory archive whose Put reads the first bytes of an object, then waits
// for resume before reading the rest (or, with stopAt, returns stopErr having read that much).
type pausedArchive struct {
	*archive.Dir
	paused  chan struct{} // closed once the first bytes were read
	resume  chan struct{}
	stopAt  int64
	stopErr error
}

func (a *pausedArchive) Put(ctx context.Context, name string, r io.Reader) error {
	if !strings.HasPrefix(name, dataPrefix) {
		return a.Dir.Put(ctx, name, r)
	}
	if a.stopAt > 0 {
		if _, err := io.CopyN(io.Discard, r, a.stopAt); err != nil {
			return err
		}
		return a.stopErr
	}
	first := make([]byte, 64)
	if _, err := io.ReadFull(r, first); err != nil {
		return err
	}
	close(a.paused)
	<-a.resume
	return a.Dir.Put(ctx, name, io.MultiReader(bytes.NewReader(first), r))
}

// TestBackupCutRunsAheadOfTheArchive: the cut and the hashing of chunks go on while the archive
// is busy (here: not reading at all), a bounded number of chunks ahead of it; then the copy
// completes and restores exactly.
func TestBackupCutRunsAheadOfTheArchive(t *testing.T) {
	ctx := context.Background()
	data := t.TempDir()
	l := openLocal(t, filepath.Join(data, "store"))
	const size, n = 256 << 10, 60 // at most 64 sections (testAttrs)
	perChunk := chunkSize / size
	makeRandom(t, l, "big", n, size)
	ar := &pausedArchive{Dir: openArchive(t, filepath.Join(data, "backups")), paused: make(chan struct{}), resume: make(chan struct{})}
	var release sync.Once
	resume := func() { release.Do(func() { close(ar.resume) }) }
	t.Cleanup(resume) // also when the test fails before it resumes the archive
	src := &countingSource{l: l}
	m := New(src, ar)
	j, err := m.Start(ctx, Request{Items: []Item{{Checkpoint: "big", BackupName: "b"}}})
	require.NoError(t, err)
	<-ar.paused
	// The chunks in flight: twice the workers and two.
	depth := 2*streamWorkers() + 2
	require.Eventually(t, func() bool { return src.sections.Load() >= int64(2*perChunk) }, time.Minute, time.Millisecond,
		"the cut does not get ahead of the archive")
	time.Sleep(100 * time.Millisecond) // room to overshoot, were the pipeline unbounded
	require.LessOrEqual(t, src.sections.Load(), int64((depth+2)*perChunk), "the cut got too far ahead of the archive")
	resume()
	ds, err := j.Wait(ctx)
	require.NoError(t, err)
	require.Len(t, ds, 1)
	require.Equal(t, int64(n), src.sections.Load())

	ck, err := l.Open(ctx, "big", nil, ckpt.OpenRead)
	require.NoError(t, err)
	defer ck.Close()
	want := readContent(t, ck)
	m2 := New(l, ar.Dir)
	r, err := m2.Restore(ctx, RestoreRequest{BackupName: "b", Target: "copy", Flags: ckpt.OpenRead})
	require.NoError(t, err)
	defer r.Close()
	got := readContent(t, r)
	require.Equal(t, want.Sections, got.Sections)
	require.Equal(t, want.Data, got.Data)
}

// TestBackupArchiveEndsEarly: an archive whose Put fails part way, or returns having read only
// part of the object, fails the backup; nothing is committed.
func TestBackupArchiveEndsEarly(t *testing.T) {
	ctx := context.Background()
	for _, stopErr := range []error{errors.New("disk on fire"), nil} {
		data := t.TempDir()
		l := openLocal(t, filepath.Join(data, "store"))
		makeRandom(t, l, "big", 64, 64<<10)
		ar := &pausedArchive{Dir: openArchive(t, filepath.Join(data, "backups")), stopAt: 3 << 20, stopErr: stopErr}
		m := New(l, ar)
		j, err := m.Start(ctx, Request{Items: []Item{{Checkpoint: "big", BackupName: "b"}}})
		require.NoError(t, err)
		_, err = j.Wait(ctx)
		require.Error(t, err)
		if stopErr != nil {
			require.ErrorIs(t, err, stopErr)
		}
		res, err := m.Query(ctx, Query{})
		require.NoError(t, err)
		require.Empty(t, res.All())
	}
}

// TestObjectStoreBackupHashedOnce: a backup into the object store hashes its bytes once, into its
// own chunk digests: the object store keeps no digest of its own for it (which would hash every
// byte a second time). The object's own digests still catch damage: a byte flipped in a chunk
// stored in the object store fails the restore, and nothing is restored.
func TestObjectStoreBackupHashedOnce(t *testing.T) {
	ctx := context.Background()
	js := backuptest.JetStream(t)
	ar, err := archive.OpenObjectStore(ctx, js, "bk", 1)
	require.NoError(t, err)
	l := openLocal(t, filepath.Join(t.TempDir(), "store"))
	want := readContent(t, makeCheckpoint(t, l, "orig"))
	m := New(l, ar)
	d := backupOne(t, m, "orig", "b1", CompressNone)

	obs, err := js.ObjectStore(ctx, "bk")
	require.NoError(t, err)
	info, err := obs.GetInfo(ctx, dataName(d.CopyID))
	require.NoError(t, err)
	require.Empty(t, info.Digest, "the object store hashed the backup object again")
	require.EqualValues(t, d.Size, info.Size)

	rc, err := ar.Get(ctx, dataName(d.CopyID))
	require.NoError(t, err)
	good, err := io.ReadAll(rc)
	require.NoError(t, err)
	require.NoError(t, rc.Close())
	bad := bytes.Clone(good)
	bad[len(magicV2)+chunkHeaderLen+100] ^= 1 // in the first chunk's bytes
	require.NoError(t, ar.Put(ctx, dataName(d.CopyID), selfChecked{countReader{bytes.NewReader(bad), new(atomic.Int64)}}))
	_, err = m.Restore(ctx, RestoreRequest{BackupName: "b1", Target: "copy"})
	require.ErrorIs(t, err, ErrDamaged)
	require.ErrorContains(t, err, "chunk SHA-256 mismatch")
	_, err = l.Open(ctx, "copy", nil, ckpt.OpenRead)
	require.ErrorIs(t, err, ckpt.ErrNotExist)

	require.NoError(t, ar.Put(ctx, dataName(d.CopyID), selfChecked{countReader{bytes.NewReader(good), new(atomic.Int64)}}))
	r, err := m.Restore(ctx, RestoreRequest{BackupName: "b1", Target: "copy", Flags: ckpt.OpenRead})
	require.NoError(t, err)
	defer r.Close()
	require.Equal(t, want, readContent(t, r))
}
