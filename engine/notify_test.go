package engine

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func distributed(e *env) Checkpoint {
	a := attrs(8)
	a.Flags = Distributed | WriteAllReplicas
	return e.create("hot", a)
}

// collect subscribes h and returns the channel its updates arrive on.
func collect(t *testing.T, h Checkpoint) chan Update {
	ch := make(chan Update, 100)
	require.NoError(t, h.Subscribe(func(u Update) { ch <- u }))
	return ch
}

func next(t *testing.T, ch chan Update) Update {
	t.Helper()
	select {
	case u := <-ch:
		return u
	case <-time.After(10 * time.Second):
		t.Fatal("no update arrived")
	}
	return Update{}
}

func none(t *testing.T, ch chan Update) {
	t.Helper()
	select {
	case u := <-ch:
		t.Fatalf("unexpected update %+v", u)
	case <-time.After(20 * time.Millisecond):
	}
}

func TestSubscribeNeedsADistributedCheckpoint(t *testing.T) {
	e := newEnv(t)
	h := e.create("c", attrs(2))
	require.ErrorIs(t, h.Subscribe(func(Update) {}), ErrNotPermitted)
}

func TestUpdatesReachEveryOtherSubscribedHandleWithTheirData(t *testing.T) {
	forEachKind(t, func(t *testing.T, e *env) {
		writer := distributed(e)
		writerCh := collect(t, writer)
		other, err := e.Open(bg, "hot", nil, OpenRead)
		require.NoError(t, err)
		otherCh := collect(t, other)
		silent, err := e.Open(bg, "hot", nil, OpenRead) // open but not subscribed
		require.NoError(t, err)
		_ = silent

		_, err = writer.CreateSection(bg, sec("s"), Never, []byte("initial"))
		require.NoError(t, err)
		data := []byte("overwritten")
		require.NoError(t, writer.Overwrite(bg, sec("s"), data))
		copy(data, "XXXXXXXXXXX") // the update holds its own copy
		u := next(t, otherCh)
		require.Equal(t, Update{Name: "hot", Elements: []UpdateElement{{SectionID: sec("s"), Data: []byte("overwritten")}}}, u)

		err = writer.Write(bg, []WriteElement{
			{SectionID: sec("s"), Offset: 2, Data: []byte("ab")},
			{SectionID: sec("s"), Offset: 20, Data: []byte("c")},
			{SectionID: sec("missing"), Data: []byte("d")},
		})
		require.ErrorIs(t, err, ErrNotExist)
		u = next(t, otherCh)
		require.Equal(t, []UpdateElement{
			{SectionID: sec("s"), Offset: 2, Data: []byte("ab")},
			{SectionID: sec("s"), Offset: 20, Data: []byte("c")},
		}, u.Elements, "only the elements that were written")

		require.NoError(t, writer.DeleteSection(bg, sec("s")))
		u = next(t, otherCh)
		require.Equal(t, []UpdateElement{{SectionID: sec("s")}}, u.Elements)

		none(t, writerCh) // the writing handle never hears about its own writes
		none(t, otherCh)

		// The other handle writes: now the first one hears about it.
		_, err = writer.CreateSection(bg, sec("t"), Never, nil)
		require.NoError(t, err)
		w2, err := e.Open(bg, "hot", nil, OpenWrite)
		require.NoError(t, err)
		require.NoError(t, w2.Overwrite(bg, sec("t"), []byte("from w2")))
		require.Equal(t, "from w2", string(next(t, writerCh).Elements[0].Data))
		require.Equal(t, "from w2", string(next(t, otherCh).Elements[0].Data))
	})
}

func TestExpiryNotifiesEverySubscriber(t *testing.T) {
	e := newEnv(t)
	h := distributed(e)
	ch := collect(t, h)
	_, err := h.CreateSection(bg, sec("s"), t0.Add(time.Second), []byte("x"))
	require.NoError(t, err)
	e.clock.Advance(time.Second)
	require.Equal(t, []UpdateElement{{SectionID: sec("s")}}, next(t, ch).Elements)
}

