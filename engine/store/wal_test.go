package store

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestBadgerReplaysItsLog: batches that reached the log but not Badger (the process died in
// between) are committed at the next open; a record the process did not finish writing is dropped.
func TestBadgerReplaysItsLog(t *testing.T) {
	dir := t.TempDir()
	s, err := OpenBadger(BadgerOptions{Dir: dir})
	require.NoError(t, err)
	apply(t, s, "old", "1", "gone", "x")
	require.NoError(t, s.Close())

	// What a killed process leaves: two complete records and the start of a third.
	var b1, b2, b3 Batch
	b1.Set([]byte("a"), []byte("from the log"))
	b1.Delete([]byte("gone"))
	b2.Set([]byte("b"), []byte("second"))
	b2.Set([]byte("old"), []byte("2"))
	b3.Set([]byte("c"), []byte("torn"))
	torn := encodeRecord(&b3)
	log := append(append(encodeRecord(&b1), encodeRecord(&b2)...), torn[:len(torn)-3]...)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "clckpt.wal"), log, 0o600))

	s, err = OpenBadger(BadgerOptions{Dir: dir})
	require.NoError(t, err)
	defer s.Close()
	for k, want := range map[string]string{"a": "from the log", "b": "second", "old": "2"} {
		got, err := get(t, s, k)
		require.NoError(t, err)
		require.Equal(t, want, string(got))
	}
	for _, k := range []string{"gone", "c"} {
		_, err := get(t, s, k)
		require.ErrorIs(t, err, ErrNotFound, k)
	}
	info, err := os.Stat(filepath.Join(dir, "clckpt.wal"))
	require.NoError(t, err)
	require.Zero(t, info.Size(), "the log is emptied once replayed")
}

// TestBadgerReplayKeepsBulkBatches: a bulk batch goes to Badger past the log; a replay after it must
// not put back the older values the log still holds for its keys, while later logged writes apply.
func TestBadgerReplayKeepsBulkBatches(t *testing.T) {
	dir := t.TempDir()
	s, err := OpenBadger(BadgerOptions{Dir: dir})
	require.NoError(t, err)
	apply(t, s, "big", "small", "other", "1")
	bulk := make([]byte, bulkBatch)
	for i := range bulk {
		bulk[i] = byte(i % 251)
	}
	var b Batch
	b.Set([]byte("big"), bulk)
	require.NoError(t, s.Apply(&b))
	apply(t, s, "other", "2")
	log, err := os.ReadFile(filepath.Join(dir, "clckpt.wal"))
	require.NoError(t, err)
	require.NoError(t, s.Close())
	// What a process killed now leaves: the log as it was (Close may have emptied it).
	require.NoError(t, os.WriteFile(filepath.Join(dir, "clckpt.wal"), log, 0o600))

	s, err = OpenBadger(BadgerOptions{Dir: dir})
	require.NoError(t, err)
	got, err := get(t, s, "big")
	require.NoError(t, err)
	require.True(t, bytes.Equal(bulk, got), "the bulk value survives the replay (got %d bytes)", len(got))
	got, err = get(t, s, "other")
	require.NoError(t, err)
	require.Equal(t, "2", string(got))
	require.NoError(t, s.Close())

	// A logged write after the barrier wins over the bulk value.
	var l1, l2 Batch
	l1.Set([]byte("k"), []byte("old"))
	l2.Set([]byte("k"), []byte("newer"))
	var barrier Batch
	barrier.Set([]byte("k"), nil)
	crafted := append(append(encodeRecord(&l1), encodeBarrier(&barrier)...), encodeRecord(&l2)...)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "clckpt.wal"), crafted, 0o600))
	s, err = OpenBadger(BadgerOptions{Dir: dir})
	require.NoError(t, err)
	defer s.Close()
	got, err = get(t, s, "k")
	require.NoError(t, err)
	require.Equal(t, "newer", string(got))
}

func TestBadgerRefusesABatchItCannotCommitAtOnce(t *testing.T) {
	s, err := OpenBadger(BadgerOptions{Dir: t.TempDir(), MemTableSize: 4 << 20})
	require.NoError(t, err)
	defer s.Close()
	var b Batch
	for i := 0; i < 40000; i++ {
		b.Set([]byte(fmt.Sprintf("key-%06d", i)), []byte("small value"))
	}
	require.ErrorIs(t, s.Apply(&b), ErrTooBig)
	_, err = get(t, s, "key-000000")
	require.ErrorIs(t, err, ErrNotFound, "nothing of a refused batch is visible")
}

// TestBadgerViewSeesEveryAcknowledgedBatch: a view started after Apply returned sees the batch,
// even when the applier has not committed it yet.
func TestBadgerViewSeesEveryAcknowledgedBatch(t *testing.T) {
	s, err := OpenBadger(BadgerOptions{Dir: t.TempDir()})
	require.NoError(t, err)
	defer s.Close()
	for i := 0; i < 2000; i++ {
		apply(t, s, fmt.Sprintf("k/%05d", i), fmt.Sprint(i))
		if i%250 == 0 {
			require.Len(t, scanKeys(t, s, "k/"), i+1)
		}
	}
	require.Len(t, scanKeys(t, s, "k/"), 2000)
}

func FuzzDecodeLogPayload(f *testing.F) {
	var b Batch
	b.Set([]byte("k"), []byte("v"))
	b.Delete([]byte("d"))
	f.Add(encodeRecord(&b)[walHeader:])
	f.Add(encodeBarrier(&b)[walHeader:])
	f.Fuzz(func(t *testing.T, p []byte) {
		ops, err := decodePayload(p)
		if err != nil {
			return
		}
		// Varints need not be minimal in the input: compare what the bytes mean.
		back, err := decodePayload(encodeOps(ops, false)[walHeader:])
		require.NoError(t, err)
		require.Equal(t, len(ops), len(back))
		for i := range ops {
			require.Equal(t, string(ops[i].Key), string(back[i].Key))
			require.Equal(t, string(ops[i].Value), string(back[i].Value))
			require.Equal(t, ops[i].Delete, back[i].Delete)
			require.Equal(t, ops[i].barrier, back[i].barrier)
		}
	})
}

// FuzzReplayLog: whatever bytes the log file holds (a torn write, a disk that returned garbage),
// replay neither panics nor allocates past the file; it yields the complete records up to the
// first bad one, truncates the rest, and a second replay yields the same.
func FuzzReplayLog(f *testing.F) {
	var b1, b2 Batch
	b1.Set([]byte("k"), []byte("v"))
	b2.Delete([]byte("k"))
	good := append(encodeRecord(&b1), encodeBarrier(&b2)...)
	f.Add(good)
	f.Add(good[:len(good)-2])
	f.Add([]byte{0xff, 0xff, 0xff, 0x3f, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		path := filepath.Join(t.TempDir(), "clckpt.wal")
		require.NoError(t, os.WriteFile(path, data, 0o600))
		replayAll := func() []Op {
			w, err := openWAL(path, false)
			require.NoError(t, err)
			defer w.close()
			var all []Op
			require.NoError(t, w.replay(func(ops []Op) error { all = append(all, ops...); return nil }))
			require.LessOrEqual(t, w.size, int64(len(data)))
			return all
		}
		first := replayAll()
		require.Equal(t, first, replayAll())
		st, err := os.Stat(path)
		require.NoError(t, err)
		require.True(t, bytes.HasPrefix(data, mustRead(t, path)), "replay only truncates, size %d", st.Size())
	})
}

func mustRead(t *testing.T, path string) []byte {
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	return b
}
