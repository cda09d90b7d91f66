package replication

import (
	"context"
	"fmt"

	"github.com/nats-io/nats.go"

	"github.com/clckpt/libclckpt/engine"
	"github.com/clckpt/libclckpt/replication/wire"
)

// Inspect returns a handle on the checkpoint called name for an operator's tool (clckpt get, put,
// dump, ls): its calls go to the active replica as a program's do, but it counts no open (the
// checkpoint's opens, retention and deletion are as if it did not exist) and this member takes no
// replica for it, even of a checkpoint whose openers hold replicas. flags are OpenRead and OpenWrite;
// Subscribe needs a replica and fails with ErrNotPermitted. Closing the handle only releases it.
func (m *Member) Inspect(ctx context.Context, name string, flags engine.OpenFlags) (engine.Checkpoint, error) {
	if err := engine.ValidateOpen(name, nil, flags&^engine.OpenCreate); err != nil {
		return nil, err
	}
	if flags&engine.OpenCreate != 0 {
		return nil, fmt.Errorf("%w: Inspect does not create checkpoints", engine.ErrBadFlag)
	}
	if m.closed.Load() {
		return nil, engine.ErrClosed
	}
	e, err := m.Entry(ctx, name)
	if err != nil {
		return nil, err
	}
	c := m.ckptFor(e.ID)
	c.update(e)
	h := &handle{m: m, c: c, name: name, flags: flags, origin: fmt.Sprintf("%s/%d", m.name, m.handleSeq.Add(1)), tool: true}
	c.mu.Lock()
	c.handles[h] = struct{}{}
	c.mu.Unlock()
	return h, nil
}

// ReplicaPosition asks member, over nc, for the position of its replica of checkpoint id: the epoch
// and the LSN of the last op it holds (held false when it holds none). For tools that read the
// service from outside, as clckpt status does; subject is the deployment's (CLCKPT_SUBJECT).
func ReplicaPosition(ctx context.Context, nc *nats.Conn, subject, member string, id uint64) (epoch, lsn uint64, held bool, err error) {
	msg, err := nc.RequestWithContext(ctx, memberSubject(subject, member, "pos"), (&wire.PositionMsg{Ckpt: id}).Encode(nil))
	if err != nil {
		return 0, 0, false, err
	}
	a, err := wire.DecodeAckMsg(msg.Data)
	if err != nil {
		return 0, 0, false, err
	}
	return a.Epoch, a.LSN, a.Status == wire.AckOK, nil
}
