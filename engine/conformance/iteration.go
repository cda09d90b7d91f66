package conformance

// Rows of spec section 4.8: iteration over sections.

import (
	"errors"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/clckpt/libclckpt/ckpt"
)

func rowsIteration() []Row {
	setup := func(e *Env) ckpt.Checkpoint {
		h := e.create("c", attrs(8))
		for _, s := range []struct {
			id  string
			exp time.Time
		}{{"forever", ckpt.Never}, {"soon", T0.Add(10 * time.Second)}, {"later", T0.Add(20 * time.Second)}} {
			_, err := h.CreateSection(bg, sec(s.id), s.exp, []byte(s.id))
			require.NoError(e.t, err)
		}
		return h
	}
	ids := func(t T, h ckpt.Checkpoint, f ckpt.SectionFilter, at time.Time) []string {
		it, err := h.Sections(bg, f, at)
		require.NoError(t, err)
		var out []string
		for {
			d, err := it.Next()
			if errors.Is(err, ckpt.ErrNoSections) {
				break
			}
			require.NoError(t, err)
			out = append(out, string(d.ID))
		}
		return out
	}
	return []Row{
		{"a filter above 5 gives INVALID_PARAMETER", func(t T, e *Env) error {
			_, err := setup(e).Sections(bg, 6, time.Time{})
			return err
		}, ckpt.ErrInvalidParameter},
		{"filter 0 gives INVALID_PARAMETER", func(t T, e *Env) error {
			_, err := setup(e).Sections(bg, 0, time.Time{})
			return err
		}, ckpt.ErrInvalidParameter},
		{"FOREVER chooses sections that never expire", func(t T, e *Env) error {
			require.Equal(t, []string{"forever"}, ids(t, setup(e), ckpt.SectionsForever, time.Time{}))
			return nil
		}, nil},
		{"LEQ_EXPIRATION_TIME chooses expirations at or before the time", func(t T, e *Env) error {
			require.Equal(t, []string{"soon"}, ids(t, setup(e), ckpt.SectionsExpiringNoLaterThan, T0.Add(10*time.Second)))
			return nil
		}, nil},
		{"GEQ_EXPIRATION_TIME chooses expirations at or after the time", func(t T, e *Env) error {
			require.Equal(t, []string{"forever", "later"}, ids(t, setup(e), ckpt.SectionsExpiringNoEarlierThan, T0.Add(20*time.Second)))
			return nil
		}, nil},
		{"CORRUPTED chooses nothing: sections are never corrupted", func(t T, e *Env) error {
			require.Empty(t, ids(t, setup(e), ckpt.SectionsCorrupted, time.Time{}))
			return nil
		}, nil},
		{"ANY chooses every section", func(t T, e *Env) error {
			require.Equal(t, []string{"forever", "later", "soon"}, ids(t, setup(e), ckpt.SectionsAny, time.Time{}))
			return nil
		}, nil},
		{"an empty checkpoint iterates to NO_SECTIONS at once", func(t T, e *Env) error {
			it, err := e.create("c", attrs(4)).Sections(bg, ckpt.SectionsAny, time.Time{})
			require.NoError(t, err)
			_, err = it.Next()
			return err
		}, ckpt.ErrNoSections},
		{"the end gives NO_SECTIONS again and again", func(t T, e *Env) error {
			it, err := setup(e).Sections(bg, ckpt.SectionsForever, time.Time{})
			require.NoError(t, err)
			_, err = it.Next()
			require.NoError(t, err)
			for i := 0; i < 3; i++ {
				_, err = it.Next()
				require.ErrorIs(t, err, ckpt.ErrNoSections)
			}
			return err
		}, ckpt.ErrNoSections},
		{"the iteration is a snapshot: deleted sections are skipped, new ones not returned", func(t T, e *Env) error {
			h := setup(e)
			it, err := h.Sections(bg, ckpt.SectionsAny, time.Time{})
			require.NoError(t, err)
			require.NoError(t, h.DeleteSection(bg, sec("later")))
			_, err = h.CreateSection(bg, sec("aaa-new"), ckpt.Never, nil)
			require.NoError(t, err)
			var got []string
			for d, err := it.Next(); err == nil; d, err = it.Next() {
				got = append(got, string(d.ID))
			}
			require.Equal(t, []string{"forever", "soon"}, got)
			return nil
		}, nil},
		{"a descriptor gives id, expiration, size, state and lastUpdate", func(t T, e *Env) error {
			h := setup(e)
			it, err := h.Sections(bg, ckpt.SectionsExpiringNoLaterThan, T0.Add(10*time.Second))
			require.NoError(t, err)
			d, err := it.Next()
			require.NoError(t, err)
			require.Equal(t, "soon", string(d.ID))
			require.Equal(t, T0.Add(10*time.Second), d.Expiration.UTC())
			require.Equal(t, uint64(4), d.Size)
			require.Equal(t, ckpt.SectionValid, d.State)
			require.Equal(t, T0, d.LastUpdate.UTC())
			return nil
		}, nil},
		{"Next after Close gives INVALID_HANDLE", func(t T, e *Env) error {
			it, err := setup(e).Sections(bg, ckpt.SectionsAny, time.Time{})
			require.NoError(t, err)
			require.NoError(t, it.Close())
			require.ErrorIs(t, it.Close(), ckpt.ErrBadHandle)
			_, err = it.Next()
			return err
		}, ckpt.ErrBadHandle},
		{"Next after the checkpoint handle is closed gives INVALID_HANDLE", func(t T, e *Env) error {
			h := setup(e)
			it, err := h.Sections(bg, ckpt.SectionsAny, time.Time{})
			require.NoError(t, err)
			require.NoError(t, h.Close())
			_, err = it.Next()
			return err
		}, ckpt.ErrBadHandle},
	}
}
