/*
 * ckptFaults: the C side of the fault tests in gotests/faults_test.go, through the real library.
 *
 *   ckptFaults init              calls clCkptInitialize and prints "init 0x<rc>" (then finalizes).
 *   ckptFaults fill NAME KIB     initializes, opens the checkpoint NAME (creating it) and reads
 *                                commands on stdin, one per line:
 *     fill        creates sections s0000, s0001, ... of KIB KiB each (content: pattern(i)) until one
 *                 is refused five times in a row, 200 ms apart: prints "ack I" for each, then
 *                 "refused I 0x<rc>"; then checks that the
 *                 checkpoint still reads and that an overwrite is refused too ("overwrite 0x<rc>").
 *     write N     creates the next N sections; "ack I" for each, "error I 0x<rc>" on a failure.
 *     delete      deletes the last section made ("delete 0x<rc>").
 *     check N     reads sections 0..N-1 and compares them with their pattern: "verified N" or "bad I 0x<rc>".
 *     loop S N    creates sections 0..N-1 if needed, then overwrites them in turn for S seconds, each
 *                 time with new content; "error I 0x<rc>" for each failure, then "looped W F": W
 *                 overwrites made, F failed. check then expects the content of the last overwrite.
 *     quit        finalizes and exits.
 * Every line it prints is flushed at once: the test kills it with SIGKILL between commands.
 */
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "check.h"

static size_t size;
static ClCkptHdlT ckpt;
static int next;
static int generation[4096]; /* the loop's overwrites of each section */

static void pattern(int i, unsigned char *buf) {
    for (size_t j = 0; j < size; j++)
        buf[j] = (unsigned char)(i * 131 + j * 7 + (j >> 12));
}

static ClRcT create(int i, unsigned char *buf) {
    char id[16];
    snprintf(id, sizeof id, "s%04d", i);
    ClCkptSectionIdT sid = {(ClUint16T)strlen(id), (ClUint8T *)id};
    ClCkptSectionCreationAttributesT attrs = {&sid, CL_TIME_END};
    pattern(i, buf);
    ClRcT rc = clCkptSectionCreate(ckpt, &attrs, buf, size);
    if (rc == CL_CKPT_ERR_ALREADY_EXIST) /* made by the run before a restart */
        rc = CL_OK;
    return rc;
}

static ClRcT overwrite(int i, int content, unsigned char *buf) {
    char id[16];
    snprintf(id, sizeof id, "s%04d", i);
    ClCkptSectionIdT sid = {(ClUint16T)strlen(id), (ClUint8T *)id};
    pattern(content, buf);
    return clCkptSectionOverwrite(ckpt, &sid, buf, size);
}

static ClRcT readback(int i, unsigned char *want, unsigned char *got) {
    char id[16];
    snprintf(id, sizeof id, "s%04d", i);
    ClCkptIOVectorElementT iov = {{(ClUint16T)strlen(id), (ClUint8T *)id}, got, size, 0, 0};
    ClRcT rc = clCkptCheckpointRead(ckpt, &iov, 1, NULL);
    if (rc != CL_OK)
        return rc;
    pattern(i + generation[i], want);
    return iov.readSize == size && memcmp(want, got, size) == 0 ? CL_OK : CL_CKPT_ERR_UNSPECIFIED;
}

