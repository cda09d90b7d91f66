package replication

import (
	"fmt"
	"io/fs"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/clckpt/libclckpt/config"
	"github.com/clckpt/libclckpt/engine/store"
	"github.com/clckpt/libclckpt/metrics"
	"github.com/clckpt/libclckpt/replication/wire"
)

// Metrics is the member's metrics: its registry, and what its stats lines read.
func (m *Member) Metrics() *metrics.Set { return m.metrics }

// startMetrics makes the member's metrics and, with CLCKPT_METRICS_ADDR, takes the address to
// serve them on (start serves them once the member has joined).
func (m *Member) startMetrics() error {
	m.metrics = metrics.New(m.name, m.cfg.Node, m.kind)
	m.metrics.Observe(m.state)
	if m.cfg.MetricsAddr == "" {
		return nil
	}
	srv, err := m.metrics.Listen(m.cfg.MetricsAddr)
	if err != nil {
		return config.BadSetting(fmt.Errorf("CLCKPT_METRICS_ADDR: %w", err)) // retrying cannot help
	}
	m.metricsSrv = srv
	return nil
}

// state is what the member holds now, for a gathering of its metrics.
func (m *Member) state() metrics.State {
	st := metrics.State{Lag: map[string]metrics.Lag{}, Links: m.links.states(), NATSConnected: m.nc.IsConnected(),
		NATSReconnects: m.nc.Stats().Reconnects}
	st.OpsSent[metrics.PathLink], st.OpsSent[metrics.PathNATS] = m.OpsSent()
	st.CallsSent[metrics.PathLink], st.CallsSent[metrics.PathNATS] = m.CallsSent()
	ckpts := m.allCkpts()
	st.Followed = len(ckpts)
	st.Held = m.reps.Len()
	for _, c := range ckpts {
		c.mu.Lock()
		e, rep, a := c.entry, c.rep, c.act
		c.mu.Unlock()
		if rep != nil && (a != nil || e != nil && e.IsSynced(m.name)) {
			st.InSync++
		}
		if a != nil {
			st.Active++
			a.addLag(st.Lag)
		}
	}
	st.StoreBytes, st.ValueLogBytes = diskUsage(filepath.Join(m.cfg.DataDir, m.name))
	var fsStat syscall.Statfs_t
	if syscall.Statfs(m.cfg.DataDir, &fsStat) == nil {
		st.DiskFreeBytes = int64(fsStat.Bavail) * fsStat.Bsize
	}
	st.ReserveBytes = int64(m.cfg.DiskReserve)
	if st.ReserveBytes == 0 {
		st.ReserveBytes = store.DefaultReserve
	}
	return st
}

// addLag adds what each follower of this active has not acknowledged to lag.
func (a *active) addLag(lag map[string]metrics.Lag) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for f, s := range a.streams {
		l := lag[f]
		if s.acked < a.lsn {
			l.Ops += a.lsn - s.acked
			if ops, ok := a.opsAfterLocked(s.acked); ok {
				for _, op := range ops {
					l.Bytes += uint64(len(op.msg))
				}
			} else {
				l.Bytes += uint64(a.ringBytes) // behind the ring: at least all of it
			}
		}
		lag[f] = l
	}
}

// states tells, per peer that takes links, whether the link to it is up.
func (ls *links) states() map[string]bool {
	ls.mu.Lock()
	defer ls.mu.Unlock()
	out := make(map[string]bool, len(ls.peers))
	for name, p := range ls.peers {
		out[name] = p.link != nil && !isDown(p.link)
	}
	return out
}

// diskUsage is the disk space used by the files under dir, and by its value-log files.
func diskUsage(dir string) (total, vlog int64) {
	_ = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return nil
		}
		var st syscall.Stat_t
		if syscall.Stat(path, &st) != nil {
			return nil
		}
		n := st.Blocks * 512 // what the file takes on disk: value-log files are sparse while written
		total += n
		if strings.HasSuffix(path, ".vlog") {
			vlog += n
		}
		return nil
	})
	return total, vlog
}

// callOps names the calls forwarded to an active, for its metrics.
var callOps = [...]metrics.Op{
	wire.CallCreateSection: metrics.OpCreateSection, wire.CallDeleteSection: metrics.OpDeleteSection,
	wire.CallSetExpiration: metrics.OpSetExpiration, wire.CallOverwrite: metrics.OpOverwrite, wire.CallWrite: metrics.OpWrite,
	wire.CallRead: metrics.OpRead, wire.CallStatus: metrics.OpStatus, wire.CallSectionIDs: metrics.OpSections,
	wire.CallDescribe: metrics.OpDescribe, wire.CallSynchronize: metrics.OpSynchronize,
}

// served counts a forwarded call this member ran.
func (m *Member) served(kind wire.CallKind, err error) {
	if int(kind) < len(callOps) && kind != 0 {
		m.metrics.Served(callOps[kind], err)
	}
}

// called counts a call on this member's API into *err's result (deferred by the calls).
func (m *Member) called(o metrics.Op, err *error) { m.metrics.Called(o, *err) }
