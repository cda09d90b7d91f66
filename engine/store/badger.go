package store

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dgraph-io/badger/v4"
	"github.com/dgraph-io/badger/v4/options"

	"github.com/clckpt/libclckpt/internal/privdir"
)

// BadgerOptions configures a Badger store. The zero value of every field picks the small-footprint
// default documented beside it.
type BadgerOptions struct {
	// Dir is the data directory, the store's alone: it is made private (internal/privdir: 0700,
	// files 0600). Required.
	Dir string
	// SyncWrites makes every Apply wait for fsync. Without it an applied batch survives the death of
	// the process but not the loss of power or of the kernel; replicas on other members cover that.
	SyncWrites bool
	// MemTableSize is the size of one memtable (default DefaultMemTableSize; two are kept; at least
	// MinMemTableSize and at most half the reserve, which must hold a memtable's flush).
	MemTableSize int64
	// ValueThreshold: values of at least this many bytes go to the value log instead of the LSM tree
	// (default 1 KiB). Reads of value-log entries are served from a memory map and stay fast without a
	// block cache.
	ValueThreshold int64
	// ValueLogFileSize bounds one value-log file (default 64 MiB). The largest value Apply accepts is
	// that size (64 MiB, the largest section). Garbage is collected a file at a time and the file being
	// written is never collected, so the value log can hold about two files beyond twice its live
	// values (README, "Sizing a disk"): smaller files keep the directory smaller.
	ValueLogFileSize int64
	// GCInterval is how often value-log garbage collection runs (default 1 minute; negative: never);
	// it also runs after every half value-log file of growth and when a write is refused for lack
	// of space (vlog_gc.go).
	GCInterval time.Duration
	// Logger receives Badger's warnings and errors (default: discarded).
	Logger *slog.Logger
	// Reserve is the free space kept on the data directory's filesystem (default DefaultReserve,
	// at least MinReserve): Apply refuses batches below it (see space.go).
	Reserve int64
}

const (
	// DefaultMemTableSize is the size of a memtable by default.
	DefaultMemTableSize = 8 << 20
	// MinMemTableSize is the smallest memtable OpenBadger is given by the configuration: Badger's
	// largest atomic write is a share (15%) of it.
	MinMemTableSize = 1 << 20
)

func (o *BadgerOptions) withDefaults() BadgerOptions {
	r := *o
	if r.MemTableSize == 0 {
		r.MemTableSize = DefaultMemTableSize
	}
	if r.ValueThreshold == 0 {
		r.ValueThreshold = 1 << 10
	}
	if r.ValueLogFileSize == 0 {
		r.ValueLogFileSize = 64 << 20
	}
	if r.GCInterval == 0 {
		r.GCInterval = time.Minute
	}
	if r.Reserve == 0 {
		r.Reserve = DefaultReserve
	}
	return r
}

// Badger is a Store on a Badger database in one directory, with a write-ahead log in front (see
// wal.go): Apply returns once the batch is in the log; a goroutine commits batches to Badger in
// order, grouping them. Only one Badger store (in any process) can have a directory open at a time.
type Badger struct {
	db          *badger.DB
	commitDelay time.Duration // commitDelay, or syncCommitDelay with SyncWrites
	log         *slog.Logger
	maxValue    int64
	threshold   int64
	stop        chan struct{}
	gcDone      sync.WaitGroup // the collector and the writeback goroutines
	closeMu     sync.Mutex
	closed      bool

	mu      sync.RWMutex
	drained *sync.Cond // signalled (with mu) when applied moves
	wal     *wal
	pending map[string]pendingValue // applied to the log, not yet to Badger
	queue   []*logged               // batches for the applier, in order
	seq     uint64                  // last batch logged
	applied uint64                  // last batch committed to Badger
	kick    chan struct{}           // a batch came to an empty queue
	hurry   chan struct{}           // commit what is queued now, without waiting for more
	applier sync.WaitGroup
	failed  error // the last error of the applier, while it retries
	backlog int   // bytes of logged batches not yet in Badger
	held    error // set while the applier waits for disk space (ErrDiskFull)

	refusedLogged atomic.Int64 // when a refusal for lack of space was last logged (ns)

	space        *space
	memTableSize int64
	vlogFileSize int64

	// Value-log garbage collection (vlog_gc.go).
	logged      atomic.Int64  // bytes of values committed to the value log
	gcKick      chan struct{} // the value log grew by gcEvery, or a write was refused for space
	gcRan       int64         // logged when the collector last ran (collector goroutine only)
	gcRefreshed int64         // logged when the discard counts were last refreshed (same)
	pressed     atomic.Bool   // a write was refused for lack of space since the collector last ran
	wbKick      chan struct{} // the value log grew by writebackEvery (writeback.go)
	// replaced is set when a commit may have made garbage (a delete, or a set of a key that had a
	// value) since the garbage counts were last refreshed; true at open (the history is unknown).
	replaced atomic.Bool
	// commitGate keeps commits (read-locked) apart from the collector's Badger calls (locked):
	// Badger refuses every write while refreshDiscard's DropPrefix runs (ErrBlockedWrites), and
	// its value-log rewrite reads the memtable's newest version without the writers' lock
	// (value.go, rewrite -> MaxVersion: a data race with a commit). A commit waits for them.
	commitGate sync.RWMutex
	// gcRound is closed when the collector's next run ends (nil without a collector).
	gcMu    sync.Mutex
	gcRound chan struct{}

	counts *counters // (counters.go)

	// full is set when the store was opened read-only because its filesystem was too full to
	// open it for writing (see OpenBadger): every Apply returns it.
	full error
}

