/*
 * ckptSoak: one member of the soak test (gotests/soak_test.go, `make soak`). Several of these, each its
 * own process and member, run THREADS threads for SECONDS seconds on three shared checkpoints:
 *
 *   soak-all    WR_ALL_REPLICAS, non-collocated: its active is the server member, every call is forwarded
 *   soak-coll   COLLOCATED | WR_ACTIVE_REPLICA: a replica in every member, the active moves with
 *               clCkptActiveReplicaSet; clCkptCheckpointSynchronize(Async) pushes to the replicas
 *   soak-dist   DISTRIBUTED | WR_ALL_REPLICAS: a replica in every member, immediate-consumption callbacks
 *
 * plus short-lived checkpoints of each thread's own (open, default or generated sections, retention,
 * delete, close). Every thread has its own service handle and selection object and mixes every call of
 * the API at random. Each call's result is checked against the outcomes clCkptApi.h documents for the
 * situation; sections a thread owns are kept in a model and every read must give back exactly what the
 * thread wrote; every notification's data must be a well-formed chunk (see chunk_fill).
 *
 *   ckptSoak MEMBER THREADS SECONDS [MEMBERS]
 *
 * MEMBER numbers this process among the MEMBERS that run together: they wait for one another
 * before their final checks and before they leave.
 * Prints "ready", a "progress" line every 5 s, the count of calls per function at the end and
 * "soak: ... errors=N"; the exit status is 0 when no call returned an undocumented result.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <clCkptApi.h>
#include <clHeapApi.h>

#define RW (CL_CKPT_CHECKPOINT_READ | CL_CKPT_CHECKPOINT_WRITE | CL_CKPT_CHECKPOINT_CREATE)
#define MAX_SECTION 8192
#define MAX_CHUNK 2048
#define OWNED 3 /* sections a thread owns in each shared checkpoint */

/* ---- accounting ---- */

enum {
    F_INITIALIZE, F_FINALIZE, F_OPEN, F_OPEN_ASYNC, F_CLOSE, F_DELETE, F_RETENTION, F_ACTIVE_SET, F_STATUS,
    F_SECTION_CREATE, F_SECTION_DELETE, F_EXPIRATION_SET, F_ITER_INIT, F_ITER_NEXT, F_ITER_FINALIZE, F_WRITE,
    F_OVERWRITE, F_READ, F_SYNC, F_SYNC_ASYNC, F_REGISTER, F_SELECTION, F_DISPATCH, F_NOTIFY, F_DATA, NFUNC
};
static const char *fname[NFUNC] = {
    "Initialize", "Finalize", "CheckpointOpen", "CheckpointOpenAsync", "CheckpointClose", "CheckpointDelete",
    "RetentionDurationSet", "ActiveReplicaSet", "CheckpointStatusGet", "SectionCreate", "SectionDelete",
    "SectionExpirationTimeSet", "SectionIterationInitialize", "SectionIterationNext", "SectionIterationFinalize",
    "CheckpointWrite", "SectionOverwrite", "CheckpointRead", "CheckpointSynchronize", "CheckpointSynchronizeAsync",
    "ImmediateConsumptionRegister", "SelectionObjectGet", "Dispatch", "notification", "data check"};

static unsigned long long calls[NFUNC], errors;
static volatile int stopping;
static int member;
static __thread const char *t_where = "-"; /* the checkpoint the thread is working on, for the reports */
static __thread int t_index = -1;

/* want(f, rc, n, codes...): rc is one of the n documented codes; counts the call, reports anything else. */
static int want(int f, ClRcT rc, int n, ...) {
    __atomic_add_fetch(&calls[f], 1, __ATOMIC_RELAXED);
    va_list ap;
    va_start(ap, n);
    int ok = 0;
    for (int i = 0; i < n && !ok; i++)
        ok = rc == va_arg(ap, ClRcT);
    va_end(ap);
    if (!ok) {
        unsigned long long e = __atomic_add_fetch(&errors, 1, __ATOMIC_RELAXED);
        if (e <= 50)
            fprintf(stderr, "UNEXPECTED member %d thread %d (%s): clCkpt%s returned 0x%x\n", member, t_index, t_where,
                    fname[f], rc);
    }
    return ok;
}
#define OK(f, rc) want(f, rc, 1, CL_OK)

/* A data check that failed. */
static void bad_data(const char *fmt, ...) {
    __atomic_add_fetch(&calls[F_DATA], 1, __ATOMIC_RELAXED);
    unsigned long long e = __atomic_add_fetch(&errors, 1, __ATOMIC_RELAXED);
    if (e <= 50) {
        va_list ap;
        va_start(ap, fmt);
        fprintf(stderr, "UNEXPECTED member %d thread %d (%s): ", member, t_index, t_where);
        vfprintf(stderr, fmt, ap);
        fprintf(stderr, "\n");
        va_end(ap);
    }
}

