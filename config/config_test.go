package config

import (
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestFromEnv(t *testing.T) {
	t.Setenv("CLCKPT_NODE", "node-a")
	t.Setenv("CLCKPT_DATA_DIR", "/data")
	t.Setenv("CLCKPT_SYNC_WRITES", "1")
	t.Setenv("CLCKPT_LOG_LEVEL", "debug")
	t.Setenv("CLCKPT_NATS_URL", "nats://a:4222,nats://b:4222")
	t.Setenv("CLCKPT_PORT", "5000")
	t.Setenv("CLCKPT_LEASE", "2s")
	t.Setenv("CLCKPT_REPLICAS", "2")
	t.Setenv("CLCKPT_STATS_INTERVAL", "30s")
	t.Setenv("CLCKPT_LINK", "0.0.0.0:7000")
	t.Setenv("CLCKPT_MEMTABLE_BYTES", "2097152")
	c, err := FromEnv()
	require.NoError(t, err)
	want := Default()
	want.StatsInterval = 30 * time.Second
	want.Link = "0.0.0.0:7000"
	want.MemTableBytes = 2 << 20
	want.Node, want.DataDir, want.SyncWrites, want.LogLevel = "node-a", "/data", true, slog.LevelDebug
	want.NATS.URL, want.Port, want.Lease, want.Replicas = "nats://a:4222,nats://b:4222", 5000, 2*time.Second, 2
	require.Equal(t, want, c)
	require.Equal(t, "/data/node-a", c.NodeDir())
}

func TestDefaults(t *testing.T) {
	t.Setenv("CLCKPT_NODE", "")
	t.Setenv("CLCKPT_DATA_DIR", "")
	t.Setenv("CLCKPT_LOG_LEVEL", "")
	t.Setenv("XDG_STATE_HOME", "/state")
	c, err := FromEnv()
	require.NoError(t, err)
	require.NotEmpty(t, c.Node)
	require.NotContains(t, c.Node, ".")
	require.Equal(t, filepath.Join("/state", "clckpt"), c.DataDir)
	require.Equal(t, slog.LevelWarn, c.LogLevel)
}

func TestBadValues(t *testing.T) {
	t.Setenv("CLCKPT_NODE", "a.b")
	_, err := FromEnv()
	require.ErrorContains(t, err, "CLCKPT_NODE")
	t.Setenv("CLCKPT_NODE", "ok")
	t.Setenv("CLCKPT_LOG_LEVEL", "loud")
	_, err = FromEnv()
	require.ErrorContains(t, err, "CLCKPT_LOG_LEVEL")
	t.Setenv("CLCKPT_LOG_LEVEL", "")
	t.Setenv("CLCKPT_LEASE", "soon")
	_, err = FromEnv()
	require.ErrorContains(t, err, "CLCKPT_LEASE")
	t.Setenv("CLCKPT_LEASE", "10ms")
	_, err = FromEnv()
	require.ErrorContains(t, err, "shorter")
	t.Setenv("CLCKPT_LEASE", "")
	t.Setenv("CLCKPT_SUBJECT", "a.b")
	_, err = FromEnv()
	require.ErrorContains(t, err, "CLCKPT_SUBJECT")
	t.Setenv("CLCKPT_SUBJECT", "")
	t.Setenv("CLCKPT_STATS_INTERVAL", "1ms")
	_, err = FromEnv()
	require.ErrorContains(t, err, "CLCKPT_STATS_INTERVAL")
	t.Setenv("CLCKPT_STATS_INTERVAL", "")
	for _, v := range []string{"on", "7000", "host:99999", "host:port"} {
		t.Setenv("CLCKPT_LINK", v)
		_, err = FromEnv()
		require.ErrorContains(t, err, "CLCKPT_LINK", v)
	}
	for _, v := range []string{"auto", "off", ":7000", "127.0.0.1:0", "[::1]:7000"} {
		t.Setenv("CLCKPT_LINK", v)
		_, err = FromEnv()
		require.NoError(t, err, v)
	}
	t.Setenv("CLCKPT_LINK", "")
	// A boolean is 1/0 or true/false: "yes" must not quietly mean no fsync.
	for _, v := range []string{"yes", "on", "2", "enabled"} {
		t.Setenv("CLCKPT_SYNC_WRITES", v)
		_, err = FromEnv()
		require.ErrorContains(t, err, "CLCKPT_SYNC_WRITES", v)
	}
	for v, want := range map[string]bool{"1": true, "true": true, "TRUE": true, "0": false, "false": false} {
		t.Setenv("CLCKPT_SYNC_WRITES", v)
		c, err := FromEnv()
		require.NoError(t, err, v)
		require.Equal(t, want, c.SyncWrites, v)
	}
	t.Setenv("CLCKPT_SYNC_WRITES", "")
	// A memtable from 1 MiB to half the disk reserve (its flush must fit in that half).
	for _, v := range []string{"big", "1000", "33554433"} {
		t.Setenv("CLCKPT_MEMTABLE_BYTES", v)
		_, err = FromEnv()
		require.ErrorContains(t, err, "CLCKPT_MEMTABLE_BYTES", v)
	}
	t.Setenv("CLCKPT_DISK_RESERVE", "134217728")
	_, err = FromEnv()
	require.NoError(t, err, "a larger reserve allows a larger memtable")
}
