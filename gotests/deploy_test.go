package gotests

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/stretchr/testify/require"

	"github.com/clckpt/libclckpt/config"
)

// guideBlock is a shell block of DEPLOY.md and the name the comment before it gives it.
type guideBlock struct{ name, body string }

var runTag = regexp.MustCompile(`^<!-- run: ([a-z0-9-]+) -->$`)

// readGuide returns DEPLOY.md's shell blocks by name; every ```sh block must have a name.
func readGuide(t *testing.T) map[string]guideBlock {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, "DEPLOY.md"))
	require.NoError(t, err)
	blocks := map[string]guideBlock{}
	lines := strings.Split(string(b), "\n")
	for i := 0; i < len(lines); i++ {
		if lines[i] != "```sh" {
			continue
		}
		require.Greater(t, i, 0)
		m := runTag.FindStringSubmatch(lines[i-1])
		require.NotNil(t, m, "DEPLOY.md line %d: a shell block without a '<!-- run: name -->' line before it", i+1)
		var body []string
		for i++; i < len(lines) && lines[i] != "```"; i++ {
			body = append(body, lines[i])
		}
		require.NotContains(t, blocks, m[1], "two blocks named %s", m[1])
		blocks[m[1]] = guideBlock{m[1], strings.Join(body, "\n") + "\n"}
	}
	return blocks
}

// settingsOf returns the variables a settings block assigns.
func settingsOf(b guideBlock) []string {
	var names []string
	for _, m := range regexp.MustCompile(`(?m)(?:^|\s)([A-Z0-9_]+)=`).FindAllStringSubmatch(b.body, -1) {
		names = append(names, m[1])
	}
	sort.Strings(names)
	return names
}

// host is a shell as root on one "host" of the guide: a mount namespace with its own /etc (a copy
// of the machine's), /var/lib and /usr/local/bin (empty), and the systemd stand-in on its PATH.
type host struct {
	t     *testing.T
	name  string
	dir   string
	in    io.WriteCloser
	out   chan string
	cmd   *exec.Cmd
	seen  []string
	vars  map[string]string
	ended bool
}

func newHost(t *testing.T, name string, vars map[string]string) *host {
	t.Helper()
	h := &host{t: t, name: name, dir: filepath.Join(t.TempDir(), name), out: make(chan string, 1024), vars: vars}
	for _, d := range []string{"etc", "varlib", "bin", "standin"} {
		require.NoError(t, os.MkdirAll(filepath.Join(h.dir, d), 0o755))
	}
	h.cmd = exec.Command("unshare", "--mount", "--propagation", "private", "bash", "--noprofile", "--norc")
	h.cmd.Dir = root
	var err error
	h.in, err = h.cmd.StdinPipe()
	require.NoError(t, err)
	out, err := h.cmd.StdoutPipe()
	require.NoError(t, err)
	h.cmd.Stderr = h.cmd.Stdout
	require.NoError(t, h.cmd.Start())
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			h.out <- sc.Text()
		}
		close(h.out)
	}()
	t.Cleanup(h.close)
	h.send(fmt.Sprintf(`cp -a /etc/. %[1]s/etc/ && mount --bind %[1]s/etc /etc && mount --bind %[1]s/varlib /var/lib &&
mount --bind %[1]s/bin /usr/local/bin && export STANDIN_DIR=%[1]s/standin PATH=%[2]s:$PATH`, h.dir, filepath.Join(root, "gotests", "systemd-standin")))
	var set []string
	for k, v := range vars {
		set = append(set, fmt.Sprintf("%s=%q", k, v))
	}
	sort.Strings(set)
	h.send(strings.Join(set, " "))
	return h
}

// send runs shell text in the host's shell itself (variables it sets stay) and fails on a non-zero status.
func (h *host) send(text string) {
	h.t.Helper()
	h.exec(text, 30*time.Second)
}

// run runs a block of the guide in a subshell with -e, as an operator would paste it.
func (h *host) run(b guideBlock, timeout time.Duration) {
	h.t.Helper()
	h.t.Logf("%s %s: running %q", time.Now().Format("15:04:05.0"), h.name, b.name)
	h.exec("(\nset -e\n"+b.body+")", timeout)
}

func (h *host) exec(text string, timeout time.Duration) {
	h.t.Helper()
	_, err := fmt.Fprintf(h.in, "%s\necho \"__done $?\"\n", text)
	require.NoError(h.t, err)
	deadline := time.After(timeout)
	for {
		select {
		case line, ok := <-h.out:
			if !ok {
				h.t.Fatalf("%s: the shell ended: %s", h.name, strings.Join(h.seen, "\n"))
			}
			if status, found := strings.CutPrefix(line, "__done "); found {
				if status != "0" {
					h.t.Fatalf("%s: exit status %s of:\n%s\n--- output ---\n%s\n--- journal ---\n%s", h.name, status, text,
						strings.Join(h.seen, "\n"), h.journal())
				}
				return
			}
			h.seen = append(h.seen, line)
		case <-deadline:
			h.t.Fatalf("%s: not done within %s:\n%s\n--- output ---\n%s\n--- journal ---\n%s", h.name, timeout, text,
				strings.Join(h.seen, "\n"), h.journal())
		}
	}
}

