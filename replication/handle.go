package replication

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/clckpt/libclckpt/engine"
	"github.com/clckpt/libclckpt/metrics"
	"github.com/clckpt/libclckpt/replication/directory"
	"github.com/clckpt/libclckpt/replication/wire"
)

// handle is one open of a checkpoint on a member. It implements engine.Checkpoint: it checks the
// handle and its open flags, then runs the call where the active replica is.
type handle struct {
	m      *Member
	c      *ckpt
	name   string
	flags  engine.OpenFlags
	origin string       // "<member>/<n>": the handle's name in ops and subscriptions
	mode   metrics.Mode // the checkpoint's write mode, for its metrics
	closed atomic.Bool
	tool   bool // made by Inspect: counts no open, holds no replica
}

var _ engine.Checkpoint = (*handle)(nil)

func (h *handle) check(need engine.Access) error {
	return engine.CheckAccess(h.m.closed.Load(), h.closed.Load(), h.flags, need, h.name)
}

func (h *handle) Name() string { return h.name }

func (h *handle) Close() (err error) {
	defer h.m.called(metrics.OpClose, &err)
	if h.closed.Load() {
		if h.m.closed.Load() {
			return engine.ErrClosed
		}
		return engine.ErrBadHandle
	}
	ctx, cancel := context.WithTimeout(context.Background(), callTimeout)
	defer cancel()
	return h.close(ctx)
}

func (h *handle) close(ctx context.Context) error {
	if !h.detach(ctx) {
		return engine.ErrBadHandle
	}
	defer h.m.release(h.c)
	if h.tool {
		return nil
	}
	err := h.m.closeOpen(ctx, h.c.id, h.m.name, 1)
	if errors.Is(err, engine.ErrTryAgain) || errors.Is(err, engine.ErrTimeout) {
		// The handle has ended here; only the directory's count of it lags. It is not sent again
		// (a change whose outcome is unknown could count another handle's open closed): the open
		// is counted closed when this member leaves (the others close a leaver's opens, as a dead
		// member's), or when it reconciles after its lease lapsed.
		h.m.log.Warn("a closed handle's open is still counted in the directory", "checkpoint", h.name, "err", err)
		return nil
	}
	return err
}

// detach ends the handle on this member (its open is still counted in the directory); false if it
// was closed already. The caller then counts the open closed and releases h.c.
func (h *handle) detach(ctx context.Context) bool {
	if !h.closed.CompareAndSwap(false, true) {
		return false
	}
	c := h.c
	c.mu.Lock()
	delete(c.handles, h)
	delete(c.subs, h.origin)
	if c.rep != nil {
		c.rep.Subscribe(h.origin, nil)
	}
	c.mu.Unlock()
	c.leaveAfterFollow(ctx)
	return true
}

// CloseHandles closes the handles hs of this member together (see ckpt.HandlesCloser): the
// directory takes the closes of every checkpoint at once (closeOpens). A handle closed already is
// skipped; a handle of another service is closed on its own.
func (m *Member) CloseHandles(hs []engine.Checkpoint) error {
	ctx, cancel := context.WithTimeout(context.Background(), callTimeout)
	defer cancel()
	var mine []*handle
	var first error
	for _, ck := range hs {
		if h, ok := ck.(*handle); ok && h.m == m {
			mine = append(mine, h)
		} else if err := ck.Close(); err != nil && first == nil {
			first = err
		}
	}
	if err := m.closeHandles(ctx, mine); err != nil && first == nil {
		first = err
	}
	return first
}

// closeHandles closes hs (see CloseHandles).
func (m *Member) closeHandles(ctx context.Context, hs []*handle) error {
	counts := make(map[*ckpt]int)
	var detached []*ckpt
	for _, h := range hs {
		if !h.detach(ctx) {
			continue
		}
		detached = append(detached, h.c)
		if !h.tool {
			counts[h.c]++
		}
	}
	err := m.closeOpens(ctx, counts)
	for _, c := range detached {
		m.release(c)
		m.metrics.Called(metrics.OpClose, err) // each close counts, with the outcome of them all
	}
	return err
}

