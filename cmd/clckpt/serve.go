package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/clckpt/libclckpt/config"
	"github.com/clckpt/libclckpt/internal/procstats"
	"github.com/clckpt/libclckpt/replication"
	"github.com/clckpt/libclckpt/replication/directory"
	"github.com/clckpt/libclckpt/replication/natsconn"
)

func init() { register(serveCmd) }

// serveFlags defines every setting of clckpt serve that a flag gives, bound to c and s: the one
// list of them (config.Serve holds the same settings for the configuration file's [serve] table).
func serveFlags(fs *pflag.FlagSet, c *config.Config, s *config.Serve) {
	fs.StringVar(&c.Node, "node", c.Node, "member name of this node (node, CLCKPT_NODE; default: the host name)")
	fs.StringVar(&c.DataDir, "data-dir", c.DataDir, "data directory (data_dir, CLCKPT_DATA_DIR)")
	fs.IntVar(&c.Port, "port", c.Port, "NATS client port (port, CLCKPT_PORT); -1 picks a free one")
	fs.StringVar(&c.MemProfile, "memprofile", c.MemProfile, "diagnostics: write a heap profile here when the node stops, and on SIGUSR1 (memprofile, CLCKPT_MEMPROFILE)")
	fs.StringVar(&c.MetricsAddr, "metrics-addr", c.MetricsAddr, "serve the member's Prometheus metrics on host:port/metrics (metrics_addr, CLCKPT_METRICS_ADDR)")
	fs.StringVar(&s.Host, "host", s.Host, "address the NATS server listens on for clients")
	fs.StringVar(&s.Cluster, "cluster", s.Cluster, "NATS cluster name")
	fs.IntVar(&s.ClusterPort, "cluster-port", s.ClusterPort, "NATS route port; 0: no cluster")
	fs.StringSliceVar(&s.Routes, "routes", s.Routes, "nats-route://host:port of the peers (comma-separated or repeated)")
	fs.IntVar(&s.HTTPPort, "http", s.HTTPPort, "NATS monitoring port, on 127.0.0.1 only (it has no authentication); 0: none")
	fs.BoolVar(&s.Member, "member", s.Member, "also run a server member that holds replicas (false: NATS only)")
	fs.StringVar(&s.NATSURL, "nats-url", s.NATSURL, "join this NATS server as a server member instead of embedding one")
	fs.StringVar(&s.User, "user", s.User, "require this user from clients (with --password-file) instead of the token")
	fs.BoolVar(&s.NoAuth, "no-auth", s.NoAuth, "let any client that reaches the port in, without the token or a user")
	fs.StringVar(&s.Password, "password", s.Password, "password of --user (visible in ps: prefer --password-file or CLCKPT_NATS_PASSWORD)")
	fs.StringVar(&s.PasswordFile, "password-file", s.PasswordFile, "file holding the password of --user")
	fs.StringVar(&s.ClusterUser, "cluster-user", s.ClusterUser, "user that routes present to each other (required with a cluster port beyond loopback)")
	fs.StringVar(&s.ClusterPasswordFile, "cluster-password-file", s.ClusterPasswordFile, "file holding the routes' password (or CLCKPT_CLUSTER_PASSWORD)")
	fs.StringVar(&s.ClusterTLSCert, "cluster-tls-cert", s.ClusterTLSCert, "TLS certificate that routes present (default: --tls-cert)")
	fs.StringVar(&s.ClusterTLSKey, "cluster-tls-key", s.ClusterTLSKey, "key of --cluster-tls-cert (default: --tls-key)")
	fs.StringVar(&s.ClusterTLSCA, "cluster-tls-ca", s.ClusterTLSCA, "CA that verifies the peers' route certificates (default: --tls-ca, else the route certificate itself)")
	fs.StringVar(&s.TLSCert, "tls-cert", s.TLSCert, "TLS certificate for clients")
	fs.StringVar(&s.TLSKey, "tls-key", s.TLSKey, "TLS key for clients")
	fs.StringVar(&s.TLSCA, "tls-ca", s.TLSCA, "CA to verify client certificates")
	fs.BoolVar(&s.JSONLogs, "json", s.JSONLogs, "log JSON lines instead of text")
}

