package replication

import (
	"fmt"
	"net"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/clckpt/libclckpt/config"
	"github.com/clckpt/libclckpt/replication/directory"
	"github.com/clckpt/libclckpt/replication/oplink"
	"github.com/clckpt/libclckpt/replication/wire"
)

// Direct op links (replication/oplink). Every member listens for links (unless CLCKPT_LINK=off) and
// publishes the address in its lease record. An active sends an op to a follower on the link to it
// when that link is up, and through NATS otherwise; a link is dialed in the background on first use
// and again after it broke (at most once a second per peer), so no writer ever waits for a dial.
// The follower acknowledges on the link the op came on. Nothing in the protocol depends on the path:
// ops carry their epoch and position, a follower acknowledges a gap as one, and the stream resends.
//
// links.mu is a leaf lock: sendOp runs under active.mu (from Emit, under the replica's lock too),
// and never waits for the peer (oplink.Link.Send queues what the kernel does not take at once).

// linkRetry is the least time between two dials of the same peer.
const linkRetry = time.Second

type links struct {
	m      *Member
	mu     sync.Mutex
	peers  map[string]*peerLink
	closed bool
}

type peerLink struct {
	addr        oplink.Address
	incarnation string
	link        *oplink.Link // nil while not up
	dialing     bool
	lastTry     time.Time
	calls       callPool  // links that carry this member's calls to the peer (calllinks.go)
	copies      idleLinks // links of finished small copies, for the next ones (copypath.go)
}

// closeIdle closes the peer's idle call and copy links.
func (p *peerLink) closeIdle() {
	p.calls.idle.close()
	p.copies.close()
}

// idleLinks are links to a peer that wait for their next use (under links.mu).
type idleLinks []*oplink.Link

// pop returns the most recently kept link that is still up, or nil; it closes the ones found down
// on the way and says how many.
func (il *idleLinks) pop() (l *oplink.Link, down int) {
	for len(*il) > 0 {
		l = (*il)[len(*il)-1]
		*il = (*il)[:len(*il)-1]
		if !isDown(l) {
			return l, down
		}
		l.Close()
		down++
	}
	return nil, down
}

func (il *idleLinks) close() {
	for _, l := range *il {
		l.Close()
	}
	*il = nil
}

// startLinks starts listening for links, as the configuration says.
func (m *Member) startLinks() error {
	m.links = &links{m: m, peers: make(map[string]*peerLink)}
	if m.cfg.Link == "off" {
		return nil
	}
	listen, host := m.cfg.Link, ""
	if listen == "auto" {
		host = m.linkHost()
		listen = net.JoinHostPort(host, "0")
	} else if h, _, _ := net.SplitHostPort(listen); h == "" || net.ParseIP(h).IsUnspecified() {
		host = m.linkHost() // listening on every address: publish the one NATS is reached from
	}
	useTLS := m.linkTLS || m.cfg.NATS.TLSCA != "" || m.cfg.NATS.TLSCert != "" || strings.Contains(m.cfg.NATS.URL, "tls://")
	ln, err := oplink.Listen(listen, useTLS, m.onLinkFrame, m.log)
	if err != nil {
		err = fmt.Errorf("CLCKPT_LINK=%s: %w", m.cfg.Link, err)
		if m.cfg.Link != "auto" { // an address that cannot be bound: retrying cannot help
			err = config.BadSetting(err)
		}
		return err
	}
	m.linkLn = ln
	m.linkAddr = ln.Address(host)
	m.log.Debug("listening for op links", "addr", m.linkAddr.Addr, "tls", useTLS)
	return nil
}

// linkHost is the address of this host that other members can reach: the local address of the
// route to the NATS server this member is connected to (loopback for a local server).
func (m *Member) linkHost() string {
	u, err := url.Parse(m.nc.ConnectedUrl())
	if err != nil || u.Hostname() == "" {
		return "127.0.0.1"
	}
	ip := net.ParseIP(u.Hostname())
	if ip == nil {
		ips, err := net.LookupIP(u.Hostname())
		if err != nil || len(ips) == 0 {
			return "127.0.0.1"
		}
		ip = ips[0]
	}
	if ip.IsLoopback() {
		return "127.0.0.1"
	}
	c, err := net.Dial("udp", net.JoinHostPort(ip.String(), "9")) // no packet is sent
	if err != nil {
		return "127.0.0.1"
	}
	defer c.Close()
	return c.LocalAddr().(*net.UDPAddr).IP.String()
}

