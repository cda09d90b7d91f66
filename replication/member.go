// Package replication makes a process a member of the checkpoint service: its checkpoints are
// replicated to other members over NATS (the ops of WR_ALL_REPLICAS checkpoints on direct links
// between members, see links.go), and the cluster-wide facts live in JetStream KV.
// REPLICATION.md describes the protocol; this package implements it. A Member is a
// ckpt.Service, so Go programs and the C library use it exactly like the single-process engine.
//
// Lock order: Member.mu, then ckpt.mu, then active.mu, then stream.mu; engine.Replica locks are
// taken after all of these (an active's sink runs under the replica's lock and takes only active.mu
// and stream.mu, which never wait for a replica lock). links.mu and an oplink link's send locks are
// leaves: taken last, never held while taking another, and never held while waiting for the network
// (a send writes what the kernel takes at once and queues the rest for the link's writer goroutine).
package replication

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/clckpt/libclckpt/config"
	"github.com/clckpt/libclckpt/engine"
	"github.com/clckpt/libclckpt/engine/clock"
	"github.com/clckpt/libclckpt/engine/store"
	"github.com/clckpt/libclckpt/internal/privdir"
	"github.com/clckpt/libclckpt/metrics"
	"github.com/clckpt/libclckpt/replication/directory"
	"github.com/clckpt/libclckpt/replication/natsconn"
	"github.com/clckpt/libclckpt/replication/oplink"
)

// Options configure Join.
type Options struct {
	Config config.Config
	// Kind is directory.KindServer for clckpt serve; anything else joins as an application.
	Kind   string
	Logger *slog.Logger
	// Conn, when set, is used instead of connecting as Config says (clckpt serve passes the
	// connection to its own server). The member does not close it.
	Conn *nats.Conn
	// KVReplicas is the replication of the KV buckets when this member creates them (0: three when
	// the server is in a cluster of at least three, else one).
	KVReplicas int
	// LinkTLS makes the direct op links use TLS even when Config's NATS settings do not say TLS
	// (clckpt serve: its clients use TLS to reach it, its own connection is in-process).
	LinkTLS bool
	// Clock times the lease's renewals and the self-fencing deadline (nil: real time; tests pass a
	// clock.Fake).
	Clock clock.Clock
	// DataClock is the time of the checkpoints: section expirations, retention deadlines and the
	// sections' lastUpdate stamps (nil: real time). The members of a cluster must agree on it; tests
	// give all their members one clock.Fake.
	DataClock clock.Clock
	// OrphanSweep is how often the member that sweeps orphans looks for them (orphans.go; 0: every
	// 5 minutes).
	OrphanSweep time.Duration
}

