package gotests

import (
	"bufio"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestSoak runs the whole C API under load for SOAK_TIME (default 45s; `make soak`: 10m): a clckpt
// serve node (NATS and a server member) and three member processes of ctests/soak.c with 64 threads
// in all, on checkpoints they share. It fails if a process dies, if a call returns an undocumented
// result or reads back other data than written (ckptSoak exits non-zero), or if a process's
// resources grow (flatnessRule). Each process logs a stats line every interval
// (CLCKPT_STATS_INTERVAL); the test prints them as they come and a summary at the end.
func TestSoak(t *testing.T) {
	d := 45 * time.Second
	if v := os.Getenv("SOAK_TIME"); v != "" {
		var err error
		d, err = time.ParseDuration(v)
		require.NoError(t, err, "SOAK_TIME")
	}
	// About 60 samples on a long run (a window of the rule then holds 9 of them, 90 s: more chances
	// to see the floor of a process whose memory comes and goes), one every 3 s on a short one.
	interval := min(max(d/60, 3*time.Second), 10*time.Second)
	dir := t.TempDir()
	port := freePort(t)
	url := natsURL(port)
	// Two bounded buffers fill and empty on a scale of minutes at this write rate, which the rule
	// would take for growth or could not tell from it: the active's tail of recent ops (16 MiB per
	// checkpoint by default; a 1 MiB one is full within the warm-up), and the store's memtables
	// (8 MiB by default: a member's resident memory climbs by most of that as one fills, for about
	// two minutes, and drops when it is written out; with 2 MiB ones the cycle takes about half a
	// minute and is 2 MiB deep). RELIABILITY.md has the runs with the defaults.
	// Each stats line is measured after a full collection (CLCKPT_STATS_COLLECT): what a process
	// retains, not where its garbage collector's cycle or the NATS server's buffer pools (up to
	// 8 MiB of JetStream blocks, kept until the second collection) happen to be.
	common := []string{"CLCKPT_STATS_INTERVAL=" + interval.String(), "CLCKPT_STATS_COLLECT=1", "CLCKPT_TAIL_BYTES=1048576",
		"CLCKPT_MEMTABLE_BYTES=2097152"}

	serve := start(t, "serve", append([]string{"CLCKPT_DATA_DIR=" + dir + "/serve"}, common...), bin("clckpt"), "serve",
		"--node", "serve", "--port", strconv.Itoa(port), "--no-auth")
	serve.waitLine("^ready", 30*time.Second)
	threads := []int{22, 21, 21}
	var members []*proc
	for i, n := range threads {
		node := fmt.Sprintf("m%d", i)
		env := append([]string{"CLCKPT_NODE=" + node, "CLCKPT_DATA_DIR=" + dir + "/" + node, "CLCKPT_NATS_URL=" + url}, common...)
		p := start(t, node, env, soak, strconv.Itoa(i), strconv.Itoa(n), strconv.Itoa(int(d.Seconds())), strconv.Itoa(len(threads)))
		p.waitLine("^ready$", 60*time.Second)
		members = append(members, p)
	}
	begin := time.Now()
	t.Logf("soak: %s, %d threads in %d members, a stats line every %s", d, 64, len(members), interval)

	procs := append([]*proc{serve}, members...)
	printed := make([]int, len(procs))
	report := func() {
		for i, p := range procs {
			ss := statsOf(t, p)
			for _, s := range ss[printed[i]:] {
				c := "" // the C heap, where the library reports it
				if _, ok := s.v["c_heap_used"]; ok {
					c = fmt.Sprintf(" c_heap=%.1f/%.1fMiB", mib(s.v["c_heap_used"]), mib(s.v["c_heap_held"]))
				}
				t.Logf("%6.0fs %-5s rss=%6.1fMiB rss_anon=%6.1fMiB heap=%6.1fMiB go_held=%6.1fMiB%s goroutines=%4d own=%4d fds=%3d threads=%3d followed=%3d replicas=%3d %s",
					s.at.Sub(begin).Seconds(), p.name, mib(s.v["rss"]), mib(s.v["rss_anon"]), mib(s.v["heap_live"]),
					mib(s.v["go_held"]), c, s.v["goroutines"], s.v["own_goroutines"], s.v["fds"], s.v["threads"],
					s.v["followed"], s.v["replicas"], s.handles)
			}
			printed[i] = len(ss)
		}
	}
	tick := time.NewTicker(interval)
	for i := range members {
		for done := false; !done; {
			select {
			case <-members[i].done:
				done = true
			case <-tick.C:
				report()
			}
		}
	}
	tick.Stop()
	report()

	for _, p := range members {
		if p.cmd.ProcessState.ExitCode() != 0 {
			t.Errorf("%s exited with %s (undocumented results are in its log)", p.name, p.cmd.ProcessState)
		}
		if m := p.lastMatch(`^soak: .*`); m != nil {
			t.Log(m[0])
		} else {
			t.Errorf("%s did not finish its run", p.name)
		}
	}
	require.Nil(t, serve.cmd.ProcessState, "clckpt serve died")
	// Nobody dies or stalls in this run, so a warning is worth a look (not a failure: a loaded
	// machine may be slow to answer); each process's are counted by message.
	for _, p := range procs {
		t.Logf("%-5s warnings and errors: %s", p.name, warningsOf(t, p))
	}

	// Only the samples of the run itself: then the members stop their threads and check.
	for _, p := range procs {
		var run []sample
		for _, s := range statsOf(t, p) {
			// The members started a little before begin: the last interval may be their end.
			if s.at.After(begin) && s.at.Before(begin.Add(d-interval)) {
				run = append(run, s)
			}
		}
		metrics := []string{"own_goroutines", "fds", "followed", "replicas"}
		if d >= 5*time.Minute {
			// Memory is judged on long runs only: in under a minute the store's memtables and
			// the GC's pace are still settling, and a leak per call shows in goroutines or fds.
			// The resident memory, measured after a collection, holds every retained byte: Go
			// heap, the runtime's own, stacks, C heap. The live Go heap alone is shown but not
			// judged: in the serve node it is mostly the calls in flight at the instant of the
			// sample (every thread's calls on soak-all are forwarded through it), 12-27 MiB
			// around a steady mean.
			metrics = append(metrics, "rss_anon")
		}
		for _, metric := range append(metrics, "heap_live") {
			var allowance int64
			if p == serve && (metric == "rss_anon" || metric == "heap_live") {
				allowance = natsBlockCaches
			}
			verdict, ok := flatnessRule(run, metric, d, allowance)
			judged := slices.Contains(metrics, metric)
			if !judged {
				verdict += " (shown, not judged)"
			}
			t.Logf("%-5s %-14s %s", p.name, metric, verdict)
			if judged && !ok {
				t.Errorf("%s: %s is not flat: %s", p.name, metric, verdict)
			}
		}
	}
	require.Equal(t, 0, serve.stop(), "clckpt serve stops cleanly")
}

// flatnessRule judges one metric of one process over the run: samples from the first fifth of the
// run (at least the first two) are warm-up and dropped; of the rest, the first k samples (early) and
// the last k (late), k = max(3, n/5), are summed up each by one value, which must satisfy late <=
// early*1.10 + slack, with an absolute slack for the small counts (goroutines 10, fds 3, checkpoints
// followed and replicas held 10; none for bytes). A leak moves the whole last window up.
// Memory is summed up by the median: a burst (a replica copy, calls in flight at a sample) or a dip
// (none in flight) is one sample of a window's nine and does not move it. So a leak fails when it
// adds more than 10% between the middles of the two windows (about 16% over a 10-minute run).
// Counts are summed up by the floor: load only adds goroutines (the library's work for calls in
// flight, callbacks, copies) and descriptors, for a moment, and the temporary checkpoints live a
// few seconds each; a leak lifts the floor. On a short
// run the windows hold three samples, and a burst of load can cover two of them; a leak of anything
// per call still fails, since thousands of calls run between the windows.
// Memory is judged on rss_anon: the rest of RSS maps the store's files (Badger's value log, up to
// 64 MiB per file, read through a memory map) and fills as the store is written.
//
// allowance adds to the slack what a process may hold more by design at the end than at the start:
// natsBlockCaches in the node that embeds the NATS server.
func flatnessRule(ss []sample, metric string, run time.Duration, allowance int64) (string, bool) {
	if len(ss) == 0 {
		return "no samples", false
	}
	from := ss[0].at.Add(-time.Second).Add(run / 5)
	skip := 2
	for skip < len(ss) && ss[skip].at.Before(from) {
		skip++
	}
	ss = ss[skip:]
	if len(ss) < 6 {
		return fmt.Sprintf("%d samples after warm-up, want at least 6", len(ss)), false
	}
	k := max(3, len(ss)/5)
	// Slack for counts: the temporary checkpoints (each thread's) come and go.
	slack, count := map[string]int64{"own_goroutines": 10, "fds": 3, "followed": 10, "replicas": 10}[metric]
	summary, how := func(part []sample) int64 {
		var v []int64
		for _, s := range part {
			v = append(v, s.v[metric])
		}
		slices.Sort(v)
		if count {
			return v[0]
		}
		if len(v)%2 == 1 {
			return v[len(v)/2]
		}
		return (v[len(v)/2-1] + v[len(v)/2]) / 2
	}, "medians"
	if count {
		how = "floors"
	}
	early, late := summary(ss[:k]), summary(ss[len(ss)-k:])
	limit := early + early/10 + slack + allowance
	change := 0.0
	if early > 0 {
		change = 100 * float64(late-early) / float64(early)
	}
	format := func(v int64) string {
		if metric == "rss_anon" || metric == "heap_live" {
			return fmt.Sprintf("%.1fMiB", mib(v))
		}
		return strconv.FormatInt(v, 10)
	}
	ok := late <= limit
	verdict := "flat"
	if !ok {
		verdict = "GROWS"
	}
	return fmt.Sprintf("early %s, late %s (%+.1f%%, limit %s; %d samples, %s of windows of %d): %s",
		format(early), format(late), change, format(limit), len(ss), how, k, verdict), ok
}

// natsBlockCaches is the memory that JetStream's block caches may add in the process that embeds
// the NATS server (the serve node) between the start of a run and its end, without a leak. A
// JetStream file store keeps the block it writes in a buffer from a pool of 256 KiB, 1 MiB or
// 4 MiB ones, whichever holds the block, and a key-value bucket's blocks are 4 MiB: as the block
// fills, its buffer is traded for the next size, and it goes back to 256 KiB when the block is full
// and a new one begins. The leases' bucket (one renewal a second per member) takes about an hour
// to fill a block, the directory's a few minutes under the soak: two buckets, each up to
// 4 MiB - 256 KiB more at the end of a run than at its start. Measured (heap profiles sampled
// every 16 KiB, minutes 3 and 11 of a run): +4 MiB in the pool of 4 MiB buffers, everything else
// within 0.25 MiB. RELIABILITY.md has the runs.
const natsBlockCaches = 2 * (4<<20 - 256<<10)

func mib(v int64) float64 { return float64(v) / (1 << 20) }

var warningLine = regexp.MustCompile(`level=(WARN|ERROR) msg=("[^"]*"|\S+)`)

// warningsOf counts the warning and error lines of a process's log by level and message.
func warningsOf(t *testing.T, p *proc) string {
	b, err := os.ReadFile(p.log)
	require.NoError(t, err)
	n := map[string]int{}
	for _, m := range warningLine.FindAllStringSubmatch(string(b), -1) {
		n[m[1]+" "+m[2]]++
	}
	if len(n) == 0 {
		return "none"
	}
	var out []string
	for k, v := range n {
		out = append(out, fmt.Sprintf("%d x %s", v, k))
	}
	slices.Sort(out)
	return strings.Join(out, "; ")
}

// sample is one stats line of a process (CLCKPT_STATS_INTERVAL).
type sample struct {
	at      time.Time
	v       map[string]int64
	handles string // the library's open handles, as logged
}

var statsField = regexp.MustCompile(`(\w+)=(\S+)`)

// statsOf reads the stats lines a process has logged so far (its stderr is in its log file).
func statsOf(t *testing.T, p *proc) []sample {
	f, err := os.Open(p.log)
	require.NoError(t, err)
	defer f.Close()
	var out []sample
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if !strings.Contains(line, " msg=stats ") {
			continue
		}
		s := sample{v: map[string]int64{}}
		var handles []string
		for _, m := range statsField.FindAllStringSubmatch(line, -1) {
			switch m[1] {
			case "time":
				s.at, _ = time.Parse(time.RFC3339Nano, m[2])
			case "services", "checkpoints", "iterations":
				handles = append(handles, m[1]+"="+m[2])
				fallthrough
			default:
				if n, err := strconv.ParseInt(m[2], 10, 64); err == nil {
					s.v[m[1]] = n
				}
			}
		}
		s.handles = strings.Join(handles, " ")
		out = append(out, s)
	}
	return out
}