func (h *handle) SetRetention(ctx context.Context, d time.Duration) (err error) {
	defer h.m.called(metrics.OpSetRetention, &err)
	if err := h.check(engine.AnyAccess); err != nil {
		return err
	}
	e, err := h.m.dir.Update(ctx, h.c.id, func(e *engineEntry) error {
		if e.Deleted {
			return fmt.Errorf("%w: checkpoint %q is deleted", engine.ErrBadOperation, h.name)
		}
		e.Attrs.Retention = d
		return nil
	})
	if err != nil {
		return notFoundIsNotExist(err)
	}
	h.c.update(e)
	return nil
}

func (h *handle) Status(ctx context.Context) (st engine.Status, err error) {
	defer h.m.called(metrics.OpStatus, &err)
	if err := h.check(engine.AnyAccess); err != nil {
		return engine.Status{}, err
	}
	err = h.m.do(ctx, h.c,
		func(r *engine.Replica, _ *active) error { st = h.m.status(h.c, r); return nil },
		&wire.CallMsg{Kind: wire.CallStatus, Origin: h.origin},
		func(r *wire.ReplyMsg) error {
			// The attributes are the entry as this member knows it, as when the active is here:
			// the active's may not have a SetRetention just made through this member yet.
			st = r.Status
			h.c.entryAttributes(&st)
			return r.Err
		})
	return st, err
}

func (h *handle) SetActiveReplica(ctx context.Context) (err error) {
	defer h.m.called(metrics.OpSetActive, &err)
	if err := h.check(engine.WriteAccess); err != nil {
		return err
	}
	return h.m.setActiveHere(ctx, h.c)
}

func (h *handle) Synchronize(ctx context.Context) (err error) {
	defer h.m.called(metrics.OpSynchronize, &err)
	if err := h.check(engine.WriteAccess); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return timeoutErr(err)
	}
	e, err := h.c.current(ctx)
	if err != nil {
		return err
	}
	if e.Attrs.Flags&engine.WriteAllReplicas != 0 {
		return fmt.Errorf("%w: checkpoint %q is written synchronously", engine.ErrBadOperation, h.name)
	}
	return h.m.do(ctx, h.c,
		func(_ *engine.Replica, a *active) error { return a.synchronize(ctx) },
		&wire.CallMsg{Kind: wire.CallSynchronize, Origin: h.origin}, nil)
}

func (h *handle) SynchronizeAsync(ctx context.Context, done func(error)) error {
	if err := h.check(engine.WriteAccess); err != nil {
		return err
	}
	e, err := h.c.current(ctx)
	if err != nil {
		return err
	}
	if e.Attrs.Flags&engine.WriteAllReplicas != 0 {
		return fmt.Errorf("%w: checkpoint %q is written synchronously", engine.ErrBadOperation, h.name)
	}
	if _, _, _, _, err := h.m.route(ctx, h.c); err != nil && !errors.Is(err, engine.ErrTryAgain) {
		return err // no active replica
	}
	h.m.spawn(func() { done(h.Synchronize(h.m.ctx)) })
	return nil
}

// maxMessage rejects data that NATS could not carry (the server's max_payload).
func (h *handle) maxMessage(n int) error {
	if limit := h.m.nc.MaxPayload(); int64(n)+4096 > limit {
		return fmt.Errorf("%w: %d bytes exceed what the NATS server carries in one message (max_payload %d)", engine.ErrInvalidParameter, n, limit)
	}
	return nil
}

func (h *handle) CreateSection(ctx context.Context, id []byte, expiration time.Time, data []byte) (_ []byte, err error) {
	began := time.Now()
	defer func() { h.m.metrics.Wrote(metrics.OpCreateSection, h.mode, began, len(data), err) }()
	if err := h.check(engine.WriteAccess); err != nil {
		return nil, err
	}
	if err := h.maxMessage(len(data)); err != nil {
		return nil, err
	}
	var out []byte
	by := h.request()
	err = h.m.do(ctx, h.c,
		func(r *engine.Replica, _ *active) (err error) {
			out, err = r.CreateSection(ctx, by, id, expiration, data)
			return err
		},
		&wire.CallMsg{Kind: wire.CallCreateSection, Origin: by.Origin, Request: by.Request, Section: id, Expiration: expNanos(expiration), Data: data},
		func(r *wire.ReplyMsg) error { out = append([]byte(nil), r.Section...); return r.Err })
	return out, err
}

// request names a new change by this handle: the same on every retry of it (see engine.Caller).
func (h *handle) request() engine.Caller {
	return engine.Caller{Origin: h.origin, Request: h.m.newRequest()}
}

