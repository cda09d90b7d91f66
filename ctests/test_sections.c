/* Sections (4.3 to 4.5): the default section, clCkptSectionCreate (explicit and generated ids),
 * clCkptSectionDelete, clCkptSectionExpirationTimeSet and expiry. */
#include "check.h"

static ClCkptSvcHdlT svc;

static int section_exists(ClCkptHdlT h, const char *id) {
    char b[64];
    return check_read(h, id, b, sizeof b, NULL) == CL_OK;
}

static void default_section(void) {
    ClCkptCheckpointCreationAttributesT a = check_attrs(CL_CKPT_WR_ACTIVE_REPLICA, 1, 16, 0);
    ClCkptHdlT h = check_open(svc, "sec-default", &a, CHECK_RW);
    ClCkptSectionIdT def = CL_CKPT_DEFAULT_SECTION_ID;
    char buf[16]; /* reads may not ask for more than maxSectionSize */
    ClSizeT got = 99;
    ClCkptCheckpointDescriptorT st;

    /* It exists at once, empty, and is not counted. */
    CHECK_RC(check_read(h, NULL, buf, sizeof buf, &got), CL_OK);
    CHECK_EQ(got, 0);
    CHECK_RC(clCkptCheckpointStatusGet(h, &st), CL_OK);
    CHECK_EQ(st.numberOfSections, 0);
    /* Addressed with {0, NULL} by Overwrite, Write and Read. */
    CHECK_RC(clCkptSectionOverwrite(h, &def, "hello", 5), CL_OK);
    CHECK_RC(check_read(h, NULL, buf, sizeof buf, &got), CL_OK);
    CHECK(got == 5 && memcmp(buf, "hello", 5) == 0);
    ClCkptIOVectorElementT w = {def, "J", 1, 0, 0};
    CHECK_RC(clCkptCheckpointWrite(h, &w, 1, NULL), CL_OK);
    CHECK_RC(check_read(h, NULL, buf, sizeof buf, &got), CL_OK);
    CHECK(got == 5 && memcmp(buf, "Jello", 5) == 0);
    /* Data calls look only at the pointer: a NULL id with a length is the default section too. */
    ClCkptSectionIdT deflen = {3, NULL};
    CHECK_RC(clCkptSectionOverwrite(h, &deflen, "abc", 3), CL_OK);
    CHECK_RC(check_read(h, NULL, buf, sizeof buf, &got), CL_OK);
    CHECK(got == 3 && memcmp(buf, "abc", 3) == 0);
    CHECK_RC(clCkptCheckpointStatusGet(h, &st), CL_OK);
    CHECK_EQ(st.numberOfSections, 0);
    CHECK_EQ(st.memoryUsed, 3);

    /* It cannot be deleted, named explicitly, given an expiration, or iterated alone. */
    CHECK_RC(clCkptSectionDelete(h, &def), CL_CKPT_ERR_INVALID_PARAMETER);
    CHECK_RC(check_section(h, "x", "1"), CL_CKPT_ERR_ALREADY_EXIST);
    ClCkptSectionIdT x = check_sid("x");
    CHECK_RC(clCkptSectionExpirationTimeSet(h, &x, CL_TIME_END), CL_CKPT_ERR_INVALID_PARAMETER);
    ClHandleT it = 0;
    CHECK_RC(clCkptSectionIterationInitialize(h, CL_CKPT_SECTIONS_ANY, 0, &it), CL_CKPT_ERR_OP_NOT_PERMITTED);

    /* Quirk of the original: a generated id works even here, and then there is something to iterate. */
    ClCkptSectionIdT gen = CL_CKPT_GENERATED_SECTION_ID;
    ClCkptSectionCreationAttributesT sa = {&gen, (ClTimeT)CL_TIME_END};
    REQUIRE_RC(clCkptSectionCreate(h, &sa, NULL, 0), CL_OK);
    CHECK(gen.id != NULL && gen.idLen == sizeof "generatedSection0");
    if (gen.id != NULL)
        CHECK(memcmp(gen.id, "generatedSection0", sizeof "generatedSection0") == 0);
    CHECK_RC(clCkptCheckpointStatusGet(h, &st), CL_OK);
    CHECK_EQ(st.numberOfSections, 1);
    CHECK_RC(clCkptSectionIterationInitialize(h, CL_CKPT_SECTIONS_ANY, 0, &it), CL_OK);
    CHECK_RC(clCkptSectionIterationFinalize(it), CL_OK);
    /* maxSections 1 is now used up. */
    ClCkptSectionIdT gen2 = CL_CKPT_GENERATED_SECTION_ID;
    sa.sectionId = &gen2;
    CHECK_RC(clCkptSectionCreate(h, &sa, NULL, 0), CL_CKPT_ERR_NO_SPACE);
    CHECK(gen2.id == NULL && gen2.idLen == 0);
    clHeapFree(gen.id);
    CHECK_RC(clCkptCheckpointClose(h), CL_OK);

    /* idLen 0 with an id pointer is a generated id too: id is replaced by the library's buffer,
     * the caller's bytes are neither read, changed nor freed. */
    ClCkptCheckpointCreationAttributesT b = check_attrs(CL_CKPT_WR_ACTIVE_REPLICA, 3, 16, 0);
    h = check_open(svc, "sec-zero-len", &b, CHECK_RW);
    ClUint8T mine[] = "mine";
    ClCkptSectionIdT zl = {0, mine};
    sa.sectionId = &zl;
    REQUIRE_RC(clCkptSectionCreate(h, &sa, (const ClUint8T *)"z", 1), CL_OK);
    CHECK(zl.id != mine && zl.idLen == sizeof "generatedSection0");
    CHECK(memcmp(mine, "mine", 5) == 0);
    if (zl.id != mine) {
        CHECK(memcmp(zl.id, "generatedSection0", sizeof "generatedSection0") == 0);
        char got[4];
        ClCkptIOVectorElementT e;
        memset(&e, 0, sizeof e);
        e.sectionId = zl;
        e.dataBuffer = got;
        e.dataSize = sizeof got;
        CHECK_RC(clCkptCheckpointRead(h, &e, 1, NULL), CL_OK);
        CHECK(e.readSize == 1 && got[0] == 'z');
        clHeapFree(zl.id);
    }
    CHECK_RC(clCkptCheckpointClose(h), CL_OK);
}

