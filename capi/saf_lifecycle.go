package main

// SAF calls of the library handle: saCkptInitialize(_2), saCkptFinalize, saCkptSelectionObjectGet,
// saCkptDispatch.

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
	"github.com/clckpt/libclckpt/config"
)

// safVersion applies the version rules: release 'B', major 1 or 2, any minor; the version is
// written back as the highest supported of that major (B.01.01, B.02.03), or B.02.03 if refused.
// It returns the major and minor the client declared.
func safVersion(v *C.SaVersionT) (major, minor uint8, ok bool) {
	major, minor = uint8(v.majorVersion), uint8(v.minorVersion)
	ok = v.releaseCode == 'B' && (major == 1 || major == 2)
	v.releaseCode, v.majorVersion, v.minorVersion = 'B', 2, 3
	if ok && major == 1 {
		v.majorVersion, v.minorVersion = 1, 1
	}
	return major, minor, ok
}

//export saf_initialize
func saf_initialize(out *C.SaCkptHandleT, callbacks unsafe.Pointer, version *C.SaVersionT, track C.int) (res C.SaAisErrorT) {
	defer safGuard(&res, debug.SetPanicOnFault(true))
	if out == nil || version == nil {
		return ais(rc.AisInvalidParam)
	}
	probeOutput(unsafe.Pointer(out))
	major, minor, ok := safVersion(version)
	if !ok {
		return ais(rc.AisVersion)
	}
	cl := &safClient{major: major, minor: minor}
	switch {
	case callbacks == nil:
	case track != 0:
		cbs := (*C.SaCkptCallbacksT_2)(callbacks)
		cl.openCB, cl.syncCB = cbs.saCkptCheckpointOpenCallback, cbs.saCkptCheckpointSynchronizeCallback
		cl.trackCB = cbs.saCkptCheckpointTrackCallback
	default:
		cbs := (*C.SaCkptCallbacksT)(callbacks)
		cl.openCB, cl.syncCB = cbs.saCkptCheckpointOpenCallback, cbs.saCkptCheckpointSynchronizeCallback
	}
	s := &service{saf: cl}
	if err := startService(s); err != nil {
		switch {
		case errors.Is(err, config.ErrBadSetting):
			return ais(rc.AisLibrary)
		case errors.Is(err, errNoHandle):
			return ais(rc.AisNoResources)
		}
		return aisErr(err)
	}
	*out = C.SaCkptHandleT(s.handle)
	return ais(rc.AisOK)
}

//export saf_finalize
func saf_finalize(h C.SaCkptHandleT) (res C.SaAisErrorT) {
	defer safGuard(&res, debug.SetPanicOnFault(true))
	err := endService(uint64(h), func(s *service) bool { return s.saf != nil })
	if errors.Is(err, ckpt.ErrClosed) {
		return ais(rc.AisBadHandle)
	}
	return aisErr(err)
}

//export saf_selection_object_get
func saf_selection_object_get(h C.SaCkptHandleT, out *C.SaSelectionObjectT) (res C.SaAisErrorT) {
	defer safGuard(&res, debug.SetPanicOnFault(true))
	s, bad := safService(h)
	if s == nil {
		return bad
	}
	if out == nil {
		return ais(rc.AisInvalidParam)
	}
	*out = C.SaSelectionObjectT(s.queue.FD())
	return ais(rc.AisOK)
}

//export saf_dispatch
func saf_dispatch(h C.SaCkptHandleT, flags C.SaDispatchFlagsT) (res C.SaAisErrorT) {
	defer safGuard(&res, debug.SetPanicOnFault(true))
	s, bad := safService(h)
	if s == nil {
		return bad
	}
	if !dispatch(s, int(flags)) {
		return ais(rc.AisInvalidParam)
	}
	return ais(rc.AisOK)
}
