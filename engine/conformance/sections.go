package conformance

// Rows of spec sections 4.3 to 4.5: the default section, section create, delete and expiration.

import (
	"bytes"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/clckpt/libclckpt/ckpt"
)

func rowsDefaultSection() []Row {
	return []Row{
		{"maxSections 1 creates an empty default section, not counted", func(t T, e *Env) error {
			h := e.create("c", attrs(1))
			require.Equal(t, "", readAll(t, h, ""))
			st, err := h.Status(bg)
			require.NoError(t, err)
			require.Zero(t, st.NumberOfSections)
			return nil
		}, nil},
		{"the default section is read, written and overwritten with an empty id", func(t T, e *Env) error {
			h := e.create("c", attrs(1))
			require.NoError(t, h.Overwrite(bg, nil, []byte("hello")))
			require.NoError(t, h.Write(bg, []ckpt.WriteElement{{Offset: 5, Data: []byte(" world")}}))
			require.Equal(t, "hello world", readAll(t, h, ""))
			return nil
		}, nil},
		{"Read of the default id on a multi-section checkpoint gives NULL_POINTER", func(t T, e *Env) error {
			h := e.create("c", attrs(2))
			err := h.Read(bg, []ckpt.ReadElement{{Buffer: make([]byte, 4)}})
			require.Equal(t, 0, elemIndex(t, err))
			return err
		}, ckpt.ErrMissingArgument},
		{"Write of the default id on a multi-section checkpoint gives INVALID_PARAMETER", func(t T, e *Env) error {
			h := e.create("c", attrs(2))
			return h.Write(bg, []ckpt.WriteElement{{Data: []byte("x")}})
		}, ckpt.ErrInvalidParameter},
		{"Overwrite of the default id on a multi-section checkpoint gives INVALID_PARAMETER", func(t T, e *Env) error {
			h := e.create("c", attrs(2))
			return h.Overwrite(bg, nil, []byte("x"))
		}, ckpt.ErrInvalidParameter},
		{"SectionCreate with an explicit id on a maxSections 1 checkpoint gives ALREADY_EXIST", func(t T, e *Env) error {
			h := e.create("c", attrs(1))
			_, err := h.CreateSection(bg, sec("s"), ckpt.Never, nil)
			return err
		}, ckpt.ErrAlreadyExist},
		{"ExpirationTimeSet on a maxSections 1 checkpoint gives INVALID_PARAMETER", func(t T, e *Env) error {
			h := e.create("c", attrs(1))
			return h.SetSectionExpiration(bg, sec("s"), ckpt.Never)
		}, ckpt.ErrInvalidParameter},
		{"iteration over only the default section gives OP_NOT_PERMITTED", func(t T, e *Env) error {
			h := e.create("c", attrs(1))
			_, err := h.Sections(bg, ckpt.SectionsAny, time.Time{})
			return err
		}, ckpt.ErrNotPermitted},
		{"the default section cannot be deleted", func(t T, e *Env) error {
			h := e.create("c", attrs(1))
			return h.DeleteSection(bg, nil)
		}, ckpt.ErrInvalidParameter},
	}
}

// --- 4.4 section create ---