func (h *host) journal() string {
	b, _ := os.ReadFile(filepath.Join(h.dir, "standin", "clckpt.journal"))
	lines := strings.Split(string(b), "\n")
	return strings.Join(lines[max(0, len(lines)-40):], "\n")
}

// stopService stops the host's node (not a command of the guide: the test's own).
func (h *host) stopService() {
	h.t.Helper()
	h.send("systemctl stop clckpt")
}

func (h *host) close() {
	if h.ended {
		return
	}
	h.ended = true
	_, _ = fmt.Fprintln(h.in, "systemctl stop clckpt 2>/dev/null; exit")
	done := make(chan struct{})
	go func() { _ = h.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(40 * time.Second):
		_ = h.cmd.Process.Kill()
	}
	if h.t.Failed() {
		h.t.Logf("--- %s journal ---\n%s", h.name, h.journal())
	}
}

// freeOnAll returns a port that is free on each of the addresses.
func freeOnAll(t *testing.T, addrs ...string) string {
	t.Helper()
	for {
		p := strconv.Itoa(freePort(t))
		ok := true
		for _, a := range addrs {
			l, err := net.Listen("tcp", net.JoinHostPort(a, p))
			if err != nil {
				ok = false
				break
			}
			l.Close()
		}
		if ok {
			return p
		}
	}
}

// TestDeployGuide runs every command of DEPLOY.md: the unit installed and verified
// (systemd-analyze), one host on the data directory's token, then three hosts (mount namespaces on
// 127.0.0.1, .2 and .3, the same ports on each) with a CA, node certificates and passwords made by
// openssl, routes with TLS and a password, programs with a user and password. A program writes a
// WR_ALL_REPLICAS checkpoint through the first node only; the second node is upgraded as the guide
// says; the third is stopped; every acknowledged write is then read through the second node. The
// Grafana dashboard's metrics all appear in the nodes' scrapes.
func TestDeployGuide(t *testing.T) {
	for _, tool := range []string{"unshare", "setpriv", "openssl", "curl", "systemd-analyze", "useradd", "runuser"} {
		if _, err := exec.LookPath(tool); err != nil {
			cannotRun(t, "the deployment guide's test needs %s (.ci/run installs it)", tool)
		}
	}
	if os.Geteuid() != 0 {
		cannotRun(t, "the deployment guide's test runs as root (mount namespaces, useradd)")
	}
	guide := readGuide(t)
	ran := map[string]bool{}
	block := func(name string) guideBlock {
		b, ok := guide[name]
		require.True(t, ok, "DEPLOY.md has no block %q", name)
		ran[name] = true
		return b
	}
	// A settings block is replaced by the test's values, which must set the same variables.
	settings := func(name string, vars map[string]string) {
		var have []string
		for k := range vars {
			have = append(have, k)
		}
		sort.Strings(have)
		require.Equal(t, settingsOf(block(name)), have, "the variables of %s", name)
	}

	build := exec.Command("bash", "-ec", block("build").body)
	build.Dir = root
	out, err := build.CombinedOutput()
	require.NoError(t, err, "%s", out)

	// One host.
	one := map[string]string{"CLIENT_PORT": freeOnAll(t, "127.0.0.1"), "METRICS_PORT": freeOnAll(t, "127.0.0.1")}
	settings("one-host-settings", one)
	h1 := newHost(t, "one", one)
	h1.run(block("install"), 60*time.Second)
	h1.run(block("one-host"), 90*time.Second)
	require.Contains(t, strings.Join(h1.seen, "\n"), "members:", "clckpt status answered")
	h1.stopService()
	h1.close()

	// Three hosts.
	addrs := []string{"127.0.0.1", "127.0.0.2", "127.0.0.3"}
	common := map[string]string{"S1": addrs[0], "S2": addrs[1], "S3": addrs[2], "PKI": filepath.Join(t.TempDir(), "pki")}
	for _, p := range []string{"CLIENT_PORT", "ROUTE_PORT", "LINK_PORT", "METRICS_PORT"} {
		common[p] = freeOnAll(t, addrs...)
	}
	settings("three-hosts-settings", common)
	admin := newHost(t, "admin", common)
	admin.run(block("pki"), 60*time.Second)
	admin.close()
	var hosts []*host
	for i, a := range addrs {
		vars := map[string]string{"NODE": fmt.Sprintf("s%d", i+1), "ADDR": a}
		for k, v := range common {
			vars[k] = v
		}
		h := newHost(t, vars["NODE"], vars)
		h.run(block("install"), 60*time.Second)
		hosts = append(hosts, h)
	}
	for _, h := range hosts {
		h.run(block("node"), 30*time.Second)
	}
	for _, h := range hosts { // each node serves once the three have formed the cluster
		h.run(block("node-check"), 120*time.Second)
		require.Contains(t, strings.Join(h.seen, "\n"), "members:")
	}
	hosts[2].run(block("program"), 60*time.Second)

	// A program writes through the first node only.
	password, err := os.ReadFile(filepath.Join(common["PKI"], "app.password"))
	require.NoError(t, err)
	ca := filepath.Join(common["PKI"], "ca.pem")
	url := func(i int) string { return "tls://" + net.JoinHostPort(addrs[i], common["CLIENT_PORT"]) }
	const writes = 200
	w := start(t, "writer", []string{"CLCKPT_NODE=app", "CLCKPT_DATA_DIR=" + t.TempDir(), "CLCKPT_NATS_URL=" + url(0),
		"CLCKPT_NATS_USER=app", "CLCKPT_NATS_PASSWORD=" + strings.TrimSpace(string(password)), "CLCKPT_NATS_TLS_CA=" + ca,
		"CLCKPT_LOG_LEVEL=info"}, bin("writer"), "-name", "deployed", "-n", strconv.Itoa(writes))
	require.Equal(t, 0, w.wait(120*time.Second))
	require.Equal(t, writes, ackedCount(w))

	// The dashboard shows only metrics the nodes have.
	fams := map[string]*dto.MetricFamily{}
	for _, a := range addrs {
		for name, f := range scrape(t, net.JoinHostPort(a, common["METRICS_PORT"])) {
			fams[name] = f
		}
	}
	checkDashboard(t, fams)

	// The second node is upgraded; its store and the others' replicas keep the checkpoint.
	hosts[1].run(block("upgrade"), 120*time.Second)
	hosts[0].run(block("sizing"), 30*time.Second)
	hosts[0].run(block("backup"), 120*time.Second)
	require.Contains(t, strings.Join(hosts[0].seen, "\n"), "deployed-nightly", "clckpt backups lists the backup")
	// Another node stops: the checkpoint written through the first is read whole through the second.
	hosts[2].stopService()
	checkAcknowledged(t, url(1), "deployed", writes, func(c *config.Config) {
		c.NATS.User, c.NATS.Password, c.NATS.TLSCA = "app", strings.TrimSpace(string(password)), ca
	})

	var missed []string
	for name := range guide {
		if !ran[name] {
			missed = append(missed, name)
		}
	}
	require.Empty(t, missed, "blocks of DEPLOY.md the test does not run")
}

