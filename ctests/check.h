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

#include <clCkptApi.h>

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

/* Helpers most tests need. */
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

#endif
