// Package metrics holds the Prometheus metrics of one member of the checkpoint service: one
// registry per member, every series of the call paths resolved once when the set is made (a call
// adds to an atomic counter and a histogram bucket, with no label lookup), and the state a member
// holds (replicas, lag, links, disk) read when the registry is gathered. The member's periodic stats
// line (CLCKPT_STATS_INTERVAL) reads its numbers from the same registry (LogAttrs).
package metrics

import (
	"errors"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/clckpt/libclckpt/engine"
)

// Op is a kind of call on the service.
type Op int

// The calls counted.
const (
	OpOpen Op = iota
	OpClose
	OpDelete
	OpCreateSection
	OpDeleteSection
	OpSetExpiration
	OpOverwrite
	OpWrite
	OpRead
	OpStatus
	OpSections
	OpDescribe
	OpSynchronize
	OpSetActive
	OpSetRetention
	numOps
)

var opNames = [numOps]string{"open", "close", "delete", "create_section", "delete_section", "set_expiration",
	"overwrite", "write", "read", "status", "sections", "describe", "synchronize", "set_active", "set_retention"}

func (o Op) String() string { return opNames[o] }

// Mode is the write mode of a checkpoint (its creation flags).
type Mode int

// The write modes.
const (
	ModeAllReplicas Mode = iota
	ModeActiveReplica
	ModeActiveReplicaWeak
	numModes
)

var modeNames = [numModes]string{"all_replicas", "active_replica", "active_replica_weak"}

// ModeOf is the write mode of a checkpoint created with flags.
func ModeOf(f engine.CreationFlags) Mode {
	switch {
	case f&engine.WriteAllReplicas != 0:
		return ModeAllReplicas
	case f&engine.WriteActiveReplicaWeak != 0 && f&engine.WriteActiveReplica == 0:
		return ModeActiveReplicaWeak
	}
	return ModeActiveReplica
}

// The results a call is counted under: ok, or the class of its error.
const (
	resultOK = iota
	resultNotExist
	resultAlreadyExist
	resultInvalid
	resultNoSpace
	resultTimeout
	resultTryAgain
	resultOther
	numResults
)

var resultNames = [numResults]string{"ok", "not_exist", "already_exist", "invalid", "no_space", "timeout", "try_again", "error"}

// resultClasses maps the engine's errors to a result, the first that matches.
var resultClasses = []struct {
	err    error
	result int
}{
	{engine.ErrNotExist, resultNotExist}, {engine.ErrAlreadyExist, resultAlreadyExist},
	{engine.ErrDiskFull, resultNoSpace}, {engine.ErrNoSpace, resultNoSpace},
	{engine.ErrTimeout, resultTimeout}, {engine.ErrTryAgain, resultTryAgain},
	{engine.ErrInvalidParameter, resultInvalid}, {engine.ErrMissingArgument, resultInvalid},
	{engine.ErrBadHandle, resultInvalid}, {engine.ErrNotPermitted, resultInvalid}, {engine.ErrBadFlag, resultInvalid},
	{engine.ErrBadOperation, resultInvalid}, {engine.ErrMaxSectionsZero, resultInvalid}, {engine.ErrClosed, resultInvalid},
}

func resultOf(err error) int {
	if err == nil {
		return resultOK
	}
	for _, c := range resultClasses {
		if errors.Is(err, c.err) {
			return c.result
		}
	}
	return resultOther
}

// LatencyBuckets are the bounds of the latency histograms, in seconds: 10 µs to about 10 s.
var LatencyBuckets = prometheus.ExponentialBuckets(10e-6, 4, 11)

// Set is the metrics of one member.
type Set struct {
	reg     *prometheus.Registry // the member's metrics
	runtime *prometheus.Registry // the Go runtime's and the process's, served beside them

	ops    [numOps][numResults]prometheus.Counter // calls made on this member
	served [numOps][numResults]prometheus.Counter // calls this member ran as the active for others
	writes [numModes]prometheus.Observer
	reads  prometheus.Observer
	bytes  prometheus.Counter

	elections [numElection]prometheus.Counter
	failovers prometheus.Counter
	orphans   prometheus.Counter
	copies    [numPaths]prometheus.Counter
	copyBytes [numPaths]prometheus.Counter
}

// Election results.
const (
	ElectionWon      = iota // this member's election named a new active
	ElectionConflict        // another member's election got there first
	ElectionNoCandidate
	numElection
)

// Paths of replication traffic: a direct op link, or NATS.
const (
	PathLink = iota
	PathNATS
	numPaths
)

var pathNames = [numPaths]string{"link", "nats"}

