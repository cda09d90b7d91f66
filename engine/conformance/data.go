package conformance

// Rows of spec sections 4.6 and 4.7: read, write and overwrite.

import (
	"time"

	"github.com/stretchr/testify/require"

	"github.com/clckpt/libclckpt/ckpt"
)

// twoSections creates checkpoint c (sections up to 8 bytes) with sections a ("abcdef") and b ("xy").
func twoSections(e *Env) ckpt.Checkpoint {
	a := attrs(4)
	a.MaxSectionSize = 8
	h := e.create("c", a)
	_, err := h.CreateSection(bg, sec("a"), ckpt.Never, []byte("abcdef"))
	require.NoError(e.t, err)
	_, err = h.CreateSection(bg, sec("b"), ckpt.Never, []byte("xy"))
	require.NoError(e.t, err)
	return h
}

func rowsRead() []Row {
	setup := twoSections
	return []Row{
		{"no elements gives INVALID_PARAMETER", func(t T, e *Env) error {
			return setup(e).Read(bg, nil)
		}, ckpt.ErrInvalidParameter},
		{"dataSize above maxSectionSize gives INVALID_PARAMETER with the index", func(t T, e *Env) error {
			err := setup(e).Read(bg, []ckpt.ReadElement{{SectionID: sec("a"), Buffer: make([]byte, 2)}, {SectionID: sec("a"), Buffer: make([]byte, 9)}})
			require.Equal(t, 1, elemIndex(t, err))
			return err
		}, ckpt.ErrInvalidParameter},
		{"dataOffset above maxSectionSize gives INVALID_PARAMETER", func(t T, e *Env) error {
			return setup(e).Read(bg, []ckpt.ReadElement{{SectionID: sec("a"), Offset: 9, Buffer: make([]byte, 1)}})
		}, ckpt.ErrInvalidParameter},
		{"a negative offset gives INVALID_PARAMETER", func(t T, e *Env) error {
			return setup(e).Read(bg, []ckpt.ReadElement{{SectionID: sec("a"), Offset: -1, Buffer: make([]byte, 1)}})
		}, ckpt.ErrInvalidParameter},
		{"an unknown section gives NOT_EXIST with its index, and nothing is copied", func(t T, e *Env) error {
			first := []byte("----")
			els := []ckpt.ReadElement{{SectionID: sec("a"), Buffer: first}, {SectionID: sec("nope"), Buffer: make([]byte, 1)}}
			err := setup(e).Read(bg, els)
			require.Equal(t, 1, elemIndex(t, err))
			require.Equal(t, "----", string(first))
			require.Zero(t, els[0].ReadSize)
			return err
		}, ckpt.ErrNotExist},
		{"an offset past the end reads 0 bytes", func(t T, e *Env) error {
			els := []ckpt.ReadElement{{SectionID: sec("b"), Offset: 5, Buffer: make([]byte, 2)}}
			require.NoError(t, setup(e).Read(bg, els))
			require.Zero(t, els[0].ReadSize)
			return nil
		}, nil},
		{"a read past the end is truncated", func(t T, e *Env) error {
			els := []ckpt.ReadElement{{SectionID: sec("a"), Offset: 4, Buffer: make([]byte, 4)}, {SectionID: sec("b"), Buffer: make([]byte, 8)}}
			require.NoError(t, setup(e).Read(bg, els))
			require.Equal(t, 2, els[0].ReadSize)
			require.Equal(t, "ef", string(els[0].Buffer[:2]))
			require.Equal(t, 2, els[1].ReadSize)
			require.Equal(t, "xy", string(els[1].Buffer[:2]))
			return nil
		}, nil},
		{"a read inside the section reads dataSize bytes", func(t T, e *Env) error {
			els := []ckpt.ReadElement{{SectionID: sec("a"), Offset: 1, Buffer: make([]byte, 3)}}
			require.NoError(t, setup(e).Read(bg, els))
			require.Equal(t, 3, els[0].ReadSize)
			require.Equal(t, "bcd", string(els[0].Buffer))
			return nil
		}, nil},
		{"no buffer returns the whole section from the offset", func(t T, e *Env) error {
			els := []ckpt.ReadElement{{SectionID: sec("a"), Offset: 2}, {SectionID: sec("b")}}
			require.NoError(t, setup(e).Read(bg, els))
			require.Equal(t, "cdef", string(els[0].Buffer))
			require.Equal(t, 4, els[0].ReadSize)
			require.Equal(t, "xy", string(els[1].Buffer))
			return nil
		}, nil},
	}
}

