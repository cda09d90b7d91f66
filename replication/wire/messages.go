package wire

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strings"

	"github.com/clckpt/libclckpt/engine"
)

// Kind is the kind of a message.
type Kind uint8

const (
	KindOp       Kind = 1 + iota // active -> replica: one op
	KindAck                      // replica -> active: reply to an op
	KindCall                     // member -> active: a call on a checkpoint
	KindReply                    // active -> member: the result of a call
	KindPosition                 // query -> replica: where are you? (reply: KindAck)
	KindSnapshot                 // active -> replica: a piece of a snapshot (reply: KindAck)
)

// Peek returns the kind of a message without decoding it.
func Peek(msg []byte) (Kind, error) {
	if len(msg) < 2 {
		return 0, fmt.Errorf("%w: %d bytes", ErrMalformed, len(msg))
	}
	if msg[0] != Version {
		return 0, fmt.Errorf("%w: protocol version %d, this member speaks %d", ErrMalformed, msg[0], Version)
	}
	return Kind(msg[1]), nil
}

// Stamp returns the checkpoint and epoch that an op or snapshot message carries first, without
// decoding the rest.
func Stamp(msg []byte) (ckpt, epoch uint64, err error) {
	k, err := Peek(msg)
	if err != nil {
		return 0, 0, err
	}
	if k != KindOp && k != KindSnapshot || len(msg) < 18 {
		return 0, 0, fmt.Errorf("%w: no checkpoint and epoch in a message of kind %d (%d bytes)", ErrMalformed, k, len(msg))
	}
	return binary.LittleEndian.Uint64(msg[2:]), binary.LittleEndian.Uint64(msg[10:]), nil
}

func header(k Kind) encoder { return encoder{b: []byte{Version, byte(k)}} }

func open(msg []byte, k Kind) (*decoder, error) {
	got, err := Peek(msg)
	if err != nil {
		return nil, err
	}
	if got != k {
		return nil, fmt.Errorf("%w: kind %d, want %d", ErrMalformed, got, k)
	}
	return &decoder{b: msg[2:]}, nil
}

// OpMsg carries one op of a checkpoint's active replica.
type OpMsg struct {
	Ckpt  uint64
	Epoch uint64
	Op    engine.Op
}

// Encode appends the message to buf.
func (m *OpMsg) Encode(buf []byte) []byte {
	// One allocation of the right size: an op is encoded at every replicated write.
	if n := 2 + 16 + opSize(&m.Op); cap(buf)-len(buf) < n {
		buf = append(make([]byte, 0, len(buf)+n), buf...)
	}
	e := encoder{b: append(buf, Version, byte(KindOp))}
	e.u64(m.Ckpt)
	e.u64(m.Epoch)
	encodeOp(&e, &m.Op)
	return e.b
}

// DecodeOpMsg decodes an OpMsg; its slices point into msg.
func DecodeOpMsg(msg []byte) (*OpMsg, error) {
	d, err := open(msg, KindOp)
	if err != nil {
		return nil, err
	}
	m := &OpMsg{Ckpt: d.u64(), Epoch: d.u64()}
	decodeOp(d, &m.Op)
	return m, d.end()
}

// opSize bounds the encoded size of op.
func opSize(op *engine.Op) int {
	const varint = binary.MaxVarintLen64
	n := 8 + 1 + varint + len(op.Origin) + 8 + varint + len(op.Section) + 8 + 8 + 4 + varint + len(op.Data) + 4
	for _, w := range op.Writes {
		n += varint + len(w.SectionID) + 8 + varint + len(w.Data)
	}
	return n
}

func encodeOp(e *encoder, op *engine.Op) {
	e.u64(op.LSN)
	e.u8(uint8(op.Kind))
	e.str(op.Origin)
	e.u64(op.Request)
	e.bytes(op.Section)
	e.i64(op.Expiration)
	e.i64(op.LastUpdate)
	e.u32(op.Gen)
	e.bytes(op.Data)
	e.u32(uint32(len(op.Writes)))
	for _, w := range op.Writes {
		e.bytes(w.SectionID)
		e.i64(w.Offset)
		e.bytes(w.Data)
	}
}