func expNanos(t time.Time) int64 {
	if t.IsZero() || !t.Before(engine.Never) {
		return engine.Never.UnixNano()
	}
	return t.UnixNano()
}

func (h *handle) DeleteSection(ctx context.Context, id []byte) (err error) {
	defer h.m.called(metrics.OpDeleteSection, &err)
	if err := h.check(engine.WriteAccess); err != nil {
		return err
	}
	by := h.request()
	return h.m.do(ctx, h.c,
		func(r *engine.Replica, _ *active) error { return r.DeleteSection(ctx, by, id) },
		&wire.CallMsg{Kind: wire.CallDeleteSection, Origin: by.Origin, Request: by.Request, Section: id}, nil)
}

func (h *handle) SetSectionExpiration(ctx context.Context, id []byte, expiration time.Time) (err error) {
	defer h.m.called(metrics.OpSetExpiration, &err)
	if err := h.check(engine.WriteAccess); err != nil {
		return err
	}
	by := h.request()
	return h.m.do(ctx, h.c,
		func(r *engine.Replica, _ *active) error { return r.SetSectionExpiration(ctx, by, id, expiration) },
		&wire.CallMsg{Kind: wire.CallSetExpiration, Origin: by.Origin, Request: by.Request, Section: id, Expiration: expNanos(expiration)}, nil)
}

func (h *handle) Overwrite(ctx context.Context, id []byte, data []byte) (err error) {
	began := time.Now()
	defer func() { h.m.metrics.Wrote(metrics.OpOverwrite, h.mode, began, len(data), err) }()
	if err := h.check(engine.WriteAccess); err != nil {
		return err
	}
	if err := h.maxMessage(len(data)); err != nil {
		return err
	}
	by := h.request()
	return h.m.do(ctx, h.c,
		func(r *engine.Replica, _ *active) error { return r.Overwrite(ctx, by, id, data) },
		&wire.CallMsg{Kind: wire.CallOverwrite, Origin: by.Origin, Request: by.Request, Section: id, Data: data}, nil)
}

func (h *handle) Write(ctx context.Context, elems []engine.WriteElement) (err error) {
	began, data := time.Now(), 0
	defer func() { h.m.metrics.Wrote(metrics.OpWrite, h.mode, began, data, err) }()
	if err := h.check(engine.WriteAccess); err != nil {
		return err
	}
	total := 0
	for _, e := range elems {
		total += len(e.Data) + len(e.SectionID) + 32
		data += len(e.Data)
	}
	if err := h.maxMessage(total); err != nil {
		return err
	}
	by := h.request()
	return h.m.do(ctx, h.c,
		func(r *engine.Replica, _ *active) error { return r.Write(ctx, by, elems) },
		&wire.CallMsg{Kind: wire.CallWrite, Origin: by.Origin, Request: by.Request, Writes: elems}, nil)
}

func (h *handle) Read(ctx context.Context, elems []engine.ReadElement) (err error) {
	began := time.Now()
	defer func() { h.m.metrics.Read(began, err) }()
	if err := h.check(engine.ReadAccess); err != nil {
		return err
	}
	reads := make([]wire.ReadReq, len(elems))
	for i, e := range elems {
		reads[i] = wire.ReadReq{Section: e.SectionID, Offset: e.Offset, Size: uint64(len(e.Buffer)), Whole: e.Buffer == nil}
	}
	return h.m.do(ctx, h.c,
		func(r *engine.Replica, _ *active) error { return r.Read(elems) },
		&wire.CallMsg{Kind: wire.CallRead, Origin: h.origin, Reads: reads},
		func(r *wire.ReplyMsg) error {
			if r.Err != nil {
				return r.Err
			}
			if len(r.Reads) != len(elems) {
				return fmt.Errorf("%w: the active replica answered %d elements for %d", engine.ErrTryAgain, len(r.Reads), len(elems))
			}
			for i := range elems {
				e := &elems[i]
				if e.Buffer == nil {
					e.Buffer = append([]byte{}, r.Reads[i]...)
					e.ReadSize = len(r.Reads[i])
				} else {
					e.ReadSize = copy(e.Buffer, r.Reads[i])
				}
			}
			return nil
		})
}

