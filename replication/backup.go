package replication

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/clckpt/libclckpt/engine"
	"github.com/clckpt/libclckpt/replication/directory"
	"github.com/clckpt/libclckpt/replication/wire"
)

// backupIdle is how long a backup session at the active waits for its next pull before it gives
// up (the member that pulls died or gave up): its view of the store is then released.
const backupIdle = callTimeout

// errCutMoved ends a cut whose active replica stopped being the active (deposed, fenced, closed)
// before the cut was complete: the copy would be of a replica that may hold ops the new active
// does not, so nothing of it is kept.
var errCutMoved = fmt.Errorf("%w: the active replica changed during the backup", engine.ErrTryAgain)

// SnapshotCheckpoint cuts a consistent copy of the checkpoint called name from its active replica:
// one read view of the active's store (engine.Replica.Snapshot), so every section is as of one op
// of the active, and no writer or reader is blocked. When this member holds the active replica the
// cut is made here; otherwise it is made at the member that does, and its pieces are pulled from
// there one at a time. The cut fails with engine.ErrTryAgain, and nothing more is passed to header
// or section, when the active replica changes (or its member goes away) before the copy is
// complete: a backup is then either a cut of one active replica or nothing. Until the header is
// passed on, a change of active is waited for and the cut is started again at the new one.
func (m *Member) SnapshotCheckpoint(ctx context.Context, name string, header func(engine.SnapshotHeader) error, section func(*engine.SnapshotSection) error) error {
	if m.closed.Load() {
		return engine.ErrClosed
	}
	e, err := m.Entry(ctx, name)
	if err != nil {
		return err
	}
	c := m.ckptFor(e.ID)
	defer m.release(c)
	session := m.newRequest()
	var at string
	err = m.do(ctx, c, func(rep *engine.Replica, a *active) error {
		return cutActive(ctx, c, rep, a, header, section)
	}, &wire.CallMsg{Kind: wire.CallBackup, Origin: m.name, Request: session}, func(r *wire.ReplyMsg) error {
		at = string(r.Section)
		return r.Err
	})
	if err != nil || at == "" {
		return err
	}
	return m.pullCut(ctx, c, at, session, header, section)
}

// cutActive cuts the local active replica rep of role a, then checks that no other member became
// the active meanwhile (cutHeld).
func cutActive(ctx context.Context, c *ckpt, rep *engine.Replica, a *active, header func(engine.SnapshotHeader) error, section func(*engine.SnapshotSection) error) error {
	if err := rep.Snapshot(header, section); err != nil {
		return err
	}
	return cutHeld(ctx, c, a)
}

// cutHeld checks, once a cut of the replica of active role a is complete, that the directory still
// names this member active in a's epoch: no other member was elected since the role began, so the
// cut holds only ops of the one line of actives the checkpoint has. (A fence of this member in
// between, its lease renewed late on a busy machine, does not matter: a fenced member takes no
// op, and it takes the role back in the same epoch.)
func cutHeld(ctx context.Context, c *ckpt, a *active) error {
	e, err := c.m.dir.Get(ctx, c.id)
	if err != nil {
		return fmt.Errorf("%w: checking the active replica after the cut: %w", engine.ErrTryAgain, err)
	}
	if e.Epoch != a.epoch || e.Active != c.m.name {
		return errCutMoved
	}
	return nil
}

