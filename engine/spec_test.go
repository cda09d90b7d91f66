package engine

// One row per behaviour of the API contract (spec sections 4 and 5), each with its exact error.
// Every row runs on a fresh service, once per store kind.

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

type row struct {
	name string
	run  func(t *testing.T, e *env) error
	want error // nil: the call succeeds
}

func runRows(t *testing.T, rows []row) {
	t.Helper()
	for _, kind := range storeKinds {
		t.Run(kind, func(t *testing.T) {
			for _, r := range rows {
				t.Run(r.name, func(t *testing.T) {
					err := r.run(t, newEnvOn(t, kind))
					if r.want == nil {
						require.NoError(t, err)
						return
					}
					require.ErrorIs(t, err, r.want)
					for _, other := range AllErrors {
						if other != r.want && !(r.want == ErrTimeout && other == ErrTryAgain) {
							require.False(t, errors.Is(err, other), "%v also matches %v", err, other)
						}
					}
				})
			}
		})
	}
}

// elemIndex returns the index an *ElementError carries.
func elemIndex(t *testing.T, err error) int {
	t.Helper()
	var ee *ElementError
	require.ErrorAs(t, err, &ee)
	return ee.Index
}

func sec(s string) []byte { return []byte(s) }

// --- 4.2 open, close, delete, retention ---

func TestSpecOpen(t *testing.T) {
	base := func() *Attributes {
		return &Attributes{Flags: WriteActiveReplica, CheckpointSize: 100, Retention: RetainForever,
			MaxSections: 10, MaxSectionSize: 10, MaxSectionIDSize: 16}
	}
	differs := func(change func(a *Attributes)) func(t *testing.T, e *env) error {
		return func(t *testing.T, e *env) error {
			e.create("c", base())
			a := base()
			change(a)
			_, err := e.Open(bg, "c", a, rwc)
			return err
		}
	}
	runRows(t, []row{
		{"open flags above 0x7 give BAD_FLAG", func(t *testing.T, e *env) error {
			_, err := e.Open(bg, "c", base(), rwc|0x8)
			return err
		}, ErrBadFlag},
		{"CREATE without attributes gives NULL_POINTER", func(t *testing.T, e *env) error {
			_, err := e.Open(bg, "c", nil, OpenCreate)
			return err
		}, ErrMissingArgument},
		{"attributes without CREATE give INVALID_PARAMETER", func(t *testing.T, e *env) error {
			e.create("c", base())
			_, err := e.Open(bg, "c", base(), OpenRead)
			return err
		}, ErrInvalidParameter},
		{"checkpointSize above maxSections*maxSectionSize gives INVALID_PARAMETER", func(t *testing.T, e *env) error {
			a := base()
			a.CheckpointSize = 101
			_, err := e.Open(bg, "c", a, rwc)
			return err
		}, ErrInvalidParameter},
		{"checkpointSize equal to maxSections*maxSectionSize is accepted", func(t *testing.T, e *env) error {
			_, err := e.Open(bg, "c", base(), rwc)
			return err
		}, nil},
		{"checkpointSize is not checked when maxSectionSize is 0", func(t *testing.T, e *env) error {
			a := base()
			a.MaxSectionSize, a.CheckpointSize = 0, 1<<40
			_, err := e.Open(bg, "c", a, rwc)
			return err
		}, nil},
		{"creation flags are not validated", func(t *testing.T, e *env) error {
			a := base()
			a.Flags = 0xFFFF0000
			_, err := e.Open(bg, "c", a, rwc)
			return err
		}, nil},
		{"open flags 0 are a legal open", func(t *testing.T, e *env) error {
			e.create("c", base())
			h, err := e.Open(bg, "c", nil, 0)
			require.NoError(t, err)
			_, err = h.Status(bg)
			return err
		}, nil},
		{"unknown name without CREATE gives NOT_EXIST", func(t *testing.T, e *env) error {
			_, err := e.Open(bg, "nope", nil, OpenRead|OpenWrite)
			return err
		}, ErrNotExist},
		{"unknown name with CREATE creates it", func(t *testing.T, e *env) error {
			e.create("c", base())
			require.True(t, e.exists("c"))
			return nil
		}, nil},
		{"CREATE with identical attributes is a plain open", func(t *testing.T, e *env) error {
			h1 := e.create("c", base())
			_, err := h1.CreateSection(bg, sec("s"), Never, []byte("x"))
			require.NoError(t, err)
			h2, err := e.Open(bg, "c", base(), rwc)
			require.NoError(t, err)
			require.Equal(t, "x", readAll(t, h2, "s"))
			return nil
		}, nil},
		{"CREATE with other creationFlags gives ALREADY_EXIST", differs(func(a *Attributes) { a.Flags = WriteAllReplicas }), ErrAlreadyExist},
		{"CREATE with other checkpointSize gives ALREADY_EXIST", differs(func(a *Attributes) { a.CheckpointSize = 99 }), ErrAlreadyExist},
		{"CREATE with other retentionDuration gives ALREADY_EXIST", differs(func(a *Attributes) { a.Retention = time.Second }), ErrAlreadyExist},
		{"CREATE with other maxSections gives ALREADY_EXIST", differs(func(a *Attributes) { a.MaxSections = 11 }), ErrAlreadyExist},
		{"CREATE with other maxSectionSize gives ALREADY_EXIST", differs(func(a *Attributes) { a.MaxSectionSize = 11 }), ErrAlreadyExist},
		{"CREATE with other maxSectionIdSize gives ALREADY_EXIST", differs(func(a *Attributes) { a.MaxSectionIDSize = 17 }), ErrAlreadyExist},
		{"every open returns a distinct handle", func(t *testing.T, e *env) error {
			h1 := e.create("c", base())
			h2, err := e.Open(bg, "c", nil, OpenRead)
			require.NoError(t, err)
			require.NotSame(t, h1, h2)
			require.NoError(t, h1.Close())
			_, err = h2.Status(bg) // closing one does not close the other
			return err
		}, nil},
		{"maxSections 0 fails the creation", func(t *testing.T, e *env) error {
			a := base()
			a.MaxSections, a.CheckpointSize = 0, 0
			_, err := e.Open(bg, "c", a, rwc)
			require.False(t, e.exists("c"))
			return err
		}, ErrMaxSectionsZero},
		{"an empty name gives INVALID_PARAMETER", func(t *testing.T, e *env) error {
			_, err := e.Open(bg, "", base(), rwc)
			return err
		}, ErrInvalidParameter},
		{"a name of 257 bytes gives INVALID_PARAMETER", func(t *testing.T, e *env) error {
			_, err := e.Open(bg, string(make([]byte, 257)), base(), rwc)
			return err
		}, ErrInvalidParameter},
		{"a name of 256 bytes is accepted", func(t *testing.T, e *env) error {
			_, err := e.Open(bg, string(make([]byte, 256)), base(), rwc)
			return err
		}, nil},
		{"a finished context gives TIMEOUT", func(t *testing.T, e *env) error {
			ctx, cancel := context.WithDeadline(bg, time.Unix(1, 0))
			defer cancel()
			_, err := e.Open(ctx, "c", base(), rwc)
			return err
		}, ErrTimeout},
	})
}

