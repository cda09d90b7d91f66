package replication

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/clckpt/libclckpt/engine"
	"github.com/clckpt/libclckpt/replication/directory"
)

// TestGatheringWhileTheMembersWork: gathering the members' metrics (what a scrape and a stats line
// do) runs beside writes, a follower's crash and its return with a copy, without a race (go test
// -race) and without an error; the app's counts then match the calls it made.
func TestGatheringWhileTheMembersWork(t *testing.T) {
	cl, app, h, _ := serversAndApp(t)
	var stop atomic.Bool
	var wg sync.WaitGroup
	members := []*Member{app, cl.members["s1"], cl.members["s2"]}
	for _, m := range members {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !stop.Load() {
				_, err := m.Metrics().Gatherer().Gather()
				if err != nil {
					t.Error(err)
					return
				}
				_ = m.Metrics().LogAttrs()
				time.Sleep(time.Millisecond) // a scraper that never pauses would starve the members
			}
		}()
	}
	active := cl.activeOf(app, "ck")
	follower := "s1"
	if active == "s1" {
		follower = "s2"
	}
	for i := 0; i < 8; i++ {
		_, err := h.CreateSection(bg, []byte(fmt.Sprint(i)), engine.Never, []byte("start"))
		require.NoError(t, err)
	}
	cl.crash(follower)
	for i := 0; i < 100; i++ {
		require.NoError(t, h.Overwrite(bg, []byte(fmt.Sprint(i%8)), []byte(fmt.Sprintf("value %d", i))))
	}
	back := cl.join(follower, directory.KindServer)
	wg.Add(1)
	go func() {
		defer wg.Done()
		for !stop.Load() {
			_, _ = back.Metrics().Gatherer().Gather()
			time.Sleep(time.Millisecond)
		}
	}()
	for i := 0; i < 100; i++ {
		require.NoError(t, h.Overwrite(bg, []byte(fmt.Sprint(i%8)), []byte(fmt.Sprintf("again %d", i))))
	}
	stop.Store(true)
	wg.Wait()
	require.Equal(t, 8.0, metricSum(t, app, "clckpt_operations_total", "op", "create_section", "result", "ok"))
	require.Equal(t, 200.0, metricSum(t, app, "clckpt_operations_total", "op", "overwrite", "result", "ok"))
	// Every overwrite ran on an active for the app (a retried one, after a change of active, may have
	// been answered twice).
	served := metricSum(t, cl.members["s1"], "clckpt_served_calls_total", "op", "overwrite", "result", "ok") +
		metricSum(t, cl.members["s2"], "clckpt_served_calls_total", "op", "overwrite", "result", "ok")
	require.GreaterOrEqual(t, served, 200.0)
}