static void no_default(void) {
    /* With maxSections > 1 there is no default section. */
    ClCkptCheckpointCreationAttributesT a = check_attrs(CL_CKPT_WR_ACTIVE_REPLICA, 3, 16, 0);
    ClCkptHdlT h = check_open(svc, "sec-multi", &a, CHECK_RW);
    ClCkptSectionIdT def = CL_CKPT_DEFAULT_SECTION_ID;
    char buf[8];
    ClCkptIOVectorElementT r = {def, buf, sizeof buf, 0, 0};
    CHECK_RC(clCkptCheckpointRead(h, &r, 1, NULL), CL_CKPT_ERR_NULL_POINTER);
    ClCkptIOVectorElementT w = {def, "x", 1, 0, 0};
    CHECK_RC(clCkptCheckpointWrite(h, &w, 1, NULL), CL_CKPT_ERR_INVALID_PARAMETER);
    CHECK_RC(clCkptSectionOverwrite(h, &def, "x", 1), CL_CKPT_ERR_INVALID_PARAMETER);
    CHECK_RC(clCkptSectionDelete(h, &def), CL_CKPT_ERR_INVALID_PARAMETER);
    CHECK_RC(clCkptCheckpointClose(h), CL_OK);
}

static void create(void) {
    ClCkptCheckpointCreationAttributesT a = check_attrs(CL_CKPT_WR_ACTIVE_REPLICA, 4, 8, 0);
    a.maxSectionIdSize = 8;
    ClCkptHdlT h = check_open(svc, "sec-create", &a, CHECK_RW);
    ClCkptSectionIdT id = check_sid("one");
    ClCkptSectionCreationAttributesT sa = {&id, (ClTimeT)CL_TIME_END};
    ClCkptCheckpointDescriptorT st;
    char buf[8]; /* reads may not ask for more than maxSectionSize */
    ClSizeT got = 0;

    /* Client checks. */
    CHECK_RC(clCkptSectionCreate(h, NULL, NULL, 0), CL_CKPT_ERR_NULL_POINTER);
    ClCkptSectionCreationAttributesT nosid = {NULL, (ClTimeT)CL_TIME_END};
    CHECK_RC(clCkptSectionCreate(h, &nosid, NULL, 0), CL_CKPT_ERR_NULL_POINTER);
    ClCkptSectionIdT lenonly = {3, NULL};
    ClCkptSectionCreationAttributesT sl = {&lenonly, (ClTimeT)CL_TIME_END};
    CHECK_RC(clCkptSectionCreate(h, &sl, NULL, 0), CL_CKPT_ERR_NULL_POINTER);
    CHECK_RC(clCkptSectionCreate(h, &sa, (const ClUint8T *)"abc", 0), CL_CKPT_ERR_INVALID_PARAMETER);
    CHECK_RC(clCkptSectionCreate(h, &sa, NULL, 3), CL_CKPT_ERR_NULL_POINTER);
    CHECK_RC(clCkptSectionCreate(0, &sa, NULL, 0), CL_CKPT_ERR_INVALID_HANDLE);
    CHECK_RC(clCkptSectionCreate(0xdeadbeef, &sa, NULL, 0), CL_CKPT_ERR_INVALID_HANDLE);
    CHECK_RC(clCkptSectionCreate(svc, &sa, NULL, 0), CL_CKPT_ERR_INVALID_HANDLE);
    /* Server checks. */
    ClCkptSectionIdT longid = check_sid("ninebytes");
    ClCkptSectionCreationAttributesT sla = {&longid, (ClTimeT)CL_TIME_END};
    CHECK_RC(clCkptSectionCreate(h, &sla, NULL, 0), CL_CKPT_ERR_INVALID_PARAMETER);
    CHECK_RC(clCkptSectionCreate(h, &sa, (const ClUint8T *)"123456789", 9), CL_CKPT_ERR_INVALID_PARAMETER);
    ClCkptSectionCreationAttributesT past = {&id, check_now() - 10 * (ClTimeT)CL_SEC_TO_NANO};
    CHECK_RC(clCkptSectionCreate(h, &past, NULL, 0), CL_CKPT_ERR_INVALID_PARAMETER);
    ClCkptSectionCreationAttributesT epoch = {&id, 1};
    CHECK_RC(clCkptSectionCreate(h, &epoch, NULL, 0), CL_CKPT_ERR_INVALID_PARAMETER);
    CHECK_RC(clCkptCheckpointStatusGet(h, &st), CL_OK);
    CHECK_EQ(st.numberOfSections, 0);

    /* Data NULL with size 0: an empty section. maxSectionSize bytes exactly are fine. */
    CHECK_RC(clCkptSectionCreate(h, &sa, NULL, 0), CL_OK);
    CHECK_RC(check_read(h, "one", buf, sizeof buf, &got), CL_OK);
    CHECK_EQ(got, 0);
    CHECK_RC(clCkptSectionCreate(h, &sa, (const ClUint8T *)"x", 1), CL_CKPT_ERR_ALREADY_EXIST);
    CHECK_RC(check_section(h, "two", "12345678"), CL_OK);
    CHECK_RC(check_read(h, "two", buf, sizeof buf, &got), CL_OK);
    CHECK(got == 8 && memcmp(buf, "12345678", 8) == 0);

    /* Ids are exact bytes over idLen: "abc" and "abc\0" differ. */
    ClCkptSectionIdT abc3 = {3, (ClUint8T *)"abc"};
    ClCkptSectionIdT abc4 = {4, (ClUint8T *)"abc"};
    ClCkptSectionCreationAttributesT s3 = {&abc3, (ClTimeT)CL_TIME_END}, s4 = {&abc4, (ClTimeT)CL_TIME_END};
    CHECK_RC(clCkptSectionCreate(h, &s3, (const ClUint8T *)"3", 1), CL_OK);
    CHECK_RC(clCkptSectionCreate(h, &s4, (const ClUint8T *)"4", 1), CL_OK);
    ClCkptIOVectorElementT r4 = {abc4, buf, sizeof buf, 0, 0};
    CHECK_RC(clCkptCheckpointRead(h, &r4, 1, NULL), CL_OK);
    CHECK(r4.readSize == 1 && buf[0] == '4');
    CHECK_RC(clCkptCheckpointStatusGet(h, &st), CL_OK);
    CHECK_EQ(st.numberOfSections, 4);

    /* Full: NO_SPACE, also for a generated id (nothing is written back then). */
    CHECK_RC(check_section(h, "five", NULL), CL_CKPT_ERR_NO_SPACE);
    ClCkptSectionIdT gen = CL_CKPT_GENERATED_SECTION_ID;
    ClCkptSectionCreationAttributesT sg = {&gen, (ClTimeT)CL_TIME_END};
    CHECK_RC(clCkptSectionCreate(h, &sg, NULL, 0), CL_CKPT_ERR_NO_SPACE);
    CHECK(gen.id == NULL && gen.idLen == 0);

    /* SectionDelete: checks, then the count goes down and the slot is free again. */
    CHECK_RC(clCkptSectionDelete(h, NULL), CL_CKPT_ERR_NULL_POINTER);
    ClCkptSectionIdT zl = {0, (ClUint8T *)"one"};
    CHECK_RC(clCkptSectionDelete(h, &zl), CL_CKPT_ERR_INVALID_PARAMETER);
    ClCkptSectionIdT nl = {3, NULL};
    CHECK_RC(clCkptSectionDelete(h, &nl), CL_CKPT_ERR_INVALID_PARAMETER);
    ClCkptSectionIdT missing = check_sid("nope");
    CHECK_RC(clCkptSectionDelete(h, &missing), CL_CKPT_ERR_NOT_EXIST);
    CHECK_RC(clCkptSectionDelete(0xdeadbeef, &id), CL_CKPT_ERR_INVALID_HANDLE);
    CHECK_RC(clCkptSectionDelete(h, &id), CL_OK);
    CHECK_RC(clCkptSectionDelete(h, &id), CL_CKPT_ERR_NOT_EXIST);
    CHECK_RC(check_read(h, "one", buf, sizeof buf, &got), CL_CKPT_ERR_NOT_EXIST);
    CHECK_RC(clCkptCheckpointStatusGet(h, &st), CL_OK);
    CHECK_EQ(st.numberOfSections, 3);

    /* Generated ids: "generatedSection<N>" from 0, idLen = strlen + 1, owned by the caller. */
    REQUIRE_RC(clCkptSectionCreate(h, &sg, (const ClUint8T *)"g", 1), CL_OK);
    CHECK_EQ(gen.idLen, strlen("generatedSection0") + 1);
    CHECK(gen.id != NULL && memcmp(gen.id, "generatedSection0", gen.idLen) == 0);
    ClCkptIOVectorElementT rg = {gen, buf, sizeof buf, 0, 0};
    CHECK_RC(clCkptCheckpointRead(h, &rg, 1, NULL), CL_OK);
    CHECK(rg.readSize == 1 && buf[0] == 'g');
    CHECK_RC(clCkptSectionDelete(h, &gen), CL_OK);
    clHeapFree(gen.id);
    ClCkptSectionIdT gen1 = CL_CKPT_GENERATED_SECTION_ID;
    sg.sectionId = &gen1;
    REQUIRE_RC(clCkptSectionCreate(h, &sg, NULL, 0), CL_OK);
    CHECK_EQ(gen1.idLen, strlen("generatedSection1") + 1);
    CHECK(gen1.id != NULL && memcmp(gen1.id, "generatedSection1", gen1.idLen) == 0);
    clHeapFree(gen1.id);

    /* Permissions: creating and deleting need WRITE or CREATE. */
    ClNameT n = check_name("sec-create");
    ClCkptHdlT ro = 0, co = 0;
    REQUIRE_RC(clCkptCheckpointOpen(svc, &n, NULL, CL_CKPT_CHECKPOINT_READ, CL_TIME_END, &ro), CL_OK);
    CHECK_RC(check_section(ro, "ro", NULL), CL_CKPT_ERR_OP_NOT_PERMITTED);
    ClCkptSectionIdT two = check_sid("two");
    CHECK_RC(clCkptSectionDelete(ro, &two), CL_CKPT_ERR_OP_NOT_PERMITTED);
    CHECK_RC(clCkptSectionExpirationTimeSet(ro, &two, CL_TIME_END), CL_CKPT_ERR_OP_NOT_PERMITTED);
    REQUIRE_RC(clCkptCheckpointOpen(svc, &n, &a, CL_CKPT_CHECKPOINT_CREATE, CL_TIME_END, &co), CL_OK);
    CHECK_RC(clCkptSectionExpirationTimeSet(co, &two, CL_TIME_END), CL_OK);
    CHECK_RC(clCkptSectionDelete(co, &two), CL_OK);
    CHECK_RC(check_section(co, "two", NULL), CL_OK);
    CHECK_RC(clCkptCheckpointClose(ro), CL_OK);
    CHECK_RC(clCkptCheckpointClose(co), CL_OK);

    /* Garbage pointers: an error code, no crash. */
    CHECK_RC(clCkptSectionCreate(h, (ClCkptSectionCreationAttributesT *)1, NULL, 0), CL_CKPT_ERR_INVALID_PARAMETER);
    ClCkptSectionCreationAttributesT bad = {(ClCkptSectionIdT *)1, (ClTimeT)CL_TIME_END};
    CHECK_RC(clCkptSectionCreate(h, &bad, NULL, 0), CL_CKPT_ERR_INVALID_PARAMETER);
    CHECK_RC(clCkptSectionDelete(h, (const ClCkptSectionIdT *)1), CL_CKPT_ERR_INVALID_PARAMETER);
    ClCkptSectionIdT badid = {4, (ClUint8T *)1};
    CHECK_RC(clCkptSectionDelete(h, &badid), CL_CKPT_ERR_INVALID_PARAMETER);
    /* A generated id cannot be written back into read-only memory: refused before anything is
       created (nor is a buffer allocated for it). */
    static const ClCkptSectionIdT readonly = CL_CKPT_GENERATED_SECTION_ID;
    ClCkptSectionCreationAttributesT rosa = {(ClCkptSectionIdT *)&readonly, (ClTimeT)CL_TIME_END};
    CHECK_RC(clCkptCheckpointStatusGet(h, &st), CL_OK);
    ClUint32T before = st.numberOfSections;
    CHECK_RC(clCkptSectionDelete(h, &two), CL_OK); /* room for one more */
    CHECK_RC(clCkptSectionCreate(h, &rosa, NULL, 0), CL_CKPT_ERR_INVALID_PARAMETER);
    CHECK_RC(clCkptCheckpointStatusGet(h, &st), CL_OK);
    CHECK_EQ(st.numberOfSections, before - 1);
    CHECK_RC(clCkptCheckpointClose(h), CL_OK);
}

