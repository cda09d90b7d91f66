package store

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/dgraph-io/badger/v4"
)

// A store whose filesystem is too full to open it for writing (less than half the reserve plus a
// memtable and the log's size free) is opened read-only: Badger in read-only mode, writing nothing,
// and the write-ahead log read into memory rather than replayed into Badger. Reads see everything
// that was acknowledged (the log's batches over Badger's data); every Apply fails with ErrDiskFull.
// It stays so until it is closed and opened again with space.

// openReadOnly finishes OpenBadger for a read-only store: the log's batches become the pending
// values that reads look at first.
func (b *Badger) openReadOnly(full error) (*Badger, error) {
	b.full = full
	f, err := os.Open(filepath.Join(b.space.dir, "clckpt.wal"))
	if errors.Is(err, fs.ErrNotExist) {
		f, err = os.Open(os.DevNull) // no log: an empty one, without creating a file
	}
	if err != nil {
		b.db.Close()
		return nil, fmt.Errorf("store: open the write-ahead log: %w", err)
	}
	b.wal = &wal{f: f}
	if _, err := b.wal.read(func(ops []Op) error {
		for _, op := range ops {
			b.pending[string(op.Key)] = pendingValue{value: op.Value, deleted: op.Delete}
		}
		return nil
	}); err != nil {
		b.wal.close()
		b.db.Close()
		return nil, fmt.Errorf("store: read the write-ahead log: %w", err)
	}
	b.log.Warn("the data directory's filesystem is full: the store is opened read-only, writes fail until it is reopened with space",
		"err", full, "logged_keys", len(b.pending))
	return b, nil
}

// overlay is the Reader of a read-only store: the log's values over Badger's (the pending map
// does not change once the store is open).
type overlay struct {
	view    badgerView
	pending map[string]pendingValue
}

func (o overlay) Get(key []byte, fn func(value []byte) error) error {
	if p, ok := o.pending[string(key)]; ok {
		if p.deleted {
			return ErrNotFound
		}
		return fn(p.value)
	}
	return o.view.Get(key, fn)
}

// Scan merges the log's keys under prefix into Badger's, in key order.
func (o overlay) Scan(prefix []byte, fn func(key, value []byte) error) error {
	var keys []string
	for k := range o.pending {
		if strings.HasPrefix(k, string(prefix)) {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	emit := func(k string) error {
		if p := o.pending[k]; !p.deleted {
			return fn([]byte(k), p.value)
		}
		return nil
	}
	i := 0
	err := o.view.Scan(prefix, func(key, value []byte) error {
		for ; i < len(keys) && keys[i] < string(key); i++ {
			if err := emit(keys[i]); err != nil {
				return err
			}
		}
		if i < len(keys) && keys[i] == string(key) {
			i++
			return emit(string(key))
		}
		return fn(key, value)
	})
	if err != nil {
		return err
	}
	for ; i < len(keys); i++ {
		if err := emit(keys[i]); err != nil {
			return err
		}
	}
	return nil
}

// readOnlyView is View for a read-only store.
func (b *Badger) readOnlyView(fn func(r Reader) error) error {
	return b.mapErr(b.db.View(func(txn *badger.Txn) error { return fn(overlay{badgerView{txn}, b.pending}) }))
}
