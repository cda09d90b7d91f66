/*
 * libFuzzer harness for the C API: each input is a sequence of calls, decoded byte by byte, made
 * on the real library (libclckpt.so and its Go core) with valid, NULL, stale, random and
 * wrong-kind handles, and valid, NULL, huge and unmapped pointers. Every call must return one of
 * the codes its documentation in clCkptApi.h lists (plus TRY_AGAIN, NO_MEMORY and NO_RESOURCE,
 * which any call may return); anything else, a broken canary or a malformed result aborts, and
 * libFuzzer reports the input. See ctests/fuzz/README.md.
 *
 * One hidden service handle (the anchor) lives as long as the process, so that the service is
 * opened once; everything an input opens is closed, and every checkpoint name it used is deleted,
 * when the input ends, so inputs do not depend on each other.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <fcntl.h>
#include <ftw.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <clCkptApi.h>
#include <clHeapApi.h>

#include "fuzz_env.h"

/* ---- codes ---------------------------------------------------------------------------------- */

#define OK CL_OK
#define NULLP CL_CKPT_ERR_NULL_POINTER
#define INVAL CL_CKPT_ERR_INVALID_PARAMETER
#define NOTEX CL_CKPT_ERR_NOT_EXIST
#define BADH CL_CKPT_ERR_INVALID_HANDLE
#define NOINIT CL_CKPT_ERR_NOT_INITIALIZED
#define NOPERM CL_CKPT_ERR_OP_NOT_PERMITTED
#define BADOP CL_CKPT_ERR_BAD_OPERATION
#define TMO CL_CKPT_ERR_TIMEOUT
#define END_OF_SECTIONS CKPT_RC(CL_CKPT_ERR_NO_SECTIONS)
#define VERSION_MISMATCH 0x31000fu
#define MAX_SECTIONS_ZERO 0x180002u
#define LIST_END 0xffffffffu

/* The engine's largest section (engine.MaxDataSize): sizes around it are the interesting ones. */
#define MAXDATA (64ull << 20)

/* Codes that belong to no one call: the service unreachable, memory or resources exhausted. */
static int any_call_may(ClRcT rc) {
    return rc == CL_CKPT_ERR_TRY_AGAIN || rc == CL_CKPT_ERR_NO_MEMORY || rc == CL_CKPT_ERR_NO_RESOURCE;
}

static __thread const char *call_name; /* per thread: callbacks run on other threads */

static void fail(const char *what, unsigned long long a, unsigned long long b) {
    fprintf(stderr, "fuzz_api: %s: %s (0x%llx, 0x%llx)\n", call_name ? call_name : "-", what, a, b);
    abort();
}