func rowsSectionCreate() []Row {
	limited := func() *ckpt.Attributes {
		return &ckpt.Attributes{Flags: ckpt.WriteAllReplicas, MaxSections: 2, MaxSectionSize: 4, MaxSectionIDSize: 3, Retention: ckpt.RetainForever}
	}
	return []Row{
		{"an id longer than maxSectionIdSize gives INVALID_PARAMETER", func(t T, e *Env) error {
			h := e.create("c", limited())
			_, err := h.CreateSection(bg, sec("abcd"), ckpt.Never, nil)
			return err
		}, ckpt.ErrInvalidParameter},
		{"an id of exactly maxSectionIdSize is accepted", func(t T, e *Env) error {
			h := e.create("c", limited())
			_, err := h.CreateSection(bg, sec("abc"), ckpt.Never, nil)
			return err
		}, nil},
		{"an id longer than MaxSectionIDLength gives INVALID_PARAMETER, whatever maxSectionIdSize", func(t T, e *Env) error {
			a := limited()
			a.MaxSectionIDSize = 1 << 20
			h := e.create("c", a)
			_, err := h.CreateSection(bg, make([]byte, ckpt.MaxSectionIDLength+1), ckpt.Never, nil)
			return err
		}, ckpt.ErrInvalidParameter},
		{"an id of MaxSectionIDLength is stored, and later writes go on", func(t T, e *Env) error {
			a := limited()
			a.MaxSectionIDSize = 1 << 20
			h := e.create("c", a)
			long := bytes.Repeat([]byte{'x'}, ckpt.MaxSectionIDLength)
			_, err := h.CreateSection(bg, long, ckpt.Never, []byte("1"))
			require.NoError(t, err)
			_, err = h.CreateSection(bg, sec("a"), ckpt.Never, []byte("2"))
			require.NoError(t, err)
			require.Equal(t, "2", readAll(t, h, "a"))
			return h.Overwrite(bg, long, []byte("3"))
		}, nil},
		{"initial data above maxSectionSize gives INVALID_PARAMETER", func(t T, e *Env) error {
			h := e.create("c", limited())
			_, err := h.CreateSection(bg, sec("a"), ckpt.Never, []byte("12345"))
			return err
		}, ckpt.ErrInvalidParameter},
		{"an existing id gives ALREADY_EXIST", func(t T, e *Env) error {
			h := e.create("c", limited())
			_, err := h.CreateSection(bg, sec("a"), ckpt.Never, []byte("1"))
			require.NoError(t, err)
			_, err = h.CreateSection(bg, sec("a"), ckpt.Never, []byte("2"))
			require.Equal(t, "1", readAll(t, h, "a"))
			return err
		}, ckpt.ErrAlreadyExist},
		{"a section beyond maxSections gives NO_SPACE", func(t T, e *Env) error {
			h := e.create("c", limited())
			for _, id := range []string{"a", "b"} {
				_, err := h.CreateSection(bg, sec(id), ckpt.Never, nil)
				require.NoError(t, err)
			}
			_, err := h.CreateSection(bg, sec("c"), ckpt.Never, nil)
			return err
		}, ckpt.ErrNoSpace},
		{"an expiration in an earlier second gives INVALID_PARAMETER", func(t T, e *Env) error {
			h := e.create("c", attrs(4))
			_, err := h.CreateSection(bg, sec("a"), T0.Add(-time.Second), nil)
			return err
		}, ckpt.ErrInvalidParameter},
		{"an expiration earlier in the current second is accepted", func(t T, e *Env) error {
			e.Advance(500 * time.Millisecond)
			h := e.create("c", attrs(4))
			_, err := h.CreateSection(bg, sec("a"), T0.Add(100*time.Millisecond), nil)
			return err
		}, nil},
		{"generated ids are generatedSection0, 1, ... with their NUL", func(t T, e *Env) error {
			h := e.create("c", attrs(4))
			for _, want := range []string{"generatedSection0\x00", "generatedSection1\x00"} {
				id, err := h.CreateSection(bg, nil, ckpt.Never, []byte("g"))
				require.NoError(t, err)
				require.Equal(t, want, string(id))
				require.Equal(t, "g", readAll(t, h, want))
			}
			return nil
		}, nil},
		{"generated ids survive a restart without reuse", func(t T, e *Env) error {
			h := e.create("c", attrs(4))
			_, err := h.CreateSection(bg, nil, ckpt.Never, nil)
			require.NoError(t, err)
			e.Restart()
			h, err = e.Open(bg, "c", nil, ckpt.OpenWrite)
			require.NoError(t, err)
			id, err := h.CreateSection(bg, nil, ckpt.Never, nil)
			require.Equal(t, "generatedSection1\x00", string(id))
			return err
		}, nil},
		{"a generated id works once on a maxSections 1 checkpoint, then NO_SPACE", func(t T, e *Env) error {
			h := e.create("c", attrs(1))
			id, err := h.CreateSection(bg, nil, ckpt.Never, []byte("q"))
			require.NoError(t, err)
			require.Equal(t, "generatedSection0\x00", string(id))
			_, err = h.CreateSection(bg, nil, ckpt.Never, nil)
			return err
		}, ckpt.ErrNoSpace},
		{"ids compare as exact bytes: abc and abc\\0 are two sections", func(t T, e *Env) error {
			h := e.create("c", attrs(4))
			_, err := h.CreateSection(bg, sec("abc"), ckpt.Never, []byte("1"))
			require.NoError(t, err)
			_, err = h.CreateSection(bg, sec("abc\x00"), ckpt.Never, []byte("2"))
			require.NoError(t, err)
			require.Equal(t, "1", readAll(t, h, "abc"))
			require.Equal(t, "2", readAll(t, h, "abc\x00"))
			return nil
		}, nil},
		{"no initial data makes an empty section", func(t T, e *Env) error {
			h := e.create("c", attrs(4))
			_, err := h.CreateSection(bg, sec("e"), ckpt.Never, nil)
			require.NoError(t, err)
			require.Equal(t, "", readAll(t, h, "e"))
			return nil
		}, nil},
	}
}

