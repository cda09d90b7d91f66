package engine

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"math"
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
	// DiskReserve is the free space kept on the data directory's filesystem (Dir only; default
	// store.DefaultReserve): below it changes fail with ErrDiskFull.
	DiskReserve int64
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

// Local is the single-process checkpoint service: every checkpoint has one replica, in one store,
// and every handle belongs to this process. It implements Service.
//
// Lock order: Local.mu, then Replica.mu, then Replica.subMu, then a mailbox's mu. Local.mu guards
// the directory and every checkpoint's lifecycle (open count, handles, retention timer).
type Local struct {
	reps      *Replicas
	store     store.Store
	ownStore  bool
	clock     clock.Clock
	log       *slog.Logger
	heartbeat time.Duration
	closed    atomic.Bool
	handleSeq atomic.Uint64

	mu      sync.Mutex
	byName  map[string]*entry // live checkpoints
	all     map[uint64]*entry // live and deleted-but-open checkpoints
	hbTimer clock.Timer
}

// entry is a checkpoint of the service and its lifecycle.
type entry struct {
	r        *Replica
	opens    int
	handles  map[*handle]struct{}
	retTimer clock.Timer
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
		byName:    make(map[string]*entry),
		all:       make(map[uint64]*entry),
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
		s, err := store.OpenBadger(store.BadgerOptions{Dir: opts.Dir, SyncWrites: opts.SyncWrites, Logger: opts.Logger, Reserve: opts.DiskReserve})
		if err != nil {
			return nil, storageErr("open data directory", err)
		}
		l.store, l.ownStore = s, true
	}
	if err := l.recover(); err != nil {
		if opts.Dir != "" {
			err = fmt.Errorf("%w (data directory %s)", err, opts.Dir)
		}
		l.stop()
		if l.ownStore {
			_ = l.store.Close()
		}
		return nil, err
	}
	return l, nil
}

func (l *Local) now() int64 { return l.clock.Now().UnixNano() }

// recover loads the replicas and settles what the time without a live process implies.
func (l *Local) recover() error {
	reps, err := OpenReplicas(ReplicasOptions{Store: l.store, Clock: l.clock, Logger: l.log})
	if err != nil {
		return err
	}
	l.reps = reps
	for _, r := range reps.All() {
		e := &entry{r: r, handles: make(map[*handle]struct{})}
		l.all[r.id] = e
		if !r.unlinked {
			if l.byName[r.name] != nil {
				return fmt.Errorf("%w: %w: two live checkpoints named %q", ErrStorage, errCorrupt, r.name)
			}
			l.byName[r.name] = e
		}
	}
	lastAlive := int64(0)
	switch err := l.store.Get(keyHeartbeat, func(v []byte) (err error) { lastAlive, err = decodeNanos(v); return }); {
	case errors.Is(err, store.ErrNotFound):
	case err != nil:
		return storageErr("read heartbeat", err)
	}
	now := l.now()
	if lastAlive == 0 || lastAlive > now {
		lastAlive = now
	}
	if err := l.settleAll(lastAlive, now); err != nil {
		return err
	}
	l.beat()
	return nil
}

func (l *Local) settleAll(lastAlive, now int64) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, e := range l.all {
		if err := l.settle(e, lastAlive, now); err != nil {
			return err
		}
	}
	return nil
}

// settle applies to a checkpoint what the time without a live process implies: every handle is
// closed, so a deleted checkpoint goes, and retention counts from the last heartbeat; sections past
// their expiration go. l.mu is held.
func (l *Local) settle(e *entry, lastAlive, now int64) error {
	r := e.r
	if r.unlinked {
		return l.destroy(e)
	}
	deadline := r.deadline
	if deadline == 0 {
		ret := effectiveRetention(r.attrs)
		switch {
		case ret < 0 || ret == RetainForever:
		case ret > time.Duration(math.MaxInt64-lastAlive):
		default:
			deadline = lastAlive + int64(ret)
		}
	}
	if deadline != 0 && deadline <= now {
		return l.destroy(e)
	}
	if deadline != 0 {
		if deadline != r.deadline {
			if err := r.updateRecord(func(rec *record) { rec.deadline = deadline }); err != nil {
				return err
			}
		}
		l.scheduleRetention(e, deadline)
	}
	r.SetExpiring(true)
	return nil
}

func encodeNanos(ns int64) []byte { return binary.LittleEndian.AppendUint64(nil, uint64(ns)) }

