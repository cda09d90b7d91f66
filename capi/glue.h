/* Declarations shared by the Go files of the core and glue.c. */
#ifndef CLCKPT_GLUE_H
#define CLCKPT_GLUE_H

#include "core.h"

/* Go cannot call a C function pointer: these trampolines do. */
void clckpt_call_open_cb(ClCkptCheckpointOpenCallbackT f, ClInvocationT invocation, ClCkptHdlT handle, ClRcT rc);
void clckpt_call_sync_cb(ClCkptCheckpointSynchronizeCallbackT f, ClInvocationT invocation, ClRcT rc);
ClRcT clckpt_call_notify_cb(ClCkptNotificationCallbackT f, ClCkptHdlT handle, ClNameT *name,
                            ClCkptIOVectorElementT *iov, ClUint32T n, ClPtrT cookie);

/* The checkpoint handle whose notification callback this thread is running; 0 when none. */
ClCkptHdlT clckpt_delivering(void);

/* clckpt_written tells valgrind's memcheck that the core wrote the n bytes at p (an output it cleared
   and filled): memcheck cannot follow Go's stack switches and may mark Go memory uninitialised, a
   mark that every copy out of it carries into the caller's memory, where it would be reported
   against the caller (ctests/vgcheck). A no-op outside valgrind, and when valgrind's headers were
   not there at build time. */
void clckpt_written(void *p, size_t n);

#endif
