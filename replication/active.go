package replication

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/clckpt/libclckpt/engine"
	"github.com/clckpt/libclckpt/metrics"
	"github.com/clckpt/libclckpt/replication/directory"
	"github.com/clckpt/libclckpt/replication/wire"
)

// active is the active role of a member for one checkpoint: it is the replica's sink, keeps the
// recent ops, and runs one stream per other replica.
type active struct {
	c     *ckpt
	rep   *engine.Replica
	epoch uint64
	sync  bool // WR_ALL_REPLICAS: a write waits for every in-sync replica

	mu        sync.Mutex
	ring      []ringOp // recent ops, oldest first
	ringBytes int
	lsn       uint64 // last op emitted
	streams   map[string]*stream
	synced    map[string]bool // followers in the entry's in-sync set
	joining   map[string]bool // followers being added to it: writes wait for them already
	progress  chan struct{}   // closed and replaced whenever an ack or the in-sync set changes
	stopped   bool
	fenced    bool // handing over: ops made now are neither sent nor acknowledged
}

type ringOp struct {
	lsn uint64
	msg []byte // the encoded OpMsg
}

// errDeposed: the member stopped being the active while a call waited; the caller retries.
var errDeposed = fmt.Errorf("%w: the active replica changed", engine.ErrTryAgain)

func newActive(c *ckpt, rep *engine.Replica, e *directory.Entry) *active {
	_, lsn := rep.Position()
	a := &active{
		c: c, rep: rep, epoch: e.Epoch, sync: e.Attrs.Flags&engine.WriteAllReplicas != 0,
		lsn: lsn, streams: make(map[string]*stream), synced: make(map[string]bool), joining: make(map[string]bool), progress: make(chan struct{}),
	}
	return a
}

// follow adjusts the streams and the in-sync set to the entry; the ckpt lock is held.
func (a *active) follow(e *directory.Entry) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.stopped {
		return
	}
	me := a.c.m.name
	for _, f := range e.Replicas {
		if f != me && a.streams[f] == nil {
			s := newStream(a, f)
			a.streams[f] = s
			a.c.m.spawn(s.run)
		}
	}
	for f, s := range a.streams {
		if !e.HasReplica(f) {
			s.stopLocked()
			delete(a.streams, f)
		}
	}
	synced := make(map[string]bool)
	for _, f := range e.Synced {
		if f != me {
			synced[f] = true
		}
	}
	a.synced = synced
	a.broadcastLocked()
}

func (a *active) isFenced() bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.fenced || a.stopped
}

func (a *active) isStopped() bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.stopped
}

func (a *active) broadcastLocked() {
	close(a.progress)
	a.progress = make(chan struct{})
}

// forget takes a dead member out of the in-sync set, also one that was being added to it (a
// request to add it made before its death must not leave it there).
func (a *active) forget(member string) {
	a.mu.Lock()
	synced := a.synced[member] || a.joining[member]
	a.mu.Unlock()
	if synced {
		a.setSynced(member, false)
	}
}

// wake makes the stream to member try again now: the member (re)joined. A live stream asks the
// member where it is again: it may have restarted, or be caught up and fit to rejoin the in-sync set.
func (a *active) wake(member string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if s := a.streams[member]; s != nil {
		if s.phase == phaseLive {
			s.phase = phaseQuery
		}
		s.retryNow = true
		s.kick()
	}
}

// stop ends the role: streams stop and waiters are released with errDeposed.
func (a *active) stop() {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.stopped {
		return
	}
	a.stopped = true
	for _, s := range a.streams {
		s.stopLocked()
	}
	a.broadcastLocked()
}

