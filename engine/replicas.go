package engine

import (
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"sync/atomic"

	"github.com/clckpt/libclckpt/engine/clock"
	"github.com/clckpt/libclckpt/engine/store"
)

// ReplicasOptions configure OpenReplicas.
type ReplicasOptions struct {
	Store  store.Store  // required; the caller keeps ownership
	Clock  clock.Clock  // default: the system clock
	Logger *slog.Logger // default: discarded
}

// Replicas is the set of replicas in one store, loaded at open. The single-process service (Local)
// and the replication member both keep their checkpoints in one.
type Replicas struct {
	store    store.Store
	format   atomic.Uint32 // the store's format version (see maxNameIn)
	clock    clock.Clock
	log      *slog.Logger
	closed   atomic.Bool
	delivery sync.WaitGroup // running notification goroutines

	mu   sync.Mutex
	byID map[uint64]*Replica
}

// OpenReplicas checks the store's format and loads its replicas. A replica whose copy from another
// member was interrupted, and sections whose checkpoint is gone, are removed.
func OpenReplicas(o ReplicasOptions) (*Replicas, error) {
	s := &Replicas{store: o.Store, clock: o.Clock, log: o.Logger, byID: make(map[uint64]*Replica)}
	if s.clock == nil {
		s.clock = clock.Real{}
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if err := s.checkFormat(); err != nil {
		return nil, err
	}
	if err := s.load(); err != nil {
		return nil, err
	}
	return s, nil
}

// checkFormat refuses a store written in another format, or by something else. A store of an older
// version this build reads keeps its version until a change needs the newer one (see Create).
func (s *Replicas) checkFormat() error {
	var version uint32
	err := s.store.Get(keyFormat, func(v []byte) (err error) { version, err = decodeFormat(v); return })
	switch {
	case err == nil && version >= oldestFormat && version <= formatVersion:
		s.format.Store(version)
		return nil
	case err == nil:
		return fmt.Errorf("%w: the data directory has format version %d; this build reads versions %d to %d",
			ErrStorage, version, oldestFormat, formatVersion)
	case !errors.Is(err, store.ErrNotFound):
		return storageErr("read format record", err)
	}
	empty := true
	if err := s.store.Scan(nil, func(k, v []byte) error { empty = false; return errStopScan }); err != nil && !errors.Is(err, errStopScan) {
		return storageErr("inspect data directory", err)
	}
	if !empty {
		return fmt.Errorf("%w: the data directory holds data that clckpt did not write (no format record)", ErrStorage)
	}
	var b store.Batch
	b.Set(keyFormat, encodeFormat(oldestFormat))
	if err := s.store.Apply(&b); err != nil {
		return storageErr("write format record", err)
	}
	s.format.Store(oldestFormat)
	return nil
}

var errStopScan = errors.New("stop scan")

func (s *Replicas) load() error {
	err := s.store.Scan([]byte{prefixRecord}, func(k, v []byte) error {
		if len(k) != 9 {
			return fmt.Errorf("%w: checkpoint key of %d bytes", errCorrupt, len(k))
		}
		id := binary.BigEndian.Uint64(k[1:])
		rec, err := decodeRecord(id, v, maxNameIn(s.format.Load()))
		if err != nil {
			return fmt.Errorf("checkpoint %016x: %w", id, err)
		}
		s.byID[id] = newReplica(s, rec)
		return nil
	})
	if err != nil {
		return storageErr("load checkpoints", err)
	}
	var orphans [][]byte
	err = s.store.Scan([]byte{prefixMeta}, func(k, v []byte) error {
		id, sid, err := splitSectionKey(k)
		if err != nil {
			return err
		}
		r := s.byID[id]
		if r == nil {
			orphans = append(orphans, append([]byte(nil), k...))
			return nil
		}
		m, err := decodeMeta(v)
		if err != nil {
			return fmt.Errorf("checkpoint %q section %q: %w", r.name, sid, err)
		}
		r.addSection(sid, m)
		r.lsn = max(r.lsn, m.lsn)
		return nil
	})
	if err != nil {
		return storageErr("load sections", err)
	}
	if err := s.removeOrphans(orphans); err != nil {
		return err
	}
	for _, r := range s.byID {
		if r.incomplete {
			s.log.Warn("dropping a replica whose copy was interrupted", "name", r.name)
			if err := s.Destroy(r); err != nil {
				return err
			}
		}
	}
	return nil
}

// destroyChunk bounds the keys deleted by one batch when a replica is destroyed.
const destroyChunk = 512

// removeOrphans deletes metadata keys (and their data) whose checkpoint record is gone.
func (s *Replicas) removeOrphans(keys [][]byte) error {
	var b store.Batch
	for i, k := range keys {
		b.Delete(k)
		d := append([]byte(nil), k...)
		d[0] = prefixData
		b.Delete(d)
		if b.Len() >= destroyChunk || i == len(keys)-1 {
			if err := s.store.Apply(&b); err != nil {
				return storageErr("remove orphan sections", err)
			}
			b.Reset()
		}
	}
	return nil
}

// Get returns the replica of checkpoint id, or nil.
func (s *Replicas) Get(id uint64) *Replica {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.byID[id]
}

// Len returns the number of replicas.
func (s *Replicas) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.byID)
}