func decodeNanos(v []byte) (int64, error) {
	if len(v) != 8 {
		return 0, fmt.Errorf("%w: timestamp of %d bytes", errCorrupt, len(v))
	}
	return int64(binary.LittleEndian.Uint64(v)), nil
}

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
	e := l.byName[name]
	switch {
	case e != nil && flags&OpenCreate != 0 && e.r.Attributes() != *attrs:
		return nil, errorf(ErrAlreadyExist, "checkpoint %q exists with other attributes", name)
	case e == nil && flags&OpenCreate == 0:
		return nil, errorf(ErrNotExist, "no checkpoint %q", name)
	case e == nil:
		r, err := l.reps.Create(l.reps.NewID(), name, *attrs, 0, false)
		if err != nil {
			return nil, err
		}
		r.SetExpiring(true)
		e = &entry{r: r, handles: make(map[*handle]struct{})}
		l.byName[name] = e
		l.all[r.id] = e
	}
	if err := l.cancelRetention(e); err != nil {
		return nil, err
	}
	h := &handle{l: l, e: e, r: e.r, flags: flags, origin: fmt.Sprintf("local/%d", l.handleSeq.Add(1))}
	e.opens++
	e.handles[h] = struct{}{}
	return h, nil
}

// effectiveRetention is the retention that applies at the last close: Distributed checkpoints
// always use 0.
func effectiveRetention(a Attributes) time.Duration {
	if a.Flags&Distributed != 0 {
		return 0
	}
	return a.Retention
}

// cancelRetention stops a pending retention; l.mu is held.
func (l *Local) cancelRetention(e *entry) error {
	if e.retTimer != nil {
		e.retTimer.Stop()
		e.retTimer = nil
	}
	if e.r.deadline == 0 {
		return nil
	}
	return e.r.updateRecord(func(rec *record) { rec.deadline = 0 })
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
	e := l.byName[name]
	if e == nil {
		return errorf(ErrNotExist, "no checkpoint %q", name)
	}
	if e.opens == 0 {
		return l.destroy(e)
	}
	if err := e.r.updateRecord(func(rec *record) { rec.unlinked = true }); err != nil {
		return err
	}
	delete(l.byName, name)
	return nil
}

// closeHandle ends one open; l.mu is held.
func (l *Local) closeHandle(h *handle) error {
	e := h.e
	delete(e.handles, h)
	e.opens--
	e.r.Subscribe(h.origin, nil)
	if e.opens > 0 {
		return nil
	}
	return l.lastClose(e, true)
}

// lastClose applies what happens when nobody has a checkpoint open any more: destruction of a
// deleted checkpoint, or its retention. With schedule false (the service is closing) a finite
// retention is only recorded, for the next start to honour. l.mu is held.
func (l *Local) lastClose(e *entry, schedule bool) error {
	r := e.r
	if r.unlinked {
		return l.destroy(e)
	}
	ret := effectiveRetention(r.Attributes())
	switch {
	case ret == 0:
		return l.destroy(e)
	case ret < 0 || ret == RetainForever:
		return nil
	}
	now := l.now()
	if ret > time.Duration(math.MaxInt64-now) {
		return nil // further away than the clock can count: forever
	}
	deadline := now + int64(ret)
	if err := r.updateRecord(func(rec *record) { rec.deadline = deadline }); err != nil || !schedule {
		return err
	}
	l.scheduleRetention(e, deadline)
	return nil
}

// scheduleRetention arms the retention timer for deadline; l.mu is held.
func (l *Local) scheduleRetention(e *entry, deadline int64) {
	e.retTimer = l.clock.AfterFunc(time.Duration(deadline-l.now()), func() {
		l.mu.Lock()
		defer l.mu.Unlock()
		if l.closed.Load() || l.all[e.r.id] != e || e.opens > 0 || e.r.deadline != deadline {
			return // reopened, deleted or rescheduled meanwhile
		}
		if err := l.destroy(e); err != nil {
			l.log.Warn("retention: destroying checkpoint failed; retrying at the next start", "name", e.r.name, "err", err)
		}
	})
}

// destroy removes a checkpoint and its data; l.mu is held.
func (l *Local) destroy(e *entry) error {
	if err := l.reps.Destroy(e.r); err != nil {
		return err
	}
	if e.retTimer != nil {
		e.retTimer.Stop()
		e.retTimer = nil
	}
	if l.byName[e.r.name] == e {
		delete(l.byName, e.r.name)
	}
	delete(l.all, e.r.id)
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
	for _, e := range l.all {
		if e.opens == 0 {
			continue
		}
		for h := range e.handles {
			h.closed.Store(true)
		}
		clear(e.handles)
		e.opens = 0
		if err := l.lastClose(e, false); err != nil && firstErr == nil {
			firstErr = err
		}
	}
	l.mu.Unlock()
	l.stop()
	if l.ownStore {
		if err := l.store.Close(); err != nil && firstErr == nil {
			firstErr = storageErr("close", err)
		}
	}
	return firstErr
}

// stop ends every timer and delivery, as a process that dies would.
func (l *Local) stop() {
	l.mu.Lock()
	if l.hbTimer != nil {
		l.hbTimer.Stop()
	}
	for _, e := range l.all {
		if e.retTimer != nil {
			e.retTimer.Stop()
		}
	}
	l.mu.Unlock()
	if l.reps != nil {
		l.reps.Close()
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
