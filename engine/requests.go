package engine

import (
	"bytes"
	"context"
)

// A request a caller may send more than once: a call forwarded to an active replica that died or
// did not answer in time is retried on the next active, which may already hold its op. Each op
// carries the request that made it; every replica remembers the recent ones, so a retry gets the
// first outcome instead of a second change (a second section, or ALREADY_EXIST for a creation that
// worked).

// Caller names who makes a change: the handle (its subscribers are not told of it) and the request.
type Caller struct {
	Origin  string // the handle ("<member>/<n>"); "" for the engine itself
	Request uint64 // unique per request, the same on every retry; 0: never retried
}

// rememberedRequests bounds what a replica remembers: far more than the requests in flight.
const rememberedRequests = 4096

// requestOutcome is what a retry of a request that was applied returns.
type requestOutcome struct {
	lsn     uint64 // its op
	section []byte // OpCreateSection: the section created
	written int    // OpWrite: the elements written
}

// requestLog remembers the outcome of the last requests applied, oldest first out. Guarded by the
// replica's mutex. It grows with the requests it sees (a replica of a checkpoint written rarely
// keeps a few), up to rememberedRequests.
type requestLog struct {
	byID  map[uint64]requestOutcome
	order []uint64 // ids in the order applied; once full, a ring whose oldest is at next
	next  int
}

func (l *requestLog) get(id uint64) (requestOutcome, bool) {
	if id == 0 || l.byID == nil {
		return requestOutcome{}, false
	}
	o, ok := l.byID[id]
	return o, ok
}

func (l *requestLog) add(op *Op) {
	if op.Request == 0 {
		return
	}
	o := requestOutcome{lsn: op.LSN, written: len(op.Writes)}
	if op.Kind == OpCreateSection {
		o.section = bytes.Clone(op.Section) // op may point into a message
	}
	l.put(op.Request, o)
}

func (l *requestLog) put(id uint64, o requestOutcome) {
	if l.byID == nil {
		l.byID = make(map[uint64]requestOutcome)
	}
	if _, ok := l.byID[id]; ok {
		l.byID[id] = o
		return
	}
	if len(l.order) < rememberedRequests {
		l.order = append(l.order, id)
	} else {
		delete(l.byID, l.order[l.next])
		l.order[l.next] = id
		l.next = (l.next + 1) % rememberedRequests
	}
	l.byID[id] = o
}

// upTo lists the remembered requests of the ops up to lsn, oldest first (for a snapshot).
func (l *requestLog) upTo(lsn uint64) []SnapshotRequest {
	var out []SnapshotRequest
	for i := range l.order {
		id := l.order[(l.next+i)%len(l.order)]
		if o, ok := l.byID[id]; ok && o.lsn <= lsn {
			out = append(out, SnapshotRequest{ID: id, LSN: o.lsn, Section: o.section, Written: o.written})
		}
	}
	return out
}

// repeated answers a request this replica already applied: it waits as the first attempt waited
// (for the replicas that must have the op) and returns the first outcome. r.mu is held; ok is false
// for a request it does not know.
func (r *Replica) repeated(by Caller) (o requestOutcome, wait func(ctx context.Context) error, ok bool) {
	if o, ok = r.requests.get(by.Request); !ok {
		return o, nil, false
	}
	if err := r.fenced; err != nil {
		// Not (or no longer) where writes go: whether the op reached the replicas that must have
		// it is for the active to say; the caller asks there.
		return o, func(context.Context) error { return err }, true
	}
	if r.sink != nil {
		wait = r.sink.Await(o.lsn)
	}
	return o, wait, true
}
