package engine

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/clckpt/libclckpt/engine/clock"
	"github.com/clckpt/libclckpt/engine/store"
)

// Replica is one checkpoint's content in a store: attributes, sections and their data. Every change
// to it is an Op with the next log sequence number (LSN), applied under the replica's lock; the same
// code applies an op made here (the calls below, which validate first) and an op received from the
// active replica of another member (Apply). Ops that the caller should wait for are handed to the
// replica's Sink, which replicates them.
//
// The calls below do not check open flags or the active replica: the handle layer (Local, or the
// replication member) does, before calling. origin names the handle making a change; subscribers
// registered under the same key do not hear about it.
type Replica struct {
	set  *Replicas
	id   uint64
	name string

	mu         sync.RWMutex
	attrs      Attributes
	epoch      uint64
	lsn        uint64
	gen        uint32
	active     bool  // SetActiveReplica was called (single-process service)
	unlinked   bool  // deleted while open (single-process service)
	deadline   int64 // retention deadline (single-process service)
	incomplete bool
	sections   map[string]*section
	users      int    // sections other than the default one
	used       uint64 // bytes in all sections
	destroyed  bool
	expiring   bool // this replica runs expiration timers
	sink       Sink
	fenced     error      // set by FenceWrites: every change fails with it, before it is made
	requests   requestLog // the recent requests applied here (requests.go)

	subMu sync.Mutex
	subs  map[string]*mailbox
}

// section is the in-memory metadata of one section; the data stays in the store.
type section struct {
	key []byte // metadata key: prefixMeta, checkpoint id, section id (kept small: one per section)
	meta
	timer clock.Timer // expiration, while the replica is expiring
}

// Sink receives every op of a replica, in LSN order, while the replica's lock is held. The op and
// its slices are only valid during Emit. The function Emit returns (nil for none) runs after the
// lock is released and before the change is reported to its caller; its error is the call's error.
type Sink interface {
	Emit(op *Op) func(ctx context.Context) error
	// Await returns what the caller of an op made earlier waits for before it returns, as Emit
	// does (nil: nothing); it answers a retried request.
	Await(lsn uint64) func(ctx context.Context) error
}

func newReplica(set *Replicas, r *record) *Replica {
	return &Replica{
		set: set, id: r.id, name: r.name,
		attrs: r.attrs, epoch: r.epoch, lsn: r.lsn, gen: r.gen,
		active: r.active, unlinked: r.unlinked, deadline: r.deadline, incomplete: r.incomplete,
		sections: make(map[string]*section),
	}
}

// ID is the checkpoint's id: random, chosen at creation, never reused.
func (r *Replica) ID() uint64 { return r.id }

// Name is the checkpoint's name.
func (r *Replica) Name() string { return r.name }

// Attributes returns the checkpoint's attributes.
func (r *Replica) Attributes() Attributes {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.attrs
}

// Position returns the replication epoch and the LSN of the last op applied.
func (r *Replica) Position() (epoch, lsn uint64) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.epoch, r.lsn
}

// record returns the persistent part of r; r.mu is held.
func (r *Replica) record() *record {
	return &record{id: r.id, name: r.name, attrs: r.attrs, unlinked: r.unlinked, active: r.active,
		deadline: r.deadline, gen: r.gen, lsn: r.lsn, epoch: r.epoch, incomplete: r.incomplete}
}

// updateRecord changes fields of the persistent record, in the store first.
func (r *Replica) updateRecord(change func(rec *record)) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.destroyed {
		return errorf(ErrNotExist, "checkpoint %q is destroyed", r.name)
	}
	rec := r.record()
	change(rec)
	var b store.Batch
	b.Set(recordKey(r.id), encodeRecord(rec))
	if err := r.set.store.Apply(&b); err != nil {
		return storageErr("write checkpoint record", err)
	}
	r.attrs, r.unlinked, r.active, r.deadline, r.epoch, r.incomplete = rec.attrs, rec.unlinked, rec.active, rec.deadline, rec.epoch, rec.incomplete
	return nil
}

// SetEpoch records the replication epoch the replica's content belongs to.
func (r *Replica) SetEpoch(epoch uint64) error {
	return r.updateRecord(func(rec *record) { rec.epoch = epoch })
}

