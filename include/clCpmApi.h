/*
 * clCpmApi.h - component manager.
 *
 * Provided so that programs written for ASP compile: it brings in
 * ClAmsHAStateT.  This library has no component manager functions.
 */
#ifndef _CL_CPM_API_H_
#define _CL_CPM_API_H_

#include <clCommon.h>
#include <clAmsTypes.h>

#ifdef __cplusplus
extern "C" {
#endif

/* No declarations. */

#ifdef __cplusplus
}
#endif

#endif /* _CL_CPM_API_H_ */
