/* clCkptBackup.h: a backup under concurrent writers is a cut (every section the same counter),
 * its wait object's descriptor becomes readable, restores make a new checkpoint and replace one,
 * by name and by copy id; queries, deletes, cancel, a damaged copy refused, and bad inputs. */
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <unistd.h>

#include <clCkptBackup.h>

#include "check.h"

#define NSEC 16
#define PAD 4096
#define WRITERS 4

static ClCkptSvcHdlT svc;
static ClCkptHdlT src;
static volatile int stop;
static uint64_t counter;
static uint64_t acked; /* the highest counter written (written by the writers, read at the end) */
static ClRcT writer_rc[WRITERS];

/* The section ids "s00".."s15", made once before any thread starts: the writer threads only read
 * them (formatting them in each call raced with the other threads' reads, which then saw a short
 * or empty id). */
static char sid_buf[NSEC][8];

static void make_sids(void) {
    for (int i = 0; i < NSEC; i++)
        snprintf(sid_buf[i], sizeof sid_buf[i], "s%02d", i);
}

static ClCkptSectionIdT sid(int i) { return check_sid(sid_buf[i]); }

static void *writer(void *arg) {
    int me = (int)(intptr_t)arg;
    ClCkptIOVectorElementT v[NSEC];
    while (!__atomic_load_n(&stop, __ATOMIC_ACQUIRE)) {
        uint64_t c = __atomic_add_fetch(&counter, 1, __ATOMIC_SEQ_CST);
        memset(v, 0, sizeof v);
        for (int i = 0; i < NSEC; i++) {
            v[i].sectionId = sid(i);
            v[i].dataBuffer = &c;
            v[i].dataSize = sizeof c;
        }
        ClRcT rc = clCkptCheckpointWrite(src, v, NSEC, NULL);
        if (rc != CL_OK) {
            writer_rc[me] = rc;
            return NULL;
        }
        uint64_t a = __atomic_load_n(&acked, __ATOMIC_SEQ_CST);
        while (a < c && !__atomic_compare_exchange_n(&acked, &a, c, 0, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST)) {
        }
    }
    return NULL;
}

/* Reads the counters of every section of h: returns the counter if they are all equal, else 0. */
static uint64_t same_counter(ClCkptHdlT h) {
    uint64_t vals[NSEC];
    ClCkptIOVectorElementT v[NSEC];
    memset(v, 0, sizeof v);
    for (int i = 0; i < NSEC; i++) {
        v[i].sectionId = sid(i);
        v[i].dataBuffer = &vals[i];
        v[i].dataSize = sizeof vals[i];
    }
    if (clCkptCheckpointRead(h, v, NSEC, NULL) != CL_OK)
        return 0;
    for (int i = 1; i < NSEC; i++)
        if (vals[i] != vals[0])
            return 0;
    return vals[0];
}

static ClCkptBackupOptionsT options(const char *archive) {
    ClCkptBackupOptionsT o;
    memset(&o, 0, sizeof o);
    o.size = sizeof o;
    o.version = CL_CKPT_BACKUP_VERSION;
    o.archive = archive;
    return o;
}

static ClCkptRestoreOptionsT restore_options(const char *archive, ClBoolT replace, ClCkptOpenFlagsT flags) {
    ClCkptRestoreOptionsT o;
    memset(&o, 0, sizeof o);
    o.size = sizeof o;
    o.version = CL_CKPT_BACKUP_VERSION;
    o.archive = archive;
    o.replace = replace;
    o.openFlags = flags;
    return o;
}

/* Waits for a wait object through its descriptor, then for its result. */
static ClRcT wait_done(ClCkptBackupWaitT w) {
    ClSelectionObjectT fd = 0;
    ClRcT rc = clCkptBackupSelectionObjectGet(w, &fd);
    if (rc != CL_OK)
        return rc;
    struct pollfd p = {(int)fd, POLLIN, 0};
    if (poll(&p, 1, 6 * CHECK_DEADLINE_MS) != 1 || !(p.revents & POLLIN))
        return CL_CKPT_ERR_TIMEOUT;
    return clCkptBackupWait(w, 0);
}

