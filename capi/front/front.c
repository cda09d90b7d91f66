/*
 * libclckpt.so: the library C programs link with. It holds no checkpoint logic: each clCkpt*
 * function forwards to the Go core (libclckpt-core.so), which this file loads with dlopen() at the
 * first clCkptInitialize.
 *
 * Why a separate front: a Go shared library starts its runtime (threads) as soon as it is loaded, and
 * a process that forks after that leaves a child whose Go runtime hangs. Legacy daemons fork to
 * daemonize after the dynamic linker has loaded their libraries; loading the Go part only in
 * clCkptInitialize makes that fork harmless. A child forked after the core was loaded can never use
 * it: every call there returns CL_CKPT_ERR_INVALID_STATE instead of hanging.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <clCkptIpi.h>

#include "../core.h"
#include "front.h"

static const struct clckpt_core *core;      /* set once; read with acquire loads */
static volatile int forked_after_load;        /* set in a child by the atfork handler */
static pthread_mutex_t load_lock = PTHREAD_MUTEX_INITIALIZER;

static void on_fork_child(void) { forked_after_load = 1; }

static const struct clckpt_core *loaded(void) { return __atomic_load_n(&core, __ATOMIC_ACQUIRE); }

/* Finds the core: CLCKPT_CORE_LIBRARY, else CLCKPT_CORE_SONAME in the directory of this library. */
static void *open_core(void) {
    const char *path = getenv("CLCKPT_CORE_LIBRARY");
    char buf[PATH_MAX];
    if (path == NULL || path[0] == '\0') {
        Dl_info info;
        const char *slash;
        if (dladdr((void *)&clCkptInitialize, &info) == 0 || info.dli_fname == NULL ||
            (slash = strrchr(info.dli_fname, '/')) == NULL) {
            path = CLCKPT_CORE_SONAME; /* let the dynamic linker search */
        } else {
            int n = snprintf(buf, sizeof buf, "%.*s/%s", (int)(slash - info.dli_fname), info.dli_fname, CLCKPT_CORE_SONAME);
            if (n < 0 || (size_t)n >= sizeof buf)
                return NULL;
            path = buf;
        }
    }
    void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (h == NULL)
        fprintf(stderr, "clckpt: cannot load %s: %s\n", path, dlerror());
    return h;
}

static int load_core(void) {
    int rc = 0;
    pthread_mutex_lock(&load_lock);
    if (loaded() == NULL) {
        void *h = open_core();
        const struct clckpt_core *(*get)(void) = NULL;
        if (h != NULL)
            *(void **)&get = dlsym(h, "clckpt_core_get");
        const struct clckpt_core *t = get != NULL ? get() : NULL;
        if (t == NULL || t->abi != CLCKPT_CORE_ABI) {
            if (h != NULL)
                fprintf(stderr, "clckpt: %s is not a compatible core (interface %u, this library needs %u)\n",
                        CLCKPT_CORE_SONAME, t != NULL ? t->abi : 0u, (unsigned)CLCKPT_CORE_ABI);
            rc = -1; /* a Go library cannot be unloaded: keep the handle */
        } else {
            pthread_atfork(NULL, NULL, on_fork_child);
            __atomic_store_n(&core, t, __ATOMIC_RELEASE);
        }
    }
    pthread_mutex_unlock(&load_lock);
    return rc;
}

ClRcT clCkptInitialize(ClCkptSvcHdlT *ckptSvcHandle, const ClCkptCallbacksT *callbacks, ClVersionT *version) {
    if (forked_after_load)
        return CL_CKPT_ERR_INVALID_STATE;
    if (loaded() == NULL && load_core() != 0)
        return CL_CKPT_ERR_NO_RESOURCE;
    return loaded()->initialize(ckptSvcHandle, (ClCkptCallbacksT *)callbacks, version);
}

const struct clckpt_core *clckpt_front_loaded(void) { return loaded(); }

int clckpt_front_forked(void) { return forked_after_load; }

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
