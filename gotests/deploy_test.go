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
	"syscall"
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

// host is a shell as root on one "host" of the guide. A node's host runs a real systemd as the PID 1
// of namespaces of its own (gotests/systemd-host: a root of its own with the machine's /usr, a copy
// of its /etc, its own /var/lib and /usr/local/bin), and the shell runs in those namespaces. The
// administration machine (and every host when CLCKPT_TEST_SYSTEMD=standin) is a shell in a mount
// namespace with its own /etc (a copy of the machine's), /var/lib, /usr/local/bin and /root, with the
// systemd stand-in (gotests/systemd-standin) on its PATH.
type host struct {
	t       *testing.T
	name    string
	dir     string
	in      io.WriteCloser
	out     chan string
	cmd     *exec.Cmd
	seen    []string
	vars    map[string]string
	ended   bool
	systemd *exec.Cmd     // gotests/systemd-host, for a host with a real systemd
	pid     int           // that systemd's process id
	down    chan struct{} // closed when gotests/systemd-host has ended
}

// standin tells whether the test runs the guide against the systemd stand-in rather than a real
// systemd (CLCKPT_TEST_SYSTEMD=standin), which it says loudly.
func standin(t *testing.T) bool {
	switch v := os.Getenv("CLCKPT_TEST_SYSTEMD"); v {
	case "":
		return false
	case "standin":
		t.Log("*** CLCKPT_TEST_SYSTEMD=standin: systemctl and journalctl are the stand-in of gotests/systemd-standin, " +
			"not systemd: the unit's hardening is NOT exercised ***")
		return true
	default:
		t.Fatalf("CLCKPT_TEST_SYSTEMD=%q: leave it unset (a real systemd) or set it to standin", v)
		return false
	}
}

// newHost starts a host; withSystemd gives it a real systemd, which sees the paths shared (read-only).
func newHost(t *testing.T, name string, vars map[string]string, withSystemd bool, shared ...string) *host {
	t.Helper()
	h := &host{t: t, name: name, dir: filepath.Join(t.TempDir(), name), out: make(chan string, 1024), vars: vars}
	for _, d := range []string{"etc", "varlib", "bin", "root", "standin"} {
		require.NoError(t, os.MkdirAll(filepath.Join(h.dir, d), 0o755))
	}
	if withSystemd {
		h.boot(shared)
		h.cmd = exec.Command("nsenter", "--target", strconv.Itoa(h.pid), "--all", "--root", "--wd",
			"env", "-i", "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "HOME=/root", "LANG=C.UTF-8",
			"bash", "--noprofile", "--norc")
	} else {
		h.cmd = exec.Command("unshare", "--mount", "--propagation", "private", "bash", "--noprofile", "--norc")
		h.cmd.Dir = root
	}
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
	if withSystemd {
		h.send("cd " + root) // the checkout, read-only there
	} else {
		h.send(fmt.Sprintf(`cp -a /etc/. %[1]s/etc/ && mount --bind %[1]s/etc /etc && mount --bind %[1]s/varlib /var/lib &&
mount --bind %[1]s/bin /usr/local/bin && mount --bind %[1]s/root /root && export STANDIN_DIR=%[1]s/standin PATH=%[2]s:$PATH`, h.dir, filepath.Join(root, "gotests", "systemd-standin")))
	}
	var set []string
	for k, v := range vars {
		set = append(set, fmt.Sprintf("%s=%q", k, v))
	}
	sort.Strings(set)
	h.send(strings.Join(set, " "))
	return h
}