int main(int argc, char **argv) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    ClCkptSvcHdlT svc;
    ClVersionT version = {'B', 1, 1};
    if (argc == 2 && strcmp(argv[1], "init") == 0) {
        ClRcT rc = clCkptInitialize(&svc, NULL, &version);
        printf("init 0x%x\n", rc);
        if (rc == CL_OK)
            clCkptFinalize(svc);
        return 0;
    }
    if (argc != 4 || strcmp(argv[1], "fill") != 0) {
        fprintf(stderr, "usage: ckptFaults init | ckptFaults fill NAME KIB\n");
        return 2;
    }
    size = (size_t)atoi(argv[3]) * 1024;
    ClRcT rc = clCkptInitialize(&svc, NULL, &version);
    if (rc != CL_OK) {
        printf("init 0x%x\n", rc);
        return 1;
    }
    ClNameT name;
    clNameSet(&name, argv[2]);
    ClCkptCheckpointCreationAttributesT attrs = {.creationFlags = CL_CKPT_WR_ALL_REPLICAS, .checkpointSize = 0,
        .retentionDuration = CL_TIME_END, .maxSections = 4096, .maxSectionSize = size, .maxSectionIdSize = 16};
    rc = clCkptCheckpointOpen(svc, &name, &attrs,
        CL_CKPT_CHECKPOINT_READ | CL_CKPT_CHECKPOINT_WRITE | CL_CKPT_CHECKPOINT_CREATE, CL_TIME_END, &ckpt);
    if (rc != CL_OK) {
        printf("open 0x%x\n", rc);
        return 1;
    }
    unsigned char *buf = malloc(size), *got = malloc(size);
    printf("ready\n");
    char line[64];
    while (fgets(line, sizeof line, stdin)) {
        int n = 0, secs = 0;
        if (strncmp(line, "fill", 4) == 0) {
            /* Full means refused five times in a row: the store frees its own log when it can. */
            for (int refusals = 0; refusals < 5;) {
                if ((rc = create(next, buf)) == CL_OK) {
                    printf("ack %d\n", next++);
                    refusals = 0;
                } else {
                    refusals++;
                    usleep(200 * 1000);
                }
            }
            printf("refused %d 0x%x\n", next, rc);
            if (next > 0) {
                ClRcT r = readback(next - 1, buf, got);
                printf("read 0x%x\n", r);
                char id[16];
                snprintf(id, sizeof id, "s%04d", next - 1);
                ClCkptSectionIdT sid = {(ClUint16T)strlen(id), (ClUint8T *)id};
                printf("overwrite 0x%x\n", clCkptSectionOverwrite(ckpt, &sid, buf, size));
            }
        } else if (sscanf(line, "write %d", &n) == 1) {
            for (int k = 0; k < n; k++, next++) {
                if ((rc = create(next, buf)) != CL_OK) {
                    printf("error %d 0x%x\n", next, rc);
                    break;
                }
                printf("ack %d\n", next);
            }
        } else if (sscanf(line, "loop %d %d", &secs, &n) == 2 && n > 0 && n <= 4096) {
            long made = 0, failed = 0;
            for (int i = 0; i < n; i++)
                if ((rc = create(i, buf)) != CL_OK)
                    printf("error %d 0x%x\n", i, rc);
            time_t end = time(NULL) + secs;
            for (int i = 0; time(NULL) < end; i = (i + 1) % n) {
                if ((rc = overwrite(i, i + generation[i] + 1, buf)) == CL_OK) {
                    generation[i]++;
                    made++;
                } else {
                    if (failed++ < 10) /* a full disk would print millions */
                        printf("error %d 0x%x\n", i, rc);
                }
            }
            printf("looped %ld %ld\n", made, failed);
        } else if (sscanf(line, "check %d", &n) == 1) {
            int bad = -1;
            for (int i = 0; i < n && bad < 0; i++)
                if ((rc = readback(i, buf, got)) != CL_OK)
                    bad = i;
            if (bad < 0) {
                printf("verified %d\n", n);
                next = n;
            } else {
                printf("bad %d 0x%x\n", bad, rc);
            }
        } else if (strncmp(line, "delete", 6) == 0 && next > 0) {
            char id[16];
            snprintf(id, sizeof id, "s%04d", next - 1);
            ClCkptSectionIdT sid = {(ClUint16T)strlen(id), (ClUint8T *)id};
            rc = clCkptSectionDelete(ckpt, &sid);
            printf("delete 0x%x\n", rc);
            if (rc == CL_OK)
                next--;
        } else if (strncmp(line, "quit", 4) == 0) {
            break;
        }
    }
    free(buf);
    free(got);
    clCkptCheckpointClose(ckpt);
    clCkptFinalize(svc);
    return 0;
}
