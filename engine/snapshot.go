package engine

import (
	"bytes"
	"errors"
	"fmt"

	"github.com/clckpt/libclckpt/engine/store"
)

// SnapshotHeader describes a replica at the point a snapshot was cut.
type SnapshotHeader struct {
	ID    uint64
	Name  string
	Attrs Attributes
	Epoch uint64
	LSN   uint64 // the last op the snapshot contains
	Gen   uint32
	// Requests are the requests the replica remembers among the ops the snapshot contains
	// (requests.go): a retry that reaches the copy is then not applied twice.
	Requests []SnapshotRequest
}

// SnapshotRequest is one remembered request and its outcome.
type SnapshotRequest struct {
	ID      uint64
	LSN     uint64
	Section []byte // a section creation: the section created
	Written int    // a write: the elements written
}

// SnapshotSection is one section of a snapshot.
type SnapshotSection struct {
	ID         []byte
	Expiration int64
	LastUpdate int64
	State      SectionState
	LSN        uint64
	Data       []byte
}

// Snapshot cuts a consistent copy of the replica from one view of the store, without blocking
// writers: fn receives the header first, then every section, in id order. The slices passed to fn
// are only valid during the call.
func (r *Replica) Snapshot(header func(SnapshotHeader) error, section func(*SnapshotSection) error) error {
	return r.set.store.View(r.snapshotFrom(header, section))
}

// snapshotFrom returns Snapshot's work on a view of the store, so that several replicas can be cut
// from one view.
func (r *Replica) snapshotFrom(header func(SnapshotHeader) error, section func(*SnapshotSection) error) func(v store.Reader) error {
	return func(v store.Reader) error {
		var rec *record
		err := v.Get(recordKey(r.id), func(b []byte) (err error) { rec, err = decodeRecord(r.id, b, maxNameIn(r.set.format.Load())); return })
		if err != nil {
			return fmt.Errorf("%w: snapshot of checkpoint %q: %w", ErrNotExist, r.name, err)
		}
		h := SnapshotHeader{ID: r.id, Name: rec.name, Attrs: rec.attrs, Epoch: rec.epoch, LSN: rec.lsn, Gen: rec.gen}
		var secs []SnapshotSection
		err = v.Scan(sectionPrefix(prefixMeta, r.id), func(k, b []byte) error {
			_, sid, err := splitSectionKey(k)
			if err != nil {
				return err
			}
			m, err := decodeMeta(b)
			if err != nil {
				return err
			}
			secs = append(secs, SnapshotSection{ID: append([]byte(nil), sid...), Expiration: m.expiration,
				LastUpdate: m.lastUpdate, State: m.state, LSN: m.lsn})
			h.LSN = max(h.LSN, m.lsn)
			return nil
		})
		if err != nil {
			return storageErr("snapshot sections", err)
		}
		r.mu.Lock()
		h.Requests = r.requests.upTo(h.LSN)
		r.mu.Unlock()
		if err := header(h); err != nil {
			return err
		}
		for i := range secs {
			s := &secs[i]
			err := v.Get(sectionKey(prefixData, r.id, s.ID), func(b []byte) error {
				s.Data = b
				return section(s)
			})
			if err != nil {
				return err
			}
		}
		return nil
	}
}

// installBatch bounds the bytes written by one batch while a snapshot is installed.
const installBatch = 4 << 20

// Install replaces the replica of h.ID (if any) with a snapshot, reading its sections from next
// until next returns nil. Until the last section is stored the replica is marked incomplete, so a
// crash in the middle leaves nothing half-copied behind: the next start drops it.
func (s *Replicas) Install(h SnapshotHeader, next func() (*SnapshotSection, error)) (*Replica, error) {
	if old := s.Get(h.ID); old != nil {
		if err := s.Destroy(old); err != nil {
			return nil, err
		}
	}
	r, err := s.Create(h.ID, h.Name, h.Attrs, h.Epoch, true)
	if err != nil {
		return nil, err
	}
	if err := s.fill(r, h, next); err != nil {
		_ = s.Destroy(r)
		return nil, err
	}
	return r, nil
}

// fill stores the snapshot's sections into the new replica r, then marks it complete.
func (s *Replicas) fill(r *Replica, h SnapshotHeader, next func() (*SnapshotSection, error)) error {
	if err := s.fillSections(r, next); err != nil {
		return err
	}
	return s.complete(r, h, nil)
}

// fillSections stores the sections read from next into the new, incomplete replica r.
func (s *Replicas) fillSections(r *Replica, next func() (*SnapshotSection, error)) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	var b store.Batch
	limit := installBatch
	for {
		sec, err := next()
		if err != nil {
			return err
		}
		if sec == nil {
			break
		}
		m := meta{expiration: sec.Expiration, lastUpdate: sec.LastUpdate, size: uint64(len(sec.Data)), state: sec.State, lsn: sec.LSN}
		added := r.addSection(sec.ID, m)
		b.Set(added.mkey(), encodeMeta(&m))
		b.Set(added.dkey(), sec.Data)
		if b.Size() >= limit {
			fitted, err := applyInPieces(s.store, &b)
			if err != nil {
				return storageErr("install snapshot", err)
			}
			if fitted > 0 { // the store takes less at once (many small sections): send it less
				limit = fitted
			}
			b.Reset()
		}
	}
	if b.Len() == 0 {
		return nil
	}
	if _, err := applyInPieces(s.store, &b); err != nil {
		return storageErr("install snapshot", err)
	}
	return nil
}

// complete marks the filled replica r complete at h's position by writing its record, in one batch
// with what extra adds (nil: nothing).
func (s *Replicas) complete(r *Replica, h SnapshotHeader, extra func(b *store.Batch)) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	var b store.Batch
	if extra != nil {
		extra(&b)
	}
	r.gen, r.lsn, r.incomplete = h.Gen, h.LSN, false
	for _, q := range h.Requests {
		r.requests.put(q.ID, requestOutcome{lsn: q.LSN, section: bytes.Clone(q.Section), written: q.Written})
	}
	b.Set(recordKey(r.id), encodeRecord(r.record()))
	if err := s.store.Apply(&b); err != nil { // the record last, at once: the replica is complete
		r.incomplete = true
		return storageErr("install snapshot", err)
	}
	return nil
}

// applyInPieces applies b, halving it as often as the store finds a piece too big for one atomic
// write (ErrTooBig: a store bounds its transactions, Badger by a share of its memtable): for work
// where each piece must be atomic but not the whole, such as an install, whose replica is only
// complete once its record is written. It returns the size of the largest piece applied when b
// had to be split (0 when it went in whole). The order of b's operations is kept.
func applyInPieces(st store.Store, b *store.Batch) (int, error) {
	err := st.Apply(b)
	if !errors.Is(err, store.ErrTooBig) || b.Len() < 2 {
		return 0, err
	}
	ops := b.Ops()
	fitted := 0
	for _, part := range [][]store.Op{ops[:len(ops)/2], ops[len(ops)/2:]} {
		var p store.Batch
		for _, op := range part {
			if op.Delete {
				p.Delete(op.Key)
			} else {
				p.Set(op.Key, op.Value)
			}
		}
		f, err := applyInPieces(st, &p)
		if err != nil {
			return 0, err
		}
		if f == 0 {
			f = p.Size()
		}
		fitted = max(fitted, f)
	}
	return fitted, nil
}