// boot starts the host's systemd and waits until it has started its units.
func (h *host) boot(shared []string) {
	h.t.Helper()
	log, err := os.Create(filepath.Join(h.dir, "systemd-host.log"))
	require.NoError(h.t, err)
	defer log.Close()
	began := time.Now()
	h.systemd = exec.Command(filepath.Join(root, "gotests", "systemd-host"), append([]string{h.dir, h.name, root}, shared...)...)
	h.systemd.Stdout, h.systemd.Stderr = log, log
	require.NoError(h.t, h.systemd.Start())
	h.down = make(chan struct{})
	go func() { _ = h.systemd.Wait(); close(h.down) }()
	h.t.Cleanup(h.stopSystemd)
	failed := func(format string, args ...any) {
		h.t.Helper()
		h.stopSystemd()
		b, _ := os.ReadFile(log.Name())
		cannotRun(h.t, "%s: a real systemd does not run here: %s\n%s\n(CLCKPT_TEST_SYSTEMD=standin runs the guide against "+
			"the systemd stand-in instead)", h.name, fmt.Sprintf(format, args...), b)
	}
	deadline := time.Now().Add(30 * time.Second)
	for h.pid == 0 {
		select {
		case <-h.down:
			failed("gotests/systemd-host ended")
		case <-time.After(50 * time.Millisecond):
		}
		if b, err := os.ReadFile(filepath.Join(h.dir, "pid")); err == nil {
			h.pid, _ = strconv.Atoi(strings.TrimSpace(string(b)))
		}
		if h.pid == 0 && time.Now().After(deadline) {
			failed("no systemd process within 30s")
		}
	}
	// systemd has started once it has made /run/systemd/system and its socket (until then the process
	// is the script).
	for {
		if _, err := h.inside(10*time.Second, "test", "-d", "/run/systemd/system", "-a", "-S", "/run/systemd/private"); err == nil {
			break
		}
		select {
		case <-h.down:
			failed("gotests/systemd-host ended")
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			failed("systemd did not start within 30s")
		}
	}
	// is-system-running --wait: "running" once the boot is done, "degraded" if a unit failed (one of
	// the machine's own, which the node does not need: said, not fatal).
	out, err := h.inside(120*time.Second, "systemctl", "is-system-running", "--wait")
	switch state := strings.TrimSpace(out); state {
	case "running":
		h.t.Logf("%s: systemd running after %s", h.name, time.Since(began).Round(time.Millisecond))
	case "degraded":
		units, _ := h.inside(30*time.Second, "systemctl", "list-units", "--failed", "--no-pager")
		h.t.Logf("%s: systemd started, with failed units:\n%s", h.name, units)
	default:
		h.stopSystemd()
		h.t.Fatalf("%s: systemd did not start its units: %s %v", h.name, out, err)
	}
}

