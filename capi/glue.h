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

#endif