func TestSpecClose(t *testing.T) {
	runRows(t, []row{
		{"a second close gives INVALID_HANDLE", func(t *testing.T, e *env) error {
			h := e.create("c", attrs(2))
			require.NoError(t, h.Close())
			return h.Close()
		}, ErrBadHandle},
		{"calls on a closed handle give INVALID_HANDLE", func(t *testing.T, e *env) error {
			h := e.create("c", attrs(2))
			require.NoError(t, h.Close())
			_, err := h.CreateSection(bg, sec("s"), Never, nil)
			require.ErrorIs(t, err, ErrBadHandle)
			require.ErrorIs(t, h.Read(bg, []ReadElement{{SectionID: sec("s")}}), ErrBadHandle)
			_, err = h.Status(bg)
			return err
		}, ErrBadHandle},
		{"retention 0 destroys the checkpoint at the last close", func(t *testing.T, e *env) error {
			a := attrs(2)
			a.Retention = 0
			h1 := e.create("c", a)
			h2, err := e.Open(bg, "c", nil, OpenRead)
			require.NoError(t, err)
			require.NoError(t, h1.Close())
			require.True(t, e.exists("c")) // one handle still open
			require.NoError(t, h2.Close())
			require.False(t, e.exists("c"))
			return nil
		}, nil},
		{"retention CL_TIME_END keeps the checkpoint", func(t *testing.T, e *env) error {
			h := e.create("c", attrs(2))
			require.NoError(t, h.Close())
			e.clock.Advance(1000 * time.Hour)
			require.True(t, e.exists("c"))
			return nil
		}, nil},
		{"a negative retention keeps the checkpoint", func(t *testing.T, e *env) error {
			a := attrs(2)
			a.Retention = -1
			h := e.create("c", a)
			require.NoError(t, h.Close())
			e.clock.Advance(1000 * time.Hour)
			require.True(t, e.exists("c"))
			return nil
		}, nil},
		{"a finite retention destroys the checkpoint when it runs out", func(t *testing.T, e *env) error {
			a := attrs(2)
			a.Retention = 10 * time.Second
			h := e.create("c", a)
			require.NoError(t, h.Close())
			e.clock.Advance(9 * time.Second)
			require.True(t, e.exists("c")) // this open and close restart the retention
			e.clock.Advance(9 * time.Second)
			require.True(t, e.exists("c"))
			e.clock.Advance(10 * time.Second)
			require.False(t, e.exists("c"))
			return nil
		}, nil},
		{"an open inside the retention window cancels it and keeps the data", func(t *testing.T, e *env) error {
			a := attrs(2)
			a.Retention = 10 * time.Second
			h := e.create("c", a)
			_, err := h.CreateSection(bg, sec("s"), Never, []byte("kept"))
			require.NoError(t, err)
			require.NoError(t, h.Close())
			e.clock.Advance(5 * time.Second)
			h, err = e.Open(bg, "c", nil, OpenRead)
			require.NoError(t, err)
			e.clock.Advance(time.Hour)
			require.Equal(t, "kept", readAll(t, h, "s"))
			return nil
		}, nil},
		{"a distributed checkpoint always uses retention 0", func(t *testing.T, e *env) error {
			a := attrs(2)
			a.Flags = Distributed
			h := e.create("c", a)
			require.NoError(t, h.Close())
			require.False(t, e.exists("c"))
			return nil
		}, nil},
	})
}

func TestSpecDelete(t *testing.T) {
	runRows(t, []row{
		{"deleting an unknown name gives NOT_EXIST", func(t *testing.T, e *env) error {
			return e.Delete(bg, "nope")
		}, ErrNotExist},
		{"deleting a checkpoint nobody has open destroys it", func(t *testing.T, e *env) error {
			h := e.create("c", attrs(2))
			require.NoError(t, h.Close())
			require.NoError(t, e.Delete(bg, "c"))
			require.False(t, e.exists("c"))
			return e.Delete(bg, "c")
		}, ErrNotExist},
		{"delete removes the name at once; open handles keep working", func(t *testing.T, e *env) error {
			h := e.create("c", attrs(2))
			_, err := h.CreateSection(bg, sec("s"), Never, []byte("old"))
			require.NoError(t, err)
			require.NoError(t, e.Delete(bg, "c"))
			require.False(t, e.exists("c"))
			require.NoError(t, h.Overwrite(bg, sec("s"), []byte("still")))
			require.Equal(t, "still", readAll(t, h, "s"))
			return nil
		}, nil},
		{"a create after delete makes a new checkpoint; the old one dies at its last close", func(t *testing.T, e *env) error {
			old := e.create("c", attrs(2))
			_, err := old.CreateSection(bg, sec("s"), Never, []byte("old"))
			require.NoError(t, err)
			require.NoError(t, e.Delete(bg, "c"))
			h := e.create("c", attrs(2))
			require.ErrorIs(t, h.Read(bg, []ReadElement{{SectionID: sec("s")}}), ErrNotExist)
			_, err = h.CreateSection(bg, sec("s"), Never, []byte("new"))
			require.NoError(t, err)
			require.Equal(t, "old", readAll(t, old, "s"))
			require.NoError(t, old.Close())
			require.Equal(t, "new", readAll(t, h, "s"))
			require.Len(t, e.all, 1)
			return nil
		}, nil},
		{"delete cancels a pending retention", func(t *testing.T, e *env) error {
			a := attrs(2)
			a.Retention = time.Hour
			h := e.create("c", a)
			require.NoError(t, h.Close())
			require.NoError(t, e.Delete(bg, "c"))
			e.create("c", a) // a new one, which the old timer must not touch
			e.clock.Advance(2 * time.Hour)
			require.True(t, e.exists("c"))
			return nil
		}, nil},
	})
}

