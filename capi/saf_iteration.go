package main

// SAF section iteration: saCkptSectionIterationInitialize, Next, Finalize.

/*
#include "saf_glue.h"
*/
import "C"

import (
	"errors"
	"runtime/debug"
	"unsafe"

	"github.com/clckpt/libclckpt/capi/rc"
	"github.com/clckpt/libclckpt/ckpt"
)

//export saf_iteration_initialize
func saf_iteration_initialize(h C.SaCkptCheckpointHandleT, chosen C.SaCkptSectionsChosenT, expiration C.SaTimeT,
	out *C.SaCkptSectionIterationHandleT) (res C.SaAisErrorT) {
	defer safGuard(&res, debug.SetPanicOnFault(true))
	c, bad := safCheckpoint(h)
	if c == nil {
		return bad
	}
	if out == nil || chosen < C.SA_CKPT_SECTIONS_FOREVER || chosen > C.SA_CKPT_SECTIONS_ANY {
		return ais(rc.AisInvalidParam)
	}
	probeOutput(unsafe.Pointer(out))
	it, err := c.ck.Sections(bg, ckpt.SectionFilter(chosen), timeFromC(C.ClTimeT(expiration)))
	if errors.Is(err, ckpt.ErrNotPermitted) {
		// A checkpoint of one default section: nothing to iterate.
		it, err = ckpt.NewIterator(nil, nil, func() error { return nil }), nil
	}
	if err != nil {
		return aisErr(err)
	}
	i, err := c.addIteration(it)
	if err != nil {
		return aisErr(err)
	}
	*out = C.SaCkptSectionIterationHandleT(i.handle)
	return ais(rc.AisOK)
}

// safIteration finds a live SAF iteration handle.
func safIteration(h C.SaCkptSectionIterationHandleT) (*iteration, C.SaAisErrorT) {
	if current() == nil {
		return nil, ais(rc.AisBadHandle)
	}
	i, ok := iterations.Get(uint64(h))
	if !ok || i.ckpt.svc.saf == nil {
		return nil, ais(rc.AisBadHandle)
	}
	return i, 0
}

//export saf_iteration_next
func saf_iteration_next(h C.SaCkptSectionIterationHandleT, out *C.SaCkptSectionDescriptorT) (res C.SaAisErrorT) {
	defer safGuard(&res, debug.SetPanicOnFault(true))
	i, bad := safIteration(h)
	if i == nil {
		return bad
	}
	if out == nil {
		return ais(rc.AisInvalidParam)
	}
	d, err := i.it.Next()
	if err != nil {
		return aisErr(err)
	}
	var id unsafe.Pointer
	if len(d.ID) > 0 {
		id = cCopy(d.ID, len(d.ID))
		if !i.ckpt.svc.saf.strict() { // B.01: the iteration owns the id until its end
			i.ckpt.mu.Lock()
			if i.ckpt.iters != nil && i.ckpt.iters[i.handle] == i {
				i.owned = append(i.owned, id)
			} else { // ended meanwhile
				C.free(id)
				id = nil
			}
			i.ckpt.mu.Unlock()
			if id == nil {
				return ais(rc.AisBadHandle)
			}
		}
	}
	out.sectionId.idLen = C.SaUint16T(len(d.ID))
	out.sectionId.id = (*C.SaUint8T)(id)
	out.expirationTime = C.SaTimeT(timeToC(d.Expiration))
	out.sectionSize = C.SaSizeT(d.Size)
	out.sectionState = C.SaCkptSectionStateT(d.State)
	out.lastUpdate = C.SaTimeT(timeToC(d.LastUpdate))
	return ais(rc.AisOK)
}

//export saf_iteration_finalize
func saf_iteration_finalize(h C.SaCkptSectionIterationHandleT) (res C.SaAisErrorT) {
	defer safGuard(&res, debug.SetPanicOnFault(true))
	i, bad := safIteration(h)
	if i == nil {
		return bad
	}
	return aisErr(endIteration(i))
}
