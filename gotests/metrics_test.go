package gotests

import (
	"fmt"
	"net/http"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/require"
)

// scrape reads a /metrics page and parses it.
func scrape(t *testing.T, addr string) map[string]*dto.MetricFamily {
	t.Helper()
	resp, err := http.Get("http://" + addr + "/metrics")
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(resp.Body)
	require.NoError(t, err)
	return fams
}

// seriesOf finds the series of family name whose labels include labels (name, value pairs).
func seriesOf(fams map[string]*dto.MetricFamily, name string, labels ...string) *dto.Metric {
	f := fams[name]
	if f == nil {
		return nil
	}
next:
	for _, m := range f.GetMetric() {
		for i := 0; i+1 < len(labels); i += 2 {
			found := false
			for _, l := range m.GetLabel() {
				if l.GetName() == labels[i] && l.GetValue() == labels[i+1] {
					found = true
				}
			}
			if !found {
				continue next
			}
		}
		return m
	}
	return nil
}

// metricValue is the value of a counter or gauge series (-1 when there is no such series).
func metricValue(fams map[string]*dto.MetricFamily, name string, labels ...string) float64 {
	m := seriesOf(fams, name, labels...)
	switch {
	case m == nil:
		return -1
	case m.GetCounter() != nil:
		return m.GetCounter().GetValue()
	case m.GetGauge() != nil:
		return m.GetGauge().GetValue()
	case m.GetUntyped() != nil:
		return m.GetUntyped().GetValue()
	}
	return -1
}

// histogramCount is the number of observations of a histogram series (-1 when there is none).
func histogramCount(fams map[string]*dto.MetricFamily, name string, labels ...string) int64 {
	m := seriesOf(fams, name, labels...)
	if m == nil || m.GetHistogram() == nil {
		return -1
	}
	return int64(m.GetHistogram().GetSampleCount())
}

