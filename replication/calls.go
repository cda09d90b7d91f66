package replication

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/clckpt/libclckpt/engine"
	"github.com/clckpt/libclckpt/replication/directory"
	"github.com/clckpt/libclckpt/replication/wire"
)

// callTimeout bounds a call without a deadline of its own (the C API gives none to writes).
const callTimeout = 30 * time.Second

// onCall serves a call forwarded by another member through NATS.
func (m *Member) onCall(msg *nats.Msg) {
	_ = msg.Respond(m.answer(msg.Data, ""))
}

// answer serves an encoded call and returns the encoded reply. from is the member a call link
// authenticated ("" through NATS, which authenticates no member): a link speaks only for its peer,
// and a call on it in the name of another member's handle is refused.
func (m *Member) answer(data []byte, from string) []byte {
	call, err := wire.DecodeCallMsg(data)
	var reply *wire.ReplyMsg
	switch {
	case err != nil:
		reply = &wire.ReplyMsg{Err: fmt.Errorf("%w: %w", engine.ErrInvalidParameter, err)}
	case from != "" && !speaksFor(from, call.Origin):
		m.log.Warn("call on a link in the name of another member: refused", "from", from, "origin", call.Origin)
		reply = &wire.ReplyMsg{Err: fmt.Errorf("%w: call from %s in the name of %q", engine.ErrInvalidParameter, from, call.Origin)}
	default:
		ctx, cancel := callContext(m.ctx, call)
		reply = m.serve(ctx, call)
		cancel()
		if m.ctx.Err() != nil {
			// This member is leaving: whatever the call did (a change is applied at most once,
			// see engine.Caller), the caller must go on with the next active.
			reply = &wire.ReplyMsg{NotActive: true}
		}
	}
	return reply.Encode(nil)
}

// callContext bounds a forwarded call by its own timeout, else callTimeout; cancel releases all of it.
func callContext(parent context.Context, call *wire.CallMsg) (context.Context, context.CancelFunc) {
	timeout := callTimeout
	if call.Timeout > 0 {
		timeout = call.Timeout
	}
	return context.WithTimeout(parent, timeout)
}

// serve runs a call on the local active replica, or answers NotActive.
func (m *Member) serve(ctx context.Context, call *wire.CallMsg) *wire.ReplyMsg {
	c := m.ckptFor(call.Ckpt)
	defer m.release(c) // a call for a checkpoint destroyed meanwhile
	if call.Kind == wire.CallHandover {
		// Only the role of the epoch the caller takes over from: this member may have just taken
		// the role again in a newer epoch, whose writes a handover of the older (fenced) role
		// would leave out.
		if a := c.handingOver(); a != nil && a.epoch == call.Epoch {
			lsn, err := m.handOver(ctx, c, a, call.Origin)
			return &wire.ReplyMsg{LSN: lsn, Err: err}
		}
		return &wire.ReplyMsg{NotActive: true}
	}
	rep, a := c.localActive()
	if rep == nil || a.epoch < call.Epoch {
		// The caller may know more than this member's watch has told it yet.
		if _, err := c.refresh(ctx); err != nil {
			return &wire.ReplyMsg{Err: err}
		}
		if rep, a = c.localActive(); rep == nil {
			return &wire.ReplyMsg{NotActive: true}
		}
	}
	r := &wire.ReplyMsg{}
	by := engine.Caller{Origin: call.Origin, Request: call.Request}
	var err error
	switch call.Kind {
	case wire.CallCreateSection:
		r.Section, err = rep.CreateSection(ctx, by, call.Section, time.Unix(0, call.Expiration), call.Data)
	case wire.CallDeleteSection:
		err = rep.DeleteSection(ctx, by, call.Section)
	case wire.CallSetExpiration:
		err = rep.SetSectionExpiration(ctx, by, call.Section, time.Unix(0, call.Expiration))
	case wire.CallOverwrite:
		err = rep.Overwrite(ctx, by, call.Section, call.Data)
	case wire.CallWrite:
		err = rep.Write(ctx, by, call.Writes)
	case wire.CallRead:
		elems := make([]engine.ReadElement, len(call.Reads))
		for i, rr := range call.Reads {
			elems[i] = engine.ReadElement{SectionID: rr.Section, Offset: rr.Offset}
			if !rr.Whole {
				elems[i].Buffer = make([]byte, min(rr.Size, engine.MaxDataSize+1))
			}
		}
		if err = rep.Read(elems); err == nil {
			r.Reads = make([][]byte, len(elems))
			for i := range elems {
				r.Reads[i] = elems[i].Buffer[:elems[i].ReadSize]
			}
		}
	case wire.CallStatus:
		r.Status = m.status(c, rep)
	case wire.CallSectionIDs:
		r.IDs, err = rep.SectionIDs(engine.SectionFilter(call.Filter), time.Unix(0, call.At))
	case wire.CallDescribe:
		d, ok := rep.Describe(call.Section)
		r.Found, r.Section, r.Size, r.State = ok, d.ID, d.Size, uint8(d.State)
		r.Expiration, r.LastUpdate = d.Expiration.UnixNano(), d.LastUpdate.UnixNano()
	case wire.CallSynchronize:
		err = a.synchronize(ctx)
	case wire.CallBackup:
		if err = m.openBackup(c, rep, a, call.Request); err == nil {
			r.Section = []byte(m.name)
		}
	default:
		err = fmt.Errorf("%w: call kind %d", engine.ErrInvalidParameter, call.Kind)
	}
	if errors.Is(err, errDeposed) {
		return &wire.ReplyMsg{NotActive: true}
	}
	m.served(call.Kind, err)
	r.Err = err
	return r
}