// All returns every replica.
func (s *Replicas) All() []*Replica {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]*Replica, 0, len(s.byID))
	for _, r := range s.byID {
		out = append(out, r)
	}
	return out
}

// NewID returns a random checkpoint id that no replica here uses.
func (s *Replicas) NewID() uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	for {
		if id := rand.Uint64(); id != 0 && s.byID[id] == nil {
			return id
		}
	}
}

// Create makes an empty replica of a checkpoint (with its default section when maxSections is 1).
// incomplete marks a replica about to receive a copy of another member's (see Install).
func (s *Replicas) Create(id uint64, name string, attrs Attributes, epoch uint64, incomplete bool) (*Replica, error) {
	if err := checkName(name); err != nil {
		return nil, err
	}
	if attrs.MaxSections == 0 {
		return nil, ErrMaxSectionsZero
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed.Load() {
		return nil, ErrClosed
	}
	if s.byID[id] != nil {
		return nil, errorf(ErrAlreadyExist, "a replica of checkpoint %016x exists", id)
	}
	r := newReplica(s, &record{id: id, name: name, attrs: attrs, epoch: epoch, incomplete: incomplete})
	var b store.Batch
	upgrade := len(name) > maxNameIn(s.format.Load())
	if upgrade { // the name needs a newer format: the record and the version go in one batch
		b.Set(keyFormat, encodeFormat(longNamesVersion))
	}
	b.Set(recordKey(id), encodeRecord(r.record()))
	if attrs.MaxSections == 1 && !incomplete {
		// The default section exists from the start, empty, and never expires.
		sec := r.addSection(nil, meta{expiration: neverNanos, lastUpdate: msTrunc(s.clock.Now().UnixNano()), state: SectionValid})
		b.Set(sec.mkey(), encodeMeta(&sec.meta))
		b.Set(sec.dkey(), nil)
	}
	if err := s.store.Apply(&b); err != nil {
		return nil, storageErr("create checkpoint", err)
	}
	if upgrade {
		s.format.Store(longNamesVersion)
	}
	s.byID[id] = r
	return r, nil
}

// Destroy removes a replica and its data. The record goes first, in a batch of its own, so that a
// crash in the middle leaves only orphan sections, which the next start removes.
func (s *Replicas) Destroy(r *Replica) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.destroyed {
		return nil
	}
	var b store.Batch
	b.Delete(recordKey(r.id))
	if err := s.store.Apply(&b); err != nil {
		return storageErr("delete checkpoint record", err)
	}
	r.destroyed = true
	s.mu.Lock()
	delete(s.byID, r.id)
	s.mu.Unlock()
	r.stopTimers()
	r.closeSubscriptions()
	b.Reset()
	for _, sec := range r.sections {
		b.Delete(sec.mkey())
		b.Delete(sec.dkey())
		if b.Len() >= destroyChunk {
			if err := s.store.Apply(&b); err != nil {
				s.log.Warn("destroy: section data left for the next start", "name", r.name, "err", err)
				return nil
			}
			b.Reset()
		}
	}
	if b.Len() > 0 {
		if err := s.store.Apply(&b); err != nil {
			s.log.Warn("destroy: section data left for the next start", "name", r.name, "err", err)
		}
	}
	r.sections = nil
	return nil
}

// Close stops every timer and subscription and waits for deliveries in progress. The store stays
// open. Replicas must not be used afterwards.
func (s *Replicas) Close() {
	if s.closed.Swap(true) {
		return
	}
	for _, r := range s.All() {
		r.mu.Lock()
		r.stopTimers()
		r.expiring = false
		r.closeSubscriptions()
		r.mu.Unlock()
	}
	s.delivery.Wait()
}
