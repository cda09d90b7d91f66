package metrics

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/require"

	"github.com/clckpt/libclckpt/engine"
)

// TestStatsLineReadsTheRegistry: the numbers of a stats line are those a gathering of the registry
// gives, and each call lands in the series of its kind, result and write mode.
func TestStatsLineReadsTheRegistry(t *testing.T) {
	s := New("m1", "node", "server")
	s.Observe(func() State {
		return State{Followed: 3, Held: 2, InSync: 1, Active: 1, Lag: map[string]Lag{"a": {Ops: 4, Bytes: 400}, "b": {Ops: 1, Bytes: 10}},
			StoreBytes: 1 << 20, DiskFreeBytes: 5 << 30}
	})
	began := time.Now()
	s.Wrote(OpWrite, ModeOf(engine.WriteAllReplicas), began, 100, nil)
	s.Wrote(OpOverwrite, ModeOf(engine.WriteActiveReplica), began, 7, nil)
	s.Wrote(OpWrite, ModeOf(engine.WriteActiveReplicaWeak), began, 9, fmt.Errorf("%w: later", engine.ErrTryAgain))
	s.Read(began, nil)
	s.Called(OpOpen, fmt.Errorf("%w: no such", engine.ErrNotExist))
	s.Called(OpClose, errors.New("something else"))
	s.Served(OpRead, nil)

	require.Equal(t, 1.0, testutil.ToFloat64(s.ops[OpWrite][resultOK]))
	require.Equal(t, 1.0, testutil.ToFloat64(s.ops[OpWrite][resultTryAgain]))
	require.Equal(t, 1.0, testutil.ToFloat64(s.ops[OpOpen][resultNotExist]))
	require.Equal(t, 1.0, testutil.ToFloat64(s.ops[OpClose][resultOther]))
	require.Equal(t, 107.0, testutil.ToFloat64(s.bytes), "only the successful writes' bytes")
	require.Equal(t, 1, testutil.CollectAndCount(s.reg, "clckpt_read_duration_seconds"))

	got := map[string]int64{}
	for _, a := range s.LogAttrs() {
		got[a.Key] = a.Value.Int64()
	}
	require.Equal(t, map[string]int64{"followed": 3, "replicas": 2, "in_sync": 1, "active": 1, "ops": 6, "served": 1,
		"lag_ops": 5, "store_bytes": 1 << 20, "disk_free": 5 << 30}, got)
}