// Member is one process's part of the checkpoint service. It implements engine.Service.
type Member struct {
	cfg         config.Config
	name        string
	kind        string
	incarnation string
	requests    atomic.Uint64 // the last request id given out (see newRequest)
	log         *slog.Logger

	conn     *natsconn.Conn // nil when Options.Conn was given
	nc       *nats.Conn
	js       jetstream.JetStream
	dir      *directory.Directory
	store    *store.Badger
	slotLock *os.File
	reps     *engine.Replicas

	ctx     context.Context // ends at Close
	cancel  context.CancelFunc
	closed  atomic.Bool
	fenced  atomic.Bool   // the lease could not be renewed: no active role until it is again
	resumes atomic.Uint64 // counts the ends of fences; a resume gives up when a newer one starts
	// resync reads the directory and takes back this member's roles (reconcileAll; tests wrap
	// it to make the directory fail).
	resync func(context.Context) error
	// renew rewrites the lease once (renewLease; tests replace it to stall the directory).
	renew     func(context.Context) error
	clock     clock.Clock // Options.Clock
	data      clock.Clock // Options.DataClock
	lease     leaseGuard
	leaseRev  uint64 // the revision of the lease this member last wrote (register, then keepLease only)
	handleSeq atomic.Uint64
	workers   sync.WaitGroup
	// handling is held (read) by every NATS handler while it runs, and taken by shutdown once it
	// has unsubscribed: Unsubscribe does not wait for a handler under way, which may be applying an
	// op to the store shutdown then closes (or spawning a worker while it waits for them).
	handling     sync.RWMutex
	handlersDone bool // under handling: set by shutdown, handlers do nothing from then on

	mu      sync.Mutex
	ckpts   map[uint64]*ckpt
	members map[string]directory.MemberInfo // live leases
	// leaseEnds counts the ends of leases seen; ended has, for each member whose lease ended and was
	// not taken again since, the count at its end (mergeMembers).
	leaseEnds uint64
	ended     map[string]uint64
	subs      []*nats.Subscription
	backups   map[uint64]*backupSession // cuts served to other members (backup.go)
	// restoring holds the ids of the replicas restores are filling and naming (backup.go): no
	// entry names them yet, and a reconciliation must not take them for leftovers.
	restoring map[uint64]bool

	linkLn     *oplink.Listener // nil with CLCKPT_LINK=off
	linkTLS    bool             // Options.LinkTLS
	linkAddr   oplink.Address
	links      *links
	opsOnLinks atomic.Uint64 // ops sent to followers on links
	opsOnNATS  atomic.Uint64 // and through NATS
	// Forwarded calls this member made on call links, and through NATS.
	callsOnLinks atomic.Uint64
	callsOnNATS  atomic.Uint64
	callsResent  atomic.Uint64 // calls sent on a link whose reply did not come on it: sent through NATS again
	copyDials    atomic.Uint64 // links dialed for replica copies
	opSubjects   sync.Map      // member name -> subject of ops to it
	ackSubject   string        // where followers send acknowledgements

	metrics    *metrics.Set
	metricsSrv *metrics.Server    // CLCKPT_METRICS_ADDR
	stopWatch  context.CancelFunc // ends the watches of the directory (nil before they start)
}

var _ engine.Service = (*Member)(nil)

// Join starts a member: it takes a slot in the data directory, opens its store, connects to NATS,
// takes its lease and reconciles its replicas with the directory.
func Join(ctx context.Context, o Options) (*Member, error) {
	cfg := o.Config
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	m := &Member{cfg: cfg, kind: o.Kind, log: o.Logger, ckpts: make(map[uint64]*ckpt), members: make(map[string]directory.MemberInfo), ended: make(map[string]uint64),
		linkTLS: o.LinkTLS}
	if m.kind != directory.KindServer {
		m.kind = directory.KindApplication
	}
	if m.log == nil {
		m.log = slog.New(slog.DiscardHandler)
	}
	m.ctx, m.cancel = context.WithCancel(context.Background())
	m.resync, m.renew, m.clock = m.reconcileAll, m.renewLease, o.Clock
	if m.clock == nil {
		m.clock = clock.Real{}
	}
	if m.data = o.DataClock; m.data == nil {
		m.data = clock.Real{}
	}
	if err := m.start(ctx, o.Conn, o.KVReplicas); err != nil {
		m.shutdown()
		return nil, err
	}
	sweep := o.OrphanSweep
	if sweep <= 0 {
		sweep = defaultOrphanSweep
	}
	m.workers.Add(1)
	go m.sweepOrphans(sweep)
	return m, nil
}

