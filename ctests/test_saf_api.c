/* The SAF checkpoint API (saCkpt.h, libSaCkpt): the rules of the SAF spec's section 2 with their
 * exact SaAisErrorT, the version rules and the strictness that follows the client's version. */
#include <poll.h>
#include <pthread.h>

#include "saf/saf_check.h"

static SaInvocationT opened_inv, synced_inv;
static SaCkptCheckpointHandleT opened_ck;
static SaAisErrorT opened_rc, synced_rc;
static int opened, synced;

static void on_open(SaInvocationT inv, SaCkptCheckpointHandleT ck, SaAisErrorT rc) {
    opened_inv = inv, opened_ck = ck, opened_rc = rc;
    __atomic_add_fetch(&opened, 1, __ATOMIC_SEQ_CST); /* also from a blocking dispatch thread */
}
static void on_sync(SaInvocationT inv, SaAisErrorT rc) { synced_inv = inv, synced_rc = rc, synced++; }
static void on_track(SaCkptCheckpointHandleT ck, SaCkptIOVectorElementT *v, SaUint32T n) { (void)ck, (void)v, (void)n; }
static void on_arrival(const SaCkptCheckpointHandleT ck, SaCkptIOVectorElementT *v, SaUint32T n) {
    (void)ck, (void)v, (void)n;
}

/* Waits until the selection object is readable, then dispatches all. */
static void dispatch_when_ready(SaCkptHandleT h, int *counter) {
    SaSelectionObjectT so = 0;
    CHECK_RC(saCkptSelectionObjectGet(h, &so), SA_AIS_OK);
    struct pollfd p = {(int)so, POLLIN, 0};
    CHECK(poll(&p, 1, CHECK_DEADLINE_MS) == 1);
    int before = *counter;
    CHECK_RC(saCkptDispatch(h, SA_DISPATCH_ALL), SA_AIS_OK);
    CHECK(*counter == before + 1);
}

static void before_initialize(void) {
    SaSelectionObjectT so;
    CHECK_RC(saCkptSelectionObjectGet(1, &so), SA_AIS_ERR_BAD_HANDLE);
    CHECK_RC(saCkptDispatch(1, SA_DISPATCH_ALL), SA_AIS_ERR_BAD_HANDLE);
    CHECK_RC(saCkptFinalize(1), SA_AIS_ERR_BAD_HANDLE);
    CHECK_RC(saCkptCheckpointClose(1), SA_AIS_ERR_BAD_HANDLE);
}

static void versions(void) {
    SaCkptHandleT h = 0;
    SaVersionT v = {'B', 2, 2};
    CHECK_RC(saCkptInitialize(NULL, NULL, &v), SA_AIS_ERR_INVALID_PARAM);
    CHECK_RC(saCkptInitialize(&h, NULL, NULL), SA_AIS_ERR_INVALID_PARAM);
    SaVersionT bad[] = {{'A', 1, 1}, {'B', 3, 1}, {'B', 0, 1}, {'C', 2, 2}};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        CHECK_RC(saCkptInitialize(&h, NULL, &bad[i]), SA_AIS_ERR_VERSION);
        CHECK(bad[i].releaseCode == 'B' && bad[i].majorVersion == 2 && bad[i].minorVersion == 3);
    }
    SaVersionT b02 = {'B', 2, 1};
    CHECK_RC(saCkptInitialize(&h, NULL, &b02), SA_AIS_OK);
    CHECK(b02.releaseCode == 'B' && b02.majorVersion == 2 && b02.minorVersion == 3);
    CHECK_RC(saCkptFinalize(h), SA_AIS_OK);
    CHECK_RC(saCkptFinalize(h), SA_AIS_ERR_BAD_HANDLE);
    SaVersionT b01 = {'B', 1, 7};
    CHECK_RC(saCkptInitialize(&h, NULL, &b01), SA_AIS_OK);
    CHECK(b01.releaseCode == 'B' && b01.majorVersion == 1 && b01.minorVersion == 1);
    SaSelectionObjectT so = 0;
    CHECK_RC(saCkptSelectionObjectGet(h, NULL), SA_AIS_ERR_INVALID_PARAM);
    CHECK_RC(saCkptSelectionObjectGet(h, &so), SA_AIS_OK);
    CHECK(so > 0 && so < 1024);
    CHECK_RC(saCkptDispatch(h, 0), SA_AIS_ERR_INVALID_PARAM);
    CHECK_RC(saCkptDispatch(h, 4), SA_AIS_ERR_INVALID_PARAM);
    CHECK_RC(saCkptDispatch(h, SA_DISPATCH_ONE), SA_AIS_OK);
    CHECK_RC(saCkptDispatch(h + 12345, SA_DISPATCH_ONE), SA_AIS_ERR_BAD_HANDLE);
    CHECK_RC(saCkptFinalize(h), SA_AIS_OK);
}

