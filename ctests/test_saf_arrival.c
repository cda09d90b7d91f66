/* Change notifications of the SAF API in one process: the NCS arrival callback and B.02.03 track.
 * A reader registered with ncsCkptRegisterCkptArrivalCallback gets, in its saCkptDispatch, one
 * element per written element (its own handle, section id, offset, size, dataBuffer NULL) for each
 * create, write, overwrite and delete of another handle, and reads the data with the vector; the
 * writer and handles without READ get none. The cross-process failover is in test_saf_standby.c. */
#include <poll.h>

#include "saf/saf_check.h"

#define MAXN 8
static SaCkptCheckpointHandleT got_ck;
static SaCkptIOVectorElementT got[MAXN];
static char got_ids[MAXN][16];
static SaUint32T got_n;
static int calls;

static void on_arrival(const SaCkptCheckpointHandleT ck, SaCkptIOVectorElementT *v, SaUint32T n) {
    calls++;
    got_ck = ck;
    got_n = n;
    for (SaUint32T i = 0; i < n && i < MAXN; i++) {
        got[i] = v[i];
        memset(got_ids[i], 0, sizeof got_ids[i]);
        memcpy(got_ids[i], v[i].sectionId.id, v[i].sectionId.idLen < 15 ? v[i].sectionId.idLen : 15);
        got[i].sectionId.id = (SaUint8T *)got_ids[i];
    }
}

static void on_track(SaCkptCheckpointHandleT ck, SaCkptIOVectorElementT *v, SaUint32T n) { on_arrival(ck, v, n); }

/* Waits for the selection object of h, then dispatches one callback. */
static void one_callback(SaCkptHandleT h) {
    SaSelectionObjectT so = 0;
    CHECK_RC(saCkptSelectionObjectGet(h, &so), SA_AIS_OK);
    struct pollfd p = {(int)so, POLLIN, 0};
    CHECK(poll(&p, 1, CHECK_DEADLINE_MS) == 1);
    int before = calls;
    CHECK_RC(saCkptDispatch(h, SA_DISPATCH_ONE), SA_AIS_OK);
    CHECK(calls == before + 1);
}

/* Nothing is pending on h (after a moment for stray deliveries). */
static void nothing(SaCkptHandleT h) {
    check_sleep_ms(50);
    int before = calls;
    CHECK_RC(saCkptDispatch(h, SA_DISPATCH_ALL), SA_AIS_OK);
    CHECK(calls == before);
}

