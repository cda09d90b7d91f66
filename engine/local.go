package engine

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"math/bits"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/clckpt/libclckpt/engine/clock"
	"github.com/clckpt/libclckpt/engine/store"
)

// Options configure a Local service.
type Options struct {
	// Dir is the data directory of a durable service (a Badger database). Exactly one of Dir and
	// Store must be set.
	Dir string
	// Store is a store the caller opened, e.g. store.NewMemory() for a volatile service. The caller
	// keeps ownership: Close does not close it.
	Store store.Store
	// SyncWrites makes every change wait for fsync (Dir only). Without it, changes survive the death
	// of the process but not a power loss.
	SyncWrites bool
	// Clock drives expiration, retention and heartbeats (default: the system clock).
	Clock clock.Clock
	// Logger receives warnings (default: discarded).
	Logger *slog.Logger
	// HeartbeatInterval is how often the service records that it is alive, which dates the death of
	// a process for retention at the next start (default 1 s).
	HeartbeatInterval time.Duration
}

func (o *Options) validate() error {
	if (o.Dir == "") == (o.Store == nil) {
		return errors.New("engine: set exactly one of Options.Dir and Options.Store")
	}
	if o.HeartbeatInterval < 0 {
		return errors.New("engine: Options.HeartbeatInterval must not be negative")
	}
	return nil
}

// Local is the single-process checkpoint service: every checkpoint lives in one store, and every
// handle belongs to this process. It implements Service.
//
// Lock order: Local.mu, then checkpoint.mu, then checkpoint.subMu, then a mailbox's mu.
// Local.mu guards the directory and every checkpoint's lifecycle (open count, handles, retention
// timer); checkpoint.mu guards its content. Fields persisted in the checkpoint record change only
// with checkpoint.mu held for writing (lifecycle fields also with Local.mu).
type Local struct {
	store     store.Store
	ownStore  bool
	clock     clock.Clock
	log       *slog.Logger
	heartbeat time.Duration

	closed   atomic.Bool
	delivery sync.WaitGroup // running notification goroutines

	mu      sync.Mutex
	byName  map[string]*checkpoint // live checkpoints
	all     map[uint64]*checkpoint // live and deleted-but-open checkpoints
	hbTimer clock.Timer
}

var _ Service = (*Local)(nil)

// OpenLocal opens the service on its store, recovering what a previous process left: handles of a
// dead process count as closed, so retention runs for their checkpoints from the last heartbeat;
// expired sections and checkpoints whose retention ran out are removed.
func OpenLocal(opts Options) (*Local, error) {
	if err := opts.validate(); err != nil {
		return nil, err
	}
	l := &Local{
		store:     opts.Store,
		clock:     opts.Clock,
		log:       opts.Logger,
		heartbeat: opts.HeartbeatInterval,
		byName:    make(map[string]*checkpoint),
		all:       make(map[uint64]*checkpoint),
	}
	if l.clock == nil {
		l.clock = clock.Real{}
	}
	if l.log == nil {
		l.log = slog.New(slog.DiscardHandler)
	}
	if l.heartbeat == 0 {
		l.heartbeat = time.Second
	}
	if opts.Dir != "" {
		s, err := store.OpenBadger(store.BadgerOptions{Dir: opts.Dir, SyncWrites: opts.SyncWrites, Logger: opts.Logger})
		if err != nil {
			return nil, storageErr("open data directory", err)
		}
		l.store, l.ownStore = s, true
	}
	if err := l.recover(); err != nil {
		l.stopTimers()
		if l.ownStore {
			_ = l.store.Close()
		}
		return nil, err
	}
	return l, nil
}

func (l *Local) now() int64 { return l.clock.Now().UnixNano() }

// Open implements Service.
func (l *Local) Open(ctx context.Context, name string, attrs *Attributes, flags OpenFlags) (Checkpoint, error) {
	if err := ValidateOpen(name, attrs, flags); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, ctxErr(err)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed.Load() {
		return nil, ErrClosed
	}
	c := l.byName[name]
	switch {
	case c != nil && flags&OpenCreate != 0 && c.attrs != *attrs:
		return nil, errorf(ErrAlreadyExist, "checkpoint %q exists with other attributes", name)
	case c == nil && flags&OpenCreate == 0:
		return nil, errorf(ErrNotExist, "no checkpoint %q", name)
	case c == nil:
		var err error
		if c, err = l.create(name, attrs); err != nil {
			return nil, err
		}
	}
	if err := l.cancelRetention(c); err != nil {
		return nil, err
	}
	h := &handle{l: l, c: c, flags: flags}
	c.opens++
	c.handles[h] = struct{}{}
	return h, nil
}