static void open_rules(SaCkptHandleT h2, SaCkptHandleT h1) {
    SaCkptCheckpointCreationAttributesT a = saf_attrs(SA_CKPT_WR_ALL_REPLICAS, 4, 100, 0);
    SaNameT n = saf_name("safCkpt=open"), plain = saf_name("plain"), empty = saf_name("");
    SaCkptCheckpointHandleT ck = 0;
    CHECK_RC(saCkptCheckpointOpen(h2, NULL, &a, SAF_RW, 0, &ck), SA_AIS_ERR_INVALID_PARAM);
    CHECK_RC(saCkptCheckpointOpen(h2, &n, &a, SAF_RW, 0, NULL), SA_AIS_ERR_INVALID_PARAM);
    CHECK_RC(saCkptCheckpointOpen(h2, &empty, &a, SAF_RW, 0, &ck), SA_AIS_ERR_INVALID_PARAM);
    CHECK_RC(saCkptCheckpointOpen(h2, &plain, &a, SAF_RW, 0, &ck), SA_AIS_ERR_INVALID_PARAM); /* B.02: safCkpt= */
    CHECK_RC(saCkptCheckpointOpen(h2, &n, &a, 0, 0, &ck), SA_AIS_ERR_BAD_FLAGS);
    CHECK_RC(saCkptCheckpointOpen(h2, &n, &a, SAF_RW | 0x8, 0, &ck), SA_AIS_ERR_BAD_FLAGS);
    CHECK_RC(saCkptCheckpointOpen(h2, &n, NULL, SAF_RW, 0, &ck), SA_AIS_ERR_INVALID_PARAM);
    CHECK_RC(saCkptCheckpointOpen(h2, &n, &a, SA_CKPT_CHECKPOINT_READ, 0, &ck), SA_AIS_ERR_INVALID_PARAM);
    SaCkptCheckpointCreationFlagsT badFlags[] = {0, SA_CKPT_CHECKPOINT_COLLOCATED, 16, 3, 6, 0x11};
    for (size_t i = 0; i < sizeof badFlags / sizeof badFlags[0]; i++) {
        SaCkptCheckpointCreationAttributesT b = a;
        b.creationFlags = badFlags[i];
        CHECK_RC(saCkptCheckpointOpen(h2, &n, &b, SAF_RW, 0, &ck), SA_AIS_ERR_INVALID_PARAM);
    }
    SaCkptCheckpointCreationAttributesT zero = a;
    zero.maxSections = 0;
    CHECK_RC(saCkptCheckpointOpen(h2, &n, &zero, SAF_RW, 0, &ck), SA_AIS_ERR_INVALID_PARAM);
    SaCkptCheckpointCreationAttributesT big = a;
    big.checkpointSize = 401; /* > 4 x 100 */
    CHECK_RC(saCkptCheckpointOpen(h2, &n, &big, SAF_RW, 0, &ck), SA_AIS_ERR_INVALID_PARAM);
    CHECK_RC(saCkptCheckpointOpen(h2, &n, NULL, SA_CKPT_CHECKPOINT_READ, 0, &ck), SA_AIS_ERR_NOT_EXIST);
    CHECK_RC(saCkptCheckpointOpen(h2, &n, &a, SAF_RW, -1, &ck), SA_AIS_OK); /* timeout <= 0: no limit */
    SaCkptCheckpointCreationAttributesT other = a;
    other.maxSectionSize = 200;
    SaCkptCheckpointHandleT ck2 = 0;
    CHECK_RC(saCkptCheckpointOpen(h2, &n, &other, SAF_RW, 0, &ck2), SA_AIS_ERR_EXIST);
    other = a;
    other.retentionDuration = SA_TIME_ONE_HOUR; /* retention is not compared */
    CHECK_RC(saCkptCheckpointOpen(h2, &n, &other, SAF_RW, 0, &ck2), SA_AIS_OK);
    CHECK(ck2 != ck && ck2 != 0);
    CHECK_RC(saCkptCheckpointClose(ck2), SA_AIS_OK);
    CHECK_RC(saCkptCheckpointClose(ck2), SA_AIS_ERR_BAD_HANDLE);
    /* B.01: any name, flags need not name one WR mode. */
    SaCkptCheckpointHandleT ck1 = 0;
    CHECK_RC(saCkptCheckpointOpen(h1, &plain, &a, SAF_RW, SA_TIME_END, &ck1), SA_AIS_OK);
    CHECK_RC(saCkptCheckpointUnlink(h1, &plain), SA_AIS_OK);
    CHECK_RC(saCkptCheckpointClose(ck1), SA_AIS_OK);
    /* Long names: lent names above 2048 bytes are too big, others are checkpoints (test_saf_names.c). */
    static char longName[3000];
    memset(longName, 'x', sizeof longName - 1);
    memcpy(longName, "safCkpt=", 8);
    SaNameT lent;
    saAisNameLend(longName, &lent);
    CHECK(saAisNameBorrow(&lent) == longName);
    CHECK_RC(saCkptCheckpointOpen(h2, &lent, &a, SAF_RW, 0, &ck2), SA_AIS_ERR_TOO_BIG);
    longName[300] = '\0';
    saAisNameLend(longName, &lent);
    CHECK_RC(saCkptCheckpointOpen(h2, &lent, &a, SAF_RW, 0, &ck2), SA_AIS_OK);
    CHECK_RC(saCkptCheckpointUnlink(h2, &lent), SA_AIS_OK);
    CHECK_RC(saCkptCheckpointClose(ck2), SA_AIS_OK);
    longName[100] = '\0';
    saAisNameLend(longName, &lent);
    CHECK(strcmp(saAisNameBorrow(&lent), longName) == 0);
    CHECK_RC(saCkptCheckpointOpen(h2, &lent, &a, SAF_RW, 0, &ck2), SA_AIS_OK);
    CHECK_RC(saCkptCheckpointUnlink(h2, &lent), SA_AIS_OK);
    CHECK_RC(saCkptCheckpointClose(ck2), SA_AIS_OK);
    /* Names are their bytes exactly: "abra" and "abra\0" differ. */
    SaNameT abra = saf_name("safCkpt=abra"), abra0 = abra;
    abra0.length++;
    CHECK_RC(saCkptCheckpointOpen(h2, &abra, &a, SAF_RW, 0, &ck2), SA_AIS_OK);
    CHECK_RC(saCkptCheckpointOpen(h2, &abra0, NULL, SA_CKPT_CHECKPOINT_READ, 0, &ck1), SA_AIS_ERR_NOT_EXIST);
    CHECK_RC(saCkptCheckpointUnlink(h2, &abra), SA_AIS_OK);
    CHECK_RC(saCkptCheckpointClose(ck2), SA_AIS_OK);

    /* Unlink: the name goes at once, open handles keep the old checkpoint. */
    CHECK_RC(saf_section(ck, "s", "old"), SA_AIS_OK);
    CHECK_RC(saCkptCheckpointUnlink(h2, NULL), SA_AIS_ERR_INVALID_PARAM);
    CHECK_RC(saCkptCheckpointUnlink(h2, &n), SA_AIS_OK);
    CHECK_RC(saCkptCheckpointUnlink(h2, &n), SA_AIS_ERR_NOT_EXIST);
    CHECK_RC(saCkptCheckpointRetentionDurationSet(ck, SA_TIME_ONE_SECOND), SA_AIS_ERR_BAD_OPERATION);
    char b[8];
    SaSizeT got = 0;
    CHECK_RC(saf_read(ck, "s", b, sizeof b, &got), SA_AIS_OK);
    CHECK(got == 3 && memcmp(b, "old", 3) == 0);
    CHECK_RC(saCkptCheckpointOpen(h2, &n, &a, SAF_RW, 0, &ck2), SA_AIS_OK);
    CHECK_RC(saf_read(ck2, "s", b, sizeof b, &got), SA_AIS_ERR_NOT_EXIST);
    CHECK_RC(saCkptCheckpointClose(ck), SA_AIS_OK);
    CHECK_RC(saCkptCheckpointRetentionDurationSet(ck2, 0), SA_AIS_OK);
    CHECK_RC(saCkptCheckpointClose(ck2), SA_AIS_OK);
    CHECK_RC(saCkptCheckpointOpen(h2, &n, NULL, SA_CKPT_CHECKPOINT_READ, 0, &ck), SA_AIS_ERR_NOT_EXIST);
}

