package main

// SAF calls on sections: saCkptSectionCreate, Delete, ExpirationTimeSet, IdFree.

/*
#include "saf_glue.h"
*/
import "C"

import (
	"runtime/debug"
	"unsafe"

	"github.com/clckpt/libclckpt/capi/rc"
	"github.com/clckpt/libclckpt/engine"
)

// clSection views a SAF section id as the clCkpt one (same layout: saf_glue.c checks it).
func clSection(s *C.SaCkptSectionIdT) *C.ClCkptSectionIdT {
	return (*C.ClCkptSectionIdT)(unsafe.Pointer(s))
}

//export saf_section_create
func saf_section_create(h C.SaCkptCheckpointHandleT, attrs *C.SaCkptSectionCreationAttributesT, data unsafe.Pointer, size C.SaSizeT) (res C.SaAisErrorT) {
	defer safGuard(&res, debug.SetPanicOnFault(true))
	c, bad := safCheckpoint(h)
	if c == nil {
		return bad
	}
	switch {
	case attrs == nil || attrs.sectionId == nil:
		return ais(rc.AisInvalidParam)
	case attrs.sectionId.idLen == 0 && attrs.sectionId.id != nil:
		return ais(rc.AisInvalidParam)
	case attrs.sectionId.idLen != 0 && attrs.sectionId.id == nil:
		return ais(rc.AisInvalidParam)
	case data == nil && size > 0:
		return ais(rc.AisInvalidParam)
	}
	if c.flags&engine.OpenWrite == 0 {
		return ais(rc.AisAccess)
	}
	sid := attrs.sectionId
	if sid.idLen == 0 { // a generated id is written back: a place that cannot take it fails now
		probeOutput(unsafe.Pointer(sid))
	}
	initial := []byte{}
	if size > 0 {
		var buf *[]byte
		initial, buf = copyIn(data, C.ClSizeT(size))
		defer release(buf)
	}
	id, err := c.ck.CreateSection(bg, sectionID(clSection(sid)), timeFromC(C.ClTimeT(attrs.expirationTime)), initial)
	if err != nil {
		return aisErr(err)
	}
	if sid.idLen == 0 { // generated: malloc'ed, freed with saCkptSectionIdFree or free()
		sid.id = (*C.SaUint8T)(cCopy(id, len(id)))
		sid.idLen = C.SaUint16T(len(id))
	}
	return ais(rc.AisOK)
}

// safSectionArg checks a section id naming an existing, non-default section.
func safSectionArg(sid *C.SaCkptSectionIdT) C.SaAisErrorT {
	if sid == nil || sid.idLen == 0 || sid.id == nil {
		return ais(rc.AisInvalidParam) // the default section cannot be deleted nor expire
	}
	return 0
}

//export saf_section_delete
func saf_section_delete(h C.SaCkptCheckpointHandleT, sid *C.SaCkptSectionIdT) (res C.SaAisErrorT) {
	defer safGuard(&res, debug.SetPanicOnFault(true))
	c, bad := safWriter(h)
	if c == nil {
		return bad
	}
	if bad := safSectionArg(sid); bad != 0 {
		return bad
	}
	return aisErr(c.ck.DeleteSection(bg, sectionID(clSection(sid))))
}

//export saf_section_expiration_time_set
func saf_section_expiration_time_set(h C.SaCkptCheckpointHandleT, sid *C.SaCkptSectionIdT, expiration C.SaTimeT) (res C.SaAisErrorT) {
	defer safGuard(&res, debug.SetPanicOnFault(true))
	c, bad := safWriter(h)
	if c == nil {
		return bad
	}
	if bad := safSectionArg(sid); bad != 0 {
		return bad
	}
	return aisErr(c.ck.SetSectionExpiration(bg, sectionID(clSection(sid)), timeFromC(C.ClTimeT(expiration))))
}

// safFree releases memory the library handed to the caller of checkpoint handle h (all of it
// comes from malloc).
func safFree(h C.SaCkptCheckpointHandleT, p unsafe.Pointer) C.SaAisErrorT {
	if c, bad := safCheckpoint(h); c == nil {
		return bad
	}
	if p == nil {
		return ais(rc.AisInvalidParam)
	}
	C.free(p)
	return ais(rc.AisOK)
}

//export saf_section_id_free
func saf_section_id_free(h C.SaCkptCheckpointHandleT, id *C.SaUint8T) (res C.SaAisErrorT) {
	defer safGuard(&res, debug.SetPanicOnFault(true))
	return safFree(h, unsafe.Pointer(id))
}

//export saf_io_vector_element_data_free
func saf_io_vector_element_data_free(h C.SaCkptCheckpointHandleT, data unsafe.Pointer) (res C.SaAisErrorT) {
	defer safGuard(&res, debug.SetPanicOnFault(true))
	return safFree(h, data)
}
