/* Checkpoint names and section ids with path or NATS subject syntax, NUL and invalid UTF-8 are
 * like any other, each its own, and none of them becomes a file name under the data directory.
 * A name is all of its length bytes, NULs included (the original cut it at the first NUL and at
 * 255 bytes, which merged distinct names); a section id is all of its idLen bytes. */
#define _XOPEN_SOURCE 700
#include <ftw.h>

#include "check.h"

static const struct {
    const char *bytes;
    ClUint16T len;
} names[] = {
    {".", 1},        {"..", 2},         {"a.b", 3},        {"*", 1},     {">", 1},
    {"a.*.>", 5},    {"/", 1},          {"../../escape", 12}, {"dir/file", 8}, {"a\0b", 3},
    {"\xff\xfe\xfd", 3}, {" ", 1},         {"$JS.API.STREAM.DELETE.x", 23},
};
#define NNAMES (sizeof names / sizeof names[0])

static ClNameT name_of(int i) {
    ClNameT n;
    memset(&n, 0, sizeof n);
    n.length = names[i].len;
    memcpy(n.value, names[i].bytes, names[i].len);
    return n;
}

static int suspicious;

static int visit(const char *path, const struct stat *st, int flag, struct FTW *f) {
    (void)st;
    (void)flag;
    const char *base = path + f->base;
    if (strstr(base, "escape") != NULL || strstr(base, "\xff") != NULL || strcmp(base, "file") == 0) {
        fprintf(stderr, "unexpected file: %s\n", path);
        suspicious++;
    }
    return 0;
}

int main(void) {
    ClCkptSvcHdlT svc = check_init();
    ClCkptCheckpointCreationAttributesT a = check_attrs(CL_CKPT_WR_ALL_REPLICAS, (ClUint32T)NNAMES + 3, 0, CL_TIME_END);
    ClCkptHdlT h[NNAMES];
    for (unsigned i = 0; i < NNAMES; i++) {
        ClNameT n = name_of((int)i);
        h[i] = 0;
        CHECK_RC(clCkptCheckpointOpen(svc, &n, &a, CHECK_RW, CL_TIME_END, &h[i]), CL_OK);
        /* Every name is also a section id of every checkpoint; the data says whose. */
        for (unsigned j = 0; j < NNAMES; j++) {
            ClCkptSectionIdT sid = {names[j].len, (ClUint8T *)names[j].bytes};
            ClCkptSectionCreationAttributesT sa = {&sid, (ClTimeT)CL_TIME_END};
            ClUint8T data[2] = {(ClUint8T)i, (ClUint8T)j};
            CHECK_RC(clCkptSectionCreate(h[i], &sa, data, sizeof data), CL_OK);
        }
    }
    /* Reopen each by name: the right checkpoint ("a\0b" and "a\0c" are two), the right sections. */
    for (unsigned i = 0; i < NNAMES; i++) {
        ClNameT n = name_of((int)i);
        ClCkptHdlT again = 0;
        CHECK_RC(clCkptCheckpointOpen(svc, &n, NULL, CL_CKPT_CHECKPOINT_READ, CL_TIME_END, &again), CL_OK);
        for (unsigned j = 0; j < NNAMES; j++) {
            ClUint8T got[4] = {0};
            ClCkptIOVectorElementT e;
            memset(&e, 0, sizeof e);
            e.sectionId.idLen = names[j].len;
            e.sectionId.id = (ClUint8T *)names[j].bytes;
            e.dataBuffer = got;
            e.dataSize = sizeof got;
            CHECK_RC(clCkptCheckpointRead(again, &e, 1, NULL), CL_OK);
            CHECK(e.readSize == 2 && got[0] == i && got[1] == j);
        }
        CHECK_RC(clCkptCheckpointClose(again), CL_OK);
    }
    /* A name is all of its length bytes: "a\0c" and "a" are not "a\0b" (opened above). */
    ClNameT other;
    memset(&other, 0, sizeof other);
    other.length = 3;
    memcpy(other.value, "a\0c", 3);
    ClCkptHdlT a9 = 0;
    CHECK_RC(clCkptCheckpointOpen(svc, &other, NULL, CL_CKPT_CHECKPOINT_READ, CL_TIME_END, &a9), CL_CKPT_ERR_NOT_EXIST);
    other.length = 1;
    CHECK_RC(clCkptCheckpointOpen(svc, &other, NULL, CL_CKPT_CHECKPOINT_READ, CL_TIME_END, &a9), CL_CKPT_ERR_NOT_EXIST);
    CHECK_RC(clCkptCheckpointDelete(svc, &other), CL_CKPT_ERR_NOT_EXIST);
    /* Two names of CL_MAX_NAME_LENGTH bytes that differ only in the last: two checkpoints. */
    ClNameT longn[2];
    ClCkptHdlT lh[2] = {0, 0};
    for (int k = 0; k < 2; k++) {
        memset(&longn[k], 'n', sizeof longn[k]);
        longn[k].length = CL_MAX_NAME_LENGTH;
        longn[k].value[CL_MAX_NAME_LENGTH - 1] = (ClCharT)('0' + k);
        CHECK_RC(clCkptCheckpointOpen(svc, &longn[k], &a, CHECK_RW, CL_TIME_END, &lh[k]), CL_OK);
        CHECK_RC(check_section(lh[k], "s", k == 0 ? "zero" : "one"), CL_OK);
    }
    for (int k = 0; k < 2; k++) {
        char got[8] = {0};
        ClSizeT size = 0;
        CHECK_RC(check_read(lh[k], "s", got, sizeof got, &size), CL_OK);
        CHECK(strcmp(got, k == 0 ? "zero" : "one") == 0);
        CHECK_RC(clCkptCheckpointClose(lh[k]), CL_OK);
        CHECK_RC(clCkptCheckpointDelete(svc, &longn[k]), CL_OK);
    }
    /* Section ids too: "s\0x" and "s\0y" are two. */
    a9 = h[9]; /* "a\0b" */
    ClCkptSectionIdT sx = {3, (ClUint8T *)"s\0x"}, sy = {3, (ClUint8T *)"s\0y"};
    ClCkptSectionCreationAttributesT ax = {&sx, (ClTimeT)CL_TIME_END}, ay = {&sy, (ClTimeT)CL_TIME_END};
    CHECK_RC(clCkptSectionCreate(a9, &ax, (const ClUint8T *)"x", 1), CL_OK);
    CHECK_RC(clCkptSectionCreate(a9, &ay, (const ClUint8T *)"y", 1), CL_OK);
    CHECK_RC(clCkptSectionCreate(a9, &ax, (const ClUint8T *)"x", 1), CL_CKPT_ERR_ALREADY_EXIST);

    for (unsigned i = 0; i < NNAMES; i++) {
        ClNameT n = name_of((int)i);
        CHECK_RC(clCkptCheckpointClose(h[i]), CL_OK);
        CHECK_RC(clCkptCheckpointDelete(svc, &n), CL_OK);
    }
    CHECK_RC(clCkptFinalize(svc), CL_OK);

    const char *dir = getenv("CLCKPT_DATA_DIR");
    CHECK(dir != NULL);
    if (dir != NULL) {
        CHECK(nftw(dir, visit, 16, FTW_PHYS) == 0);
        CHECK_EQ(suspicious, 0);
    }
    DONE();
}