static void async_calls(void) {
    SaCkptHandleT none = saf_init(2, 2, NULL);
    SaCkptCallbacksT cbs = {on_open, on_sync};
    SaCkptHandleT h = saf_init(2, 2, &cbs);
    SaNameT n = saf_name("safCkpt=async");
    SaCkptCheckpointCreationAttributesT a = saf_attrs(SA_CKPT_WR_ACTIVE_REPLICA, 2, 100, 0);
    CHECK_RC(saCkptCheckpointOpenAsync(none, 1, &n, &a, SAF_RW), SA_AIS_ERR_INIT);
    CHECK_RC(saCkptCheckpointOpenAsync(h, 1, NULL, &a, SAF_RW), SA_AIS_ERR_INVALID_PARAM);
    CHECK_RC(saCkptCheckpointOpenAsync(h, 1, &n, &a, 0), SA_AIS_ERR_BAD_FLAGS);
    CHECK_RC(saCkptCheckpointOpenAsync(h, 7, &n, NULL, SA_CKPT_CHECKPOINT_READ), SA_AIS_OK);
    dispatch_when_ready(h, &opened);
    CHECK(opened_inv == 7 && opened_rc == SA_AIS_ERR_NOT_EXIST);
    CHECK_RC(saCkptCheckpointOpenAsync(h, 8, &n, &a, SAF_RW), SA_AIS_OK);
    dispatch_when_ready(h, &opened);
    CHECK(opened_inv == 8 && opened_rc == SA_AIS_OK && opened_ck != 0);
    SaCkptCheckpointHandleT ck = opened_ck;
    SaCkptCheckpointHandleT ckNone = saf_open(none, "safCkpt=async", NULL, SA_CKPT_CHECKPOINT_WRITE);
    CHECK_RC(saCkptCheckpointSynchronizeAsync(ckNone, 1), SA_AIS_ERR_INIT);
    CHECK_RC(saCkptCheckpointSynchronize(ckNone, SA_TIME_ONE_MINUTE), SA_AIS_OK); /* no sections: OK */
    CHECK_RC(saCkptCheckpointSynchronizeAsync(ck, 9), SA_AIS_OK);
    dispatch_when_ready(h, &synced);
    CHECK(synced_inv == 9 && synced_rc == SA_AIS_OK);
    /* Close cancels the handle's pending synchronize callback. */
    SaCkptCheckpointHandleT ck3 = saf_open(h, "safCkpt=async", NULL, SA_CKPT_CHECKPOINT_WRITE);
    CHECK_RC(saCkptCheckpointSynchronizeAsync(ck3, 10), SA_AIS_OK);
    SaSelectionObjectT so = 0;
    CHECK_RC(saCkptSelectionObjectGet(h, &so), SA_AIS_OK);
    struct pollfd sp = {(int)so, POLLIN, 0};
    CHECK(poll(&sp, 1, CHECK_DEADLINE_MS) == 1); /* its outcome is queued */
    CHECK_RC(saCkptCheckpointClose(ck3), SA_AIS_OK);
    int before = synced;
    CHECK_RC(saCkptDispatch(h, SA_DISPATCH_ALL), SA_AIS_OK);
    CHECK(synced == before);
    SaCkptCheckpointHandleT ro = saf_open(h, "safCkpt=async", NULL, SA_CKPT_CHECKPOINT_READ);
    CHECK_RC(saCkptCheckpointSynchronize(ro, 0), SA_AIS_ERR_ACCESS);
    CHECK_RC(saCkptCheckpointSynchronizeAsync(ro, 1), SA_AIS_ERR_ACCESS);
    /* Finalize closes every checkpoint handle of the library handle. */
    CHECK_RC(saCkptFinalize(h), SA_AIS_OK);
    CHECK_RC(saCkptCheckpointClose(ck), SA_AIS_ERR_BAD_HANDLE);
    CHECK_RC(saCkptCheckpointClose(ro), SA_AIS_ERR_BAD_HANDLE);
    CHECK_RC(saCkptDispatch(h, SA_DISPATCH_ALL), SA_AIS_ERR_BAD_HANDLE);
    CHECK_RC(saCkptCheckpointClose(ckNone), SA_AIS_OK);
    CHECK_RC(saCkptFinalize(none), SA_AIS_OK);
}

