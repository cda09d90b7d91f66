package conformance

// Rows of spec section 4.2 (open, close, delete, retention), status and access rights.

import (
	"context"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/clckpt/libclckpt/ckpt"
)

func rowsOpen() []Row {
	base := func() *ckpt.Attributes {
		return &ckpt.Attributes{Flags: ckpt.WriteActiveReplica, CheckpointSize: 100, Retention: ckpt.RetainForever,
			MaxSections: 10, MaxSectionSize: 10, MaxSectionIDSize: 16}
	}
	differs := func(change func(a *ckpt.Attributes)) func(t T, e *Env) error {
		return func(t T, e *Env) error {
			e.create("c", base())
			a := base()
			change(a)
			_, err := e.Open(bg, "c", a, rwc)
			return err
		}
	}
	return []Row{
		{"open flags above 0x7 give BAD_FLAG", func(t T, e *Env) error {
			_, err := e.Open(bg, "c", base(), rwc|0x8)
			return err
		}, ckpt.ErrBadFlag},
		{"CREATE without attributes gives NULL_POINTER", func(t T, e *Env) error {
			_, err := e.Open(bg, "c", nil, ckpt.OpenCreate)
			return err
		}, ckpt.ErrMissingArgument},
		{"attributes without CREATE give INVALID_PARAMETER", func(t T, e *Env) error {
			e.create("c", base())
			_, err := e.Open(bg, "c", base(), ckpt.OpenRead)
			return err
		}, ckpt.ErrInvalidParameter},
		{"checkpointSize above maxSections*maxSectionSize gives INVALID_PARAMETER", func(t T, e *Env) error {
			a := base()
			a.CheckpointSize = 101
			_, err := e.Open(bg, "c", a, rwc)
			return err
		}, ckpt.ErrInvalidParameter},
		{"checkpointSize equal to maxSections*maxSectionSize is accepted", func(t T, e *Env) error {
			_, err := e.Open(bg, "c", base(), rwc)
			return err
		}, nil},
		{"checkpointSize is not checked when maxSectionSize is 0", func(t T, e *Env) error {
			a := base()
			a.MaxSectionSize, a.CheckpointSize = 0, 1<<40
			_, err := e.Open(bg, "c", a, rwc)
			return err
		}, nil},
		{"creation flags are not validated", func(t T, e *Env) error {
			a := base()
			a.Flags = 0xFFFF0000
			_, err := e.Open(bg, "c", a, rwc)
			return err
		}, nil},
		{"open flags 0 are a legal open", func(t T, e *Env) error {
			e.create("c", base())
			h, err := e.Open(bg, "c", nil, 0)
			require.NoError(t, err)
			_, err = h.Status(bg)
			return err
		}, nil},
		{"unknown name without CREATE gives NOT_EXIST", func(t T, e *Env) error {
			_, err := e.Open(bg, "nope", nil, ckpt.OpenRead|ckpt.OpenWrite)
			return err
		}, ckpt.ErrNotExist},
		{"unknown name with CREATE creates it", func(t T, e *Env) error {
			e.create("c", base())
			require.True(t, e.exists("c"))
			return nil
		}, nil},
		{"CREATE with identical attributes is a plain open", func(t T, e *Env) error {
			h1 := e.create("c", base())
			_, err := h1.CreateSection(bg, sec("s"), ckpt.Never, []byte("x"))
			require.NoError(t, err)
			h2, err := e.Open(bg, "c", base(), rwc)
			require.NoError(t, err)
			require.Equal(t, "x", readAll(t, h2, "s"))
			return nil
		}, nil},
		{"CREATE with other creationFlags gives ALREADY_EXIST", differs(func(a *ckpt.Attributes) { a.Flags = ckpt.WriteAllReplicas }), ckpt.ErrAlreadyExist},
		{"CREATE with other checkpointSize gives ALREADY_EXIST", differs(func(a *ckpt.Attributes) { a.CheckpointSize = 99 }), ckpt.ErrAlreadyExist},
		{"CREATE with other retentionDuration gives ALREADY_EXIST", differs(func(a *ckpt.Attributes) { a.Retention = time.Second }), ckpt.ErrAlreadyExist},
		{"CREATE with other maxSections gives ALREADY_EXIST", differs(func(a *ckpt.Attributes) { a.MaxSections = 11 }), ckpt.ErrAlreadyExist},
		{"CREATE with other maxSectionSize gives ALREADY_EXIST", differs(func(a *ckpt.Attributes) { a.MaxSectionSize = 11 }), ckpt.ErrAlreadyExist},
		{"CREATE with other maxSectionIdSize gives ALREADY_EXIST", differs(func(a *ckpt.Attributes) { a.MaxSectionIDSize = 17 }), ckpt.ErrAlreadyExist},
		{"every open returns a distinct handle", func(t T, e *Env) error {
			h1 := e.create("c", base())
			h2, err := e.Open(bg, "c", nil, ckpt.OpenRead)
			require.NoError(t, err)
			require.NotSame(t, h1, h2)
			require.NoError(t, h1.Close())
			_, err = h2.Status(bg) // closing one does not close the other
			return err
		}, nil},
		{"maxSections 0 fails the creation", func(t T, e *Env) error {
			a := base()
			a.MaxSections, a.CheckpointSize = 0, 0
			_, err := e.Open(bg, "c", a, rwc)
			require.False(t, e.exists("c"))
			return err
		}, ckpt.ErrMaxSectionsZero},
		{"an empty name gives INVALID_PARAMETER", func(t T, e *Env) error {
			_, err := e.Open(bg, "", base(), rwc)
			return err
		}, ckpt.ErrInvalidParameter},
		{"a name of 2049 bytes gives INVALID_PARAMETER", func(t T, e *Env) error {
			_, err := e.Open(bg, string(make([]byte, 2049)), base(), rwc)
			return err
		}, ckpt.ErrInvalidParameter},
		{"a name of 2048 bytes is accepted", func(t T, e *Env) error {
			_, err := e.Open(bg, string(make([]byte, 2048)), base(), rwc)
			return err
		}, nil},
		{"a name of 257 bytes is accepted", func(t T, e *Env) error {
			_, err := e.Open(bg, string(make([]byte, 257)), base(), rwc)
			return err
		}, nil},
		{"a finished context gives TIMEOUT", func(t T, e *Env) error {
			ctx, cancel := context.WithDeadline(bg, time.Unix(1, 0))
			defer cancel()
			_, err := e.Open(ctx, "c", base(), rwc)
			return err
		}, ckpt.ErrTimeout},
	}
}

