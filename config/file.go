package config

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/pelletier/go-toml/v2"
)

// Serve is the settings of `clckpt serve` beyond Config: its flags, the [serve] table of the
// configuration file and `clckpt serve --print-config` all come from this one list.
type Serve struct {
	Host                string   `toml:"host"`                  // --host: client listen address
	Cluster             string   `toml:"cluster"`               // --cluster: NATS cluster name
	ClusterPort         int      `toml:"cluster_port"`          // --cluster-port: route port; 0: no cluster
	Routes              []string `toml:"routes"`                // --routes: nats-route://host:port of the peers
	HTTPPort            int      `toml:"http"`                  // --http: NATS monitoring port; 0: none
	Member              bool     `toml:"member"`                // --member: also run a server member
	NATSURL             string   `toml:"nats_url"`              // --nats-url: join this NATS server instead of embedding one
	User                string   `toml:"user"`                  // --user: required from clients instead of the token
	Password            string   `toml:"password"`              // --password (secret: prefer password_file)
	PasswordFile        string   `toml:"password_file"`         // --password-file
	NoAuth              bool     `toml:"no_auth"`               // --no-auth
	ClusterUser         string   `toml:"cluster_user"`          // --cluster-user
	ClusterPasswordFile string   `toml:"cluster_password_file"` // --cluster-password-file
	ClusterTLSCert      string   `toml:"cluster_tls_cert"`      // --cluster-tls-cert
	ClusterTLSKey       string   `toml:"cluster_tls_key"`       // --cluster-tls-key
	ClusterTLSCA        string   `toml:"cluster_tls_ca"`        // --cluster-tls-ca
	TLSCert             string   `toml:"tls_cert"`              // --tls-cert
	TLSKey              string   `toml:"tls_key"`               // --tls-key
	TLSCA               string   `toml:"tls_ca"`                // --tls-ca
	JSONLogs            bool     `toml:"json"`                  // --json: JSON log lines
}

// DefaultServe returns serve's defaults.
func DefaultServe() Serve {
	return Serve{Host: "127.0.0.1", Cluster: "clckpt", Member: true}
}

// file is the configuration file's document. Pointers tell a key that is absent from one set to
// its zero value; durations are strings ("3s"). Unknown keys are errors.
type file struct {
	Node          *string `toml:"node"`
	DataDir       *string `toml:"data_dir"`
	SyncWrites    *bool   `toml:"sync_writes"`
	LogLevel      *string `toml:"log_level"`
	Port          *int    `toml:"port"`
	Lease         *string `toml:"lease"`
	AckTimeout    *string `toml:"ack_timeout"`
	Replicas      *int    `toml:"replicas"`
	TailBytes     *int    `toml:"tail_bytes"`
	DiskReserve   *int    `toml:"disk_reserve"`
	MemTableBytes *int    `toml:"memtable_bytes"`
	Subject       *string `toml:"subject"`
	Link          *string `toml:"link"`
	StatsInterval *string `toml:"stats_interval"`
	StatsCollect  *bool   `toml:"stats_collect"`
	MemProfile    *string `toml:"memprofile"`
	MetricsAddr   *string `toml:"metrics_addr"`
	NATS          *NATS   `toml:"nats"`
	Serve         *Serve  `toml:"serve"`
}

// Files are the settings a configuration file gave, before the environment is applied.
type Files struct {
	Path  string // the file read; empty: none
	Serve Serve  // serve's settings: DefaultServe overlaid with the file's [serve] table
}

// Load reads the configuration: the defaults, overlaid with the TOML file at path (none when path
// is empty), then with the environment. It does not validate: the caller applies its flags, then
// calls Validate once. FromEnv is Load of $CLCKPT_CONFIG, validated.
func Load(path string) (Config, Files, error) {
	c, f := Default(), Files{Path: path, Serve: DefaultServe()}
	if path != "" {
		if err := readFile(path, &c, &f); err != nil {
			return c, f, BadSetting(err)
		}
	}
	return c, f, BadSetting(c.applyEnv())
}