/* SA_DISPATCH_BLOCKING on a thread of its own runs callbacks as they come, until Finalize. */
static SaAisErrorT blocking_rc = SA_AIS_ERR_LIBRARY;
static void *blocking(void *arg) {
    blocking_rc = saCkptDispatch(*(SaCkptHandleT *)arg, SA_DISPATCH_BLOCKING);
    return NULL;
}

static void dispatch_blocking(void) {
    SaCkptCallbacksT cbs = {on_open, on_sync};
    SaCkptHandleT h = saf_init(2, 2, &cbs);
    pthread_t t;
    CHECK(pthread_create(&t, NULL, blocking, &h) == 0);
    SaNameT n = saf_name("safCkpt=blocking");
    SaCkptCheckpointCreationAttributesT a = saf_attrs(SA_CKPT_WR_ALL_REPLICAS, 1, 8, 0);
    int before = __atomic_load_n(&opened, __ATOMIC_SEQ_CST);
    CHECK_RC(saCkptCheckpointOpenAsync(h, 42, &n, &a, SAF_RW), SA_AIS_OK);
    for (int i = 0; i < CHECK_DEADLINE_MS / 10 && __atomic_load_n(&opened, __ATOMIC_SEQ_CST) == before; i++)
        check_sleep_ms(10);
    CHECK(__atomic_load_n(&opened, __ATOMIC_SEQ_CST) == before + 1 && opened_inv == 42 && opened_rc == SA_AIS_OK);
    CHECK_RC(saCkptFinalize(h), SA_AIS_OK); /* ends the blocking dispatch, closes the checkpoint */
    CHECK(pthread_join(t, NULL) == 0);
    CHECK_RC(blocking_rc, SA_AIS_OK);
    CHECK_RC(saCkptCheckpointClose(opened_ck), SA_AIS_ERR_BAD_HANDLE);
}

static void replicas(SaCkptHandleT h) {
    SaCkptCheckpointCreationAttributesT all = saf_attrs(SA_CKPT_WR_ALL_REPLICAS, 2, 100, 0);
    SaCkptCheckpointHandleT ck = saf_open(h, "safCkpt=all", &all, SAF_RW);
    CHECK_RC(saCkptActiveReplicaSet(ck), SA_AIS_ERR_BAD_OPERATION);
    CHECK_RC(saCkptCheckpointSynchronize(ck, 0), SA_AIS_ERR_BAD_OPERATION);
    SaCkptCheckpointHandleT ro = saf_open(h, "safCkpt=all", NULL, SA_CKPT_CHECKPOINT_READ);
    CHECK_RC(saCkptActiveReplicaSet(ro), SA_AIS_ERR_ACCESS);
    CHECK_RC(saCkptCheckpointClose(ro), SA_AIS_OK);
    CHECK_RC(saCkptCheckpointClose(ck), SA_AIS_OK);
    SaCkptCheckpointCreationAttributesT col = saf_attrs(SA_CKPT_WR_ACTIVE_REPLICA | SA_CKPT_CHECKPOINT_COLLOCATED, 2, 100, 0);
    ck = saf_open(h, "safCkpt=col", &col, SAF_RW);
    SaCkptCheckpointDescriptorT d;
    char b[8];
    CHECK_RC(saf_section(ck, "s", "x"), SA_AIS_ERR_NOT_EXIST);
    CHECK_RC(saCkptCheckpointStatusGet(ck, &d), SA_AIS_ERR_NOT_EXIST);
    CHECK_RC(saCkptCheckpointSynchronize(ck, 0), SA_AIS_ERR_NOT_EXIST);
    SaCkptSectionIterationHandleT it;
    CHECK_RC(saCkptSectionIterationInitialize(ck, SA_CKPT_SECTIONS_ANY, 0, &it), SA_AIS_ERR_NOT_EXIST);
    CHECK_RC(saCkptActiveReplicaSet(ck), SA_AIS_OK);
    CHECK_RC(saCkptSectionIterationInitialize(ck, SA_CKPT_SECTIONS_ANY, 0, &it), SA_AIS_OK);
    CHECK_RC(saCkptSectionIterationFinalize(it), SA_AIS_OK);
    CHECK_RC(saf_section(ck, "s", "x"), SA_AIS_OK);
    CHECK_RC(saf_read(ck, "s", b, sizeof b, NULL), SA_AIS_OK);
    CHECK_RC(saCkptCheckpointSynchronize(ck, SA_TIME_ONE_MINUTE), SA_AIS_OK);
    CHECK_RC(saCkptCheckpointClose(ck), SA_AIS_OK);
}

static void default_section(SaCkptHandleT h) {
    SaCkptCheckpointCreationAttributesT a = saf_attrs(SA_CKPT_WR_ALL_REPLICAS, 1, 64, 0);
    SaCkptCheckpointHandleT ck = saf_open(h, "safCkpt=one", &a, SAF_RW);
    SaCkptSectionIdT def = SA_CKPT_DEFAULT_SECTION_ID;
    SaCkptSectionCreationAttributesT sa = {&def, SA_TIME_END};
    CHECK_RC(saCkptSectionCreate(ck, &sa, "x", 1), SA_AIS_ERR_EXIST);
    CHECK_RC(saf_section(ck, "s", "x"), SA_AIS_ERR_EXIST);
    CHECK_RC(saCkptSectionDelete(ck, &def), SA_AIS_ERR_INVALID_PARAM);
    CHECK_RC(saCkptSectionExpirationTimeSet(ck, &def, check_now() + SA_TIME_ONE_HOUR), SA_AIS_ERR_INVALID_PARAM);
    CHECK_RC(saCkptSectionOverwrite(ck, &def, "hello", 5), SA_AIS_OK);
    char b[8];
    SaSizeT got = 0;
    CHECK_RC(saf_read(ck, NULL, b, sizeof b, &got), SA_AIS_OK);
    CHECK(got == 5 && memcmp(b, "hello", 5) == 0);
    SaCkptCheckpointDescriptorT d;
    CHECK_RC(saCkptCheckpointStatusGet(ck, NULL), SA_AIS_ERR_INVALID_PARAM);
    CHECK_RC(saCkptCheckpointStatusGet(ck, &d), SA_AIS_OK);
    CHECK_EQ(d.numberOfSections, 1); /* the default section counts */
    CHECK_EQ(d.memoryUsed, 5);
    CHECK_EQ(d.checkpointCreationAttributes.maxSections, 1);
    CHECK_EQ(d.checkpointCreationAttributes.maxSectionSize, 64);
    SaCkptSectionIterationHandleT it = 0;
    SaCkptSectionDescriptorT sd;
    CHECK_RC(saCkptSectionIterationInitialize(ck, SA_CKPT_SECTIONS_ANY, 0, &it), SA_AIS_OK);
    CHECK_RC(saCkptSectionIterationNext(it, &sd), SA_AIS_ERR_NO_SECTIONS);
    CHECK_RC(saCkptSectionIterationFinalize(it), SA_AIS_OK);
    CHECK_RC(saCkptCheckpointClose(ck), SA_AIS_OK);
}

