/* Section iteration (4.8): filters, snapshots, descriptors and their memory, the end code, handles. */
#include "check.h"

static ClCkptSvcHdlT svc;

#define MAXSEEN 16

/* Runs an iteration to its end; returns how many sections it gave and records their ids. */
static int collect(ClCkptHdlT h, ClCkptSectionsChosenT chosen, ClTimeT t, char seen[MAXSEEN][32]) {
    ClHandleT it = 0;
    ClCkptSectionDescriptorT d;
    int n = 0;
    REQUIRE_RC(clCkptSectionIterationInitialize(h, chosen, t, &it), CL_OK);
    while (clCkptSectionIterationNext(it, &d) == CL_OK) {
        if (n < MAXSEEN) {
            size_t len = d.sectionId.idLen < 31 ? d.sectionId.idLen : 31;
            memcpy(seen[n], d.sectionId.id, len);
            seen[n][len] = '\0';
        }
        n++;
        clHeapFree(d.sectionId.id);
    }
    CHECK_RC(clCkptSectionIterationFinalize(it), CL_OK);
    return n;
}

static int has(char seen[MAXSEEN][32], int n, const char *id) {
    for (int i = 0; i < n && i < MAXSEEN; i++)
        if (strcmp(seen[i], id) == 0)
            return 1;
    return 0;
}

