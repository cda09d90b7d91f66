/* The selection object and clCkptDispatch (4.9, section 5.4), driven by a real poll() loop:
 * OpenAsync and SynchronizeAsync completions are queued, the fd is readable while some are pending,
 * and dispatch runs them on the calling thread. */
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sys/resource.h>
#include <sys/select.h>
#include <unistd.h>

#include "check.h"

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;

#define MAXREC 32
struct rec {
    ClInvocationT inv;
    ClCkptHdlT handle;
    ClRcT error;
    pthread_t thread;
    int is_sync;
};
static struct rec recs[MAXREC];
static int nrecs;
static ClCkptSvcHdlT finalize_in_callback; /* a callback with invocation 401 finalizes this */
static ClRcT finalize_in_callback_rc = 1;

static void record(ClInvocationT inv, ClCkptHdlT h, ClRcT err, int is_sync) {
    pthread_mutex_lock(&mu);
    if (nrecs < MAXREC)
        recs[nrecs] = (struct rec){inv, h, err, pthread_self(), is_sync};
    nrecs++;
    pthread_cond_broadcast(&cv);
    pthread_mutex_unlock(&mu);
}

static void on_open(ClInvocationT inv, ClCkptHdlT h, ClRcT err) {
    if (inv == 401)
        finalize_in_callback_rc = clCkptFinalize(finalize_in_callback);
    record(inv, h, err, 0);
}

static void on_sync(ClInvocationT inv, ClRcT err) { record(inv, 0, err, 1); }

static int count(void) {
    pthread_mutex_lock(&mu);
    int n = nrecs;
    pthread_mutex_unlock(&mu);
    return n;
}

static struct rec *find(ClInvocationT inv) {
    for (int i = 0; i < nrecs && i < MAXREC; i++)
        if (recs[i].inv == inv)
            return &recs[i];
    return NULL;
}

/* Waits (up to the deadline) until at least n callbacks have run. */
static int wait_count(int n) {
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += CHECK_DEADLINE_MS / 1000;
    pthread_mutex_lock(&mu);
    while (nrecs < n && pthread_cond_timedwait(&cv, &mu, &until) == 0) {
    }
    int ok = nrecs >= n;
    pthread_mutex_unlock(&mu);
    return ok;
}

static int readable(ClSelectionObjectT fd, int timeout_ms) {
    struct pollfd p = {(int)fd, POLLIN, 0};
    return poll(&p, 1, timeout_ms) == 1 && (p.revents & POLLIN);
}

static ClCkptSvcHdlT init_with(ClCkptCheckpointOpenCallbackT o, ClCkptCheckpointSynchronizeCallbackT s) {
    ClCkptSvcHdlT svc = 0;
    ClVersionT v = {'B', 1, 1};
    ClCkptCallbacksT cbs = {o, s};
    REQUIRE_RC(clCkptInitialize(&svc, &cbs, &v), CL_OK);
    return svc;
}

struct blocking {
    ClCkptSvcHdlT svc;
    pthread_t thread;
    ClRcT rc;
    int done;
};

static void *dispatch_blocking(void *arg) {
    struct blocking *b = arg;
    ClRcT rc = clCkptDispatch(b->svc, CL_DISPATCH_BLOCKING);
    pthread_mutex_lock(&mu);
    b->rc = rc;
    b->done = 1;
    pthread_cond_broadcast(&cv);
    pthread_mutex_unlock(&mu);
    return NULL;
}

static int wait_done(struct blocking *b) {
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += CHECK_DEADLINE_MS / 1000;
    pthread_mutex_lock(&mu);
    while (!b->done && pthread_cond_timedwait(&cv, &mu, &until) == 0) {
    }
    int done = b->done;
    pthread_mutex_unlock(&mu);
    return done;
}

/* The selection object must suit select(): when no descriptor below 1024 is free, Initialize fails
 * with NO_RESOURCE instead of handing out a higher one. Skipped if the process may not open more
 * than 1024 files (the library needs some above 1024 meanwhile). */
