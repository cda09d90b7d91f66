package replication

import (
	"bytes"
	"context"
	"slices"
	"strings"
	"time"

	"github.com/clckpt/libclckpt/replication/oplink"
	"github.com/clckpt/libclckpt/replication/wire"
)

// Call links. A call forwarded to the active's member goes on a direct link to that member when one
// is idle, and through NATS otherwise: one trip between the two processes, the caller reading its own
// reply, instead of a request and reply through the NATS server and the hand-offs inside two NATS
// clients. A call link is an op link (oplink: the same listener, handshake and key, so the callee
// knows which member dialed it) that carries one call at a time: the caller sends the call, reads
// the reply on its own goroutine and puts the link back; the callee's goroutine for that connection
// runs the call and writes the reply. Several callers use several links to a member (at most
// maxCallLinks); a caller that finds none idle sends its call through NATS and has one dialed in the
// background, so no call waits for a dial.
//
// What the callee answers does not depend on the path (it runs the same code, Member.answer). A call
// sent on a link whose reply cannot be read (the link broke, the reply was too large for a link) is
// sent again through NATS, with the same request id: a change is applied once however many times
// its call arrives (REPLICATION.md, "Retries are applied once"), and only NATS says whether the
// callee is gone ("no responders"), as it does for a call that went through NATS from the start. A
// call whose context ends while it waits on a link ends as one through NATS would: its deadline is a
// timeout, a callee found gone by the probe (watchPeer) is "no responders".

// maxCallLinks bounds the call links from this member to one other member. Few: the pool then
// reaches its size within seconds of a busy start instead of growing for minutes with the calls'
// bursts (a long run's descriptors and goroutines stay flat), and a writer thread or two per peer
// is what the links are for; more concurrent calls go through NATS.
const maxCallLinks = 4

// maxCallOnLink is the largest call sent on a link; a larger one goes through NATS (a link queues at
// most oplink.QueueLimit for a peer that reads slowly).
const maxCallOnLink = 8 << 20

// callPool is the call links to one peer (in peerLink, under links.mu).
type callPool struct {
	idle    idleLinks
	busy    int // on a call
	open    int // idle, on a call, and being dialed
	lastTry time.Time
	failed  bool // the last dial failed: the next waits linkRetry
	refused bool // the peer answers calls on links with nothing (an earlier version): NATS only
}

// onCallLink reports whether a call of this kind goes on a link when one is idle. Handovers and
// backup sessions stay on NATS: a retry of either is not a plain repeat (a second session of the same
// id is refused), and neither is on the path of a write.
func onCallLink(call *wire.CallMsg) bool {
	return call.Kind >= wire.CallCreateSection && call.Kind <= wire.CallSynchronize
}

// takeCall returns an idle call link to peer, or nil; when none is idle it has one dialed.
func (ls *links) takeCall(peer string) (*oplink.Link, *peerLink) {
	ls.mu.Lock()
	defer ls.mu.Unlock()
	p := ls.peers[peer]
	if p == nil || ls.closed || p.calls.refused {
		return nil, nil
	}
	cp := &p.calls
	l, down := cp.idle.pop()
	cp.open -= down
	if l != nil {
		cp.busy++
		return l, p
	}
	if cp.open < maxCallLinks && (!cp.failed || time.Since(cp.lastTry) >= linkRetry) {
		cp.open++
		cp.lastTry = time.Now()
		go ls.dialCall(peer, p)
	}
	return nil, nil
}

// putCall gives back a call link whose reply was read; broken is a link that cannot be used again.
func (ls *links) putCall(peer string, p *peerLink, l *oplink.Link, broken bool) {
	ls.mu.Lock()
	defer ls.mu.Unlock()
	if ls.peers[peer] == p {
		p.calls.busy--
	}
	ls.keepCall(peer, p, l, broken)
}

// keepCall keeps a call link idle for the next call, or closes it (under ls.mu).
func (ls *links) keepCall(peer string, p *peerLink, l *oplink.Link, broken bool) {
	if !broken && !ls.closed && ls.peers[peer] == p && !p.calls.refused && !isDown(l) {
		p.calls.idle = append(p.calls.idle, l)
		return
	}
	l.Close()
	if ls.peers[peer] == p {
		p.calls.open--
	}
}

func (ls *links) dialCall(peer string, p *peerLink) {
	m := ls.m
	l, err := oplink.Dial(p.addr, m.name, m.cfg.AckTimeout, func([]byte) {}, nil) // (replies: Next)
	ls.mu.Lock()
	p.calls.failed = err != nil
	ls.mu.Unlock()
	if err != nil {
		m.log.Debug("call link: dial", "to", peer, "addr", p.addr.Addr, "err", err)
		ls.mu.Lock()
		if ls.peers[peer] == p {
			p.calls.open--
		}
		ls.mu.Unlock()
		return
	}
	ls.mu.Lock()
	ls.keepCall(peer, p, l, false)
	ls.mu.Unlock()
}

