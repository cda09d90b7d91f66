// Package natsconn connects a member to NATS: to the servers of CLCKPT_NATS_URL, or, by default, to
// an embedded server on a loopback port that one process of the host runs and any other process of
// the host takes over when it dies (see REPLICATION.md). It also starts the servers of clckpt serve.
package natsconn

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"

	"github.com/clckpt/libclckpt/config"
	"github.com/clckpt/libclckpt/internal/privdir"
)

// Conn is a member's connection, and the embedded server when this process hosts it.
type Conn struct {
	*nats.Conn
	cfg    config.Config
	log    *slog.Logger
	closed chan struct{}

	token string // the embedded server's (see EmbeddedToken)
	pem   string // its certificate and key (see EmbeddedTLS)

	mu     sync.Mutex
	server *server.Server // the embedded server this process hosts, if any
	lock   *os.File       // the host lock held with it
}

// Connect connects as the configuration says. name identifies the connection in the server's
// monitoring.
func Connect(ctx context.Context, cfg config.Config, name string, log *slog.Logger) (*Conn, error) {
	c := &Conn{cfg: cfg, log: log, closed: make(chan struct{})}
	if cfg.NATS.URL != "" {
		hosts, err := parseURLs(cfg.NATS.URL)
		if err != nil {
			return nil, config.BadSetting(err)
		}
		opts, err := ClientOptions(cfg, name)
		if err != nil {
			return nil, config.BadSetting(err)
		}
		opts = append(opts, nats.RetryOnFailedConnect(false))
		nc, err := nats.Connect(cfg.NATS.URL, opts...)
		// A server that took the connection but answered too late is slow, not absent (seen on a
		// loaded machine): a few more tries. Refused or unresolvable still fails at once.
		for try := 1; try < connectTries && isTimeout(err) && ctx.Err() == nil; try++ {
			log.Debug("connecting to NATS again", "url", cfg.NATS.URL, "err", err)
			nc, err = nats.Connect(cfg.NATS.URL, opts...)
		}
		if err != nil {
			err = fmt.Errorf("natsconn: connect to %s: %w", cfg.NATS.URL, err)
			if rejected(err) || unresolvable(ctx, hosts) {
				return nil, config.BadSetting(err)
			}
			return nil, err
		}
		c.Conn = nc
		return c, nil
	}
	return c, c.connectEmbedded(ctx, name)
}

// connectTries is how many times Connect tries a server that does not answer within the
// connection timeout before it gives up.
const connectTries = 3

func isTimeout(err error) bool {
	var ne net.Error
	return errors.Is(err, nats.ErrTimeout) || errors.As(err, &ne) && ne.Timeout()
}

// EmbeddedToken returns the token that the embedded server of a data directory requires from its
// clients, creating it at first use: 32 random bytes in <dataDir>/nats.token, mode 0600. Processes
// that share the data directory (the same user) read it; other users of the host cannot, so they
// cannot reach the checkpoints through the server either.
func EmbeddedToken(dataDir string) (string, error) {
	b, err := createOnce(dataDir, "nats.token", func() ([]byte, error) {
		var raw [32]byte
		if _, err := rand.Read(raw[:]); err != nil {
			return nil, err
		}
		return []byte(hex.EncodeToString(raw[:]) + "\n"), nil
	})
	return strings.TrimSpace(string(b)), err
}

// EmbeddedTLS returns the file holding the certificate and key of the embedded server of a data
// directory (<dataDir>/nats.pem, mode 0600), creating them at first use: a self-signed certificate
// for 127.0.0.1. The server presents it, and its clients accept no other: a process that took the
// port first (another user's, say) cannot pass for the server, and never sees the token.
//
// Beside it, <dataDir>/nats.crt holds the certificate alone: the file to copy to clients elsewhere
// (CLCKPT_NATS_TLS_CA, clckpt --tls-ca), since nats.pem holds the server's private key too.
func EmbeddedTLS(dataDir string) (string, error) {
	b, err := createOnce(dataDir, "nats.pem", selfSigned)
	if err != nil {
		return "", err
	}
	if _, err := createOnce(dataDir, "nats.crt", func() ([]byte, error) { return certificatesOf(b) }); err != nil {
		return "", err
	}
	return filepath.Join(dataDir, "nats.pem"), nil
}

