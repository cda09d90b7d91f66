/* Collocated checkpoints, the active replica and synchronization (4.11, sections 5.3, 5.6, 5.8). */
#include "check.h"

static ClCkptSvcHdlT svc;
static int sync_calls;
static ClRcT sync_error;

static void on_sync(ClInvocationT invocation, ClRcT error) {
    (void)invocation;
    sync_calls++;
    sync_error = error;
}

/* Every section or data call on a collocated checkpoint without an active replica: NOT_EXIST. */
static void no_active_replica(ClCkptHdlT h) {
    ClCkptSectionIdT id = check_sid("s");
    ClCkptSectionCreationAttributesT sa = {&id, (ClTimeT)CL_TIME_END};
    char b[4];
    ClCkptIOVectorElementT v = {id, b, sizeof b, 0, 0};
    ClHandleT it = 0;
    CHECK_RC(clCkptSectionCreate(h, &sa, NULL, 0), CL_CKPT_ERR_NOT_EXIST);
    CHECK_RC(clCkptSectionDelete(h, &id), CL_CKPT_ERR_NOT_EXIST);
    CHECK_RC(clCkptSectionExpirationTimeSet(h, &id, CL_TIME_END), CL_CKPT_ERR_NOT_EXIST);
    CHECK_RC(clCkptSectionIterationInitialize(h, CL_CKPT_SECTIONS_ANY, 0, &it), CL_CKPT_ERR_NOT_EXIST);
    CHECK_RC(clCkptCheckpointWrite(h, &v, 1, NULL), CL_CKPT_ERR_NOT_EXIST);
    CHECK_RC(clCkptSectionOverwrite(h, &id, "x", 1), CL_CKPT_ERR_NOT_EXIST);
    CHECK_RC(clCkptCheckpointRead(h, &v, 1, NULL), CL_CKPT_ERR_NOT_EXIST);
    CHECK_RC(clCkptCheckpointSynchronize(h, CL_TIME_END), CL_CKPT_ERR_NOT_EXIST);
    CHECK_RC(clCkptCheckpointSynchronizeAsync(h, 1), CL_CKPT_ERR_NOT_EXIST);
}

