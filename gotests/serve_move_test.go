package gotests

import (
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestMovingBetweenTheEmbeddedDefaultAndServeKeepsEveryCheckpoint: a C program on the embedded
// default writes a WR_ALL_REPLICAS checkpoint kept forever and exits; clckpt serve starts on the
// same data directory and port, lists the checkpoint, and a program reads it back through the
// server byte for byte and adds to it; the server stops, and a program on the embedded default
// reads all of it; a second clckpt serve still has all of it, and after it stops so does the
// embedded default. No move drops a replica.
func TestMovingBetweenTheEmbeddedDefaultAndServeKeepsEveryCheckpoint(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	env := []string{"CLCKPT_DATA_DIR=" + dir, "CLCKPT_NODE=mv", "CLCKPT_PORT=" + strconv.Itoa(freePort(t)),
		"CLCKPT_LEASE=1s", "CLCKPT_ACK_TIMEOUT=500ms", "CLCKPT_LOG_LEVEL=info"}
	// program runs one ckptFaults session: it checks the sections written so far, writes more and exits.
	written := 0
	program := func(name string, add int) {
		t.Helper()
		p := startInput(t, name, env, faults, "fill", "moved", "4")
		p.waitLine("^ready$", 60*time.Second)
		p.send("check " + strconv.Itoa(written))
		require.Equal(t, "verified "+strconv.Itoa(written), p.waitLine(`^(verified|bad) \d+$`, 30*time.Second)[0], name)
		if add > 0 {
			p.send("write " + strconv.Itoa(add))
			written += add
			p.waitLine("^ack "+strconv.Itoa(written-1)+"$", 30*time.Second)
		}
		p.send("quit")
		require.Equal(t, 0, p.wait(30*time.Second), name)
	}
	serve := func(name string) *proc {
		t.Helper()
		s := start(t, name, env, bin("clckpt"), "serve")
		s.waitLine("^ready", 60*time.Second)
		cmd := exec.Command(bin("clckpt"), "status")
		cmd.Env = append(cmd.Environ(), env...)
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, string(out))
		require.Contains(t, string(out), `"moved"`, "clckpt status lists the checkpoint programs made")
		return s
	}

	program("embedded-1", 5)
	s := serve("serve-1")
	program("through-serve-1", 5)
	require.Equal(t, 0, s.stop())
	program("embedded-2", 5)
	s = serve("serve-2")
	program("through-serve-2", 5)
	require.Equal(t, 0, s.stop())
	program("embedded-3", 0)
}