/* Restores backup (or copy id) into target and returns the restored handle (0 when not opened). */
static ClRcT restore(const char *backup, ClUint64T copyId, const char *target, const ClCkptRestoreOptionsT *o,
                     ClCkptHdlT *out) {
    ClNameT b = check_name(backup != NULL ? backup : ""), t = check_name(target);
    ClCkptBackupWaitT w = 0;
    ClRcT rc = clCkptRestoreStart(svc, backup != NULL ? &b : NULL, copyId, &t, o, &w);
    if (rc != CL_OK)
        return rc;
    rc = wait_done(w);
    if (rc == CL_OK && out != NULL)
        rc = clCkptRestoreHandleGet(w, out);
    CHECK_RC(clCkptBackupWaitFinalize(w), CL_OK);
    return rc;
}

static int count_copies(const char *archive, const char *pattern) {
    ClCkptBackupQueryT q;
    memset(&q, 0, sizeof q);
    q.size = sizeof q;
    q.version = CL_CKPT_BACKUP_VERSION;
    q.archive = archive;
    q.backupPattern = pattern;
    ClCkptBackupQueryHdlT qh = 0;
    if (clCkptBackupQueryInitialize(svc, &q, &qh) != CL_OK)
        return -1;
    int n = 0;
    ClCkptBackupDescriptorT d;
    while (clCkptBackupQueryNext(qh, &d) == CL_OK)
        n++;
    CHECK_RC(clCkptBackupQueryNext(qh, &d), CL_CKPT_ERR_NOT_EXIST);
    CHECK_RC(clCkptBackupQueryFinalize(qh), CL_OK);
    return n;
}

