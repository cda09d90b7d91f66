package main

// SAF calls that open, close and describe checkpoints: saCkptCheckpointOpen(Async), Close, Unlink,
// RetentionDurationSet, ActiveReplicaSet, StatusGet.

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

//export saf_checkpoint_open
func saf_checkpoint_open(h C.SaCkptHandleT, name *C.SaNameT, attrs *C.SaCkptCheckpointCreationAttributesT,
	flags C.SaCkptCheckpointOpenFlagsT, timeout C.SaTimeT, out *C.SaCkptCheckpointHandleT) (res C.SaAisErrorT) {
	defer safGuard(&res, debug.SetPanicOnFault(true))
	s, bad := safService(h)
	if s == nil {
		return bad
	}
	if out == nil {
		return ais(rc.AisInvalidParam)
	}
	probeOutput(unsafe.Pointer(out))
	goName, a, bad := safOpenArgs(s.saf, name, attrs, flags)
	if bad != 0 {
		return bad
	}
	b := current()
	if b == nil {
		return ais(rc.AisBadHandle)
	}
	ctx, cancel := timeoutContext(C.ClTimeT(timeout))
	defer cancel()
	ck, err := safOpen(b, ctx, goName, a, ckpt.OpenFlags(flags))
	if err != nil {
		return aisErr(err)
	}
	c, err := s.addCheckpoint(ck, ckpt.OpenFlags(flags))
	if err != nil {
		return aisErr(err)
	}
	safFollowNew(s, c)
	*out = C.SaCkptCheckpointHandleT(c.handle)
	return ais(rc.AisOK)
}

//export saf_checkpoint_open_async
func saf_checkpoint_open_async(h C.SaCkptHandleT, invocation C.SaInvocationT, name *C.SaNameT,
	attrs *C.SaCkptCheckpointCreationAttributesT, flags C.SaCkptCheckpointOpenFlagsT) (res C.SaAisErrorT) {
	defer safGuard(&res, debug.SetPanicOnFault(true))
	s, bad := safService(h)
	if s == nil {
		return bad
	}
	if s.saf.openCB == nil {
		return ais(rc.AisInit)
	}
	goName, a, bad := safOpenArgs(s.saf, name, attrs, flags)
	if bad != 0 {
		return bad
	}
	b := current()
	if b == nil {
		return ais(rc.AisBadHandle)
	}
	cb := s.saf.openCB
	f := ckpt.OpenFlags(flags)
	openAsync(s, func() (ckpt.Checkpoint, error) { return safOpen(b, bg, goName, a, f) }, f,
		func(handle uint64, err error) {
			if c, ok := checkpoints.Get(handle); ok {
				safFollowNew(s, c)
			}
			C.saf_call_open_cb(cb, invocation, C.SaCkptCheckpointHandleT(handle), C.SaAisErrorT(rc.FromErrorAis(err)))
		})
	return ais(rc.AisOK)
}

//export saf_checkpoint_close
func saf_checkpoint_close(h C.SaCkptCheckpointHandleT) (res C.SaAisErrorT) {
	defer safGuard(&res, debug.SetPanicOnFault(true))
	c, bad := safCheckpoint(h)
	if c == nil {
		return bad
	}
	err := closeHandle(c)
	s := c.svc
	s.mu.Lock()
	delete(s.saf.notify.follows, c.handle)
	delete(s.saf.notify.tracked, c.handle)
	s.mu.Unlock()
	return aisErr(err)
}

//export saf_checkpoint_unlink
func saf_checkpoint_unlink(h C.SaCkptHandleT, name *C.SaNameT) (res C.SaAisErrorT) {
	defer safGuard(&res, debug.SetPanicOnFault(true))
	s, bad := safService(h)
	if s == nil {
		return bad
	}
	if name == nil {
		return ais(rc.AisInvalidParam)
	}
	goName, bad := safName(s.saf, name)
	if bad != 0 {
		return bad
	}
	b := current()
	if b == nil {
		return ais(rc.AisBadHandle)
	}
	return aisErr(b.Delete(bg, goName))
}

//export saf_retention_duration_set
func saf_retention_duration_set(h C.SaCkptCheckpointHandleT, retention C.SaTimeT) (res C.SaAisErrorT) {
	defer safGuard(&res, debug.SetPanicOnFault(true))
	c, bad := safWriter(h)
	if c == nil {
		return bad
	}
	return aisErr(c.ck.SetRetention(bg, timeDuration(C.ClTimeT(retention))))
}

//export saf_active_replica_set
func saf_active_replica_set(h C.SaCkptCheckpointHandleT) (res C.SaAisErrorT) {
	defer safGuard(&res, debug.SetPanicOnFault(true))
	c, bad := safWriter(h)
	if c == nil {
		return bad
	}
	return aisErr(c.ck.SetActiveReplica(bg))
}

//export saf_status_get
func saf_status_get(h C.SaCkptCheckpointHandleT, out *C.SaCkptCheckpointDescriptorT) (res C.SaAisErrorT) {
	defer safGuard(&res, debug.SetPanicOnFault(true))
	c, bad := safCheckpoint(h)
	if c == nil {
		return bad
	}
	if out == nil {
		return ais(rc.AisInvalidParam)
	}
	st, err := c.ck.Status(bg)
	if err != nil {
		return aisErr(err)
	}
	attrsToC(&st.Attributes, (*C.ClCkptCheckpointCreationAttributesT)(unsafe.Pointer(&out.checkpointCreationAttributes)))
	n := st.NumberOfSections
	if st.Attributes.MaxSections == 1 { // SAF counts the default section
		n++
	}
	out.numberOfSections = C.SaUint32T(n)
	out.memoryUsed = C.SaSizeT(st.MemoryUsed)
	return ais(rc.AisOK)
}
