package gotests

import (
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/stretchr/testify/require"
)

// TestRoutesAreAuthenticatedAndEncrypted: clckpt serve refuses a cluster port beyond loopback without
// route credentials and TLS. A node with them refuses a bare NATS server (no credentials, no TLS)
// and one with TLS but a wrong password as routes; two nodes with the right ones form a cluster.
func TestRoutesAreAuthenticatedAndEncrypted(t *testing.T) {
	dir := t.TempDir()
	env := []string{"CLCKPT_DATA_DIR=" + filepath.Join(dir, "s1"), "CLCKPT_LOG_LEVEL=info", "CLCKPT_CLUSTER_PASSWORD=route-secret"}
	open := start(t, "open", env, bin("clckpt"), "serve", "--node", "s1", "--host", "0.0.0.0", "--port", strconv.Itoa(freePort(t)),
		"--cluster-port", strconv.Itoa(freePort(t)), "--no-auth")
	require.NotEqual(t, 0, open.wait(30*time.Second), "a cluster port on 0.0.0.0 without credentials and TLS")
	logged, err := os.ReadFile(open.log)
	require.NoError(t, err)
	require.Contains(t, string(logged), "beyond loopback")

	// Two nodes whose routes carry credentials and TLS form a cluster.
	ca, cert, key := makeCertificates(t, dir)
	routePorts := []int{freePort(t), freePort(t)}
	routes := fmt.Sprintf("nats-route://127.0.0.1:%d,nats-route://127.0.0.1:%d", routePorts[0], routePorts[1])
	var nodes []*proc
	for i, name := range []string{"s1", "s2"} {
		env := []string{"CLCKPT_DATA_DIR=" + filepath.Join(dir, name), "CLCKPT_LOG_LEVEL=info", "CLCKPT_CLUSTER_PASSWORD=route-secret"}
		p := start(t, name, env, bin("clckpt"), "serve", "--node", name, "--port", strconv.Itoa(freePort(t)), "--no-auth",
			"--cluster-port", strconv.Itoa(routePorts[i]), "--routes", routes, "--cluster-user", "route",
			"--cluster-tls-cert", cert, "--cluster-tls-key", key, "--cluster-tls-ca", ca)
		nodes = append(nodes, p)
	}
	var clientURL string
	for i, p := range nodes {
		m := p.waitLine(`^ready (\S+)`, 90*time.Second)
		if i == 0 {
			clientURL = m[1]
		}
	}
	node := nodes[0]
	logged, err = os.ReadFile(node.log)
	require.NoError(t, err)
	require.Regexp(t, `msg="cluster formed" node=s1 routes=[1-9]`, string(logged))
	routePort := routePorts[0]
	self := fmt.Sprintf("nats-route://127.0.0.1:%d", routePort)

	// peer starts a NATS server in this process that tries to join s1 as a route.
	peer := func(name, route string, tls bool) *server.Server {
		u, err := url.Parse(route)
		require.NoError(t, err)
		o := &server.Options{ServerName: name, Host: "127.0.0.1", Port: -1, NoSigs: true, NoLog: true,
			JetStream: true, StoreDir: filepath.Join(dir, name),
			Cluster: server.ClusterOpts{Name: "clckpt", Host: "127.0.0.1", Port: -1}, Routes: []*url.URL{u}}
		if tls {
			o.Cluster.TLSConfig, err = server.GenTLSConfig(&server.TLSConfigOpts{CertFile: cert, KeyFile: key, CaFile: ca, Verify: true})
			require.NoError(t, err)
			o.Cluster.TLSConfig.RootCAs = o.Cluster.TLSConfig.ClientCAs
			o.Cluster.TLSTimeout = 5
		}
		s, err := server.NewServer(o)
		require.NoError(t, err)
		go s.Start()
		require.True(t, s.ReadyForConnections(10*time.Second))
		t.Cleanup(s.Shutdown)
		return s
	}
	bare := peer("bare", self, false)
	wrong := peer("wrong", fmt.Sprintf("nats-route://route:wrong@127.0.0.1:%d", routePort), true)
	require.Eventually(t, func() bool {
		b, _ := os.ReadFile(node.log)
		s := string(b)
		return strings.Contains(s, "authentication error") && strings.Contains(s, "TLS")
	}, 30*time.Second, 50*time.Millisecond, "s1 refused both")
	// Neither intruder ever joins: nothing published on s1 reaches a subscriber on them (a route,
	// even for a moment, carries the subscription's interest and then the messages). Their own
	// route counts are no measure: a soliciting server counts its route from its CONNECT until
	// the refusal arrives, and it tries again every second.
	var subs []*nats.Subscription
	for _, s := range []*server.Server{bare, wrong} {
		nc, err := nats.Connect(s.ClientURL())
		require.NoError(t, err)
		t.Cleanup(nc.Close)
		sub, err := nc.SubscribeSync("probe.>")
		require.NoError(t, err)
		require.NoError(t, nc.Flush())
		subs = append(subs, sub)
	}
	pub, err := nats.Connect(clientURL)
	require.NoError(t, err)
	t.Cleanup(pub.Close)
	for i := 0; i < 30; i++ { // over three seconds of the intruders' retries
		require.NoError(t, pub.Publish(fmt.Sprintf("probe.%d", i), []byte("secret")))
		require.NoError(t, pub.Flush())
		time.Sleep(100 * time.Millisecond)
	}
	for _, sub := range subs {
		_, err := sub.NextMsg(500 * time.Millisecond)
		require.ErrorIs(t, err, nats.ErrTimeout, "a bare NATS server and a wrong password never join")
	}
	require.Equal(t, 0, node.stop())
}
