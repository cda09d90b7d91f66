package gotests

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/stretchr/testify/require"
)

// What every watcher hears from `ckptPeer write` (ctests/peer.c): the overwrite, the two-element
// write, the delete and the last overwrite, each with its data; the creations are silent.
var writerNotifications = []string{
	"notify: s1@0+3=uno",
	"notify: s1@1+2=XY s2@0+3=two",
	"notify: s2@0+0=",
	"notify: end@0+3=bye",
}

// TestNotificationsAcrossProcesses: two C processes watch a DISTRIBUTED checkpoint (opened with
// clCkptCheckpointOpenAsync, completed through poll and clCkptDispatch); a third writes. Each watcher
// gets every change with its data, in order, on its immediate-consumption callback; the writer's own
// handle gets nothing; the watchers read back what was written.
func TestNotificationsAcrossProcesses(t *testing.T) {
	dir := t.TempDir()
	port := freePort(t)
	natsServer(t, dir+"/nats", port)
	url := natsURL(port)
	const name = "hot-standby"

	w1 := start(t, "W1", memberEnv("W1", dir+"/w1", url), peer, "watch", name)
	w1.waitLine(`^ready$`, 30*time.Second)
	w2 := start(t, "W2", memberEnv("W2", dir+"/w2", url), peer, "watch", name)
	w2.waitLine(`^ready$`, 30*time.Second)
	// A watcher hears of the ops its replica applies one by one; ops that reach it inside its
	// initial copy are not announced. So the writer starts once both replicas are in sync.
	require.Eventually(t, func() bool {
		e := entryOf(t, url, name)
		return slices.Contains(e.Synced, "W1") && slices.Contains(e.Synced, "W2")
	}, 30*time.Second, 50*time.Millisecond, "both watchers' replicas in sync")

	w := start(t, "writer", memberEnv("WR", dir+"/wr", url), peer, "write", name)
	require.Equal(t, 0, w.wait(60*time.Second), "the writer's checks")
	for _, p := range []*proc{w1, w2} {
		require.Equal(t, 0, p.wait(60*time.Second), "%s's checks", p.name)
		require.Equal(t, writerNotifications, p.matching(`^notify:`), "%s's notifications", p.name)
		require.NotNil(t, p.lastMatch(`^read: s1=uXY$`))
	}
	require.Empty(t, w.matching(`^notify:`), "the writer hears nothing of its own changes")
}

// TestSynchronizeAsyncAcrossProcesses: a collocated asynchronous checkpoint with a standby replica
// in another process. The active writes 200 sections of 64 KiB, calls
// clCkptCheckpointSynchronizeAsync, and is killed with SIGKILL the moment its completion has been
// dispatched. The standby takes over (ActiveReplicaSet) and finds every section intact.
func TestSynchronizeAsyncAcrossProcesses(t *testing.T) {
	dir := t.TempDir()
	port := freePort(t)
	natsServer(t, dir+"/nats", port)
	url := natsURL(port)
	const name, count = "synchronized", "200"

	s := start(t, "standby", memberEnv("S", dir+"/s", url), peer, "standby", name, count)
	s.waitLine(`^ready$`, 30*time.Second)
	a := start(t, "active", memberEnv("A", dir+"/a", url), peer, "active", name, count)
	a.waitLine(`^synced$`, 60*time.Second)
	require.NotNil(t, a.lastMatch(`^\d+ passed, 0 failed$`), "the active's checks")
	a.kill9()

	s.signal(syscall.SIGUSR1)
	s.waitLine(`^read: 200 of 200 sections intact$`, 60*time.Second)
	require.Equal(t, 0, s.wait(30*time.Second))
}

