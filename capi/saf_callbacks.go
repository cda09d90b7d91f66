package main

// SAF change notifications: the NCS arrival callback (ncsCkptRegisterCkptArrivalCallback) and the
// B.02.03 track calls. As in OpenSAF they share one callback slot per library handle: a checkpoint
// handle opened with READ is followed when the slot is set and either the arrival callback was
// registered or saCkptTrack is on, or saCkptCheckpointTrack was called for it. Each change another
// handle makes (a section created, written, overwritten or deleted) queues a callback for
// saCkptDispatch with the follower's own handle and one element per changed element: section id,
// offset, size (0 for a delete), dataBuffer NULL, readSize 0. The engine tells a process of the
// changes applied to the replica it holds (ckpt.Checkpoint.Follow), which joins the replica set of
// a checkpoint it follows when it holds no replica of it (saCkpt_B_02_03.h, cpsv_papi.h).

/*
#include "saf_glue.h"
*/
import "C"

import (
	"runtime/debug"
	"unsafe"

	"github.com/clckpt/libclckpt/capi/rc"
	"github.com/clckpt/libclckpt/ckpt"
)

// safNotify is the notification state of a library handle; guarded by its service's mu.
type safNotify struct {
	cb      unsafe.Pointer    // the arrival or track callback (the same C type but for a const)
	all     bool              // every READ handle is followed (arrival registered, or saCkptTrack)
	arrival bool              // the arrival callback was registered
	tracked map[uint64]bool   // checkpoint handles of saCkptCheckpointTrack
	follows map[uint64]func() // checkpoint handles followed now: their cancel
}

// safRefollow makes c followed or not, as the state of its service says; s.mu is held.
func safRefollow(s *service, c *checkpoint) {
	n := &s.saf.notify
	want := n.cb != nil && c.flags&ckpt.OpenRead != 0 && (n.all || n.tracked[c.handle])
	_, have := n.follows[c.handle]
	switch {
	case want && !have:
		if n.follows == nil {
			n.follows = make(map[uint64]func())
		}
		if err := c.ck.Follow(func(u ckpt.Update) { _ = s.queue.Push(func() { safDeliver(s, c, u) }) }); err != nil {
			return // closed: nothing to follow
		}
		n.follows[c.handle] = func() { _ = c.ck.Follow(nil) }
	case !want && have:
		n.follows[c.handle]()
		delete(n.follows, c.handle)
	}
}

// safRefollowAll applies safRefollow to every checkpoint handle of s.
func safRefollowAll(s *service) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range s.ckpts {
		safRefollow(s, c)
	}
}

// safFollowNew follows a checkpoint handle just opened through s, if its state says so.
func safFollowNew(s *service, c *checkpoint) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ckpts[c.handle] == c {
		safRefollow(s, c)
	}
}

// safDeliver runs in saCkptDispatch: the callback, with the elements in C memory freed after it.
func safDeliver(s *service, c *checkpoint, u ckpt.Update) {
	s.mu.Lock()
	cb := s.saf.notify.cb
	_, following := s.saf.notify.follows[c.handle]
	s.mu.Unlock()
	if cb == nil || !following || c.closed.Load() {
		return // stopped, or the handle closed, since the change was queued
	}
	n := len(u.Elements)
	size := max(n, 1) * int(C.sizeof_SaCkptIOVectorElementT)
	for _, e := range u.Elements {
		size += len(e.SectionID)
	}
	block := C.calloc(1, C.size_t(size))
	if block == nil {
		panic("out of memory")
	}
	defer C.free(block)
	iov := unsafe.Slice((*C.SaCkptIOVectorElementT)(block), n)
	ids := unsafe.Slice((*byte)(block), size)[n*int(C.sizeof_SaCkptIOVectorElementT):]
	for i, e := range u.Elements {
		iov[i].sectionId.idLen = C.SaUint16T(len(e.SectionID))
		if len(e.SectionID) > 0 {
			iov[i].sectionId.id = (*C.SaUint8T)(unsafe.Pointer(&ids[0]))
			ids = ids[copy(ids, e.SectionID):]
		}
		iov[i].dataSize = C.SaSizeT(len(e.Data))
		iov[i].dataOffset = C.SaOffsetT(e.Offset)
	}
	C.saf_call_track_cb(C.SaCkptCheckpointTrackCallbackT(cb), C.SaCkptCheckpointHandleT(c.handle),
		(*C.SaCkptIOVectorElementT)(block), C.SaUint32T(n))
}

//export saf_track
func saf_track(h C.SaUint64T, all C.int, start C.int) (res C.SaAisErrorT) {
	defer safGuard(&res, debug.SetPanicOnFault(true))
	var s *service
	var c *checkpoint
	if all != 0 {
		var bad C.SaAisErrorT
		if s, bad = safService(C.SaCkptHandleT(h)); s == nil {
			return bad
		}
	} else {
		var bad C.SaAisErrorT
		if c, bad = safCheckpoint(C.SaCkptCheckpointHandleT(h)); c == nil {
			return bad
		}
		s = c.svc
	}
	if s.saf.major < 2 || (s.saf.major == 2 && s.saf.minor < 3) {
		return ais(rc.AisVersion)
	}
	if s.saf.trackCB == nil {
		return ais(rc.AisInit)
	}
	s.mu.Lock()
	n := &s.saf.notify
	if n.cb == nil {
		n.cb = unsafe.Pointer(s.saf.trackCB)
	}
	if c == nil {
		n.all = start != 0 || n.arrival
	} else if start != 0 {
		if n.tracked == nil {
			n.tracked = make(map[uint64]bool)
		}
		n.tracked[c.handle] = true
	} else {
		delete(n.tracked, c.handle)
	}
	s.mu.Unlock()
	safRefollowAll(s)
	return ais(rc.AisOK)
}

//export saf_arrival_callback_register
func saf_arrival_callback_register(h C.SaCkptHandleT, cb C.ncsCkptCkptArrivalCallbackT) (res C.SaAisErrorT) {
	defer safGuard(&res, debug.SetPanicOnFault(true))
	s, bad := safService(h)
	if s == nil {
		return bad
	}
	if cb == nil {
		return ais(rc.AisInvalidParam)
	}
	s.mu.Lock()
	s.saf.notify.cb, s.saf.notify.all, s.saf.notify.arrival = unsafe.Pointer(cb), true, true
	s.mu.Unlock()
	safRefollowAll(s)
	return ais(rc.AisOK)
}
