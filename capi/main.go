// Command capi is built with -buildmode=c-shared into libclckpt-core.so, the Go part of the C
// library. The front library (capi/front) loads it at the first clCkptInitialize and calls it
// through the table of glue.c; each exported function here is a short adapter: check the C
// arguments, look up the handle, convert, call the engine, map the error (capi/rc).
package main

/*
#cgo CFLAGS: -I${SRCDIR}/../include -I${SRCDIR} -O2 -Wall
#include <stdlib.h>
#include "glue.h"
*/
import "C"

import (
	"os"

	"github.com/clckpt/libclckpt/internal/procstats"
)

func main() {}

// The core lives as long as the host program: no heap sampling unless a profile was asked for.
func init() { procstats.SampleHeap(os.Getenv("CLCKPT_MEMPROFILE") != "") }