// TestMembersAuthenticateAndUseTLS: a clckpt serve node that requires a user and password over TLS.
// C programs with CLCKPT_NATS_USER, CLCKPT_NATS_PASSWORD and CLCKPT_NATS_TLS_CA set work as usual;
// without the password, or without the CA, clCkptInitialize fails with CL_CKPT_ERR_INVALID_STATE (no
// retry can cure it) and the log says why; a NATS client without credentials is refused.
func TestMembersAuthenticateAndUseTLS(t *testing.T) {
	dir := t.TempDir()
	ca, cert, key := makeCertificates(t, dir)
	port := freePort(t)
	node := start(t, "node", []string{"CLCKPT_DATA_DIR=" + dir + "/node", "CLCKPT_LOG_LEVEL=info",
		"CLCKPT_LEASE=1s", "CLCKPT_ACK_TIMEOUT=500ms"}, bin("clckpt"), "serve", "--node", "node",
		"--port", strconv.Itoa(port), "--user", "app", "--password", "s3cret",
		"--tls-cert", cert, "--tls-key", key)
	node.waitLine(`^ready`, 30*time.Second)
	url := "tls://127.0.0.1:" + strconv.Itoa(port)
	env := func(member string, extra ...string) []string {
		return append(memberEnv(member, filepath.Join(dir, member), url), extra...)
	}
	user, password, caEnv := "CLCKPT_NATS_USER=app", "CLCKPT_NATS_PASSWORD=s3cret", "CLCKPT_NATS_TLS_CA="+ca

	for _, c := range []struct {
		name string
		env  []string
		log  string
	}{
		{"no-password", env("np", user, caEnv), "Authorization Violation"},
		{"wrong-password", env("wp", user, "CLCKPT_NATS_PASSWORD=guess", caEnv), "Authorization Violation"},
		{"no-ca", env("nc", user, password), "certificate"},
	} {
		p := start(t, c.name, c.env, peer, "watch", "secret")
		require.Equal(t, 3, p.wait(60*time.Second), c.name)
		require.Equal(t, "0x160012", p.lastMatch(`^initialize: rc=(0x[0-9a-f]+)$`)[1], "%s: CL_CKPT_ERR_INVALID_STATE", c.name)
		logged, err := os.ReadFile(p.log)
		require.NoError(t, err)
		require.Contains(t, string(logged), c.log, c.name)
	}

	// A bare NATS client: no credentials, no entry (so it can neither read nor write a checkpoint).
	_, err := nats.Connect(url, nats.RootCAs(ca), nats.Timeout(5*time.Second))
	require.ErrorIs(t, err, nats.ErrAuthorization)

	w := start(t, "watcher", env("W", user, password, caEnv), peer, "watch", "secret")
	w.waitLine(`^ready$`, 30*time.Second)
	require.Eventually(t, func() bool {
		return slices.Contains(entryOf(t, url, "secret", nats.UserInfo("app", "s3cret"), nats.RootCAs(ca)).Synced, "W")
	}, 30*time.Second, 50*time.Millisecond, "the watcher's replica in sync")
	wr := start(t, "writer", env("WR", user, password, caEnv), peer, "write", "secret")
	require.Equal(t, 0, wr.wait(60*time.Second))
	require.Equal(t, 0, w.wait(60*time.Second))
	require.Equal(t, writerNotifications, w.matching(`^notify:`))

	// clckpt status takes the same settings.
	status := exec.Command(bin("clckpt"), "status")
	status.Env = append(os.Environ(), "CLCKPT_NATS_URL="+url, user, password, caEnv)
	out, err := status.CombinedOutput()
	require.NoError(t, err, "%s", out)
	// The node's direct op link uses TLS, as its NATS connection does.
	require.Regexp(t, `(?m)^\s+node\s+server\s+lease ends in \S+\s+link 127\.0\.0\.1:\d+ \(tls\)$`, string(out))
	status = exec.Command(bin("clckpt"), "status")
	status.Env = append(os.Environ(), "CLCKPT_NATS_URL="+url, caEnv)
	out, err = status.CombinedOutput()
	require.Error(t, err)
	require.Contains(t, string(out), "Authorization Violation")
	require.Equal(t, 0, node.stop())
}

// makeCertificates writes a CA and a server certificate for 127.0.0.1 (and the addresses ips) signed
// by it; it returns the files of the CA, the certificate and its key.
func makeCertificates(t *testing.T, dir string, ips ...string) (ca, cert, key string) {
	t.Helper()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "clckpt test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	require.NoError(t, err)
	srvKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	addresses := []net.IP{net.ParseIP("127.0.0.1")}
	for _, ip := range ips {
		addresses = append(addresses, net.ParseIP(ip))
	}
	srvTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IPAddresses: addresses, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}, // routes present it too
	}
	caCert, err := x509.ParseCertificate(caDER)
	require.NoError(t, err)
	srvDER, err := x509.CreateCertificate(rand.Reader, srvTmpl, caCert, &srvKey.PublicKey, caKey)
	require.NoError(t, err)
	keyDER, err := x509.MarshalECPrivateKey(srvKey)
	require.NoError(t, err)
	write := func(name, kind string, der []byte) string {
		path := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: kind, Bytes: der}), 0o600))
		return path
	}
	return write("ca.pem", "CERTIFICATE", caDER), write("server.pem", "CERTIFICATE", srvDER),
		write("server-key.pem", "EC PRIVATE KEY", keyDER)
}