func TestSpecRetentionDurationSet(t *testing.T) {
	runRows(t, []row{
		{"the new retention is what a later CREATE is compared with", func(t *testing.T, e *env) error {
			h := e.create("c", attrs(2))
			require.NoError(t, h.SetRetention(bg, time.Minute))
			_, err := e.Open(bg, "c", attrs(2), rwc)
			require.ErrorIs(t, err, ErrAlreadyExist)
			a := attrs(2)
			a.Retention = time.Minute
			_, err = e.Open(bg, "c", a, rwc)
			return err
		}, nil},
		{"the new retention applies at the last close", func(t *testing.T, e *env) error {
			h := e.create("c", attrs(2))
			require.NoError(t, h.SetRetention(bg, time.Minute))
			require.NoError(t, h.Close())
			e.clock.Advance(2 * time.Minute)
			require.False(t, e.exists("c"))
			return nil
		}, nil},
		{"on a deleted checkpoint it gives BAD_OPERATION", func(t *testing.T, e *env) error {
			h := e.create("c", attrs(2))
			require.NoError(t, e.Delete(bg, "c"))
			return h.SetRetention(bg, time.Minute)
		}, ErrBadOperation},
	})
}

func TestSpecStatus(t *testing.T) {
	runRows(t, []row{
		{"status gives attributes, user sections and the bytes they hold", func(t *testing.T, e *env) error {
			a := attrs(5)
			h := e.create("c", a)
			_, err := h.CreateSection(bg, sec("a"), Never, []byte("123"))
			require.NoError(t, err)
			_, err = h.CreateSection(bg, sec("b"), Never, []byte("45678"))
			require.NoError(t, err)
			st, err := h.Status(bg)
			require.NoError(t, err)
			require.Equal(t, Status{Attributes: *a, NumberOfSections: 2, MemoryUsed: 8}, st)
			require.NoError(t, h.Write(bg, []WriteElement{{SectionID: sec("a"), Offset: 10, Data: []byte("x")}}))
			require.NoError(t, h.DeleteSection(bg, sec("b")))
			st, err = h.Status(bg)
			require.NoError(t, err)
			require.Equal(t, uint32(1), st.NumberOfSections)
			require.Equal(t, uint64(11), st.MemoryUsed)
			return nil
		}, nil},
		{"the default section is not counted but its bytes are", func(t *testing.T, e *env) error {
			h := e.create("c", attrs(1))
			require.NoError(t, h.Overwrite(bg, nil, []byte("abcd")))
			st, err := h.Status(bg)
			require.NoError(t, err)
			require.Equal(t, uint32(0), st.NumberOfSections)
			require.Equal(t, uint64(4), st.MemoryUsed)
			return nil
		}, nil},
		{"status reports the current retention", func(t *testing.T, e *env) error {
			h := e.create("c", attrs(2))
			require.NoError(t, h.SetRetention(bg, 7))
			st, err := h.Status(bg)
			require.NoError(t, err)
			require.Equal(t, time.Duration(7), st.Attributes.Retention)
			return nil
		}, nil},
	})
}

func TestSpecPermissions(t *testing.T) {
	// Each call that changes a checkpoint needs WRITE or CREATE; Read needs READ.
	writes := map[string]func(h Checkpoint) error{
		"SectionCreate": func(h Checkpoint) error { _, err := h.CreateSection(bg, sec("new"), Never, nil); return err },
		"SectionDelete": func(h Checkpoint) error { return h.DeleteSection(bg, sec("s")) },
		"ExpirationSet": func(h Checkpoint) error { return h.SetSectionExpiration(bg, sec("s"), Never) },
		"Write": func(h Checkpoint) error {
			return h.Write(bg, []WriteElement{{SectionID: sec("s"), Data: []byte("x")}})
		},
		"Overwrite":        func(h Checkpoint) error { return h.Overwrite(bg, sec("s"), []byte("x")) },
		"ActiveReplicaSet": func(h Checkpoint) error { return h.SetActiveReplica(bg) },
		"Synchronize":      func(h Checkpoint) error { return h.Synchronize(bg) },
	}
	var rows []row
	for name, call := range writes {
		setup := func(e *env, flags OpenFlags) Checkpoint {
			a := attrs(4)
			a.Flags = Collocated | WriteActiveReplica
			w := e.create("c", a)
			require.NoError(e.t, w.SetActiveReplica(bg))
			_, err := w.CreateSection(bg, sec("s"), Never, []byte("data"))
			require.NoError(e.t, err)
			h, err := e.Open(bg, "c", nil, flags)
			require.NoError(e.t, err)
			return h
		}
		rows = append(rows,
			row{name + " on a READ handle gives OP_NOT_PERMITTED", func(t *testing.T, e *env) error {
				return call(setup(e, OpenRead))
			}, ErrNotPermitted},
			row{name + " on a WRITE handle is allowed", func(t *testing.T, e *env) error {
				return call(setup(e, OpenWrite))
			}, nil},
			row{name + " on a CREATE-only handle is allowed", func(t *testing.T, e *env) error {
				a := attrs(4)
				a.Flags = Collocated | WriteActiveReplica
				e.create("c", a)
				h, err := e.Open(bg, "c", a, OpenCreate)
				require.NoError(t, err)
				require.NoError(t, h.SetActiveReplica(bg))
				_, err = h.CreateSection(bg, sec("s"), Never, []byte("data"))
				require.NoError(t, err)
				return call(h)
			}, nil},
		)
	}
	rows = append(rows,
		row{"Read on a WRITE handle gives OP_NOT_PERMITTED", func(t *testing.T, e *env) error {
			e.create("c", attrs(2))
			h, err := e.Open(bg, "c", nil, OpenWrite|OpenCreate-OpenCreate)
			require.NoError(t, err)
			return h.Read(bg, []ReadElement{{SectionID: sec("s")}})
		}, ErrNotPermitted},
		row{"Status and iteration need no access flag", func(t *testing.T, e *env) error {
			w := e.create("c", attrs(2))
			_, err := w.CreateSection(bg, sec("s"), Never, nil)
			require.NoError(t, err)
			h, err := e.Open(bg, "c", nil, 0)
			require.NoError(t, err)
			_, err = h.Status(bg)
			require.NoError(t, err)
			_, err = h.Sections(bg, SectionsAny, time.Time{})
			return err
		}, nil},
	)
	runRows(t, rows)
}