func serveCmd() *cobra.Command {
	var (
		cpuProfile, configFile string
		printConfig            bool
	)
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run a node: a NATS server with JetStream and a server member that holds replicas",
		Long: `Run a node of the checkpoint service: an embedded NATS server (JetStream on, clustered when given
routes) and a server member that holds replicas, or (--nats-url) only a server member on an existing
NATS deployment. It prints "ready URL" on stdout once it serves, and stops on SIGTERM or SIGINT.

Settings: flags, then the environment (README.md lists the variables), then the TOML file of
--config or CLCKPT_CONFIG (its [serve] table takes these flags' names, '-' written '_'; node,
data_dir, port, memprofile and metrics_addr are top-level keys), then the defaults. --print-config
prints the settings in effect as such a file, secrets redacted.`,
		Args: rangeArgs(0, 0),
	}
	// The flags are bound to throwaway values for their help text; the settings in effect are the
	// file's and the environment's with the flags given set over them (serve).
	def, defServe := config.Default(), config.DefaultServe()
	serveFlags(cmd.Flags(), &def, &defServe)
	cmd.Flags().StringVar(&configFile, "config", "", "TOML configuration file (default: CLCKPT_CONFIG)")
	cmd.Flags().BoolVar(&printConfig, "print-config", false, "print the settings in effect (secrets redacted) and exit")
	cmd.Flags().StringVar(&cpuProfile, "cpuprofile", "", "diagnostics: write a CPU profile here until the node stops")
	cmd.RunE = runE(func(cmd *cobra.Command, _ []string) error {
		if configFile == "" {
			configFile = os.Getenv("CLCKPT_CONFIG")
		}
		cfg, files, err := config.Load(configFile)
		if err != nil {
			return err
		}
		s := files.Serve
		// The flags given override the file and the environment.
		final := pflag.NewFlagSet("serve", pflag.ContinueOnError)
		serveFlags(final, &cfg, &s)
		var ferr error
		cmd.Flags().Visit(func(f *pflag.Flag) {
			to := final.Lookup(f.Name)
			if to == nil || ferr != nil {
				return
			}
			if sv, ok := f.Value.(pflag.SliceValue); ok {
				ferr = to.Value.(pflag.SliceValue).Replace(sv.GetSlice())
			} else {
				ferr = to.Value.Set(f.Value.String())
			}
		})
		if ferr != nil {
			return usageErr(ferr)
		}
		if err := applyLogLevel(&cfg); err != nil {
			return err
		}
		if printConfig {
			check := cfg
			if check.Port == -1 {
				check.Port = 1
			}
			if err := check.Validate(); err != nil {
				return err
			}
			out, err := config.Print(cfg, &s)
			if err != nil {
				return err
			}
			_, err = os.Stdout.Write(out)
			return err
		}
		return serve(cfg, s, cpuProfile)
	})
	return cmd
}

// applyLogLevel sets the configuration's log level from --log-level, when given.
func applyLogLevel(cfg *config.Config) error {
	if logLevel == "" {
		return nil
	}
	l, err := config.ParseLevel(logLevel)
	if err != nil {
		return usageErr(fmt.Errorf("--log-level: %w", err))
	}
	cfg.LogLevel = l
	return nil
}

