package engine

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/clckpt/libclckpt/engine/store"
	"github.com/stretchr/testify/require"
)

// Everything durable survives the death of the process; handles of the dead process count as closed.

func TestRestartKeepsCheckpointsAttributesSectionsAndData(t *testing.T) {
	forEachKind(t, func(t *testing.T, e *env) {
		a := &Attributes{Flags: WriteActiveReplica | AllOpenAreReplicas, CheckpointSize: 64, Retention: RetainForever,
			MaxSections: 4, MaxSectionSize: 16, MaxSectionIDSize: 8}
		h := e.create("kept", a)
		_, err := h.CreateSection(bg, sec("one"), t0.Add(time.Hour), []byte("first"))
		require.NoError(t, err)
		gen, err := h.CreateSection(bg, nil, Never, []byte("gen"))
		require.NoError(t, err)
		require.NoError(t, h.Write(bg, []WriteElement{{SectionID: sec("one"), Offset: 7, Data: []byte("!")}}))
		single := e.create("single", attrs(1))
		require.NoError(t, single.Overwrite(bg, nil, []byte("default")))

		e.restart()

		h, err = e.Open(bg, "kept", a, rwc) // same attributes: a plain open
		require.NoError(t, err)
		st, err := h.Status(bg)
		require.NoError(t, err)
		require.Equal(t, Status{Attributes: *a, NumberOfSections: 2, MemoryUsed: 11}, st)
		require.Equal(t, "first\x00\x00!", readAll(t, h, "one"))
		require.Equal(t, "gen", readAll(t, h, string(gen)))
		it, err := h.Sections(bg, SectionsExpiringNoLaterThan, t0.Add(time.Hour))
		require.NoError(t, err)
		d, err := it.Next()
		require.NoError(t, err)
		require.Equal(t, "one", string(d.ID))
		require.Equal(t, t0.Add(time.Hour), d.Expiration.UTC())

		single, err = e.Open(bg, "single", nil, OpenRead)
		require.NoError(t, err)
		require.Equal(t, "default", readAll(t, single, ""))
	})
}

func TestRestartExpiresSectionsWhoseTimePassed(t *testing.T) {
	forEachKind(t, func(t *testing.T, e *env) {
		h := e.create("c", attrs(4))
		_, err := h.CreateSection(bg, sec("short"), t0.Add(10*time.Second), []byte("x"))
		require.NoError(t, err)
		_, err = h.CreateSection(bg, sec("long"), t0.Add(time.Hour), []byte("y"))
		require.NoError(t, err)
		e.Local.crash()
		e.clock.Advance(30 * time.Second) // nobody alive when "short" expires
		e.restart()
		h, err = e.Open(bg, "c", nil, OpenRead)
		require.NoError(t, err)
		require.ErrorIs(t, h.Read(bg, []ReadElement{{SectionID: sec("short")}}), ErrNotExist)
		require.Equal(t, "y", readAll(t, h, "long"))
		e.clock.Advance(time.Hour) // the remaining deadline is still armed
		require.ErrorIs(t, h.Read(bg, []ReadElement{{SectionID: sec("long")}}), ErrNotExist)
	})
}

func TestRestartRetentionThatRanOutWhileNobodyWasAlive(t *testing.T) {
	forEachKind(t, func(t *testing.T, e *env) {
		a := attrs(2)
		a.Retention = 10 * time.Minute
		h := e.create("c", a)
		require.NoError(t, h.Close()) // the retention deadline is recorded
		e.Local.crash()
		e.clock.Advance(11 * time.Minute)
		e.restart()
		require.False(t, e.exists("c"))
	})
}

func TestRestartRetentionStillRunningIsRearmed(t *testing.T) {
	forEachKind(t, func(t *testing.T, e *env) {
		a := attrs(2)
		a.Retention = 10 * time.Minute
		h := e.create("c", a)
		require.NoError(t, h.Close())
		e.Local.crash()
		e.clock.Advance(4 * time.Minute)
		e.restart()
		require.Equal(t, 1, len(e.all))
		e.clock.Advance(7 * time.Minute)
		require.Empty(t, e.all)
	})
}

func TestRestartHandlesOfADeadProcessCountAsClosed(t *testing.T) {
	forEachKind(t, func(t *testing.T, e *env) {
		zero := attrs(2)
		zero.Retention = 0
		e.create("zero", zero) // open when the process dies: retention 0 destroys it
		finite := attrs(2)
		finite.Retention = 10 * time.Minute
		e.create("finite", finite)
		e.create("forever", attrs(2))
		e.clock.Advance(5 * time.Minute) // heartbeats record that the process is alive
		e.Local.crash()
		e.clock.Advance(11 * time.Minute) // the process died 5 minutes after t0
		e.restart()
		require.False(t, e.exists("zero"))
		require.True(t, e.exists("forever"))
		// "finite" counts from the last heartbeat (t0+5m), not from this start (t0+16m): it is gone.
		require.False(t, e.exists("finite"))
	})
}

