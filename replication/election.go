package replication

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/clckpt/libclckpt/engine"
	"github.com/clckpt/libclckpt/metrics"
	"github.com/clckpt/libclckpt/replication/directory"
	"github.com/clckpt/libclckpt/replication/wire"
)

// activeLost handles an active member that does not answer: a collocated checkpoint has no active
// until ActiveReplicaSet; for any other, an election makes the most advanced live replica active.
// A nil result means "retry the call".
func (m *Member) activeLost(ctx context.Context, c *ckpt, dead string, epoch uint64) error {
	e, err := c.refresh(ctx)
	if err != nil {
		return err
	}
	if e.Epoch != epoch || e.Active != dead {
		return nil // changed meanwhile
	}
	if e.Attrs.Flags.IsCollocated() {
		return fmt.Errorf("%w: the active replica of %q (%s) is gone: call ActiveReplicaSet", engine.ErrNotExist, e.Name, dead)
	}
	return m.elect(ctx, c, e)
}

// elect makes the most advanced live replica of e the active one (compare-and-swap on the entry at
// the revision read, so concurrent elections agree on one result).
func (m *Member) elect(ctx context.Context, c *ckpt, e *directory.Entry) error {
	type candidate struct {
		name       string
		epoch, lsn uint64
		synced     bool
	}
	var (
		mu    sync.Mutex
		cands []candidate
		newer bool // a replica is in a later epoch than e: e is stale
		wg    sync.WaitGroup
	)
	qctx, cancel := context.WithTimeout(ctx, m.cfg.AckTimeout)
	defer cancel()
	for _, r := range e.Replicas {
		if r == e.Active {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			ack, err := m.position(qctx, r, e.ID)
			if err == nil && ack.Status == wire.AckOK && ack.Epoch > e.Epoch {
				mu.Lock()
				newer = true
				mu.Unlock()
			}
			if err != nil || ack.Status != wire.AckOK || !e.Continues(ack.Epoch, ack.LSN) {
				return
			}
			mu.Lock()
			cands = append(cands, candidate{r, ack.Epoch, ack.LSN, e.IsSynced(r)})
			mu.Unlock()
		}()
	}
	wg.Wait()
	if newer {
		// The entry was read from a copy of the directory that lags (a server catching up after a
		// partition): read it again rather than elect from it.
		_, _ = c.refresh(ctx)
		return nil
	}
	if e.Attrs.Flags&engine.WriteAllReplicas != 0 {
		// Only an in-sync replica holds every acknowledged write. If none but the lost active is
		// reachable, there is no new active: the old one (it may only have lost its lease for a
		// while) or an in-sync replica must come back.
		cands = slices.DeleteFunc(cands, func(c candidate) bool { return !c.synced })
	}
	if len(cands) == 0 {
		m.metrics.Elected(metrics.ElectionNoCandidate)
		return fmt.Errorf("%w: no replica of %q that holds every acknowledged write can take over from %s", engine.ErrTryAgain, e.Name, e.Active)
	}
	// In-sync replicas first (they hold every acknowledged write), then the most advanced, then by
	// name so that every elector picks the same one.
	sort.Slice(cands, func(i, j int) bool {
		a, b := cands[i], cands[j]
		if a.synced != b.synced {
			return a.synced
		}
		if a.lsn != b.lsn {
			return a.lsn > b.lsn
		}
		return a.name < b.name
	})
	best := cands[0]
	dead := e.Active
	ne := *e
	ne.NewEpoch(best.name, best.lsn)
	ne.Synced = []string{best.name}
	for _, o := range cands[1:] {
		if o.synced && o.lsn == best.lsn {
			ne.Synced = append(ne.Synced, o.name) // holds exactly the same ops: stays in sync
		}
	}
	switch err := m.dir.UpdateAt(ctx, &ne); {
	case errors.Is(err, directory.ErrConflict):
		m.metrics.Elected(metrics.ElectionConflict)
		_, _ = c.refresh(ctx)
		return nil
	case err != nil:
		return fmt.Errorf("%w: %w", engine.ErrTryAgain, err)
	}
	m.metrics.Elected(metrics.ElectionWon)
	m.log.Warn("new active replica elected", "checkpoint", string(ne.Name), "dead", dead, "active", best.name, "epoch", ne.Epoch, "lsn", best.lsn)
	c.update(&ne)
	return nil
}

