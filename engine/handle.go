package engine

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"sync/atomic"
	"time"

	"github.com/clckpt/libclckpt/engine/store"
)

// handle is one open of a checkpoint of a Local service. It implements Checkpoint.
type handle struct {
	l      *Local
	c      *checkpoint
	flags  OpenFlags
	closed atomic.Bool
}

var _ Checkpoint = (*handle)(nil)

// access is what a call needs from the handle's open flags.
type access int

const (
	anyAccess access = iota
	writeAccess
	readAccess
)

// begin checks that the handle and the service are usable and that the handle may do the call.
func (h *handle) begin(ctx context.Context, need access) error {
	if h.l.closed.Load() {
		return ErrClosed
	}
	if h.closed.Load() {
		return ErrBadHandle
	}
	if err := ctx.Err(); err != nil {
		return ctxErr(err)
	}
	switch {
	case need == writeAccess && !h.flags.canWrite():
		return errorf(ErrNotPermitted, "checkpoint %q was not opened for writing", h.c.name)
	case need == readAccess && !h.flags.canRead():
		return errorf(ErrNotPermitted, "checkpoint %q was not opened for reading", h.c.name)
	}
	return nil
}

func (h *handle) Name() string { return h.c.name }

func (h *handle) Close() error {
	if !h.closed.CompareAndSwap(false, true) {
		if h.l.closed.Load() {
			return ErrClosed
		}
		return ErrBadHandle
	}
	h.c.unsubscribe(h)
	h.l.mu.Lock()
	defer h.l.mu.Unlock()
	if h.l.closed.Load() {
		return nil // Close of the service already counted this handle as closed
	}
	return h.l.closeHandle(h)
}

func (h *handle) SetRetention(ctx context.Context, d time.Duration) error {
	if err := h.begin(ctx, anyAccess); err != nil {
		return err
	}
	c := h.c
	h.l.mu.Lock()
	defer h.l.mu.Unlock()
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.unlinked {
		return errorf(ErrBadOperation, "checkpoint %q is deleted", c.name)
	}
	r := c.record()
	r.attrs.Retention = d
	if err := h.l.putRecord(r); err != nil {
		return err
	}
	c.attrs.Retention = d
	return nil
}

func (h *handle) Status(ctx context.Context) (Status, error) {
	if err := h.begin(ctx, anyAccess); err != nil {
		return Status{}, err
	}
	c := h.c
	c.mu.RLock()
	defer c.mu.RUnlock()
	if err := c.checkActive(); err != nil {
		return Status{}, err
	}
	return Status{Attributes: c.attrs, NumberOfSections: uint32(c.users), MemoryUsed: c.used}, nil
}