func decodeOp(d *decoder, op *engine.Op) {
	op.LSN = d.u64()
	op.Kind = engine.OpKind(d.u8())
	op.Origin = d.str()
	op.Request = d.u64()
	op.Section = d.bytes()
	op.Expiration = d.i64()
	op.LastUpdate = d.i64()
	op.Gen = d.u32()
	op.Data = d.bytes()
	n := d.count(10)
	if n > 0 {
		op.Writes = make([]engine.WriteElement, n)
	}
	for i := range op.Writes {
		w := &op.Writes[i]
		w.SectionID = d.bytes()
		w.Offset = d.i64()
		w.Data = d.bytes()
		if w.Offset < 0 || w.Offset > engine.MaxDataSize {
			d.fail("write offset %d", w.Offset)
		}
	}
	if d.err == nil && (op.Kind < engine.OpCreateSection || op.Kind > engine.OpWrite) {
		d.fail("op kind %d", op.Kind)
	}
}

// AckStatus says how a replica took a message.
type AckStatus uint8

const (
	AckOK        AckStatus = iota // applied (or already had it)
	AckGap                        // missed earlier ops: LSN is the last it has
	AckStale                      // the sender's epoch is older than the replica's: Epoch is the replica's
	AckNoReplica                  // the member holds no replica of the checkpoint
	AckFailed                     // could not apply (storage): Text says why
	AckDiverged                   // its last op is not in the sender's history: it needs a snapshot
)

// AckMsg answers an op, a position query or a snapshot piece.
type AckMsg struct {
	From   string // the replying member
	Ckpt   uint64
	Epoch  uint64 // the replica's epoch
	LSN    uint64 // the replica's last op
	Status AckStatus
	Text   string
}

// Encode appends the message to buf.
func (m *AckMsg) Encode(buf []byte) []byte {
	e := header(KindAck)
	e.b = append(buf, e.b...)
	e.str(m.From)
	e.u64(m.Ckpt)
	e.u64(m.Epoch)
	e.u64(m.LSN)
	e.u8(uint8(m.Status))
	e.str(m.Text)
	return e.b
}

// DecodeAckMsg decodes an AckMsg.
func DecodeAckMsg(msg []byte) (*AckMsg, error) {
	d, err := open(msg, KindAck)
	if err != nil {
		return nil, err
	}
	m := &AckMsg{From: d.str(), Ckpt: d.u64(), Epoch: d.u64(), LSN: d.u64(), Status: AckStatus(d.u8()), Text: d.str()}
	if d.err == nil && m.Status > AckDiverged {
		d.fail("ack status %d", m.Status)
	}
	return m, d.end()
}

// PositionMsg asks a replica for its position; the answer is an AckMsg.
type PositionMsg struct{ Ckpt uint64 }

// Encode appends the message to buf.
func (m *PositionMsg) Encode(buf []byte) []byte {
	e := header(KindPosition)
	e.b = append(buf, e.b...)
	e.u64(m.Ckpt)
	return e.b
}

// DecodePositionMsg decodes a PositionMsg.
func DecodePositionMsg(msg []byte) (*PositionMsg, error) {
	d, err := open(msg, KindPosition)
	if err != nil {
		return nil, err
	}
	m := &PositionMsg{Ckpt: d.u64()}
	return m, d.end()
}

// SnapshotMsg is one piece of a snapshot: the header (first), a batch of sections, or the end.
type SnapshotMsg struct {
	Ckpt     uint64
	Epoch    uint64 // the sender's epoch
	Part     uint8  // SnapHeader, SnapSections or SnapEnd
	Header   engine.SnapshotHeader
	Sections []engine.SnapshotSection
}

// Parts of a snapshot.
const (
	SnapHeader uint8 = iota
	SnapSections
	SnapEnd
)