// status is the replica's status with the attributes of the entry, which own the retention.
func (m *Member) status(c *ckpt, rep *engine.Replica) engine.Status {
	st := rep.Status()
	c.entryAttributes(&st)
	return st
}

// entryAttributes puts the attributes of the entry as this member knows it into st.
func (c *ckpt) entryAttributes(st *engine.Status) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.entry != nil {
		st.Attributes = c.entry.Attrs
	}
}

// route names where a call on checkpoint c runs: the local replica when this member is the active,
// else the active member (and the epoch the caller knows).
func (m *Member) route(ctx context.Context, c *ckpt) (*engine.Replica, *active, string, uint64, error) {
	if rep, a := c.localActive(); rep != nil {
		return rep, a, "", 0, nil
	}
	e, err := c.current(ctx)
	if err != nil {
		return nil, nil, "", 0, err
	}
	if e.Active == "" { // the watch may not have told us yet: ask the directory
		if e, err = c.refresh(ctx); err != nil {
			return nil, nil, "", 0, err
		}
		if rep, a := c.localActive(); rep != nil {
			return rep, a, "", 0, nil
		}
		if e.Active == "" {
			return nil, nil, "", 0, noActive(e)
		}
	}
	if e.Active == m.name { // named active but not serving yet (copy arriving, or fenced)
		return nil, nil, "", 0, fmt.Errorf("%w: this member is becoming the active replica of %q", engine.ErrTryAgain, e.Name)
	}
	return nil, nil, e.Active, e.Epoch, nil
}

func noActive(e *directory.Entry) error {
	return fmt.Errorf("%w: checkpoint %q has no active replica: call ActiveReplicaSet", engine.ErrNotExist, e.Name)
}

