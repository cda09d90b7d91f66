/*
 * libSaCkpt.so: the SAF AIS checkpoint library (saCkpt.h). Like libclckpt.so (front.c) it holds no
 * checkpoint logic: each saCkpt* function forwards to the same Go core, loaded by loader.c at the
 * first saCkptInitialize; the core serves both APIs with one engine. Before that, every call but
 * saCkptInitialize returns SA_AIS_ERR_BAD_HANDLE (no handle exists); in a child forked after the load,
 * every call returns SA_AIS_ERR_LIBRARY instead of hanging.
 */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>

#include <saCkpt.h>
#include <saCkpt_B_02_03.h>
#include <cpsv_papi.h>

#include "../saf_core.h"
#include "loader.h"

static const struct saf_core *core; /* set once; read with acquire loads */

static const struct saf_core *loaded(void) { return __atomic_load_n(&core, __ATOMIC_ACQUIRE); }

static SaAisErrorT initialize(SaCkptHandleT *ckptHandle, const void *callbacks, SaVersionT *version, int track) {
    if (front_forked())
        return SA_AIS_ERR_LIBRARY;
    if (loaded() == NULL) {
        const struct saf_core *t = front_load_table("saf_core_get", SAF_CORE_ABI);
        if (t == NULL)
            return SA_AIS_ERR_LIBRARY;
        __atomic_store_n(&core, t, __ATOMIC_RELEASE);
    }
    if (loaded()->forked()) /* the core was loaded (by either front) before this process forked */
        return SA_AIS_ERR_LIBRARY;
    return loaded()->initialize(ckptHandle, (void *)callbacks, version, track);
}

SaAisErrorT saCkptInitialize(SaCkptHandleT *ckptHandle, const SaCkptCallbacksT *callbacks, SaVersionT *version) {
    return initialize(ckptHandle, callbacks, version, 0);
}

SaAisErrorT saCkptInitialize_2(SaCkptHandleT *ckptHandle, const SaCkptCallbacksT_2 *callbacks, SaVersionT *version) {
    return initialize(ckptHandle, callbacks, version, 1);
}

/* Every other function: not loaded means no handle exists; a forked child may not use the core. */
#define FORWARD(field, ...)                                                                        \
    do {                                                                                           \
        const struct saf_core *c_ = loaded();                                                      \
        if (c_ == NULL)                                                                            \
            return SA_AIS_ERR_BAD_HANDLE;                                                          \
        if (front_forked() || c_->forked())                                                        \
            return SA_AIS_ERR_LIBRARY;                                                             \
        return c_->field(__VA_ARGS__);                                                             \
    } while (0)

SaAisErrorT saCkptSelectionObjectGet(SaCkptHandleT ckptHandle, SaSelectionObjectT *selectionObject) {
    FORWARD(selection_object_get, ckptHandle, selectionObject);
}

SaAisErrorT saCkptDispatch(SaCkptHandleT ckptHandle, SaDispatchFlagsT dispatchFlags) {
    FORWARD(dispatch, ckptHandle, dispatchFlags);
}

SaAisErrorT saCkptFinalize(SaCkptHandleT ckptHandle) { FORWARD(finalize, ckptHandle); }

SaAisErrorT saCkptCheckpointOpen(SaCkptHandleT ckptHandle, const SaNameT *checkpointName,
                                 const SaCkptCheckpointCreationAttributesT *checkpointCreationAttributes,
                                 SaCkptCheckpointOpenFlagsT checkpointOpenFlags, SaTimeT timeout,
                                 SaCkptCheckpointHandleT *checkpointHandle) {
    FORWARD(checkpoint_open, ckptHandle, (SaNameT *)checkpointName,
            (SaCkptCheckpointCreationAttributesT *)checkpointCreationAttributes, checkpointOpenFlags, timeout,
            checkpointHandle);
}

