/*
 * Throughput and life-cycle timings of libclckpt from a C program (bench/capi/life.sh runs it).
 *
 *   life_bench tput SECONDS ROUNDS   256 B clCkptSectionOverwrite calls per second from 8 threads and
 *                                    from 1 thread (each thread its own section of one
 *                                    WR_ACTIVE_REPLICA checkpoint), runs alternating, one per line
 *   life_bench first FILE            times clCkptInitialize ("init NS faults N": N page faults the
 *                                    call took, the process's minor and major), then holds the service
 *                                    (and the embedded server it started) until FILE exists
 *   life_bench second N              times clCkptInitialize ("init NS faults N"), opens N
 *                                    checkpoints, then times clCkptFinalize ("finalize NS")
 *   life_bench faults                the cost of one page fault here: the first write to each page of
 *                                    fresh anonymous memory, and to each page of a private map of a
 *                                    file (copy on write), 4,096 pages each ("fault anon NS cow NS")
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <clCkptApi.h>

static long long now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void die(const char *what, ClRcT rc) {
    fprintf(stderr, "%s failed: 0x%x\n", what, rc);
    exit(1);
}

static long faults(void) {
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_minflt + ru.ru_majflt;
}

static ClCkptSvcHdlT init_timed(void) {
    ClCkptSvcHdlT svc;
    ClVersionT v = {'B', 1, 1};
    long f0 = faults();
    long long t0 = now_ns();
    ClRcT rc = clCkptInitialize(&svc, NULL, &v);
    long long t = now_ns() - t0;
    long f = faults() - f0;
    if (rc != CL_OK)
        die("clCkptInitialize", rc);
    printf("init %lld faults %ld\n", t, f);
    fflush(stdout);
    return svc;
}

static ClCkptHdlT open_ckpt(ClCkptSvcHdlT svc, const char *name, ClUint32T sections) {
    ClNameT n;
    clNameSet(&n, name);
    ClCkptCheckpointCreationAttributesT attrs = {
        .creationFlags = CL_CKPT_WR_ACTIVE_REPLICA, .checkpointSize = 0, .retentionDuration = CL_TIME_END,
        .maxSections = sections, .maxSectionSize = 0, .maxSectionIdSize = 16};
    ClCkptHdlT h;
    ClRcT rc = clCkptCheckpointOpen(svc, &n, &attrs, CL_CKPT_CHECKPOINT_READ | CL_CKPT_CHECKPOINT_WRITE | CL_CKPT_CHECKPOINT_CREATE,
                                    CL_TIME_END, &h);
    if (rc != CL_OK)
        die("clCkptCheckpointOpen", rc);
    return h;
}

static ClCkptHdlT tput_ckpt;
static atomic_int stop;
static atomic_llong done;

static void *writer(void *arg) {
    char id[8];
    snprintf(id, sizeof id, "t%d", (int)(long)arg);
    ClCkptSectionIdT sid = {(ClUint16T)strlen(id), (ClUint8T *)id};
    char data[256];
    memset(data, 'x', sizeof data);
    long long n = 0;
    while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
        ClRcT rc = clCkptSectionOverwrite(tput_ckpt, &sid, data, sizeof data);
        if (rc != CL_OK)
            die("clCkptSectionOverwrite", rc);
        n++;
    }
    atomic_fetch_add(&done, n);
    return NULL;
}

static double rate(int threads, double seconds) {
    pthread_t t[8];
    atomic_store(&stop, 0);
    atomic_store(&done, 0);
    long long t0 = now_ns();
    for (int i = 0; i < threads; i++)
        pthread_create(&t[i], NULL, writer, (void *)(long)i);
    usleep((useconds_t)(seconds * 1e6));
    atomic_store(&stop, 1);
    for (int i = 0; i < threads; i++)
        pthread_join(t[i], NULL);
    return (double)atomic_load(&done) / ((double)(now_ns() - t0) / 1e9);
}

static int tput(double seconds, int rounds) {
    ClCkptSvcHdlT svc = init_timed();
    tput_ckpt = open_ckpt(svc, "tput", 8);
    for (int i = 0; i < 8; i++) {
        char id[8];
        snprintf(id, sizeof id, "t%d", i);
        ClCkptSectionIdT sid = {(ClUint16T)strlen(id), (ClUint8T *)id};
        ClCkptSectionCreationAttributesT sa = {&sid, CL_TIME_END};
        ClRcT rc = clCkptSectionCreate(tput_ckpt, &sa, (ClUint8T *)"x", 1);
        if (rc != CL_OK)
            die("clCkptSectionCreate", rc);
    }
    for (int r = 0; r < rounds; r++) {
        printf("threads 8 %.0f\n", rate(8, seconds));
        printf("threads 1 %.0f\n", rate(1, seconds));
        fflush(stdout);
    }
    clCkptCheckpointClose(tput_ckpt);
    clCkptFinalize(svc);
    return 0;
}

/* The time of one page fault, first touch of anonymous memory and copy on write of a private file
 * map: what loading the core (its relocations write about 700 pages of a private map) and a fresh
 * process's heap pay per page. */
static int fault_cost(void) {
    const size_t pages = 4096, page = (size_t)sysconf(_SC_PAGESIZE);
    char *anon = mmap(NULL, pages * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    char path[] = "/tmp/life_bench_faults_XXXXXX";
    int fd = mkstemp(path);
    if (anon == MAP_FAILED || fd < 0 || ftruncate(fd, (off_t)(pages * page)) != 0) {
        perror("fault_cost");
        return 1;
    }
    unlink(path);
    char *file = mmap(NULL, pages * page, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
    if (file == MAP_FAILED) {
        perror("fault_cost");
        return 1;
    }
    volatile char sink = 0;
    for (size_t i = 0; i < pages; i++) /* the file's pages in memory first: only the copy is timed */
        sink += file[i * page];
    long long t0 = now_ns();
    for (size_t i = 0; i < pages; i++)
        anon[i * page] = 1;
    long long t1 = now_ns();
    for (size_t i = 0; i < pages; i++)
        file[i * page] = 1;
    long long t2 = now_ns();
    printf("fault anon %lld cow %lld\n", (t1 - t0) / (long long)pages, (t2 - t1) / (long long)pages);
    return 0;
}

int main(int argc, char **argv) {
    if (argc == 2 && strcmp(argv[1], "faults") == 0)
        return fault_cost();
    if (argc == 4 && strcmp(argv[1], "tput") == 0)
        return tput(atof(argv[2]), atoi(argv[3]));
    if (argc == 3 && strcmp(argv[1], "first") == 0) {
        ClCkptSvcHdlT svc = init_timed();
        while (access(argv[2], F_OK) != 0)
            usleep(1000);
        clCkptFinalize(svc);
        return 0;
    }
    if (argc == 3 && strcmp(argv[1], "second") == 0) {
        ClCkptSvcHdlT svc = init_timed();
        int n = atoi(argv[2]);
        for (int i = 0; i < n; i++) {
            char name[32];
            snprintf(name, sizeof name, "open-%d", i);
            open_ckpt(svc, name, 1);
        }
        long long t0 = now_ns();
        ClRcT rc = clCkptFinalize(svc);
        long long t = now_ns() - t0;
        if (rc != CL_OK)
            die("clCkptFinalize", rc);
        printf("finalize %lld\n", t);
        return 0;
    }
    fprintf(stderr, "usage: life_bench tput SECONDS ROUNDS | first FILE | second N\n");
    return 2;
}