static void no_low_fd(void) {
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_max < 2048)
        return;
    if (rl.rlim_cur < 2048) {
        rl.rlim_cur = 2048;
        if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
            return;
    }
    static int fds[1024];
    int n = 0, fd;
    while (n < 1024 && (fd = open("/dev/null", O_RDONLY | O_CLOEXEC)) >= 0) {
        if (fd >= 1024) {
            close(fd);
            break;
        }
        fds[n++] = fd;
    }
    ClCkptSvcHdlT s = 0;
    ClVersionT v = {'B', 1, 1};
    ClRcT rc = clCkptInitialize(&s, NULL, &v);
    while (n > 0)
        close(fds[--n]);
    CHECK_RC(rc, CL_CKPT_ERR_NO_RESOURCE);
    if (rc == CL_OK)
        clCkptFinalize(s);
    ClCkptSvcHdlT ok = check_init();
    ClSelectionObjectT sel = 0;
    CHECK_RC(clCkptSelectionObjectGet(ok, &sel), CL_OK);
    CHECK(sel < 1024);
    CHECK_RC(clCkptFinalize(ok), CL_OK);
}

int main(void) {
    ClCkptSvcHdlT svc = init_with(on_open, on_sync);
    ClCkptSvcHdlT other = init_with(on_open, on_sync);
    ClCkptCheckpointCreationAttributesT a = check_attrs(CL_CKPT_WR_ACTIVE_REPLICA, 4, 0, 0);
    ClNameT name = check_name("dispatch");
    ClSelectionObjectT fd = 0, fd2 = 0, fdo = 0;
    pthread_t self = pthread_self();

    /* Dispatch before any SelectionObjectGet is allowed (5.4); bad flags and handles. */
    CHECK_RC(clCkptDispatch(other, CL_DISPATCH_ONE), CL_OK);
    CHECK_RC(clCkptDispatch(other, CL_DISPATCH_ALL), CL_OK);
    CHECK_RC(clCkptDispatch(svc, (ClDispatchFlagsT)0), CL_CKPT_ERR_INVALID_PARAMETER);
    CHECK_RC(clCkptDispatch(svc, (ClDispatchFlagsT)4), CL_CKPT_ERR_INVALID_PARAMETER);
    CHECK_RC(clCkptDispatch(svc, (ClDispatchFlagsT)-1), CL_CKPT_ERR_INVALID_PARAMETER);
    CHECK_RC(clCkptDispatch(0, CL_DISPATCH_ONE), CL_CKPT_ERR_INVALID_HANDLE);
    CHECK_RC(clCkptDispatch(0xdeadbeef, CL_DISPATCH_ALL), CL_CKPT_ERR_INVALID_HANDLE);
    CHECK_RC(clCkptDispatch(svc | (1ULL << 32), CL_DISPATCH_ALL), CL_CKPT_ERR_INVALID_HANDLE);

    /* The selection object: one fd per service handle, the same on every call, below FD_SETSIZE. */
    CHECK_RC(clCkptSelectionObjectGet(svc, NULL), CL_CKPT_ERR_NULL_POINTER);
    CHECK_RC(clCkptSelectionObjectGet(0, &fd), CL_CKPT_ERR_INVALID_HANDLE);
    CHECK_RC(clCkptSelectionObjectGet(0xdeadbeef, &fd), CL_CKPT_ERR_INVALID_HANDLE);
    CHECK_RC(clCkptSelectionObjectGet(svc, (ClSelectionObjectT *)1), CL_CKPT_ERR_INVALID_PARAMETER);
    REQUIRE_RC(clCkptSelectionObjectGet(svc, &fd), CL_OK);
    REQUIRE_RC(clCkptSelectionObjectGet(svc, &fd2), CL_OK);
    REQUIRE_RC(clCkptSelectionObjectGet(other, &fdo), CL_OK);
    CHECK(fd == fd2 && fd != fdo);
    CHECK(fd < 1024 && fdo < 1024 && fd > 2);
    CHECK(!readable(fd, 0));

    /* ONE on an empty queue: CL_OK (5.4). */
    CHECK_RC(clCkptDispatch(svc, CL_DISPATCH_ONE), CL_OK);

    /* OpenAsync: the completion waits in the queue until dispatched, then runs on this thread. */
    CHECK_RC(clCkptCheckpointOpenAsync(svc, 101, &name, &a, CHECK_RW), CL_OK);
    CHECK(readable(fd, CHECK_DEADLINE_MS));
    check_sleep_ms(50);
    CHECK_EQ(count(), 0); /* nothing runs it behind our back */
    CHECK(!readable(fdo, 0));
    /* select() works on it too. */
    fd_set rs;
    FD_ZERO(&rs);
    FD_SET((int)fd, &rs);
    struct timeval tv = {0, 0};
    CHECK(select((int)fd + 1, &rs, NULL, NULL, &tv) == 1 && FD_ISSET((int)fd, &rs));
    CHECK_RC(clCkptDispatch(svc, CL_DISPATCH_ONE), CL_OK);
    CHECK_EQ(count(), 1);
    CHECK(!readable(fd, 0));
    struct rec *r = find(101);
    ClCkptHdlT h = 0;
    CHECK(r != NULL);
    if (r != NULL) {
        CHECK_RC(r->error, CL_OK);
        CHECK(r->handle != 0 && r->handle < 0x100000000ULL);
        CHECK(pthread_equal(r->thread, self));
        h = r->handle;
    }
    /* The handle is the caller's: it works, and is closed with clCkptCheckpointClose. */
    CHECK_RC(check_section(h, "s", "async"), CL_OK);

    /* Two completions, one a failure: each makes the fd readable until it is dispatched. */
    ClNameT missing = check_name("dispatch-missing");
    ClCkptCheckpointCreationAttributesT other_attrs = check_attrs(CL_CKPT_WR_ACTIVE_REPLICA, 5, 0, 0);
    CHECK_RC(clCkptCheckpointOpenAsync(svc, 102, &missing, NULL, CL_CKPT_CHECKPOINT_READ), CL_OK);
    CHECK_RC(clCkptCheckpointOpenAsync(svc, 103, &name, &other_attrs, CHECK_RW), CL_OK);
    for (int i = 0; i < 2; i++) {
        CHECK(readable(fd, CHECK_DEADLINE_MS));
        CHECK_RC(clCkptDispatch(svc, CL_DISPATCH_ONE), CL_OK);
    }
    CHECK(!readable(fd, 0));
    CHECK_EQ(count(), 3);
    r = find(102);
    CHECK(r != NULL && r->error == CL_CKPT_ERR_NOT_EXIST && r->handle == 0 && pthread_equal(r->thread, self));
    r = find(103);
    CHECK(r != NULL && r->error == CL_CKPT_ERR_ALREADY_EXIST && r->handle == 0 && pthread_equal(r->thread, self));

    /* SynchronizeAsync completes through the queue of the service the checkpoint was opened with. */
    CHECK_RC(clCkptCheckpointSynchronizeAsync(h, 201), CL_OK);
    CHECK(readable(fd, CHECK_DEADLINE_MS));
    CHECK(!readable(fdo, 0));
    CHECK_RC(clCkptDispatch(other, CL_DISPATCH_ALL), CL_OK);
    CHECK_EQ(count(), 3);
    CHECK_RC(clCkptDispatch(svc, CL_DISPATCH_ALL), CL_OK);
    CHECK_EQ(count(), 4);
    r = find(201);
    CHECK(r != NULL && r->is_sync && r->error == CL_OK && pthread_equal(r->thread, self));
    CHECK(!readable(fd, 0));

    /* ALL: runs what is pending, on this thread; a poll() loop drains everything. */
    CHECK_RC(clCkptCheckpointSynchronizeAsync(h, 202), CL_OK);
    CHECK_RC(clCkptCheckpointOpenAsync(svc, 104, &name, NULL, CL_CKPT_CHECKPOINT_READ), CL_OK);
    CHECK_RC(clCkptCheckpointSynchronizeAsync(h, 203), CL_OK);
    ClRcT all_rc = CL_OK;
    for (int waited = 0; count() < 7 && waited < CHECK_DEADLINE_MS; waited += 10) {
        if (readable(fd, 10))
            all_rc |= clCkptDispatch(svc, CL_DISPATCH_ALL);
    }
    CHECK_RC(all_rc, CL_OK);
    CHECK_EQ(count(), 7);
    CHECK(!readable(fd, 0));
    CHECK_RC(clCkptDispatch(svc, CL_DISPATCH_ALL), CL_OK); /* empty: still CL_OK */
    CHECK(nrecs == 7 && pthread_equal(recs[4].thread, self) && pthread_equal(recs[5].thread, self) &&
          pthread_equal(recs[6].thread, self));
    r = find(104);
    CHECK(r != NULL && r->error == CL_OK && r->handle != 0 && r->handle != h);
    if (r != NULL)
        CHECK_RC(clCkptCheckpointClose(r->handle), CL_OK);
    CHECK(find(202) != NULL && find(203) != NULL);

    /* Argument errors come back at once, and no callback follows. */
    CHECK_RC(clCkptCheckpointOpenAsync(svc, 900, NULL, &a, CHECK_RW), CL_CKPT_ERR_NULL_POINTER);
    CHECK_RC(clCkptCheckpointOpenAsync(svc, 901, &name, &a, 0x8 | CHECK_RW), CL_CKPT_ERR_BAD_FLAG);
    CHECK_RC(clCkptCheckpointOpenAsync(svc, 902, &name, NULL, CHECK_RW), CL_CKPT_ERR_NULL_POINTER);
    CHECK_RC(clCkptCheckpointOpenAsync(svc, 903, &name, &a, CL_CKPT_CHECKPOINT_READ), CL_CKPT_ERR_INVALID_PARAMETER);
    ClNameT toolong;
    memset(&toolong, 'n', sizeof toolong);
    toolong.length = CL_MAX_NAME_LENGTH + 1;
    CHECK_RC(clCkptCheckpointOpenAsync(svc, 911, &toolong, &a, CHECK_RW), CL_CKPT_ERR_INVALID_PARAMETER);
    CHECK_RC(clCkptCheckpointOpenAsync(svc, 912, (const ClNameT *)1, &a, CHECK_RW), CL_CKPT_ERR_INVALID_PARAMETER);
    CHECK_RC(clCkptCheckpointOpenAsync(0xdeadbeef, 904, &name, &a, CHECK_RW), CL_CKPT_ERR_INVALID_HANDLE);
    CHECK_RC(clCkptCheckpointOpenAsync(h, 905, &name, &a, CHECK_RW), CL_CKPT_ERR_INVALID_HANDLE);
    CHECK_RC(clCkptCheckpointSynchronizeAsync(svc, 906), CL_CKPT_ERR_INVALID_HANDLE);
    /* Without the matching callback: CL_CKPT_ERR_INITIALIZED (0x16000c), as in the original. */
    ClCkptSvcHdlT nocb = init_with(NULL, NULL);
    ClCkptSvcHdlT onlyopen = init_with(on_open, NULL);
    ClCkptSvcHdlT nulltable = check_init();
    CHECK_RC(clCkptCheckpointOpenAsync(nocb, 907, &name, &a, CHECK_RW), 0x16000c);
    CHECK_RC(clCkptCheckpointOpenAsync(nulltable, 908, &name, &a, CHECK_RW), CL_CKPT_ERR_INITIALIZED);
    ClCkptHdlT hn = 0, hs = 0;
    REQUIRE_RC(clCkptCheckpointOpen(nocb, &name, NULL, CL_CKPT_CHECKPOINT_WRITE, CL_TIME_END, &hn), CL_OK);
    REQUIRE_RC(clCkptCheckpointOpen(onlyopen, &name, NULL, CL_CKPT_CHECKPOINT_WRITE, CL_TIME_END, &hs), CL_OK);
    CHECK_RC(clCkptCheckpointSynchronizeAsync(hn, 909), 0x16000c);
    CHECK_RC(clCkptCheckpointSynchronizeAsync(hs, 910), CL_CKPT_ERR_INITIALIZED);
    check_sleep_ms(50);
    CHECK(!readable(fd, 0));
    CHECK_RC(clCkptDispatch(svc, CL_DISPATCH_ALL), CL_OK);
    CHECK_EQ(count(), 7);
    CHECK_RC(clCkptFinalize(nocb), CL_OK);
    CHECK_RC(clCkptFinalize(onlyopen), CL_OK);
    CHECK_RC(clCkptFinalize(nulltable), CL_OK);

    /* BLOCKING runs callbacks on its own thread and returns CL_OK once the service is finalized
       from another thread. */
    struct blocking b1 = {init_with(on_open, on_sync), 0, 1, 0};
    REQUIRE_RC(pthread_create(&b1.thread, NULL, dispatch_blocking, &b1), 0);
    CHECK_RC(clCkptCheckpointOpenAsync(b1.svc, 301, &name, NULL, CL_CKPT_CHECKPOINT_READ), CL_OK);
    CHECK(wait_count(8));
    r = find(301);
    CHECK(r != NULL && r->error == CL_OK && pthread_equal(r->thread, b1.thread) && !pthread_equal(r->thread, self));
    check_sleep_ms(20);
    pthread_mutex_lock(&mu);
    CHECK(!b1.done); /* still waiting for more */
    pthread_mutex_unlock(&mu);
    CHECK_RC(clCkptFinalize(b1.svc), CL_OK);
    REQUIRE_RC(wait_done(&b1) ? 0 : 1, 0);
    CHECK_RC(b1.rc, CL_OK);
    pthread_join(b1.thread, NULL);
    CHECK_RC(clCkptDispatch(b1.svc, CL_DISPATCH_BLOCKING), CL_CKPT_ERR_INVALID_HANDLE);

    /* ... and also when a callback it runs finalizes the service. */
    struct blocking b2 = {init_with(on_open, on_sync), 0, 1, 0};
    finalize_in_callback = b2.svc;
    REQUIRE_RC(pthread_create(&b2.thread, NULL, dispatch_blocking, &b2), 0);
    CHECK_RC(clCkptCheckpointOpenAsync(b2.svc, 401, &name, NULL, CL_CKPT_CHECKPOINT_READ), CL_OK);
    REQUIRE_RC(wait_done(&b2) ? 0 : 1, 0);
    CHECK_RC(b2.rc, CL_OK);
    CHECK_RC(finalize_in_callback_rc, CL_OK);
    pthread_join(b2.thread, NULL);
    r = find(401);
    CHECK(r != NULL && pthread_equal(r->thread, b2.thread));
    CHECK_RC(clCkptFinalize(b2.svc), CL_CKPT_ERR_INVALID_HANDLE);

    /* Finalize drops completions not yet dispatched. */
    ClCkptSvcHdlT d = init_with(on_open, on_sync);
    ClSelectionObjectT dfd = 0;
    REQUIRE_RC(clCkptSelectionObjectGet(d, &dfd), CL_OK);
    int before = count();
    CHECK_RC(clCkptCheckpointOpenAsync(d, 501, &name, NULL, CL_CKPT_CHECKPOINT_READ), CL_OK);
    CHECK(readable(dfd, CHECK_DEADLINE_MS));
    CHECK_RC(clCkptFinalize(d), CL_OK);
    CHECK_RC(clCkptDispatch(svc, CL_DISPATCH_ALL), CL_OK);
    check_sleep_ms(20);
    CHECK_EQ(count(), before);

    no_low_fd();

    CHECK_RC(clCkptCheckpointClose(h), CL_OK);
    CHECK_RC(clCkptFinalize(other), CL_OK);
    CHECK_RC(clCkptFinalize(svc), CL_OK);
    /* After the last Finalize. */
    CHECK_RC(clCkptSelectionObjectGet(svc, &fd), CL_CKPT_ERR_NOT_INITIALIZED);
    CHECK_RC(clCkptSelectionObjectGet(svc, NULL), CL_CKPT_ERR_NOT_INITIALIZED);
    CHECK_RC(clCkptDispatch(svc, CL_DISPATCH_ONE), CL_CKPT_ERR_NOT_INITIALIZED);
    CHECK_RC(clCkptCheckpointOpenAsync(svc, 1, &name, NULL, CL_CKPT_CHECKPOINT_READ), CL_CKPT_ERR_NOT_INITIALIZED);
    CHECK_RC(clCkptCheckpointSynchronizeAsync(h, 1), CL_CKPT_ERR_NOT_INITIALIZED);
    DONE();
}
