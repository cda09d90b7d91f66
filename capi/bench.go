package main

/*
#include "glue.h"
*/
import "C"

import (
	"runtime/debug"
	"time"
	"unsafe"

	"github.com/clckpt/libclckpt/capi/rc"
	"github.com/clckpt/libclckpt/ckpt"
)

// clckpt_bench_engine runs the same calls as the C API's benchmark directly on the engine, so that
// bench/capi can measure what the C layer adds. Not part of the API: the front library does not
// export it; the benchmark finds it in the core's table.
//
//export clckpt_bench_engine
func clckpt_bench_engine(h C.ClCkptHdlT, op C.ClUint32T, sid *C.ClCkptSectionIdT, buf unsafe.Pointer, size C.ClSizeT, n C.ClUint32T, nanos *C.ClInt64T) (res C.ClRcT) {
	defer guard(&res, debug.SetPanicOnFault(true))
	c, bad := lookupCheckpoint(h)
	if c == nil {
		return bad
	}
	id := sectionID(sid)
	data := goBytes(buf, size)
	out := unsafe.Slice(nanos, int(n))
	elems := make([]ckpt.ReadElement, 1)
	for i := range out {
		start := time.Now()
		var err error
		if op == 0 {
			err = c.ck.Overwrite(bg, id, data)
		} else {
			elems[0] = ckpt.ReadElement{SectionID: id, Buffer: data}
			err = c.ck.Read(bg, elems)
		}
		out[i] = C.ClInt64T(time.Since(start))
		if err != nil {
			return C.ClRcT(rc.FromError(err))
		}
	}
	return code(rc.OK)
}
