/* clCkptCheckpointRead, clCkptCheckpointWrite, clCkptSectionOverwrite (4.6, 4.7): argument checks,
 * sizes and offsets, library-allocated buffers, vectors with a failing element, permissions, and
 * garbage pointers. */
#include <sys/mman.h>
#include <unistd.h>

#include "check.h"

static ClCkptSvcHdlT svc;
static ClCkptHdlT h; /* maxSectionSize 16, sections "a" = "0123456789", "b" = "abc", "e" empty */

static ClCkptIOVectorElementT el(const char *id, void *buf, ClSizeT size, ClOffsetT off) {
    ClCkptIOVectorElementT e;
    memset(&e, 0, sizeof e);
    e.sectionId = check_sid(id);
    e.dataBuffer = buf;
    e.dataSize = size;
    e.dataOffset = off;
    return e;
}

static void read_tests(void) {
    char b0[16], b1[16];
    ClUint32T ei = 77;

    /* Argument checks; *erroneousVectorIndex is cleared first, and may be NULL. */
    ClCkptIOVectorElementT v[3];
    v[0] = el("a", b0, 4, 0);
    CHECK_RC(clCkptCheckpointRead(h, NULL, 1, &ei), CL_CKPT_ERR_NULL_POINTER);
    CHECK_EQ(ei, 0);
    ei = 77;
    CHECK_RC(clCkptCheckpointRead(h, v, 0, &ei), CL_CKPT_ERR_INVALID_PARAMETER);
    CHECK_EQ(ei, 0);
    CHECK_RC(clCkptCheckpointRead(0, v, 1, &ei), CL_CKPT_ERR_INVALID_HANDLE);
    CHECK_RC(clCkptCheckpointRead(0xdeadbeef, v, 1, &ei), CL_CKPT_ERR_INVALID_HANDLE);
    CHECK_RC(clCkptCheckpointRead(svc, v, 1, &ei), CL_CKPT_ERR_INVALID_HANDLE);
    ei = 77;
    CHECK_RC(clCkptCheckpointRead(h, v, 1, &ei), CL_OK);
    CHECK_EQ(ei, 0);
    CHECK_RC(clCkptCheckpointRead(h, v, 1, NULL), CL_OK);

    /* Whole, truncated at the end, and beyond the end (not an error: nothing read). */
    memset(b0, '.', sizeof b0);
    v[0] = el("a", b0, 4, 3);
    CHECK_RC(clCkptCheckpointRead(h, v, 1, NULL), CL_OK);
    CHECK_EQ(v[0].readSize, 4);
    CHECK_EQ(v[0].dataSize, 4);
    CHECK_EQ(v[0].dataOffset, 3); /* left as it was */
    CHECK(memcmp(b0, "3456....", 8) == 0);
    v[0] = el("a", b0, 16, 6);
    CHECK_RC(clCkptCheckpointRead(h, v, 1, NULL), CL_OK);
    CHECK_EQ(v[0].readSize, 4);
    CHECK_EQ(v[0].dataSize, 4); /* dataSize becomes readSize */
    CHECK(memcmp(b0, "6789", 4) == 0);
    v[0] = el("a", b0, 4, 10);
    CHECK_RC(clCkptCheckpointRead(h, v, 1, NULL), CL_OK);
    CHECK_EQ(v[0].readSize, 0);
    v[0] = el("b", b0, 4, 12);
    CHECK_RC(clCkptCheckpointRead(h, v, 1, NULL), CL_OK);
    CHECK_EQ(v[0].readSize, 0);
    CHECK_EQ(v[0].dataSize, 0);
    /* Limits come from maxSectionSize, not from the section's size. */
    v[0] = el("a", b0, 17, 0);
    CHECK_RC(clCkptCheckpointRead(h, v, 1, &ei), CL_CKPT_ERR_INVALID_PARAMETER);
    v[0] = el("a", b0, 4, 17);
    CHECK_RC(clCkptCheckpointRead(h, v, 1, &ei), CL_CKPT_ERR_INVALID_PARAMETER);
    v[0] = el("a", b0, 4, -1);
    CHECK_RC(clCkptCheckpointRead(h, v, 1, &ei), CL_CKPT_ERR_INVALID_PARAMETER);
    v[0] = el("nope", b0, 4, 0);
    CHECK_RC(clCkptCheckpointRead(h, v, 1, &ei), CL_CKPT_ERR_NOT_EXIST);

    /* A vector: every element read; on an error nothing is copied and the index says which. */
    memset(b0, '.', sizeof b0);
    memset(b1, '.', sizeof b1);
    v[0] = el("a", b0, 2, 0);
    v[1] = el("b", b1, 16, 1);
    v[2] = el("e", NULL, 0, 0);
    CHECK_RC(clCkptCheckpointRead(h, v, 3, &ei), CL_OK);
    CHECK(v[0].readSize == 2 && memcmp(b0, "01", 2) == 0);
    CHECK(v[1].readSize == 2 && memcmp(b1, "bc", 2) == 0);
    CHECK_EQ(v[2].readSize, 0);
    CHECK(v[2].dataBuffer != NULL); /* allocated even for 0 bytes */
    clHeapFree(v[2].dataBuffer);

    memset(b0, '.', sizeof b0);
    memset(b1, '.', sizeof b1);
    v[0] = el("a", b0, 2, 0);
    v[1] = el("b", b1, 2, 0);
    v[2] = el("nope", NULL, 0, 0);
    v[0].readSize = 99;
    ei = 0;
    CHECK_RC(clCkptCheckpointRead(h, v, 3, &ei), CL_CKPT_ERR_NOT_EXIST);
    CHECK_EQ(ei, 2);
    CHECK(b0[0] == '.' && b1[0] == '.');
    CHECK_EQ(v[0].readSize, 99);
    CHECK_EQ(v[0].dataSize, 2);
    CHECK(v[2].dataBuffer == NULL); /* no buffer allocated on failure */
    v[2] = el("a", b0, 2, 0);
    v[1] = el("b", b1, 17, 0);
    CHECK_RC(clCkptCheckpointRead(h, v, 3, &ei), CL_CKPT_ERR_INVALID_PARAMETER);
    CHECK_EQ(ei, 1);

    /* dataBuffer NULL: the library allocates the whole section from the offset (+1 byte) and the
       caller frees it with clHeapFree; dataSize is ignored. */
    v[0] = el("a", NULL, 2, 0);
    CHECK_RC(clCkptCheckpointRead(h, v, 1, NULL), CL_OK);
    CHECK_EQ(v[0].readSize, 10);
    CHECK_EQ(v[0].dataSize, 10);
    CHECK(v[0].dataBuffer != NULL && memcmp(v[0].dataBuffer, "0123456789", 10) == 0);
    clHeapFree(v[0].dataBuffer);
    v[0] = el("a", NULL, 0, 7);
    CHECK_RC(clCkptCheckpointRead(h, v, 1, NULL), CL_OK);
    CHECK_EQ(v[0].readSize, 3);
    CHECK(v[0].dataBuffer != NULL && memcmp(v[0].dataBuffer, "789", 3) == 0);
    clHeapFree(v[0].dataBuffer);
    v[0] = el("a", NULL, 0, 12);
    CHECK_RC(clCkptCheckpointRead(h, v, 1, NULL), CL_OK);
    CHECK_EQ(v[0].readSize, 0);
    clHeapFree(v[0].dataBuffer);
    /* Also for an element other than the first. */
    v[0] = el("b", b0, 3, 0);
    v[1] = el("a", NULL, 0, 0);
    CHECK_RC(clCkptCheckpointRead(h, v, 2, NULL), CL_OK);
    CHECK(v[1].readSize == 10 && v[1].dataBuffer != NULL && memcmp(v[1].dataBuffer, "0123456789", 10) == 0);
    clHeapFree(v[1].dataBuffer);

    /* Read needs READ. */
    ClNameT n = check_name("rw");
    ClCkptHdlT wo = 0;
    REQUIRE_RC(clCkptCheckpointOpen(svc, &n, NULL, CL_CKPT_CHECKPOINT_WRITE, CL_TIME_END, &wo), CL_OK);
    v[0] = el("a", b0, 2, 0);
    CHECK_RC(clCkptCheckpointRead(wo, v, 1, NULL), CL_CKPT_ERR_OP_NOT_PERMITTED);
    CHECK_RC(clCkptCheckpointClose(wo), CL_OK);
}

