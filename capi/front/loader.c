/*
 * Loading the Go core (libclckpt-core.so), shared by both front libraries (front.c for libclckpt.so,
 * saf.c for libSaCkpt.so; each links its own copy).
 *
 * Why a separate front: a Go shared library starts its runtime (threads) as soon as it is loaded, and
 * a process that forks after that leaves a child whose Go runtime hangs. Legacy daemons fork to
 * daemonize after the dynamic linker has loaded their libraries; loading the Go part only at the
 * first Initialize makes that fork harmless. A child forked after the core was loaded can never use
 * it: the fronts check front_forked() first. When a process links both fronts, both dlopen the same
 * file, which the dynamic linker loads once: one Go runtime, one engine, shared handles.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core.h"
#include "loader.h"

static volatile int forked_after_load; /* set in a child by the atfork handler */
static pthread_once_t atfork_once = PTHREAD_ONCE_INIT;
static pthread_mutex_t load_lock = PTHREAD_MUTEX_INITIALIZER;

static void on_fork_child(void) { forked_after_load = 1; }
static void register_atfork(void) { pthread_atfork(NULL, NULL, on_fork_child); }

int front_forked(void) { return forked_after_load; }

/* Finds the core: CLCKPT_CORE_LIBRARY, else CLCKPT_CORE_SONAME in the directory of this library. */
static void *open_core(void) {
    const char *path = getenv("CLCKPT_CORE_LIBRARY");
    char buf[PATH_MAX];
    if (path == NULL || path[0] == '\0') {
        Dl_info info;
        const char *slash;
        if (dladdr((void *)&front_forked, &info) == 0 || info.dli_fname == NULL ||
            (slash = strrchr(info.dli_fname, '/')) == NULL) {
            path = CLCKPT_CORE_SONAME; /* let the dynamic linker search */
        } else {
            int n = snprintf(buf, sizeof buf, "%.*s/%s", (int)(slash - info.dli_fname), info.dli_fname, CLCKPT_CORE_SONAME);
            if (n < 0 || (size_t)n >= sizeof buf)
                return NULL;
            path = buf;
        }
    }
    void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (h == NULL)
        fprintf(stderr, "clckpt: cannot load %s: %s\n", path, dlerror());
    return h;
}

const void *front_load_table(const char *getter, unsigned abi) {
    const void *table = NULL;
    pthread_mutex_lock(&load_lock);
    void *h = open_core(); /* a Go library cannot be unloaded: the handle is never closed */
    const void *(*get)(void) = NULL;
    if (h != NULL)
        *(void **)&get = dlsym(h, getter);
    const void *t = get != NULL ? get() : NULL;
    unsigned have = t != NULL ? *(const unsigned *)t : 0u;
    if (t == NULL || have != abi) {
        if (h != NULL)
            fprintf(stderr, "clckpt: %s is not a compatible core (%s interface %u, this library needs %u)\n",
                    CLCKPT_CORE_SONAME, getter, have, abi);
    } else {
        pthread_once(&atfork_once, register_atfork);
        table = t;
    }
    pthread_mutex_unlock(&load_lock);
    return table;
}