static void arrival(void) {
    SaCkptHandleT wh = saf_init(2, 2, NULL), rh = saf_init(2, 2, NULL), nh = saf_init(2, 2, NULL);
    CHECK_RC(ncsCkptRegisterCkptArrivalCallback(rh, on_arrival), SA_AIS_OK);
    CHECK_RC(ncsCkptRegisterCkptArrivalCallback(wh, on_arrival), SA_AIS_OK);
    CHECK_RC(ncsCkptRegisterCkptArrivalCallback(nh, on_arrival), SA_AIS_OK);
    SaCkptCheckpointCreationAttributesT a = saf_attrs(SA_CKPT_WR_ALL_REPLICAS | SA_CKPT_CHECKPOINT_COLLOCATED, 4, 64, 0);
    SaCkptCheckpointHandleT w = saf_open(wh, "safCkpt=hot", &a, SAF_RW);
    SaCkptCheckpointHandleT r = saf_open(rh, "safCkpt=hot", NULL, SA_CKPT_CHECKPOINT_READ);
    SaCkptCheckpointHandleT wo = saf_open(nh, "safCkpt=hot", NULL, SA_CKPT_CHECKPOINT_WRITE); /* no READ */

    CHECK_RC(saf_section(w, "a", "0123"), SA_AIS_OK);
    one_callback(rh);
    CHECK(got_ck == r && got_n == 1);
    CHECK(strcmp(got_ids[0], "a") == 0 && got[0].dataSize == 4 && got[0].dataOffset == 0);
    CHECK(got[0].dataBuffer == NULL && got[0].readSize == 0);

    CHECK_RC(saf_section(w, "b", NULL), SA_AIS_OK);
    one_callback(rh);
    SaCkptIOVectorElementT v[2] = {saf_elem("a", "xy", 2, 1), saf_elem("b", "hello", 5, 3)};
    CHECK_RC(saCkptCheckpointWrite(w, v, 2, NULL), SA_AIS_OK);
    one_callback(rh);
    CHECK(got_ck == r && got_n == 2);
    CHECK(strcmp(got_ids[0], "a") == 0 && got[0].dataOffset == 1 && got[0].dataSize == 2 && got[0].dataBuffer == NULL);
    CHECK(strcmp(got_ids[1], "b") == 0 && got[1].dataOffset == 3 && got[1].dataSize == 5 && got[1].dataBuffer == NULL);
    /* The reader passes the vector to saCkptCheckpointRead with buffers of its own. */
    char b0[8] = {0}, b1[8] = {0};
    SaCkptIOVectorElementT rd[2] = {got[0], got[1]};
    rd[0].dataBuffer = b0, rd[1].dataBuffer = b1;
    CHECK_RC(saCkptCheckpointRead(r, rd, 2, NULL), SA_AIS_OK);
    CHECK(rd[0].readSize == 2 && memcmp(b0, "xy", 2) == 0);
    CHECK(rd[1].readSize == 5 && memcmp(b1, "hello", 5) == 0);

    SaCkptSectionIdT sa = saf_sid("a");
    CHECK_RC(saCkptSectionOverwrite(w, &sa, "new", 3), SA_AIS_OK);
    one_callback(rh);
    CHECK(got_n == 1 && strcmp(got_ids[0], "a") == 0 && got[0].dataSize == 3 && got[0].dataOffset == 0);
    SaCkptSectionIdT sb = saf_sid("b");
    CHECK_RC(saCkptSectionDelete(w, &sb), SA_AIS_OK);
    one_callback(rh);
    CHECK(got_n == 1 && strcmp(got_ids[0], "b") == 0 && got[0].dataSize == 0);

    /* The writer's own handle and a handle without READ heard nothing. */
    nothing(wh);
    nothing(nh);
    /* A change through the write-only handle reaches the reader and the writer's READ handle. */
    CHECK_RC(saf_section(wo, "c", "z"), SA_AIS_OK);
    one_callback(rh);
    CHECK(got_ck == r && strcmp(got_ids[0], "c") == 0);
    one_callback(wh);
    CHECK(got_ck == w);
    nothing(nh);

    /* A closed handle's pending callbacks are cancelled; Finalize cancels the rest. */
    CHECK_RC(saf_section(w, "d", "z"), SA_AIS_OK);
    check_sleep_ms(50);
    CHECK_RC(saCkptCheckpointClose(r), SA_AIS_OK);
    nothing(rh);
    CHECK_RC(saCkptCheckpointClose(wo), SA_AIS_OK);
    CHECK_RC(saCkptCheckpointClose(w), SA_AIS_OK);
    CHECK_RC(saCkptFinalize(nh), SA_AIS_OK);
    CHECK_RC(saCkptFinalize(rh), SA_AIS_OK);
    CHECK_RC(saCkptFinalize(wh), SA_AIS_OK);
}

static void track(void) {
    SaVersionT v = {'B', 2, 3};
    SaCkptCallbacksT_2 cbs = {NULL, NULL, on_track};
    SaCkptHandleT th = 0;
    CHECK_RC(saCkptInitialize_2(&th, &cbs, &v), SA_AIS_OK);
    SaCkptHandleT wh = saf_init(2, 2, NULL);
    SaCkptCheckpointCreationAttributesT a = saf_attrs(SA_CKPT_WR_ALL_REPLICAS | SA_CKPT_CHECKPOINT_COLLOCATED, 4, 64, 0);
    SaCkptCheckpointHandleT w = saf_open(wh, "safCkpt=track", &a, SAF_RW);
    SaCkptCheckpointHandleT t1 = saf_open(th, "safCkpt=track", NULL, SA_CKPT_CHECKPOINT_READ);
    SaCkptCheckpointHandleT t2 = saf_open(th, "safCkpt=track", NULL, SA_CKPT_CHECKPOINT_READ);
    CHECK_RC(saf_section(w, "a", "1"), SA_AIS_OK);
    nothing(th); /* not tracked yet */
    CHECK_RC(saCkptCheckpointTrack(t2), SA_AIS_OK);
    CHECK_RC(saf_section(w, "b", "1"), SA_AIS_OK);
    one_callback(th);
    CHECK(got_ck == t2);
    nothing(th);
    CHECK_RC(saCkptTrack(th), SA_AIS_OK); /* every READ handle of th */
    CHECK_RC(saf_section(w, "c", "1"), SA_AIS_OK);
    one_callback(th);
    one_callback(th);
    nothing(th);
    CHECK_RC(saCkptTrackStop(th), SA_AIS_OK);
    CHECK_RC(saCkptCheckpointTrackStop(t2), SA_AIS_OK);
    CHECK_RC(saf_section(w, "d", "1"), SA_AIS_OK);
    nothing(th);
    CHECK_RC(saCkptCheckpointClose(t1), SA_AIS_OK);
    CHECK_RC(saCkptCheckpointClose(t2), SA_AIS_OK);
    CHECK_RC(saCkptCheckpointClose(w), SA_AIS_OK);
    CHECK_RC(saCkptFinalize(wh), SA_AIS_OK);
    CHECK_RC(saCkptFinalize(th), SA_AIS_OK);
}

int main(void) {
    arrival();
    track();
    DONE();
}