func rowsWrite() []Row {
	setup := twoSections
	return []Row{
		{"no elements gives INVALID_PARAMETER", func(t T, e *Env) error {
			return setup(e).Write(bg, nil)
		}, ckpt.ErrInvalidParameter},
		{"offset+size above maxSectionSize gives INVALID_PARAMETER with the index", func(t T, e *Env) error {
			err := setup(e).Write(bg, []ckpt.WriteElement{{SectionID: sec("a"), Data: []byte("1")}, {SectionID: sec("a"), Offset: 6, Data: []byte("123")}})
			require.Equal(t, 1, elemIndex(t, err))
			return err
		}, ckpt.ErrInvalidParameter},
		{"dataOffset above maxSectionSize gives INVALID_PARAMETER", func(t T, e *Env) error {
			return setup(e).Write(bg, []ckpt.WriteElement{{SectionID: sec("a"), Offset: 9}})
		}, ckpt.ErrInvalidParameter},
		{"a negative offset gives INVALID_PARAMETER", func(t T, e *Env) error {
			return setup(e).Write(bg, []ckpt.WriteElement{{SectionID: sec("a"), Offset: -1, Data: []byte("1")}})
		}, ckpt.ErrInvalidParameter},
		{"a missing section gives NOT_EXIST; earlier elements stay written", func(t T, e *Env) error {
			h := setup(e)
			err := h.Write(bg, []ckpt.WriteElement{{SectionID: sec("a"), Data: []byte("Z")}, {SectionID: sec("nope"), Data: []byte("1")}, {SectionID: sec("b"), Data: []byte("Q")}})
			require.Equal(t, 1, elemIndex(t, err))
			require.Equal(t, "Zbcdef", readAll(t, h, "a"))
			require.Equal(t, "xy", readAll(t, h, "b"))
			return err
		}, ckpt.ErrNotExist},
		{"a write past the end grows the section and zero-fills the gap", func(t T, e *Env) error {
			h := setup(e)
			require.NoError(t, h.Write(bg, []ckpt.WriteElement{{SectionID: sec("b"), Offset: 5, Data: []byte("zz")}}))
			require.Equal(t, "xy\x00\x00\x00zz", readAll(t, h, "b"))
			return nil
		}, nil},
		{"a write inside the section writes in place", func(t T, e *Env) error {
			h := setup(e)
			require.NoError(t, h.Write(bg, []ckpt.WriteElement{{SectionID: sec("a"), Offset: 2, Data: []byte("ZZ")}}))
			require.Equal(t, "abZZef", readAll(t, h, "a"))
			return nil
		}, nil},
		{"elements apply in order", func(t T, e *Env) error {
			h := setup(e)
			require.NoError(t, h.Write(bg, []ckpt.WriteElement{
				{SectionID: sec("a"), Offset: 0, Data: []byte("1111")},
				{SectionID: sec("b"), Offset: 0, Data: []byte("9")},
				{SectionID: sec("a"), Offset: 2, Data: []byte("22")},
			}))
			require.Equal(t, "1122ef", readAll(t, h, "a"))
			require.Equal(t, "9y", readAll(t, h, "b"))
			return nil
		}, nil},
		{"checkpointSize is never enforced", func(t T, e *Env) error {
			a := attrs(4)
			a.CheckpointSize = 4
			h := e.create("c", a)
			_, err := h.CreateSection(bg, sec("a"), ckpt.Never, nil)
			require.NoError(t, err)
			return h.Write(bg, []ckpt.WriteElement{{SectionID: sec("a"), Data: make([]byte, 100)}})
		}, nil},
	}
}

func rowsOverwrite() []Row {
	setup := func(e *Env) ckpt.Checkpoint {
		a := attrs(4)
		a.MaxSectionSize = 8
		h := e.create("c", a)
		_, err := h.CreateSection(bg, sec("a"), ckpt.Never, []byte("abcdef"))
		require.NoError(e.t, err)
		return h
	}
	return []Row{
		{"no data gives INVALID_PARAMETER", func(t T, e *Env) error {
			return setup(e).Overwrite(bg, sec("a"), nil)
		}, ckpt.ErrInvalidParameter},
		{"data above maxSectionSize gives INVALID_PARAMETER", func(t T, e *Env) error {
			return setup(e).Overwrite(bg, sec("a"), []byte("123456789"))
		}, ckpt.ErrInvalidParameter},
		{"a missing section gives NOT_EXIST", func(t T, e *Env) error {
			return setup(e).Overwrite(bg, sec("nope"), []byte("1"))
		}, ckpt.ErrNotExist},
		{"overwrite replaces the content and its size", func(t T, e *Env) error {
			h := setup(e)
			require.NoError(t, h.Overwrite(bg, sec("a"), []byte("xy")))
			require.Equal(t, "xy", readAll(t, h, "a"))
			return nil
		}, nil},
		{"overwrite sets lastUpdate in millisecond steps", func(t T, e *Env) error {
			h := setup(e)
			e.Advance(1500*time.Microsecond + 7)
			require.NoError(t, h.Overwrite(bg, sec("a"), []byte("xy")))
			it, err := h.Sections(bg, ckpt.SectionsAny, time.Time{})
			require.NoError(t, err)
			d, err := it.Next()
			require.NoError(t, err)
			require.Equal(t, T0.Add(time.Millisecond), d.LastUpdate.UTC())
			return nil
		}, nil},
	}
}
