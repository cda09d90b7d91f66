// Package config reads the settings every clckpt process shares (the C library, the Go engine's
// users, the clckpt command) from the environment, over a TOML file named by CLCKPT_CONFIG (file.go).
// README.md lists them in one table; settings() lists them here.
package config

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/clckpt/libclckpt/engine/store"
)

// ErrBadSetting marks an error that retrying cannot cure: a setting that cannot be parsed or used
// (an unparsable or unresolvable NATS URL, credentials the server rejects, a CLCKPT_LINK that cannot
// be bound). The C library returns CL_CKPT_ERR_INVALID_STATE from clCkptInitialize for it.
var ErrBadSetting = errors.New("bad setting")

// BadSetting wraps err as an ErrBadSetting.
func BadSetting(err error) error {
	if err == nil || errors.Is(err, ErrBadSetting) {
		return err
	}
	return fmt.Errorf("%w: %w", ErrBadSetting, err)
}

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

	// NATS is how the member reaches the other members.
	NATS NATS
	// Port is the loopback port of the embedded NATS server when NATS.URL is empty (CLCKPT_PORT,
	// default 4250).
	Port int
	// Lease is how long a member that stops answering counts as alive (CLCKPT_LEASE, default 3s).
	Lease time.Duration
	// AckTimeout is how long the active waits for a replica's acknowledgement before it takes the
	// replica out of the in-sync set (CLCKPT_ACK_TIMEOUT, default 1s).
	AckTimeout time.Duration
	// Replicas is how many servers hold a replica of a non-collocated checkpoint (CLCKPT_REPLICAS,
	// default 3).
	Replicas int
	// TailBytes bounds the recent ops the active keeps per checkpoint for catch-up
	// (CLCKPT_TAIL_BYTES, default 16 MiB).
	TailBytes int
	// DiskReserve is the free space, in bytes, kept on the data directory's filesystem: below it
	// writes fail with "disk full" (CLCKPT_DISK_RESERVE, default 64 MiB, at least 24 MiB).
	DiskReserve int
	// MemTableBytes is the size of one of the store's two memtables, where recent writes are held
	// in memory until the store writes them out (CLCKPT_MEMTABLE_BYTES, default 8 MiB, from 1 MiB
	// to half the disk reserve). A member's memory use swings by about this much as a memtable
	// fills and is written out; smaller ones save memory, larger ones absorb bursts of small writes.
	MemTableBytes int
	// Subject is the NATS subject prefix and the KV bucket prefix of this deployment
	// (CLCKPT_SUBJECT, default "clckpt").
	Subject string
	// Link is where the member listens for direct op links from other members (CLCKPT_LINK):
	// "auto" (the default: a free port on the address this host reaches NATS from, loopback for a
	// local server), "off" (ops go through NATS only), or host:port.
	Link string
	// StatsInterval, when positive, makes the process log a "stats" line (goroutines, heap, RSS,
	// open fds, open handles) at this interval, whatever the log level (CLCKPT_STATS_INTERVAL,
	// default 0: off).
	StatsInterval time.Duration
	// StatsCollect makes each stats line measure after a full garbage collection that also gives
	// the freed memory back to the system (CLCKPT_STATS_COLLECT=1; diagnostics: it costs a full
	// collection per line). The line then shows what the process retains, not where the runtime's
	// cycles and pools happen to be; a leak hunt or a soak wants that.
	StatsCollect bool
	// MemProfile, when set, is where a program writes a Go heap profile as it finalizes its last
	// service handle (CLCKPT_MEMPROFILE; diagnostics).
	MemProfile string
	// MetricsAddr, when set, is where the member serves its Prometheus metrics on /metrics
	// (CLCKPT_METRICS_ADDR, host:port; default: not served).
	MetricsAddr string
}

// NATS are the settings of the connection to an external NATS server or cluster.
type NATS struct {
	URL      string `toml:"url"`      // CLCKPT_NATS_URL: comma-separated server URLs; empty: the embedded default
	Creds    string `toml:"creds"`    // CLCKPT_NATS_CREDS: credentials file (JWT and nkey)
	NKey     string `toml:"nkey"`     // CLCKPT_NATS_NKEY: nkey seed file
	User     string `toml:"user"`     // CLCKPT_NATS_USER
	Password string `toml:"password"` // CLCKPT_NATS_PASSWORD
	Token    string `toml:"token"`    // CLCKPT_NATS_TOKEN: a token the server requires (see `clckpt serve`)
	TLSCA    string `toml:"tls_ca"`   // CLCKPT_NATS_TLS_CA: CA certificate file to verify the server
	TLSCert  string `toml:"tls_cert"` // CLCKPT_NATS_TLS_CERT: client certificate file
	TLSKey   string `toml:"tls_key"`  // CLCKPT_NATS_TLS_KEY: client key file
}

