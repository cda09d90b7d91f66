package wire

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/clckpt/libclckpt/engine"
	"github.com/stretchr/testify/require"
)

func sampleOp() OpMsg {
	return OpMsg{Ckpt: 7, Epoch: 3, Op: engine.Op{LSN: 42, Kind: engine.OpWrite, Origin: "a/1", Request: 0xfeedface12345678, LastUpdate: 99,
		Writes: []engine.WriteElement{{SectionID: []byte("s"), Offset: 4, Data: []byte("xy")}, {SectionID: []byte("t"), Data: []byte("z")}}}}
}

func TestRoundTrips(t *testing.T) {
	op := sampleOp()
	got, err := DecodeOpMsg(op.Encode(nil))
	require.NoError(t, err)
	require.Equal(t, &op, got)

	create := OpMsg{Ckpt: 1, Epoch: 1, Op: engine.Op{LSN: 1, Kind: engine.OpCreateSection, Section: []byte("generatedSection0\x00"),
		Expiration: -5, Gen: 1, Data: []byte("init")}}
	got, err = DecodeOpMsg(create.Encode([]byte("prefix")[:0]))
	require.NoError(t, err)
	require.Equal(t, &create, got)

	ack := AckMsg{From: "b", Ckpt: 1, Epoch: 2, LSN: 3, Status: AckGap, Text: "behind"}
	gotAck, err := DecodeAckMsg(ack.Encode(nil))
	require.NoError(t, err)
	require.Equal(t, &ack, gotAck)

	pos := PositionMsg{Ckpt: 9}
	gotPos, err := DecodePositionMsg(pos.Encode(nil))
	require.NoError(t, err)
	require.Equal(t, &pos, gotPos)

	snap := SnapshotMsg{Ckpt: 4, Epoch: 2, Part: SnapSections,
		Header:   engine.SnapshotHeader{ID: 4, Name: "c", Attrs: engine.Attributes{Flags: engine.Collocated, MaxSections: 3, Retention: -1}, Epoch: 2, LSN: 10, Gen: 1},
		Sections: []engine.SnapshotSection{{ID: []byte("a"), Expiration: 5, LastUpdate: 6, State: engine.SectionValid, LSN: 9, Data: []byte("data")}}}
	gotSnap, err := DecodeSnapshotMsg(snap.Encode(nil))
	require.NoError(t, err)
	require.Equal(t, &snap, gotSnap)
	// The first message carries the requests the replica remembers; the others do not repeat them.
	first := SnapshotMsg{Ckpt: 4, Epoch: 2, Part: SnapHeader, Header: snap.Header}
	first.Header.Requests = []engine.SnapshotRequest{{ID: 1 << 40, LSN: 9, Section: []byte("a")}, {ID: 2, LSN: 10, Written: 2}}
	gotFirst, err := DecodeSnapshotMsg(first.Encode(nil))
	require.NoError(t, err)
	require.Equal(t, &first, gotFirst)
	sections := first
	sections.Part = SnapSections
	gotSections, err := DecodeSnapshotMsg(sections.Encode(nil))
	require.NoError(t, err)
	require.Empty(t, gotSections.Header.Requests)

	// The smallest items: a request with no section, a section with an empty id and no data.
	tiny := SnapshotMsg{Ckpt: 4, Part: SnapHeader, Header: engine.SnapshotHeader{Requests: []engine.SnapshotRequest{{ID: 1}, {ID: 2}}},
		Sections: []engine.SnapshotSection{{ID: []byte{}, State: engine.SectionValid}, {ID: []byte{}, State: engine.SectionValid}}}
	gotTiny, err := DecodeSnapshotMsg(tiny.Encode(nil))
	require.NoError(t, err)
	require.Len(t, gotTiny.Header.Requests, 2)
	require.Len(t, gotTiny.Sections, 2)

	call := CallMsg{Kind: CallRead, Ckpt: 1, Epoch: 2, Origin: "m/3", Request: 1 << 63, Reads: []ReadReq{{Section: []byte("s"), Offset: 1, Size: 10}, {Whole: true}},
		Writes: []engine.WriteElement{{SectionID: []byte("w"), Data: []byte("d")}}, Filter: 5, At: 77, Timeout: time.Second}
	gotCall, err := DecodeCallMsg(call.Encode(nil))
	require.NoError(t, err)
	require.Equal(t, &call, gotCall)

	reply := ReplyMsg{Section: []byte("id"), Reads: [][]byte{[]byte("abc"), nil}, Status: engine.Status{NumberOfSections: 2, MemoryUsed: 9},
		IDs: [][]byte{[]byte("a"), []byte("b")}, Found: true, Expiration: 1, LastUpdate: 2, Size: 3, State: 1, LSN: 4}
	gotReply, err := DecodeReplyMsg(reply.Encode(nil))
	require.NoError(t, err)
	require.Equal(t, &reply, gotReply)
}

