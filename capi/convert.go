package main

/*
#include <stdlib.h>
#include <string.h>
#include "glue.h"
*/
import "C"

import (
	"bytes"
	"time"
	"unsafe"

	"github.com/clckpt/libclckpt/engine"
)

// C memory read by Go: the slices below point into the caller's memory and live only during the
// call; the engine copies what it keeps. Memory handed to the caller comes from C.malloc, so that
// clHeapFree releases it.

// nameFromC returns the checkpoint name a ClNameT holds: its first length bytes (at most 255, as the
// original read them), up to the first NUL. A length above CL_MAX_NAME_LENGTH is refused.
func nameFromC(n *C.ClNameT) (string, bool) {
	length := int(n.length)
	if length > C.CL_MAX_NAME_LENGTH {
		return "", false
	}
	length = min(length, C.CL_MAX_NAME_LENGTH-1)
	b := unsafe.Slice((*byte)(unsafe.Pointer(&n.value[0])), length)
	if i := bytes.IndexByte(b, 0); i >= 0 {
		b = b[:i]
	}
	return string(b), true
}

func attrsFromC(a *C.ClCkptCheckpointCreationAttributesT) *engine.Attributes {
	if a == nil {
		return nil
	}
	return &engine.Attributes{
		Flags:            engine.CreationFlags(a.creationFlags),
		CheckpointSize:   uint64(a.checkpointSize),
		Retention:        time.Duration(a.retentionDuration),
		MaxSections:      uint32(a.maxSections),
		MaxSectionSize:   uint64(a.maxSectionSize),
		MaxSectionIDSize: uint64(a.maxSectionIdSize),
	}
}

func attrsToC(a *engine.Attributes, out *C.ClCkptCheckpointCreationAttributesT) {
	out.creationFlags = C.ClCkptCreationFlagsT(a.Flags)
	out.checkpointSize = C.ClSizeT(a.CheckpointSize)
	out.retentionDuration = C.ClTimeT(a.Retention)
	out.maxSections = C.ClUint32T(a.MaxSections)
	out.maxSectionSize = C.ClSizeT(a.MaxSectionSize)
	out.maxSectionIdSize = C.ClSizeT(a.MaxSectionIDSize)
}

// sectionID returns the id bytes of a section id; nil (the default section, or a generated id at
// creation) when id is NULL or idLen is 0.
func sectionID(s *C.ClCkptSectionIdT) []byte {
	if s.id == nil || s.idLen == 0 {
		return nil
	}
	return unsafe.Slice((*byte)(unsafe.Pointer(s.id)), int(s.idLen))
}

// goBytes views n bytes of C memory.
func goBytes(p unsafe.Pointer, n C.ClSizeT) []byte {
	if n == 0 {
		return []byte{}
	}
	return unsafe.Slice((*byte)(p), int(n))
}

// cCopy copies b into new C memory of at least size bytes (zero-filled beyond b).
func cCopy(b []byte, size int) unsafe.Pointer {
	size = max(size, len(b), 1)
	p := C.calloc(C.size_t(size), 1)
	if p == nil {
		panic("out of memory")
	}
	if len(b) > 0 {
		copy(unsafe.Slice((*byte)(p), len(b)), b)
	}
	return p
}

func timeFromC(t C.ClTimeT) time.Time { return time.Unix(0, int64(t)) }

func timeToC(t time.Time) C.ClTimeT {
	if !t.Before(engine.Never) {
		return C.ClTimeT(C.CL_TIME_END)
	}
	return C.ClTimeT(t.UnixNano())
}

// timeDuration converts a ClTimeT duration.
func timeDuration(t C.ClTimeT) time.Duration { return time.Duration(t) }
