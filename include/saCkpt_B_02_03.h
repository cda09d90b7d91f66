/*
 * saCkpt_B_02_03.h - OpenSAF's B.02.03 checkpoint track extension (not a
 * SAF standard).  Include after or instead of saCkpt.h; link -lSaCkpt.
 *
 * The track callback shares its slot with the NCS arrival callback
 * (cpsv_papi.h), as in OpenSAF: see there for what a callback receives and
 * which checkpoints notify.  A checkpoint handle opened with READ is tracked
 * after saCkptCheckpointTrack on it, or while saCkptTrack is on for its
 * library handle (or an arrival callback is registered there).  Callbacks
 * run in saCkptDispatch, on the caller's thread.
 */
#ifndef SA_CKPT_B_02_03_H
#define SA_CKPT_B_02_03_H

#include <saCkpt.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Receives the tracking checkpoint handle and one element per changed
 * element (dataBuffer NULL, readSize 0), in saCkptDispatch; the vector is
 * valid until the callback returns. */
typedef void (*SaCkptCheckpointTrackCallbackT)(SaCkptCheckpointHandleT checkpointHandle,
                                               SaCkptIOVectorElementT *ioVector, SaUint32T numberOfElements);

typedef struct {
    SaCkptCheckpointOpenCallbackT saCkptCheckpointOpenCallback;
    SaCkptCheckpointSynchronizeCallbackT saCkptCheckpointSynchronizeCallback;
    SaCkptCheckpointTrackCallbackT saCkptCheckpointTrackCallback;
} SaCkptCallbacksT_2;

/*
 * saCkptInitialize_2 - saCkptInitialize with a track callback as well.
 * Same returns and version rules as saCkptInitialize.
 */
extern SaAisErrorT saCkptInitialize_2(SaCkptHandleT *ckptHandle, const SaCkptCallbacksT_2 *callbacks,
                                      SaVersionT *version);

/*
 * saCkptTrack / saCkptTrackStop - track every checkpoint of the library
 * handle; saCkptCheckpointTrack / saCkptCheckpointTrackStop - one.
 *
 * Returns:
 *   SA_AIS_OK
 *   SA_AIS_ERR_BAD_HANDLE     not a live handle of the right kind.
 *   SA_AIS_ERR_VERSION        the handle was initialized below B.02.03.
 *   SA_AIS_ERR_INIT           no track callback was registered
 *                             (saCkptInitialize_2).
 * Stopping what was not started is not an error.  Changes made before the
 * call are not reported.
 */
extern SaAisErrorT saCkptTrack(SaCkptHandleT ckptHandle);
extern SaAisErrorT saCkptTrackStop(SaCkptHandleT ckptHandle);
extern SaAisErrorT saCkptCheckpointTrack(SaCkptCheckpointHandleT checkpointHandle);
extern SaAisErrorT saCkptCheckpointTrackStop(SaCkptCheckpointHandleT checkpointHandle);

#ifdef __cplusplus
}
#endif

#endif /* SA_CKPT_B_02_03_H */
