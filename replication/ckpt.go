package replication

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/clckpt/libclckpt/engine"
	"github.com/clckpt/libclckpt/engine/clock"
	"github.com/clckpt/libclckpt/replication/directory"
)

// ckpt is what a member knows and holds of one checkpoint: the latest entry it has seen, its local
// replica, its active role, and its local handles.
type ckpt struct {
	m     *Member
	id    uint64
	label atomic.Pointer[string] // the checkpoint's name, once known (for logs)

	mu       sync.Mutex
	entry    *directory.Entry // nil until known
	gone     bool             // the entry was removed
	rep      *engine.Replica  // the local replica, if any
	act      *active          // set while this member is the active replica
	deposed  uint64           // the last epoch this member learnt it no longer leads: never active in it again
	previous string           // another member the entry named active before the current one (for the failover count)
	inst     *install         // a snapshot being installed
	handles  map[*handle]struct{}
	subs     map[string]subscription // subscriptions of local handles, kept across replica copies
	joined   bool                    // this member joined the replica set to follow (follow.go)
	// copied: when the local replica came from an active's copy that no entry seen since confirms
	// (zero: none). An active copies only to a member the entry names, so an entry without this
	// member that comes soon after is an older one (the watch lags behind the copy) and must not
	// drop the replica; one that still says so after copyGrace is believed.
	copied   time.Time
	recheck  bool       // a read of the entry is planned for when copyGrace ends
	joining  sync.Mutex // serializes joinToFollow and leaveAfterFollow; taken before mu
	retTimer clock.Timer
	deadline int64 // the deadline retTimer is armed for
}

// ckptFor returns the state of checkpoint id, creating it.
func (m *Member) ckptFor(id uint64) *ckpt {
	m.mu.Lock()
	defer m.mu.Unlock()
	c := m.ckpts[id]
	if c == nil {
		c = &ckpt{m: m, id: id, handles: make(map[*handle]struct{}), subs: make(map[string]subscription)}
		if r := m.reps.Get(id); r != nil {
			c.rep = r
			c.setLabel(r.Name())
		}
		m.ckpts[id] = c
	}
	return c
}

// onEntry takes a change of an entry from the directory watch (nil: removed).
func (m *Member) onEntry(id uint64, e *directory.Entry) {
	c := m.ckptFor(id)
	c.update(e)
	m.release(c)
}

// dropGone takes in that c's checkpoint no longer exists (its replica and role go) and releases it.
func (m *Member) dropGone(c *ckpt) {
	c.update(nil)
	m.release(c)
}

// release drops c from the member's table once its checkpoint is gone and no local handle uses it
// (ids are never reused: a gone checkpoint never comes back). Every path that may look a checkpoint
// up by id (a late call, a watch event, a destroy) releases it after, so the table holds only
// checkpoints that exist or are in use.
func (m *Member) release(c *ckpt) {
	m.mu.Lock()
	defer m.mu.Unlock()
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gone && len(c.handles) == 0 && m.ckpts[c.id] == c {
		delete(m.ckpts, c.id)
	}
}

// refresh reads the entry from the directory and takes it in.
func (c *ckpt) refresh(ctx context.Context) (*directory.Entry, error) {
	e, err := c.m.dir.Get(ctx, c.id)
	if errors.Is(err, directory.ErrNotFound) {
		c.mu.Lock()
		known := c.entry != nil
		c.mu.Unlock()
		if !known {
			c.update(nil)
		}
		// An entry this member has seen is dropped by the watch, which sees the removal in order:
		// a read answered by a server that lags may not have the entry yet, and dropping on it
		// would destroy a live replica.
		return nil, engine.ErrNotExist
	}
	if err != nil {
		return nil, err
	}
	c.update(e)
	return e, nil
}

// current returns the latest entry known, reading it if none is.
func (c *ckpt) current(ctx context.Context) (*directory.Entry, error) {
	c.mu.Lock()
	e, gone := c.entry, c.gone
	c.mu.Unlock()
	if gone {
		return nil, engine.ErrNotExist
	}
	if e != nil {
		return e, nil
	}
	return c.refresh(ctx)
}

