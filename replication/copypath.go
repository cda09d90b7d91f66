package replication

import (
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/clckpt/libclckpt/replication/oplink"
	"github.com/clckpt/libclckpt/replication/wire"
)

// copyPath carries the messages of one replica copy (stream.snapshot) to a follower and brings back
// their acknowledgements, one per message, in order.
type copyPath interface {
	send(msg []byte) error
	// next returns the next acknowledgement, or nil if none came within wait.
	next(wait time.Duration) (*wire.AckMsg, error)
	maxMessage() int
	name() string
	// close ends the path; clean says that every message sent was acknowledged, and bytes how many
	// bytes of sections the copy carried.
	close(clean bool, bytes int)
}

// copyPath opens the path of a copy to member: a link of its own when the member takes links, so
// that megabytes of copy do not hold up the ops on the shared link (and skip the NATS server, which
// would read, parse and copy every byte once more); else NATS. The link is one a small copy to the
// same incarnation of member left idle, if any: most copies are the first of a new checkpoint, a few
// bytes, and dialing a link (a TLS handshake on each side) for each cost the servers more processor
// time than the copy itself.
func (m *Member) copyPath(member string) (copyPath, error) {
	l, p := m.links.takeCopy(member)
	if l != nil {
		return &linkPath{m: m, l: l, peer: member, p: p, timeout: 10 * m.cfg.AckTimeout}, nil
	}
	if p != nil {
		m.copyDials.Add(1)
		l, err := oplink.Dial(p.addr, m.name, m.cfg.AckTimeout, func([]byte) {}, nil) // (replies: Next)
		if err == nil {
			// The link is the copy's alone: it keeps the buffers of its send queue (a window of
			// messages at most) rather than growing new ones for every message.
			l.KeepBuffers(oplink.QueueLimit)
			return &linkPath{m: m, l: l, peer: member, p: p, timeout: 10 * m.cfg.AckTimeout}, nil
		}
		m.log.Debug("copy: no link, through NATS", "to", member, "err", err)
	}
	inbox := m.nc.NewRespInbox()
	sub, err := m.nc.SubscribeSync(inbox)
	if err != nil {
		return nil, err
	}
	return &natsPath{m: m, subject: m.subject(member, "snap"), inbox: inbox, sub: sub}, nil
}

// maxIdleCopyLinks bounds the idle copy links kept to one peer: enough for the copies of checkpoints
// created by a few threads at once.
const maxIdleCopyLinks = 2

// smallCopy is the largest copy whose link is kept for the next one: its send queue never held
// more, so the idle link holds no large buffer.
const smallCopy = 1 << 20

// takeCopy returns an idle copy link to peer, or nil, and peer's entry in the table (nil when the
// peer takes no links), whose address does not change.
func (ls *links) takeCopy(peer string) (*oplink.Link, *peerLink) {
	ls.mu.Lock()
	defer ls.mu.Unlock()
	p := ls.peers[peer]
	if p == nil || ls.closed {
		return nil, nil
	}
	l, _ := p.copies.pop()
	return l, p
}

// putCopy keeps the link of a copy that ended cleanly (every message acknowledged: nothing more
// can come on it) for the next copy to the same incarnation of peer, or closes it.
func (ls *links) putCopy(peer string, p *peerLink, l *oplink.Link) {
	ls.mu.Lock()
	defer ls.mu.Unlock()
	if !ls.closed && ls.peers[peer] == p && len(p.copies) < maxIdleCopyLinks && !isDown(l) {
		p.copies = append(p.copies, l)
		return
	}
	l.Close()
}

// natsPath publishes the messages and reads the acknowledgements on an inbox of the copy.
type natsPath struct {
	m       *Member
	subject string
	inbox   string
	sub     *nats.Subscription
}

func (p *natsPath) send(msg []byte) error {
	return p.m.nc.PublishMsg(&nats.Msg{Subject: p.subject, Reply: p.inbox, Data: msg})
}

func (p *natsPath) next(wait time.Duration) (*wire.AckMsg, error) {
	msg, err := p.sub.NextMsg(wait)
	if errors.Is(err, nats.ErrTimeout) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if len(msg.Data) == 0 {
		return nil, fmt.Errorf("follower gone (status %s)", msg.Header.Get("Status"))
	}
	return wire.DecodeAckMsg(msg.Data)
}

func (p *natsPath) maxMessage() int { return int(p.m.nc.MaxPayload()) }
func (p *natsPath) name() string    { return "nats" }
func (p *natsPath) close(bool, int) { _ = p.sub.Unsubscribe() }

// linkPath writes the messages on a link dialed for the copy and reads the acknowledgements itself.
type linkPath struct {
	m       *Member
	l       *oplink.Link
	peer    string
	p       *peerLink     // the peer's incarnation the link was dialed to
	timeout time.Duration // of one write
}

func (p *linkPath) send(msg []byte) error { return p.l.Send(msg, p.timeout) }

func (p *linkPath) next(wait time.Duration) (*wire.AckMsg, error) {
	frame, err := p.l.Next(wait)
	switch {
	case err != nil:
		return nil, fmt.Errorf("the copy's link: %w", err)
	case frame == nil:
		return nil, nil
	case len(frame) == 0:
		return nil, errors.New("the follower could not read a copy message")
	}
	ack, err := wire.DecodeAckMsg(frame)
	if err == nil && ack.From != p.peer {
		err = fmt.Errorf("an acknowledgement on the copy's link to %s says it is from %s", p.peer, ack.From)
	}
	return ack, err
}

func (p *linkPath) maxMessage() int { return 2 * snapshotBatchMax } // no server limit on a link
func (p *linkPath) name() string    { return "link" }
func (p *linkPath) close(clean bool, bytes int) {
	if clean && bytes <= smallCopy {
		p.m.links.putCopy(p.peer, p.p, p.l)
		return
	}
	p.l.Close()
}
