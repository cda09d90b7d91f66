package engine

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"time"
)

// The on-disk format, version 2. FORMAT.md beside this file describes it; keep the two in step.
//
// Keys (id8 = the checkpoint's 64-bit id, big-endian, so that one checkpoint's keys are contiguous):
//
//	"F"               format record: "clckpt\x00" + uint32 version
//	"H"               heartbeat: int64 ns of the last time the service was known alive
//	"c" id8           checkpoint record
//	"m" id8 sectionID section metadata (the default section has an empty sectionID)
//	"d" id8 sectionID section data (raw bytes)
//
// Integers in values are little-endian. Every record starts with its own version byte.
//
// Version 2 differs from version 1 only in the names a checkpoint record may hold: up to
// MaxNameLength bytes instead of maxNameV1. A store stays at version 1 until a checkpoint with a
// longer name is created (the format record is rewritten in the same batch), so a data directory
// without such names still opens in a build that reads version 1 only, and one with them is
// refused there by its version, not found corrupt.
const (
	formatVersion    = 2
	oldestFormat     = 1
	maxNameV1        = 256
	longNamesVersion = 2 // the first version whose records may hold names above maxNameV1
)

var (
	formatMagic  = []byte("clckpt\x00")
	keyFormat    = []byte("F")
	keyHeartbeat = []byte("H")
)

const (
	prefixRecord  = 'c'
	prefixMeta    = 'm'
	prefixData    = 'd'
	recordVersion = 1
	metaVersion   = 1
	metaSize      = 34
	recordFixed   = 72 // bytes before the name
)

// errCorrupt marks a value that cannot be decoded.
var errCorrupt = errors.New("corrupt record")

func encodeFormat(version uint32) []byte {
	b := append([]byte(nil), formatMagic...)
	return binary.LittleEndian.AppendUint32(b, version)
}

// maxNameIn is the longest name a checkpoint record of a store at format version v may hold.
func maxNameIn(v uint32) int {
	if v < longNamesVersion {
		return maxNameV1
	}
	return MaxNameLength
}

// decodeFormat returns the format version in a format record.
func decodeFormat(v []byte) (uint32, error) {
	if len(v) != len(formatMagic)+4 || !bytes.HasPrefix(v, formatMagic) {
		return 0, fmt.Errorf("%w: not a clckpt format record", errCorrupt)
	}
	return binary.LittleEndian.Uint32(v[len(formatMagic):]), nil
}

func recordKey(id uint64) []byte {
	k := make([]byte, 9)
	k[0] = prefixRecord
	binary.BigEndian.PutUint64(k[1:], id)
	return k
}

func sectionKey(prefix byte, id uint64, section []byte) []byte {
	k := make([]byte, 9+len(section))
	k[0] = prefix
	binary.BigEndian.PutUint64(k[1:], id)
	copy(k[9:], section)
	return k
}

// sectionPrefix is the prefix of every metadata or data key of one checkpoint.
func sectionPrefix(prefix byte, id uint64) []byte { return sectionKey(prefix, id, nil) }

// splitSectionKey returns the checkpoint id and section id of a metadata or data key.
func splitSectionKey(k []byte) (uint64, []byte, error) {
	if len(k) < 9 {
		return 0, nil, fmt.Errorf("%w: short section key", errCorrupt)
	}
	return binary.BigEndian.Uint64(k[1:9]), k[9:], nil
}

// record is the persistent part of a checkpoint.
type record struct {
	id       uint64
	name     string
	attrs    Attributes
	unlinked bool   // deleted while open: destroy at the last close (or at the next start)
	active   bool   // SetActiveReplica was called
	deadline int64  // ns at which retention destroys the checkpoint; 0 when not running
	gen      uint32 // number of the next generated section id
	lsn      uint64 // log sequence number of the last change recorded here
	epoch    uint64 // replication epoch of the replica's content
	// incomplete marks a replica whose content is being replaced by a copy from another member: if
	// the process dies before the copy ends, the next start drops the replica.
	incomplete bool
}

const (
	stateUnlinked   = 1 << 0
	stateActive     = 1 << 1
	stateIncomplete = 1 << 2
	stateAll        = stateUnlinked | stateActive | stateIncomplete
)