// inside runs a command in the host's namespaces, as root.
func (h *host) inside(timeout time.Duration, args ...string) (string, error) {
	cmd := exec.Command("timeout", append([]string{strconv.Itoa(int(timeout.Seconds())), "nsenter", "--target", strconv.Itoa(h.pid),
		"--all", "--root", "--wd"}, args...)...)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// stopSystemd powers the host's systemd off (it stops its services first), or kills it.
func (h *host) stopSystemd() {
	if h.systemd == nil {
		return
	}
	select {
	case <-h.down:
		return
	default:
	}
	if h.pid != 0 {
		_, _ = h.inside(30*time.Second, "systemctl", "poweroff")
	}
	select {
	case <-h.down:
	case <-time.After(60 * time.Second):
		if h.pid != 0 {
			_ = syscall.Kill(h.pid, syscall.SIGKILL) // PID 1 of its namespace: every process there ends with it
		}
		select {
		case <-h.down: // the script has removed its cgroups
		case <-time.After(10 * time.Second):
			_ = h.systemd.Process.Kill()
			<-h.down
		}
	}
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

// journal returns the last lines of the node's log.
func (h *host) journal() string {
	if h.systemd != nil {
		out, err := h.inside(30*time.Second, "journalctl", "-u", "clckpt", "-n", "40", "--no-pager")
		if err != nil {
			return fmt.Sprintf("%s(journalctl: %v)", out, err)
		}
		return out
	}
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
	if h.t.Failed() {
		h.t.Logf("--- %s journal ---\n%s", h.name, h.journal())
	}
	_, _ = fmt.Fprintln(h.in, "systemctl stop clckpt 2>/dev/null; exit")
	done := make(chan struct{})
	go func() { _ = h.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(40 * time.Second):
		_ = h.cmd.Process.Kill()
	}
	h.stopSystemd()
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
// (systemd-analyze), one host on the data directory's token (the node run by a real systemd with the
// unit's hardening, checkHardening), then three hosts (each a real systemd in namespaces of its own,
// on 127.0.0.1, .2 and .3, the same ports on each) with a CA, node certificates and passwords made by
// openssl, routes with TLS and a password, programs with a user and password. A program writes a
// WR_ALL_REPLICAS checkpoint through the first node only; the second node is upgraded as the guide
// says; the third is stopped; every acknowledged write is then read through the second node. The
// Grafana dashboard's metrics all appear in the nodes' scrapes.
func TestDeployGuide(t *testing.T) {
	sd := !standin(t)
	tools := []string{"unshare", "setpriv", "openssl", "curl", "systemd-analyze", "useradd", "runuser"}
	if sd {
		tools = append(tools, "nsenter", "pivot_root", "timeout", "/lib/systemd/systemd")
	}
	for _, tool := range tools {
		if _, err := exec.LookPath(tool); err != nil {
			cannotRun(t, "the deployment guide's test needs %s (.ci/run installs it)", tool)
		}
	}
	if os.Geteuid() != 0 {
		cannotRun(t, "the deployment guide's test runs as root (namespaces, a systemd of each host, useradd)")
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
	h1 := newHost(t, "one", one, sd)
	h1.run(block("install"), 60*time.Second)
	h1.run(block("one-host"), 90*time.Second)
	require.Contains(t, strings.Join(h1.seen, "\n"), "members:", "clckpt status answered")
	if sd {
		require.Contains(t, strings.Join(h1.seen, "\n"), "Started clckpt.service", "journalctl shows systemd's own lines")
		checkHardening(t, h1)
	}
	h1.stopService()
	h1.close()

	// Three hosts.
	addrs := []string{"127.0.0.1", "127.0.0.2", "127.0.0.3"}
	common := map[string]string{"S1": addrs[0], "S2": addrs[1], "S3": addrs[2], "PKI": filepath.Join(t.TempDir(), "pki")}
	for _, p := range []string{"CLIENT_PORT", "ROUTE_PORT", "LINK_PORT", "METRICS_PORT"} {
		common[p] = freeOnAll(t, addrs...)
	}
	settings("three-hosts-settings", common)
	admin := newHost(t, "admin", common, false)
	admin.run(block("pki"), 60*time.Second)
	admin.close()
	var hosts []*host
	for i, a := range addrs {
		vars := map[string]string{"NODE": fmt.Sprintf("s%d", i+1), "ADDR": a}
		for k, v := range common {
			vars[k] = v
		}
		h := newHost(t, vars["NODE"], vars, sd, common["PKI"])
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

// checkHardening: on a host with a real systemd, the node runs as its unit says: as the user clckpt,
// with no capabilities, no new privileges and a system-call filter, with only its state directory
// writable, without the host's /root and /tmp; killed, systemd starts it again.
func checkHardening(t *testing.T, h *host) {
	t.Helper()
	props := func() map[string]string {
		out, err := h.inside(30*time.Second, "systemctl", "show", "clckpt")
		require.NoError(t, err, out)
		p := map[string]string{}
		for _, line := range strings.Split(out, "\n") {
			if k, v, ok := strings.Cut(line, "="); ok {
				p[k] = v
			}
		}
		return p
	}
	p := props()
	for k, v := range map[string]string{"ActiveState": "active", "SubState": "running", "User": "clckpt", "Group": "clckpt",
		"StateDirectory": "clckpt", "StateDirectoryMode": "0700", "ProtectSystem": "strict", "ProtectHome": "yes",
		"PrivateTmp": "yes", "PrivateDevices": "yes", "NoNewPrivileges": "yes", "CapabilityBoundingSet": "", "UMask": "0077",
		"Restart": "on-failure", "RestrictNamespaces": "yes", "MemoryDenyWriteExecute": "yes", "NRestarts": "0"} {
		require.Equal(t, v, p[k], "systemctl show clckpt: %s", k)
	}
	pid := p["MainPID"]
	uid, err := h.inside(30*time.Second, "id", "-u", "clckpt")
	require.NoError(t, err, uid)
	status, err := h.inside(30*time.Second, "cat", "/proc/"+pid+"/status")
	require.NoError(t, err, status)
	for _, want := range []string{"Uid:\t" + strings.Repeat(strings.TrimSpace(uid)+"\t", 3) + strings.TrimSpace(uid) + "\n",
		"NoNewPrivs:\t1\n", "CapPrm:\t0000000000000000\n", "CapEff:\t0000000000000000\n", "CapBnd:\t0000000000000000\n",
		"Seccomp:\t2\n"} {
		require.Contains(t, status, want, "the node's /proc/%s/status", pid)
	}

	// The node's view of the files (its mount namespace; even root there): only the state directory
	// is writable, and the host's /root and /tmp are not there.
	h.send("touch /root/host-marker /tmp/host-marker")
	inNode := func(script string) (string, error) {
		return h.inside(30*time.Second, "nsenter", "--target", pid, "--mount", "sh", "-c", script)
	}
	out, err := inNode("touch /var/lib/clckpt/probe && rm /var/lib/clckpt/probe")
	require.NoError(t, err, "the node writes its state directory: %s", out)
	for _, dir := range []string{"/etc/clckpt", "/usr/local/bin", "/var/lib", "/root", "/"} {
		out, err := inNode("touch " + filepath.Join(dir, "probe"))
		require.Error(t, err, "the node writes %s", dir)
		require.Regexp(t, "Read-only file system|Permission denied", out)
	}
	for _, f := range []string{"/root/host-marker", "/tmp/host-marker"} {
		_, err := inNode("test -e " + f)
		require.Error(t, err, "the node sees %s", f)
	}
	h.send("rm /root/host-marker /tmp/host-marker")

	// Restart=on-failure: killed, the node is started again.
	h.send("systemctl kill --signal=SIGKILL clckpt")
	deadline := time.Now().Add(60 * time.Second)
	for p = props(); p["NRestarts"] != "1" || p["SubState"] != "running"; p = props() {
		require.True(t, time.Now().Before(deadline), "systemd did not start the killed node again: %v", p)
		time.Sleep(200 * time.Millisecond)
	}
	require.NotEqual(t, pid, p["MainPID"])
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
// the system read-only, no privileges and a restart on failure (TestDeployGuide runs it under a
// real systemd and checks that these apply).
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
