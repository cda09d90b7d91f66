/*
 * clCkptIpi.h - checkpoint functions outside the SA Forum API that OpenClovis ASP
 * applications call (hot-standby programs in particular).  Include it after, or instead of,
 * clCkptApi.h; the functions live in libclckpt like the rest of the API.
 */
#ifndef _CL_CKPT_IPI_H_
#define _CL_CKPT_IPI_H_

#include <clCkptApi.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * clCkptSectionCheck - tell whether a section exists.
 *
 * {0, NULL} is the default section of a checkpoint with maxSections == 1.
 * The check is a read of no bytes, so it needs READ access.
 *
 * Returns:
 *   CL_OK                          the section exists.
 *   CL_CKPT_ERR_NOT_EXIST          no such section; or collocated
 *                                  checkpoint without an active replica.
 *   CL_CKPT_ERR_INVALID_PARAMETER  sectionId is NULL.
 *   CL_CKPT_ERR_NULL_POINTER       the id is NULL on a checkpoint with
 *                                  maxSections > 1.
 *   CL_CKPT_ERR_OP_NOT_PERMITTED   opened without READ.
 *   CL_CKPT_ERR_INVALID_HANDLE     not a live checkpoint handle.
 *   CL_CKPT_ERR_NOT_INITIALIZED    the library is not initialized.
 */
extern ClRcT clCkptSectionCheck(CL_IN ClCkptHdlT checkpointHandle,
                                CL_IN ClCkptSectionIdT *sectionId);

/*
 * clCkptActiveReplicaSetSwitchOver - take the active replica at a
 * switch-over.
 *
 * The same as clCkptActiveReplicaSet (same effect, same return codes):
 * the caller's replica becomes the active one of a collocated checkpoint.
 */
extern ClRcT clCkptActiveReplicaSetSwitchOver(CL_IN ClCkptHdlT checkpointHandle);

/*
 * clCkptSectionOverwriteLinear - clCkptSectionOverwrite under another name.
 *
 * Same arguments, effect and return codes as clCkptSectionOverwrite.
 */
extern ClRcT clCkptSectionOverwriteLinear(CL_IN ClCkptHdlT checkpointHandle,
                                          CL_IN const ClCkptSectionIdT *sectionId,
                                          CL_IN const void *dataBuffer,
                                          CL_IN ClSizeT dataSize);

/*
 * clCkptCheckpointWriteLinear - clCkptCheckpointWrite under another name.
 *
 * Same arguments, effect and return codes as clCkptCheckpointWrite.
 */
extern ClRcT clCkptCheckpointWriteLinear(CL_IN ClCkptHdlT checkpointHandle,
                                         CL_IN const ClCkptIOVectorElementT *ioVector,
                                         CL_IN ClUint32T numberOfElements,
                                         CL_OUT ClUint32T *erroneousVectorIndex);

#ifdef __cplusplus
}
#endif

#endif /* _CL_CKPT_IPI_H_ */