static void write_tests(void) {
    char b[16];
    ClSizeT got = 0;
    ClUint32T ei = 77;
    ClCkptIOVectorElementT v[3];

    /* ioVector NULL, no elements, handle 0: INVALID_PARAMETER (not NULL_POINTER). */
    v[0] = el("a", "xy", 2, 0);
    CHECK_RC(clCkptCheckpointWrite(h, NULL, 1, &ei), CL_CKPT_ERR_INVALID_PARAMETER);
    CHECK_RC(clCkptCheckpointWrite(h, v, 0, &ei), CL_CKPT_ERR_INVALID_PARAMETER);
    CHECK_RC(clCkptCheckpointWrite(0, v, 1, &ei), CL_CKPT_ERR_INVALID_PARAMETER);
    CHECK_RC(clCkptCheckpointWrite(0xdeadbeef, v, 1, &ei), CL_CKPT_ERR_INVALID_HANDLE);
    CHECK_RC(clCkptCheckpointWrite(svc, v, 1, &ei), CL_CKPT_ERR_INVALID_HANDLE);

    /* In place; growing with a zero-filled gap; erroneousVectorIndex may be NULL. */
    ei = 77;
    v[0] = el("b", "B", 1, 0);
    CHECK_RC(clCkptCheckpointWrite(h, v, 1, &ei), CL_OK);
    CHECK_EQ(ei, 0);
    CHECK_RC(check_read(h, "b", b, sizeof b, &got), CL_OK);
    CHECK(got == 3 && memcmp(b, "Bbc", 3) == 0);
    v[0] = el("b", "Z", 1, 6);
    CHECK_RC(clCkptCheckpointWrite(h, v, 1, NULL), CL_OK);
    CHECK_RC(check_read(h, "b", b, sizeof b, &got), CL_OK);
    CHECK(got == 7 && memcmp(b, "Bbc\0\0\0Z", 7) == 0);
    v[0] = el("e", "tail", 4, 12); /* up to exactly maxSectionSize */
    CHECK_RC(clCkptCheckpointWrite(h, v, 1, NULL), CL_OK);
    CHECK_RC(check_read(h, "e", b, sizeof b, &got), CL_OK);
    CHECK(got == 16 && memcmp(b, "\0\0\0\0\0\0\0\0\0\0\0\0tail", 16) == 0);

    /* Limits, and per-element failures: the elements before stay written, the rest are not applied. */
    v[0] = el("a", "x", 1, 16);
    CHECK_RC(clCkptCheckpointWrite(h, v, 1, &ei), CL_CKPT_ERR_INVALID_PARAMETER);
    v[0] = el("a", "x", 1, 17);
    CHECK_RC(clCkptCheckpointWrite(h, v, 1, &ei), CL_CKPT_ERR_INVALID_PARAMETER);
    v[0] = el("a", "x", 1, -1);
    CHECK_RC(clCkptCheckpointWrite(h, v, 1, &ei), CL_CKPT_ERR_INVALID_PARAMETER);
    v[0] = el("a", "A", 1, 0);
    v[1] = el("nope", "x", 1, 0);
    v[2] = el("b", "C", 1, 0);
    ei = 0;
    CHECK_RC(clCkptCheckpointWrite(h, v, 3, &ei), CL_CKPT_ERR_NOT_EXIST);
    CHECK_EQ(ei, 1);
    CHECK_RC(check_read(h, "a", b, sizeof b, &got), CL_OK);
    CHECK(got == 10 && memcmp(b, "A123456789", 10) == 0);
    CHECK_RC(check_read(h, "b", b, sizeof b, &got), CL_OK);
    CHECK(got == 7 && b[0] == 'B');
    v[1] = el("b", "0123456789abcdefg", 17, 0);
    CHECK_RC(clCkptCheckpointWrite(h, v, 3, &ei), CL_CKPT_ERR_INVALID_PARAMETER);
    CHECK_EQ(ei, 1);
    ClCkptSectionIdT def = CL_CKPT_DEFAULT_SECTION_ID;
    v[1].sectionId = def;
    v[1].dataSize = 1;
    CHECK_RC(clCkptCheckpointWrite(h, v, 3, &ei), CL_CKPT_ERR_INVALID_PARAMETER);
    CHECK_EQ(ei, 1);
    /* A data pointer missing for a non-empty element. */
    v[1] = el("b", NULL, 1, 0);
    CHECK_RC(clCkptCheckpointWrite(h, v, 3, &ei), CL_CKPT_ERR_NULL_POINTER);
    CHECK_EQ(ei, 1);
    /* The index is stored wherever the element is, first or last. */
    v[1] = el("b", "0123456", 7, 0);
    ClCkptIOVectorElementT first = v[0];
    v[0] = el("a", NULL, 3, 0);
    ei = 99;
    CHECK_RC(clCkptCheckpointWrite(h, v, 3, &ei), CL_CKPT_ERR_NULL_POINTER);
    CHECK_EQ(ei, 0);
    v[0] = first;
    v[2] = el("a", NULL, 1, 0);
    ei = 99;
    CHECK_RC(clCkptCheckpointWrite(h, v, 3, &ei), CL_CKPT_ERR_NULL_POINTER);
    CHECK_EQ(ei, 2);
    /* Several elements on one section apply in order. */
    v[0] = el("a", "xxxx", 4, 0);
    v[1] = el("a", "yy", 2, 1);
    v[2] = el("a", "z", 1, 2);
    CHECK_RC(clCkptCheckpointWrite(h, v, 3, &ei), CL_OK);
    CHECK_RC(check_read(h, "a", b, sizeof b, &got), CL_OK);
    CHECK(got == 10 && memcmp(b, "xyzx456789", 10) == 0);

    /* checkpointSize (20) never limits writes. */
    ClCkptCheckpointDescriptorT st;
    v[0] = el("a", "0123456789abcdef", 16, 0);
    v[1] = el("b", "0123456789abcdef", 16, 0);
    CHECK_RC(clCkptCheckpointWrite(h, v, 2, NULL), CL_OK);
    CHECK_RC(clCkptCheckpointStatusGet(h, &st), CL_OK);
    CHECK(st.memoryUsed == 48 && st.checkpointCreationAttributes.checkpointSize == 20);

    /* Overwrite: checks, then the section holds exactly the new data. */
    ClCkptSectionIdT a = check_sid("a"), nope = check_sid("nope");
    CHECK_RC(clCkptSectionOverwrite(h, NULL, "x", 1), CL_CKPT_ERR_NULL_POINTER);
    CHECK_RC(clCkptSectionOverwrite(h, &a, NULL, 1), CL_CKPT_ERR_NULL_POINTER);
    CHECK_RC(clCkptSectionOverwrite(h, &a, "x", 0), CL_CKPT_ERR_INVALID_PARAMETER);
    CHECK_RC(clCkptSectionOverwrite(h, &a, "0123456789abcdefg", 17), CL_CKPT_ERR_INVALID_PARAMETER);
    CHECK_RC(clCkptSectionOverwrite(h, &nope, "x", 1), CL_CKPT_ERR_NOT_EXIST);
    CHECK_RC(clCkptSectionOverwrite(0xdeadbeef, &a, "x", 1), CL_CKPT_ERR_INVALID_HANDLE);
    CHECK_RC(clCkptSectionOverwrite(svc, &a, "x", 1), CL_CKPT_ERR_INVALID_HANDLE);
    CHECK_RC(clCkptSectionOverwrite(h, &a, "short", 5), CL_OK);
    CHECK_RC(check_read(h, "a", b, sizeof b, &got), CL_OK);
    CHECK(got == 5 && memcmp(b, "short", 5) == 0);
    CHECK_RC(clCkptSectionOverwrite(h, &a, "0123456789abcdef", 16), CL_OK);
    CHECK_RC(check_read(h, "a", b, sizeof b, &got), CL_OK);
    CHECK(got == 16 && memcmp(b, "0123456789abcdef", 16) == 0);

    /* Writing needs WRITE or CREATE. */
    ClNameT n = check_name("rw");
    ClCkptHdlT ro = 0, co = 0;
    ClCkptCheckpointCreationAttributesT attrs = check_attrs(CL_CKPT_WR_ACTIVE_REPLICA, 4, 16, 0);
    attrs.checkpointSize = 20;
    REQUIRE_RC(clCkptCheckpointOpen(svc, &n, NULL, CL_CKPT_CHECKPOINT_READ, CL_TIME_END, &ro), CL_OK);
    REQUIRE_RC(clCkptCheckpointOpen(svc, &n, &attrs, CL_CKPT_CHECKPOINT_CREATE, CL_TIME_END, &co), CL_OK);
    v[0] = el("a", "r", 1, 0);
    CHECK_RC(clCkptCheckpointWrite(ro, v, 1, NULL), CL_CKPT_ERR_OP_NOT_PERMITTED);
    CHECK_RC(clCkptSectionOverwrite(ro, &a, "r", 1), CL_CKPT_ERR_OP_NOT_PERMITTED);
    CHECK_RC(clCkptCheckpointWrite(co, v, 1, NULL), CL_OK);
    CHECK_RC(clCkptSectionOverwrite(co, &a, "c", 1), CL_OK);
    CHECK_RC(clCkptCheckpointClose(ro), CL_OK);
    CHECK_RC(clCkptCheckpointClose(co), CL_OK);
}