// certificatesOf returns the CERTIFICATE blocks of a PEM file, and nothing else.
func certificatesOf(b []byte) ([]byte, error) {
	var out []byte
	for {
		var block *pem.Block
		block, b = pem.Decode(b)
		if block == nil {
			break
		}
		if block.Type == "CERTIFICATE" {
			out = append(out, pem.EncodeToMemory(block)...)
		}
	}
	if len(out) == 0 {
		return nil, errors.New("no certificate in nats.pem")
	}
	return out, nil
}

// createOnce returns the content of <dataDir>/<name>, which make creates at first use. The data
// directory is checked (ours, narrowed to 0700) and the file too (ours, narrowed to 0600).
func createOnce(dataDir, name string, make func() ([]byte, error)) ([]byte, error) {
	if err := privdir.Claim(dataDir); err != nil {
		return nil, fmt.Errorf("natsconn: data directory: %w", err)
	}
	path := filepath.Join(dataDir, name)
	for attempt := 0; ; attempt++ {
		b, err := os.ReadFile(path)
		if err == nil && len(b) > 0 {
			if err := privdir.Tighten(path, 0o600); err != nil {
				return nil, fmt.Errorf("natsconn: %w", err)
			}
			return b, nil
		}
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("natsconn: read %s: %w", path, err)
		}
		if attempt == 50 {
			return nil, fmt.Errorf("natsconn: %s stays empty", path)
		}
		if err == nil { // another process is writing it
			time.Sleep(10 * time.Millisecond)
			continue
		}
		content, err := make()
		if err != nil {
			return nil, fmt.Errorf("natsconn: make %s: %w", path, err)
		}
		// Written whole under a temporary name, then linked: readers never see half a file, and of
		// two processes creating it at once, one wins and both use its content. A name of its own
		// for every creator, threads of one process included.
		f, err := os.CreateTemp(dataDir, name+".*.tmp")
		if err != nil {
			return nil, fmt.Errorf("natsconn: write %s: %w", path, err)
		}
		tmp := f.Name()
		_, err = f.Write(content)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err == nil {
			err = os.Link(tmp, path)
		}
		os.Remove(tmp)
		if err != nil && !errors.Is(err, os.ErrExist) {
			return nil, fmt.Errorf("natsconn: write %s: %w", path, err)
		}
	}
}

// selfSigned makes a certificate for the loopback addresses, and its key, in PEM.
func selfSigned() ([]byte, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 120))
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial, Subject: pkix.Name{CommonName: "clckpt embedded NATS server"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().AddDate(100, 0, 0),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback}, DNSNames: []string{"localhost"},
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, err
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return nil, err
	}
	return append(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER})...), nil
}

// EmbeddedURL is the address of the embedded server of a host.
func EmbeddedURL(port int) string { return fmt.Sprintf("nats://127.0.0.1:%d", port) }