static void sections(SaCkptHandleT h2, SaCkptHandleT h1) {
    SaCkptCheckpointCreationAttributesT a = saf_attrs(SA_CKPT_WR_ALL_REPLICAS, 3, 10, 0);
    a.maxSectionIdSize = 4;
    SaCkptCheckpointHandleT ck = saf_open(h2, "safCkpt=sections", &a, SAF_RW);
    SaCkptCheckpointHandleT ro = saf_open(h2, "safCkpt=sections", NULL, SA_CKPT_CHECKPOINT_READ);
    SaCkptCheckpointHandleT wo = saf_open(h2, "safCkpt=sections", NULL, SA_CKPT_CHECKPOINT_WRITE);
    SaCkptSectionIdT sid = saf_sid("s1");
    SaCkptSectionCreationAttributesT sa = {&sid, SA_TIME_END};
    CHECK_RC(saCkptSectionCreate(ck, NULL, "x", 1), SA_AIS_ERR_INVALID_PARAM);
    SaCkptSectionCreationAttributesT noId = {NULL, SA_TIME_END};
    CHECK_RC(saCkptSectionCreate(ck, &noId, "x", 1), SA_AIS_ERR_INVALID_PARAM);
    SaCkptSectionIdT zeroWithId = {0, (SaUint8T *)"x"};
    SaCkptSectionCreationAttributesT zsa = {&zeroWithId, SA_TIME_END};
    CHECK_RC(saCkptSectionCreate(ck, &zsa, "x", 1), SA_AIS_ERR_INVALID_PARAM);
    CHECK_RC(saf_section(ck, "toolong", "x"), SA_AIS_ERR_INVALID_PARAM); /* idLen > maxSectionIdSize */
    CHECK_RC(saf_section(ck, "s1", "01234567890"), SA_AIS_ERR_INVALID_PARAM); /* > maxSectionSize */
    CHECK_RC(saCkptSectionCreate(ck, &sa, NULL, 3), SA_AIS_ERR_INVALID_PARAM);
    CHECK_RC(saCkptSectionCreate(ro, &sa, "x", 1), SA_AIS_ERR_ACCESS);
    sa.expirationTime = check_now() - SA_TIME_ONE_SECOND;
    CHECK_RC(saCkptSectionCreate(ck, &sa, "x", 1), SA_AIS_ERR_INVALID_PARAM); /* in the past */
    sa.expirationTime = SA_TIME_END;
    CHECK_RC(saCkptSectionCreate(ck, &sa, NULL, 0), SA_AIS_OK);
    CHECK_RC(saCkptSectionCreate(ck, &sa, "x", 1), SA_AIS_ERR_EXIST);
    /* A generated id: written back, library memory freed with saCkptSectionIdFree. */
    SaCkptSectionIdT gen = SA_CKPT_GENERATED_SECTION_ID;
    SaCkptSectionCreationAttributesT gsa = {&gen, SA_TIME_END};
    CHECK_RC(saCkptSectionCreate(wo, &gsa, "g", 1), SA_AIS_OK);
    CHECK(gen.id != NULL && gen.idLen > 0);
    SaCkptSectionCreationAttributesT again = {&gen, SA_TIME_END};
    CHECK_RC(saCkptSectionCreate(ck, &again, "g", 1), SA_AIS_ERR_EXIST);
    char b[16];
    SaSizeT got = 0;
    CHECK(gen.idLen == 4); /* min(maxSectionIdSize, 4) bytes */
    SaCkptIOVectorElementT ge = saf_elem(NULL, b, 10, 0);
    ge.sectionId = gen;
    CHECK_RC(saCkptCheckpointRead(ck, &ge, 1, NULL), SA_AIS_OK);
    CHECK(ge.readSize == 1 && b[0] == 'g');
    CHECK_RC(saCkptSectionIdFree(ck, NULL), SA_AIS_ERR_INVALID_PARAM);
    CHECK_RC(saCkptSectionIdFree(0, gen.id), SA_AIS_ERR_BAD_HANDLE);
    CHECK_RC(saf_section(ck, "s3", "x"), SA_AIS_OK);
    CHECK_RC(saf_section(ck, "s4", "x"), SA_AIS_ERR_NO_SPACE); /* maxSections */
    CHECK_RC(saCkptSectionDelete(ck, &gen), SA_AIS_OK);
    CHECK_RC(saCkptSectionIdFree(ck, gen.id), SA_AIS_OK);
    CHECK_RC(saf_section(ck, "s4", "x"), SA_AIS_OK); /* room again */
    CHECK_RC(saCkptSectionDelete(ck, NULL), SA_AIS_ERR_INVALID_PARAM);
    CHECK_RC(saCkptSectionDelete(ro, &sid), SA_AIS_ERR_ACCESS);
    SaCkptSectionIdT missing = saf_sid("zz");
    CHECK_RC(saCkptSectionDelete(ck, &missing), SA_AIS_ERR_NOT_EXIST);
    CHECK_RC(saCkptSectionExpirationTimeSet(ck, &missing, SA_TIME_END), SA_AIS_ERR_NOT_EXIST);
    CHECK_RC(saCkptSectionExpirationTimeSet(ro, &sid, SA_TIME_END), SA_AIS_ERR_ACCESS);

    /* Write. */
    SaUint32T idx = 99;
    SaCkptIOVectorElementT w[3] = {saf_elem("s1", "abc", 3, 0), saf_elem("s3", "0123456789", 10, 0),
                                   saf_elem("s4", "xy", 2, 0)};
    CHECK_RC(saCkptCheckpointWrite(ck, NULL, 1, &idx), SA_AIS_ERR_INVALID_PARAM);
    CHECK_RC(saCkptCheckpointWrite(ck, w, 0, &idx), SA_AIS_ERR_INVALID_PARAM);
    CHECK_RC(saCkptCheckpointWrite(ro, w, 3, &idx), SA_AIS_ERR_ACCESS);
    CHECK_RC(saCkptCheckpointWrite(ck, w, 3, NULL), SA_AIS_OK); /* 15 bytes in all: checkpointSize is not enforced */
    w[1].dataSize = 11;
    CHECK_RC(saCkptCheckpointWrite(ck, w, 3, &idx), SA_AIS_ERR_INVALID_PARAM);
    CHECK_EQ(idx, 1);
    w[1].dataSize = 4, w[1].dataOffset = 8; /* ends past maxSectionSize: B.02 NO_RESOURCES */
    idx = 99;
    CHECK_RC(saCkptCheckpointWrite(ck, w, 3, &idx), SA_AIS_ERR_NO_RESOURCES);
    CHECK_EQ(idx, 1);
    w[1].dataOffset = 0;
    w[2].dataBuffer = NULL;
    CHECK_RC(saCkptCheckpointWrite(ck, w, 3, &idx), SA_AIS_ERR_INVALID_PARAM);
    CHECK_EQ(idx, 2);
    w[2] = saf_elem("zz", "xy", 2, 0);
    CHECK_RC(saCkptCheckpointWrite(ck, w, 3, &idx), SA_AIS_ERR_NOT_EXIST);
    CHECK_EQ(idx, 2);
    /* The same past-the-end write by a B.01 client: INVALID_PARAM. */
    SaCkptCheckpointHandleT old = 0;
    SaNameT n = saf_name("safCkpt=sections");
    CHECK_RC(saCkptCheckpointOpen(h1, &n, NULL, SA_CKPT_CHECKPOINT_READ | SA_CKPT_CHECKPOINT_WRITE, 0, &old), SA_AIS_OK);
    SaCkptIOVectorElementT past = saf_elem("s1", "abcd", 4, 8);
    CHECK_RC(saCkptCheckpointWrite(old, &past, 1, &idx), SA_AIS_ERR_INVALID_PARAM);

    /* Overwrite. */
    CHECK_RC(saCkptSectionOverwrite(ck, &sid, "new", 3), SA_AIS_OK);
    CHECK_RC(saCkptSectionOverwrite(ck, NULL, "new", 3), SA_AIS_ERR_INVALID_PARAM);
    CHECK_RC(saCkptSectionOverwrite(ck, &sid, NULL, 3), SA_AIS_ERR_INVALID_PARAM);
    CHECK_RC(saCkptSectionOverwrite(ck, &sid, "0123456789a", 11), SA_AIS_ERR_INVALID_PARAM);
    CHECK_RC(saCkptSectionOverwrite(ck, &missing, "new", 3), SA_AIS_ERR_NOT_EXIST);
    CHECK_RC(saCkptSectionOverwrite(ro, &sid, "new", 3), SA_AIS_ERR_ACCESS);

    /* Read. */
    CHECK_RC(saf_read(wo, "s1", b, sizeof b, &got), SA_AIS_ERR_ACCESS);
    CHECK_RC(saf_read(ro, "s1", b, 3, &got), SA_AIS_OK);
    CHECK(got == 3 && memcmp(b, "new", 3) == 0);
    CHECK_RC(saf_read(ro, "zz", b, 3, &got), SA_AIS_ERR_NOT_EXIST);
    CHECK_RC(saf_read(ro, "s1", b, 11, &got), SA_AIS_ERR_INVALID_PARAM); /* dataSize > maxSectionSize */
    SaCkptIOVectorElementT r = saf_elem("s1", b, 4, 8); /* ends past maxSectionSize: B.02 INVALID_PARAM */
    idx = 99;
    CHECK_RC(saCkptCheckpointRead(ro, &r, 1, &idx), SA_AIS_ERR_INVALID_PARAM);
    CHECK_EQ(idx, 0);
    CHECK_RC(saCkptCheckpointRead(ro, NULL, 1, &idx), SA_AIS_ERR_INVALID_PARAM);
    SaCkptIOVectorElementT alloc[2] = {saf_elem("s3", NULL, 0, 2), saf_elem("s1", NULL, 0, 0)};
    CHECK_RC(saCkptCheckpointRead(ro, alloc, 2, NULL), SA_AIS_OK);
    CHECK(alloc[0].dataBuffer != NULL && alloc[0].readSize == 8 && memcmp(alloc[0].dataBuffer, "23456789", 8) == 0);
    CHECK(alloc[1].dataBuffer != NULL && alloc[1].readSize == 3 && memcmp(alloc[1].dataBuffer, "new", 3) == 0);
    CHECK_RC(saCkptIOVectorElementDataFree(ro, NULL), SA_AIS_ERR_INVALID_PARAM);
    CHECK_RC(saCkptIOVectorElementDataFree(ro, alloc[0].dataBuffer), SA_AIS_OK);
    CHECK_RC(saCkptIOVectorElementDataFree(ro, alloc[1].dataBuffer), SA_AIS_OK);

    /* Status: sections and the bytes they hold. */
    SaCkptCheckpointDescriptorT d;
    CHECK_RC(saCkptCheckpointStatusGet(ro, &d), SA_AIS_OK);
    CHECK_EQ(d.numberOfSections, 3);
    CHECK_EQ(d.memoryUsed, 3 + 10 + 2);

    CHECK_RC(saCkptCheckpointClose(old), SA_AIS_OK);
    CHECK_RC(saCkptCheckpointClose(wo), SA_AIS_OK);
    CHECK_RC(saCkptCheckpointClose(ro), SA_AIS_OK);
    CHECK_RC(saCkptCheckpointClose(ck), SA_AIS_OK);
}

