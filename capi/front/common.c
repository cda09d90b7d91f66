/*
 * The OpenClovis helpers that checkpoint programs call besides the checkpoint API: heap, OSAL and
 * name functions. Plain C, so they work before clCkptInitialize and in any child process.
 *
 * Memory the library hands to a caller (read buffers, generated section ids, iteration ids) comes
 * from malloc, so clHeapFree (free) releases it.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <clCommon.h>
#include <clHeapApi.h>
#include <clOsalApi.h>
#include <clOsalErrors.h>

ClPtrT clHeapAllocate(ClUint32T size) { return malloc(size == 0 ? 1 : size); }

ClPtrT clHeapCalloc(ClUint32T numChunks, ClUint32T chunkSize) {
    if (numChunks == 0 || chunkSize == 0)
        return calloc(1, 1);
    return calloc(numChunks, chunkSize);
}

ClPtrT clHeapRealloc(ClPtrT pAddress, ClUint32T size) { return realloc(pAddress, size == 0 ? 1 : size); }

void clHeapFree(ClPtrT pAddress) { free(pAddress); }

ClRcT clOsalPrintf(const ClCharT *fmt, ...) {
    if (fmt == NULL)
        return CL_OSAL_RC(CL_OSAL_ERR_OS_ERROR);
    va_list ap;
    va_start(ap, fmt);
    int n = vfprintf(stdout, fmt, ap);
    va_end(ap);
    return n < 0 ? CL_OSAL_RC(CL_OSAL_ERR_OS_ERROR) : CL_OK;
}

ClTimeT clOsalStopWatchTimeGet(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (ClTimeT)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

ClRcT clOsalTaskDelay(ClTimerTimeOutT timeOut) {
    struct timespec ts = {.tv_sec = timeOut.tsSec + timeOut.tsMilliSec / 1000,
                          .tv_nsec = (long)(timeOut.tsMilliSec % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0)
        if (errno != EINTR)
            return CL_OSAL_RC(CL_OSAL_ERR_OS_ERROR);
    return CL_OK;
}

/* Copies at most 255 bytes and NUL-terminates, so that value is always a C string. */
static void name_put(ClNameT *name, const char *src, size_t n) {
    if (n > CL_MAX_NAME_LENGTH - 1)
        n = CL_MAX_NAME_LENGTH - 1;
    memmove(name->value, src, n);
    name->value[n] = '\0';
    name->length = (ClUint16T)n;
}

void clNameSet(ClNameT *name, const char *str) {
    if (name == NULL)
        return;
    name_put(name, str != NULL ? str : "", str != NULL ? strnlen(str, CL_MAX_NAME_LENGTH) : 0);
}

void clNameCopy(ClNameT *nameOut, const ClNameT *nameIn) {
    if (nameOut == NULL || nameIn == NULL)
        return;
    name_put(nameOut, nameIn->value, nameIn->length);
}

void clNameConcat(ClNameT *nameOut, const ClNameT *prefix, const ClCharT *mid, const ClNameT *suffix) {
    char buf[3 * CL_MAX_NAME_LENGTH + 1];
    size_t n = 0;
    if (nameOut == NULL)
        return;
    if (prefix != NULL) {
        size_t k = prefix->length < CL_MAX_NAME_LENGTH ? prefix->length : CL_MAX_NAME_LENGTH;
        memcpy(buf, prefix->value, k);
        n += k;
    }
    if (mid != NULL) {
        size_t k = strnlen(mid, CL_MAX_NAME_LENGTH);
        memcpy(buf + n, mid, k);
        n += k;
    }
    if (suffix != NULL) {
        size_t k = suffix->length < CL_MAX_NAME_LENGTH ? suffix->length : CL_MAX_NAME_LENGTH;
        memcpy(buf + n, suffix->value, k);
        n += k;
    }
    name_put(nameOut, buf, n);
}

ClCharT *clStrdup(const ClCharT *str) { return str == NULL ? NULL : strdup(str); }