// --- 4.3 default section ---

func TestSpecDefaultSection(t *testing.T) {
	runRows(t, []row{
		{"maxSections 1 creates an empty default section, not counted", func(t *testing.T, e *env) error {
			h := e.create("c", attrs(1))
			require.Equal(t, "", readAll(t, h, ""))
			st, err := h.Status(bg)
			require.NoError(t, err)
			require.Zero(t, st.NumberOfSections)
			return nil
		}, nil},
		{"the default section is read, written and overwritten with an empty id", func(t *testing.T, e *env) error {
			h := e.create("c", attrs(1))
			require.NoError(t, h.Overwrite(bg, nil, []byte("hello")))
			require.NoError(t, h.Write(bg, []WriteElement{{Offset: 5, Data: []byte(" world")}}))
			require.Equal(t, "hello world", readAll(t, h, ""))
			return nil
		}, nil},
		{"Read of the default id on a multi-section checkpoint gives NULL_POINTER", func(t *testing.T, e *env) error {
			h := e.create("c", attrs(2))
			err := h.Read(bg, []ReadElement{{Buffer: make([]byte, 4)}})
			require.Equal(t, 0, elemIndex(t, err))
			return err
		}, ErrMissingArgument},
		{"Write of the default id on a multi-section checkpoint gives INVALID_PARAMETER", func(t *testing.T, e *env) error {
			h := e.create("c", attrs(2))
			return h.Write(bg, []WriteElement{{Data: []byte("x")}})
		}, ErrInvalidParameter},
		{"Overwrite of the default id on a multi-section checkpoint gives INVALID_PARAMETER", func(t *testing.T, e *env) error {
			h := e.create("c", attrs(2))
			return h.Overwrite(bg, nil, []byte("x"))
		}, ErrInvalidParameter},
		{"SectionCreate with an explicit id on a maxSections 1 checkpoint gives ALREADY_EXIST", func(t *testing.T, e *env) error {
			h := e.create("c", attrs(1))
			_, err := h.CreateSection(bg, sec("s"), Never, nil)
			return err
		}, ErrAlreadyExist},
		{"ExpirationTimeSet on a maxSections 1 checkpoint gives INVALID_PARAMETER", func(t *testing.T, e *env) error {
			h := e.create("c", attrs(1))
			return h.SetSectionExpiration(bg, sec("s"), Never)
		}, ErrInvalidParameter},
		{"iteration over only the default section gives OP_NOT_PERMITTED", func(t *testing.T, e *env) error {
			h := e.create("c", attrs(1))
			_, err := h.Sections(bg, SectionsAny, time.Time{})
			return err
		}, ErrNotPermitted},
		{"the default section cannot be deleted", func(t *testing.T, e *env) error {
			h := e.create("c", attrs(1))
			return h.DeleteSection(bg, nil)
		}, ErrInvalidParameter},
	})
}

// --- 4.4 section create ---

func TestSpecSectionCreate(t *testing.T) {
	limited := func() *Attributes {
		return &Attributes{Flags: WriteAllReplicas, MaxSections: 2, MaxSectionSize: 4, MaxSectionIDSize: 3, Retention: RetainForever}
	}
	runRows(t, []row{
		{"an id longer than maxSectionIdSize gives INVALID_PARAMETER", func(t *testing.T, e *env) error {
			h := e.create("c", limited())
			_, err := h.CreateSection(bg, sec("abcd"), Never, nil)
			return err
		}, ErrInvalidParameter},
		{"an id of exactly maxSectionIdSize is accepted", func(t *testing.T, e *env) error {
			h := e.create("c", limited())
			_, err := h.CreateSection(bg, sec("abc"), Never, nil)
			return err
		}, nil},
		{"an id longer than MaxSectionIDLength gives INVALID_PARAMETER, whatever maxSectionIdSize", func(t *testing.T, e *env) error {
			a := limited()
			a.MaxSectionIDSize = 1 << 20
			h := e.create("c", a)
			_, err := h.CreateSection(bg, make([]byte, MaxSectionIDLength+1), Never, nil)
			return err
		}, ErrInvalidParameter},
		{"an id of MaxSectionIDLength is stored, and later writes go on", func(t *testing.T, e *env) error {
			a := limited()
			a.MaxSectionIDSize = 1 << 20
			h := e.create("c", a)
			long := bytes.Repeat([]byte{'x'}, MaxSectionIDLength)
			_, err := h.CreateSection(bg, long, Never, []byte("1"))
			require.NoError(t, err)
			_, err = h.CreateSection(bg, sec("a"), Never, []byte("2"))
			require.NoError(t, err)
			require.Equal(t, "2", readAll(t, h, "a"))
			return h.Overwrite(bg, long, []byte("3"))
		}, nil},
		{"initial data above maxSectionSize gives INVALID_PARAMETER", func(t *testing.T, e *env) error {
			h := e.create("c", limited())
			_, err := h.CreateSection(bg, sec("a"), Never, []byte("12345"))
			return err
		}, ErrInvalidParameter},
		{"an existing id gives ALREADY_EXIST", func(t *testing.T, e *env) error {
			h := e.create("c", limited())
			_, err := h.CreateSection(bg, sec("a"), Never, []byte("1"))
			require.NoError(t, err)
			_, err = h.CreateSection(bg, sec("a"), Never, []byte("2"))
			require.Equal(t, "1", readAll(t, h, "a"))
			return err
		}, ErrAlreadyExist},
		{"a section beyond maxSections gives NO_SPACE", func(t *testing.T, e *env) error {
			h := e.create("c", limited())
			for _, id := range []string{"a", "b"} {
				_, err := h.CreateSection(bg, sec(id), Never, nil)
				require.NoError(t, err)
			}
			_, err := h.CreateSection(bg, sec("c"), Never, nil)
			return err
		}, ErrNoSpace},
		{"an expiration in an earlier second gives INVALID_PARAMETER", func(t *testing.T, e *env) error {
			h := e.create("c", attrs(4))
			_, err := h.CreateSection(bg, sec("a"), t0.Add(-time.Second), nil)
			return err
		}, ErrInvalidParameter},
		{"an expiration earlier in the current second is accepted", func(t *testing.T, e *env) error {
			e.clock.Advance(500 * time.Millisecond)
			h := e.create("c", attrs(4))
			_, err := h.CreateSection(bg, sec("a"), t0.Add(100*time.Millisecond), nil)
			return err
		}, nil},
		{"generated ids are generatedSection0, 1, ... with their NUL", func(t *testing.T, e *env) error {
			h := e.create("c", attrs(4))
			for _, want := range []string{"generatedSection0\x00", "generatedSection1\x00"} {
				id, err := h.CreateSection(bg, nil, Never, []byte("g"))
				require.NoError(t, err)
				require.Equal(t, want, string(id))
				require.Equal(t, "g", readAll(t, h, want))
			}
			return nil
		}, nil},
		{"generated ids survive a restart without reuse", func(t *testing.T, e *env) error {
			h := e.create("c", attrs(4))
			_, err := h.CreateSection(bg, nil, Never, nil)
			require.NoError(t, err)
			e.restart()
			h, err = e.Open(bg, "c", nil, OpenWrite)
			require.NoError(t, err)
			id, err := h.CreateSection(bg, nil, Never, nil)
			require.Equal(t, "generatedSection1\x00", string(id))
			return err
		}, nil},
		{"a generated id works once on a maxSections 1 checkpoint, then NO_SPACE", func(t *testing.T, e *env) error {
			h := e.create("c", attrs(1))
			id, err := h.CreateSection(bg, nil, Never, []byte("q"))
			require.NoError(t, err)
			require.Equal(t, "generatedSection0\x00", string(id))
			_, err = h.CreateSection(bg, nil, Never, nil)
			return err
		}, ErrNoSpace},
		{"ids compare as exact bytes: abc and abc\\0 are two sections", func(t *testing.T, e *env) error {
			h := e.create("c", attrs(4))
			_, err := h.CreateSection(bg, sec("abc"), Never, []byte("1"))
			require.NoError(t, err)
			_, err = h.CreateSection(bg, sec("abc\x00"), Never, []byte("2"))
			require.NoError(t, err)
			require.Equal(t, "1", readAll(t, h, "abc"))
			require.Equal(t, "2", readAll(t, h, "abc\x00"))
			return nil
		}, nil},
		{"no initial data makes an empty section", func(t *testing.T, e *env) error {
			h := e.create("c", attrs(4))
			_, err := h.CreateSection(bg, sec("e"), Never, nil)
			require.NoError(t, err)
			require.Equal(t, "", readAll(t, h, "e"))
			return nil
		}, nil},
	})
}