// SetSink sets the replica's sink (it becomes the active replica), and lifts a fence.
func (r *Replica) SetSink(s Sink) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.sink = s
	r.fenced = nil
}

// Detach removes the sink and fences the replica with err, in one step: a replica that stops being
// the active must not take a change of its own that nobody replicates. A call that found the replica
// while it was active, and reaches it only now, fails with err (its caller retries where the role
// went) instead of being acknowledged here alone. Ops of another active (Apply) still apply.
func (r *Replica) Detach(err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.sink = nil
	r.fenced = err
}

// FenceWrites makes every later change fail with err before it is made (until SetSink), and
// returns the LSN of the last change made: the replica's content stops there. A change in progress
// finishes first.
func (r *Replica) FenceWrites(err error) uint64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.fenced = err
	return r.lsn
}

// addSection adds a section to the map (not to the store); r.mu is held or r is not shared yet.
func (r *Replica) addSection(id []byte, m meta) *section {
	s := &section{key: sectionKey(prefixMeta, r.id, id), meta: m}
	r.sections[string(id)] = s
	if len(id) > 0 {
		r.users++
	}
	r.used += m.size
	return s
}

// sid is the section's id (empty for the default section).
func (s *section) sid() []byte { return s.key[9:] }

// mkey is the key of the section's metadata.
func (s *section) mkey() []byte { return s.key }

// dkey is the key of the section's data; a new slice each time (the store may keep it).
func (s *section) dkey() []byte {
	k := bytes.Clone(s.key)
	k[0] = prefixData
	return k
}

// removeSection drops s from the map; r.mu is held.
func (r *Replica) removeSection(s *section) {
	if s.timer != nil {
		s.timer.Stop()
		s.timer = nil
	}
	delete(r.sections, string(s.sid()))
	if len(s.sid()) > 0 {
		r.users--
	}
	r.used -= s.size
}

// lookup finds the section a caller names; an empty id is the default section, which only
// single-section checkpoints have (noDefault is the error otherwise). r.mu is held.
func (r *Replica) lookup(id []byte, noDefault error) (*section, error) {
	if len(id) == 0 && r.attrs.MaxSections > 1 {
		return nil, errorf(noDefault, "checkpoint %q has no default section: a section id is required", r.name)
	}
	s := r.sections[string(id)]
	if s == nil {
		return nil, errorf(ErrNotExist, "no section %q in checkpoint %q", id, r.name)
	}
	return s, nil
}

// begin locks r for a change and fails when it is gone.
func (r *Replica) begin() error {
	r.mu.Lock()
	if r.destroyed {
		r.mu.Unlock()
		return errorf(ErrNotExist, "checkpoint %q is destroyed", r.name)
	}
	return nil
}

// finish unlocks r and waits for the sink, if it asked to be waited for.
func (r *Replica) finish(ctx context.Context, wait func(context.Context) error, err error) error {
	r.mu.Unlock()
	if err != nil || wait == nil {
		return err
	}
	return wait(ctx)
}

func (r *Replica) now() int64 { return r.set.clock.Now().UnixNano() }

// generatedID is the id of the n-th generated section: the C API's "generatedSection%d" with its NUL.
func generatedID(n uint32) []byte { return fmt.Appendf(nil, "generatedSection%d\x00", n) }

// CreateSection creates a section (see Checkpoint.CreateSection) and returns its id.
func (r *Replica) CreateSection(ctx context.Context, by Caller, id []byte, expiration time.Time, data []byte) ([]byte, error) {
	if err := r.begin(); err != nil {
		return nil, err
	}
	if o, wait, ok := r.repeated(by); ok {
		if err := r.finish(ctx, wait, nil); err != nil {
			return nil, err
		}
		return slices.Clone(o.section), nil
	}
	op, err := r.prepareCreate(by, id, nanos(expiration), data)
	var wait func(context.Context) error
	if err == nil {
		wait, err = r.commit(op)
	}
	if err := r.finish(ctx, wait, err); err != nil {
		return nil, err
	}
	return slices.Clone(op.Section), nil
}