// pullCut pulls the pieces of backup session at member at until the end of the cut.
func (m *Member) pullCut(ctx context.Context, c *ckpt, at string, session uint64, header func(engine.SnapshotHeader) error, section func(*engine.SnapshotSection) error) error {
	for seq := uint64(1); ; seq++ {
		pctx, cancel := context.WithTimeout(ctx, backupIdle)
		data, err := m.requestRaw(pctx, at, "bkp", &wire.CallMsg{Kind: wire.CallBackup, Ckpt: c.id, Origin: m.name, Request: session, At: int64(seq)})
		cancel()
		if err != nil {
			if ctx.Err() != nil {
				return fmt.Errorf("%w: backup of %q: %w", engine.ErrTimeout, c.name(), ctx.Err())
			}
			return fmt.Errorf("%w: backup of %q: member %s (its active replica) went away or stopped answering: %w",
				engine.ErrTryAgain, c.name(), at, err)
		}
		if k, err := wire.Peek(data); err != nil || k == wire.KindReply {
			r, derr := wire.DecodeReplyMsg(data)
			switch {
			case derr != nil:
				return fmt.Errorf("%w: backup of %q: %w", engine.ErrTryAgain, c.name(), derr)
			case r.NotActive:
				return fmt.Errorf("%w: backup of %q: member %s is no longer its active replica", engine.ErrTryAgain, c.name(), at)
			case r.Err != nil:
				return fmt.Errorf("backup of %q at member %s: %w", c.name(), at, r.Err)
			}
			return fmt.Errorf("%w: backup of %q: an empty reply from member %s", engine.ErrTryAgain, c.name(), at)
		}
		msg, err := wire.DecodeSnapshotMsg(data)
		if err != nil {
			return fmt.Errorf("%w: backup of %q: %w", engine.ErrTryAgain, c.name(), err)
		}
		switch msg.Part {
		case wire.SnapHeader:
			err = header(msg.Header)
		case wire.SnapSections:
			for i := range msg.Sections {
				if err = section(&msg.Sections[i]); err != nil {
					break
				}
			}
		case wire.SnapEnd:
			return nil
		}
		if err != nil {
			m.endSession(at, c.id, session)
			return err
		}
	}
}

// endSession tells member at that a backup session is over early (best effort: an idle session
// ends by itself).
func (m *Member) endSession(at string, ckpt, session uint64) {
	_ = m.nc.Publish(m.subject(at, "bkp"), (&wire.CallMsg{Kind: wire.CallBackup, Ckpt: ckpt, Origin: m.name, Request: session, At: -1}).Encode(nil))
}

// backupSession is a cut served to another member: run produces its pieces, each handed to one
// pull.
type backupSession struct {
	out    chan []byte // the next piece: an encoded SnapshotMsg, or a ReplyMsg that ends the session
	cancel context.CancelFunc
	mu     sync.Mutex // one pull at a time
	next   int64      // the number of the next pull
	done   chan struct{}
}

// openBackup starts serving a cut of the local active replica rep (role a) as session id.
func (m *Member) openBackup(c *ckpt, rep *engine.Replica, a *active, id uint64) error {
	ctx, cancel := context.WithCancel(m.ctx)
	s := &backupSession{out: make(chan []byte), cancel: cancel, next: 1, done: make(chan struct{})}
	m.mu.Lock()
	if m.backups == nil {
		m.backups = map[uint64]*backupSession{}
	}
	if m.backups[id] != nil {
		m.mu.Unlock()
		cancel()
		return fmt.Errorf("%w: backup session %x exists", engine.ErrInvalidParameter, id)
	}
	m.backups[id] = s
	m.mu.Unlock()
	c = m.ckptFor(c.id) // held until the session ends
	m.spawn(func() {
		defer close(s.done)
		defer m.release(c)
		defer cancel()
		defer func() {
			m.mu.Lock()
			delete(m.backups, id)
			m.mu.Unlock()
		}()
		emit := func(b []byte) error {
			t := time.NewTimer(backupIdle)
			defer t.Stop()
			select {
			case s.out <- b:
				return nil
			case <-ctx.Done():
				return ctx.Err()
			case <-t.C:
				return fmt.Errorf("%w: nobody pulled the backup for %s", engine.ErrTimeout, backupIdle)
			}
		}
		var h engine.SnapshotHeader
		var batch *wire.SnapshotBatch
		batchSize := min(snapshotBatchMax, int(m.nc.MaxPayload())/2)
		flush := func() error {
			if batch == nil || batch.Len() == 0 {
				return nil
			}
			err := emit(bytes.Clone(batch.Bytes()))
			batch.Reset()
			return err
		}
		err := rep.Snapshot(func(sh engine.SnapshotHeader) error {
			h = sh
			batch = wire.NewSnapshotBatch(c.id, a.epoch, &h, snapshotBatchStart)
			return emit((&wire.SnapshotMsg{Ckpt: c.id, Epoch: a.epoch, Part: wire.SnapHeader, Header: sh}).Encode(nil))
		}, func(sec *engine.SnapshotSection) error {
			batch.Add(sec)
			if batch.Size() >= batchSize {
				return flush()
			}
			return nil
		})
		if err == nil {
			err = flush()
		}
		if err == nil { // once the whole cut is handed out
			err = cutHeld(ctx, c, a)
		}
		if err == nil {
			err = emit((&wire.SnapshotMsg{Ckpt: c.id, Epoch: a.epoch, Part: wire.SnapEnd, Header: h}).Encode(nil))
		}
		if err != nil && ctx.Err() == nil {
			_ = emit((&wire.ReplyMsg{Err: err}).Encode(nil))
		}
	})
	return nil
}

