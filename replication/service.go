package replication

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/clckpt/libclckpt/engine"
	"github.com/clckpt/libclckpt/metrics"
	"github.com/clckpt/libclckpt/replication/directory"
	"github.com/clckpt/libclckpt/replication/wire"
)

// Open implements engine.Service.
func (m *Member) Open(ctx context.Context, name string, attrs *engine.Attributes, flags engine.OpenFlags) (_ engine.Checkpoint, err error) {
	defer m.called(metrics.OpOpen, &err)
	if err := engine.ValidateOpen(name, attrs, flags); err != nil {
		return nil, err
	}
	if m.closed.Load() {
		return nil, engine.ErrClosed
	}
	if err := ctx.Err(); err != nil {
		return nil, timeoutErr(err)
	}
	// The directory changes of an open run to their end whatever the caller's deadline: JetStream
	// may still store a change the client stopped waiting for, so a change abandoned half-way could
	// create a checkpoint, or count an open, after the call returned. When the deadline passes
	// meanwhile, the finished open is taken back and the call times out.
	dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), callTimeout)
	defer cancel()
	for {
		e, created, err := m.openOrCreate(dctx, []byte(name), attrs, flags)
		if errors.Is(err, errRetry) {
			if err := ctx.Err(); err != nil {
				return nil, timeoutErr(err)
			}
			continue
		}
		if err != nil {
			return nil, err
		}
		c := m.ckptFor(e.ID)
		c.update(e)
		h := m.newHandle(c, name, flags, e.Attrs.Flags)
		if err := ctx.Err(); err != nil {
			m.undoOpen(dctx, h, created)
			return nil, timeoutErr(err)
		}
		return h, nil
	}
}

// undoOpen takes back the open h whose caller gave up: the open is closed, and a checkpoint it
// created that nobody else has opened since is destroyed with its name, as if never created.
func (m *Member) undoOpen(ctx context.Context, h *handle, created bool) {
	if created {
		e, err := m.dir.Update(ctx, h.c.id, func(e *directory.Entry) error {
			if e.Deleted || e.Opens() != 1 || e.Openers[m.name] != 1 {
				return errNoChange
			}
			e.Deleted = true
			return nil
		})
		if err == nil {
			h.c.update(e)
		}
	}
	if err := h.close(ctx); err != nil {
		m.log.Warn("taking back a timed-out open", "checkpoint", h.name, "err", err)
	}
}

// newHandle makes a local handle on c, whose open the directory already counts.
func (m *Member) newHandle(c *ckpt, name string, flags engine.OpenFlags, created engine.CreationFlags) *handle {
	h := &handle{m: m, c: c, name: name, flags: flags, origin: fmt.Sprintf("%s/%d", m.name, m.handleSeq.Add(1)),
		mode: metrics.ModeOf(created)}
	c.mu.Lock()
	c.handles[h] = struct{}{}
	c.mu.Unlock()
	return h
}

var errRetry = errors.New("retry")

// errExpired: the checkpoint's retention ran out while nobody had it open.
var errExpired = errors.New("retention ran out")