int main(void) {
    svc = check_init();
    ClCkptCheckpointCreationAttributesT a = check_attrs(CL_CKPT_WR_ACTIVE_REPLICA, 10, 0, 0);
    ClCkptHdlT h = check_open(svc, "iter", &a, CHECK_RW);
    ClHandleT it = 0;
    ClCkptSectionDescriptorT d;
    char seen[MAXSEEN][32];

    /* Argument checks. */
    CHECK_RC(clCkptSectionIterationInitialize(h, CL_CKPT_SECTIONS_ANY, 0, NULL), CL_CKPT_ERR_NULL_POINTER);
    CHECK_RC(clCkptSectionIterationInitialize(h, (ClCkptSectionsChosenT)6, 0, &it), CL_CKPT_ERR_INVALID_PARAMETER);
    CHECK_RC(clCkptSectionIterationInitialize(h, (ClCkptSectionsChosenT)0, 0, &it), CL_CKPT_ERR_INVALID_PARAMETER);
    CHECK_RC(clCkptSectionIterationInitialize(h, (ClCkptSectionsChosenT)-1, 0, &it), CL_CKPT_ERR_INVALID_PARAMETER);
    CHECK_RC(clCkptSectionIterationInitialize(0, CL_CKPT_SECTIONS_ANY, 0, &it), CL_CKPT_ERR_INVALID_HANDLE);
    CHECK_RC(clCkptSectionIterationInitialize(0xdeadbeef, CL_CKPT_SECTIONS_ANY, 0, &it), CL_CKPT_ERR_INVALID_HANDLE);
    CHECK_RC(clCkptSectionIterationInitialize(svc, CL_CKPT_SECTIONS_ANY, 0, &it), CL_CKPT_ERR_INVALID_HANDLE);
    CHECK_RC(clCkptSectionIterationInitialize(h, CL_CKPT_SECTIONS_ANY, 0, (ClHandleT *)8), CL_CKPT_ERR_INVALID_PARAMETER);

    /* An empty checkpoint: an iteration with no entries; the end code repeats. */
    REQUIRE_RC(clCkptSectionIterationInitialize(h, CL_CKPT_SECTIONS_ANY, 0, &it), CL_OK);
    CHECK(it != 0 && it < 0x100000000ULL);
    CHECK_RC(clCkptSectionIterationNext(it, &d), 0x160101);
    CHECK_RC(clCkptSectionIterationNext(it, &d), CKPT_RC(CL_CKPT_ERR_NO_SECTIONS));
    CHECK_RC(clCkptSectionIterationFinalize(it), CL_OK);

    /* Sections with different expirations. */
    ClTimeT now = check_now();
    ClTimeT t1 = now + 3600 * (ClTimeT)CL_SEC_TO_NANO, t2 = now + 7200 * (ClTimeT)CL_SEC_TO_NANO;
    struct { const char *id; ClTimeT exp; const char *data; } secs[] = {
        {"forever1", CL_TIME_END, "f1"}, {"forever2", CL_TIME_END, ""}, {"early", t1, "e"}, {"late", t2, "late!"},
    };
    for (int i = 0; i < 4; i++) {
        ClCkptSectionIdT id = check_sid(secs[i].id);
        ClCkptSectionCreationAttributesT sa = {&id, secs[i].exp};
        size_t len = strlen(secs[i].data);
        CHECK_RC(clCkptSectionCreate(h, &sa, len ? (const ClUint8T *)secs[i].data : NULL, len), CL_OK);
    }
    ClTimeT created = check_now();

    int n = collect(h, CL_CKPT_SECTIONS_ANY, 0, seen);
    CHECK_EQ(n, 4);
    CHECK(has(seen, n, "forever1") && has(seen, n, "forever2") && has(seen, n, "early") && has(seen, n, "late"));
    n = collect(h, CL_CKPT_SECTIONS_FOREVER, 0, seen);
    CHECK(n == 2 && has(seen, n, "forever1") && has(seen, n, "forever2"));
    n = collect(h, CL_CKPT_SECTIONS_LEQ_EXPIRATION_TIME, t1, seen);
    CHECK(n == 1 && has(seen, n, "early"));
    n = collect(h, CL_CKPT_SECTIONS_LEQ_EXPIRATION_TIME, t2, seen);
    CHECK(n == 2 && has(seen, n, "early") && has(seen, n, "late"));
    n = collect(h, CL_CKPT_SECTIONS_GEQ_EXPIRATION_TIME, t2, seen);
    CHECK(n == 3 && has(seen, n, "late") && has(seen, n, "forever1") && has(seen, n, "forever2"));
    n = collect(h, CL_CKPT_SECTIONS_GEQ_EXPIRATION_TIME, t1 + 1, seen);
    CHECK(n == 3 && !has(seen, n, "early"));
    n = collect(h, CL_CKPT_SECTIONS_CORRUPTED, 0, seen);
    CHECK_EQ(n, 0);

    /* Descriptors: an id of exactly idLen bytes owned by the caller, expiry, size, state, lastUpdate. */
    REQUIRE_RC(clCkptSectionIterationInitialize(h, CL_CKPT_SECTIONS_ANY, 0, &it), CL_OK);
    CHECK_RC(clCkptSectionIterationNext(it, NULL), CL_CKPT_ERR_NULL_POINTER);
    int count = 0;
    ClRcT rc;
    while ((rc = clCkptSectionIterationNext(it, &d)) == CL_OK) {
        count++;
        for (int i = 0; i < 4; i++) {
            if (d.sectionId.idLen != strlen(secs[i].id) || memcmp(d.sectionId.id, secs[i].id, d.sectionId.idLen) != 0)
                continue;
            CHECK_EQ(d.expirationTime, secs[i].exp);
            CHECK_EQ(d.sectionSize, strlen(secs[i].data));
            CHECK_EQ(d.sectionState, CL_CKPT_SECTION_VALID);
            CHECK(d.lastUpdate >= now / CL_MILLI_TO_NANO * CL_MILLI_TO_NANO && d.lastUpdate <= created);
        }
        clHeapFree(d.sectionId.id);
    }
    CHECK_RC(rc, CKPT_RC(CL_CKPT_ERR_NO_SECTIONS));
    CHECK_EQ(count, 4);
    CHECK_RC(clCkptSectionIterationNext(it, &d), CKPT_RC(CL_CKPT_ERR_NO_SECTIONS));
    CHECK_RC(clCkptSectionIterationFinalize(it), CL_OK);
    /* Finalize ends the handle. */
    CHECK_RC(clCkptSectionIterationFinalize(it), CL_CKPT_ERR_INVALID_HANDLE);
    CHECK_RC(clCkptSectionIterationNext(it, &d), CL_CKPT_ERR_INVALID_HANDLE);

    /* An id holding a NUL is returned as it is, not cut at the NUL. */
    ClCkptSectionIdT zid = {4, (ClUint8T *)"z\0z!"};
    ClCkptSectionCreationAttributesT zsa = {&zid, (ClTimeT)CL_TIME_END};
    CHECK_RC(clCkptSectionCreate(h, &zsa, NULL, 0), CL_OK);
    REQUIRE_RC(clCkptSectionIterationInitialize(h, CL_CKPT_SECTIONS_ANY, 0, &it), CL_OK);
    int zfound = 0;
    while (clCkptSectionIterationNext(it, &d) == CL_OK) {
        if (d.sectionId.idLen == 4 && memcmp(d.sectionId.id, "z\0z!", 4) == 0)
            zfound = 1;
        clHeapFree(d.sectionId.id);
    }
    CHECK(zfound);
    CHECK_RC(clCkptSectionIterationFinalize(it), CL_OK);
    CHECK_RC(clCkptSectionDelete(h, &zid), CL_OK);

    /* A snapshot: deleted sections are skipped, new ones are not returned. */
    REQUIRE_RC(clCkptSectionIterationInitialize(h, CL_CKPT_SECTIONS_ANY, 0, &it), CL_OK);
    ClCkptSectionIdT e = check_sid("early"), l = check_sid("late");
    CHECK_RC(clCkptSectionDelete(h, &e), CL_OK);
    CHECK_RC(clCkptSectionDelete(h, &l), CL_OK);
    CHECK_RC(check_section(h, "new", "n"), CL_OK);
    count = 0;
    while ((rc = clCkptSectionIterationNext(it, &d)) == CL_OK) {
        CHECK(d.sectionId.idLen == 8 && memcmp(d.sectionId.id, "forever", 7) == 0);
        clHeapFree(d.sectionId.id);
        count++;
    }
    CHECK_RC(rc, CKPT_RC(CL_CKPT_ERR_NO_SECTIONS));
    CHECK_EQ(count, 2);
    CHECK_RC(clCkptSectionIterationFinalize(it), CL_OK);

    /* Iterating needs no open flag. */
    ClNameT name = check_name("iter");
    ClCkptHdlT q = 0;
    REQUIRE_RC(clCkptCheckpointOpen(svc, &name, NULL, 0, CL_TIME_END, &q), CL_OK);
    n = collect(q, CL_CKPT_SECTIONS_ANY, 0, seen);
    CHECK_EQ(n, 3);

    /* Handles of another kind are refused where an iteration handle is expected, and vice versa. */
    REQUIRE_RC(clCkptSectionIterationInitialize(q, CL_CKPT_SECTIONS_ANY, 0, &it), CL_OK);
    CHECK_RC(clCkptSectionIterationNext(h, &d), CL_CKPT_ERR_INVALID_HANDLE);
    CHECK_RC(clCkptSectionIterationNext(svc, &d), CL_CKPT_ERR_INVALID_HANDLE);
    CHECK_RC(clCkptSectionIterationNext(0, &d), CL_CKPT_ERR_INVALID_HANDLE);
    CHECK_RC(clCkptSectionIterationNext(0xdeadbeef, &d), CL_CKPT_ERR_INVALID_HANDLE);
    CHECK_RC(clCkptSectionIterationNext(it | (1ULL << 32), &d), CL_CKPT_ERR_INVALID_HANDLE);
    CHECK_RC(clCkptSectionIterationFinalize(h), CL_CKPT_ERR_INVALID_HANDLE);
    CHECK_RC(clCkptSectionIterationFinalize(svc), CL_CKPT_ERR_INVALID_HANDLE);
    CHECK_RC(clCkptSectionIterationFinalize(0), CL_CKPT_ERR_INVALID_HANDLE);
    CHECK_RC(clCkptCheckpointClose(it), CL_CKPT_ERR_INVALID_HANDLE);
    CHECK_RC(clCkptCheckpointStatusGet(it, &(ClCkptCheckpointDescriptorT){0}), CL_CKPT_ERR_INVALID_HANDLE);
    CHECK_RC(clCkptFinalize(it), CL_CKPT_ERR_INVALID_HANDLE);
    CHECK_RC(clCkptSectionIterationNext(it, (ClCkptSectionDescriptorT *)1), CL_CKPT_ERR_INVALID_PARAMETER);
    /* Closing the checkpoint handle ends its iterations. */
    CHECK_RC(clCkptCheckpointClose(q), CL_OK);
    CHECK_RC(clCkptSectionIterationNext(it, &d), CL_CKPT_ERR_INVALID_HANDLE);
    CHECK_RC(clCkptSectionIterationFinalize(it), CL_CKPT_ERR_INVALID_HANDLE);

    /* Finalize of the service ends the iterations of its checkpoints. */
    ClCkptSvcHdlT svc2 = check_init();
    ClCkptHdlT h2 = 0;
    REQUIRE_RC(clCkptCheckpointOpen(svc2, &name, NULL, CL_CKPT_CHECKPOINT_READ, CL_TIME_END, &h2), CL_OK);
    REQUIRE_RC(clCkptSectionIterationInitialize(h2, CL_CKPT_SECTIONS_ANY, 0, &it), CL_OK);
    CHECK_RC(clCkptFinalize(svc2), CL_OK);
    CHECK_RC(clCkptSectionIterationNext(it, &d), CL_CKPT_ERR_INVALID_HANDLE);
    CHECK_RC(clCkptSectionIterationFinalize(it), CL_CKPT_ERR_INVALID_HANDLE);

    /* The last Finalize: NOT_INITIALIZED. */
    REQUIRE_RC(clCkptSectionIterationInitialize(h, CL_CKPT_SECTIONS_ANY, 0, &it), CL_OK);
    CHECK_RC(clCkptFinalize(svc), CL_OK);
    CHECK_RC(clCkptSectionIterationNext(it, &d), CL_CKPT_ERR_NOT_INITIALIZED);
    CHECK_RC(clCkptSectionIterationFinalize(it), CL_CKPT_ERR_NOT_INITIALIZED);
    CHECK_RC(clCkptSectionIterationInitialize(h, CL_CKPT_SECTIONS_ANY, 0, &it), CL_CKPT_ERR_NOT_INITIALIZED);
    DONE();
}