/* Counts what an iteration returns; B.02 ids are freed with saCkptSectionIdFree. */
static int count(SaCkptCheckpointHandleT ck, SaCkptSectionsChosenT chosen, SaTimeT t, int b02) {
    SaCkptSectionIterationHandleT it = 0;
    SaCkptSectionDescriptorT d;
    int n = 0;
    CHECK_RC(saCkptSectionIterationInitialize(ck, chosen, t, &it), SA_AIS_OK);
    SaAisErrorT rc;
    while ((rc = saCkptSectionIterationNext(it, &d)) == SA_AIS_OK) {
        n++;
        CHECK(d.sectionState == SA_CKPT_SECTION_VALID && d.sectionId.id != NULL);
        if (b02)
            CHECK_RC(saCkptSectionIdFree(ck, d.sectionId.id), SA_AIS_OK);
    }
    CHECK_RC(rc, SA_AIS_ERR_NO_SECTIONS);
    CHECK_RC(saCkptSectionIterationNext(it, &d), SA_AIS_ERR_NO_SECTIONS);
    CHECK_RC(saCkptSectionIterationFinalize(it), SA_AIS_OK);
    CHECK_RC(saCkptSectionIterationNext(it, &d), SA_AIS_ERR_BAD_HANDLE);
    CHECK_RC(saCkptSectionIterationFinalize(it), SA_AIS_ERR_BAD_HANDLE);
    return n;
}