// update takes in an entry (nil: removed) and makes the local replica and role match it.
func (c *ckpt) update(e *directory.Entry) {
	c.mu.Lock()
	defer c.mu.Unlock()
	m := c.m
	if e == nil {
		c.gone = true
		c.stepDownLocked("checkpoint destroyed")
		c.stopRetentionLocked()
		if c.inst != nil {
			c.inst.stop() // a copy under way: its install gives up and drops what it stored
		}
		if c.rep != nil {
			if err := m.reps.Destroy(c.rep); err != nil {
				m.log.Warn("dropping the replica of a destroyed checkpoint", "id", c.id, "err", err)
			}
			c.rep = nil
		}
		return
	}
	if c.entry != nil && e.Rev < c.entry.Rev {
		return // an older copy than the one we have (the same one reconciles again: after a fence)
	}
	if c.entry != nil && c.entry.Active != "" && c.entry.Active != e.Active {
		c.previous = c.entry.Active
	}
	c.entry, c.gone = e, false
	c.setLabel(string(e.Name))
	c.reconcileLocked(e)
}

// reconcileLocked makes the local replica and role match entry e; c.mu is held.
func (c *ckpt) reconcileLocked(e *directory.Entry) {
	m := c.m
	// The local replica.
	if e.HasReplica(m.name) {
		c.copied = time.Time{}
		if c.rep == nil && c.inst == nil && (e.Active == m.name || e.Active == "") {
			// A new checkpoint (or one nobody serves yet): start it empty. Otherwise the active sends
			// a copy.
			epoch := uint64(0)
			if e.Active == m.name {
				epoch = e.Epoch
			}
			r, err := m.reps.Create(e.ID, string(e.Name), e.Attrs, epoch, false)
			if err != nil {
				m.log.Warn("creating a replica", "name", string(e.Name), "err", err)
			} else {
				c.setReplicaLocked(r)
			}
		}
	} else if c.rep != nil && time.Since(c.copied) < copyGrace {
		// See copied: the newer entry is on its way; if none comes, the entry is read again then.
		if !c.recheck {
			c.recheck = true
			time.AfterFunc(copyGrace-time.Since(c.copied), func() {
				c.mu.Lock()
				c.recheck = false
				c.mu.Unlock()
				m.spawn(func() { _, _ = c.refresh(m.ctx) })
			})
		}
	} else if c.rep != nil {
		c.stepDownLocked("no longer a replica")
		if err := m.reps.Destroy(c.rep); err != nil {
			m.log.Warn("dropping a replica", "name", string(e.Name), "err", err)
		}
		c.rep = nil
	}

	// The active role.
	if c.act != nil && (e.Active != m.name || e.Epoch != c.act.epoch) {
		c.stepDownLocked("the directory names another active")
	}
	// Also right after stepping down: a member fenced by a handover may take the role back.
	if c.act == nil && e.Active == m.name && c.rep != nil && !m.fenced.Load() && !m.closed.Load() {
		c.becomeActiveLocked(e)
	}
	if c.act != nil {
		c.act.follow(e)
	}
	c.armRetentionLocked(e)
}

// setReplicaLocked installs r as the local replica and attaches the local subscriptions to it.
func (c *ckpt) setReplicaLocked(r *engine.Replica) {
	c.rep = r
	for key, sub := range c.subs {
		sub.attach(r, key)
	}
}

// subscription is a local handle's Subscribe or Follow.
type subscription struct {
	fn      func(engine.Update)
	creates bool // Follow: section creations too
}

// attach registers the subscription with replica r under key.
func (s subscription) attach(r *engine.Replica, key string) {
	if s.creates {
		r.Follow(key, s.fn)
	} else {
		r.Subscribe(key, s.fn)
	}
}

// stepDown gives up the active role; false if there was none.
func (c *ckpt) stepDown(why string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	had := c.act != nil
	c.stepDownLocked(why)
	return had
}

// whyLeaving is why a member that leaves gives up its active roles.
const whyLeaving = "closing"