static void expiration(void) {
    ClCkptCheckpointCreationAttributesT a = check_attrs(CL_CKPT_WR_ACTIVE_REPLICA, 8, 0, 0);
    ClCkptHdlT h = check_open(svc, "sec-expire", &a, CHECK_RW);
    ClTimeT soon = check_now() + 1500 * (ClTimeT)CL_MILLI_TO_NANO;
    ClCkptSectionIdT kept = check_sid("kept"), gone = check_sid("gone"), later = check_sid("later");
    ClCkptSectionCreationAttributesT sk = {&kept, soon}, sg = {&gone, soon}, sl = {&later, CL_TIME_END};
    CHECK_RC(clCkptSectionCreate(h, &sk, (const ClUint8T *)"k", 1), CL_OK);
    CHECK_RC(clCkptSectionCreate(h, &sg, (const ClUint8T *)"g", 1), CL_OK);
    CHECK_RC(clCkptSectionCreate(h, &sl, (const ClUint8T *)"l", 1), CL_OK);

    /* Argument checks. */
    CHECK_RC(clCkptSectionExpirationTimeSet(h, NULL, CL_TIME_END), CL_CKPT_ERR_NULL_POINTER);
    ClCkptSectionIdT zl = {0, (ClUint8T *)"kept"};
    CHECK_RC(clCkptSectionExpirationTimeSet(h, &zl, CL_TIME_END), CL_CKPT_ERR_INVALID_PARAMETER);
    ClCkptSectionIdT nl = {4, NULL};
    CHECK_RC(clCkptSectionExpirationTimeSet(h, &nl, CL_TIME_END), CL_CKPT_ERR_INVALID_PARAMETER);
    ClCkptSectionIdT missing = check_sid("missing");
    CHECK_RC(clCkptSectionExpirationTimeSet(h, &missing, CL_TIME_END), CL_CKPT_ERR_NOT_EXIST);
    CHECK_RC(clCkptSectionExpirationTimeSet(h, &later, check_now() - 10 * (ClTimeT)CL_SEC_TO_NANO),
             CL_CKPT_ERR_INVALID_PARAMETER);
    CHECK_RC(clCkptSectionExpirationTimeSet(0xdeadbeef, &later, CL_TIME_END), CL_CKPT_ERR_INVALID_HANDLE);
    CHECK_RC(clCkptSectionExpirationTimeSet(h, (const ClCkptSectionIdT *)1, CL_TIME_END), CL_CKPT_ERR_INVALID_PARAMETER);
    /* A time in the future is accepted. */
    CHECK_RC(clCkptSectionExpirationTimeSet(h, &later, check_now() + 3600 * (ClTimeT)CL_SEC_TO_NANO), CL_OK);

    /* CL_TIME_END cancels the expiry of "kept"; "gone" expires and is deleted by the library. */
    CHECK_RC(clCkptSectionExpirationTimeSet(h, &kept, CL_TIME_END), CL_OK);
    int waited = 0;
    while (section_exists(h, "gone") && waited < CHECK_DEADLINE_MS) {
        check_sleep_ms(50);
        waited += 50;
    }
    CHECK(!section_exists(h, "gone"));
    /* Both expiries were due at the same time: past it, "kept" must still be there. */
    while (check_now() < soon + 500 * (ClTimeT)CL_MILLI_TO_NANO)
        check_sleep_ms(50);
    CHECK(section_exists(h, "kept"));
    CHECK(section_exists(h, "later"));
    ClCkptCheckpointDescriptorT st;
    CHECK_RC(clCkptCheckpointStatusGet(h, &st), CL_OK);
    CHECK_EQ(st.numberOfSections, 2);
    CHECK_RC(clCkptSectionDelete(h, &gone), CL_CKPT_ERR_NOT_EXIST);
    CHECK_RC(clCkptCheckpointClose(h), CL_OK);
}

