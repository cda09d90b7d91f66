/*
 * libFuzzer harness for the SAF API (saCkpt.h, libSaCkpt.so over the real Go core): each input is a
 * sequence of up to 48 saCkpt calls, decoded byte by byte, with live, stale, made-up and wrong-kind
 * handles, clients of B.01 and B.02, valid, NULL and unmapped pointers, sizes around the limits.
 * Every call must return one of the codes saCkpt.h lists for it (TRY_AGAIN, NO_MEMORY and
 * NO_RESOURCES are allowed everywhere, INVALID_PARAM whenever an unmapped pointer was passed);
 * otherwise, or when a returned buffer is shorter than it says (ASan reads every byte), or when an
 * arrival callback gets a malformed vector, the harness aborts and libFuzzer keeps the input.
 * Everything an input opens is finalized when it ends; one library handle (the anchor) keeps the
 * service open between inputs. See ctests/fuzz/README.md.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <ftw.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <saCkpt.h>
#include <saCkpt_B_02_03.h>
#include <cpsv_papi.h>

#include "fuzz_env.h"

#define END 0u
#define OKc SA_AIS_OK
#define BADH SA_AIS_ERR_BAD_HANDLE
#define INVAL SA_AIS_ERR_INVALID_PARAM
#define NOTEX SA_AIS_ERR_NOT_EXIST
#define ACCESS SA_AIS_ERR_ACCESS
#define BADOP SA_AIS_ERR_BAD_OPERATION

static const char *call_name;
static int bad_pointer;

static void fail(const char *what, unsigned long long a) {
    fprintf(stderr, "fuzz_saf: %s: %s (%llu)\n", call_name ? call_name : "-", what, a);
    abort();
}

static SaAisErrorT expect(const char *name, SaAisErrorT rc, const SaAisErrorT *allowed) {
    call_name = name;
    for (const SaAisErrorT *a = allowed; *a != END; a++)
        if (rc == *a)
            return rc;
    if (rc == SA_AIS_ERR_TRY_AGAIN || rc == SA_AIS_ERR_NO_MEMORY || rc == SA_AIS_ERR_NO_RESOURCES ||
        (bad_pointer && rc == INVAL))
        return rc;
    fail("undocumented return code", rc);
    return rc;
}
#define EXPECT(name, call, ...) expect((name), (call), (const SaAisErrorT[]){__VA_ARGS__, END})

/* ---- input ---------------------------------------------------------------------------------- */

static const uint8_t *in_p;
static size_t in_n;
static uint8_t u8(void) {
    if (in_n == 0)
        return 0;
    in_n--;
    return *in_p++;
}
static uint32_t u32(void) { return (uint32_t)u8() | (uint32_t)u8() << 8 | (uint32_t)u8() << 16 | (uint32_t)u8() << 24; }

static uint8_t *unmapped;
static uint8_t buf[8192];

/* A pointer argument: valid (p), NULL, or unmapped (noted). */
static void *ptr(void *p) {
    switch (u8() % 8) {
    case 0:
        return NULL;
    case 1:
        bad_pointer = 1;
        return unmapped;
    }
    return p;
}

/* ---- handles -------------------------------------------------------------------------------- */

#define NLIB 3
#define NCK 6
#define NIT 3
static SaCkptHandleT anchor;
static SaCkptHandleT libs[NLIB];
static int lib_b02[NLIB];
static SaCkptCheckpointHandleT cks[NCK];
static int ck_b02[NCK];
static SaCkptSectionIterationHandleT its[NIT];
static int it_b02[NIT];
static uint64_t stale[8];
static unsigned nstale;

static uint64_t pick(const uint64_t *live, int n) {
    uint8_t c = u8();
    switch (c % 8) {
    case 0:
        return stale[u8() % 8];
    case 1:
        return u32();
    case 2:
        return live == (uint64_t *)cks ? libs[u8() % NLIB] : cks[u8() % NCK]; /* another kind */
    }
    return live[c % n];
}
static int slot_of(const uint64_t *live, int n, uint64_t h) {
    for (int i = 0; i < n; i++)
        if (live[i] == h && h != 0)
            return i;
    return -1;
}
static void forget(uint64_t h) { stale[nstale++ % 8] = h; }

