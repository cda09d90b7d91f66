/* clCkptIpi.h: the ASP functions outside the SA Forum API that hot-standby programs call. */
#include <clCkptIpi.h>

#include "check.h"

int main(void) {
    ClCkptSvcHdlT svc = check_init();

    /* clCkptSectionCheck. */
    ClCkptCheckpointCreationAttributesT a = check_attrs(CL_CKPT_WR_ALL_REPLICAS, 4, 0, 0);
    ClCkptHdlT h = check_open(svc, "ipi", &a, CHECK_RW);
    REQUIRE_RC(check_section(h, "here", "data"), CL_OK);
    ClCkptSectionIdT here = check_sid("here"), gone = check_sid("gone"), def = CL_CKPT_DEFAULT_SECTION_ID;
    CHECK_RC(clCkptSectionCheck(h, &here), CL_OK);
    CHECK_RC(clCkptSectionCheck(h, &gone), CL_CKPT_ERR_NOT_EXIST);
    CHECK_RC(clCkptSectionCheck(h, NULL), CL_CKPT_ERR_INVALID_PARAMETER);
    CHECK_RC(clCkptSectionCheck(h, &def), CL_CKPT_ERR_NULL_POINTER); /* no default section here */
    CHECK_RC(clCkptSectionCheck(0xdeadbeef, &here), CL_CKPT_ERR_INVALID_HANDLE);
    CHECK_RC(clCkptSectionDelete(h, &here), CL_OK);
    CHECK_RC(clCkptSectionCheck(h, &here), CL_CKPT_ERR_NOT_EXIST);

    /* The linear forms write like their plain counterparts. */
    REQUIRE_RC(check_section(h, "lin", "....."), CL_OK);
    ClCkptSectionIdT lin = check_sid("lin");
    CHECK_RC(clCkptSectionOverwriteLinear(h, &lin, "abc", 3), CL_OK);
    CHECK_RC(clCkptSectionOverwriteLinear(h, &lin, NULL, 3), CL_CKPT_ERR_NULL_POINTER);
    CHECK_RC(clCkptSectionOverwriteLinear(h, &gone, "abc", 3), CL_CKPT_ERR_NOT_EXIST);
    ClCkptIOVectorElementT e;
    memset(&e, 0, sizeof e);
    e.sectionId = lin;
    e.dataBuffer = "Z";
    e.dataSize = 1;
    e.dataOffset = 3;
    ClUint32T ei = 99;
    CHECK_RC(clCkptCheckpointWriteLinear(h, &e, 1, &ei), CL_OK);
    e.sectionId = gone;
    CHECK_RC(clCkptCheckpointWriteLinear(h, &e, 1, &ei), CL_CKPT_ERR_NOT_EXIST);
    CHECK_EQ(ei, 0);
    CHECK_RC(clCkptCheckpointWriteLinear(h, NULL, 1, &ei), CL_CKPT_ERR_INVALID_PARAMETER);
    char buf[8] = {0};
    ClSizeT got = 0;
    CHECK_RC(check_read(h, "lin", buf, sizeof buf, &got), CL_OK);
    CHECK(got == 4 && memcmp(buf, "abcZ", 4) == 0);
    /* A non-collocated checkpoint has no replica to switch: as clCkptActiveReplicaSet. */
    CHECK_RC(clCkptActiveReplicaSetSwitchOver(h), CL_CKPT_ERR_BAD_OPERATION);
    CHECK_RC(clCkptActiveReplicaSetSwitchOver(0xdeadbeef), CL_CKPT_ERR_INVALID_HANDLE);
    CHECK_RC(clCkptCheckpointClose(h), CL_OK);

    /* The default section, and a collocated checkpoint whose replica is switched over. */
    ClCkptCheckpointCreationAttributesT c = check_attrs(CL_CKPT_CHECKPOINT_COLLOCATED | CL_CKPT_WR_ACTIVE_REPLICA, 1, 0, 0);
    h = check_open(svc, "ipi-coll", &c, CHECK_RW);
    CHECK_RC(clCkptActiveReplicaSetSwitchOver(h), CL_OK);
    CHECK_RC(clCkptSectionCheck(h, &def), CL_OK);
    CHECK_RC(clCkptSectionOverwriteLinear(h, &def, "d", 1), CL_OK);
    CHECK_RC(check_read(h, NULL, buf, sizeof buf, &got), CL_OK);
    CHECK(got == 1 && buf[0] == 'd');
    /* Without READ the check is refused, as a read is. */
    ClNameT n = check_name("ipi-coll");
    ClCkptHdlT wo = 0;
    REQUIRE_RC(clCkptCheckpointOpen(svc, &n, NULL, CL_CKPT_CHECKPOINT_WRITE, CL_TIME_END, &wo), CL_OK);
    CHECK_RC(clCkptSectionCheck(wo, &def), CL_CKPT_ERR_OP_NOT_PERMITTED);
    CHECK_RC(clCkptCheckpointClose(wo), CL_OK);
    CHECK_RC(clCkptCheckpointClose(h), CL_OK);

    CHECK_RC(clCkptFinalize(svc), CL_OK);
    CHECK_RC(clCkptSectionCheck(h, &def), CL_CKPT_ERR_NOT_INITIALIZED);
    DONE();
}
