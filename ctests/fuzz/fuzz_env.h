/*
 * The process setup both fuzz harnesses share (fuzz_api.c, fuzz_saf.c): a data directory, a free
 * port and a node name of their own for the library. The Go runtime reads the environment the
 * process started with, not what setenv changes, so the harness sets its variables and executes
 * itself again; the variable `marker` holding the pid marks a process that did so (the pid survives
 * exec; libFuzzer's child processes get their own directory and port). The data directory is
 * removed at exit.
 */
#ifndef CLCKPT_FUZZ_ENV_H
#define CLCKPT_FUZZ_ENV_H

#include <arpa/inet.h>
#include <ftw.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static char fuzz_data_dir[256];

static int fuzz_rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
    (void)st, (void)flag, (void)ftw;
    return remove(path);
}

static void fuzz_remove_data_dir(void) {
    if (fuzz_data_dir[0] != '\0')
        nftw(fuzz_data_dir, fuzz_rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* A loopback port nobody listens on now, for the embedded NATS server. */
static int fuzz_free_port(const char *who) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a;
    socklen_t len = sizeof a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) != 0 || getsockname(fd, (struct sockaddr *)&a, &len) != 0) {
        fprintf(stderr, "%s: no free port\n", who);
        exit(1);
    }
    close(fd);
    return ntohs(a.sin_port);
}

/* Sets up the environment (re-executing the program once) for harness `who` (messages, the data
 * directory's name), its member named node_prefix and the pid; returns in the process that has it,
 * with fuzz_data_dir set. */
static void fuzz_env_setup(const char *who, const char *node_prefix, const char *marker, char **argv) {
    char pid[16];
    snprintf(pid, sizeof pid, "%d", (int)getpid());
    const char *m = getenv(marker);
    if (m == NULL || strcmp(m, pid) != 0) {
        const char *tmp = getenv("TMPDIR");
        snprintf(fuzz_data_dir, sizeof fuzz_data_dir, "%s/%s-XXXXXX", tmp != NULL && tmp[0] != '\0' ? tmp : "/tmp", who);
        if (mkdtemp(fuzz_data_dir) == NULL) {
            perror(who);
            exit(1);
        }
        char node[48], port[16];
        snprintf(node, sizeof node, "%s%s", node_prefix, pid);
        snprintf(port, sizeof port, "%d", fuzz_free_port(who));
        setenv("CLCKPT_DATA_DIR", fuzz_data_dir, 1);
        setenv("CLCKPT_NODE", node, 1);
        setenv("CLCKPT_PORT", port, 1);
        setenv("CLCKPT_SUBJECT", node, 1);
        /* Quiet: the library logs every refused pointer, thousands per second here. */
        setenv("CLCKPT_LOG_LEVEL", "ERROR+4", 0);
        setenv(marker, pid, 1);
        execv("/proc/self/exe", argv);
        perror(who);
        exit(1);
    }
    snprintf(fuzz_data_dir, sizeof fuzz_data_dir, "%s", getenv("CLCKPT_DATA_DIR"));
    atexit(fuzz_remove_data_dir);
}

#endif
