package engine

import (
	"bytes"
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func sampleRecord() *record {
	return &record{id: 0x0102030405060708, name: "a name",
		attrs: Attributes{Flags: Collocated | WriteActiveReplica, CheckpointSize: 1 << 40, Retention: -1,
			MaxSections: 7, MaxSectionSize: 1 << 33, MaxSectionIDSize: 64},
		unlinked: true, active: true, incomplete: true, deadline: math.MaxInt64 - 1, gen: 42, lsn: 1 << 50, epoch: 7}
}

func TestRecordRoundTrip(t *testing.T) {
	r := sampleRecord()
	got, err := decodeRecord(r.id, encodeRecord(r), maxNameV1)
	require.NoError(t, err)
	require.Equal(t, r, got)
}

// A record's layout is the same in both versions; only the longest name it may hold differs: a name
// above 256 bytes is corrupt in a version 1 store and fine in a version 2 one, up to MaxNameLength.
func TestRecordNameLimitFollowsTheStoreVersion(t *testing.T) {
	for _, n := range []int{maxNameV1, maxNameV1 + 1, MaxNameLength, MaxNameLength + 1} {
		r := sampleRecord()
		r.name = string(bytes.Repeat([]byte{'n'}, n))
		v := encodeRecord(r)
		_, err := decodeRecord(r.id, v, maxNameIn(1))
		if n <= maxNameV1 {
			require.NoError(t, err, n)
		} else {
			require.ErrorIs(t, err, errCorrupt, n)
		}
		got, err := decodeRecord(r.id, v, maxNameIn(2))
		if n <= MaxNameLength {
			require.NoError(t, err, n)
			require.Equal(t, r, got)
		} else {
			require.ErrorIs(t, err, errCorrupt, n)
		}
	}
}

func TestRecordLayoutIsStable(t *testing.T) {
	// The on-disk format must not change by accident: this is versions 1 and 2 byte for byte.
	r := &record{id: 1, name: "n", attrs: Attributes{Flags: 0x8, CheckpointSize: 2, Retention: 3, MaxSections: 4,
		MaxSectionSize: 5, MaxSectionIDSize: 6}, active: true, deadline: 7, gen: 8, lsn: 9, epoch: 10}
	want := []byte{1, 8, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 3, 0, 0, 0, 0, 0, 0, 0, 4, 0, 0, 0,
		5, 0, 0, 0, 0, 0, 0, 0, 6, 0, 0, 0, 0, 0, 0, 0, 2, 7, 0, 0, 0, 0, 0, 0, 0, 8, 0, 0, 0,
		9, 0, 0, 0, 0, 0, 0, 0, 10, 0, 0, 0, 0, 0, 0, 0, 1, 0, 'n'}
	require.Equal(t, want, encodeRecord(r))
	m := &meta{expiration: 1, lastUpdate: 2, size: 3, state: SectionValid, lsn: 4}
	require.Equal(t, []byte{1, 1, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 3, 0, 0, 0, 0, 0, 0, 0, 1,
		4, 0, 0, 0, 0, 0, 0, 0}, encodeMeta(m))
	require.Equal(t, []byte("clckpt\x00\x01\x00\x00\x00"), encodeFormat(1))
	require.Equal(t, []byte("clckpt\x00\x02\x00\x00\x00"), encodeFormat(2))
	require.Equal(t, []byte{'m', 0, 0, 0, 0, 0, 0, 0, 1, 'i', 'd'}, sectionKey(prefixMeta, 1, []byte("id")))
}

func TestRecordDecodeRejectsDamage(t *testing.T) {
	good := encodeRecord(sampleRecord())
	for name, v := range map[string][]byte{
		"empty":         nil,
		"short":         good[:recordFixed-1],
		"version":       append([]byte{2}, good[1:]...),
		"name too long": good[:len(good)-1],
		"trailing":      append(bytes.Clone(good), 'x'),
		"state bits":    func() []byte { b := bytes.Clone(good); b[41] = 0x80; return b }(),
		"maxSections 0": func() []byte { b := bytes.Clone(good); copy(b[21:25], []byte{0, 0, 0, 0}); return b }(),
		"no name":       func() []byte { b := bytes.Clone(good[:recordFixed]); b[70], b[71] = 0, 0; return b }(),
	} {
		_, err := decodeRecord(1, v, MaxNameLength)
		require.ErrorIs(t, err, errCorrupt, name)
	}
}

func TestMetaRoundTripAndDamage(t *testing.T) {
	m := meta{expiration: -5, lastUpdate: time.Now().UnixNano(), size: 12345, state: SectionCorrupted, lsn: 99}
	got, err := decodeMeta(encodeMeta(&m))
	require.NoError(t, err)
	require.Equal(t, m, got)
	good := encodeMeta(&m)
	for name, v := range map[string][]byte{
		"short":   good[:metaSize-1],
		"long":    append(bytes.Clone(good), 0),
		"version": append([]byte{9}, good[1:]...),
		"state":   func() []byte { b := bytes.Clone(good); b[25] = 7; return b }(),
		"size":    func() []byte { b := bytes.Clone(good); b[24] = 0xff; return b }(),
	} {
		_, err := decodeMeta(v)
		require.ErrorIs(t, err, errCorrupt, name)
	}
}

func TestFormatAndKeysDecode(t *testing.T) {
	v, err := decodeFormat(encodeFormat(formatVersion))
	require.NoError(t, err)
	require.Equal(t, uint32(formatVersion), v)
	_, err = decodeFormat([]byte("clckpt\x00"))
	require.ErrorIs(t, err, errCorrupt)
	_, err = decodeFormat([]byte("CLCKPT\x00\x01\x00\x00\x00"))
	require.ErrorIs(t, err, errCorrupt)
	id, sid, err := splitSectionKey(sectionKey(prefixData, 77, []byte("abc")))
	require.NoError(t, err)
	require.Equal(t, uint64(77), id)
	require.Equal(t, "abc", string(sid))
	_, _, err = splitSectionKey([]byte("m123"))
	require.ErrorIs(t, err, errCorrupt)
	_, err = decodeNanos([]byte{1})
	require.ErrorIs(t, err, errCorrupt)
}

// Fuzz targets: every decoder of bytes read from disk must return an error, never panic, and what it
// accepts must encode back to the same bytes.

func FuzzDecodeRecord(f *testing.F) {
	f.Add(encodeRecord(sampleRecord()))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, v []byte) {
		r, err := decodeRecord(1, v, MaxNameLength)
		if err != nil {
			return
		}
		require.Equal(t, v, encodeRecord(r))
	})
}

func FuzzDecodeMeta(f *testing.F) {
	f.Add(encodeMeta(&meta{expiration: 1, state: SectionValid}))
	f.Fuzz(func(t *testing.T, v []byte) {
		m, err := decodeMeta(v)
		if err != nil {
			return
		}
		require.Equal(t, v, encodeMeta(&m))
	})
}

func FuzzDecodeFormat(f *testing.F) {
	f.Add(encodeFormat(formatVersion))
	f.Fuzz(func(t *testing.T, v []byte) {
		if _, err := decodeFormat(v); err == nil {
			require.True(t, bytes.HasPrefix(v, formatMagic))
		}
	})
}

func FuzzSplitSectionKey(f *testing.F) {
	f.Add(sectionKey(prefixMeta, 5, []byte("s")))
	f.Fuzz(func(t *testing.T, k []byte) {
		id, sid, err := splitSectionKey(k)
		if err == nil {
			require.Equal(t, k[1:], sectionKey(k[0], id, sid)[1:])
		}
	})
}