func (m *Member) start(ctx context.Context, nc *nats.Conn, replicas int) error {
	var err error
	if m.name, m.slotLock, err = takeSlot(m.cfg); err != nil {
		return err
	}
	m.log = m.log.With("member", m.name)
	if err := m.startMetrics(); err != nil {
		return err
	}
	m.ackSubject = m.subject(m.name, "ack")
	var seed [8]byte
	_, _ = rand.Read(seed[:])
	m.requests.Store(binary.LittleEndian.Uint64(seed[:]))
	// The store opens (and the replicas load) while the NATS connection and the directory's
	// buckets are set up: neither needs the other, and each takes tens of milliseconds.
	began := time.Now()
	var storeOpen, replicasLoad time.Duration
	stored := make(chan error, 1)
	go func() {
		var err error
		if m.store, err = store.OpenBadger(store.BadgerOptions{Dir: filepath.Join(m.cfg.DataDir, m.name), SyncWrites: m.cfg.SyncWrites,
			Logger: m.log, Reserve: int64(m.cfg.DiskReserve), MemTableSize: int64(m.cfg.MemTableBytes)}); err != nil {
			stored <- engine.StorageError("open the member's store", err)
			return
		}
		storeOpen = time.Since(began)
		if m.reps, err = engine.OpenReplicas(engine.ReplicasOptions{Store: m.store, Clock: m.data, Logger: m.log}); err != nil {
			stored <- fmt.Errorf("%w (data directory %s)", err, filepath.Join(m.cfg.DataDir, m.name))
			return
		}
		replicasLoad = time.Since(began) - storeOpen
		stored <- nil
	}()
	var connect, dirOpen time.Duration
	joinErr := m.connectDirectory(ctx, nc, replicas, &connect, &dirOpen)
	clusterDone := time.Now()
	if err := <-stored; err != nil {
		return err // a store that cannot open is the error, whatever became of the connection
	}
	if joinErr != nil {
		return joinErr
	}
	storeWait := time.Since(clusterDone)
	if err := m.startLinks(); err != nil {
		return err
	}
	leaseBegan := time.Now()
	// Subscribed before the lease is registered: the actives that the new lease wakes ask at once
	// where this member's replicas are, and a question nobody answers yet would send them into
	// their backoff.
	if err := m.subscribe(); err != nil {
		return err
	}
	if err := untilSettled(ctx, func() error { return m.register(ctx) }); err != nil {
		return err
	}
	watchBegan := time.Now()
	if err := untilSettled(ctx, m.watch); err != nil {
		return err
	}
	reconcileBegan := time.Now()
	if err := untilSettled(ctx, func() error { return m.reconcileAll(ctx) }); err != nil {
		return err
	}
	m.workers.Add(1)
	go m.keepLease()
	if m.metricsSrv != nil {
		m.metricsSrv.Start()
		m.log.Info("serving metrics", "addr", m.metricsSrv.Addr())
	}
	ms := func(d time.Duration) time.Duration { return d.Round(100 * time.Microsecond) }
	m.log.Info("joined", "kind", m.kind, "incarnation", m.incarnation, "link", m.linkAddr.Addr,
		"total", ms(time.Since(began)), "store_open", ms(storeOpen), "replicas_load", ms(replicasLoad),
		"cluster_join", ms(clusterDone.Sub(began)+time.Since(leaseBegan)), "nats_connect", ms(connect), "directory", ms(dirOpen),
		"store_wait", ms(storeWait), "lease", ms(watchBegan.Sub(leaseBegan)), "watch", ms(reconcileBegan.Sub(watchBegan)),
		"reconcile", ms(time.Since(reconcileBegan)))
	return nil
}

// connectDirectory connects to NATS (unless nc is given) and opens the directory's buckets, and
// tells how long each took.
func (m *Member) connectDirectory(ctx context.Context, nc *nats.Conn, replicas int, connect, dirOpen *time.Duration) error {
	began := time.Now()
	if nc == nil {
		conn, err := natsconn.Connect(ctx, m.cfg, "clckpt "+m.name, m.log)
		if err != nil {
			if errors.Is(err, config.ErrBadSetting) { // retrying cannot help
				return err
			}
			return fmt.Errorf("%w: %w", engine.ErrTryAgain, err)
		}
		m.conn, nc = conn, conn.Conn
	}
	m.nc = nc
	*connect = time.Since(began)
	var err error
	if m.js, err = jetstream.New(nc); err != nil {
		return err
	}
	if replicas == 0 {
		replicas = kvReplicas(nc)
	}
	err = untilSettled(ctx, func() error {
		m.dir, err = directory.Open(ctx, m.js, directory.Options{Prefix: m.cfg.Subject, Replicas: replicas, Lease: m.cfg.Lease})
		if err != nil {
			return fmt.Errorf("%w: %w", engine.ErrTryAgain, err)
		}
		return nil
	})
	*dirOpen = time.Since(began) - *connect
	return err
}

