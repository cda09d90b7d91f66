/*
 * clAlarmApi.h - alarm service.
 *
 * Provided only so that programs written for ASP, which include it by
 * habit, compile unchanged.  This library has no such functions.
 */
#ifndef _CL_ALARM_API_H_
#define _CL_ALARM_API_H_

#include <clCommon.h>

#ifdef __cplusplus
extern "C" {
#endif

/* No declarations. */

#ifdef __cplusplus
}
#endif

#endif /* _CL_ALARM_API_H_ */