// update follows a peer's lease: a new incarnation (or address) gets a new link; an ended lease
// closes it.
func (ls *links) update(info directory.MemberInfo, alive bool) {
	ls.mu.Lock()
	defer ls.mu.Unlock()
	p := ls.peers[info.Name]
	if p != nil && (!alive || p.incarnation != info.Incarnation || p.addr.Addr != info.LinkAddr) {
		if p.link != nil {
			p.link.Close()
		}
		p.closeIdle()
		delete(ls.peers, info.Name)
		p = nil
	}
	if alive && p == nil && info.LinkAddr != "" && !ls.closed {
		ls.peers[info.Name] = &peerLink{incarnation: info.Incarnation,
			addr: oplink.Address{Addr: info.LinkAddr, Key: info.LinkKey, Fingerprint: info.LinkCert}}
	}
}

// get returns the link to peer if it is up, and starts dialing it if not.
func (ls *links) get(peer string) *oplink.Link {
	ls.mu.Lock()
	defer ls.mu.Unlock()
	p := ls.peers[peer]
	if p == nil {
		return nil
	}
	if p.link == nil && !p.dialing && !ls.closed && time.Since(p.lastTry) >= linkRetry {
		p.dialing, p.lastTry = true, time.Now()
		go ls.dial(peer, p)
	}
	return p.link
}

func (ls *links) dial(peer string, p *peerLink) {
	m := ls.m
	l, err := oplink.Dial(p.addr, m.name, m.cfg.AckTimeout, func(frame []byte) { m.onAckData(frame, peer) }, func(err error) {
		ls.mu.Lock()
		if p.link != nil && isDown(p.link) { // Done is closed before this runs
			p.link = nil
		}
		ls.mu.Unlock()
		m.log.Debug("op link down", "to", peer, "err", err)
		// Ops sent on it may never be acknowledged: the streams to the peer ask where it is
		// and send the rest through NATS, rather than wait for the ack timeout.
		if !m.closed.Load() { // (a member that closes has closed its links: no stream to wake)
			m.spawn(func() { m.wakeStreams(peer) })
		}
	})
	ls.mu.Lock()
	defer ls.mu.Unlock()
	p.dialing = false
	if err != nil {
		m.log.Debug("op link: dial", "to", peer, "addr", p.addr.Addr, "err", err)
		return
	}
	if ls.closed || ls.peers[peer] != p || isDown(l) { // (down already: its onClose found nothing to clear)
		l.Close()
		return
	}
	p.link = l
	m.log.Debug("op link up", "to", peer, "addr", p.addr.Addr)
}

// address returns where peer takes links, if it does.
func (ls *links) address(peer string) (oplink.Address, bool) {
	ls.mu.Lock()
	defer ls.mu.Unlock()
	if p := ls.peers[peer]; p != nil && !ls.closed {
		return p.addr, true
	}
	return oplink.Address{}, false
}

// up returns the link to peer if it is up (without dialing one).
func (ls *links) up(peer string) *oplink.Link {
	ls.mu.Lock()
	defer ls.mu.Unlock()
	if p := ls.peers[peer]; p != nil {
		return p.link
	}
	return nil
}

// nudge makes the link to peer read the acknowledgements owed on it, if nobody collects them.
func (ls *links) nudge(peer string) {
	if l := ls.up(peer); l != nil {
		l.Nudge()
	}
}

func isDown(l *oplink.Link) bool {
	select {
	case <-l.Done():
		return true
	default:
		return false
	}
}

// close closes every link (the member is leaving).
func (ls *links) close() {
	ls.mu.Lock()
	defer ls.mu.Unlock()
	ls.closed = true
	for _, p := range ls.peers {
		if p.link != nil {
			p.link.Close()
		}
		p.closeIdle()
	}
	ls.peers = map[string]*peerLink{}
}