// settleTime bounds how long Join rides through JetStream requests that time out or find nobody to
// answer, while the server is reachable: a NATS cluster that just lost a server elects new leaders
// within seconds, and a server just started (or slowed down, as under valgrind) may take long to
// serve JetStream; a member joining meanwhile waits for that rather than fail. The caller's context
// may end the wait sooner.
const settleTime = 2 * time.Minute

// untilSettled runs fn again while it fails with a timeout, for up to settleTime (or ctx's end).
// fn must be safe to repeat.
func untilSettled(ctx context.Context, fn func() error) error {
	deadline := time.Now().Add(settleTime)
	for {
		err := fn()
		if err == nil || !isTimeout(err) || ctx.Err() != nil || time.Now().After(deadline) {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(250 * time.Millisecond):
		}
	}
}

func isTimeout(err error) bool {
	return errors.Is(err, context.DeadlineExceeded) || directory.Unavailable(err)
}

// Archive returns what a backup archive in the service's NATS cluster needs: its JetStream and
// the replication its buckets should have (as the directory's).
func (m *Member) Archive() (jetstream.JetStream, int) { return m.js, kvReplicas(m.nc) }

// kvReplicas is the replication of the KV buckets: three copies when the server is in a cluster of
// at least three, else one.
func kvReplicas(nc *nats.Conn) int {
	if len(nc.DiscoveredServers())+1 >= 3 {
		return 3
	}
	return 1
}

// takeSlot finds the first member directory of this node that no live process uses.
func takeSlot(cfg config.Config) (string, *os.File, error) {
	if err := privdir.Claim(cfg.DataDir); err != nil {
		return "", nil, fmt.Errorf("%w: create %s: %w", engine.ErrStorage, cfg.DataDir, err)
	}
	for k := 1; k <= 64; k++ {
		name := cfg.Node
		if k > 1 {
			name = fmt.Sprintf("%s-%d", cfg.Node, k)
		}
		f, err := os.OpenFile(filepath.Join(cfg.DataDir, name+".lock"), os.O_CREATE|os.O_RDWR, 0o600)
		if err != nil {
			return "", nil, fmt.Errorf("%w: %w", engine.ErrStorage, err)
		}
		if syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB) == nil {
			return name, f, nil
		}
		f.Close()
	}
	return "", nil, fmt.Errorf("%w: 64 processes of node %s already use %s", engine.ErrTryAgain, cfg.Node, cfg.DataDir)
}

// newRequest returns an id for a change made through this member: ids start at a random point, so
// that they differ from those of every other member and of this member's earlier processes.
func (m *Member) newRequest() uint64 {
	for {
		if id := m.requests.Add(1); id != 0 {
			return id
		}
	}
}

// Name is the member's name.
func (m *Member) Name() string { return m.name }

// register takes the lease, as the successor of the incarnation this slot remembers.
func (m *Member) register(ctx context.Context) error {
	path := filepath.Join(m.cfg.DataDir, m.name+".incarnation")
	previous, _ := os.ReadFile(path)
	if m.incarnation == "" { // kept when a timed-out registration is tried again
		var b [8]byte
		_, _ = rand.Read(b[:])
		m.incarnation = hex.EncodeToString(b[:])
	}
	sent := m.clock.Now()
	rev, err := m.dir.Register(ctx, m.info(), string(previous))
	if err != nil {
		return fmt.Errorf("%w: %w", engine.ErrTryAgain, err)
	}
	m.lease.registered, m.leaseRev = sent, rev
	if err := os.WriteFile(path, []byte(m.incarnation), 0o600); err != nil {
		return fmt.Errorf("%w: %w", engine.ErrStorage, err)
	}
	return nil
}

