package store

import (
	"encoding/binary"
	"errors"
	"fmt"
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
// So the collector runs every GCInterval and whenever gcEvery bytes of values went to the value
// log since its last run. Each run first makes the counts current when the value log has grown by
// gcEvery since they last were (refreshDiscard: fill the memtable with a ballast of small
// values under gcBallastPrefix so that Badger flushes it, compact level 0 into the tree so that the
// dropped versions are counted, delete the ballast), then rewrites the files that are at least half
// garbage, while the disk has room for the rewrite.

// gcBallastPrefix starts the keys of the ballast: outside the engine's key space (engine/FORMAT.md),
// deleted by the run that wrote them, and by the next one if a crash left them.
var gcBallastPrefix = []byte("\xffgc-ballast/")

// gcEvery is the growth of the value log that starts a collection between two intervals, and
// after which the garbage counts are refreshed (unless the tree is larger: collectOnce).
func (b *Badger) gcEvery() int64 { return 2 * b.vlogFileSize }

// valuesLogged counts bytes committed to the value log and wakes the collector every gcEvery.
func (b *Badger) valuesLogged(n int64) {
	total := b.logged.Add(n)
	if total/b.gcEvery() != (total-n)/b.gcEvery() {
		poke(b.gcKick)
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
		b.collectOnce()
	}
}

// collectOnce is one run of the collector.
func (b *Badger) collectOnce() {
	logged := b.logged.Load()
	if logged == b.gcRan {
		return // nothing new went to the value log: the counts and the files are as last time
	}
	b.gcRan = logged
	if lsm, _ := b.db.Size(); logged-b.gcRefreshed >= max(b.gcEvery(), 4*lsm) {
		// The refresh costs about a memtable of writes and a compaction of the tree: it runs
		// once per gcEvery of value-log growth, or per four times the tree's size.
		if err := b.refreshDiscard(); err != nil {
			b.log.Warn("value-log garbage collection: counting the garbage", "err", err)
		} else {
			b.gcRefreshed = logged
		}
	}
	// A rewrite moves up to half a value-log file into the current one.
	for ok, _ := b.space.enough(b.vlogFileSize / 2); ok && b.db.RunValueLogGC(0.5) == nil; ok, _ = b.space.enough(b.vlogFileSize / 2) {
		select {
		case <-b.stop:
			return
		default:
		}
	}
}

// refreshDiscard makes Badger count the garbage in its value log: it flushes the memtable by
// filling it with a ballast, then compacts level 0 into the levels below (in a new store, whose tree
// has no level below yet, it flushes until Badger compacts level 0 by itself).
func (b *Badger) refreshDiscard() error {
	if ok, free := b.space.enough(4 * b.memTableSize); !ok {
		return fullError(b.space.dir, free, b.space.reserve/2+4*b.memTableSize)
	}
	defer b.dropBallast()
	for range 8 {
		if err := b.flushMemtable(); err != nil {
			return err
		}
		below := false
		for _, l := range b.db.Levels() {
			if l.Level > 0 && l.NumTables > 0 {
				below = true
			}
		}
		if below {
			return b.db.Flatten(1)
		}
		select {
		case <-b.stop:
			return ErrClosed
		default:
		}
	}
	return errors.New("level 0 was not compacted")
}

// flushMemtable writes a memtable's worth of ballast and waits until Badger has flushed it.
func (b *Badger) flushMemtable() error {
	// Tables get increasing ids: a flush makes a new one (a compaction too, which may let this
	// return before the flush: the compaction that follows then finds less, the next run the rest).
	newest := func() uint64 {
		var id uint64
		for _, t := range b.db.Tables() {
			id = max(id, t.ID)
		}
		return id
	}
	before := newest()
	value := make([]byte, b.threshold-1) // stays in the memtable
	wb := b.db.NewWriteBatch()
	defer wb.Cancel()
	key := make([]byte, len(gcBallastPrefix)+8)
	copy(key, gcBallastPrefix)
	for i := int64(0); i <= b.memTableSize/int64(len(value)+len(key)); i++ {
		binary.BigEndian.PutUint64(key[len(gcBallastPrefix):], uint64(i))
		if err := wb.Set(append([]byte(nil), key...), value); err != nil {
			return err
		}
	}
	if err := wb.Flush(); err != nil {
		return err
	}
	// The full memtable is handed to the flusher at the next write.
	if err := b.db.Update(func(txn *badger.Txn) error { return txn.Delete(key) }); err != nil {
		return err
	}
	for deadline := time.Now().Add(time.Minute); ; {
		if newest() > before {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("the memtable was not flushed within a minute")
		}
		select {
		case <-b.stop:
			return ErrClosed
		case <-time.After(5 * time.Millisecond):
		}
	}
}

// dropBallast deletes the ballast keys.
func (b *Badger) dropBallast() {
	wb := b.db.NewWriteBatch()
	defer wb.Cancel()
	err := b.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: gcBallastPrefix})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			if err := wb.Delete(it.Item().KeyCopy(nil)); err != nil {
				return err
			}
		}
		return nil
	})
	if err == nil {
		err = wb.Flush()
	}
	if err != nil {
		b.log.Warn("value-log garbage collection: deleting the ballast", "err", err)
	}
}