// checkDashboard: every metric an expression of deploy/grafana-dashboard.json uses is in fams.
func checkDashboard(t *testing.T, fams map[string]*dto.MetricFamily) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, "deploy", "grafana-dashboard.json"))
	require.NoError(t, err)
	var dash struct {
		Panels []struct {
			Title   string
			Targets []struct{ Expr string }
		}
	}
	require.NoError(t, json.Unmarshal(b, &dash))
	require.NotEmpty(t, dash.Panels)
	ident := regexp.MustCompile(`\b(clckpt|process|go)_[a-z_]+\b`)
	var used []string
	for _, p := range dash.Panels {
		require.NotEmpty(t, p.Targets, p.Title)
		for _, tg := range p.Targets {
			for _, name := range ident.FindAllString(tg.Expr, -1) {
				family := name
				for _, suffix := range []string{"_bucket", "_sum", "_count"} {
					if f, ok := strings.CutSuffix(name, suffix); ok && fams[f] != nil && fams[f].GetType() == dto.MetricType_HISTOGRAM {
						family = f
					}
				}
				require.Contains(t, fams, family, "panel %q uses %s, which no node serves", p.Title, name)
				used = append(used, family)
			}
		}
	}
	// And the dashboard shows every metric of the member.
	for name := range fams {
		if strings.HasPrefix(name, "clckpt_") {
			require.True(t, slices.Contains(used, name), "no panel shows %s", name)
		}
	}
}

// TestServiceUnitIsHardened: the unit runs the node as its own user in its state directory, with
// the system read-only, no privileges and a restart on failure (systemd-analyze verify, in
// TestDeployGuide, checks that systemd reads it).
func TestServiceUnitIsHardened(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(root, "deploy", "clckpt.service"))
	require.NoError(t, err)
	unit := map[string][]string{}
	for _, line := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(line, "="); ok && !strings.HasPrefix(line, "#") {
			unit[k] = append(unit[k], v)
		}
	}
	for k, v := range map[string]string{"User": "clckpt", "Group": "clckpt", "StateDirectory": "clckpt", "StateDirectoryMode": "0700",
		"Environment": "CLCKPT_DATA_DIR=/var/lib/clckpt", "ProtectSystem": "strict", "ProtectHome": "yes", "PrivateTmp": "yes",
		"NoNewPrivileges": "yes", "CapabilityBoundingSet": "", "Restart": "on-failure", "KillSignal": "SIGTERM", "UMask": "0077"} {
		require.Contains(t, unit[k], v, k)
	}
	require.Equal(t, []string{"/usr/local/bin/clckpt serve $CLCKPT_SERVE_FLAGS"}, unit["ExecStart"])
}