func (m *Member) info() directory.MemberInfo {
	return directory.MemberInfo{Name: m.name, Kind: m.kind, Incarnation: m.incarnation,
		LinkAddr: m.linkAddr.Addr, LinkKey: m.linkAddr.Key, LinkCert: m.linkAddr.Fingerprint}
}

// leaseGuard is the self-fencing deadline: the member serves as an active replica only until
// Lease - fenceMargin after sending the last renewal of its lease that succeeded.
type leaseGuard struct {
	registered time.Time // when the registration that succeeded was sent (Join)

	mu       sync.Mutex  // held while fencing and while a renewal lifts a fence: they do not interleave
	timer    clock.Timer // fences at deadline
	deadline time.Time
	gen      uint64 // counts renewals: a timer of an older one does nothing
}

// fenceMargin is how long before its lease can run out a member that could not renew it stops
// serving: the KV store ages a lease from when it stored the renewal, which is after the member sent
// it, so the lease lives at least Lease past the send; the margin covers the time other members take
// to see an expiry and clocks that run at slightly different rates.
func (m *Member) fenceMargin() time.Duration { return m.cfg.Lease / 3 }

// renewLease rewrites the lease once, taking it again if it ran out.
func (m *Member) renewLease(ctx context.Context) error {
	rev, err := m.dir.Refresh(ctx, m.info(), m.leaseRev)
	if errors.Is(err, directory.ErrNotFound) { // it ran out: take it again
		rev, err = m.dir.Register(ctx, m.info(), m.incarnation)
	}
	if err == nil {
		m.leaseRev = rev
	}
	return err
}

// keepLease renews the lease every sixth of its length, each attempt bounded by a third (the next
// one starts when a slow attempt ends). The fence does not wait for a failed attempt: a timer gives
// up every active role at Lease - fenceMargin after the send of the last renewal that succeeded
// (leaseRenewed), before anyone can see the lease expire; when a renewal succeeds again, the member
// reconciles with the directory. Between two renewals that succeed, the fence is two thirds of a
// lease away: an attempt that fails at once leaves two more before it, one that stalls for its whole
// bound one more.
func (m *Member) keepLease() {
	defer m.workers.Done()
	every, bound := m.cfg.Lease/6, m.cfg.Lease/3
	tick := make(chan struct{}, 1)
	var next clock.Timer
	defer func() {
		next.Stop()
		m.lease.mu.Lock()
		if m.lease.timer != nil {
			m.lease.timer.Stop()
		}
		m.lease.gen++
		m.lease.mu.Unlock()
	}()
	schedule := func() clock.Timer {
		return m.clock.AfterFunc(every, func() {
			select {
			case tick <- struct{}{}:
			default: // an attempt is still waiting: the next one follows it at once
			}
		})
	}
	m.leaseRenewed(m.lease.registered)
	next = schedule()
	for {
		select {
		case <-m.ctx.Done():
			return
		case <-tick:
		}
		next = schedule() // a sixth after this attempt's start, however long it takes
		sent := m.clock.Now()
		ctx, cancel := context.WithTimeout(m.ctx, bound)
		err := m.renew(ctx)
		cancel()
		switch {
		case err == nil:
			m.leaseRenewed(sent)
		case errors.Is(err, directory.ErrNameTaken):
			m.log.Error("another process took this member's name: stopping all active roles", "err", err)
			m.lease.mu.Lock()
			m.lease.gen++ // no renewal of this lease counts any more
			m.fenceLocked()
			m.lease.mu.Unlock()
		default:
			m.log.Debug("renewing the lease", "err", err)
		}
	}
}