// openOrCreate counts one more open of this member on the checkpoint called name, creating it when
// asked to (created: this open made it).
func (m *Member) openOrCreate(ctx context.Context, name []byte, attrs *engine.Attributes, flags engine.OpenFlags) (_ *directory.Entry, created bool, _ error) {
	id, err := m.dir.Lookup(ctx, name)
	switch {
	case errors.Is(err, directory.ErrNotFound) && flags&engine.OpenCreate == 0:
		return nil, false, fmt.Errorf("%w: no checkpoint %q", engine.ErrNotExist, name)
	case errors.Is(err, directory.ErrNotFound):
		if attrs.MaxSections == 0 {
			return nil, false, engine.ErrMaxSectionsZero
		}
		e := m.newEntry(name, *attrs)
		switch err := m.dir.Create(ctx, e); {
		case errors.Is(err, directory.ErrNameTaken):
			return nil, false, errRetry // created by someone else meanwhile: open it
		case errors.Is(err, directory.ErrNameCollision):
			return nil, false, err
		case err != nil:
			return nil, false, tryAgain(err)
		}
		m.log.Info("checkpoint created", "checkpoint", string(name), "replicas", e.Replicas, "active", e.Active)
		return e, true, nil
	case err != nil:
		return nil, false, tryAgain(err)
	}
	e, err := m.dir.Update(ctx, id, func(e *directory.Entry) error {
		if e.Deleted {
			return errRetry
		}
		if e.Opens() == 0 && e.Deadline != 0 && m.data.Now().UnixNano() >= e.Deadline {
			return errExpired
		}
		if flags&engine.OpenCreate != 0 && e.Attrs != *attrs {
			return fmt.Errorf("%w: checkpoint %q exists with other attributes", engine.ErrAlreadyExist, name)
		}
		if e.Openers == nil {
			e.Openers = map[string]int{}
		}
		e.Openers[m.name]++
		e.Deadline = 0
		if openerHoldsReplica(e.Attrs.Flags) && !e.HasReplica(m.name) {
			e.Replicas = append(e.Replicas, m.name)
		}
		return nil
	})
	switch {
	case errors.Is(err, directory.ErrNotFound):
		// Destroyed. A destroy removes the entry, then the name: one that stopped in between (its
		// member finalized or killed) left the name pointing to no entry, and every lookup would
		// find it again. Ids are never reused, so such a name is taken away as the destroy would
		// have (only while it still points to id); then the name is looked up again.
		if err := m.dir.Unlink(ctx, name, id); err != nil && !errors.Is(err, directory.ErrNotFound) && !errors.Is(err, directory.ErrConflict) {
			return nil, false, tryAgain(err)
		}
		return nil, false, errRetry
	case errors.Is(err, errRetry):
		return nil, false, errRetry // deleted meanwhile: look the name up again
	case errors.Is(err, errExpired):
		// Its retention ran out and no timer has destroyed it yet (its member may be down, or
		// just restarting): it is destroyed here, as the timer would, and is not reopened.
		if err := m.destroy(ctx, e); err != nil {
			return nil, false, err
		}
		return nil, false, errRetry
	case errors.Is(err, engine.ErrAlreadyExist):
		return nil, false, err
	case err != nil:
		return nil, false, tryAgain(err)
	}
	return e, false, nil
}

// openerHoldsReplica: these checkpoints have a replica on every member that opens them. The
// COLLOCATED bit asks for that with any write flag (SAF: "a replica on every node where the
// checkpoint is opened"); only with WR_ALL_REPLICAS unset does it also leave the active to
// ActiveReplicaSet (IsCollocated).
func openerHoldsReplica(f engine.CreationFlags) bool {
	return f&(engine.Collocated|engine.Distributed|engine.AllOpenAreReplicas) != 0
}

// newEntry places a new checkpoint: collocated ones start on the creator without an active;
// others go to CLCKPT_REPLICAS servers (or the creator when there is no server), the first being
// active.
func (m *Member) newEntry(name []byte, attrs engine.Attributes) *directory.Entry {
	e := &directory.Entry{ID: m.reps.NewID(), Name: name, Attrs: attrs, Openers: map[string]int{m.name: 1}}
	if attrs.Flags.IsCollocated() {
		e.Replicas = []string{m.name}
		return e
	}
	servers := m.servers()
	if len(servers) == 0 {
		e.Replicas = []string{m.name}
	} else {
		e.Replicas = rendezvous(e.ID, servers, m.cfg.Replicas)
	}
	if openerHoldsReplica(attrs.Flags) && !e.HasReplica(m.name) {
		e.Replicas = append(e.Replicas, m.name)
	}
	e.NewEpoch(e.Replicas[0], 0)
	e.Synced = slices.Clone(e.Replicas)
	return e
}

