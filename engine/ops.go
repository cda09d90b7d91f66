package engine

import (
	"bytes"
	"context"
	"errors"
	"fmt"

	"github.com/clckpt/libclckpt/engine/store"
)

// OpKind is the kind of change an Op makes.
type OpKind uint8

const (
	OpCreateSection OpKind = 1 + iota
	OpDeleteSection
	OpSetExpiration
	OpOverwrite
	OpWrite
)

// Op is one change to a replica, as the active replica made it, with every value a follower needs
// to make exactly the same change (the generated id, the time stamp, the elements that were valid).
type Op struct {
	LSN        uint64
	Kind       OpKind
	Origin     string         // the handle that made the change ("" for an expiration)
	Request    uint64         // the request that made it (see Caller); 0: none
	Section    []byte         // all kinds but OpWrite
	Expiration int64          // OpCreateSection, OpSetExpiration
	LastUpdate int64          // OpCreateSection, OpOverwrite, OpWrite
	Gen        uint32         // OpCreateSection: the generated-id counter after the creation
	Data       []byte         // OpCreateSection, OpOverwrite
	Writes     []WriteElement // OpWrite
}

// ErrOutOfOrder is returned by Apply when an op does not follow the replica's last one: the replica
// missed ops and must catch up. It never reaches the callers of Service or Checkpoint.
var ErrOutOfOrder = errors.New("op out of order")

// commit gives op the next LSN, applies it, hands it to the sink and tells the subscribers; r.mu is
// held. It returns the sink's wait function.
func (r *Replica) commit(op *Op) (func(context.Context) error, error) {
	if r.fenced != nil {
		return nil, r.fenced
	}
	op.LSN = r.lsn + 1
	if err := r.applyLocked(op); err != nil {
		return nil, err
	}
	var wait func(context.Context) error
	if r.sink != nil {
		wait = r.sink.Emit(op)
	}
	r.notifyOp(op)
	return wait, nil
}

// Apply applies an op made by the active replica. An op already applied is ignored; one that
// skips ops fails with ErrOutOfOrder.
func (r *Replica) Apply(op *Op) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	switch {
	case r.destroyed:
		return errorf(ErrNotExist, "checkpoint %q is destroyed", r.name)
	case op.LSN <= r.lsn:
		return nil
	case op.LSN > r.lsn+1:
		return fmt.Errorf("%w: checkpoint %q at %d received %d", ErrOutOfOrder, r.name, r.lsn, op.LSN)
	}
	if err := r.applyLocked(op); err != nil {
		return err
	}
	r.notifyOp(op)
	return nil
}

// applyLocked makes the change in the store, then in memory; r.mu is held and op.LSN is r.lsn+1.
func (r *Replica) applyLocked(op *Op) error {
	var b store.Batch
	switch op.Kind {
	case OpCreateSection:
		if r.sections[string(op.Section)] != nil {
			return fmt.Errorf("%w: op %d creates section %q, which exists", ErrOutOfOrder, op.LSN, op.Section)
		}
		m := meta{expiration: op.Expiration, lastUpdate: op.LastUpdate, size: uint64(len(op.Data)), state: SectionValid, lsn: op.LSN}
		b.Set(sectionKey(prefixMeta, r.id, op.Section), encodeMeta(&m))
		b.Set(sectionKey(prefixData, r.id, op.Section), op.Data)
		if op.Gen != r.gen {
			rec := r.record()
			rec.gen = op.Gen
			b.Set(recordKey(r.id), encodeRecord(rec))
		}
		if err := r.set.store.Apply(&b); err != nil {
			return storageErr("create section", err)
		}
		r.gen = op.Gen
		r.scheduleExpiry(r.addSection(op.Section, m))

	case OpDeleteSection:
		s := r.sections[string(op.Section)]
		if s == nil {
			return fmt.Errorf("%w: op %d deletes section %q, which does not exist", ErrOutOfOrder, op.LSN, op.Section)
		}
		b.Delete(s.mkey())
		b.Delete(s.dkey())
		rec := r.record()
		rec.lsn = op.LSN
		b.Set(recordKey(r.id), encodeRecord(rec))
		if err := r.set.store.Apply(&b); err != nil {
			return storageErr("delete section", err)
		}
		r.removeSection(s)

	case OpSetExpiration, OpOverwrite:
		s := r.sections[string(op.Section)]
		if s == nil {
			return fmt.Errorf("%w: op %d changes section %q, which does not exist", ErrOutOfOrder, op.LSN, op.Section)
		}
		m := s.meta
		m.lsn = op.LSN
		if op.Kind == OpSetExpiration {
			m.expiration = op.Expiration
		} else {
			m.size, m.lastUpdate = uint64(len(op.Data)), op.LastUpdate
			b.Set(s.dkey(), op.Data)
		}
		b.Set(s.mkey(), encodeMeta(&m))
		if err := r.set.store.Apply(&b); err != nil {
			return storageErr("change section", err)
		}
		r.used += m.size - s.size
		s.meta = m
		if op.Kind == OpSetExpiration {
			r.scheduleExpiry(s)
		}

	case OpWrite:
		if err := r.applyWrite(op); err != nil {
			return err
		}

	default:
		return fmt.Errorf("%w: op %d of unknown kind %d", ErrOutOfOrder, op.LSN, op.Kind)
	}
	r.lsn = op.LSN
	r.requests.add(op)
	return nil
}

