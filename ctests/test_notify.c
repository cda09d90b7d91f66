/* Immediate consumption (4.10, section 5.2): on a CL_CKPT_DISTRIBUTED checkpoint, every other handle
 * with a registered callback is told about each change, on a library thread, with no dispatch. */
#include <pthread.h>

#include "check.h"

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;

#define MAXNOTE 32
#define MAXELEM 4
struct note {
    int which; /* 1: cb_a, 2: cb_b */
    ClCkptHdlT handle;
    char name[CL_MAX_NAME_LENGTH];
    ClUint32T n;
    struct {
        char id[32];
        ClUint16T idLen;
        char data[32];
        ClSizeT dataSize, readSize;
        ClOffsetT offset;
        int dataNull;
    } e[MAXELEM];
    ClPtrT cookie;
    pthread_t thread;
};
static struct note notes[MAXNOTE];
static int nnotes;

/* Copies what the callback gets: its pointers are valid only during the call. */
static void keep(int which, ClCkptHdlT h, ClNameT *name, ClCkptIOVectorElementT *iov, ClUint32T n, ClPtrT cookie) {
    pthread_mutex_lock(&mu);
    if (nnotes < MAXNOTE) {
        struct note *t = &notes[nnotes];
        memset(t, 0, sizeof *t);
        t->which = which;
        t->handle = h;
        if (name != NULL && name->length < CL_MAX_NAME_LENGTH)
            memcpy(t->name, name->value, name->length);
        t->n = n;
        for (ClUint32T i = 0; i < n && i < MAXELEM; i++) {
            t->e[i].idLen = iov[i].sectionId.idLen;
            memcpy(t->e[i].id, iov[i].sectionId.id, iov[i].sectionId.idLen < 31 ? iov[i].sectionId.idLen : 31);
            t->e[i].dataSize = iov[i].dataSize;
            t->e[i].readSize = iov[i].readSize;
            t->e[i].offset = iov[i].dataOffset;
            t->e[i].dataNull = iov[i].dataBuffer == NULL;
            if (iov[i].dataBuffer != NULL)
                memcpy(t->e[i].data, iov[i].dataBuffer, iov[i].dataSize < 31 ? iov[i].dataSize : 31);
        }
        t->cookie = cookie;
        t->thread = pthread_self();
    }
    nnotes++;
    pthread_cond_broadcast(&cv);
    pthread_mutex_unlock(&mu);
}

static ClRcT cb_a(ClCkptHdlT h, ClNameT *name, ClCkptIOVectorElementT *iov, ClUint32T n, ClPtrT cookie) {
    keep(1, h, name, iov, n, cookie);
    return CL_OK;
}

static ClRcT cb_b(ClCkptHdlT h, ClNameT *name, ClCkptIOVectorElementT *iov, ClUint32T n, ClPtrT cookie) {
    keep(2, h, name, iov, n, cookie);
    return CL_CKPT_ERR_INVALID_PARAMETER; /* the return value is ignored */
}

/* Waits until exactly `want` notes have arrived; waits a little more to catch extra ones. */
static int wait_notes(int want) {
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += CHECK_DEADLINE_MS / 1000;
    pthread_mutex_lock(&mu);
    while (nnotes < want && pthread_cond_timedwait(&cv, &mu, &until) == 0) {
    }
    pthread_mutex_unlock(&mu);
    check_sleep_ms(50);
    pthread_mutex_lock(&mu);
    int n = nnotes;
    pthread_mutex_unlock(&mu);
    return n;
}

static struct note *note_for(ClCkptHdlT h, int from) {
    for (int i = from; i < nnotes && i < MAXNOTE; i++)
        if (notes[i].handle == h)
            return &notes[i];
    return NULL;
}

static void reset(void) {
    pthread_mutex_lock(&mu);
    nnotes = 0;
    pthread_mutex_unlock(&mu);
}

