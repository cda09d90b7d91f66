/*
 * cpsv_papi.h - the NCS checkpoint extension: hot-standby arrival callback.
 * Also reachable as <opensaf/cpsv_papi.h>.  Link -lSaCkpt.
 *
 *
 * Hot standby: a reader registers the arrival callback on its library
 * handle, opens the checkpoint with READ, and in saCkptDispatch learns of
 * every change another handle makes (in this process or another): a section
 * created, written (one element per written element), overwritten, or
 * deleted (dataSize 0).  It passes the vector to saCkptCheckpointRead, with
 * buffers of its own or dataBuffer NULL, to fetch the data.  The writing
 * handle, and handles without READ, get nothing.
 *
 * Which checkpoints notify: any checkpoint, whatever its creation flags,
 * in any process or host.  The changes come from a replica in the reader's
 * process: every process that opens a COLLOCATED checkpoint holds one; for
 * other checkpoints a process that holds none gets one while it follows
 * (it joins the replica set and the active replica sends it a copy, within
 * the open or the registration call, which return once the copy is in
 * sync), and gives it up when the last such handle is closed, unless it is
 * by then the active replica.  While it holds it, writes to a
 * SA_CKPT_WR_ALL_REPLICAS checkpoint also wait for that replica.
 */
#ifndef CPSV_PAPI_H
#define CPSV_PAPI_H

#include <saCkpt.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Receives, in saCkptDispatch, the reader's own checkpoint handle and one
 * element per changed element (section id, offset, size; dataBuffer NULL,
 * readSize 0); the vector and its ids are valid until the callback returns. */
typedef void (*ncsCkptCkptArrivalCallbackT)(const SaCkptCheckpointHandleT checkpointHandle,
                                            SaCkptIOVectorElementT *ioVector, SaUint32T numberOfElements);

/*
 * ncsCkptRegisterCkptArrivalCallback - register the arrival callback for
 * every checkpoint opened with READ through ckptHandle, those open now and
 * those opened later.  A second call replaces the first (and a B.02.03
 * track callback: one slot).  Changes made before the call are not
 * reported.  Thread-safe.
 *
 * Returns: SA_AIS_OK; SA_AIS_ERR_BAD_HANDLE; SA_AIS_ERR_INVALID_PARAM
 * (ckptArrivalCallback NULL); SA_AIS_ERR_LIBRARY.
 */
extern SaAisErrorT ncsCkptRegisterCkptArrivalCallback(SaCkptHandleT ckptHandle,
                                                      ncsCkptCkptArrivalCallbackT ckptArrivalCallback);

#ifdef __cplusplus
}
#endif

#endif /* CPSV_PAPI_H */
