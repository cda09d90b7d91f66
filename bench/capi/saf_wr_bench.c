/*
 * A SAF program's SA_CKPT_WR_ALL_REPLICAS write with one replica on another member, beside Redis
 * SET + WAIT 1 (a master and one replica) in the same run, rounds alternating: the SAF line of
 * bench/replication's placement (a). This process creates the checkpoint with no server member
 * around, so it holds the only replica and is its active; a standby process, forked before
 * Initialize, opens it for reading and follows it with the NCS arrival callback, which makes its
 * member a replica (the hot-standby pattern). Every write then waits for the standby's
 * acknowledgement. 256 B values; each call is timed alone with CLOCK_MONOTONIC.
 *
 * Usage: saf_wr_bench REDIS-MASTER-PORT [calls per round] [rounds]
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cpsv_papi.h>
#include <saCkpt.h>

#include "timing.h"

#define NAME "safCkpt=wr-all-bench"
#define VALUE 256

static void die(const char *what, unsigned rc) {
    fprintf(stderr, "saf_wr_bench: %s failed: 0x%x\n", what, rc);
    exit(1);
}

/* Initializes a B.02.02 library handle into *lib and opens the checkpoint with flags (creating it
 * with CREATE); who names the process in errors. */
static SaCkptCheckpointHandleT open_bench(SaCkptHandleT *lib, SaCkptCheckpointOpenFlagsT flags, const char *who) {
    SaVersionT v = {'B', 2, 2};
    SaAisErrorT err = saCkptInitialize(lib, NULL, &v);
    if (err != SA_AIS_OK)
        die(who, err);
    SaNameT name;
    saAisNameLend(NAME, &name);
    SaCkptCheckpointCreationAttributesT a = {
        .creationFlags = SA_CKPT_WR_ALL_REPLICAS, .checkpointSize = 0,
        .retentionDuration = 0, .maxSections = 1, .maxSectionSize = VALUE, .maxSectionIdSize = 0};
    SaCkptCheckpointHandleT ck;
    if ((err = saCkptCheckpointOpen(*lib, &name, flags & SA_CKPT_CHECKPOINT_CREATE ? &a : NULL, flags, SA_TIME_END,
                                    &ck)) != SA_AIS_OK)
        die(who, err);
    return ck;
}

/* ---- the standby ------------------------------------------------------------------------------ */

static int arrivals;
static void on_arrival(const SaCkptCheckpointHandleT ck, SaCkptIOVectorElementT *v, SaUint32T n) {
    (void)ck, (void)v;
    arrivals += (int)n;
}

/* Opens the checkpoint once told to, says "ready" once a write of the writer arrived (its replica
 * follows), and keeps dispatching until the writer closes its end of the pipe. */
static int standby(int from_writer, int to_writer) {
    char c;
    if (read(from_writer, &c, 1) != 1)
        return 1;
    SaCkptHandleT lib;
    SaCkptCheckpointHandleT ck = open_bench(&lib, SA_CKPT_CHECKPOINT_READ, "the standby's open");
    SaAisErrorT err;
    SaSelectionObjectT so;
    if ((err = ncsCkptRegisterCkptArrivalCallback(lib, on_arrival)) != SA_AIS_OK ||
        (err = saCkptSelectionObjectGet(lib, &so)) != SA_AIS_OK)
        die("standby arrival callback", err);
    int told = 0;
    for (;;) {
        struct pollfd p[2] = {{(int)so, POLLIN, 0}, {from_writer, POLLIN, 0}};
        if (poll(p, 2, 100) < 0)
            continue;
        if (p[0].revents & POLLIN)
            saCkptDispatch(lib, SA_DISPATCH_ALL);
        if (p[1].revents & (POLLIN | POLLHUP))
            break; /* the writer is done */
        if (arrivals > 0 && !told) {
            told = write(to_writer, "r", 1) == 1;
        }
    }
    saCkptCheckpointClose(ck);
    saCkptFinalize(lib);
    return 0;
}

/* ---- Redis ------------------------------------------------------------------------------------- */

static int redis_dial(int port) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((unsigned short)port)};
    inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        perror("saf_wr_bench: connecting to Redis");
        exit(1);
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return fd;
}

/* SET k <value> and WAIT 1 0 sent together, then both replies read: one round trip, then the
 * replica (as bench/replication does). */
