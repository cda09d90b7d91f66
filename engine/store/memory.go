package store

import (
	"bytes"
	"strings"
	"sync"

	"github.com/google/btree"
)

// Memory is a Store held in the process's memory. It is durable only as long as the process lives;
// tests and volatile services use it.
//
// The keys are in a copy-on-write B-tree (github.com/google/btree): a View takes a clone of it,
// which costs a moment under the lock whatever the store's size, and then reads the clone with no
// lock held, so writers go on during a long view (a backup's cut) instead of waiting for its end.
// Values are private copies, never changed in place, so a clone may share them.
type Memory struct {
	mu     sync.RWMutex
	tree   *btree.BTreeG[memItem]
	closed bool
}

// memItem is one key and its value.
type memItem struct {
	key   string
	value []byte
}

func memLess(a, b memItem) bool { return a.key < b.key }

// memDegree is the B-tree's degree (nodes of up to 2*memDegree-1 items).
const memDegree = 32

// NewMemory returns an empty in-memory store.
func NewMemory() *Memory {
	return &Memory{tree: btree.NewG(memDegree, memLess)}
}

// Get implements Store.
func (m *Memory) Get(key []byte, fn func(value []byte) error) error {
	m.mu.RLock()
	if m.closed {
		m.mu.RUnlock()
		return ErrClosed
	}
	it, ok := m.tree.Get(memItem{key: string(key)})
	m.mu.RUnlock()
	if !ok {
		return ErrNotFound
	}
	return fn(it.value)
}

// Scan implements Store, over a clone of the tree: one snapshot, read without the lock.
func (m *Memory) Scan(prefix []byte, fn func(key, value []byte) error) error {
	t, err := m.clone()
	if err != nil {
		return err
	}
	return scanTree(t, prefix, fn)
}

// View implements Store: fn reads a clone of the tree, taken at once; writers are not held up.
func (m *Memory) View(fn func(r Reader) error) error {
	t, err := m.clone()
	if err != nil {
		return err
	}
	return fn(memoryView{t})
}

// clone returns a copy-on-write clone of the tree. Clone writes to the tree it clones (both share
// its nodes from then on), hence the write lock.
func (m *Memory) clone() (*btree.BTreeG[memItem], error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return nil, ErrClosed
	}
	return m.tree.Clone(), nil
}

// memoryView reads one clone of a Memory's tree.
type memoryView struct{ t *btree.BTreeG[memItem] }

func (v memoryView) Get(key []byte, fn func(value []byte) error) error {
	it, ok := v.t.Get(memItem{key: string(key)})
	if !ok {
		return ErrNotFound
	}
	return fn(it.value)
}

func (v memoryView) Scan(prefix []byte, fn func(key, value []byte) error) error {
	return scanTree(v.t, prefix, fn)
}

func scanTree(t *btree.BTreeG[memItem], prefix []byte, fn func(key, value []byte) error) error {
	p := string(prefix)
	var err error
	t.AscendGreaterOrEqual(memItem{key: p}, func(it memItem) bool {
		if !strings.HasPrefix(it.key, p) {
			return false
		}
		err = fn([]byte(it.key), it.value)
		return err == nil
	})
	return err
}

// Apply implements Store. The batch is applied under the write lock, so readers never see half of it.
func (m *Memory) Apply(b *Batch) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return ErrClosed
	}
	for _, op := range b.ops {
		if op.Delete {
			m.tree.Delete(memItem{key: string(op.Key)})
			continue
		}
		v := bytes.Clone(op.Value)
		if v == nil {
			v = []byte{}
		}
		m.tree.ReplaceOrInsert(memItem{key: string(op.Key), value: v})
	}
	return nil
}

// Close implements Store. Views already taken read on.
func (m *Memory) Close() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return ErrClosed
	}
	m.closed = true
	m.tree = nil
	return nil
}
