/*
 * hotstandby: an NCS-style active/standby pair on the SAF checkpoint API (saCkpt.h, cpsv_papi.h).
 *
 *   hotstandby active    creates safCkpt=hotstandby (collocated, written through the active replica),
 *                        makes its replica active and writes a counter every 200 ms, synchronizing
 *                        each value to the replicas before printing it;
 *   hotstandby standby   opens it, registers ncsCkptRegisterCkptArrivalCallback and follows each
 *                        value in saCkptDispatch (poll on the selection object); on SIGUSR1 it takes
 *                        over: saCkptActiveReplicaSet, read the counter, go on counting.
 *
 * Build: cc hotstandby.c $(pkg-config --cflags --libs SaCkpt)
 */
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <saCkpt.h>
#include <opensaf/cpsv_papi.h>

static SaCkptHandleT lib;
static SaCkptCheckpointHandleT ckpt;
static volatile sig_atomic_t take_over, stop;
static uint64_t followed;

static void on_usr1(int sig) { (void)sig, take_over = 1; }
static void on_term(int sig) { (void)sig, stop = 1; }

static void sleep_ms(long ms) {
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* Arrival: one element per written element, dataBuffer NULL; fetch the data with the vector. */
static void on_arrival(const SaCkptCheckpointHandleT h, SaCkptIOVectorElementT *v, SaUint32T n) {
    for (SaUint32T i = 0; i < n; i++) {
        uint64_t value = 0;
        SaCkptIOVectorElementT e = v[i];
        e.dataBuffer = &value;
        e.dataSize = sizeof value;
        if (saCkptCheckpointRead(h, &e, 1, NULL) == SA_AIS_OK && e.readSize == sizeof value) {
            followed = value;
            printf("standby: arrival, counter = %llu\n", (unsigned long long)value);
        }
    }
    fflush(stdout);
}

static int count_from(uint64_t value) {
    SaCkptSectionIdT def = SA_CKPT_DEFAULT_SECTION_ID;
    while (!stop) {
        value++;
        if (saCkptSectionOverwrite(ckpt, &def, &value, sizeof value) != SA_AIS_OK ||
            saCkptCheckpointSynchronize(ckpt, 10 * SA_TIME_ONE_SECOND) != SA_AIS_OK) {
            fprintf(stderr, "write of %llu failed\n", (unsigned long long)value);
            return 1;
        }
        printf("active: counter = %llu\n", (unsigned long long)value);
        fflush(stdout);
        sleep_ms(200);
    }
    return 0;
}

int main(int argc, char **argv) {
    int active = argc > 1 && strcmp(argv[1], "active") == 0;
    if (argc != 2 || (!active && strcmp(argv[1], "standby") != 0)) {
        fprintf(stderr, "usage: %s active|standby\n", argv[0]);
        return 2;
    }
    signal(SIGUSR1, on_usr1);
    signal(SIGTERM, on_term);
    SaVersionT version = {'B', 2, 2};
    if (saCkptInitialize(&lib, NULL, &version) != SA_AIS_OK)
        return 1;
    SaNameT name;
    saAisNameLend("safCkpt=hotstandby", &name);
    SaCkptCheckpointCreationAttributesT attrs = {
        .creationFlags = SA_CKPT_WR_ACTIVE_REPLICA | SA_CKPT_CHECKPOINT_COLLOCATED,
        .checkpointSize = sizeof(uint64_t), .retentionDuration = SA_TIME_END,
        .maxSections = 1, .maxSectionSize = sizeof(uint64_t), .maxSectionIdSize = 0};
    SaCkptCheckpointOpenFlagsT flags = SA_CKPT_CHECKPOINT_READ | SA_CKPT_CHECKPOINT_WRITE | SA_CKPT_CHECKPOINT_CREATE;
    if (saCkptCheckpointOpen(lib, &name, &attrs, flags, SA_TIME_END, &ckpt) != SA_AIS_OK)
        return 1;
    int rc = 0;
    if (active) {
        if (saCkptActiveReplicaSet(ckpt) != SA_AIS_OK)
            return 1;
        rc = count_from(0);
    } else {
        SaSelectionObjectT so;
        if (ncsCkptRegisterCkptArrivalCallback(lib, on_arrival) != SA_AIS_OK ||
            saCkptSelectionObjectGet(lib, &so) != SA_AIS_OK)
            return 1;
        printf("standby: following\n");
        fflush(stdout);
        while (!take_over && !stop) {
            struct pollfd p = {(int)so, POLLIN, 0};
            if (poll(&p, 1, 100) == 1)
                saCkptDispatch(lib, SA_DISPATCH_ALL);
        }
        if (take_over) {
            SaAisErrorT err;
            while ((err = saCkptActiveReplicaSet(ckpt)) == SA_AIS_ERR_TRY_AGAIN)
                sleep_ms(100);
            uint64_t value = 0;
            SaCkptIOVectorElementT e = {SA_CKPT_DEFAULT_SECTION_ID, &value, sizeof value, 0, 0};
            if (err != SA_AIS_OK || saCkptCheckpointRead(ckpt, &e, 1, NULL) != SA_AIS_OK)
                return 1;
            printf("standby: took over at counter = %llu (last followed %llu)\n", (unsigned long long)value,
                   (unsigned long long)followed);
            fflush(stdout);
            rc = count_from(value);
        }
    }
    saCkptCheckpointClose(ckpt);
    saCkptFinalize(lib);
    return rc;
}