// Encode appends the message to buf.
func (m *SnapshotMsg) Encode(buf []byte) []byte {
	e := header(KindSnapshot)
	e.b = append(buf, e.b...)
	e.u64(m.Ckpt)
	e.u64(m.Epoch)
	e.u8(m.Part)
	h := &m.Header
	e.u64(h.ID)
	e.str(h.Name)
	encodeAttrs(&e, &h.Attrs)
	e.u64(h.Epoch)
	e.u64(h.LSN)
	e.u32(h.Gen)
	e.u32(uint32(len(m.Sections)))
	for _, s := range m.Sections {
		e.bytes(s.ID)
		e.i64(s.Expiration)
		e.i64(s.LastUpdate)
		e.u8(uint8(s.State))
		e.u64(s.LSN)
		e.bytes(s.Data)
	}
	if m.Part == SnapHeader { // the requests go once, in the first message
		e.u32(uint32(len(h.Requests)))
		for _, q := range h.Requests {
			e.u64(q.ID)
			e.u64(q.LSN)
			e.bytes(q.Section)
			e.u32(uint32(q.Written))
		}
	}
	return e.b
}

// SnapshotBatch builds a SnapSections message section by section, copying each section's data once,
// straight into the message. One batch serves a whole copy: Reset starts the next message in the same
// buffer, so a copy allocates its largest message once (a small checkpoint's copy stays small).
type SnapshotBatch struct {
	e     encoder
	head  SnapshotMsg
	count int // offset of the section count
	n     uint32
}

// NewSnapshotBatch starts a batch of sections of checkpoint ckpt, with room for size bytes to begin
// with (it grows as sections are added).
func NewSnapshotBatch(ckpt, epoch uint64, header *engine.SnapshotHeader, size int) *SnapshotBatch {
	b := &SnapshotBatch{head: SnapshotMsg{Ckpt: ckpt, Epoch: epoch, Part: SnapSections, Header: *header}}
	b.e.b = make([]byte, 0, size)
	b.Reset()
	return b
}

// Reset empties the batch for the next message, keeping its buffer: the bytes Bytes returned before
// are overwritten, so the caller must be done with them (a NATS publish has copied them).
func (b *SnapshotBatch) Reset() {
	b.e.b = b.head.Encode(b.e.b[:0])
	b.count = len(b.e.b) - 4 // Encode ended with the (zero) section count
	b.n = 0
}

// Add appends a section.
func (b *SnapshotBatch) Add(s *engine.SnapshotSection) {
	b.e.bytes(s.ID)
	b.e.i64(s.Expiration)
	b.e.i64(s.LastUpdate)
	b.e.u8(uint8(s.State))
	b.e.u64(s.LSN)
	b.e.bytes(s.Data)
	b.n++
}

// SnapshotSectionSize is the bytes Add adds to a message for s.
func SnapshotSectionSize(s *engine.SnapshotSection) int {
	var v [binary.MaxVarintLen64]byte
	return len(binary.AppendUvarint(v[:0], uint64(len(s.ID)))) + len(s.ID) + 8 + 8 + 1 + 8 +
		len(binary.AppendUvarint(v[:0], uint64(len(s.Data)))) + len(s.Data)
}

// Len is the number of sections; Size the bytes of the message so far.
func (b *SnapshotBatch) Len() int  { return int(b.n) }
func (b *SnapshotBatch) Size() int { return len(b.e.b) }

// Bytes returns the encoded message.
func (b *SnapshotBatch) Bytes() []byte {
	binary.LittleEndian.PutUint32(b.e.b[b.count:], b.n)
	return b.e.b
}

