package replication

import (
	"context"
	"errors"
	"slices"
	"time"

	"github.com/clckpt/libclckpt/replication/directory"
)

// Following a checkpoint (Checkpoint.Follow) needs a local replica: the updates are those the
// replica applies. Openers of COLLOCATED, Distributed and AllOpenAreReplicas checkpoints always
// hold one; on other checkpoints a member that holds none joins the replica set while one of its
// handles follows, and leaves it again when the last one stops following or closes.

// joinToFollow makes this member a replica of c if it is none, and waits (at most callTimeout,
// and only while the entry names an active) until the active has copied the checkpoint to it and
// counts it in sync: from then on every change is announced to the local followers. The active
// sends the copy as it does to a member that opens a Distributed checkpoint.
func (c *ckpt) joinToFollow() {
	m := c.m
	c.joining.Lock()
	defer c.joining.Unlock()
	ctx, cancel := context.WithTimeout(m.ctx, callTimeout)
	defer cancel()
	c.mu.Lock()
	following := len(c.subs) > 0
	c.mu.Unlock()
	if !following {
		return
	}
	if e, err := c.current(ctx); err != nil || e.HasReplica(m.name) || openerHoldsReplica(e.Attrs.Flags) {
		return // a replica already (or the open made one), or gone
	}
	e, err := m.dir.Update(ctx, c.id, func(e *directory.Entry) error {
		if e.Deleted || e.HasReplica(m.name) {
			return errNoChange
		}
		e.Replicas = append(e.Replicas, m.name)
		return nil
	})
	if err != nil {
		if !errors.Is(err, errNoChange) && !errors.Is(err, directory.ErrNotFound) {
			m.log.Warn("joining the replicas to follow", "checkpoint", c.name(), "err", err)
		}
		return
	}
	c.setJoined(true, e)
	m.log.Info("replica joined to follow", "checkpoint", c.name())
	for ctx.Err() == nil {
		e, err := c.current(ctx)
		if err != nil || e.IsSynced(m.name) || !e.HasReplica(m.name) || e.Active == "" {
			return // in sync; or no active to copy from for now (the copy comes when there is one)
		}
		select {
		case <-ctx.Done():
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// leaveAfterFollow takes this member out of the replica set of c when it joined it to follow and
// no local handle follows any more. It stays a replica when it is the active, or when the active
// is not known alive: its copy may then hold changes no other replica has.
func (c *ckpt) leaveAfterFollow(ctx context.Context) {
	m := c.m
	c.joining.Lock()
	defer c.joining.Unlock()
	c.mu.Lock()
	leave := c.joined && len(c.subs) == 0
	c.mu.Unlock()
	if !leave || m.closed.Load() {
		return
	}
	e, err := m.dir.Update(ctx, c.id, func(e *directory.Entry) error {
		if !e.HasReplica(m.name) {
			return errNoChange
		}
		if e.Active == "" || e.Active == m.name || !m.alive(e.Active) {
			return errKeepReplica
		}
		not := func(r string) bool { return r == m.name }
		e.Replicas = slices.DeleteFunc(e.Replicas, not)
		e.Synced = slices.DeleteFunc(e.Synced, not)
		return nil
	})
	switch {
	case errors.Is(err, errKeepReplica):
		return // joined still: a later follow or close tries again
	case errors.Is(err, errNoChange), errors.Is(err, directory.ErrNotFound):
		c.setJoined(false, nil)
		return
	case err != nil:
		m.log.Warn("leaving the replicas after following", "checkpoint", c.name(), "err", err)
		return
	}
	c.setJoined(false, e)
	m.log.Info("replica left after following", "checkpoint", c.name())
}

// setJoined records whether this member is a replica for following, then takes in e (if not nil).
func (c *ckpt) setJoined(joined bool, e *directory.Entry) {
	c.mu.Lock()
	c.joined = joined
	c.mu.Unlock()
	if e != nil {
		c.update(e)
	}
}

var errKeepReplica = errors.New("the replica is kept")
