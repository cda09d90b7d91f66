package gotests

import (
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/stretchr/testify/require"
)

// TestInitializeRidesOutASlowJetStream: clCkptInitialize while the NATS server answers but its
// JetStream does not (yet): the call waits, past the 15 s it used to give up after with
// CL_CKPT_ERR_TRY_AGAIN ("bucket ...: context deadline exceeded", as under valgrind), and returns
// CL_OK once JetStream answers.
func TestInitializeRidesOutASlowJetStream(t *testing.T) {
	port := freePort(t)
	run := func(js bool) *server.Server {
		s, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: port, JetStream: js,
			StoreDir: t.TempDir(), NoSigs: true, NoLog: true})
		require.NoError(t, err)
		go s.Start()
		require.True(t, s.ReadyForConnections(10*time.Second))
		t.Cleanup(s.Shutdown)
		return s
	}
	plain := run(false) // no JetStream: the directory's buckets cannot be reached
	p := start(t, "init", memberEnv("slow", t.TempDir(), natsURL(port)), faults, "init")
	select {
	case line := <-p.lines:
		t.Fatalf("clCkptInitialize returned while JetStream did not answer: %s", line)
	case <-time.After(25 * time.Second):
	}
	plain.Shutdown()
	plain.WaitForShutdown()
	run(true)
	require.Equal(t, "init 0x0", p.waitLine(`^init .*$`, 2*time.Minute)[0])
	require.Equal(t, 0, p.wait(30*time.Second))
}
