/* Retention (4.2, section 5.5): 0, forever, negative, finite, reopen inside the window, changes
 * through clCkptCheckpointRetentionDurationSet, DISTRIBUTED checkpoints, and restarts. */
#include "check.h"

static ClCkptSvcHdlT svc;

static ClRcT exists(const char *name) {
    ClNameT n = check_name(name);
    ClCkptHdlT h = 0;
    ClRcT rc = clCkptCheckpointOpen(svc, &n, NULL, 0, CL_TIME_END, &h);
    if (rc == CL_OK)
        clCkptCheckpointClose(h);
    return rc;
}

/* Waits for a closed checkpoint with a finite retention to disappear. Checking reopens it, which
 * cancels the retention, and the close starts it again: so wait longer than the retention between
 * two checks. */
static ClRcT wait_gone(const char *name, long retention_ms) {
    ClRcT rc = CL_OK;
    for (long waited = 0; waited < CHECK_DEADLINE_MS; waited += 3 * retention_ms) {
        check_sleep_ms(3 * retention_ms);
        if ((rc = exists(name)) != CL_OK)
            break;
    }
    return rc;
}

static void create_closed(const char *name, ClTimeT retention, ClCkptCreationFlagsT flags) {
    ClCkptCheckpointCreationAttributesT a = check_attrs(flags, 2, 0, retention);
    ClCkptHdlT h = check_open(svc, name, &a, CHECK_RW);
    CHECK_RC(check_section(h, "s", "payload"), CL_OK);
    CHECK_RC(clCkptCheckpointClose(h), CL_OK);
}