/* ---- arguments ------------------------------------------------------------------------------ */

static const char *names[] = {"safCkpt=f1", "safCkpt=f2", "plain", "", "safCkpt=f3"};
/* Lent names (saAisNameLend): the longest a checkpoint may have (2048 bytes) and one byte more. */
static char longest_name[SA_MAX_EXTENDED_NAME_LENGTH + 1], too_long_name[SA_MAX_EXTENDED_NAME_LENGTH + 2];
static SaNameT name_arg;
static SaNameT *pick_name(void) {
    const char *s = names[u8() % 5];
    memset(&name_arg, 0, sizeof name_arg);
    name_arg.length = (SaUint16T)strlen(s);
    memcpy(name_arg.value, s, name_arg.length);
    if (u8() % 16 == 0) {
        unsigned how = u8() % 4;
        if (how < 2)
            saAisNameLend(how == 0 ? longest_name : too_long_name, &name_arg);
        else
            name_arg.length = (SaUint16T)u32(); /* any length, up to 65535 */
    }
    return ptr(&name_arg);
}

static void make_long_names(void) {
    memset(longest_name, 'n', SA_MAX_EXTENDED_NAME_LENGTH);
    memcpy(longest_name, "safCkpt=", 8);
    memcpy(too_long_name, longest_name, SA_MAX_EXTENDED_NAME_LENGTH);
    too_long_name[SA_MAX_EXTENDED_NAME_LENGTH] = 'n';
}

static SaCkptCheckpointCreationAttributesT attrs_arg;
static SaCkptCheckpointCreationAttributesT *pick_attrs(void) {
    static const SaCkptCheckpointCreationFlagsT flags[] = {1, 2, 4, 9, 10, 12, 0, 8, 3, 16, 0x40};
    attrs_arg.creationFlags = flags[u8() % 11];
    attrs_arg.checkpointSize = u8() % 4 == 0 ? u32() : 0;
    attrs_arg.retentionDuration = u8() % 2 ? 0 : SA_TIME_END;
    attrs_arg.maxSections = u8() % 5;
    attrs_arg.maxSectionSize = u8() % 4 == 0 ? 0 : (u8() % 2 ? 64 : 4096);
    attrs_arg.maxSectionIdSize = u8() % 9;
    return ptr(&attrs_arg);
}

static SaCkptSectionIdT id_arg;
static const char *ids[] = {"a", "bb", "ccccc", "dddddddddddd"};
static SaCkptSectionIdT pick_id_value(void) {
    SaCkptSectionIdT id = {0, NULL};
    uint8_t c = u8() % 6;
    if (c < 4)
        id.idLen = (SaUint16T)strlen(ids[c]), id.id = (SaUint8T *)ids[c];
    else if (c == 4)
        id.idLen = 1, id.id = NULL; /* length without bytes */
    return id;
}
static SaCkptSectionIdT *pick_id(void) {
    id_arg = pick_id_value();
    return ptr(&id_arg);
}

static SaSizeT pick_size(void) {
    static const SaSizeT sizes[] = {0, 1, 8, 63, 64, 65, 4095, 4096, 4097, 8192};
    return sizes[u8() % 10];
}

static SaTimeT pick_time(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    SaTimeT now = (SaTimeT)ts.tv_sec * SA_TIME_ONE_SECOND + ts.tv_nsec;
    switch (u8() % 4) {
    case 0:
        return SA_TIME_END;
    case 1:
        return now - SA_TIME_ONE_SECOND;
    case 2:
        return now + (SaTimeT)(u8() % 50) * SA_TIME_ONE_MILLISECOND;
    }
    return (SaTimeT)u32();
}

/* ---- callbacks ------------------------------------------------------------------------------ */

