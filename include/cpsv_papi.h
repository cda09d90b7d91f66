/*
 * cpsv_papi.h - the NCS checkpoint extension: hot-standby arrival callback.
 * Also reachable as <opensaf/cpsv_papi.h>.  Link -lSaCkpt.
 *
 * STATUS IN THIS LIBRARY: registration checks its arguments and records the
 * callback, but arrival notifications are not delivered yet: no arrival
 * callback is ever called.
 */
#ifndef CPSV_PAPI_H
#define CPSV_PAPI_H

#include <saCkpt.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Would receive, in saCkptDispatch, the reader's own checkpoint handle and
 * one element per element another process wrote (section id, offset,
 * size; dataBuffer NULL, readSize 0), to be passed to saCkptCheckpointRead. */
typedef void (*ncsCkptCkptArrivalCallbackT)(const SaCkptCheckpointHandleT checkpointHandle,
                                            SaCkptIOVectorElementT *ioVector, SaUint32T numberOfElements);

/*
 * ncsCkptRegisterCkptArrivalCallback - register the arrival callback for
 * every checkpoint opened with READ through ckptHandle.  A second call
 * replaces the first.  Thread-safe.
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
