/*
 * ckptPeer: one process of the cross-process tests in gotests/callbacks_test.go. Several of these, each
 * its own member of the service, meet on one checkpoint through the real library:
 *
 *   ckptPeer watch NAME          opens the DISTRIBUTED checkpoint NAME with clCkptCheckpointOpenAsync
 *                                (creating it), registers an immediate-consumption callback, prints
 *                                "ready", then prints every notification it gets ("notify: ...").
 *                                When section "end" arrives it reads the checkpoint back and exits.
 *   ckptPeer write NAME          opens NAME, makes the changes `watch` expects, checks that its own
 *                                handle is never notified, and exits.
 *   ckptPeer standby NAME COUNT  opens the collocated checkpoint NAME (creating it) and prints "ready";
 *                                on SIGUSR1 it makes itself the active replica and checks that the
 *                                COUNT sections written by `active` are there, byte for byte.
 *   ckptPeer active NAME COUNT   opens NAME with clCkptCheckpointOpenAsync, becomes its active replica,
 *                                writes COUNT sections of 64 KiB, calls clCkptCheckpointSynchronizeAsync,
 *                                dispatches until the completion arrives, prints "synced" and waits to
 *                                be killed.
 *
 * Completions are taken from the selection object with poll(), as OpenClovis programs do. Every mode
 * checks what it sees with check.h and ends with the "N passed, M failed" line.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include "check.h"

#define SECTION_SIZE (64 * 1024)

/* ---- completions (run by clCkptDispatch on the main thread) ---- */

static int opened, synced;
static ClInvocationT open_inv, sync_inv;
static ClCkptHdlT open_handle;
static ClRcT open_rc = 1, sync_rc = 1;

static void open_done(ClInvocationT inv, ClCkptHdlT h, ClRcT rc) {
    opened++;
    open_inv = inv;
    open_handle = h;
    open_rc = rc;
}

static void sync_done(ClInvocationT inv, ClRcT rc) {
    synced++;
    sync_inv = inv;
    sync_rc = rc;
}

/* Polls the selection object and dispatches until *done is set (or a minute passes). */
static void dispatch_until(ClCkptSvcHdlT svc, int *done) {
    ClSelectionObjectT fd = 0;
    REQUIRE_RC(clCkptSelectionObjectGet(svc, &fd), CL_OK);
    for (int waited = 0; !*done && waited < 60000; waited += 100) {
        struct pollfd p = {(int)fd, POLLIN, 0};
        int n = poll(&p, 1, 100);
        if (n < 0 && errno != EINTR) {
            perror("poll");
            exit(1);
        }
        if (n > 0)
            CHECK_RC(clCkptDispatch(svc, CL_DISPATCH_ONE), CL_OK);
    }
    CHECK(*done);
}

static ClCkptSvcHdlT init(void) {
    ClCkptCallbacksT cb = {open_done, sync_done};
    ClVersionT v = {'B', 1, 1};
    ClCkptSvcHdlT svc = 0;
    ClRcT rc = clCkptInitialize(&svc, &cb, &v);
    if (rc != CL_OK) {
        printf("initialize: rc=0x%x\n", rc);
        fflush(stdout);
        exit(3);
    }
    return svc;
}

/* Opens NAME with clCkptCheckpointOpenAsync and waits for its completion through the selection object. */
static ClCkptHdlT open_async(ClCkptSvcHdlT svc, const char *name, const ClCkptCheckpointCreationAttributesT *a,
                             ClInvocationT inv) {
    ClNameT n = check_name(name);
    REQUIRE_RC(clCkptCheckpointOpenAsync(svc, inv, &n, a, CHECK_RW), CL_OK);
    dispatch_until(svc, &opened);
    CHECK_EQ(open_inv, inv);
    REQUIRE_RC(open_rc, CL_OK);
    CHECK(open_handle != 0);
    return open_handle;
}

/* ---- immediate consumption ---- */

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int notes, saw_end, foreign;
static ClCkptHdlT registered;
static char cookie;

/* Prints one notification as "notify: <id>@<offset>+<size>=<data> ..." (the test compares the lines). */
static ClRcT notified(ClCkptHdlT h, ClNameT *name, ClCkptIOVectorElementT *iov, ClUint32T n, ClPtrT c) {
    char line[4096];
    size_t at = (size_t)snprintf(line, sizeof line, "notify:");
    for (ClUint32T i = 0; i < n && at < sizeof line - 200; i++) {
        at += (size_t)snprintf(line + at, sizeof line - at, " %.*s@%llu+%llu=%.*s", (int)iov[i].sectionId.idLen,
                               (const char *)iov[i].sectionId.id, (unsigned long long)iov[i].dataOffset,
                               (unsigned long long)iov[i].dataSize, (int)(iov[i].dataSize < 64 ? iov[i].dataSize : 64),
                               iov[i].dataBuffer != NULL ? (const char *)iov[i].dataBuffer : "");
    }
    printf("%s\n", line);
    fflush(stdout);
    pthread_mutex_lock(&mu);
    notes++;
    if (h != registered || c != &cookie || name == NULL || name->length == 0)
        foreign++;
    if (n == 1 && iov[0].sectionId.idLen == 3 && memcmp(iov[0].sectionId.id, "end", 3) == 0)
        saw_end = 1;
    pthread_cond_broadcast(&cv);
    pthread_mutex_unlock(&mu);
    return CL_OK;
}

