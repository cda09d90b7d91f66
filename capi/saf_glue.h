/* Declarations shared by the SAF Go files of the core and saf_glue.c. */
#ifndef CLCKPT_SAF_GLUE_H
#define CLCKPT_SAF_GLUE_H

#include <stdlib.h>
#include "saf_core.h"
#include "glue.h"

/* Go cannot call a C function pointer: these trampolines do. */
void saf_call_open_cb(SaCkptCheckpointOpenCallbackT f, SaInvocationT invocation, SaCkptCheckpointHandleT handle,
                      SaAisErrorT rc);
void saf_call_track_cb(SaCkptCheckpointTrackCallbackT f, SaCkptCheckpointHandleT handle, SaCkptIOVectorElementT *iov,
                       SaUint32T n);
void saf_call_sync_cb(SaCkptCheckpointSynchronizeCallbackT f, SaInvocationT invocation, SaAisErrorT rc);

#endif
