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