// Emit implements engine.Sink: it keeps the op for the streams and, for WR_ALL_REPLICAS, returns the
// wait for every in-sync replica's acknowledgement. It runs under the replica's lock.
func (a *active) Emit(op *engine.Op) func(context.Context) error {
	a.mu.Lock()
	if a.fenced || a.stopped {
		// This replica is no longer where writes go: the op stays here only (the replica will be
		// copied again from the new active) and its caller retries there.
		a.mu.Unlock()
		return func(context.Context) error { return errDeposed }
	}
	a.mu.Unlock()
	msg := (&wire.OpMsg{Ckpt: a.c.id, Epoch: a.epoch, Op: *op}).Encode(nil)
	a.mu.Lock()
	a.ring = append(a.ring, ringOp{lsn: op.LSN, msg: msg})
	a.ringBytes += len(msg)
	for len(a.ring) > 1 && a.ringBytes > a.c.m.cfg.TailBytes {
		a.ringBytes -= len(a.ring[0].msg)
		a.ring[0] = ringOp{}
		a.ring = a.ring[1:]
	}
	a.lsn = op.LSN
	m := a.c.m
	for _, s := range a.streams {
		if s.phase == phaseLive && !s.stopped && s.sent == op.LSN-1 {
			// A follower that has everything gets the op at once from here: one goroutine hand-off
			// less than waking its stream (publishing only appends to the connection's buffer).
			if s.acked == s.sent {
				s.lastProgress = time.Now()
			}
			// The writer collects the acknowledgement of a follower it waits for (waitAcked).
			m.sendOp(s.to, msg, a.sync, a.sync && (a.synced[s.to] || a.joining[s.to]))
			s.sent = op.LSN
			continue
		}
		s.kick()
	}
	a.mu.Unlock()
	if !a.sync {
		return nil
	}
	lsn := op.LSN
	return func(ctx context.Context) error { return a.waitAcked(ctx, lsn, true) }
}

// Await implements engine.Sink: a request retried here waits as its first attempt would have.
func (a *active) Await(lsn uint64) func(context.Context) error {
	a.mu.Lock()
	deposed := a.fenced || a.stopped
	a.mu.Unlock()
	if deposed {
		return func(context.Context) error { return errDeposed }
	}
	if !a.sync {
		return nil
	}
	return func(ctx context.Context) error { return a.waitAcked(ctx, lsn, true) }
}

// waitAcked waits until every follower that counts has acknowledged lsn: the in-sync ones
// (onlySynced) or every follower that is reachable (Synchronize).
func (a *active) waitAcked(ctx context.Context, lsn uint64, onlySynced bool) error {
	for {
		a.mu.Lock()
		if a.stopped {
			a.mu.Unlock()
			return errDeposed
		}
		var owed [4]string // followers to hear from (more than 4 are rare: they just go round again)
		n := 0
		for f, s := range a.streams {
			if a.counts(f, s, onlySynced) && s.acked < lsn {
				if n < len(owed) {
					owed[n] = f
				}
				n++
			}
		}
		ch := a.progress
		a.mu.Unlock()
		if n == 0 {
			return nil
		}
		if a.collect(ctx, lsn, owed[:min(n, len(owed))], onlySynced) {
			continue
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return fmt.Errorf("%w: waiting for the replicas: %w", engine.ErrTimeout, ctx.Err())
		}
	}
}

// counts reports whether waitAcked waits for follower f; a.mu is held.
func (a *active) counts(f string, s *stream, onlySynced bool) bool {
	if onlySynced {
		return a.synced[f] || a.joining[f]
	}
	return !s.down
}

// collect reads the acknowledgements of the followers in owed from their links on this goroutine,
// while they are owed: a writer that reads its acknowledgement itself is woken by the kernel once,
// instead of a reader goroutine being woken and then waking it (oplink). It reports whether it read
// any. While it reads it does not see other changes (a follower leaving the in-sync set): it stops
// reading within half the ack timeout, the time in which such a follower would be given up anyway.
func (a *active) collect(ctx context.Context, lsn uint64, owed []string, onlySynced bool) bool {
	m := a.c.m
	wait := m.cfg.AckTimeout / 2
	if d, ok := ctx.Deadline(); ok {
		wait = min(wait, time.Until(d))
	}
	if wait <= 0 {
		return false
	}
	read := false
	for _, f := range owed {
		l := m.links.up(f)
		if l == nil {
			continue
		}
		heard := func() bool {
			a.mu.Lock()
			defer a.mu.Unlock()
			s := a.streams[f]
			return a.stopped || s == nil || s.acked >= lsn || !a.counts(f, s, onlySynced)
		}
		if l.Collect(heard, wait) {
			read = true
		}
	}
	return read
}

