/* The SAF callback trampolines, the layout checks and the SAF function table. */
#include <pthread.h>
#include <stddef.h>
#include <string.h>

#include "saf_glue.h"
#include "_cgo_export.h"

/* The SAF structures that the core converts with the clCkpt code have the clCkpt layout. */
#define SAME_LAYOUT(sa, cl, field)                                                                 \
    _Static_assert(offsetof(sa, field) == offsetof(cl, field) &&                                   \
                       sizeof(((sa *)0)->field) == sizeof(((cl *)0)->field),                       \
                   #sa "." #field " differs from " #cl)
_Static_assert(sizeof(SaCkptSectionIdT) == sizeof(ClCkptSectionIdT), "section id");
SAME_LAYOUT(SaCkptSectionIdT, ClCkptSectionIdT, idLen);
SAME_LAYOUT(SaCkptSectionIdT, ClCkptSectionIdT, id);
_Static_assert(sizeof(SaCkptIOVectorElementT) == sizeof(ClCkptIOVectorElementT), "io vector");
SAME_LAYOUT(SaCkptIOVectorElementT, ClCkptIOVectorElementT, sectionId);
SAME_LAYOUT(SaCkptIOVectorElementT, ClCkptIOVectorElementT, dataBuffer);
SAME_LAYOUT(SaCkptIOVectorElementT, ClCkptIOVectorElementT, dataSize);
SAME_LAYOUT(SaCkptIOVectorElementT, ClCkptIOVectorElementT, dataOffset);
SAME_LAYOUT(SaCkptIOVectorElementT, ClCkptIOVectorElementT, readSize);
_Static_assert(sizeof(SaCkptCheckpointCreationAttributesT) == sizeof(ClCkptCheckpointCreationAttributesT), "attrs");
SAME_LAYOUT(SaCkptCheckpointCreationAttributesT, ClCkptCheckpointCreationAttributesT, creationFlags);
SAME_LAYOUT(SaCkptCheckpointCreationAttributesT, ClCkptCheckpointCreationAttributesT, checkpointSize);
SAME_LAYOUT(SaCkptCheckpointCreationAttributesT, ClCkptCheckpointCreationAttributesT, retentionDuration);
SAME_LAYOUT(SaCkptCheckpointCreationAttributesT, ClCkptCheckpointCreationAttributesT, maxSections);
SAME_LAYOUT(SaCkptCheckpointCreationAttributesT, ClCkptCheckpointCreationAttributesT, maxSectionSize);
SAME_LAYOUT(SaCkptCheckpointCreationAttributesT, ClCkptCheckpointCreationAttributesT, maxSectionIdSize);
_Static_assert(sizeof(SaCkptSectionDescriptorT) == sizeof(ClCkptSectionDescriptorT), "descriptor");
SAME_LAYOUT(SaCkptSectionDescriptorT, ClCkptSectionDescriptorT, sectionId);
SAME_LAYOUT(SaCkptSectionDescriptorT, ClCkptSectionDescriptorT, expirationTime);
SAME_LAYOUT(SaCkptSectionDescriptorT, ClCkptSectionDescriptorT, sectionSize);
SAME_LAYOUT(SaCkptSectionDescriptorT, ClCkptSectionDescriptorT, sectionState);
SAME_LAYOUT(SaCkptSectionDescriptorT, ClCkptSectionDescriptorT, lastUpdate);

void saf_call_open_cb(SaCkptCheckpointOpenCallbackT f, SaInvocationT invocation, SaCkptCheckpointHandleT handle,
                      SaAisErrorT rc) {
    f(invocation, handle, rc);
}

void saf_call_sync_cb(SaCkptCheckpointSynchronizeCallbackT f, SaInvocationT invocation, SaAisErrorT rc) {
    f(invocation, rc);
}

void saf_call_track_cb(SaCkptCheckpointTrackCallbackT f, SaCkptCheckpointHandleT handle, SaCkptIOVectorElementT *iov,
                       SaUint32T n) {
    f(handle, iov, n);
}

/* Set in every child forked after the core was loaded (registered when the core is loaded). */
static volatile int forked_child;
static void on_fork_child(void) { forked_child = 1; }
__attribute__((constructor)) static void register_fork_handler(void) { pthread_atfork(NULL, NULL, on_fork_child); }
static int saf_forked(void) { return forked_child; }

static const struct saf_core table = {
    .abi = SAF_CORE_ABI,
    .forked = saf_forked,
    .initialize = saf_initialize,
    .selection_object_get = saf_selection_object_get,
    .dispatch = saf_dispatch,
    .finalize = saf_finalize,
    .checkpoint_open = saf_checkpoint_open,
    .checkpoint_open_async = saf_checkpoint_open_async,
    .checkpoint_close = saf_checkpoint_close,
    .checkpoint_unlink = saf_checkpoint_unlink,
    .retention_duration_set = saf_retention_duration_set,
    .active_replica_set = saf_active_replica_set,
    .status_get = saf_status_get,
    .section_create = saf_section_create,
    .section_delete = saf_section_delete,
    .section_id_free = saf_section_id_free,
    .section_expiration_time_set = saf_section_expiration_time_set,
    .iteration_initialize = saf_iteration_initialize,
    .iteration_next = saf_iteration_next,
    .iteration_finalize = saf_iteration_finalize,
    .checkpoint_write = saf_checkpoint_write,
    .section_overwrite = saf_section_overwrite,
    .checkpoint_read = saf_checkpoint_read,
    .io_vector_element_data_free = saf_io_vector_element_data_free,
    .checkpoint_synchronize = saf_checkpoint_synchronize,
    .checkpoint_synchronize_async = saf_checkpoint_synchronize_async,
    .track = saf_track,
    .arrival_callback_register = saf_arrival_callback_register,
};

const struct saf_core *saf_core_get(void) { return &table; }
