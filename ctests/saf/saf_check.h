/* Shortcuts of the SAF C tests (ctests/test_saf_*.c), on top of check.h. */
#ifndef CLCKPT_SAF_CHECK_H
#define CLCKPT_SAF_CHECK_H

#include <saCkpt.h>
#include <saCkpt_B_02_03.h>
#include <cpsv_papi.h>

#include <sys/wait.h>
#include <unistd.h>

#include "../check.h"

/* Forks a peer process, before any Initialize so that both may use the library, which runs
 * peer(wait_fd, done_fd) (it waits for a byte on wait_fd, does its part, writes a byte to done_fd
 * and returns its failure count), prints its totals and exits. The parent gets *go, to write a byte
 * on when the peer may start, and *done, to read one from once it is done; returns the peer's pid. */
static inline pid_t saf_fork_peer(int (*peer)(int wait_fd, int done_fd), int *go, int *done) {
    int g[2], d[2];
    if (pipe(g) != 0 || pipe(d) != 0) {
        perror("pipe");
        exit(1);
    }
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid == 0) {
        check_passed = check_failed = 0;
        alarm(120);
        close(g[1]);
        close(d[0]);
        int failed = peer(g[0], d[1]);
        printf("child: %d passed, %d failed\n", check_passed, check_failed);
        fflush(stdout);
        _exit(failed == 0 ? 0 : 1);
    }
    close(g[0]);
    close(d[1]);
    *go = g[1];
    *done = d[0];
    return pid;
}

/* Lets the peer of saf_fork_peer do its part and waits until it is done. */
static inline void saf_peer_turn(int go, int done) {
    char c;
    CHECK(write(go, "x", 1) == 1);
    CHECK(read(done, &c, 1) == 1);
}

/* Waits for the peer to exit and checks that all its checks passed. */
static inline void saf_reap_peer(pid_t pid) {
    int status = 0;
    CHECK(waitpid(pid, &status, 0) == pid);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

static inline SaNameT saf_name(const char *s) {
    SaNameT n;
    memset(&n, 0, sizeof n);
    n.length = (SaUint16T)strlen(s);
    memcpy(n.value, s, n.length);
    return n;
}

/* A library handle of a client of version {'B', major, minor}; the test stops if that fails. */
static inline SaCkptHandleT saf_init(SaUint8T major, SaUint8T minor, const SaCkptCallbacksT *cbs) {
    SaCkptHandleT h = 0;
    SaVersionT v = {'B', major, minor};
    REQUIRE_RC(saCkptInitialize(&h, cbs, &v), SA_AIS_OK);
    return h;
}

static inline SaCkptCheckpointCreationAttributesT saf_attrs(SaCkptCheckpointCreationFlagsT flags, SaUint32T maxSections,
                                                            SaSizeT maxSectionSize, SaTimeT retention) {
    SaCkptCheckpointCreationAttributesT a;
    memset(&a, 0, sizeof a);
    a.creationFlags = flags;
    a.checkpointSize = 0;
    a.retentionDuration = retention;
    a.maxSections = maxSections;
    a.maxSectionSize = maxSectionSize;
    a.maxSectionIdSize = 16;
    return a;
}

#define SAF_RW (SA_CKPT_CHECKPOINT_READ | SA_CKPT_CHECKPOINT_WRITE | SA_CKPT_CHECKPOINT_CREATE)

static inline SaCkptCheckpointHandleT saf_open(SaCkptHandleT h, const char *name,
                                               const SaCkptCheckpointCreationAttributesT *a,
                                               SaCkptCheckpointOpenFlagsT flags) {
    SaNameT n = saf_name(name);
    SaCkptCheckpointHandleT ck = 0;
    REQUIRE_RC(saCkptCheckpointOpen(h, &n, a, flags, SA_TIME_END, &ck), SA_AIS_OK);
    return ck;
}

static inline SaCkptSectionIdT saf_sid(const char *s) {
    SaCkptSectionIdT id = {(SaUint16T)strlen(s), (SaUint8T *)s};
    return id;
}

/* Creates section id (never expiring) holding data (a string without its NUL; NULL for none). */
static inline SaAisErrorT saf_section(SaCkptCheckpointHandleT ck, const char *id, const char *data) {
    SaCkptSectionIdT sid = saf_sid(id);
    SaCkptSectionCreationAttributesT sa = {&sid, SA_TIME_END};
    return saCkptSectionCreate(ck, &sa, data, data != NULL ? strlen(data) : 0);
}

/* One element of a vector: section id (NULL: the default section), buffer, size, offset. */
static inline SaCkptIOVectorElementT saf_elem(const char *id, void *buf, SaSizeT size, SaOffsetT offset) {
    SaCkptIOVectorElementT e;
    memset(&e, 0, sizeof e);
    if (id != NULL)
        e.sectionId = saf_sid(id);
    e.dataBuffer = buf;
    e.dataSize = size;
    e.dataOffset = offset;
    return e;
}

/* Reads section id (NULL: default) from 0 into buf; returns the result, *got the bytes read. */
static inline SaAisErrorT saf_read(SaCkptCheckpointHandleT ck, const char *id, void *buf, SaSizeT size, SaSizeT *got) {
    SaCkptIOVectorElementT e = saf_elem(id, buf, size, 0);
    SaAisErrorT rc = saCkptCheckpointRead(ck, &e, 1, NULL);
    if (got != NULL)
        *got = e.readSize;
    return rc;
}

#endif
