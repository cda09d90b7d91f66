package gotests

import (
	"slices"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestCounterOnePlusOne is the counter example's 1+1 failover with real processes: A active, B
// standby, both C programs through libclckpt.so on one NATS server. A is killed with SIGKILL; the
// harness tells B it is active (the CSI-set path: ActiveReplicaSet, then read the counter); B goes on
// from a value no smaller than the last one A synchronized.
func TestCounterOnePlusOne(t *testing.T) {
	dir := t.TempDir()
	port := freePort(t)
	natsServer(t, dir+"/nats", port)
	url := natsURL(port)

	counterOnePlusOne(t, memberEnv("A", dir+"/a", url), memberEnv("B", dir+"/b", url))
}

// counterOnePlusOne runs the counter example's 1+1 failover: A active and B standby with their
// settings, A killed with SIGKILL after a few writes, B told it is active.
func counterOnePlusOne(t *testing.T, envA, envB []string) {
	t.Helper()
	a := start(t, "A", envA, counter, "--active")
	a.waitLine(`^CkptWrite: seq = `, 30*time.Second)
	b := start(t, "B", envB, counter, "--standby")
	b.waitLine(`^harness: standby`, 30*time.Second)
	for i := 0; i < 3; i++ {
		a.waitLine(`^CkptWrite: seq = `, 10*time.Second)
	}
	a.kill9()
	// A printed "CkptWrite: seq = N" before writing and synchronizing N; it printed N only after N-1
	// was written and synchronized.
	last, err := strconv.ParseUint(a.lastMatch(`^CkptWrite: seq = (\d+)`)[1], 10, 32)
	require.NoError(t, err)

	b.signal(syscall.SIGUSR1)
	got, err := strconv.ParseUint(b.waitLine(`^CheckpointRead: seq = (\d+)`, 30*time.Second)[1], 10, 32)
	require.NoError(t, err)
	require.GreaterOrEqual(t, got, last-1, "B continues from a value no smaller than the last one A synchronized")
	b.waitLine(`^harness: active`, 10*time.Second)
	first := b.waitLine(`^CkptWrite: seq = (\d+)`, 30*time.Second)[1]
	require.Equal(t, strconv.FormatUint(got, 10), first, "B writes on from what it read")
	next := b.waitLine(`^CkptWrite: seq = (\d+)`, 10*time.Second)[1]
	require.Equal(t, strconv.FormatUint(got+1, 10), next)
	require.Equal(t, 0, b.stop())
}

// TestActiveDiesDuringNumberedWrites: three clckpt serve nodes (one NATS cluster, each with a server
// member) hold a non-collocated WR_ALL_REPLICAS checkpoint; a writer makes 10,000 numbered writes,
// each forwarded to the active (the writer holds no replica), on a call link nearly always. The
// node of the active replica is killed with SIGKILL in the middle; the writes go on on a new active and
// every acknowledged write is there at the end.
func TestActiveDiesDuringNumberedWrites(t *testing.T) {
	dir := t.TempDir()
	clients := []int{freePort(t), freePort(t), freePort(t)}
	routes := []int{freePort(t), freePort(t), freePort(t)}
	var routeURLs []string
	for _, r := range routes {
		routeURLs = append(routeURLs, "nats-route://127.0.0.1:"+strconv.Itoa(r))
	}
	nodes := map[string]*proc{}
	for i, name := range []string{"s1", "s2", "s3"} {
		p := start(t, name, []string{"CLCKPT_DATA_DIR=" + dir + "/" + name, "CLCKPT_LEASE=1s", "CLCKPT_ACK_TIMEOUT=500ms", "CLCKPT_LOG_LEVEL=info"},
			bin("clckpt"), "serve", "--node", name, "--port", strconv.Itoa(clients[i]),
			"--cluster-port", strconv.Itoa(routes[i]), "--routes", joinComma(routeURLs), "--no-auth")
		nodes[name] = p
	}
	for _, p := range nodes {
		p.waitLine("^ready", 90*time.Second)
	}
	url := natsURL(clients...)
	w := start(t, "writer", memberEnv("writer", dir+"/writer", url), bin("writer"), "-name", "numbered", "-n", "10000")
	w.waitLine("^ready", 60*time.Second)
	w.waitLine(`^ack 3000$`, 120*time.Second)
	active := entryOf(t, url, "numbered").Active
	require.Contains(t, nodes, active)
	nodes[active].kill9()
	t.Logf("killed %s, the active replica, after %d acknowledged writes", active, ackedCount(w))
	calls := w.waitLine(`^calls (\d+) on links, (\d+) through NATS$`, 5*time.Minute)
	w.waitLine(`^done$`, time.Minute)
	require.Equal(t, 0, w.wait(30*time.Second))
	onLinks, err := strconv.Atoi(calls[1])
	require.NoError(t, err)
	t.Logf("calls: %d on links, %s through NATS", onLinks, calls[2])
	require.Greater(t, onLinks, 9000, "the writes took call links, before the kill and after it")

	var survivors []int
	for i, name := range []string{"s1", "s2", "s3"} {
		if name != active {
			survivors = append(survivors, clients[i])
		}
	}
	e := entryOf(t, natsURL(survivors...), "numbered")
	require.NotEqual(t, active, e.Active, "a new active took over")
	checkAcknowledged(t, natsURL(survivors...), "numbered", 10000)
}

// TestRestartedReplicaCatchesUp: a replica's node is down (SIGKILL) during 1,000 writes, then
// restarted on its data directory; it catches up and ends byte-identical to the active.
func TestRestartedReplicaCatchesUp(t *testing.T) {
	dir := t.TempDir()
	port := freePort(t)
	natsServer(t, dir+"/nats", port)
	url := natsURL(port)
	members := map[string]*proc{"s1": serverMember(t, "s1", dir+"/s1", url), "s2": serverMember(t, "s2", dir+"/s2", url)}
	w := start(t, "writer", memberEnv("writer", dir+"/writer", url), bin("writer"), "-name", "numbered", "-n", "1500", "-pause", "1ms")
	w.waitLine(`^ack 100$`, 60*time.Second)
	e := entryOf(t, url, "numbered")
	follower := "s1"
	if e.Active == "s1" {
		follower = "s2"
	}
	members[follower].kill9()
	from := ackedCount(w)
	w.waitLine(`^ack `+strconv.Itoa(from+1000)+`$`, 120*time.Second)
	members[follower] = serverMember(t, follower, dir+"/"+follower, url)
	w.waitLine(`^done$`, 120*time.Second)
	require.Eventually(t, func() bool {
		e := entryOf(t, url, "numbered")
		return e.IsSynced(follower) && e.IsSynced(e.Active)
	}, 30*time.Second, 100*time.Millisecond, "the restarted replica is back in sync")
	require.Equal(t, 0, w.wait(30*time.Second))
	checkAcknowledged(t, url, "numbered", 1500)
	for _, m := range members {
		require.Equal(t, 0, m.stop())
	}
	d1, d2 := replicaDigest(t, dirOf(dir+"/s1", "s1"), "numbered"), replicaDigest(t, dirOf(dir+"/s2", "s2"), "numbered")
	require.Equal(t, d1, d2, "the replicas are byte-identical")
	require.Contains(t, d1, "(100 sections)")
}

// TestNATSCutAndRestored: the NATS server is killed (SIGKILL) twice under load, two writers writing
// without pause, and started again on its port and store each time; members reconnect, writes go
// on, every acknowledged write is there, and the replicas converge.
func TestNATSCutAndRestored(t *testing.T) {
	dir := t.TempDir()
	port := freePort(t)
	srv := natsServer(t, dir+"/nats", port)
	url := natsURL(port)
	members := []*proc{serverMember(t, "s1", dir+"/s1", url), serverMember(t, "s2", dir+"/s2", url)}
	const n = 3000
	var writers []*proc
	for _, name := range []string{"numbered", "numbered2"} {
		writers = append(writers, start(t, name, memberEnv("w-"+name, dir+"/"+name, url), bin("writer"), "-name", name, "-n", strconv.Itoa(n)))
	}
	w := writers[0]
	w.waitLine(`^ack 500$`, 60*time.Second)
	for k := 0; k < 2; k++ {
		at := ackedCount(w)
		srv.kill9()
		if k == 0 {
			// The server stays down until every member has given up its lease (fenced itself).
			for _, p := range append(slices.Clone(members), writers...) {
				p.waitLog(`msg="lease not renewed`, time.Minute)
			}
		}
		srv = natsServer(t, dir+"/nats", port)
		t.Logf("NATS server killed after %d acknowledged writes, restarted", at)
		w.waitLine(`^ack `+strconv.Itoa(at+300)+`$`, 2*time.Minute)
	}
	for _, w := range writers {
		w.waitLine(`^done$`, 3*time.Minute)
		require.Equal(t, 0, w.wait(30*time.Second))
		t.Logf("%s: %d writes acknowledged, %d retried", w.name, n, len(w.matching(`^retry `)))
	}
	for _, name := range []string{"numbered", "numbered2"} {
		checkAcknowledged(t, url, name, n)
		require.Eventually(t, func() bool {
			e := entryOf(t, url, name)
			return e.IsSynced("s1") && e.IsSynced("s2")
		}, 30*time.Second, 100*time.Millisecond, "both replicas back in sync")
	}
	for _, m := range members {
		require.Equal(t, 0, m.stop())
	}
	for _, name := range []string{"numbered", "numbered2"} {
		require.Equal(t, replicaDigest(t, dirOf(dir+"/s1", "s1"), name), replicaDigest(t, dirOf(dir+"/s2", "s2"), name))
	}
}

func joinComma(s []string) string {
	out := ""
	for i, x := range s {
		if i > 0 {
			out += ","
		}
		out += x
	}
	return out
}

// TestCounterOnePlusOneOnTheEmbeddedDefault is make demo's scenario: both counter processes with the
// same default settings (one node, one data directory, no NATS URL). The first hosts the embedded
// NATS server; killing it also kills the server, which the standby takes over before it takes over
// the counter.
func TestCounterOnePlusOneOnTheEmbeddedDefault(t *testing.T) {
	dir := t.TempDir()
	env := []string{"CLCKPT_DATA_DIR=" + dir, "CLCKPT_NODE=demo", "CLCKPT_PORT=" + strconv.Itoa(freePort(t)),
		"CLCKPT_LEASE=1s", "CLCKPT_ACK_TIMEOUT=500ms", "CLCKPT_LOG_LEVEL=info"}
	counterOnePlusOne(t, env, env)
}
