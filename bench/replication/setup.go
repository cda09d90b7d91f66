package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/clckpt/libclckpt/ckpt"
	"github.com/clckpt/libclckpt/config"
	"github.com/clckpt/libclckpt/replication"
	"github.com/clckpt/libclckpt/replication/directory"
	"github.com/clckpt/libclckpt/replication/natsconn"
)

// syncWrites makes the members this program starts fsync every write (CLCKPT_SYNC_WRITES=1).
var syncWrites bool

func syncEnv() string {
	if syncWrites {
		return "1"
	}
	return "0"
}

// memberLease, when set, is the lease of the members this process joins.
var memberLease time.Duration

// natsToken is the token of the embedded server this process hosts, natsCert the file of its
// certificate (the nodes pin it).
var natsToken, natsCert string

// node is a member process (clckpt serve --nats-url).
type node struct {
	name string
	cmd  *exec.Cmd
}

// startNode starts a server member (clckpt serve --nats-url) on this process's NATS server.
func startNode(name, dir, url string) *node {
	args := []string{"serve", "--node", name, "--nats-url", url}
	if p := os.Getenv("BENCH_NODE_PROFILE"); p != "" {
		args = append(args, "--cpuprofile", p+"."+name)
	}
	return startProc(name, []string{"CLCKPT_DATA_DIR=" + dir, "CLCKPT_REPLICAS=2", "CLCKPT_NATS_TOKEN=" + natsToken,
		"CLCKPT_NATS_TLS_CA=" + natsCert, "CLCKPT_SYNC_WRITES=" + syncEnv()}, *clckpt, args...)
}

// startProc starts a clckpt serve process (bin: the command, or ip with netns exec) with env beside
// this process's environment, and waits for its "ready" line. It is killed if this process dies.
func startProc(name string, env []string, bin string, args ...string) *node {
	cmd := exec.Command(bin, args...)
	level := "error"
	if os.Getenv("CLCKPT_LOG_LEVEL") != "" {
		level = "info"
	}
	cmd.Env = append(append(os.Environ(), "CLCKPT_LOG_LEVEL="+level), env...)
	out, err := cmd.StdoutPipe()
	must(err)
	cmd.Stderr = os.Stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL} // no node outlives a failed run
	must(cmd.Start())
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		if strings.HasPrefix(sc.Text(), "ready") {
			go func() {
				for sc.Scan() {
				}
			}()
			return &node{name: name, cmd: cmd}
		}
	}
	failf("%s did not start", name)
	return nil
}

// rssAnon is the node's anonymous resident memory (heap, stacks) in bytes, 0 if unknown.
func (n *node) rssAnon() int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", n.cmd.Process.Pid))
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		if f := strings.Fields(l); len(f) == 3 && f[0] == "RssAnon:" {
			kb, _ := strconv.ParseInt(f[1], 10, 64)
			return kb << 10
		}
	}
	return 0
}

func (n *node) kill9() { _ = n.cmd.Process.Signal(syscall.SIGKILL); _ = n.cmd.Wait() }
func (n *node) stop()  { _ = n.cmd.Process.Signal(syscall.SIGTERM); _ = n.cmd.Wait() }