func rowsClose() []Row {
	return []Row{
		{"a second close gives INVALID_HANDLE", func(t T, e *Env) error {
			h := e.create("c", attrs(2))
			require.NoError(t, h.Close())
			return h.Close()
		}, ckpt.ErrBadHandle},
		{"calls on a closed handle give INVALID_HANDLE", func(t T, e *Env) error {
			h := e.create("c", attrs(2))
			require.NoError(t, h.Close())
			_, err := h.CreateSection(bg, sec("s"), ckpt.Never, nil)
			require.ErrorIs(t, err, ckpt.ErrBadHandle)
			require.ErrorIs(t, h.Read(bg, []ckpt.ReadElement{{SectionID: sec("s")}}), ckpt.ErrBadHandle)
			_, err = h.Status(bg)
			return err
		}, ckpt.ErrBadHandle},
		{"retention 0 destroys the checkpoint at the last close", func(t T, e *Env) error {
			a := attrs(2)
			a.Retention = 0
			h1 := e.create("c", a)
			h2, err := e.Open(bg, "c", nil, ckpt.OpenRead)
			require.NoError(t, err)
			require.NoError(t, h1.Close())
			require.True(t, e.exists("c")) // one handle still open
			require.NoError(t, h2.Close())
			require.False(t, e.exists("c"))
			return nil
		}, nil},
		{"retention CL_TIME_END keeps the checkpoint", func(t T, e *Env) error {
			h := e.create("c", attrs(2))
			require.NoError(t, h.Close())
			e.Advance(1000 * time.Hour)
			require.True(t, e.exists("c"))
			return nil
		}, nil},
		{"a negative retention keeps the checkpoint", func(t T, e *Env) error {
			a := attrs(2)
			a.Retention = -1
			h := e.create("c", a)
			require.NoError(t, h.Close())
			e.Advance(1000 * time.Hour)
			require.True(t, e.exists("c"))
			return nil
		}, nil},
		{"a finite retention destroys the checkpoint when it runs out", func(t T, e *Env) error {
			a := attrs(2)
			a.Retention = 10 * time.Second
			h := e.create("c", a)
			require.NoError(t, h.Close())
			e.Advance(9 * time.Second)
			require.True(t, e.exists("c")) // this open and close restart the retention
			e.Advance(9 * time.Second)
			require.True(t, e.exists("c"))
			e.Advance(10 * time.Second)
			require.False(t, e.exists("c"))
			return nil
		}, nil},
		{"an open inside the retention window cancels it and keeps the data", func(t T, e *Env) error {
			a := attrs(2)
			a.Retention = 10 * time.Second
			h := e.create("c", a)
			_, err := h.CreateSection(bg, sec("s"), ckpt.Never, []byte("kept"))
			require.NoError(t, err)
			require.NoError(t, h.Close())
			e.Advance(5 * time.Second)
			h, err = e.Open(bg, "c", nil, ckpt.OpenRead)
			require.NoError(t, err)
			e.Advance(time.Hour)
			require.Equal(t, "kept", readAll(t, h, "s"))
			return nil
		}, nil},
		{"a distributed checkpoint always uses retention 0", func(t T, e *Env) error {
			a := attrs(2)
			a.Flags = ckpt.Distributed
			h := e.create("c", a)
			require.NoError(t, h.Close())
			require.False(t, e.exists("c"))
			return nil
		}, nil},
	}
}

