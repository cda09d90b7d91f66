package handles

import (
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestHandlesAreNonZeroBelow2To32AndCarryTheirKind(t *testing.T) {
	svc := New[string](Service)
	ck := New[string](Checkpoint)
	h, err := svc.Add("a")
	require.NoError(t, err)
	require.NotZero(t, h)
	require.Less(t, h, uint64(1)<<32)
	v, ok := svc.Get(h)
	require.True(t, ok)
	require.Equal(t, "a", v)
	_, ok = ck.Get(h) // a service handle is not a checkpoint handle
	require.False(t, ok)
	for _, bad := range []uint64{0, 1, h | 1<<32, ^uint64(0)} {
		_, ok := svc.Get(bad)
		require.False(t, ok, "%#x", bad)
	}
}

func TestRemovedHandlesAreStaleAndNotReused(t *testing.T) {
	tab := New[int](Iterator)
	h1, _ := tab.Add(1)
	v, ok := tab.Remove(h1)
	require.True(t, ok)
	require.Equal(t, 1, v)
	_, ok = tab.Remove(h1)
	require.False(t, ok)
	_, ok = tab.Get(h1)
	require.False(t, ok)
	h2, _ := tab.Add(2)
	require.NotEqual(t, h1, h2)
	require.Equal(t, 1, tab.Len())
}

func TestWrapAroundSkipsLiveHandles(t *testing.T) {
	tab := New[int](Checkpoint)
	h1, _ := tab.Add(1)
	tab.last = indexMask - 1 // pretend 2^30 handles were issued since
	h2, _ := tab.Add(2)
	h3, _ := tab.Add(3) // wraps: index 1 is still h1's
	require.Equal(t, uint64(2)<<30|indexMask, h2)
	require.Equal(t, uint64(2)<<30|2, h3)
	v, _ := tab.Get(h1)
	require.Equal(t, 1, v)
}

func TestConcurrentUse(t *testing.T) {
	tab := New[int](Service)
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 1000; i++ {
				h, err := tab.Add(i)
				if err != nil {
					t.Error(err)
					return
				}
				if v, ok := tab.Get(h); !ok || v != i {
					t.Error("lost handle")
				}
				tab.Remove(h)
			}
		}()
	}
	wg.Wait()
	require.Zero(t, tab.Len())
}
