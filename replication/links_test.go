package replication

import (
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/clckpt/libclckpt/engine"
	"github.com/clckpt/libclckpt/metrics"
	"github.com/clckpt/libclckpt/replication/directory"
	"github.com/clckpt/libclckpt/replication/oplink"
	"github.com/clckpt/libclckpt/replication/wire"
)

// writeAll overwrites section s n times through h, starting at from, and checks every replica.
func writeAll(t *testing.T, cl *cluster, h engine.Checkpoint, from, n int) {
	t.Helper()
	for i := from; i < from+n; i++ {
		require.NoError(t, h.Overwrite(bg, []byte("s"), []byte(fmt.Sprint(i))))
	}
	want := replicaContent(t, cl.members["s1"], "ck")
	require.Contains(t, want, fmt.Sprintf("s=%x;", fmt.Sprint(from+n-1)))
	// WR_ALL_REPLICAS: the other server had it when the write returned.
	require.Equal(t, want, replicaContent(t, cl.members["s2"], "ck"))
}

// serversAndWriter is serversAndApp with section "s" created in "ck".
func serversAndWriter(t *testing.T) (*cluster, *Member, engine.Checkpoint, uint64) {
	cl, app, h, id := serversAndApp(t)
	_, err := h.CreateSection(bg, []byte("s"), engine.Never, []byte("start"))
	require.NoError(t, err)
	return cl, app, h, id
}

func TestOpsTakeTheDirectLinkAndFallBackToNATS(t *testing.T) {
	cl, app, h, _ := serversAndWriter(t)
	active, follower := cl.members["s1"], cl.members["s2"]
	if cl.activeOf(app, "ck") == "s2" {
		active, follower = follower, active
	}

	// The first ops go through NATS while the link is dialed; then they take the link.
	require.Eventually(t, func() bool {
		writeAll(t, cl, h, 0, 10)
		return active.opsOnLinks.Load() > 0
	}, 10*time.Second, 10*time.Millisecond, "ops never took the link")
	onLinks, onNATS := active.opsOnLinks.Load(), active.opsOnNATS.Load()
	writeAll(t, cl, h, 100, 200)
	require.Equal(t, onNATS, active.opsOnNATS.Load(), "with the link up, no op goes through NATS")
	require.GreaterOrEqual(t, active.opsOnLinks.Load(), onLinks+200)

	// The follower stops taking links (its listener closes every link): the writes go on through
	// NATS, and every replica stays identical.
	follower.linkLn.Close()
	writeAll(t, cl, h, 1000, 200)
	require.Greater(t, active.opsOnNATS.Load(), onNATS, "the ops went through NATS")
}

// TestWithLinksOffOpsGoThroughNATS: servers that take no links get their ops, copies and the calls
// forwarded to them through NATS.
func TestWithLinksOffOpsGoThroughNATS(t *testing.T) {
	cl := newCluster(t)
	for _, name := range []string{"s1", "s2"} {
		c := cl.config(name)
		c.Link = "off"
		m, err := Join(bg, Options{Config: c, Kind: directory.KindServer, Logger: testLogger(t).With("m", name)})
		require.NoError(t, err)
		cl.members[name] = m
		require.Empty(t, m.info().LinkAddr, "no link address published")
	}
	app := cl.join("app", directory.KindApplication)
	h, err := app.Open(bg, "ck", attrs(engine.WriteAllReplicas), rwc)
	require.NoError(t, err)
	_, err = h.CreateSection(bg, []byte("s"), engine.Never, []byte("start"))
	require.NoError(t, err)
	writeAll(t, cl, h, 0, 100)
	var onLinks, onNATS uint64
	for _, m := range cl.members {
		onLinks += m.opsOnLinks.Load()
		onNATS += m.opsOnNATS.Load()
	}
	require.Zero(t, onLinks)
	require.GreaterOrEqual(t, onNATS, uint64(100))
	var copies [2]uint64
	for _, m := range cl.members {
		copies[0] += m.metrics.CopiesOn(metrics.PathLink)
		copies[1] += m.metrics.CopiesOn(metrics.PathNATS)
	}
	require.Zero(t, copies[0])
	require.NotZero(t, copies[1], "the first copy of the replica went through NATS")
	calls, callsOnNATS := app.CallsSent()
	require.Zero(t, calls)
	require.GreaterOrEqual(t, callsOnNATS, uint64(101))
}

