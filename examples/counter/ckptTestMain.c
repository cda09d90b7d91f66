/*
 * ckptTestMain.c - runs the counter example (ckptTest.c) as an ordinary
 * process, standing in for the ASP component that would host it.
 *
 * In ASP the example's two fragments are pasted into a generated
 * component: one into AppInitialize, one into the CSI-set callback through
 * which availability management makes the component active or standby.
 * Here they are pasted, line for line, into app_initialize() and
 * csi_set(), and command-line options and signals play the part of
 * availability management:
 *
 *     ckptTest [--active | --standby] [--max-seq N]
 *
 *     --active     make the process active as soon as it is initialized
 *     --standby    make the process standby as soon as it is initialized
 *     --max-seq N  stop once the global `seq` reaches N (seq is the next
 *                  value to write: with an active process, the last value
 *                  written is then N-1)
 *
 *     SIGUSR1          csi_set(CL_AMS_HA_STATE_ACTIVE)
 *     SIGUSR2          csi_set(CL_AMS_HA_STATE_STANDBY)
 *     SIGTERM, SIGINT  set `exiting`: the loop ends within a second
 *
 * Without --active or --standby the process starts in state NONE and does
 * nothing until it gets SIGUSR1.
 *
 * Threads and signals.  No library function is ever called from a signal
 * handler.  main() blocks the four signals before anything else, so every
 * thread it or the library creates inherits the blocked mask; a dedicated
 * thread takes them with sigwait() and calls csi_set() or sets `exiting`.
 * Threads that already existed when main() started (a runtime inside the
 * checkpoint library may start some while the library is loaded) do not
 * have the signals blocked; for them a minimal handler only re-sends the
 * signal to the sigwait() thread with pthread_kill(), which is
 * async-signal-safe.  The example's loop (get_into_loop) runs on the main
 * thread.  csi_set() calls are serialized, and none runs once the loop has
 * ended, so checkpoint_finalize() never races with one.  As in the
 * original component, csi_set() runs on another thread than the loop and
 * both touch `seq` and `ha_state` without a lock.
 *
 * Output.  Besides the example's own lines ("CkptWrite: seq = N",
 * "CheckpointRead: seq = N", ...), the harness prints, each line flushed
 * at once:
 *     harness: starting pid=P
 *     harness: initialized
 *     harness: initialization failed rc=0xR
 *     harness: signal SIGUSR1|SIGUSR2|SIGTERM|SIGINT
 *     harness: active | harness: standby     (after csi_set has run)
 *     harness: max-seq N reached
 *     harness: loop ended
 *     harness: finalize rc=0xR
 *     harness: exit S
 *
 * Exit status: 0 after the loop ended and checkpoint_finalize() was
 * called; 1 if initialization failed (the checkpoint could not be opened
 * or its section could not be created or read); 2 for a usage error.
 *
 * Build (the library provides the clCkpt* and clOsal* functions):
 *     cc -Iinclude examples/counter/ckptTest.c examples/counter/ckptTestMain.c \
 *        -lclckpt -lpthread -o ckptTest
 */
#define _XOPEN_SOURCE 700   /* sigwait, pthread_sigmask, SA_ONSTACK, nanosleep */

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ckptTest.h"

/* Defined in ckptTest.c; ckptTest.h does not declare it. */
extern ClCkptHdlT ckpt_handle;

/* ------------------------------------------------------------------------
 * Harness state
 * --------------------------------------------------------------------- */

/* Options. */
static int opt_active;
static int opt_standby;
static int opt_max_seq_set;
static ClUint32T opt_max_seq;

/*
 * csi_lock serializes csi_set() and guards the fields below it.  A state
 * change requested before initialization has finished is kept in
 * pending_state and applied right after it.
 */
static pthread_mutex_t csi_lock = PTHREAD_MUTEX_INITIALIZER;
static int init_done;            /* initialization succeeded */
static int stopping;             /* the loop has ended: no more csi_set() */
static int pending_set;
static ClAmsHAStateT pending_state;

static sigset_t handled_signals;
static pthread_t signal_thread;

static ClRcT harness_initialized(void);

/* Prints "harness: ..." as one line and flushes it. */
static void harness_print(const char *fmt, ...)
{
    char line[256];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    printf("harness: %s\n", line);
    fflush(stdout);
}

