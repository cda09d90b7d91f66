/* clCkptCheckpointOpen: argument checks, creation, attribute matching, names, handles, timeouts. */
#include "check.h"

static ClCkptCheckpointCreationAttributesT base(void) {
    ClCkptCheckpointCreationAttributesT a = check_attrs(CL_CKPT_WR_ACTIVE_REPLICA, 4, 64, 0);
    a.checkpointSize = 128;
    return a;
}

int main(void) {
    ClCkptSvcHdlT svc = check_init();
    ClCkptCheckpointCreationAttributesT a = base();
    ClNameT name = check_name("open");
    ClCkptHdlT h = 0, h2 = 0, h3 = 0;

    /* Client-side checks, in the original's order. */
    CHECK_RC(clCkptCheckpointOpen(svc, &name, &a, CHECK_RW, CL_TIME_END, NULL), CL_CKPT_ERR_NULL_POINTER);
    CHECK_RC(clCkptCheckpointOpen(svc, NULL, &a, CHECK_RW, CL_TIME_END, &h), CL_CKPT_ERR_NULL_POINTER);
    CHECK_RC(clCkptCheckpointOpen(svc, NULL, &a, 0x8, CL_TIME_END, &h), CL_CKPT_ERR_NULL_POINTER);
    CHECK_RC(clCkptCheckpointOpen(svc, &name, &a, 0x8, CL_TIME_END, &h), CL_CKPT_ERR_BAD_FLAG);
    CHECK_RC(clCkptCheckpointOpen(svc, &name, NULL, 0x10, CL_TIME_END, &h), CL_CKPT_ERR_BAD_FLAG);
    CHECK_RC(clCkptCheckpointOpen(svc, &name, &a, 0xffffffff, CL_TIME_END, &h), CL_CKPT_ERR_BAD_FLAG);
    /* A bad flag is reported before a missing attribute pointer. */
    CHECK_RC(clCkptCheckpointOpen(svc, &name, NULL, CL_CKPT_CHECKPOINT_CREATE | 0x8, CL_TIME_END, &h),
             CL_CKPT_ERR_BAD_FLAG);
    CHECK_RC(clCkptCheckpointOpen(svc, &name, NULL, CL_CKPT_CHECKPOINT_CREATE, CL_TIME_END, &h),
             CL_CKPT_ERR_NULL_POINTER);
    CHECK_RC(clCkptCheckpointOpen(svc, &name, &a, CL_CKPT_CHECKPOINT_READ, CL_TIME_END, &h),
             CL_CKPT_ERR_INVALID_PARAMETER);
    CHECK_RC(clCkptCheckpointOpen(svc, &name, &a, 0, CL_TIME_END, &h), CL_CKPT_ERR_INVALID_PARAMETER);
    ClCkptCheckpointCreationAttributesT big = base();
    big.checkpointSize = 4 * 64 + 1; /* > maxSections * maxSectionSize */
    CHECK_RC(clCkptCheckpointOpen(svc, &name, &big, CHECK_RW, CL_TIME_END, &h), CL_CKPT_ERR_INVALID_PARAMETER);
    /* Services: wrong handles. */
    CHECK_RC(clCkptCheckpointOpen(0, &name, &a, CHECK_RW, CL_TIME_END, &h), CL_CKPT_ERR_INVALID_HANDLE);
    CHECK_RC(clCkptCheckpointOpen(0xdeadbeef, &name, &a, CHECK_RW, CL_TIME_END, &h), CL_CKPT_ERR_INVALID_HANDLE);
    CHECK_RC(clCkptCheckpointOpen(svc | (1ULL << 32), &name, &a, CHECK_RW, CL_TIME_END, &h),
             CL_CKPT_ERR_INVALID_HANDLE);

    /* Not there without CREATE. On failure the output is left alone. */
    h = 0x1234;
    CHECK_RC(clCkptCheckpointOpen(svc, &name, NULL, CHECK_RW & ~CL_CKPT_CHECKPOINT_CREATE, CL_TIME_END, &h),
             CL_CKPT_ERR_NOT_EXIST);
    CHECK_RC(clCkptCheckpointOpen(svc, &name, NULL, 0, CL_TIME_END, &h), CL_CKPT_ERR_NOT_EXIST);
    CHECK_EQ(h, 0x1234);

    /* maxSections 0: the original's hash-table error. */
    ClCkptCheckpointCreationAttributesT zero = base();
    zero.maxSections = 0;
    zero.checkpointSize = 0;
    CHECK_RC(clCkptCheckpointOpen(svc, &name, &zero, CHECK_RW, CL_TIME_END, &h), 0x180002);
    CHECK_RC(clCkptCheckpointOpen(svc, &name, NULL, 0, CL_TIME_END, &h), CL_CKPT_ERR_NOT_EXIST);

    /* Create; the handle is non-zero and fits in 32 bits. */
    REQUIRE_RC(clCkptCheckpointOpen(svc, &name, &a, CHECK_RW, CL_TIME_END, &h), CL_OK);
    CHECK(h != 0 && h < 0x100000000ULL);
    /* checkpointSize is only checked when maxSectionSize is set. */
    ClCkptCheckpointCreationAttributesT nolimit = base();
    nolimit.maxSectionSize = 0;
    nolimit.checkpointSize = 1 << 30;
    ClCkptHdlT hn = check_open(svc, "open-nolimit", &nolimit, CHECK_RW);
    CHECK_RC(clCkptCheckpointClose(hn), CL_OK);

    /* Open again with identical attributes, or without CREATE: new, distinct handles. */
    REQUIRE_RC(clCkptCheckpointOpen(svc, &name, &a, CHECK_RW, (ClTimeT)-1, &h2), CL_OK);
    REQUIRE_RC(clCkptCheckpointOpen(svc, &name, NULL, 0, CL_TIME_END, &h3), CL_OK);
    CHECK(h2 != h && h3 != h && h3 != h2);
    CHECK(h2 < 0x100000000ULL && h3 < 0x100000000ULL);
    CHECK_RC(clCkptCheckpointClose(h3), CL_OK);
    /* Flags 0 is a legal open that may only query. */
    REQUIRE_RC(clCkptCheckpointOpen(svc, &name, NULL, 0, CL_TIME_END, &h3), CL_OK);
    ClCkptCheckpointDescriptorT st;
    CHECK_RC(clCkptCheckpointStatusGet(h3, &st), CL_OK);
    CHECK_RC(check_section(h3, "s", "x"), CL_CKPT_ERR_OP_NOT_PERMITTED);
    CHECK_RC(clCkptCheckpointClose(h3), CL_OK);

    /* CREATE of an existing checkpoint: each of the six attributes must match. */
    for (int i = 0; i < 6; i++) {
        ClCkptCheckpointCreationAttributesT d = base();
        switch (i) {
        case 0: d.creationFlags = CL_CKPT_WR_ALL_REPLICAS; break;
        case 1: d.checkpointSize = 64; break;
        case 2: d.retentionDuration = 5; break;
        case 3: d.maxSections = 5; break;
        case 4: d.maxSectionSize = 65; break;
        case 5: d.maxSectionIdSize = 65; break;
        }
        ClCkptHdlT hx = 0x55;
        CHECK_RC(clCkptCheckpointOpen(svc, &name, &d, CHECK_RW, CL_TIME_END, &hx), CL_CKPT_ERR_ALREADY_EXIST);
        CHECK_EQ(hx, 0x55);
    }

    /* Creation flags are not validated: unknown bits are accepted and kept. */
    ClCkptCheckpointCreationAttributesT odd = base();
    odd.creationFlags = 0x200 | CL_CKPT_WR_ALL_SAFE | CL_CKPT_PEER_TO_PEER_REPLICA | CL_CKPT_PEER_TO_PEER_CACHE_DISABLE |
                        CL_CKPT_ALL_OPEN_ARE_REPLICAS;
    ClCkptHdlT ho = check_open(svc, "open-oddflags", &odd, CHECK_RW);
    CHECK_RC(clCkptCheckpointStatusGet(ho, &st), CL_OK);
    CHECK_EQ(st.checkpointCreationAttributes.creationFlags, odd.creationFlags);
    CHECK_RC(clCkptCheckpointClose(ho), CL_OK);

    /* Names: exactly the first `length` bytes, NULs included; all 256 are significant. */
    ClNameT nul = check_name("open");
    memcpy(nul.value, "open\0tail", 9);
    nul.length = 9;
    ClCkptHdlT hz = 0;
    CHECK_RC(clCkptCheckpointOpen(svc, &nul, NULL, CL_CKPT_CHECKPOINT_READ, CL_TIME_END, &hz), CL_CKPT_ERR_NOT_EXIST);
    ClNameT prefix = check_name("openX");
    prefix.length = 4; /* "open": bytes past length do not count */
    CHECK_RC(clCkptCheckpointOpen(svc, &prefix, NULL, CL_CKPT_CHECKPOINT_READ, CL_TIME_END, &hz), CL_OK);
    CHECK_RC(clCkptCheckpointClose(hz), CL_OK);
    ClNameT other = check_name("Open");
    CHECK_RC(clCkptCheckpointOpen(svc, &other, NULL, CL_CKPT_CHECKPOINT_READ, CL_TIME_END, &hz), CL_CKPT_ERR_NOT_EXIST);

    ClNameT longest;
    memset(&longest, 'n', sizeof longest);
    longest.length = CL_MAX_NAME_LENGTH; /* 256: allowed, and every byte counts */
    ClCkptHdlT hl = 0;
    REQUIRE_RC(clCkptCheckpointOpen(svc, &longest, &a, CHECK_RW, CL_TIME_END, &hl), CL_OK);
    ClNameT n255 = longest;
    n255.length = 255;
    CHECK_RC(clCkptCheckpointOpen(svc, &n255, NULL, CL_CKPT_CHECKPOINT_READ, CL_TIME_END, &hz), CL_CKPT_ERR_NOT_EXIST);
    n255.length = 256;
    n255.value[255] = 'z';
    CHECK_RC(clCkptCheckpointOpen(svc, &n255, NULL, CL_CKPT_CHECKPOINT_READ, CL_TIME_END, &hz), CL_CKPT_ERR_NOT_EXIST);
    n255.value[255] = 'n';
    CHECK_RC(clCkptCheckpointOpen(svc, &n255, NULL, CL_CKPT_CHECKPOINT_READ, CL_TIME_END, &hz), CL_OK);
    CHECK_RC(clCkptCheckpointClose(hz), CL_OK);
    CHECK_RC(clCkptCheckpointClose(hl), CL_OK);
    ClNameT toolong = longest;
    toolong.length = CL_MAX_NAME_LENGTH + 1;
    CHECK_RC(clCkptCheckpointOpen(svc, &toolong, &a, CHECK_RW, CL_TIME_END, &hz), CL_CKPT_ERR_INVALID_PARAMETER);
    toolong.length = 0xffff;
    CHECK_RC(clCkptCheckpointOpen(svc, &toolong, &a, CHECK_RW, CL_TIME_END, &hz), CL_CKPT_ERR_INVALID_PARAMETER);
    ClNameT empty = check_name("");
    CHECK_RC(clCkptCheckpointOpen(svc, &empty, &a, CHECK_RW, CL_TIME_END, &hz), CL_CKPT_ERR_INVALID_PARAMETER);

    /* Timeouts (section 5.8): 0, negative and CL_TIME_END mean no limit (real programs pass 0); a
     * positive one is honoured: 1 ns has passed before the open can complete. */
    hz = 0x77;
    CHECK_RC(clCkptCheckpointOpen(svc, &name, NULL, CL_CKPT_CHECKPOINT_READ, 1, &hz), CL_CKPT_ERR_TIMEOUT);
    CHECK_EQ(hz, 0x77);
    CHECK_RC(clCkptCheckpointOpen(svc, &name, NULL, CL_CKPT_CHECKPOINT_READ, 0, &hz), CL_OK);
    CHECK_RC(clCkptCheckpointClose(hz), CL_OK);
    CHECK_RC(clCkptCheckpointOpen(svc, &name, &a, CHECK_RW, 0, &hz), CL_OK);
    CHECK_RC(clCkptCheckpointClose(hz), CL_OK);
    CHECK_RC(clCkptCheckpointOpen(svc, &name, NULL, CL_CKPT_CHECKPOINT_READ, -5, &hz), CL_OK);
    CHECK_RC(clCkptCheckpointClose(hz), CL_OK);
    CHECK_RC(clCkptCheckpointOpen(svc, &name, NULL, CL_CKPT_CHECKPOINT_READ, 10 * CL_SEC_TO_NANO, &hz), CL_OK);
    CHECK_RC(clCkptCheckpointClose(hz), CL_OK);

    /* Garbage pointers give an error code, not a crash. */
    CHECK_RC(clCkptCheckpointOpen(svc, (const ClNameT *)1, &a, CHECK_RW, CL_TIME_END, &hz), CL_CKPT_ERR_INVALID_PARAMETER);
    CHECK_RC(clCkptCheckpointOpen(svc, &name, (const ClCkptCheckpointCreationAttributesT *)8, CHECK_RW, CL_TIME_END, &hz),
             CL_CKPT_ERR_INVALID_PARAMETER);
    CHECK_RC(clCkptCheckpointOpen(svc, &name, &a, CHECK_RW, CL_TIME_END, (ClCkptHdlT *)16), CL_CKPT_ERR_INVALID_PARAMETER);

    CHECK_RC(clCkptCheckpointClose(h), CL_OK);
    CHECK_RC(clCkptCheckpointClose(h2), CL_OK);
    /* Those were the last handles (a failed open leaves none behind): retention 0 destroyed it. */
    CHECK_RC(clCkptCheckpointOpen(svc, &name, NULL, 0, CL_TIME_END, &hz), CL_CKPT_ERR_NOT_EXIST);
    CHECK_RC(clCkptFinalize(svc), CL_OK);
    DONE();
}