// leaseRenewed moves the fencing deadline to Lease - fenceMargin after sent, the send time of a
// renewal that succeeded, and lifts a fence if that deadline is still ahead.
func (m *Member) leaseRenewed(sent time.Time) {
	g := &m.lease
	g.mu.Lock()
	defer g.mu.Unlock()
	g.gen++
	gen := g.gen
	if g.timer != nil {
		g.timer.Stop()
	}
	g.deadline = sent.Add(m.cfg.Lease - m.fenceMargin())
	left := g.deadline.Sub(m.clock.Now())
	if left <= 0 {
		// The renewal took so long that its lease is already within the margin: it lifts no fence.
		m.fenceLocked()
		return
	}
	g.timer = m.clock.AfterFunc(left, func() {
		g.mu.Lock()
		defer g.mu.Unlock()
		if g.gen == gen && !m.closed.Load() {
			m.fenceLocked()
		}
	})
	if m.fenced.Swap(false) {
		m.log.Warn("lease renewed: serving again")
		m.workers.Add(1)
		go m.resume(m.resumes.Add(1))
	}
}

// fenceLocked fences the member unless it is already; m.lease.mu is held.
func (m *Member) fenceLocked() {
	if !m.fenced.Load() {
		m.log.Warn("lease not renewed: giving up active roles until it is", "deadline", m.lease.deadline, "margin", m.fenceMargin())
		m.fence()
	}
}

// resume takes back this member's roles after a fence ended. While it has not, the checkpoints it
// is named active for have no active, and no other member may take over (its lease is alive): so
// it keeps reading the directory while that fails, until it is fenced again (the next renewal
// resumes anew) or closes.
func (m *Member) resume(n uint64) {
	defer m.workers.Done()
	wait := 50 * time.Millisecond
	for {
		ctx, cancel := context.WithTimeout(m.ctx, resumeTimeout)
		err := m.resync(ctx)
		cancel()
		if err == nil || m.ctx.Err() != nil || m.fenced.Load() || m.resumes.Load() != n {
			return
		}
		m.log.Warn("reading the directory after the lease came back: trying again", "err", err)
		select {
		case <-m.ctx.Done():
			return
		case <-time.After(wait):
		}
		wait = min(2*wait, time.Second)
	}
}

// resumeTimeout bounds one reading of the directory by resume: a request JetStream never answers
// must not stop the retries.
const resumeTimeout = 10 * time.Second

// fence gives up every active role.
func (m *Member) fence() {
	m.fenced.Store(true)
	for _, c := range m.allCkpts() {
		c.stepDown("fenced")
	}
}

func (m *Member) allCkpts() []*ckpt {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]*ckpt, 0, len(m.ckpts))
	for _, c := range m.ckpts {
		out = append(out, c)
	}
	return out
}

// Subjects of a member.
func (m *Member) subject(member, what string) string {
	return memberSubject(m.cfg.Subject, member, what)
}

// memberSubject is where a member of the deployment subject takes requests of one kind.
func memberSubject(subject, member, what string) string { return subject + ".m." + member + "." + what }

func (m *Member) subscribe() error {
	for what, fn := range map[string]nats.MsgHandler{
		"call": func(msg *nats.Msg) { m.spawn(func() { m.onCall(msg) }) },
		"op":   m.onOp,
		"ack":  m.onAck,
		"pos":  m.onPosition,
		"snap": m.onSnapshot,
		"bkp":  func(msg *nats.Msg) { m.spawn(func() { m.onBackup(msg) }) },
	} {
		sub, err := m.nc.Subscribe(m.subject(m.name, what), m.handled(fn))
		if err != nil {
			return fmt.Errorf("%w: subscribe: %w", engine.ErrTryAgain, err)
		}
		_ = sub.SetPendingLimits(-1, -1) // never drop replication traffic
		m.subs = append(m.subs, sub)
	}
	return m.nc.Flush()
}