static void iteration(SaCkptHandleT h2, SaCkptHandleT h1) {
    SaCkptCheckpointCreationAttributesT a = saf_attrs(SA_CKPT_WR_ALL_REPLICAS, 8, 10, 0);
    SaCkptCheckpointHandleT ck = saf_open(h2, "safCkpt=iter", &a, SAF_RW);
    SaTimeT now = check_now(), hour = now + SA_TIME_ONE_HOUR, day = now + SA_TIME_ONE_DAY;
    CHECK_RC(saf_section(ck, "f1", "x"), SA_AIS_OK);
    CHECK_RC(saf_section(ck, "f2", "x"), SA_AIS_OK);
    SaCkptSectionIdT s1 = saf_sid("h"), s2 = saf_sid("d");
    SaCkptSectionCreationAttributesT sa1 = {&s1, hour}, sa2 = {&s2, day};
    CHECK_RC(saCkptSectionCreate(ck, &sa1, "x", 1), SA_AIS_OK);
    CHECK_RC(saCkptSectionCreate(ck, &sa2, "x", 1), SA_AIS_OK);
    SaCkptSectionIterationHandleT it = 0;
    CHECK_RC(saCkptSectionIterationInitialize(ck, SA_CKPT_SECTIONS_ANY, 0, NULL), SA_AIS_ERR_INVALID_PARAM);
    CHECK_RC(saCkptSectionIterationInitialize(ck, 0, 0, &it), SA_AIS_ERR_INVALID_PARAM);
    CHECK_RC(saCkptSectionIterationInitialize(ck, 6, 0, &it), SA_AIS_ERR_INVALID_PARAM);
    CHECK_RC(saCkptSectionIterationNext(it, NULL), SA_AIS_ERR_BAD_HANDLE);
    CHECK_EQ(count(ck, SA_CKPT_SECTIONS_ANY, 0, 1), 4);
    CHECK_EQ(count(ck, SA_CKPT_SECTIONS_FOREVER, 0, 1), 2);
    CHECK_EQ(count(ck, SA_CKPT_SECTIONS_LEQ_EXPIRATION_TIME, hour, 1), 1);
    CHECK_EQ(count(ck, SA_CKPT_SECTIONS_GEQ_EXPIRATION_TIME, day, 1), 3); /* GEQ includes SA_TIME_END */
    CHECK_EQ(count(ck, SA_CKPT_SECTIONS_CORRUPTED, 0, 1), 0);
    /* B.01: the ids belong to the iteration (valgrind and ASan check they are freed, once). */
    SaCkptCheckpointHandleT old = saf_open(h1, "safCkpt=iter", NULL, SA_CKPT_CHECKPOINT_READ);
    CHECK_EQ(count(old, SA_CKPT_SECTIONS_ANY, 0, 0), 4);
    SaCkptSectionIterationHandleT open_it = 0;
    SaCkptSectionDescriptorT d;
    CHECK_RC(saCkptSectionIterationInitialize(old, SA_CKPT_SECTIONS_ANY, 0, &open_it), SA_AIS_OK);
    CHECK_RC(saCkptSectionIterationNext(open_it, NULL), SA_AIS_ERR_INVALID_PARAM);
    CHECK_RC(saCkptSectionIterationNext(open_it, &d), SA_AIS_OK);
    CHECK_RC(saCkptCheckpointClose(old), SA_AIS_OK); /* ends the iteration and frees its ids */
    CHECK_RC(saCkptSectionIterationNext(open_it, &d), SA_AIS_ERR_BAD_HANDLE);
    /* Expiration: an expired section is deleted. */
    SaCkptSectionIdT e = saf_sid("exp");
    SaCkptSectionCreationAttributesT esa = {&e, check_now() + 50 * SA_TIME_ONE_MILLISECOND};
    CHECK_RC(saCkptSectionCreate(ck, &esa, "x", 1), SA_AIS_OK);
    char b[4];
    SaAisErrorT rc = SA_AIS_OK;
    for (int i = 0; i < CHECK_DEADLINE_MS / 10 && rc == SA_AIS_OK; i++) {
        check_sleep_ms(10);
        rc = saf_read(ck, "exp", b, 1, NULL);
    }
    CHECK_RC(rc, SA_AIS_ERR_NOT_EXIST);
    CHECK_RC(saCkptSectionExpirationTimeSet(ck, &s1, SA_TIME_END), SA_AIS_OK);
    CHECK_EQ(count(ck, SA_CKPT_SECTIONS_FOREVER, 0, 1), 3);
    CHECK_RC(saCkptCheckpointClose(ck), SA_AIS_OK);
}