// --- 4.5 section delete and expiration ---

func rowsSectionDeleteAndExpiration() []Row {
	return []Row{
		{"delete with an empty id gives INVALID_PARAMETER", func(t T, e *Env) error {
			return e.create("c", attrs(4)).DeleteSection(bg, nil)
		}, ckpt.ErrInvalidParameter},
		{"delete of a missing section gives NOT_EXIST", func(t T, e *Env) error {
			return e.create("c", attrs(4)).DeleteSection(bg, sec("nope"))
		}, ckpt.ErrNotExist},
		{"delete removes the section and frees its slot", func(t T, e *Env) error {
			h := e.create("c", attrs(1+1))
			_, err := h.CreateSection(bg, sec("a"), ckpt.Never, nil)
			require.NoError(t, err)
			_, err = h.CreateSection(bg, sec("b"), ckpt.Never, nil)
			require.NoError(t, err)
			require.NoError(t, h.DeleteSection(bg, sec("a")))
			require.ErrorIs(t, h.Read(bg, []ckpt.ReadElement{{SectionID: sec("a")}}), ckpt.ErrNotExist)
			_, err = h.CreateSection(bg, sec("c"), ckpt.Never, nil)
			return err
		}, nil},
		{"expiration set with an empty id gives INVALID_PARAMETER", func(t T, e *Env) error {
			return e.create("c", attrs(4)).SetSectionExpiration(bg, nil, ckpt.Never)
		}, ckpt.ErrInvalidParameter},
		{"expiration set on a missing section gives NOT_EXIST", func(t T, e *Env) error {
			return e.create("c", attrs(4)).SetSectionExpiration(bg, sec("nope"), ckpt.Never)
		}, ckpt.ErrNotExist},
		{"expiration set in the past gives INVALID_PARAMETER", func(t T, e *Env) error {
			h := e.create("c", attrs(4))
			_, err := h.CreateSection(bg, sec("a"), ckpt.Never, nil)
			require.NoError(t, err)
			return h.SetSectionExpiration(bg, sec("a"), T0.Add(-time.Second))
		}, ckpt.ErrInvalidParameter},
		{"an expired section vanishes by itself", func(t T, e *Env) error {
			h := e.create("c", attrs(4))
			_, err := h.CreateSection(bg, sec("a"), T0.Add(10*time.Second), []byte("x"))
			require.NoError(t, err)
			e.Advance(9 * time.Second)
			require.Equal(t, "x", readAll(t, h, "a"))
			e.Advance(time.Second)
			return h.Read(bg, []ckpt.ReadElement{{SectionID: sec("a")}})
		}, ckpt.ErrNotExist},
		{"a new expiration replaces the old one", func(t T, e *Env) error {
			h := e.create("c", attrs(4))
			_, err := h.CreateSection(bg, sec("a"), T0.Add(10*time.Second), []byte("x"))
			require.NoError(t, err)
			require.NoError(t, h.SetSectionExpiration(bg, sec("a"), T0.Add(20*time.Second)))
			e.Advance(15 * time.Second)
			require.Equal(t, "x", readAll(t, h, "a"))
			e.Advance(5 * time.Second)
			return h.Read(bg, []ckpt.ReadElement{{SectionID: sec("a")}})
		}, ckpt.ErrNotExist},
		{"expiration CL_TIME_END cancels the expiration", func(t T, e *Env) error {
			h := e.create("c", attrs(4))
			_, err := h.CreateSection(bg, sec("a"), T0.Add(10*time.Second), []byte("x"))
			require.NoError(t, err)
			require.NoError(t, h.SetSectionExpiration(bg, sec("a"), ckpt.Never))
			e.Advance(time.Hour)
			require.Equal(t, "x", readAll(t, h, "a"))
			return nil
		}, nil},
	}
}