/* ---- data: every chunk written is self-describing, so a notification can be checked on its own ---- */

static uint8_t chunk_byte(uint32_t seed, size_t i) { return (uint8_t)((seed * 2654435761u) >> 24 ^ (i * 7u) ^ (i >> 8)); }

/* A chunk of len >= 4 bytes: its seed, then bytes that depend on the seed and the position. */
static void chunk_fill(uint8_t *buf, size_t len, uint32_t seed) {
    memcpy(buf, &seed, 4);
    for (size_t i = 4; i < len; i++)
        buf[i] = chunk_byte(seed, i);
}

static int chunk_ok(const uint8_t *buf, size_t len) {
    uint32_t seed;
    if (len < 4)
        return 0;
    memcpy(&seed, buf, 4);
    for (size_t i = 4; i < len; i++)
        if (buf[i] != chunk_byte(seed, i))
            return 0;
    return 1;
}

static ClTimeT now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (ClTimeT)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static double mono(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static ClNameT name_of(const char *s) {
    ClNameT n;
    memset(&n, 0, sizeof n);
    n.length = (ClUint16T)strlen(s);
    memcpy(n.value, s, n.length);
    return n;
}

static ClCkptSectionIdT sid_of(const char *s) {
    ClCkptSectionIdT id = {(ClUint16T)strlen(s), (ClUint8T *)s};
    return id;
}

static ClCkptCheckpointCreationAttributesT attrs_of(ClCkptCreationFlagsT flags, ClUint32T sections, ClTimeT retention) {
    ClCkptCheckpointCreationAttributesT a;
    memset(&a, 0, sizeof a);
    a.creationFlags = flags;
    a.retentionDuration = retention;
    a.maxSections = sections;
    a.maxSectionSize = MAX_SECTION;
    a.maxSectionIdSize = 64;
    return a;
}

/* ---- the shared checkpoints ---- */

enum { ALL, COLL, DIST, NSHARED };
static const char *shared_name[NSHARED] = {"soak-all", "soak-coll", "soak-dist"};
static const ClCkptCreationFlagsT shared_flags[NSHARED] = {
    CL_CKPT_WR_ALL_REPLICAS, CL_CKPT_CHECKPOINT_COLLOCATED | CL_CKPT_WR_ACTIVE_REPLICA,
    CL_CKPT_WR_ALL_REPLICAS | CL_CKPT_DISTRIBUTED};
#define SHARED_SECTIONS 2048

static ClCkptCheckpointCreationAttributesT shared_attrs(int k) {
    return attrs_of(shared_flags[k], SHARED_SECTIONS, (ClTimeT)CL_TIME_END);
}

/* What a thread knows of a section it owns. */
typedef struct {
    char id[32];
    int exists;
    size_t len;
    uint8_t data[MAX_SECTION];
} owned_t;

typedef struct {
    int index;
    unsigned seed;
    ClCkptSvcHdlT svc;
    ClSelectionObjectT fd;
    ClCkptHdlT h[NSHARED];
    owned_t own[NSHARED][OWNED];
    unsigned serial; /* names of this thread's temporary checkpoints and expiring sections */
} worker_t;

static unsigned rnd(worker_t *w, unsigned n) { return (unsigned)rand_r(&w->seed) % n; }

/* ---- completions and notifications ---- */

/* Completions are dispatched on the thread that calls clCkptDispatch: each thread's own service. */
static __thread int t_opened, t_synced;
static __thread ClInvocationT t_open_inv, t_sync_inv;
static __thread ClCkptHdlT t_open_handle;
static __thread ClRcT t_open_rc, t_sync_rc;

static void open_done(ClInvocationT inv, ClCkptHdlT h, ClRcT rc) {
    t_opened++;
    t_open_inv = inv;
    t_open_handle = h;
    t_open_rc = rc;
}

static void sync_done(ClInvocationT inv, ClRcT rc) {
    t_synced++;
    t_sync_inv = inv;
    t_sync_rc = rc;
}

static char cookie;

static ClRcT notified(ClCkptHdlT h, ClNameT *name, ClCkptIOVectorElementT *iov, ClUint32T n, ClPtrT c) {
    __atomic_add_fetch(&calls[F_NOTIFY], 1, __ATOMIC_RELAXED);
    if (h == 0 || c != &cookie || name == NULL || name->length != strlen(shared_name[DIST]) ||
        memcmp(name->value, shared_name[DIST], name->length) != 0 || n == 0 || iov == NULL) {
        bad_data("notification: handle %llu, cookie %p, %u elements", (unsigned long long)h, c, n);
        return CL_OK;
    }
    for (ClUint32T i = 0; i < n; i++) {
        /* An overwrite or a write carries the chunk written; a deleted section comes with size 0. */
        if (iov[i].sectionId.idLen == 0 || iov[i].sectionId.id == NULL ||
            (iov[i].dataSize > 0 && !chunk_ok(iov[i].dataBuffer, iov[i].dataSize)))
            bad_data("notification element %u: id length %u, %llu bytes that are not a chunk", i,
                     iov[i].sectionId.idLen, (unsigned long long)iov[i].dataSize);
    }
    return CL_OK;
}

/* Waits, through the selection object and clCkptDispatch as OpenClovis programs do, until a
 * completion callback has moved *counter away from before. */
static int dispatch_until(worker_t *w, int *counter, int before) {
    for (int waited = 0; *counter == before && waited < 60000; waited += 100) {
        struct pollfd p = {(int)w->fd, POLLIN, 0};
        int n = poll(&p, 1, 100);
        if (n < 0 && errno != EINTR) {
            perror("poll");
            exit(1);
        }
        if (n > 0)
            OK(F_DISPATCH, clCkptDispatch(w->svc, rnd(w, 2) ? CL_DISPATCH_ONE : CL_DISPATCH_ALL));
    }
    if (*counter == before)
        bad_data("no completion within a minute");
    return *counter != before;
}

/* ---- opening ---- */

static void open_shared(worker_t *w, int k) {
    t_where = shared_name[k];
    ClNameT n = name_of(shared_name[k]);
    ClCkptCheckpointCreationAttributesT a = shared_attrs(k);
    ClCkptHdlT h = 0;
    switch (rnd(w, 3)) {
    case 0: /* with CREATE and the same attributes: a plain open */
        if (!OK(F_OPEN, clCkptCheckpointOpen(w->svc, &n, &a, RW, CL_TIME_END, &h)))
            h = 0;
        break;
    case 1: /* without CREATE: the attributes are not given */
        if (!OK(F_OPEN, clCkptCheckpointOpen(w->svc, &n, NULL, CL_CKPT_CHECKPOINT_READ | CL_CKPT_CHECKPOINT_WRITE,
                                             CL_TIME_END, &h)))
            h = 0;
        break;
    default: {
        ClInvocationT inv = ((ClInvocationT)w->index << 32) | ++w->serial;
        int before = t_opened;
        if (OK(F_OPEN_ASYNC, clCkptCheckpointOpenAsync(w->svc, inv, &n, &a, RW)) &&
            dispatch_until(w, &t_opened, before)) {
            {
                if (t_open_inv != inv)
                    bad_data("open completion for invocation %llx, want %llx", (unsigned long long)t_open_inv,
                             (unsigned long long)inv);
                if (OK(F_OPEN_ASYNC, t_open_rc))
                    h = t_open_handle;
            }
        }
    }
    }
    w->h[k] = h;
    if (h != 0 && k == DIST)
        OK(F_REGISTER, clCkptImmediateConsumptionRegister(h, notified, &cookie));
}

static void init_service(worker_t *w) {
    ClCkptCallbacksT cb = {open_done, sync_done};
    ClVersionT v = {'B', 1, 1};
    if (!OK(F_INITIALIZE, clCkptInitialize(&w->svc, &cb, &v))) {
        fprintf(stderr, "member %d thread %d: no service\n", member, w->index);
        exit(1);
    }
    OK(F_SELECTION, clCkptSelectionObjectGet(w->svc, &w->fd));
    for (int k = 0; k < NSHARED; k++)
        open_shared(w, k);
}

/* ---- operations ---- */

static ClCkptHdlT pick(worker_t *w, int *k) {
    *k = (int)rnd(w, NSHARED);
    t_where = shared_name[*k];
    return w->h[*k];
}

/* Reads section o back and compares it with the model, into a buffer or a library-allocated one. */
static void read_back(worker_t *w, ClCkptHdlT h, owned_t *o) {
    ClCkptIOVectorElementT e;
    memset(&e, 0, sizeof e);
    e.sectionId = sid_of(o->id);
    static __thread uint8_t buf[MAX_SECTION];
    int own_buffer = rnd(w, 2);
    if (own_buffer) {
        e.dataBuffer = buf;
        e.dataSize = MAX_SECTION;
    }
    ClUint32T bad = 99;
    ClRcT rc = clCkptCheckpointRead(h, &e, 1, &bad);
    if (!o->exists) {
        want(F_READ, rc, 1, CL_CKPT_ERR_NOT_EXIST);
        return;
    }
    if (!OK(F_READ, rc))
        return;
    if (e.readSize != o->len || (o->len > 0 && memcmp(e.dataBuffer, o->data, o->len) != 0))
        bad_data("read of %s: %llu bytes, want the %zu written", o->id, (unsigned long long)e.readSize, o->len);
    else
        __atomic_add_fetch(&calls[F_DATA], 1, __ATOMIC_RELAXED);
    if (!own_buffer)
        clHeapFree(e.dataBuffer);
}

/* Creates, changes, reads back or deletes one of the sections the thread owns. */
static void op_owned(worker_t *w) {
    int k;
    ClCkptHdlT h = pick(w, &k);
    if (h == 0)
        return;
    owned_t *o = &w->own[k][rnd(w, OWNED)];
    ClCkptSectionIdT sid = sid_of(o->id);
    uint8_t chunk[MAX_CHUNK];
    size_t len = 4 + rnd(w, MAX_CHUNK - 4);
    chunk_fill(chunk, len, (uint32_t)rand_r(&w->seed));
    if (!o->exists) {
        ClCkptSectionCreationAttributesT sa = {&sid, (ClTimeT)CL_TIME_END};
        int empty = rnd(w, 4) == 0;
        if (OK(F_SECTION_CREATE, clCkptSectionCreate(h, &sa, empty ? NULL : chunk, empty ? 0 : len))) {
            o->exists = 1;
            o->len = empty ? 0 : len;
            memcpy(o->data, chunk, o->len);
        }
        read_back(w, h, o);
        return;
    }
    switch (rnd(w, 6)) {
    case 0:
    case 1:
        if (OK(F_OVERWRITE, clCkptSectionOverwrite(h, &sid, chunk, len))) {
            o->len = len;
            memcpy(o->data, chunk, len);
        }
        break;
    case 2:
    case 3: { /* one or two elements, anywhere in the section: it grows, zero-filled */
        ClCkptIOVectorElementT v[2];
        memset(v, 0, sizeof v);
        int n = 1 + (int)rnd(w, 2);
        size_t l2 = n == 2 ? 4 + rnd(w, 60) : 0;
        uint8_t second[64];
        chunk_fill(second, l2 > 0 ? l2 : 4, (uint32_t)rand_r(&w->seed));
        size_t off1 = rnd(w, MAX_SECTION - (unsigned)len), off2 = rnd(w, MAX_SECTION - 64);
        v[0].sectionId = sid;
        v[0].dataBuffer = chunk;
        v[0].dataSize = len;
        v[0].dataOffset = (ClOffsetT)off1;
        v[1].sectionId = sid;
        v[1].dataBuffer = second;
        v[1].dataSize = l2;
        v[1].dataOffset = (ClOffsetT)off2;
        ClUint32T bad = 99;
        if (OK(F_WRITE, clCkptCheckpointWrite(h, v, (ClUint32T)n, &bad))) {
            for (int i = 0; i < n; i++) {
                size_t off = (size_t)v[i].dataOffset, l = (size_t)v[i].dataSize;
                if (off > o->len)
                    memset(o->data + o->len, 0, off - o->len);
                memcpy(o->data + off, v[i].dataBuffer, l);
                if (off + l > o->len)
                    o->len = off + l;
            }
        }
        break;
    }
    case 4:
        if (OK(F_SECTION_DELETE, clCkptSectionDelete(h, &sid)))
            o->exists = 0;
        break;
    default: /* a section that never expires: setting CL_TIME_END again changes nothing */
        OK(F_EXPIRATION_SET, clCkptSectionExpirationTimeSet(h, &sid, (ClTimeT)CL_TIME_END));
        break;
    }
    read_back(w, h, o);
}

/* A section that expires within a second or two; the service deletes it (checked at the end). */
static void op_expiring(worker_t *w) {
    int k;
    ClCkptHdlT h = pick(w, &k);
    if (h == 0)
        return;
    char id[40];
    snprintf(id, sizeof id, "x%dt%d-%u", member, w->index, ++w->serial);
    ClCkptSectionIdT sid = sid_of(id);
    ClCkptSectionCreationAttributesT sa = {&sid, now_ns() + 1000000000LL + (ClTimeT)rnd(w, 1000) * 1000000LL};
    uint8_t chunk[16];
    chunk_fill(chunk, sizeof chunk, w->serial);
    ClRcT rc = clCkptSectionCreate(h, &sa, chunk, sizeof chunk);
    /* A call that waited past the time (an active replica changing) finds it in the past: the
     * service compares in whole seconds. */
    if (now_ns() + 1000000000LL >= sa.expirationTime) {
        want(F_SECTION_CREATE, rc, 2, CL_OK, CL_CKPT_ERR_INVALID_PARAMETER);
        return;
    }
    if (!OK(F_SECTION_CREATE, rc))
        return;
    /* Moved a little later. A thread that was slow may find it gone, or the new time already past. */
    rc = clCkptSectionExpirationTimeSet(h, &sid, sa.expirationTime + 500000000LL);
    if (now_ns() > sa.expirationTime)
        want(F_EXPIRATION_SET, rc, 3, CL_OK, CL_CKPT_ERR_NOT_EXIST, CL_CKPT_ERR_INVALID_PARAMETER);
    else
        OK(F_EXPIRATION_SET, rc);
}

/* Walks a shared checkpoint; the owned sections that exist (and never expire) must all be seen. */
static void op_iterate(worker_t *w) {
    int k;
    ClCkptHdlT h = pick(w, &k);
    if (h == 0)
        return;
    ClCkptSectionsChosenT chosen = (ClCkptSectionsChosenT)(1 + rnd(w, 5));
    ClHandleT it = 0;
    if (!OK(F_ITER_INIT, clCkptSectionIterationInitialize(h, chosen, now_ns(), &it)))
        return;
    int seen[OWNED] = {0};
    ClCkptSectionDescriptorT d;
    ClRcT rc;
    while ((rc = clCkptSectionIterationNext(it, &d)) == CL_OK) {
        OK(F_ITER_NEXT, rc);
        if (d.sectionState != CL_CKPT_SECTION_VALID || d.sectionSize > MAX_SECTION || d.sectionId.idLen == 0)
            bad_data("iteration: state %d, size %llu, id length %u", d.sectionState,
                     (unsigned long long)d.sectionSize, d.sectionId.idLen);
        for (int i = 0; i < OWNED; i++) {
            owned_t *o = &w->own[k][i];
            if (d.sectionId.idLen == strlen(o->id) && memcmp(d.sectionId.id, o->id, d.sectionId.idLen) == 0) {
                seen[i]++;
                if (d.sectionSize != o->len || d.expirationTime != (ClTimeT)CL_TIME_END)
                    bad_data("iteration: %s has %llu bytes, want %zu", o->id, (unsigned long long)d.sectionSize,
                             o->len);
            }
        }
        clHeapFree(d.sectionId.id);
    }
    want(F_ITER_NEXT, rc, 1, CKPT_RC(CL_CKPT_ERR_NO_SECTIONS));
    OK(F_ITER_FINALIZE, clCkptSectionIterationFinalize(it));
    want(F_ITER_NEXT, clCkptSectionIterationNext(it, &d), 1, CL_CKPT_ERR_INVALID_HANDLE);
    for (int i = 0; i < OWNED; i++) {
        int expect = w->own[k][i].exists && (chosen == CL_CKPT_SECTIONS_ANY || chosen == CL_CKPT_SECTIONS_FOREVER ||
                                             chosen == CL_CKPT_SECTIONS_GEQ_EXPIRATION_TIME);
        if (chosen == CL_CKPT_SECTIONS_CORRUPTED || chosen == CL_CKPT_SECTIONS_LEQ_EXPIRATION_TIME)
            expect = 0;
        if (seen[i] != expect)
            bad_data("iteration (chosen %d) saw %s %d times, want %d", chosen, w->own[k][i].id, seen[i], expect);
    }
}

static void op_status(worker_t *w) {
    int k;
    ClCkptHdlT h = pick(w, &k);
    if (h == 0)
        return;
    ClCkptCheckpointDescriptorT d;
    if (!OK(F_STATUS, clCkptCheckpointStatusGet(h, &d)))
        return;
    ClCkptCheckpointCreationAttributesT a = shared_attrs(k);
    if (d.checkpointCreationAttributes.creationFlags != a.creationFlags ||
        d.checkpointCreationAttributes.maxSections != a.maxSections || d.numberOfSections > a.maxSections)
        bad_data("status of %s: flags 0x%x, %u of %u sections", shared_name[k],
                 d.checkpointCreationAttributes.creationFlags, d.numberOfSections,
                 d.checkpointCreationAttributes.maxSections);
}

static void op_synchronize(worker_t *w) {
    t_where = "soak-all/soak-coll";
    if (w->h[ALL] != 0)
        want(F_SYNC, clCkptCheckpointSynchronize(w->h[ALL], CL_TIME_END), 1, CL_CKPT_ERR_BAD_OPERATION);
    if (w->h[COLL] == 0)
        return;
    if (rnd(w, 2)) {
        OK(F_SYNC, clCkptCheckpointSynchronize(w->h[COLL], CL_TIME_END));
        return;
    }
    ClInvocationT inv = ((ClInvocationT)w->index << 32) | ++w->serial;
    int before = t_synced;
    if (!OK(F_SYNC_ASYNC, clCkptCheckpointSynchronizeAsync(w->h[COLL], inv)))
        return;
    if (!dispatch_until(w, &t_synced, before))
        return;
    if (t_sync_inv != inv)
        bad_data("synchronize completion for invocation %llx, want %llx", (unsigned long long)t_sync_inv,
                 (unsigned long long)inv);
    OK(F_SYNC_ASYNC, t_sync_rc);
}

static void op_active(worker_t *w) {
    t_where = "soak-coll/soak-all";
    if (w->h[COLL] != 0)
        OK(F_ACTIVE_SET, clCkptActiveReplicaSet(w->h[COLL]));
    if (w->h[ALL] != 0)
        want(F_ACTIVE_SET, clCkptActiveReplicaSet(w->h[ALL]), 1, CL_CKPT_ERR_BAD_OPERATION);
    if (w->h[ALL] != 0)
        want(F_REGISTER, clCkptImmediateConsumptionRegister(w->h[ALL], notified, &cookie), 1,
             CL_CKPT_ERR_OP_NOT_PERMITTED);
}

/* Closes a shared handle (a closed handle is stale) and opens the checkpoint again. */
static void op_reopen(worker_t *w) {
    int k;
    ClCkptHdlT h = pick(w, &k);
    if (h != 0) {
        OK(F_CLOSE, clCkptCheckpointClose(h));
        ClCkptCheckpointDescriptorT d;
        want(F_STATUS, clCkptCheckpointStatusGet(h, &d), 1, CL_CKPT_ERR_INVALID_HANDLE);
    }
    open_shared(w, k);
}

/* A checkpoint of the thread's own, from creation to its end by delete, by retention 0, or by a short
 * retention timer; with the default section or with generated sections. */
static void op_temporary(worker_t *w) {
    static __thread char name[64];
    snprintf(name, sizeof name, "soak-tmp-m%dt%d-%u", member, w->index, ++w->serial);
    t_where = name;
    ClNameT n = name_of(name);
    int single = rnd(w, 2);
    int ending = (int)rnd(w, 3); /* 0: delete, 1: retention 0, 2: retention 200 ms */
    ClCkptCreationFlagsT flags = rnd(w, 2) ? CL_CKPT_WR_ALL_REPLICAS : CL_CKPT_WR_ACTIVE_REPLICA;
    ClCkptCheckpointCreationAttributesT a = attrs_of(flags, single ? 1 : 4, ending == 1 ? 0 : (ClTimeT)CL_TIME_END);
    ClCkptHdlT h = 0, h2 = 0;
    if (!OK(F_OPEN, clCkptCheckpointOpen(w->svc, &n, &a, RW, CL_TIME_END, &h)))
        return;
    uint8_t chunk[256], back[256];
    size_t len = 4 + rnd(w, 250);
    chunk_fill(chunk, len, w->serial);
    ClCkptSectionIdT sid = CL_CKPT_DEFAULT_SECTION_ID;
    ClHandleT it = 0;
    if (single) {
        OK(F_OVERWRITE, clCkptSectionOverwrite(h, &sid, chunk, len));
        want(F_ITER_INIT, clCkptSectionIterationInitialize(h, CL_CKPT_SECTIONS_ANY, 0, &it), 1,
             CL_CKPT_ERR_OP_NOT_PERMITTED);
    } else {
        ClCkptSectionIdT gen = CL_CKPT_GENERATED_SECTION_ID;
        ClCkptSectionCreationAttributesT sa = {&gen, (ClTimeT)CL_TIME_END};
        if (!OK(F_SECTION_CREATE, clCkptSectionCreate(h, &sa, chunk, len)))
            goto close;
        if (gen.id == NULL || gen.idLen == 0 || strncmp((char *)gen.id, "generatedSection", 16) != 0)
            bad_data("generated section id of length %u", gen.idLen);
        static __thread char id[32];
        snprintf(id, sizeof id, "%.*s", (int)gen.idLen, gen.id != NULL ? (char *)gen.id : "");
        sid.idLen = gen.idLen;
        sid.id = (ClUint8T *)id;
        clHeapFree(gen.id);
        ClCkptSectionIdT none = sid_of("absent");
        want(F_SECTION_DELETE, clCkptSectionDelete(h, &none), 1, CL_CKPT_ERR_NOT_EXIST);
    }
    /* A second handle, without CREATE, sees the same data. */
    if (OK(F_OPEN, clCkptCheckpointOpen(w->svc, &n, NULL, CL_CKPT_CHECKPOINT_READ, CL_TIME_END, &h2))) {
        ClCkptIOVectorElementT e;
        memset(&e, 0, sizeof e);
        e.sectionId = sid;
        e.dataBuffer = back;
        e.dataSize = sizeof back;
        if (OK(F_READ, clCkptCheckpointRead(h2, &e, 1, NULL)) &&
            (e.readSize != len || memcmp(back, chunk, len) != 0))
            bad_data("temporary checkpoint: %llu bytes read, want %zu", (unsigned long long)e.readSize, len);
        want(F_OVERWRITE, clCkptSectionOverwrite(h2, &sid, chunk, len), 1, CL_CKPT_ERR_OP_NOT_PERMITTED);
    }
    if (ending == 2)
        OK(F_RETENTION, clCkptCheckpointRetentionDurationSet(h, 200 * 1000000LL));
    if (ending == 0) {
        OK(F_DELETE, clCkptCheckpointDelete(w->svc, &n));
        ClCkptHdlT h3 = 0;
        want(F_OPEN, clCkptCheckpointOpen(w->svc, &n, NULL, CL_CKPT_CHECKPOINT_READ, CL_TIME_END, &h3), 1,
             CL_CKPT_ERR_NOT_EXIST);
        /* Deleted but open: the handles keep working; the retention can no longer be changed. */
        ClCkptCheckpointDescriptorT d;
        OK(F_STATUS, clCkptCheckpointStatusGet(h, &d));
        want(F_RETENTION, clCkptCheckpointRetentionDurationSet(h, 0), 1, CL_CKPT_ERR_BAD_OPERATION);
    }
close:
    if (h2 != 0)
        OK(F_CLOSE, clCkptCheckpointClose(h2));
    OK(F_CLOSE, clCkptCheckpointClose(h));
    if (ending != 2) { /* deleted, or retention 0: gone at the last close */
        ClCkptHdlT h3 = 0;
        want(F_OPEN, clCkptCheckpointOpen(w->svc, &n, NULL, CL_CKPT_CHECKPOINT_READ, CL_TIME_END, &h3), 1,
             CL_CKPT_ERR_NOT_EXIST);
    }
}

/* Ends the thread's service (and with it its handles) and starts a new one. */
static void op_restart_service(worker_t *w) {
    ClCkptHdlT old = w->h[rnd(w, NSHARED)];
    OK(F_FINALIZE, clCkptFinalize(w->svc));
    if (old != 0)
        want(F_CLOSE, clCkptCheckpointClose(old), 1, CL_CKPT_ERR_INVALID_HANDLE);
    want(F_DISPATCH, clCkptDispatch(w->svc, CL_DISPATCH_ALL), 1, CL_CKPT_ERR_INVALID_HANDLE);
    init_service(w);
}

static void *worker(void *arg) {
    worker_t *w = arg;
    t_index = w->index;
    for (int k = 0; k < NSHARED; k++)
        for (int i = 0; i < OWNED; i++)
            snprintf(w->own[k][i].id, sizeof w->own[k][i].id, "m%dt%ds%d", member, w->index, i);
    init_service(w);
    while (!stopping) {
        unsigned r = rnd(w, 1000);
        if (r < 550)
            op_owned(w);
        else if (r < 650)
            op_expiring(w);
        else if (r < 740)
            op_iterate(w);
        else if (r < 800)
            op_status(w);
        else if (r < 856)
            op_synchronize(w);
        else if (r < 858) /* rare, as in real use: each one moves the active replica */
            op_active(w);
        else if (r < 900)
            op_reopen(w);
        else if (r < 990)
            op_temporary(w);
        else if (r < 995)
            OK(F_DISPATCH, clCkptDispatch(w->svc, rnd(w, 2) ? CL_DISPATCH_ONE : CL_DISPATCH_ALL));
        else
            op_restart_service(w);
        for (int k = 0; k < NSHARED; k++)
            if (w->h[k] == 0)
                open_shared(w, k);
    }
    OK(F_FINALIZE, clCkptFinalize(w->svc));
    return NULL;
}

static unsigned long long total_calls(void) {
    unsigned long long n = 0;
    for (int f = 0; f < NFUNC; f++)
        if (f != F_NOTIFY && f != F_DATA)
            n += __atomic_load_n(&calls[f], __ATOMIC_RELAXED);
    return n;
}

/* Sections whose expiration time has passed: the service must delete them. */
static int expired_left(ClCkptHdlT h) {
    ClHandleT it = 0;
    if (!OK(F_ITER_INIT, clCkptSectionIterationInitialize(h, CL_CKPT_SECTIONS_LEQ_EXPIRATION_TIME, now_ns(), &it)))
        return -1;
    int n = 0;
    ClCkptSectionDescriptorT d;
    while (clCkptSectionIterationNext(it, &d) == CL_OK) {
        n++;
        clHeapFree(d.sectionId.id);
    }
    OK(F_ITER_FINALIZE, clCkptSectionIterationFinalize(it));
    return n;
}

/* Waits until every member has reached the point called what: a section per member in soak-all.
 * So no member leaves (taking the active replica of soak-coll with it) while another still runs. */
static void barrier(ClCkptHdlT all, const char *what, int members) {
    char id[32];
    snprintf(id, sizeof id, "%s-m%d", what, member);
    ClCkptSectionIdT sid = sid_of(id);
    ClCkptSectionCreationAttributesT sa = {&sid, (ClTimeT)CL_TIME_END};
    OK(F_SECTION_CREATE, clCkptSectionCreate(all, &sa, NULL, 0));
    for (int tries = 0; tries < 1200; tries++) {
        int here = 0;
        for (int m = 0; m < members; m++) {
            char other[32];
            snprintf(other, sizeof other, "%s-m%d", what, m);
            ClCkptIOVectorElementT e;
            memset(&e, 0, sizeof e);
            e.sectionId = sid_of(other);
            uint8_t byte;
            e.dataBuffer = &byte;
            e.dataSize = 1;
            ClRcT rc = clCkptCheckpointRead(all, &e, 1, NULL);
            want(F_READ, rc, 2, CL_OK, CL_CKPT_ERR_NOT_EXIST);
            here += rc == CL_OK;
        }
        if (here == members)
            return;
        usleep(100000);
    }
    bad_data("the other members did not reach '%s' within 2 minutes", what);
}

int main(int argc, char **argv) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc != 4 && argc != 5) {
        fprintf(stderr, "usage: ckptSoak MEMBER THREADS SECONDS [MEMBERS]\n");
        return 2;
    }
    member = atoi(argv[1]);
    int threads = atoi(argv[2]), seconds = atoi(argv[3]), members = argc == 5 ? atoi(argv[4]) : 1;

    /* The main thread's service keeps the member joined, and its handles keep the checkpoints open. */
    ClCkptSvcHdlT svc = 0;
    ClVersionT v = {'B', 1, 1};
    if (!OK(F_INITIALIZE, clCkptInitialize(&svc, NULL, &v)))
        return 1;
    ClCkptHdlT keep[NSHARED];
    for (int k = 0; k < NSHARED; k++) {
        ClNameT n = name_of(shared_name[k]);
        ClCkptCheckpointCreationAttributesT a = shared_attrs(k);
        if (!OK(F_OPEN, clCkptCheckpointOpen(svc, &n, &a, RW, CL_TIME_END, &keep[k])))
            return 1;
    }
    if (!OK(F_ACTIVE_SET, clCkptActiveReplicaSet(keep[COLL])))
        return 1;
    printf("ready\n");

    pthread_t *tid = calloc((size_t)threads, sizeof *tid);
    worker_t **ws = calloc((size_t)threads, sizeof *ws);
    double start = mono();
    for (int i = 0; i < threads; i++) {
        ws[i] = calloc(1, sizeof **ws);
        ws[i]->index = i;
        ws[i]->seed = (unsigned)(member * 7919 + i * 104729 + 1);
        pthread_create(&tid[i], NULL, worker, ws[i]);
    }
    while (mono() - start < seconds) {
        sleep(5);
        printf("progress member=%d seconds=%.0f calls=%llu errors=%llu notifications=%llu\n", member,
               mono() - start, total_calls(), __atomic_load_n(&errors, __ATOMIC_RELAXED),
               __atomic_load_n(&calls[F_NOTIFY], __ATOMIC_RELAXED));
    }
    stopping = 1;
    for (int i = 0; i < threads; i++) {
        pthread_join(tid[i], NULL);
        free(ws[i]);
    }
    double elapsed = mono() - start;
    free(tid);
    free(ws);

    barrier(keep[ALL], "stopped", members);
    /* Every expiring section was due within a few seconds: the service deletes them all. The
     * active replica of soak-coll may have been in a member that already checked and left. */
    OK(F_ACTIVE_SET, clCkptActiveReplicaSet(keep[COLL]));
    for (int k = 0; k < NSHARED; k++) {
        int left = 0;
        for (int tries = 0; tries < 300 && (left = expired_left(keep[k])) != 0; tries++)
            usleep(100000);
        if (left != 0)
            bad_data("%s: %d expired sections still there after 30 s", shared_name[k], left);
    }
    barrier(keep[ALL], "checked", members);
    for (int k = 0; k < NSHARED; k++)
        OK(F_CLOSE, clCkptCheckpointClose(keep[k]));
    OK(F_FINALIZE, clCkptFinalize(svc));

    for (int f = 0; f < NFUNC; f++)
        printf("calls member=%d %s=%llu\n", member, fname[f], calls[f]);
    if (calls[F_NOTIFY] == 0)
        bad_data("no notification from the other members");
    printf("soak: member=%d threads=%d seconds=%.0f calls=%llu calls_per_second=%.0f errors=%llu notifications=%llu "
           "data_checks=%llu\n",
           member, threads, elapsed, total_calls(), total_calls() / elapsed, errors, calls[F_NOTIFY], calls[F_DATA]);
    return errors == 0 ? 0 : 1;
}