// maxBacklog bounds the memory held by batches waiting for Badger: past it, Apply waits for the
// applier (flow control, so that a writer faster than Badger does not grow the process).
const maxBacklog = 4 << 20

// pendingValue is the newest value of a key that is logged but not yet in Badger.
type pendingValue struct {
	value   []byte // nil with deleted
	deleted bool
	seq     uint64
}

// logged is a batch in the log, waiting for the applier.
type logged struct {
	seq  uint64
	ops  []Op // keys and values point into the record
	size int  // bytes of the record
}

// walReset is the size above which the log is emptied once everything in it is in Badger.
const walReset = 16 << 20

// OpenBadger opens (creating if needed) the Badger database in opts.Dir.
func OpenBadger(opts BadgerOptions) (*Badger, error) {
	o := opts.withDefaults()
	if o.Dir == "" {
		return nil, errors.New("store: BadgerOptions.Dir is required")
	}
	if o.ValueThreshold > o.MemTableSize*15/100 {
		return nil, fmt.Errorf("store: ValueThreshold %d must not exceed 15%% of MemTableSize %d", o.ValueThreshold, o.MemTableSize)
	}
	if o.Reserve < MinReserve {
		return nil, fmt.Errorf("store: a reserve of %d bytes is below the minimum of %d", o.Reserve, MinReserve)
	}
	if o.MemTableSize > o.Reserve/2 {
		return nil, fmt.Errorf("store: a memtable of %d bytes needs a reserve of at least twice that (reserve: %d)", o.MemTableSize, o.Reserve)
	}
	if fi, err := os.Stat(o.Dir); err == nil && !fi.IsDir() {
		return nil, fmt.Errorf("store: %s is not a directory", o.Dir)
	}
	if err := privdir.Own(o.Dir); err != nil {
		return nil, fmt.Errorf("store: create data directory %s: %w", o.Dir, err)
	}
	if err := checkBefore(o.Dir); err != nil {
		return nil, err
	}
	sp := &space{dir: o.Dir, reserve: o.Reserve}
	// Opening writes (Badger's memtable, the log's replay): never with the filesystem nearly full.
	need := o.MemTableSize
	if fi, err := os.Stat(filepath.Join(o.Dir, "clckpt.wal")); err == nil {
		need += fi.Size()
	}
	var full error
	if ok, free := sp.enough(need); !ok {
		if _, err := os.Stat(filepath.Join(o.Dir, "MANIFEST")); err != nil { // no store to read
			return nil, fmt.Errorf("store: cannot open: %w", fullError(o.Dir, free, o.Reserve/2+need))
		}
		full = fmt.Errorf("store: opened read-only: %w", fullError(o.Dir, free, o.Reserve/2+need))
	}
	counts := &counters{}
	bo := badger.DefaultOptions(o.Dir).
		WithReadOnly(full != nil).
		WithLogger(badgerLogger{o.Logger, counts}).
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
	b := &Badger{counts: counts, db: db, log: o.Logger, maxValue: o.ValueLogFileSize, threshold: o.ValueThreshold,
		stop: make(chan struct{}), pending: make(map[string]pendingValue), kick: make(chan struct{}, 1), hurry: make(chan struct{}, 1),
		gcKick: make(chan struct{}, 1), wbKick: make(chan struct{}, 1), space: sp, commitDelay: commitDelay, memTableSize: o.MemTableSize, vlogFileSize: o.ValueLogFileSize}
	if b.log == nil {
		b.log = slog.New(slog.DiscardHandler)
	}
	if o.SyncWrites {
		b.commitDelay = syncCommitDelay
	}
	if err := checkValues(db, o.Dir); err != nil {
		db.Close()
		return nil, err
	}
	b.drained = sync.NewCond(&b.mu)
	b.replaced.Store(true)
	if full != nil {
		return b.openReadOnly(full)
	}
	if b.wal, err = openWAL(filepath.Join(o.Dir, "clckpt.wal"), o.SyncWrites); err != nil {
		db.Close()
		return nil, fmt.Errorf("store: open the write-ahead log: %w", err)
	}
	// Whatever the log holds was acknowledged: make sure Badger has it (again, possibly).
	if err := b.wal.replay(func(ops []Op) error { return b.commit([]*logged{{ops: ops}}) }); err != nil {
		b.wal.close()
		db.Close()
		return nil, fmt.Errorf("store: replay the write-ahead log: %w", err)
	}
	if err := b.wal.reset(); err != nil {
		b.wal.close()
		db.Close()
		return nil, walError("reset", err)
	}
	b.applier.Add(1)
	go b.applyLoop()
	b.gcDone.Add(1)
	go b.writebackLoop(o.Dir)
	if o.GCInterval > 0 {
		b.gcRound = make(chan struct{})
		b.gcDone.Add(1)
		go b.collectGarbage(o.GCInterval)
	}
	return b, nil
}

