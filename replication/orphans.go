package replication

import (
	"context"
	"errors"
	"time"

	"github.com/clckpt/libclckpt/replication/directory"
)

// Orphans. Creating, deleting and restoring a checkpoint each take more than one directory write:
// an entry, then its name (create, restore); the name's removal, then the entry's deleted mark
// (delete); a new entry, the name moved to it, then the old entry's deleted mark (restore over a
// checkpoint). A process that stops between two of them leaves an entry that no name reaches. Once
// nobody has it open nothing destroys it (a retention of CL_TIME_END never runs out), and its
// replicas stay on every disk that holds one, the data of a deleted checkpoint included.
//
// One member sweeps them: the live server of the lowest name (the live member of the lowest name
// when there is no server). Every orphanSweep it looks at the entries it holds (the directory's
// watch gives every member all of them) that nobody has open, and asks the directory whether their
// name names them. One that is unnamed at the same revision at two sweeps in a row is destroyed,
// by a compare-and-swap at that revision: an entry opened, closed or changed meanwhile stays.
//
// Why this never destroys a checkpoint that a name reaches or is about to: only the operation that
// made an entry gives it a name, within its own call, moments after the entry was written, and
// while its process holds an open of it (create, restore); an entry with no open and no name at
// two sweeps (minutes apart) is past any such call. The one race left is a process that stalls
// for longer than that between the two writes, past the end of its lease (its opens then count as
// closed), and then writes the name: the name then reaches no entry, which the next open of it
// takes away, as after a destroy cut short (openOrCreate).

// defaultOrphanSweep is how often the sweeping member looks for orphans.
const defaultOrphanSweep = 5 * time.Minute

// sweepOrphans runs the sweeps until the member leaves.
func (m *Member) sweepOrphans(every time.Duration) {
	defer m.workers.Done()
	seen := map[uint64]uint64{} // orphan candidates of the last sweep: id -> revision
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-m.ctx.Done():
			return
		case <-t.C:
		}
		if !m.sweeps() {
			clear(seen)
			continue
		}
		ctx, cancel := context.WithTimeout(m.ctx, every)
		seen = m.sweepOnce(ctx, seen)
		cancel()
	}
}

// sweeps reports whether this member is the one that sweeps orphans.
func (m *Member) sweeps() bool {
	if m.fenced.Load() {
		return false
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	first, firstServer := m.name, ""
	if m.kind == directory.KindServer {
		firstServer = m.name
	}
	for name, info := range m.members {
		first = min(first, name)
		if info.Kind == directory.KindServer && (firstServer == "" || name < firstServer) {
			firstServer = name
		}
	}
	if firstServer != "" {
		return firstServer == m.name
	}
	return first == m.name
}

// sweepOnce destroys the orphans that were candidates at the same revision in seen, and returns
// this sweep's candidates.
func (m *Member) sweepOnce(ctx context.Context, seen map[uint64]uint64) map[uint64]uint64 {
	next := map[uint64]uint64{}
	for _, c := range m.allCkpts() {
		if ctx.Err() != nil {
			return next
		}
		c.mu.Lock()
		e := c.entry
		c.mu.Unlock()
		if e == nil || e.Opens() > 0 || m.isRestoring(e.ID) {
			continue
		}
		id, err := m.dir.Lookup(ctx, e.Name)
		if err == nil && id == e.ID || err != nil && !errors.Is(err, directory.ErrNotFound) {
			continue // named, or the directory cannot say now
		}
		if rev, ok := seen[e.ID]; !ok || rev != e.Rev {
			next[e.ID] = e.Rev
			continue
		}
		switch err := m.dir.Remove(ctx, e); {
		case err == nil:
			m.dropGone(m.ckptFor(e.ID))
			m.metrics.OrphanDestroyed()
			m.log.Warn("destroyed a checkpoint that no name reaches and nobody has open (a create, delete or restore stopped half way)",
				"checkpoint", string(e.Name), "id", e.ID, "replicas", e.Replicas)
		case errors.Is(err, directory.ErrConflict), errors.Is(err, directory.ErrNotFound):
			// Changed or gone meanwhile: looked at afresh next time.
		default:
			next[e.ID] = e.Rev
		}
	}
	return next
}
