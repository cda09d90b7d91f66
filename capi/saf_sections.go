package main

// SAF calls on sections: saCkptSectionCreate, Delete, ExpirationTimeSet, IdFree.

/*
#include "saf_glue.h"
*/
import "C"

import (
	"encoding/binary"
	"errors"
	"fmt"
	"runtime/debug"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/clckpt/libclckpt/capi/rc"
	"github.com/clckpt/libclckpt/ckpt"
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
	if c.flags&ckpt.OpenWrite == 0 {
		return ais(rc.AisAccess)
	}
	sid := attrs.sectionId
	if sid.idLen == 0 { // a generated id is written back: a place that cannot take it fails now
		probeOutput(unsafe.Pointer(sid))
		probeOutput(unsafe.Pointer(&sid.id))
	}
	initial := []byte{}
	if size > 0 {
		var buf *[]byte
		initial, buf = copyIn(data, C.ClSizeT(size))
		defer release(buf)
	}
	exp := timeFromC(C.ClTimeT(attrs.expirationTime))
	var id []byte
	var err error
	if sid.idLen == 0 {
		id, err = safGenerated(c, exp, initial)
	} else {
		id, err = c.ck.CreateSection(bg, sectionID(clSection(sid)), exp, initial)
	}
	if err != nil {
		return aisErr(err)
	}
	if sid.idLen == 0 { // generated: malloc'ed, freed with saCkptSectionIdFree or free()
		sid.id = (*C.SaUint8T)(cCopy(id, len(id)))
		sid.idLen = C.SaUint16T(len(id))
	}
	return ais(rc.AisOK)
}

// safIDSeq numbers the ids the library generates.
var safIDSeq atomic.Uint32

// maxGenerateTries bounds the search for a free generated id.
const maxGenerateTries = 1000

// safGenerated creates a section with a generated id, as OpenSAF makes them: a number, big-endian,
// in min(maxSectionIdSize, 4) bytes. On a checkpoint of one default section it fails with
// ErrAlreadyExist, as creating any section there does.
func safGenerated(c *checkpoint, exp time.Time, data []byte) ([]byte, error) {
	a := safAttrs(c)
	if a == nil { // no active replica yet: the engine says so
		return c.ck.CreateSection(bg, nil, exp, data)
	}
	if a.MaxSections == 1 {
		return nil, fmt.Errorf("%w: the checkpoint has a single, default section", ckpt.ErrAlreadyExist)
	}
	size := int(min(a.MaxSectionIDSize, 4))
	if size == 0 {
		return nil, fmt.Errorf("%w: maxSectionIdSize 0 leaves no room for a generated id", ckpt.ErrInvalidParameter)
	}
	var err error
	for range maxGenerateTries {
		var full [4]byte
		binary.BigEndian.PutUint32(full[:], safIDSeq.Add(1))
		id := full[4-size:]
		if _, err = c.ck.CreateSection(bg, id, exp, data); !errors.Is(err, ckpt.ErrAlreadyExist) {
			return id, err
		}
	}
	return nil, fmt.Errorf("%w: no free generated section id (%v)", ckpt.ErrNoSpace, err)
}

// safSectionArgs checks the arguments of a call that changes one section other than the default
// one (which can be neither deleted nor expire): a handle with WRITE and a section id.
func safSectionArgs(h C.SaCkptCheckpointHandleT, sid *C.SaCkptSectionIdT) (*checkpoint, []byte, C.SaAisErrorT) {
	c, bad := safWriter(h)
	if c == nil {
		return nil, nil, bad
	}
	if sid == nil || sid.idLen == 0 || sid.id == nil {
		return nil, nil, ais(rc.AisInvalidParam)
	}
	return c, sectionID(clSection(sid)), 0
}

//export saf_section_delete
func saf_section_delete(h C.SaCkptCheckpointHandleT, sid *C.SaCkptSectionIdT) (res C.SaAisErrorT) {
	defer safGuard(&res, debug.SetPanicOnFault(true))
	c, id, bad := safSectionArgs(h, sid)
	if c == nil {
		return bad
	}
	return aisErr(c.ck.DeleteSection(bg, id))
}

//export saf_section_expiration_time_set
func saf_section_expiration_time_set(h C.SaCkptCheckpointHandleT, sid *C.SaCkptSectionIdT, expiration C.SaTimeT) (res C.SaAisErrorT) {
	defer safGuard(&res, debug.SetPanicOnFault(true))
	c, id, bad := safSectionArgs(h, sid)
	if c == nil {
		return bad
	}
	return aisErr(c.ck.SetSectionExpiration(bg, id, timeFromC(C.ClTimeT(expiration))))
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
