/*
 * A minimal test harness for the C tests: each CHECK counts a pass or prints the failure, and
 * DONE() prints "N passed, M failed" and gives the exit status. Every test program runs against
 * the real library (libclckpt.so and its Go core).
 */
#ifndef CLCKPT_CHECK_H
#define CLCKPT_CHECK_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <clCkptApi.h>
#include <clHeapApi.h>

static int check_passed, check_failed;

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (cond) {                                                                                \
            check_passed++;                                                                        \
        } else {                                                                                   \
            check_failed++;                                                                        \
            fprintf(stderr, "%s:%d: FAILED: %s\n", __FILE__, __LINE__, #cond);                     \
        }                                                                                          \
    } while (0)

/* CHECK_RC(call, want): the call returns exactly the code want. */
#define CHECK_RC(call, want)                                                                       \
    do {                                                                                           \
        ClRcT check_rc_ = (call);                                                                  \
        ClRcT check_want_ = (ClRcT)(want);                                                         \
        if (check_rc_ == check_want_) {                                                            \
            check_passed++;                                                                        \
        } else {                                                                                   \
            check_failed++;                                                                        \
            fprintf(stderr, "%s:%d: FAILED: %s returned 0x%x, want %s (0x%x)\n", __FILE__,          \
                    __LINE__, #call, check_rc_, #want, check_want_);                               \
        }                                                                                          \
    } while (0)

/* REQUIRE_RC: like CHECK_RC, but a failure ends the program (later checks depend on it). */
#define REQUIRE_RC(call, want)                                                                     \
    do {                                                                                           \
        int check_before_ = check_failed;                                                          \
        CHECK_RC(call, want);                                                                      \
        if (check_failed != check_before_) {                                                       \
            printf("%d passed, %d failed\n", check_passed, check_failed);                          \
            exit(1);                                                                               \
        }                                                                                          \
    } while (0)

#define DONE()                                                                                     \
    do {                                                                                           \
        printf("%d passed, %d failed\n", check_passed, check_failed);                              \
        return check_failed == 0 ? 0 : 1;                                                          \
    } while (0)

/* CHECK_EQ(a, b): both sides, as unsigned 64-bit numbers, are equal; a failure prints both. */
#define CHECK_EQ(a, b)                                                                             \
    do {                                                                                           \
        unsigned long long check_a_ = (unsigned long long)(a);                                     \
        unsigned long long check_b_ = (unsigned long long)(b);                                     \
        if (check_a_ == check_b_) {                                                                \
            check_passed++;                                                                        \
        } else {                                                                                   \
            check_failed++;                                                                        \
            fprintf(stderr, "%s:%d: FAILED: %s == %s (0x%llx != 0x%llx)\n", __FILE__, __LINE__,    \
                    #a, #b, check_a_, check_b_);                                                   \
        }                                                                                          \
    } while (0)

/* Shortcuts most tests need. */
static inline ClNameT check_name(const char *s) {
    ClNameT n;
    memset(&n, 0, sizeof n);
    n.length = (ClUint16T)strlen(s);
    memcpy(n.value, s, n.length);
    return n;
}

static inline ClCkptSvcHdlT check_init(void) {
    ClCkptSvcHdlT svc = 0;
    ClVersionT v = {'B', 1, 1};
    REQUIRE_RC(clCkptInitialize(&svc, NULL, &v), CL_OK);
    return svc;
}

/* Creation attributes with the usual values: asynchronous, sections of any size. */
static inline ClCkptCheckpointCreationAttributesT check_attrs(ClCkptCreationFlagsT flags, ClUint32T maxSections,
                                                              ClSizeT maxSectionSize, ClTimeT retention) {
    ClCkptCheckpointCreationAttributesT a;
    memset(&a, 0, sizeof a);
    a.creationFlags = flags;
    a.checkpointSize = 0;
    a.retentionDuration = retention;
    a.maxSections = maxSections;
    a.maxSectionSize = maxSectionSize;
    a.maxSectionIdSize = 64;
    return a;
}

/* Opens (creating if needed) the checkpoint `name`; the test stops if that fails. */
static inline ClCkptHdlT check_open(ClCkptSvcHdlT svc, const char *name, const ClCkptCheckpointCreationAttributesT *a,
                                    ClCkptOpenFlagsT flags) {
    ClNameT n = check_name(name);
    ClCkptHdlT h = 0;
    REQUIRE_RC(clCkptCheckpointOpen(svc, &n, a, flags, CL_TIME_END, &h), CL_OK);
    return h;
}

#define CHECK_RW (CL_CKPT_CHECKPOINT_READ | CL_CKPT_CHECKPOINT_WRITE | CL_CKPT_CHECKPOINT_CREATE)

/* A section id naming the NUL-terminated string s (without the NUL). */
static inline ClCkptSectionIdT check_sid(const char *s) {
    ClCkptSectionIdT id = {(ClUint16T)strlen(s), (ClUint8T *)s};
    return id;
}

/* Creates section `id` holding the NUL-terminated string data (without the NUL; NULL for empty). */
static inline ClRcT check_section(ClCkptHdlT h, const char *id, const char *data) {
    ClCkptSectionIdT sid = check_sid(id);
    ClCkptSectionCreationAttributesT sa = {&sid, (ClTimeT)CL_TIME_END};
    return clCkptSectionCreate(h, &sa, (const ClUint8T *)data, data != NULL ? strlen(data) : 0);
}

/* Reads up to size bytes of section id (NULL: the default section) from offset 0; *got = bytes read. */
static inline ClRcT check_read(ClCkptHdlT h, const char *id, void *buf, ClSizeT size, ClSizeT *got) {
    ClCkptIOVectorElementT e;
    memset(&e, 0, sizeof e);
    if (id != NULL)
        e.sectionId = check_sid(id);
    e.dataBuffer = buf;
    e.dataSize = size;
    ClRcT rc = clCkptCheckpointRead(h, &e, 1, NULL);
    if (got != NULL)
        *got = e.readSize;
    return rc;
}

/* Wall-clock time in ns since the epoch (the clock of expiration times). */
static inline ClTimeT check_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (ClTimeT)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static inline void check_sleep_ms(long ms) {
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0) {
    }
}

/* Generous limit for anything that waits on another thread or a timer (valgrind is slow). */
#define CHECK_DEADLINE_MS 10000

#endif
