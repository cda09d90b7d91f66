/*
 * The interface between libclckpt.so (the C front library, capi/front) and libclckpt-core.so (the
 * Go part, this directory). Internal: programs never see it.
 *
 * The front library loads the core with dlopen() at the first clCkptInitialize, so that the Go
 * runtime starts only then (after any fork a daemon does), looks up clckpt_core_get() and calls the
 * API through the table it returns. Every entry has the signature of the API function of the same
 * name, without const qualifiers (cgo cannot declare them); the core checks every argument.
 */
#ifndef CLCKPT_CORE_H
#define CLCKPT_CORE_H

#include <clCkptApi.h>
#include <clCkptBackup.h>

/* Bumped whenever the table changes: the front library refuses a core with another number. */
#define CLCKPT_CORE_ABI 4

/* The file name of the core, looked for beside libclckpt.so (or named by CLCKPT_CORE_LIBRARY). */
#define CLCKPT_CORE_SONAME "libclckpt-core.so.1"

struct clckpt_core {
    unsigned abi;
    ClRcT (*initialize)(ClCkptSvcHdlT *, ClCkptCallbacksT *, ClVersionT *);
    ClRcT (*finalize)(ClCkptSvcHdlT);
    ClRcT (*checkpoint_open)(ClCkptSvcHdlT, ClNameT *, ClCkptCheckpointCreationAttributesT *,
                             ClCkptOpenFlagsT, ClTimeT, ClCkptHdlT *);
    ClRcT (*checkpoint_open_async)(ClCkptSvcHdlT, ClInvocationT, ClNameT *,
                                   ClCkptCheckpointCreationAttributesT *, ClCkptOpenFlagsT);
    ClRcT (*checkpoint_close)(ClCkptHdlT);
    ClRcT (*checkpoint_delete)(ClCkptSvcHdlT, ClNameT *);
    ClRcT (*checkpoint_retention_duration_set)(ClCkptHdlT, ClTimeT);
    ClRcT (*active_replica_set)(ClCkptHdlT);
    ClRcT (*checkpoint_status_get)(ClCkptHdlT, ClCkptCheckpointDescriptorT *);
    ClRcT (*section_create)(ClCkptHdlT, ClCkptSectionCreationAttributesT *, ClUint8T *, ClSizeT);
    ClRcT (*section_delete)(ClCkptHdlT, ClCkptSectionIdT *);
    ClRcT (*section_expiration_time_set)(ClCkptHdlT, ClCkptSectionIdT *, ClTimeT);
    ClRcT (*section_iteration_initialize)(ClCkptHdlT, ClCkptSectionsChosenT, ClTimeT, ClHandleT *);
    ClRcT (*section_iteration_next)(ClHandleT, ClCkptSectionDescriptorT *);
    ClRcT (*section_iteration_finalize)(ClHandleT);
    ClRcT (*checkpoint_write)(ClCkptHdlT, ClCkptIOVectorElementT *, ClUint32T, ClUint32T *);
    ClRcT (*section_overwrite)(ClCkptHdlT, ClCkptSectionIdT *, void *, ClSizeT);
    ClRcT (*checkpoint_read)(ClCkptHdlT, ClCkptIOVectorElementT *, ClUint32T, ClUint32T *);
    ClRcT (*checkpoint_synchronize)(ClCkptHdlT, ClTimeT);
    ClRcT (*checkpoint_synchronize_async)(ClCkptHdlT, ClInvocationT);
    ClRcT (*immediate_consumption_register)(ClCkptHdlT, ClCkptNotificationCallbackT, ClPtrT);
    ClRcT (*selection_object_get)(ClCkptSvcHdlT, ClSelectionObjectT *);
    ClRcT (*dispatch)(ClCkptSvcHdlT, ClDispatchFlagsT);
    ClRcT (*section_check)(ClCkptHdlT, ClCkptSectionIdT *); /* clCkptIpi.h */
    /* For the benchmark: n overwrites (op 0) or reads (op 1) of size bytes of section sid, made
     * directly on the Go engine behind checkpoint handle h; nanos[i] gets the time of the i-th. */
    ClRcT (*bench_engine)(ClCkptHdlT h, ClUint32T op, ClCkptSectionIdT *sid, void *buf, ClSizeT size,
                          ClUint32T n, ClInt64T *nanos);
    /* clCkptBackup.h */
    ClRcT (*backup_start)(ClCkptHdlT *, ClNameT *, ClUint32T, ClCkptBackupOptionsT *, ClCkptBackupWaitT *);
    ClRcT (*restore_start)(ClCkptSvcHdlT, ClNameT *, ClUint64T, ClNameT *, ClCkptRestoreOptionsT *,
                           ClCkptBackupWaitT *);
    ClRcT (*backup_wait)(ClCkptBackupWaitT, ClTimeT);
    ClRcT (*backup_progress_get)(ClCkptBackupWaitT, ClUint64T *, ClUint64T *);
    ClRcT (*backup_cancel)(ClCkptBackupWaitT);
    ClRcT (*backup_selection_object_get)(ClCkptBackupWaitT, ClSelectionObjectT *);
    ClRcT (*backup_result_get)(ClCkptBackupWaitT, ClUint32T, ClCkptBackupDescriptorT *);
    ClRcT (*restore_handle_get)(ClCkptBackupWaitT, ClCkptHdlT *);
    ClRcT (*backup_wait_finalize)(ClCkptBackupWaitT);
    ClRcT (*backup_query_initialize)(ClCkptSvcHdlT, ClCkptBackupQueryT *, ClCkptBackupQueryHdlT *);
    ClRcT (*backup_query_next)(ClCkptBackupQueryHdlT, ClCkptBackupDescriptorT *);
    ClRcT (*backup_query_finalize)(ClCkptBackupQueryHdlT);
    ClRcT (*backup_delete)(ClCkptSvcHdlT, char *, ClUint64T *, ClUint32T);
};

/* Exported by the core: the table above. */
const struct clckpt_core *clckpt_core_get(void);

#endif
