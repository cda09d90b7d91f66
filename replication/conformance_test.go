package replication

import (
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/clckpt/libclckpt/config"
	"github.com/clckpt/libclckpt/engine"
	"github.com/clckpt/libclckpt/engine/clock"
	"github.com/clckpt/libclckpt/engine/conformance"
	"github.com/clckpt/libclckpt/engine/store"
	"github.com/clckpt/libclckpt/replication/directory"
	"github.com/clckpt/libclckpt/replication/natsconn"
)

// conformanceLayout is where the checkpoints of the rows live: the rows call member a, and member b
// holds a replica of every checkpoint that a does not hold alone.
type conformanceLayout struct {
	name     string
	a, b     string // the members' kinds
	replicas int    // CLCKPT_REPLICAS
}

var conformanceLayouts = []conformanceLayout{
	// The libraries' path: an application member whose non-collocated checkpoints live on a server,
	// every call forwarded to it (collocated ones live on the application).
	{"application and server", directory.KindApplication, directory.KindServer, 1},
	// Two servers, each with a replica of every non-collocated checkpoint; the active is the one
	// placement picks, the member the rows call or the other.
	{"two servers", directory.KindServer, directory.KindServer, 2},
}

// activeTally counts where the checkpoints left by the rows have their active replica: both paths
// of a call (on the caller's replica, forwarded to the other member) must be covered.
type activeTally struct{ a, b, none atomic.Int64 }

// conformanceKnownFailures are the rows that fail on members, with the reason.
var conformanceKnownFailures = map[string]string{}

// TestConformance runs the contract's behaviour table on replicated members: each row on a fresh
// pair of members (their own subject prefix, buckets and data directories) over one NATS server,
// with one fake clock for the checkpoints' time of both.
func TestConformance(t *testing.T) {
	s, err := natsconn.StartServer(natsconn.ServerOptions{Name: "conformance", Host: "127.0.0.1", Port: -1, StoreDir: filepath.Join(memoryTempDir(t), "nats")})
	require.NoError(t, err)
	t.Cleanup(s.Shutdown)
	nc, err := nats.Connect(s.ClientURL(), nats.Timeout(10*time.Second)) // a loaded machine
	require.NoError(t, err)
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	require.NoError(t, err)
	var rows atomic.Uint64
	for _, layout := range conformanceLayouts {
		t.Run(layout.name, func(t *testing.T) {
			var actives activeTally
			conformance.Run(t, func(t *testing.T) conformance.Target {
				return memberTarget(t, s, js, layout, fmt.Sprintf("conf%d", rows.Add(1)), &actives)
			}, conformance.Options{KnownFailures: conformanceKnownFailures, Parallel: 12})
			t.Logf("checkpoints left by the rows, active on a: %d, on b: %d, without active: %d",
				actives.a.Load(), actives.b.Load(), actives.none.Load())
		})
	}
}

// memberTarget joins members a and b of a new deployment (subject prefix prefix) to the server.
func memberTarget(t *testing.T, s *server.Server, js jetstream.JetStream, layout conformanceLayout, prefix string, actives *activeTally) conformance.Target {
	fake := clock.NewFake(conformance.T0)
	root := memoryTempDir(t)
	join := func(name, kind string) *Member {
		c := config.Default()
		c.Node, c.DataDir, c.NATS.URL, c.Subject = name, filepath.Join(root, name), s.ClientURL(), prefix
		// No row kills a member (a restart takes the lease over at once): a long lease keeps a
		// member that the loaded test host stalls for seconds from counting as dead meanwhile.
		c.Lease, c.AckTimeout, c.Replicas = 10*time.Second, time.Second, layout.replicas
		c.MemTableBytes = store.MinMemTableSize // the rows write little: a cheaper store to open
		m, err := Join(bg, Options{Config: c, Kind: kind, Logger: testLogger(t).With("m", name), DataClock: fake})
		assert.NoError(t, err)
		return m
	}
	// Each sees the other's lease before a row starts: placement must see the server.
	meet := func(x, y *Member) {
		require.Eventually(t, func() bool { return x.alive(y.name) && y.alive(x.name) }, 20*time.Second, 5*time.Millisecond)
	}
	var a, b *Member
	both(func() { a = join("a", layout.a) }, func() { b = join("b", layout.b) })
	t.Cleanup(func() {
		closeIf := func(m *Member) {
			if m != nil {
				_ = m.Close()
			}
		}
		both(func() { closeIf(a) }, func() { closeIf(b) })
		for _, bucket := range []string{prefix + "-dir", prefix + "-members"} {
			_ = js.DeleteKeyValue(bg, bucket)
		}
	})
	require.False(t, a == nil || b == nil, "joining failed")
	meet(a, b)
	t.Cleanup(func() { checkLayout(t, a, b, actives) }) // before the members close
	return conformance.Target{
		Service: a,
		Advance: fake.Advance,
		Restart: func() engine.Service {
			a.closed.Store(true) // as kill -9: no goodbye
			a.shutdown()
			a = join("a", layout.a)
			require.NotNil(t, a, "joining again failed")
			meet(a, b)
			return a
		},
		Checkpoints: func() int { return len(a.allCkpts()) },
	}
}

// memoryTempDir is a temporary directory in memory (/dev/shm) when the host has one, else on disk:
// the table makes two stores and two KV buckets per row, and their files cost little there.
func memoryTempDir(t *testing.T) string {
	dir, err := os.MkdirTemp("/dev/shm", "clckpt-conformance-")
	if err != nil {
		return t.TempDir()
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	return dir
}

// both runs f and g at once and returns when both have.
func both(f, g func()) {
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); f() }()
	go func() { defer wg.Done(); g() }()
	wg.Wait()
}

// checkLayout checks, after a row, that b holds a replica of every checkpoint left that is not
// collocated, and that every replica b shares with a has, once the writes made so far reached it,
// the same sections, data and stamps as a's.
func checkLayout(t *testing.T, a, b *Member, actives *activeTally) {
	if t.Failed() {
		return
	}
	entries, err := a.dir.List(bg)
	if !assert.NoError(t, err) {
		return
	}
	for _, e := range entries {
		switch e.Active {
		case a.name:
			actives.a.Add(1)
		case b.name:
			actives.b.Add(1)
		default:
			actives.none.Add(1)
		}
		if !e.Attrs.Flags.IsCollocated() {
			assert.True(t, e.HasReplica(b.name), "checkpoint %q: replicas %v (b's lease seen by a now: %v)", e.Name, e.Replicas, a.alive(b.name))
		}
		if e.Active == "" || !e.HasReplica(a.name) || !e.HasReplica(b.name) {
			continue
		}
		dump := func(m *Member) string {
			if r := m.reps.Get(e.ID); r != nil {
				return dumpReplica(t, r, true)
			}
			return "no replica"
		}
		assert.Eventually(t, func() bool { return dump(a) == dump(b) }, 20*time.Second, 10*time.Millisecond,
			"checkpoint %q: the replicas of a and b differ", e.Name)
		assert.Equal(t, dump(a), dump(b), "checkpoint %q", e.Name)
	}
}