// --- 4.5 section delete and expiration ---

func TestSpecSectionDeleteAndExpiration(t *testing.T) {
	runRows(t, []row{
		{"delete with an empty id gives INVALID_PARAMETER", func(t *testing.T, e *env) error {
			return e.create("c", attrs(4)).DeleteSection(bg, nil)
		}, ErrInvalidParameter},
		{"delete of a missing section gives NOT_EXIST", func(t *testing.T, e *env) error {
			return e.create("c", attrs(4)).DeleteSection(bg, sec("nope"))
		}, ErrNotExist},
		{"delete removes the section and frees its slot", func(t *testing.T, e *env) error {
			h := e.create("c", attrs(1+1))
			_, err := h.CreateSection(bg, sec("a"), Never, nil)
			require.NoError(t, err)
			_, err = h.CreateSection(bg, sec("b"), Never, nil)
			require.NoError(t, err)
			require.NoError(t, h.DeleteSection(bg, sec("a")))
			require.ErrorIs(t, h.Read(bg, []ReadElement{{SectionID: sec("a")}}), ErrNotExist)
			_, err = h.CreateSection(bg, sec("c"), Never, nil)
			return err
		}, nil},
		{"expiration set with an empty id gives INVALID_PARAMETER", func(t *testing.T, e *env) error {
			return e.create("c", attrs(4)).SetSectionExpiration(bg, nil, Never)
		}, ErrInvalidParameter},
		{"expiration set on a missing section gives NOT_EXIST", func(t *testing.T, e *env) error {
			return e.create("c", attrs(4)).SetSectionExpiration(bg, sec("nope"), Never)
		}, ErrNotExist},
		{"expiration set in the past gives INVALID_PARAMETER", func(t *testing.T, e *env) error {
			h := e.create("c", attrs(4))
			_, err := h.CreateSection(bg, sec("a"), Never, nil)
			require.NoError(t, err)
			return h.SetSectionExpiration(bg, sec("a"), t0.Add(-time.Second))
		}, ErrInvalidParameter},
		{"an expired section vanishes by itself", func(t *testing.T, e *env) error {
			h := e.create("c", attrs(4))
			_, err := h.CreateSection(bg, sec("a"), t0.Add(10*time.Second), []byte("x"))
			require.NoError(t, err)
			e.clock.Advance(9 * time.Second)
			require.Equal(t, "x", readAll(t, h, "a"))
			e.clock.Advance(time.Second)
			return h.Read(bg, []ReadElement{{SectionID: sec("a")}})
		}, ErrNotExist},
		{"a new expiration replaces the old one", func(t *testing.T, e *env) error {
			h := e.create("c", attrs(4))
			_, err := h.CreateSection(bg, sec("a"), t0.Add(10*time.Second), []byte("x"))
			require.NoError(t, err)
			require.NoError(t, h.SetSectionExpiration(bg, sec("a"), t0.Add(20*time.Second)))
			e.clock.Advance(15 * time.Second)
			require.Equal(t, "x", readAll(t, h, "a"))
			e.clock.Advance(5 * time.Second)
			return h.Read(bg, []ReadElement{{SectionID: sec("a")}})
		}, ErrNotExist},
		{"expiration CL_TIME_END cancels the expiration", func(t *testing.T, e *env) error {
			h := e.create("c", attrs(4))
			_, err := h.CreateSection(bg, sec("a"), t0.Add(10*time.Second), []byte("x"))
			require.NoError(t, err)
			require.NoError(t, h.SetSectionExpiration(bg, sec("a"), Never))
			e.clock.Advance(time.Hour)
			require.Equal(t, "x", readAll(t, h, "a"))
			return nil
		}, nil},
	})
}

// --- 4.6 read ---

