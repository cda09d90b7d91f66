/* Handles (4.1, section 5.1): every function before clCkptInitialize and after the last
 * clCkptFinalize, and with handles that are zero, made up, of the wrong kind, closed, stale, or
 * above 32 bits. */
#include "check.h"

static ClNameT name;
static ClCkptCheckpointCreationAttributesT attrs;

static ClRcT dummy_notify(ClCkptHdlT h, ClNameT *n, ClCkptIOVectorElementT *v, ClUint32T c, ClPtrT k) {
    (void)h, (void)n, (void)v, (void)c, (void)k;
    return CL_OK;
}

/* Every function but Initialize, with the given service, checkpoint and iteration handles and
 * otherwise valid arguments; each must return want. */
static void every_call(ClCkptSvcHdlT svc, ClCkptHdlT ck, ClHandleT it, ClRcT want, int line) {
    ClCkptHdlT h = 0;
    ClHandleT ih = 0;
    ClCkptCheckpointDescriptorT st;
    ClCkptSectionIdT id = check_sid("s");
    ClCkptSectionCreationAttributesT sa = {&id, (ClTimeT)CL_TIME_END};
    char b[4];
    ClCkptIOVectorElementT v = {id, b, sizeof b, 0, 0};
    ClCkptSectionDescriptorT d;
    ClSelectionObjectT fd = 0;
    ClRcT got[22] = {
        clCkptCheckpointOpen(svc, &name, &attrs, CHECK_RW, CL_TIME_END, &h),
        clCkptCheckpointOpenAsync(svc, 1, &name, &attrs, CHECK_RW),
        clCkptCheckpointDelete(svc, &name),
        clCkptSelectionObjectGet(svc, &fd),
        clCkptDispatch(svc, CL_DISPATCH_ALL),
        clCkptCheckpointRetentionDurationSet(ck, 0),
        clCkptActiveReplicaSet(ck),
        clCkptCheckpointStatusGet(ck, &st),
        clCkptSectionCreate(ck, &sa, NULL, 0),
        clCkptSectionDelete(ck, &id),
        clCkptSectionExpirationTimeSet(ck, &id, CL_TIME_END),
        clCkptSectionIterationInitialize(ck, CL_CKPT_SECTIONS_ANY, 0, &ih),
        clCkptSectionIterationNext(it, &d),
        clCkptSectionIterationFinalize(it),
        clCkptCheckpointWrite(ck, &v, 1, NULL),
        clCkptSectionOverwrite(ck, &id, "x", 1),
        clCkptCheckpointRead(ck, &v, 1, NULL),
        clCkptCheckpointSynchronize(ck, CL_TIME_END),
        clCkptCheckpointSynchronizeAsync(ck, 1),
        clCkptImmediateConsumptionRegister(ck, dummy_notify, NULL),
        clCkptCheckpointClose(ck),
        clCkptFinalize(svc),
    };
    static const char *names[22] = {
        "Open", "OpenAsync", "Delete", "SelectionObjectGet", "Dispatch", "RetentionDurationSet",
        "ActiveReplicaSet", "StatusGet", "SectionCreate", "SectionDelete", "SectionExpirationTimeSet",
        "SectionIterationInitialize", "SectionIterationNext", "SectionIterationFinalize", "Write",
        "SectionOverwrite", "Read", "Synchronize", "SynchronizeAsync", "ImmediateConsumptionRegister",
        "Close", "Finalize",
    };
    for (int i = 0; i < 22; i++) {
        ClRcT w = want;
        /* Write checks handle 0 before anything: INVALID_PARAMETER, as in the original. */
        if (i == 14 && ck == 0 && want == CL_CKPT_ERR_INVALID_HANDLE)
            w = CL_CKPT_ERR_INVALID_PARAMETER;
        if (got[i] == w) {
            check_passed++;
        } else {
            check_failed++;
            fprintf(stderr, "%s:%d: FAILED: clCkpt%s returned 0x%x, want 0x%x\n", __FILE__, line, names[i], got[i], w);
        }
    }
}

