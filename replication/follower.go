package replication

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/clckpt/libclckpt/engine"
	"github.com/clckpt/libclckpt/replication/wire"
)

// The follower side: ops, position queries and snapshots arrive on the member's subjects, each
// subject's messages one at a time, so a checkpoint's ops are applied in the order they were sent.

func (m *Member) ack(msg *nats.Msg, ack wire.AckMsg) {
	if msg.Reply == "" {
		return
	}
	ack.From = m.name
	_ = m.nc.Publish(msg.Reply, ack.Encode(nil))
}

// replicaOf returns the local replica of checkpoint id, if any.
func (m *Member) replicaOf(id uint64) (*ckpt, *engine.Replica) {
	m.mu.Lock()
	c := m.ckpts[id]
	m.mu.Unlock()
	if c == nil {
		return nil, nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.inst != nil {
		return c, nil
	}
	return c, c.rep
}

// onOp applies an op sent by the active replica through NATS.
func (m *Member) onOp(msg *nats.Msg) {
	m.applyOp(msg.Data, func(ack wire.AckMsg) { m.ack(msg, ack) })
}

// applyOp applies an encoded op (from NATS or a link) and acknowledges it with send.
func (m *Member) applyOp(data []byte, send func(wire.AckMsg)) {
	om, err := wire.DecodeOpMsg(data)
	if err != nil {
		m.log.Warn("bad op message", "err", err)
		return
	}
	c, rep := m.replicaOf(om.Ckpt)
	if rep == nil {
		send(wire.AckMsg{Ckpt: om.Ckpt, Status: wire.AckNoReplica})
		return
	}
	epoch, lsn := rep.Position()
	reply := func(status wire.AckStatus, text string) {
		e, l := rep.Position()
		send(wire.AckMsg{Ckpt: om.Ckpt, Epoch: e, LSN: l, Status: status, Text: text})
	}
	switch {
	case om.Epoch < epoch:
		reply(wire.AckStale, "")
		return
	case om.Epoch > epoch:
		// A new active: continue only if what this replica holds is part of its history.
		c.depose(om.Epoch-1, "another member is active in a newer epoch")
		e, err := c.current(m.ctx)
		if err == nil && e.Epoch < om.Epoch {
			e, err = c.refresh(m.ctx)
		}
		if err != nil || e.Epoch != om.Epoch || !e.Continues(epoch, lsn) {
			reply(wire.AckDiverged, "")
			return
		}
		if err := rep.SetEpoch(om.Epoch); err != nil {
			reply(wire.AckFailed, err.Error())
			return
		}
	}
	err = rep.Apply(&om.Op)
	switch {
	case err == nil:
		reply(wire.AckOK, "")
	case errors.Is(err, engine.ErrOutOfOrder):
		reply(wire.AckGap, err.Error())
	default:
		m.log.Warn("applying an op", "checkpoint", rep.Name(), "lsn", om.Op.LSN, "err", err)
		reply(wire.AckFailed, err.Error())
	}
}

// onPosition tells the asker where the local replica is.
func (m *Member) onPosition(msg *nats.Msg) {
	pm, err := wire.DecodePositionMsg(msg.Data)
	if err != nil {
		return
	}
	_, rep := m.replicaOf(pm.Ckpt)
	if rep == nil {
		m.ack(msg, wire.AckMsg{Ckpt: pm.Ckpt, Status: wire.AckNoReplica})
		return
	}
	epoch, lsn := rep.Position()
	m.ack(msg, wire.AckMsg{Ckpt: pm.Ckpt, Epoch: epoch, LSN: lsn, Status: wire.AckOK})
}

// install is a snapshot being installed: the sections arrive in messages and feed
// engine.Replicas.Install through a channel, a message's sections at a time.
type install struct {
	epoch    uint64                        // the sender's
	sections chan []engine.SnapshotSection // nil ends the snapshot
	done     chan struct{}                 // closed when the install has ended, err set
	err      error
	abort    chan struct{}
	aborting sync.Once
}

// Pieces of copies from two actives (the old one still sending as the new one starts) are taken
// on different goroutines: any number of them may stop or wait for the same install.

// stop asks the install to give up.
func (i *install) stop() { i.aborting.Do(func() { close(i.abort) }) }

// wait returns the install's outcome once it has ended.
func (i *install) wait() error {
	<-i.done
	return i.err
}

// installQueue is how many messages of sections may wait for the install. Together with the
// message being read and those the install's current batch points into, it bounds the memory a
// copy takes on this side (a few times snapshotBatchMax): memory a process has not used before
// costs more to touch than the store's writes, on some virtual machines several times more.
const installQueue = 4

// onSnapshot takes one piece of a snapshot sent through NATS.
func (m *Member) onSnapshot(msg *nats.Msg) {
	m.snapshotPiece(msg.Data, func(ack wire.AckMsg) { m.ack(msg, ack) })
}

// snapshotPiece takes one piece of a snapshot (from NATS or a link) and acknowledges it with send.
// The sections point into data, which must be the caller's to give away.
func (m *Member) snapshotPiece(data []byte, send func(wire.AckMsg)) {
	sm, err := wire.DecodeSnapshotMsg(data)
	if err != nil {
		m.log.Warn("bad snapshot message", "err", err)
		return
	}
	c := m.ckptFor(sm.Ckpt)
	defer m.release(c) // a checkpoint destroyed meanwhile (below) leaves nothing in the table
	reply := func(status wire.AckStatus, text string) {
		send(wire.AckMsg{Ckpt: sm.Ckpt, Epoch: sm.Header.Epoch, LSN: sm.Header.LSN, Status: status, Text: text})
	}
	c.mu.Lock()
	inst := c.inst
	c.mu.Unlock()
	if sm.Part == wire.SnapHeader || inst == nil {
		// A copy may arrive after its checkpoint was destroyed (the active sent it just before):
		// only an entry makes it a replica to keep. current reads the entry if this member has not
		// seen it, and marks the checkpoint gone if there is none.
		if _, err := c.current(m.ctx); err != nil {
			reply(wire.AckFailed, err.Error())
			return
		}
	}
	// As for ops: a copy from an active of an older epoch than this member knows (a deposed one,
	// still sending) must not replace the replica, which may hold the newer active's writes.
	if sm.Part != wire.SnapHeader && inst != nil && sm.Epoch != inst.epoch || sm.Epoch < c.knownEpoch() {
		reply(wire.AckStale, "")
		return
	}
	switch sm.Part {
	case wire.SnapHeader:
		if inst != nil {
			inst.stop()
			_ = inst.wait()
		}
		c.mu.Lock()
		if c.act != nil {
			c.stepDownLocked("receiving a copy from another active")
		}
		inst = &install{epoch: sm.Epoch, sections: make(chan []engine.SnapshotSection, installQueue), done: make(chan struct{}), abort: make(chan struct{})}
		c.inst, c.rep = inst, nil
		c.mu.Unlock()
		h := sm.Header
		m.spawn(func() { c.runInstall(inst, h) })
		reply(wire.AckOK, "")
	case wire.SnapSections:
		if inst == nil {
			reply(wire.AckFailed, "no snapshot in progress")
			return
		}
		if len(sm.Sections) > 0 {
			select {
			case inst.sections <- sm.Sections: // they point into the message, which is this handler's alone
			case <-inst.abort:
			case <-inst.done:
			}
		}
		reply(wire.AckOK, "")
	case wire.SnapEnd:
		if inst == nil {
			reply(wire.AckFailed, "no snapshot in progress")
			return
		}
		select {
		case inst.sections <- nil:
		case <-inst.done:
		}
		if err := inst.wait(); err != nil {
			reply(wire.AckFailed, err.Error())
			return
		}
		reply(wire.AckOK, "")
	}
}

// knownEpoch is the newest epoch this member knows of the checkpoint: its entry's or its replica's.
func (c *ckpt) knownEpoch() uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	var epoch uint64
	if c.entry != nil {
		epoch = c.entry.Epoch
	}
	if c.rep != nil {
		repEpoch, _ := c.rep.Position()
		epoch = max(epoch, repEpoch)
	}
	return epoch
}