// Get implements Store: the newest logged value, else Badger's.
func (b *Badger) Get(key []byte, fn func(value []byte) error) error {
	b.mu.RLock()
	if b.closed {
		b.mu.RUnlock()
		return ErrClosed
	}
	p, ok := b.pending[string(key)]
	if ok {
		defer b.mu.RUnlock()
		if p.deleted {
			return ErrNotFound
		}
		return fn(p.value)
	}
	b.mu.RUnlock()
	return b.mapErr(b.db.View(func(txn *badger.Txn) error { return badgerView{txn}.get(key, fn) }))
}

// Scan implements Store.
func (b *Badger) Scan(prefix []byte, fn func(key, value []byte) error) error {
	return b.View(func(r Reader) error { return r.Scan(prefix, fn) })
}

// View implements Store with one Badger read transaction, started once every batch applied before
// the call is in Badger: Badger's snapshot isolation makes it consistent without blocking writers.
func (b *Badger) View(fn func(r Reader) error) error {
	if b.full != nil {
		return b.readOnlyView(fn)
	}
	if err := b.drain(); err != nil {
		return err
	}
	return b.mapErr(b.db.View(func(txn *badger.Txn) error { return fn(badgerView{txn}) }))
}

// drain waits until every batch logged so far is in Badger.
func (b *Badger) drain() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	target := b.seq
	if b.applied < target {
		poke(b.hurry)
	}
	for b.applied < target && !b.closed && b.held == nil {
		b.drained.Wait()
	}
	if b.closed {
		return ErrClosed
	}
	if b.applied < target {
		return b.held // the log holds what Badger lacks until space returns
	}
	return nil
}

// logBarrier logs the barrier record of a bulk batch (see wal.go).
func (b *Badger) logBarrier(batch *Batch) error {
	rec := encodeBarrier(batch)
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return ErrClosed
	}
	if err := b.wal.append(rec); err != nil {
		return walError("append", err)
	}
	return nil
}

// refuse returns ErrDiskFull if batch would leave less than the reserve free. Short of space, it
// first empties the log if Badger holds everything in it, then waits for a run of the value-log
// collector (at most gcWait): the garbage of overwritten values may be what takes the space, and a
// write is refused only if it does not fit once that is collected. A batch that deletes and writes little
// (a section deleted to make room) only needs half the reserve: a full store can still be emptied.
func (b *Badger) refuse(batch *Batch) error {
	deletes, values := false, 0
	for _, op := range batch.ops {
		deletes = deletes || op.Delete
		values += len(op.Value)
	}
	freeing := deletes && values < 4<<10
	err := b.space.check(int64(batch.size), freeing)
	if err != nil && b.emptyLog() {
		err = b.space.check(int64(batch.size), freeing)
	}
	if err != nil && b.collected() {
		// The value log held garbage: what its collection gave back may be enough.
		b.emptyLog()
		b.space.forget()
		err = b.space.check(int64(batch.size), freeing)
	}
	if err != nil {
		b.pressed.Store(true)
		poke(b.gcKick)
		// Once a minute at most: near the limit writes go back and forth between refused and not.
		if now := time.Now().UnixNano(); now-b.refusedLogged.Load() > int64(time.Minute) {
			b.refusedLogged.Store(now)
			b.log.Error("disk nearly full: writes are refused until space is freed", "err", err)
		}
		return err
	}
	return nil // if the applier holds, it sees the space at its next look (see waitForSpace)
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
		if bytes.HasPrefix(key, gcBallastPrefix) {
			continue // the collector's (vlog_gc.go), not the caller's
		}
		if err := item.Value(func(v []byte) error { return fn(key, v) }); err != nil {
			return err
		}
	}
	return nil
}

