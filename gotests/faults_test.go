package gotests

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// The fault tests: a full disk, and (faults_dir_test.go, partition_test.go) bad data directories and
// a network partition. They mount file systems and make network namespaces, so they need root.

const diskReserve = 24 << 20 // CLCKPT_DISK_RESERVE in these tests: the smallest allowed

// mountTmpfs mounts a tmpfs of size MiB on a new directory and unmounts it when the test ends.
func mountTmpfs(t *testing.T, mib int) string {
	t.Helper()
	if os.Geteuid() != 0 {
		cannotRun(t, "mounting a tmpfs needs root (euid %d)", os.Geteuid())
	}
	dir := filepath.Join(t.TempDir(), "fs")
	require.NoError(t, os.Mkdir(dir, 0o700))
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, fmt.Sprintf("size=%dm,mode=0700", mib)); err != nil {
		if errors.Is(err, syscall.EPERM) {
			cannotRun(t, "mount -t tmpfs %s: %v (no CAP_SYS_ADMIN here)", dir, err)
		}
		require.NoError(t, err)
	}
	t.Cleanup(func() { _ = syscall.Unmount(dir, syscall.MNT_DETACH) })
	return dir
}

// resizeTmpfs changes the size of a tmpfs mounted by mountTmpfs: more space, at once.
func resizeTmpfs(t *testing.T, dir string, mib int) {
	t.Helper()
	require.NoError(t, syscall.Mount("tmpfs", dir, "tmpfs", syscall.MS_REMOUNT, fmt.Sprintf("size=%dm,mode=0700", mib)))
}

// embeddedEnv is the environment of a program on the embedded default with the smallest reserve and
// a short lease, in data directory data.
func embeddedEnv(t *testing.T, data, node string) []string {
	return []string{"CLCKPT_DATA_DIR=" + data, "CLCKPT_NODE=" + node, "CLCKPT_PORT=" + strconv.Itoa(freePort(t)),
		"CLCKPT_DISK_RESERVE=" + strconv.Itoa(diskReserve), "CLCKPT_LEASE=1s", "CLCKPT_LOG_LEVEL=info"}
}

// fillUp writes a file until the file system is full (another program taking the last bytes).
func fillUp(t *testing.T, path string) {
	t.Helper()
	f, err := os.Create(path)
	require.NoError(t, err)
	defer f.Close()
	buf := make([]byte, 64<<10)
	for {
		if _, err := f.Write(buf); err != nil {
			require.ErrorIs(t, err, syscall.ENOSPC)
			return
		}
	}
}

// TestDiskFullOnTheEmbeddedDefault: a C program on the embedded default (its store and the NATS
// server's JetStream on one small tmpfs) creates 256 KiB sections until the disk is full. Writes
// fail with CL_CKPT_ERR_NO_SPACE, reads and section deletes go on, the process lives on even when another program takes
// the last bytes; once space returns writes succeed again, and after a SIGKILL and a restart every
// acknowledged section is there, byte for byte.
func TestDiskFullOnTheEmbeddedDefault(t *testing.T) {
	fs := mountTmpfs(t, 64)
	env := embeddedEnv(t, fs+"/data", "fill")
	p := startInput(t, "fill", env, faults, "fill", "f", "256")
	p.waitLine("^ready$", 30*time.Second)
	p.send("fill")
	m := p.waitLine(`^refused (\d+) (0x[0-9a-f]+)$`, 2*time.Minute)
	acked, _ := strconv.Atoi(m[1])
	require.Equal(t, "0x160021", m[2], "CL_CKPT_ERR_NO_SPACE")
	require.Equal(t, "read 0x0", p.waitLine(`^read .*$`, 10*time.Second)[0], "reads go on")
	require.Equal(t, "overwrite 0x160021", p.waitLine(`^overwrite .*$`, 10*time.Second)[0])
	t.Logf("%d sections of 256 KiB acknowledged before the disk was full", acked)
	p.send("delete") // a full store can still be emptied
	require.Equal(t, "delete 0x0", p.waitLine(`^delete .*$`, 10*time.Second)[0])
	acked--

	// Another program takes every byte left: still a clear refusal, never a crash.
	fillUp(t, fs+"/filler")
	p.send("write 1")
	require.Equal(t, fmt.Sprintf("error %d 0x160021", acked), p.waitLine(`^(error|ack) .*$`, 30*time.Second)[0])
	p.send(fmt.Sprintf("check %d", acked))
	require.Equal(t, fmt.Sprintf("verified %d", acked), p.waitLine(`^(verified|bad) .*$`, 60*time.Second)[0])
	require.NoError(t, os.Remove(fs+"/filler"))

	// Space returns: writes succeed again.
	resizeTmpfs(t, fs, 128)
	p.send("write 20")
	p.waitLine(fmt.Sprintf(`^ack %d$`, acked+19), 60*time.Second)
	require.Len(t, p.matching(`^error `), 1, "writes succeed once space is back")
	acked += 20

	// A SIGKILL, then a restart on the same directory: every acknowledged write is there.
	p.kill9()
	p = startInput(t, "fill-again", env, faults, "fill", "f", "256")
	p.waitLine("^ready$", 30*time.Second)
	p.send(fmt.Sprintf("check %d", acked))
	require.Equal(t, fmt.Sprintf("verified %d", acked), p.waitLine(`^(verified|bad) .*$`, 60*time.Second)[0])
	p.send("write 1")
	p.waitLine(fmt.Sprintf(`^ack %d$`, acked), 30*time.Second)
	p.send("quit")
	require.Equal(t, 0, p.wait(30*time.Second))
}