func rowsDelete() []Row {
	return []Row{
		{"deleting an unknown name gives NOT_EXIST", func(t T, e *Env) error {
			return e.Delete(bg, "nope")
		}, ckpt.ErrNotExist},
		{"deleting a checkpoint nobody has open destroys it", func(t T, e *Env) error {
			h := e.create("c", attrs(2))
			require.NoError(t, h.Close())
			require.NoError(t, e.Delete(bg, "c"))
			require.False(t, e.exists("c"))
			return e.Delete(bg, "c")
		}, ckpt.ErrNotExist},
		{"delete removes the name at once; open handles keep working", func(t T, e *Env) error {
			h := e.create("c", attrs(2))
			_, err := h.CreateSection(bg, sec("s"), ckpt.Never, []byte("old"))
			require.NoError(t, err)
			require.NoError(t, e.Delete(bg, "c"))
			require.False(t, e.exists("c"))
			require.NoError(t, h.Overwrite(bg, sec("s"), []byte("still")))
			require.Equal(t, "still", readAll(t, h, "s"))
			return nil
		}, nil},
		{"a create after delete makes a new checkpoint; the old one dies at its last close", func(t T, e *Env) error {
			old := e.create("c", attrs(2))
			_, err := old.CreateSection(bg, sec("s"), ckpt.Never, []byte("old"))
			require.NoError(t, err)
			require.NoError(t, e.Delete(bg, "c"))
			h := e.create("c", attrs(2))
			require.ErrorIs(t, h.Read(bg, []ckpt.ReadElement{{SectionID: sec("s")}}), ckpt.ErrNotExist)
			_, err = h.CreateSection(bg, sec("s"), ckpt.Never, []byte("new"))
			require.NoError(t, err)
			require.Equal(t, "old", readAll(t, old, "s"))
			require.NoError(t, old.Close())
			require.Equal(t, "new", readAll(t, h, "s"))
			require.Equal(t, 1, e.target.Checkpoints(), "checkpoints the service keeps")
			return nil
		}, nil},
		{"delete cancels a pending retention", func(t T, e *Env) error {
			a := attrs(2)
			a.Retention = time.Hour
			h := e.create("c", a)
			require.NoError(t, h.Close())
			require.NoError(t, e.Delete(bg, "c"))
			e.create("c", a) // a new one, which the old timer must not touch
			e.Advance(2 * time.Hour)
			require.True(t, e.exists("c"))
			return nil
		}, nil},
	}
}

func rowsRetentionDurationSet() []Row {
	return []Row{
		{"the new retention is what a later CREATE is compared with", func(t T, e *Env) error {
			h := e.create("c", attrs(2))
			require.NoError(t, h.SetRetention(bg, time.Minute))
			_, err := e.Open(bg, "c", attrs(2), rwc)
			require.ErrorIs(t, err, ckpt.ErrAlreadyExist)
			a := attrs(2)
			a.Retention = time.Minute
			_, err = e.Open(bg, "c", a, rwc)
			return err
		}, nil},
		{"the new retention applies at the last close", func(t T, e *Env) error {
			h := e.create("c", attrs(2))
			require.NoError(t, h.SetRetention(bg, time.Minute))
			require.NoError(t, h.Close())
			e.Advance(2 * time.Minute)
			require.False(t, e.exists("c"))
			return nil
		}, nil},
		{"on a deleted checkpoint it gives BAD_OPERATION", func(t T, e *Env) error {
			h := e.create("c", attrs(2))
			require.NoError(t, e.Delete(bg, "c"))
			return h.SetRetention(bg, time.Minute)
		}, ckpt.ErrBadOperation},
	}
}