func TestSnapshotBatchEncodesLikeSnapshotMsg(t *testing.T) {
	h := engine.SnapshotHeader{ID: 4, Name: "c", Attrs: engine.Attributes{MaxSections: 3}, Epoch: 2, LSN: 10, Gen: 1}
	secs := []engine.SnapshotSection{
		{ID: []byte("a"), Expiration: 5, LastUpdate: 6, State: engine.SectionValid, LSN: 9, Data: []byte("data")},
		{ID: []byte("b"), State: engine.SectionValid, Data: []byte("more")},
	}
	b := NewSnapshotBatch(4, 2, &h, 1024)
	for i := range secs {
		b.Add(&secs[i])
	}
	require.Equal(t, 2, b.Len())
	want := (&SnapshotMsg{Ckpt: 4, Epoch: 2, Part: SnapSections, Header: h, Sections: secs}).Encode(nil)
	require.Equal(t, want, b.Bytes())

	// The next message of the copy reuses the buffer and carries only its own sections.
	first := &b.Bytes()[0]
	b.Reset()
	require.Equal(t, 0, b.Len())
	b.Add(&secs[1])
	want = (&SnapshotMsg{Ckpt: 4, Epoch: 2, Part: SnapSections, Header: h, Sections: secs[1:]}).Encode(nil)
	require.Equal(t, want, b.Bytes())
	require.Same(t, first, &b.Bytes()[0], "the buffer is reused")
}

func TestErrorsKeepTheirSentinelAndElement(t *testing.T) {
	for _, sentinel := range engine.AllErrors {
		err := &engine.ElementError{Index: 2, Err: fmt.Errorf("%w: details", sentinel)}
		r, derr := DecodeReplyMsg((&ReplyMsg{Err: err}).Encode(nil))
		require.NoError(t, derr)
		require.ErrorIs(t, r.Err, sentinel)
		var ee *engine.ElementError
		require.ErrorAs(t, r.Err, &ee)
		require.Equal(t, 2, ee.Index)
		require.Equal(t, err.Error(), r.Err.Error(), "the element's index is said once")
		wrapped := fmt.Errorf("write: %w", err)
		r, derr = DecodeReplyMsg((&ReplyMsg{Err: wrapped}).Encode(nil))
		require.NoError(t, derr)
		require.Equal(t, "element 2: write: "+sentinel.Error()+": details", r.Err.Error())
	}
	r, err := DecodeReplyMsg((&ReplyMsg{Err: errors.New("odd")}).Encode(nil))
	require.NoError(t, err)
	require.Equal(t, "odd", r.Err.Error())
	for _, s := range engine.AllErrors {
		require.False(t, errors.Is(r.Err, s))
	}
}