static ClCkptCheckpointCreationAttributesT distributed_attrs(void) {
    return check_attrs(CL_CKPT_WR_ALL_REPLICAS | CL_CKPT_DISTRIBUTED, 8, 0, 0);
}

static int watch(const char *name) {
    ClCkptSvcHdlT svc = init();
    ClCkptCheckpointCreationAttributesT a = distributed_attrs();
    ClCkptHdlT h = open_async(svc, name, &a, 7);
    registered = h;
    REQUIRE_RC(clCkptImmediateConsumptionRegister(h, notified, &cookie), CL_OK);
    printf("ready\n");
    fflush(stdout);

    pthread_mutex_lock(&mu);
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += 60;
    while (!saw_end && pthread_cond_timedwait(&cv, &mu, &until) == 0) {
    }
    int end = saw_end, got = notes, bad = foreign;
    pthread_mutex_unlock(&mu);
    CHECK(end);
    CHECK_EQ(got, 4);
    CHECK_EQ(bad, 0);

    /* The content the writer left: s1 = "uXY", s2 deleted, end = "bye". */
    char buf[16];
    ClSizeT size = 0;
    memset(buf, 0, sizeof buf);
    CHECK_RC(check_read(h, "s1", buf, sizeof buf, &size), CL_OK);
    CHECK_EQ(size, 3);
    CHECK(memcmp(buf, "uXY", 3) == 0);
    printf("read: s1=%.3s\n", buf);
    CHECK_RC(check_read(h, "s2", buf, sizeof buf, &size), CL_CKPT_ERR_NOT_EXIST);
    memset(buf, 0, sizeof buf);
    CHECK_RC(check_read(h, "end", buf, sizeof buf, &size), CL_OK);
    CHECK(size == 3 && memcmp(buf, "bye", 3) == 0);
    CHECK_RC(clCkptCheckpointClose(h), CL_OK);
    CHECK_RC(clCkptFinalize(svc), CL_OK);
    DONE();
}

static ClRcT overwrite(ClCkptHdlT h, const char *id, const char *data) {
    ClCkptSectionIdT sid = check_sid(id);
    return clCkptSectionOverwrite(h, &sid, data, strlen(data));
}

static int write_changes(const char *name) {
    ClCkptSvcHdlT svc = init();
    ClCkptCheckpointCreationAttributesT a = distributed_attrs();
    ClNameT n = check_name(name);
    ClCkptHdlT h = 0;
    REQUIRE_RC(clCkptCheckpointOpen(svc, &n, &a, CHECK_RW, CL_TIME_END, &h), CL_OK);
    registered = h;
    /* The writer listens too: its own handle must never hear of its own changes. */
    REQUIRE_RC(clCkptImmediateConsumptionRegister(h, notified, &cookie), CL_OK);

    CHECK_RC(check_section(h, "s1", "one"), CL_OK); /* creation: no notification */
    CHECK_RC(overwrite(h, "s1", "uno"), CL_OK);     /* notify: s1@0+3=uno */
    CHECK_RC(check_section(h, "s2", NULL), CL_OK);
    ClCkptIOVectorElementT v[2];
    memset(v, 0, sizeof v);
    v[0].sectionId = check_sid("s1");
    v[0].dataBuffer = "XY";
    v[0].dataSize = 2;
    v[0].dataOffset = 1;
    v[1].sectionId = check_sid("s2");
    v[1].dataBuffer = "two";
    v[1].dataSize = 3;
    ClUint32T bad = 99;
    CHECK_RC(clCkptCheckpointWrite(h, v, 2, &bad), CL_OK); /* notify: s1@1+2=XY s2@0+3=two */
    ClCkptSectionIdT s2 = check_sid("s2");
    CHECK_RC(clCkptSectionDelete(h, &s2), CL_OK); /* notify: s2@0+0= */
    CHECK_RC(check_section(h, "end", NULL), CL_OK);
    CHECK_RC(overwrite(h, "end", "bye"), CL_OK); /* notify: end@0+3=bye */
    printf("written\n");
    fflush(stdout);

    check_sleep_ms(300); /* a stray notification to this handle would come about now */
    pthread_mutex_lock(&mu);
    CHECK_EQ(notes, 0);
    pthread_mutex_unlock(&mu);
    CHECK_RC(clCkptCheckpointClose(h), CL_OK);
    CHECK_RC(clCkptFinalize(svc), CL_OK);
    DONE();
}

