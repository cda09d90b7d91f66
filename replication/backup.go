package replication

import (
	"context"
	"fmt"

	"github.com/clckpt/libclckpt/engine"
)

// SnapshotCheckpoint cuts a consistent copy of the checkpoint called name at its active replica,
// which must be held by this member (engine.Replica.Snapshot: one read view of the store, no
// writer or reader blocked). When another member holds the active replica, or none does, it fails
// with engine.ErrTryAgain naming the active member: a backup is taken there. It is the entry the
// backup package uses on a member.
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
	r, _ := c.localActive()
	if r == nil {
		if e.Active == "" {
			return fmt.Errorf("%w: checkpoint %q has no active replica", engine.ErrTryAgain, name)
		}
		return fmt.Errorf("%w: the active replica of checkpoint %q is on member %s, not on %s: take the backup there",
			engine.ErrTryAgain, name, e.Active, m.name)
	}
	return r.Snapshot(header, section)
}