func TestMalformedMessagesAreErrors(t *testing.T) {
	good := sampleOp()
	b := good.Encode(nil)
	for name, msg := range map[string][]byte{
		"empty":      nil,
		"version":    append([]byte{9}, b[1:]...),
		"kind":       append([]byte{Version, byte(KindAck)}, b[2:]...),
		"truncated":  b[:len(b)-1],
		"trailing":   append(append([]byte(nil), b...), 0),
		"huge count": append(b[:len(b)-3:len(b)-3], 0xff, 0xff, 0xff),
	} {
		_, err := DecodeOpMsg(msg)
		require.ErrorIs(t, err, ErrMalformed, name)
	}
}

// Fuzz targets: every decoder of bytes from the network returns an error or a message, never
// panics, and a message it accepts encodes back to the same bytes.

func FuzzDecodeOpMsg(f *testing.F) {
	op := sampleOp()
	f.Add(op.Encode(nil))
	f.Fuzz(func(t *testing.T, b []byte) {
		if m, err := DecodeOpMsg(b); err == nil {
			require.Equal(t, b, m.Encode(nil))
		}
	})
}

func FuzzDecodeAckMsg(f *testing.F) {
	f.Add((&AckMsg{Ckpt: 1, Text: "x"}).Encode(nil))
	f.Fuzz(func(t *testing.T, b []byte) {
		if m, err := DecodeAckMsg(b); err == nil {
			require.Equal(t, b, m.Encode(nil))
		}
	})
}

func FuzzDecodePositionMsg(f *testing.F) {
	f.Add((&PositionMsg{Ckpt: 1}).Encode(nil))
	f.Fuzz(func(t *testing.T, b []byte) {
		if m, err := DecodePositionMsg(b); err == nil {
			require.Equal(t, b, m.Encode(nil))
		}
	})
}

func FuzzDecodeSnapshotMsg(f *testing.F) {
	f.Add((&SnapshotMsg{Part: SnapSections, Sections: []engine.SnapshotSection{{ID: []byte("a"), State: 1}}}).Encode(nil))
	f.Fuzz(func(t *testing.T, b []byte) {
		if m, err := DecodeSnapshotMsg(b); err == nil {
			require.Equal(t, b, m.Encode(nil))
		}
	})
}

func FuzzDecodeCallMsg(f *testing.F) {
	f.Add((&CallMsg{Kind: CallWrite, Writes: []engine.WriteElement{{SectionID: []byte("s")}}}).Encode(nil))
	f.Fuzz(func(t *testing.T, b []byte) {
		if m, err := DecodeCallMsg(b); err == nil {
			require.Equal(t, b, m.Encode(nil))
		}
	})
}

func FuzzDecodeReplyMsg(f *testing.F) {
	f.Add((&ReplyMsg{Err: engine.ErrNotExist, IDs: [][]byte{[]byte("a")}}).Encode(nil))
	f.Add((&ReplyMsg{Err: &engine.ElementError{Index: 2, Err: engine.ErrNoSpace}, Reads: [][]byte{nil, []byte("r")}}).Encode(nil))
	f.Add((&ReplyMsg{Err: errors.New("unnamed"), Found: true, Size: 7, LSN: 9}).Encode(nil))
	// A decoded reply encodes to a message that decodes to the same reply. The bytes may differ
	// only in an element error's text, which the encoder writes with its "element N: " prefix.
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := DecodeReplyMsg(b)
		if err != nil {
			return
		}
		again, err := DecodeReplyMsg(m.Encode(nil))
		require.NoError(t, err)
		require.Equal(t, replyErrShape(m.Err), replyErrShape(again.Err))
		m.Err, again.Err = nil, nil
		require.Equal(t, m, again)
	})
}

// replyErrShape is what a decoded error carries: its sentinel, its element, and its text when it
// is not an element's.
func replyErrShape(err error) [3]any {
	if err == nil {
		return [3]any{}
	}
	var re *RemoteError
	if !errors.As(err, &re) {
		return [3]any{"not a RemoteError", err.Error()}
	}
	var ee *engine.ElementError
	if errors.As(err, &ee) {
		return [3]any{re.Sentinel, ee.Index}
	}
	return [3]any{re.Sentinel, -1, re.Text}
}