// TestMetricsCountWhatWasDone: two clckpt serve nodes (--metrics-addr) and a program's member
// (CLCKPT_METRICS_ADDR) that creates 100 sections, makes 40 writes to a WR_ALL_REPLICAS checkpoint
// and reads each section once. The program's scrape counts exactly those calls, with their
// latencies and bytes; the active node's counts the calls it ran for the program; both nodes hold a
// replica in sync, the active sees its follower's lag drop to 0 and its link up.
func TestMetricsCountWhatWasDone(t *testing.T) {
	root := t.TempDir()
	port := freePort(t)
	url := fmt.Sprintf("nats://127.0.0.1:%d", port)
	addrs := map[string]string{}
	var nodes []*proc
	for i, name := range []string{"s1", "s2"} {
		addrs[name] = fmt.Sprintf("127.0.0.1:%d", freePort(t))
		env := append(memberEnv(name, filepath.Join(root, name), ""), "CLCKPT_REPLICAS=2")
		args := []string{"serve", "--node", name, "--metrics-addr", addrs[name]}
		if i == 0 {
			args = append(args, "--port", strconv.Itoa(port), "--no-auth")
		} else {
			args = append(args, "--nats-url", url)
		}
		p := start(t, name, env, bin("clckpt"), args...)
		p.waitLine("^ready", 60*time.Second)
		nodes = append(nodes, p)
	}
	defer func() {
		for i := len(nodes) - 1; i >= 0; i-- {
			nodes[i].stop()
		}
	}()
	// Both servers' leases are seen by the program before it places its checkpoint.
	require.Eventually(t, func() bool {
		return metricValue(scrape(t, addrs["s1"]), "clckpt_link_up", "peer", "s2") >= 0
	}, 30*time.Second, 50*time.Millisecond, "s1 never saw s2")

	const writes = 40
	progAddr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	w := start(t, "writer", append(memberEnv("app", filepath.Join(root, "app"), url), "CLCKPT_METRICS_ADDR="+progAddr),
		bin("writer"), "-name", "counted", "-n", strconv.Itoa(writes), "-stay")
	w.waitLine("^stayed", 60*time.Second)
	defer w.stop()
	require.Empty(t, w.matching("^retry"), "the program retried a call: the counts below would not be exact")

	prog := scrape(t, progAddr)
	require.Equal(t, 1.0, metricValue(prog, "clckpt_member_info", "member", "app", "kind", "application"))
	require.Equal(t, 1.0, metricValue(prog, "clckpt_operations_total", "op", "open", "result", "ok"))
	require.Equal(t, 100.0, metricValue(prog, "clckpt_operations_total", "op", "create_section", "result", "ok"))
	require.Equal(t, float64(writes), metricValue(prog, "clckpt_operations_total", "op", "write", "result", "ok"))
	require.Equal(t, 100.0, metricValue(prog, "clckpt_operations_total", "op", "read", "result", "ok"))
	require.Equal(t, 0.0, metricValue(prog, "clckpt_operations_total", "op", "write", "result", "try_again"))
	require.Equal(t, int64(100+writes), histogramCount(prog, "clckpt_write_duration_seconds", "mode", "all_replicas"))
	require.Equal(t, int64(0), histogramCount(prog, "clckpt_write_duration_seconds", "mode", "active_replica"))
	require.Equal(t, int64(100), histogramCount(prog, "clckpt_read_duration_seconds"))
	require.Equal(t, float64(100*800+writes*8), metricValue(prog, "clckpt_written_bytes_total"))
	require.Equal(t, 0.0, metricValue(prog, "clckpt_replicas_held"), "the servers hold the replicas")
	require.Equal(t, 1.0, metricValue(prog, "clckpt_nats_connected"))
	// Every call was forwarded to the active's node, on a call link once one was dialed.
	require.Greater(t, metricValue(prog, "clckpt_forwarded_calls_total", "path", "link"), 0.0)
	require.GreaterOrEqual(t, metricValue(prog, "clckpt_forwarded_calls_total", "path", "link")+
		metricValue(prog, "clckpt_forwarded_calls_total", "path", "nats"), float64(100+writes+100))

	// The active node ran every call of the program; the other follows in sync with nothing owed.
	var active, follower string
	require.Eventually(t, func() bool {
		for name, addr := range addrs {
			fams := scrape(t, addr)
			if metricValue(fams, "clckpt_active_replicas") == 1 {
				active = name
			} else {
				follower = name
			}
		}
		return active != "" && follower != ""
	}, 10*time.Second, 50*time.Millisecond)
	act := scrape(t, addrs[active])
	require.Equal(t, float64(writes), metricValue(act, "clckpt_served_calls_total", "op", "write", "result", "ok"))
	require.Equal(t, 100.0, metricValue(act, "clckpt_served_calls_total", "op", "create_section", "result", "ok"))
	require.Equal(t, 100.0, metricValue(act, "clckpt_served_calls_total", "op", "read", "result", "ok"))
	require.Equal(t, 0.0, metricValue(act, "clckpt_operations_total", "op", "write", "result", "ok"), "no call was made on the node itself")
	require.Equal(t, 1.0, metricValue(act, "clckpt_link_up", "peer", follower), "WR_ALL_REPLICAS ops go on the link")
	require.GreaterOrEqual(t, metricValue(act, "clckpt_replicated_ops_total", "path", "link")+
		metricValue(act, "clckpt_replicated_ops_total", "path", "nats"), float64(writes), "ops sent to the follower (the first ones may have come in a copy)")
	require.Equal(t, 0.0, metricValue(act, "clckpt_follower_lag_ops", "follower", follower), "every write was acknowledged")
	require.Equal(t, 0.0, metricValue(act, "clckpt_follower_lag_bytes", "follower", follower))
	for name, addr := range addrs {
		fams := scrape(t, addr)
		require.Equal(t, 1.0, metricValue(fams, "clckpt_member_info", "member", name, "kind", "server"), name)
		require.Equal(t, 1.0, metricValue(fams, "clckpt_replicas_held"), name)
		require.Equal(t, 1.0, metricValue(fams, "clckpt_replicas_in_sync"), name)
		require.Equal(t, 1.0, metricValue(fams, "clckpt_checkpoints_followed"), name)
		require.Equal(t, 1.0, metricValue(fams, "clckpt_nats_connected"), name)
		require.Greater(t, metricValue(fams, "clckpt_store_bytes"), 0.0, name)
		require.GreaterOrEqual(t, metricValue(fams, "clckpt_store_bytes"), metricValue(fams, "clckpt_value_log_bytes"), name)
		require.Greater(t, metricValue(fams, "clckpt_disk_free_bytes"), 0.0, name)
		require.Equal(t, float64(64<<20), metricValue(fams, "clckpt_disk_reserve_bytes"), name)
		require.Equal(t, 0.0, metricValue(fams, "clckpt_elections_total", "result", "elected"), name)
	}
}

