/*
 * libclckpt.so: the library C programs link with. It holds no checkpoint logic: each clCkpt*
 * function forwards to the Go core (libclckpt-core.so), which loader.c loads with dlopen() at the
 * first clCkptInitialize (see there why). A child forked after the core was loaded can never use
 * it: every call there returns CL_CKPT_ERR_INVALID_STATE instead of hanging.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdlib.h>

#include <clCkptIpi.h>

#include "../core.h"
#include "../saf_core.h"
#include "loader.h"
#include "front.h"

static const struct clckpt_core *core; /* set once; read with acquire loads */
static const struct saf_core *saf;     /* the core's other table: it tells a forked child (plain C) */

static const struct clckpt_core *loaded(void) { return __atomic_load_n(&core, __ATOMIC_ACQUIRE); }

static int load_core(void) {
    const struct clckpt_core *t = front_load_table("clckpt_core_get", CLCKPT_CORE_ABI);
    if (t == NULL)
        return -1;
    __atomic_store_n(&saf, front_load_table("saf_core_get", SAF_CORE_ABI), __ATOMIC_RELEASE);
    __atomic_store_n(&core, t, __ATOMIC_RELEASE);
    return 0;
}

/* A child forked after the core was loaded, by this library or by libSaCkpt.so. */
static int forked(void) {
    const struct saf_core *s = __atomic_load_n(&saf, __ATOMIC_ACQUIRE);
    return front_forked() || (s != NULL && s->forked());
}

ClRcT clCkptInitialize(ClCkptSvcHdlT *ckptSvcHandle, const ClCkptCallbacksT *callbacks, ClVersionT *version) {
    if (front_forked())
        return CL_CKPT_ERR_INVALID_STATE;
    if (loaded() == NULL && load_core() != 0)
        return CL_CKPT_ERR_NO_RESOURCE;
    if (forked())
        return CL_CKPT_ERR_INVALID_STATE;
    return loaded()->initialize(ckptSvcHandle, (ClCkptCallbacksT *)callbacks, version);
}

/* For the other files of this library (front.h): they forward with FORWARD too. */
const struct clckpt_core *clckpt_front_loaded(void) { return loaded(); }

int clckpt_front_forked(void) { return forked(); }

ClRcT clCkptFinalize(ClCkptSvcHdlT ckptHandle) { FORWARD(finalize, ckptHandle); }

ClRcT clCkptCheckpointOpen(ClCkptSvcHdlT ckptHandle, const ClNameT *ckeckpointName,
                           const ClCkptCheckpointCreationAttributesT *checkpointCreationAttributes,
                           ClCkptOpenFlagsT checkpointOpenFlags, ClTimeT timeout, ClCkptHdlT *checkpointHandle) {
    FORWARD(checkpoint_open, ckptHandle, (ClNameT *)ckeckpointName,
            (ClCkptCheckpointCreationAttributesT *)checkpointCreationAttributes, checkpointOpenFlags, timeout,
            checkpointHandle);
}

ClRcT clCkptCheckpointOpenAsync(ClCkptSvcHdlT ckptHandle, ClInvocationT invocation, const ClNameT *checkpointName,
                                const ClCkptCheckpointCreationAttributesT *checkpoiNtCreationAttributes,
                                ClCkptOpenFlagsT checkpointOpenFlags) {
    FORWARD(checkpoint_open_async, ckptHandle, invocation, (ClNameT *)checkpointName,
            (ClCkptCheckpointCreationAttributesT *)checkpoiNtCreationAttributes, checkpointOpenFlags);
}

ClRcT clCkptCheckpointClose(ClCkptHdlT checkpointHandle) { FORWARD(checkpoint_close, checkpointHandle); }

ClRcT clCkptCheckpointDelete(ClCkptSvcHdlT ckptHandle, const ClNameT *checkpointName) {
    FORWARD(checkpoint_delete, ckptHandle, (ClNameT *)checkpointName);
}

ClRcT clCkptCheckpointRetentionDurationSet(ClCkptHdlT checkpointHandle, ClTimeT retentionDuration) {
    FORWARD(checkpoint_retention_duration_set, checkpointHandle, retentionDuration);
}

ClRcT clCkptActiveReplicaSet(ClCkptHdlT checkpointHandle) { FORWARD(active_replica_set, checkpointHandle); }

ClRcT clCkptCheckpointStatusGet(ClCkptHdlT checkpointHandle, ClCkptCheckpointDescriptorT *checkpointStatus) {
    FORWARD(checkpoint_status_get, checkpointHandle, checkpointStatus);
}

ClRcT clCkptSectionCreate(ClCkptHdlT checkpointHandle, ClCkptSectionCreationAttributesT *sectionCreationAttributes,
                          const ClUint8T *initialData, ClSizeT initialDataSize) {
    FORWARD(section_create, checkpointHandle, sectionCreationAttributes, (ClUint8T *)initialData, initialDataSize);
}