func freePort() int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fail(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// member joins this process to the service; with host it hosts the embedded NATS server.
func member(dir, name, kind string, port int, url string) *replication.Member {
	return memberLogging(dir, name, kind, port, url, nil)
}

// memberLogging is member whose log records also go to watch.
func memberLogging(dir, name, kind string, port int, url string, watch func(slog.Record)) *replication.Member {
	c := config.Default()
	c.Node, c.DataDir, c.Port, c.NATS.URL, c.Replicas = name, dir, port, url, 2
	c.SyncWrites = syncWrites
	if memberLease != 0 {
		c.Lease = memberLease
	}
	c.LogLevel = slog.LevelError
	if os.Getenv("CLCKPT_LOG_LEVEL") != "" {
		c.LogLevel = slog.LevelInfo
	}
	logger := c.Logger("bench")
	if watch != nil {
		logger = slog.New(&watcher{Handler: logger.Handler(), watch: watch})
	}
	m, err := replication.Join(ctx, replication.Options{Config: c, Kind: kind, Logger: logger})
	if err != nil {
		fail(err)
	}
	if url == "" { // this process hosts the embedded server: the nodes need its token
		if natsToken, err = natsconn.EmbeddedToken(dir); err != nil {
			fail(err)
		}
		if natsCert, err = natsconn.EmbeddedTLS(dir); err != nil {
			fail(err)
		}
	}
	return m
}

// watcher passes every Info record to watch, and the enabled ones on to Handler.
type watcher struct {
	slog.Handler
	watch func(slog.Record)
}

func (w *watcher) Enabled(context.Context, slog.Level) bool { return true }

func (w *watcher) Handle(ctx context.Context, r slog.Record) error {
	if r.Level == slog.LevelInfo {
		w.watch(r)
	}
	if w.Handler.Enabled(ctx, r.Level) {
		return w.Handler.Handle(ctx, r)
	}
	return nil
}

func (w *watcher) WithAttrs(as []slog.Attr) slog.Handler {
	return &watcher{Handler: w.Handler.WithAttrs(as), watch: w.watch}
}

func (w *watcher) WithGroup(name string) slog.Handler {
	return &watcher{Handler: w.Handler.WithGroup(name), watch: w.watch}
}

// openActiveHere creates a checkpoint with flags whose active replica is m (placement is by hash:
// try names until one lands here) and one section.
func openActiveHere(m *replication.Member, prefix string, flags ckpt.CreationFlags, peers int) ckpt.Checkpoint {
	attrs := &ckpt.Attributes{Flags: flags, Retention: 0, MaxSections: 16, MaxSectionIDSize: 16}
	for i := 0; ; i++ {
		name := fmt.Sprintf("%s-%d", prefix, i)
		h, err := m.Open(ctx, name, attrs, ckpt.OpenRead|ckpt.OpenWrite|ckpt.OpenCreate)
		if err != nil {
			fail(err)
		}
		if _, err := h.CreateSection(ctx, []byte("s"), ckpt.Never, []byte("x")); err != nil {
			fail(err)
		}
		if e := entry(m, name); e.Active == m.Name() && len(e.Replicas) == peers {
			return h
		}
		_ = h.Close()
	}
}

func entry(m *replication.Member, name string) *directory.Entry {
	e, err := m.Entry(ctx, name)
	if err != nil {
		fail(err)
	}
	return e
}

func must(err error) {
	if err != nil {
		fail(err)
	}
}

// redis is a minimal RESP client: enough for SET and WAIT.
type redis struct {
	c net.Conn
	r *bufio.Reader
}

func dialRedis(addr string) *redis {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		failf("redis: %v (bench/replication/run.sh starts a master and a replica)", err)
	}
	return &redis{c: c, r: bufio.NewReader(c)}
}

func (r *redis) Close() { r.c.Close() }

func cmd(buf []byte, args ...[]byte) []byte {
	buf = fmt.Appendf(buf, "*%d\r\n", len(args))
	for _, a := range args {
		buf = fmt.Appendf(buf, "$%d\r\n", len(a))
		buf = append(buf, a...)
		buf = append(buf, "\r\n"...)
	}
	return buf
}

var key, pageKey = []byte("ckpt"), []byte("page")

func (r *redis) set(v []byte) {
	r.send(cmd(nil, []byte("SET"), key, v))
	r.reply()
}

// setWait sends SET and WAIT 1 0 together and reads both replies: one round trip, then the replica.
func (r *redis) setWait(v []byte) {
	r.send(cmd(cmd(nil, []byte("SET"), key, v), []byte("WAIT"), []byte("1"), []byte("0")))
	r.reply()
	if n := r.reply(); n != ":1" {
		failf("redis: WAIT answered %q: is the replica attached?", n)
	}
}

// setPage sets the key the reads read.
func (r *redis) setPage(v []byte) {
	r.send(cmd(nil, []byte("SET"), pageKey, v))
	r.reply()
}

// get reads the value of the reads' key into buf (a bulk reply of len(buf) bytes).
func (r *redis) get(buf []byte) {
	r.send(cmd(nil, []byte("GET"), pageKey))
	line := r.reply()
	if n, err := strconv.Atoi(strings.TrimPrefix(line, "$")); err != nil || n != len(buf) {
		failf("redis: GET answered %q", line)
	}
	if _, err := io.ReadFull(r.r, buf); err != nil {
		fail(err)
	}
	if _, err := r.r.Discard(2); err != nil {
		fail(err)
	}
}

// do sends a command and returns its one-line reply.
func (r *redis) do(args ...string) string {
	var bs [][]byte
	for _, a := range args {
		bs = append(bs, []byte(a))
	}
	r.send(cmd(nil, bs...))
	return r.reply()
}

func (r *redis) send(b []byte) {
	if _, err := r.c.Write(b); err != nil {
		fail(err)
	}
}

func (r *redis) reply() string {
	line, err := r.r.ReadString('\n')
	if err != nil {
		fail(err)
	}
	line = strings.TrimRight(line, "\r\n")
	if strings.HasPrefix(line, "-") {
		fail(errors.New("redis: " + line))
	}
	return line
}

// atExit holds what must be undone even when the run fails (network namespaces), last first.
var atExit []func()

// fail ends the run after undoing atExit.
func fail(v ...any) {
	for i := len(atExit) - 1; i >= 0; i-- {
		atExit[i]()
	}
	log.Fatal(v...)
}

func failf(format string, v ...any) { fail(fmt.Sprintf(format, v...)) }