// synchronize waits until every reachable replica has every op made so far.
func (a *active) synchronize(ctx context.Context) error {
	// The entry is read again first: a replica named since this member last saw it (a member that
	// has just opened a checkpoint whose openers hold replicas) gets its stream, and is waited for.
	if _, err := a.c.refresh(ctx); errors.Is(err, engine.ErrNotExist) {
		return err
	} else if err != nil {
		return tryAgain(err)
	}
	a.mu.Lock()
	lsn := a.lsn
	a.mu.Unlock()
	return a.waitAcked(ctx, lsn, false)
}

// drain waits until every follower that holds a lease has acknowledged lsn, or ctx ends; it
// returns the followers still behind then. Unlike a write's wait it also waits for a follower that
// is slow to answer (its stream asks it again where it is and sends the rest): only a follower
// that is gone is given up.
func (a *active) drain(ctx context.Context, lsn uint64) []string {
	m := a.c.m
	for {
		acked := map[string]uint64{}
		a.mu.Lock()
		for f, s := range a.streams {
			if s.acked < lsn {
				acked[f] = s.acked
			}
		}
		ch := a.progress
		a.mu.Unlock()
		var behind []string
		for f, at := range acked {
			if m.alive(f) { // (m.mu is not taken under a.mu)
				behind = append(behind, fmt.Sprintf("%s (at %d)", f, at))
			}
		}
		if len(behind) == 0 {
			return nil
		}
		select {
		case <-ch:
		case <-time.After(50 * time.Millisecond): // a lease may end without progress
		case <-ctx.Done():
			return behind
		}
	}
}

// opsAfter returns the ring's ops after lsn, and whether the ring still holds the next one.
func (a *active) opsAfterLocked(lsn uint64) ([]ringOp, bool) {
	if lsn == a.lsn {
		return nil, true
	}
	if len(a.ring) == 0 || a.ring[0].lsn > lsn+1 {
		return nil, false
	}
	i, _ := slices.BinarySearchFunc(a.ring, lsn+1, func(r ringOp, l uint64) int {
		switch {
		case r.lsn < l:
			return -1
		case r.lsn > l:
			return 1
		}
		return 0
	})
	return a.ring[i:], true
}

// setSynced adds (or removes) a follower to the entry's in-sync set, only while the epoch is still
// this active's. A follower being added counts for writes before the entry names it: from the moment
// an election may pick it, it holds every acknowledged write. One being removed stops counting once
// the entry no longer names it. A change the directory cannot take now (its leader is being elected)
// is tried again while it is still wanted: nothing else would retry it once writes stop.
func (a *active) setSynced(f string, in bool) {
	m := a.c.m
	if in {
		a.mu.Lock()
		a.joining[f] = true
		a.mu.Unlock()
		defer func() {
			a.mu.Lock()
			delete(a.joining, f)
			a.broadcastLocked()
			a.mu.Unlock()
		}()
	}
	failed, wait := false, 20*time.Millisecond
	for {
		ctx, cancel := context.WithTimeout(m.ctx, 5*time.Second)
		e, err := m.dir.Update(ctx, a.c.id, func(e *directory.Entry) error {
			switch {
			case e.Epoch < a.epoch:
				return errOlderEntry
			case e.Epoch != a.epoch || e.Active != m.name:
				return errDeposed
			}
			has := e.IsSynced(f)
			switch {
			case in && !has && e.HasReplica(f):
				e.Synced = append(e.Synced, f)
			case !in && has:
				e.Synced = slices.DeleteFunc(e.Synced, func(s string) bool { return s == f })
			default:
				return errNoChange
			}
			return nil
		})
		cancel()
		switch {
		case errors.Is(err, errNoChange):
			return
		case errors.Is(err, errDeposed):
			a.c.depose(a.epoch, "the epoch moved on")
			return
		case err == nil:
			m.log.Info("in-sync set changed", "checkpoint", a.c.name(), "follower", f, "in", in)
			a.c.update(e)
			return
		}
		// This active wrote its epoch into the entry: a copy without it is from before (a server
		// that lagged). Only a later epoch deposes: read again. Any other error: try again.
		if !errors.Is(err, errOlderEntry) && !failed {
			failed = true
			m.log.Warn("changing the in-sync set: trying again", "checkpoint", a.c.name(), "follower", f, "in", in, "err", err)
		}
		select {
		case <-m.ctx.Done():
			return
		case <-time.After(wait):
		}
		wait = min(2*wait, 200*time.Millisecond)
		if a.isStopped() || in && !a.stillJoining(f) {
			return
		}
	}
}