func serve(cfg config.Config, s config.Serve, cpuProfile string) error {
	var err error
	heapProfile = cfg.MemProfile
	procstats.SampleHeap(heapProfile != "")
	if cpuProfile != "" {
		f, err := os.Create(cpuProfile)
		if err != nil {
			return err
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	if s.Password, err = secret(s.Password, s.PasswordFile, "CLCKPT_NATS_PASSWORD"); err != nil {
		return err
	}
	if s.User != "" && s.Password == "" {
		return errors.New("-user needs a password: -password-file, CLCKPT_NATS_PASSWORD or -password")
	}
	clusterPassword, err := secret("", s.ClusterPasswordFile, "CLCKPT_CLUSTER_PASSWORD")
	if err != nil {
		return err
	}
	if s.ClusterUser != "" && clusterPassword == "" {
		return errors.New("-cluster-user needs a password: -cluster-password-file or CLCKPT_CLUSTER_PASSWORD")
	}
	if s.ClusterTLSCert == "" {
		s.ClusterTLSCert, s.ClusterTLSKey = s.TLSCert, s.TLSKey
	}
	if s.ClusterPort != 0 && !isLoopback(s.Host) && (s.ClusterUser == "" || s.ClusterTLSCert == "") {
		return fmt.Errorf("the cluster port would listen on %s, beyond loopback, where anyone who reaches it could join as a route "+
			"and read and write every checkpoint: give the routes credentials (-cluster-user with -cluster-password-file or "+
			"CLCKPT_CLUSTER_PASSWORD) and TLS (-cluster-tls-cert and -cluster-tls-key, or -tls-cert and -tls-key; -cluster-tls-ca)", s.Host)
	}
	port := cfg.Port
	if cfg.Port == -1 {
		cfg.Port = 1 // validated below; the server picks the port
	}
	if err := cfg.Validate(); err != nil {
		return err
	}

	var handler slog.Handler = slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: cfg.LogLevel})
	if s.JSONLogs {
		handler = slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: cfg.LogLevel})
	}
	log := slog.New(handler).With("node", cfg.Node)
	if cfg.StatsInterval > 0 {
		// Its own handler: the line is wanted whatever CLCKPT_LOG_LEVEL says.
		var statsHandler slog.Handler = slog.NewTextHandler(os.Stderr, nil)
		if s.JSONLogs {
			statsHandler = slog.NewJSONHandler(os.Stderr, nil)
		}
		defer procstats.Start(cfg.StatsInterval, cfg.StatsCollect, slog.New(statsHandler).With("node", cfg.Node), memberCounts)()
	}
	start := time.Now()
	if s.NATSURL != "" {
		return serveMember(cfg, s.NATSURL, log, start)
	}

	// A standalone node keeps JetStream where the embedded default of its data directory does, and
	// holds the same lock: the checkpoints that programs made without it are the node's, and those
	// made through it stay when the programs go back to the embedded default. A clustered node's
	// JetStream is its cluster's, in a directory of its own.
	storeDir := natsconn.EmbeddedStoreDir(cfg.DataDir)
	if s.ClusterPort != 0 {
		storeDir = filepath.Join(cfg.DataDir, "nats-"+cfg.Node)
	} else {
		lock, err := natsconn.LockHost(cfg.DataDir)
		if errors.Is(err, natsconn.ErrHostLocked) {
			return fmt.Errorf("a program using data directory %s runs its embedded NATS server now: start clckpt serve before the programs, or once they have stopped", cfg.DataDir)
		}
		if err != nil {
			return err
		}
		defer lock.Close()
	}
	o := natsconn.ServerOptions{
		Name: cfg.Node, Host: s.Host, Port: port, StoreDir: storeDir,
		ClusterName: s.Cluster, ClusterHost: s.Host, ClusterPort: s.ClusterPort, HTTPPort: s.HTTPPort,
		TLSCert: s.TLSCert, TLSKey: s.TLSKey, TLSCA: s.TLSCA, Logger: log,
		ClusterUser: s.ClusterUser, ClusterPassword: clusterPassword, SyncAlways: cfg.SyncWrites,
	}
	if s.ClusterPort != 0 && s.ClusterTLSCert != "" {
		o.ClusterTLSCert, o.ClusterTLSKey = s.ClusterTLSCert, s.ClusterTLSKey
		o.ClusterTLSCA = firstOf(s.ClusterTLSCA, s.TLSCA, s.ClusterTLSCert)
	}
	o.Routes = s.Routes
	// Clients authenticate: with -user, or by default with the token of the data directory, which
	// the programs of this host that share the directory read (as with the embedded default).
	token := ""
	switch {
	case s.User != "":
		o.Users = append(o.Users, (&natsUser{s.User, s.Password}).server())
	case s.NoAuth:
		log.Warn("no client authentication (--no-auth): anyone who reaches the port can read and write checkpoints; firewall it or use the token or --user", "host", s.Host, "port", port)
	default:
		if token, err = natsconn.EmbeddedToken(cfg.DataDir); err != nil {
			return err
		}
		o.Token = token
		if o.TLSCert == "" { // the certificate that programs on the embedded default expect
			if o.TLSCert, err = natsconn.EmbeddedTLS(cfg.DataDir); err != nil {
				return err
			}
			o.TLSKey = o.TLSCert
		}
	}
	writeErrors, keepStop := make(chan struct{}, 1), make(chan struct{})
	o.WriteErrors = writeErrors
	srv, err := natsconn.StartServer(o)
	if err != nil {
		return err
	}
	defer func() {
		close(keepStop)
		srv.Shutdown()
		srv.WaitForShutdown()
	}()
	// After a full disk, JetStream restarts once half the reserve is free again, as the library's
	// embedded server does: a stream that failed a write takes no write until it is reopened.
	go natsconn.KeepJetStream(srv, writeErrors, int64(cfg.DiskReserve)/2, log, keepStop)
	log.Info("nats server ready", "url", srv.ClientURL(), "cluster_port", s.ClusterPort, "routes", o.Routes)

	// A clustered node waits for its peers: the KV buckets must be created with their replicas.
	size := 1
	if s.ClusterPort != 0 {
		size = clusterSize(o.Routes, s.Host, s.ClusterPort)
		for deadline := time.Now().Add(30 * time.Second); srv.NumRoutes() < size-1 && time.Now().Before(deadline); {
			time.Sleep(50 * time.Millisecond)
		}
		for deadline := time.Now().Add(60 * time.Second); !srv.JetStreamIsCurrent() && time.Now().Before(deadline); {
			time.Sleep(50 * time.Millisecond)
		}
		if srv.NumRoutes() < size-1 || !srv.JetStreamIsCurrent() {
			log.Warn("the cluster has not formed yet: this node goes on waiting for its peers; check that they run, that --routes "+
				"names their cluster ports, that those ports are open between the hosts and that the route credentials and "+
				"certificates match", "routes", srv.NumRoutes(), "peers_expected", size-1, "jetstream_current", srv.JetStreamIsCurrent())
		} else {
			log.Info("cluster formed", "routes", srv.NumRoutes(), "size", size)
		}
	}

	var m *replication.Member
	if s.Member {
		opts := []nats.Option{nats.InProcessServer(srv), nats.Name("clckpt serve " + cfg.Node), nats.MaxReconnects(-1)}
		if s.User != "" {
			opts = append(opts, nats.UserInfo(s.User, s.Password))
		}
		if token != "" {
			opts = append(opts, nats.Token(token))
		}
		// In-process connections skip TLS (the server allows it): the member talks plain NATS here.
		nc, err := nats.Connect(strings.Replace(srv.ClientURL(), "tls://", "nats://", 1), opts...)
		if err != nil {
			return err
		}
		defer nc.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		m, err = joinWhenReady(ctx, cfg, nc, min(3, size), s.TLSCert != "", log)
		cancel()
		if err != nil {
			return err
		}
	}
	log.Info("ready", "startup", time.Since(start).Round(time.Millisecond).String(), "member", s.Member)
	fmt.Printf("ready %s\n", srv.ClientURL()) // one line on stdout for scripts

	got := waitForStop(log)
	writeHeapProfile()
	log.Info("stopping", "signal", got.String())
	if m != nil {
		if err := m.Close(); err != nil {
			log.Warn("leaving the service failed: the other members see this node's lease end by itself (CLCKPT_LEASE)", "err", err)
		}
	}
	log.Info("stopped")
	return nil
}