// reachable reports whether peer's process is alive as far as links can tell: a link to it is up
// (linkedTo), or one can be dialed now. The dial's handshake proves the process is the one of the
// lease (its key and certificate); a process that died refuses the connection at once, its listener
// closed by its kernel. A dialed link is kept for calls, when the pool has room.
func (ls *links) reachable(peer string) bool {
	if ls.linkedTo(peer) {
		return true
	}
	ls.mu.Lock()
	p := ls.peers[peer]
	closed := ls.closed
	ls.mu.Unlock()
	if p == nil || closed {
		return false
	}
	m := ls.m
	l, err := oplink.Dial(p.addr, m.name, min(m.cfg.AckTimeout, probeDial), func([]byte) {}, nil)
	if err != nil {
		return false
	}
	ls.mu.Lock()
	defer ls.mu.Unlock()
	if cp := &p.calls; ls.peers[peer] == p && cp.open < maxCallLinks && !cp.refused {
		cp.open++
		ls.keepCall(peer, p, l, false)
	} else {
		l.Close()
	}
	return true
}

// probeDial bounds the dial of reachable: a process that died refuses at once; a host that does
// not answer is left to its lease.
const probeDial = 100 * time.Millisecond

// linkedTo reports whether a link to peer is up: a call link, idle or on a call, or the op link. A
// process that dies has its links closed by its kernel, so one that is up shows the peer's process
// alive whatever NATS says of its subscriptions. (A link on a call reads its reply and sees the end
// at once; an idle one is looked at.)
func (ls *links) linkedTo(peer string) bool {
	ls.mu.Lock()
	p := ls.peers[peer]
	if p == nil {
		ls.mu.Unlock()
		return false
	}
	busy := p.calls.busy > 0
	links := slices.Clone(p.calls.idle)
	if p.link != nil {
		links = append(links, p.link)
	}
	ls.mu.Unlock()
	// Looked at without ls.mu: a link found down runs its onClose, which takes it (the op link's).
	return busy || slices.ContainsFunc(links, (*oplink.Link).Alive)
}

// callOnLink sends an encoded call on an idle call link to member to and returns the reply. sent is
// false when the call must go through NATS: no link was idle, or the link broke before a reply came
// (the call may have been run: through NATS it is a retry); broke says the latter. With sent true,
// err is the end of ctx (the caller maps it as for a call through NATS).
func (m *Member) callOnLink(ctx context.Context, to string, call *wire.CallMsg, frame []byte) (reply []byte, sent, broke bool, err error) {
	if len(frame) > maxCallOnLink || readsTooMuch(call) {
		return nil, false, false, nil
	}
	l, p := m.links.takeCall(to)
	if l == nil {
		return nil, false, false, nil
	}
	// A context that ends (deadline, caller gone, callee found gone) closes the link, which ends
	// the read below.
	stop := context.AfterFunc(ctx, l.Close)
	broken := true
	defer func() {
		if !stop() {
			broken = true // closed by the context
		}
		m.links.putCall(to, p, l, broken)
	}()
	if err := l.Send(frame, m.cfg.AckTimeout); err != nil {
		return nil, false, true, nil
	}
	wait := callTimeout
	if dl, ok := ctx.Deadline(); ok {
		wait = time.Until(dl)
	}
	r, rerr := l.Next(wait)
	switch {
	case rerr == nil && len(r) > 0:
		broken = false
		return bytes.Clone(r), true, false, nil
	case rerr == nil && r != nil:
		// An empty reply: the callee's was larger than a link carries (oplink.MaxReply; only a
		// read or a list of ids can be: no change), and the link goes on; or the callee takes no
		// calls on links (a member of an earlier version answers them with nothing), which a call
		// whose reply cannot be that large shows: none is sent there again. Either way the call
		// goes through NATS.
		broken = false
		if !mayBeLarge(call) {
			m.links.refuseCalls(to, p)
		}
	case ctx.Err() != nil:
		return nil, true, false, ctx.Err()
	}
	// Broken (or nothing came within the deadline, which the context is about to report), or too
	// large: through NATS, which tells a callee that is gone from a link that broke.
	m.callsResent.Add(1)
	return nil, false, rerr != nil, nil
}

// speaksFor reports whether origin (a member's name, or "<member>/<n>" for one of its handles) is
// member's.
func speaksFor(member, origin string) bool {
	rest, ok := strings.CutPrefix(origin, member)
	return ok && (rest == "" || rest[0] == '/')
}

// readsTooMuch reports whether a read asks for more than a reply on a link carries.
func readsTooMuch(call *wire.CallMsg) bool {
	var n uint64
	for _, r := range call.Reads {
		n += r.Size
	}
	return n > oplink.MaxReply/2
}

// mayBeLarge reports whether a call's reply may pass what a link carries whatever its size limits:
// a whole section's read, or a list of section ids.
func mayBeLarge(call *wire.CallMsg) bool {
	if call.Kind == wire.CallSectionIDs {
		return true
	}
	for _, r := range call.Reads {
		if r.Whole {
			return true
		}
	}
	return false
}

// refuseCalls stops sending calls on links to peer (in incarnation p): it answered one with nothing.
func (ls *links) refuseCalls(peer string, p *peerLink) {
	ls.mu.Lock()
	defer ls.mu.Unlock()
	if ls.peers[peer] == p && !p.calls.refused {
		p.calls.refused = true
		p.calls.idle.close()
		ls.m.log.Info("a member takes no calls on links (an earlier version?): calls to it go through NATS", "member", peer)
	}
}
