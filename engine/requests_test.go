package engine

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestTheRequestLogKeepsTheLastRequestsOnly(t *testing.T) {
	var l requestLog
	for id := uint64(1); id <= 10; id++ {
		l.put(id, requestOutcome{lsn: id})
	}
	require.Len(t, l.order, 10, "a replica written a little remembers a little")
	o, ok := l.get(7)
	require.True(t, ok)
	require.Equal(t, uint64(7), o.lsn)
	_, ok = l.get(0)
	require.False(t, ok, "request 0 is never remembered")

	total := uint64(rememberedRequests + 100)
	for id := uint64(11); id <= total; id++ {
		l.put(id, requestOutcome{lsn: id})
	}
	require.Len(t, l.order, rememberedRequests)
	require.Len(t, l.byID, rememberedRequests)
	_, ok = l.get(100)
	require.False(t, ok, "the oldest are forgotten")
	o, ok = l.get(101)
	require.True(t, ok)
	require.Equal(t, uint64(101), o.lsn)

	l.put(total, requestOutcome{lsn: total, written: 3}) // a repeat replaces, forgets nothing
	_, ok = l.get(101)
	require.True(t, ok)

	// A snapshot lists them oldest first, up to its LSN.
	listed := l.upTo(total - 1)
	require.Len(t, listed, rememberedRequests-1)
	require.Equal(t, uint64(101), listed[0].ID)
	require.Equal(t, total-1, listed[len(listed)-1].ID)
	for i := 1; i < len(listed); i++ {
		require.Less(t, listed[i-1].LSN, listed[i].LSN)
	}
}
