package engine

import (
	"context"
	"fmt"

	"github.com/clckpt/libclckpt/engine/store"
)

// SnapshotCheckpoint cuts a consistent copy of the live checkpoint called name (see
// Replica.Snapshot): every section as of one op, read from one view of the store, without
// blocking writers or readers. It is the entry the backup package uses.
func (l *Local) SnapshotCheckpoint(ctx context.Context, name string, header func(SnapshotHeader) error, section func(*SnapshotSection) error) error {
	if err := checkName(name); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return ctxErr(err)
	}
	l.mu.Lock()
	if l.closed.Load() {
		l.mu.Unlock()
		return ErrClosed
	}
	e := l.byName[name]
	l.mu.Unlock()
	if e == nil {
		return errorf(ErrNotExist, "no checkpoint %q", name)
	}
	return e.r.Snapshot(header, section)
}

// SnapshotCheckpoints cuts the live checkpoints called names from one view of the store: every
// section of every one of them as of one moment, so a change made to one checkpoint before a
// change to another is never missing from the copy while the later one is in it. each is called
// once per name, in order, with a cut that streams that checkpoint's copy as SnapshotCheckpoint
// does; cut must be called during each. A missing name fails before anything is cut.
func (l *Local) SnapshotCheckpoints(ctx context.Context, names []string, each func(i int, cut func(header func(SnapshotHeader) error, section func(*SnapshotSection) error) error) error) error {
	if err := ctx.Err(); err != nil {
		return ctxErr(err)
	}
	reps := make([]*Replica, len(names))
	l.mu.Lock()
	if l.closed.Load() {
		l.mu.Unlock()
		return ErrClosed
	}
	for i, name := range names {
		if e := l.byName[name]; e != nil {
			reps[i] = e.r
		}
	}
	l.mu.Unlock()
	for i, r := range reps {
		if r == nil {
			if err := checkName(names[i]); err != nil {
				return err
			}
			return errorf(ErrNotExist, "no checkpoint %q", names[i])
		}
	}
	return l.store.View(func(v store.Reader) error {
		for i, r := range reps {
			err := each(i, func(header func(SnapshotHeader) error, section func(*SnapshotSection) error) error {
				return r.snapshotFrom(header, section)(v)
			})
			if err != nil {
				return err
			}
		}
		return nil
	})
}

// RestoreCheckpoint makes the checkpoint called name from a snapshot: h gives its attributes and
// position, next its sections until it returns nil. The copy is stored aside first, unseen; then,
// in one atomic write, it becomes the checkpoint of that name. When a checkpoint of that name
// exists, replace must be set (ErrAlreadyExist otherwise) and its attributes must equal h.Attrs
// (ErrAlreadyExist otherwise); it is then deleted in the same write as the copy appears, as by
// Delete: handles open on it keep reading the old content, and an Open made afterwards gets the
// new one, so nobody sees a mix. The result is opened with flags and returned (retention then
// applies at its last close as for any checkpoint).
func (l *Local) RestoreCheckpoint(ctx context.Context, name string, h SnapshotHeader, replace bool, flags OpenFlags, next func() (*SnapshotSection, error)) (Checkpoint, error) {
	if err := ValidateOpen(name, &h.Attrs, flags|OpenCreate); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, ctxErr(err)
	}
	if err := l.checkRestore(name, h.Attrs, replace); err != nil {
		return nil, err
	}
	h.Name = name
	r, err := l.reps.Create(l.reps.NewID(), name, h.Attrs, h.Epoch, true)
	if err != nil {
		return nil, err
	}
	if err := l.reps.fillSections(r, next); err != nil {
		_ = l.reps.Destroy(r)
		return nil, err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if err := l.swapIn(r, h, replace); err != nil {
		_ = l.reps.Destroy(r)
		return nil, err
	}
	e := &entry{r: r, handles: make(map[*handle]struct{})}
	l.byName[name], l.all[r.id] = e, e
	r.SetExpiring(true)
	hd := &handle{l: l, e: e, r: r, flags: flags &^ OpenCreate, origin: fmt.Sprintf("local/%d", l.handleSeq.Add(1))}
	e.opens++
	e.handles[hd] = struct{}{}
	return hd, nil
}

// checkRestore applies the rules on an existing checkpoint of the name before any copying.
func (l *Local) checkRestore(name string, attrs Attributes, replace bool) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed.Load() {
		return ErrClosed
	}
	return checkReplace(l.byName[name], name, attrs, replace)
}

func checkReplace(old *entry, name string, attrs Attributes, replace bool) error {
	switch {
	case old == nil:
		return nil
	case !replace:
		return errorf(ErrAlreadyExist, "checkpoint %q exists", name)
	case old.r.Attributes() != attrs:
		return errorf(ErrAlreadyExist, "checkpoint %q exists with other attributes than the backup's", name)
	}
	return nil
}

// swapIn completes the filled replica r and, in the same store write, unlinks the checkpoint it
// replaces; l.mu is held.
func (l *Local) swapIn(r *Replica, h SnapshotHeader, replace bool) error {
	if l.closed.Load() {
		return ErrClosed
	}
	old := l.byName[h.Name]
	if err := checkReplace(old, h.Name, h.Attrs, replace); err != nil {
		return err
	}
	if old == nil {
		return l.reps.complete(r, h, nil)
	}
	old.r.mu.Lock()
	rec := old.r.record()
	rec.unlinked = true
	err := l.reps.complete(r, h, func(b *store.Batch) { b.Set(recordKey(old.r.id), encodeRecord(rec)) })
	if err == nil {
		old.r.unlinked = true
	}
	old.r.mu.Unlock()
	if err != nil {
		return err
	}
	delete(l.byName, h.Name)
	if old.opens == 0 {
		if err := l.destroy(old); err != nil { // unlinked already: the next start removes it
			l.log.Warn("restore: removing the replaced checkpoint failed", "name", h.Name, "err", err)
		}
	}
	return nil
}