int main(void) {
    name = check_name("handles");
    attrs = check_attrs(CL_CKPT_WR_ACTIVE_REPLICA, 4, 0, CL_TIME_END);

    /* Before the first Initialize (the core is not even loaded): NOT_INITIALIZED everywhere. */
    every_call(1, 1, 1, CL_CKPT_ERR_NOT_INITIALIZED, __LINE__);
    every_call(0, 0, 0, CL_CKPT_ERR_NOT_INITIALIZED, __LINE__);

    ClCkptSvcHdlT svc = check_init();
    ClCkptHdlT ck = check_open(svc, "handles", &attrs, CHECK_RW);
    CHECK_RC(check_section(ck, "s", "x"), CL_OK);
    ClHandleT it = 0;
    REQUIRE_RC(clCkptSectionIterationInitialize(ck, CL_CKPT_SECTIONS_ANY, 0, &it), CL_OK);
    /* Non-zero, below 2^32, and all different. */
    CHECK(svc != 0 && ck != 0 && it != 0);
    CHECK(svc < 0x100000000ULL && ck < 0x100000000ULL && it < 0x100000000ULL);
    CHECK(svc != ck && ck != it && svc != it);

    /* Made up, zero, above 32 bits, and wrong-kind handles: INVALID_HANDLE, never a crash. */
    ClHandleT bogus[] = {0, 0xdeadbeef, 0xffffffff, 0x100000000ULL, 0xffffffffffffffffULL};
    for (unsigned i = 0; i < sizeof bogus / sizeof bogus[0]; i++)
        every_call(bogus[i], bogus[i], bogus[i], CL_CKPT_ERR_INVALID_HANDLE, __LINE__);
    /* High bits set on a live handle: not the same handle. */
    every_call(svc | (1ULL << 32), ck | (1ULL << 32), it | (1ULL << 40), CL_CKPT_ERR_INVALID_HANDLE, __LINE__);
    every_call(svc | (0xffffULL << 48), ck | (0xffffULL << 48), it | (0xffffULL << 48), CL_CKPT_ERR_INVALID_HANDLE,
               __LINE__);
    /* Each kind where another is expected. */
    every_call(ck, it, svc, CL_CKPT_ERR_INVALID_HANDLE, __LINE__);
    every_call(it, svc, ck, CL_CKPT_ERR_INVALID_HANDLE, __LINE__);
    /* Everything still works afterwards. */
    ClCkptCheckpointDescriptorT st;
    CHECK_RC(clCkptCheckpointStatusGet(ck, &st), CL_OK);
    CHECK_EQ(st.numberOfSections, 1);
    ClCkptSectionDescriptorT d;
    REQUIRE_RC(clCkptSectionIterationNext(it, &d), CL_OK);
    clHeapFree(d.sectionId.id);

    /* Closed and finalized handles stay invalid, also once their slots could be reused. */
    CHECK_RC(clCkptSectionIterationFinalize(it), CL_OK);
    CHECK_RC(clCkptCheckpointClose(ck), CL_OK);
    ClCkptSvcHdlT svc2 = check_init();
    CHECK_RC(clCkptFinalize(svc), CL_OK);
    ClCkptSvcHdlT svc3 = check_init();
    ClCkptHdlT ck2 = check_open(svc3, "handles", &attrs, CHECK_RW);
    ClHandleT it2 = 0;
    REQUIRE_RC(clCkptSectionIterationInitialize(ck2, CL_CKPT_SECTIONS_ANY, 0, &it2), CL_OK);
    CHECK(svc3 != svc && ck2 != ck && it2 != it);
    every_call(svc, ck, it, CL_CKPT_ERR_INVALID_HANDLE, __LINE__);
    /* Many opens and closes never give back an old number. */
    int reused = 0;
    for (int i = 0; i < 200; i++) {
        ClCkptHdlT x = check_open(svc3, "handles", &attrs, CHECK_RW);
        if (x == ck)
            reused = 1;
        CHECK_RC(clCkptCheckpointClose(x), CL_OK);
        CHECK_RC(clCkptCheckpointClose(x), CL_CKPT_ERR_INVALID_HANDLE);
    }
    CHECK(!reused);
    CHECK_RC(clCkptSectionIterationFinalize(it2), CL_OK);
    CHECK_RC(clCkptCheckpointClose(ck2), CL_OK);

    /* After the last Finalize: NOT_INITIALIZED everywhere, for live-looking and made-up handles. */
    CHECK_RC(clCkptFinalize(svc3), CL_OK);
    CHECK_RC(clCkptFinalize(svc2), CL_OK);
    every_call(svc3, ck2, it2, CL_CKPT_ERR_NOT_INITIALIZED, __LINE__);
    every_call(0, 0, 0, CL_CKPT_ERR_NOT_INITIALIZED, __LINE__);
    every_call(0xdeadbeef, 0xdeadbeef, 0xdeadbeef, CL_CKPT_ERR_NOT_INITIALIZED, __LINE__);

    /* Initialize works again, and the handles of the previous life are not valid in the new one. */
    svc = check_init();
    every_call(svc3, ck2, it2, CL_CKPT_ERR_INVALID_HANDLE, __LINE__);
    ClNameT n = check_name("handles");
    CHECK_RC(clCkptCheckpointDelete(svc, &n), CL_OK);
    CHECK_RC(clCkptFinalize(svc), CL_OK);
    DONE();
}
