package store

import (
	"time"

	"github.com/dgraph-io/badger/v4"
)

// Value-log garbage collection.
//
// Values of ValueThreshold bytes and more live in Badger's value log; overwriting or deleting one
// leaves the old value there as garbage. Badger rewrites a value-log file (RunValueLogGC) only when
// its counts say that enough of the file is garbage, and it counts a value as garbage only when a
// compaction of the LSM tree drops the key version that pointed to it. The LSM tree of such a store
// holds little (a key and a 16-byte pointer per value), so its memtable may take gigabytes of value
// writes to fill, flush and be compacted: a store whose writes are few and large (sections of tens
// of KiB and more, rewritten again and again) would grow its value log until the disk is full,
// with nothing counted and nothing rewritten.
//
// So the collector runs every GCInterval, whenever gcEvery bytes of values went to the value log
// since its last run, and when a write finds too little space (the garbage may be what fills the
// disk; such a run refreshes the counts whatever that costs, and the write waits for it, at most
// gcWait, before it is refused). Each run first makes the counts current when the value log has grown by
// gcEvery since they last were (refreshDiscard: flush the memtable and compact level 0 into the
// tree so that the dropped versions are counted), then rewrites the files that are at least half
// garbage, while the disk has room for the rewrite. A refresh finds nothing new when no commit since
// the last one deleted a key or set a key that had a value (the value log grew by new keys only, as
// when a copy is installed after the old replica was deleted): commits look their keys up until one
// replaces a value (Badger.replaced), and such a refresh is skipped.

// gcBallastPrefix is the key refreshDiscard writes and drops: outside the engine's key space
// (engine/FORMAT.md); a crash may leave it until the next refresh.
var gcBallastPrefix = []byte("\xffgc-ballast/")

// gcEvery is the growth of the value log that starts a collection between two intervals, and
// after which the garbage counts are refreshed (unless the tree is larger: collectOnce).
func (b *Badger) gcEvery() int64 { return b.vlogFileSize / 2 }

// valuesLogged counts bytes committed to the value log and wakes the collector every gcEvery, the
// writeback (writeback.go) every writebackEvery.
func (b *Badger) valuesLogged(n int64) {
	total := b.logged.Add(n)
	if total/b.gcEvery() != (total-n)/b.gcEvery() {
		poke(b.gcKick)
	}
	if total/writebackEvery != (total-n)/writebackEvery {
		poke(b.wbKick)
	}
}

// collectGarbage is the collector goroutine.
func (b *Badger) collectGarbage(every time.Duration) {
	defer b.gcDone.Done()
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-b.stop:
			return
		case <-t.C:
		case <-b.gcKick:
		}
		b.gcMu.Lock()
		round := b.gcRound
		b.gcRound = make(chan struct{})
		b.gcMu.Unlock()
		b.collectOnce()
		close(round)
	}
}

// gcWait bounds how long a write refused for lack of space waits for the collector to run.
const gcWait = 10 * time.Second

// collected makes the collector run now, short of space whatever the counts cost, and reports
// whether a run that started after the call ended within gcWait.
func (b *Badger) collected() bool {
	if b.gcRound == nil {
		return false // no collector
	}
	b.gcMu.Lock()
	round := b.gcRound
	b.gcMu.Unlock()
	b.pressed.Store(true)
	poke(b.gcKick)
	t := time.NewTimer(gcWait)
	defer t.Stop()
	select {
	case <-round:
		return true
	case <-b.stop:
	case <-t.C:
	}
	return false
}

// collectOnce is one run of the collector.
func (b *Badger) collectOnce() {
	logged := b.logged.Load()
	pressed := b.pressed.Swap(false)
	if logged == b.gcRan && !pressed {
		return // nothing new went to the value log: the counts and the files are as last time
	}
	b.gcRan = logged
	// Short of space, the counts are refreshed whatever they cost: the garbage is the space.
	lsm, _ := b.db.Size()
	switch due := logged-b.gcRefreshed >= max(b.gcEvery(), 4*lsm) || pressed && logged != b.gcRefreshed; {
	case due && !pressed && !b.replaced.Load():
		// Nothing was deleted and no value replaced since the last refresh began (the value log
		// only grew by new keys, as when a copy is installed): the counts are current as they are.
		b.gcRefreshed = logged
		b.counts.gcSkipped.Add(1)
	case due:
		// The refresh costs about a memtable of writes and a compaction of the tree, commits
		// waiting: it runs once per gcEvery of value-log growth, or per four times the tree's
		// size. What commits replace from now on is for the next one.
		b.replaced.Store(false)
		if err := b.refreshDiscard(); err != nil {
			b.replaced.Store(true)
			b.log.Warn("value-log garbage collection: counting the garbage", "err", err)
		} else {
			b.gcRefreshed = logged
		}
	}
	// A rewrite moves up to half a value-log file into the current one.
	for ok, _ := b.space.enough(b.vlogFileSize / 2); ok && b.rewriteOne() == nil; ok, _ = b.space.enough(b.vlogFileSize / 2) {
		select {
		case <-b.stop:
			return
		default:
		}
	}
}

// rewriteOne rewrites one value-log file that is at least half garbage, if there is one; commits
// wait meanwhile (commitGate).
func (b *Badger) rewriteOne() error {
	b.commitGate.Lock()
	defer b.commitGate.Unlock()
	start := time.Now()
	err := b.db.RunValueLogGC(0.5)
	b.counts.gcRewriteNs.Add(int64(time.Since(start)))
	if err == nil {
		b.counts.gcRewrites.Add(1)
	}
	return err
}

// refreshDiscard makes Badger count the garbage in its value log. Badger's DropPrefix of a prefix
// that has a key flushes the memtables and compacts level 0 into the level below, dropping that
// prefix: so one ballast key under gcBallastPrefix, then DropPrefix, flush the pointers of the
// memtable and let the compaction drop (and count) every older version they replace. Badger
// refuses writes meanwhile: commits wait for it (commitGate), and Apply's writers wait for them as
// for any slow commit (the backlog and the log's size bound what they queue).
func (b *Badger) refreshDiscard() error {
	if ok, free := b.space.enough(2 * b.memTableSize); !ok {
		return fullError(b.space.dir, free, b.space.reserve/2+2*b.memTableSize)
	}
	if err := b.db.Update(func(txn *badger.Txn) error { return txn.Set(gcBallastPrefix, nil) }); err != nil {
		return err
	}
	b.commitGate.Lock()
	defer b.commitGate.Unlock()
	start := time.Now()
	err := b.db.DropPrefix(gcBallastPrefix)
	b.counts.gcRefreshNs.Add(int64(time.Since(start)))
	b.counts.gcRefreshes.Add(1)
	return err
}
