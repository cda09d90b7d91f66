package config

import (
	"log/slog"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestFromEnv(t *testing.T) {
	t.Setenv("CLCKPT_NODE", "node-a")
	t.Setenv("CLCKPT_DATA_DIR", "/data")
	t.Setenv("CLCKPT_SYNC_WRITES", "1")
	t.Setenv("CLCKPT_LOG_LEVEL", "debug")
	c, err := FromEnv()
	require.NoError(t, err)
	require.Equal(t, Config{Node: "node-a", DataDir: "/data", SyncWrites: true, LogLevel: slog.LevelDebug}, c)
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
	require.ErrorContains(t, err, "node name")
	t.Setenv("CLCKPT_NODE", "ok")
	t.Setenv("CLCKPT_LOG_LEVEL", "loud")
	_, err = FromEnv()
	require.ErrorContains(t, err, "CLCKPT_LOG_LEVEL")
}