ClRcT clCkptSectionDelete(ClCkptHdlT checkpointHandle, const ClCkptSectionIdT *sectionId) {
    FORWARD(section_delete, checkpointHandle, (ClCkptSectionIdT *)sectionId);
}

ClRcT clCkptSectionExpirationTimeSet(ClCkptHdlT checkpointHandle, const ClCkptSectionIdT *sectionId,
                                     ClTimeT expirationTime) {
    FORWARD(section_expiration_time_set, checkpointHandle, (ClCkptSectionIdT *)sectionId, expirationTime);
}

ClRcT clCkptSectionIterationInitialize(ClCkptHdlT checkpointHandle, ClCkptSectionsChosenT sectionsChosen,
                                       ClTimeT expirationTime, ClHandleT *sectionIterationHandle) {
    FORWARD(section_iteration_initialize, checkpointHandle, sectionsChosen, expirationTime, sectionIterationHandle);
}

ClRcT clCkptSectionIterationNext(ClHandleT sectionIterationHandle, ClCkptSectionDescriptorT *sectionDescriptor) {
    FORWARD(section_iteration_next, sectionIterationHandle, sectionDescriptor);
}

ClRcT clCkptSectionIterationFinalize(ClHandleT sectionIterationHandle) {
    FORWARD(section_iteration_finalize, sectionIterationHandle);
}

ClRcT clCkptCheckpointWrite(ClCkptHdlT checkpointHandle, const ClCkptIOVectorElementT *ioVector,
                            ClUint32T numberOfElements, ClUint32T *erroneousVectorIndex) {
    FORWARD(checkpoint_write, checkpointHandle, (ClCkptIOVectorElementT *)ioVector, numberOfElements,
            erroneousVectorIndex);
}

ClRcT clCkptSectionOverwrite(ClCkptHdlT checkpointHandle, const ClCkptSectionIdT *sectionId, const void *dataBuffer,
                             ClSizeT dataSize) {
    FORWARD(section_overwrite, checkpointHandle, (ClCkptSectionIdT *)sectionId, (void *)dataBuffer, dataSize);
}

ClRcT clCkptCheckpointRead(ClCkptHdlT checkpointHandle, ClCkptIOVectorElementT *ioVector,
                           ClUint32T numberOfElements, ClUint32T *erroneousVectorIndex) {
    FORWARD(checkpoint_read, checkpointHandle, ioVector, numberOfElements, erroneousVectorIndex);
}

ClRcT clCkptCheckpointSynchronize(ClCkptHdlT ckeckpointHandle, ClTimeT timeout) {
    FORWARD(checkpoint_synchronize, ckeckpointHandle, timeout);
}

ClRcT clCkptCheckpointSynchronizeAsync(ClCkptHdlT checkpointHandle, ClInvocationT invocation) {
    FORWARD(checkpoint_synchronize_async, checkpointHandle, invocation);
}

ClRcT clCkptImmediateConsumptionRegister(ClCkptHdlT checkpointHandle, ClCkptNotificationCallbackT callback,
                                         ClPtrT pCookie) {
    FORWARD(immediate_consumption_register, checkpointHandle, callback, pCookie);
}

ClRcT clCkptSelectionObjectGet(ClCkptSvcHdlT ckptHandle, ClSelectionObjectT *selectionObject) {
    FORWARD(selection_object_get, ckptHandle, selectionObject);
}

ClRcT clCkptDispatch(ClCkptSvcHdlT ckptHandle, ClDispatchFlagsT dispatchFlags) {
    FORWARD(dispatch, ckptHandle, dispatchFlags);
}

/* clCkptIpi.h: the section check has a core entry of its own; the other three are API functions
 * under other names. */
ClRcT clCkptSectionCheck(ClCkptHdlT checkpointHandle, ClCkptSectionIdT *sectionId) {
    FORWARD(section_check, checkpointHandle, sectionId);
}

ClRcT clCkptActiveReplicaSetSwitchOver(ClCkptHdlT checkpointHandle) {
    return clCkptActiveReplicaSet(checkpointHandle);
}

ClRcT clCkptSectionOverwriteLinear(ClCkptHdlT checkpointHandle, const ClCkptSectionIdT *sectionId,
                                   const void *dataBuffer, ClSizeT dataSize) {
    return clCkptSectionOverwrite(checkpointHandle, sectionId, dataBuffer, dataSize);
}

ClRcT clCkptCheckpointWriteLinear(ClCkptHdlT checkpointHandle, const ClCkptIOVectorElementT *ioVector,
                                  ClUint32T numberOfElements, ClUint32T *erroneousVectorIndex) {
    return clCkptCheckpointWrite(checkpointHandle, ioVector, numberOfElements, erroneousVectorIndex);
}