SaAisErrorT saCkptCheckpointOpenAsync(SaCkptHandleT ckptHandle, SaInvocationT invocation, const SaNameT *checkpointName,
                                      const SaCkptCheckpointCreationAttributesT *checkpointCreationAttributes,
                                      SaCkptCheckpointOpenFlagsT checkpointOpenFlags) {
    FORWARD(checkpoint_open_async, ckptHandle, invocation, (SaNameT *)checkpointName,
            (SaCkptCheckpointCreationAttributesT *)checkpointCreationAttributes, checkpointOpenFlags);
}

SaAisErrorT saCkptCheckpointClose(SaCkptCheckpointHandleT checkpointHandle) {
    FORWARD(checkpoint_close, checkpointHandle);
}

SaAisErrorT saCkptCheckpointUnlink(SaCkptHandleT ckptHandle, const SaNameT *checkpointName) {
    FORWARD(checkpoint_unlink, ckptHandle, (SaNameT *)checkpointName);
}

SaAisErrorT saCkptCheckpointRetentionDurationSet(SaCkptCheckpointHandleT checkpointHandle, SaTimeT retentionDuration) {
    FORWARD(retention_duration_set, checkpointHandle, retentionDuration);
}

SaAisErrorT saCkptActiveReplicaSet(SaCkptCheckpointHandleT checkpointHandle) {
    FORWARD(active_replica_set, checkpointHandle);
}

SaAisErrorT saCkptCheckpointStatusGet(SaCkptCheckpointHandleT checkpointHandle,
                                      SaCkptCheckpointDescriptorT *checkpointStatus) {
    FORWARD(status_get, checkpointHandle, checkpointStatus);
}

SaAisErrorT saCkptSectionCreate(SaCkptCheckpointHandleT checkpointHandle,
                                SaCkptSectionCreationAttributesT *sectionCreationAttributes, const void *initialData,
                                SaSizeT initialDataSize) {
    FORWARD(section_create, checkpointHandle, sectionCreationAttributes, (void *)initialData, initialDataSize);
}

SaAisErrorT saCkptSectionDelete(SaCkptCheckpointHandleT checkpointHandle, const SaCkptSectionIdT *sectionId) {
    FORWARD(section_delete, checkpointHandle, (SaCkptSectionIdT *)sectionId);
}

SaAisErrorT saCkptSectionIdFree(SaCkptCheckpointHandleT checkpointHandle, SaUint8T *id) {
    FORWARD(section_id_free, checkpointHandle, id);
}

SaAisErrorT saCkptSectionExpirationTimeSet(SaCkptCheckpointHandleT checkpointHandle, const SaCkptSectionIdT *sectionId,
                                           SaTimeT expirationTime) {
    FORWARD(section_expiration_time_set, checkpointHandle, (SaCkptSectionIdT *)sectionId, expirationTime);
}

SaAisErrorT saCkptSectionIterationInitialize(SaCkptCheckpointHandleT checkpointHandle,
                                             SaCkptSectionsChosenT sectionsChosen, SaTimeT expirationTime,
                                             SaCkptSectionIterationHandleT *sectionIterationHandle) {
    FORWARD(iteration_initialize, checkpointHandle, sectionsChosen, expirationTime, sectionIterationHandle);
}

SaAisErrorT saCkptSectionIterationNext(SaCkptSectionIterationHandleT sectionIterationHandle,
                                       SaCkptSectionDescriptorT *sectionDescriptor) {
    FORWARD(iteration_next, sectionIterationHandle, sectionDescriptor);
}

SaAisErrorT saCkptSectionIterationFinalize(SaCkptSectionIterationHandleT sectionIterationHandle) {
    FORWARD(iteration_finalize, sectionIterationHandle);
}