// do runs a call where the checkpoint's active replica is: local() on the local replica, or call
// forwarded to the active member. It retries while the active changes (bounded by ctx or
// callTimeout); reply gets the remote result.
func (m *Member) do(ctx context.Context, c *ckpt, local func(*engine.Replica, *active) error, call *wire.CallMsg, reply func(*wire.ReplyMsg) error) error {
	_, bounded := ctx.Deadline()
	if !bounded {
		cc := &callCtx{Context: ctx, deadline: time.Now().Add(callTimeout)}
		defer cc.end()
		ctx = cc
	}
	wait := 5 * time.Millisecond
	elected := false // a retry went at once after an election
	for {
		rep, a, to, epoch, err := m.route(ctx, c)
		switch {
		case err != nil && !errors.Is(err, engine.ErrTryAgain):
			return err
		case rep != nil:
			err = local(rep, a)
			if !errors.Is(err, errDeposed) {
				return err
			}
		case err == nil:
			call.Ckpt, call.Epoch = c.id, epoch
			var r *wire.ReplyMsg
			// One attempt waits about as long as a dead active takes to be noticed, then retries
			// (the connection may have been cut, the active replaced).
			actx, cancel := context.WithTimeout(ctx, m.cfg.Lease+2*m.cfg.AckTimeout)
			r, err = m.request(actx, to, call)
			cancel()
			switch {
			case err == nil && !r.NotActive:
				if reply != nil {
					return reply(r)
				}
				return r.Err
			case err == nil: // that member is not (or no longer) the active: read the entry again
				_, _ = c.refresh(ctx)
			case errors.Is(err, nats.ErrTimeout) && m.alive(to):
				// The active is slow, not gone: its lease lives, and the probes found it there.
				// Nobody may take over from a member whose lease is alive (an asynchronous active
				// may hold acknowledged writes its followers have not seen): the call is tried again
				// on it, with the same request id, until its lease ends or the call's deadline.
				err = fmt.Errorf("the active replica's member %s did not answer within %s", to, m.cfg.Lease+2*m.cfg.AckTimeout)
			case errors.Is(err, nats.ErrNoResponders) && m.reconnecting(to):
				// Deposing it could lose what an asynchronous active acknowledged: tried again,
				// on the link that showed it alive.
				err = fmt.Errorf("the active replica's member %s is reconnecting to NATS", to)
			case errors.Is(err, nats.ErrNoResponders) || errors.Is(err, nats.ErrTimeout):
				// The active does not answer: it is dead (or cut off).
				if rerr := m.activeLost(ctx, c, to, epoch); rerr != nil {
					if !errors.Is(rerr, directory.ErrUnavailable) {
						return rerr
					}
					err = rerr // the directory is coming back (leaders being elected): wait
				} else if !elected {
					// The entry names the active now (a new one, or one another member elected):
					// the first retry goes at once, the wait is for what comes after.
					elected = true
					continue
				}
			default:
				return fmt.Errorf("%w: %w", engine.ErrTryAgain, err)
			}
		}
		if m.fenced.Load() {
			// A member fenced while its disk is full (the embedded server's JetStream shares the
			// disk, so the lease cannot be renewed) says so at once rather than wait for an active:
			// a change is refused for lack of space, anything else is to be tried again.
			if serr := m.store.SpaceLeft(); serr != nil {
				if call.Kind <= wire.CallWrite {
					return engine.StorageError("no active replica while the disk is full", serr)
				}
				return fmt.Errorf("%w: no active replica while the disk is full: %w", engine.ErrTryAgain, serr)
			}
		}
		select {
		case <-ctx.Done():
			if err == nil {
				err = ctx.Err()
			}
			if !bounded {
				// The caller set no timeout (the C API's writes and reads have none): the service
				// could not serve the call for now.
				return fmt.Errorf("%w: no active replica answered within %s: %w", engine.ErrTryAgain, callTimeout, err)
			}
			return fmt.Errorf("%w: no active replica answered: %w", engine.ErrTimeout, err)
		case <-time.After(wait):
		}
		wait = min(2*wait, 200*time.Millisecond)
	}
}

// callCtx bounds a call that came without a deadline by callTimeout, without a timer per call: most
// calls (a write on the local active) never wait, and setting and stopping a timer is a tenth of
// such a write. The timer starts when something waits on the context (Done, Err) or derives one
// from it (Value: the context package finds the parent to cancel from through it).
type callCtx struct {
	context.Context // the caller's: no deadline
	deadline        time.Time
	once            sync.Once
	timed           context.Context
	cancel          context.CancelFunc
}

func (c *callCtx) Deadline() (time.Time, bool) { return c.deadline, true }
func (c *callCtx) Done() <-chan struct{}       { return c.start().Done() }
func (c *callCtx) Err() error                  { return c.start().Err() }
func (c *callCtx) Value(key any) any           { return c.start().Value(key) }

func (c *callCtx) start() context.Context {
	c.once.Do(func() { c.timed, c.cancel = context.WithDeadline(c.Context, c.deadline) })
	return c.timed
}

// end ends the call: the context is canceled (if anything still holds it), and no timer is left.
func (c *callCtx) end() {
	c.once.Do(func() { c.timed, c.cancel = ended, func() {} })
	c.cancel()
}

// ended is a context canceled from the start.
var ended = func() context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	return ctx
}()

// request sends a call to a member and decodes its reply: on a call link when one is idle
// (calllinks.go), else through NATS. A call that takes long has its callee watched: if the callee
// dies with the call in flight (no "no responders" then), the call ends as soon as a probe finds the
// callee's subscriptions gone, instead of at its timeout.
func (m *Member) request(ctx context.Context, to string, call *wire.CallMsg) (*wire.ReplyMsg, error) {
	data, err := m.requestRaw(ctx, to, "call", call)
	if err != nil {
		return nil, err
	}
	return wire.DecodeReplyMsg(data)
}