// TestMetricsOfAProgramInC: a C program (ckptPeer active) with CLCKPT_METRICS_ADDR creates a
// collocated WR_ACTIVE_REPLICA checkpoint, makes itself its active replica, creates 20 sections of
// 64 KiB and synchronizes. Its scrape counts exactly those calls, their latencies and bytes, and
// the replica it holds; its stats line (CLCKPT_STATS_INTERVAL) carries the same numbers.
func TestMetricsOfAProgramInC(t *testing.T) {
	dir := t.TempDir()
	port := freePort(t)
	natsServer(t, dir+"/nats", port)
	addr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	const sections = 20
	a := start(t, "active", append(memberEnv("A", dir+"/a", natsURL(port)), "CLCKPT_METRICS_ADDR="+addr, "CLCKPT_STATS_INTERVAL=200ms"),
		peer, "active", "measured", strconv.Itoa(sections))
	a.waitLine(`^synced$`, 60*time.Second)
	defer a.kill9()

	fams := scrape(t, addr)
	require.Equal(t, 1.0, metricValue(fams, "clckpt_member_info", "member", "A", "kind", "application"))
	require.Equal(t, 1.0, metricValue(fams, "clckpt_operations_total", "op", "open", "result", "ok"))
	require.Equal(t, 1.0, metricValue(fams, "clckpt_operations_total", "op", "set_active", "result", "ok"))
	require.Equal(t, float64(sections), metricValue(fams, "clckpt_operations_total", "op", "create_section", "result", "ok"))
	require.Equal(t, int64(sections), histogramCount(fams, "clckpt_write_duration_seconds", "mode", "active_replica"))
	require.Equal(t, int64(0), histogramCount(fams, "clckpt_write_duration_seconds", "mode", "all_replicas"))
	require.Equal(t, float64(sections*64<<10), metricValue(fams, "clckpt_written_bytes_total"))
	require.Equal(t, 1.0, metricValue(fams, "clckpt_replicas_held"))
	require.Equal(t, 1.0, metricValue(fams, "clckpt_replicas_in_sync"))
	require.Equal(t, 1.0, metricValue(fams, "clckpt_active_replicas"))
	require.Equal(t, 1.0, metricValue(fams, "clckpt_nats_connected"))
	// The synchronization completes after the write calls: it is counted once its callback ran.
	require.Eventually(t, func() bool {
		return metricValue(scrape(t, addr), "clckpt_operations_total", "op", "synchronize", "result", "ok") == 1
	}, 10*time.Second, 20*time.Millisecond)

	// The stats line reads the same registry: once a line is logged after the last call, its sum of
	// the calls is the scrape's.
	fams = scrape(t, addr)
	calls := 0.0
	for _, m := range fams["clckpt_operations_total"].GetMetric() {
		calls += m.GetCounter().GetValue()
	}
	want := fmt.Sprintf(`msg=stats .* followed=1 replicas=1 in_sync=1 active=1 ops=%d `, int64(calls))
	a.waitLog(want, 10*time.Second)
}
