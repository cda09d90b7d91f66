package replication

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/require"

	"github.com/clckpt/libclckpt/engine"
	"github.com/clckpt/libclckpt/engine/clock"
	"github.com/clckpt/libclckpt/replication/directory"
)

// A destroy removes the checkpoint's entry, then its name. One that stops in between (its member
// finalized or killed) leaves the name pointing to no entry. Opening, creating and deleting that
// name still work: the name is taken away as the destroy would have.
func TestANameLeftByAnInterruptedDestroyIsUsableAgain(t *testing.T) {
	cl := newCluster(t)
	m := cl.join("m", directory.KindServer)
	e := closedWithASection(t, m, "half-gone", attrs(engine.WriteAllReplicas))

	// The first half of a destroy: the entry goes, the name stays.
	nc, err := nats.Connect(cl.server.ClientURL())
	require.NoError(t, err)
	defer nc.Close()
	js, err := jetstream.New(nc)
	require.NoError(t, err)
	kv, err := js.KeyValue(bg, m.cfg.Subject+"-dir")
	require.NoError(t, err)
	require.NoError(t, kv.Purge(bg, "c."+strconv.FormatUint(e.ID, 16)))

	ctx, cancel := context.WithTimeout(bg, 20*time.Second)
	defer cancel()
	_, err = m.Open(ctx, "half-gone", nil, engine.OpenRead)
	require.ErrorIs(t, err, engine.ErrNotExist)

	h, err := m.Open(ctx, "half-gone", attrs(engine.WriteAllReplicas), rwc)
	require.NoError(t, err, "a new checkpoint of that name")
	st, err := h.Status(ctx)
	require.NoError(t, err)
	require.Zero(t, st.NumberOfSections, "the new checkpoint has nothing of the old one")
	require.NoError(t, h.Close())
	require.NoError(t, m.Delete(ctx, "half-gone"))
	_, err = m.Open(ctx, "half-gone", nil, engine.OpenRead)
	require.ErrorIs(t, err, engine.ErrNotExist)
}

// A checkpoint whose retention ran out is gone for every open, also before the timer of a member
// destroys it (a member that restarts arms its timers for deadlines that passed while it was down,
// and a program's first open may come first). Here the timers run on a fake clock that stays put.
func TestAnOpenAfterTheRetentionRanOutFindsNothing(t *testing.T) {
	cl := newCluster(t)
	fake := clock.NewFake(time.Now())
	m, err := Join(bg, Options{Config: cl.config("m"), Kind: directory.KindServer, Logger: testLogger(t), DataClock: fake})
	require.NoError(t, err)
	cl.members["m"] = m
	a := attrs(engine.WriteAllReplicas)
	a.Retention = time.Minute
	e := closedWithASection(t, m, "expired", a)
	require.NotZero(t, e.Deadline, "the close started the retention")

	// The deadline passed (as while every member was down); no timer ran.
	_, err = m.dir.Update(bg, e.ID, func(e *directory.Entry) error {
		e.Deadline = fake.Now().Add(-time.Second).UnixNano()
		return nil
	})
	require.NoError(t, err)

	_, err = m.Open(bg, "expired", nil, engine.OpenRead)
	require.ErrorIs(t, err, engine.ErrNotExist)
	h, err := m.Open(bg, "expired", a, rwc)
	require.NoError(t, err, "a new checkpoint of that name")
	st, err := h.Status(bg)
	require.NoError(t, err)
	require.Zero(t, st.NumberOfSections)
	require.NoError(t, h.Close())
}

// closedWithASection creates a checkpoint with one section, closes it and returns its entry.
func closedWithASection(t *testing.T, m *Member, name string, a *engine.Attributes) *directory.Entry {
	t.Helper()
	h, err := m.Open(bg, name, a, rwc)
	require.NoError(t, err)
	_, err = h.CreateSection(bg, []byte("s"), engine.Never, []byte("old"))
	require.NoError(t, err)
	require.NoError(t, h.Close())
	e, err := m.Entry(bg, name)
	require.NoError(t, err)
	return e
}
