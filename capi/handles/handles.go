// Package handles implements the C library's handle tables: one table per kind of handle. A handle
// is a non-zero number below 2^32 (programs keep handles in unsigned int) whose top two bits name its
// kind, so a handle of another kind is never found. Numbers are not reused until 2^30 handles of
// the kind have been issued, so a stale handle fails instead of reaching a newer object.
package handles

import (
	"errors"
	"sync"
)

// Kind is the kind of object a handle names.
type Kind uint32

const (
	Backup     Kind = 0 // backup wait objects and query handles (clCkptBackup.h)
	Service    Kind = 1
	Checkpoint Kind = 2
	Iterator   Kind = 3
)

const (
	kindShift = 30
	indexMask = 1<<kindShift - 1
)

// ErrFull is returned when every number of a kind is in use.
var ErrFull = errors.New("handles: table full")

// Table maps the handles of one kind to their objects. It is safe for concurrent use.
type Table[T any] struct {
	kind Kind
	mu   sync.RWMutex
	m    map[uint32]T
	last uint32 // last index issued
}

// New returns an empty table for kind.
func New[T any](kind Kind) *Table[T] {
	return &Table[T]{kind: kind, m: make(map[uint32]T)}
}

// Add stores v under a new handle.
func (t *Table[T]) Add(v T) (uint64, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.m) >= indexMask {
		return 0, ErrFull
	}
	for {
		t.last = (t.last + 1) & indexMask
		if t.last == 0 {
			continue
		}
		h := uint32(t.kind)<<kindShift | t.last
		if _, used := t.m[h]; !used {
			t.m[h] = v
			return uint64(h), nil
		}
	}
}

// Get returns the object of handle h, if h is a live handle of this table's kind.
func (t *Table[T]) Get(h uint64) (T, bool) {
	t.mu.RLock()
	v, ok := t.m[t.key(h)]
	t.mu.RUnlock()
	return v, ok
}

// Remove deletes handle h and returns its object.
func (t *Table[T]) Remove(h uint64) (T, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	k := t.key(h)
	v, ok := t.m[k]
	if ok {
		delete(t.m, k)
	}
	return v, ok
}

// Len is the number of live handles.
func (t *Table[T]) Len() int {
	t.mu.RLock()
	defer t.mu.RUnlock()
	return len(t.m)
}

// key maps h to its map key; a value that cannot be a handle of this kind maps to 0, never used.
func (t *Table[T]) key(h uint64) uint32 {
	if h > 0xFFFFFFFF || Kind(h>>kindShift) != t.kind {
		return 0
	}
	return uint32(h)
}