func rowsStatus() []Row {
	return []Row{
		{"status gives attributes, user sections and the bytes they hold", func(t T, e *Env) error {
			a := attrs(5)
			h := e.create("c", a)
			_, err := h.CreateSection(bg, sec("a"), ckpt.Never, []byte("123"))
			require.NoError(t, err)
			_, err = h.CreateSection(bg, sec("b"), ckpt.Never, []byte("45678"))
			require.NoError(t, err)
			st, err := h.Status(bg)
			require.NoError(t, err)
			require.Equal(t, ckpt.Status{Attributes: *a, NumberOfSections: 2, MemoryUsed: 8}, st)
			require.NoError(t, h.Write(bg, []ckpt.WriteElement{{SectionID: sec("a"), Offset: 10, Data: []byte("x")}}))
			require.NoError(t, h.DeleteSection(bg, sec("b")))
			st, err = h.Status(bg)
			require.NoError(t, err)
			require.Equal(t, uint32(1), st.NumberOfSections)
			require.Equal(t, uint64(11), st.MemoryUsed)
			return nil
		}, nil},
		{"the default section is not counted but its bytes are", func(t T, e *Env) error {
			h := e.create("c", attrs(1))
			require.NoError(t, h.Overwrite(bg, nil, []byte("abcd")))
			st, err := h.Status(bg)
			require.NoError(t, err)
			require.Equal(t, uint32(0), st.NumberOfSections)
			require.Equal(t, uint64(4), st.MemoryUsed)
			return nil
		}, nil},
		{"status reports the current retention", func(t T, e *Env) error {
			h := e.create("c", attrs(2))
			require.NoError(t, h.SetRetention(bg, 7))
			st, err := h.Status(bg)
			require.NoError(t, err)
			require.Equal(t, time.Duration(7), st.Attributes.Retention)
			return nil
		}, nil},
	}
}

func rowsPermissions() []Row {
	// Each call that changes a checkpoint needs WRITE or CREATE; Read needs READ.
	writes := map[string]func(h ckpt.Checkpoint) error{
		"SectionCreate": func(h ckpt.Checkpoint) error {
			_, err := h.CreateSection(bg, sec("new"), ckpt.Never, nil)
			return err
		},
		"SectionDelete": func(h ckpt.Checkpoint) error { return h.DeleteSection(bg, sec("s")) },
		"ExpirationSet": func(h ckpt.Checkpoint) error { return h.SetSectionExpiration(bg, sec("s"), ckpt.Never) },
		"Write": func(h ckpt.Checkpoint) error {
			return h.Write(bg, []ckpt.WriteElement{{SectionID: sec("s"), Data: []byte("x")}})
		},
		"Overwrite":        func(h ckpt.Checkpoint) error { return h.Overwrite(bg, sec("s"), []byte("x")) },
		"ActiveReplicaSet": func(h ckpt.Checkpoint) error { return h.SetActiveReplica(bg) },
		"Synchronize":      func(h ckpt.Checkpoint) error { return h.Synchronize(bg) },
	}
	var rows []Row
	for name, call := range writes {
		setup := func(e *Env, flags ckpt.OpenFlags) ckpt.Checkpoint {
			a := attrs(4)
			a.Flags = ckpt.Collocated | ckpt.WriteActiveReplica
			w := e.create("c", a)
			require.NoError(e.t, w.SetActiveReplica(bg))
			_, err := w.CreateSection(bg, sec("s"), ckpt.Never, []byte("data"))
			require.NoError(e.t, err)
			h, err := e.Open(bg, "c", nil, flags)
			require.NoError(e.t, err)
			return h
		}
		rows = append(rows,
			Row{name + " on a READ handle gives OP_NOT_PERMITTED", func(t T, e *Env) error {
				return call(setup(e, ckpt.OpenRead))
			}, ckpt.ErrNotPermitted},
			Row{name + " on a WRITE handle is allowed", func(t T, e *Env) error {
				return call(setup(e, ckpt.OpenWrite))
			}, nil},
			Row{name + " on a CREATE-only handle is allowed", func(t T, e *Env) error {
				a := attrs(4)
				a.Flags = ckpt.Collocated | ckpt.WriteActiveReplica
				e.create("c", a)
				h, err := e.Open(bg, "c", a, ckpt.OpenCreate)
				require.NoError(t, err)
				require.NoError(t, h.SetActiveReplica(bg))
				_, err = h.CreateSection(bg, sec("s"), ckpt.Never, []byte("data"))
				require.NoError(t, err)
				return call(h)
			}, nil},
		)
	}
	rows = append(rows,
		Row{"Read on a WRITE handle gives OP_NOT_PERMITTED", func(t T, e *Env) error {
			e.create("c", attrs(2))
			h, err := e.Open(bg, "c", nil, ckpt.OpenWrite|ckpt.OpenCreate-ckpt.OpenCreate)
			require.NoError(t, err)
			return h.Read(bg, []ckpt.ReadElement{{SectionID: sec("s")}})
		}, ckpt.ErrNotPermitted},
		Row{"Status and iteration need no access flag", func(t T, e *Env) error {
			w := e.create("c", attrs(2))
			_, err := w.CreateSection(bg, sec("s"), ckpt.Never, nil)
			require.NoError(t, err)
			h, err := e.Open(bg, "c", nil, 0)
			require.NoError(t, err)
			_, err = h.Status(bg)
			require.NoError(t, err)
			_, err = h.Sections(bg, ckpt.SectionsAny, time.Time{})
			return err
		}, nil},
	)
	return rows
}