// stillJoining reports whether follower f is still fit to enter the in-sync set: its stream is live
// and answering.
func (a *active) stillJoining(f string) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	s := a.streams[f]
	return s != nil && !s.stopped && !s.down && s.phase == phaseLive
}

var errOlderEntry = errors.New("an entry older than this active's epoch")

var errNoChange = errors.New("no change")

// stream sends one checkpoint's ops to one follower, in LSN order, and catches the follower up
// (tail or snapshot) when it is behind.
type stream struct {
	a    *active
	to   string
	wake chan struct{}

	// guarded by a.mu
	sent, acked  uint64
	phase        int
	down         bool // the follower did not answer its last position query
	lastProgress time.Time
	stopped      bool
	rejoining    bool // a request to re-enter the in-sync set is under way
	retryNow     bool // the follower came back: skip the backoff
}

const (
	phaseQuery    = iota // ask the follower where it is
	phaseLive            // send ops as they come
	phaseSnapshot        // copy the whole replica
)

func newStream(a *active, to string) *stream {
	return &stream{a: a, to: to, wake: make(chan struct{}, 1), phase: phaseQuery, lastProgress: time.Now()}
}

func (s *stream) kick() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

func (s *stream) stopLocked() {
	s.stopped = true
	s.kick()
}

func (s *stream) run() {
	m := s.a.c.m
	backoff := 20 * time.Millisecond
	for {
		s.a.mu.Lock()
		stopped, phase := s.stopped || s.a.stopped, s.phase
		s.a.mu.Unlock()
		// The member's context, not its closed flag: a member that leaves first lets its streams
		// send the ops its followers lack (drainRoles).
		if stopped || m.ctx.Err() != nil {
			return
		}
		var err error
		switch phase {
		case phaseQuery:
			err = s.query()
		case phaseSnapshot:
			err = s.snapshot()
		case phaseLive:
			s.live()
			continue
		}
		if err != nil {
			m.log.Debug("replica stream", "checkpoint", s.a.c.name(), "to", s.to, "err", err)
			select {
			case <-time.After(backoff):
			case <-s.wake:
			case <-m.ctx.Done():
				return
			}
			s.a.mu.Lock()
			if s.retryNow {
				s.retryNow, backoff = false, 20*time.Millisecond
			} else {
				backoff = min(2*backoff, time.Second)
			}
			s.a.mu.Unlock()
			continue
		}
		backoff = 20 * time.Millisecond
	}
}

// query asks the follower for its position and decides how to bring it up to date.
func (s *stream) query() error {
	m, a := s.a.c.m, s.a
	// The question ends with the member (Close must not wait for an answer from a peer that is gone).
	ctx, cancel := context.WithTimeout(m.ctx, m.cfg.AckTimeout)
	msg, err := m.nc.RequestWithContext(ctx, m.subject(s.to, "pos"), (&wire.PositionMsg{Ckpt: a.c.id}).Encode(nil))
	cancel()
	if err != nil {
		a.mu.Lock()
		s.down = true
		synced := a.synced[s.to]
		a.broadcastLocked()
		a.mu.Unlock()
		if synced { // a follower that does not answer cannot be waited for
			a.setSynced(s.to, false)
		}
		return err
	}
	ack, err := wire.DecodeAckMsg(msg.Data)
	if err != nil {
		return err
	}
	a.c.mu.Lock()
	e := a.c.entry
	a.c.mu.Unlock()
	a.mu.Lock()
	defer a.mu.Unlock()
	s.down = false
	_, inRing := a.opsAfterLocked(ack.LSN)
	switch {
	case ack.Status == wire.AckOK && ack.LSN <= a.lsn && inRing && (ack.Epoch == a.epoch || e != nil && e.Continues(ack.Epoch, ack.LSN)):
		s.sent, s.acked, s.phase = ack.LSN, ack.LSN, phaseLive
		s.rejoinLocked()
	case ack.Status == wire.AckOK && ack.Epoch > a.epoch:
		// The follower knows a newer epoch: this active is stale.
		m.spawn(func() { _, _ = a.c.refresh(m.ctx) })
		return errDeposed
	default:
		s.phase = phaseSnapshot
	}
	s.lastProgress = time.Now()
	a.broadcastLocked()
	return nil
}

