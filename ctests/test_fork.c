/* fork() and the library (FORK in clCkptApi.h): a process may fork before clCkptInitialize and both
 * sides can use the library; a child forked after the library started gets
 * CL_CKPT_ERR_INVALID_STATE from every call, at once, and cannot touch the parent's checkpoints. */
#include <errno.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"

static ClNameT name;
static ClCkptCheckpointCreationAttributesT attrs;

static int core_loaded(void) {
    FILE *f = fopen("/proc/self/maps", "r");
    char line[512];
    int found = 0;
    if (f == NULL)
        return -1;
    while (fgets(line, sizeof line, f) != NULL)
        if (strstr(line, "libclckpt-core") != NULL)
            found = 1;
    fclose(f);
    return found;
}

/* Starts body in a child that alarm() ends after limit_s seconds. */
static pid_t start_child(int (*body)(void), unsigned limit_s) {
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid == 0) {
        check_passed = check_failed = 0; /* the child counts its own */
        alarm(limit_s);
        int failed = body();
        fflush(stdout);
        fflush(stderr);
        _exit(failed == 0 ? 0 : 1);
    }
    return pid;
}

/* Returns the child's exit status, or -1 if it did not exit normally (killed by the alarm, crashed,
 * or still running long after its alarm). */
static int wait_child(pid_t pid, unsigned limit_s) {
    int status = 0;
    if (pid < 0)
        return -1;
    for (unsigned waited = 0;; waited += 10) {
        pid_t r = waitpid(pid, &status, WNOHANG);
        if (r == pid)
            break;
        if (r < 0 && errno != EINTR)
            return -1;
        if (waited > (limit_s + 30) * 1000) {
            kill(pid, SIGKILL);
            waitpid(pid, &status, 0);
            return -1;
        }
        check_sleep_ms(10);
    }
    if (WIFSIGNALED(status))
        fprintf(stderr, "child killed by signal %d\n", WTERMSIG(status));
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static int in_child(int (*body)(void), unsigned limit_s) { return wait_child(start_child(body, limit_s), limit_s); }

/* (a) A child forked before any Initialize uses the library like any process, in a data directory
 * of its own (a directory is locked by one process). */
static int child_uses_library(void) {
    char dir[] = "/tmp/clckpt-fork-XXXXXX";
    if (mkdtemp(dir) == NULL)
        return 1;
    setenv("CLCKPT_DATA_DIR", dir, 1);
    ClCkptSvcHdlT svc = 0;
    ClVersionT v = {'B', 1, 1};
    CHECK_RC(clCkptInitialize(&svc, NULL, &v), CL_OK);
    ClCkptHdlT h = 0;
    CHECK_RC(clCkptCheckpointOpen(svc, &name, &attrs, CHECK_RW, CL_TIME_END, &h), CL_OK);
    CHECK_RC(check_section(h, "s", "child"), CL_OK);
    char b[8];
    ClSizeT got = 0;
    CHECK_RC(check_read(h, "s", b, sizeof b, &got), CL_OK);
    CHECK(got == 5 && memcmp(b, "child", 5) == 0);
    CHECK_RC(clCkptCheckpointClose(h), CL_OK);
    CHECK_RC(clCkptFinalize(svc), CL_OK);
    char cmd[64];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    CHECK(system(cmd) == 0);
    return check_failed;
}

/* (d) A second process with the same settings (same node, same data directory) is a second member
 * of the node: it sees the checkpoints of the first, as with the original's per-node server. The
 * child was forked before the parent initialized and waits on a pipe until the parent has written. */
static int go_pipe[2];
static int child_same_directory(void) {
    char c;
    close(go_pipe[1]);
    if (read(go_pipe[0], &c, 1) != 1)
        return 1;
    ClCkptSvcHdlT svc = 0;
    ClVersionT v = {'B', 1, 1};
    CHECK_RC(clCkptInitialize(&svc, NULL, &v), CL_OK);
    ClCkptHdlT h = 0;
    CHECK_RC(clCkptCheckpointOpen(svc, &name, NULL, CL_CKPT_CHECKPOINT_READ, CL_TIME_END, &h), CL_OK);
    char b[8];
    ClSizeT got = 0;
    CHECK_RC(check_read(h, "s", b, sizeof b, &got), CL_OK);
    CHECK(got == 6 && memcmp(b, "parent", 6) == 0);
    CHECK_RC(clCkptCheckpointClose(h), CL_OK);
    CHECK_RC(clCkptFinalize(svc), CL_OK);
    return check_failed;
}

static ClCkptSvcHdlT p_svc;
static ClCkptHdlT p_ck;
static ClHandleT p_it;

static ClRcT dummy_notify(ClCkptHdlT h, ClNameT *n, ClCkptIOVectorElementT *v, ClUint32T c, ClPtrT k) {
    (void)h, (void)n, (void)v, (void)c, (void)k;
    return CL_OK;
}

/* (b) A child forked after Initialize: INVALID_STATE from every function, Initialize included. */
static int child_refused(void) {
    ClCkptSvcHdlT svc = 0;
    ClVersionT v = {'B', 1, 1};
    ClCkptHdlT h = 0;
    ClHandleT ih = 0;
    ClCkptCheckpointDescriptorT st;
    ClCkptSectionIdT id = check_sid("s");
    ClCkptSectionCreationAttributesT sa = {&id, (ClTimeT)CL_TIME_END};
    char b[4];
    ClCkptIOVectorElementT iov = {id, b, sizeof b, 0, 0};
    ClCkptSectionDescriptorT d;
    ClSelectionObjectT fd = 0;
    const ClRcT want = CL_CKPT_ERR_INVALID_STATE;

    CHECK_RC(clCkptInitialize(&svc, NULL, &v), 0x160012);
    CHECK_RC(clCkptInitialize(NULL, NULL, NULL), want);
    CHECK_RC(clCkptCheckpointOpen(p_svc, &name, &attrs, CHECK_RW, CL_TIME_END, &h), want);
    CHECK_RC(clCkptCheckpointOpenAsync(p_svc, 1, &name, &attrs, CHECK_RW), want);
    CHECK_RC(clCkptSelectionObjectGet(p_svc, &fd), want);
    CHECK_RC(clCkptDispatch(p_svc, CL_DISPATCH_BLOCKING), want);
    CHECK_RC(clCkptDispatch(p_svc, CL_DISPATCH_ALL), want);
    CHECK_RC(clCkptCheckpointRetentionDurationSet(p_ck, 0), want);
    CHECK_RC(clCkptActiveReplicaSet(p_ck), want);
    CHECK_RC(clCkptCheckpointStatusGet(p_ck, &st), want);
    CHECK_RC(clCkptSectionCreate(p_ck, &sa, NULL, 0), want);
    CHECK_RC(clCkptSectionExpirationTimeSet(p_ck, &id, CL_TIME_END), want);
    CHECK_RC(clCkptSectionIterationInitialize(p_ck, CL_CKPT_SECTIONS_ANY, 0, &ih), want);
    CHECK_RC(clCkptSectionIterationNext(p_it, &d), want);
    CHECK_RC(clCkptSectionIterationFinalize(p_it), want);
    CHECK_RC(clCkptCheckpointWrite(p_ck, &iov, 1, NULL), want);
    CHECK_RC(clCkptSectionOverwrite(p_ck, &id, "child", 5), want);
    CHECK_RC(clCkptCheckpointRead(p_ck, &iov, 1, NULL), want);
    CHECK_RC(clCkptCheckpointSynchronize(p_ck, CL_TIME_END), want);
    CHECK_RC(clCkptCheckpointSynchronizeAsync(p_ck, 1), want);
    CHECK_RC(clCkptImmediateConsumptionRegister(p_ck, dummy_notify, NULL), want);
    CHECK_RC(clCkptSectionDelete(p_ck, &id), want);
    CHECK_RC(clCkptCheckpointClose(p_ck), want);
    CHECK_RC(clCkptCheckpointDelete(p_svc, &name), want);
    CHECK_RC(clCkptFinalize(p_svc), want);
    CHECK_RC(clCkptFinalize(0), want);
    /* The plain C functions (heap, names) still work. */
    char *s = clStrdup("child");
    CHECK(s != NULL && strcmp(s, "child") == 0);
    clHeapFree(s);
    return check_failed;
}

/* (c) Forked after the library was used and finalized: the core is loaded, so still refused. */
static int child_after_finalize(void) {
    ClCkptSvcHdlT svc = 0;
    ClVersionT v = {'B', 1, 1};
    CHECK_RC(clCkptInitialize(&svc, NULL, &v), CL_CKPT_ERR_INVALID_STATE);
    CHECK_RC(clCkptFinalize(1), CL_CKPT_ERR_INVALID_STATE);
    return check_failed;
}

int main(void) {
    name = check_name("fork");
    attrs = check_attrs(CL_CKPT_WR_ACTIVE_REPLICA, 4, 0, 0);

    /* (a) The library is linked, but its runtime has not started. */
    CHECK_EQ(core_loaded(), 0);
    CHECK_EQ(in_child(child_uses_library, 120), 0);
    /* The parent can use it afterwards too, in its own data directory. */
    CHECK_EQ(core_loaded(), 0);
    REQUIRE_RC(pipe(go_pipe), 0);
    pid_t same = start_child(child_same_directory, 120);
    close(go_pipe[0]);
    p_svc = check_init();
    CHECK_EQ(core_loaded(), 1);
    p_ck = check_open(p_svc, "fork", &attrs, CHECK_RW);
    CHECK_RC(check_section(p_ck, "s", "parent"), CL_OK);
    /* (d) */
    CHECK(write(go_pipe[1], "g", 1) == 1);
    close(go_pipe[1]);
    CHECK_EQ(wait_child(same, 120), 0);
    REQUIRE_RC(clCkptSectionIterationInitialize(p_ck, CL_CKPT_SECTIONS_ANY, 0, &p_it), CL_OK);

    /* (b) Refused promptly in the child (alarm: a hang fails instead of blocking). */
    CHECK_EQ(in_child(child_refused, 10), 0);
    /* The child touched nothing of the parent's. */
    ClCkptCheckpointDescriptorT st;
    CHECK_RC(clCkptCheckpointStatusGet(p_ck, &st), CL_OK);
    CHECK_EQ(st.numberOfSections, 1);
    char b[8];
    ClSizeT got = 0;
    CHECK_RC(check_read(p_ck, "s", b, sizeof b, &got), CL_OK);
    CHECK(got == 6 && memcmp(b, "parent", 6) == 0);
    ClCkptSectionDescriptorT d;
    CHECK_RC(clCkptSectionIterationNext(p_it, &d), CL_OK);
    clHeapFree(d.sectionId.id);
    CHECK_RC(clCkptSectionIterationFinalize(p_it), CL_OK);
    /* And the parent keeps working normally. */
    ClCkptSvcHdlT svc2 = check_init();
    CHECK_RC(clCkptFinalize(svc2), CL_OK);
    CHECK_RC(clCkptCheckpointClose(p_ck), CL_OK);
    CHECK_RC(clCkptFinalize(p_svc), CL_OK);

    /* (c) */
    CHECK_EQ(in_child(child_after_finalize, 10), 0);
    p_svc = check_init();
    CHECK_RC(clCkptFinalize(p_svc), CL_OK);
    DONE();
}
