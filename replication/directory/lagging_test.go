package directory

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/url"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/require"

	"github.com/clckpt/libclckpt/engine"
	"github.com/clckpt/libclckpt/internal/tcpcut"
	"github.com/clckpt/libclckpt/replication/natsconn"
)

// threeServers is a cluster of three NATS servers on fixed ports (random free ones), each of
// which can be restarted on its own ports and store.
type threeServers struct {
	t       *testing.T
	opts    []natsconn.ServerOptions
	servers []*server.Server
}

func freePorts(t *testing.T, n int) []int {
	var ls []net.Listener
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		ls = append(ls, l)
	}
	var ports []int
	for _, l := range ls {
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
		require.NoError(t, l.Close())
	}
	return ports
}

func startThreeServers(t *testing.T) *threeServers {
	ports := freePorts(t, 6)
	var routes []string
	for _, p := range ports[3:] {
		routes = append(routes, "nats-route://127.0.0.1:"+strconv.Itoa(p))
	}
	ts := &threeServers{t: t}
	root := t.TempDir()
	for i := range 3 {
		o := natsconn.ServerOptions{Name: "s" + strconv.Itoa(i), Host: "127.0.0.1", Port: ports[i],
			StoreDir: filepath.Join(root, strconv.Itoa(i)), ClusterName: "c", ClusterHost: "127.0.0.1",
			ClusterPort: ports[3+i], Routes: routes}
		s, err := natsconn.StartServer(o)
		require.NoError(t, err)
		ts.opts, ts.servers = append(ts.opts, o), append(ts.servers, s)
	}
	t.Cleanup(func() {
		for _, s := range ts.servers {
			s.Shutdown()
		}
	})
	return ts
}

// stop stops server i.
func (ts *threeServers) stop(i int) {
	ts.servers[i].Shutdown()
	ts.servers[i].WaitForShutdown()
}

// start starts server i again on its ports and store.
func (ts *threeServers) start(i int) {
	s, err := natsconn.StartServer(ts.opts[i])
	require.NoError(ts.t, err)
	ts.servers[i] = s
}

// connect connects to server i only (reconnecting to it for ever).
func (ts *threeServers) connect(i int) jetstream.JetStream {
	nc, err := nats.Connect(natsconn.EmbeddedURL(ts.opts[i].Port), nats.MaxReconnects(-1),
		nats.ReconnectWait(20*time.Millisecond), nats.DontRandomize())
	require.NoError(ts.t, err)
	ts.t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	require.NoError(ts.t, err)
	return js
}

// openEach opens the directory (Replicas 3) through each server; js is the last one's connection.
func (ts *threeServers) openEach() (dirs []*Directory, js jetstream.JetStream) {
	dirs = make([]*Directory, 3)
	for i := range dirs {
		js = ts.connect(i)
		require.Eventually(ts.t, func() bool { // until the cluster has formed and chosen a meta leader
			var err error
			dirs[i], err = Open(bg, js, Options{Prefix: "t", Replicas: 3, Lease: 10 * time.Second})
			return err == nil
		}, time.Minute, 100*time.Millisecond)
	}
	return dirs, js
}

// waitAllCurrent waits until every replica of the streams has caught up with its leader (so that
// stopping one server leaves a quorum that can take writes).
func waitAllCurrent(t *testing.T, js jetstream.JetStream, streams ...string) {
	for _, name := range streams {
		require.Eventually(t, func() bool {
			st, err := js.Stream(bg, name)
			if err != nil {
				return false
			}
			ci := st.CachedInfo().Cluster
			if ci == nil || ci.Leader == "" || len(ci.Replicas) != 2 {
				return false
			}
			for _, r := range ci.Replicas {
				if !r.Current || r.Offline {
					return false
				}
			}
			return true
		}, time.Minute, 50*time.Millisecond, "stream %s", name)
	}
}

