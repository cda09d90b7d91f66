/* No immediate-consumption callback runs after clCkptCheckpointClose or clCkptFinalize has returned
 * (a program frees its cookie then), and Close, Finalize and Initialize called from inside a
 * callback neither deadlock nor fail silently. */
#include <pthread.h>

#include "check.h"

struct cookie {
    volatile int entered;  /* the callback has started */
    volatile int release;  /* the test lets the callback finish */
    volatile int finished; /* the callback has returned */
    volatile int ended;    /* the Close or Finalize under test has returned */
    volatile int late;     /* the callback saw `ended` set: it ran after the call returned */
};

static ClCkptHdlT writer;

/* Holds the delivery until the test has started the Close or Finalize, then touches the cookie. */
static ClRcT slow_cb(ClCkptHdlT h, ClNameT *name, ClCkptIOVectorElementT *iov, ClUint32T n, ClPtrT cookie) {
    (void)h, (void)name, (void)iov, (void)n;
    struct cookie *c = cookie;
    c->entered = 1;
    for (int i = 0; i < CHECK_DEADLINE_MS / 10 && !c->release; i++)
        check_sleep_ms(10);
    check_sleep_ms(100); /* let a Close that does not wait return first */
    if (c->ended)
        c->late = 1;
    c->finished = 1;
    return CL_OK;
}

static int wait_flag(volatile int *flag) {
    for (int i = 0; i < CHECK_DEADLINE_MS / 5 && !*flag; i++)
        check_sleep_ms(5);
    return *flag;
}

static void overwrite(const char *data) {
    ClCkptSectionIdT sid = check_sid("s");
    CHECK_RC(clCkptSectionOverwrite(writer, &sid, data, strlen(data)), CL_OK);
}

struct ender {
    ClCkptHdlT handle; /* closed, or finalized when svc is set */
    int svc;
    struct cookie *c;
    ClRcT rc;
};

static void *end_it(void *arg) {
    struct ender *e = arg;
    e->rc = e->svc ? clCkptFinalize(e->handle) : clCkptCheckpointClose(e->handle);
    e->c->ended = 1;
    return NULL;
}

/* A callback is running; another thread closes (or finalizes) its handle: the call returns only
 * after the callback, and the cookie can be freed right then. */
static void ends_after_callback(ClCkptSvcHdlT svc, const ClCkptCheckpointCreationAttributesT *a, int finalize) {
    ClCkptSvcHdlT own = finalize ? check_init() : svc;
    ClCkptHdlT h = check_open(own, "cb-close", a, CHECK_RW);
    struct cookie *c = calloc(1, sizeof *c);
    REQUIRE_RC(clCkptImmediateConsumptionRegister(h, slow_cb, c), CL_OK);
    overwrite("one");
    CHECK(wait_flag(&c->entered));
    struct ender e = {finalize ? own : h, finalize, c, 0};
    pthread_t t;
    pthread_create(&t, NULL, end_it, &e);
    check_sleep_ms(20);
    c->release = 1;
    pthread_join(t, NULL);
    CHECK_RC(e.rc, CL_OK);
    CHECK(c->finished);
    CHECK_EQ(c->late, 0);
    free(c); /* valgrind and ASan see any later use */
    overwrite("two");
    check_sleep_ms(50);
}

/* From inside a callback: Close of its own handle, Initialize, Finalize of another or of the last
 * service handle. */
static struct {
    ClCkptHdlT own;
    ClCkptSvcHdlT last;
    volatile int done;
    ClRcT init, fin_new, fin_last, close_own;
} inside;

static ClRcT reentrant_cb(ClCkptHdlT h, ClNameT *name, ClCkptIOVectorElementT *iov, ClUint32T n, ClPtrT cookie) {
    (void)name, (void)iov, (void)n, (void)cookie;
    if (inside.done)
        return CL_OK;
    ClCkptSvcHdlT fresh = 0;
    ClVersionT v = {'B', 1, 1};
    inside.init = clCkptInitialize(&fresh, NULL, &v);
    inside.fin_new = inside.init == CL_OK ? clCkptFinalize(fresh) : inside.init;
    inside.fin_last = clCkptFinalize(inside.last);
    inside.close_own = clCkptCheckpointClose(h);
    inside.done = 1;
    return CL_OK;
}

int main(void) {
    ClCkptSvcHdlT svc = check_init();
    ClCkptCheckpointCreationAttributesT a = check_attrs(CL_CKPT_DISTRIBUTED | CL_CKPT_WR_ALL_REPLICAS, 4, 0, 0);
    writer = check_open(svc, "cb-close", &a, CHECK_RW);
    REQUIRE_RC(check_section(writer, "s", "zero"), CL_OK);

    ends_after_callback(svc, &a, 0); /* clCkptCheckpointClose */
    ends_after_callback(svc, &a, 1); /* clCkptFinalize of another service handle */

    /* Reentrant calls. svc is the last service handle: finalizing it from the callback is refused
     * (ending the service waits for the callbacks to return); the rest works. */
    ClCkptHdlT h = check_open(svc, "cb-close", &a, CHECK_RW);
    inside.own = h;
    inside.last = svc;
    REQUIRE_RC(clCkptImmediateConsumptionRegister(h, reentrant_cb, NULL), CL_OK);
    overwrite("three");
    CHECK(wait_flag(&inside.done));
    CHECK_RC(inside.init, CL_OK);
    CHECK_RC(inside.fin_new, CL_OK);
    CHECK_RC(inside.fin_last, CL_CKPT_ERR_BAD_OPERATION);
    CHECK_RC(inside.close_own, CL_OK);
    CHECK_RC(clCkptCheckpointClose(h), CL_CKPT_ERR_INVALID_HANDLE);

    /* The service is still there and works. */
    overwrite("four");
    CHECK_RC(clCkptCheckpointClose(writer), CL_OK);
    CHECK_RC(clCkptFinalize(svc), CL_OK);
    DONE();
}