// handled runs fn as a NATS handler that shutdown waits for (handling).
func (m *Member) handled(fn nats.MsgHandler) nats.MsgHandler {
	return func(msg *nats.Msg) {
		m.handling.RLock()
		defer m.handling.RUnlock()
		if !m.handlersDone {
			fn(msg)
		}
	}
}

// spawn runs fn in a goroutine the member waits for at Close.
func (m *Member) spawn(fn func()) {
	m.workers.Add(1)
	go func() {
		defer m.workers.Done()
		fn()
	}()
}

// watch follows the directory and the leases.
func (m *Member) watch() error {
	entries := make(chan directory.EntryEvent, 256)
	wctx, stop := context.WithCancel(m.ctx) // ends the first watcher if the second cannot start
	m.mu.Lock()
	m.stopWatch = stop
	m.mu.Unlock()
	if err := m.dir.WatchEntries(wctx, entries); err != nil {
		stop()
		return err
	}
	leases := make(chan directory.MemberEvent, 64)
	if err := m.dir.WatchMembers(wctx, leases); err != nil {
		stop()
		return err
	}
	m.workers.Add(1)
	go func() {
		defer m.workers.Done()
		defer stop()
		for {
			select {
			case <-m.ctx.Done():
				return
			case ev := <-entries:
				m.onEntry(ev.ID, ev.Entry)
			case ev := <-leases:
				m.onLease(ev)
			}
		}
	}()
	return nil
}

// onLease tracks live members and handles deaths.
func (m *Member) onLease(ev directory.MemberEvent) {
	m.log.Debug("lease event", "name", ev.Name, "alive", ev.Alive, "incarnation", ev.Info.Incarnation)
	m.mu.Lock()
	before, known := m.members[ev.Name]
	if ev.Alive {
		m.members[ev.Name] = ev.Info
		delete(m.ended, ev.Name)
	} else {
		delete(m.members, ev.Name)
		m.leaseEnds++
		m.ended[ev.Name] = m.leaseEnds
	}
	m.mu.Unlock()
	if ev.Name != m.name {
		info := ev.Info
		info.Name = ev.Name
		m.links.update(info, ev.Alive)
	}
	// A renewal of a lease already known is no news; a new lease (or incarnation) is.
	joined := ev.Alive && (!known || before.Incarnation != ev.Info.Incarnation)
	if !ev.Alive && ev.Name != m.name {
		m.log.Info("member lease ended", "dead", ev.Name)
		m.spawn(func() { m.buryMember(ev.Name) })
	}
	if joined && ev.Name != m.name {
		// A member (re)joined: streams to it stop waiting out their backoff.
		m.wakeStreams(ev.Name)
	}
}

// leaseEndsSeen returns the count of lease ends seen so far, to pass to mergeMembers.
func (m *Member) leaseEndsSeen() uint64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.leaseEnds
}

// mergeMembers adds the leases of a reading of the directory that began when leaseEndsSeen was
// since, except those whose end the watch brought meanwhile: the reading may predate that end, and
// no later event would take such a lease away again, so its member would pass for alive for good
// (no election for what it was active for).
func (m *Member) mergeMembers(members map[string]directory.MemberInfo, since uint64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for name, info := range members {
		if m.ended[name] > since {
			continue
		}
		m.members[name] = info
	}
}

// wakeStreams makes every stream to member ask where it is and go on from there now.
func (m *Member) wakeStreams(member string) {
	for _, c := range m.allCkpts() {
		if a := c.handingOver(); a != nil { // a handover waits for its streams too
			a.wake(member)
		}
	}
}

// alive reports whether a member's lease is live.
func (m *Member) alive(name string) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	_, ok := m.members[name]
	return ok
}

