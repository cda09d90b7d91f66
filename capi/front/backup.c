/* libclckpt.so: the functions of clCkptBackup.h, forwarded to the core as front.c does. */
#include <clCkptBackup.h>

#include "../core.h"
#include "front.h"

ClRcT clCkptBackupStart(const ClCkptHdlT *checkpointHandles, const ClNameT *backupNames,
                        ClUint32T numberOfCheckpoints, const ClCkptBackupOptionsT *options,
                        ClCkptBackupWaitT *wait) {
    FORWARD(backup_start, (ClCkptHdlT *)checkpointHandles, (ClNameT *)backupNames, numberOfCheckpoints,
            (ClCkptBackupOptionsT *)options, wait);
}

ClRcT clCkptRestoreStart(ClCkptSvcHdlT ckptHandle, const ClNameT *backupName, ClUint64T copyId,
                         const ClNameT *targetName, const ClCkptRestoreOptionsT *options, ClCkptBackupWaitT *wait) {
    FORWARD(restore_start, ckptHandle, (ClNameT *)backupName, copyId, (ClNameT *)targetName,
            (ClCkptRestoreOptionsT *)options, wait);
}

ClRcT clCkptBackupWait(ClCkptBackupWaitT wait, ClTimeT timeout) { FORWARD(backup_wait, wait, timeout); }

ClRcT clCkptBackupProgressGet(ClCkptBackupWaitT wait, ClUint64T *bytesDone, ClUint64T *bytesTotal) {
    FORWARD(backup_progress_get, wait, bytesDone, bytesTotal);
}

ClRcT clCkptBackupCancel(ClCkptBackupWaitT wait) { FORWARD(backup_cancel, wait); }

ClRcT clCkptBackupSelectionObjectGet(ClCkptBackupWaitT wait, ClSelectionObjectT *selectionObject) {
    FORWARD(backup_selection_object_get, wait, selectionObject);
}

ClRcT clCkptBackupResultGet(ClCkptBackupWaitT wait, ClUint32T index, ClCkptBackupDescriptorT *descriptor) {
    FORWARD(backup_result_get, wait, index, descriptor);
}

ClRcT clCkptRestoreHandleGet(ClCkptBackupWaitT wait, ClCkptHdlT *checkpointHandle) {
    FORWARD(restore_handle_get, wait, checkpointHandle);
}

ClRcT clCkptBackupWaitFinalize(ClCkptBackupWaitT wait) { FORWARD(backup_wait_finalize, wait); }

ClRcT clCkptBackupQueryInitialize(ClCkptSvcHdlT ckptHandle, const ClCkptBackupQueryT *query,
                                  ClCkptBackupQueryHdlT *queryHandle) {
    FORWARD(backup_query_initialize, ckptHandle, (ClCkptBackupQueryT *)query, queryHandle);
}

ClRcT clCkptBackupQueryNext(ClCkptBackupQueryHdlT queryHandle, ClCkptBackupDescriptorT *descriptor) {
    FORWARD(backup_query_next, queryHandle, descriptor);
}

ClRcT clCkptBackupQueryFinalize(ClCkptBackupQueryHdlT queryHandle) { FORWARD(backup_query_finalize, queryHandle); }

ClRcT clCkptBackupDelete(ClCkptSvcHdlT ckptHandle, const char *archive, const ClUint64T *copyIds,
                         ClUint32T numberOfCopies) {
    FORWARD(backup_delete, ckptHandle, (char *)archive, (ClUint64T *)copyIds, numberOfCopies);
}