// onBackup serves a pull of a backup session (or its early end).
func (m *Member) onBackup(msg *nats.Msg) {
	call, err := wire.DecodeCallMsg(msg.Data)
	if err == nil && call.Kind != wire.CallBackup {
		err = fmt.Errorf("call kind %d on the backup subject", call.Kind)
	}
	if err != nil {
		_ = msg.Respond((&wire.ReplyMsg{Err: fmt.Errorf("%w: %w", engine.ErrInvalidParameter, err)}).Encode(nil))
		return
	}
	m.mu.Lock()
	s := m.backups[call.Request]
	m.mu.Unlock()
	if call.At < 0 {
		if s != nil {
			s.cancel()
		}
		return
	}
	if s == nil {
		_ = msg.Respond((&wire.ReplyMsg{Err: fmt.Errorf("%w: no backup session %x here (it ended, or waited too long)", engine.ErrTryAgain, call.Request)}).Encode(nil))
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if call.At != s.next {
		s.cancel()
		_ = msg.Respond((&wire.ReplyMsg{Err: fmt.Errorf("%w: backup piece %d asked, %d expected", engine.ErrInvalidParameter, call.At, s.next)}).Encode(nil))
		return
	}
	wait := backupIdle
	if call.Timeout > 0 {
		wait = min(wait, call.Timeout)
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case b := <-s.out:
		s.next++
		_ = msg.Respond(b)
	case <-s.done:
		_ = msg.Respond((&wire.ReplyMsg{Err: fmt.Errorf("%w: the backup session ended", engine.ErrTryAgain)}).Encode(nil))
	case <-t.C:
		s.cancel()
		_ = msg.Respond((&wire.ReplyMsg{Err: fmt.Errorf("%w: the backup's next piece took over %s", engine.ErrTimeout, wait)}).Encode(nil))
	}
}

// RestoreCheckpoint makes the checkpoint called name from a snapshot (h, then next's sections
// until nil) with this member holding its active replica: the replica is filled aside, unseen by
// anyone, and only then does a directory entry name it, so an Open finds nothing or the whole
// restored checkpoint. Its other replicas (chosen as for a new checkpoint) get a copy from it.
// When a checkpoint of that name exists, replace must be set and its attributes must equal
// h.Attrs (engine.ErrAlreadyExist otherwise); the name then moves to the restored checkpoint in
// one compare-and-swap of the directory, and the old one is deleted as by Delete: handles open on
// it keep it until they close, and an Open made afterwards gets the restored one, so nobody sees a
// mix. The result is opened with flags and returned.
func (m *Member) RestoreCheckpoint(ctx context.Context, name string, h engine.SnapshotHeader, replace bool, flags engine.OpenFlags, next func() (*engine.SnapshotSection, error)) (engine.Checkpoint, error) {
	if err := engine.ValidateOpen(name, &h.Attrs, flags|engine.OpenCreate); err != nil {
		return nil, err
	}
	if m.closed.Load() {
		return nil, engine.ErrClosed
	}
	if err := ctx.Err(); err != nil {
		return nil, timeoutErr(err)
	}
	old, err := m.restoreTarget(ctx, name, h.Attrs, replace)
	if err != nil {
		return nil, err
	}
	e := m.newEntry([]byte(name), h.Attrs)
	e.Replicas = append([]string{m.name}, slices.DeleteFunc(e.Replicas, func(r string) bool { return r == m.name })...)
	if n := max(m.cfg.Replicas, 1); len(e.Replicas) > n && !openerHoldsReplica(h.Attrs.Flags) {
		e.Replicas = e.Replicas[:n]
	}
	e.Epoch, e.History, e.Active = 0, nil, ""
	e.NewEpoch(m.name, h.LSN)
	e.Synced = []string{m.name} // the others are copied from this one
	h.ID, h.Name, h.Epoch = e.ID, name, e.Epoch
	m.setRestoring(e.ID, true)
	defer m.setRestoring(e.ID, false) // by then the entry names it (or it is gone)
	r, err := m.reps.Install(h, next)
	if err != nil {
		return nil, err
	}
	c := m.ckptFor(e.ID) // takes r as its replica
	fail := func(err error) (engine.Checkpoint, error) {
		c.mu.Lock()
		if c.rep == r {
			c.rep = nil
		}
		c.gone = true
		c.mu.Unlock()
		_ = m.reps.Destroy(r)
		m.release(c)
		return nil, err
	}
	if old == 0 {
		err = m.dir.Create(ctx, e)
		if errors.Is(err, directory.ErrNameTaken) {
			err = fmt.Errorf("%w: checkpoint %q was created during the restore", engine.ErrAlreadyExist, name)
		}
	} else {
		err = m.dir.Replace(ctx, old, e)
		if errors.Is(err, directory.ErrConflict) || errors.Is(err, directory.ErrNotFound) {
			err = fmt.Errorf("%w: checkpoint %q changed during the restore", engine.ErrAlreadyExist, name)
		}
	}
	if err != nil {
		if !errors.Is(err, engine.ErrAlreadyExist) && !errors.Is(err, directory.ErrNameCollision) {
			err = tryAgain(err)
		}
		return fail(err)
	}
	c.update(e)
	m.log.Info("checkpoint restored", "checkpoint", name, "replicas", e.Replicas, "lsn", h.LSN, "replaced", old != 0)
	if old != 0 {
		if err := m.markDeleted(ctx, old); err != nil {
			m.log.Warn("restore: deleting the replaced checkpoint", "checkpoint", name, "err", err)
		}
	}
	return m.newHandle(c, name, flags&^engine.OpenCreate, e.Attrs.Flags), nil
}

// setRestoring marks (or unmarks) replica id as one a restore is filling and naming.
func (m *Member) setRestoring(id uint64, on bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if on {
		if m.restoring == nil {
			m.restoring = map[uint64]bool{}
		}
		m.restoring[id] = true
	} else {
		delete(m.restoring, id)
	}
}

func (m *Member) isRestoring(id uint64) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.restoring[id]
}

// restoreTarget applies the rules on a live checkpoint of the name before any copying: it returns
// its id (0: none).
func (m *Member) restoreTarget(ctx context.Context, name string, attrs engine.Attributes, replace bool) (uint64, error) {
	id, err := m.dir.Lookup(ctx, []byte(name))
	if errors.Is(err, directory.ErrNotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, tryAgain(err)
	}
	if !replace {
		return 0, fmt.Errorf("%w: checkpoint %q exists", engine.ErrAlreadyExist, name)
	}
	e, err := m.dir.Get(ctx, id)
	if err != nil {
		if errors.Is(err, directory.ErrNotFound) {
			return 0, nil
		}
		return 0, tryAgain(err)
	}
	if e.Attrs != attrs {
		return 0, fmt.Errorf("%w: checkpoint %q exists with other attributes than the backup's", engine.ErrAlreadyExist, name)
	}
	return id, nil
}
