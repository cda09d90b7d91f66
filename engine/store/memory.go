package store

import (
	"bytes"
	"slices"
	"strings"
	"sync"
)

// Memory is a Store held in the process's memory. It is durable only as long as the process lives;
// tests and volatile services use it.
type Memory struct {
	mu     sync.RWMutex
	values map[string][]byte // private copies of the values
	sorted []string          // sorted keys, rebuilt by Scan after a change; nil when stale
	closed bool
}

// NewMemory returns an empty in-memory store.
func NewMemory() *Memory {
	return &Memory{values: make(map[string][]byte)}
}

// Get implements Store.
func (m *Memory) Get(key []byte, fn func(value []byte) error) error {
	m.mu.RLock()
	defer m.mu.RUnlock()
	if m.closed {
		return ErrClosed
	}
	v, ok := m.values[string(key)]
	if !ok {
		return ErrNotFound
	}
	return fn(v)
}

// Scan implements Store. The keys are sorted on the first scan after a change. The lock is held for
// the whole scan, which makes it a snapshot.
func (m *Memory) Scan(prefix []byte, fn func(key, value []byte) error) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return ErrClosed
	}
	return m.scanLocked(prefix, fn)
}

// View implements Store: the lock is held while fn runs.
func (m *Memory) View(fn func(r Reader) error) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return ErrClosed
	}
	return fn(memoryView{m})
}

// memoryView reads a Memory whose lock its View holds.
type memoryView struct{ m *Memory }

func (v memoryView) Get(key []byte, fn func(value []byte) error) error {
	val, ok := v.m.values[string(key)]
	if !ok {
		return ErrNotFound
	}
	return fn(val)
}

func (v memoryView) Scan(prefix []byte, fn func(key, value []byte) error) error {
	return v.m.scanLocked(prefix, fn)
}

func (m *Memory) scanLocked(prefix []byte, fn func(key, value []byte) error) error {
	if m.sorted == nil {
		m.sorted = make([]string, 0, len(m.values))
		for k := range m.values {
			m.sorted = append(m.sorted, k)
		}
		slices.Sort(m.sorted)
	}
	p := string(prefix)
	i, _ := slices.BinarySearch(m.sorted, p)
	for ; i < len(m.sorted) && strings.HasPrefix(m.sorted[i], p); i++ {
		if err := fn([]byte(m.sorted[i]), m.values[m.sorted[i]]); err != nil {
			return err
		}
	}
	return nil
}

// Apply implements Store. The batch is applied under the write lock, so readers never see half of it.
func (m *Memory) Apply(b *Batch) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return ErrClosed
	}
	for _, op := range b.ops {
		k := string(op.Key)
		_, existed := m.values[k]
		if op.Delete {
			delete(m.values, k)
		} else {
			v := bytes.Clone(op.Value)
			if v == nil {
				v = []byte{}
			}
			m.values[k] = v
		}
		if existed == op.Delete { // a key appeared or disappeared
			m.sorted = nil
		}
	}
	return nil
}

// Close implements Store.
func (m *Memory) Close() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return ErrClosed
	}
	m.closed = true
	m.values = nil
	m.sorted = nil
	return nil
}
