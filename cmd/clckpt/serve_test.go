package main

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// TestClusterSizeCountsPeersOnTheSamePort: hosts that all use the same cluster port, with --routes
// naming the peers only or every node, make a cluster of three either way.
func TestClusterSizeCountsPeersOnTheSamePort(t *testing.T) {
	for _, c := range []struct {
		name   string
		routes []string
		host   string
		want   int
	}{
		{"peers only, same port", []string{"nats-route://203.0.113.2:6222", "nats-route://203.0.113.3:6222"}, "203.0.113.1", 3},
		{"every node, same port", []string{"nats-route://203.0.113.1:6222", "nats-route://203.0.113.2:6222", "nats-route://203.0.113.3:6222"}, "203.0.113.1", 3},
		{"every node on loopback aliases", []string{"nats-route://127.0.0.1:6222", "nats-route://127.0.0.2:6222", "nats-route://127.0.0.3:6222"}, "127.0.0.2", 3},
		{"one host, distinct ports", []string{"nats-route://127.0.0.1:6222", "nats-route://127.0.0.1:6223", "nats-route://127.0.0.1:6224"}, "127.0.0.1", 3},
		{"listening on all addresses, self by a local address", []string{"nats-route://127.0.0.1:6222", "nats-route://203.0.113.2:6222", "nats-route://203.0.113.3:6222"}, "0.0.0.0", 3},
		{"a peer named twice", []string{"nats-route://203.0.113.2:6222", "nats-route://203.0.113.2:6222"}, "203.0.113.1", 2},
		{"no routes", nil, "127.0.0.1", 1},
	} {
		require.Equal(t, c.want, clusterSize(c.routes, c.host, 6222), c.name)
	}
}