// TestReplicaDiskFull: two server members hold a WR_ALL_REPLICAS checkpoint, each on its own tmpfs;
// the follower's is small. A C program writes 256 KiB sections until the follower's disk is full and
// past it: the follower refuses the ops, the active takes it out of the in-sync set and the writes go
// on (acknowledged by the active alone). Once the follower has space again it catches up, and at the
// end both replicas are byte-identical.
func TestReplicaDiskFull(t *testing.T) {
	dir := t.TempDir()
	fs := map[string]string{"s1": mountTmpfs(t, 256), "s2": mountTmpfs(t, 256)}
	port := freePort(t)
	natsServer(t, dir+"/nats", port)
	url := natsURL(port)
	members := map[string]*proc{}
	for _, name := range []string{"s1", "s2"} {
		env := append(memberEnv(name, fs[name], url), "CLCKPT_DISK_RESERVE="+strconv.Itoa(diskReserve))
		members[name] = start(t, name, env, bin("clckpt"), "serve", "--node", name, "--nats-url", url)
	}
	for _, m := range members {
		m.waitLine("^ready", 60*time.Second)
	}
	w := startInput(t, "writer", memberEnv("writer", dir+"/writer", url), faults, "fill", "f", "256")
	w.waitLine("^ready$", 30*time.Second)
	e := entryOf(t, url, "f")
	follower := "s1"
	if e.Active == "s1" {
		follower = "s2"
	}
	require.Eventually(t, func() bool { return entryOf(t, url, "f").IsSynced(follower) }, 30*time.Second,
		100*time.Millisecond, "the follower has its copy")
	resizeTmpfs(t, fs[follower], 48)

	const n = 100 // 25 MiB: more than the follower's 48 MiB tmpfs holds above its reserve
	w.send(fmt.Sprintf("write %d", n))
	require.Equal(t, fmt.Sprintf("ack %d", n-1), w.waitLine(fmt.Sprintf(`^(ack %d|error .*)$`, n-1), 3*time.Minute)[0])
	require.Empty(t, w.matching(`^error `), "the writes go on while a follower's disk is full")
	e = entryOf(t, url, "f")
	require.False(t, e.IsSynced(follower), "the full follower left the in-sync set")
	t.Logf("%d writes acknowledged, none refused, while %s's disk was full", n, follower)
	w.send(fmt.Sprintf("check %d", n))
	require.Equal(t, fmt.Sprintf("verified %d", n), w.waitLine(`^(verified|bad) .*$`, 60*time.Second)[0])

	resizeTmpfs(t, fs[follower], 256)
	require.Eventually(t, func() bool { return entryOf(t, url, "f").IsSynced(follower) }, 60*time.Second,
		200*time.Millisecond, "the follower catches up once it has space")
	w.send("quit")
	require.Equal(t, 0, w.wait(30*time.Second))
	for _, m := range members {
		require.Equal(t, 0, m.stop())
	}
	d1, d2 := replicaDigest(t, dirOf(fs["s1"], "s1"), "f"), replicaDigest(t, dirOf(fs["s2"], "s2"), "f")
	require.Equal(t, d1, d2, "the replicas are byte-identical")
	require.Contains(t, d1, fmt.Sprintf("(%d sections)", n))
}

