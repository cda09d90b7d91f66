/*
 * What the SAF API adds over the clCkpt API: saCkptSectionOverwrite and saCkptCheckpointRead (a
 * B.02.02 client, so with its strictness checks) beside clCkptSectionOverwrite and
 * clCkptCheckpointRead of 256 B and 4 KiB, in one process, on the same checkpoint, in the same run
 * (both front libraries over the one core). Each call is timed alone with CLOCK_MONOTONIC; the
 * rounds alternate the two APIs to even out drift.
 *
 * Usage: saf_bench [calls per round] [rounds]
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <clCkptApi.h>
#include <saCkpt.h>

#include "timing.h"

static void die(const char *what, unsigned rc) {
    fprintf(stderr, "%s failed: 0x%x\n", what, rc);
    exit(1);
}

int main(int argc, char **argv) {
    unsigned calls = argc > 1 ? (unsigned)atoi(argv[1]) : 20000;
    unsigned rounds = argc > 2 ? (unsigned)atoi(argv[2]) : 5;
    SaCkptHandleT lib;
    SaVersionT sv = {'B', 2, 2};
    SaAisErrorT err = saCkptInitialize(&lib, NULL, &sv);
    if (err != SA_AIS_OK)
        die("saCkptInitialize", err);
    ClCkptSvcHdlT svc;
    ClVersionT cv = {'B', 1, 1};
    ClRcT rc = clCkptInitialize(&svc, NULL, &cv);
    if (rc != CL_OK)
        die("clCkptInitialize", rc);
    SaNameT sname;
    saAisNameLend("safCkpt=bench", &sname);
    SaCkptCheckpointCreationAttributesT attrs = {
        .creationFlags = SA_CKPT_WR_ACTIVE_REPLICA, .checkpointSize = 0, .retentionDuration = 0,
        .maxSections = 4, .maxSectionSize = 4096, .maxSectionIdSize = 16};
    SaCkptCheckpointHandleT sh;
    err = saCkptCheckpointOpen(lib, &sname, &attrs,
                               SA_CKPT_CHECKPOINT_READ | SA_CKPT_CHECKPOINT_WRITE | SA_CKPT_CHECKPOINT_CREATE, 0, &sh);
    if (err != SA_AIS_OK)
        die("saCkptCheckpointOpen", err);
    ClNameT cname;
    clNameSet(&cname, "safCkpt=bench");
    ClCkptHdlT ch;
    rc = clCkptCheckpointOpen(svc, &cname, NULL, CL_CKPT_CHECKPOINT_READ | CL_CKPT_CHECKPOINT_WRITE, CL_TIME_END, &ch);
    if (rc != CL_OK)
        die("clCkptCheckpointOpen", rc);

    printf("SAF API vs clCkpt API on the same checkpoint, %u calls x %u rounds per cell\n\n", calls, rounds);
    printf("%-10s %-6s %12s %12s %12s %10s\n", "call", "size", "SAF p50", "clCkpt p50", "added p50", "SAF p99");
    const size_t sizes[] = {256, 4096};
    long long *s_ns = malloc(sizeof(long long) * calls * rounds);
    long long *c_ns = malloc(sizeof(long long) * calls * rounds);
    char *buf = malloc(4096);
    memset(buf, 'x', 4096);
    int worst = 0;
    for (int s = 0; s < 2; s++) {
        size_t size = sizes[s];
        SaCkptSectionIdT ssid = {(SaUint16T)(s == 0 ? 4 : 5), (SaUint8T *)(s == 0 ? "s256" : "s4096")};
        ClCkptSectionIdT csid = {ssid.idLen, ssid.id};
        SaCkptSectionCreationAttributesT sa = {&ssid, SA_TIME_END};
        if ((err = saCkptSectionCreate(sh, &sa, buf, size)) != SA_AIS_OK)
            die("saCkptSectionCreate", err);
        for (int op = 0; op < 2; op++) {
            for (unsigned r = 0; r < rounds; r++) {
                long long *sv_ns = s_ns + (size_t)r * calls, *cv_ns = c_ns + (size_t)r * calls;
                for (unsigned i = 0; i < calls; i++) {
                    long long t0 = now_ns();
                    if (op == 0) {
                        err = saCkptSectionOverwrite(sh, &ssid, buf, size);
                    } else {
                        SaCkptIOVectorElementT iov = {ssid, buf, size, 0, 0};
                        err = saCkptCheckpointRead(sh, &iov, 1, NULL);
                    }
                    sv_ns[i] = now_ns() - t0;
                    if (err != SA_AIS_OK)
                        die(op == 0 ? "saCkptSectionOverwrite" : "saCkptCheckpointRead", err);
                }
                for (unsigned i = 0; i < calls; i++) {
                    long long t0 = now_ns();
                    if (op == 0) {
                        rc = clCkptSectionOverwrite(ch, &csid, buf, size);
                    } else {
                        ClCkptIOVectorElementT iov = {csid, buf, size, 0, 0};
                        rc = clCkptCheckpointRead(ch, &iov, 1, NULL);
                    }
                    cv_ns[i] = now_ns() - t0;
                    if (rc != CL_OK)
                        die(op == 0 ? "clCkptSectionOverwrite" : "clCkptCheckpointRead", rc);
                }
            }
            size_t n = (size_t)calls * rounds;
            long long s50 = pct(s_ns, n, 50), c50 = pct(c_ns, n, 50), s99 = pct(s_ns, n, 99);
            long long added = s50 - c50;
            printf("%-10s %-6zu %10.2fus %10.2fus %10.2fus %8.2fus%s\n", op == 0 ? "Overwrite" : "Read", size,
                   s50 / 1e3, c50 / 1e3, added / 1e3, s99 / 1e3, added <= 500 ? "" : "   (goal: <= 0.5 us added)");
            if (added > 500)
                worst = 1;
        }
    }
    printf("\ngoal: the SAF API adds <= 0.5 us p50 per call over clCkpt -> %s\n", worst ? "NOT met" : "met");
    saCkptCheckpointUnlink(lib, &sname);
    clCkptCheckpointClose(ch);
    saCkptCheckpointClose(sh);
    clCkptFinalize(svc);
    saCkptFinalize(lib);
    free(s_ns);
    free(c_ns);
    free(buf);
    return 0;
}