// live sends the ops the follower has not been sent, then waits for more (or for the ack timeout).
func (s *stream) live() {
	m, a := s.a.c.m, s.a
	a.mu.Lock()
	if s.phase != phaseLive || s.stopped {
		a.mu.Unlock()
		return
	}
	ops, ok := a.opsAfterLocked(s.sent)
	if !ok {
		s.phase = phaseSnapshot
		a.mu.Unlock()
		return
	}
	if len(ops) > 0 {
		if s.acked == s.sent {
			s.lastProgress = time.Now() // the clock of the ack timeout starts with the oldest unacked op
		}
		s.sent = ops[len(ops)-1].lsn
	}
	late := s.acked < s.sent && time.Since(s.lastProgress) > m.cfg.AckTimeout
	wasSynced := a.synced[s.to]
	a.mu.Unlock()

	for _, op := range ops {
		m.sendOp(s.to, op.msg, a.sync, false)
	}
	// Acknowledgements of ops whose writer did not wait (a write that expired a section) are read now.
	m.links.nudge(s.to)
	if late {
		m.log.Warn("replica does not acknowledge: taking it out of the in-sync set", "checkpoint", a.c.name(), "replica", s.to)
		if wasSynced {
			a.setSynced(s.to, false)
		}
		a.mu.Lock()
		s.phase, s.down = phaseQuery, true
		a.broadcastLocked()
		a.mu.Unlock()
		return
	}
	if len(ops) == 0 && m.alive(s.to) {
		// Idle and caught up, but out of the in-sync set (its lease had ended, or the directory
		// could not take the change): no ack is coming to trigger the rejoin.
		a.mu.Lock()
		s.rejoinLocked()
		a.mu.Unlock()
	}
	select {
	case <-s.wake:
	case <-time.After(m.cfg.AckTimeout / 4):
	case <-m.ctx.Done():
	}
}

// onAck takes a follower's acknowledgement.
func (s *stream) onAck(ack *wire.AckMsg) {
	a, m := s.a, s.a.c.m
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.fenced {
		// Handing over: only the progress the handover waits for, within this active's epoch and
		// ops (a follower that took a newer active's ops meanwhile reports a position in another
		// history). Nothing else changes for a role that is ending.
		if ack.Status == wire.AckOK && ack.Epoch == a.epoch && ack.LSN > s.acked && ack.LSN <= a.lsn {
			s.acked = ack.LSN
			s.lastProgress = time.Now()
			a.broadcastLocked()
		}
		return
	}
	switch ack.Status {
	case wire.AckOK:
		if ack.LSN > s.acked {
			s.acked = ack.LSN
			s.lastProgress = time.Now()
			a.broadcastLocked()
		}
		s.rejoinLocked()
		if s.phase == phaseLive && s.sent == a.lsn {
			return // nothing for the stream to do: the writers sent every op themselves
		}
	case wire.AckStale:
		m.spawn(func() { _, _ = a.c.refresh(m.ctx) })
	case wire.AckGap:
		s.phase = phaseQuery
	case wire.AckFailed: // it could not apply the op (e.g. its disk is full): a copy, later
		s.phase = phaseSnapshot
		s.leaveSyncedLocked()
	default: // no replica, diverged: start over with a copy
		s.phase = phaseSnapshot
	}
	s.kick()
}