// TestFullDiskRecoversWithoutRestart: a C program on the embedded default (its store and the NATS
// server's JetStream on one tmpfs), and another program takes every byte of the filesystem for
// longer than the lease: JetStream fails to write (the lease is not renewed). Meanwhile writes fail
// with CL_CKPT_ERR_NO_SPACE, reads go on; once the bytes are given back, writes succeed again with
// no process restarted (the library restarts the embedded server's JetStream).
func TestFullDiskRecoversWithoutRestart(t *testing.T) {
	fs := mountTmpfs(t, 96)
	env := embeddedEnv(t, fs+"/data", "full")
	p := startInput(t, "full", env, faults, "fill", "f", "64")
	p.waitLine("^ready$", 30*time.Second)
	p.send("write 10")
	p.waitLine("^ack 9$", 30*time.Second)
	acked := 10

	fillUp(t, fs+"/filler")
	logSays := func(what string) func() bool {
		return func() bool {
			b, err := os.ReadFile(p.log)
			return err == nil && strings.Contains(strings.ToLower(string(b)), what)
		}
	}
	require.Eventually(t, logSays("critical write error"), 30*time.Second, 100*time.Millisecond,
		"JetStream fails to write on the full disk (lease renewals)")
	require.Eventually(t, logSays("lease not renewed"), 30*time.Second, 100*time.Millisecond)
	for range 3 {
		p.send("write 1")
		require.Equal(t, fmt.Sprintf("error %d 0x160021", acked), p.waitLine(`^(error|ack) .*$`, 60*time.Second)[0],
			"CL_CKPT_ERR_NO_SPACE while the disk is full")
	}
	// Reads go on, or, on a member fenced by its full disk, fail at once with TRY_AGAIN.
	p.send(fmt.Sprintf("check %d", acked))
	require.Regexp(t, fmt.Sprintf(`^(verified %d|bad 0 0x160016)$`, acked), p.waitLine(`^(verified|bad) .*$`, 60*time.Second)[0])

	require.NoError(t, os.Remove(fs+"/filler"))
	writeOnceBack(t, p, acked)
	acked++
	p.send("write 20")
	p.waitLine(fmt.Sprintf(`^ack %d$`, acked+19), 60*time.Second)
	acked += 20
	p.send(fmt.Sprintf("check %d", acked))
	require.Equal(t, fmt.Sprintf("verified %d", acked), p.waitLine(`^(verified|bad) .*$`, 60*time.Second)[0])
	p.send("quit")
	require.Equal(t, 0, p.wait(30*time.Second))
}

// TestServeNodeRecoversFromAFullDisk: a clckpt serve node alone (its NATS server's JetStream and
// its member's store on one tmpfs) holds the active replica of a program's checkpoint. Another
// program takes every byte of the tmpfs until JetStream fails to write, then gives them back: the
// node restarts its JetStream (as the library does for its embedded server; before, it did not)
// and the program's writes succeed again with no process restarted.
func TestServeNodeRecoversFromAFullDisk(t *testing.T) {
	fs := mountTmpfs(t, 96)
	port := freePort(t)
	s := start(t, "serve", embeddedEnv(t, fs+"/data", "s"), bin("clckpt"), "serve", "--node", "s", "--port", strconv.Itoa(port))
	s.waitLine("^ready", 60*time.Second)
	token, err := os.ReadFile(fs + "/data/nats.token")
	require.NoError(t, err)
	w := startInput(t, "writer", append(memberEnv("writer", t.TempDir(), natsURL(port)),
		"CLCKPT_NATS_TOKEN="+strings.TrimSpace(string(token)), "CLCKPT_NATS_TLS_CA="+fs+"/data/nats.crt"), faults, "fill", "f", "64")
	w.waitLine("^ready$", 30*time.Second)
	w.send("write 10")
	w.waitLine("^ack 9$", 30*time.Second)
	acked := 10

	fillUp(t, fs+"/filler")
	require.Eventually(t, func() bool {
		b, err := os.ReadFile(s.log)
		return err == nil && strings.Contains(strings.ToLower(string(b)), "critical write error")
	}, 30*time.Second, 100*time.Millisecond, "JetStream fails to write on the full disk")
	require.NoError(t, os.Remove(fs+"/filler"))
	require.Eventually(t, func() bool {
		b, err := os.ReadFile(s.log)
		return err == nil && strings.Contains(string(b), "JetStream restarted")
	}, 60*time.Second, 100*time.Millisecond, "the node restarts its JetStream once space is back")
	writeOnceBack(t, w, acked)
	acked++
	w.send(fmt.Sprintf("check %d", acked))
	require.Equal(t, fmt.Sprintf("verified %d", acked), w.waitLine(`^(verified|bad) .*$`, 60*time.Second)[0])
	w.send("quit")
	require.Equal(t, 0, w.wait(30*time.Second))
	require.Equal(t, 0, s.stop())
}