var nodeName = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

// FromEnv reads the configuration (the file named by CLCKPT_CONFIG, if any, then the
// environment, which overrides it) and checks it.
func FromEnv() (Config, error) {
	c, _, err := Load(os.Getenv("CLCKPT_CONFIG"))
	if err != nil {
		return c, err
	}
	return c, c.Validate()
}

// setting is one setting: its environment variable, its key in the configuration file (in a
// table: "nats.url") and the field it sets: a *string, *int, *bool, *time.Duration or *slog.Level.
type setting struct {
	env, key string
	dst      any
}

// settings lists every setting of c: the one place that names a setting's variable and key.
func (c *Config) settings() []setting {
	return []setting{
		{"CLCKPT_NODE", "node", &c.Node},
		{"CLCKPT_DATA_DIR", "data_dir", &c.DataDir},
		{"CLCKPT_SYNC_WRITES", "sync_writes", &c.SyncWrites},
		{"CLCKPT_LOG_LEVEL", "log_level", &c.LogLevel},
		{"CLCKPT_PORT", "port", &c.Port},
		{"CLCKPT_LEASE", "lease", &c.Lease},
		{"CLCKPT_ACK_TIMEOUT", "ack_timeout", &c.AckTimeout},
		{"CLCKPT_REPLICAS", "replicas", &c.Replicas},
		{"CLCKPT_TAIL_BYTES", "tail_bytes", &c.TailBytes},
		{"CLCKPT_DISK_RESERVE", "disk_reserve", &c.DiskReserve},
		{"CLCKPT_MEMTABLE_BYTES", "memtable_bytes", &c.MemTableBytes},
		{"CLCKPT_SUBJECT", "subject", &c.Subject},
		{"CLCKPT_LINK", "link", &c.Link},
		{"CLCKPT_STATS_INTERVAL", "stats_interval", &c.StatsInterval},
		{"CLCKPT_STATS_COLLECT", "stats_collect", &c.StatsCollect},
		{"CLCKPT_MEMPROFILE", "memprofile", &c.MemProfile},
		{"CLCKPT_METRICS_ADDR", "metrics_addr", &c.MetricsAddr},
		{"CLCKPT_NATS_URL", "nats.url", &c.NATS.URL},
		{"CLCKPT_NATS_CREDS", "nats.creds", &c.NATS.Creds},
		{"CLCKPT_NATS_NKEY", "nats.nkey", &c.NATS.NKey},
		{"CLCKPT_NATS_USER", "nats.user", &c.NATS.User},
		{"CLCKPT_NATS_PASSWORD", "nats.password", &c.NATS.Password},
		{"CLCKPT_NATS_TOKEN", "nats.token", &c.NATS.Token},
		{"CLCKPT_NATS_TLS_CA", "nats.tls_ca", &c.NATS.TLSCA},
		{"CLCKPT_NATS_TLS_CERT", "nats.tls_cert", &c.NATS.TLSCert},
		{"CLCKPT_NATS_TLS_KEY", "nats.tls_key", &c.NATS.TLSKey},
	}
}

// set parses v (from the environment, or a string of the file) into the setting's field.
func (s setting) set(v string) error {
	var err error
	switch d := s.dst.(type) {
	case *string:
		*d = v
	case *bool:
		// Only the words strconv knows (1, t, true, 0, f, false, in any case): "yes" or "on"
		// silently read as off would be a durability setting quietly lost.
		*d, err = strconv.ParseBool(v)
		if err != nil {
			err = errors.New("not a boolean: use 1 or 0 (true or false)")
		}
	case *int:
		*d, err = strconv.Atoi(v)
	case *time.Duration:
		*d, err = time.ParseDuration(v)
	case *slog.Level:
		*d, err = ParseLevel(v)
	}
	return err
}