/* Writes and overwrites update lastUpdate (ns since the epoch, in whole milliseconds). */
static void last_update(void) {
    ClTimeT before = check_now() / CL_MILLI_TO_NANO * CL_MILLI_TO_NANO;
    ClCkptSectionIdT a = check_sid("a");
    CHECK_RC(clCkptSectionOverwrite(h, &a, "t", 1), CL_OK);
    ClTimeT after = check_now();
    ClHandleT it = 0;
    ClCkptSectionDescriptorT d;
    REQUIRE_RC(clCkptSectionIterationInitialize(h, CL_CKPT_SECTIONS_ANY, 0, &it), CL_OK);
    int seen = 0;
    while (clCkptSectionIterationNext(it, &d) == CL_OK) {
        if (d.sectionId.idLen == 1 && d.sectionId.id[0] == 'a') {
            seen = 1;
            CHECK(d.lastUpdate >= before && d.lastUpdate <= after);
            CHECK_EQ(d.lastUpdate % CL_MILLI_TO_NANO, 0);
        }
        clHeapFree(d.sectionId.id);
    }
    CHECK(seen);
    CHECK_RC(clCkptSectionIterationFinalize(it), CL_OK);
}

/* Bad pointers from the caller give an error code; the process goes on. */
static void garbage(void) {
    long page = sysconf(_SC_PAGESIZE);
    void *gone = mmap(NULL, page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    REQUIRE_RC(gone == MAP_FAILED ? 1 : 0, 0);
    munmap(gone, page); /* an address that is certainly not mapped */
    ClCkptIOVectorElementT v[1];
    ClCkptSectionIdT a = check_sid("a");
    char b[8];

    CHECK_RC(clCkptCheckpointRead(h, (ClCkptIOVectorElementT *)1, 1, NULL), CL_CKPT_ERR_INVALID_PARAMETER);
    CHECK_RC(clCkptCheckpointRead(h, (ClCkptIOVectorElementT *)gone, 1, NULL), CL_CKPT_ERR_INVALID_PARAMETER);
    v[0] = el("a", (void *)1, 4, 0);
    CHECK_RC(clCkptCheckpointRead(h, v, 1, NULL), CL_CKPT_ERR_INVALID_PARAMETER);
    v[0] = el("a", gone, 4, 0);
    CHECK_RC(clCkptCheckpointRead(h, v, 1, NULL), CL_CKPT_ERR_INVALID_PARAMETER);
    v[0] = el("a", b, 4, 0);
    v[0].sectionId.id = (ClUint8T *)gone;
    CHECK_RC(clCkptCheckpointRead(h, v, 1, NULL), CL_CKPT_ERR_INVALID_PARAMETER);
    v[0] = el("a", b, 4, 0);
    CHECK_RC(clCkptCheckpointRead(h, v, 1, (ClUint32T *)gone), CL_CKPT_ERR_INVALID_PARAMETER);

    CHECK_RC(clCkptCheckpointWrite(h, (ClCkptIOVectorElementT *)1, 1, NULL), CL_CKPT_ERR_INVALID_PARAMETER);
    CHECK_RC(clCkptCheckpointWrite(h, (ClCkptIOVectorElementT *)gone, 1, NULL), CL_CKPT_ERR_INVALID_PARAMETER);
    v[0] = el("a", gone, 4, 0);
    CHECK_RC(clCkptCheckpointWrite(h, v, 1, NULL), CL_CKPT_ERR_INVALID_PARAMETER);
    CHECK_RC(clCkptSectionOverwrite(h, (const ClCkptSectionIdT *)1, "x", 1), CL_CKPT_ERR_INVALID_PARAMETER);
    CHECK_RC(clCkptSectionOverwrite(h, &a, (void *)1, 4), CL_CKPT_ERR_INVALID_PARAMETER);
    CHECK_RC(clCkptSectionOverwrite(h, &a, gone, 4), CL_CKPT_ERR_INVALID_PARAMETER);

    /* The checkpoint is unharmed and still usable. */
    CHECK_RC(clCkptSectionOverwrite(h, &a, "fine", 4), CL_OK);
    ClSizeT got = 0;
    CHECK_RC(check_read(h, "a", b, 4, &got), CL_OK);
    CHECK(got == 4 && memcmp(b, "fine", 4) == 0);
}

/* Sizes beyond what a section can hold (64 MiB) on a checkpoint without maxSectionSize: refused
 * before the data is looked at, so a small buffer is enough. */
static void oversized(void) {
    ClCkptCheckpointCreationAttributesT a = check_attrs(CL_CKPT_WR_ACTIVE_REPLICA, 4, 0, 0);
    ClCkptHdlT u = check_open(svc, "rw-unlimited", &a, CHECK_RW);
    const ClSizeT huge = (64 << 20) + 1;
    char b[16] = "0123456789";
    ClUint32T ei = 77;
    CHECK_RC(check_section(u, "s", "0123456789"), CL_OK);
    ClCkptSectionIdT sid = check_sid("t");
    ClCkptSectionCreationAttributesT sa = {&sid, (ClTimeT)CL_TIME_END};
    CHECK_RC(clCkptSectionCreate(u, &sa, (const ClUint8T *)b, huge), CL_CKPT_ERR_INVALID_PARAMETER);
    ClCkptSectionIdT s = check_sid("s");
    CHECK_RC(clCkptSectionOverwrite(u, &s, b, huge), CL_CKPT_ERR_INVALID_PARAMETER);
    ClCkptIOVectorElementT v[2] = {el("s", b, 1, 0), el("s", b, huge, 0)};
    CHECK_RC(clCkptCheckpointWrite(u, v, 2, &ei), CL_CKPT_ERR_INVALID_PARAMETER);
    CHECK_EQ(ei, 1);
    v[1] = el("s", b, 1, 64 << 20);
    CHECK_RC(clCkptCheckpointWrite(u, v, 2, &ei), CL_CKPT_ERR_INVALID_PARAMETER);
    CHECK_EQ(ei, 1);
    /* A read asking for more than the section holds copies only what there is. */
    v[0] = el("s", b, (ClSizeT)1 << 40, 0);
    CHECK_RC(clCkptCheckpointRead(u, v, 1, NULL), CL_OK);
    CHECK_EQ(v[0].readSize, 10);
    CHECK_RC(clCkptCheckpointClose(u), CL_OK);
}

int main(void) {
    svc = check_init();
    ClCkptCheckpointCreationAttributesT attrs = check_attrs(CL_CKPT_WR_ACTIVE_REPLICA, 4, 16, 0);
    attrs.checkpointSize = 20;
    h = check_open(svc, "rw", &attrs, CHECK_RW);
    REQUIRE_RC(check_section(h, "a", "0123456789"), CL_OK);
    REQUIRE_RC(check_section(h, "b", "abc"), CL_OK);
    REQUIRE_RC(check_section(h, "e", NULL), CL_OK);
    read_tests();
    write_tests();
    last_update();
    garbage();
    oversized();
    CHECK_RC(clCkptCheckpointClose(h), CL_OK);
    CHECK_RC(clCkptFinalize(svc), CL_OK);
    DONE();
}