static void set_exiting(void)
{
    *(volatile int *)&exiting = 1;
}

/* ------------------------------------------------------------------------
 * The example's fragments
 * --------------------------------------------------------------------- */

/*************************************************************************
* StateChange: Following code needs to be put into the CSI Set function
* of the application. Please note that the other part of the
* auto generated code in the application SHOULD NOT be altered
*/
/* Called with csi_lock held. */
static void csi_set(ClAmsHAStateT haState)
{
switch (haState)
{
case CL_AMS_HA_STATE_ACTIVE:
{
/* Set this local checkpoint as active replica */
active_replica_set();
/* Read the value in the section so that u can start
from where it is left */
checkpoint_read_seq(&seq);
ha_state = haState;
}
break; /* the generated CSI-set code ends each case with a break */
case CL_AMS_HA_STATE_STANDBY:
{
ha_state = haState;
/*
---END_APPLICATION_CODE---
*/
}
break;
default:
break;
}
    if (haState == CL_AMS_HA_STATE_ACTIVE)
        harness_print("active");
    else if (haState == CL_AMS_HA_STATE_STANDBY)
        harness_print("standby");
}

/*************************************************************************
* AppInit: Following code needs to be put into the AppInitialize function
* of the application
*/
static ClRcT app_initialize(void)
{
    ClRcT rc;
{/*START*/
/* Initialize the checkpoint */
checkpoint_initialize();
/* Create the sections */
checkpoint_section_create();
/*
---END_APPLICATION_CODE---
*/
if ((rc = harness_initialized()) != CL_OK) return rc; /* where the generated code registers with AMF */
get_into_loop();
}/*END*/
    return CL_OK;
}

/* ------------------------------------------------------------------------
 * Harness logic
 * --------------------------------------------------------------------- */

/*
 * Runs between the example's initialization and its loop.  The fragment
 * ignores the return values of checkpoint_initialize() and
 * checkpoint_section_create(); both close the checkpoint handle when they
 * fail, so initialization succeeded exactly when the handle still works.
 * Then applies --active/--standby and any state change requested by a
 * signal during initialization.
 */
static ClRcT harness_initialized(void)
{
    ClCkptCheckpointDescriptorT status;
    ClRcT rc;

    rc = clCkptCheckpointStatusGet(ckpt_handle, &status);
    pthread_mutex_lock(&csi_lock);
    if (rc != CL_OK) {
        stopping = 1;
        pthread_mutex_unlock(&csi_lock);
        harness_print("initialization failed rc=0x%x", rc);
        return rc;
    }
    init_done = 1;
    harness_print("initialized");
    if (opt_active)
        csi_set(CL_AMS_HA_STATE_ACTIVE);
    else if (opt_standby)
        csi_set(CL_AMS_HA_STATE_STANDBY);
    if (pending_set) {
        pending_set = 0;
        csi_set(pending_state);
    }
    pthread_mutex_unlock(&csi_lock);
    return CL_OK;
}

/* A state change asked for by a signal. */
static void request_state(ClAmsHAStateT state)
{
    pthread_mutex_lock(&csi_lock);
    if (stopping) {
        /* The loop has ended: leave the checkpoint alone. */
    } else if (!init_done) {
        pending_set = 1;
        pending_state = state;
    } else {
        csi_set(state);
    }
    pthread_mutex_unlock(&csi_lock);
}

/* The thread that receives the signals. */
static void *signal_main(void *arg)
{
    (void)arg;
    for (;;) {
        int sig = 0;

        if (sigwait(&handled_signals, &sig) != 0)
            continue;
        switch (sig) {
        case SIGUSR1:
            harness_print("signal SIGUSR1");
            request_state(CL_AMS_HA_STATE_ACTIVE);
            break;
        case SIGUSR2:
            harness_print("signal SIGUSR2");
            request_state(CL_AMS_HA_STATE_STANDBY);
            break;
        case SIGTERM:
        case SIGINT:
            harness_print("signal %s", sig == SIGTERM ? "SIGTERM" : "SIGINT");
            set_exiting();
            break;
        default:
            break;
        }
    }
    return NULL;
}

/*
 * Runs only on a thread that does not block the signals (one that existed
 * before main blocked them): hands the signal to the sigwait() thread.
 */
