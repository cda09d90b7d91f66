/* clCkptCheckpointClose and clCkptCheckpointDelete: handles, reference counts, deletion while open. */
#include "check.h"

static ClRcT exists(ClCkptSvcHdlT svc, const char *name) {
    ClNameT n = check_name(name);
    ClCkptHdlT h = 0;
    ClRcT rc = clCkptCheckpointOpen(svc, &n, NULL, 0, CL_TIME_END, &h);
    if (rc == CL_OK)
        clCkptCheckpointClose(h);
    return rc;
}

int main(void) {
    ClCkptSvcHdlT svc = check_init();
    ClCkptCheckpointCreationAttributesT keep = check_attrs(CL_CKPT_WR_ACTIVE_REPLICA, 4, 0, CL_TIME_END);
    ClCkptCheckpointCreationAttributesT zero = check_attrs(CL_CKPT_WR_ACTIVE_REPLICA, 4, 0, 0);
    char buf[16];
    ClSizeT got = 0;

    /* Close: a second close, and handles that never were, are INVALID_HANDLE. */
    ClCkptHdlT h = check_open(svc, "cd-zero", &zero, CHECK_RW);
    CHECK_RC(clCkptCheckpointClose(0), CL_CKPT_ERR_INVALID_HANDLE);
    CHECK_RC(clCkptCheckpointClose(0xdeadbeef), CL_CKPT_ERR_INVALID_HANDLE);
    CHECK_RC(clCkptCheckpointClose(svc), CL_CKPT_ERR_INVALID_HANDLE);
    CHECK_RC(clCkptCheckpointClose(h | (1ULL << 32)), CL_CKPT_ERR_INVALID_HANDLE);
    CHECK_RC(clCkptCheckpointClose(h), CL_OK);
    CHECK_RC(clCkptCheckpointClose(h), CL_CKPT_ERR_INVALID_HANDLE);
    /* Retention 0: destroyed at the last close. */
    CHECK_RC(exists(svc, "cd-zero"), CL_CKPT_ERR_NOT_EXIST);

    /* Two opens: the first close keeps it, the last destroys it. */
    ClCkptHdlT a = check_open(svc, "cd-two", &zero, CHECK_RW);
    ClCkptHdlT b = check_open(svc, "cd-two", &zero, CHECK_RW);
    CHECK_RC(check_section(a, "s", "data"), CL_OK);
    CHECK_RC(clCkptCheckpointClose(a), CL_OK);
    CHECK_RC(check_read(b, "s", buf, sizeof buf, &got), CL_OK);
    CHECK(got == 4 && memcmp(buf, "data", 4) == 0);
    CHECK_RC(clCkptCheckpointClose(b), CL_OK);
    CHECK_RC(exists(svc, "cd-two"), CL_CKPT_ERR_NOT_EXIST);
    /* CREATE afterwards makes a new, empty checkpoint. */
    a = check_open(svc, "cd-two", &zero, CHECK_RW);
    CHECK_RC(check_read(a, "s", buf, sizeof buf, &got), CL_CKPT_ERR_NOT_EXIST);
    CHECK_RC(clCkptCheckpointClose(a), CL_OK);

    /* Delete: argument checks. */
    ClNameT n = check_name("cd-keep");
    CHECK_RC(clCkptCheckpointDelete(svc, NULL), CL_CKPT_ERR_NULL_POINTER);
    CHECK_RC(clCkptCheckpointDelete(svc, &n), CL_CKPT_ERR_NOT_EXIST);
    CHECK_RC(clCkptCheckpointDelete(0, &n), CL_CKPT_ERR_INVALID_HANDLE);
    CHECK_RC(clCkptCheckpointDelete(0xdeadbeef, &n), CL_CKPT_ERR_INVALID_HANDLE);
    ClNameT toolong;
    memset(&toolong, 'x', sizeof toolong);
    toolong.length = CL_MAX_NAME_LENGTH + 1;
    CHECK_RC(clCkptCheckpointDelete(svc, &toolong), CL_CKPT_ERR_INVALID_PARAMETER);
    CHECK_RC(clCkptCheckpointDelete(svc, (const ClNameT *)1), CL_CKPT_ERR_INVALID_PARAMETER);
    ClNameT empty = check_name("");
    CHECK_RC(clCkptCheckpointDelete(svc, &empty), CL_CKPT_ERR_INVALID_PARAMETER);
    ClNameT nul_first = check_name("x"); /* "\0", length 1: a name like any other, not there */
    nul_first.value[0] = '\0';
    CHECK_RC(clCkptCheckpointDelete(svc, &nul_first), CL_CKPT_ERR_NOT_EXIST);

    /* Delete of a checkpoint nobody has open destroys it now. */
    h = check_open(svc, "cd-keep", &keep, CHECK_RW);
    CHECK_RC(check_section(h, "s", "kept"), CL_OK);
    CHECK_RC(clCkptCheckpointClose(h), CL_OK);
    CHECK_RC(exists(svc, "cd-keep"), CL_OK); /* kept: retention CL_TIME_END */
    CHECK_RC(clCkptCheckpointDelete(svc, &n), CL_OK);
    CHECK_RC(exists(svc, "cd-keep"), CL_CKPT_ERR_NOT_EXIST);
    CHECK_RC(clCkptCheckpointDelete(svc, &n), CL_CKPT_ERR_NOT_EXIST);
    h = check_open(svc, "cd-keep", &keep, CHECK_RW);
    CHECK_RC(check_read(h, "s", buf, sizeof buf, &got), CL_CKPT_ERR_NOT_EXIST);
    CHECK_RC(clCkptCheckpointClose(h), CL_OK);

    /* Delete while open: the name goes at once, the open handles keep working on the old checkpoint,
       which is destroyed at their last close. */
    ClCkptHdlT old1 = check_open(svc, "cd-keep", &keep, CHECK_RW);
    ClCkptHdlT old2 = check_open(svc, "cd-keep", NULL, CL_CKPT_CHECKPOINT_READ);
    CHECK_RC(check_section(old1, "s2", "old"), CL_OK);
    CHECK_RC(clCkptCheckpointDelete(svc, &n), CL_OK);
    CHECK_RC(exists(svc, "cd-keep"), CL_CKPT_ERR_NOT_EXIST);
    CHECK_RC(clCkptCheckpointDelete(svc, &n), CL_CKPT_ERR_NOT_EXIST);
    CHECK_RC(check_read(old2, "s2", buf, sizeof buf, &got), CL_OK);
    CHECK(got == 3 && memcmp(buf, "old", 3) == 0);
    ClCkptSectionIdT s2 = check_sid("s2");
    CHECK_RC(clCkptSectionOverwrite(old1, &s2, "OLD!", 4), CL_OK);
    CHECK_RC(check_read(old2, "s2", buf, sizeof buf, &got), CL_OK);
    CHECK(got == 4 && memcmp(buf, "OLD!", 4) == 0);
    /* A deleted checkpoint's retention cannot change any more. */
    CHECK_RC(clCkptCheckpointRetentionDurationSet(old1, 0), CL_CKPT_ERR_BAD_OPERATION);
    ClCkptCheckpointDescriptorT st;
    CHECK_RC(clCkptCheckpointStatusGet(old1, &st), CL_OK);
    CHECK_EQ(st.numberOfSections, 1);

    /* CREATE under the same name meanwhile: a brand-new checkpoint, independent of the old one. */
    ClCkptHdlT fresh = check_open(svc, "cd-keep", &keep, CHECK_RW);
    CHECK_RC(check_read(fresh, "s2", buf, sizeof buf, &got), CL_CKPT_ERR_NOT_EXIST);
    CHECK_RC(clCkptCheckpointStatusGet(fresh, &st), CL_OK);
    CHECK_EQ(st.numberOfSections, 0);
    CHECK_RC(check_section(fresh, "s2", "new"), CL_OK);
    CHECK_RC(check_read(old2, "s2", buf, sizeof buf, &got), CL_OK);
    CHECK(got == 4 && memcmp(buf, "OLD!", 4) == 0);
    CHECK_RC(clCkptCheckpointClose(old1), CL_OK);
    CHECK_RC(clCkptCheckpointClose(old2), CL_OK);
    CHECK_RC(clCkptCheckpointClose(fresh), CL_OK);
    /* The new one has retention CL_TIME_END: still there, with its own data. */
    h = check_open(svc, "cd-keep", NULL, CL_CKPT_CHECKPOINT_READ);
    CHECK_RC(check_read(h, "s2", buf, sizeof buf, &got), CL_OK);
    CHECK(got == 3 && memcmp(buf, "new", 3) == 0);
    CHECK_RC(clCkptCheckpointClose(h), CL_OK);
    CHECK_RC(clCkptCheckpointDelete(svc, &n), CL_OK);
    CHECK_RC(exists(svc, "cd-keep"), CL_CKPT_ERR_NOT_EXIST);

    /* Delete through another service handle than the one that opened it works: the name is global. */
    ClCkptSvcHdlT svc2 = check_init();
    h = check_open(svc, "cd-other", &keep, CHECK_RW);
    ClNameT on = check_name("cd-other");
    CHECK_RC(clCkptCheckpointDelete(svc2, &on), CL_OK);
    CHECK_RC(clCkptCheckpointClose(h), CL_OK);
    CHECK_RC(exists(svc, "cd-other"), CL_CKPT_ERR_NOT_EXIST);

    /* Finalize closes the checkpoint handles opened through it (retention 0: destroyed). */
    h = check_open(svc2, "cd-fin", &zero, CHECK_RW);
    ClCkptHdlT hk = check_open(svc2, "cd-fin-keep", &keep, CHECK_RW);
    CHECK_RC(check_section(hk, "s", "survives"), CL_OK);
    CHECK_RC(clCkptFinalize(svc2), CL_OK);
    CHECK_RC(clCkptCheckpointClose(h), CL_CKPT_ERR_INVALID_HANDLE);
    CHECK_RC(clCkptCheckpointStatusGet(hk, &st), CL_CKPT_ERR_INVALID_HANDLE);
    CHECK_RC(exists(svc, "cd-fin"), CL_CKPT_ERR_NOT_EXIST);
    h = check_open(svc, "cd-fin-keep", NULL, CL_CKPT_CHECKPOINT_READ);
    CHECK_RC(check_read(h, "s", buf, sizeof buf, &got), CL_OK);
    CHECK(got == 8 && memcmp(buf, "survives", 8) == 0);
    CHECK_RC(clCkptCheckpointClose(h), CL_OK);
    ClNameT fk = check_name("cd-fin-keep");
    CHECK_RC(clCkptCheckpointDelete(svc, &fk), CL_OK);

    CHECK_RC(clCkptFinalize(svc), CL_OK);
    /* After the last Finalize. */
    CHECK_RC(clCkptCheckpointClose(h), CL_CKPT_ERR_NOT_INITIALIZED);
    CHECK_RC(clCkptCheckpointDelete(svc, &fk), CL_CKPT_ERR_NOT_INITIALIZED);
    DONE();
}
