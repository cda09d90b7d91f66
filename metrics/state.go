package metrics

import (
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// State is what a member holds at one moment, read when the registry is gathered.
type State struct {
	Followed int // checkpoints the member follows
	Held     int // replicas it holds
	InSync   int // of those, the ones in their checkpoint's in-sync set (or active)
	Active   int // checkpoints it is the active replica of
	// Lag is, per follower of the checkpoints this member is active for, the ops and the bytes of
	// encoded ops it has not acknowledged yet (summed over the checkpoints).
	Lag map[string]Lag
	// Links is, per peer member known to take op links, whether the link to it is up.
	Links map[string]bool
	// OpsSent are the ops sent to followers, on links and through NATS.
	OpsSent [numPaths]uint64
	// CallsSent are the calls forwarded to the active's member, on call links and through NATS.
	CallsSent [numPaths]uint64

	StoreBytes, ValueLogBytes   int64 // disk used by the member's store, and by its value log
	DiskFreeBytes, ReserveBytes int64 // free space of the data directory's filesystem, and the reserve kept
	NATSConnected               bool
	NATSReconnects              uint64
}

// Lag is how far behind a follower is.
type Lag struct{ Ops, Bytes uint64 }

// Observe makes the registry read the member's state from read at each gathering.
func (s *Set) Observe(read func() State) {
	s.reg.MustRegister(&stateCollector{read: read})
}

var (
	descFollowed   = desc("clckpt_checkpoints_followed", "Checkpoints the member follows (every one in the directory, and any a handle uses).")
	descHeld       = desc("clckpt_replicas_held", "Replicas the member holds.")
	descInSync     = desc("clckpt_replicas_in_sync", "Replicas the member holds that are in their checkpoint's in-sync set.")
	descActive     = desc("clckpt_active_replicas", "Checkpoints the member is the active replica of.")
	descLagOps     = desc("clckpt_follower_lag_ops", "Ops not yet acknowledged by a follower, over the checkpoints this member is active for.", "follower")
	descLagBytes   = desc("clckpt_follower_lag_bytes", "Bytes of encoded ops not yet acknowledged by a follower, over the checkpoints this member is active for.", "follower")
	descLink       = desc("clckpt_link_up", "1 while the direct op link to a peer member is up, else 0.", "peer")
	descOpsSent    = desc("clckpt_replicated_ops_total", "Ops sent to followers, by path.", "path")
	descCallsSent  = desc("clckpt_forwarded_calls_total", "Calls forwarded to the member of the active replica, by path.", "path")
	descStore      = desc("clckpt_store_bytes", "Disk space the member's store uses (tables, value log, write-ahead log).")
	descVlog       = desc("clckpt_value_log_bytes", "Disk space the store's value log uses.")
	descFree       = desc("clckpt_disk_free_bytes", "Free space of the data directory's filesystem.")
	descReserve    = desc("clckpt_disk_reserve_bytes", "Free space kept on that filesystem: below it writes fail with no space.")
	descNATS       = desc("clckpt_nats_connected", "1 while the member's NATS connection is connected, else 0.")
	descReconnects = desc("clckpt_nats_reconnects_total", "Times the member's NATS connection reconnected.")
)

func desc(name, help string, labels ...string) *prometheus.Desc {
	return prometheus.NewDesc(name, help, labels, nil)
}

type stateCollector struct{ read func() State }

func (c *stateCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descFollowed, descHeld, descInSync, descActive, descLagOps, descLagBytes, descLink,
		descOpsSent, descCallsSent, descStore, descVlog, descFree, descReserve, descNATS, descReconnects} {
		ch <- d
	}
}

func (c *stateCollector) Collect(ch chan<- prometheus.Metric) {
	st := c.read()
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	gauge(descFollowed, float64(st.Followed))
	gauge(descHeld, float64(st.Held))
	gauge(descInSync, float64(st.InSync))
	gauge(descActive, float64(st.Active))
	for f, l := range st.Lag {
		gauge(descLagOps, float64(l.Ops), f)
		gauge(descLagBytes, float64(l.Bytes), f)
	}
	for p, up := range st.Links {
		gauge(descLink, b2f(up), p)
	}
	for p := range numPaths {
		ch <- prometheus.MustNewConstMetric(descOpsSent, prometheus.CounterValue, float64(st.OpsSent[p]), pathNames[p])
		ch <- prometheus.MustNewConstMetric(descCallsSent, prometheus.CounterValue, float64(st.CallsSent[p]), pathNames[p])
	}
	gauge(descStore, float64(st.StoreBytes))
	gauge(descVlog, float64(st.ValueLogBytes))
	gauge(descFree, float64(st.DiskFreeBytes))
	gauge(descReserve, float64(st.ReserveBytes))
	gauge(descNATS, b2f(st.NATSConnected))
	ch <- prometheus.MustNewConstMetric(descReconnects, prometheus.CounterValue, float64(st.NATSReconnects))
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// value reads a counter's value.
func value(c prometheus.Counter) float64 {
	var m dto.Metric
	if err := c.Write(&m); err != nil {
		return 0
	}
	return m.GetCounter().GetValue()
}