// writeOnceBack asks the ckptFaults program p for write number n until it is acknowledged: after a
// full disk, while the service recovers, a write may still be refused (TRY_AGAIN or NO_SPACE), for
// a minute and a half at most.
func writeOnceBack(t *testing.T, p *proc, n int) {
	t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	for {
		p.send("write 1")
		line := p.waitLine(`^(error|ack) .*$`, 60*time.Second)[0]
		if line == fmt.Sprintf("ack %d", n) {
			return
		}
		require.Regexp(t, `^error \d+ 0x1600(16|21)$`, line, "TRY_AGAIN or NO_SPACE while recovering")
		require.True(t, time.Now().Before(deadline), "writes still fail long after space came back: %s", line)
		time.Sleep(200 * time.Millisecond)
	}
}

// TestAFullDiskStillOpensForReading: a C program holds a checkpoint in its own data directory on a
// tmpfs (the NATS server elsewhere), exits, and the tmpfs is then filled to the last byte. Started
// again on that directory, it initializes and opens the checkpoint, every section it wrote reads
// back, and a write fails with CL_CKPT_ERR_NO_SPACE. Before, clCkptInitialize failed with
// CL_CKPT_ERR_NO_SPACE: the store refused to open with less than half the reserve free.
func TestAFullDiskStillOpensForReading(t *testing.T) {
	dir := t.TempDir()
	fs := mountTmpfs(t, 96)
	port := freePort(t)
	natsServer(t, dir+"/nats", port)
	url := natsURL(port)
	env := append(memberEnv("full", fs, url), "CLCKPT_DISK_RESERVE="+strconv.Itoa(diskReserve))
	p := startInput(t, "before", env, faults, "fill", "f", "256")
	p.waitLine("^ready$", 30*time.Second)
	const n = 20
	p.send(fmt.Sprintf("write %d", n))
	p.waitLine(fmt.Sprintf(`^ack %d$`, n-1), 60*time.Second)
	p.send("quit")
	require.Equal(t, 0, p.wait(30*time.Second))

	f, err := os.Create(fs + "/ballast")
	require.NoError(t, err)
	chunk := make([]byte, 64<<10)
	for {
		if _, err := f.Write(chunk); err != nil {
			require.ErrorIs(t, err, syscall.ENOSPC)
			break
		}
	}
	require.NoError(t, f.Close())

	p = startInput(t, "full", env, faults, "fill", "f", "256")
	require.Equal(t, "ready", p.waitLine(`^(ready|init .*|open .*)$`, 60*time.Second)[0], "start on a full disk")
	p.send(fmt.Sprintf("check %d", n))
	require.Equal(t, fmt.Sprintf("verified %d", n), p.waitLine(`^(verified|bad) .*$`, 60*time.Second)[0])
	p.send("write 1")
	require.Regexp(t, `^error \d+ 0x160021$`, p.waitLine(`^(ack|error) .*$`, 60*time.Second)[0], "a write: CL_CKPT_ERR_NO_SPACE")
	p.send("quit")
	require.Equal(t, 0, p.wait(30*time.Second))
}