func encodeRecord(r *record) []byte {
	b := make([]byte, recordFixed, recordFixed+len(r.name))
	b[0] = recordVersion
	le := binary.LittleEndian
	le.PutUint32(b[1:], uint32(r.attrs.Flags))
	le.PutUint64(b[5:], r.attrs.CheckpointSize)
	le.PutUint64(b[13:], uint64(r.attrs.Retention))
	le.PutUint32(b[21:], r.attrs.MaxSections)
	le.PutUint64(b[25:], r.attrs.MaxSectionSize)
	le.PutUint64(b[33:], r.attrs.MaxSectionIDSize)
	var state byte
	if r.unlinked {
		state |= stateUnlinked
	}
	if r.active {
		state |= stateActive
	}
	if r.incomplete {
		state |= stateIncomplete
	}
	b[41] = state
	le.PutUint64(b[42:], uint64(r.deadline))
	le.PutUint32(b[50:], r.gen)
	le.PutUint64(b[54:], r.lsn)
	le.PutUint64(b[62:], r.epoch)
	le.PutUint16(b[70:], uint16(len(r.name)))
	return append(b, r.name...)
}

// decodeRecord decodes the checkpoint record of id, whose name may have up to maxName bytes (see
// maxNameIn).
func decodeRecord(id uint64, v []byte, maxName int) (*record, error) {
	if len(v) < recordFixed {
		return nil, fmt.Errorf("%w: checkpoint record of %d bytes", errCorrupt, len(v))
	}
	if v[0] != recordVersion {
		return nil, fmt.Errorf("%w: checkpoint record version %d", errCorrupt, v[0])
	}
	le := binary.LittleEndian
	n := int(le.Uint16(v[70:]))
	if len(v) != recordFixed+n || n == 0 || n > maxName {
		return nil, fmt.Errorf("%w: checkpoint record name length %d in %d bytes", errCorrupt, n, len(v))
	}
	if v[41]&^stateAll != 0 {
		return nil, fmt.Errorf("%w: checkpoint record state %#x", errCorrupt, v[41])
	}
	r := &record{
		id:   id,
		name: string(v[recordFixed:]),
		attrs: Attributes{
			Flags:            CreationFlags(le.Uint32(v[1:])),
			CheckpointSize:   le.Uint64(v[5:]),
			Retention:        durationOf(le.Uint64(v[13:])),
			MaxSections:      le.Uint32(v[21:]),
			MaxSectionSize:   le.Uint64(v[25:]),
			MaxSectionIDSize: le.Uint64(v[33:]),
		},
		unlinked:   v[41]&stateUnlinked != 0,
		active:     v[41]&stateActive != 0,
		incomplete: v[41]&stateIncomplete != 0,
		deadline:   int64(le.Uint64(v[42:])),
		gen:        le.Uint32(v[50:]),
		lsn:        le.Uint64(v[54:]),
		epoch:      le.Uint64(v[62:]),
	}
	if r.attrs.MaxSections == 0 {
		return nil, fmt.Errorf("%w: checkpoint record with maxSections 0", errCorrupt)
	}
	return r, nil
}

// meta is the persistent metadata of a section.
type meta struct {
	expiration int64
	lastUpdate int64
	size       uint64
	state      SectionState
	lsn        uint64
}

func encodeMeta(m *meta) []byte {
	b := make([]byte, metaSize)
	b[0] = metaVersion
	le := binary.LittleEndian
	le.PutUint64(b[1:], uint64(m.expiration))
	le.PutUint64(b[9:], uint64(m.lastUpdate))
	le.PutUint64(b[17:], m.size)
	b[25] = byte(m.state)
	le.PutUint64(b[26:], m.lsn)
	return b
}

func decodeMeta(v []byte) (meta, error) {
	if len(v) != metaSize || v[0] != metaVersion {
		return meta{}, fmt.Errorf("%w: section metadata of %d bytes", errCorrupt, len(v))
	}
	le := binary.LittleEndian
	m := meta{
		expiration: int64(le.Uint64(v[1:])),
		lastUpdate: int64(le.Uint64(v[9:])),
		size:       le.Uint64(v[17:]),
		state:      SectionState(v[25]),
		lsn:        le.Uint64(v[26:]),
	}
	if m.state != SectionValid && m.state != SectionCorrupted {
		return meta{}, fmt.Errorf("%w: section state %d", errCorrupt, m.state)
	}
	if m.size > MaxDataSize {
		return meta{}, fmt.Errorf("%w: section size %d", errCorrupt, m.size)
	}
	return m, nil
}

func durationOf(u uint64) time.Duration { return time.Duration(int64(u)) }
