/* clCkptCheckpointStatusGet: attributes, section count without the default section, memoryUsed
 * (section 5.7), and its argument checks. */
#include "check.h"

int main(void) {
    ClCkptSvcHdlT svc = check_init();
    ClCkptCheckpointCreationAttributesT a = check_attrs(CL_CKPT_WR_ALL_REPLICAS | CL_CKPT_DISTRIBUTED, 5, 100, 12345);
    a.checkpointSize = 300;
    a.maxSectionIdSize = 32;
    ClCkptHdlT h = check_open(svc, "status", &a, CHECK_RW);
    ClCkptCheckpointDescriptorT st;

    CHECK_RC(clCkptCheckpointStatusGet(h, NULL), CL_CKPT_ERR_NULL_POINTER);
    CHECK_RC(clCkptCheckpointStatusGet(0, &st), CL_CKPT_ERR_INVALID_HANDLE);
    CHECK_RC(clCkptCheckpointStatusGet(0xdeadbeef, &st), CL_CKPT_ERR_INVALID_HANDLE);
    CHECK_RC(clCkptCheckpointStatusGet(svc, &st), CL_CKPT_ERR_INVALID_HANDLE);
    CHECK_RC(clCkptCheckpointStatusGet(h | (1ULL << 32), &st), CL_CKPT_ERR_INVALID_HANDLE);
    CHECK_RC(clCkptCheckpointStatusGet(h, (ClCkptCheckpointDescriptorT *)1), CL_CKPT_ERR_INVALID_PARAMETER);

    /* The creation attributes as given. */
    memset(&st, 0xa5, sizeof st);
    CHECK_RC(clCkptCheckpointStatusGet(h, &st), CL_OK);
    CHECK_EQ(st.checkpointCreationAttributes.creationFlags, a.creationFlags);
    CHECK_EQ(st.checkpointCreationAttributes.checkpointSize, 300);
    CHECK_EQ(st.checkpointCreationAttributes.retentionDuration, 12345);
    CHECK_EQ(st.checkpointCreationAttributes.maxSections, 5);
    CHECK_EQ(st.checkpointCreationAttributes.maxSectionSize, 100);
    CHECK_EQ(st.checkpointCreationAttributes.maxSectionIdSize, 32);
    CHECK_EQ(st.numberOfSections, 0);
    CHECK_EQ(st.memoryUsed, 0);

    /* numberOfSections counts sections; memoryUsed is the sum of their sizes (not 0 as in the original). */
    CHECK_RC(check_section(h, "a", "12345"), CL_OK);
    CHECK_RC(check_section(h, "b", NULL), CL_OK);
    CHECK_RC(check_section(h, "c", "xyz"), CL_OK);
    CHECK_RC(clCkptCheckpointStatusGet(h, &st), CL_OK);
    CHECK_EQ(st.numberOfSections, 3);
    CHECK_EQ(st.memoryUsed, 8);
    ClCkptSectionIdT b = check_sid("b"), c = check_sid("c");
    ClCkptIOVectorElementT w = {b, "0123456789", 10, 90, 0};
    CHECK_RC(clCkptCheckpointWrite(h, &w, 1, NULL), CL_OK);
    CHECK_RC(clCkptSectionOverwrite(h, &c, "z", 1), CL_OK);
    CHECK_RC(clCkptCheckpointStatusGet(h, &st), CL_OK);
    CHECK_EQ(st.memoryUsed, 5 + 100 + 1);
    CHECK_RC(clCkptSectionDelete(h, &b), CL_OK);
    CHECK_RC(clCkptCheckpointStatusGet(h, &st), CL_OK);
    CHECK_EQ(st.numberOfSections, 2);
    CHECK_EQ(st.memoryUsed, 6);

    /* The current retention; no open flag needed. */
    CHECK_RC(clCkptCheckpointRetentionDurationSet(h, 777), CL_OK);
    ClNameT n = check_name("status");
    ClCkptHdlT q = 0;
    REQUIRE_RC(clCkptCheckpointOpen(svc, &n, NULL, 0, CL_TIME_END, &q), CL_OK);
    CHECK_RC(clCkptCheckpointStatusGet(q, &st), CL_OK);
    CHECK_EQ(st.checkpointCreationAttributes.retentionDuration, 777);
    CHECK_EQ(st.numberOfSections, 2);
    CHECK_RC(clCkptCheckpointClose(q), CL_OK);

    /* The default section is not counted, but its bytes are. */
    ClCkptCheckpointCreationAttributesT one = check_attrs(CL_CKPT_WR_ACTIVE_REPLICA, 1, 0, 0);
    ClCkptHdlT d = check_open(svc, "status-default", &one, CHECK_RW);
    ClCkptSectionIdT def = CL_CKPT_DEFAULT_SECTION_ID;
    CHECK_RC(clCkptSectionOverwrite(d, &def, "four", 4), CL_OK);
    CHECK_RC(clCkptCheckpointStatusGet(d, &st), CL_OK);
    CHECK_EQ(st.numberOfSections, 0);
    CHECK_EQ(st.memoryUsed, 4);
    CHECK_RC(clCkptCheckpointClose(d), CL_OK);

    CHECK_RC(clCkptCheckpointClose(h), CL_OK);
    CHECK_RC(clCkptCheckpointStatusGet(h, &st), CL_CKPT_ERR_INVALID_HANDLE);
    CHECK_RC(clCkptFinalize(svc), CL_OK);
    CHECK_RC(clCkptCheckpointStatusGet(h, &st), CL_CKPT_ERR_NOT_INITIALIZED);
    CHECK_RC(clCkptCheckpointStatusGet(h, NULL), CL_CKPT_ERR_NOT_INITIALIZED);
    DONE();
}