// applyWrite builds the new content of every section the elements touch, in order, and stores them
// in one batch.
func (r *Replica) applyWrite(op *Op) error {
	type change struct {
		s    *section
		data []byte
	}
	var changes []*change
	touched := make(map[*section]*change)
	for i := range op.Writes {
		e := &op.Writes[i]
		s := r.sections[string(e.SectionID)]
		if s == nil {
			return fmt.Errorf("%w: op %d writes section %q, which does not exist", ErrOutOfOrder, op.LSN, e.SectionID)
		}
		ch := touched[s]
		if ch == nil {
			ch = &change{s: s}
			err := r.set.store.Get(s.dkey(), func(v []byte) error { ch.data = append(make([]byte, 0, len(v)), v...); return nil })
			if err != nil {
				return storageErr("read section for write", err)
			}
			touched[s] = ch
			changes = append(changes, ch)
		}
		end := int(e.Offset) + len(e.Data)
		if end > len(ch.data) {
			ch.data = append(ch.data, make([]byte, end-len(ch.data))...)
		}
		copy(ch.data[e.Offset:], e.Data)
	}
	var b store.Batch
	metas := make([]meta, len(changes))
	for i, ch := range changes {
		m := ch.s.meta
		m.size, m.lastUpdate, m.lsn = uint64(len(ch.data)), op.LastUpdate, op.LSN
		metas[i] = m
		b.Set(ch.s.mkey(), encodeMeta(&m))
		b.Set(ch.s.dkey(), ch.data)
	}
	if err := r.set.store.Apply(&b); err != nil {
		return storageErr("write sections", err)
	}
	for i, ch := range changes {
		r.used += metas[i].size - ch.s.size
		ch.s.meta = metas[i]
	}
	return nil
}

// notifyOp tells the subscribers about a change to section data (and the followers about a section
// created too); r.mu is held, so updates are posted in LSN order. Only Distributed checkpoints have
// subscribers (Checkpoint.Subscribe); followers (Checkpoint.Follow) may be on any.
func (r *Replica) notifyOp(op *Op) {
	if !r.hasSubscribers() {
		return
	}
	var elems []UpdateElement
	switch op.Kind {
	case OpCreateSection:
		u := Update{Name: r.name, Created: true,
			Elements: []UpdateElement{{SectionID: bytes.Clone(op.Section), Data: bytes.Clone(op.Data)}}}
		r.notify(op.Origin, u)
		return
	case OpOverwrite:
		elems = []UpdateElement{{SectionID: bytes.Clone(op.Section), Data: bytes.Clone(op.Data)}}
	case OpDeleteSection:
		elems = []UpdateElement{{SectionID: bytes.Clone(op.Section)}}
	case OpWrite:
		elems = make([]UpdateElement, len(op.Writes))
		for i, e := range op.Writes {
			elems[i] = UpdateElement{SectionID: bytes.Clone(e.SectionID), Offset: e.Offset, Data: bytes.Clone(e.Data)}
		}
	default:
		return
	}
	r.notify(op.Origin, Update{Name: r.name, Elements: elems})
}
