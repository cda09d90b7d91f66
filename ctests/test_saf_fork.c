/* fork() and two front libraries: a child forked after the Go core was loaded, by either front
 * library, gets SA_AIS_ERR_LIBRARY (and CL_CKPT_ERR_INVALID_STATE from clCkpt) at once, instead of
 * running in a Go runtime that did not survive the fork. */
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "saf/saf_check.h"

static SaCkptHandleT parent_h;

/* Runs body in a child that alarm() kills after limit_s seconds; returns its exit status. */
static int in_child(int (*body)(void), unsigned limit_s) {
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid == 0) {
        check_passed = check_failed = 0;
        alarm(limit_s);
        int failed = body();
        fflush(stdout);
        fflush(stderr);
        _exit(failed == 0 ? 0 : 1);
    }
    int status = 0;
    if (waitpid(pid, &status, 0) != pid)
        return -1;
    if (WIFSIGNALED(status))
        fprintf(stderr, "child killed by signal %d\n", WTERMSIG(status));
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* The core was loaded by libclckpt.so only: libSaCkpt.so has never loaded it in this process. */
static int grandchild_after_clckpt(void) {
    SaCkptHandleT h = 0;
    SaVersionT v = {'B', 2, 2};
    CHECK_RC(saCkptInitialize(&h, NULL, &v), SA_AIS_ERR_LIBRARY);
    CHECK_RC(saCkptFinalize(1), SA_AIS_ERR_LIBRARY);
    return check_failed;
}

/* A child (forked before any Initialize) that initializes clCkpt only, then forks. It has the data
 * directory to itself: the parent waits for it before it initializes. */
static int child_clckpt_then_fork(void) {
    ClCkptSvcHdlT svc = check_init();
    CHECK_EQ(in_child(grandchild_after_clckpt, 10), 0);
    CHECK_RC(clCkptFinalize(svc), CL_OK);
    return check_failed;
}

/* The core was loaded by libSaCkpt.so only: both APIs refuse in the child. */
static int child_after_saf(void) {
    SaCkptHandleT h = 0;
    SaVersionT v = {'B', 2, 2};
    CHECK_RC(saCkptInitialize(&h, NULL, &v), SA_AIS_ERR_LIBRARY);
    CHECK_RC(saCkptDispatch(parent_h, SA_DISPATCH_ALL), SA_AIS_ERR_LIBRARY);
    CHECK_RC(saCkptFinalize(parent_h), SA_AIS_ERR_LIBRARY);
    ClCkptSvcHdlT svc = 0;
    ClVersionT cv = {'B', 1, 1};
    CHECK_RC(clCkptInitialize(&svc, NULL, &cv), CL_CKPT_ERR_INVALID_STATE);
    CHECK_RC(clCkptFinalize(1), CL_CKPT_ERR_INVALID_STATE);
    return check_failed;
}

int main(void) {
    /* (A child forked before Initialize using the library: test_saf_mixed.c.) */
    CHECK_EQ(in_child(child_clckpt_then_fork, 120), 0);
    parent_h = saf_init(2, 2, NULL);
    CHECK_EQ(in_child(child_after_saf, 10), 0);
    ClCkptSvcHdlT svc = check_init();
    /* The parent keeps working. */
    SaCkptCheckpointCreationAttributesT a = saf_attrs(SA_CKPT_WR_ALL_REPLICAS, 1, 16, 0);
    SaCkptCheckpointHandleT ck = saf_open(parent_h, "safCkpt=parent", &a, SAF_RW);
    CHECK_RC(saCkptCheckpointClose(ck), SA_AIS_OK);
    CHECK_RC(saCkptFinalize(parent_h), SA_AIS_OK);
    CHECK_RC(clCkptFinalize(svc), CL_OK);
    DONE();
}