// bulkBatch: a batch at least this large goes straight to Badger. The log is there to make small
// writes cheap; for a large one the copies into the log cost more than Badger's goroutine hand-offs.
const bulkBatch = 1 << 20

// Apply implements Store: the batch is appended to the log (one write, on the caller's thread) and
// its values become visible at once; the applier commits it to Badger. A bulk batch is committed to
// Badger directly, once everything logged before it is.
func (b *Badger) Apply(batch *Batch) error {
	if b.full != nil {
		return b.full
	}
	if err := b.fits(batch.ops); err != nil {
		return err
	}
	if err := b.refuse(batch); err != nil {
		return err
	}
	if batch.size >= bulkBatch {
		// Everything logged before must be in Badger first, and the log must say that this
		// batch's keys were written past it, or a replay would put their older values back.
		if err := b.drain(); err != nil {
			return err
		}
		if err := b.logBarrier(batch); err != nil {
			return err
		}
		return b.mapErr(b.commit([]*logged{{ops: batch.ops}}))
	}
	rec := encodeRecord(batch)
	ops, err := decodePayload(rec[walHeader:])
	if err != nil {
		return err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	for b.backlog > maxBacklog && !b.closed && b.held == nil {
		b.drained.Wait()
	}
	// A log past walReset is emptied before it grows further: once Badger has what it holds (at
	// most maxBacklog behind), which bounds the log's size on disk under any write pattern.
	for b.wal.size > walReset && b.applied < b.seq && !b.closed && b.held == nil {
		poke(b.hurry)
		b.drained.Wait()
	}
	if b.closed {
		return ErrClosed
	}
	if b.held != nil && b.backlog > maxBacklog {
		return b.held // the backlog waits for space: do not wait with it
	}
	if b.wal.size > walReset && b.applied == b.seq && len(b.queue) == 0 {
		if err := b.wal.reset(); err != nil {
			b.log.Warn("emptying the write-ahead log", "err", err)
		}
	}
	if err := b.wal.append(rec); err != nil {
		if isENOSPC(err) {
			return fmt.Errorf("%w: %w", ErrDiskFull, walError("append", err))
		}
		return walError("append", err) // nothing was acknowledged
	}
	b.seq++
	b.backlog += len(rec)
	for _, op := range ops {
		b.pending[string(op.Key)] = pendingValue{value: op.Value, deleted: op.Delete, seq: b.seq}
	}
	b.queue = append(b.queue, &logged{seq: b.seq, ops: ops, size: len(rec)})
	if len(b.queue) == 1 { // the applier may be idle: wake it (later batches join this one)
		poke(b.kick)
	}
	if b.backlog > maxBacklog/2 {
		poke(b.hurry)
	}
	return nil
}

// poke sends on a channel of capacity 1 without waiting.
func poke(ch chan struct{}) {
	select {
	case ch <- struct{}{}:
	default:
	}
}

// commitDelay is how long the applier, woken by the first batch after a pause, lets more batches
// gather before it commits: one Badger transaction (and one wake of the applier) then serves many
// writes instead of one each, and a writer does not wake it at every write. Nothing waits for the
// commit: reads see logged batches (pending), and what must reach Badger first (drain, a large
// backlog) hurries it.
const commitDelay = time.Millisecond

// syncCommitDelay replaces commitDelay with SyncWrites, where each Badger commit also syncs Badger's
// own log: a second disk flush beside the write-ahead log's, which the next write's fsync then finds
// the disk busy with. Gathering 20 ms of writes into one commit makes that flush one per many writes
// instead of one per write or two (a WR_ALL_REPLICAS write with fsync on every member: p50 28-43%
// and p99 28-60% lower in two A/B runs, BENCHMARKS.md section 2). What a write's acknowledgement
// means does not change: it waits for the log's fsync as before, reads see the batches that wait
// (pending), and a drain or a large backlog hurries the commit as before.
const syncCommitDelay = 20 * time.Millisecond

// badgerMaxKey is Badger's limit on a key (txn.go: maxKeySize).
const badgerMaxKey = 65000

// fits refuses a batch Badger could not commit in one transaction (or a key or value too large for
// it). What it lets through must commit: the applier retries a logged batch until it does, so a
// batch Badger refuses would stall every later write.
func (b *Badger) fits(ops []Op) error {
	size := int64(0)
	for _, op := range ops {
		if len(op.Key) > badgerMaxKey {
			return fmt.Errorf("%w: key of %d bytes exceeds the store's limit of %d", ErrTooBig, len(op.Key), badgerMaxKey)
		}
		if int64(len(op.Value)) > b.maxValue {
			return fmt.Errorf("%w: value of %d bytes exceeds the store's limit of %d", ErrTooBig, len(op.Value), b.maxValue)
		}
		size += b.entrySize(op)
	}
	if size >= b.db.MaxBatchSize()*9/10 || int64(len(ops)) >= b.db.MaxBatchCount()*9/10 {
		return fmt.Errorf("%w: %d operations of about %d bytes", ErrTooBig, len(ops), size)
	}
	return nil
}

// entrySize estimates what an op counts for in Badger's transaction limit: the key, its version,
// and the value when it stays in the tree (large values only leave a pointer).
func (b *Badger) entrySize(op Op) int64 {
	n := int64(len(op.Key)) + 8 + 16
	if int64(len(op.Value)) < b.threshold {
		return n + int64(len(op.Value))
	}
	return n + 16
}

// applyLoop commits logged batches to Badger, several per transaction while they fit.
func (b *Badger) applyLoop() {
	defer b.applier.Done()
	backoff := 10 * time.Millisecond
	gather := time.NewTimer(b.commitDelay)
	defer gather.Stop()
	for {
		b.mu.Lock()
		q := b.queue
		b.queue = nil
		stopping := b.closed
		b.mu.Unlock()
		if len(q) == 0 {
			if stopping {
				return
			}
			select {
			case <-b.kick:
			case <-b.stop:
				continue
			}
			gather.Reset(b.commitDelay)
			select {
			case <-gather.C:
			case <-b.hurry:
			case <-b.stop:
			}
			continue
		}
		for len(q) > 0 {
			n := b.group(q)
			if !b.waitForSpace(q[:n]) {
				return // closing: the next open replays the log
			}
			if err := b.commit(q[:n]); err != nil {
				b.mu.Lock()
				b.failed = err
				b.mu.Unlock()
				b.log.Error("committing to Badger failed; retrying (the write-ahead log keeps the data)", "err", err)
				if stopping {
					return // the next open replays the log
				}
				time.Sleep(backoff)
				backoff = min(2*backoff, time.Second)
				continue
			}
			backoff = 10 * time.Millisecond
			b.done(q[:n])
			q = q[n:]
		}
	}
}

// emptyLog empties the log if everything in it is in Badger, and reports whether it did.
func (b *Badger) emptyLog() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed || b.applied != b.seq || len(b.queue) > 0 || b.wal.size == 0 {
		return false
	}
	if err := b.wal.reset(); err != nil {
		b.log.Warn("emptying the write-ahead log", "err", err)
		return false
	}
	b.space.forget()
	return true
}