// leaveSyncedLocked takes a follower that needs a copy out of the in-sync set at once: writes must
// not wait for acknowledgements it cannot give; a.mu is held.
func (s *stream) leaveSyncedLocked() {
	a := s.a
	if a.synced[s.to] {
		a.c.m.spawn(func() { a.setSynced(s.to, false) })
	}
}

// rejoinLocked puts a follower that has every op back in the in-sync set; a.mu is held.
func (s *stream) rejoinLocked() {
	a := s.a
	if s.phase == phaseLive && s.acked == a.lsn && !a.synced[s.to] && !s.rejoining {
		s.rejoining = true
		a.c.m.spawn(func() {
			a.setSynced(s.to, true)
			a.mu.Lock()
			s.rejoining = false
			a.mu.Unlock()
		})
	}
}

// snapshotBatchMax bounds one snapshot message; a server's max_payload may bound it further. The
// follower holds a few of them at once (installQueue): 2 MiB keeps a copy's memory there at tens of
// MiB (8 MiB messages took it past 100 MiB) without the install waiting for the network.
const snapshotBatchMax = 2 << 20

// snapshotBatchStart is the buffer a copy starts with; it grows to the largest message of the copy
// (a few doublings, once per copy), so copying a small checkpoint does not cost megabytes.
const snapshotBatchStart = 64 << 10

// snapshotWindow is how many snapshot messages may await their acknowledgement: the follower stores
// one while the next ones travel.
const snapshotWindow = 4

// snapshot copies the whole replica to the follower, then continues with the ops after it. The
// messages go in order on one connection, each acknowledged in turn: on a link of its own when the
// follower takes links (copyPath), else published through NATS and acknowledged on an inbox.
func (s *stream) snapshot() error {
	m, a := s.a.c.m, s.a
	path, err := m.copyPath(s.to)
	if err != nil {
		return err
	}
	clean, total := false, 0 // every message acknowledged; bytes of sections sent
	defer func() { path.close(clean, total) }()
	batchSize := min(snapshotBatchMax, path.maxMessage()/2)
	pending := 0
	incarnation := m.incarnationOf(s.to)
	// waitAck waits for the next acknowledgement while the follower lives (the same incarnation
	// holds its lease) and keeps answering: at most timeout between two acknowledgements.
	waitAck := func(timeout time.Duration) error {
		var ack *wire.AckMsg
		for deadline := time.Now().Add(timeout); ; {
			var err error
			if ack, err = path.next(200 * time.Millisecond); err != nil {
				return err
			}
			if ack != nil {
				break
			}
			a.mu.Lock()
			stopped := s.stopped || a.stopped
			a.mu.Unlock()
			switch {
			case stopped || m.ctx.Err() != nil:
				return errDeposed
			case !m.alive(s.to) || m.incarnationOf(s.to) != incarnation:
				return fmt.Errorf("follower %s left (or restarted) during the copy", s.to)
			case time.Now().After(deadline):
				return fmt.Errorf("follower %s stopped acknowledging the copy", s.to)
			}
		}
		pending--
		if ack.Status != wire.AckOK {
			return fmt.Errorf("snapshot refused: status %d %s", ack.Status, ack.Text)
		}
		return nil
	}
	var ackWait, writing time.Duration // stage timers: window full, and writing to the path
	send := func(data []byte) error {
		t := time.Now()
		for pending >= snapshotWindow {
			if err := waitAck(10 * m.cfg.AckTimeout); err != nil {
				return err
			}
		}
		t1 := time.Now()
		ackWait += t1.Sub(t)
		if err := path.send(data); err != nil {
			return err
		}
		writing += time.Since(t1)
		pending++
		return nil
	}

	var header engine.SnapshotHeader
	var batch *wire.SnapshotBatch
	began := time.Now()
	m.log.Info("copying the replica", "checkpoint", a.c.name(), "to", s.to)
	flush := func() error {
		if batch == nil || batch.Len() == 0 {
			return nil
		}
		err := send(batch.Bytes()) // sent (written, or copied by the publish): the buffer is free again
		batch.Reset()
		return err
	}
	err = a.rep.Snapshot(func(h engine.SnapshotHeader) error {
		header = h
		batch = wire.NewSnapshotBatch(a.c.id, a.epoch, &header, snapshotBatchStart)
		return send((&wire.SnapshotMsg{Ckpt: a.c.id, Epoch: a.epoch, Part: wire.SnapHeader, Header: h}).Encode(nil))
	}, func(sec *engine.SnapshotSection) error {
		total += len(sec.Data)
		return addToBatch(batch, sec, batchSize, flush)
	})
	if err == nil {
		err = flush()
	}
	if err == nil {
		err = send((&wire.SnapshotMsg{Ckpt: a.c.id, Epoch: a.epoch, Part: wire.SnapEnd, Header: header}).Encode(nil))
	}
	sent := time.Now()
	for err == nil && pending > 0 {
		err = waitAck(10 * m.cfg.AckTimeout) // the last one comes once the follower has installed everything
	}
	lastAcks := time.Since(sent)
	if err != nil {
		return fmt.Errorf("snapshot to %s: %w", s.to, err)
	}
	clean = true
	took := time.Since(began)
	if path.name() == "link" {
		m.metrics.Copied(metrics.PathLink, total)
	} else {
		m.metrics.Copied(metrics.PathNATS, total)
	}
	m.log.Info("replica copied", "checkpoint", a.c.name(), "to", s.to, "lsn", header.LSN, "bytes", total, "via", path.name(),
		"took", took.Round(time.Millisecond).String(), "MiB/s", int(float64(total)/(1<<20)/max(took.Seconds(), 1e-9)),
		"window_full", ackWait.Round(time.Millisecond).String(), "writing", writing.Round(time.Millisecond).String(),
		"last_acks", lastAcks.Round(time.Millisecond).String())
	a.mu.Lock()
	s.sent, s.acked, s.phase, s.down = header.LSN, header.LSN, phaseLive, false
	s.lastProgress = time.Now()
	s.rejoinLocked()
	a.broadcastLocked()
	a.mu.Unlock()
	return nil
}

