/* clCkptInitialize, clCkptFinalize, versions, service handles, calls before and after. */
#include "check.h"

int main(void) {
    ClCkptSvcHdlT svc = 0, svc2 = 0;
    ClVersionT v = {'B', 1, 1};
    ClNameT name = check_name("init");
    ClCkptHdlT ck = 0;

    /* Before any Initialize: NOT_INITIALIZED. */
    CHECK_RC(clCkptFinalize(1), CL_CKPT_ERR_NOT_INITIALIZED);
    CHECK_RC(clCkptCheckpointOpen(1, &name, NULL, CL_CKPT_CHECKPOINT_READ, 0, &ck), CL_CKPT_ERR_NOT_INITIALIZED);
    CHECK_RC(clCkptDispatch(1, CL_DISPATCH_ALL), CL_CKPT_ERR_NOT_INITIALIZED);

    /* NULL arguments. */
    CHECK_RC(clCkptInitialize(NULL, NULL, &v), CL_CKPT_ERR_NULL_POINTER);
    CHECK_RC(clCkptInitialize(&svc, NULL, NULL), CL_CKPT_ERR_NULL_POINTER);

    /* Versions: 'B' with major <= 1 is accepted; the version is always set to B.1.1. */
    ClVersionT old = {'B', 0, 9};
    REQUIRE_RC(clCkptInitialize(&svc, NULL, &old), CL_OK);
    CHECK(old.releaseCode == 'B' && old.majorVersion == 1 && old.minorVersion == 1);
    CHECK(svc != 0 && svc < 0x100000000ULL);
    ClVersionT bad = {'A', 1, 1};
    CHECK_RC(clCkptInitialize(&svc2, NULL, &bad), 0x31000f);
    CHECK(bad.releaseCode == 'B' && bad.majorVersion == 1 && bad.minorVersion == 1);
    ClVersionT newer = {'B', 2, 0};
    CHECK_RC(clCkptInitialize(&svc2, NULL, &newer), 0x31000f);
    CHECK(newer.majorVersion == 1 && newer.minorVersion == 1);

    /* Other minor versions of B.1 are accepted too, and answered with B.1.1. */
    ClVersionT minor = {'B', 1, 0};
    ClCkptSvcHdlT svc3 = 0;
    REQUIRE_RC(clCkptInitialize(&svc3, NULL, &minor), CL_OK);
    CHECK(minor.releaseCode == 'B' && minor.majorVersion == 1 && minor.minorVersion == 1);
    CHECK_RC(clCkptFinalize(svc3), CL_OK);
    /* A callback table with NULL members is fine. */
    ClCkptCallbacksT none = {NULL, NULL};
    ClVersionT v3 = {'B', 1, 1};
    REQUIRE_RC(clCkptInitialize(&svc3, &none, &v3), CL_OK);
    CHECK_RC(clCkptFinalize(svc3), CL_OK);
    /* Garbage pointers give an error code, and no service handle is left behind (checked below:
       after the last Finalize the library is uninitialized). */
    ClVersionT v4 = {'B', 1, 1};
    CHECK_RC(clCkptInitialize(&svc3, NULL, (ClVersionT *)1), CL_CKPT_ERR_INVALID_PARAMETER);
    CHECK_RC(clCkptInitialize((ClCkptSvcHdlT *)8, NULL, &v4), CL_CKPT_ERR_INVALID_PARAMETER);
    CHECK_RC(clCkptInitialize(&svc3, (const ClCkptCallbacksT *)8, &v4), CL_CKPT_ERR_INVALID_PARAMETER);

    /* Each Initialize makes a new service handle. */
    ClVersionT v2 = {'B', 1, 1};
    REQUIRE_RC(clCkptInitialize(&svc2, NULL, &v2), CL_OK);
    CHECK(svc2 != svc);

    /* Wrong handles. */
    CHECK_RC(clCkptFinalize(0), CL_CKPT_ERR_INVALID_HANDLE);
    CHECK_RC(clCkptFinalize(0xdeadbeef), CL_CKPT_ERR_INVALID_HANDLE);

    CHECK_RC(clCkptFinalize(svc), CL_OK);
    CHECK_RC(clCkptFinalize(svc), CL_CKPT_ERR_INVALID_HANDLE);
    CHECK_RC(clCkptFinalize(svc2), CL_OK);

    /* After the last Finalize: NOT_INITIALIZED again, and a new Initialize works. */
    CHECK_RC(clCkptFinalize(svc2), CL_CKPT_ERR_NOT_INITIALIZED);
    CHECK_RC(clCkptCheckpointOpen(svc, &name, NULL, CL_CKPT_CHECKPOINT_READ, 0, &ck), CL_CKPT_ERR_NOT_INITIALIZED);
    svc = check_init();
    CHECK_RC(clCkptFinalize(svc), CL_OK);
    DONE();
}
