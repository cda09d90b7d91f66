package wire

import (
	"time"

	"github.com/clckpt/libclckpt/engine"
)

// CallKind is the checkpoint call a CallMsg forwards to the active replica. The calls that change a
// checkpoint come first, up to CallWrite (replication tells them from the others by that).
type CallKind uint8

const (
	CallCreateSection CallKind = 1 + iota
	CallDeleteSection
	CallSetExpiration
	CallOverwrite
	CallWrite
	CallRead
	CallStatus
	CallSectionIDs
	CallDescribe
	CallSynchronize
	CallHandover // a new active asks the old one to stop and report its last op
	// CallBackup opens a backup session at the active (Request names it); the session's pieces are
	// then pulled on the active's "bkp" subject with CallBackup messages whose At counts them from 1.
	CallBackup
)

// ReadReq is one element of a forwarded read: Size bytes at Offset, or the whole section from Offset.
type ReadReq struct {
	Section []byte
	Offset  int64
	Size    uint64
	Whole   bool
}

// CallMsg is a checkpoint call made on a member that is not the active replica.
type CallMsg struct {
	Kind       CallKind
	Ckpt       uint64
	Epoch      uint64 // the epoch the caller believes the active has
	Origin     string // the calling handle
	Request    uint64 // a change: the same on every retry of it (engine.Caller)
	Section    []byte
	Expiration int64
	Data       []byte
	Writes     []engine.WriteElement
	Reads      []ReadReq
	Filter     uint8
	At         int64
	Timeout    time.Duration
}

// Encode appends the message to buf.
func (m *CallMsg) Encode(buf []byte) []byte {
	e := header(KindCall)
	e.b = append(buf, e.b...)
	e.u8(uint8(m.Kind))
	e.u64(m.Ckpt)
	e.u64(m.Epoch)
	e.str(m.Origin)
	e.u64(m.Request)
	e.bytes(m.Section)
	e.i64(m.Expiration)
	e.bytes(m.Data)
	e.u32(uint32(len(m.Writes)))
	for _, w := range m.Writes {
		e.bytes(w.SectionID)
		e.i64(w.Offset)
		e.bytes(w.Data)
	}
	e.u32(uint32(len(m.Reads)))
	for _, r := range m.Reads {
		e.bytes(r.Section)
		e.i64(r.Offset)
		e.u64(r.Size)
		e.flag(r.Whole)
	}
	e.u8(m.Filter)
	e.i64(m.At)
	e.i64(int64(m.Timeout))
	return e.b
}

// DecodeCallMsg decodes a CallMsg; its slices point into msg.
func DecodeCallMsg(msg []byte) (*CallMsg, error) {
	d, err := open(msg, KindCall)
	if err != nil {
		return nil, err
	}
	m := &CallMsg{Kind: CallKind(d.u8()), Ckpt: d.u64(), Epoch: d.u64(), Origin: d.str(), Request: d.u64(), Section: d.bytes(),
		Expiration: d.i64(), Data: d.bytes()}
	if n := d.count(10); n > 0 {
		m.Writes = make([]engine.WriteElement, n)
		for i := range m.Writes {
			m.Writes[i] = engine.WriteElement{SectionID: d.bytes(), Offset: d.i64(), Data: d.bytes()}
		}
	}
	if n := d.count(18); n > 0 {
		m.Reads = make([]ReadReq, n)
		for i := range m.Reads {
			m.Reads[i] = ReadReq{Section: d.bytes(), Offset: d.i64(), Size: d.u64(), Whole: d.flag()}
		}
	}
	m.Filter = d.u8()
	m.At = d.i64()
	m.Timeout = time.Duration(d.i64())
	if d.err == nil && (m.Kind < CallCreateSection || m.Kind > CallBackup) {
		d.fail("call kind %d", m.Kind)
	}
	return m, d.end()
}

// ReplyMsg is the result of a CallMsg.
type ReplyMsg struct {
	Err        error
	NotActive  bool     // the member is not the active replica at that epoch: refresh and retry
	Section    []byte   // CallCreateSection: the id; CallDescribe: the id; CallBackup: the serving member
	Reads      [][]byte // CallRead: the bytes read, element by element
	Status     engine.Status
	IDs        [][]byte // CallSectionIDs
	Found      bool     // CallDescribe
	Expiration int64    // CallDescribe
	LastUpdate int64
	Size       uint64
	State      uint8
	LSN        uint64 // CallHandover: the old active's last op
}

// Encode appends the message to buf.
func (m *ReplyMsg) Encode(buf []byte) []byte {
	e := header(KindReply)
	e.b = append(buf, e.b...)
	encodeErr(&e, m.Err)
	e.flag(m.NotActive)
	e.bytes(m.Section)
	e.u32(uint32(len(m.Reads)))
	for _, r := range m.Reads {
		e.bytes(r)
	}
	encodeAttrs(&e, &m.Status.Attributes)
	e.u32(m.Status.NumberOfSections)
	e.u64(m.Status.MemoryUsed)
	e.u32(uint32(len(m.IDs)))
	for _, id := range m.IDs {
		e.bytes(id)
	}
	e.flag(m.Found)
	e.i64(m.Expiration)
	e.i64(m.LastUpdate)
	e.u64(m.Size)
	e.u8(m.State)
	e.u64(m.LSN)
	return e.b
}

// DecodeReplyMsg decodes a ReplyMsg; its slices point into msg.
func DecodeReplyMsg(msg []byte) (*ReplyMsg, error) {
	d, err := open(msg, KindReply)
	if err != nil {
		return nil, err
	}
	m := &ReplyMsg{Err: decodeErr(d), NotActive: d.flag(), Section: d.bytes()}
	if n := d.count(1); n > 0 {
		m.Reads = make([][]byte, n)
		for i := range m.Reads {
			m.Reads[i] = d.bytes()
		}
	}
	decodeAttrs(d, &m.Status.Attributes)
	m.Status.NumberOfSections = d.u32()
	m.Status.MemoryUsed = d.u64()
	if n := d.count(1); n > 0 {
		m.IDs = make([][]byte, n)
		for i := range m.IDs {
			m.IDs[i] = d.bytes()
		}
	}
	m.Found = d.flag()
	m.Expiration = d.i64()
	m.LastUpdate = d.i64()
	m.Size = d.u64()
	m.State = d.u8()
	m.LSN = d.u64()
	return m, d.end()
}

func durationOf(ns int64) time.Duration { return time.Duration(ns) }
