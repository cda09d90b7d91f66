/* The NCS hot-standby pattern across two processes, with a real kill -9: the active writes a counter
 * and synchronizes its replicas after each write; the standby follows it with arrival callbacks,
 * reading each value with the vector the callback gives. The active is killed with SIGKILL; the
 * standby makes its replica active and takes over at the last value the active had acknowledged. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <sys/wait.h>
#include <unistd.h>

#include "saf/saf_check.h"

#define NAME "safCkpt=counter"

static SaCkptSectionIdT seq_id = {3, (SaUint8T *)"seq"};

/* The active: creates the checkpoint, then writes 1, 2, 3... each synchronized to the replicas
 * before its value goes down the pipe as acknowledged. Never returns on success (killed). */
static int active(int ready_fd, int acked_fd) {
    SaCkptHandleT h = saf_init(2, 2, NULL);
    SaCkptCheckpointCreationAttributesT a =
        saf_attrs(SA_CKPT_WR_ACTIVE_REPLICA | SA_CKPT_CHECKPOINT_COLLOCATED, 1, 8, SA_TIME_END);
    SaCkptCheckpointHandleT ck = saf_open(h, NAME, &a, SAF_RW);
    REQUIRE_RC(saCkptActiveReplicaSet(ck), SA_AIS_OK);
    uint64_t v = 0;
    SaCkptSectionIdT def = SA_CKPT_DEFAULT_SECTION_ID;
    REQUIRE_RC(saCkptSectionOverwrite(ck, &def, &v, sizeof v), SA_AIS_OK);
    if (write(ready_fd, "r", 1) != 1)
        return 1;
    for (v = 1; v < 1000000; v++) {
        REQUIRE_RC(saCkptSectionOverwrite(ck, &def, &v, sizeof v), SA_AIS_OK);
        REQUIRE_RC(saCkptCheckpointSynchronize(ck, 30 * SA_TIME_ONE_SECOND), SA_AIS_OK);
        if (write(acked_fd, &v, sizeof v) != sizeof v)
            return 1;
        check_sleep_ms(2);
    }
    return 1;
}

static SaCkptCheckpointHandleT standby_ck;
static uint64_t seen, seen_calls, bad_elements;

static void on_arrival(const SaCkptCheckpointHandleT ck, SaCkptIOVectorElementT *v, SaUint32T n) {
    seen_calls++;
    if (ck != standby_ck || n != 1 || v[0].sectionId.idLen != 0 || v[0].dataBuffer != NULL ||
        v[0].dataSize != sizeof(uint64_t) || v[0].dataOffset != 0 || v[0].readSize != 0) {
        bad_elements++;
        return;
    }
    uint64_t value = 0;
    v[0].dataBuffer = &value; /* read the data with the vector, as NCS programs do */
    if (saCkptCheckpointRead(ck, v, n, NULL) == SA_AIS_OK && v[0].readSize == sizeof value && value > seen)
        seen = value;
    else if (v[0].readSize != sizeof value)
        bad_elements++;
}

int main(void) {
    (void)seq_id;
    int ready[2], acked[2];
    REQUIRE_RC(pipe(ready) == 0 && pipe(acked) == 0, 1);
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork(); /* before any Initialize */
    if (pid == 0) {
        close(ready[0]);
        close(acked[0]);
        alarm(300);
        int failed = active(ready[1], acked[1]);
        fflush(stdout);
        _exit(failed);
    }
    close(ready[1]);
    close(acked[1]);
    char c;
    REQUIRE_RC(read(ready[0], &c, 1), 1);

    SaCkptHandleT h = saf_init(2, 2, NULL);
    CHECK_RC(ncsCkptRegisterCkptArrivalCallback(h, on_arrival), SA_AIS_OK);
    SaNameT n = saf_name(NAME);
    REQUIRE_RC(saCkptCheckpointOpen(h, &n, NULL, SA_CKPT_CHECKPOINT_READ | SA_CKPT_CHECKPOINT_WRITE, 0, &standby_ck),
               SA_AIS_OK);
    SaSelectionObjectT so = 0;
    CHECK_RC(saCkptSelectionObjectGet(h, &so), SA_AIS_OK);
    /* Follow the active for 20 callbacks, one per write. */
    for (int i = 0; i < CHECK_DEADLINE_MS / 10 && seen_calls < 20; i++) {
        struct pollfd p = {(int)so, POLLIN, 0};
        if (poll(&p, 1, 10) == 1)
            CHECK_RC(saCkptDispatch(h, SA_DISPATCH_ALL), SA_AIS_OK);
    }
    CHECK(seen_calls >= 20 && seen >= 20);
    CHECK_EQ(bad_elements, 0);
    CHECK(kill(pid, SIGKILL) == 0);
    int status = 0;
    CHECK(waitpid(pid, &status, 0) == pid && WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
    uint64_t last = 0, v;
    fcntl(acked[0], F_SETFL, O_NONBLOCK);
    while (read(acked[0], &v, sizeof v) == sizeof v)
        last = v;
    CHECK(last >= 20);
    printf("callbacks %llu, last seen %llu, last acknowledged %llu\n", (unsigned long long)seen_calls,
           (unsigned long long)seen, (unsigned long long)last);

    /* Take over: this replica becomes active; it holds every acknowledged value. */
    SaAisErrorT rc = SA_AIS_ERR_TRY_AGAIN;
    for (int i = 0; i < CHECK_DEADLINE_MS / 10 && rc == SA_AIS_ERR_TRY_AGAIN; i++) {
        rc = saCkptActiveReplicaSet(standby_ck);
        if (rc == SA_AIS_ERR_TRY_AGAIN)
            check_sleep_ms(10);
    }
    CHECK_RC(rc, SA_AIS_OK);
    uint64_t now = 0;
    SaCkptIOVectorElementT e = saf_elem(NULL, &now, sizeof now, 0);
    CHECK_RC(saCkptCheckpointRead(standby_ck, &e, 1, NULL), SA_AIS_OK);
    CHECK(now == last || now == last + 1); /* the active may have written one more before dying */
    CHECK(now >= seen);
    uint64_t next = now + 1;
    SaCkptSectionIdT def = SA_CKPT_DEFAULT_SECTION_ID;
    CHECK_RC(saCkptSectionOverwrite(standby_ck, &def, &next, sizeof next), SA_AIS_OK);
    CHECK_RC(saCkptCheckpointRead(standby_ck, &e, 1, NULL), SA_AIS_OK);
    CHECK_EQ(now, next);
    CHECK_RC(saCkptCheckpointUnlink(h, &n), SA_AIS_OK);
    CHECK_RC(saCkptCheckpointClose(standby_ck), SA_AIS_OK);
    CHECK_RC(saCkptFinalize(h), SA_AIS_OK);
    DONE();
}
