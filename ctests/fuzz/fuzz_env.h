/*
 * The process setup both fuzz harnesses share (fuzz_api.c, fuzz_saf.c): a data directory, a free
 * port and a node name of their own for the library. The Go runtime reads the environment the
 * process started with, not what setenv changes, so the harness sets its variables and runs itself
 * again in a child process; the variable `marker` holding the parent's pid marks that child
 * (libFuzzer's own child processes get their own directory and port). The parent removes the data
 * directory once the child has exited: removed at the child's own exit, it went while the library's
 * store still ran, and Badger aborted the process now and then.
 */
#ifndef CLCKPT_FUZZ_ENV_H
#define CLCKPT_FUZZ_ENV_H

#include <arpa/inet.h>
#include <errno.h>
#include <ftw.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
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

static pid_t fuzz_child;

static void fuzz_forward(int sig) {
    if (fuzz_child > 0)
        kill(fuzz_child, sig);
}

/* Sets up the environment (running the program again in a child) for harness `who` (messages, the
 * data directory's name), its member named node_prefix and the pid; returns in the child, with
 * fuzz_data_dir set. The parent waits for the child, removes the directory and exits as it did. */
static void fuzz_env_setup(const char *who, const char *node_prefix, const char *marker, char **argv) {
    char ppid[16];
    snprintf(ppid, sizeof ppid, "%d", (int)getppid());
    const char *m = getenv(marker);
    if (m != NULL && strcmp(m, ppid) == 0) {
        snprintf(fuzz_data_dir, sizeof fuzz_data_dir, "%s", getenv("CLCKPT_DATA_DIR"));
        return;
    }
    const char *tmp = getenv("TMPDIR");
    snprintf(fuzz_data_dir, sizeof fuzz_data_dir, "%s/%s-XXXXXX", tmp != NULL && tmp[0] != '\0' ? tmp : "/tmp", who);
    if (mkdtemp(fuzz_data_dir) == NULL) {
        perror(who);
        exit(1);
    }
    char pid[16], node[48], port[16];
    snprintf(pid, sizeof pid, "%d", (int)getpid());
    snprintf(node, sizeof node, "%s%s", node_prefix, pid);
    snprintf(port, sizeof port, "%d", fuzz_free_port(who));
    setenv("CLCKPT_DATA_DIR", fuzz_data_dir, 1);
    setenv("CLCKPT_NODE", node, 1);
    setenv("CLCKPT_PORT", port, 1);
    setenv("CLCKPT_SUBJECT", node, 1);
    /* Quiet: the library logs every refused pointer, thousands per second here. */
    setenv("CLCKPT_LOG_LEVEL", "ERROR+4", 0);
    setenv(marker, pid, 1);
    fuzz_child = fork();
    if (fuzz_child < 0) {
        perror(who);
        exit(1);
    }
    if (fuzz_child == 0) {
        execv("/proc/self/exe", argv);
        perror(who);
        _exit(1);
    }
    signal(SIGTERM, fuzz_forward);
    signal(SIGINT, fuzz_forward);
    signal(SIGHUP, fuzz_forward);
    int status = 0;
    while (waitpid(fuzz_child, &status, 0) < 0 && errno == EINTR)
        ;
    fuzz_remove_data_dir();
    if (WIFSIGNALED(status)) {
        signal(WTERMSIG(status), SIG_DFL);
        raise(WTERMSIG(status));
    }
    _exit(WIFEXITED(status) ? WEXITSTATUS(status) : 1);
}

#endif