int main(void) {
    ClCkptSvcHdlT svc = check_init();
    ClCkptSvcHdlT svc2 = check_init();
    pthread_t self = pthread_self();
    int cookie1, cookie2, cookie3;

    /* Only DISTRIBUTED checkpoints take a callback. */
    ClCkptCheckpointCreationAttributesT plain = check_attrs(CL_CKPT_WR_ACTIVE_REPLICA, 4, 0, 0);
    ClCkptHdlT p = check_open(svc, "notify-plain", &plain, CHECK_RW);
    CHECK_RC(clCkptImmediateConsumptionRegister(p, cb_a, NULL), CL_CKPT_ERR_OP_NOT_PERMITTED);
    CHECK_RC(clCkptImmediateConsumptionRegister(0, cb_a, NULL), CL_CKPT_ERR_INVALID_HANDLE);
    CHECK_RC(clCkptImmediateConsumptionRegister(0xdeadbeef, cb_a, NULL), CL_CKPT_ERR_INVALID_HANDLE);
    CHECK_RC(clCkptImmediateConsumptionRegister(svc, cb_a, NULL), CL_CKPT_ERR_INVALID_HANDLE);
    CHECK_RC(clCkptCheckpointClose(p), CL_OK);

    /* One checkpoint, three handles (two through another service handle), all registered. */
    ClCkptCheckpointCreationAttributesT da = check_attrs(CL_CKPT_WR_ACTIVE_REPLICA | CL_CKPT_DISTRIBUTED, 4, 0, 0);
    ClCkptHdlT w = check_open(svc, "notify", &da, CHECK_RW);
    ClCkptHdlT r1 = check_open(svc, "notify", &da, CHECK_RW);
    ClCkptHdlT r2 = check_open(svc2, "notify", &da, CL_CKPT_CHECKPOINT_READ | CL_CKPT_CHECKPOINT_CREATE);
    CHECK_RC(clCkptImmediateConsumptionRegister(w, cb_a, &cookie1), CL_OK);
    CHECK_RC(clCkptImmediateConsumptionRegister(r1, cb_a, &cookie2), CL_OK);
    CHECK_RC(clCkptImmediateConsumptionRegister(r2, cb_a, &cookie3), CL_OK);

    /* A section create is not a change the original reported. */
    CHECK_RC(check_section(w, "s", "abcdef"), CL_OK);
    CHECK_RC(check_section(w, "t", "t"), CL_OK);

    /* Overwrite: one element with the whole new section at offset 0, to every other handle. */
    ClCkptSectionIdT s = check_sid("s");
    CHECK_RC(clCkptSectionOverwrite(w, &s, "XYZ", 3), CL_OK);
    CHECK_EQ(wait_notes(2), 2);
    CHECK(note_for(w, 0) == NULL);
    ClCkptHdlT readers[2] = {r1, r2};
    int *cookies[2] = {&cookie2, &cookie3};
    for (int i = 0; i < 2; i++) {
        struct note *t = note_for(readers[i], 0);
        CHECK(t != NULL);
        if (t == NULL)
            continue;
        CHECK(t->which == 1 && t->cookie == cookies[i]);
        CHECK(strcmp(t->name, "notify") == 0);
        CHECK_EQ(t->n, 1);
        CHECK(t->e[0].idLen == 1 && t->e[0].id[0] == 's');
        CHECK(t->e[0].dataSize == 3 && t->e[0].readSize == 3 && t->e[0].offset == 0);
        CHECK(memcmp(t->e[0].data, "XYZ", 3) == 0);
        CHECK(!pthread_equal(t->thread, self)); /* a library thread, no dispatch needed */
    }
    reset();

    /* A vector write, from another handle: the written elements as written. */
    ClCkptSectionIdT t = check_sid("t");
    ClCkptIOVectorElementT v[2] = {{s, "12", 2, 4, 0}, {t, "tt", 2, 1, 0}};
    CHECK_RC(clCkptCheckpointWrite(r1, v, 2, NULL), CL_OK);
    CHECK_EQ(wait_notes(2), 2);
    CHECK(note_for(r1, 0) == NULL);
    ClCkptHdlT others[2] = {w, r2};
    for (int i = 0; i < 2; i++) {
        struct note *n = note_for(others[i], 0);
        CHECK(n != NULL);
        if (n == NULL)
            continue;
        CHECK_EQ(n->n, 2);
        CHECK(n->e[0].idLen == 1 && n->e[0].id[0] == 's' && n->e[0].dataSize == 2 && n->e[0].offset == 4 &&
              memcmp(n->e[0].data, "12", 2) == 0);
        CHECK(n->e[1].idLen == 1 && n->e[1].id[0] == 't' && n->e[1].dataSize == 2 && n->e[1].offset == 1 &&
              memcmp(n->e[1].data, "tt", 2) == 0);
    }
    reset();

    /* A section delete: the id with size 0. */
    CHECK_RC(clCkptSectionDelete(w, &t), CL_OK);
    CHECK_EQ(wait_notes(2), 2);
    CHECK(note_for(w, 0) == NULL);
    for (int i = 0; i < 2; i++) {
        struct note *n = note_for(readers[i], 0);
        CHECK(n != NULL && n->n == 1 && n->e[0].idLen == 1 && n->e[0].id[0] == 't' && n->e[0].dataSize == 0);
    }
    reset();

    /* Registering again replaces the callback and the cookie. */
    CHECK_RC(clCkptImmediateConsumptionRegister(r2, cb_b, &cookie1), CL_OK);
    CHECK_RC(clCkptSectionOverwrite(w, &s, "Q", 1), CL_OK);
    CHECK_EQ(wait_notes(2), 2);
    struct note *n2 = note_for(r2, 0);
    CHECK(n2 != NULL && n2->which == 2 && n2->cookie == &cookie1 && n2->e[0].dataSize == 1 && n2->e[0].data[0] == 'Q');
    struct note *n1 = note_for(r1, 0);
    CHECK(n1 != NULL && n1->which == 1 && n1->cookie == &cookie2);
    reset();

    /* A NULL callback turns delivery off; a closed handle gets nothing either. */
    CHECK_RC(clCkptImmediateConsumptionRegister(r2, NULL, NULL), CL_OK);
    CHECK_RC(clCkptCheckpointClose(r1), CL_OK);
    CHECK_RC(clCkptSectionOverwrite(w, &s, "R", 1), CL_OK);
    CHECK_RC(clCkptImmediateConsumptionRegister(r2, cb_b, &cookie3), CL_OK);
    CHECK_RC(clCkptSectionOverwrite(w, &s, "S", 1), CL_OK);
    CHECK_EQ(wait_notes(1), 1);
    n2 = note_for(r2, 0);
    CHECK(n2 != NULL && n2->which == 2 && n2->cookie == &cookie3 && n2->e[0].data[0] == 'S');
    reset();

    /* Handles that never registered are not called, and a write by an unregistered handle reaches
       the registered ones. */
    ClCkptHdlT quiet = check_open(svc, "notify", &da, CHECK_RW);
    CHECK_RC(clCkptSectionOverwrite(quiet, &s, "U", 1), CL_OK);
    CHECK_EQ(wait_notes(2), 2);
    CHECK(note_for(quiet, 0) == NULL && note_for(w, 0) != NULL && note_for(r2, 0) != NULL);
    reset();

    /* Updates arrive in the order the changes were made. */
    const char *seq[] = {"1", "2", "3", "4", "5"};
    for (int i = 0; i < 5; i++)
        CHECK_RC(clCkptSectionOverwrite(quiet, &s, seq[i], 1), CL_OK);
    CHECK_EQ(wait_notes(10), 10);
    int order_ok = 1, nw = 0;
    pthread_mutex_lock(&mu);
    for (int i = 0; i < nnotes && i < MAXNOTE; i++) {
        if (notes[i].handle != w)
            continue;
        if (notes[i].e[0].data[0] != seq[nw][0])
            order_ok = 0;
        nw++;
    }
    pthread_mutex_unlock(&mu);
    CHECK(order_ok && nw == 5);

    CHECK_RC(clCkptCheckpointClose(quiet), CL_OK);
    CHECK_RC(clCkptCheckpointClose(w), CL_OK);
    CHECK_RC(clCkptCheckpointClose(r2), CL_OK);
    CHECK_RC(clCkptImmediateConsumptionRegister(r2, cb_a, NULL), CL_CKPT_ERR_INVALID_HANDLE);
    CHECK_RC(clCkptFinalize(svc2), CL_OK);
    CHECK_RC(clCkptFinalize(svc), CL_OK);
    CHECK_RC(clCkptImmediateConsumptionRegister(w, cb_a, NULL), CL_CKPT_ERR_NOT_INITIALIZED);
    DONE();
}