// sendOp sends an encoded OpMsg to a follower: for a WR_ALL_REPLICAS checkpoint on the link when it
// is up, else through NATS. A link write is a system call on the writer's thread, which a writer
// that waits for the acknowledgement anyway gains by (no hand-off to a flusher); an asynchronous
// write returns before any replica has it, and a NATS publish, which only appends to a buffer,
// keeps it fast. A sender that will wait for the acknowledgement (collect) reads it from the link
// itself (active.collect); for any other, the link's reader goroutine reads it.
func (m *Member) sendOp(to string, msg []byte, sync, collect bool) {
	if sync {
		if l := m.links.get(to); l != nil && l.Send(msg, m.cfg.AckTimeout) == nil {
			m.opsOnLinks.Add(1)
			if !collect {
				l.Nudge()
			}
			return
		}
	}
	m.opsOnNATS.Add(1)
	if err := m.nc.PublishMsg(&nats.Msg{Subject: m.opSubject(to), Reply: m.ackSubject, Data: msg}); err != nil {
		m.log.Debug("sending an op", "to", to, "err", err)
	}
}

// opSubject is the subject of ops to member (remembered: it is needed at every op).
func (m *Member) opSubject(member string) string {
	if s, ok := m.opSubjects.Load(member); ok {
		return s.(string)
	}
	s := m.subject(member, "op")
	m.opSubjects.Store(member, s)
	return s
}

// OpsSent counts the ops this member sent to followers, on links and through NATS.
func (m *Member) OpsSent() (onLinks, onNATS uint64) { return m.opsOnLinks.Load(), m.opsOnNATS.Load() }

// onLinkFrame takes an op, or a piece of a snapshot, that came on a link from the member named from
// (authenticated by the link's handshake) and returns the acknowledgement, which goes back on it.
func (m *Member) onLinkFrame(from string, frame []byte) []byte {
	var reply []byte
	send := func(ack wire.AckMsg) {
		ack.From = m.name
		reply = ack.Encode(nil)
	}
	k, _ := wire.Peek(frame)
	if k == wire.KindCall {
		return m.answer(frame, from) // a call link (calllinks.go)
	}
	id, epoch, err := wire.Stamp(frame)
	if err != nil {
		m.log.Warn("bad frame on a link", "from", from, "err", err)
		return nil
	}
	if status, ok := m.fromActive(from, id, epoch, k == wire.KindSnapshot); !ok {
		if status != 0 {
			send(wire.AckMsg{Ckpt: id, Status: status})
		}
		return reply
	}
	if k == wire.KindSnapshot {
		m.snapshotPiece(frame, send) // the frame is a buffer of its own (oplink.Handler)
	} else {
		m.applyOp(frame, send)
	}
	return reply
}

// fromActive checks that a link's peer, from, is the active of the checkpoint in the epoch its op or
// snapshot carries: a member that can dial links (every member can: the keys are in the directory)
// cannot pass for another. The entry is read again when this member's copy is older than that epoch.
// A frame of an older epoch is answered stale (its sender was deposed); one whose epoch no entry
// read here confirms is answered as a gap, which makes a true active ask where the replica is and
// send again; one that names another member as the active is refused with no answer (status 0).
func (m *Member) fromActive(from string, id, epoch uint64, snapshot bool) (wire.AckStatus, bool) {
	var c *ckpt
	if snapshot {
		c = m.ckptFor(id)  // a copy may bring a replica this member does not hold yet
		defer m.release(c) // (or be of a checkpoint destroyed since: nothing stays then)
	} else {
		m.mu.Lock()
		c = m.ckpts[id]
		m.mu.Unlock()
		if c == nil {
			return 0, true // nothing here to change: the op is answered "no replica"
		}
	}
	e, err := c.current(m.ctx)
	if err == nil && e.Epoch < epoch {
		e, err = c.refresh(m.ctx)
	}
	switch {
	case err != nil || e.Epoch < epoch:
		return wire.AckGap, false
	case e.Epoch > epoch:
		return wire.AckStale, false
	case e.Active != from:
		m.log.Warn("link frame from a member that is not the active: refused", "from", from, "active", e.Active, "checkpoint", c.name())
		return 0, false
	}
	return 0, true
}