static void forward_signal(int sig)
{
    int saved_errno = errno;

    pthread_kill(signal_thread, sig);
    errno = saved_errno;
}

/* With --max-seq: sets `exiting` once seq reaches the limit. */
static void *max_seq_main(void *arg)
{
    const struct timespec tick = { 0, 10 * 1000 * 1000 };

    (void)arg;
    for (;;) {
        int stop;

        pthread_mutex_lock(&csi_lock);
        stop = stopping;
        pthread_mutex_unlock(&csi_lock);
        if (stop)
            break;
        if (*(volatile ClUint32T *)&seq >= opt_max_seq) {
            harness_print("max-seq %u reached", opt_max_seq);
            set_exiting();
            break;
        }
        nanosleep(&tick, NULL);
    }
    return NULL;
}

static void usage(const char *prog)
{
    fprintf(stderr, "usage: %s [--active | --standby] [--max-seq N]\n", prog);
}

static int parse_args(int argc, char **argv)
{
    int i;

    for (i = 1; i < argc; i++) {
        const char *arg = argv[i];
        const char *value = NULL;

        if (strcmp(arg, "--active") == 0) {
            opt_active = 1;
        } else if (strcmp(arg, "--standby") == 0) {
            opt_standby = 1;
        } else if (strcmp(arg, "--max-seq") == 0 && i + 1 < argc) {
            value = argv[++i];
        } else if (strncmp(arg, "--max-seq=", 10) == 0) {
            value = arg + 10;
        } else if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
            usage(argv[0]);
            exit(0);
        } else {
            fprintf(stderr, "%s: unknown or incomplete option '%s'\n", argv[0], arg);
            return -1;
        }
        if (value != NULL) {
            char *end = NULL;
            unsigned long n;

            errno = 0;
            n = strtoul(value, &end, 10);
            if (errno != 0 || end == value || *end != '\0' || value[0] == '-' ||
                n > 0xffffffffUL) {
                fprintf(stderr, "%s: bad --max-seq value '%s'\n", argv[0], value);
                return -1;
            }
            opt_max_seq = (ClUint32T)n;
            opt_max_seq_set = 1;
        }
    }
    if (opt_active && opt_standby) {
        fprintf(stderr, "%s: --active and --standby exclude each other\n", argv[0]);
        return -1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    pthread_t max_seq_thread;
    struct sigaction sa;
    ClRcT rc;
    int err;

    setvbuf(stdout, NULL, _IOLBF, 0);
    if (parse_args(argc, argv) != 0) {
        usage(argv[0]);
        return 2;
    }

    /* Block the signals before any thread is created. */
    sigemptyset(&handled_signals);
    sigaddset(&handled_signals, SIGUSR1);
    sigaddset(&handled_signals, SIGUSR2);
    sigaddset(&handled_signals, SIGTERM);
    sigaddset(&handled_signals, SIGINT);
    err = pthread_sigmask(SIG_BLOCK, &handled_signals, NULL);
    if (err == 0)
        err = pthread_create(&signal_thread, NULL, signal_main, NULL);
    if (err != 0) {
        fprintf(stderr, "%s: cannot set up signal handling: %s\n", argv[0], strerror(err));
        return 1;
    }
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = forward_signal;
    sa.sa_mask = handled_signals;
    sa.sa_flags = SA_RESTART | SA_ONSTACK;
    sigaction(SIGUSR1, &sa, NULL);
    sigaction(SIGUSR2, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);

    if (opt_max_seq_set) {
        err = pthread_create(&max_seq_thread, NULL, max_seq_main, NULL);
        if (err != 0) {
            fprintf(stderr, "%s: cannot start thread: %s\n", argv[0], strerror(err));
            return 1;
        }
    }

    harness_print("starting pid=%ld", (long)getpid());
    rc = app_initialize();

    /* From here on no csi_set() runs. */
    pthread_mutex_lock(&csi_lock);
    stopping = 1;
    pthread_mutex_unlock(&csi_lock);
    if (opt_max_seq_set)
        pthread_join(max_seq_thread, NULL);

    if (rc != CL_OK) {
        harness_print("exit 1");
        return 1;
    }
    harness_print("loop ended");
    rc = checkpoint_finalize();
    harness_print("finalize rc=0x%x", rc);
    harness_print("exit 0");
    return 0;
}