func TestSpecRead(t *testing.T) {
	setup := func(e *env) Checkpoint {
		a := attrs(4)
		a.MaxSectionSize = 8
		h := e.create("c", a)
		_, err := h.CreateSection(bg, sec("a"), Never, []byte("abcdef"))
		require.NoError(e.t, err)
		_, err = h.CreateSection(bg, sec("b"), Never, []byte("xy"))
		require.NoError(e.t, err)
		return h
	}
	runRows(t, []row{
		{"no elements gives INVALID_PARAMETER", func(t *testing.T, e *env) error {
			return setup(e).Read(bg, nil)
		}, ErrInvalidParameter},
		{"dataSize above maxSectionSize gives INVALID_PARAMETER with the index", func(t *testing.T, e *env) error {
			err := setup(e).Read(bg, []ReadElement{{SectionID: sec("a"), Buffer: make([]byte, 2)}, {SectionID: sec("a"), Buffer: make([]byte, 9)}})
			require.Equal(t, 1, elemIndex(t, err))
			return err
		}, ErrInvalidParameter},
		{"dataOffset above maxSectionSize gives INVALID_PARAMETER", func(t *testing.T, e *env) error {
			return setup(e).Read(bg, []ReadElement{{SectionID: sec("a"), Offset: 9, Buffer: make([]byte, 1)}})
		}, ErrInvalidParameter},
		{"a negative offset gives INVALID_PARAMETER", func(t *testing.T, e *env) error {
			return setup(e).Read(bg, []ReadElement{{SectionID: sec("a"), Offset: -1, Buffer: make([]byte, 1)}})
		}, ErrInvalidParameter},
		{"an unknown section gives NOT_EXIST with its index, and nothing is copied", func(t *testing.T, e *env) error {
			first := []byte("----")
			els := []ReadElement{{SectionID: sec("a"), Buffer: first}, {SectionID: sec("nope"), Buffer: make([]byte, 1)}}
			err := setup(e).Read(bg, els)
			require.Equal(t, 1, elemIndex(t, err))
			require.Equal(t, "----", string(first))
			require.Zero(t, els[0].ReadSize)
			return err
		}, ErrNotExist},
		{"an offset past the end reads 0 bytes", func(t *testing.T, e *env) error {
			els := []ReadElement{{SectionID: sec("b"), Offset: 5, Buffer: make([]byte, 2)}}
			require.NoError(t, setup(e).Read(bg, els))
			require.Zero(t, els[0].ReadSize)
			return nil
		}, nil},
		{"a read past the end is truncated", func(t *testing.T, e *env) error {
			els := []ReadElement{{SectionID: sec("a"), Offset: 4, Buffer: make([]byte, 4)}, {SectionID: sec("b"), Buffer: make([]byte, 8)}}
			require.NoError(t, setup(e).Read(bg, els))
			require.Equal(t, 2, els[0].ReadSize)
			require.Equal(t, "ef", string(els[0].Buffer[:2]))
			require.Equal(t, 2, els[1].ReadSize)
			require.Equal(t, "xy", string(els[1].Buffer[:2]))
			return nil
		}, nil},
		{"a read inside the section reads dataSize bytes", func(t *testing.T, e *env) error {
			els := []ReadElement{{SectionID: sec("a"), Offset: 1, Buffer: make([]byte, 3)}}
			require.NoError(t, setup(e).Read(bg, els))
			require.Equal(t, 3, els[0].ReadSize)
			require.Equal(t, "bcd", string(els[0].Buffer))
			return nil
		}, nil},
		{"no buffer returns the whole section from the offset", func(t *testing.T, e *env) error {
			els := []ReadElement{{SectionID: sec("a"), Offset: 2}, {SectionID: sec("b")}}
			require.NoError(t, setup(e).Read(bg, els))
			require.Equal(t, "cdef", string(els[0].Buffer))
			require.Equal(t, 4, els[0].ReadSize)
			require.Equal(t, "xy", string(els[1].Buffer))
			return nil
		}, nil},
	})
}

// --- 4.7 write and overwrite ---

func TestSpecWrite(t *testing.T) {
	setup := func(e *env) Checkpoint {
		a := attrs(4)
		a.MaxSectionSize = 8
		h := e.create("c", a)
		_, err := h.CreateSection(bg, sec("a"), Never, []byte("abcdef"))
		require.NoError(e.t, err)
		_, err = h.CreateSection(bg, sec("b"), Never, []byte("xy"))
		require.NoError(e.t, err)
		return h
	}
	runRows(t, []row{
		{"no elements gives INVALID_PARAMETER", func(t *testing.T, e *env) error {
			return setup(e).Write(bg, nil)
		}, ErrInvalidParameter},
		{"offset+size above maxSectionSize gives INVALID_PARAMETER with the index", func(t *testing.T, e *env) error {
			err := setup(e).Write(bg, []WriteElement{{SectionID: sec("a"), Data: []byte("1")}, {SectionID: sec("a"), Offset: 6, Data: []byte("123")}})
			require.Equal(t, 1, elemIndex(t, err))
			return err
		}, ErrInvalidParameter},
		{"dataOffset above maxSectionSize gives INVALID_PARAMETER", func(t *testing.T, e *env) error {
			return setup(e).Write(bg, []WriteElement{{SectionID: sec("a"), Offset: 9}})
		}, ErrInvalidParameter},
		{"a negative offset gives INVALID_PARAMETER", func(t *testing.T, e *env) error {
			return setup(e).Write(bg, []WriteElement{{SectionID: sec("a"), Offset: -1, Data: []byte("1")}})
		}, ErrInvalidParameter},
		{"a missing section gives NOT_EXIST; earlier elements stay written", func(t *testing.T, e *env) error {
			h := setup(e)
			err := h.Write(bg, []WriteElement{{SectionID: sec("a"), Data: []byte("Z")}, {SectionID: sec("nope"), Data: []byte("1")}, {SectionID: sec("b"), Data: []byte("Q")}})
			require.Equal(t, 1, elemIndex(t, err))
			require.Equal(t, "Zbcdef", readAll(t, h, "a"))
			require.Equal(t, "xy", readAll(t, h, "b"))
			return err
		}, ErrNotExist},
		{"a write past the end grows the section and zero-fills the gap", func(t *testing.T, e *env) error {
			h := setup(e)
			require.NoError(t, h.Write(bg, []WriteElement{{SectionID: sec("b"), Offset: 5, Data: []byte("zz")}}))
			require.Equal(t, "xy\x00\x00\x00zz", readAll(t, h, "b"))
			return nil
		}, nil},
		{"a write inside the section writes in place", func(t *testing.T, e *env) error {
			h := setup(e)
			require.NoError(t, h.Write(bg, []WriteElement{{SectionID: sec("a"), Offset: 2, Data: []byte("ZZ")}}))
			require.Equal(t, "abZZef", readAll(t, h, "a"))
			return nil
		}, nil},
		{"elements apply in order", func(t *testing.T, e *env) error {
			h := setup(e)
			require.NoError(t, h.Write(bg, []WriteElement{
				{SectionID: sec("a"), Offset: 0, Data: []byte("1111")},
				{SectionID: sec("b"), Offset: 0, Data: []byte("9")},
				{SectionID: sec("a"), Offset: 2, Data: []byte("22")},
			}))
			require.Equal(t, "1122ef", readAll(t, h, "a"))
			require.Equal(t, "9y", readAll(t, h, "b"))
			return nil
		}, nil},
		{"checkpointSize is never enforced", func(t *testing.T, e *env) error {
			a := attrs(4)
			a.CheckpointSize = 4
			h := e.create("c", a)
			_, err := h.CreateSection(bg, sec("a"), Never, nil)
			require.NoError(t, err)
			return h.Write(bg, []WriteElement{{SectionID: sec("a"), Data: make([]byte, 100)}})
		}, nil},
	})
}

