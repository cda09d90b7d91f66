package engine

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestSmoke(t *testing.T) {
	e := newEnv(t)
	h := e.create("a", attrs(4))
	_, err := h.CreateSection(bg, []byte("s1"), Never, []byte("hello"))
	require.NoError(t, err)
	require.NoError(t, h.Overwrite(bg, []byte("s1"), []byte("world!")))
	require.Equal(t, "world!", readAll(t, h, "s1"))
	require.NoError(t, h.Write(bg, []WriteElement{{SectionID: []byte("s1"), Offset: 8, Data: []byte("x")}}))
	require.Equal(t, "world!\x00\x00x", readAll(t, h, "s1"))
	e.restart()
	h2, err := e.Open(bg, "a", nil, OpenRead)
	require.NoError(t, err)
	require.Equal(t, "world!\x00\x00x", readAll(t, h2, "s1"))
}

// TestIterationDoesNotSkipASectionItCouldNotDescribe: when a section cannot be described for now
// (the active replica is changing), Next returns the error and the section on the next call; only
// a section that no longer exists is skipped.
func TestIterationDoesNotSkipASectionItCouldNotDescribe(t *testing.T) {
	failOnce := true
	describe := func(id []byte) (SectionDescriptor, bool, error) {
		switch {
		case string(id) == "b" && failOnce:
			failOnce = false
			return SectionDescriptor{}, false, ErrTryAgain
		case string(id) == "gone":
			return SectionDescriptor{}, false, nil
		}
		return SectionDescriptor{ID: id}, true, nil
	}
	it := NewIterator([][]byte{[]byte("a"), []byte("gone"), []byte("b")}, describe, func() error { return nil })
	d, err := it.Next()
	require.NoError(t, err)
	require.Equal(t, "a", string(d.ID))
	_, err = it.Next()
	require.ErrorIs(t, err, ErrTryAgain)
	d, err = it.Next()
	require.NoError(t, err)
	require.Equal(t, "b", string(d.ID))
	_, err = it.Next()
	require.ErrorIs(t, err, ErrNoSections)
}