// secret returns a password: the flag's value, else the content of file (its first line), else the
// environment variable env. A file or the environment keep it out of the process list.
func secret(flagValue, file, env string) (string, error) {
	if flagValue != "" {
		return flagValue, nil
	}
	if file != "" {
		b, err := os.ReadFile(file)
		if err != nil {
			return "", err
		}
		line, _, _ := strings.Cut(string(b), "\n")
		return strings.TrimSpace(line), nil
	}
	return os.Getenv(env), nil
}

// isLoopback reports whether a listen address reaches only this host.
func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func firstOf(v ...string) string {
	for _, s := range v {
		if s != "" {
			return s
		}
	}
	return ""
}

// serveMember runs only a server member, on the NATS server at url.
func serveMember(cfg config.Config, url string, log *slog.Logger, start time.Time) error {
	cfg.NATS.URL = url
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	m, err := joinWhenReady(ctx, cfg, nil, 0, false, log)
	cancel()
	if err != nil {
		return err
	}
	log.Info("ready", "startup", time.Since(start).Round(time.Millisecond).String(), "nats", url)
	fmt.Printf("ready %s\n", url)
	got := waitForStop(log)
	writeHeapProfile()
	log.Info("stopping", "signal", got.String())
	if err := m.Close(); err != nil {
		log.Warn("leaving the service failed: the other members see this node's lease end by itself (CLCKPT_LEASE)", "err", err)
	}
	log.Info("stopped")
	return nil
}