func TestSpecOverwrite(t *testing.T) {
	setup := func(e *env) Checkpoint {
		a := attrs(4)
		a.MaxSectionSize = 8
		h := e.create("c", a)
		_, err := h.CreateSection(bg, sec("a"), Never, []byte("abcdef"))
		require.NoError(e.t, err)
		return h
	}
	runRows(t, []row{
		{"no data gives INVALID_PARAMETER", func(t *testing.T, e *env) error {
			return setup(e).Overwrite(bg, sec("a"), nil)
		}, ErrInvalidParameter},
		{"data above maxSectionSize gives INVALID_PARAMETER", func(t *testing.T, e *env) error {
			return setup(e).Overwrite(bg, sec("a"), []byte("123456789"))
		}, ErrInvalidParameter},
		{"a missing section gives NOT_EXIST", func(t *testing.T, e *env) error {
			return setup(e).Overwrite(bg, sec("nope"), []byte("1"))
		}, ErrNotExist},
		{"overwrite replaces the content and its size", func(t *testing.T, e *env) error {
			h := setup(e)
			require.NoError(t, h.Overwrite(bg, sec("a"), []byte("xy")))
			require.Equal(t, "xy", readAll(t, h, "a"))
			return nil
		}, nil},
		{"overwrite sets lastUpdate in millisecond steps", func(t *testing.T, e *env) error {
			h := setup(e)
			e.clock.Advance(1500*time.Microsecond + 7)
			require.NoError(t, h.Overwrite(bg, sec("a"), []byte("xy")))
			it, err := h.Sections(bg, SectionsAny, time.Time{})
			require.NoError(t, err)
			d, err := it.Next()
			require.NoError(t, err)
			require.Equal(t, t0.Add(time.Millisecond), d.LastUpdate.UTC())
			return nil
		}, nil},
	})
}

// --- 4.8 iteration ---

func TestSpecIteration(t *testing.T) {
	setup := func(e *env) Checkpoint {
		h := e.create("c", attrs(8))
		for _, s := range []struct {
			id  string
			exp time.Time
		}{{"forever", Never}, {"soon", t0.Add(10 * time.Second)}, {"later", t0.Add(20 * time.Second)}} {
			_, err := h.CreateSection(bg, sec(s.id), s.exp, []byte(s.id))
			require.NoError(e.t, err)
		}
		return h
	}
	ids := func(t *testing.T, h Checkpoint, f SectionFilter, at time.Time) []string {
		it, err := h.Sections(bg, f, at)
		require.NoError(t, err)
		var out []string
		for {
			d, err := it.Next()
			if errors.Is(err, ErrNoSections) {
				break
			}
			require.NoError(t, err)
			out = append(out, string(d.ID))
		}
		return out
	}
	runRows(t, []row{
		{"a filter above 5 gives INVALID_PARAMETER", func(t *testing.T, e *env) error {
			_, err := setup(e).Sections(bg, 6, time.Time{})
			return err
		}, ErrInvalidParameter},
		{"filter 0 gives INVALID_PARAMETER", func(t *testing.T, e *env) error {
			_, err := setup(e).Sections(bg, 0, time.Time{})
			return err
		}, ErrInvalidParameter},
		{"FOREVER chooses sections that never expire", func(t *testing.T, e *env) error {
			require.Equal(t, []string{"forever"}, ids(t, setup(e), SectionsForever, time.Time{}))
			return nil
		}, nil},
		{"LEQ_EXPIRATION_TIME chooses expirations at or before the time", func(t *testing.T, e *env) error {
			require.Equal(t, []string{"soon"}, ids(t, setup(e), SectionsExpiringNoLaterThan, t0.Add(10*time.Second)))
			return nil
		}, nil},
		{"GEQ_EXPIRATION_TIME chooses expirations at or after the time", func(t *testing.T, e *env) error {
			require.Equal(t, []string{"forever", "later"}, ids(t, setup(e), SectionsExpiringNoEarlierThan, t0.Add(20*time.Second)))
			return nil
		}, nil},
		{"CORRUPTED chooses nothing: sections are never corrupted", func(t *testing.T, e *env) error {
			require.Empty(t, ids(t, setup(e), SectionsCorrupted, time.Time{}))
			return nil
		}, nil},
		{"ANY chooses every section", func(t *testing.T, e *env) error {
			require.Equal(t, []string{"forever", "later", "soon"}, ids(t, setup(e), SectionsAny, time.Time{}))
			return nil
		}, nil},
		{"an empty checkpoint iterates to NO_SECTIONS at once", func(t *testing.T, e *env) error {
			it, err := e.create("c", attrs(4)).Sections(bg, SectionsAny, time.Time{})
			require.NoError(t, err)
			_, err = it.Next()
			return err
		}, ErrNoSections},
		{"the end gives NO_SECTIONS again and again", func(t *testing.T, e *env) error {
			it, err := setup(e).Sections(bg, SectionsForever, time.Time{})
			require.NoError(t, err)
			_, err = it.Next()
			require.NoError(t, err)
			for i := 0; i < 3; i++ {
				_, err = it.Next()
				require.ErrorIs(t, err, ErrNoSections)
			}
			return err
		}, ErrNoSections},
		{"the iteration is a snapshot: deleted sections are skipped, new ones not returned", func(t *testing.T, e *env) error {
			h := setup(e)
			it, err := h.Sections(bg, SectionsAny, time.Time{})
			require.NoError(t, err)
			require.NoError(t, h.DeleteSection(bg, sec("later")))
			_, err = h.CreateSection(bg, sec("aaa-new"), Never, nil)
			require.NoError(t, err)
			var got []string
			for d, err := it.Next(); err == nil; d, err = it.Next() {
				got = append(got, string(d.ID))
			}
			require.Equal(t, []string{"forever", "soon"}, got)
			return nil
		}, nil},
		{"a descriptor gives id, expiration, size, state and lastUpdate", func(t *testing.T, e *env) error {
			h := setup(e)
			it, err := h.Sections(bg, SectionsExpiringNoLaterThan, t0.Add(10*time.Second))
			require.NoError(t, err)
			d, err := it.Next()
			require.NoError(t, err)
			require.Equal(t, "soon", string(d.ID))
			require.Equal(t, t0.Add(10*time.Second), d.Expiration.UTC())
			require.Equal(t, uint64(4), d.Size)
			require.Equal(t, SectionValid, d.State)
			require.Equal(t, t0, d.LastUpdate.UTC())
			return nil
		}, nil},
		{"Next after Close gives INVALID_HANDLE", func(t *testing.T, e *env) error {
			it, err := setup(e).Sections(bg, SectionsAny, time.Time{})
			require.NoError(t, err)
			require.NoError(t, it.Close())
			require.ErrorIs(t, it.Close(), ErrBadHandle)
			_, err = it.Next()
			return err
		}, ErrBadHandle},
		{"Next after the checkpoint handle is closed gives INVALID_HANDLE", func(t *testing.T, e *env) error {
			h := setup(e)
			it, err := h.Sections(bg, SectionsAny, time.Time{})
			require.NoError(t, err)
			require.NoError(t, h.Close())
			_, err = it.Next()
			return err
		}, ErrBadHandle},
	})
}

