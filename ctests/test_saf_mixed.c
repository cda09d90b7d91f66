/* One checkpoint service, two APIs: a process using clCkpt and saCkpt at once (one core, one engine),
 * and a SAF process and a clCkpt process sharing a checkpoint by name, each reading what the other
 * wrote. Handles of one API are bad handles for the other. */
#include <sys/wait.h>

#include "saf/saf_check.h"

#define NAME "safCkpt=shared"

/* The clCkpt process: waits for the SAF one to write, reads its section, writes one back. */
static int clckpt_process(int wait_fd, int done_fd) {
    char c;
    if (read(wait_fd, &c, 1) != 1)
        return 1;
    ClCkptSvcHdlT svc = check_init();
    ClNameT n = check_name(NAME);
    ClCkptHdlT h = 0;
    CHECK_RC(clCkptCheckpointOpen(svc, &n, NULL, CL_CKPT_CHECKPOINT_READ | CL_CKPT_CHECKPOINT_WRITE, CL_TIME_END, &h),
             CL_OK);
    char b[16];
    ClSizeT got = 0;
    CHECK_RC(check_read(h, "from-saf", b, sizeof b, &got), CL_OK);
    CHECK(got == 5 && memcmp(b, "hello", 5) == 0);
    CHECK_RC(check_section(h, "from-cl", "world"), CL_OK);
    ClCkptCheckpointDescriptorT d;
    CHECK_RC(clCkptCheckpointStatusGet(h, &d), CL_OK);
    CHECK(d.checkpointCreationAttributes.maxSections == 4 && d.checkpointCreationAttributes.maxSectionSize == 64);
    CHECK(d.checkpointCreationAttributes.creationFlags == SA_CKPT_WR_ALL_REPLICAS);
    CHECK_RC(clCkptCheckpointClose(h), CL_OK);
    CHECK_RC(clCkptFinalize(svc), CL_OK);
    if (write(done_fd, "x", 1) != 1)
        return 1;
    return check_failed;
}

static void two_processes(void) {
    int go, done;
    pid_t pid = saf_fork_peer(clckpt_process, &go, &done);
    SaCkptHandleT h = saf_init(2, 2, NULL);
    SaCkptCheckpointCreationAttributesT a = saf_attrs(SA_CKPT_WR_ALL_REPLICAS, 4, 64, SA_TIME_END);
    SaCkptCheckpointHandleT ck = saf_open(h, NAME, &a, SAF_RW);
    CHECK_RC(saf_section(ck, "from-saf", "hello"), SA_AIS_OK);
    saf_peer_turn(go, done);
    char b[16];
    SaSizeT got = 0;
    CHECK_RC(saf_read(ck, "from-cl", b, sizeof b, &got), SA_AIS_OK);
    CHECK(got == 5 && memcmp(b, "world", 5) == 0);
    SaCkptCheckpointDescriptorT d;
    CHECK_RC(saCkptCheckpointStatusGet(ck, &d), SA_AIS_OK);
    CHECK_EQ(d.numberOfSections, 2);
    saf_reap_peer(pid);
    SaNameT n = saf_name(NAME);
    CHECK_RC(saCkptCheckpointUnlink(h, &n), SA_AIS_OK);
    CHECK_RC(saCkptCheckpointClose(ck), SA_AIS_OK);
    CHECK_RC(saCkptFinalize(h), SA_AIS_OK);
}

/* Both APIs in one process, at once. */
static void one_process(void) {
    SaCkptHandleT sh = saf_init(1, 1, NULL);
    ClCkptSvcHdlT svc = check_init();
    SaCkptCheckpointCreationAttributesT a = saf_attrs(SA_CKPT_WR_ACTIVE_REPLICA, 1, 32, 0);
    SaCkptCheckpointHandleT sck = saf_open(sh, "both", &a, SAF_RW);
    SaCkptSectionIdT def = SA_CKPT_DEFAULT_SECTION_ID;
    CHECK_RC(saCkptSectionOverwrite(sck, &def, "v1", 2), SA_AIS_OK);
    ClCkptCheckpointCreationAttributesT ca = check_attrs(CL_CKPT_WR_ACTIVE_REPLICA, 1, 32, 0);
    ca.maxSectionIdSize = 16;
    /* The same attributes through clCkpt: the same checkpoint. */
    ClCkptHdlT cck = check_open(svc, "both", &ca, CHECK_RW);
    char b[8];
    ClSizeT got = 0;
    CHECK_RC(check_read(cck, NULL, b, sizeof b, &got), CL_OK);
    CHECK(got == 2 && memcmp(b, "v1", 2) == 0);
    ClCkptSectionIdT cdef = {0, NULL};
    CHECK_RC(clCkptSectionOverwrite(cck, &cdef, "v2!", 3), CL_OK);
    SaSizeT sgot = 0;
    CHECK_RC(saf_read(sck, NULL, b, sizeof b, &sgot), SA_AIS_OK);
    CHECK(sgot == 3 && memcmp(b, "v2!", 3) == 0);
    /* A handle of one API is a bad handle for the other. */
    CHECK_RC(saCkptCheckpointClose(cck), SA_AIS_ERR_BAD_HANDLE);
    CHECK_RC(saCkptDispatch(svc, SA_DISPATCH_ALL), SA_AIS_ERR_BAD_HANDLE);
    CHECK_RC(saCkptFinalize(svc), SA_AIS_ERR_BAD_HANDLE);
    CHECK_RC(clCkptCheckpointClose(sck), CL_CKPT_ERR_INVALID_HANDLE);
    CHECK_RC(clCkptFinalize(sh), CL_CKPT_ERR_INVALID_HANDLE);
    CHECK_RC(clCkptDispatch(sh, CL_DISPATCH_ALL), CL_CKPT_ERR_INVALID_HANDLE);
    SaCkptSectionIterationHandleT it = 0;
    CHECK_RC(saCkptSectionIterationInitialize(sck, SA_CKPT_SECTIONS_ANY, 0, &it), SA_AIS_OK);
    CHECK_RC(clCkptSectionIterationFinalize(it), CL_CKPT_ERR_INVALID_HANDLE);
    CHECK_RC(saCkptSectionIterationFinalize(it), SA_AIS_OK);
    /* Finalizing the SAF handle leaves the clCkpt one working, and the other way round. */
    CHECK_RC(saCkptFinalize(sh), SA_AIS_OK);
    CHECK_RC(clCkptSectionOverwrite(cck, &cdef, "v3", 2), CL_OK);
    sh = saf_init(2, 2, NULL);
    CHECK_RC(clCkptCheckpointClose(cck), CL_OK);
    CHECK_RC(clCkptFinalize(svc), CL_OK);
    SaNameT n = saf_name("both");
    SaCkptCheckpointHandleT again = 0;
    CHECK_RC(saCkptCheckpointOpen(sh, &n, NULL, SA_CKPT_CHECKPOINT_READ, 0, &again), SA_AIS_ERR_INVALID_PARAM); /* B.02 name */
    CHECK_RC(saCkptFinalize(sh), SA_AIS_OK);
}

int main(void) {
    two_processes();
    one_process();
    DONE();
}
