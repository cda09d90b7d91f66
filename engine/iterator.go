package engine

import (
	"bytes"
	"sync"
)

// iterator walks a snapshot of section ids taken by Checkpoint.Sections. Sections deleted since are
// skipped; sections created since are not returned.
type iterator struct {
	h *handle

	mu     sync.Mutex
	ids    [][]byte
	next   int
	closed bool
}

var _ SectionIterator = (*iterator)(nil)

func (it *iterator) Next() (SectionDescriptor, error) {
	it.mu.Lock()
	defer it.mu.Unlock()
	if it.closed || it.h.closed.Load() {
		return SectionDescriptor{}, ErrBadHandle
	}
	if it.h.l.closed.Load() {
		return SectionDescriptor{}, ErrClosed
	}
	c := it.h.c
	c.mu.RLock()
	defer c.mu.RUnlock()
	for it.next < len(it.ids) {
		id := it.ids[it.next]
		it.next++
		s := c.sections[string(id)]
		if s == nil {
			continue
		}
		return SectionDescriptor{
			ID:         bytes.Clone(s.id),
			Expiration: fromNanos(s.expiration),
			Size:       s.size,
			State:      s.state,
			LastUpdate: fromNanos(s.lastUpdate),
		}, nil
	}
	return SectionDescriptor{}, ErrNoSections
}

func (it *iterator) Close() error {
	it.mu.Lock()
	defer it.mu.Unlock()
	if it.closed {
		return ErrBadHandle
	}
	it.closed = true
	it.ids = nil
	return nil
}