// rendezvous picks n members for a checkpoint by highest random weight: spread over the servers,
// and the same choice for everyone.
func rendezvous(id uint64, members []string, n int) []string {
	weight := func(name string) uint64 {
		h := fnv.New64a()
		_ = binary.Write(h, binary.LittleEndian, id)
		h.Write([]byte(name))
		return h.Sum64()
	}
	out := slices.Clone(members)
	sort.Slice(out, func(i, j int) bool { return weight(out[i]) > weight(out[j]) })
	return out[:min(n, len(out))]
}

// Delete implements engine.Service: the name goes at once; the checkpoint is destroyed at its last
// close.
func (m *Member) Delete(ctx context.Context, name string) (err error) {
	defer m.called(metrics.OpDelete, &err)
	if err := engine.ValidateOpen(name, nil, 0); err != nil {
		return err
	}
	if m.closed.Load() {
		return engine.ErrClosed
	}
	for {
		id, err := m.dir.Lookup(ctx, []byte(name))
		if errors.Is(err, directory.ErrNotFound) {
			return fmt.Errorf("%w: no checkpoint %q", engine.ErrNotExist, name)
		}
		if err != nil {
			return tryAgain(err)
		}
		switch err := m.dir.Unlink(ctx, []byte(name), id); {
		case errors.Is(err, directory.ErrNotFound), errors.Is(err, directory.ErrConflict):
			continue
		case err != nil:
			return tryAgain(err)
		}
		return m.markDeleted(ctx, id)
	}
}

// markDeleted marks checkpoint id, whose name is gone, deleted: it is destroyed at its last close.
func (m *Member) markDeleted(ctx context.Context, id uint64) error {
	e, err := m.dir.Update(ctx, id, func(e *directory.Entry) error { e.Deleted = true; return nil })
	if errors.Is(err, directory.ErrNotFound) {
		return nil
	}
	if err != nil {
		return tryAgain(err)
	}
	m.ckptFor(id).update(e)
	return m.settle(ctx, e)
}

// closeOpen counts n opens less of member (allOpens: all of them, for a dead member) and settles.
func (m *Member) closeOpen(ctx context.Context, id uint64, member string, n int) error {
	e, err := m.dir.Update(ctx, id, func(e *directory.Entry) error {
		if !dropOpens(e, member, n) {
			return errNoChange
		}
		return nil
	})
	switch {
	case errors.Is(err, directory.ErrNotFound), errors.Is(err, errNoChange):
		return nil
	case err != nil:
		return tryAgain(err)
	}
	m.ckptFor(id).update(e)
	return m.settle(ctx, e)
}

// allOpens, as the count of closeOpen, closes every open of the member.
const allOpens = -1

// dropOpens takes n opens of member (allOpens: all) out of e; false if it had none.
func dropOpens(e *directory.Entry, member string, n int) bool {
	have := e.Openers[member]
	if have == 0 {
		return false
	}
	if n == allOpens || n >= have {
		delete(e.Openers, member)
	} else {
		e.Openers[member] = have - n
	}
	return true
}

