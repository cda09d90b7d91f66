/*
 * clOsalApi.h - the parts of the operating system abstraction layer that
 * checkpoint programs use.
 */
#ifndef _CL_OSAL_API_H_
#define _CL_OSAL_API_H_

#include <stdlib.h>
#include <pthread.h>
#include <semaphore.h>
#include <clCommon.h>
#include <clTimerApi.h>
#include <clHeapApi.h>
#include <clOsalErrors.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Formats like printf and writes the result to stdout.  Returns CL_OK, or
 * CL_OSAL_RC(CL_OSAL_ERR_OS_ERROR) if the write fails.
 *
 * The declaration deliberately has no printf format attribute, as in the
 * original: existing programs pass arguments that do not match their
 * conversions (for example a 32-bit value for %lu) and must still compile
 * with -Werror.
 */
extern ClRcT clOsalPrintf(const ClCharT *fmt, ...);

/*
 * Returns the time of the monotonic clock (CLOCK_MONOTONIC) in
 * microseconds.  Only differences between two values are meaningful.
 */
extern ClTimeT clOsalStopWatchTimeGet(void);

/*
 * Suspends the calling thread for timeOut.tsSec seconds plus
 * timeOut.tsMilliSec milliseconds.  Returns CL_OK, or an OSAL error code if
 * the operating system refuses the sleep.
 */
extern ClRcT clOsalTaskDelay(ClTimerTimeOutT timeOut);

#ifdef __cplusplus
}
#endif

#endif /* _CL_OSAL_API_H_ */
