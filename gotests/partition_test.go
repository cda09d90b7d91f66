package gotests

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// netLab is three network namespaces on one bridge of the root namespace: a private network on
// this machine only. Member i has address <net>.i; the root namespace (the writer, the checker)
// has <net>.254.
type netLab struct {
	t      *testing.T
	prefix string // e.g. 10.77.12
	tag    string // names of namespaces and links
}

func (l *netLab) ip(args ...string) {
	l.t.Helper()
	out, err := exec.Command("ip", args...).CombinedOutput()
	require.NoError(l.t, err, "ip %s: %s", strings.Join(args, " "), out)
}

func newNetLab(t *testing.T) *netLab {
	t.Helper()
	if os.Geteuid() != 0 {
		cannotRun(t, "network namespaces need root (euid %d)", os.Geteuid())
	}
	if _, err := exec.LookPath("ip"); err != nil {
		cannotRun(t, "the ip command (iproute2) is not installed")
	}
	n := os.Getpid() % 200
	l := &netLab{t: t, prefix: fmt.Sprintf("10.77.%d", n+20), tag: fmt.Sprintf("ck%d", os.Getpid()%100000)}
	if out, err := exec.Command("ip", "link", "add", l.tag+"br", "type", "bridge").CombinedOutput(); err != nil {
		cannotRun(t, "cannot create a bridge (ip link add type bridge): %v: %s", err, out)
	}
	t.Cleanup(func() {
		for i := 1; i <= 3; i++ {
			_ = exec.Command("ip", "netns", "del", l.ns(i)).Run()
		}
		_ = exec.Command("ip", "link", "del", l.tag+"br").Run()
	})
	l.ip("addr", "add", l.prefix+".254/24", "dev", l.tag+"br")
	l.ip("link", "set", l.tag+"br", "up")
	for i := 1; i <= 3; i++ {
		ns, host, inner := l.ns(i), l.hostLink(i), fmt.Sprintf("%sn%d", l.tag, i)
		l.ip("netns", "add", ns)
		l.ip("link", "add", host, "type", "veth", "peer", "name", inner)
		l.ip("link", "set", inner, "netns", ns)
		l.ip("link", "set", host, "master", l.tag+"br", "up")
		l.ip("-n", ns, "addr", "add", l.addr(i)+"/24", "dev", inner)
		l.ip("-n", ns, "link", "set", inner, "up")
		l.ip("-n", ns, "link", "set", "lo", "up")
	}
	return l
}

func (l *netLab) ns(i int) string       { return fmt.Sprintf("%s-%d", l.tag, i) }
func (l *netLab) hostLink(i int) string { return fmt.Sprintf("%sh%d", l.tag, i) }
func (l *netLab) addr(i int) string     { return fmt.Sprintf("%s.%d", l.prefix, i) }

// cut takes member i off the network (its link to the bridge goes down); heal brings it back.
func (l *netLab) cut(i int)  { l.ip("link", "set", l.hostLink(i), "down") }
func (l *netLab) heal(i int) { l.ip("link", "set", l.hostLink(i), "up") }