func TestUpdatesArriveInOrder(t *testing.T) {
	e := newEnv(t)
	writer := distributed(e)
	reader, err := e.Open(bg, "hot", nil, OpenRead)
	require.NoError(t, err)
	ch := collect(t, reader)
	_, err = writer.CreateSection(bg, sec("s"), Never, nil)
	require.NoError(t, err)
	for i := 0; i < 50; i++ {
		require.NoError(t, writer.Overwrite(bg, sec("s"), []byte(fmt.Sprint(i))))
	}
	for i := 0; i < 50; i++ {
		require.Equal(t, fmt.Sprint(i), string(next(t, ch).Elements[0].Data))
	}
}

func TestSubscribeAgainReplacesAndNilCancels(t *testing.T) {
	e := newEnv(t)
	writer := distributed(e)
	_, err := writer.CreateSection(bg, sec("s"), Never, nil)
	require.NoError(t, err)
	reader, err := e.Open(bg, "hot", nil, OpenRead)
	require.NoError(t, err)
	first := collect(t, reader)
	second := collect(t, reader)
	require.NoError(t, writer.Overwrite(bg, sec("s"), []byte("1")))
	next(t, second)
	none(t, first)
	require.NoError(t, reader.Subscribe(nil))
	require.NoError(t, writer.Overwrite(bg, sec("s"), []byte("2")))
	none(t, second)
}

func TestClosedHandleGetsNoMoreUpdates(t *testing.T) {
	e := newEnv(t)
	writer := distributed(e)
	_, err := writer.CreateSection(bg, sec("s"), Never, nil)
	require.NoError(t, err)
	reader, err := e.Open(bg, "hot", nil, OpenRead)
	require.NoError(t, err)
	ch := collect(t, reader)
	require.NoError(t, reader.Close())
	require.NoError(t, writer.Overwrite(bg, sec("s"), []byte("1")))
	none(t, ch)
	require.ErrorIs(t, reader.Subscribe(func(Update) {}), ErrBadHandle)
}

func TestFollowReceivesCreationsAndChangesOfOtherHandlesOnAnyCheckpoint(t *testing.T) {
	forEachKind(t, func(t *testing.T, e *env) {
		writer := e.create("plain", attrs(8)) // not Distributed
		follower, err := e.Open(bg, "plain", nil, OpenRead)
		require.NoError(t, err)
		ch := make(chan Update, 100)
		require.NoError(t, follower.Follow(func(u Update) { ch <- u }))
		writerCh := make(chan Update, 100)
		require.NoError(t, writer.Follow(func(u Update) { writerCh <- u }))

		_, err = writer.CreateSection(bg, []byte("s"), Never, []byte("ab"))
		require.NoError(t, err)
		u := next(t, ch)
		require.True(t, u.Created)
		require.Equal(t, []UpdateElement{{SectionID: []byte("s"), Data: []byte("ab")}}, u.Elements)
		require.NoError(t, writer.Write(bg, []WriteElement{{SectionID: []byte("s"), Offset: 1, Data: []byte("xyz")}}))
		u = next(t, ch)
		require.False(t, u.Created)
		require.Equal(t, []UpdateElement{{SectionID: []byte("s"), Offset: 1, Data: []byte("xyz")}}, u.Elements)
		require.NoError(t, writer.DeleteSection(bg, []byte("s")))
		u = next(t, ch)
		require.Equal(t, []UpdateElement{{SectionID: []byte("s")}}, u.Elements)
		none(t, writerCh) // the writer hears nothing of its own changes

		require.NoError(t, follower.Follow(nil))
		_, err = writer.CreateSection(bg, []byte("t"), Never, nil)
		require.NoError(t, err)
		none(t, ch)
	})
}

func TestSubscribeReceivesNoCreations(t *testing.T) {
	e := newEnv(t)
	writer := distributed(e)
	other, err := e.Open(bg, "hot", nil, OpenRead)
	require.NoError(t, err)
	ch := collect(t, other)
	_, err = writer.CreateSection(bg, []byte("s"), Never, []byte("ab"))
	require.NoError(t, err)
	require.NoError(t, writer.Overwrite(bg, []byte("s"), []byte("cd")))
	u := next(t, ch)
	require.False(t, u.Created)
	require.Equal(t, []byte("cd"), u.Elements[0].Data)
}