func TestRestartRetentionCountsFromTheLastHeartbeat(t *testing.T) {
	e := newEnv(t)
	a := attrs(2)
	a.Retention = 10 * time.Minute
	e.create("c", a)
	e.clock.Advance(5 * time.Minute)
	e.Local.crash()
	e.clock.Advance(3 * time.Minute)
	e.restart() // died at t0+5m, now t0+8m: 7 minutes of retention left
	require.Len(t, e.all, 1)
	e.clock.Advance(6 * time.Minute)
	require.Len(t, e.all, 1)
	e.clock.Advance(time.Minute)
	require.Empty(t, e.all)
}

func TestRestartDestroysCheckpointsDeletedWhileOpen(t *testing.T) {
	forEachKind(t, func(t *testing.T, e *env) {
		h := e.create("c", attrs(2))
		_, err := h.CreateSection(bg, sec("s"), Never, []byte("x"))
		require.NoError(t, err)
		require.NoError(t, e.Delete(bg, "c"))
		e.restart()
		require.Empty(t, e.all)
		h = e.create("c", attrs(2))
		require.ErrorIs(t, h.Read(bg, []ReadElement{{SectionID: sec("s")}}), ErrNotExist)
	})
}

func TestGracefulCloseAppliesRetentionToOpenHandles(t *testing.T) {
	forEachKind(t, func(t *testing.T, e *env) {
		zero := attrs(2)
		zero.Retention = 0
		e.create("zero", zero)
		finite := attrs(2)
		finite.Retention = time.Minute
		e.create("finite", finite)
		e.create("forever", attrs(2))
		require.NoError(t, e.Local.Close())
		require.ErrorIs(t, e.Local.Close(), ErrClosed)
		e.clock.Advance(30 * time.Second)
		e.restart()
		require.False(t, e.exists("zero"))
		require.True(t, e.exists("forever"))
		require.Len(t, e.all, 2)
		e.clock.Advance(31 * time.Second)
		require.Len(t, e.all, 1)
	})
}

func TestClosedServiceRefusesCalls(t *testing.T) {
	e := newEnv(t)
	h := e.create("c", attrs(2))
	require.NoError(t, e.Local.Close())
	_, err := e.Open(bg, "c", nil, OpenRead)
	require.ErrorIs(t, err, ErrClosed)
	require.ErrorIs(t, e.Delete(bg, "c"), ErrClosed)
	_, err = h.Status(bg)
	require.ErrorIs(t, err, ErrClosed)
	require.ErrorIs(t, h.Close(), ErrClosed)
}

func TestOrphanSectionsOfAnInterruptedDestroyAreRemoved(t *testing.T) {
	e := newEnv(t)
	h := e.create("c", attrs(4))
	_, err := h.CreateSection(bg, sec("s"), Never, []byte("x"))
	require.NoError(t, err)
	// What a crash between the two phases of a destruction leaves: sections without a record.
	var b store.Batch
	b.Delete(recordKey(h.(*handle).r.id))
	require.NoError(t, e.store.Apply(&b))
	e.restart()
	require.Empty(t, e.all)
	n := 0
	require.NoError(t, e.store.Scan([]byte{prefixMeta}, func(k, v []byte) error { n++; return nil }))
	require.NoError(t, e.store.Scan([]byte{prefixData}, func(k, v []byte) error { n++; return nil }))
	require.Zero(t, n)
}

func TestForeignOrNewerDataIsRefused(t *testing.T) {
	st := store.NewMemory()
	var b store.Batch
	b.Set([]byte("someone else's key"), []byte("v"))
	require.NoError(t, st.Apply(&b))
	_, err := OpenLocal(Options{Store: st})
	require.ErrorIs(t, err, ErrStorage)
	require.Contains(t, err.Error(), "did not write")

	st = store.NewMemory()
	b.Reset()
	b.Set(keyFormat, append(append([]byte(nil), formatMagic...), 3, 0, 0, 0))
	require.NoError(t, st.Apply(&b))
	_, err = OpenLocal(Options{Store: st})
	require.ErrorIs(t, err, ErrStorage)
	require.Contains(t, err.Error(), "format version 3")
}

// storedFormat is the version in the store's format record.
func (e *env) storedFormat() uint32 {
	e.t.Helper()
	var v uint32
	require.NoError(e.t, e.store.Get(keyFormat, func(b []byte) (err error) { v, err = decodeFormat(b); return }))
	return v
}

