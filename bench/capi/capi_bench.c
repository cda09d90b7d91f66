/*
 * What the C API adds to a call: clCkptSectionOverwrite and clCkptCheckpointRead of 256 B and
 * 4 KiB through libclckpt.so, beside the same calls made directly on the Go engine behind the same
 * checkpoint handle, in the same process and the same run (the core's bench hook). Each call is
 * timed alone with CLOCK_MONOTONIC; the rounds alternate to even out drift.
 *
 * Usage: capi_bench [calls per round] [rounds]
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <clCkptApi.h>

#include "../../capi/core.h"
#include "timing.h"

static void die(const char *what, ClRcT rc) {
    fprintf(stderr, "%s failed: 0x%x\n", what, rc);
    exit(1);
}

int main(int argc, char **argv) {
    unsigned calls = argc > 1 ? (unsigned)atoi(argv[1]) : 20000;
    unsigned rounds = argc > 2 ? (unsigned)atoi(argv[2]) : 5;
    ClCkptSvcHdlT svc;
    ClVersionT v = {'B', 1, 1};
    ClRcT rc = clCkptInitialize(&svc, NULL, &v);
    if (rc != CL_OK)
        die("clCkptInitialize", rc);
    void *core_lib = dlopen(CLCKPT_CORE_SONAME, RTLD_NOW | RTLD_NOLOAD);
    const struct clckpt_core *(*get)(void) = NULL;
    if (core_lib != NULL)
        *(void **)&get = dlsym(core_lib, "clckpt_core_get");
    if (get == NULL || get()->abi != CLCKPT_CORE_ABI) {
        fprintf(stderr, "cannot find the core's bench hook\n");
        return 1;
    }
    const struct clckpt_core *core = get();

    ClNameT name;
    clNameSet(&name, "bench");
    ClCkptCheckpointCreationAttributesT attrs = {
        .creationFlags = CL_CKPT_WR_ACTIVE_REPLICA, .checkpointSize = 0, .retentionDuration = 0,
        .maxSections = 4, .maxSectionSize = 0, .maxSectionIdSize = 16};
    ClCkptHdlT h;
    rc = clCkptCheckpointOpen(svc, &name, &attrs, CL_CKPT_CHECKPOINT_READ | CL_CKPT_CHECKPOINT_WRITE | CL_CKPT_CHECKPOINT_CREATE,
                              CL_TIME_END, &h);
    if (rc != CL_OK)
        die("clCkptCheckpointOpen", rc);

    printf("C API vs the Go engine behind the same handle, %u calls x %u rounds per cell\n\n", calls, rounds);
    printf("%-10s %-6s %12s %12s %12s %10s\n", "call", "size", "C API p50", "engine p50", "added p50", "C API p99");
    const size_t sizes[] = {256, 4096};
    long long *c_ns = malloc(sizeof(long long) * calls * rounds);
    long long *e_ns = malloc(sizeof(long long) * calls * rounds);
    char *buf = malloc(4096);
    memset(buf, 'x', 4096);
    int worst = 0;
    for (int s = 0; s < 2; s++) {
        size_t size = sizes[s];
        ClCkptSectionIdT sid = {(ClUint16T)(s == 0 ? 4 : 5), (ClUint8T *)(s == 0 ? "s256" : "s4096")};
        ClCkptSectionCreationAttributesT sa = {&sid, CL_TIME_END};
        if ((rc = clCkptSectionCreate(h, &sa, (ClUint8T *)buf, size)) != CL_OK)
            die("clCkptSectionCreate", rc);
        for (ClUint32T op = 0; op < 2; op++) {
            for (unsigned r = 0; r < rounds; r++) {
                long long *c = c_ns + (size_t)r * calls;
                for (unsigned i = 0; i < calls; i++) {
                    long long t0 = now_ns();
                    if (op == 0) {
                        rc = clCkptSectionOverwrite(h, &sid, buf, size);
                    } else {
                        ClCkptIOVectorElementT iov = {sid, buf, size, 0, 0};
                        rc = clCkptCheckpointRead(h, &iov, 1, NULL);
                    }
                    c[i] = now_ns() - t0;
                    if (rc != CL_OK)
                        die(op == 0 ? "clCkptSectionOverwrite" : "clCkptCheckpointRead", rc);
                }
                if ((rc = core->bench_engine(h, op, &sid, buf, size, calls, (ClInt64T *)(e_ns + (size_t)r * calls))) != CL_OK)
                    die("bench_engine", rc);
            }
            size_t n = (size_t)calls * rounds;
            long long c50 = pct(c_ns, n, 50), e50 = pct(e_ns, n, 50), c99 = pct(c_ns, n, 99);
            long long added = c50 - e50;
            printf("%-10s %-6zu %10.2fus %10.2fus %10.2fus %8.2fus%s\n", op == 0 ? "Overwrite" : "Read", size,
                   c50 / 1e3, e50 / 1e3, added / 1e3, c99 / 1e3, added <= 1000 ? "" : "   (goal: <= 1 us added)");
            if (added > 1000)
                worst = 1;
        }
    }
    printf("\ngoal: the C API adds <= 1 us p50 per call -> %s\n", worst ? "NOT met" : "met");
    clCkptCheckpointClose(h);
    clCkptFinalize(svc);
    free(c_ns);
    free(e_ns);
    free(buf);
    return 0;
}