// --- 4.11 collocated, active replica, synchronize ---

func TestSpecCollocated(t *testing.T) {
	collocated := func(e *env) Checkpoint {
		a := attrs(4)
		a.Flags = Collocated | WriteActiveReplicaWeak
		return e.create("c", a)
	}
	dataCalls := map[string]func(h Checkpoint) error{
		"SectionCreate": func(h Checkpoint) error { _, err := h.CreateSection(bg, sec("s"), Never, nil); return err },
		"SectionDelete": func(h Checkpoint) error { return h.DeleteSection(bg, sec("s")) },
		"ExpirationSet": func(h Checkpoint) error { return h.SetSectionExpiration(bg, sec("s"), Never) },
		"Write":         func(h Checkpoint) error { return h.Write(bg, []WriteElement{{SectionID: sec("s")}}) },
		"Overwrite":     func(h Checkpoint) error { return h.Overwrite(bg, sec("s"), []byte("x")) },
		"Read":          func(h Checkpoint) error { return h.Read(bg, []ReadElement{{SectionID: sec("s")}}) },
		"Status":        func(h Checkpoint) error { _, err := h.Status(bg); return err },
		"Iteration": func(h Checkpoint) error {
			_, err := h.Sections(bg, SectionsAny, time.Time{})
			return err
		},
		"Synchronize": func(h Checkpoint) error { return h.Synchronize(bg) },
	}
	var rows []row
	for name, call := range dataCalls {
		rows = append(rows, row{name + " before ActiveReplicaSet gives NOT_EXIST", func(t *testing.T, e *env) error {
			return call(collocated(e))
		}, ErrNotExist})
	}
	rows = append(rows,
		row{"after ActiveReplicaSet data calls work", func(t *testing.T, e *env) error {
			h := collocated(e)
			require.NoError(t, h.SetActiveReplica(bg))
			_, err := h.CreateSection(bg, sec("s"), Never, []byte("1"))
			require.NoError(t, err)
			require.Equal(t, "1", readAll(t, h, "s"))
			return h.Synchronize(bg)
		}, nil},
		row{"the active replica survives a restart", func(t *testing.T, e *env) error {
			h := collocated(e)
			require.NoError(t, h.SetActiveReplica(bg))
			e.restart()
			h, err := e.Open(bg, "c", nil, OpenRead)
			require.NoError(t, err)
			_, err = h.Status(bg)
			return err
		}, nil},
		row{"COLLOCATED with WR_ALL_REPLICAS is not collocated: no ActiveReplicaSet needed", func(t *testing.T, e *env) error {
			a := attrs(4)
			a.Flags = Collocated | WriteAllReplicas
			_, err := e.create("c", a).CreateSection(bg, sec("s"), Never, nil)
			return err
		}, nil},
		row{"ActiveReplicaSet on a non-collocated checkpoint gives BAD_OPERATION", func(t *testing.T, e *env) error {
			return e.create("c", attrs(4)).SetActiveReplica(bg)
		}, ErrBadOperation},
		row{"ActiveReplicaSet without WRITE or CREATE gives OP_NOT_PERMITTED", func(t *testing.T, e *env) error {
			collocated(e)
			h, err := e.Open(bg, "c", nil, OpenRead)
			require.NoError(t, err)
			return h.SetActiveReplica(bg)
		}, ErrNotPermitted},
		row{"Synchronize of a WR_ALL_REPLICAS checkpoint gives BAD_OPERATION", func(t *testing.T, e *env) error {
			return e.create("c", attrs(4)).Synchronize(bg)
		}, ErrBadOperation},
		row{"Synchronize of an asynchronous checkpoint succeeds", func(t *testing.T, e *env) error {
			a := attrs(4)
			a.Flags = WriteActiveReplica
			return e.create("c", a).Synchronize(bg)
		}, nil},
		row{"Synchronize with an expired timeout gives TIMEOUT", func(t *testing.T, e *env) error {
			a := attrs(4)
			a.Flags = WriteActiveReplica
			h := e.create("c", a)
			ctx, cancel := context.WithTimeout(bg, -time.Second)
			defer cancel()
			return h.Synchronize(ctx)
		}, ErrTimeout},
		row{"WR_ALL_SAFE and WR_ACTIVE_REPLICA_WEAK are accepted", func(t *testing.T, e *env) error {
			a := attrs(4)
			a.Flags = WriteAllSafe | WriteActiveReplicaWeak
			h := e.create("c", a)
			_, err := h.CreateSection(bg, sec("s"), Never, []byte("x"))
			require.NoError(t, err)
			return h.Synchronize(bg)
		}, nil},
	)
	runRows(t, rows)
}
