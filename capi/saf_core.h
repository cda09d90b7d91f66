/*
 * The interface between libSaCkpt.so (the SAF front library, capi/front/saf.c) and the Go core
 * (libclckpt-core.so). Internal: programs never see it.
 *
 * The core serves both APIs: clckpt_core_get() (core.h) returns the clCkpt table, saf_core_get()
 * this one. The two share the core's handle tables, callback queues and engine, so a process may
 * use both APIs at once. Every entry has the signature of the saCkpt function it serves, without
 * const qualifiers; the core checks every argument.
 */
#ifndef CLCKPT_SAF_CORE_H
#define CLCKPT_SAF_CORE_H

#include <saCkpt.h>
#include <saCkpt_B_02_03.h>
#include <cpsv_papi.h>

/* Bumped whenever the table changes: the SAF front refuses a core with another number. */
#define SAF_CORE_ABI 3

struct saf_core {
    unsigned abi;
    /* Plain C (no Go): non-zero in a child forked after the core was loaded, whichever front
     * loaded it. The SAF front asks before its first call, so that a process that loaded the core
     * through libclckpt.so and forked is refused too. */
    int (*forked)(void);
    /* callbacks (may be NULL) is a SaCkptCallbacksT, or with track a SaCkptCallbacksT_2
     * (saCkptInitialize_2): the core reads it, so that a bad pointer fails the call. */
    SaAisErrorT (*initialize)(SaCkptHandleT *, void *callbacks, SaVersionT *, int track);
    SaAisErrorT (*selection_object_get)(SaCkptHandleT, SaSelectionObjectT *);
    SaAisErrorT (*dispatch)(SaCkptHandleT, SaDispatchFlagsT);
    SaAisErrorT (*finalize)(SaCkptHandleT);
    SaAisErrorT (*checkpoint_open)(SaCkptHandleT, SaNameT *, SaCkptCheckpointCreationAttributesT *,
                                   SaCkptCheckpointOpenFlagsT, SaTimeT, SaCkptCheckpointHandleT *);
    SaAisErrorT (*checkpoint_open_async)(SaCkptHandleT, SaInvocationT, SaNameT *,
                                         SaCkptCheckpointCreationAttributesT *, SaCkptCheckpointOpenFlagsT);
    SaAisErrorT (*checkpoint_close)(SaCkptCheckpointHandleT);
    SaAisErrorT (*checkpoint_unlink)(SaCkptHandleT, SaNameT *);
    SaAisErrorT (*retention_duration_set)(SaCkptCheckpointHandleT, SaTimeT);
    SaAisErrorT (*active_replica_set)(SaCkptCheckpointHandleT);
    SaAisErrorT (*status_get)(SaCkptCheckpointHandleT, SaCkptCheckpointDescriptorT *);
    SaAisErrorT (*section_create)(SaCkptCheckpointHandleT, SaCkptSectionCreationAttributesT *, void *, SaSizeT);
    SaAisErrorT (*section_delete)(SaCkptCheckpointHandleT, SaCkptSectionIdT *);
    SaAisErrorT (*section_id_free)(SaCkptCheckpointHandleT, SaUint8T *);
    SaAisErrorT (*section_expiration_time_set)(SaCkptCheckpointHandleT, SaCkptSectionIdT *, SaTimeT);
    SaAisErrorT (*iteration_initialize)(SaCkptCheckpointHandleT, SaCkptSectionsChosenT, SaTimeT,
                                        SaCkptSectionIterationHandleT *);
    SaAisErrorT (*iteration_next)(SaCkptSectionIterationHandleT, SaCkptSectionDescriptorT *);
    SaAisErrorT (*iteration_finalize)(SaCkptSectionIterationHandleT);
    SaAisErrorT (*checkpoint_write)(SaCkptCheckpointHandleT, SaCkptIOVectorElementT *, SaUint32T, SaUint32T *);
    SaAisErrorT (*section_overwrite)(SaCkptCheckpointHandleT, SaCkptSectionIdT *, void *, SaSizeT);
    SaAisErrorT (*checkpoint_read)(SaCkptCheckpointHandleT, SaCkptIOVectorElementT *, SaUint32T, SaUint32T *);
    SaAisErrorT (*io_vector_element_data_free)(SaCkptCheckpointHandleT, void *);
    SaAisErrorT (*checkpoint_synchronize)(SaCkptCheckpointHandleT, SaTimeT);
    SaAisErrorT (*checkpoint_synchronize_async)(SaCkptCheckpointHandleT, SaInvocationT);
    /* all: the library-handle calls (saCkptTrack/Stop) when non-zero, else one checkpoint handle. */
    SaAisErrorT (*track)(SaUint64T, int all, int start);
    SaAisErrorT (*arrival_callback_register)(SaCkptHandleT, ncsCkptCkptArrivalCallbackT);
};

/* Exported by the core: the table above. */
const struct saf_core *saf_core_get(void);

#endif
