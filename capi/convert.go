package main

/*
#include <stdlib.h>
#include <string.h>
#include "glue.h"
*/
import "C"

import (
	"bytes"
	"math/bits"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/clckpt/libclckpt/ckpt"
)

// What the caller passes in (ids, data) is copied into Go memory here, on the goroutine of the
// call: a bad pointer then faults where guard recovers it, and the engine never sees the caller's
// memory. Only a read's destination buffer is a view of C memory, filled during the call. Memory handed to the caller comes from
// C.malloc, so that clHeapFree releases it.

// nameFromC returns the checkpoint name a ClNameT holds: exactly its first length bytes, NULs
// included, so that distinct names are distinct checkpoints. A length above CL_MAX_NAME_LENGTH is
// refused.
func nameFromC(n *C.ClNameT) (string, bool) {
	length := int(n.length)
	if length > C.CL_MAX_NAME_LENGTH {
		return "", false
	}
	return string(unsafe.Slice((*byte)(unsafe.Pointer(&n.value[0])), length)), true
}

func attrsFromC(a *C.ClCkptCheckpointCreationAttributesT) *ckpt.Attributes {
	if a == nil {
		return nil
	}
	return &ckpt.Attributes{
		Flags:            ckpt.CreationFlags(a.creationFlags),
		CheckpointSize:   uint64(a.checkpointSize),
		Retention:        time.Duration(a.retentionDuration),
		MaxSections:      uint32(a.maxSections),
		MaxSectionSize:   uint64(a.maxSectionSize),
		MaxSectionIDSize: uint64(a.maxSectionIdSize),
	}
}

func attrsToC(a *ckpt.Attributes, out *C.ClCkptCheckpointCreationAttributesT) {
	out.creationFlags = C.ClCkptCreationFlagsT(a.Flags)
	out.checkpointSize = C.ClSizeT(a.CheckpointSize)
	out.retentionDuration = C.ClTimeT(a.Retention)
	out.maxSections = C.ClUint32T(a.MaxSections)
	out.maxSectionSize = C.ClSizeT(a.MaxSectionSize)
	out.maxSectionIdSize = C.ClSizeT(a.MaxSectionIDSize)
}

// sectionID returns a copy of the id bytes of a section id; nil (the default section, or a
// generated id at creation) when id is NULL or idLen is 0.
func sectionID(s *C.ClCkptSectionIdT) []byte {
	if s.id == nil || s.idLen == 0 {
		return nil
	}
	return bytes.Clone(unsafe.Slice((*byte)(unsafe.Pointer(s.id)), int(s.idLen)))
}

// goBytes copies n bytes of C memory.
func goBytes(p unsafe.Pointer, n C.ClSizeT) []byte {
	if n == 0 {
		return []byte{}
	}
	return bytes.Clone(unsafe.Slice((*byte)(p), int(n)))
}

// The data of a write is copied on entry, so that the local store and every replica get the same
// bytes even if the caller changes its buffer during the call (a bug of the caller's, which must
// cost it a torn value at worst, never replicas that differ). The engine keeps nothing it is given
// once a call returns (ckpt.Checkpoint), so the copy of a small write can serve the next one:
// copyIn takes a buffer from scratchPool and release gives it back, which spares the host process
// an allocation per call and the collections they bring.
var scratchPool sync.Pool // of *[]byte, capacities powers of two from scratchMin to scratchMax

const (
	scratchMin = 1 << 10
	scratchMax = 64 << 10 // larger writes get a buffer of their own: the pool holds no megabytes
)

// copyIn copies n bytes of C memory for the length of one call; release(buf) after the call.
func copyIn(p unsafe.Pointer, n C.ClSizeT) (data []byte, buf *[]byte) {
	if n == 0 || n > scratchMax {
		return goBytes(p, n), nil
	}
	buf, _ = scratchPool.Get().(*[]byte)
	if buf == nil || cap(*buf) < int(n) {
		b := make([]byte, 0, max(scratchMin, 1<<bits.Len(uint(n-1))))
		buf = &b
	}
	*buf = append((*buf)[:0], unsafe.Slice((*byte)(p), int(n))...)
	return *buf, buf
}

// release returns a buffer of copyIn to the pool (nil: nothing to return).
func release(buf *[]byte) {
	if buf != nil {
		scratchPool.Put(buf)
	}
}

// cBuffer views n bytes of the caller's memory, for a read to fill during the call.
func cBuffer(p unsafe.Pointer, n C.ClSizeT) []byte {
	if n == 0 {
		return []byte{}
	}
	return unsafe.Slice((*byte)(p), int(n))
}

// cCopy copies b into new C memory of at least size bytes (zero-filled beyond b).
func cCopy(b []byte, size int) unsafe.Pointer {
	size = max(size, len(b), 1)
	p := C.calloc(C.size_t(cSize(size)), 1)
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
	if !t.Before(ckpt.Never) {
		return C.ClTimeT(C.CL_TIME_END)
	}
	return C.ClTimeT(t.UnixNano())
}

// timeDuration converts a ClTimeT duration.
func timeDuration(t C.ClTimeT) time.Duration { return time.Duration(t) }

// probeOutput makes a bad output pointer fault (a panic that guard turns into an error code) before
// the call changes anything, so that no handle is left behind: an atomic add of 0 writes the 8
// bytes without changing them, and cannot be optimised away.
func probeOutput(p unsafe.Pointer) { atomic.AddUint64((*uint64)(p), 0) }

// cSize is what cCopy allocates for size bytes: small sizes are rounded up to a power of two (32 B
// to 1 KiB). The caller frees what it gets on its own thread, and glibc keeps up to 7 freed chunks
// of each size class per thread (tcache, classes of 16 B up to 1 KiB): with exact sizes, a thread
// that reads sections of many sizes ends up holding about 230 KiB of cached chunks, and a long run
// sees the C heap creep up for tens of minutes; with six classes it is at most 14 KiB per thread,
// reached at once. Larger chunks are not cached per thread.
func cSize(size int) int {
	if size > 1024 {
		return size
	}
	n := 32
	for n < size {
		n <<= 1
	}
	return n
}