// addToBatch adds sec to a copy's batch (the only copy of its data on this side), sending the batch
// with flush first if sec would take it past limit, and after if it reached limit (a section of
// limit or more goes alone). A message then stays within limit: the follower reads it into a
// buffer that grows up to its size (oplink), and a message a section past the limit cost it one
// more buffer, larger, and the copy into it.
func addToBatch(batch *wire.SnapshotBatch, sec *engine.SnapshotSection, limit int, flush func() error) error {
	if batch.Len() > 0 && batch.Size()+wire.SnapshotSectionSize(sec) > limit {
		if err := flush(); err != nil {
			return err
		}
	}
	batch.Add(sec)
	if batch.Size() >= limit {
		return flush()
	}
	return nil
}

// onAck routes an acknowledgement that came through NATS to its stream.
func (m *Member) onAck(msg *nats.Msg) {
	if len(msg.Data) == 0 && msg.Header.Get("Status") == "503" {
		return // "no responders": an op went to a follower that is gone; its stream times out
	}
	m.onAckData(msg.Data, "")
}

// onAckData routes an encoded acknowledgement (from NATS, or from a link to the member peer) to its
// stream. An acknowledgement on a link speaks for the link's peer only.
func (m *Member) onAckData(data []byte, peer string) {
	ack, err := wire.DecodeAckMsg(data)
	if err != nil {
		m.log.Warn("bad ack", "err", err)
		return
	}
	if peer != "" && ack.From != peer {
		m.log.Warn("acknowledgement on a link for another member: refused", "link", peer, "from", ack.From)
		return
	}
	m.mu.Lock()
	c := m.ckpts[ack.Ckpt]
	m.mu.Unlock()
	if c == nil {
		return
	}
	// A fenced active still takes acknowledgements: its handover waits for them (onAck).
	a := c.handingOver()
	if a == nil || m.fenced.Load() {
		return
	}
	a.mu.Lock()
	s := a.streams[ack.From]
	a.mu.Unlock()
	if s != nil {
		s.onAck(ack)
	}
}
