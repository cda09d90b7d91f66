package engine

import (
	"context"
	"sync/atomic"
	"time"
)

// handle is one open of a checkpoint of a Local service. It implements Checkpoint: it checks the
// handle, its open flags and (collocated checkpoints) the active replica, then calls the Replica.
type handle struct {
	l      *Local
	e      *entry
	r      *Replica
	flags  OpenFlags
	origin string // the handle's name in ops and subscriptions
	closed atomic.Bool
}

var _ Checkpoint = (*handle)(nil)

// begin checks that the service and the handle are usable and that the handle may do the call.
// Data calls (needActive) on a collocated asynchronous checkpoint also need an active replica.
func (h *handle) begin(ctx context.Context, need Access, needActive bool) error {
	if err := CheckAccess(h.l.closed.Load(), h.closed.Load(), h.flags, need, h.r.name); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return ctxErr(err)
	}
	if needActive {
		h.r.mu.RLock()
		defer h.r.mu.RUnlock()
		if h.r.attrs.Flags.IsCollocated() && !h.r.active {
			return errorf(ErrNotExist, "checkpoint %q has no active replica: call SetActiveReplica first", h.r.name)
		}
	}
	return nil
}

func (h *handle) Name() string { return h.r.name }

func (h *handle) Close() error {
	if !h.closed.CompareAndSwap(false, true) {
		if h.l.closed.Load() {
			return ErrClosed
		}
		return ErrBadHandle
	}
	h.l.mu.Lock()
	defer h.l.mu.Unlock()
	if h.l.closed.Load() {
		return nil // Close of the service already counted this handle as closed
	}
	return h.l.closeHandle(h)
}

func (h *handle) SetRetention(ctx context.Context, d time.Duration) error {
	if err := h.begin(ctx, AnyAccess, false); err != nil {
		return err
	}
	h.l.mu.Lock()
	defer h.l.mu.Unlock()
	if h.r.unlinked {
		return errorf(ErrBadOperation, "checkpoint %q is deleted", h.r.name)
	}
	return h.r.updateRecord(func(rec *record) { rec.attrs.Retention = d })
}

func (h *handle) Status(ctx context.Context) (Status, error) {
	if err := h.begin(ctx, AnyAccess, true); err != nil {
		return Status{}, err
	}
	return h.r.Status(), nil
}

func (h *handle) SetActiveReplica(ctx context.Context) error {
	if err := h.begin(ctx, WriteAccess, false); err != nil {
		return err
	}
	if !h.r.Attributes().Flags.IsCollocated() {
		return errorf(ErrBadOperation, "checkpoint %q is not collocated", h.r.name)
	}
	return h.r.updateRecord(func(rec *record) { rec.active = true })
}

func (h *handle) Synchronize(ctx context.Context) error {
	if err := h.begin(ctx, WriteAccess, false); err != nil {
		return err
	}
	if h.r.Attributes().Flags&WriteAllReplicas != 0 {
		return errorf(ErrBadOperation, "checkpoint %q is written synchronously", h.r.name)
	}
	// A single-process service holds the only replica: there is nothing to wait for.
	return h.begin(ctx, WriteAccess, true)
}

func (h *handle) SynchronizeAsync(ctx context.Context, done func(error)) error {
	if err := h.Synchronize(ctx); err != nil {
		return err
	}
	go done(nil) // nothing to wait for: the only replica has everything
	return nil
}

func (h *handle) CreateSection(ctx context.Context, id []byte, expiration time.Time, data []byte) ([]byte, error) {
	if err := h.begin(ctx, WriteAccess, true); err != nil {
		return nil, err
	}
	return h.r.CreateSection(ctx, Caller{Origin: h.origin}, id, expiration, data)
}

func (h *handle) DeleteSection(ctx context.Context, id []byte) error {
	if err := h.begin(ctx, WriteAccess, true); err != nil {
		return err
	}
	return h.r.DeleteSection(ctx, Caller{Origin: h.origin}, id)
}

func (h *handle) SetSectionExpiration(ctx context.Context, id []byte, expiration time.Time) error {
	if err := h.begin(ctx, WriteAccess, true); err != nil {
		return err
	}
	return h.r.SetSectionExpiration(ctx, Caller{Origin: h.origin}, id, expiration)
}

func (h *handle) Overwrite(ctx context.Context, id []byte, data []byte) error {
	if err := h.begin(ctx, WriteAccess, true); err != nil {
		return err
	}
	return h.r.Overwrite(ctx, Caller{Origin: h.origin}, id, data)
}

func (h *handle) Write(ctx context.Context, elems []WriteElement) error {
	if err := h.begin(ctx, WriteAccess, true); err != nil {
		return err
	}
	return h.r.Write(ctx, Caller{Origin: h.origin}, elems)
}

func (h *handle) Read(ctx context.Context, elems []ReadElement) error {
	if err := h.begin(ctx, ReadAccess, true); err != nil {
		return err
	}
	return h.r.Read(elems)
}

func (h *handle) Sections(ctx context.Context, filter SectionFilter, t time.Time) (SectionIterator, error) {
	if filter < SectionsForever || filter > SectionsAny {
		return nil, errorf(ErrInvalidParameter, "section filter %d", filter)
	}
	if err := h.begin(ctx, AnyAccess, true); err != nil {
		return nil, err
	}
	ids, err := h.r.SectionIDs(filter, t)
	if err != nil {
		return nil, err
	}
	describe := func(id []byte) (SectionDescriptor, bool, error) { d, ok := h.r.Describe(id); return d, ok, nil }
	return NewIterator(ids, describe, func() error {
		return CheckAccess(h.l.closed.Load(), h.closed.Load(), h.flags, AnyAccess, h.r.name)
	}), nil
}

func (h *handle) Subscribe(fn func(Update)) error {
	if err := h.begin(context.Background(), AnyAccess, false); err != nil {
		return err
	}
	if h.r.Attributes().Flags&Distributed == 0 {
		return errorf(ErrNotPermitted, "checkpoint %q is not distributed", h.r.name)
	}
	h.r.Subscribe(h.origin, fn)
	return nil
}

func (h *handle) Follow(fn func(Update)) error {
	if err := h.begin(context.Background(), AnyAccess, false); err != nil {
		return err
	}
	h.r.Follow(h.origin, fn)
	return nil
}