static void open_cb(SaInvocationT inv, SaCkptCheckpointHandleT h, SaAisErrorT rc) {
    (void)inv;
    if ((rc == OKc) != (h != 0))
        fail("open callback: handle and result disagree", rc);
}
static void sync_cb(SaInvocationT inv, SaAisErrorT rc) { (void)inv, (void)rc; }
static void change_cb(SaCkptCheckpointHandleT h, SaCkptIOVectorElementT *v, SaUint32T n) {
    if (h == 0 || v == NULL || n == 0)
        fail("arrival: empty", n);
    for (SaUint32T i = 0; i < n; i++) {
        if (v[i].dataBuffer != NULL || v[i].readSize != 0)
            fail("arrival: element carries data", i);
        volatile uint8_t sink = 0;
        for (SaUint16T k = 0; k < v[i].sectionId.idLen; k++)
            sink ^= v[i].sectionId.id[k];
        (void)sink;
    }
}
static void arrival_cb(const SaCkptCheckpointHandleT h, SaCkptIOVectorElementT *v, SaUint32T n) { change_cb(h, v, n); }

/* ---- one call ------------------------------------------------------------------------------- */

static void one_call(void) {
    bad_pointer = 0;
    uint8_t op = u8() % 24;
    int li = u8() % NLIB, ci = u8() % NCK, ii = u8() % NIT;
    SaCkptHandleT lh = (SaCkptHandleT)pick(libs, NLIB);
    SaCkptCheckpointHandleT ch = (SaCkptCheckpointHandleT)pick(cks, NCK);
    int cs = slot_of(cks, NCK, ch);
    int b02 = cs >= 0 ? ck_b02[cs] : 1;
    SaAisErrorT rc;
    switch (op) {
    case 0: { /* Initialize */
        static const SaVersionT vs[] = {{'B', 1, 1}, {'B', 2, 2}, {'B', 2, 3}, {'A', 1, 1}, {'B', 3, 0}};
        SaVersionT v = vs[u8() % 5];
        SaCkptCallbacksT cb = {open_cb, sync_cb};
        SaCkptCallbacksT_2 cb2 = {open_cb, sync_cb, change_cb};
        SaCkptHandleT h = 0;
        if (libs[li] != 0)
            return;
        if (u8() % 2)
            rc = EXPECT("saCkptInitialize", saCkptInitialize(ptr(&h), u8() % 2 ? ptr(&cb) : NULL, ptr(&v)), OKc, INVAL,
                        SA_AIS_ERR_VERSION);
        else
            rc = EXPECT("saCkptInitialize_2", saCkptInitialize_2(ptr(&h), u8() % 2 ? ptr(&cb2) : NULL, ptr(&v)), OKc,
                        INVAL, SA_AIS_ERR_VERSION);
        if (rc == OKc)
            libs[li] = h, lib_b02[li] = v.majorVersion == 2;
        return;
    }
    case 1: { /* Finalize */
        rc = EXPECT("saCkptFinalize", saCkptFinalize(lh), OKc, BADH);
        int s = slot_of(libs, NLIB, lh);
        if (rc == OKc && s >= 0)
            libs[s] = 0, forget(lh);
        return;
    }
    case 2: { /* Open */
        SaCkptCheckpointHandleT h = 0;
        int s = slot_of(libs, NLIB, lh);
        rc = EXPECT("saCkptCheckpointOpen",
                    saCkptCheckpointOpen(lh, pick_name(), u8() % 3 ? pick_attrs() : NULL, u8() % 9, pick_time(), ptr(&h)),
                    OKc, BADH, INVAL, SA_AIS_ERR_TOO_BIG, SA_AIS_ERR_BAD_FLAGS, NOTEX, SA_AIS_ERR_EXIST,
                    SA_AIS_ERR_TIMEOUT);
        if (rc == OKc && !bad_pointer) {
            if (cks[ci] != 0)
                EXPECT("saCkptCheckpointClose", saCkptCheckpointClose(cks[ci]), OKc, BADH);
            cks[ci] = h, ck_b02[ci] = s >= 0 ? lib_b02[s] : 1;
        }
        return;
    }
    case 3:
        EXPECT("saCkptCheckpointOpenAsync",
               saCkptCheckpointOpenAsync(lh, u32(), pick_name(), u8() % 3 ? pick_attrs() : NULL, u8() % 9), OKc, BADH,
               SA_AIS_ERR_INIT, INVAL, SA_AIS_ERR_TOO_BIG, SA_AIS_ERR_BAD_FLAGS);
        return;
    case 4:
        rc = EXPECT("saCkptCheckpointClose", saCkptCheckpointClose(ch), OKc, BADH);
        if (rc == OKc && cs >= 0)
            cks[cs] = 0, forget(ch);
        return;
    case 5:
        EXPECT("saCkptCheckpointUnlink", saCkptCheckpointUnlink(lh, pick_name()), OKc, BADH, INVAL, SA_AIS_ERR_TOO_BIG,
               NOTEX);
        return;
    case 6: { /* SectionCreate */
        SaCkptSectionIdT id = pick_id_value();
        SaCkptSectionCreationAttributesT a = {ptr(&id), pick_time()};
        SaSizeT size = pick_size();
        int generated = id.idLen == 0 && id.id == NULL && a.sectionId == &id;
        rc = EXPECT("saCkptSectionCreate", saCkptSectionCreate(ch, ptr(&a), ptr(buf), size), OKc, BADH, INVAL, ACCESS,
                    SA_AIS_ERR_EXIST, SA_AIS_ERR_NO_SPACE, NOTEX);
        if (rc == OKc && generated && !bad_pointer) {
            if (id.id == NULL || id.idLen == 0)
                fail("no generated id", id.idLen);
            EXPECT("saCkptSectionIdFree", saCkptSectionIdFree(ch, id.id), OKc);
        }
        return;
    }
    case 7:
        EXPECT("saCkptSectionDelete", saCkptSectionDelete(ch, pick_id()), OKc, BADH, INVAL, ACCESS, NOTEX);
        return;
    case 8:
        EXPECT("saCkptSectionExpirationTimeSet", saCkptSectionExpirationTimeSet(ch, pick_id(), pick_time()), OKc, BADH,
               INVAL, ACCESS, NOTEX);
        return;
    case 9: { /* Write */
        SaCkptIOVectorElementT v[3];
        SaUint32T n = u8() % 4, idx = 0;
        for (SaUint32T i = 0; i < 3; i++) {
            v[i].sectionId = pick_id_value();
            v[i].dataBuffer = ptr(buf);
            v[i].dataSize = pick_size();
            v[i].dataOffset = pick_size();
            v[i].readSize = 0;
        }
        rc = EXPECT("saCkptCheckpointWrite", saCkptCheckpointWrite(ch, ptr(v), n, ptr(&idx)), OKc, BADH, INVAL,
                    SA_AIS_ERR_NO_RESOURCES, ACCESS, NOTEX);
        return;
    }
    case 10:
        EXPECT("saCkptSectionOverwrite", saCkptSectionOverwrite(ch, pick_id(), ptr(buf), pick_size()), OKc, BADH, INVAL,
               ACCESS, NOTEX);
        return;
    case 11: { /* Read */
        static uint8_t out[3][8192];
        SaCkptIOVectorElementT v[3];
        SaUint32T n = u8() % 4, idx = 0;
        for (SaUint32T i = 0; i < 3; i++) {
            v[i].sectionId = pick_id_value();
            v[i].dataBuffer = u8() % 3 == 0 ? NULL : ptr(out[i]);
            v[i].dataSize = pick_size();
            v[i].dataOffset = pick_size();
            v[i].readSize = 0;
        }
        int with_null = 0;
        for (SaUint32T i = 0; i < n; i++)
            with_null |= v[i].dataBuffer == NULL;
        rc = EXPECT("saCkptCheckpointRead", saCkptCheckpointRead(ch, ptr(v), n, ptr(&idx)), OKc, BADH, INVAL, ACCESS,
                    NOTEX);
        if (rc == OKc && !bad_pointer) {
            for (SaUint32T i = 0; i < n; i++) {
                volatile uint8_t sink = 0;
                for (SaSizeT k = 0; k < v[i].readSize; k++) /* ASan: the buffer holds readSize bytes */
                    sink ^= ((uint8_t *)v[i].dataBuffer)[k];
                (void)sink;
                if (v[i].dataBuffer != out[i]) {
                    EXPECT("saCkptIOVectorElementDataFree", saCkptIOVectorElementDataFree(ch, v[i].dataBuffer), OKc);
                } else if (v[i].readSize > v[i].dataSize) {
                    fail("read more than asked", v[i].readSize);
                }
            }
        }
        (void)with_null;
        return;
    }
    case 12: {
        SaCkptSectionIterationHandleT h = 0;
        rc = EXPECT("saCkptSectionIterationInitialize",
                    saCkptSectionIterationInitialize(ch, (SaCkptSectionsChosenT)(u8() % 7), pick_time(), ptr(&h)), OKc,
                    BADH, INVAL, NOTEX);
        if (rc == OKc && !bad_pointer) {
            if (its[ii] != 0)
                EXPECT("saCkptSectionIterationFinalize", saCkptSectionIterationFinalize(its[ii]), OKc, BADH);
            its[ii] = h, it_b02[ii] = b02;
        }
        return;
    }
    case 13: {
        SaCkptSectionDescriptorT d;
        SaCkptSectionIterationHandleT h = (SaCkptSectionIterationHandleT)pick(its, NIT);
        int s = slot_of(its, NIT, h);
        rc = EXPECT("saCkptSectionIterationNext", saCkptSectionIterationNext(h, ptr(&d)), OKc, BADH, INVAL,
                    SA_AIS_ERR_NO_SECTIONS);
        if (rc == OKc && !bad_pointer) {
            volatile uint8_t sink = 0;
            for (SaUint16T k = 0; k < d.sectionId.idLen; k++)
                sink ^= d.sectionId.id[k];
            (void)sink;
            if (s >= 0 && it_b02[s] && d.sectionId.id != NULL)
                free(d.sectionId.id); /* B.02: the caller's (saCkptSectionIdFree would need its checkpoint) */
        }
        return;
    }
    case 14: {
        SaCkptSectionIterationHandleT h = (SaCkptSectionIterationHandleT)pick(its, NIT);
        rc = EXPECT("saCkptSectionIterationFinalize", saCkptSectionIterationFinalize(h), OKc, BADH);
        int s = slot_of(its, NIT, h);
        if (rc == OKc && s >= 0)
            its[s] = 0, forget(h);
        return;
    }
    case 15: {
        SaCkptCheckpointDescriptorT d;
        EXPECT("saCkptCheckpointStatusGet", saCkptCheckpointStatusGet(ch, ptr(&d)), OKc, BADH, INVAL, NOTEX);
        return;
    }
    case 16:
        EXPECT("saCkptCheckpointSynchronize", saCkptCheckpointSynchronize(ch, pick_time() % (2 * SA_TIME_ONE_SECOND)),
               OKc, BADH, ACCESS, BADOP, NOTEX, SA_AIS_ERR_TIMEOUT);
        return;
    case 17:
        EXPECT("saCkptCheckpointSynchronizeAsync", saCkptCheckpointSynchronizeAsync(ch, u32()), OKc, BADH,
               SA_AIS_ERR_INIT, ACCESS, BADOP, NOTEX);
        return;
    case 18:
        EXPECT("saCkptActiveReplicaSet", saCkptActiveReplicaSet(ch), OKc, BADH, ACCESS, BADOP);
        return;
    case 19:
        EXPECT("saCkptCheckpointRetentionDurationSet", saCkptCheckpointRetentionDurationSet(ch, pick_time()), OKc, BADH,
               ACCESS, BADOP);
        return;
    case 20:
    { /* flags 0 to 4 but 3: SA_DISPATCH_BLOCKING would wait for a Finalize that this thread makes */
        static const SaDispatchFlagsT flags[] = {0, 1, 2, 4, 2, 2};
        EXPECT("saCkptDispatch", saCkptDispatch(lh, flags[u8() % 6]), OKc, BADH, INVAL);
    }
        return;
    case 21: {
        SaSelectionObjectT so;
        EXPECT("saCkptSelectionObjectGet", saCkptSelectionObjectGet(lh, ptr(&so)), OKc, BADH, INVAL);
        return;
    }
    case 22:
        EXPECT("ncsCkptRegisterCkptArrivalCallback",
               ncsCkptRegisterCkptArrivalCallback(lh, u8() % 4 ? arrival_cb : NULL), OKc, BADH, INVAL);
        return;
    default:
        switch (u8() % 4) {
        case 0:
            EXPECT("saCkptTrack", saCkptTrack(lh), OKc, BADH, SA_AIS_ERR_VERSION, SA_AIS_ERR_INIT);
            return;
        case 1:
            EXPECT("saCkptTrackStop", saCkptTrackStop(lh), OKc, BADH, SA_AIS_ERR_VERSION, SA_AIS_ERR_INIT);
            return;
        case 2:
            EXPECT("saCkptCheckpointTrack", saCkptCheckpointTrack(ch), OKc, BADH, SA_AIS_ERR_VERSION, SA_AIS_ERR_INIT);
            return;
        }
        EXPECT("saCkptCheckpointTrackStop", saCkptCheckpointTrackStop(ch), OKc, BADH, SA_AIS_ERR_VERSION, SA_AIS_ERR_INIT);
    }
}

