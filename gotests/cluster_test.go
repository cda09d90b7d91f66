package gotests

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/require"

	"github.com/clckpt/libclckpt/ckpt"
	"github.com/clckpt/libclckpt/config"
	"github.com/clckpt/libclckpt/engine"
	"github.com/clckpt/libclckpt/engine/store"
	"github.com/clckpt/libclckpt/replication"
	"github.com/clckpt/libclckpt/replication/directory"
)

var bg = context.Background()

// Settings every process of a test shares: a short lease and ack timeout keep the tests fast.
func memberEnv(node, dataDir, natsURL string) []string {
	return []string{"CLCKPT_NODE=" + node, "CLCKPT_DATA_DIR=" + dataDir, "CLCKPT_NATS_URL=" + natsURL,
		"CLCKPT_LEASE=1s", "CLCKPT_ACK_TIMEOUT=500ms", "CLCKPT_LOG_LEVEL=info"}
}

// natsServer runs a NATS server alone (clckpt serve --member=false).
func natsServer(t *testing.T, dir string, port int) *proc {
	p := start(t, "nats", []string{"CLCKPT_DATA_DIR=" + dir, "CLCKPT_LOG_LEVEL=info"}, bin("clckpt"), "serve",
		"--node", "nats", "--port", strconv.Itoa(port), "--member=false", "--no-auth")
	p.waitLine("^ready", 30*time.Second)
	return p
}

// serverMember runs a server member on an existing NATS server.
func serverMember(t *testing.T, node, dir, url string) *proc {
	p := start(t, node, memberEnv(node, dir, url), bin("clckpt"), "serve", "--node", node, "--nats-url", url)
	p.waitLine("^ready", 60*time.Second)
	return p
}

// entryOf reads a checkpoint's directory entry. Reads are tried again for a while: after a server
// died or a partition healed, JetStream needs seconds to elect its leaders again.
func entryOf(t *testing.T, url, name string, opts ...nats.Option) *directory.Entry {
	t.Helper()
	var e *directory.Entry
	settled(t, func() error {
		nc, err := nats.Connect(url, opts...)
		if err != nil {
			return err
		}
		defer nc.Close()
		js, err := jetstream.New(nc)
		if err != nil {
			return err
		}
		d, err := directory.Open(bg, js, directory.Options{Prefix: "clckpt", Replicas: 1, Lease: time.Second})
		if err != nil {
			return err
		}
		id, err := d.Lookup(bg, []byte(name))
		if err != nil {
			return err
		}
		e, err = d.Get(bg, id)
		return err
	})
	return e
}

// settled runs fn until it succeeds, for up to a minute, and fails the test with its last error.
func settled(t *testing.T, fn func() error) {
	t.Helper()
	var err error
	for try := 0; try < 60; try++ {
		if err = fn(); err == nil {
			return
		}
		time.Sleep(time.Second)
	}
	require.NoError(t, err)
}

// checkAcknowledged joins as a member and checks that every write the writer acknowledged is in
// the checkpoint: write N left N+1 in slot N%100 of section log<N/100>.
// settings, if any, change the checker's configuration (credentials, TLS).
func checkAcknowledged(t *testing.T, url, name string, acked int, settings ...func(*config.Config)) {
	t.Helper()
	c := config.Default()
	c.Node, c.DataDir, c.NATS.URL = "checker", t.TempDir(), url
	for _, set := range settings {
		set(&c)
	}
	// TRY_AGAIN means what it says: JetStream may still be electing leaders after a heal.
	var m *replication.Member
	settled(t, func() (err error) { m, err = replication.Join(bg, replication.Options{Config: c}); return })
	defer m.Close()
	var h ckpt.Checkpoint
	settled(t, func() (err error) { h, err = m.Open(bg, name, nil, ckpt.OpenRead); return })
	missing := 0
	for s := 0; s*100 < acked; s++ {
		el := []ckpt.ReadElement{{SectionID: []byte(fmt.Sprintf("log%03d", s))}}
		// Reads, too, may find no active for a while after a heal: TRY_AGAIN, never another error.
		settled(t, func() error {
			err := h.Read(bg, el)
			if !errors.Is(err, ckpt.ErrTryAgain) {
				require.NoError(t, err)
			}
			return err
		})
		for i := s * 100; i < min(acked, (s+1)*100); i++ {
			if got := binary.BigEndian.Uint64(el[0].Buffer[(i%100)*8:]); got != uint64(i+1) {
				missing++
				if missing < 10 {
					t.Errorf("acknowledged write %d is missing (slot holds %d)", i, got)
				}
			}
		}
	}
	require.Zero(t, missing, "acknowledged writes lost")
	require.NoError(t, h.Close())
}

// replicaDigest opens a stopped member's store and digests its replica of a checkpoint: every
// section's id, expiration, last update and data, and the LSN.
func replicaDigest(t *testing.T, memberDir, name string) string {
	t.Helper()
	s, err := store.OpenBadger(store.BadgerOptions{Dir: memberDir, GCInterval: -1})
	require.NoError(t, err)
	defer s.Close()
	reps, err := engine.OpenReplicas(engine.ReplicasOptions{Store: s})
	require.NoError(t, err)
	defer reps.Close()
	for _, r := range reps.All() {
		if r.Name() != name {
			continue
		}
		ids, err := r.SectionIDs(ckpt.SectionsAny, time.Time{})
		require.NoError(t, err)
		h := sha256.New()
		slices.SortFunc(ids, bytes.Compare)
		for _, id := range ids {
			d, _ := r.Describe(id)
			el := []ckpt.ReadElement{{SectionID: id}}
			require.NoError(t, r.Read(el))
			fmt.Fprintf(h, "%q %d %d %x\n", id, d.Expiration.UnixNano(), d.LastUpdate.UnixNano(), el[0].Buffer)
		}
		_, lsn := r.Position()
		return fmt.Sprintf("lsn %d sha256 %x (%d sections)", lsn, h.Sum(nil), len(ids))
	}
	return "no replica of " + name
}

func ackedCount(p *proc) int {
	if m := p.lastMatch(`^ack (\d+)$`); m != nil {
		n, _ := strconv.Atoi(m[1])
		return n + 1
	}
	return 0
}

func natsURL(ports ...int) string {
	var urls []string
	for _, p := range ports {
		urls = append(urls, fmt.Sprintf("nats://127.0.0.1:%d", p))
	}
	return strings.Join(urls, ",")
}

func dirOf(root, node string) string { return filepath.Join(root, node) }