func (h *handle) Sections(ctx context.Context, filter engine.SectionFilter, t time.Time) (_ engine.SectionIterator, err error) {
	defer h.m.called(metrics.OpSections, &err)
	if filter < engine.SectionsForever || filter > engine.SectionsAny {
		return nil, fmt.Errorf("%w: section filter %d", engine.ErrInvalidParameter, filter)
	}
	if err := h.check(engine.AnyAccess); err != nil {
		return nil, err
	}
	var ids [][]byte
	err = h.m.do(ctx, h.c,
		func(r *engine.Replica, _ *active) (err error) { ids, err = r.SectionIDs(filter, t); return err },
		&wire.CallMsg{Kind: wire.CallSectionIDs, Origin: h.origin, Filter: uint8(filter), At: expNanos(t)},
		func(r *wire.ReplyMsg) error {
			for _, id := range r.IDs {
				ids = append(ids, append([]byte(nil), id...))
			}
			return r.Err
		})
	if err != nil {
		return nil, err
	}
	return engine.NewIterator(ids, h.describe, func() error { return h.check(engine.AnyAccess) }), nil
}

// describe returns a section's descriptor from the active replica. An error (no active for now)
// is not "deleted": the iteration must not skip the section for it.
func (h *handle) describe(id []byte) (d engine.SectionDescriptor, found bool, err error) {
	defer h.m.called(metrics.OpDescribe, &err)
	err = h.m.do(context.Background(), h.c,
		func(r *engine.Replica, _ *active) error { d, found = r.Describe(id); return nil },
		&wire.CallMsg{Kind: wire.CallDescribe, Origin: h.origin, Section: id},
		func(r *wire.ReplyMsg) error {
			found = r.Found
			d = engine.SectionDescriptor{ID: append([]byte(nil), r.Section...), Expiration: time.Unix(0, r.Expiration),
				Size: r.Size, State: engine.SectionState(r.State), LastUpdate: time.Unix(0, r.LastUpdate)}
			return r.Err
		})
	return d, found, err
}

func (h *handle) Subscribe(fn func(engine.Update)) error {
	return h.subscribe(subscription{fn: fn}, func(f engine.CreationFlags) bool { return f&engine.Distributed != 0 }, "distributed")
}

func (h *handle) Follow(fn func(engine.Update)) error {
	// Any checkpoint: the updates come from the local replica. A member that holds none joins the
	// replica set while one of its handles follows (see ckpt.joinToFollow).
	if err := h.subscribe(subscription{fn: fn, creates: true}, func(engine.CreationFlags) bool { return true }, ""); err != nil {
		return err
	}
	if fn != nil {
		h.c.joinToFollow()
	} else {
		ctx, cancel := context.WithTimeout(context.Background(), callTimeout)
		defer cancel()
		h.c.leaveAfterFollow(ctx)
	}
	return nil
}

// subscribe sets (fn nil: removes) the handle's subscription, on a checkpoint whose flags allow it.
func (h *handle) subscribe(sub subscription, allowed func(engine.CreationFlags) bool, what string) error {
	if err := h.check(engine.AnyAccess); err != nil {
		return err
	}
	e, err := h.c.current(context.Background())
	if err != nil {
		return err
	}
	if !allowed(e.Attrs.Flags) {
		return fmt.Errorf("%w: checkpoint %q is not %s", engine.ErrNotPermitted, h.name, what)
	}
	if h.tool {
		return fmt.Errorf("%w: a handle from Inspect holds no replica to be notified by", engine.ErrNotPermitted)
	}
	c := h.c
	c.mu.Lock()
	defer c.mu.Unlock()
	if sub.fn == nil {
		delete(c.subs, h.origin)
		if c.rep != nil {
			c.rep.Subscribe(h.origin, nil)
		}
		return nil
	}
	c.subs[h.origin] = sub
	if c.rep != nil {
		sub.attach(c.rep, h.origin)
	}
	return nil
}

type engineEntry = directory.Entry

// notFoundIsNotExist maps a vanished entry to the engine's error.
func notFoundIsNotExist(err error) error {
	if errors.Is(err, directory.ErrNotFound) {
		return fmt.Errorf("%w: %w", engine.ErrNotExist, err)
	}
	if errors.Is(err, engine.ErrBadOperation) {
		return err
	}
	return tryAgain(err)
}