// New makes the metrics of a member and its registry; the Go runtime's and the process's standard
// collectors are served with them. member, node and kind label clckpt_member_info.
func New(member, node, kind string) *Set {
	s := &Set{reg: prometheus.NewRegistry(), runtime: prometheus.NewRegistry()}
	s.runtime.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	info := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "clckpt_member_info",
		Help: "The member this process is (always 1)."}, []string{"member", "node", "kind"})
	info.WithLabelValues(member, node, kind).Set(1)

	ops := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "clckpt_operations_total",
		Help: "Calls made on this member's API, by kind and result."}, []string{"op", "result"})
	served := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "clckpt_served_calls_total",
		Help: "Calls forwarded by other members that this member ran as the active replica, by kind and result."}, []string{"op", "result"})
	for o := range numOps {
		for r := range numResults {
			s.ops[o][r] = ops.WithLabelValues(opNames[o], resultNames[r])
			s.served[o][r] = served.WithLabelValues(opNames[o], resultNames[r])
		}
	}
	writes := prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "clckpt_write_duration_seconds",
		Help:    "Time of the successful calls that write section data (write, overwrite, create_section), by the checkpoint's write mode.",
		Buckets: LatencyBuckets}, []string{"mode"})
	for m := range numModes {
		s.writes[m] = writes.WithLabelValues(modeNames[m])
	}
	reads := prometheus.NewHistogram(prometheus.HistogramOpts{Name: "clckpt_read_duration_seconds",
		Help: "Time of the successful reads.", Buckets: LatencyBuckets})
	s.reads = reads
	s.bytes = prometheus.NewCounter(prometheus.CounterOpts{Name: "clckpt_written_bytes_total",
		Help: "Bytes of section data written by the successful write, overwrite and create_section calls."})

	elections := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "clckpt_elections_total",
		Help: "Elections this member ran after an active replica was lost, by result."}, []string{"result"})
	for r, name := range [numElection]string{"elected", "conflict", "no_candidate"} {
		s.elections[r] = elections.WithLabelValues(name)
	}
	s.failovers = prometheus.NewCounter(prometheus.CounterOpts{Name: "clckpt_failovers_total",
		Help: "Times this member took the active role of a checkpoint from another member."})
	s.orphans = prometheus.NewCounter(prometheus.CounterOpts{Name: "clckpt_orphans_destroyed_total",
		Help: "Checkpoints that no name reached and nobody had open, destroyed by this member's sweep."})
	copies := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "clckpt_catchup_copies_total",
		Help: "Whole-replica copies this member sent to catch a follower up, by path."}, []string{"path"})
	copyBytes := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "clckpt_catchup_copy_bytes_total",
		Help: "Section data bytes of those copies, by path."}, []string{"path"})
	for p := range numPaths {
		s.copies[p] = copies.WithLabelValues(pathNames[p])
		s.copyBytes[p] = copyBytes.WithLabelValues(pathNames[p])
	}
	s.reg.MustRegister(info, ops, served, writes, reads, s.bytes, elections, s.failovers, s.orphans, copies, copyBytes)
	return s
}

// Registry is the member's registry (its clckpt_ metrics).
func (s *Set) Registry() *prometheus.Registry { return s.reg }

// Gatherer gathers what /metrics serves: the member's registry and the runtime's metrics.
func (s *Set) Gatherer() prometheus.Gatherer { return prometheus.Gatherers{s.reg, s.runtime} }

// Called counts a call made on this member.
func (s *Set) Called(o Op, err error) { s.ops[o][resultOf(err)].Inc() }

// Served counts a call this member ran for another member.
func (s *Set) Served(o Op, err error) { s.served[o][resultOf(err)].Inc() }

// Wrote counts a call that writes section data, begun at began: n bytes, on a checkpoint of mode.
func (s *Set) Wrote(o Op, mode Mode, began time.Time, n int, err error) {
	s.ops[o][resultOf(err)].Inc()
	if err == nil {
		s.writes[mode].Observe(time.Since(began).Seconds())
		s.bytes.Add(float64(n))
	}
}

// Read counts a read begun at began.
func (s *Set) Read(began time.Time, err error) {
	s.ops[OpRead][resultOf(err)].Inc()
	if err == nil {
		s.reads.Observe(time.Since(began).Seconds())
	}
}

// Elected counts an election with one of the Election results.
func (s *Set) Elected(result int) { s.elections[result].Inc() }

// FailedOver counts an active role taken over from another member.
func (s *Set) FailedOver() { s.failovers.Inc() }

// OrphanDestroyed counts a checkpoint destroyed by the orphan sweep.
func (s *Set) OrphanDestroyed() { s.orphans.Inc() }

// Copied counts a catch-up copy of n data bytes sent on path (PathLink, PathNATS).
func (s *Set) Copied(path int, n int) {
	s.copies[path].Inc()
	s.copyBytes[path].Add(float64(n))
}

// CopiesOn is how many catch-up copies went on path.
func (s *Set) CopiesOn(path int) uint64 { return uint64(value(s.copies[path])) }

// LogAttrs returns the member's numbers for a stats line, read from the registry: the same values a
// scrape shows at that moment.
func (s *Set) LogAttrs() []slog.Attr {
	families, err := s.reg.Gather()
	if err != nil {
		return []slog.Attr{slog.String("metrics_err", err.Error())}
	}
	sum := map[string]float64{}
	for _, f := range families {
		for _, m := range f.GetMetric() {
			switch {
			case m.GetGauge() != nil:
				sum[f.GetName()] += m.GetGauge().GetValue()
			case m.GetCounter() != nil:
				sum[f.GetName()] += m.GetCounter().GetValue()
			}
		}
	}
	var out []slog.Attr
	for _, a := range logged {
		if v, ok := sum[a.metric]; ok {
			out = append(out, slog.Int64(a.key, int64(v)))
		}
	}
	return out
}

// logged are the metrics a stats line carries (summed over their labels), under the keys it uses.
var logged = []struct{ key, metric string }{
	{"followed", "clckpt_checkpoints_followed"},
	{"replicas", "clckpt_replicas_held"},
	{"in_sync", "clckpt_replicas_in_sync"},
	{"active", "clckpt_active_replicas"},
	{"ops", "clckpt_operations_total"},
	{"served", "clckpt_served_calls_total"},
	{"lag_ops", "clckpt_follower_lag_ops"},
	{"store_bytes", "clckpt_store_bytes"},
	{"disk_free", "clckpt_disk_free_bytes"},
}