func readFile(path string, c *Config, f *Files) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("config file: %w", err)
	}
	var doc file
	d := toml.NewDecoder(bytes.NewReader(b)).DisallowUnknownFields()
	if err := d.Decode(&doc); err != nil {
		var strict *toml.StrictMissingError
		if errors.As(err, &strict) {
			var keys []string
			for _, e := range strict.Errors {
				row, _ := e.Position()
				keys = append(keys, fmt.Sprintf("%s (line %d)", strings.Join(e.Key(), "."), row))
			}
			return fmt.Errorf("config file %s: unknown key %s", path, strings.Join(keys, ", "))
		}
		var de *toml.DecodeError
		if errors.As(err, &de) {
			row, _ := de.Position()
			key := strings.Join(de.Key(), ".")
			if key != "" {
				return fmt.Errorf("config file %s: key %s (line %d): %s", path, key, row, de.Error())
			}
			return fmt.Errorf("config file %s: line %d: %s", path, row, de.Error())
		}
		return fmt.Errorf("config file %s: %w", path, err)
	}
	set := func(dst *string, v *string) {
		if v != nil {
			*dst = *v
		}
	}
	set(&c.Node, doc.Node)
	set(&c.DataDir, doc.DataDir)
	set(&c.Subject, doc.Subject)
	set(&c.Link, doc.Link)
	set(&c.MemProfile, doc.MemProfile)
	set(&c.MetricsAddr, doc.MetricsAddr)
	for _, v := range []struct {
		src *bool
		dst *bool
	}{{doc.SyncWrites, &c.SyncWrites}, {doc.StatsCollect, &c.StatsCollect}} {
		if v.src != nil {
			*v.dst = *v.src
		}
	}
	for _, v := range []struct {
		src *int
		dst *int
	}{{doc.Port, &c.Port}, {doc.Replicas, &c.Replicas}, {doc.TailBytes, &c.TailBytes}, {doc.DiskReserve, &c.DiskReserve},
		{doc.MemTableBytes, &c.MemTableBytes}} {
		if v.src != nil {
			*v.dst = *v.src
		}
	}
	for _, v := range []struct {
		key string
		src *string
		dst *time.Duration
	}{{"lease", doc.Lease, &c.Lease}, {"ack_timeout", doc.AckTimeout, &c.AckTimeout}, {"stats_interval", doc.StatsInterval, &c.StatsInterval}} {
		if v.src == nil {
			continue
		}
		d, err := time.ParseDuration(*v.src)
		if err != nil {
			return fmt.Errorf("config file %s: key %s: %q is not a duration (e.g. \"3s\", \"500ms\")", path, v.key, *v.src)
		}
		*v.dst = d
	}
	if doc.LogLevel != nil {
		if err := c.LogLevel.UnmarshalText([]byte(*doc.LogLevel)); err != nil {
			return fmt.Errorf("config file %s: key log_level: %q: use error, warn, info or debug", path, *doc.LogLevel)
		}
	}
	if doc.NATS != nil {
		c.NATS = *doc.NATS
	}
	if doc.Serve != nil {
		// Keys the file leaves out keep their defaults: decode the table again over them.
		f.Serve = DefaultServe()
		var again struct {
			Serve *Serve `toml:"serve"`
		}
		again.Serve = &f.Serve
		if err := toml.Unmarshal(b, &again); err != nil {
			return fmt.Errorf("config file %s: [serve]: %w", path, err)
		}
	}
	return nil
}

// Redacted is c with its secrets replaced, for printing.
func (c Config) Redacted() Config {
	for _, s := range []*string{&c.NATS.Password, &c.NATS.Token} {
		if *s != "" {
			*s = "(redacted)"
		}
	}
	return c
}

// Print writes the configuration as a TOML file that Load reads back (secrets redacted: the
// files that hold them are shown instead where there are files).
func Print(c Config, s *Serve) ([]byte, error) {
	c = c.Redacted()
	level := strings.ToLower(c.LogLevel.String())
	dur := func(d time.Duration) *string { v := d.String(); return &v }
	doc := file{
		Node: &c.Node, DataDir: &c.DataDir, SyncWrites: &c.SyncWrites, LogLevel: &level, Port: &c.Port,
		Lease: dur(c.Lease), AckTimeout: dur(c.AckTimeout), Replicas: &c.Replicas, TailBytes: &c.TailBytes,
		DiskReserve: &c.DiskReserve, MemTableBytes: &c.MemTableBytes, Subject: &c.Subject, Link: &c.Link,
		StatsInterval: dur(c.StatsInterval), StatsCollect: &c.StatsCollect, MemProfile: &c.MemProfile, MetricsAddr: &c.MetricsAddr, NATS: &c.NATS,
	}
	if s != nil {
		sc := *s
		if sc.Password != "" {
			sc.Password = "(redacted)"
		}
		doc.Serve = &sc
	}
	return toml.Marshal(doc)
}

// levelNames are the values of log_level and CLCKPT_LOG_LEVEL.
const levelNames = "error, warn, info or debug"

// ParseLevel reads a log level: error, warn, info or debug (any case).
func ParseLevel(v string) (slog.Level, error) {
	var l slog.Level
	switch strings.ToLower(v) {
	case "error", "warn", "info", "debug":
		err := l.UnmarshalText([]byte(v))
		return l, err
	}
	return l, fmt.Errorf("log level %q: use %s", v, levelNames)
}