static void redis_set_wait(int fd, const char *cmds, size_t len) {
    if (write(fd, cmds, len) != (ssize_t)len)
        die("Redis write", 0);
    char buf[64];
    size_t got = 0;
    int lines = 0;
    while (lines < 2) {
        ssize_t n = read(fd, buf + got, sizeof buf - got);
        if (n <= 0)
            die("Redis read", 0);
        for (ssize_t i = 0; i < n; i++)
            lines += buf[got + (size_t)i] == '\n';
        got += (size_t)n;
    }
    if (strncmp(buf, "+OK\r\n:1\r\n", 9) != 0)
        die("Redis SET + WAIT 1 (the replica did not acknowledge)", 0);
}

/* ---- the writer -------------------------------------------------------------------------------- */

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: saf_wr_bench REDIS-MASTER-PORT [calls per round] [rounds]\n");
        return 2;
    }
    int redis_port = atoi(argv[1]);
    unsigned calls = argc > 2 ? (unsigned)atoi(argv[2]) : 5000;
    unsigned rounds = argc > 3 ? (unsigned)atoi(argv[3]) : 4;
    int to_standby[2], from_standby[2];
    if (pipe(to_standby) != 0 || pipe(from_standby) != 0)
        die("pipe", 0);
    fflush(stdout);
    pid_t pid = fork(); /* before Initialize: both processes may use the library */
    if (pid == 0) {
        close(to_standby[1]);
        close(from_standby[0]);
        _exit(standby(to_standby[0], from_standby[1]));
    }
    close(to_standby[0]);
    close(from_standby[1]);

    SaCkptHandleT lib;
    SaCkptCheckpointHandleT ck = open_bench(
        &lib, SA_CKPT_CHECKPOINT_READ | SA_CKPT_CHECKPOINT_WRITE | SA_CKPT_CHECKPOINT_CREATE, "the writer's open");
    SaAisErrorT err;
    if (write(to_standby[1], "g", 1) != 1)
        die("starting the standby", 0);
    /* Writes until the standby says a write arrived: its replica follows. */
    SaCkptSectionIdT def = SA_CKPT_DEFAULT_SECTION_ID;
    char data[VALUE];
    memset(data, 'v', sizeof data);
    for (int i = 0;; i++) {
        if ((err = saCkptSectionOverwrite(ck, &def, data, sizeof data)) != SA_AIS_OK)
            die("saCkptSectionOverwrite", err);
        struct pollfd p = {from_standby[0], POLLIN, 0};
        if (poll(&p, 1, 10) == 1)
            break;
        if (i == 3000)
            die("waiting for the standby to follow", 0);
    }

    int rfd = redis_dial(redis_port);
    char cmds[VALUE + 128];
    int len = snprintf(cmds, sizeof cmds, "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$%d\r\n", VALUE);
    memcpy(cmds + len, data, VALUE);
    len += VALUE;
    len += snprintf(cmds + len, sizeof cmds - (size_t)len, "\r\n*3\r\n$4\r\nWAIT\r\n$1\r\n1\r\n$1\r\n0\r\n");

    size_t n = (size_t)calls * rounds;
    long long *ours = malloc(sizeof(long long) * n), *theirs = malloc(sizeof(long long) * n);
    for (unsigned r = 0; r < rounds; r++) {
        for (unsigned i = 0; i < calls; i++) {
            long long t0 = now_ns();
            if ((err = saCkptSectionOverwrite(ck, &def, data, sizeof data)) != SA_AIS_OK)
                die("saCkptSectionOverwrite", err);
            ours[(size_t)r * calls + i] = now_ns() - t0;
        }
        for (unsigned i = 0; i < calls; i++) {
            long long t0 = now_ns();
            redis_set_wait(rfd, cmds, (size_t)len);
            theirs[(size_t)r * calls + i] = now_ns() - t0;
        }
    }
    long long o50 = pct(ours, n, 50), o99 = pct(ours, n, 99), t50 = pct(theirs, n, 50), t99 = pct(theirs, n, 99);
    double ratio = (double)o50 / (double)t50;
    printf("SAF SA_CKPT_WR_ALL_REPLICAS overwrite (256 B, active here, the other replica a following standby "
           "process) vs Redis SET + WAIT 1; %u calls x %u rounds\n",
           calls, rounds);
    printf("  ours  p50 %.0f us  p99 %.0f us\n  Redis p50 %.0f us  p99 %.0f us\n  ratio p50 %.2fx (goal <= 0.3x: %s)\n",
           o50 / 1e3, o99 / 1e3, t50 / 1e3, t99 / 1e3, ratio, ratio <= 0.3 ? "met" : "NOT met");

    close(rfd);
    close(to_standby[1]); /* the standby leaves first: its replica does not outlive the writer */
    int status = 0;
    waitpid(pid, &status, 0);
    saCkptCheckpointClose(ck);
    saCkptFinalize(lib);
    free(ours);
    free(theirs);
    return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : 1;
}
