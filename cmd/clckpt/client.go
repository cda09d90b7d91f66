package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/spf13/cobra"

	"github.com/clckpt/libclckpt/config"
	"github.com/clckpt/libclckpt/replication"
	"github.com/clckpt/libclckpt/replication/directory"
	"github.com/clckpt/libclckpt/replication/natsconn"
)

// client is the connection settings every client command shares: the environment's and the
// configuration file's, which its flags override.
type client struct {
	name                                      string // the command's, in the server's monitoring
	url, tokenFile, user, passwordFile, tlsCA string
	timeout                                   time.Duration
	json                                      bool
}

// addClientFlags adds the connection flags (and --json when the command prints data) to cmd.
func addClientFlags(cmd *cobra.Command, printsData bool) *client {
	c := &client{name: "clckpt " + cmd.Name()}
	f := cmd.Flags()
	f.StringVar(&c.url, "url", "", "NATS server(s), comma-separated (default: CLCKPT_NATS_URL, else the server of the data directory on CLCKPT_PORT)")
	f.StringVar(&c.tokenFile, "token-file", "", "file holding the token the server requires (default: CLCKPT_NATS_TOKEN, else the data directory's nats.token)")
	f.StringVar(&c.user, "user", "", "user name (default: CLCKPT_NATS_USER)")
	f.StringVar(&c.passwordFile, "password-file", "", "file holding the password of --user (default: CLCKPT_NATS_PASSWORD)")
	f.StringVar(&c.tlsCA, "tls-ca", "", "CA certificate that verifies the server (default: CLCKPT_NATS_TLS_CA, else the data directory's nats.pem)")
	f.DurationVar(&c.timeout, "timeout", 15*time.Second, "how long to wait for the service")
	if printsData {
		f.BoolVar(&c.json, "json", false, "print JSON")
	}
	return c
}

// config returns the settings to reach the service with.
func (c *client) config() (config.Config, error) {
	cfg, err := config.FromEnv()
	if err != nil {
		return cfg, err
	}
	if err := applyLogLevel(&cfg); err != nil {
		return cfg, err
	}
	n := &cfg.NATS
	if c.url != "" {
		n.URL = c.url
	}
	if c.user != "" {
		n.User = c.user
	}
	for _, v := range []struct {
		file string
		dst  *string
	}{{c.tokenFile, &n.Token}, {c.passwordFile, &n.Password}} {
		if v.file == "" {
			continue
		}
		if *v.dst, err = secret("", v.file, ""); err != nil {
			return cfg, usageErr(err)
		}
	}
	if c.tlsCA != "" {
		n.TLSCA = c.tlsCA
	}
	if cfg, err = natsconn.ClientConfig(cfg); err != nil {
		return cfg, unreachableErr(fmt.Errorf("the data directory's credentials: %w", err))
	}
	return cfg, nil
}

func (c *client) logger(cfg config.Config) *slog.Logger {
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: cfg.LogLevel}))
}

// session is a client command's view of the service: the NATS connection and the directory.
type session struct {
	cfg config.Config
	nc  *nats.Conn
	dir *directory.Directory
}

// connect reaches the service's directory over NATS, for what only the directory tells (leases,
// links, every entry).
func (c *client) connect(ctx context.Context) (*session, error) {
	cfg, err := c.config()
	if err != nil {
		return nil, err
	}
	opts, err := natsconn.ClientOptions(cfg, c.name)
	if err != nil {
		return nil, usageErr(err)
	}
	nc, err := nats.Connect(cfg.NATS.URL, append(opts, nats.MaxReconnects(0), nats.RetryOnFailedConnect(false))...)
	if err != nil {
		return nil, unreachableErr(fmt.Errorf("connect to %s: %w", cfg.NATS.URL, err))
	}
	js, err := jetstream.New(nc)
	if err != nil {
		nc.Close()
		return nil, unreachableErr(err)
	}
	// Bind only: the members make the buckets, with the cluster's replica count.
	dir, err := directory.Open(ctx, js, directory.Options{Prefix: cfg.Subject, Replicas: 1, Lease: cfg.Lease, BindOnly: true})
	if err != nil {
		nc.Close()
		return nil, unreachableErr(fmt.Errorf("the checkpoint directory at %s: %w", cfg.NATS.URL, err))
	}
	return &session{cfg: cfg, nc: nc, dir: dir}, nil
}

func (s *session) close() { s.nc.Close() }

// member is a client command joined to the service as an application member, as a program joins:
// its checkpoints are reached through the engine's API. Its name is the node's with "-cli" (slots
// "-cli-2", ... for commands running at once), and its store is in the data directory as a
// program's is: a replica it takes (watch) is still its own the next time.
type member struct {
	*replication.Member
	cfg config.Config
}

// join makes the command a member of the service.
func (c *client) join(ctx context.Context) (*member, error) {
	cfg, err := c.config()
	if err != nil {
		return nil, err
	}
	mcfg := cfg
	mcfg.Node, mcfg.Link = cfg.Node[:min(len(cfg.Node), 60)]+"-cli", "off"
	mcfg.MetricsAddr = "" // a command serves no metrics; the address may be a running program's
	jctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	m, err := replication.Join(jctx, replication.Options{Config: mcfg, Logger: c.logger(cfg)})
	if err != nil {
		return nil, unreachableErr(fmt.Errorf("join the service at %s: %w", cfg.NATS.URL, err))
	}
	return &member{Member: m, cfg: cfg}, nil
}

// leave closes the member.
func (m *member) leave() { _ = m.Close() }

// withMember runs fn with the command joined as a member; ctx ends after --timeout.
func (c *client) withMember(cmd *cobra.Command, fn func(ctx context.Context, m *member) error) error {
	ctx, cancel := context.WithTimeout(cmd.Context(), c.timeout)
	defer cancel()
	m, err := c.join(ctx)
	if err != nil {
		return err
	}
	defer m.leave()
	return fn(ctx, m)
}

// withSession runs fn with the command connected to the directory; ctx ends after --timeout.
func (c *client) withSession(cmd *cobra.Command, fn func(ctx context.Context, s *session) error) error {
	ctx, cancel := context.WithTimeout(cmd.Context(), c.timeout)
	defer cancel()
	s, err := c.connect(ctx)
	if err != nil {
		return err
	}
	defer s.close()
	return fn(ctx, s)
}
