package store

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/dgraph-io/badger/v4"
	"github.com/dgraph-io/badger/v4/options"
)

// BadgerOptions configures a Badger store. The zero value of every field picks the small-footprint
// default documented beside it.
type BadgerOptions struct {
	// Dir is the data directory. It is created with mode 0700 when missing. Required.
	Dir string
	// SyncWrites makes every Apply wait for fsync. Without it an applied batch survives the death of
	// the process but not the loss of power or of the kernel; replicas on other members cover that.
	SyncWrites bool
	// MemTableSize is the size of one memtable (default 16 MiB; two are kept).
	MemTableSize int64
	// ValueThreshold: values of at least this many bytes go to the value log instead of the LSM tree
	// (default 1 KiB). Reads of value-log entries are served from a memory map and stay fast without a
	// block cache.
	ValueThreshold int64
	// ValueLogFileSize bounds one value-log file (default 256 MiB). The largest value Apply accepts is
	// half of it.
	ValueLogFileSize int64
	// GCInterval is how often value-log garbage collection runs (default 1 minute; negative: never).
	GCInterval time.Duration
	// Logger receives Badger's warnings and errors (default: discarded).
	Logger *slog.Logger
}

func (o *BadgerOptions) withDefaults() BadgerOptions {
	r := *o
	if r.MemTableSize == 0 {
		r.MemTableSize = 16 << 20
	}
	if r.ValueThreshold == 0 {
		r.ValueThreshold = 1 << 10
	}
	if r.ValueLogFileSize == 0 {
		r.ValueLogFileSize = 256 << 20
	}
	if r.GCInterval == 0 {
		r.GCInterval = time.Minute
	}
	return r
}

// Badger is a Store on a Badger database in one directory. Only one Badger store (in any process)
// can have a directory open at a time.
type Badger struct {
	db       *badger.DB
	maxValue int64
	stop     chan struct{}
	gcDone   sync.WaitGroup
	closeMu  sync.Mutex
	closed   bool
}

// OpenBadger opens (creating if needed) the Badger database in opts.Dir.
func OpenBadger(opts BadgerOptions) (*Badger, error) {
	o := opts.withDefaults()
	if o.Dir == "" {
		return nil, errors.New("store: BadgerOptions.Dir is required")
	}
	if o.ValueThreshold > o.MemTableSize*15/100 {
		return nil, fmt.Errorf("store: ValueThreshold %d must not exceed 15%% of MemTableSize %d", o.ValueThreshold, o.MemTableSize)
	}
	if err := os.MkdirAll(o.Dir, 0o700); err != nil {
		return nil, fmt.Errorf("store: create data directory: %w", err)
	}
	bo := badger.DefaultOptions(o.Dir).
		WithLogger(badgerLogger{o.Logger}).
		WithMetricsEnabled(false).
		WithSyncWrites(o.SyncWrites).
		WithMemTableSize(o.MemTableSize).
		WithNumMemtables(2).
		WithValueThreshold(o.ValueThreshold).
		WithValueLogFileSize(o.ValueLogFileSize).
		WithBlockCacheSize(0).
		WithIndexCacheSize(0).
		WithCompression(options.None).
		WithNumLevelZeroTables(4).
		WithNumLevelZeroTablesStall(10).
		WithNumCompactors(2).
		WithDetectConflicts(false) // the engine serialises writers itself
	db, err := badger.Open(bo)
	if err != nil {
		return nil, fmt.Errorf("store: open badger in %s: %w", o.Dir, err)
	}
	b := &Badger{db: db, maxValue: o.ValueLogFileSize / 2, stop: make(chan struct{})}
	if o.GCInterval > 0 {
		b.gcDone.Add(1)
		go b.collectGarbage(o.GCInterval)
	}
	return b, nil
}

