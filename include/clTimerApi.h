/*
 * clTimerApi.h - timer types.
 */
#ifndef _CL_TIMER_API_H_
#define _CL_TIMER_API_H_

#include <clCommon.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * A duration in seconds plus milliseconds; the total is
 * tsSec * 1000 + tsMilliSec milliseconds.
 */
typedef struct {
    ClUint32T tsSec;
    ClUint32T tsMilliSec;
} ClTimerTimeOutT;

#ifdef __cplusplus
}
#endif

#endif /* _CL_TIMER_API_H_ */