// heapProfile is where writeHeapProfile writes (--memprofile; empty: nowhere).
var heapProfile string

// waitForStop returns the signal that stops the node (SIGTERM, SIGINT). SIGUSR1 writes the heap
// profile of --memprofile meanwhile, so that profiles taken minutes apart show what grows.
func waitForStop(log *slog.Logger) os.Signal {
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT, syscall.SIGUSR1)
	for {
		got := <-sig
		if got != syscall.SIGUSR1 {
			return got
		}
		if heapProfile == "" {
			log.Warn("SIGUSR1: no heap profile without --memprofile")
			continue
		}
		writeHeapProfile()
		log.Info("heap profile written", "path", heapProfile)
	}
}

// writeHeapProfile writes what is live while the node still runs (diagnostics).
func writeHeapProfile() {
	if heapProfile == "" {
		return
	}
	if err := procstats.WriteHeapProfile(heapProfile); err != nil {
		slog.Warn("writing the heap profile failed: check the --memprofile path", "path", heapProfile, "err", err)
	}
}

// joined is the node's member once it has joined, for the stats lines.
var joined atomic.Pointer[replication.Member]

// memberCounts adds the member's metrics to a stats line.
func memberCounts() []slog.Attr {
	m := joined.Load()
	if m == nil {
		return nil
	}
	return m.Metrics().LogAttrs()
}

// joinWhenReady joins as a server member, retrying while JetStream is not available yet (a cluster
// elects its JetStream leader after its servers have met). linkTLS: the node serves its clients
// over TLS, so its op links use TLS too (its own connection to its server is in-process).
func joinWhenReady(ctx context.Context, cfg config.Config, nc *nats.Conn, kvReplicas int, linkTLS bool, log *slog.Logger) (*replication.Member, error) {
	for {
		actx, cancel := context.WithTimeout(ctx, 10*time.Second) // a request lost while the cluster formed
		m, err := replication.Join(actx, replication.Options{Config: cfg, Kind: directory.KindServer, Logger: log, Conn: nc, KVReplicas: kvReplicas,
			LinkTLS: linkTLS})
		cancel()
		if err == nil {
			joined.Store(m)
			return m, nil
		}
		if ctx.Err() != nil {
			return nil, err
		}
		log.Debug("waiting for JetStream", "err", err)
		time.Sleep(200 * time.Millisecond)
	}
}

// clusterSize is the number of nodes that --routes and this node make: the routes that are not this
// node's own (its cluster port on its host, or on any address of this machine when it listens on
// all), plus one. A route with this node's port on another host is a peer: every host may use the
// same ports.
func clusterSize(routes []string, host string, port int) int {
	local := map[string]bool{}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		addrs, _ := net.InterfaceAddrs()
		for _, a := range addrs {
			if n, ok := a.(*net.IPNet); ok {
				local[n.IP.String()] = true
			}
		}
	} else {
		local[host] = true
		if ip != nil {
			local[ip.String()] = true
		} else if ips, err := net.LookupIP(host); err == nil {
			for _, ip := range ips {
				local[ip.String()] = true
			}
		}
	}
	peers := map[string]bool{}
	for _, r := range routes {
		u, err := url.Parse(r)
		if err != nil || u.Port() != strconv.Itoa(port) {
			peers[r] = true
			continue
		}
		self := local[u.Hostname()]
		if !self {
			if ips, err := net.LookupIP(u.Hostname()); err == nil {
				self = slices.ContainsFunc(ips, func(ip net.IP) bool { return local[ip.String()] })
			}
		}
		if !self {
			peers[u.Host] = true
		}
	}
	return len(peers) + 1
}