// incarnationOf returns the incarnation of a live member ("" if it has no lease).
func (m *Member) incarnationOf(name string) string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.members[name].Incarnation
}

// servers returns the live server members.
func (m *Member) servers() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []string
	for name, info := range m.members {
		if info.Kind == directory.KindServer {
			out = append(out, name)
		}
	}
	return out
}

// Close leaves the service: every handle counts as closed, the lease is given up, and the
// connection and store are closed.
func (m *Member) Close() error {
	if m.closed.Swap(true) {
		return engine.ErrClosed
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	// A member that leaves needs no news of the directory: without its watch, its closes below
	// do not come back to it one by one (each a message to decode), and the server sends them
	// to nobody else here.
	m.mu.Lock()
	if m.stopWatch != nil {
		m.stopWatch()
	}
	m.mu.Unlock()
	began := time.Now()
	var hs []*handle
	for _, c := range m.allCkpts() {
		hs = append(hs, c.handlesList()...)
	}
	// As long as Close of each handle would wait (a directory electing its leader answers late).
	closeCtx, cancelClose := context.WithTimeout(context.Background(), callTimeout)
	if err := m.closeHandles(closeCtx, hs); err != nil {
		m.log.Warn("closing the handles of a member that leaves", "err", err)
	}
	cancelClose()
	closed := time.Now()
	drainCtx, cancelDrain := context.WithTimeout(context.Background(), leaveDrainTimeout)
	m.drainRoles(drainCtx)
	cancelDrain()
	roles := 0
	for _, c := range m.allCkpts() {
		if c.stepDown(whyLeaving) {
			roles++
		}
	}
	steppedDown := time.Now()
	_ = m.dir.Deregister(ctx, m.name)
	deregistered := time.Now()
	m.shutdown()
	ms := func(d time.Duration) time.Duration { return d.Round(100 * time.Microsecond) }
	m.log.Info("left", "handles", len(hs), "active_roles", roles, "total", ms(time.Since(began)), "close_handles", ms(closed.Sub(began)),
		"step_down", ms(steppedDown.Sub(closed)), "deregister", ms(deregistered.Sub(steppedDown)), "shutdown", ms(time.Since(deregistered)))
	return nil
}

// leaveDrainTimeout bounds how long a member that leaves waits for its followers to take the ops
// they lack (a follower that stopped answering is not waited for: its stream is down).
const leaveDrainTimeout = 5 * time.Second

// drainRoles fences every active role of this member and waits until each reachable follower has
// acknowledged every op made: a member that leaves is not a member that died, and the writes its
// actives acknowledged without waiting for the replicas (WR_ACTIVE_REPLICA) must reach them before
// it goes. A standby that takes the role next finds nobody to hand over, and goes on with what its
// replica holds.
func (m *Member) drainRoles(ctx context.Context) {
	for _, c := range m.allCkpts() {
		if a := c.handingOver(); a != nil {
			lsn := a.fence()
			if behind := a.drain(ctx, lsn); len(behind) > 0 {
				m.log.Warn("leaving before every replica has the last writes", "checkpoint", c.name(), "lsn", lsn, "behind", behind)
			}
		}
	}
}

func (m *Member) shutdown() {
	m.cancel()
	if m.metricsSrv != nil {
		m.metricsSrv.Close()
	}
	for _, s := range m.subs {
		_ = s.Unsubscribe()
	}
	m.handling.Lock() // the handlers under way end (the context is cancelled: none waits long)
	m.handlersDone = true
	m.handling.Unlock()
	if m.links != nil {
		m.links.close()
	}
	if m.linkLn != nil {
		m.linkLn.Close() // waits for the ops being applied
	}
	m.workers.Wait()
	if m.reps != nil {
		m.reps.Close()
	}
	if m.conn != nil {
		m.conn.Close()
	}
	if m.store != nil {
		_ = m.store.Close()
	}
	if m.slotLock != nil {
		m.slotLock.Close()
	}
}