// TestACopyTakesALinkOfItsOwn: a replica copy goes on a link dialed for it, in pieces acknowledged
// one by one, while writes to other checkpoints go on; the copy is byte-identical.
func TestACopyTakesALinkOfItsOwn(t *testing.T) {
	cl := newCluster(t)
	for _, name := range []string{"s1", "s2"} {
		c := cl.config(name)
		c.TailBytes = 64 << 10 // a follower that missed more than this gets a copy
		m, err := Join(bg, Options{Config: c, Kind: directory.KindServer, Logger: testLogger(t).With("m", name)})
		require.NoError(t, err)
		cl.members[name] = m
	}
	require.Eventually(t, func() bool { return cl.members["s1"].alive("s2") && cl.members["s2"].alive("s1") },
		10*time.Second, 10*time.Millisecond)
	app := cl.join("app", directory.KindApplication)
	big := attrs(engine.WriteAllReplicas)
	big.MaxSections = 64
	h, err := app.Open(bg, "ck", big, rwc)
	require.NoError(t, err)
	other, err := app.Open(bg, "other", attrs(engine.WriteAllReplicas), rwc)
	require.NoError(t, err)
	_, err = other.CreateSection(bg, []byte("s"), engine.Never, []byte("0"))
	require.NoError(t, err)
	active := cl.activeOf(app, "ck")
	follower := "s1"
	if active == "s1" {
		follower = "s2"
	}
	a := cl.members[active]
	require.Eventually(t, func() bool { return a.metrics.CopiesOn(metrics.PathLink) > 0 }, 10*time.Second, 10*time.Millisecond,
		"the first (empty) copy went on a link")
	require.Zero(t, a.metrics.CopiesOn(metrics.PathNATS), "and none through NATS")

	// The follower goes away; 12 MiB of sections are written (far more than the tail); it comes back.
	cl.crash(follower)
	data := make([]byte, 256<<10)
	for i := range 48 {
		data[0] = byte(i)
		_, err := h.CreateSection(bg, []byte(fmt.Sprintf("big%02d", i)), engine.Never, data)
		require.NoError(t, err)
	}
	before := a.metrics.CopiesOn(metrics.PathLink)
	c := cl.config(follower)
	c.TailBytes = 64 << 10
	m, err := Join(bg, Options{Config: c, Kind: directory.KindServer, Logger: testLogger(t).With("m", follower)})
	require.NoError(t, err)
	cl.members[follower] = m
	for i := 1; i <= 50; i++ { // writes to another checkpoint while the copy goes
		require.NoError(t, other.Overwrite(bg, []byte("s"), []byte(fmt.Sprint(i))))
	}
	// The copy is done once the follower's replica is at the active's position (cheap to ask, unlike
	// a dump of 12 MiB, which would slow the copy it waits for); then the contents must be equal.
	// The deadlines are generous: on a loaded host the copy takes tens of seconds.
	position := func(m *Member) (epoch, lsn uint64, ok bool) {
		for _, r := range m.reps.All() {
			if r.Name() == "ck" {
				epoch, lsn = r.Position()
				return epoch, lsn, true
			}
		}
		return 0, 0, false
	}
	require.Eventually(t, func() bool {
		fe, fl, ok := position(cl.members[follower])
		ae, al, _ := position(a)
		return ok && fe == ae && fl == al
	}, 3*time.Minute, 50*time.Millisecond, "the copy arrived")
	require.Eventually(t, func() bool {
		return replicaContent(t, cl.members[follower], "ck") == replicaContent(t, a, "ck")
	}, time.Minute, 500*time.Millisecond, "the copy arrived whole")
	require.Greater(t, a.metrics.CopiesOn(metrics.PathLink), before, "the copy went on a link")
	require.Zero(t, a.metrics.CopiesOn(metrics.PathNATS))
	require.Equal(t, replicaContent(t, a, "other"), replicaContent(t, cl.members[follower], "other"))
}

