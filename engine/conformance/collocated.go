package conformance

// Rows of spec section 4.11: collocated checkpoints, the active replica, synchronize.

import (
	"context"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/clckpt/libclckpt/ckpt"
)

func rowsCollocated() []Row {
	collocated := func(e *Env) ckpt.Checkpoint {
		a := attrs(4)
		a.Flags = ckpt.Collocated | ckpt.WriteActiveReplicaWeak
		return e.create("c", a)
	}
	dataCalls := map[string]func(h ckpt.Checkpoint) error{
		"SectionCreate": func(h ckpt.Checkpoint) error {
			_, err := h.CreateSection(bg, sec("s"), ckpt.Never, nil)
			return err
		},
		"SectionDelete": func(h ckpt.Checkpoint) error { return h.DeleteSection(bg, sec("s")) },
		"ExpirationSet": func(h ckpt.Checkpoint) error { return h.SetSectionExpiration(bg, sec("s"), ckpt.Never) },
		"Write":         func(h ckpt.Checkpoint) error { return h.Write(bg, []ckpt.WriteElement{{SectionID: sec("s")}}) },
		"Overwrite":     func(h ckpt.Checkpoint) error { return h.Overwrite(bg, sec("s"), []byte("x")) },
		"Read":          func(h ckpt.Checkpoint) error { return h.Read(bg, []ckpt.ReadElement{{SectionID: sec("s")}}) },
		"Status":        func(h ckpt.Checkpoint) error { _, err := h.Status(bg); return err },
		"Iteration": func(h ckpt.Checkpoint) error {
			_, err := h.Sections(bg, ckpt.SectionsAny, time.Time{})
			return err
		},
		"Synchronize": func(h ckpt.Checkpoint) error { return h.Synchronize(bg) },
	}
	var rows []Row
	for name, call := range dataCalls {
		rows = append(rows, Row{name + " before ActiveReplicaSet gives NOT_EXIST", func(t T, e *Env) error {
			return call(collocated(e))
		}, ckpt.ErrNotExist})
	}
	rows = append(rows,
		Row{"after ActiveReplicaSet data calls work", func(t T, e *Env) error {
			h := collocated(e)
			require.NoError(t, h.SetActiveReplica(bg))
			_, err := h.CreateSection(bg, sec("s"), ckpt.Never, []byte("1"))
			require.NoError(t, err)
			require.Equal(t, "1", readAll(t, h, "s"))
			return h.Synchronize(bg)
		}, nil},
		Row{"the active replica survives a restart", func(t T, e *Env) error {
			h := collocated(e)
			require.NoError(t, h.SetActiveReplica(bg))
			e.Restart()
			h, err := e.Open(bg, "c", nil, ckpt.OpenRead)
			require.NoError(t, err)
			_, err = h.Status(bg)
			return err
		}, nil},
		Row{"COLLOCATED with WR_ALL_REPLICAS is not collocated: no ActiveReplicaSet needed", func(t T, e *Env) error {
			a := attrs(4)
			a.Flags = ckpt.Collocated | ckpt.WriteAllReplicas
			_, err := e.create("c", a).CreateSection(bg, sec("s"), ckpt.Never, nil)
			return err
		}, nil},
		Row{"ActiveReplicaSet on a non-collocated checkpoint gives BAD_OPERATION", func(t T, e *Env) error {
			return e.create("c", attrs(4)).SetActiveReplica(bg)
		}, ckpt.ErrBadOperation},
		Row{"ActiveReplicaSet without WRITE or CREATE gives OP_NOT_PERMITTED", func(t T, e *Env) error {
			collocated(e)
			h, err := e.Open(bg, "c", nil, ckpt.OpenRead)
			require.NoError(t, err)
			return h.SetActiveReplica(bg)
		}, ckpt.ErrNotPermitted},
		Row{"Synchronize of a WR_ALL_REPLICAS checkpoint gives BAD_OPERATION", func(t T, e *Env) error {
			return e.create("c", attrs(4)).Synchronize(bg)
		}, ckpt.ErrBadOperation},
		Row{"Synchronize of an asynchronous checkpoint succeeds", func(t T, e *Env) error {
			a := attrs(4)
			a.Flags = ckpt.WriteActiveReplica
			return e.create("c", a).Synchronize(bg)
		}, nil},
		Row{"Synchronize with an expired timeout gives TIMEOUT", func(t T, e *Env) error {
			a := attrs(4)
			a.Flags = ckpt.WriteActiveReplica
			h := e.create("c", a)
			ctx, cancel := context.WithTimeout(bg, -time.Second)
			defer cancel()
			return h.Synchronize(ctx)
		}, ckpt.ErrTimeout},
		Row{"WR_ALL_SAFE and WR_ACTIVE_REPLICA_WEAK are accepted", func(t T, e *Env) error {
			a := attrs(4)
			a.Flags = ckpt.WriteAllSafe | ckpt.WriteActiveReplicaWeak
			h := e.create("c", a)
			_, err := h.CreateSection(bg, sec("s"), ckpt.Never, []byte("x"))
			require.NoError(t, err)
			return h.Synchronize(bg)
		}, nil},
	)
	return rows
}