// waitForSpace returns once Badger may write the batches of q (half the reserve stays free), or
// false when the store closes first. While it waits, Apply and View fail with ErrDiskFull.
func (b *Badger) waitForSpace(q []*logged) bool {
	size := int64(0)
	for _, l := range q {
		size += int64(l.size)
	}
	for {
		ok, free := b.space.enough(size)
		b.mu.Lock()
		if ok {
			if b.held != nil {
				b.log.Warn("disk space is back: committing the logged writes to Badger", "free_mib", mib(free))
				b.held = nil
				b.drained.Broadcast()
			}
			b.mu.Unlock()
			return true
		}
		if b.held == nil {
			b.held = fullError(b.space.dir, free, b.space.reserve/2+size)
			b.log.Error("disk nearly full: writes are refused and the logged ones wait for space", "dir", b.space.dir,
				"free_mib", mib(free), "reserve_mib", mib(b.space.reserve))
			b.drained.Broadcast() // waiters in Apply and drain give up
		}
		b.mu.Unlock()
		select {
		case <-b.stop:
			return false
		case <-b.kick: // a write was accepted: space may be back
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// group returns how many leading batches of q fit in one Badger transaction (at least one).
func (b *Badger) group(q []*logged) int {
	var size, count int64
	for i, l := range q {
		for _, op := range l.ops {
			size += b.entrySize(op)
		}
		count += int64(len(l.ops))
		if i > 0 && (size >= b.db.MaxBatchSize()*9/10 || count >= b.db.MaxBatchCount()*9/10) {
			return i
		}
	}
	return len(q)
}

// commit writes batches to Badger in one transaction.
func (b *Badger) commit(q []*logged) error {
	var logged int64 // bytes that go to the value log
	t0 := time.Now()
	b.commitGate.RLock()
	defer b.commitGate.RUnlock()
	t1 := time.Now()
	// Until a commit is seen to replace a value, each set looks its key up first (vlog_gc.go,
	// collectOnce: a refresh of the garbage counts is skipped while nothing was replaced).
	look, replaced := !b.replaced.Load(), false
	err := b.db.Update(func(txn *badger.Txn) error {
		for _, l := range q {
			for _, op := range l.ops {
				var err error
				if op.Delete {
					replaced = true
					err = txn.Delete(op.Key)
				} else {
					if look && !replaced {
						if _, gerr := txn.Get(op.Key); !errors.Is(gerr, badger.ErrKeyNotFound) {
							replaced = true // it has a value (or the look-up failed: assume it has)
						}
					}
					err = txn.Set(op.Key, op.Value)
					if int64(len(op.Value)) >= b.threshold {
						logged += int64(len(op.Value))
					}
				}
				if err != nil {
					return err
				}
			}
		}
		return nil
	})
	if replaced {
		b.replaced.Store(true)
	}
	b.counts.gateNs.Add(int64(t1.Sub(t0)))
	if err == nil {
		b.counts.committed(time.Since(t1), logged)
	}
	if err == nil && logged > 0 {
		b.valuesLogged(logged)
	}
	return err
}

// done records that batches are in Badger: their keys leave the pending map unless written again
// since, and the log is emptied when it is large and nothing is pending.
func (b *Badger) done(q []*logged) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, l := range q {
		for _, op := range l.ops {
			if p, ok := b.pending[string(op.Key)]; ok && p.seq == l.seq {
				delete(b.pending, string(op.Key))
			}
		}
		b.backlog -= l.size
	}
	if len(b.pending) == 0 {
		b.pending = make(map[string]pendingValue) // a map keeps its peak size: let a big one go
	}
	b.applied = q[len(q)-1].seq
	b.failed = nil
	if b.applied == b.seq && len(b.queue) == 0 && b.wal.size > walReset {
		if err := b.wal.reset(); err != nil {
			b.log.Warn("emptying the write-ahead log", "err", err)
		}
	}
	b.drained.Broadcast()
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

// Close implements Store: pending batches are committed first.
func (b *Badger) Close() error {
	b.closeMu.Lock()
	defer b.closeMu.Unlock()
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return ErrClosed
	}
	b.closed = true
	b.drained.Broadcast()
	b.mu.Unlock()
	close(b.stop)
	b.applier.Wait()
	b.gcDone.Wait()
	if b.full != nil { // read-only: nothing to flush, the log stays for the next open to replay
		return errors.Join(b.db.Close(), b.wal.close())
	}
	// Badger's close writes its memtable out through a memory map: on a full filesystem that write
	// would kill the process. Leave the store as a crash would; the next open replays the log.
	if ok, free := b.space.enough(b.memTableSize); !ok {
		b.log.Error("closing without flushing Badger: the filesystem is full; the next open recovers the data",
			"dir", b.space.dir, "free_mib", mib(free))
		return errors.Join(fullError(b.space.dir, free, b.space.reserve/2+b.memTableSize), b.wal.close())
	}
	err := b.db.Close()
	if err == nil && b.applied == b.seq {
		// Badger holds everything: an empty log makes the next open need no room for its replay.
		err = b.wal.reset()
	}
	if werr := b.wal.close(); err == nil {
		err = werr
	}
	return err
}

// badgerLogger forwards Badger's warnings and errors to a slog.Logger and drops the chatter.
type badgerLogger struct {
	l      *slog.Logger
	counts *counters
}

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
func (badgerLogger) Infof(string, ...any)        {}
func (l badgerLogger) Debugf(f string, a ...any) { l.counts.badgerEvent(f, a) }