// TestSmallCopiesReuseTheirLinks: the first copies of new checkpoints (a few bytes each) go on
// links dialed for copies, which are kept for the next copies to the same member rather than dialed
// each time; a member that restarted gets links dialed to it anew.
func TestSmallCopiesReuseTheirLinks(t *testing.T) {
	cl := newCluster(t)
	cl.join("s1", directory.KindServer)
	cl.join("s2", directory.KindServer)
	app := cl.join("app", directory.KindApplication)
	copies := func() (n uint64) {
		for _, m := range cl.members {
			n += m.metrics.CopiesOn(metrics.PathLink)
		}
		return n
	}
	dials := func() (n uint64) {
		for _, m := range cl.members {
			n += m.copyDials.Load()
		}
		return n
	}
	create := func(prefix string, n int) {
		before := copies()
		for i := range n {
			h, err := app.Open(bg, fmt.Sprintf("%s%d", prefix, i), attrs(engine.WriteAllReplicas), rwc)
			require.NoError(t, err)
			_, err = h.CreateSection(bg, []byte("s"), engine.Never, []byte("x"))
			require.NoError(t, err)
		}
		require.Eventually(t, func() bool { return copies() >= before+uint64(n) }, 30*time.Second, 10*time.Millisecond,
			"every new checkpoint's replica copied on a link")
	}
	create("a", 12)
	// Each server copies to the other: with the creations one after another, one link each way,
	// two at most when a copy starts before the previous one put its link back.
	require.LessOrEqual(t, dials(), uint64(4), "copies of new checkpoints dialed %d links", dials())
	for _, m := range cl.members {
		require.Zero(t, m.metrics.CopiesOn(metrics.PathNATS))
	}

	// s2 restarts: the idle links to its old incarnation are closed, and copies to the new one (the
	// catch-up of the replicas it holds, then new checkpoints whose active is s1) go on links
	// dialed to it, none of them down.
	dialed := cl.members["s1"].copyDials.Load()
	cl.crash("s2")
	cl.waitDead("s2")
	cl.join("s2", directory.KindServer)
	for i := 0; ; i++ { // until s1 made a copy to the new s2: a checkpoint whose active is s1
		create(fmt.Sprintf("b%d-", i), 1)
		if cl.activeOf(app, fmt.Sprintf("b%d-0", i)) == "s1" {
			break
		}
		require.Less(t, i, 50, "no checkpoint placed its active on s1")
	}
	// (Copies that start before s1 has read the new s2's link address go through NATS.)
	require.Greater(t, cl.members["s1"].copyDials.Load(), dialed, "s1 dialed the new s2")
	cl.members["s1"].links.mu.Lock()
	for _, l := range cl.members["s1"].links.peers["s2"].copies {
		require.False(t, isDown(l))
	}
	require.LessOrEqual(t, len(cl.members["s1"].links.peers["s2"].copies), maxIdleCopyLinks)
	cl.members["s1"].links.mu.Unlock()
}

