/* Long SAF names (saAisNameLend): checkpoints named with up to 2048 bytes, every byte significant,
 * shared by two processes (two members); 2049 bytes give SA_AIS_ERR_TOO_BIG. clCkpt's ClNameT keeps
 * its 256-byte limit. */
#include <sys/wait.h>

#include "saf/saf_check.h"

#define LONGEST SA_MAX_EXTENDED_NAME_LENGTH /* 2048 */

/* Fills buf with a B.02 name of n bytes ending in last, NUL-terminated (buf holds n + 1). */
static void long_name(char *buf, size_t n, char last) {
    memset(buf, 'n', n);
    memcpy(buf, "safCkpt=", 8);
    buf[n - 1] = last;
    buf[n] = '\0';
}

static SaNameT lend(const char *s) {
    SaNameT n;
    saAisNameLend(s, &n);
    return n;
}

static char longest[LONGEST + 1], sibling[LONGEST + 1], too_long[LONGEST + 2];

/* The second process: opens the checkpoints the first created, reads them, writes one back. */
static int peer(int wait_fd, int done_fd) {
    char c;
    if (read(wait_fd, &c, 1) != 1)
        return 1;
    SaCkptHandleT h = saf_init(2, 2, NULL);
    SaNameT n = lend(longest), s = lend(sibling), big = lend(too_long);
    SaCkptCheckpointHandleT ck = 0, ck2 = 0;
    CHECK_RC(saCkptCheckpointOpen(h, &n, NULL, SA_CKPT_CHECKPOINT_READ | SA_CKPT_CHECKPOINT_WRITE, SA_TIME_END, &ck),
             SA_AIS_OK);
    char b[16];
    SaSizeT got = 0;
    CHECK_RC(saf_read(ck, "s", b, sizeof b, &got), SA_AIS_OK);
    CHECK(got == 6 && memcmp(b, "parent", 6) == 0);
    CHECK_RC(saf_section(ck, "c", "child"), SA_AIS_OK);
    CHECK_RC(saCkptCheckpointOpen(h, &s, NULL, SA_CKPT_CHECKPOINT_READ, SA_TIME_END, &ck2), SA_AIS_OK);
    CHECK_RC(saf_read(ck2, "s", b, sizeof b, &got), SA_AIS_OK);
    CHECK(got == 7 && memcmp(b, "sibling", 7) == 0);
    CHECK_RC(saCkptCheckpointOpen(h, &big, NULL, SA_CKPT_CHECKPOINT_READ, SA_TIME_END, &ck2), SA_AIS_ERR_TOO_BIG);
    CHECK_RC(saCkptCheckpointClose(ck), SA_AIS_OK);
    CHECK_RC(saCkptFinalize(h), SA_AIS_OK);
    if (write(done_fd, "x", 1) != 1)
        return 1;
    return check_failed;
}

static void two_processes(void) {
    int go, done;
    pid_t pid = saf_fork_peer(peer, &go, &done);
    SaCkptHandleT h = saf_init(2, 2, NULL);
    SaCkptCheckpointCreationAttributesT a = saf_attrs(SA_CKPT_WR_ALL_REPLICAS, 4, 64, SA_TIME_END);
    SaNameT n = lend(longest), s = lend(sibling);
    SaCkptCheckpointHandleT ck = 0, cks = 0;
    REQUIRE_RC(saCkptCheckpointOpen(h, &n, &a, SAF_RW, SA_TIME_END, &ck), SA_AIS_OK);
    CHECK_RC(saf_section(ck, "s", "parent"), SA_AIS_OK);
    /* Differing in the 2048th byte only: another checkpoint. */
    CHECK_RC(saCkptCheckpointOpen(h, &s, NULL, SA_CKPT_CHECKPOINT_READ, SA_TIME_END, &cks), SA_AIS_ERR_NOT_EXIST);
    REQUIRE_RC(saCkptCheckpointOpen(h, &s, &a, SAF_RW, SA_TIME_END, &cks), SA_AIS_OK);
    CHECK_RC(saf_section(cks, "s", "sibling"), SA_AIS_OK);
    saf_peer_turn(go, done);
    char b[16];
    SaSizeT got = 0;
    CHECK_RC(saf_read(ck, "c", b, sizeof b, &got), SA_AIS_OK);
    CHECK(got == 5 && memcmp(b, "child", 5) == 0);
    SaCkptCheckpointDescriptorT d;
    CHECK_RC(saCkptCheckpointStatusGet(cks, &d), SA_AIS_OK);
    CHECK_EQ(d.numberOfSections, 1);
    saf_reap_peer(pid);
    CHECK_RC(saCkptCheckpointUnlink(h, &n), SA_AIS_OK);
    CHECK_RC(saCkptCheckpointUnlink(h, &n), SA_AIS_ERR_NOT_EXIST);
    SaCkptCheckpointHandleT again = 0;
    CHECK_RC(saCkptCheckpointOpen(h, &s, NULL, SA_CKPT_CHECKPOINT_READ, SA_TIME_END, &again), SA_AIS_OK);
    CHECK_RC(saCkptCheckpointClose(again), SA_AIS_OK);
    CHECK_RC(saCkptCheckpointUnlink(h, &s), SA_AIS_OK);
    CHECK_RC(saCkptCheckpointClose(ck), SA_AIS_OK);
    CHECK_RC(saCkptCheckpointClose(cks), SA_AIS_OK);
    CHECK_RC(saCkptFinalize(h), SA_AIS_OK);
}