// setActiveHere makes this member's replica the active one of a collocated checkpoint. If the
// previous active still answers, it hands over first: it stops taking writes and makes sure this
// replica has all of its ops; the swap waits for that, since the previous active acknowledged them.
// The directory is read afresh (the watch may lag), and the swap only happens if the active is still
// the one that handed over. Members racing for the role take it in turn; the last one keeps it.
func (m *Member) setActiveHere(ctx context.Context, c *ckpt) error {
	e, err := c.current(ctx)
	if err != nil {
		return err
	}
	if !e.Attrs.Flags.IsCollocated() {
		return fmt.Errorf("%w: checkpoint %q is not collocated", engine.ErrBadOperation, e.Name)
	}
	if rep, _ := c.localActive(); rep != nil {
		return nil
	}
	deadline := time.Now().Add(callTimeout)
	for {
		e, err := c.refresh(ctx)
		if err != nil {
			return err
		}
		if !e.Attrs.Flags.IsCollocated() {
			return fmt.Errorf("%w: checkpoint %q is not collocated", engine.ErrBadOperation, e.Name)
		}
		if e.Active == m.name {
			if rep, _ := c.localActive(); rep != nil {
				return nil
			}
		}
		if _, err := m.waitReplica(ctx, c); err != nil {
			return err
		}
		prev, prevEpoch := e.Active, e.Epoch
		if prev != "" && prev != m.name {
			if err := m.takeOverFrom(ctx, c, e, prev); err != nil {
				if ctx.Err() != nil || time.Now().After(deadline) {
					return tryAgain(err)
				}
				continue
			}
		}
		ne, err := m.dir.Update(ctx, c.id, func(e *directory.Entry) error {
			if e.Deleted && e.Opens() == 0 {
				return engine.ErrNotExist
			}
			if e.Active != prev || e.Epoch != prevEpoch {
				// Another member became active meanwhile, or prev took the role again after its
				// handover, with writes this replica may lack: hand over from it.
				return errRetry
			}
			_, rep := m.replicaOf(c.id)
			if rep == nil {
				return errRetry
			}
			_, lsn := rep.Position()
			e.NewEpoch(m.name, lsn)
			e.Synced = []string{m.name}
			if !e.HasReplica(m.name) {
				e.Replicas = append(e.Replicas, m.name)
			}
			return nil
		})
		if errors.Is(err, errRetry) && ctx.Err() == nil && time.Now().Before(deadline) {
			continue
		}
		if err != nil {
			return tryAgain(err)
		}
		c.update(ne)
		// The role starts once the local replica is complete (a copy may be arriving). Another
		// member may be taking the role from this one already (handingOver), or have taken it:
		// that is a success too.
		for wait := time.Now().Add(5 * time.Second); ; {
			if rep, _ := c.localActive(); rep != nil || c.handingOver() != nil {
				return nil
			}
			if cur, err := c.current(ctx); err == nil && cur.Epoch > ne.Epoch {
				return nil
			}
			if time.Now().After(wait) || ctx.Err() != nil {
				return fmt.Errorf("%w: could not take the active role of %q", engine.ErrTryAgain, ne.Name)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
}

// takeOverFrom asks the active prev to hand over, then waits until the local replica has every op
// prev made. Only a prev that is gone (no responders, and not reconnecting) lets this replica
// continue with what it has; an error means "ask again".
func (m *Member) takeOverFrom(ctx context.Context, c *ckpt, e *directory.Entry, prev string) error {
	hctx, cancel := context.WithTimeout(ctx, 2*m.cfg.AckTimeout)
	defer cancel()
	r, err := m.request(hctx, prev, &wire.CallMsg{Kind: wire.CallHandover, Ckpt: c.id, Epoch: e.Epoch, Origin: m.name})
	switch {
	case errors.Is(err, nats.ErrNoResponders) && m.reconnecting(prev):
		// Alive, and reconnecting to NATS: it may hold acknowledged writes this replica lacks.
		time.Sleep(5 * time.Millisecond)
		return fmt.Errorf("the previous active %s is reconnecting to NATS", prev)
	case errors.Is(err, nats.ErrNoResponders):
		m.log.Info("previous active is gone; continuing with this replica's content", "checkpoint", string(e.Name), "previous", prev)
		return nil
	case err != nil:
		return fmt.Errorf("the previous active %s did not hand over: %w", prev, err)
	case r.NotActive:
		// Not acting (yet, or any more): go on once the directory names someone else; while it
		// still names prev, prev may be about to serve with ops this replica lacks.
		if cur, err := c.refresh(ctx); err != nil || (cur.Active == prev && cur.Epoch == e.Epoch) {
			time.Sleep(10 * time.Millisecond)
			return fmt.Errorf("the previous active %s does not act yet", prev)
		}
		return nil
	case r.Err != nil:
		return fmt.Errorf("the previous active %s did not hand over: %w", prev, r.Err)
	}
	deadline := time.Now().Add(5 * m.cfg.AckTimeout)
	for time.Now().Before(deadline) {
		// The replica may be replaced by a copy meanwhile: look it up each time.
		// Far enough is not enough: a replica holding ops of an earlier active that were never
		// sent (it was fenced) is as far but diverged, and must first get its copy.
		if _, rep := m.replicaOf(c.id); rep != nil {
			if epoch, lsn := rep.Position(); lsn >= r.LSN && e.Continues(epoch, lsn) {
				return nil
			}
		}
		time.Sleep(time.Millisecond)
	}
	return fmt.Errorf("the ops handed over by %s up to %d have not all arrived", prev, r.LSN)
}

// waitReplica waits (briefly) for the local replica to exist and be complete.
func (m *Member) waitReplica(ctx context.Context, c *ckpt) (*engine.Replica, error) {
	deadline := time.Now().Add(5 * time.Second)
	for {
		c.mu.Lock()
		rep, inst, e := c.rep, c.inst, c.entry
		c.mu.Unlock()
		if rep != nil && inst == nil {
			return rep, nil
		}
		if inst == nil && e != nil && time.Now().After(deadline) {
			// Nobody sent a copy (no active since the replica was assigned): start from nothing.
			r, err := m.reps.Create(e.ID, string(e.Name), e.Attrs, e.Epoch, false)
			if err != nil && !errors.Is(err, engine.ErrAlreadyExist) {
				return nil, err
			}
			c.mu.Lock()
			if c.rep == nil && r != nil {
				c.setReplicaLocked(r)
			}
			rep = c.rep
			c.mu.Unlock()
			return rep, nil
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("%w: the local replica is still being copied", engine.ErrTryAgain)
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// handOver stops the local active role for the member to, after making sure to has every op: the
// ops made from now on fail (their callers retry on the new active) and are never sent.
func (m *Member) handOver(ctx context.Context, c *ckpt, a *active, to string) (uint64, error) {
	lsn := a.fence()
	a.mu.Lock()
	s := a.streams[to]
	a.mu.Unlock()
	if s != nil {
		for {
			a.mu.Lock()
			acked := s.acked
			ch := a.progress
			a.mu.Unlock()
			if acked >= lsn {
				break
			}
			select {
			case <-ch:
			case <-ctx.Done():
				return lsn, nil // the new active continues with what it has
			}
		}
	}
	m.log.Info("handed over the active role", "checkpoint", c.name(), "to", to, "lsn", lsn)
	return lsn, nil
}

// fence stops taking writes: ops after the returned LSN are neither made, sent nor acknowledged.
// The replica takes no change from now on, not even locally: its content must end where the ops
// handed over end, or a copy of it (one in progress, or the one the next active makes) would carry
// changes whose callers were told to retry elsewhere.
func (a *active) fence() uint64 {
	a.rep.FenceWrites(errDeposed) // takes the replica's lock: no op is half-made now
	a.mu.Lock()
	defer a.mu.Unlock()
	a.fenced = true
	a.broadcastLocked()
	return a.lsn
}