/* ---- synchronize across processes ---- */

static ClCkptCheckpointCreationAttributesT collocated_attrs(ClUint32T count) {
    return check_attrs(CL_CKPT_CHECKPOINT_COLLOCATED | CL_CKPT_WR_ACTIVE_REPLICA, count + 1, SECTION_SIZE,
                       (ClTimeT)CL_TIME_END);
}

/* Section i holds SECTION_SIZE bytes that depend on i and their position. */
static void fill(unsigned char *buf, ClUint32T i) {
    for (size_t k = 0; k < SECTION_SIZE; k++)
        buf[k] = (unsigned char)(i * 131u + k * 7u + (k >> 9));
}

static void section_id(char *out, ClUint32T i) { snprintf(out, 16, "k%u", i); }

static volatile sig_atomic_t take_over;
static void on_usr1(int sig) {
    (void)sig;
    take_over = 1;
}

static int standby(const char *name, ClUint32T count) {
    signal(SIGUSR1, on_usr1);
    ClCkptSvcHdlT svc = init();
    ClCkptCheckpointCreationAttributesT a = collocated_attrs(count);
    ClCkptHdlT h = check_open(svc, name, &a, CHECK_RW);
    printf("ready\n");
    fflush(stdout);
    while (!take_over)
        check_sleep_ms(20);

    REQUIRE_RC(clCkptActiveReplicaSet(h), CL_OK);
    unsigned char *want = malloc(SECTION_SIZE), *got = malloc(SECTION_SIZE);
    ClUint32T good = 0;
    for (ClUint32T i = 0; i < count; i++) {
        char id[16];
        section_id(id, i);
        fill(want, i);
        memset(got, 0, SECTION_SIZE);
        ClSizeT size = 0;
        ClRcT rc = check_read(h, id, got, SECTION_SIZE, &size);
        if (rc == CL_OK && size == SECTION_SIZE && memcmp(got, want, SECTION_SIZE) == 0)
            good++;
        else
            fprintf(stderr, "section %s: rc=0x%x size=%llu\n", id, rc, (unsigned long long)size);
    }
    CHECK_EQ(good, count);
    printf("read: %u of %u sections intact\n", good, count);
    free(want);
    free(got);
    CHECK_RC(clCkptCheckpointClose(h), CL_OK);
    CHECK_RC(clCkptFinalize(svc), CL_OK);
    DONE();
}

static int active(const char *name, ClUint32T count) {
    ClCkptSvcHdlT svc = init();
    ClCkptCheckpointCreationAttributesT a = collocated_attrs(count);
    ClCkptHdlT h = open_async(svc, name, &a, 11);
    REQUIRE_RC(clCkptActiveReplicaSet(h), CL_OK);
    unsigned char *buf = malloc(SECTION_SIZE);
    for (ClUint32T i = 0; i < count; i++) {
        char id[16];
        section_id(id, i);
        fill(buf, i);
        ClCkptSectionIdT sid = check_sid(id);
        ClCkptSectionCreationAttributesT sa = {&sid, (ClTimeT)CL_TIME_END};
        CHECK_RC(clCkptSectionCreate(h, &sa, buf, SECTION_SIZE), CL_OK);
    }
    free(buf);
    REQUIRE_RC(clCkptCheckpointSynchronizeAsync(h, 42), CL_OK);
    dispatch_until(svc, &synced);
    CHECK_EQ(sync_inv, 42);
    CHECK_RC(sync_rc, CL_OK);
    printf("%d passed, %d failed\n", check_passed, check_failed);
    printf("synced\n");
    fflush(stdout);
    for (;;)
        pause(); /* the test kills this process with SIGKILL */
}

int main(int argc, char **argv) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc == 3 && strcmp(argv[1], "watch") == 0)
        return watch(argv[2]);
    if (argc == 3 && strcmp(argv[1], "write") == 0)
        return write_changes(argv[2]);
    if (argc == 4 && strcmp(argv[1], "standby") == 0)
        return standby(argv[2], (ClUint32T)atoi(argv[3]));
    if (argc == 4 && strcmp(argv[1], "active") == 0)
        return active(argv[2], (ClUint32T)atoi(argv[3]));
    fprintf(stderr, "usage: ckptPeer watch|write NAME | standby|active NAME COUNT\n");
    return 2;
}