// A data directory stays at format version 1 (which older builds read) until a checkpoint with a
// name above 256 bytes is created; then it is version 2, and its long names, up to 2048 bytes, come
// back after a restart, each its own checkpoint even when two differ in their last byte only.
func TestLongNamesSurviveARestartAndUpgradeTheFormatOnlyThen(t *testing.T) {
	forEachKind(t, func(t *testing.T, e *env) {
		short := e.create("short", attrs(2))
		_, err := short.CreateSection(bg, sec("s"), Never, []byte("old"))
		require.NoError(t, err)
		require.Equal(t, uint32(1), e.storedFormat())
		e.restart()
		require.Equal(t, uint32(1), e.storedFormat())

		long := bytes.Repeat([]byte{'L'}, MaxNameLength)
		other := bytes.Clone(long)
		other[len(other)-1] = 'M'
		for i, name := range [][]byte{long, other} {
			h := e.create(string(name), attrs(2))
			_, err := h.CreateSection(bg, sec("s"), Never, []byte{'0' + byte(i)})
			require.NoError(t, err)
		}
		require.Equal(t, uint32(2), e.storedFormat())
		_, err = e.Open(bg, string(long)+"x", attrs(2), rwc)
		require.ErrorIs(t, err, ErrInvalidParameter)

		e.restart()
		require.Equal(t, uint32(2), e.storedFormat())
		for i, name := range [][]byte{long, other} {
			h, err := e.Open(bg, string(name), nil, OpenRead)
			require.NoError(t, err)
			require.Equal(t, string([]byte{'0' + byte(i)}), readAll(t, h, "s"))
			require.Equal(t, string(name), h.Name())
		}
		h, err := e.Open(bg, "short", nil, OpenRead)
		require.NoError(t, err)
		require.Equal(t, "old", readAll(t, h, "s"))
	})
}

// A version 1 data directory holding a record whose name is longer than version 1 allows is
// damaged (only version 2 holds such names): it is refused as corrupt, not read.
func TestLongNameInAVersion1StoreIsCorrupt(t *testing.T) {
	e := newEnv(t)
	e.create(strings.Repeat("n", maxNameV1+1), attrs(2))
	require.Equal(t, uint32(2), e.storedFormat())
	e.Local.crash()
	var b store.Batch
	b.Set(keyFormat, encodeFormat(1))
	require.NoError(t, e.store.Apply(&b))
	_, err := OpenLocal(Options{Store: e.store, Clock: e.clock})
	require.ErrorIs(t, err, ErrStorage)
	require.Contains(t, err.Error(), "corrupt")
}

func TestCorruptRecordIsAClearError(t *testing.T) {
	e := newEnv(t)
	h := e.create("c", attrs(4))
	_, err := h.CreateSection(bg, sec("s"), Never, []byte("x"))
	require.NoError(t, err)
	e.Local.crash()
	var b store.Batch
	b.Set(recordKey(h.(*handle).r.id), []byte{1, 2, 3})
	require.NoError(t, e.store.Apply(&b))
	_, err = OpenLocal(Options{Store: e.store, Clock: e.clock})
	require.ErrorIs(t, err, ErrStorage)
	require.Contains(t, err.Error(), "corrupt")
}

func TestOptionsAreValidated(t *testing.T) {
	_, err := OpenLocal(Options{})
	require.Error(t, err)
	_, err = OpenLocal(Options{Dir: t.TempDir(), Store: store.NewMemory()})
	require.Error(t, err)
	_, err = OpenLocal(Options{Store: store.NewMemory(), HeartbeatInterval: -1})
	require.Error(t, err)
}

func TestDataDirectoryLockedByAnotherService(t *testing.T) {
	dir := t.TempDir()
	l, err := OpenLocal(Options{Dir: dir})
	require.NoError(t, err)
	defer l.Close()
	_, err = OpenLocal(Options{Dir: dir})
	require.ErrorIs(t, err, ErrStorage)
}

// The largest section the engine takes (MaxDataSize) fits in every store and survives a restart, in
// one piece or written at the far end of a section; one byte more is refused and changes nothing.
func TestLargestSectionSurvivesARestart(t *testing.T) {
	forEachKind(t, func(t *testing.T, e *env) {
		h := e.create("big", attrs(4))
		data := make([]byte, MaxDataSize)
		for i := range data {
			data[i] = byte(i*7 + i>>16)
		}
		_, err := h.CreateSection(bg, sec("whole"), Never, data)
		require.NoError(t, err)
		_, err = h.CreateSection(bg, sec("tail"), Never, []byte("x"))
		require.NoError(t, err)
		require.NoError(t, h.Write(bg, []WriteElement{{SectionID: sec("tail"), Offset: MaxDataSize - 3, Data: []byte("end")}}))
		err = h.Write(bg, []WriteElement{{SectionID: sec("tail"), Offset: MaxDataSize - 2, Data: []byte("end")}})
		require.ErrorIs(t, err, ErrInvalidParameter)
		require.ErrorIs(t, h.Overwrite(bg, sec("whole"), make([]byte, MaxDataSize+1)), ErrInvalidParameter)

		e.restart()
		h, err = e.Open(bg, "big", nil, OpenRead)
		require.NoError(t, err)
		got := []ReadElement{{SectionID: sec("whole")}, {SectionID: sec("tail")}}
		require.NoError(t, h.Read(bg, got))
		require.True(t, bytes.Equal(data, got[0].Buffer), "the 64 MiB section is intact")
		require.Len(t, got[1].Buffer, MaxDataSize)
		require.Equal(t, "xend", string(got[1].Buffer[0:1])+string(got[1].Buffer[MaxDataSize-3:]))
	})
}