static void track(void) {
    SaCkptHandleT h22 = saf_init(2, 2, NULL);
    SaCkptCheckpointCreationAttributesT a = saf_attrs(SA_CKPT_WR_ALL_REPLICAS, 2, 10, 0);
    SaCkptCheckpointHandleT ck = saf_open(h22, "safCkpt=track", &a, SAF_RW);
    CHECK_RC(saCkptTrack(h22), SA_AIS_ERR_VERSION);
    CHECK_RC(saCkptCheckpointTrack(ck), SA_AIS_ERR_VERSION);
    CHECK_RC(saCkptTrack(ck), SA_AIS_ERR_BAD_HANDLE);
    CHECK_RC(ncsCkptRegisterCkptArrivalCallback(h22, NULL), SA_AIS_ERR_INVALID_PARAM);
    CHECK_RC(ncsCkptRegisterCkptArrivalCallback(ck, on_arrival), SA_AIS_ERR_BAD_HANDLE);
    CHECK_RC(ncsCkptRegisterCkptArrivalCallback(h22, on_arrival), SA_AIS_OK);
    SaCkptHandleT h23 = 0, h23t = 0;
    SaVersionT v = {'B', 2, 3};
    SaCkptCallbacksT_2 none = {NULL, NULL, NULL}, with = {NULL, NULL, on_track};
    CHECK_RC(saCkptInitialize_2(&h23, &none, &v), SA_AIS_OK);
    CHECK_RC(saCkptTrack(h23), SA_AIS_ERR_INIT);
    CHECK_RC(saCkptInitialize_2(&h23t, &with, &v), SA_AIS_OK);
    CHECK_RC(saCkptTrack(h23t), SA_AIS_OK);
    CHECK_RC(saCkptTrackStop(h23t), SA_AIS_OK);
    CHECK_RC(saCkptFinalize(h23t), SA_AIS_OK);
    CHECK_RC(saCkptFinalize(h23), SA_AIS_OK);
    CHECK_RC(saCkptCheckpointClose(ck), SA_AIS_OK);
    CHECK_RC(saCkptFinalize(h22), SA_AIS_OK);
}

/* A pointer the core cannot read or write: the call fails, the process lives on. */
static void bad_pointers(SaCkptHandleT h) {
    SaCkptCheckpointCreationAttributesT a = saf_attrs(SA_CKPT_WR_ALL_REPLICAS, 2, 16, 0);
    SaCkptCheckpointHandleT ck = saf_open(h, "safCkpt=badptr", &a, SAF_RW);
    void *bad = (void *)16;
    SaCkptHandleT h3 = 0;
    SaVersionT v = {'B', 2, 2};
    CHECK_RC(saCkptInitialize(&h3, (SaCkptCallbacksT *)bad, &v), SA_AIS_ERR_INVALID_PARAM);
    CHECK_RC(saCkptInitialize_2(&h3, (SaCkptCallbacksT_2 *)bad, &v), SA_AIS_ERR_INVALID_PARAM);
    CHECK_RC(saCkptInitialize((SaCkptHandleT *)bad, NULL, &v), SA_AIS_ERR_INVALID_PARAM);
    CHECK_RC(saCkptCheckpointOpen(h, (SaNameT *)bad, NULL, SA_CKPT_CHECKPOINT_READ, 0, &ck), SA_AIS_ERR_INVALID_PARAM);
    CHECK_RC(saCkptSectionCreate(ck, (SaCkptSectionCreationAttributesT *)bad, NULL, 0), SA_AIS_ERR_INVALID_PARAM);
    SaCkptIOVectorElementT e = saf_elem("s", bad, 4, 0);
    CHECK_RC(saf_section(ck, "s", "abcd"), SA_AIS_OK);
    CHECK_RC(saCkptCheckpointWrite(ck, &e, 1, NULL), SA_AIS_ERR_INVALID_PARAM);
    CHECK_RC(saCkptCheckpointStatusGet(ck, (SaCkptCheckpointDescriptorT *)bad), SA_AIS_ERR_INVALID_PARAM);
    CHECK_RC(saCkptCheckpointClose(ck), SA_AIS_OK);
}

int main(void) {
    before_initialize();
    versions();
    SaCkptHandleT h2 = saf_init(2, 2, NULL), h1 = saf_init(1, 1, NULL);
    open_rules(h2, h1);
    async_calls();
    dispatch_blocking();
    replicas(h2);
    default_section(h2);
    sections(h2, h1);
    iteration(h2, h1);
    track();
    bad_pointers(h2);
    CHECK_RC(saCkptFinalize(h1), SA_AIS_OK);
    CHECK_RC(saCkptFinalize(h2), SA_AIS_OK);
    DONE();
}