func (h *handle) SetActiveReplica(ctx context.Context) error {
	if err := h.begin(ctx, writeAccess); err != nil {
		return err
	}
	c := h.c
	if !c.attrs.Flags.IsCollocated() {
		return errorf(ErrBadOperation, "checkpoint %q is not collocated", c.name)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.active {
		return nil
	}
	r := c.record()
	r.active = true
	if err := h.l.putRecord(r); err != nil {
		return err
	}
	c.active = true
	return nil
}

func (h *handle) Synchronize(ctx context.Context) error {
	if err := h.begin(ctx, writeAccess); err != nil {
		return err
	}
	c := h.c
	if c.attrs.Flags&WriteAllReplicas != 0 {
		return errorf(ErrBadOperation, "checkpoint %q is written synchronously", c.name)
	}
	c.mu.RLock()
	defer c.mu.RUnlock()
	// A single-process service holds the only replica: there is nothing to wait for.
	return c.checkActive()
}

// generatedID is the id of the n-th generated section: the C API's "generatedSection%d" with its NUL.
func generatedID(n uint32) []byte { return fmt.Appendf(nil, "generatedSection%d\x00", n) }

func (h *handle) CreateSection(ctx context.Context, id []byte, expiration time.Time, data []byte) ([]byte, error) {
	if err := h.begin(ctx, writeAccess); err != nil {
		return nil, err
	}
	c := h.c
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.checkActive(); err != nil {
		return nil, err
	}
	a := &c.attrs
	generated := len(id) == 0
	if !generated {
		if a.MaxSections == 1 {
			return nil, errorf(ErrAlreadyExist, "checkpoint %q has a single, default section", c.name)
		}
		if uint64(len(id)) > a.MaxSectionIDSize {
			return nil, errorf(ErrInvalidParameter, "section id of %d bytes exceeds maxSectionIdSize %d", len(id), a.MaxSectionIDSize)
		}
	}
	if err := checkSize(a, uint64(len(data))); err != nil {
		return nil, err
	}
	if !generated && c.sections[string(id)] != nil {
		return nil, errorf(ErrAlreadyExist, "section %q exists in checkpoint %q", id, c.name)
	}
	if c.users >= int(a.MaxSections) {
		return nil, errorf(ErrNoSpace, "checkpoint %q holds its maximum of %d sections", c.name, a.MaxSections)
	}
	now := h.l.now()
	exp := nanos(expiration)
	if err := checkExpiration(exp, now); err != nil {
		return nil, err
	}
	gen := c.gen
	if generated {
		for id = generatedID(gen); c.sections[string(id)] != nil; id = generatedID(gen) {
			gen++
		}
		gen++
	}
	m := meta{expiration: exp, lastUpdate: msTrunc(now), size: uint64(len(data)), state: SectionValid, lsn: c.lsn + 1}
	var b store.Batch
	mkey, dkey := sectionKey(prefixMeta, c.id, id), sectionKey(prefixData, c.id, id)
	b.Set(mkey, encodeMeta(&m))
	b.Set(dkey, data)
	if generated {
		r := c.record()
		r.gen = gen
		b.Set(recordKey(c.id), encodeRecord(r))
	}
	if err := h.l.store.Apply(&b); err != nil {
		return nil, storageErr("create section", err)
	}
	c.lsn++
	c.gen = gen
	s := c.newSection(id, m)
	c.scheduleExpiry(s)
	return slices.Clone(id), nil
}

// checkSize applies maxSectionSize and the engine's own limit to a section's new size.
func checkSize(a *Attributes, size uint64) error {
	if a.MaxSectionSize != 0 && size > a.MaxSectionSize {
		return errorf(ErrInvalidParameter, "%d bytes exceed maxSectionSize %d", size, a.MaxSectionSize)
	}
	if size > MaxDataSize {
		return errorf(ErrInvalidParameter, "%d bytes exceed the largest section the engine stores (%d)", size, MaxDataSize)
	}
	return nil
}

// checkExpiration refuses an expiration in the past, compared at one-second resolution.
func checkExpiration(exp, now int64) error {
	if exp != neverNanos && exp/int64(time.Second) < now/int64(time.Second) {
		return errorf(ErrInvalidParameter, "expiration %s is in the past", time.Unix(0, exp).UTC().Format(time.RFC3339Nano))
	}
	return nil
}

func (h *handle) DeleteSection(ctx context.Context, id []byte) error {
	if len(id) == 0 {
		return errorf(ErrInvalidParameter, "the default section cannot be deleted")
	}
	if err := h.begin(ctx, writeAccess); err != nil {
		return err
	}
	c := h.c
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.checkActive(); err != nil {
		return err
	}
	s := c.sections[string(id)]
	if s == nil {
		return errorf(ErrNotExist, "no section %q in checkpoint %q", id, c.name)
	}
	if err := c.deleteSection(s); err != nil {
		return err
	}
	c.notify(h, Update{Name: c.name, Elements: []UpdateElement{{SectionID: s.id}}})
	return nil
}

// deleteSection removes s from the store and from c; c.mu is held.
func (c *checkpoint) deleteSection(s *section) error {
	var b store.Batch
	b.Delete(s.mkey)
	b.Delete(s.dkey)
	r := c.record()
	r.lsn = c.lsn + 1
	b.Set(recordKey(c.id), encodeRecord(r))
	if err := c.l.store.Apply(&b); err != nil {
		return storageErr("delete section", err)
	}
	c.lsn++
	c.removeSection(s)
	return nil
}

func (h *handle) SetSectionExpiration(ctx context.Context, id []byte, expiration time.Time) error {
	if len(id) == 0 {
		return errorf(ErrInvalidParameter, "the default section does not expire")
	}
	if err := h.begin(ctx, writeAccess); err != nil {
		return err
	}
	c := h.c
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.checkActive(); err != nil {
		return err
	}
	if c.attrs.MaxSections == 1 {
		return errorf(ErrInvalidParameter, "checkpoint %q has a single, default section", c.name)
	}
	exp := nanos(expiration)
	if err := checkExpiration(exp, h.l.now()); err != nil {
		return err
	}
	s := c.sections[string(id)]
	if s == nil {
		return errorf(ErrNotExist, "no section %q in checkpoint %q", id, c.name)
	}
	m := s.meta
	m.expiration = exp
	m.lsn = c.lsn + 1
	var b store.Batch
	b.Set(s.mkey, encodeMeta(&m))
	if err := h.l.store.Apply(&b); err != nil {
		return storageErr("set section expiration", err)
	}
	c.lsn++
	s.meta = m
	c.scheduleExpiry(s)
	return nil
}

func (h *handle) Overwrite(ctx context.Context, id []byte, data []byte) error {
	if len(data) == 0 {
		return errorf(ErrInvalidParameter, "overwrite with no data")
	}
	if err := h.begin(ctx, writeAccess); err != nil {
		return err
	}
	c := h.c
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.checkActive(); err != nil {
		return err
	}
	if len(id) == 0 && c.attrs.MaxSections > 1 {
		return errorf(ErrInvalidParameter, "checkpoint %q has no default section: a section id is required", c.name)
	}
	if err := checkSize(&c.attrs, uint64(len(data))); err != nil {
		return err
	}
	s, err := c.lookup(id, ErrInvalidParameter)
	if err != nil {
		return err
	}
	m := s.meta
	m.size = uint64(len(data))
	m.lastUpdate = msTrunc(h.l.now())
	m.lsn = c.lsn + 1
	var b store.Batch
	b.Set(s.mkey, encodeMeta(&m))
	b.Set(s.dkey, data)
	if err := h.l.store.Apply(&b); err != nil {
		return storageErr("overwrite section", err)
	}
	c.lsn++
	c.used += m.size - s.size
	s.meta = m
	if c.hasSubscribers() {
		c.notify(h, Update{Name: c.name, Elements: []UpdateElement{{SectionID: s.id, Data: bytes.Clone(data)}}})
	}
	return nil
}

func (h *handle) Write(ctx context.Context, elems []WriteElement) error {
	if len(elems) == 0 {
		return errorf(ErrInvalidParameter, "write of no elements")
	}
	if err := h.begin(ctx, writeAccess); err != nil {
		return err
	}
	c := h.c
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.checkActive(); err != nil {
		return err
	}
	// Elements apply in order and the first bad one stops the write: build the new content of every
	// section the good prefix touches, then store it in one batch.
	type change struct {
		s    *section
		data []byte
	}
	var changes []*change
	touched := make(map[*section]*change)
	var failed error
	applied := 0
	for i := range elems {
		e := &elems[i]
		s, err := c.checkWrite(e)
		if err != nil {
			failed = &ElementError{Index: i, Err: err}
			break
		}
		ch := touched[s]
		if ch == nil {
			ch = &change{s: s}
			err := h.l.store.Get(s.dkey, func(v []byte) error { ch.data = append(make([]byte, 0, len(v)), v...); return nil })
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
		applied = i + 1
	}
	if applied == 0 {
		return failed
	}
	lastUpdate := msTrunc(h.l.now())
	var b store.Batch
	metas := make([]meta, len(changes))
	for i, ch := range changes {
		m := ch.s.meta
		m.size = uint64(len(ch.data))
		m.lastUpdate = lastUpdate
		m.lsn = c.lsn + 1
		metas[i] = m
		b.Set(ch.s.mkey, encodeMeta(&m))
		b.Set(ch.s.dkey, ch.data)
	}
	if err := h.l.store.Apply(&b); err != nil {
		return storageErr("write sections", err)
	}
	c.lsn++
	for i, ch := range changes {
		c.used += metas[i].size - ch.s.size
		ch.s.meta = metas[i]
	}
	if c.hasSubscribers() {
		u := Update{Name: c.name, Elements: make([]UpdateElement, applied)}
		for i := range u.Elements {
			e := &elems[i]
			u.Elements[i] = UpdateElement{SectionID: c.sections[string(e.SectionID)].id, Offset: e.Offset, Data: bytes.Clone(e.Data)}
		}
		c.notify(h, u)
	}
	return failed
}

// checkWrite validates one element of a vector write and returns its section; c.mu is held.
func (c *checkpoint) checkWrite(e *WriteElement) (*section, error) {
	if e.Offset < 0 {
		return nil, errorf(ErrInvalidParameter, "negative offset %d", e.Offset)
	}
	max := c.attrs.MaxSectionSize
	if max != 0 && (uint64(e.Offset) > max || uint64(e.Offset)+uint64(len(e.Data)) > max) {
		return nil, errorf(ErrInvalidParameter, "%d bytes at offset %d exceed maxSectionSize %d", len(e.Data), e.Offset, max)
	}
	if e.Offset > MaxDataSize || e.Offset+int64(len(e.Data)) > MaxDataSize {
		return nil, errorf(ErrInvalidParameter, "%d bytes at offset %d exceed the largest section the engine stores (%d)", len(e.Data), e.Offset, MaxDataSize)
	}
	return c.lookup(e.SectionID, ErrInvalidParameter)
}

func (h *handle) Read(ctx context.Context, elems []ReadElement) error {
	if len(elems) == 0 {
		return errorf(ErrInvalidParameter, "read of no elements")
	}
	if err := h.begin(ctx, readAccess); err != nil {
		return err
	}
	c := h.c
	c.mu.RLock()
	defer c.mu.RUnlock()
	if err := c.checkActive(); err != nil {
		return err
	}
	// Check every element before copying anything: a failed read leaves every buffer untouched.
	var one [1]*section
	secs := one[:0]
	if len(elems) > 1 {
		secs = make([]*section, 0, len(elems))
	}
	for i := range elems {
		s, err := c.checkRead(&elems[i])
		if err != nil {
			return &ElementError{Index: i, Err: err}
		}
		secs = append(secs, s)
	}
	for i := range elems {
		e, s := &elems[i], secs[i]
		n := 0
		if uint64(e.Offset) < s.size {
			n = int(s.size - uint64(e.Offset))
			if e.Buffer != nil && len(e.Buffer) < n {
				n = len(e.Buffer)
			}
		}
		if e.Buffer == nil {
			e.Buffer = make([]byte, n)
		}
		if n > 0 {
			off := int(e.Offset)
			err := h.l.store.Get(s.dkey, func(v []byte) error {
				if len(v) < off+n {
					return fmt.Errorf("%w: section %q holds %d bytes, metadata says %d", errCorrupt, s.id, len(v), s.size)
				}
				copy(e.Buffer[:n], v[off:off+n])
				return nil
			})
			if err != nil {
				return storageErr("read section", err)
			}
		}
		e.ReadSize = n
	}
	return nil
}

// checkRead validates one element of a vector read and returns its section; c.mu is held.
func (c *checkpoint) checkRead(e *ReadElement) (*section, error) {
	if len(e.SectionID) == 0 && c.attrs.MaxSections > 1 {
		return nil, errorf(ErrMissingArgument, "checkpoint %q has no default section: a section id is required", c.name)
	}
	if e.Offset < 0 {
		return nil, errorf(ErrInvalidParameter, "negative offset %d", e.Offset)
	}
	max := c.attrs.MaxSectionSize
	if max != 0 && uint64(len(e.Buffer)) > max {
		return nil, errorf(ErrInvalidParameter, "read of %d bytes exceeds maxSectionSize %d", len(e.Buffer), max)
	}
	if max != 0 && uint64(e.Offset) > max {
		return nil, errorf(ErrInvalidParameter, "offset %d exceeds maxSectionSize %d", e.Offset, max)
	}
	return c.lookup(e.SectionID, ErrMissingArgument)
}

func (h *handle) Sections(ctx context.Context, filter SectionFilter, t time.Time) (SectionIterator, error) {
	if filter < SectionsForever || filter > SectionsAny {
		return nil, errorf(ErrInvalidParameter, "section filter %d", filter)
	}
	if err := h.begin(ctx, anyAccess); err != nil {
		return nil, err
	}
	c := h.c
	c.mu.RLock()
	defer c.mu.RUnlock()
	if err := c.checkActive(); err != nil {
		return nil, err
	}
	if c.attrs.MaxSections == 1 && c.users == 0 {
		return nil, errorf(ErrNotPermitted, "checkpoint %q holds only its default section", c.name)
	}
	at := nanos(t)
	var ids [][]byte
	for _, s := range c.sections {
		if len(s.id) > 0 && filter.matches(&s.meta, at) {
			ids = append(ids, s.id)
		}
	}
	slices.SortFunc(ids, bytes.Compare)
	return &iterator{h: h, ids: ids}, nil
}

func (f SectionFilter) matches(m *meta, at int64) bool {
	switch f {
	case SectionsForever:
		return m.expiration == neverNanos
	case SectionsExpiringNoLaterThan:
		return m.expiration <= at
	case SectionsExpiringNoEarlierThan:
		return m.expiration >= at
	case SectionsCorrupted:
		return m.state == SectionCorrupted
	}
	return true
}

func (h *handle) Subscribe(fn func(Update)) error {
	if err := h.begin(context.Background(), anyAccess); err != nil {
		return err
	}
	c := h.c
	if c.attrs.Flags&Distributed == 0 {
		return errorf(ErrNotPermitted, "checkpoint %q is not distributed", c.name)
	}
	c.subscribe(h, fn)
	return nil
}