// closeOpens counts, for each checkpoint of counts, that many opens of this member less, and
// settles those nobody has open any more. The changes to the entries this member knows at their
// latest revision go to the directory all at once (Directory.UpdateAll), each with the retention
// deadline it gets if its last open goes (so the deadline is the time of this close, as settle
// would set it); the others, and any whose entry changed meanwhile, are closed one by one, many at
// a time. Checkpoints to destroy (retention 0, deleted) are then destroyed many at a time.
func (m *Member) closeOpens(ctx context.Context, counts map[*ckpt]int) error {
	type closing struct {
		c *ckpt
		n int
	}
	var slow []closing
	var batch []*directory.Entry
	var inBatch []closing
	now := m.data.Now().UnixNano()
	for c, n := range counts {
		c.mu.Lock()
		e, gone := c.entry, c.gone
		c.mu.Unlock()
		switch {
		case gone:
			continue // destroyed: no open is counted any more
		case e == nil || e.Openers[m.name] < n:
			slow = append(slow, closing{c, n})
			continue
		}
		ne := e.Clone()
		dropOpens(ne, m.name, n)
		if ne.Opens() == 0 {
			if destroy, deadline := retentionAt(ne, now); !destroy && deadline != 0 {
				ne.Deadline = deadline
			}
		}
		batch = append(batch, ne)
		inBatch = append(inBatch, closing{c, n})
	}
	var errMu sync.Mutex
	var first error
	fail := func(err error) {
		errMu.Lock()
		defer errMu.Unlock()
		if first == nil {
			first = err
		}
	}
	var settle []*directory.Entry
	began := time.Now()
	for i, err := range m.dir.UpdateAll(ctx, batch) {
		switch {
		case err == nil:
			inBatch[i].c.update(batch[i])
			if destroy, _ := retentionAt(batch[i], now); destroy && batch[i].Opens() == 0 {
				settle = append(settle, batch[i])
			}
		case errors.Is(err, directory.ErrConflict):
			slow = append(slow, inBatch[i])
		default:
			fail(tryAgain(err))
		}
	}
	var wg sync.WaitGroup
	sem := make(chan struct{}, closersAtOnce)
	run := func(f func() error) {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			if err := f(); err != nil {
				fail(err)
			}
		})
	}
	for _, s := range slow {
		run(func() error { return m.closeOpen(ctx, s.c.id, m.name, s.n) })
	}
	for _, e := range settle {
		run(func() error { return m.settle(ctx, e) })
	}
	wg.Wait()
	m.log.Debug("opens closed", "checkpoints", len(counts), "together", len(batch)-len(slow), "one_by_one", len(slow),
		"destroyed", len(settle), "took", time.Since(began))
	return first
}

// closersAtOnce is how many checkpoints closeOpens closes or destroys at once, one by one.
const closersAtOnce = 32

// retentionAt tells what becomes at time now of checkpoint e once nobody has it open: destroyed
// (retention 0, Distributed, or deleted), or kept until deadline (0: kept, forever or until a
// deadline already set).
func retentionAt(e *directory.Entry, now int64) (destroy bool, deadline int64) {
	ret := e.Attrs.Retention
	if e.Attrs.Flags&engine.Distributed != 0 {
		ret = 0
	}
	switch {
	case e.Deleted || ret == 0:
		return true, 0
	case ret < 0 || ret == engine.RetainForever || e.Deadline != 0:
		return false, 0
	case ret > time.Duration(math.MaxInt64-now):
		return false, 0
	}
	return false, now + int64(ret)
}

// settle applies what happens when nobody has a checkpoint open: a deleted one is destroyed, and
// retention starts (Distributed checkpoints always use 0).
func (m *Member) settle(ctx context.Context, e *directory.Entry) error {
	if e.Opens() > 0 {
		return nil
	}
	destroy, deadline := retentionAt(e, m.data.Now().UnixNano())
	if destroy {
		return m.destroy(ctx, e)
	}
	if deadline == 0 {
		return nil
	}
	ne, err := m.dir.Update(ctx, e.ID, func(e *directory.Entry) error {
		if e.Opens() > 0 || e.Deadline != 0 {
			return errNoChange
		}
		e.Deadline = deadline
		return nil
	})
	if err == nil {
		m.ckptFor(e.ID).update(ne)
	}
	if errors.Is(err, errNoChange) || errors.Is(err, directory.ErrNotFound) {
		return nil
	}
	return err
}

