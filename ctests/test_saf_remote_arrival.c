/* The NCS arrival callback across two processes on a checkpoint that is not collocated
 * (SA_CKPT_WR_ALL_REPLICAS): placement puts its replica on the writer's process only, and the
 * standby, which opens it with READ and registers ncsCkptRegisterCkptArrivalCallback, still gets one
 * callback per create, write and overwrite of the writer, in order, with its own handle, the
 * section id, offset and size, and dataBuffer NULL; it reads the data with the vector. */
#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#include "saf/saf_check.h"

#define NAME "safCkpt=remoteArrival"
#define MAXCALLS 8

/* The writer: creates the checkpoint, says it is ready, waits for the go, then makes its changes,
 * says it is done and waits for the bye before leaving. */
static int writer(int to_parent, int from_parent) {
    char c;
    SaCkptHandleT h = saf_init(2, 2, NULL);
    SaCkptCheckpointCreationAttributesT a = saf_attrs(SA_CKPT_WR_ALL_REPLICAS, 4, 64, SA_TIME_END);
    SaCkptCheckpointHandleT ck = saf_open(h, NAME, &a, SAF_RW);
    REQUIRE_RC(write(to_parent, "r", 1), 1);
    REQUIRE_RC(read(from_parent, &c, 1), 1);
    REQUIRE_RC(saf_section(ck, "a", "abc"), SA_AIS_OK);
    SaCkptIOVectorElementT e = saf_elem("a", "XY", 2, 1);
    REQUIRE_RC(saCkptCheckpointWrite(ck, &e, 1, NULL), SA_AIS_OK);
    SaCkptSectionIdT sid = saf_sid("a");
    REQUIRE_RC(saCkptSectionOverwrite(ck, &sid, "whole", 5), SA_AIS_OK);
    REQUIRE_RC(saf_section(ck, "b", "12"), SA_AIS_OK);
    REQUIRE_RC(write(to_parent, "d", 1), 1);
    REQUIRE_RC(read(from_parent, &c, 1), 1);
    CHECK_RC(saCkptCheckpointClose(ck), SA_AIS_OK);
    CHECK_RC(saCkptFinalize(h), SA_AIS_OK);
    return check_failed;
}

static SaCkptCheckpointHandleT standby_ck;
static struct {
    SaCkptCheckpointHandleT ck;
    SaUint32T n;
    char id[16];
    SaOffsetT offset;
    SaSizeT size;
    int buffer_null;
    char data[16];
} got[MAXCALLS];
static int calls;

static void on_arrival(const SaCkptCheckpointHandleT ck, SaCkptIOVectorElementT *v, SaUint32T n) {
    if (calls >= MAXCALLS)
        return;
    int i = calls++;
    got[i].ck = ck;
    got[i].n = n;
    if (n < 1)
        return;
    memcpy(got[i].id, v[0].sectionId.id, v[0].sectionId.idLen < 15 ? v[0].sectionId.idLen : 15);
    got[i].offset = v[0].dataOffset;
    got[i].size = v[0].dataSize;
    got[i].buffer_null = v[0].dataBuffer == NULL;
    /* Read the data with the vector, as NCS programs do (the section as it is now). */
    SaCkptIOVectorElementT e = v[0];
    e.dataBuffer = got[i].data;
    e.dataSize = sizeof got[i].data - 1;
    e.dataOffset = 0;
    CHECK_RC(saCkptCheckpointRead(ck, &e, 1, NULL), SA_AIS_OK);
}

int main(void) {
    int up[2], down[2];
    REQUIRE_RC(pipe(up) == 0 && pipe(down) == 0, 1);
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork(); /* before any Initialize */
    if (pid == 0) {
        close(up[0]);
        close(down[1]);
        alarm(300);
        int failed = writer(up[1], down[0]);
        fflush(stdout);
        _exit(failed != 0);
    }
    close(up[1]);
    close(down[0]);
    char c;
    REQUIRE_RC(read(up[0], &c, 1), 1);

    SaCkptHandleT h = saf_init(2, 2, NULL);
    CHECK_RC(ncsCkptRegisterCkptArrivalCallback(h, on_arrival), SA_AIS_OK);
    SaNameT n = saf_name(NAME);
    REQUIRE_RC(saCkptCheckpointOpen(h, &n, NULL, SA_CKPT_CHECKPOINT_READ, 0, &standby_ck), SA_AIS_OK);
    REQUIRE_RC(write(down[1], "g", 1), 1);
    REQUIRE_RC(read(up[0], &c, 1), 1); /* the writer is done */

    SaSelectionObjectT so = 0;
    CHECK_RC(saCkptSelectionObjectGet(h, &so), SA_AIS_OK);
    for (int i = 0; i < CHECK_DEADLINE_MS / 10 && calls < 4; i++) {
        struct pollfd p = {(int)so, POLLIN, 0};
        if (poll(&p, 1, 10) == 1)
            CHECK_RC(saCkptDispatch(h, SA_DISPATCH_ALL), SA_AIS_OK);
    }
    check_sleep_ms(50);
    CHECK_RC(saCkptDispatch(h, SA_DISPATCH_ALL), SA_AIS_OK); /* no more than one per change */
    CHECK_EQ(calls, 4);
    static const struct {
        const char *id;
        SaOffsetT offset;
        SaSizeT size;
    } want[4] = {{"a", 0, 3}, {"a", 1, 2}, {"a", 0, 5}, {"b", 0, 2}};
    for (int i = 0; i < 4 && i < calls; i++) {
        CHECK(got[i].ck == standby_ck);
        CHECK_EQ(got[i].n, 1);
        CHECK(strcmp(got[i].id, want[i].id) == 0);
        CHECK_EQ(got[i].offset, want[i].offset);
        CHECK_EQ(got[i].size, want[i].size);
        CHECK(got[i].buffer_null);
    }
    CHECK(strcmp(got[3].data, "12") == 0);
    char buf[16] = {0};
    SaSizeT size = 0;
    CHECK_RC(saf_read(standby_ck, "a", buf, sizeof buf - 1, &size), SA_AIS_OK);
    CHECK(size == 5 && strcmp(buf, "whole") == 0);

    CHECK_RC(saCkptCheckpointClose(standby_ck), SA_AIS_OK);
    CHECK_RC(saCkptFinalize(h), SA_AIS_OK);
    REQUIRE_RC(write(down[1], "b", 1), 1);
    saf_reap_peer(pid);
    DONE();
}
