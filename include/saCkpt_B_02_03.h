/*
 * saCkpt_B_02_03.h - OpenSAF's B.02.03 checkpoint track extension (not a
 * SAF standard).  Include after or instead of saCkpt.h; link -lSaCkpt.
 *
 * STATUS IN THIS LIBRARY: the types and calls exist and check their
 * arguments, but change tracking is not implemented yet: saCkptTrack and
 * saCkptCheckpointTrack return SA_AIS_ERR_NOT_SUPPORTED once their
 * arguments are valid, and no track callback is ever called.
 */
#ifndef SA_CKPT_B_02_03_H
#define SA_CKPT_B_02_03_H

#include <saCkpt.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Would receive the reader's checkpoint handle and one element per
 * written element (dataBuffer NULL, readSize 0), in saCkptDispatch. */
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
 *   SA_AIS_ERR_BAD_HANDLE     not a live handle of the right kind.
 *   SA_AIS_ERR_VERSION        the handle was initialized below B.02.03.
 *   SA_AIS_ERR_INIT           no track callback was registered
 *                             (saCkptInitialize_2).
 *   SA_AIS_ERR_NOT_SUPPORTED  otherwise (saCkptTrack, saCkptCheckpointTrack);
 *   SA_AIS_OK                 otherwise (the Stop calls: nothing is tracked).
 */
extern SaAisErrorT saCkptTrack(SaCkptHandleT ckptHandle);
extern SaAisErrorT saCkptTrackStop(SaCkptHandleT ckptHandle);
extern SaAisErrorT saCkptCheckpointTrack(SaCkptCheckpointHandleT checkpointHandle);
extern SaAisErrorT saCkptCheckpointTrackStop(SaCkptCheckpointHandleT checkpointHandle);

#ifdef __cplusplus
}
#endif

#endif /* SA_CKPT_B_02_03_H */