// runInstall installs a snapshot as the local replica.
func (c *ckpt) runInstall(inst *install, h engine.SnapshotHeader) {
	m := c.m
	var queued []engine.SnapshotSection
	// Stage timers: replacing the old replica (until the first section is asked for), waiting for
	// sections from the network, and the rest (the store's writes); with the store's counters.
	began, counted := time.Now(), m.store.Counters()
	var replacing, waiting time.Duration
	var bytes int
	rep, err := m.reps.Install(h, func() (*engine.SnapshotSection, error) {
		if len(queued) > 0 {
			s := &queued[0]
			queued = queued[1:]
			bytes += len(s.Data)
			return s, nil
		}
		asked := time.Now()
		if replacing == 0 {
			replacing = asked.Sub(began)
		}
		defer func() { waiting += time.Since(asked) }()
		select {
		case queued = <-inst.sections:
			if queued == nil {
				return nil, nil // the end
			}
			s := &queued[0]
			queued = queued[1:]
			bytes += len(s.Data)
			return s, nil
		case <-inst.abort:
			return nil, errors.New("snapshot abandoned")
		case <-m.ctx.Done():
			return nil, m.ctx.Err()
		case <-time.After(time.Minute):
			return nil, errors.New("snapshot stalled")
		}
	})
	c.mu.Lock()
	if c.inst == inst {
		c.inst = nil
		if err == nil && c.gone {
			// Destroyed while its copy arrived: there is nothing to keep.
			if derr := m.reps.Destroy(rep); derr != nil {
				m.log.Warn("dropping the copy of a destroyed checkpoint", "checkpoint", h.Name, "err", derr)
			}
		} else if err == nil {
			c.setReplicaLocked(rep)
			c.copied = time.Now()
			if c.entry != nil {
				c.reconcileLocked(c.entry) // it may have been named active while the copy arrived
			}
		}
	}
	c.mu.Unlock()
	if err != nil {
		m.log.Warn("installing a copy", "checkpoint", h.Name, "err", err)
	} else if m.log.Enabled(m.ctx, slog.LevelInfo) {
		took, st := time.Since(began), m.store.Counters().Sub(counted)
		m.log.Info("copy installed", "checkpoint", h.Name, "bytes", bytes, "took", took.Round(time.Millisecond).String(),
			"replacing", replacing.Round(time.Millisecond).String(), "waiting_for_sections", waiting.Round(time.Millisecond).String(),
			"storing", (took - replacing - waiting).Round(time.Millisecond).String(),
			"commits", st.Commits, "commit_time", st.CommitTime.Round(time.Millisecond).String(),
			"slow_commits", st.SlowCommits, "slow_commit_time", st.SlowTime.Round(time.Millisecond).String(),
			"commit_gate_wait", st.GateWait.Round(time.Millisecond).String(),
			"gc_refreshes", st.GCRefreshes, "gc_refresh_time", st.GCRefresh.Round(time.Millisecond).String(), "gc_refreshes_skipped", st.GCSkipped,
			"gc_rewrites", st.GCRewrites, "gc_rewrite_time", st.GCRewrite.Round(time.Millisecond).String(),
			"memtable_flushes", st.Flushes, "l0_compactions", st.L0Compacts, "other_compactions", st.Compacts,
			"writebacks", st.Writebacks)
	}
	inst.err = err
	close(inst.done)
	m.release(c)
}

// position returns the local replica's position, for elections.
func (m *Member) position(ctx context.Context, member string, id uint64) (*wire.AckMsg, error) {
	if member == m.name {
		_, rep := m.replicaOf(id)
		if rep == nil {
			return &wire.AckMsg{Ckpt: id, Status: wire.AckNoReplica}, nil
		}
		e, l := rep.Position()
		return &wire.AckMsg{From: m.name, Ckpt: id, Epoch: e, LSN: l, Status: wire.AckOK}, nil
	}
	msg, err := m.nc.RequestWithContext(ctx, m.subject(member, "pos"), (&wire.PositionMsg{Ckpt: id}).Encode(nil))
	if err != nil {
		return nil, err
	}
	return wire.DecodeAckMsg(msg.Data)
}
