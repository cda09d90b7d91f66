package replication

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	dto "github.com/prometheus/client_model/go"
	"github.com/stretchr/testify/require"

	"github.com/clckpt/libclckpt/config"
	"github.com/clckpt/libclckpt/engine"
	"github.com/clckpt/libclckpt/internal/tcpcut"
	"github.com/clckpt/libclckpt/replication/directory"
	"github.com/clckpt/libclckpt/replication/natsconn"
)

var bg = context.Background()

// cluster is one NATS server and members joined to it, each with its own data directory.
type cluster struct {
	t       *testing.T
	root    string
	server  *server.Server
	members map[string]*Member
	tune    func(*config.Config) // if set, changes the settings of the members that join next
	sweep   time.Duration        // Options.OrphanSweep of the members that join next
	paths   map[string]*tcpcut.Forwarder
}

func newCluster(t *testing.T) *cluster {
	root := t.TempDir()
	s, err := natsconn.StartServer(natsconn.ServerOptions{Name: "test", Host: "127.0.0.1", Port: -1, StoreDir: filepath.Join(root, "nats")})
	require.NoError(t, err)
	cl := &cluster{t: t, root: root, server: s, members: map[string]*Member{}}
	t.Cleanup(func() {
		for _, f := range cl.paths {
			f.Restore() // members leave through NATS
		}
		for _, m := range cl.members {
			_ = m.Close()
		}
		for _, f := range cl.paths {
			f.Close()
		}
		s.Shutdown()
	})
	return cl
}

// cutPaths puts the NATS connection of each named member (before it joins) through a forwarder
// that the test can cut and restore.
func (cl *cluster) cutPaths(names ...string) map[string]*tcpcut.Forwarder {
	if cl.paths == nil {
		cl.paths = map[string]*tcpcut.Forwarder{}
	}
	for _, n := range names {
		f, err := tcpcut.New(strings.TrimPrefix(cl.server.ClientURL(), "nats://"))
		require.NoError(cl.t, err)
		cl.paths[n] = f
	}
	return cl.paths
}

func testLogger(t *testing.T) *slog.Logger {
	if os.Getenv("CLCKPT_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.DiscardHandler)
}

func (cl *cluster) config(name string) config.Config {
	c := config.Default()
	c.Node = name
	c.DataDir = filepath.Join(cl.root, name)
	c.NATS.URL = cl.server.ClientURL()
	c.Lease = time.Second
	c.AckTimeout = 300 * time.Millisecond
	if f := cl.paths[name]; f != nil {
		c.NATS.URL = "nats://" + f.Addr()
	}
	if cl.tune != nil {
		cl.tune(&c)
	}
	return c
}

func (cl *cluster) join(name, kind string) *Member {
	cl.t.Helper()
	m, err := Join(bg, Options{Config: cl.config(name), Kind: kind, Logger: testLogger(cl.t).With("m", name), OrphanSweep: cl.sweep})
	require.NoError(cl.t, err)
	cl.members[name] = m
	// Wait until the others' leases are known, so that placement sees every server.
	require.Eventually(cl.t, func() bool {
		for other := range cl.members {
			if !m.alive(other) {
				return false
			}
		}
		return true
	}, 10*time.Second, 5*time.Millisecond)
	for _, o := range cl.members {
		require.Eventually(cl.t, func() bool { return o.alive(name) }, 10*time.Second, 5*time.Millisecond)
	}
	return m
}

// crash stops a member the way kill -9 would: no goodbye, its lease runs out by itself.
func (cl *cluster) crash(name string) {
	m := cl.members[name]
	delete(cl.members, name)
	m.closed.Store(true)
	m.shutdown()
}

// waitDead waits until every member has seen the lease of name end.
func (cl *cluster) waitDead(name string) {
	for _, m := range cl.members {
		require.Eventually(cl.t, func() bool { return !m.alive(name) }, 10*time.Second, 10*time.Millisecond)
	}
}

const rwc = engine.OpenRead | engine.OpenWrite | engine.OpenCreate

func attrs(flags engine.CreationFlags) *engine.Attributes {
	return &engine.Attributes{Flags: flags, Retention: engine.RetainForever, MaxSections: 16, MaxSectionIDSize: 32}
}

func read(t *testing.T, h engine.Checkpoint, id string) string {
	t.Helper()
	el := []engine.ReadElement{{SectionID: []byte(id)}}
	require.NoError(t, h.Read(bg, el))
	return string(el[0].Buffer)
}

// replicaContent dumps a member's local replica of a checkpoint (sections and data), for comparisons.
func replicaContent(t *testing.T, m *Member, name string) string {
	t.Helper()
	for _, r := range m.reps.All() {
		if r.Name() == name {
			return dumpReplica(t, r, false)
		}
	}
	return "no replica"
}

// dumpReplica writes a replica's position and sections (ids and data; with stamps, also their
// expiration and lastUpdate) as text.
func dumpReplica(t *testing.T, r *engine.Replica, stamps bool) string {
	t.Helper()
	_, lsn := r.Position()
	ids, err := r.SectionIDs(engine.SectionsAny, time.Time{})
	if err != nil { // only the default section, or none
		el := []engine.ReadElement{{}}
		if r.Read(el) != nil {
			return "no sections"
		}
		return fmt.Sprintf("lsn %d: default=%x", lsn, el[0].Buffer)
	}
	out := ""
	for _, id := range ids {
		el := []engine.ReadElement{{SectionID: id}}
		if err := r.Read(el); err != nil { // deleted since the list was taken
			out += fmt.Sprintf("%s (%v);", id, err)
			continue
		}
		out += fmt.Sprintf("%s=%x;", id, el[0].Buffer)
		if d, ok := r.Describe(id); stamps && ok {
			out += fmt.Sprintf("(expires %d, updated %d)", d.Expiration.UnixNano(), d.LastUpdate.UnixNano())
		}
	}
	return fmt.Sprintf("lsn %d: %s", lsn, out)
}

func freePort(t *testing.T) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

var _ = directory.KindServer

// twoApps starts a cluster with two application members, a and b, each with a handle on the
// checkpoint name (created with flags).
func twoApps(t *testing.T, name string, flags engine.CreationFlags) (cl *cluster, a, b *Member, ha, hb engine.Checkpoint) {
	cl = newCluster(t)
	a = cl.join("a", directory.KindApplication)
	b = cl.join("b", directory.KindApplication)
	var err error
	ha, err = a.Open(bg, name, attrs(flags), rwc)
	require.NoError(t, err)
	hb, err = b.Open(bg, name, attrs(flags), rwc)
	require.NoError(t, err)
	return cl, a, b, ha, hb
}

// metricSum is the sum of a member's series of metric name whose labels include labels (pairs).
func metricSum(t *testing.T, m *Member, name string, labels ...string) float64 {
	t.Helper()
	fams, err := m.Metrics().Registry().Gather()
	require.NoError(t, err)
	sum := 0.0
	for _, f := range fams {
		if f.GetName() != name {
			continue
		}
	next:
		for _, s := range f.GetMetric() {
			for i := 0; i+1 < len(labels); i += 2 {
				if !slices.ContainsFunc(s.GetLabel(), func(l *dto.LabelPair) bool { return l.GetName() == labels[i] && l.GetValue() == labels[i+1] }) {
					continue next
				}
			}
			sum += s.GetCounter().GetValue() + s.GetGauge().GetValue()
		}
	}
	return sum
}
