/* The callback trampolines and the function table the front library loads. */
#include "glue.h"
#include "_cgo_export.h"

#if defined(__has_include)
#if __has_include(<valgrind/memcheck.h>)
#include <valgrind/memcheck.h>
#define CLCKPT_MEMCHECK 1
#endif
#endif

void clckpt_call_open_cb(ClCkptCheckpointOpenCallbackT f, ClInvocationT invocation, ClCkptHdlT handle, ClRcT rc) {
    f(invocation, handle, rc);
}

void clckpt_call_sync_cb(ClCkptCheckpointSynchronizeCallbackT f, ClInvocationT invocation, ClRcT rc) {
    f(invocation, rc);
}

/* Set while this thread runs a notification callback: a Close or Finalize made from inside it must
 * not wait for it to return. Callbacks do not nest (deliveries run on goroutines of their own). */
static __thread ClCkptHdlT delivering;

ClCkptHdlT clckpt_delivering(void) { return delivering; }

ClRcT clckpt_call_notify_cb(ClCkptNotificationCallbackT f, ClCkptHdlT handle, ClNameT *name,
                            ClCkptIOVectorElementT *iov, ClUint32T n, ClPtrT cookie) {
    ClCkptHdlT outer = delivering;
    delivering = handle;
    ClRcT rc = f(handle, name, iov, n, cookie);
    delivering = outer;
    return rc;
}

static const struct clckpt_core table = {
    .abi = CLCKPT_CORE_ABI,
    .initialize = clckpt_initialize,
    .finalize = clckpt_finalize,
    .checkpoint_open = clckpt_checkpoint_open,
    .checkpoint_open_async = clckpt_checkpoint_open_async,
    .checkpoint_close = clckpt_checkpoint_close,
    .checkpoint_delete = clckpt_checkpoint_delete,
    .checkpoint_retention_duration_set = clckpt_checkpoint_retention_duration_set,
    .active_replica_set = clckpt_active_replica_set,
    .checkpoint_status_get = clckpt_checkpoint_status_get,
    .section_create = clckpt_section_create,
    .section_delete = clckpt_section_delete,
    .section_expiration_time_set = clckpt_section_expiration_time_set,
    .section_iteration_initialize = clckpt_section_iteration_initialize,
    .section_iteration_next = clckpt_section_iteration_next,
    .section_iteration_finalize = clckpt_section_iteration_finalize,
    .checkpoint_write = clckpt_checkpoint_write,
    .section_overwrite = clckpt_section_overwrite,
    .checkpoint_read = clckpt_checkpoint_read,
    .checkpoint_synchronize = clckpt_checkpoint_synchronize,
    .checkpoint_synchronize_async = clckpt_checkpoint_synchronize_async,
    .immediate_consumption_register = clckpt_immediate_consumption_register,
    .selection_object_get = clckpt_selection_object_get,
    .dispatch = clckpt_dispatch,
    .section_check = clckpt_section_check,
    .bench_engine = clckpt_bench_engine,
    .backup_start = clckpt_backup_start,
    .restore_start = clckpt_restore_start,
    .backup_wait = clckpt_backup_wait,
    .backup_progress_get = clckpt_backup_progress_get,
    .backup_cancel = clckpt_backup_cancel,
    .backup_selection_object_get = clckpt_backup_selection_object_get,
    .backup_result_get = clckpt_backup_result_get,
    .restore_handle_get = clckpt_restore_handle_get,
    .backup_wait_finalize = clckpt_backup_wait_finalize,
    .backup_query_initialize = clckpt_backup_query_initialize,
    .backup_query_next = clckpt_backup_query_next,
    .backup_query_finalize = clckpt_backup_query_finalize,
    .backup_delete = clckpt_backup_delete,
};

const struct clckpt_core *clckpt_core_get(void) { return &table; }

void clckpt_written(void *p, size_t n) {
#ifdef CLCKPT_MEMCHECK
    VALGRIND_MAKE_MEM_DEFINED(p, n);
#else
    (void)p;
    (void)n;
#endif
}