/* ---- setup ---------------------------------------------------------------------------------- */

/* The process and its environment: fuzz_env.h. */
int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc;
    fuzz_env_setup("fuzz_saf", "saffuzz", "FUZZ_SAF_PID", *argv);
    unmapped = mmap(NULL, 1 << 20, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (unmapped == MAP_FAILED) {
        perror("fuzz_saf: mmap");
        exit(1);
    }
    memset(buf, 'x', sizeof buf);
    make_long_names();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    SaSelectionObjectT so;
    if (anchor == 0 || saCkptSelectionObjectGet(anchor, &so) != OKc) {
        SaVersionT v = {'B', 2, 2};
        if (saCkptInitialize(&anchor, NULL, &v) != OKc) {
            fprintf(stderr, "fuzz_saf: the service does not start\n");
            abort();
        }
    }
    in_p = data, in_n = size;
    for (int i = 0; i < 48 && in_n > 0; i++)
        one_call();
    /* End of input: every handle it made goes (Finalize closes checkpoints and iterations). */
    call_name = "cleanup";
    for (int i = 0; i < NLIB; i++)
        if (libs[i] != 0)
            EXPECT("saCkptFinalize", saCkptFinalize(libs[i]), OKc, BADH), forget(libs[i]), libs[i] = 0;
    for (int i = 0; i < NCK; i++)
        cks[i] = 0;
    for (int i = 0; i < NIT; i++)
        its[i] = 0;
    for (int i = 0; i < 5; i++) {
        SaNameT n;
        memset(&n, 0, sizeof n);
        n.length = (SaUint16T)strlen(names[i]);
        memcpy(n.value, names[i], n.length);
        if (n.length > 8) /* the anchor is a B.02 client: names start with safCkpt= */
            EXPECT("saCkptCheckpointUnlink", saCkptCheckpointUnlink(anchor, &n), OKc, NOTEX);
    }
    SaNameT lent;
    saAisNameLend(longest_name, &lent);
    EXPECT("saCkptCheckpointUnlink", saCkptCheckpointUnlink(anchor, &lent), OKc, NOTEX);
    return 0;
}