static void on_open(SaInvocationT inv, SaCkptCheckpointHandleT ck, SaAisErrorT rc) { (void)inv, (void)ck, (void)rc; }

/* The limits, in one process: 2049 bytes are too big for every call taking a name; 257 and 2048 are
 * checkpoints for B.01 clients too (any name); clCkpt still refuses a ClNameT above 256 bytes. */
static void limits(void) {
    SaCkptCallbacksT cbs = {on_open, NULL};
    SaCkptHandleT h2 = saf_init(2, 2, &cbs), h1 = saf_init(1, 1, NULL);
    SaCkptCheckpointCreationAttributesT a = saf_attrs(SA_CKPT_WR_ACTIVE_REPLICA, 2, 64, 0);
    SaNameT big = lend(too_long);
    SaCkptCheckpointHandleT ck = 0;
    CHECK_RC(saCkptCheckpointOpen(h2, &big, &a, SAF_RW, SA_TIME_END, &ck), SA_AIS_ERR_TOO_BIG);
    CHECK_RC(saCkptCheckpointOpenAsync(h2, 7, &big, &a, SAF_RW), SA_AIS_ERR_TOO_BIG);
    CHECK_RC(saCkptCheckpointUnlink(h2, &big), SA_AIS_ERR_TOO_BIG);
    CHECK_RC(saCkptCheckpointOpen(h1, &big, &a, SAF_RW, SA_TIME_END, &ck), SA_AIS_ERR_TOO_BIG);

    static char n257[258], plain[LONGEST + 1];
    long_name(n257, 257, 'x');
    SaNameT m = lend(n257);
    CHECK_RC(saCkptCheckpointOpen(h2, &m, &a, SAF_RW, SA_TIME_END, &ck), SA_AIS_OK);
    CHECK_RC(saf_section(ck, "s", "257"), SA_AIS_OK);
    CHECK_RC(saCkptCheckpointUnlink(h2, &m), SA_AIS_OK);
    CHECK_RC(saCkptCheckpointClose(ck), SA_AIS_OK);

    memset(plain, 'p', LONGEST); /* B.01: no "safCkpt=" needed */
    SaNameT p = lend(plain);
    CHECK_RC(saCkptCheckpointOpen(h1, &p, &a, SAF_RW, SA_TIME_END, &ck), SA_AIS_OK);
    SaCkptCheckpointHandleT b02 = 0;
    CHECK_RC(saCkptCheckpointOpen(h2, &p, NULL, SA_CKPT_CHECKPOINT_READ, SA_TIME_END, &b02),
             SA_AIS_ERR_INVALID_PARAM); /* B.02 name rule */
    CHECK_RC(saCkptCheckpointUnlink(h1, &p), SA_AIS_OK);
    CHECK_RC(saCkptCheckpointClose(ck), SA_AIS_OK);

    ClCkptSvcHdlT svc = check_init();
    ClNameT toolong;
    memset(&toolong, 'n', sizeof toolong);
    toolong.length = CL_MAX_NAME_LENGTH + 1;
    ClCkptHdlT hc = 0;
    ClCkptCheckpointCreationAttributesT ca = check_attrs(CL_CKPT_WR_ACTIVE_REPLICA, 2, 64, 0);
    CHECK_RC(clCkptCheckpointOpen(svc, &toolong, &ca, CHECK_RW, CL_TIME_END, &hc), CL_CKPT_ERR_INVALID_PARAMETER);
    CHECK_RC(clCkptFinalize(svc), CL_OK);
    CHECK_RC(saCkptFinalize(h1), SA_AIS_OK);
    CHECK_RC(saCkptFinalize(h2), SA_AIS_OK);
}

int main(void) {
    long_name(longest, LONGEST, 'a');
    long_name(sibling, LONGEST, 'b');
    long_name(too_long, LONGEST + 1, 'a');
    two_processes();
    limits();
    DONE();
}