#define REQUIRE(cond, a, b)                                                                        \
    do {                                                                                           \
        if (!(cond))                                                                               \
            fail(#cond, (unsigned long long)(a), (unsigned long long)(b));                         \
    } while (0)

/* expect: rc must be one of the codes listed (terminated by LIST_END), or INVALID_PARAMETER when
 * the call was given an unmapped pointer (the library turns the fault into that code). */
static int bad_pointer_passed;

/* With FUZZ_API_STATS set, how often each call returned each code is printed at exit. */
#define NSTATS 256
static struct stat_entry {
    const char *call;
    ClRcT rc;
    unsigned long n;
} stats[NSTATS];
static pthread_mutex_t stats_mu = PTHREAD_MUTEX_INITIALIZER;

static void count(ClRcT rc) {
    pthread_mutex_lock(&stats_mu);
    for (int i = 0; i < NSTATS; i++) {
        if (stats[i].call == NULL) {
            stats[i].call = call_name;
            stats[i].rc = rc;
        }
        if (stats[i].call == call_name && stats[i].rc == rc) {
            stats[i].n++;
            break;
        }
    }
    pthread_mutex_unlock(&stats_mu);
}

static void print_stats(void) {
    for (int i = 0; i < NSTATS && stats[i].call != NULL; i++)
        fprintf(stderr, "fuzz_api: %-40s 0x%06x %lu\n", stats[i].call, stats[i].rc, stats[i].n);
}

static ClRcT expect_list(ClRcT rc, const ClRcT *allowed) {
    count(rc);
    for (const ClRcT *a = allowed; *a != LIST_END; a++)
        if (rc == *a)
            return rc;
    if (any_call_may(rc) || (bad_pointer_passed && rc == INVAL))
        return rc;
    if (getenv("FUZZ_API_REPORT_ONLY") != NULL) { /* survey mode: report each new pair, go on */
        static char seen[64][96];
        static int nseen;
        char key[96];
        snprintf(key, sizeof key, "%s 0x%x", call_name, rc);
        for (int i = 0; i < nseen; i++)
            if (strcmp(seen[i], key) == 0)
                return rc;
        if (nseen < 64)
            strcpy(seen[nseen++], key);
        fprintf(stderr, "fuzz_api: undocumented return code: %s\n", key);
        return rc;
    }
    fail("undocumented return code", rc, 0);
    return rc;
}
#define EXPECT(name, call, ...)                                                                    \
    (call_name = (name), expect_list((call), (const ClRcT[]){__VA_ARGS__, LIST_END}))

/* The documented codes of each call (clCkptApi.h). */
#define OPEN_CODES OK, NULLP, CL_CKPT_ERR_BAD_FLAG, INVAL, MAX_SECTIONS_ZERO, NOTEX, CL_CKPT_ERR_ALREADY_EXIST, TMO, BADH, NOINIT
#define SYNC_CODES OK, TMO, BADOP, NOPERM, NOTEX, BADH, NOINIT

/* ---- input decoding ------------------------------------------------------------------------- */

static const uint8_t *in_p;
static size_t in_n;

static uint8_t u8(void) {
    if (in_n == 0)
        return 0;
    in_n--;
    return *in_p++;
}
static uint16_t u16(void) { return (uint16_t)(u8() | u8() << 8); }
static uint32_t u32(void) { return (uint32_t)u16() | (uint32_t)u16() << 16; }
static uint64_t u64(void) { return (uint64_t)u32() | (uint64_t)u32() << 32; }

/* ---- memory the calls are given ------------------------------------------------------------- */

/* A buffer larger than any section, for huge reads and writes, and an unmapped region larger than
 * any access the library could make through a pointer into it. */
static uint8_t *big;
static uint8_t *unmapped;
#define BIG_SIZE (MAXDATA + 4096)

static void *bad_ptr(void) {
    bad_pointer_passed = 1;
    return unmapped;
}

/* Canaries around what the library writes: a write past its end is caught even though the Go
 * core is not instrumented. */
#define CANARY 0xa5
#define GUARD 32
struct guarded {
    uint8_t *base; /* GUARD canary bytes, size bytes, GUARD canary bytes */
    size_t size;
};

static void *guarded_new(struct guarded *g, size_t size) {
    g->size = size;
    g->base = malloc(size + 2 * GUARD);
    REQUIRE(g->base != NULL, size, 0);
    memset(g->base, CANARY, size + 2 * GUARD);
    return g->base + GUARD;
}

static void guarded_check(const struct guarded *g) {
    for (size_t i = 0; i < GUARD; i++) {
        REQUIRE(g->base[i] == CANARY, i, g->size);
        REQUIRE(g->base[GUARD + g->size + i] == CANARY, i, g->size);
    }
}

static void guarded_free(struct guarded *g) {
    guarded_check(g);
    free(g->base);
    g->base = NULL;
}

/* touch reads every byte of a buffer the library handed over, so that ASan sees a short one. */
static volatile uint8_t sink;
static void touch(const void *p, size_t n) {
    const uint8_t *b = p;
    uint8_t s = 0;
    for (size_t i = 0; i < n; i++)
        s ^= b[i];
    sink = s;
}

/* ---- handles -------------------------------------------------------------------------------- */

#define NSVC 4
#define NCK 8
#define NIT 8
#define NSTALE 16
#define NINBOX 32

struct svc {
    ClCkptSvcHdlT h;
    int blocking; /* a thread runs clCkptDispatch(CL_DISPATCH_BLOCKING) on h */
    pthread_t thread;
    ClRcT blocking_rc;
    ClSelectionObjectT fd;
};
static struct svc svcs[NSVC];
static ClCkptHdlT cks[NCK];
static ClHandleT its[NIT];
static ClHandleT stale[NSTALE];
static unsigned nstale;
static ClCkptSvcHdlT anchor;

/* Handles delivered by open callbacks, which may run on a blocking dispatch thread. */
static pthread_mutex_t inbox_mu = PTHREAD_MUTEX_INITIALIZER;
static ClCkptHdlT inbox[NINBOX];
static int ninbox;

static void forget(ClHandleT h) { stale[nstale++ % NSTALE] = h; }

static void handle_ok(ClHandleT h) { REQUIRE(h != 0 && h < (1ull << 32), h, 0); }

/* A handle for a call: a live one, 0, a stale one, one of the wrong kind, or a made-up value. */
static ClHandleT pick_any(const ClHandleT *live, int nlive) {
    switch (u8() % 16) {
    case 0: return 0;
    case 1: return stale[u8() % NSTALE];
    case 2: return svcs[u8() % NSVC].h;
    case 3: return cks[u8() % NCK];
    case 4: return its[u8() % NIT];
    case 5: return u32();
    case 6: return u64();
    case 7: return live[u8() % nlive] | (1ull << 32);
    case 8: return live[u8() % nlive] + 1;
    default: return live[u8() % nlive];
    }
}

static ClHandleT svc_handles[NSVC];
static ClCkptSvcHdlT pick_svc(void) {
    for (int i = 0; i < NSVC; i++)
        svc_handles[i] = svcs[i].h;
    return pick_any(svc_handles, NSVC);
}
static ClCkptHdlT pick_ck(void) { return pick_any(cks, NCK); }
static ClHandleT pick_it(void) { return pick_any(its, NIT); }

static int put(ClHandleT *slots, int n, ClHandleT h) {
    for (int i = 0; i < n; i++)
        if (slots[i] == 0) {
            slots[i] = h;
            return 1;
        }
    return 0;
}

/* Close a checkpoint handle the harness holds: its service may have been finalized since. */
static void close_held(ClCkptHdlT h) {
    if (EXPECT("clCkptCheckpointClose(held)", clCkptCheckpointClose(h), OK, BADH) == OK)
        forget(h);
}

static void drain_inbox(void) {
    pthread_mutex_lock(&inbox_mu);
    int n = ninbox;
    ClCkptHdlT got[NINBOX];
    memcpy(got, inbox, sizeof got);
    ninbox = 0;
    pthread_mutex_unlock(&inbox_mu);
    for (int i = 0; i < n; i++)
        if (!put(cks, NCK, got[i]))
            close_held(got[i]);
}

/* ---- callbacks ------------------------------------------------------------------------------ */

static void open_cb(ClInvocationT invocation, ClCkptHdlT h, ClRcT error) {
    (void)invocation;
    const char *saved = call_name;
    call_name = "open callback";
    expect_list(error, (const ClRcT[]){OPEN_CODES, LIST_END});
    REQUIRE((error == OK) == (h != 0), error, h);
    call_name = saved;
    if (h == 0)
        return;
    handle_ok(h);
    pthread_mutex_lock(&inbox_mu);
    int kept = ninbox < NINBOX;
    if (kept)
        inbox[ninbox++] = h;
    pthread_mutex_unlock(&inbox_mu);
    if (!kept)
        REQUIRE(clCkptCheckpointClose(h) == OK, h, 0);
}

static void sync_cb(ClInvocationT invocation, ClRcT error) {
    (void)invocation;
    const char *saved = call_name;
    call_name = "synchronize callback";
    expect_list(error, (const ClRcT[]){SYNC_CODES, LIST_END});
    call_name = saved;
}

static int cookie_magic;

/* Runs on a library thread: checks the arguments and reads every byte they point to. */
static ClRcT notify_cb(ClCkptHdlT h, ClNameT *name, ClCkptIOVectorElementT *iov, ClUint32T n, ClPtrT cookie) {
    handle_ok(h);
    REQUIRE(cookie == NULL || cookie == &cookie_magic, cookie, 0);
    REQUIRE(name != NULL && name->length <= CL_MAX_NAME_LENGTH, name, name ? name->length : 0);
    REQUIRE(n == 0 || iov != NULL, n, 0);
    for (ClUint32T i = 0; i < n; i++) {
        REQUIRE(iov[i].sectionId.idLen == 0 || iov[i].sectionId.id != NULL, i, iov[i].sectionId.idLen);
        touch(iov[i].sectionId.id, iov[i].sectionId.idLen);
        REQUIRE(iov[i].dataSize <= MAXDATA, i, iov[i].dataSize);
        REQUIRE(iov[i].dataSize == 0 || iov[i].dataBuffer != NULL, i, iov[i].dataSize);
        touch(iov[i].dataBuffer, iov[i].dataSize);
    }
    return CL_OK;
}

static void *blocking_dispatch(void *arg) {
    struct svc *s = arg;
    s->blocking_rc = clCkptDispatch(s->h, CL_DISPATCH_BLOCKING);
    return NULL;
}

/* After the service handle h has ended: wait for its blocking dispatch, which must have returned. */
static void svc_ended(ClCkptSvcHdlT h) {
    for (int i = 0; i < NSVC; i++) {
        struct svc *s = &svcs[i];
        if (s->h != h || h == 0)
            continue;
        if (s->blocking) {
            pthread_join(s->thread, NULL);
            call_name = "clCkptDispatch(CL_DISPATCH_BLOCKING)";
            expect_list(s->blocking_rc, (const ClRcT[]){OK, BADH, LIST_END});
        }
        memset(s, 0, sizeof *s);
    }
    forget(h);
}

/* ---- arguments ------------------------------------------------------------------------------ */

static ClTimeT now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (ClTimeT)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* An absolute time (expirations, iteration filters). */
static ClTimeT pick_time(void) {
    switch (u8() % 10) {
    case 0: return 0;
    case 1: return -1;
    case 2: return (ClTimeT)CL_TIME_END;
    case 3: return now_ns() + 20 * 1000000LL;
    case 4: return now_ns() - 1000000000LL;
    case 5: return now_ns() + 3600 * 1000000000LL;
    case 6: return INT64_MIN;
    case 7: return (ClTimeT)u64();
    case 8: return 1;
    default: return now_ns() + 2000000000LL;
    }
}

/* A duration (retention, timeouts). */
static ClTimeT pick_duration(void) {
    switch (u8() % 9) {
    case 0: return 0;
    case 1: return -1;
    case 2: return (ClTimeT)CL_TIME_END;
    case 3: return 1;
    case 4: return 1000000LL;
    case 5: return 50 * 1000000LL;
    case 6: return 1000000000LL;
    case 7: return INT64_MIN;
    default: return (ClTimeT)u64();
    }
}

/* Sizes and offsets above 1 MiB that the library accepts (up to a 64 MiB section) are kept for at
 * most one call every 10 s, the first at once (so that a replayed input gets it); others become
 * sizes it refuses. Otherwise the store's value log (on disk, and mapped: counted in the process's
 * RSS) grows by gigabytes a minute, faster than its garbage collection reclaims deleted sections. */
static time_t last_large;
static ClSizeT large(ClSizeT v) {
    if (v <= (1u << 20) || v > MAXDATA)
        return v;
    time_t now = time(NULL);
    if (last_large == 0 || now - last_large >= 10) {
        last_large = now;
        return v;
    }
    return MAXDATA + 1 + (v & 0xffff);
}

static ClSizeT pick_size_any(void) {
    switch (u8() % 12) {
    case 0: return 0;
    case 1: return 1;
    case 2: return u8();
    case 3: return u16() % 8192;
    case 4: return MAXDATA;
    case 5: return MAXDATA + 1;
    case 6: return UINT64_MAX;
    case 7: return 1ull << 63;
    case 8: return u32();
    case 9: return u64();
    default: return u8() % 16;
    }
}

static ClSizeT pick_size(void) { return large(pick_size_any()); }

static ClOffsetT pick_offset_any(void) {
    switch (u8() % 10) {
    case 0: return -1;
    case 1: return INT64_MIN;
    case 2: return INT64_MAX;
    case 3: return (ClOffsetT)MAXDATA;
    case 4: return (ClOffsetT)MAXDATA - 1;
    case 5: return (ClOffsetT)u64();
    case 6: return u16() % 8192;
    default: return u8() % 32;
    }
}

static ClOffsetT pick_offset(void) {
    ClOffsetT off = pick_offset_any();
    return off < 0 ? off : (ClOffsetT)large((ClSizeT)off);
}

/* Section ids: storage for the id bytes of the current call. */
#define NIDS 8
static uint8_t id_bytes[NIDS][128];
static int next_id;
static uint8_t last_generated[32];
static ClUint16T last_generated_len;

static ClCkptSectionIdT pick_id_value(void) {
    static const char *known[] = {"a", "b", "c", "generatedSection0"};
    ClCkptSectionIdT id = {0, NULL};
    uint8_t sel = u8();
    switch (sel % 12) {
    case 0: break; /* {0, NULL}: default section, or a generated id */
    case 1: id.idLen = u16(); break; /* NULL with a length */
    case 2: id.id = id_bytes[0]; break; /* a pointer with length 0 */
    case 3: {
        uint8_t *b = id_bytes[next_id++ % NIDS];
        id.idLen = u8() % 100;
        for (int i = 0; i < id.idLen; i++)
            b[i] = u8();
        id.id = b;
        break;
    }
    case 4:
        id.idLen = last_generated_len;
        id.id = last_generated;
        break;
    case 5:
        id.idLen = 0xffff;
        id.id = big;
        break;
    case 6:
        id.idLen = 1 + u8();
        id.id = bad_ptr();
        break;
    case 7:
        id.idLen = (ClUint16T)strlen(known[3]) + 1; /* a generated id, with its NUL */
        id.id = (ClUint8T *)known[3];
        break;
    default:
        id.idLen = 1;
        id.id = (ClUint8T *)known[sel % 3];
        break;
    }
    return id;
}

/* A pointer to a section id: NULL, unmapped, or one that holds pick_id_value(). */
static ClCkptSectionIdT id_store[NIDS];
static ClCkptSectionIdT *pick_id(void) {
    uint8_t sel = u8() % 16;
    if (sel == 0)
        return NULL;
    if (sel == 1)
        return bad_ptr();
    ClCkptSectionIdT *p = &id_store[next_id++ % NIDS];
    *p = pick_id_value();
    return p;
}

/* Data for a write: pointer and size, honest (the buffer holds size bytes) unless NULL or
 * unmapped, or so large that the library must refuse it before reading. */
static uint8_t data_bytes[8][8192];
static int next_data;
static void pick_data(const void **p, ClSizeT *size) {
    uint8_t *b = data_bytes[next_data++ % 8];
    switch (u8() % 10) {
    case 0: *p = NULL; *size = 0; return;
    case 1: *p = NULL; *size = pick_size(); return;
    case 2: *p = b; *size = 0; return;
    case 3: *p = bad_ptr(); *size = 1 + u8(); return;
    case 4: *p = big; *size = pick_size(); break;
    default: {
        *size = u8() % 64 + (u8() % 4 == 0 ? u16() % 8192 : 0);
        if (*size > sizeof data_bytes[0])
            *size = sizeof data_bytes[0];
        uint8_t seed = u8();
        for (ClSizeT i = 0; i < *size; i++)
            b[i] = (uint8_t)(seed + i * 7);
        *p = b;
        return;
    }
    }
    if (*size > MAXDATA)
        *p = big; /* refused before any byte is read */
}

static ClNameT names[8];
static int next_name;
#define NUSED 32
static ClNameT used[NUSED];
static int nused;

/* Remember a name an open was given, so that the end of the input can delete it. */
static void name_used(const ClNameT *n) {
    if (n == NULL || (void *)n == unmapped || n->length == 0 || n->length > CL_MAX_NAME_LENGTH)
        return; /* not a valid name: nothing was created */
    for (int i = 0; i < nused; i++)
        if (used[i].length == n->length && memcmp(used[i].value, n->value, n->length) == 0)
            return;
    if (nused < NUSED)
        used[nused++] = *n;
}

static ClNameT *pick_name(void) {
    ClNameT *n = &names[next_name++ % 8];
    memset(n, 0, sizeof *n);
    uint8_t sel = u8() % 10;
    switch (sel) {
    case 0: return NULL;
    case 1: return bad_ptr();
    case 2:
        n->length = u8() % (CL_MAX_NAME_LENGTH + 1);
        for (int i = 0; i < n->length; i++)
            n->value[i] = (ClCharT)u8();
        return n;
    case 3:
        n->length = u16();
        memcpy(n->value, "fz0", 3);
        return n;
    default:
        n->length = 3;
        memcpy(n->value, "fz", 2);
        n->value[2] = (ClCharT)('0' + sel % 4);
        return n;
    }
}

static ClCkptCheckpointCreationAttributesT attr_store;
static ClCkptCheckpointCreationAttributesT *pick_attrs(void) {
    static const ClUint32T max_sections[] = {0, 1, 2, 3, 4, 1000, UINT32_MAX, 5};
    static const ClSizeT max_section_size[] = {0, 1, 4, 16, 4096, MAXDATA, MAXDATA + 1, UINT64_MAX};
    static const ClSizeT max_id_size[] = {0, 1, 4, 64, 256, 65535, 65536, UINT64_MAX};
    uint8_t sel = u8() % 8;
    if (sel == 0)
        return NULL;
    if (sel == 1)
        return bad_ptr();
    ClCkptCheckpointCreationAttributesT *a = &attr_store;
    a->creationFlags = u8() % 8 == 0 ? u32() : (u16() & 0x1ff);
    a->checkpointSize = u8() % 2 ? 0 : pick_size();
    a->retentionDuration = pick_duration();
    a->maxSections = max_sections[u8() % 8];
    a->maxSectionSize = max_section_size[u8() % 8];
    a->maxSectionIdSize = max_id_size[u8() % 8];
    return a;
}

static ClCkptOpenFlagsT pick_open_flags(void) {
    uint8_t sel = u8();
    return sel >= 240 ? u32() : sel % 8;
}

/* ---- operations ----------------------------------------------------------------------------- */

static void op_initialize(void) {
    static const ClCkptCallbacksT tables[] = {{open_cb, sync_cb}, {open_cb, NULL}, {NULL, sync_cb}, {NULL, NULL}};
    ClVersionT v = {'B', 1, 1};
    ClCkptSvcHdlT h = 0;
    uint8_t sel = u8();
    const ClCkptCallbacksT *cbs = sel % 5 == 4 ? NULL : &tables[sel % 5];
    if (u8() % 4 == 0) {
        v.releaseCode = u8();
        v.majorVersion = u8();
        v.minorVersion = u8();
    }
    uint8_t ptrs = u8();
    ClCkptSvcHdlT *out = ptrs % 8 == 0 ? NULL : &h;
    ClVersionT *vp = ptrs % 8 == 1 ? NULL : &v;
    ClRcT rc = EXPECT("clCkptInitialize", clCkptInitialize(out, cbs, vp), OK, NULLP, VERSION_MISMATCH);
    if (rc == OK || rc == VERSION_MISMATCH)
        REQUIRE(v.releaseCode == 'B' && v.majorVersion == 1 && v.minorVersion == 1, v.releaseCode, v.majorVersion);
    if (rc != OK)
        return;
    handle_ok(h);
    for (int i = 0; i < NSVC; i++)
        if (svcs[i].h == 0) {
            svcs[i].h = h;
            return;
        }
    REQUIRE(clCkptFinalize(h) == OK, h, 0);
    forget(h);
}

static void op_finalize(void) {
    ClCkptSvcHdlT h = pick_svc();
    if (EXPECT("clCkptFinalize", clCkptFinalize(h), OK, BADH, NOINIT) == OK)
        svc_ended(h);
}

static void op_open(void) {
    ClCkptSvcHdlT svc = pick_svc();
    ClNameT *name = pick_name();
    ClCkptCheckpointCreationAttributesT *a = pick_attrs();
    ClCkptOpenFlagsT flags = pick_open_flags();
    ClTimeT timeout = pick_duration();
    ClCkptHdlT h = 0x5a5a5a5a;
    ClCkptHdlT *out = u8() % 16 == 0 ? NULL : &h;
    name_used(name);
    ClRcT rc = EXPECT("clCkptCheckpointOpen", clCkptCheckpointOpen(svc, name, a, flags, timeout, out), OPEN_CODES);
    if (rc != OK) {
        REQUIRE(h == 0x5a5a5a5a, h, rc); /* unchanged on failure */
        return;
    }
    handle_ok(h);
    if (!put(cks, NCK, h))
        close_held(h);
}

static void op_open_async(void) {
    ClCkptSvcHdlT svc = pick_svc();
    ClNameT *name = pick_name();
    ClCkptCheckpointCreationAttributesT *a = pick_attrs();
    ClCkptOpenFlagsT flags = pick_open_flags();
    name_used(name);
    EXPECT("clCkptCheckpointOpenAsync", clCkptCheckpointOpenAsync(svc, u64(), name, a, flags), OK,
           CL_CKPT_ERR_INITIALIZED, NULLP, CL_CKPT_ERR_BAD_FLAG, INVAL, BADH, NOINIT);
}

static void op_close(void) {
    ClCkptHdlT h = pick_ck();
    if (EXPECT("clCkptCheckpointClose", clCkptCheckpointClose(h), OK, BADH, NOINIT) != OK)
        return;
    forget(h);
    for (int i = 0; i < NCK; i++)
        if (cks[i] == h)
            cks[i] = 0;
}

static void op_delete(void) {
    ClCkptSvcHdlT svc = pick_svc();
    ClNameT *name = pick_name();
    EXPECT("clCkptCheckpointDelete", clCkptCheckpointDelete(svc, name), OK, NULLP, INVAL, NOTEX, BADH, NOINIT);
}

static void op_retention(void) {
    ClCkptHdlT h = pick_ck();
    EXPECT("clCkptCheckpointRetentionDurationSet", clCkptCheckpointRetentionDurationSet(h, pick_duration()), OK,
           BADOP, BADH, NOINIT);
}

static void op_active_replica(void) {
    EXPECT("clCkptActiveReplicaSet", clCkptActiveReplicaSet(pick_ck()), OK, BADOP, NOPERM, BADH, NOINIT);
}

static void op_status(void) {
    ClCkptHdlT h = pick_ck();
    struct guarded g;
    ClCkptCheckpointDescriptorT *d = guarded_new(&g, sizeof *d);
    uint8_t sel = u8() % 8;
    ClCkptCheckpointDescriptorT *out = sel == 0 ? NULL : sel == 1 ? bad_ptr() : d;
    ClRcT rc = EXPECT("clCkptCheckpointStatusGet", clCkptCheckpointStatusGet(h, out), OK, NULLP, NOTEX, BADH, NOINIT);
    if (rc == OK && out == d)
        REQUIRE(d->numberOfSections <= d->checkpointCreationAttributes.maxSections, d->numberOfSections,
                d->checkpointCreationAttributes.maxSections);
    guarded_free(&g);
}

/* A generated id written back: clHeapFree-able, NUL-terminated, "generatedSection<N>". */
static void check_generated(ClCkptSectionIdT *id) {
    REQUIRE(id->id != NULL && id->idLen >= 2 && id->idLen <= 30, id->id, id->idLen);
    touch(id->id, id->idLen);
    REQUIRE(id->id[id->idLen - 1] == 0 && strlen((char *)id->id) == (size_t)id->idLen - 1u, id->idLen, 0);
    REQUIRE(strncmp((char *)id->id, "generatedSection", 16) == 0, 0, 0);
    memcpy(last_generated, id->id, id->idLen);
    last_generated_len = id->idLen;
    clHeapFree(id->id);
}

static void op_section_create(void) {
    ClCkptHdlT h = pick_ck();
    ClCkptSectionCreationAttributesT sa;
    sa.sectionId = pick_id();
    sa.expirationTime = pick_time();
    uint8_t sel = u8() % 10;
    ClCkptSectionCreationAttributesT *attrs = sel == 0 ? NULL : sel == 1 ? bad_ptr() : &sa;
    const void *data;
    ClSizeT size;
    pick_data(&data, &size);
    ClUint8T *given = attrs == &sa && sa.sectionId != NULL && (void *)sa.sectionId != unmapped ? sa.sectionId->id : NULL;
    int generated = attrs == &sa && sa.sectionId != NULL && (void *)sa.sectionId != unmapped && sa.sectionId->idLen == 0;
    ClRcT rc = EXPECT("clCkptSectionCreate", clCkptSectionCreate(h, attrs, data, size), OK, NULLP, INVAL,
                      CL_CKPT_ERR_ALREADY_EXIST, CL_CKPT_ERR_NO_SPACE, NOPERM, NOTEX, BADH, NOINIT);
    if (generated && rc == OK)
        check_generated(sa.sectionId);
    else if (generated)
        REQUIRE(sa.sectionId->id == given && sa.sectionId->idLen == 0, sa.sectionId->idLen, rc);
}

static void op_section_delete(void) {
    ClCkptHdlT h = pick_ck();
    EXPECT("clCkptSectionDelete", clCkptSectionDelete(h, pick_id()), OK, NULLP, INVAL, NOTEX, NOPERM, BADH, NOINIT);
}

static void op_expiration(void) {
    ClCkptHdlT h = pick_ck();
    ClCkptSectionIdT *id = pick_id();
    EXPECT("clCkptSectionExpirationTimeSet", clCkptSectionExpirationTimeSet(h, id, pick_time()), OK, NULLP, INVAL,
           NOTEX, NOPERM, BADH, NOINIT);
}

static ClRcT iteration_initialize(ClCkptHdlT h, ClHandleT *out) {
    uint8_t sel = u8();
    ClCkptSectionsChosenT chosen = sel >= 250 ? (ClCkptSectionsChosenT)u32() : (ClCkptSectionsChosenT)(sel % 7);
    return EXPECT("clCkptSectionIterationInitialize", clCkptSectionIterationInitialize(h, chosen, pick_time(), out),
                  OK, NULLP, INVAL, NOPERM, NOTEX, BADH, NOINIT);
}

static void op_iter_init(void) {
    ClCkptHdlT h = pick_ck();
    ClHandleT it = 0;
    uint8_t sel = u8() % 16;
    ClHandleT *out = sel == 0 ? NULL : sel == 1 ? bad_ptr() : &it;
    if (iteration_initialize(h, out) != OK || out != &it)
        return;
    handle_ok(it);
    if (!put(its, NIT, it)) {
        REQUIRE(clCkptSectionIterationFinalize(it) == OK, it, 0);
        forget(it);
    }
}

/* One clCkptSectionIterationNext into a guarded descriptor; checks and frees what it returns. */
static ClRcT iteration_next(ClHandleT it, int null_out) {
    struct guarded g;
    ClCkptSectionDescriptorT *d = guarded_new(&g, sizeof *d);
    ClRcT rc = EXPECT("clCkptSectionIterationNext", clCkptSectionIterationNext(it, null_out ? NULL : d), OK,
                      END_OF_SECTIONS, NULLP, BADH, NOINIT);
    if (rc == OK && !null_out) {
        REQUIRE(d->sectionId.idLen > 0 && d->sectionId.id != NULL, d->sectionId.idLen, d->sectionId.id);
        touch(d->sectionId.id, d->sectionId.idLen);
        clHeapFree(d->sectionId.id);
        REQUIRE(d->sectionSize <= MAXDATA, d->sectionSize, 0);
        REQUIRE(d->sectionState == CL_CKPT_SECTION_VALID || d->sectionState == CL_CKPT_SECTION_CORRUPTED,
                d->sectionState, 0);
    }
    guarded_free(&g);
    return rc;
}

static void op_iter_next(void) {
    ClHandleT it = pick_it();
    iteration_next(it, u8() % 16 == 0);
}

static void op_iter_finalize(void) {
    ClHandleT it = pick_it();
    if (EXPECT("clCkptSectionIterationFinalize", clCkptSectionIterationFinalize(it), OK, BADH, NOINIT) != OK)
        return;
    forget(it);
    for (int i = 0; i < NIT; i++)
        if (its[i] == it)
            its[i] = 0;
}

/* A whole iteration: initialize, next until the end, finalize. */
static void op_iter_all(void) {
    ClHandleT it = 0;
    if (iteration_initialize(cks[u8() % NCK], &it) != OK)
        return;
    handle_ok(it);
    int n = 0;
    while (iteration_next(it, 0) == OK)
        REQUIRE(++n <= 100000, n, 0);
    REQUIRE(iteration_next(it, 0) == END_OF_SECTIONS, it, 0); /* and it stays at the end */
    REQUIRE(clCkptSectionIterationFinalize(it) == OK, it, 0);
    forget(it);
}

#define MAXVEC 6
static ClCkptIOVectorElementT vec[MAXVEC];

static void op_write(void) {
    ClCkptHdlT h = pick_ck();
    ClUint32T n = u8() % (MAXVEC + 1);
    for (ClUint32T i = 0; i < n; i++) {
        memset(&vec[i], 0, sizeof vec[i]);
        vec[i].sectionId = pick_id_value();
        const void *p;
        pick_data(&p, &vec[i].dataSize);
        vec[i].dataBuffer = (ClPtrT)p;
        vec[i].dataOffset = pick_offset();
        vec[i].readSize = u8();
    }
    /* A made-up element count only with a NULL vector: the library must not read it. */
    uint8_t sel = u8() % 16;
    const ClCkptIOVectorElementT *v = sel == 0 ? NULL : sel == 1 ? bad_ptr() : vec;
    if (sel == 0 && u8() % 2)
        n = u32();
    ClUint32T idx = 0xdeadbeef;
    ClUint32T *pidx = u8() % 4 == 0 ? NULL : &idx;
    ClRcT rc = EXPECT("clCkptCheckpointWrite", clCkptCheckpointWrite(h, v, n, pidx), OK, INVAL, NULLP, NOTEX, NOPERM, BADH, NOINIT);
    if (pidx != NULL && v == vec && rc != OK && rc != BADH && rc != NOINIT && idx != 0xdeadbeef)
        REQUIRE(idx < n, idx, n);
}

static void op_overwrite(void) {
    ClCkptHdlT h = pick_ck();
    ClCkptSectionIdT *id = pick_id();
    const void *data;
    ClSizeT size;
    pick_data(&data, &size);
    EXPECT("clCkptSectionOverwrite", clCkptSectionOverwrite(h, id, data, size), OK, NULLP, INVAL, NOTEX, NOPERM, BADH,
           NOINIT);
}

#define READ_CODES OK, NULLP, INVAL, NOTEX, NOPERM, BADH, NOINIT

static void op_read(void) {
    ClCkptHdlT h = pick_ck();
    ClUint32T n = u8() % (MAXVEC + 1);
    struct guarded g[MAXVEC];
    ClSizeT asked[MAXVEC];
    int mine[MAXVEC]; /* 1: a guarded buffer of ours, 2: big, 0: NULL (the library allocates) */
    for (ClUint32T i = 0; i < n; i++) {
        memset(&vec[i], 0, sizeof vec[i]);
        vec[i].sectionId = pick_id_value();
        vec[i].dataOffset = pick_offset();
        vec[i].readSize = u8();
        mine[i] = u8() % 4;
        if (mine[i] == 3)
            mine[i] = 1;
        vec[i].dataSize = mine[i] == 1 ? u16() % 8192 : pick_size();
        if (mine[i] == 1)
            vec[i].dataBuffer = guarded_new(&g[i], vec[i].dataSize);
        else if (mine[i] == 2)
            vec[i].dataBuffer = big;
        asked[i] = vec[i].dataSize;
    }
    uint8_t sel = u8() % 16;
    ClCkptIOVectorElementT *v = sel == 0 ? NULL : sel == 1 ? bad_ptr() : vec;
    ClUint32T nn = sel == 0 && u8() % 2 ? u32() : n;
    ClUint32T idx = 0xdeadbeef;
    ClUint32T *pidx = u8() % 4 == 0 ? NULL : &idx;
    ClRcT rc = EXPECT("clCkptCheckpointRead", clCkptCheckpointRead(h, v, nn, pidx), READ_CODES);
    if (pidx != NULL && (void *)v != unmapped && rc != NOINIT) {
        REQUIRE(idx != 0xdeadbeef, idx, rc); /* cleared first */
        REQUIRE(idx < nn || idx == 0, idx, nn);
    }
    for (ClUint32T i = 0; i < n; i++) {
        if (rc == OK && v == vec && nn == n) {
            REQUIRE(vec[i].readSize == vec[i].dataSize, vec[i].readSize, vec[i].dataSize);
            if (mine[i] != 0)
                REQUIRE(vec[i].readSize <= asked[i], vec[i].readSize, asked[i]);
            REQUIRE(vec[i].readSize <= MAXDATA, vec[i].readSize, 0);
        }
        if (mine[i] == 1) {
            guarded_free(&g[i]);
        } else if (mine[i] == 0 && vec[i].dataBuffer != NULL) {
            /* Allocated by the library: only on success, readSize + 1 bytes, ours to free. */
            REQUIRE(rc == OK, rc, i);
            touch(vec[i].dataBuffer, vec[i].readSize + 1);
            clHeapFree(vec[i].dataBuffer);
        } else if (mine[i] == 0 && rc == OK && v == vec && nn == n) {
            fail("no buffer allocated", i, vec[i].readSize);
        }
    }
}

/* Overwrite or write one section, then read it back through the same handle: the data must be
 * there, unless the section expired meanwhile. */
static void op_write_verify(void) {
    ClCkptHdlT h = cks[u8() % NCK];
    ClCkptSectionIdT id = pick_id_value();
    if ((void *)id.id == unmapped)
        return;
    uint8_t *b = data_bytes[next_data++ % 8];
    ClSizeT size = 1 + u8() % 64 + (u8() % 4 == 0 ? u16() % 4096 : 0);
    uint8_t seed = u8();
    for (ClSizeT i = 0; i < size; i++)
        b[i] = (uint8_t)(seed ^ (i * 13));
    ClOffsetT off = 0;
    ClRcT rc;
    if (u8() % 2) {
        rc = EXPECT("clCkptSectionOverwrite(verify)", clCkptSectionOverwrite(h, &id, b, size), OK, NULLP, INVAL,
                    NOTEX, NOPERM, BADH, NOINIT);
    } else {
        off = u8() % 64;
        ClCkptIOVectorElementT e = {id, b, size, off, 0};
        rc = EXPECT("clCkptCheckpointWrite(verify)", clCkptCheckpointWrite(h, &e, 1, NULL), OK, INVAL, NOTEX, NOPERM,
                    BADH, NOINIT);
    }
    if (rc != OK)
        return;
    struct guarded g;
    ClCkptIOVectorElementT e = {id, guarded_new(&g, size), size, off, 0};
    rc = EXPECT("clCkptCheckpointRead(verify)", clCkptCheckpointRead(h, &e, 1, NULL), OK, NOTEX, NOPERM);
    if (rc == OK) {
        REQUIRE(e.readSize == size, e.readSize, size);
        REQUIRE(memcmp(e.dataBuffer, b, size) == 0, size, off);
    }
    guarded_free(&g);
}

static void op_sync(void) {
    ClCkptHdlT h = pick_ck();
    EXPECT("clCkptCheckpointSynchronize", clCkptCheckpointSynchronize(h, pick_duration()), SYNC_CODES);
}

static void op_sync_async(void) {
    ClCkptHdlT h = pick_ck();
    EXPECT("clCkptCheckpointSynchronizeAsync", clCkptCheckpointSynchronizeAsync(h, u64()), OK,
           CL_CKPT_ERR_INITIALIZED, BADOP, NOPERM, NOTEX, BADH, NOINIT);
}

static void op_register(void) {
    ClCkptHdlT h = pick_ck();
    uint8_t sel = u8();
    ClCkptNotificationCallbackT cb = sel % 4 == 0 ? NULL : notify_cb;
    ClPtrT cookie = sel & 4 ? &cookie_magic : NULL;
    EXPECT("clCkptImmediateConsumptionRegister", clCkptImmediateConsumptionRegister(h, cb, cookie), OK, NOPERM, BADH,
           NOINIT);
}

static void op_selection_object(void) {
    ClCkptSvcHdlT svc = pick_svc();
    ClSelectionObjectT fd = 0;
    uint8_t sel = u8() % 8;
    ClSelectionObjectT *out = sel == 0 ? NULL : sel == 1 ? bad_ptr() : &fd;
    ClRcT rc = EXPECT("clCkptSelectionObjectGet", clCkptSelectionObjectGet(svc, out), OK, NULLP, BADH, NOINIT);
    if (rc != OK || out != &fd)
        return;
    REQUIRE(fd < 1024 && fcntl((int)fd, F_GETFD) >= 0, fd, 0);
    struct pollfd p = {(int)fd, POLLIN, 0};
    REQUIRE(poll(&p, 1, 0) >= 0, fd, 0);
    for (int i = 0; i < NSVC; i++)
        if (svcs[i].h == svc && svc != 0) {
            REQUIRE(svcs[i].fd == 0 || svcs[i].fd == fd, svcs[i].fd, fd); /* the same every time */
            svcs[i].fd = fd;
        }
}

static void op_dispatch(void) {
    ClCkptSvcHdlT svc = pick_svc();
    uint8_t sel = u8();
    /* Never CL_DISPATCH_BLOCKING here: on a live handle it returns only at finalize. */
    ClDispatchFlagsT flags = sel % 3 == 0 ? CL_DISPATCH_ONE : sel % 3 == 1 ? CL_DISPATCH_ALL : (ClDispatchFlagsT)(u32() | 4u);
    EXPECT("clCkptDispatch", clCkptDispatch(svc, flags), OK, INVAL, BADH, NOINIT);
}

static void op_dispatch_blocking(void) {
    struct svc *s = &svcs[u8() % NSVC];
    if (s->h == 0 || s->blocking)
        return;
    s->blocking = 1;
    REQUIRE(pthread_create(&s->thread, NULL, blocking_dispatch, s) == 0, 0, 0);
}

typedef void (*op_fn)(void);
static const op_fn ops[] = {
    op_initialize, op_finalize,      op_open,      op_open_async,   op_close,          op_delete,
    op_retention,  op_active_replica, op_status,   op_section_create, op_section_delete, op_expiration,
    op_iter_init,  op_iter_next,     op_iter_finalize, op_iter_all, op_write,          op_overwrite,
    op_read,       op_write_verify,  op_sync,      op_sync_async,   op_register,       op_selection_object,
    op_dispatch,   op_dispatch_blocking,
};
#define NOPS (sizeof ops / sizeof ops[0])
#define MAXOPS 64

/* ---- process and input life ----------------------------------------------------------------- */

/* The process and its environment: fuzz_env.h. */
int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc;
    fuzz_env_setup("fuzz_api", "fuzz", "FUZZ_API_PID", *argv);
    if (getenv("FUZZ_API_STATS") != NULL)
        atexit(print_stats);
    big = calloc(1, BIG_SIZE);
    unmapped = mmap(NULL, 2 * MAXDATA, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (big == NULL || unmapped == MAP_FAILED) {
        perror("fuzz_api: memory");
        exit(1);
    }
    return 0;
}

/* The anchor keeps the service open between inputs; a made-up handle may have hit it. */
static void ensure_anchor(void) {
    ClSelectionObjectT fd;
    if (anchor != 0 && clCkptSelectionObjectGet(anchor, &fd) == OK)
        return;
    ClVersionT v = {'B', 1, 1};
    ClRcT rc = clCkptInitialize(&anchor, NULL, &v);
    if (rc != OK)
        fail("clCkptInitialize(anchor)", rc, 0);
}

static void end_input(void) {
    drain_inbox();
    for (int i = 0; i < NIT; i++)
        if (its[i] != 0) {
            EXPECT("clCkptSectionIterationFinalize(held)", clCkptSectionIterationFinalize(its[i]), OK, BADH);
            its[i] = 0;
        }
    for (int i = 0; i < NCK; i++)
        if (cks[i] != 0) {
            close_held(cks[i]);
            cks[i] = 0;
        }
    for (int i = 0; i < NSVC; i++)
        if (svcs[i].h != 0) {
            ClCkptSvcHdlT h = svcs[i].h;
            EXPECT("clCkptFinalize(held)", clCkptFinalize(h), OK, BADH);
            svc_ended(h);
        }
    drain_inbox(); /* opens completed by the blocking dispatches */
    for (int i = 0; i < NCK; i++)
        if (cks[i] != 0) {
            close_held(cks[i]);
            cks[i] = 0;
        }
    ensure_anchor();
    /* Every name this input opened goes, and stays gone. */
    for (int i = 0; i < nused; i++) {
        EXPECT("clCkptCheckpointDelete(cleanup)", clCkptCheckpointDelete(anchor, &used[i]), OK, NOTEX);
        ClCkptHdlT h = 0;
        EXPECT("clCkptCheckpointOpen(after cleanup)", clCkptCheckpointOpen(anchor, &used[i], NULL, 0, CL_TIME_END, &h),
               NOTEX);
    }
    nused = 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static int started;
    if (!started) {
        started = 1;
        ClCkptCheckpointDescriptorT d;
        call_name = "before clCkptInitialize";
        REQUIRE(clCkptCheckpointStatusGet(1, &d) == NOINIT && clCkptFinalize(1) == NOINIT, 0, 0);
    }
    ensure_anchor();
    in_p = data;
    in_n = size;
    ClCkptSvcHdlT first = 0;
    ClVersionT v = {'B', 1, 1};
    static const ClCkptCallbacksT both = {open_cb, sync_cb};
    REQUIRE(clCkptInitialize(&first, &both, &v) == OK, 0, 0);
    svcs[0].h = first;
    for (int k = 0; k < MAXOPS && in_n > 0; k++) {
        bad_pointer_passed = 0;
        ops[u8() % NOPS]();
        drain_inbox();
    }
    bad_pointer_passed = 0;
    end_input();
    return 0;
}