// applyEnv overlays the settings that the environment sets, then fills in the node's name and the
// data directory when neither the file nor the environment gave them.
func (c *Config) applyEnv() error {
	for _, s := range c.settings() {
		if v := os.Getenv(s.env); v != "" {
			if err := s.set(v); err != nil {
				return fmt.Errorf("config: %s=%q: %w", s.env, v, err)
			}
		}
	}
	if c.Node == "" {
		host, err := os.Hostname()
		if err != nil {
			return fmt.Errorf("config: CLCKPT_NODE is not set and the host name is unknown: %w", err)
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
	return nil
}

// Default returns the settings with every default applied (Node and DataDir empty).
func Default() Config {
	return Config{
		LogLevel:      slog.LevelWarn,
		Port:          4250,
		Lease:         3 * time.Second,
		AckTimeout:    time.Second,
		Replicas:      3,
		TailBytes:     16 << 20,
		DiskReserve:   store.DefaultReserve,
		MemTableBytes: store.DefaultMemTableSize,
		Subject:       "clckpt",
		Link:          "auto",
	}
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

// Validate checks the settings; its errors are ErrBadSetting.
func (c Config) Validate() error { return BadSetting(c.validate()) }

func (c Config) validate() error {
	if !nodeName.MatchString(c.Node) {
		return fmt.Errorf("config: node (CLCKPT_NODE) %q: use 1 to 64 letters, digits, '_' or '-'", c.Node)
	}
	if c.DataDir == "" {
		return errors.New("config: no data directory (data_dir, CLCKPT_DATA_DIR)")
	}
	switch {
	case c.Port < 1 || c.Port > 65535:
		return fmt.Errorf("config: port (CLCKPT_PORT) %d out of range", c.Port)
	case c.Lease < 300*time.Millisecond:
		return fmt.Errorf("config: lease (CLCKPT_LEASE) %s is shorter than 300ms", c.Lease)
	case c.AckTimeout <= 0:
		return fmt.Errorf("config: ack_timeout (CLCKPT_ACK_TIMEOUT) %s must be positive", c.AckTimeout)
	case c.Replicas < 1:
		return fmt.Errorf("config: replicas (CLCKPT_REPLICAS) %d must be at least 1", c.Replicas)
	case c.TailBytes < 0:
		return fmt.Errorf("config: tail_bytes (CLCKPT_TAIL_BYTES) %d must not be negative", c.TailBytes)
	case c.DiskReserve != 0 && c.DiskReserve < store.MinReserve:
		return fmt.Errorf("config: disk_reserve (CLCKPT_DISK_RESERVE) %d is below the minimum of %d bytes", c.DiskReserve, store.MinReserve)
	case c.MemTableBytes != 0 && (c.MemTableBytes < store.MinMemTableSize || c.MemTableBytes > c.reserve()/2):
		return fmt.Errorf("config: memtable_bytes (CLCKPT_MEMTABLE_BYTES) %d: use %d to %d bytes (half the disk reserve)", c.MemTableBytes,
			store.MinMemTableSize, c.reserve()/2)
	case c.StatsInterval != 0 && c.StatsInterval < 100*time.Millisecond:
		return fmt.Errorf("config: stats_interval (CLCKPT_STATS_INTERVAL) %s: use 0 (off) or at least 100ms", c.StatsInterval)
	case !subjectToken.MatchString(c.Subject):
		return fmt.Errorf("config: subject (CLCKPT_SUBJECT) %q: use letters, digits, '_' or '-'", c.Subject)
	case !validLink(c.Link):
		return fmt.Errorf("config: link (CLCKPT_LINK) %q: use auto, off or host:port", c.Link)
	case c.MetricsAddr != "" && !validHostPort(c.MetricsAddr):
		return fmt.Errorf("config: metrics_addr (CLCKPT_METRICS_ADDR) %q: use host:port", c.MetricsAddr)
	}
	return nil
}

// reserve is the disk reserve in effect.
func (c Config) reserve() int {
	if c.DiskReserve == 0 {
		return store.DefaultReserve
	}
	return c.DiskReserve
}

var subjectToken = regexp.MustCompile(`^[A-Za-z0-9_-]{1,32}$`)

func validLink(v string) bool {
	return v == "auto" || v == "off" || validHostPort(v)
}

func validHostPort(v string) bool {
	_, port, err := net.SplitHostPort(v)
	if err != nil {
		return false
	}
	p, err := strconv.Atoi(port)
	return err == nil && p >= 0 && p <= 65535
}

// NodeDir is the directory of this node's store.
func (c Config) NodeDir() string { return filepath.Join(c.DataDir, c.Node) }

// Logger returns a logger writing to stderr at the configured level.
func (c Config) Logger(component string) *slog.Logger {
	h := slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: c.LogLevel})
	return slog.New(h).With("component", component, "node", c.Node)
}
