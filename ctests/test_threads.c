/* Every function may be called from any thread, concurrently: writers and readers on one
 * checkpoint, opens and closes meanwhile, and a handle closed while other threads still use it. */
#include <pthread.h>

#include "check.h"

#define THREADS 4
#define ROUNDS 100

static ClCkptSvcHdlT svc;
static ClCkptCheckpointCreationAttributesT attrs;
static ClCkptHdlT shared; /* closed by main while the threads use it */

struct worker {
    int id;
    int failures;      /* unexpected return codes */
    int shared_closed; /* calls on `shared` that found it closed */
};

static void *work(void *arg) {
    struct worker *w = arg;
    char sid[16], data[32], back[32];
    snprintf(sid, sizeof sid, "w%d", w->id);
    /* No CHECK macros in here: their counters are not thread-safe. */
    ClNameT name = check_name("threads");
    ClCkptHdlT h = 0;
    if (clCkptCheckpointOpen(svc, &name, &attrs, CHECK_RW, CL_TIME_END, &h) != CL_OK) {
        w->failures++;
        return NULL;
    }
    if (check_section(h, sid, "start") != CL_OK)
        w->failures++;
    ClCkptSectionIdT id = check_sid(sid);
    for (int i = 0; i < ROUNDS; i++) {
        int n = snprintf(data, sizeof data, "thread %d round %d", w->id, i);
        if (clCkptSectionOverwrite(h, &id, data, (ClSizeT)n) != CL_OK)
            w->failures++;
        ClSizeT got = 0;
        if (check_read(h, sid, back, sizeof back, &got) != CL_OK || got != (ClSizeT)n || memcmp(back, data, n) != 0)
            w->failures++;
        /* Another handle of its own, opened and closed. */
        ClCkptHdlT x = 0;
        ClCkptCheckpointDescriptorT st;
        if (clCkptCheckpointOpen(svc, &name, NULL, CL_CKPT_CHECKPOINT_READ, CL_TIME_END, &x) != CL_OK ||
            clCkptCheckpointStatusGet(x, &st) != CL_OK || clCkptCheckpointClose(x) != CL_OK)
            w->failures++;
        /* The shared handle: fine until main closes it, then INVALID_HANDLE, never anything else. */
        ClRcT rc = check_read(shared, "w0", back, sizeof back, NULL);
        if (rc == CL_CKPT_ERR_INVALID_HANDLE)
            w->shared_closed++;
        else if (rc != CL_OK && rc != CL_CKPT_ERR_NOT_EXIST)
            w->failures++;
        if (i % 10 == 0) {
            ClHandleT it = 0;
            ClCkptSectionDescriptorT d;
            if (clCkptSectionIterationInitialize(h, CL_CKPT_SECTIONS_ANY, 0, &it) != CL_OK) {
                w->failures++;
                continue;
            }
            while (clCkptSectionIterationNext(it, &d) == CL_OK)
                clHeapFree(d.sectionId.id);
            if (clCkptSectionIterationFinalize(it) != CL_OK)
                w->failures++;
        }
    }
    if (clCkptCheckpointClose(h) != CL_OK)
        w->failures++;
    return NULL;
}

int main(void) {
    svc = check_init();
    attrs = check_attrs(CL_CKPT_WR_ACTIVE_REPLICA, THREADS + 1, 64, 0);
    ClCkptHdlT keep = check_open(svc, "threads", &attrs, CHECK_RW);
    shared = check_open(svc, "threads", &attrs, CHECK_RW);

    pthread_t t[THREADS];
    struct worker w[THREADS];
    for (int i = 0; i < THREADS; i++) {
        w[i] = (struct worker){i, 0, 0};
        REQUIRE_RC(pthread_create(&t[i], NULL, work, &w[i]), 0);
    }
    check_sleep_ms(20);
    CHECK_RC(clCkptCheckpointClose(shared), CL_OK);
    for (int i = 0; i < THREADS; i++) {
        pthread_join(t[i], NULL);
        CHECK_EQ(w[i].failures, 0);
    }
    CHECK_RC(clCkptCheckpointClose(shared), CL_CKPT_ERR_INVALID_HANDLE);

    /* Each thread's last value is there. */
    ClCkptCheckpointDescriptorT st;
    CHECK_RC(clCkptCheckpointStatusGet(keep, &st), CL_OK);
    CHECK_EQ(st.numberOfSections, THREADS);
    for (int i = 0; i < THREADS; i++) {
        char sid[16], want[32], got[64];
        snprintf(sid, sizeof sid, "w%d", i);
        int n = snprintf(want, sizeof want, "thread %d round %d", i, ROUNDS - 1);
        ClSizeT len = 0;
        CHECK_RC(check_read(keep, sid, got, sizeof got, &len), CL_OK);
        CHECK(len == (ClSizeT)n && memcmp(got, want, n) == 0);
    }
    CHECK_RC(clCkptCheckpointClose(keep), CL_OK);
    CHECK_RC(clCkptFinalize(svc), CL_OK);
    DONE();
}