// collectGarbage rewrites value-log files that are at least half garbage; overwritten sections leave
// their old values behind in the log.
func (b *Badger) collectGarbage(every time.Duration) {
	defer b.gcDone.Done()
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-b.stop:
			return
		case <-t.C:
			for b.db.RunValueLogGC(0.5) == nil {
				select {
				case <-b.stop:
					return
				default:
				}
			}
		}
	}
}

// Get implements Store.
func (b *Badger) Get(key []byte, fn func(value []byte) error) error {
	return b.mapErr(b.db.View(func(txn *badger.Txn) error { return badgerView{txn}.get(key, fn) }))
}

// Scan implements Store.
func (b *Badger) Scan(prefix []byte, fn func(key, value []byte) error) error {
	return b.mapErr(b.db.View(func(txn *badger.Txn) error { return badgerView{txn}.scan(prefix, fn) }))
}

// View implements Store with one read transaction: Badger's snapshot isolation makes it consistent
// without blocking writers.
func (b *Badger) View(fn func(r Reader) error) error {
	return b.mapErr(b.db.View(func(txn *badger.Txn) error { return fn(badgerView{txn}) }))
}

type badgerView struct{ txn *badger.Txn }

func (v badgerView) Get(key []byte, fn func(value []byte) error) error {
	return (&Badger{}).mapErr(v.get(key, fn))
}

func (v badgerView) Scan(prefix []byte, fn func(key, value []byte) error) error {
	return (&Badger{}).mapErr(v.scan(prefix, fn))
}

func (v badgerView) get(key []byte, fn func(value []byte) error) error {
	item, err := v.txn.Get(key)
	if err != nil {
		return err
	}
	return item.Value(fn)
}

func (v badgerView) scan(prefix []byte, fn func(key, value []byte) error) error {
	it := v.txn.NewIterator(badger.IteratorOptions{Prefix: prefix, PrefetchValues: false})
	defer it.Close()
	for it.Seek(prefix); it.ValidForPrefix(prefix); it.Next() {
		item := it.Item()
		key := item.Key()
		if err := item.Value(func(v []byte) error { return fn(key, v) }); err != nil {
			return err
		}
	}
	return nil
}

// Apply implements Store.
func (b *Badger) Apply(batch *Batch) error {
	for _, op := range batch.ops {
		if int64(len(op.Value)) > b.maxValue {
			return fmt.Errorf("%w: value of %d bytes exceeds the store's limit of %d", ErrTooBig, len(op.Value), b.maxValue)
		}
	}
	err := b.db.Update(func(txn *badger.Txn) error {
		for _, op := range batch.ops {
			var err error
			if op.Delete {
				err = txn.Delete(op.Key)
			} else {
				err = txn.Set(op.Key, op.Value)
			}
			if err != nil {
				return err
			}
		}
		return nil
	})
	return b.mapErr(err)
}

func (*Badger) mapErr(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, badger.ErrKeyNotFound):
		return ErrNotFound
	case errors.Is(err, badger.ErrDBClosed):
		return ErrClosed
	case errors.Is(err, badger.ErrTxnTooBig):
		return fmt.Errorf("%w: %v", ErrTooBig, err)
	}
	return err
}

// Close implements Store.
func (b *Badger) Close() error {
	b.closeMu.Lock()
	defer b.closeMu.Unlock()
	if b.closed {
		return ErrClosed
	}
	b.closed = true
	close(b.stop)
	b.gcDone.Wait()
	return b.db.Close()
}

// badgerLogger forwards Badger's warnings and errors to a slog.Logger and drops the chatter.
type badgerLogger struct{ l *slog.Logger }

func (l badgerLogger) Errorf(f string, a ...any) {
	if l.l != nil {
		l.l.Error("badger: " + fmt.Sprintf(f, a...))
	}
}
func (l badgerLogger) Warningf(f string, a ...any) {
	if l.l != nil {
		l.l.Warn("badger: " + fmt.Sprintf(f, a...))
	}
}
func (badgerLogger) Infof(string, ...any)  {}
func (badgerLogger) Debugf(string, ...any) {}
