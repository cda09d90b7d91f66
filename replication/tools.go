package replication

import (
	"context"
	"fmt"

	"github.com/clckpt/libclckpt/engine"
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