// TestAnOutsiderCannotWriteThroughALink: the link address is no secret, but without the key from the
// directory a dialer is refused, and frames sent without the handshake change nothing.
func TestAnOutsiderCannotWriteThroughALink(t *testing.T) {
	cl, app, h, id := serversAndWriter(t)
	writeAll(t, cl, h, 0, 10)
	e, err := app.dir.Get(bg, id)
	require.NoError(t, err)
	victim := cl.members["s1"]
	if e.Active == "s1" {
		victim = cl.members["s2"]
	}
	before := replicaContent(t, victim, "ck")
	epoch, lsn := uint64(0), uint64(0)
	for _, r := range victim.reps.All() {
		if r.Name() == "ck" {
			epoch, lsn = r.Position()
		}
	}
	// The op an attacker would like applied: the next one, in the current epoch.
	forged := (&wire.OpMsg{Ckpt: id, Epoch: epoch, Op: engine.Op{LSN: lsn + 1, Kind: engine.OpOverwrite,
		Section: []byte("s"), Data: []byte("forged")}}).Encode(nil)

	addr := victim.linkAddr
	wrong := addr
	wrong.Key = hex.EncodeToString(make([]byte, 32))
	_, err = oplink.Dial(wrong, "s1", time.Second, func([]byte) {}, nil)
	require.ErrorIs(t, err, oplink.ErrRefused)

	c, err := net.Dial("tcp", addr.Addr)
	require.NoError(t, err)
	frame := binary.LittleEndian.AppendUint32(nil, uint32(len(forged)))
	_, _ = c.Write(append(frame, forged...))
	_ = c.SetReadDeadline(time.Now().Add(3 * time.Second))
	buf := make([]byte, 256)
	for {
		if _, err := c.Read(buf); err != nil {
			break // the listener closed it (bad handshake), or the deadline
		}
	}
	_ = c.Close()
	require.Equal(t, before, replicaContent(t, victim, "ck"), "nothing changed")
	require.Equal(t, "9", read(t, h, "s"))

	// A member that has the key (every member can read it) but is not the active: refused, with
	// no acknowledgement.
	acked := make(chan []byte, 1)
	l, err := oplink.Dial(addr, "app", time.Second, func(f []byte) { acked <- append([]byte(nil), f...) }, nil)
	require.NoError(t, err)
	require.NoError(t, l.Send(forged, time.Second))
	reply, err := l.Next(10 * time.Second)
	require.NoError(t, err)
	require.NotNil(t, reply, "the frame was handled")
	require.Empty(t, reply, "and answered with nothing")
	l.Close()
	require.Equal(t, before, replicaContent(t, victim, "ck"), "nothing changed")

	// The same frame from the active's name is applied: the refusals above are what kept it out.
	l, err = oplink.Dial(addr, e.Active, time.Second, func(f []byte) { acked <- append([]byte(nil), f...) }, nil)
	require.NoError(t, err)
	defer l.Close()
	require.NoError(t, l.Send(forged, time.Second))
	l.Nudge()
	ack, err := wire.DecodeAckMsg(<-acked)
	require.NoError(t, err)
	require.Equal(t, wire.AckOK, ack.Status)
	require.Contains(t, replicaContent(t, victim, "ck"), fmt.Sprintf("s=%x;", "forged"))
}

// TestAnAcknowledgementOnALinkSpeaksForItsPeerOnly: an acknowledgement read on the link to one member
// that says it is from another is dropped; the same one on the link to the member it names counts.
func TestAnAcknowledgementOnALinkSpeaksForItsPeerOnly(t *testing.T) {
	cl, app, h, id := serversAndWriter(t)
	writeAll(t, cl, h, 0, 10)
	e, err := app.dir.Get(bg, id)
	require.NoError(t, err)
	active := cl.members[e.Active]
	follower := "s1"
	if e.Active == "s1" {
		follower = "s2"
	}
	c := active.ckptFor(id)
	acked := func() uint64 {
		a := c.handingOver()
		require.NotNil(t, a)
		a.mu.Lock()
		defer a.mu.Unlock()
		return a.streams[follower].acked
	}
	before := acked()
	forged := (&wire.AckMsg{From: follower, Ckpt: id, Epoch: e.Epoch, LSN: before + 100, Status: wire.AckOK}).Encode(nil)
	active.onAckData(forged, "app")
	require.Equal(t, before, acked(), "an acknowledgement for the follower, on another member's link, is dropped")
	active.onAckData(forged, follower)
	require.Equal(t, before+100, acked(), "on the follower's own link it counts")
}