// requestRaw sends a call to subject what of member to and returns the reply undecoded, watching
// the callee as request does.
func (m *Member) requestRaw(ctx context.Context, to, what string, call *wire.CallMsg) ([]byte, error) {
	if dl, ok := ctx.Deadline(); ok {
		call.Timeout = time.Until(dl)
	}
	rctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	watch := time.AfterFunc(peerProbe, func() { m.watchPeer(rctx, to, cancel) })
	defer watch.Stop()
	frame := call.Encode(nil)
	var (
		data []byte
		err  error
		sent bool
	)
	if what == "call" && onCallLink(call) {
		var broke bool
		data, sent, broke, err = m.callOnLink(rctx, to, call, frame)
		if broke && watch.Stop() {
			// The link broke under the call: the callee may have died, and the call sent again
			// through NATS below may reach its subscriptions before the server has seen its
			// connection close too (and be lost). Probe it soon rather than a whole peerProbe
			// after the call began.
			watch.Reset(probeAfterBreak)
		}
	}
	if sent {
		m.callsOnLinks.Add(1)
	} else {
		if what == "call" {
			m.callsOnNATS.Add(1)
		}
		var msg *nats.Msg
		if msg, err = m.nc.RequestWithContext(rctx, m.subject(to, what), frame); err == nil {
			data = msg.Data
		}
	}
	if err != nil {
		switch {
		case errors.Is(context.Cause(rctx), errPeerGone):
			err = nats.ErrNoResponders
		case errors.Is(err, context.DeadlineExceeded):
			err = nats.ErrTimeout
		}
		return nil, err
	}
	return data, nil
}

// reconnecting reports whether member to, which NATS says has no subscriptions ("no responders"),
// is alive all the same: its lease lives and its process answers on a link. Its NATS connection
// dropped (a restart of the server, a slow consumer) and it is reconnecting: it is not dead, and
// nobody may take over from it.
func (m *Member) reconnecting(to string) bool { return m.alive(to) && m.links.reachable(to) }

// CallsSent counts the calls this member forwarded to other members, on call links and through NATS.
func (m *Member) CallsSent() (onLinks, onNATS uint64) {
	return m.callsOnLinks.Load(), m.callsOnNATS.Load()
}

// peerProbe is how often a member waiting for a slow call checks that the callee still exists.
const peerProbe = 20 * time.Millisecond

// probeAfterBreak is when the callee of a call whose link broke is first probed: by then the NATS
// server has most likely seen the connection of a callee that died close too (it closes with the
// link), and the probe gets "no responders" at once.
const probeAfterBreak = 2 * time.Millisecond

var errPeerGone = errors.New("the member went away during the call")

// watchPeer probes member to until ctx ends, and cancels with errPeerGone when it has no
// subscriptions any more or its lease has ended: a member cut off the network keeps its
// subscriptions on the NATS server until the server finds the connection dead, seconds after its
// lease ended, and a call to it ends as one to a member that died. While a link to it is up (this
// call's own, on the link, among them), having no subscriptions is not death: a process that dies
// closes its links, and one whose NATS connection dropped (a restart of the server, a slow
// consumer) is reconnecting; its lease alone decides then, so a live active is not deposed for a
// reconnect.
func (m *Member) watchPeer(ctx context.Context, to string, cancel context.CancelCauseFunc) {
	probe := (&wire.PositionMsg{}).Encode(nil)
	for ctx.Err() == nil {
		if !m.alive(to) {
			cancel(errPeerGone)
			return
		}
		_, err := m.nc.Request(m.subject(to, "pos"), probe, peerProbe)
		wait := peerProbe
		switch {
		case errors.Is(err, nats.ErrNoResponders) && !m.links.linkedTo(to):
			cancel(errPeerGone)
			return
		case errors.Is(err, nats.ErrNoResponders):
			// Reconnecting, or dead with the link's end not yet read: the next probe comes soon
			// after the link breaks.
			wait = probeAfterBreak
		case errors.Is(err, nats.ErrTimeout):
			// No answer within peerProbe: that was the wait. A probe sent to a callee that died
			// just before the server saw it go is lost; the next one is not.
			continue
		}
		select {
		case <-ctx.Done():
		case <-time.After(wait):
		}
	}
}