int main(void) {
    ClVersionT v = {'B', 1, 1};
    ClCkptCallbacksT cbs = {NULL, on_sync};
    REQUIRE_RC(clCkptInitialize(&svc, &cbs, &v), CL_OK);
    ClCkptCheckpointDescriptorT st;
    char b[8];
    ClSizeT got = 0;

    /* The counter example's checkpoint: COLLOCATED | WR_ACTIVE_REPLICA_WEAK. */
    ClCkptCheckpointCreationAttributesT ca =
        check_attrs(CL_CKPT_CHECKPOINT_COLLOCATED | CL_CKPT_WR_ACTIVE_REPLICA_WEAK, 2, 4, 0);
    ClCkptHdlT h = check_open(svc, "colloc", &ca, CHECK_RW);
    no_active_replica(h);
    /* Status counts the active replica's sections: it needs one too. */
    CHECK_RC(clCkptCheckpointStatusGet(h, &st), CL_CKPT_ERR_NOT_EXIST);
    /* ActiveReplicaSet needs WRITE or CREATE. */
    ClNameT n = check_name("colloc");
    ClCkptHdlT ro = 0, co = 0;
    REQUIRE_RC(clCkptCheckpointOpen(svc, &n, NULL, CL_CKPT_CHECKPOINT_READ, CL_TIME_END, &ro), CL_OK);
    CHECK_RC(clCkptActiveReplicaSet(ro), CL_CKPT_ERR_OP_NOT_PERMITTED);
    CHECK_RC(clCkptActiveReplicaSet(0), CL_CKPT_ERR_INVALID_HANDLE);
    CHECK_RC(clCkptActiveReplicaSet(0xdeadbeef), CL_CKPT_ERR_INVALID_HANDLE);
    CHECK_RC(clCkptActiveReplicaSet(svc), CL_CKPT_ERR_INVALID_HANDLE);
    /* Then everything works, through every handle, and a second call is harmless. */
    CHECK_RC(clCkptActiveReplicaSet(h), CL_OK);
    CHECK_RC(clCkptActiveReplicaSet(h), CL_OK);
    CHECK_RC(check_section(h, "s", "1234"), CL_OK);
    CHECK_RC(check_read(ro, "s", b, 4, &got), CL_OK);
    CHECK(got == 4 && memcmp(b, "1234", 4) == 0);
    CHECK_RC(clCkptCheckpointSynchronize(h, CL_TIME_END), CL_OK);
    CHECK_RC(clCkptCheckpointSynchronize(h, (ClTimeT)-1), CL_OK);
    CHECK_RC(clCkptCheckpointSynchronize(h, 5 * CL_SEC_TO_NANO), CL_OK);
    REQUIRE_RC(clCkptCheckpointOpen(svc, &n, &ca, CL_CKPT_CHECKPOINT_CREATE, CL_TIME_END, &co), CL_OK);
    CHECK_RC(clCkptActiveReplicaSet(co), CL_OK);
    CHECK_RC(clCkptCheckpointClose(co), CL_OK);
    CHECK_RC(clCkptCheckpointClose(ro), CL_OK);
    CHECK_RC(clCkptCheckpointClose(h), CL_OK);

    /* Collocated with WR_ALL_REPLICAS is not collocated: no active replica needed, ActiveReplicaSet refused. */
    ClCkptCheckpointCreationAttributesT sa = check_attrs(CL_CKPT_CHECKPOINT_COLLOCATED | CL_CKPT_WR_ALL_REPLICAS, 2, 0, 0);
    h = check_open(svc, "colloc-sync", &sa, CHECK_RW);
    CHECK_RC(check_section(h, "s", "x"), CL_OK);
    CHECK_RC(clCkptActiveReplicaSet(h), CL_CKPT_ERR_BAD_OPERATION);
    /* Synchronize on a synchronous checkpoint: BAD_OPERATION, directly, also for the async form. */
    CHECK_RC(clCkptCheckpointSynchronize(h, CL_TIME_END), CL_CKPT_ERR_BAD_OPERATION);
    CHECK_RC(clCkptCheckpointSynchronizeAsync(h, 2), CL_CKPT_ERR_BAD_OPERATION);
    CHECK_RC(clCkptCheckpointClose(h), CL_OK);

    /* Not collocated: ActiveReplicaSet refused, data calls work at once. */
    ClCkptCheckpointCreationAttributesT pa = check_attrs(CL_CKPT_WR_ACTIVE_REPLICA, 2, 0, 0);
    h = check_open(svc, "plain", &pa, CHECK_RW);
    CHECK_RC(clCkptActiveReplicaSet(h), CL_CKPT_ERR_BAD_OPERATION);
    CHECK_RC(check_section(h, "s", "x"), CL_OK);
    CHECK_RC(clCkptCheckpointSynchronize(h, CL_TIME_END), CL_OK);
    /* Timeouts (5.8): 0 and negative mean no limit; a positive one is honoured (1 ns has passed
     * before the call could start). */
    CHECK_RC(clCkptCheckpointSynchronize(h, 0), CL_OK);
    CHECK_RC(clCkptCheckpointSynchronize(h, -1), CL_OK);
    CHECK_RC(clCkptCheckpointSynchronize(h, 1), CL_CKPT_ERR_TIMEOUT);
    /* Synchronize needs WRITE or CREATE. */
    ClNameT pn = check_name("plain");
    REQUIRE_RC(clCkptCheckpointOpen(svc, &pn, NULL, CL_CKPT_CHECKPOINT_READ, CL_TIME_END, &ro), CL_OK);
    CHECK_RC(clCkptCheckpointSynchronize(ro, CL_TIME_END), CL_CKPT_ERR_OP_NOT_PERMITTED);
    CHECK_RC(clCkptCheckpointSynchronizeAsync(ro, 3), CL_CKPT_ERR_OP_NOT_PERMITTED);
    CHECK_RC(clCkptCheckpointSynchronize(0, CL_TIME_END), CL_CKPT_ERR_INVALID_HANDLE);
    CHECK_RC(clCkptCheckpointSynchronize(0xdeadbeef, CL_TIME_END), CL_CKPT_ERR_INVALID_HANDLE);
    CHECK_RC(clCkptCheckpointSynchronize(svc, CL_TIME_END), CL_CKPT_ERR_INVALID_HANDLE);
    CHECK_RC(clCkptCheckpointSynchronizeAsync(0xdeadbeef, 4), CL_CKPT_ERR_INVALID_HANDLE);
    CHECK_RC(clCkptCheckpointClose(ro), CL_OK);
    CHECK_RC(clCkptCheckpointClose(h), CL_OK);

    /* WEAK and ALL_SAFE (5.6): accepted, asynchronous (Synchronize works), data intact. */
    ClCkptCreationFlagsT flags[] = {CL_CKPT_WR_ACTIVE_REPLICA_WEAK, CL_CKPT_WR_ALL_SAFE,
                                    CL_CKPT_WR_ALL_SAFE | CL_CKPT_CHECKPOINT_COLLOCATED};
    for (int i = 0; i < 3; i++) {
        ClCkptCheckpointCreationAttributesT fa = check_attrs(flags[i], 2, 0, 0);
        h = check_open(svc, "flags", &fa, CHECK_RW);
        if (flags[i] & CL_CKPT_CHECKPOINT_COLLOCATED) {
            no_active_replica(h);
            CHECK_RC(clCkptActiveReplicaSet(h), CL_OK);
        } else {
            CHECK_RC(clCkptActiveReplicaSet(h), CL_CKPT_ERR_BAD_OPERATION);
        }
        CHECK_RC(check_section(h, "s", "abcdef"), CL_OK);
        ClCkptSectionIdT s = check_sid("s");
        ClCkptIOVectorElementT w = {s, "XY", 2, 2, 0};
        CHECK_RC(clCkptCheckpointWrite(h, &w, 1, NULL), CL_OK);
        CHECK_RC(clCkptCheckpointSynchronize(h, CL_TIME_END), CL_OK);
        CHECK_RC(check_read(h, "s", b, 8, &got), CL_OK);
        CHECK(got == 6 && memcmp(b, "abXYef", 6) == 0);
        CHECK_RC(clCkptCheckpointClose(h), CL_OK);
    }

    /* No callback ran: nobody dispatched, and the refused calls queue nothing. */
    CHECK_EQ(sync_calls, 0);
    CHECK_RC(clCkptDispatch(svc, CL_DISPATCH_ALL), CL_OK);
    CHECK_EQ(sync_calls, 0);
    (void)sync_error;
    CHECK_RC(clCkptFinalize(svc), CL_OK);
    DONE();
}