// destroy removes a checkpoint nobody has open; every member drops its replica when it sees the
// entry go.
func (m *Member) destroy(ctx context.Context, e *directory.Entry) error {
	for {
		err := m.dir.Remove(ctx, e)
		if err == nil {
			m.dropGone(m.ckptFor(e.ID))
			m.log.Info("checkpoint destroyed", "checkpoint", string(e.Name))
			return nil
		}
		if !errors.Is(err, directory.ErrConflict) {
			if errors.Is(err, directory.ErrNotFound) {
				return nil
			}
			return tryAgain(err)
		}
		// Changed meanwhile: look again.
		ne, gerr := m.dir.Get(ctx, e.ID)
		if errors.Is(gerr, directory.ErrNotFound) {
			return nil
		}
		if gerr != nil {
			return tryAgain(gerr)
		}
		if ne.Opens() > 0 {
			return nil // reopened
		}
		e = ne
	}
}

// expireRetention destroys a checkpoint whose retention deadline came, unless it was reopened.
func (m *Member) expireRetention(id uint64, deadline int64) {
	ctx, cancel := context.WithTimeout(m.ctx, 10*time.Second)
	defer cancel()
	e, err := m.dir.Get(ctx, id)
	if err != nil || e.Deadline != deadline || e.Opens() > 0 || m.data.Now().UnixNano() < deadline {
		return
	}
	if err := m.destroy(ctx, e); err != nil {
		m.log.Warn("retention: destroying a checkpoint", "checkpoint", string(e.Name), "err", err)
	}
}

// buryMember applies the death of a member to every checkpoint: its opens count as closed, and the
// checkpoints it was active for lose their active (collocated) or elect another.
func (m *Member) buryMember(dead string) {
	ctx, cancel := context.WithTimeout(m.ctx, 30*time.Second)
	defer cancel()
	for _, c := range m.allCkpts() {
		c.mu.Lock()
		e := c.entry
		c.mu.Unlock()
		if e == nil {
			continue
		}
		if _, a := c.localActive(); a != nil {
			a.forget(dead)
		}
		if e.Openers[dead] > 0 {
			if err := m.closeOpen(ctx, e.ID, dead, allOpens); err != nil {
				m.log.Warn("closing the opens of a dead member", "dead", dead, "checkpoint", string(e.Name), "err", err)
			}
		}
		if e.Active != dead || !e.HasReplica(m.name) {
			continue
		}
		if e.Attrs.Flags.IsCollocated() {
			continue // no active until ActiveReplicaSet; calls say NOT_EXIST meanwhile
		}
		if err := m.elect(ctx, c, e); err != nil {
			m.log.Warn("electing a new active", "checkpoint", string(e.Name), "err", err)
		}
	}
}