func (c *ckpt) stepDownLocked(why string) {
	if c.act == nil {
		return
	}
	level := slog.LevelInfo
	if why == whyLeaving {
		level = slog.LevelDebug // the member's "left" line counts them
	}
	c.m.log.Log(context.Background(), level, "no longer active", "checkpoint", c.name(), "epoch", c.act.epoch, "why", why)
	c.act.stop()
	c.act = nil
	if c.rep != nil {
		c.rep.Detach(errDeposed) // a call that found it active and reaches it now retries elsewhere
		c.rep.SetExpiring(false)
	}
}

// depose gives up the active role of epoch for good: an older copy of the entry that still names
// this member (a watch that lags) must not make it active there again, with writes nobody receives.
func (c *ckpt) depose(epoch uint64, why string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.deposed = max(c.deposed, epoch)
	if c.act != nil && c.act.epoch <= epoch {
		c.stepDownLocked(why)
	}
}

// becomeActiveLocked makes the local replica the active one of epoch e.Epoch.
func (c *ckpt) becomeActiveLocked(e *directory.Entry) {
	if e.Epoch <= c.deposed {
		return
	}
	if epoch, _ := c.rep.Position(); epoch != e.Epoch {
		if err := c.rep.SetEpoch(e.Epoch); err != nil {
			c.m.log.Error("cannot record the new epoch: not taking the active role", "checkpoint", string(e.Name), "err", err)
			return
		}
	}
	c.act = newActive(c, c.rep, e)
	c.rep.SetSink(c.act)
	c.rep.SetExpiring(true)
	if c.previous != "" && c.previous != c.m.name {
		c.m.metrics.FailedOver()
	}
	c.previous = ""
	c.m.log.Info("active", "checkpoint", string(e.Name), "epoch", e.Epoch)
}

func (c *ckpt) name() string {
	if n := c.label.Load(); n != nil {
		return *n
	}
	return fmt.Sprintf("%016x", c.id)
}

func (c *ckpt) setLabel(name string) {
	if c.label.Load() == nil {
		c.label.Store(&name)
	}
}

// handingOver is the local active role while it can still hand over: serving, or fenced by an
// earlier handover (a second member taking over at the same time must get the same ops).
func (c *ckpt) handingOver() *active {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.act == nil || c.act.isStopped() {
		return nil
	}
	return c.act
}

// localActive returns the local replica when this member is its active, serving.
func (c *ckpt) localActive() (*engine.Replica, *active) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.act == nil || c.m.fenced.Load() || c.act.isFenced() {
		return nil, nil
	}
	return c.rep, c.act
}

// armRetentionLocked arms (or cancels) the timer for the entry's retention deadline: when it fires,
// the checkpoint is destroyed unless it was opened meanwhile.
func (c *ckpt) armRetentionLocked(e *directory.Entry) {
	if e.Deadline == 0 || e.Opens() > 0 {
		c.stopRetentionLocked()
		return
	}
	if c.retTimer != nil && c.deadline == e.Deadline {
		return
	}
	c.stopRetentionLocked()
	c.deadline = e.Deadline
	deadline := e.Deadline
	m := c.m
	c.retTimer = m.data.AfterFunc(time.Duration(deadline-m.data.Now().UnixNano()), func() {
		// On the timer's own call (a goroutine of its own with the real clock): with a test's
		// clock, the checkpoint is destroyed by the time the clock's Advance returns.
		if m.ctx.Err() != nil {
			return
		}
		m.workers.Add(1)
		defer m.workers.Done()
		m.expireRetention(c.id, deadline)
	})
}

func (c *ckpt) stopRetentionLocked() {
	if c.retTimer != nil {
		c.retTimer.Stop()
		c.retTimer = nil
	}
	c.deadline = 0
}

// handlesList returns the local handles of c.
func (c *ckpt) handlesList() []*handle {
	c.mu.Lock()
	defer c.mu.Unlock()
	hs := make([]*handle, 0, len(c.handles))
	for h := range c.handles {
		hs = append(hs, h)
	}
	return hs
}

// copyGrace is how long a copied replica outlives entries that do not name this member (see
// ckpt.copied): far longer than the watch lags behind a copy.
const copyGrace = time.Minute