// ValidateOpen applies the argument rules of Open, in the order the C API reports them, without
// opening anything.
func ValidateOpen(name string, attrs *Attributes, flags OpenFlags) error {
	if flags&^openFlagsAll != 0 {
		return errorf(ErrBadFlag, "open flags %#x", uint32(flags))
	}
	if flags&OpenCreate != 0 && attrs == nil {
		return errorf(ErrMissingArgument, "OpenCreate needs creation attributes")
	}
	if flags&OpenCreate == 0 && attrs != nil {
		return errorf(ErrInvalidParameter, "creation attributes given without OpenCreate")
	}
	if attrs != nil && attrs.CheckpointSize != 0 && attrs.MaxSectionSize != 0 {
		hi, total := bits.Mul64(uint64(attrs.MaxSections), attrs.MaxSectionSize)
		if hi == 0 && attrs.CheckpointSize > total {
			return errorf(ErrInvalidParameter, "checkpointSize %d exceeds maxSections %d x maxSectionSize %d",
				attrs.CheckpointSize, attrs.MaxSections, attrs.MaxSectionSize)
		}
	}
	return checkName(name)
}

func checkName(name string) error {
	if len(name) == 0 || len(name) > MaxNameLength {
		return errorf(ErrInvalidParameter, "checkpoint name of %d bytes (1 to %d allowed)", len(name), MaxNameLength)
	}
	return nil
}

// create makes a new checkpoint; l.mu is held.
func (l *Local) create(name string, attrs *Attributes) (*checkpoint, error) {
	if attrs.MaxSections == 0 {
		return nil, ErrMaxSectionsZero
	}
	id := rand.Uint64()
	for id == 0 || l.all[id] != nil {
		id = rand.Uint64()
	}
	c := newCheckpoint(l, &record{id: id, name: name, attrs: *attrs})
	var b store.Batch
	b.Set(recordKey(id), encodeRecord(c.record()))
	if attrs.MaxSections == 1 {
		// The default section exists from the start, empty, and never expires.
		s := c.newSection(nil, meta{expiration: neverNanos, lastUpdate: msTrunc(l.now()), state: SectionValid})
		b.Set(s.mkey, encodeMeta(&s.meta))
		b.Set(s.dkey, nil)
	}
	if err := l.store.Apply(&b); err != nil {
		return nil, storageErr("create checkpoint", err)
	}
	for _, s := range c.sections {
		c.used += s.size // zero, but keeps the invariant obvious
	}
	l.byName[name] = c
	l.all[id] = c
	return c, nil
}