int main(void) {
    svc = check_init();
    char buf[16];
    ClSizeT got = 0;
    const ClTimeT ms = CL_MILLI_TO_NANO;

    /* 0: destroyed at the last close. */
    create_closed("ret-zero", 0, CL_CKPT_WR_ACTIVE_REPLICA);
    CHECK_RC(exists("ret-zero"), CL_CKPT_ERR_NOT_EXIST);

    /* CL_TIME_END and any negative value: kept until deleted (5.5). */
    create_closed("ret-end", CL_TIME_END, CL_CKPT_WR_ACTIVE_REPLICA);
    create_closed("ret-neg", -1, CL_CKPT_WR_ACTIVE_REPLICA);
    create_closed("ret-neg2", -5 * CL_SEC_TO_NANO, CL_CKPT_WR_ALL_REPLICAS);
    CHECK_RC(exists("ret-end"), CL_OK);
    CHECK_RC(exists("ret-neg"), CL_OK);
    CHECK_RC(exists("ret-neg2"), CL_OK);

    /* A DISTRIBUTED checkpoint always uses 0, whatever its attribute says. */
    create_closed("ret-dist", CL_TIME_END, CL_CKPT_WR_ACTIVE_REPLICA | CL_CKPT_DISTRIBUTED);
    CHECK_RC(exists("ret-dist"), CL_CKPT_ERR_NOT_EXIST);

    /* Finite: deleted once the duration has passed after the last close. */
    create_closed("ret-short", 100 * ms, CL_CKPT_WR_ACTIVE_REPLICA);
    CHECK_RC(wait_gone("ret-short", 100), CL_CKPT_ERR_NOT_EXIST);

    /* An open inside the window cancels the retention: the data survives the reopen. */
    create_closed("ret-long", 3600 * CL_SEC_TO_NANO, CL_CKPT_WR_ACTIVE_REPLICA);
    ClNameT ln = check_name("ret-long");
    ClCkptHdlT h = 0;
    REQUIRE_RC(clCkptCheckpointOpen(svc, &ln, NULL, CL_CKPT_CHECKPOINT_READ | CL_CKPT_CHECKPOINT_WRITE, CL_TIME_END, &h),
               CL_OK);
    CHECK_RC(check_read(h, "s", buf, sizeof buf, &got), CL_OK);
    CHECK(got == 7 && memcmp(buf, "payload", 7) == 0);

    /* RetentionDurationSet: argument checks, then the new value is the attribute (status, CREATE) and
       is what the last close applies. */
    CHECK_RC(clCkptCheckpointRetentionDurationSet(0, 0), CL_CKPT_ERR_INVALID_HANDLE);
    CHECK_RC(clCkptCheckpointRetentionDurationSet(0xdeadbeef, 0), CL_CKPT_ERR_INVALID_HANDLE);
    CHECK_RC(clCkptCheckpointRetentionDurationSet(svc, 0), CL_CKPT_ERR_INVALID_HANDLE);
    CHECK_RC(clCkptCheckpointRetentionDurationSet(h, 50 * ms), CL_OK);
    ClCkptCheckpointDescriptorT st;
    CHECK_RC(clCkptCheckpointStatusGet(h, &st), CL_OK);
    CHECK_EQ(st.checkpointCreationAttributes.retentionDuration, 50 * ms);
    ClCkptCheckpointCreationAttributesT olda = check_attrs(CL_CKPT_WR_ACTIVE_REPLICA, 2, 0, 3600 * CL_SEC_TO_NANO);
    ClCkptHdlT h2 = 0;
    CHECK_RC(clCkptCheckpointOpen(svc, &ln, &olda, CHECK_RW, CL_TIME_END, &h2), CL_CKPT_ERR_ALREADY_EXIST);
    ClCkptCheckpointCreationAttributesT newa = check_attrs(CL_CKPT_WR_ACTIVE_REPLICA, 2, 0, 50 * ms);
    CHECK_RC(clCkptCheckpointOpen(svc, &ln, &newa, CHECK_RW, CL_TIME_END, &h2), CL_OK);
    CHECK_RC(clCkptCheckpointClose(h2), CL_OK);
    /* Any handle may set it, also one opened without WRITE. */
    ClCkptHdlT hq = 0;
    REQUIRE_RC(clCkptCheckpointOpen(svc, &ln, NULL, 0, CL_TIME_END, &hq), CL_OK);
    CHECK_RC(clCkptCheckpointRetentionDurationSet(hq, 0), CL_OK);
    CHECK_RC(clCkptCheckpointClose(hq), CL_OK);
    CHECK_RC(clCkptCheckpointClose(h), CL_OK);
    CHECK_RC(exists("ret-long"), CL_CKPT_ERR_NOT_EXIST);

    /* From forever to finite. */
    create_closed("ret-change", CL_TIME_END, CL_CKPT_WR_ACTIVE_REPLICA);
    ClNameT cn = check_name("ret-change");
    REQUIRE_RC(clCkptCheckpointOpen(svc, &cn, NULL, CL_CKPT_CHECKPOINT_WRITE, CL_TIME_END, &h), CL_OK);
    CHECK_RC(clCkptCheckpointRetentionDurationSet(h, 100 * ms), CL_OK);
    CHECK_RC(clCkptCheckpointClose(h), CL_OK);
    CHECK_RC(wait_gone("ret-change", 100), CL_CKPT_ERR_NOT_EXIST);
    CHECK_RC(clCkptCheckpointRetentionDurationSet(h, 0), CL_CKPT_ERR_INVALID_HANDLE);

    /* Retention is persistent (5.5): a deadline that passes while no process runs deletes the
       checkpoint at the next start; kept checkpoints survive with their data. */
    create_closed("ret-restart", 50 * ms, CL_CKPT_WR_ACTIVE_REPLICA);
    CHECK_RC(clCkptFinalize(svc), CL_OK);
    check_sleep_ms(300);
    svc = check_init();
    CHECK_RC(exists("ret-restart"), CL_CKPT_ERR_NOT_EXIST);
    CHECK_RC(exists("ret-end"), CL_OK);
    ClNameT en = check_name("ret-end");
    REQUIRE_RC(clCkptCheckpointOpen(svc, &en, NULL, CL_CKPT_CHECKPOINT_READ, CL_TIME_END, &h), CL_OK);
    CHECK_RC(check_read(h, "s", buf, sizeof buf, &got), CL_OK);
    CHECK(got == 7 && memcmp(buf, "payload", 7) == 0);
    CHECK_RC(clCkptCheckpointClose(h), CL_OK);

    /* A handle still open at the last Finalize counts as closed: retention 0 destroys it. */
    ClCkptCheckpointCreationAttributesT za = check_attrs(CL_CKPT_WR_ACTIVE_REPLICA, 2, 0, 0);
    h = check_open(svc, "ret-open-at-exit", &za, CHECK_RW);
    (void)h;
    CHECK_RC(clCkptFinalize(svc), CL_OK);
    svc = check_init();
    CHECK_RC(exists("ret-open-at-exit"), CL_CKPT_ERR_NOT_EXIST);

    /* Many handles open at Finalize (closed together): each checkpoint's retention applies as at
       its own last close, when Finalize returns. */
    enum { MANY = 60 };
    char nm[64];
    ClCkptCheckpointCreationAttributesT fa = check_attrs(CL_CKPT_WR_ACTIVE_REPLICA, 2, 0, CL_TIME_END);
    ClCkptCheckpointCreationAttributesT ta = check_attrs(CL_CKPT_WR_ACTIVE_REPLICA, 2, 0, 200 * ms);
    for (int i = 0; i < MANY; i++) {
        snprintf(nm, sizeof nm, "many-zero-%d", i);
        (void)check_open(svc, nm, &za, CHECK_RW);
        snprintf(nm, sizeof nm, "many-end-%d", i);
        (void)check_open(svc, nm, &fa, CHECK_RW);
        snprintf(nm, sizeof nm, "many-timed-%d", i);
        (void)check_open(svc, nm, &ta, CHECK_RW);
    }
    (void)check_open(svc, "many-zero-0", &za, CHECK_RW); /* a second handle of one of them */
    CHECK_RC(clCkptFinalize(svc), CL_OK);
    svc = check_init();
    for (int i = 0; i < MANY; i++) {
        snprintf(nm, sizeof nm, "many-zero-%d", i);
        CHECK_RC(exists(nm), CL_CKPT_ERR_NOT_EXIST);
        snprintf(nm, sizeof nm, "many-end-%d", i);
        CHECK_RC(exists(nm), CL_OK);
        ClNameT dn = check_name(nm);
        CHECK_RC(clCkptCheckpointDelete(svc, &dn), CL_OK);
    }
    /* The timed ones end by themselves (exists reopens and closes: its retention starts again). */
    for (int i = 0; i < MANY; i += 7) {
        snprintf(nm, sizeof nm, "many-timed-%d", i);
        CHECK_RC(wait_gone(nm, 200), CL_CKPT_ERR_NOT_EXIST);
    }

    const char *kept[] = {"ret-end", "ret-neg", "ret-neg2"};
    for (int i = 0; i < 3; i++) {
        ClNameT kn = check_name(kept[i]);
        CHECK_RC(clCkptCheckpointDelete(svc, &kn), CL_OK);
    }
    CHECK_RC(clCkptFinalize(svc), CL_OK);
    DONE();
}
