// Package config reads the settings every clckpt process shares (the C library, the Go engine's
// users, the clckpt command) from the environment. README.md lists them in one table.
package config

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strings"
)

// Config is the settings of one process.
type Config struct {
	// Node names this member (CLCKPT_NODE; default: the host name up to its first dot).
	Node string
	// DataDir holds the member's data (CLCKPT_DATA_DIR; default: $XDG_STATE_HOME/clckpt, else
	// ~/.local/state/clckpt, else /var/lib/clckpt). The node's store is DataDir/<Node>.
	DataDir string
	// SyncWrites makes every write wait for fsync (CLCKPT_SYNC_WRITES=1).
	SyncWrites bool
	// LogLevel is the lowest level logged to stderr (CLCKPT_LOG_LEVEL: debug, info, warn, error;
	// default warn).
	LogLevel slog.Level
}

var nodeName = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

// FromEnv reads the configuration from the environment and checks it.
func FromEnv() (Config, error) {
	c := Config{
		Node:       os.Getenv("CLCKPT_NODE"),
		DataDir:    os.Getenv("CLCKPT_DATA_DIR"),
		SyncWrites: os.Getenv("CLCKPT_SYNC_WRITES") == "1",
		LogLevel:   slog.LevelWarn,
	}
	if c.Node == "" {
		host, err := os.Hostname()
		if err != nil {
			return c, fmt.Errorf("config: CLCKPT_NODE is not set and the host name is unknown: %w", err)
		}
		c.Node, _, _ = strings.Cut(host, ".")
		c.Node = strings.Map(func(r rune) rune {
			if nodeName.MatchString(string(r)) {
				return r
			}
			return '_'
		}, c.Node)
	}
	if c.DataDir == "" {
		c.DataDir = defaultDataDir()
	}
	if v := os.Getenv("CLCKPT_LOG_LEVEL"); v != "" {
		if err := c.LogLevel.UnmarshalText([]byte(v)); err != nil {
			return c, fmt.Errorf("config: CLCKPT_LOG_LEVEL=%q: %w", v, err)
		}
	}
	return c, c.Validate()
}

func defaultDataDir() string {
	if d := os.Getenv("XDG_STATE_HOME"); d != "" {
		return filepath.Join(d, "clckpt")
	}
	if home, err := os.UserHomeDir(); err == nil && home != "" && home != "/" {
		return filepath.Join(home, ".local", "state", "clckpt")
	}
	return "/var/lib/clckpt"
}

// Validate checks the settings.
func (c Config) Validate() error {
	if !nodeName.MatchString(c.Node) {
		return fmt.Errorf("config: node name %q: use 1 to 64 letters, digits, '_' or '-'", c.Node)
	}
	if c.DataDir == "" {
		return errors.New("config: no data directory")
	}
	return nil
}

// NodeDir is the directory of this node's store.
func (c Config) NodeDir() string { return filepath.Join(c.DataDir, c.Node) }

// Logger returns a logger writing to stderr at the configured level.
func (c Config) Logger(component string) *slog.Logger {
	h := slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: c.LogLevel})
	return slog.New(h).With("component", component, "node", c.Node)
}
