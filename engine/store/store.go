// Package store is the byte-level persistence under the checkpoint engine: a small ordered key-value
// interface with two implementations, Memory (tests, volatile services) and Badger (durable).
//
// The engine owns the key layout and the encodings (see engine/FORMAT.md); a Store only promises:
//   - Apply is atomic: after a crash either every operation of a batch is visible or none is;
//   - a batch that Apply returned nil for survives the death of the process (kill -9);
//   - Get and Scan see only applied batches, and Scan sees one consistent snapshot.
package store

import (
	"errors"
)

// ErrNotFound is returned by Get when the key holds no value.
var ErrNotFound = errors.New("store: key not found")

// ErrClosed is returned by every call after Close.
var ErrClosed = errors.New("store: closed")

// ErrTooBig is returned by Apply when a batch exceeds what the store can apply atomically.
// Callers split such work into several batches.
var ErrTooBig = errors.New("store: batch too big for one atomic write")

// Reader reads a store.
type Reader interface {
	// Get calls fn with the value stored under key. The slice is only valid during fn and must not be
	// modified. It returns ErrNotFound when the key is absent, or fn's error.
	Get(key []byte, fn func(value []byte) error) error
	// Scan calls fn for every key that starts with prefix, in ascending byte order, over one
	// consistent snapshot. key and value are only valid during fn, and fn must not call the Store.
	// A non-nil error from fn stops the scan and is returned.
	Scan(prefix []byte, fn func(key, value []byte) error) error
}

// Store is an ordered key-value store. Implementations are safe for concurrent use.
type Store interface {
	Reader
	// View calls fn with a Reader on one consistent snapshot of the store: every Get and Scan inside
	// sees the same applied batches. fn must not call the Store itself.
	View(fn func(r Reader) error) error
	// Apply writes every operation of b atomically. b's slices may be reused once Apply returns.
	Apply(b *Batch) error
	// Close releases the store. Later calls return ErrClosed.
	Close() error
}

// Batch is a list of sets and deletes applied together by Store.Apply. The zero value is empty and
// ready to use. A Batch keeps references to the slices it is given until it is reset.
type Batch struct {
	ops    []Op
	size   int
	inline [3]Op // the ops of a small batch (a write is two or three): no growing slice
}

// Op is one operation of a Batch. A nil Value with Delete set removes the key.
type Op struct {
	Key    []byte
	Value  []byte
	Delete bool

	barrier bool // in the Badger store's log only (wal.go)
}

// Set records that key must hold value.
func (b *Batch) Set(key, value []byte) {
	if b.ops == nil {
		b.ops = b.inline[:0]
	}
	b.ops = append(b.ops, Op{Key: key, Value: value})
	b.size += len(key) + len(value)
}

// Delete records that key must be removed.
func (b *Batch) Delete(key []byte) {
	if b.ops == nil {
		b.ops = b.inline[:0]
	}
	b.ops = append(b.ops, Op{Key: key, Delete: true})
	b.size += len(key)
}

// Ops returns the operations in the order they were added.
func (b *Batch) Ops() []Op { return b.ops }

// Len is the number of operations.
func (b *Batch) Len() int { return len(b.ops) }

// Size is the number of key and value bytes in the batch.
func (b *Batch) Size() int { return b.size }

// Reset empties the batch, keeping its capacity.
func (b *Batch) Reset() {
	clear(b.ops)
	b.ops = b.ops[:0]
	b.size = 0
}