// untilAvailable repeats f while the directory is unavailable (a server restarting, a leader being
// elected), up to a generous deadline.
func untilAvailable(f func() error) error {
	deadline := time.Now().Add(time.Minute)
	for {
		err := f()
		if !errors.Is(err, ErrUnavailable) || time.Now().After(deadline) {
			return err
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestReadsNeverSayNotFoundForWhatExists: with the buckets on three servers, a read may be answered
// by any replica, and one restarted on its ports lags behind the others for a while. A name just
// created, looked up through every server right after a restart, is found (or the directory is
// unavailable for a moment); a lagging replica's "not found" is never passed on.
func TestReadsNeverSayNotFoundForWhatExists(t *testing.T) {
	ts := startThreeServers(t)
	dirs, js := ts.openEach()
	id := uint64(0)
	// create creates a new checkpoint's entry and name; a try that fails (a leader being elected)
	// may or may not have stored them: the next try is another checkpoint.
	create := func(through *Directory) *Entry {
		deadline := time.Now().Add(time.Minute)
		for {
			id++
			e := entry(id, fmt.Sprintf("ckpt-%d", id))
			err := through.Create(bg, e)
			if err == nil || time.Now().After(deadline) {
				require.NoError(t, err)
				return e
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	misses, reads := 0, 0
	for round := range 3 {
		down := round % 3
		waitAllCurrent(t, js, "KV_t-dir", "KV_t-members")
		ts.stop(down)
		for range 300 { // the server down misses these
			create(dirs[(down+1)%3])
		}
		ts.start(down)
		for range 100 {
			e := create(dirs[int(id)%3])
			for _, d := range dirs {
				reads += 2
				var got uint64
				err := untilAvailable(func() (err error) { got, err = d.Lookup(bg, e.Name); return err })
				if errors.Is(err, ErrNotFound) {
					misses++
				} else {
					require.NoError(t, err)
					require.Equal(t, e.ID, got)
				}
				err = untilAvailable(func() error { _, err := d.Get(bg, e.ID); return err })
				if errors.Is(err, ErrNotFound) {
					misses++
				} else {
					require.NoError(t, err)
				}
			}
		}
	}
	require.Zero(t, misses, "reads of %d said not found for what exists", reads)
}

// TestANotFoundIsTheLeaders: a name or entry that no replica holds is "not found" through every
// server (the leader confirms it); with two of the three servers down no leader can, and a read of
// it is unavailable (TRY_AGAIN).
func TestANotFoundIsTheLeaders(t *testing.T) {
	ts := startThreeServers(t)
	dirs, js := ts.openEach()
	require.NoError(t, dirs[0].Create(bg, entry(1, "exists")))
	gone := entry(3, "removed")
	require.NoError(t, dirs[0].Create(bg, gone))
	require.NoError(t, dirs[0].Remove(bg, gone)) // leaves removal markers, which the leader returns
	waitAllCurrent(t, js, "KV_t-dir")
	for _, d := range dirs {
		for _, name := range []string{"never created", "removed"} {
			_, err := d.Lookup(bg, []byte(name))
			require.ErrorIs(t, err, ErrNotFound, name)
		}
		for _, id := range []uint64{2, 3} {
			_, err := d.Get(bg, id)
			require.ErrorIs(t, err, ErrNotFound, id)
		}
		id, err := d.Lookup(bg, []byte("exists"))
		require.NoError(t, err)
		require.Equal(t, uint64(1), id)
	}

	// The server left is not the stream's leader. (A leader left alone answers as the leader until
	// it notices that it lost its quorum, some seconds; its "not found" is still right then: nothing
	// can be written without it.)
	st, err := js.Stream(bg, "KV_t-dir")
	require.NoError(t, err)
	leader := slices.IndexFunc(ts.opts, func(o natsconn.ServerOptions) bool { return o.Name == st.CachedInfo().Cluster.Leader })
	require.NotEqual(t, -1, leader)
	left := (leader + 1) % 3
	ts.stop((leader + 2) % 3) // the other follower first: no other leader can be elected
	ts.stop(leader)
	// The replica left answers "not found" from its copy (the leader, asked again, is gone), or
	// nothing answers the direct get at all: either way TRY_AGAIN, not a timeout the caller never set
	// (it was "context deadline exceeded", JetStream's own request timeout, in 2 runs of 3).
	unavailable := func(err error) bool {
		return errors.Is(err, ErrUnavailable) && errors.Is(err, engine.ErrTryAgain)
	}
	_, err = dirs[left].Lookup(bg, []byte("never created"))
	require.True(t, unavailable(err), "%v", err)
	_, err = dirs[left].Get(bg, 2)
	require.True(t, unavailable(err), "%v", err)
}

// TestALeaseIsRenewedWhileAWriteOfItIsInFlight: on a replicated bucket the stream's leader refuses a
// conditional write of a key while it counts another write of that key in flight (an earlier
// renewal that timed out at the member but is still being stored, or one the leader lost track of).
// A renewal made meanwhile succeeds, and the lease stays this incarnation's.
func TestALeaseIsRenewedWhileAWriteOfItIsInFlight(t *testing.T) {
	ts := startThreeServers(t)
	dirs, js := ts.openEach()
	a := MemberInfo{Name: "a", Kind: KindServer, Incarnation: "1"}
	var rev uint64
	require.NoError(t, untilAvailable(func() (err error) { rev, err = dirs[0].Register(bg, a, ""); return err }))
	v, err := json.Marshal(a)
	require.NoError(t, err)
	for round := range 20 {
		// Writes of the lease that the member sent and stopped waiting for.
		var acks []jetstream.PubAckFuture
		for range 20 {
			ack, err := js.PublishAsync("$KV.t-members.a", v)
			require.NoError(t, err)
			acks = append(acks, ack)
		}
		d := dirs[round%3]
		n, err := d.Refresh(bg, a, rev)
		require.NoError(t, err, "round %d", round)
		rev = n
		for _, ack := range acks {
			select {
			case <-ack.Ok():
			case err := <-ack.Err():
				t.Fatal(err)
			}
		}
	}
	members, err := dirs[0].Members(bg)
	require.NoError(t, err)
	require.Equal(t, "1", members["a"].Incarnation)
}

// newCuttable forwards to target through a link the test can cut (a route between two NATS servers).
func newCuttable(t *testing.T, target string) *tcpcut.Forwarder {
	f, err := tcpcut.New(target)
	require.NoError(t, err)
	t.Cleanup(f.Close)
	return f
}

// TestADeposedLeaderDoesNotSayNotFound: the server of the directory's stream leader is cut off from
// the two others (every route of it goes through a link the test cuts). It goes on answering as
// the leader for a while, though the two others elect another leader and may write what it never
// sees. A read through it of a name that it does not hold is then TRY_AGAIN, never "not found",
// once it has not heard from its peers for leaderHeard.
func TestADeposedLeaderDoesNotSayNotFound(t *testing.T) {
	var cports []int
	for _, p := range freePorts(t, 3) {
		cports = append(cports, p)
	}
	// links[i][j] carries the routes that server i opens to server j.
	links := make([][]*tcpcut.Forwarder, 3)
	for i := range links {
		links[i] = make([]*tcpcut.Forwarder, 3)
		for j := range links[i] {
			if i != j {
				links[i][j] = newCuttable(t, "127.0.0.1:"+strconv.Itoa(cports[j]))
			}
		}
	}
	root := t.TempDir()
	servers := make([]*server.Server, 3)
	for i := range servers {
		o := &server.Options{ServerName: "s" + strconv.Itoa(i), Host: "127.0.0.1", Port: -1, JetStream: true,
			StoreDir: filepath.Join(root, strconv.Itoa(i)), NoSigs: true, NoLog: true,
			// The servers meet only through the links: the route address each one tells the others
			// (for routes they would open on their own) leads nowhere.
			Cluster: server.ClusterOpts{Name: "c", Host: "127.0.0.1", Port: cports[i], Advertise: "127.0.0.1:1"}}
		for j := range servers {
			if j != i {
				u, err := url.Parse("nats-route://" + links[i][j].Addr())
				require.NoError(t, err)
				o.Routes = append(o.Routes, u)
			}
		}
		s, err := server.NewServer(o)
		require.NoError(t, err)
		go s.Start()
		require.True(t, s.ReadyForConnections(10*time.Second))
		t.Cleanup(s.Shutdown)
		servers[i] = s
	}
	dirs := make([]*Directory, 3)
	var js jetstream.JetStream
	for i := range dirs {
		nc, err := nats.Connect(servers[i].ClientURL(), nats.MaxReconnects(-1))
		require.NoError(t, err)
		t.Cleanup(nc.Close)
		js, err = jetstream.New(nc)
		require.NoError(t, err)
		require.Eventually(t, func() bool {
			dirs[i], err = Open(bg, js, Options{Prefix: "t", Replicas: 3, Lease: 10 * time.Second})
			return err == nil
		}, time.Minute, 100*time.Millisecond)
	}
	require.NoError(t, dirs[0].Create(bg, entry(1, "exists")))
	waitAllCurrent(t, js, "KV_t-dir")
	st, err := js.Stream(bg, "KV_t-dir")
	require.NoError(t, err)
	leader := slices.IndexFunc(servers, func(s *server.Server) bool { return s.Name() == st.CachedInfo().Cluster.Leader })
	require.NotEqual(t, -1, leader)
	for j := range servers {
		if j != leader {
			links[leader][j].Cut()
			links[j][leader].Cut()
		}
	}
	// Through the leader cut off: while it still takes itself for the leader and has not heard from
	// its peers for leaderHeard, a name it does not hold is not "not found".
	legacy, err := dirs[leader].js.Conn().JetStream()
	require.NoError(t, err)
	checked := 0
	for deadline := time.Now().Add(time.Minute); checked < 3 && time.Now().Before(deadline); {
		si, err := legacy.StreamInfo("KV_t-dir")
		if err != nil {
			time.Sleep(100 * time.Millisecond) // a slow answer on a loaded host: ask again
			continue
		}
		if si.Cluster == nil || si.Cluster.Leader != servers[leader].Name() {
			break // it noticed that it lost its quorum
		}
		cutOff := true
		for _, p := range si.Cluster.Replicas {
			cutOff = cutOff && p.Active > leaderHeard
		}
		if cutOff {
			_, err := dirs[leader].Lookup(bg, []byte("made by the majority"))
			require.ErrorIs(t, err, ErrUnavailable, "a read through a leader cut off from its peers")
			checked++
		}
		time.Sleep(100 * time.Millisecond)
	}
	require.NotZero(t, checked, "the leader cut off stepped down before its peers' silence passed %s", leaderHeard)
	t.Logf("%d reads through the leader cut off, each TRY_AGAIN", checked)
}