// DecodeSnapshotMsg decodes a SnapshotMsg; its slices point into msg.
func DecodeSnapshotMsg(msg []byte) (*SnapshotMsg, error) {
	d, err := open(msg, KindSnapshot)
	if err != nil {
		return nil, err
	}
	m := &SnapshotMsg{Ckpt: d.u64(), Epoch: d.u64(), Part: d.u8()}
	h := &m.Header
	h.ID = d.u64()
	h.Name = d.str()
	decodeAttrs(d, &h.Attrs)
	h.Epoch = d.u64()
	h.LSN = d.u64()
	h.Gen = d.u32()
	n := d.count(27) // the smallest section: 1+8+8+1+8+1 bytes (the default section has an empty id)
	if n > 0 {
		m.Sections = make([]engine.SnapshotSection, n)
	}
	for i := range m.Sections {
		s := &m.Sections[i]
		s.ID = d.bytes()
		s.Expiration = d.i64()
		s.LastUpdate = d.i64()
		s.State = engine.SectionState(d.u8())
		s.LSN = d.u64()
		s.Data = d.bytes()
		if d.err == nil && s.State != engine.SectionValid && s.State != engine.SectionCorrupted {
			d.fail("section state %d", s.State)
		}
	}
	if m.Part == SnapHeader {
		if n := d.count(21); n > 0 {
			h.Requests = make([]engine.SnapshotRequest, n)
		}
		for i := range h.Requests {
			q := &h.Requests[i]
			q.ID, q.LSN, q.Section, q.Written = d.u64(), d.u64(), d.bytes(), int(d.u32())
		}
	}
	if d.err == nil && m.Part > SnapEnd {
		d.fail("snapshot part %d", m.Part)
	}
	return m, d.end()
}

func encodeAttrs(e *encoder, a *engine.Attributes) {
	e.u32(uint32(a.Flags))
	e.u64(a.CheckpointSize)
	e.i64(int64(a.Retention))
	e.u32(a.MaxSections)
	e.u64(a.MaxSectionSize)
	e.u64(a.MaxSectionIDSize)
}

func decodeAttrs(d *decoder, a *engine.Attributes) {
	a.Flags = engine.CreationFlags(d.u32())
	a.CheckpointSize = d.u64()
	a.Retention = durationOf(d.i64())
	a.MaxSections = d.u32()
	a.MaxSectionSize = d.u64()
	a.MaxSectionIDSize = d.u64()
}

// encodeErr writes an engine error as the index of its sentinel, the index of the vector element
// that failed (or -1) and its text.
func encodeErr(e *encoder, err error) {
	if err == nil {
		e.u8(0)
		return
	}
	idx := 0
	for i, s := range engine.AllErrors {
		if errors.Is(err, s) {
			idx = i + 1
			break
		}
	}
	if idx == 0 {
		idx = len(engine.AllErrors) + 1 // an error no sentinel names
	}
	e.u8(uint8(idx))
	elem := int64(-1)
	text := err.Error()
	var ee *engine.ElementError
	if errors.As(err, &ee) {
		// The receiver wraps the text in an ElementError again, which names the element: send the
		// text without the element's own prefix, so the index is said once.
		elem = int64(ee.Index)
		text = strings.Replace(text, ee.Error(), ee.Err.Error(), 1)
	}
	e.i64(elem)
	e.str(text)
}

// RemoteError is an error that happened on another member. It wraps the engine sentinel it carried.
type RemoteError struct {
	Sentinel error // nil when the remote error matched none
	Text     string
}

func (e *RemoteError) Error() string { return e.Text }
func (e *RemoteError) Unwrap() error { return e.Sentinel }

func decodeErr(d *decoder) error {
	idx := int(d.u8())
	if idx == 0 || d.err != nil {
		return nil
	}
	elem := d.i64()
	text := d.str()
	if idx > len(engine.AllErrors)+1 {
		d.fail("error index %d", idx)
		return nil
	}
	var err error = &RemoteError{Text: text}
	if idx <= len(engine.AllErrors) {
		err.(*RemoteError).Sentinel = engine.AllErrors[idx-1]
	}
	if elem >= 0 {
		err = &engine.ElementError{Index: int(elem), Err: err}
	}
	return err
}
