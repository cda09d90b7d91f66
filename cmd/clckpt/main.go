// Command clckpt runs and inspects the checkpoint service.
//
//	clckpt serve [flags]    run a node: an embedded NATS server (JetStream on, clustered when given
//	                        routes) and a server member that holds replicas
//	clckpt status [flags]   list the live members and the checkpoints, from the directory
//
// Settings come from the environment (README.md) and the flags below override them.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/pprof"
	"slices"
	"sort"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/clckpt/libclckpt/config"
	"github.com/clckpt/libclckpt/internal/procstats"
	"github.com/clckpt/libclckpt/replication"
	"github.com/clckpt/libclckpt/replication/directory"
	"github.com/clckpt/libclckpt/replication/natsconn"
)

func main() {
	if len(os.Args) < 2 {
		usage()
	}
	var err error
	switch os.Args[1] {
	case "serve":
		err = serve(os.Args[2:])
	case "status":
		err = status(os.Args[2:])
	default:
		usage()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "clckpt:", err)
		os.Exit(1)
	}
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: clckpt serve|status [flags]   (clckpt serve -h for the flags)")
	os.Exit(2)
}

func serve(args []string) error {
	cfg, err := config.FromEnv()
	if err != nil {
		return err
	}
	fs := flag.NewFlagSet("serve", flag.ExitOnError)
	node := fs.String("node", cfg.Node, "member name of this node (CLCKPT_NODE)")
	dataDir := fs.String("data-dir", cfg.DataDir, "data directory (CLCKPT_DATA_DIR)")
	host := fs.String("host", "127.0.0.1", "address the NATS server listens on for clients")
	port := fs.Int("port", cfg.Port, "NATS client port (CLCKPT_PORT); -1 picks a free one")
	clusterName := fs.String("cluster", "clckpt", "NATS cluster name")
	clusterPort := fs.Int("cluster-port", 0, "NATS route port; 0: no cluster")
	routes := fs.String("routes", "", "comma-separated nats-route://host:port of the peers")
	httpPort := fs.Int("http", 0, "NATS monitoring port; 0: none")
	member := fs.Bool("member", true, "also run a server member that holds replicas (false: NATS only)")
	natsURL := fs.String("nats-url", "", "join this NATS server as a server member instead of embedding one")
	user := fs.String("user", "", "require this user from clients (with -password) instead of the token")
	noAuth := fs.Bool("no-auth", false, "let any client that reaches the port in, without the token or a user")
	password := fs.String("password", "", "password of -user (visible in ps: prefer -password-file or CLCKPT_NATS_PASSWORD)")
	passwordFile := fs.String("password-file", "", "file holding the password of -user")
	clusterUser := fs.String("cluster-user", "", "user that routes present to each other (required with a cluster port beyond loopback)")
	clusterPasswordFile := fs.String("cluster-password-file", "", "file holding the routes' password (or CLCKPT_CLUSTER_PASSWORD)")
	clusterTLSCert := fs.String("cluster-tls-cert", "", "TLS certificate that routes present (default: -tls-cert)")
	clusterTLSKey := fs.String("cluster-tls-key", "", "key of -cluster-tls-cert (default: -tls-key)")
	clusterTLSCA := fs.String("cluster-tls-ca", "", "CA that verifies the peers' route certificates (default: -tls-ca, else the route certificate itself)")
	tlsCert := fs.String("tls-cert", "", "TLS certificate for clients")
	tlsKey := fs.String("tls-key", "", "TLS key for clients")
	tlsCA := fs.String("tls-ca", "", "CA to verify client certificates")
	jsonLogs := fs.Bool("json", false, "log JSON lines instead of text")
	cpuProfile := fs.String("cpuprofile", "", "diagnostics: write a CPU profile here until the node stops")
	memProfile := fs.String("memprofile", cfg.MemProfile, "diagnostics: write a heap profile here when the node stops, and on SIGUSR1")
	metricsAddr := fs.String("metrics-addr", cfg.MetricsAddr, "serve the member's Prometheus metrics on host:port/metrics (CLCKPT_METRICS_ADDR)")
	_ = fs.Parse(args)
	heapProfile = *memProfile
	procstats.SampleHeap(heapProfile != "")
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			return err
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	if *password, err = secret(*password, *passwordFile, "CLCKPT_NATS_PASSWORD"); err != nil {
		return err
	}
	if *user != "" && *password == "" {
		return errors.New("-user needs a password: -password-file, CLCKPT_NATS_PASSWORD or -password")
	}
	clusterPassword, err := secret("", *clusterPasswordFile, "CLCKPT_CLUSTER_PASSWORD")
	if err != nil {
		return err
	}
	if *clusterUser != "" && clusterPassword == "" {
		return errors.New("-cluster-user needs a password: -cluster-password-file or CLCKPT_CLUSTER_PASSWORD")
	}
	if *clusterTLSCert == "" {
		*clusterTLSCert, *clusterTLSKey = *tlsCert, *tlsKey
	}
	if *clusterPort != 0 && !isLoopback(*host) && (*clusterUser == "" || *clusterTLSCert == "") {
		return fmt.Errorf("the cluster port would listen on %s, beyond loopback, where anyone who reaches it could join as a route "+
			"and read and write every checkpoint: give the routes credentials (-cluster-user with -cluster-password-file or "+
			"CLCKPT_CLUSTER_PASSWORD) and TLS (-cluster-tls-cert and -cluster-tls-key, or -tls-cert and -tls-key; -cluster-tls-ca)", *host)
	}
	cfg.Node, cfg.DataDir, cfg.Port, cfg.MetricsAddr = *node, *dataDir, *port, *metricsAddr
	if cfg.Port == -1 {
		cfg.Port = 1 // validated below; the server picks the port
	}
	if err := cfg.Validate(); err != nil {
		return err
	}

	var handler slog.Handler = slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: cfg.LogLevel})
	if *jsonLogs {
		handler = slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: cfg.LogLevel})
	}
	log := slog.New(handler).With("node", cfg.Node)
	if cfg.StatsInterval > 0 {
		// Its own handler: the line is wanted whatever CLCKPT_LOG_LEVEL says.
		var statsHandler slog.Handler = slog.NewTextHandler(os.Stderr, nil)
		if *jsonLogs {
			statsHandler = slog.NewJSONHandler(os.Stderr, nil)
		}
		defer procstats.Start(cfg.StatsInterval, cfg.StatsCollect, slog.New(statsHandler).With("node", cfg.Node), memberCounts)()
	}
	start := time.Now()
	if *natsURL != "" {
		return serveMember(cfg, *natsURL, log, start)
	}

	// A standalone node keeps JetStream where the embedded default of its data directory does, and
	// holds the same lock: the checkpoints that programs made without it are the node's, and those
	// made through it stay when the programs go back to the embedded default. A clustered node's
	// JetStream is its cluster's, in a directory of its own.
	storeDir := natsconn.EmbeddedStoreDir(cfg.DataDir)
	if *clusterPort != 0 {
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
		Name: cfg.Node, Host: *host, Port: *port, StoreDir: storeDir,
		ClusterName: *clusterName, ClusterHost: *host, ClusterPort: *clusterPort, HTTPPort: *httpPort,
		TLSCert: *tlsCert, TLSKey: *tlsKey, TLSCA: *tlsCA, Logger: log,
		ClusterUser: *clusterUser, ClusterPassword: clusterPassword, SyncAlways: cfg.SyncWrites,
	}
	if *clusterPort != 0 && *clusterTLSCert != "" {
		o.ClusterTLSCert, o.ClusterTLSKey = *clusterTLSCert, *clusterTLSKey
		o.ClusterTLSCA = firstOf(*clusterTLSCA, *tlsCA, *clusterTLSCert)
	}
	if *routes != "" {
		o.Routes = strings.Split(*routes, ",")
	}
	// Clients authenticate: with -user, or by default with the token of the data directory, which
	// the programs of this host that share the directory read (as with the embedded default).
	token := ""
	switch {
	case *user != "":
		o.Users = append(o.Users, (&natsUser{*user, *password}).server())
	case *noAuth:
		log.Warn("no client authentication: anyone who reaches the port can read and write checkpoints", "host", *host, "port", *port)
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
	s, err := natsconn.StartServer(o)
	if err != nil {
		return err
	}
	defer func() {
		close(keepStop)
		s.Shutdown()
		s.WaitForShutdown()
	}()
	// After a full disk, JetStream restarts once half the reserve is free again, as the library's
	// embedded server does: a stream that failed a write takes no write until it is reopened.
	go natsconn.KeepJetStream(s, writeErrors, int64(cfg.DiskReserve)/2, log, keepStop)
	log.Info("nats server ready", "url", s.ClientURL(), "cluster_port", *clusterPort, "routes", o.Routes)

	// A clustered node waits for its peers: the KV buckets must be created with their replicas.
	size := 1
	if *clusterPort != 0 {
		size = len(o.Routes)
		if !slices.ContainsFunc(o.Routes, func(r string) bool { return strings.HasSuffix(r, fmt.Sprintf(":%d", *clusterPort)) }) {
			size++
		}
		for deadline := time.Now().Add(30 * time.Second); s.NumRoutes() < size-1 && time.Now().Before(deadline); {
			time.Sleep(50 * time.Millisecond)
		}
		for deadline := time.Now().Add(60 * time.Second); !s.JetStreamIsCurrent() && time.Now().Before(deadline); {
			time.Sleep(50 * time.Millisecond)
		}
		log.Info("cluster formed", "routes", s.NumRoutes(), "size", size, "jetstream_current", s.JetStreamIsCurrent())
	}

	var m *replication.Member
	if *member {
		opts := []nats.Option{nats.InProcessServer(s), nats.Name("clckpt serve " + cfg.Node), nats.MaxReconnects(-1)}
		if *user != "" {
			opts = append(opts, nats.UserInfo(*user, *password))
		}
		if token != "" {
			opts = append(opts, nats.Token(token))
		}
		// In-process connections skip TLS (the server allows it): the member talks plain NATS here.
		nc, err := nats.Connect(strings.Replace(s.ClientURL(), "tls://", "nats://", 1), opts...)
		if err != nil {
			return err
		}
		defer nc.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		m, err = joinWhenReady(ctx, cfg, nc, min(3, size), *tlsCert != "", log)
		cancel()
		if err != nil {
			return err
		}
	}
	log.Info("ready", "startup", time.Since(start).Round(time.Millisecond).String(), "member", *member)
	fmt.Printf("ready %s\n", s.ClientURL()) // one line on stdout for scripts

	got := waitForStop(log)
	writeHeapProfile()
	log.Info("stopping", "signal", got.String())
	if m != nil {
		if err := m.Close(); err != nil {
			log.Warn("leaving", "err", err)
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
		log.Warn("leaving", "err", err)
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
		slog.Warn("writing the heap profile", "path", heapProfile, "err", err)
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

func status(args []string) error {
	cfg, err := config.FromEnv()
	if err != nil {
		return err
	}
	fs := flag.NewFlagSet("status", flag.ExitOnError)
	url := fs.String("url", cfg.NATS.URL, "NATS server (CLCKPT_NATS_URL; default: the embedded one)")
	_ = fs.Parse(args)
	opts, err := natsconn.ClientOptions(cfg, "clckpt status")
	if err != nil {
		return err
	}
	if *url == "" { // the embedded server (or a clckpt serve) of this data directory: its token
		*url = natsconn.EmbeddedURL(cfg.Port)
		token, err := natsconn.EmbeddedToken(cfg.DataDir)
		if err != nil {
			return err
		}
		pem, err := natsconn.EmbeddedTLS(cfg.DataDir)
		if err != nil {
			return err
		}
		opts = append(opts, nats.Token(token), nats.RootCAs(pem))
	}
	nc, err := nats.Connect(*url, append(opts, nats.MaxReconnects(0))...)
	if err != nil {
		return err
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	dir, err := directory.Open(ctx, js, directory.Options{Prefix: cfg.Subject, Replicas: 1, Lease: cfg.Lease})
	if err != nil {
		return err
	}
	members, err := dir.Members(ctx)
	if err != nil {
		return err
	}
	names := make([]string, 0, len(members))
	for n := range members {
		names = append(names, n)
	}
	sort.Strings(names)
	fmt.Println("members:")
	for _, n := range names {
		m := members[n]
		link := "link off"
		if m.LinkAddr != "" {
			link = "link " + m.LinkAddr
			if m.LinkCert != "" {
				link += " (tls)"
			}
		}
		fmt.Printf("  %-20s %-12s %s\n", n, m.Kind, link)
	}
	entries, err := dir.List(ctx)
	if err != nil && !errors.Is(err, directory.ErrNotFound) {
		return err
	}
	sort.Slice(entries, func(i, j int) bool { return string(entries[i].Name) < string(entries[j].Name) })
	fmt.Println("checkpoints:")
	for _, e := range entries {
		fmt.Printf("  %-20q epoch %-4d active %-12s replicas %v in-sync %v opens %d\n",
			e.Name, e.Epoch, e.Active, e.Replicas, e.Synced, e.Opens())
	}
	return nil
}