/* Ids up to 64000 bytes are stored; longer ones are refused even when maxSectionIdSize allows them
 * (the store's keys cannot hold them), and the checkpoint goes on working. */
static void long_ids(void) {
    ClCkptCheckpointCreationAttributesT a = check_attrs(CL_CKPT_WR_ACTIVE_REPLICA, 4, 0, 0);
    a.maxSectionIdSize = 0xffff;
    ClCkptHdlT h = check_open(svc, "sec-long-ids", &a, CHECK_RW);
    static ClUint8T id[0xffff];
    memset(id, 'i', sizeof id);
    ClCkptSectionIdT longest = {0xffff, id}, longest_ok = {64000, id};
    ClCkptSectionCreationAttributesT sa = {&longest, (ClTimeT)CL_TIME_END};
    CHECK_RC(clCkptSectionCreate(h, &sa, (const ClUint8T *)"x", 1), CL_CKPT_ERR_INVALID_PARAMETER);
    sa.sectionId = &longest_ok;
    CHECK_RC(clCkptSectionCreate(h, &sa, (const ClUint8T *)"y", 1), CL_OK);
    CHECK_RC(check_section(h, "after", "z"), CL_OK);
    CHECK_RC(clCkptSectionOverwrite(h, &longest_ok, "w", 1), CL_OK);
    char b[4];
    ClSizeT got = 0;
    CHECK_RC(check_read(h, "after", b, sizeof b, &got), CL_OK);
    CHECK(got == 1 && b[0] == 'z');
    CHECK_RC(clCkptCheckpointClose(h), CL_OK);
}

int main(void) {
    svc = check_init();
    default_section();
    no_default();
    create();
    expiration();
    long_ids();
    CHECK_RC(clCkptFinalize(svc), CL_OK);
    DONE();
}
