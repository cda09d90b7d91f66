package store

import (
	"strings"
	"sync/atomic"
	"time"
)

// Counters are cumulative counts of a Badger store's work since it was opened, for diagnostics:
// the difference of two readings says what a piece of work (a copy's install, say) cost the store.
type Counters struct {
	Commits     int64         // Badger transactions committed (a bulk batch, or a group of logged ones)
	CommitBytes int64         // bytes of values committed to the value log
	CommitTime  time.Duration // spent in those transactions (Badger's write, the memtable, its flow control)
	SlowCommits int64         // those of them that took slowCommit or more
	SlowTime    time.Duration // spent in those
	GateWait    time.Duration // commits waiting for the value-log collector (commitGate)
	GCRefreshes int64         // garbage counts refreshed (a memtable flush and a compaction of level 0)
	GCRefresh   time.Duration // spent in them, commits held off
	GCSkipped   int64         // refreshes skipped: nothing deleted or replaced since the last
	GCRewrites  int64         // value-log files rewritten
	GCRewrite   time.Duration // spent rewriting (and looking for a file to rewrite), commits held off
	Flushes     int64         // memtables Badger handed to its flusher
	L0Compacts  int64         // compactions of level 0 Badger ran
	Compacts    int64         // compactions of the other levels
	Writebacks  int64         // writebacks of the value log started (writeback.go)
	WrittenBack int64         // bytes of values committed before the last of them started
}

// slowCommit: a commit that takes this long or more is counted apart (a 4 MiB one takes 10 ms on an
// idle machine).
const slowCommit = 50 * time.Millisecond

// committed counts a commit of d.
func (c *counters) committed(d time.Duration, logged int64) {
	c.commits.Add(1)
	c.commitBytes.Add(logged)
	c.commitNs.Add(int64(d))
	if d >= slowCommit {
		c.slow.Add(1)
		c.slowNs.Add(int64(d))
	}
}

// counters is the live form of Counters.
type counters struct {
	commits, commitBytes, commitNs, gateNs, slow, slowNs         atomic.Int64
	gcRefreshes, gcRefreshNs, gcRewrites, gcRewriteNs, gcSkipped atomic.Int64
	flushes, l0Compacts, compacts, writebacks, writtenBack       atomic.Int64
}

// Counters returns the store's counts so far.
func (b *Badger) Counters() Counters {
	c := b.counts
	return Counters{
		Commits: c.commits.Load(), CommitBytes: c.commitBytes.Load(), CommitTime: time.Duration(c.commitNs.Load()),
		SlowCommits: c.slow.Load(), SlowTime: time.Duration(c.slowNs.Load()),
		GateWait: time.Duration(c.gateNs.Load()), GCRefreshes: c.gcRefreshes.Load(), GCRefresh: time.Duration(c.gcRefreshNs.Load()),
		GCSkipped:  c.gcSkipped.Load(),
		GCRewrites: c.gcRewrites.Load(), GCRewrite: time.Duration(c.gcRewriteNs.Load()),
		Flushes: c.flushes.Load(), L0Compacts: c.l0Compacts.Load(), Compacts: c.compacts.Load(),
		Writebacks: c.writebacks.Load(), WrittenBack: c.writtenBack.Load(),
	}
}

// Sub returns the counts of c less those of an earlier reading.
func (c Counters) Sub(before Counters) Counters {
	return Counters{
		Commits: c.Commits - before.Commits, CommitBytes: c.CommitBytes - before.CommitBytes, CommitTime: c.CommitTime - before.CommitTime,
		SlowCommits: c.SlowCommits - before.SlowCommits, SlowTime: c.SlowTime - before.SlowTime,
		GateWait: c.GateWait - before.GateWait, GCRefreshes: c.GCRefreshes - before.GCRefreshes, GCRefresh: c.GCRefresh - before.GCRefresh,
		GCSkipped:  c.GCSkipped - before.GCSkipped,
		GCRewrites: c.GCRewrites - before.GCRewrites, GCRewrite: c.GCRewrite - before.GCRewrite,
		Flushes: c.Flushes - before.Flushes, L0Compacts: c.L0Compacts - before.L0Compacts, Compacts: c.Compacts - before.Compacts,
		Writebacks: c.Writebacks - before.Writebacks,
	}
}

// badgerEvent counts the events Badger reports only in its debug log: a memtable handed to the
// flusher ("Flushing memtable", db.go) and a compaction done ("[Compactor: %d] Compaction for
// level: %d DONE", levels.go). Only the format string is looked at: nothing is formatted.
func (c *counters) badgerEvent(format string, args []any) {
	switch {
	case strings.HasPrefix(format, "Flushing memtable"):
		c.flushes.Add(1)
	case strings.HasPrefix(format, "[Compactor: ") && strings.Contains(format, "DONE") && len(args) == 2:
		if level, ok := args[1].(int); ok && level == 0 {
			c.l0Compacts.Add(1)
		} else {
			c.compacts.Add(1)
		}
	}
}
