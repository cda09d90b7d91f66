package main

// SAF calls on data: saCkptCheckpointWrite, SectionOverwrite, CheckpointRead,
// IOVectorElementDataFree (saf_sections.go), CheckpointSynchronize(Async).

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

// safVector views a SAF vector as the clCkpt one (same layout: saf_glue.c checks it).
func safVector(iov *C.SaCkptIOVectorElementT, n C.SaUint32T) []C.ClCkptIOVectorElementT {
	return elements((*C.ClCkptIOVectorElementT)(unsafe.Pointer(iov)), C.ClUint32T(n))
}

// safElementCheck applies the SAF rules to one element of a write (write) or a read; 0 if fine.
// limit is the checkpoint's maxSectionSize (0: unknown or none).
func safElementCheck(s *safClient, e *C.ClCkptIOVectorElementT, limit uint64, write bool) C.SaAisErrorT {
	size, end := uint64(e.dataSize), uint64(e.dataOffset)+uint64(e.dataSize)
	switch {
	case write && e.dataBuffer == nil && size > 0:
		return ais(rc.AisInvalidParam)
	case size > ckpt.MaxDataSize && (write || e.dataBuffer != nil):
		return ais(rc.AisInvalidParam)
	case limit == 0:
		return 0
	case size > limit && (write || e.dataBuffer != nil):
		return ais(rc.AisInvalidParam)
	case end > limit && s.strict() && write:
		return ais(rc.AisNoResources) // OpenSAF's node director cannot place it
	case end > limit && s.strict() && e.dataBuffer != nil:
		return ais(rc.AisInvalidParam)
	}
	return 0
}

// safVectorArgs checks the arguments of a write (write) or a read: the handle, its access, and
// every element before anything is written or read (on a bad one *errIndex gets its index).
func safVectorArgs(h C.SaCkptCheckpointHandleT, iov *C.SaCkptIOVectorElementT, n C.SaUint32T, errIndex *C.SaUint32T,
	write bool) (*checkpoint, []C.ClCkptIOVectorElementT, C.SaAisErrorT) {
	c, bad := safCheckpoint(h)
	if c == nil {
		return nil, nil, bad
	}
	need := ckpt.OpenRead
	if write {
		need = ckpt.OpenWrite
	}
	switch {
	case iov == nil || n == 0:
		return nil, nil, ais(rc.AisInvalidParam)
	case c.flags&need == 0:
		return nil, nil, ais(rc.AisAccess)
	}
	in := safVector(iov, n)
	if bad := safCheckVector(c, in, errIndex, write); bad != 0 {
		return nil, nil, bad
	}
	return c, in, 0
}

// safCheckVector checks every element; on a bad one *errIndex gets its index.
func safCheckVector(c *checkpoint, in []C.ClCkptIOVectorElementT, errIndex *C.SaUint32T, write bool) C.SaAisErrorT {
	var limit uint64
	if a := safAttrs(c); a != nil {
		limit = a.MaxSectionSize
	}
	for i := range in {
		if bad := safElementCheck(c.svc.saf, &in[i], limit, write); bad != 0 {
			if errIndex != nil {
				*errIndex = C.SaUint32T(i)
			}
			return bad
		}
	}
	return 0
}

//export saf_checkpoint_write
func saf_checkpoint_write(h C.SaCkptCheckpointHandleT, iov *C.SaCkptIOVectorElementT, n C.SaUint32T, errIndex *C.SaUint32T) (res C.SaAisErrorT) {
	defer safGuard(&res, debug.SetPanicOnFault(true))
	c, in, bad := safVectorArgs(h, iov, n, errIndex, true)
	if c == nil {
		return bad
	}
	return aisErr(writeVector(c, in, (*C.ClUint32T)(errIndex)))
}

//export saf_section_overwrite
func saf_section_overwrite(h C.SaCkptCheckpointHandleT, sid *C.SaCkptSectionIdT, data unsafe.Pointer, size C.SaSizeT) (res C.SaAisErrorT) {
	defer safGuard(&res, debug.SetPanicOnFault(true))
	c, bad := safWriter(h)
	if c == nil {
		return bad
	}
	if sid == nil || data == nil || size == 0 || size > ckpt.MaxDataSize {
		return ais(rc.AisInvalidParam)
	}
	in, buf := copyIn(data, C.ClSizeT(size))
	defer release(buf)
	return aisErr(c.ck.Overwrite(bg, sectionID(clSection(sid)), in))
}

//export saf_checkpoint_read
func saf_checkpoint_read(h C.SaCkptCheckpointHandleT, iov *C.SaCkptIOVectorElementT, n C.SaUint32T, errIndex *C.SaUint32T) (res C.SaAisErrorT) {
	defer safGuard(&res, debug.SetPanicOnFault(true))
	c, in, bad := safVectorArgs(h, iov, n, errIndex, false)
	if c == nil {
		return bad
	}
	return aisErr(readVector(c, in, (*C.ClUint32T)(errIndex), false))
}

//export saf_checkpoint_synchronize
func saf_checkpoint_synchronize(h C.SaCkptCheckpointHandleT, timeout C.SaTimeT) (res C.SaAisErrorT) {
	defer safGuard(&res, debug.SetPanicOnFault(true))
	c, bad := safWriter(h)
	if c == nil {
		return bad
	}
	ctx, cancel := timeoutContext(C.ClTimeT(timeout))
	defer cancel()
	return aisErr(c.ck.Synchronize(ctx))
}

//export saf_checkpoint_synchronize_async
func saf_checkpoint_synchronize_async(h C.SaCkptCheckpointHandleT, invocation C.SaInvocationT) (res C.SaAisErrorT) {
	defer safGuard(&res, debug.SetPanicOnFault(true))
	c, bad := safCheckpoint(h)
	if c == nil {
		return bad
	}
	cb := c.svc.saf.syncCB
	if cb == nil {
		return ais(rc.AisInit)
	}
	if c.flags&ckpt.OpenWrite == 0 {
		return ais(rc.AisAccess)
	}
	return aisErr(synchronizeAsync(c, func(err error) {
		if c.closed.Load() { // saCkptCheckpointClose cancels the handle's pending callbacks
			return
		}
		C.saf_call_sync_cb(cb, invocation, C.SaAisErrorT(rc.FromErrorAis(err)))
	}))
}