// cancelRetention stops a pending retention of c; l.mu is held.
func (l *Local) cancelRetention(c *checkpoint) error {
	if c.deadline == 0 {
		return nil
	}
	if c.retTimer != nil {
		c.retTimer.Stop()
		c.retTimer = nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	r := c.record()
	r.deadline = 0
	if err := l.putRecord(r); err != nil {
		return err
	}
	c.deadline = 0
	return nil
}

func (l *Local) putRecord(r *record) error {
	var b store.Batch
	b.Set(recordKey(r.id), encodeRecord(r))
	if err := l.store.Apply(&b); err != nil {
		return storageErr("write checkpoint record", err)
	}
	return nil
}

// Delete implements Service.
func (l *Local) Delete(ctx context.Context, name string) error {
	if err := checkName(name); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return ctxErr(err)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed.Load() {
		return ErrClosed
	}
	c := l.byName[name]
	if c == nil {
		return errorf(ErrNotExist, "no checkpoint %q", name)
	}
	if c.opens == 0 {
		return l.destroy(c)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	r := c.record()
	r.unlinked = true
	if err := l.putRecord(r); err != nil {
		return err
	}
	c.unlinked = true
	delete(l.byName, name)
	return nil
}

// closeHandle ends one open of c; l.mu is held.
func (l *Local) closeHandle(h *handle) error {
	c := h.c
	delete(c.handles, h)
	c.opens--
	if c.opens > 0 {
		return nil
	}
	return l.lastClose(c, true)
}

// lastClose applies what happens when nobody has c open any more: destruction of a deleted
// checkpoint, or its retention. With schedule false (the service is closing) a finite retention is
// only recorded, for the next start to honour. l.mu is held.
func (l *Local) lastClose(c *checkpoint, schedule bool) error {
	if c.unlinked {
		return l.destroy(c)
	}
	r := c.effectiveRetention()
	switch {
	case r == 0:
		return l.destroy(c)
	case r < 0 || r == RetainForever:
		return nil
	}
	now := l.now()
	if r > time.Duration(math.MaxInt64-now) {
		return nil // further away than the clock can count: forever
	}
	deadline := now + int64(r)
	c.mu.Lock()
	rec := c.record()
	rec.deadline = deadline
	err := l.putRecord(rec)
	if err == nil {
		c.deadline = deadline
	}
	c.mu.Unlock()
	if err != nil || !schedule {
		return err
	}
	l.scheduleRetention(c, deadline)
	return nil
}

// scheduleRetention arms c's retention timer for deadline; l.mu is held.
func (l *Local) scheduleRetention(c *checkpoint, deadline int64) {
	c.retTimer = l.clock.AfterFunc(time.Duration(deadline-l.now()), func() {
		l.mu.Lock()
		defer l.mu.Unlock()
		if l.closed.Load() || c.destroyed || c.opens > 0 || c.deadline != deadline {
			return // reopened, deleted or rescheduled meanwhile
		}
		if err := l.destroy(c); err != nil {
			l.log.Warn("retention: destroying checkpoint failed; retrying at the next start", "name", c.name, "err", err)
		}
	})
}

// destroyChunk bounds the keys deleted by one batch when a checkpoint is destroyed.
const destroyChunk = 512

// destroy removes c and its data; l.mu is held. The record goes first, in a batch of its own, so that
// a crash in the middle leaves only orphan sections, which the next start removes.
func (l *Local) destroy(c *checkpoint) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	var b store.Batch
	b.Delete(recordKey(c.id))
	if err := l.store.Apply(&b); err != nil {
		return storageErr("delete checkpoint record", err)
	}
	c.destroyed = true
	if l.byName[c.name] == c {
		delete(l.byName, c.name)
	}
	delete(l.all, c.id)
	if c.retTimer != nil {
		c.retTimer.Stop()
		c.retTimer = nil
	}
	b.Reset()
	for _, s := range c.sections {
		if s.timer != nil {
			s.timer.Stop()
		}
		b.Delete(s.mkey)
		b.Delete(s.dkey)
		if b.Len() >= destroyChunk {
			if err := l.store.Apply(&b); err != nil {
				l.log.Warn("destroy: section data left for the next start", "name", c.name, "err", err)
				return nil
			}
			b.Reset()
		}
	}
	if b.Len() > 0 {
		if err := l.store.Apply(&b); err != nil {
			l.log.Warn("destroy: section data left for the next start", "name", c.name, "err", err)
		}
	}
	c.sections = nil
	c.closeSubscriptions()
	return nil
}

// Close implements Service. Open handles count as closed: deleted checkpoints and those with a zero
// retention are destroyed, a finite retention is recorded for the next start.
func (l *Local) Close() error {
	l.mu.Lock()
	if l.closed.Swap(true) {
		l.mu.Unlock()
		return ErrClosed
	}
	var firstErr error
	for _, c := range l.all {
		if c.opens == 0 {
			continue
		}
		for h := range c.handles {
			h.closed.Store(true)
		}
		clear(c.handles)
		c.opens = 0
		if err := l.lastClose(c, false); err != nil && firstErr == nil {
			firstErr = err
		}
	}
	l.mu.Unlock()
	l.stopTimers()
	l.delivery.Wait()
	if l.ownStore {
		if err := l.store.Close(); err != nil && firstErr == nil {
			firstErr = storageErr("close", err)
		}
	}
	return firstErr
}

// stopTimers stops every timer and subscription, as a process that dies would.
func (l *Local) stopTimers() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.hbTimer != nil {
		l.hbTimer.Stop()
	}
	for _, c := range l.all {
		if c.retTimer != nil {
			c.retTimer.Stop()
		}
		c.mu.Lock()
		for _, s := range c.sections {
			if s.timer != nil {
				s.timer.Stop()
			}
		}
		c.closeSubscriptions()
		c.mu.Unlock()
	}
}

// beat records that the service is alive and schedules the next beat.
func (l *Local) beat() {
	if l.closed.Load() {
		return
	}
	var b store.Batch
	b.Set(keyHeartbeat, encodeNanos(l.now()))
	if err := l.store.Apply(&b); err != nil && !errors.Is(err, store.ErrClosed) {
		l.log.Warn("heartbeat not recorded", "err", err)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.closed.Load() {
		l.hbTimer = l.clock.AfterFunc(l.heartbeat, l.beat)
	}
}

func msTrunc(ns int64) int64 { return ns - ns%int64(time.Millisecond) }

func (l *Local) String() string { return fmt.Sprintf("engine.Local(%d checkpoints)", len(l.all)) }