func (r *Replica) prepareCreate(by Caller, id []byte, exp int64, data []byte) (*Op, error) {
	a := &r.attrs
	generated := len(id) == 0
	if !generated {
		if a.MaxSections == 1 {
			return nil, errorf(ErrAlreadyExist, "checkpoint %q has a single, default section", r.name)
		}
		if uint64(len(id)) > min(a.MaxSectionIDSize, MaxSectionIDLength) {
			return nil, errorf(ErrInvalidParameter, "section id of %d bytes exceeds maxSectionIdSize %d (or %d)",
				len(id), a.MaxSectionIDSize, MaxSectionIDLength)
		}
	}
	if err := checkSize(a, uint64(len(data))); err != nil {
		return nil, err
	}
	if !generated && r.sections[string(id)] != nil {
		return nil, errorf(ErrAlreadyExist, "section %q exists in checkpoint %q", id, r.name)
	}
	if r.users >= int(a.MaxSections) {
		return nil, errorf(ErrNoSpace, "checkpoint %q holds its maximum of %d sections", r.name, a.MaxSections)
	}
	now := r.now()
	if err := checkExpiration(exp, now); err != nil {
		return nil, err
	}
	gen := r.gen
	if generated {
		for id = generatedID(gen); r.sections[string(id)] != nil; id = generatedID(gen) {
			gen++
		}
		gen++
	}
	return &Op{Kind: OpCreateSection, Origin: by.Origin, Request: by.Request, Section: id, Expiration: exp, LastUpdate: msTrunc(now), Gen: gen, Data: data}, nil
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

// DeleteSection deletes a section; the default section cannot be deleted.
func (r *Replica) DeleteSection(ctx context.Context, by Caller, id []byte) error {
	if len(id) == 0 {
		return errorf(ErrInvalidParameter, "the default section cannot be deleted")
	}
	if err := r.begin(); err != nil {
		return err
	}
	if _, wait, ok := r.repeated(by); ok {
		return r.finish(ctx, wait, nil)
	}
	var wait func(context.Context) error
	s := r.sections[string(id)]
	err := error(nil)
	if s == nil {
		err = errorf(ErrNotExist, "no section %q in checkpoint %q", id, r.name)
	} else {
		wait, err = r.commit(&Op{Kind: OpDeleteSection, Origin: by.Origin, Request: by.Request, Section: s.sid()})
	}
	return r.finish(ctx, wait, err)
}

// SetSectionExpiration changes when a section expires; Never cancels the expiration.
func (r *Replica) SetSectionExpiration(ctx context.Context, by Caller, id []byte, expiration time.Time) error {
	if len(id) == 0 {
		return errorf(ErrInvalidParameter, "the default section does not expire")
	}
	if err := r.begin(); err != nil {
		return err
	}
	if _, wait, ok := r.repeated(by); ok {
		return r.finish(ctx, wait, nil)
	}
	var wait func(context.Context) error
	err := func() error {
		if r.attrs.MaxSections == 1 {
			return errorf(ErrInvalidParameter, "checkpoint %q has a single, default section", r.name)
		}
		exp := nanos(expiration)
		if err := checkExpiration(exp, r.now()); err != nil {
			return err
		}
		s := r.sections[string(id)]
		if s == nil {
			return errorf(ErrNotExist, "no section %q in checkpoint %q", id, r.name)
		}
		var err error
		wait, err = r.commit(&Op{Kind: OpSetExpiration, Origin: by.Origin, Request: by.Request, Section: s.sid(), Expiration: exp})
		return err
	}()
	return r.finish(ctx, wait, err)
}

// Overwrite replaces the content of a section.
func (r *Replica) Overwrite(ctx context.Context, by Caller, id, data []byte) error {
	if len(data) == 0 {
		return errorf(ErrInvalidParameter, "overwrite with no data")
	}
	if err := r.begin(); err != nil {
		return err
	}
	if _, wait, ok := r.repeated(by); ok {
		return r.finish(ctx, wait, nil)
	}
	var wait func(context.Context) error
	err := func() error {
		if len(id) == 0 && r.attrs.MaxSections > 1 {
			return errorf(ErrInvalidParameter, "checkpoint %q has no default section: a section id is required", r.name)
		}
		if err := checkSize(&r.attrs, uint64(len(data))); err != nil {
			return err
		}
		s, err := r.lookup(id, ErrInvalidParameter)
		if err != nil {
			return err
		}
		wait, err = r.commit(&Op{Kind: OpOverwrite, Origin: by.Origin, Request: by.Request, Section: s.sid(), Data: data, LastUpdate: msTrunc(r.now())})
		return err
	}()
	return r.finish(ctx, wait, err)
}

// Write applies the elements in order; the first bad one stops the write with an *ElementError and
// the ones before it stay written.
func (r *Replica) Write(ctx context.Context, by Caller, elems []WriteElement) error {
	if len(elems) == 0 {
		return errorf(ErrInvalidParameter, "write of no elements")
	}
	if err := r.begin(); err != nil {
		return err
	}
	if o, wait, ok := r.repeated(by); ok {
		var failed error
		if o.written < len(elems) { // the first attempt stopped at this element: say so again
			err := r.checkWrite(&elems[o.written])
			if err == nil {
				err = errorf(ErrInvalidParameter, "element %d was refused", o.written)
			}
			failed = &ElementError{Index: o.written, Err: err}
		}
		if err := r.finish(ctx, wait, nil); err != nil {
			return err
		}
		return failed
	}
	var failed error
	valid := 0
	for i := range elems {
		if err := r.checkWrite(&elems[i]); err != nil {
			failed = &ElementError{Index: i, Err: err}
			break
		}
		valid = i + 1
	}
	var wait func(context.Context) error
	var err error
	if valid > 0 {
		wait, err = r.commit(&Op{Kind: OpWrite, Origin: by.Origin, Request: by.Request, Writes: elems[:valid], LastUpdate: msTrunc(r.now())})
	}
	if err := r.finish(ctx, wait, err); err != nil {
		return err
	}
	return failed
}

// checkWrite validates one element of a vector write; r.mu is held.
func (r *Replica) checkWrite(e *WriteElement) error {
	if e.Offset < 0 {
		return errorf(ErrInvalidParameter, "negative offset %d", e.Offset)
	}
	max := r.attrs.MaxSectionSize
	if max != 0 && (uint64(e.Offset) > max || uint64(e.Offset)+uint64(len(e.Data)) > max) {
		return errorf(ErrInvalidParameter, "%d bytes at offset %d exceed maxSectionSize %d", len(e.Data), e.Offset, max)
	}
	if e.Offset > MaxDataSize || e.Offset+int64(len(e.Data)) > MaxDataSize {
		return errorf(ErrInvalidParameter, "%d bytes at offset %d exceed the largest section the engine stores (%d)", len(e.Data), e.Offset, MaxDataSize)
	}
	_, err := r.lookup(e.SectionID, ErrInvalidParameter)
	return err
}

// Read fills every element (see ReadElement); when an element fails, nothing is copied at all.
func (r *Replica) Read(elems []ReadElement) error {
	if len(elems) == 0 {
		return errorf(ErrInvalidParameter, "read of no elements")
	}
	r.mu.RLock()
	defer r.mu.RUnlock()
	if r.destroyed {
		return errorf(ErrNotExist, "checkpoint %q is destroyed", r.name)
	}
	var one [1]*section
	secs := one[:0]
	if len(elems) > 1 {
		secs = make([]*section, 0, len(elems))
	}
	for i := range elems {
		s, err := r.checkRead(&elems[i])
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
			err := r.set.store.Get(s.dkey(), func(v []byte) error {
				if len(v) < off+n {
					return fmt.Errorf("%w: section %q holds %d bytes, metadata says %d", errCorrupt, s.sid(), len(v), s.size)
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

// checkRead validates one element of a vector read; r.mu is held.
func (r *Replica) checkRead(e *ReadElement) (*section, error) {
	if len(e.SectionID) == 0 && r.attrs.MaxSections > 1 {
		return nil, errorf(ErrMissingArgument, "checkpoint %q has no default section: a section id is required", r.name)
	}
	if e.Offset < 0 {
		return nil, errorf(ErrInvalidParameter, "negative offset %d", e.Offset)
	}
	max := r.attrs.MaxSectionSize
	if max != 0 && uint64(len(e.Buffer)) > max {
		return nil, errorf(ErrInvalidParameter, "read of %d bytes exceeds maxSectionSize %d", len(e.Buffer), max)
	}
	if max != 0 && uint64(e.Offset) > max {
		return nil, errorf(ErrInvalidParameter, "offset %d exceeds maxSectionSize %d", e.Offset, max)
	}
	return r.lookup(e.SectionID, ErrMissingArgument)
}

// Status returns the attributes, the number of sections (the default one not counted) and their
// total size.
func (r *Replica) Status() Status {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return Status{Attributes: r.attrs, NumberOfSections: uint32(r.users), MemoryUsed: r.used}
}

// SectionIDs returns, sorted, the ids of the sections that match filter: the snapshot an iteration
// walks. A checkpoint holding only its default section cannot be iterated (ErrNotPermitted).
func (r *Replica) SectionIDs(filter SectionFilter, t time.Time) ([][]byte, error) {
	if filter < SectionsForever || filter > SectionsAny {
		return nil, errorf(ErrInvalidParameter, "section filter %d", filter)
	}
	r.mu.RLock()
	defer r.mu.RUnlock()
	if r.attrs.MaxSections == 1 && r.users == 0 {
		return nil, errorf(ErrNotPermitted, "checkpoint %q holds only its default section", r.name)
	}
	at := nanos(t)
	var ids [][]byte
	for _, s := range r.sections {
		if len(s.sid()) > 0 && matches(filter, &s.meta, at) {
			ids = append(ids, s.sid())
		}
	}
	slices.SortFunc(ids, bytes.Compare)
	return ids, nil
}

// matches reports whether a section with meta m is one that filter chooses at time at.
func matches(filter SectionFilter, m *meta, at int64) bool {
	switch filter {
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

// Describe returns the descriptor of a section, if it exists.
func (r *Replica) Describe(id []byte) (SectionDescriptor, bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	s := r.sections[string(id)]
	if s == nil {
		return SectionDescriptor{}, false
	}
	return SectionDescriptor{
		ID:         bytes.Clone(s.sid()),
		Expiration: fromNanos(s.expiration),
		Size:       s.size,
		State:      s.state,
		LastUpdate: fromNanos(s.lastUpdate),
	}, true
}

// SetExpiring starts (or stops) the expiration of sections by this replica: the single-process
// service and the active replica expire sections; other replicas wait for the active's ops. Starting
// deletes the sections whose time has passed.
func (r *Replica) SetExpiring(on bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.destroyed || r.expiring == on {
		return
	}
	r.expiring = on
	now := r.now()
	for _, s := range r.sections {
		switch {
		case !on:
			if s.timer != nil {
				s.timer.Stop()
				s.timer = nil
			}
		case s.expiration != neverNanos && s.expiration <= now:
			if _, err := r.commit(&Op{Kind: OpDeleteSection, Section: s.sid()}); err != nil {
				r.set.log.Warn("expiration: section not deleted", "name", r.name, "err", err)
			}
		default:
			r.scheduleExpiry(s)
		}
	}
}

// scheduleExpiry arms s's expiration timer; r.mu is held.
func (r *Replica) scheduleExpiry(s *section) {
	if s.timer != nil {
		s.timer.Stop()
		s.timer = nil
	}
	if !r.expiring || s.expiration == neverNanos {
		return
	}
	exp := s.expiration
	s.timer = r.set.clock.AfterFunc(time.Duration(exp-r.now()), func() { r.expire(s, exp) })
}

// expire deletes s when its expiration (still exp) has come.
func (r *Replica) expire(s *section, exp int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.destroyed || !r.expiring || r.set.closed.Load() || r.sections[string(s.sid())] != s || s.expiration != exp {
		return
	}
	if r.fenced != nil {
		return // handing over: the next active expires it
	}
	if _, err := r.commit(&Op{Kind: OpDeleteSection, Section: s.sid()}); err != nil {
		r.set.log.Warn("expiration: section not deleted", "name", r.name, "err", err)
	}
}

// stopTimers stops every expiration timer; r.mu is held.
func (r *Replica) stopTimers() {
	for _, s := range r.sections {
		if s.timer != nil {
			s.timer.Stop()
			s.timer = nil
		}
	}
}

func msTrunc(ns int64) int64 { return ns - ns%int64(time.Millisecond) }
