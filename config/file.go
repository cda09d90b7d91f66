package config

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/pelletier/go-toml/v2"
)

// Serve is the settings of `clckpt serve` beyond Config: its flags, the [serve] table of the
// configuration file and `clckpt serve --print-config` all come from this one list. A new option
// is a field here (its key in the tag) and its flag in cmd/clckpt's serveFlags.
type Serve struct {
	Host                string   `toml:"host"`                  // --host: client listen address
	Cluster             string   `toml:"cluster"`               // --cluster: NATS cluster name
	ClusterPort         int      `toml:"cluster_port"`          // --cluster-port: route port; 0: no cluster
	Routes              []string `toml:"routes"`                // --routes: nats-route://host:port of the peers
	HTTPPort            int      `toml:"http"`                  // --http: NATS monitoring port; 0: none
	Member              bool     `toml:"member"`                // --member: also run a server member
	NATSURL             string   `toml:"nats_url"`              // --nats-url: join this NATS server instead of embedding one
	User                string   `toml:"user"`                  // --user: required from clients instead of the token
	Password            string   `toml:"-"`                     // --password only: a file names password_file
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
	var doc map[string]any
	if err := toml.Unmarshal(b, &doc); err != nil {
		var de *toml.DecodeError
		if errors.As(err, &de) {
			row, _ := de.Position()
			return fmt.Errorf("config file %s: line %d: %s", path, row, de.Error())
		}
		return fmt.Errorf("config file %s: %w", path, err)
	}
	byKey := map[string]setting{}
	for _, s := range c.settings() {
		byKey[s.key] = s
	}
	var unknown []string
	apply := func(key string, v any) error {
		s, ok := byKey[key]
		if !ok {
			unknown = append(unknown, key)
			return nil
		}
		if err := s.fromFile(v); err != nil {
			return fmt.Errorf("config file %s: key %s: %w", path, key, err)
		}
		return nil
	}
	for k, v := range doc {
		switch table, isTable := v.(map[string]any); {
		case k == "nats" && isTable:
			for k2, v2 := range table {
				if err := apply("nats."+k2, v2); err != nil {
					return err
				}
			}
		case k == "serve" && isTable:
			if err := readServe(table, &f.Serve); err != nil {
				return fmt.Errorf("config file %s: %w", path, err)
			}
		default:
			if err := apply(k, v); err != nil {
				return err
			}
		}
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		return fmt.Errorf("config file %s: unknown key %s", path, strings.Join(unknown, ", "))
	}
	return nil
}

// fromFile sets the setting from a value of the file: a string, an integer or a boolean as the
// field is; durations and log levels are strings.
func (s setting) fromFile(v any) error {
	switch d := s.dst.(type) {
	case *bool:
		if b, ok := v.(bool); ok {
			*d = b
			return nil
		}
		return fmt.Errorf("%v: want true or false", v)
	case *int:
		if n, ok := v.(int64); ok && n == int64(int(n)) {
			*d = int(n)
			return nil
		}
		return fmt.Errorf("%v: want an integer", v)
	}
	str, ok := v.(string)
	if !ok {
		return fmt.Errorf("%v: want a string", v)
	}
	if err := s.set(str); err != nil {
		if _, isDuration := s.dst.(*time.Duration); isDuration {
			return fmt.Errorf("%q is not a duration (e.g. \"3s\", \"500ms\")", str)
		}
		return err
	}
	return nil
}

// readServe reads the [serve] table over serve's defaults; unknown keys are errors.
func readServe(table map[string]any, s *Serve) error {
	b, err := toml.Marshal(map[string]any{"serve": table})
	if err != nil {
		return err
	}
	doc := struct {
		Serve *Serve `toml:"serve"`
	}{s}
	err = toml.NewDecoder(bytes.NewReader(b)).DisallowUnknownFields().Decode(&doc)
	var strict *toml.StrictMissingError
	var de *toml.DecodeError
	switch {
	case errors.As(err, &strict):
		var keys []string
		for _, e := range strict.Errors {
			keys = append(keys, strings.Join(e.Key(), "."))
		}
		sort.Strings(keys)
		return fmt.Errorf("unknown key %s", strings.Join(keys, ", "))
	case errors.As(err, &de):
		return fmt.Errorf("key %s: %s", strings.Join(de.Key(), "."), de.Error())
	}
	return err
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

// Print writes the configuration as a TOML file that Load reads back, secrets redacted (serve's
// --password is not printed; the files holding secrets are).
func Print(c Config, s *Serve) ([]byte, error) {
	c = c.Redacted()
	top, nats := map[string]any{}, map[string]any{}
	for _, st := range c.settings() {
		var v any
		switch d := st.dst.(type) {
		case *string:
			v = *d
		case *bool:
			v = *d
		case *int:
			v = *d
		case *time.Duration:
			v = d.String()
		case *slog.Level:
			v = strings.ToLower(d.String())
		}
		if k, ok := strings.CutPrefix(st.key, "nats."); ok {
			nats[k] = v
		} else {
			top[st.key] = v
		}
	}
	top["nats"] = nats
	if s != nil {
		top["serve"] = s
	}
	return toml.Marshal(top)
}

// levelNames are the values of log_level and CLCKPT_LOG_LEVEL.
const levelNames = "error, warn, info or debug"

// ParseLevel reads a log level: error, warn, info or debug (any case).
func ParseLevel(v string) (slog.Level, error) {
	// slog's own text too ("ERROR+4": quieter than error), which earlier releases accepted.
	var l slog.Level
	if err := l.UnmarshalText([]byte(v)); err != nil {
		return l, fmt.Errorf("log level %q: use %s", v, levelNames)
	}
	return l, nil
}