SaAisErrorT saCkptCheckpointWrite(SaCkptCheckpointHandleT checkpointHandle, const SaCkptIOVectorElementT *ioVector,
                                  SaUint32T numberOfElements, SaUint32T *erroneousVectorIndex) {
    FORWARD(checkpoint_write, checkpointHandle, (SaCkptIOVectorElementT *)ioVector, numberOfElements,
            erroneousVectorIndex);
}

SaAisErrorT saCkptSectionOverwrite(SaCkptCheckpointHandleT checkpointHandle, const SaCkptSectionIdT *secId,
                                   const void *dataBuffer, SaSizeT dataSize) {
    FORWARD(section_overwrite, checkpointHandle, (SaCkptSectionIdT *)secId, (void *)dataBuffer, dataSize);
}

SaAisErrorT saCkptCheckpointRead(SaCkptCheckpointHandleT checkpointHandle, SaCkptIOVectorElementT *ioVector,
                                 SaUint32T numberOfElements, SaUint32T *erroneousVectorIndex) {
    FORWARD(checkpoint_read, checkpointHandle, ioVector, numberOfElements, erroneousVectorIndex);
}

SaAisErrorT saCkptIOVectorElementDataFree(SaCkptCheckpointHandleT checkpointHandle, void *data) {
    FORWARD(io_vector_element_data_free, checkpointHandle, data);
}

SaAisErrorT saCkptCheckpointSynchronize(SaCkptCheckpointHandleT checkpointHandle, SaTimeT timeout) {
    FORWARD(checkpoint_synchronize, checkpointHandle, timeout);
}

SaAisErrorT saCkptCheckpointSynchronizeAsync(SaCkptCheckpointHandleT checkpointHandle, SaInvocationT invocation) {
    FORWARD(checkpoint_synchronize_async, checkpointHandle, invocation);
}

SaAisErrorT saCkptTrack(SaCkptHandleT ckptHandle) { FORWARD(track, ckptHandle, 1, 1); }
SaAisErrorT saCkptTrackStop(SaCkptHandleT ckptHandle) { FORWARD(track, ckptHandle, 1, 0); }
SaAisErrorT saCkptCheckpointTrack(SaCkptCheckpointHandleT checkpointHandle) { FORWARD(track, checkpointHandle, 0, 1); }
SaAisErrorT saCkptCheckpointTrackStop(SaCkptCheckpointHandleT checkpointHandle) {
    FORWARD(track, checkpointHandle, 0, 0);
}

SaAisErrorT ncsCkptRegisterCkptArrivalCallback(SaCkptHandleT ckptHandle, ncsCkptCkptArrivalCallbackT ckptArrivalCallback) {
    FORWARD(arrival_callback_register, ckptHandle, ckptArrivalCallback);
}

/* saAisNameLend / saAisNameBorrow: plain C, no core needed. A long name is marked with a length
 * no ordinary name has and carries the pointer to its string at offset 8 (read by the core:
 * safName in capi/saf_runtime.go). */
#define SAF_LENT_NAME_MAGIC 0xcd2b

void saAisNameLend(const char *value, SaNameT *name) {
    if (value == NULL || name == NULL)
        return;
    size_t n = strlen(value);
    SaUint16T *length = (SaUint16T *)name;
    unsigned char *bytes = (unsigned char *)name + sizeof(SaUint16T);
    if (n < SA_MAX_UNEXTENDED_NAME_LENGTH) {
        *length = (SaUint16T)n;
        memcpy(bytes, value, n + 1);
        return;
    }
    *length = SAF_LENT_NAME_MAGIC;
    memcpy(bytes + 6, &value, sizeof value);
}

const char *saAisNameBorrow(const SaNameT *name) {
    const char *p;
    if (name == NULL)
        return NULL;
    const unsigned char *bytes = (const unsigned char *)name + sizeof(SaUint16T);
    if (*(const SaUint16T *)name == SAF_LENT_NAME_MAGIC) {
        memcpy(&p, bytes + 6, sizeof p);
        return p;
    }
    return (const char *)bytes;
}