// TestPartitionMinorityCutOff: three clckpt serve nodes, each in its own network namespace, form one
// NATS cluster over a bridge; a writer in the root namespace makes numbered WR_ALL_REPLICAS writes,
// forwarded on call links (a call in flight on the link to the node cut off ends as through NATS).
// The node of the active replica is cut off the network: the majority elects a new active and the
// writes go on. After the heal the cut node catches up; every acknowledged write is there and the
// three replicas are byte-identical.
func TestPartitionMinorityCutOff(t *testing.T) {
	l := newNetLab(t)
	dir := t.TempDir()
	var routes, clients []string
	for i := 1; i <= 3; i++ {
		routes = append(routes, "nats-route://"+l.addr(i)+":6222")
		clients = append(clients, "nats://"+l.addr(i)+":4222")
	}
	// Routes beyond loopback carry credentials and TLS (clckpt serve refuses them otherwise).
	ca, cert, key := makeCertificates(t, dir, l.addr(1), l.addr(2), l.addr(3))
	nodes := map[string]*proc{}
	for i := 1; i <= 3; i++ {
		name := "s" + strconv.Itoa(i)
		nodes[name] = start(t, name, []string{"CLCKPT_DATA_DIR=" + dir + "/" + name, "CLCKPT_LEASE=1s", "CLCKPT_ACK_TIMEOUT=500ms", "CLCKPT_LOG_LEVEL=info",
			"CLCKPT_CLUSTER_PASSWORD=route-secret"},
			"ip", "netns", "exec", l.ns(i), bin("clckpt"), "serve", "--node", name, "--host", l.addr(i), "--port", "4222",
			"--cluster-port", "6222", "--routes", strings.Join(routes, ","), "--no-auth",
			"--cluster-user", "route", "--cluster-tls-cert", cert, "--cluster-tls-key", key, "--cluster-tls-ca", ca)
	}
	for _, p := range nodes {
		p.waitLine("^ready", 90*time.Second)
	}
	url := strings.Join(clients, ",")
	// The writer holds after write 1,000 until the test has healed the partition, so that half of
	// the writes come after the heal, when leases are renewed against a cluster electing its
	// leaders again. (Paced writes alone were sometimes all done before the heal on a loaded host.)
	const n, holdAt = 2000, 999
	gate := filepath.Join(dir, "healed")
	w := start(t, "writer", memberEnv("writer", dir+"/writer", url), bin("writer"), "-name", "numbered", "-n", strconv.Itoa(n),
		"-pause", "10ms", "-hold-at", strconv.Itoa(holdAt), "-hold-file", gate)
	w.waitLine("^ready", 60*time.Second)
	w.waitLine(`^ack 300$`, 120*time.Second)
	active := entryOf(t, url, "numbered").Active
	require.Contains(t, nodes, active)
	i, _ := strconv.Atoi(strings.TrimPrefix(active, "s"))
	l.cut(i)
	cutAt := ackedCount(w)
	t.Logf("cut %s (the active) off the network after %d acknowledged writes", active, cutAt)
	require.LessOrEqual(t, cutAt+500, holdAt+1, "at least 500 writes while the active is cut off")
	w.waitLine(`^holding$`, 3*time.Minute)
	var majority []string
	for j := 1; j <= 3; j++ {
		if j != i {
			majority = append(majority, clients[j-1])
		}
	}
	elected := entryOf(t, strings.Join(majority, ","), "numbered")
	require.NotEqual(t, active, elected.Active, "the majority elected a new active")
	l.heal(i)
	healAt := ackedCount(w)
	require.Equal(t, holdAt+1, healAt)
	require.NoError(t, os.WriteFile(gate, nil, 0o600))
	t.Logf("healed after %d acknowledged writes", healAt)
	calls := w.waitLine(`^calls (\d+) on links, (\d+) through NATS$`, 3*time.Minute)
	w.waitLine(`^done$`, time.Minute)
	require.Equal(t, 0, w.wait(30*time.Second))
	t.Logf("%d writes acknowledged, %d of them while %s was cut off, %d after the heal; %d retried; calls: %s on links, %s through NATS",
		n, healAt-cutAt, active, n-healAt, len(w.matching(`^retry `)), calls[1], calls[2])
	onLinks, err := strconv.Atoi(calls[1])
	require.NoError(t, err)
	require.Greater(t, onLinks, n/2, "the writes took call links, to the node cut off among others")
	checkAcknowledged(t, url, "numbered", n)
	require.Eventually(t, func() bool {
		// The cut node's server may answer with its copy of the entry from before the cut, when
		// all three were in sync: only an entry of the majority's epoch or later tells.
		e := entryOf(t, url, "numbered")
		return e.Epoch >= elected.Epoch && e.IsSynced("s1") && e.IsSynced("s2") && e.IsSynced("s3")
	}, 60*time.Second, 200*time.Millisecond, "the cut node is back in sync")
	for _, p := range nodes {
		require.Equal(t, 0, p.stop())
	}
	d := replicaDigest(t, dirOf(dir+"/s1", "s1"), "numbered")
	require.Contains(t, d, "(100 sections)")
	for _, name := range []string{"s2", "s3"} {
		require.Equal(t, d, replicaDigest(t, dirOf(dir+"/"+name, name), "numbered"), "%s's replica", name)
	}
}