// reconcileAll reads every entry and brings the local replicas and roles in line: at the start of
// the member, after a lease renewal that followed a fence.
func (m *Member) reconcileAll(ctx context.Context) error {
	entries, err := m.dir.List(ctx)
	if err != nil {
		return tryAgain(err)
	}
	since := m.leaseEndsSeen()
	members, err := m.dir.Members(ctx)
	if err != nil {
		return tryAgain(err)
	}
	m.mergeMembers(members, since)
	known := make(map[uint64]bool, len(entries))
	var listedRev uint64 // the list was read after this revision was written
	for _, e := range entries {
		known[e.ID] = true
		listedRev = max(listedRev, e.Rev)
		m.ckptFor(e.ID).update(e)
	}
	// A checkpoint missing from the list is gone, unless this member saw its entry at a revision
	// written after the list was read (created meanwhile).
	missing := func(c *ckpt) bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		return !known[c.id] && (c.entry == nil || c.entry.Rev <= listedRev)
	}
	// Absence means destruction only in the directory this slot's replicas were last reconciled
	// against: another directory (a new NATS store, another deployment) never knew them, and a
	// replica may hold data no other replica has. Such replicas are kept, and the slot keeps its
	// old directory as home until none is left.
	home := m.homeDirectory()
	kept := 0
	for _, r := range m.reps.All() {
		if m.isRestoring(r.ID()) {
			continue // a restore's replica, whose entry is about to be made (backup.go)
		}
		if c := m.ckptFor(r.ID()); missing(c) {
			if home != m.dir.ID() {
				m.log.Warn("keeping the replica of a checkpoint this member's NATS directory does not know (it was made in another one)",
					"checkpoint", r.Name(), "directory", m.dir.ID(), "replica_directory", home)
				kept++
				continue
			}
			m.log.Info("dropping the replica of a checkpoint that no longer exists", "checkpoint", r.Name())
			m.dropGone(c)
		}
	}
	if kept == 0 && home != m.dir.ID() {
		if err := os.WriteFile(m.homePath(), []byte(m.dir.ID()), 0o600); err != nil {
			return fmt.Errorf("%w: %w", engine.ErrStorage, err)
		}
	}
	// Checkpoints known here without a replica (local handles only) that were destroyed while the
	// watch could not tell (the markers of removals expire).
	for _, c := range m.allCkpts() {
		c.mu.Lock()
		seen := c.entry != nil && !c.gone
		c.mu.Unlock()
		if seen && missing(c) {
			m.dropGone(c)
		}
	}
	// Opens held by members that are gone (including an earlier life of this one) are closed, and
	// actives that are gone are replaced.
	for _, e := range entries {
		for opener := range e.Openers {
			if _, ok := members[opener]; !ok || opener == m.name && !m.hasHandles(e.ID) {
				if err := m.closeOpen(ctx, e.ID, opener, allOpens); err != nil {
					m.log.Warn("closing stale opens", "checkpoint", string(e.Name), "member", opener, "err", err)
				}
			}
		}
		if _, ok := members[e.Active]; e.Active != "" && !ok && !e.Attrs.Flags.IsCollocated() && e.HasReplica(m.name) {
			if err := m.elect(ctx, m.ckptFor(e.ID), e); err != nil {
				m.log.Warn("electing a new active", "checkpoint", string(e.Name), "err", err)
			}
		}
	}
	return nil
}

// homePath is the file holding the identity of the directory this slot's replicas belong to.
func (m *Member) homePath() string { return filepath.Join(m.cfg.DataDir, m.name+".directory") }

// homeDirectory returns the identity of the directory this slot's replicas belong to ("" for a
// slot that has not recorded one).
func (m *Member) homeDirectory() string {
	b, _ := os.ReadFile(m.homePath())
	return strings.TrimSpace(string(b))
}

func (m *Member) hasHandles(id uint64) bool {
	m.mu.Lock()
	c := m.ckpts[id]
	m.mu.Unlock()
	if c == nil {
		return false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.handles) > 0
}

func tryAgain(err error) error {
	if errors.Is(err, engine.ErrTryAgain) || errors.Is(err, engine.ErrTimeout) {
		return err
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return timeoutErr(err)
	}
	return fmt.Errorf("%w: %w", engine.ErrTryAgain, err)
}

func timeoutErr(err error) error { return fmt.Errorf("%w: %w", engine.ErrTimeout, err) }

// Entry returns the directory entry of the checkpoint called name (for tools and tests).
func (m *Member) Entry(ctx context.Context, name string) (*directory.Entry, error) {
	id, err := m.dir.Lookup(ctx, []byte(name))
	if err != nil {
		return nil, notFoundIsNotExist(err)
	}
	e, err := m.dir.Get(ctx, id)
	if err != nil {
		return nil, notFoundIsNotExist(err)
	}
	return e, nil
}

// Probe makes one round trip to another member over this member's connection (a position query
// that does no work): the floor of any replicated call between the two, for diagnostics.
func (m *Member) Probe(ctx context.Context, member string) error {
	_, err := m.nc.RequestWithContext(ctx, m.subject(member, "pos"), (&wire.PositionMsg{}).Encode(nil))
	return err
}
