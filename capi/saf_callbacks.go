package main

// SAF callback registrations beyond Initialize: the B.02.03 track calls and the NCS arrival
// callback. Neither delivers anything yet (saCkpt_B_02_03.h, cpsv_papi.h): the engine notifies
// changes only for its Distributed checkpoints, which SAF cannot create.

/*
#include "saf_glue.h"
*/
import "C"

import (
	"runtime/debug"

	"github.com/clckpt/libclckpt/capi/rc"
)

//export saf_track
func saf_track(h C.SaUint64T, all C.int, start C.int) (res C.SaAisErrorT) {
	defer safGuard(&res, debug.SetPanicOnFault(true))
	var s *service
	if all != 0 {
		var bad C.SaAisErrorT
		if s, bad = safService(C.SaCkptHandleT(h)); s == nil {
			return bad
		}
	} else {
		c, bad := safCheckpoint(C.SaCkptCheckpointHandleT(h))
		if c == nil {
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
	if start == 0 {
		return ais(rc.AisOK) // nothing is tracked
	}
	return ais(rc.AisNotSupported)
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
	s.saf.arrivalCB.Store(&cb)
	return ais(rc.AisOK)
}
