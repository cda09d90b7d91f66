/*
 * clArchHeaders.h - system headers that clCommon.h brings in.
 *
 * Programs written against the original ASP headers call functions such as
 * sleep(), htonl(), ntohl(), strlen(), memcpy() and printf() without
 * including the system headers themselves, because clCommon.h pulled them
 * in.  This header keeps that promise so such programs compile unchanged.
 */
#ifndef _CL_ARCH_HEADERS_H_
#define _CL_ARCH_HEADERS_H_

#include <stddef.h>
#include <stdio.h>
#include <string.h>

#if defined(__linux__)
#include <arpa/inet.h>     /* htonl(), ntohl(), ... */
#include <unistd.h>        /* sleep(), getpid(), ... */
#include <poll.h>
#include <getopt.h>
#include <sys/sem.h>
#include <sys/ipc.h>
#include <sys/fcntl.h>
#include <sys/errno.h>
#include <execinfo.h>
#include <linux/version.h>
#include <sys/reboot.h>
#else
#include <arpa/inet.h>
#include <unistd.h>
#include <poll.h>
#include <errno.h>
#include <fcntl.h>
#endif

#endif /* _CL_ARCH_HEADERS_H_ */