int main(void) {
    make_sids();
    svc = check_init();
    char archive[512];
    const char *data = getenv("CLCKPT_DATA_DIR");
    snprintf(archive, sizeof archive, "%s/archive", data != NULL ? data : "/tmp");

    ClCkptCheckpointCreationAttributesT a = check_attrs(CL_CKPT_WR_ALL_REPLICAS, NSEC, 0, CL_TIME_END);
    src = check_open(svc, "bk-src", &a, CHECK_RW);
    static char pad[8 + PAD];
    for (int i = 0; i < NSEC; i++) {
        ClCkptSectionIdT s = sid(i);
        ClCkptSectionCreationAttributesT sa = {&s, (ClTimeT)CL_TIME_END};
        REQUIRE_RC(clCkptSectionCreate(src, &sa, (ClUint8T *)pad, sizeof pad), CL_OK);
    }

    /* A backup while writers keep every section at the same counter. */
    pthread_t th[WRITERS];
    for (int i = 0; i < WRITERS; i++)
        pthread_create(&th[i], NULL, writer, (void *)(intptr_t)i);
    while (__atomic_load_n(&acked, __ATOMIC_SEQ_CST) < 50)
        check_sleep_ms(1);
    ClCkptBackupOptionsT o = options(archive);
    o.description = "nightly";
    o.objectInfo = "test_backup";
    o.compression = CL_CKPT_BACKUP_COMPRESS_ZSTD;
    ClNameT bn = check_name("bk-one");
    ClCkptBackupWaitT w = 0;
    REQUIRE_RC(clCkptBackupStart(&src, &bn, 1, &o, &w), CL_OK);
    CHECK_RC(wait_done(w), CL_OK);
    CHECK_RC(clCkptBackupWait(w, 0), CL_OK); /* again: the same answer */
    ClUint64T done = 0, total = 0;
    CHECK_RC(clCkptBackupProgressGet(w, &done, &total), CL_OK);
    CHECK(done > 0 && done == total);
    ClCkptBackupDescriptorT d;
    CHECK_RC(clCkptBackupResultGet(w, 0, &d), CL_OK);
    CHECK(d.copyId != 0);
    CHECK(d.backupName.length == 6 && memcmp(d.backupName.value, "bk-one", 6) == 0);
    CHECK(d.checkpointName.length == 6 && memcmp(d.checkpointName.value, "bk-src", 6) == 0);
    CHECK(strcmp(d.description, "nightly") == 0 && strcmp(d.objectInfo, "test_backup") == 0);
    CHECK(strlen(d.digest) == 64 && d.size == done);
    CHECK_EQ(d.status, CL_CKPT_BACKUP_STATUS_MOST_RECENT);
    CHECK_EQ(d.copyType, CL_CKPT_BACKUP_COPY_BACKUP);
    CHECK_EQ(d.compression, CL_CKPT_BACKUP_COMPRESS_ZSTD);
    CHECK(d.createTime > 0 && d.expireTime == 0);
    ClUint64T copyId = d.copyId;
    CHECK_RC(clCkptBackupResultGet(w, 1, &d), CL_CKPT_ERR_INVALID_PARAMETER);
    CHECK_RC(clCkptBackupResultGet(w, 0, NULL), CL_CKPT_ERR_NULL_POINTER);
    ClCkptHdlT none = 0;
    CHECK_RC(clCkptRestoreHandleGet(w, &none), CL_CKPT_ERR_BAD_OPERATION);
    CHECK_RC(clCkptBackupWaitFinalize(w), CL_OK);
    CHECK_RC(clCkptBackupWait(w, 0), CL_CKPT_ERR_INVALID_HANDLE);

    /* The name is taken, unless overwrite is set. */
    CHECK_RC(clCkptBackupStart(&src, &bn, 1, &o, &w), CL_CKPT_ERR_ALREADY_EXIST);
    ClNameT bn2 = check_name("bk-two");
    o.overwrite = CL_TRUE;
    REQUIRE_RC(clCkptBackupStart(&src, &bn2, 1, &o, &w), CL_OK);
    CHECK_RC(wait_done(w), CL_OK);
    CHECK_RC(clCkptBackupWaitFinalize(w), CL_OK);
    REQUIRE_RC(clCkptBackupStart(&src, &bn2, 1, &o, &w), CL_OK);
    CHECK_RC(wait_done(w), CL_OK);
    CHECK_RC(clCkptBackupWaitFinalize(w), CL_OK);
    CHECK_EQ(count_copies(archive, "bk-two"), 1);
    CHECK_EQ(count_copies(archive, "bk-*"), 2);

    __atomic_store_n(&stop, 1, __ATOMIC_RELEASE);
    for (int i = 0; i < WRITERS; i++) {
        pthread_join(th[i], NULL);
        CHECK_RC(writer_rc[i], CL_OK);
    }
    uint64_t last = __atomic_load_n(&acked, __ATOMIC_SEQ_CST);
    uint64_t final = same_counter(src); /* the last write applied (not always the highest counter) */
    CHECK(final != 0);

    /* Restore into a new name: a cut of the checkpoint. */
    ClCkptRestoreOptionsT ro = restore_options(archive, CL_FALSE, CL_CKPT_CHECKPOINT_READ);
    ClCkptHdlT r = 0;
    CHECK_RC(restore("bk-one", 0, "bk-new", &ro, &r), CL_OK);
    uint64_t cut = same_counter(r);
    CHECK(cut != 0 && cut <= last);
    ClCkptCheckpointDescriptorT st;
    CHECK_RC(clCkptCheckpointStatusGet(r, &st), CL_OK);
    CHECK_EQ(st.numberOfSections, NSEC);
    CHECK_EQ(st.checkpointCreationAttributes.maxSections, NSEC);
    CHECK_RC(clCkptCheckpointClose(r), CL_OK);

    /* Over an existing checkpoint: refused without replace, atomic with it. */
    CHECK_RC(restore("bk-one", 0, "bk-src", &ro, NULL), CL_CKPT_ERR_ALREADY_EXIST);
    ro.replace = CL_TRUE;
    CHECK_RC(restore("bk-one", 0, "bk-src", &ro, &r), CL_OK);
    CHECK_EQ(same_counter(r), cut);
    CHECK_RC(clCkptCheckpointClose(r), CL_OK);
    ClCkptHdlT again = check_open(svc, "bk-src", NULL, CL_CKPT_CHECKPOINT_READ);
    CHECK_EQ(same_counter(again), cut);
    CHECK_RC(clCkptCheckpointClose(again), CL_OK);
    CHECK_EQ(same_counter(src), final); /* the handle open before keeps the old checkpoint */

    /* By copy id, not kept open. */
    ro = restore_options(archive, CL_FALSE, 0);
    r = 0;
    CHECK_RC(restore(NULL, copyId, "bk-byid", &ro, &r), CL_CKPT_ERR_NOT_EXIST);
    ClCkptHdlT byid = check_open(svc, "bk-byid", NULL, CL_CKPT_CHECKPOINT_READ);
    CHECK_EQ(same_counter(byid), cut);
    CHECK_RC(clCkptCheckpointClose(byid), CL_OK);

    /* Cancel: the backup ends cancelled (nothing committed) or had already committed. */
    ClNameT bc = check_name("bk-cancel");
    o.overwrite = CL_FALSE;
    REQUIRE_RC(clCkptBackupStart(&src, &bc, 1, &o, &w), CL_OK);
    CHECK_RC(clCkptBackupCancel(w), CL_OK);
    ClRcT crc = wait_done(w);
    CHECK(crc == CL_CKPT_ERR_BAD_OPERATION || crc == CL_OK);
    CHECK_EQ(count_copies(archive, "bk-cancel"), crc == CL_OK ? 1 : 0);
    CHECK_RC(clCkptBackupWaitFinalize(w), CL_OK);

    /* A damaged copy: one byte of its archive object flipped. */
    char path[700];
    snprintf(path, sizeof path, "%s/data/%016llx", archive, (unsigned long long)copyId);
    int fd = open(path, O_RDWR);
    CHECK(fd >= 0);
    if (fd >= 0) {
        off_t at = lseek(fd, 0, SEEK_END) / 2;
        unsigned char b = 0;
        CHECK(pread(fd, &b, 1, at) == 1);
        b ^= 0x40;
        CHECK(pwrite(fd, &b, 1, at) == 1);
        close(fd);
    }
    ro = restore_options(archive, CL_FALSE, CL_CKPT_CHECKPOINT_READ);
    CHECK_RC(restore("bk-one", 0, "bk-damaged", &ro, NULL), CL_CKPT_ERR_NO_RESOURCE);
    ClNameT dn = check_name("bk-damaged");
    CHECK_RC(clCkptCheckpointOpen(svc, &dn, NULL, CL_CKPT_CHECKPOINT_READ, 0, &r), CL_CKPT_ERR_NOT_EXIST);

    /* Bad inputs. */
    ClCkptBackupOptionsT bad = options(archive);
    CHECK_RC(clCkptBackupStart(NULL, &bn, 1, &bad, &w), CL_CKPT_ERR_NULL_POINTER);
    CHECK_RC(clCkptBackupStart(&src, NULL, 1, &bad, &w), CL_CKPT_ERR_NULL_POINTER);
    CHECK_RC(clCkptBackupStart(&src, &bn, 1, NULL, &w), CL_CKPT_ERR_NULL_POINTER);
    CHECK_RC(clCkptBackupStart(&src, &bn, 1, &bad, NULL), CL_CKPT_ERR_NULL_POINTER);
    CHECK_RC(clCkptBackupStart(&src, &bn, 0, &bad, &w), CL_CKPT_ERR_INVALID_PARAMETER);
    ClCkptHdlT stale = 0x12345;
    ClNameT bx = check_name("bk-x");
    CHECK_RC(clCkptBackupStart(&stale, &bx, 1, &bad, &w), CL_CKPT_ERR_INVALID_HANDLE);
    char longdesc[CL_CKPT_BACKUP_MAX_DESCRIPTION + 2];
    memset(longdesc, 'd', sizeof longdesc - 1);
    longdesc[sizeof longdesc - 1] = 0;
    bad.description = longdesc;
    CHECK_RC(clCkptBackupStart(&src, &bx, 1, &bad, &w), CL_CKPT_ERR_INVALID_PARAMETER);
    bad = options(archive);
    bad.size = 8;
    CHECK_RC(clCkptBackupStart(&src, &bx, 1, &bad, &w), CL_CKPT_ERR_INVALID_PARAMETER);
    bad = options(archive);
    bad.version = 2;
    CHECK_RC(clCkptBackupStart(&src, &bx, 1, &bad, &w), CL_CKPT_ERR_INVALID_PARAMETER);
    bad = options("relative/dir");
    CHECK_RC(clCkptBackupStart(&src, &bx, 1, &bad, &w), CL_CKPT_ERR_INVALID_PARAMETER);
    bad = options(archive);
    bad.copyType = 7;
    CHECK_RC(clCkptBackupStart(&src, &bx, 1, &bad, &w), CL_CKPT_ERR_INVALID_PARAMETER);
    ClNameT twice[2] = {bx, bx};
    ClCkptHdlT two[2] = {src, src};
    bad = options(archive);
    CHECK_RC(clCkptBackupStart(two, twice, 2, &bad, &w), CL_CKPT_ERR_INVALID_PARAMETER);
    ClNameT empty = check_name("");
    CHECK_RC(clCkptBackupStart(&src, &empty, 1, &bad, &w), CL_CKPT_ERR_INVALID_PARAMETER);
    ro = restore_options(archive, CL_FALSE, CL_CKPT_CHECKPOINT_READ);
    CHECK_RC(clCkptRestoreStart(svc, NULL, 0, NULL, &ro, &w), CL_CKPT_ERR_INVALID_PARAMETER);
    CHECK_RC(clCkptRestoreStart(svc, &bn, 0, NULL, NULL, &w), CL_CKPT_ERR_NULL_POINTER);
    CHECK_RC(clCkptRestoreStart(0x777, &bn, 0, NULL, &ro, &w), CL_CKPT_ERR_INVALID_HANDLE);
    ro.openFlags = CL_CKPT_CHECKPOINT_CREATE;
    CHECK_RC(clCkptRestoreStart(svc, &bn, 0, NULL, &ro, &w), CL_CKPT_ERR_INVALID_PARAMETER);
    ro = restore_options(archive, CL_FALSE, CL_CKPT_CHECKPOINT_READ);
    CHECK_RC(restore("bk-none", 0, "bk-none", &ro, NULL), CL_CKPT_ERR_NOT_EXIST);
    CHECK_RC(clCkptBackupWait(0, 0), CL_CKPT_ERR_INVALID_HANDLE);
    CHECK_RC(clCkptBackupCancel(0x4242), CL_CKPT_ERR_INVALID_HANDLE);
    CHECK_RC(clCkptBackupProgressGet(src, NULL, NULL), CL_CKPT_ERR_INVALID_HANDLE);
    CHECK_RC(clCkptBackupWaitFinalize(svc), CL_CKPT_ERR_INVALID_HANDLE);
    ClSelectionObjectT so;
    CHECK_RC(clCkptBackupSelectionObjectGet(0x4242, &so), CL_CKPT_ERR_INVALID_HANDLE);
    ClUint64T ghost = 0x1234;
    CHECK_RC(clCkptBackupDelete(svc, archive, &ghost, 1), CL_CKPT_ERR_NOT_EXIST);
    CHECK_RC(clCkptBackupDelete(svc, archive, NULL, 1), CL_CKPT_ERR_NULL_POINTER);
    CHECK_RC(clCkptBackupQueryInitialize(svc, NULL, NULL), CL_CKPT_ERR_NULL_POINTER);
    CHECK_RC(clCkptBackupQueryNext(0x4242, &d), CL_CKPT_ERR_INVALID_HANDLE);

    /* Copies whose checkpoint or backup name a ClNameT cannot hold (a saCkpt program's checkpoint
     * named with up to 2048 bytes) are left out of queries, never listed under a name cut short. */
    int before = count_copies(archive, NULL);
    CHECK(before > 0);
    snprintf(path, sizeof path, "%s/catalog/20260101T000000.000000000Z-00000000000000aa.json", archive);
    FILE *f = fopen(path, "w");
    REQUIRE_RC(f != NULL ? CL_OK : CL_CKPT_ERR_NO_RESOURCE, CL_OK);
    fprintf(f, "{\"format\":1,\"txn\":\"20260101T000000.000000000Z-00000000000000aa\",\"time\":\"2026-01-01T00:00:00Z\",\"entries\":[");
    for (int i = 0; i < 2; i++) {
        fprintf(f, "%s{\"CopyID\":%d,\"Checkpoint\":\"", i ? "," : "", 777001 + i);
        for (int k = 0; k < (i == 0 ? 2048 : 8); k++)
            fputc('L', f);
        fprintf(f, "\",\"BackupName\":\"bk-long-%d", i);
        for (int k = 0; k < (i == 0 ? 0 : CL_MAX_NAME_LENGTH); k++)
            fputc('B', f);
        fprintf(f, "\",\"Owner\":\"0:x\",\"Created\":\"2026-01-01T00:00:00Z\",\"Size\":1,\"Digest\":\"00\","
                   "\"CopyType\":1,\"Description\":\"\",\"ObjectInfo\":\"\",\"Expires\":\"0001-01-01T00:00:00Z\","
                   "\"Epoch\":1,\"LSN\":1,\"Compression\":0}");
    }
    fprintf(f, "]}\n");
    CHECK(fclose(f) == 0);
    CHECK_EQ(count_copies(archive, "bk-long-*"), 0);
    CHECK_EQ(count_copies(archive, NULL), before);
    /* Nor is such a copy restored under its own name through clCkpt; under another one it may be
     * (this copy has no archive object: the restore then fails as for any missing object). */
    ro = restore_options(archive, CL_FALSE, CL_CKPT_CHECKPOINT_READ);
    ClCkptBackupWaitT lw = 0;
    CHECK_RC(clCkptRestoreStart(svc, NULL, 777001, NULL, &ro, &lw), CL_CKPT_ERR_INVALID_PARAMETER);
    ClNameT bl = check_name("bk-long-0");
    CHECK_RC(clCkptRestoreStart(svc, &bl, 0, NULL, &ro, &lw), CL_CKPT_ERR_INVALID_PARAMETER);
    CHECK(restore("bk-long-0", 0, "bk-long-target", &ro, NULL) != CL_OK);
    CHECK(remove(path) == 0);

    /* Delete: one commit; the copies are gone from queries. */
    ClUint64T del[1] = {copyId};
    CHECK_RC(clCkptBackupDelete(svc, archive, del, 1), CL_OK);
    CHECK_EQ(count_copies(archive, "bk-one"), 0);
    CHECK_RC(clCkptBackupDelete(svc, archive, del, 1), CL_CKPT_ERR_NOT_EXIST);

    CHECK_RC(clCkptCheckpointClose(src), CL_OK);
    CHECK_RC(clCkptFinalize(svc), CL_OK);
    DONE();
}