func (c *Conn) connectEmbedded(ctx context.Context, name string) error {
	url := EmbeddedURL(c.cfg.Port)
	opts, err := ClientOptions(c.cfg, name)
	if err != nil {
		return err
	}
	if c.token, err = EmbeddedToken(c.cfg.DataDir); err != nil {
		return err
	}
	if c.pem, err = EmbeddedTLS(c.cfg.DataDir); err != nil {
		return err
	}
	opts = append(opts,
		nats.Token(c.token),
		nats.RetryOnFailedConnect(false),
		nats.DisconnectErrHandler(func(*nats.Conn, error) { go c.takeOver() }),
	)
	for {
		// Over TCP the server must present the data directory's certificate before the token goes.
		nc, err := nats.Connect(url, append(opts, nats.RootCAs(c.pem))...)
		if err == nil {
			c.Conn = nc
			c.log.Debug("joined the host's embedded NATS server", "url", url)
			return nil
		}
		if notOurs(err) {
			return config.BadSetting(fmt.Errorf("natsconn: the NATS server on %s is not the one of data directory %s "+
				"(it does not present the certificate of %s): another program or user holds the port; the token was "+
				"not sent. Set CLCKPT_PORT to another port: %w", url, c.cfg.DataDir, c.pem, err))
		}
		if rejected(err) {
			return config.BadSetting(fmt.Errorf("natsconn: token mismatch: the NATS server on %s does not accept the token of %s "+
				"(it serves another data directory: set CLCKPT_DATA_DIR to that one, or CLCKPT_PORT to another port): %w",
				url, filepath.Join(c.cfg.DataDir, "nats.token"), err))
		}
		hosted, herr := c.host()
		if herr != nil {
			return herr
		}
		if hosted {
			// The hosting process talks to its server through memory, not loopback TCP: a replicated
			// write crosses this connection twice.
			c.mu.Lock()
			srv := c.server
			c.mu.Unlock()
			nc, err := nats.Connect(url, append(opts, nats.InProcessServer(srv))...)
			if err != nil {
				return fmt.Errorf("natsconn: connect to the embedded server: %w", err)
			}
			c.Conn = nc
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("natsconn: no NATS server at %s and another process holds %s: %w", url, c.lockPath(), ctx.Err())
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// notOurs reports whether a connection failed because the server did not prove it is the data
// directory's: no TLS, or another certificate.
func notOurs(err error) bool {
	var verify *tls.CertificateVerificationError
	var unknown x509.UnknownAuthorityError
	return errors.Is(err, nats.ErrSecureConnRequired) || errors.Is(err, nats.ErrSecureConnWanted) || errors.As(err, &verify) || errors.As(err, &unknown)
}

func (c *Conn) lockPath() string { return hostLockPath(c.cfg.DataDir) }

func hostLockPath(dataDir string) string { return filepath.Join(dataDir, "nats.lock") }

// EmbeddedStoreDir is where the embedded server of a data directory keeps JetStream (the directory
// of checkpoints, and leases). A standalone clckpt serve on the same data directory uses it too.
func EmbeddedStoreDir(dataDir string) string { return filepath.Join(dataDir, "nats") }

// ErrHostLocked: another process of the data directory runs its embedded server.
var ErrHostLocked = errors.New("natsconn: another process of this data directory runs its NATS server (it holds nats.lock)")

// LockHost takes the lock that the process running the NATS server of a data directory holds, so
// that no two servers ever share its JetStream store. Closing the file releases it.
func LockHost(dataDir string) (*os.File, error) {
	if err := privdir.Claim(dataDir); err != nil {
		return nil, fmt.Errorf("natsconn: data directory: %w", err)
	}
	f, err := os.OpenFile(hostLockPath(dataDir), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("natsconn: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		return nil, ErrHostLocked
	}
	return f, nil
}

// host starts the embedded server if this process can take the host lock. It reports whether this
// process hosts the server now.
func (c *Conn) host() (bool, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.server != nil {
		return true, nil
	}
	f, err := LockHost(c.cfg.DataDir)
	if errors.Is(err, ErrHostLocked) {
		return false, nil // another process hosts, or is starting to
	}
	if err != nil {
		return false, err
	}
	writeErrors := make(chan struct{}, 1)
	s, err := StartServer(ServerOptions{
		WriteErrors: writeErrors,
		Name:        "clckpt-embedded",
		Host:        "127.0.0.1",
		Port:        c.cfg.Port,
		StoreDir:    EmbeddedStoreDir(c.cfg.DataDir),
		Token:       c.token,
		TLSCert:     c.pem,
		TLSKey:      c.pem,
		SyncAlways:  c.cfg.SyncWrites,
		Logger:      c.log,
	})
	if err != nil {
		f.Close()
		return false, fmt.Errorf("natsconn: start the embedded NATS server on port %d (set CLCKPT_PORT to use another): %w", c.cfg.Port, err)
	}
	c.server, c.lock = s, f
	go KeepJetStream(s, writeErrors, int64(c.cfg.DiskReserve)/2, c.log, c.closed)
	c.log.Info("hosting the embedded NATS server", "port", c.cfg.Port, "store", EmbeddedStoreDir(c.cfg.DataDir))
	return true, nil
}

// takeOver runs when the connection drops: if the process that hosted the embedded server died, one
// of the others starts it again on the same port and store; the client reconnects by itself.
func (c *Conn) takeOver() {
	for {
		select {
		case <-c.closed:
			return
		default:
		}
		if c.Conn != nil && (c.Conn.IsConnected() || c.Conn.IsClosed()) {
			return
		}
		if hosted, err := c.host(); err != nil {
			c.log.Error("taking over the embedded NATS server", "err", err)
		} else if hosted {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Hosting reports whether this process runs the embedded server.
func (c *Conn) Hosting() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.server != nil
}

// Close closes the connection and, if this process hosts it, the embedded server.
func (c *Conn) Close() {
	select {
	case <-c.closed:
		return
	default:
		close(c.closed)
	}
	if c.Conn != nil {
		c.Conn.Close()
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.server != nil {
		c.server.Shutdown()
		c.server.WaitForShutdown()
		c.server = nil
	}
	if c.lock != nil {
		c.lock.Close()
		c.lock = nil
	}
}

// parseURLs checks CLCKPT_NATS_URL (comma-separated; a URL without a scheme is nats://, as the NATS
// client takes it) and returns the host of each URL.
func parseURLs(list string) ([]string, error) {
	var hosts []string
	for _, raw := range strings.Split(list, ",") {
		raw = strings.TrimSpace(raw)
		s := raw
		if !strings.Contains(s, "://") {
			s = "nats://" + s
		}
		u, err := url.Parse(s)
		if err != nil {
			return nil, fmt.Errorf("natsconn: CLCKPT_NATS_URL %q: %w", raw, err)
		}
		switch {
		case u.Scheme != "nats" && u.Scheme != "tls" && u.Scheme != "ws" && u.Scheme != "wss":
			return nil, fmt.Errorf("natsconn: CLCKPT_NATS_URL %q: scheme %q (use nats://, tls://, ws:// or wss://)", raw, u.Scheme)
		case u.Hostname() == "":
			return nil, fmt.Errorf("natsconn: CLCKPT_NATS_URL %q: no host", raw)
		}
		hosts = append(hosts, u.Hostname())
	}
	return hosts, nil
}

// rejected reports whether a connection failed because the server refused the credentials or the
// client refused the server's certificate: no retry changes that.
func rejected(err error) bool {
	var verify *tls.CertificateVerificationError
	return errors.Is(err, nats.ErrAuthorization) || errors.Is(err, nats.ErrAuthExpired) ||
		errors.Is(err, nats.ErrAuthRevoked) || errors.Is(err, nats.ErrAccountAuthExpired) || errors.As(err, &verify)
}

// unresolvable reports whether no host of the list has an address: the name service says that none
// of them exists (a name service that cannot answer now is no proof).
func unresolvable(ctx context.Context, hosts []string) bool {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	for _, h := range hosts {
		if net.ParseIP(h) != nil {
			return false
		}
		_, err := net.DefaultResolver.LookupHost(ctx, h)
		var dns *net.DNSError
		if !errors.As(err, &dns) || !dns.IsNotFound {
			return false
		}
	}
	return true
}

// ClientOptions are the connection options every member uses: reconnection, timeouts, and the
// credentials and TLS settings of cfg. Tools that connect to a deployment use them too.
func ClientOptions(cfg config.Config, name string) ([]nats.Option, error) {
	opts := []nats.Option{
		nats.Name(name),
		nats.MaxReconnects(-1),
		nats.ReconnectWait(25 * time.Millisecond),
		nats.ReconnectJitter(25*time.Millisecond, 25*time.Millisecond),
		nats.Timeout(2 * time.Second),
		nats.PingInterval(2 * time.Second),
		nats.MaxPingsOutstanding(3),
		nats.ReconnectBufSize(64 << 20),
	}
	n := cfg.NATS
	if n.Creds != "" {
		opts = append(opts, nats.UserCredentials(n.Creds))
	}
	if n.NKey != "" {
		o, err := nats.NkeyOptionFromSeed(n.NKey)
		if err != nil {
			return nil, fmt.Errorf("natsconn: CLCKPT_NATS_NKEY: %w", err)
		}
		opts = append(opts, o)
	}
	if n.User != "" {
		opts = append(opts, nats.UserInfo(n.User, n.Password))
	}
	if n.Token != "" {
		opts = append(opts, nats.Token(n.Token))
	}
	if n.TLSCA != "" {
		opts = append(opts, nats.RootCAs(n.TLSCA))
	}
	if (n.TLSCert == "") != (n.TLSKey == "") {
		return nil, errors.New("natsconn: set both CLCKPT_NATS_TLS_CERT and CLCKPT_NATS_TLS_KEY, or neither")
	}
	if n.TLSCert != "" {
		opts = append(opts, nats.ClientCert(n.TLSCert, n.TLSKey))
	}
	return opts, nil
}

// ServerOptions configure an embedded NATS server with JetStream.
type ServerOptions struct {
	Name        string // server name, unique in a cluster
	Host        string // client listen address
	Port        int    // client port (-1: any)
	StoreDir    string // JetStream storage
	ClusterName string // set with ClusterPort to form a cluster
	ClusterHost string
	ClusterPort int      // route port (-1: any); 0: no cluster
	Routes      []string // nats-route://host:port of the peers
	// ClusterUser and ClusterPassword, when set, are required from routes and presented to the
	// peers (added to the route URLs that carry none).
	ClusterUser, ClusterPassword string
	// ClusterTLSCert, ClusterTLSKey and ClusterTLSCA, when set, make routes use TLS both ways: each
	// side presents the certificate and verifies the other's against the CA.
	ClusterTLSCert, ClusterTLSKey, ClusterTLSCA string
	HTTPPort                                    int // monitoring port (on loopback only), 0: none
	// Authorization, when set, is required from clients (users with passwords or nkeys, or a token).
	Users []*server.User
	NKeys []*server.NkeyUser
	Token string
	// TLS for clients.
	TLSCert, TLSKey, TLSCA string
	// SyncAlways makes JetStream fsync after every write (CLCKPT_SYNC_WRITES=1), instead of every
	// two minutes in the background.
	SyncAlways bool
	Logger     *slog.Logger
	// WriteErrors, when set, receives (without blocking) each time JetStream reports a critical
	// write error (a full disk): the stream concerned takes no write until JetStream restarts
	// (KeepJetStream).
	WriteErrors chan<- struct{}
}

// StartServer starts an embedded NATS server with JetStream and waits until it accepts clients. It
// never touches the process's signals.
func StartServer(o ServerOptions) (*server.Server, error) {
	opts := &server.Options{
		ServerName: o.Name,
		Host:       o.Host,
		Port:       o.Port,
		JetStream:  true,
		StoreDir:   o.StoreDir,
		NoSigs:     true,
		NoLog:      o.Logger == nil,
		HTTPPort:   o.HTTPPort,
		// The monitoring endpoints have no authentication (connections, subjects, streams): they
		// never listen beyond this host, whatever Host is.
		HTTPHost:      "127.0.0.1",
		Users:         o.Users,
		Nkeys:         o.NKeys,
		Authorization: o.Token,
		// Big enough for a snapshot batch or a section of the engine's maximum size.
		MaxPayload: 80 << 20,
		MaxPending: 256 << 20,
		SyncAlways: o.SyncAlways,
	}
	if o.ClusterPort != 0 {
		opts.Cluster = server.ClusterOpts{Name: o.ClusterName, Host: o.ClusterHost, Port: o.ClusterPort,
			Username: o.ClusterUser, Password: o.ClusterPassword}
		for _, r := range o.Routes {
			u, err := url.Parse(r)
			if err != nil {
				return nil, fmt.Errorf("natsconn: route %q: %w", r, err)
			}
			if u.User == nil && o.ClusterUser != "" {
				u.User = url.UserPassword(o.ClusterUser, o.ClusterPassword)
			}
			opts.Routes = append(opts.Routes, u)
		}
		if o.ClusterTLSCert != "" {
			tc, err := server.GenTLSConfig(&server.TLSConfigOpts{CertFile: o.ClusterTLSCert, KeyFile: o.ClusterTLSKey, CaFile: o.ClusterTLSCA, Verify: true})
			if err != nil {
				return nil, fmt.Errorf("natsconn: route TLS: %w", err)
			}
			tc.RootCAs = tc.ClientCAs // a route dials too: it verifies the listener against the same CA
			opts.Cluster.TLSConfig = tc
			opts.Cluster.TLSTimeout = 5
		}
	}
	if o.TLSCert != "" {
		tc, err := server.GenTLSConfig(&server.TLSConfigOpts{CertFile: o.TLSCert, KeyFile: o.TLSKey, CaFile: o.TLSCA})
		if err != nil {
			return nil, fmt.Errorf("natsconn: TLS: %w", err)
		}
		opts.TLSConfig = tc
		opts.TLS = true
	}
	if err := privdir.Own(o.StoreDir); err != nil {
		return nil, fmt.Errorf("natsconn: %w", err)
	}
	s, err := server.NewServer(opts)
	if err != nil {
		return nil, err
	}
	if o.Logger != nil || o.WriteErrors != nil {
		l := o.Logger
		if l == nil {
			l = slog.New(slog.DiscardHandler)
		}
		s.SetLoggerV2(&serverLogger{l: l, writeErrors: o.WriteErrors}, false, false, false)
	}
	// Start does not block (it returns once the server listens, JetStream enabled): waiting for it
	// rather than polling at once spares the first process of a host the 25 ms that
	// ReadyForConnections sleeps between two looks. Both waits stay bounded.
	started := make(chan struct{})
	go func() {
		s.Start()
		close(started)
	}()
	select {
	case <-started:
	case <-time.After(10 * time.Second):
	}
	if !s.ReadyForConnections(10 * time.Second) {
		s.Shutdown()
		return nil, fmt.Errorf("natsconn: the NATS server did not start (port %d in use?)", o.Port)
	}
	return s, nil
}

// serverLogger forwards the server's notices and errors to slog; its debug and trace output is
// dropped.
type serverLogger struct {
	l           *slog.Logger
	writeErrors chan<- struct{}
}

func (l *serverLogger) Noticef(f string, a ...any) { l.l.Debug("nats: " + fmt.Sprintf(f, a...)) }
func (l *serverLogger) Warnf(f string, a ...any) {
	msg := fmt.Sprintf(f, a...)
	switch {
	case strings.Contains(msg, "Maximum payloads"): // deliberate: a section may be that large
		l.l.Debug("nats: " + msg)
	case strings.HasPrefix(msg, "Waiting for routing"), strings.Contains(msg, "has not established contact with a meta leader"):
		// A clustered node while its peers start and elect JetStream's leader: clckpt serve says
		// itself when the cluster does not form (what to check), and a member retries JetStream
		// meanwhile.
		l.l.Debug("nats: " + msg)
	case rebuilding(msg):
		l.l.Info("nats: JetStream rebuilds its state after an unclean stop: " + msg)
	default:
		l.l.Warn("nats: " + msg)
	}
}

// rebuilding reports whether a NATS warning says that JetStream rebuilds the index of one of its
// streams from the stream's messages, as it does at every start after the process was killed: it
// needs nothing from anyone.
func rebuilding(msg string) bool {
	if !strings.HasPrefix(msg, "Filestore [") {
		return false
	}
	for _, s := range []string{"state is outdated", "Stream state outdated", "] Recovering ", "Stream state detected prior state",
		"Stream state encountered internal inconsistency on recover", "Could not read stream state file"} {
		if strings.Contains(msg, s) {
			return true
		}
	}
	return false
}
func (l *serverLogger) Fatalf(f string, a ...any) { l.l.Error("nats: " + fmt.Sprintf(f, a...)) }
func (l *serverLogger) Errorf(f string, a ...any) {
	msg := fmt.Sprintf(f, a...)
	if l.writeErrors != nil && strings.Contains(strings.ToLower(msg), "critical write error") {
		select {
		case l.writeErrors <- struct{}{}:
		default:
		}
	}
	if strings.Contains(msg, "connection refused") { // peers that are not up yet
		l.l.Debug("nats: " + msg)
		return
	}
	if clientLeftHandshake(msg) {
		l.l.Info("nats: a client went away during its TLS handshake: " + msg)
		return
	}
	l.l.Error("nats: " + msg)
}

// clientLeftHandshake reports whether a NATS error says only that a client closed its connection
// in the middle of the TLS handshake (a client that gave up waiting for a server that was busy
// starting, or a port probe): nothing for the operator to do. A handshake that fails on its
// merits (a bad certificate, a client without TLS) stays an error.
func clientLeftHandshake(msg string) bool {
	if !strings.Contains(msg, "TLS handshake error") {
		return false
	}
	for _, s := range []string{"use of closed network connection", ": EOF", "connection reset by peer"} {
		if strings.HasSuffix(msg, s) || strings.Contains(msg, s+" ") {
			return true
		}
	}
	return false
}
func (l *serverLogger) Debugf(string, ...any) {}
func (l *serverLogger) Tracef(string, ...any) {}

// KeepJetStream restarts the JetStream of server s after a critical write error (a message on
// writeErrors), or after JetStream turned itself off, once the filesystem of its store has minFree
// bytes free again: a stream that failed a write takes no write until its store is opened again,
// and without this the server would stay broken until the process restarts. The clients keep their
// connections; their requests fail (and are retried) for the moment of the restart. It returns when
// stop is closed or the server shuts down.
func KeepJetStream(s *server.Server, writeErrors <-chan struct{}, minFree int64, log *slog.Logger, stop <-chan struct{}) {
	const look = 250 * time.Millisecond
	cfg := s.JetStreamConfig()
	if cfg == nil {
		return
	}
	broken := false
	for {
		select {
		case <-stop:
			return
		case <-writeErrors:
			if !broken {
				log.Error("the NATS server's JetStream failed to write (disk full?): it restarts once space is back", "store", cfg.StoreDir)
			}
			broken = true
		case <-time.After(look):
		}
		if !s.Running() {
			return
		}
		if !broken && !s.JetStreamEnabled() {
			log.Error("the NATS server's JetStream turned itself off: it restarts once space is back", "store", cfg.StoreDir)
			broken = true
		}
		if !broken {
			continue
		}
		var st syscall.Statfs_t
		if err := syscall.Statfs(cfg.StoreDir, &st); err != nil || int64(st.Bavail)*st.Bsize < minFree {
			continue
		}
		if err := s.ShutdownJetStream(); err != nil {
			log.Warn("stopping JetStream for its restart", "err", err)
		}
		again := *cfg // EnableJetStream adds the "jetstream" that the running configuration has
		again.StoreDir = strings.TrimSuffix(cfg.StoreDir, string(filepath.Separator)+server.JetStreamStoreDir)
		if err := s.EnableJetStream(&again); err != nil {
			log.Error("restarting JetStream", "err", err)
			continue
		}
		broken = false
		for len(writeErrors) > 0 { // errors of the stores just closed
			<-writeErrors
		}
		log.Warn("disk space is back: the NATS server's JetStream restarted", "store", cfg.StoreDir)
	}
}

// ClientConfig completes cfg for a tool that reaches the service from outside the members' data
// directory (clckpt's client commands): with no NATS URL, the server of the data directory (the
// embedded default, or a clckpt serve of it) on its loopback port, with the directory's token and
// certificate unless cfg gives other credentials or another CA. It starts no server.
func ClientConfig(cfg config.Config) (config.Config, error) {
	if cfg.NATS.URL != "" {
		return cfg, nil
	}
	cfg.NATS.URL = EmbeddedURL(cfg.Port)
	n := &cfg.NATS
	if n.Token == "" && n.User == "" && n.Creds == "" && n.NKey == "" {
		token, err := EmbeddedToken(cfg.DataDir)
		if err != nil {
			return cfg, err
		}
		n.Token = token
	}
	if n.TLSCA == "" {
		pem, err := EmbeddedTLS(cfg.DataDir)
		if err != nil {
			return cfg, err
		}
		n.TLSCA = pem
	}
	return cfg, nil
}
