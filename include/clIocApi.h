/*
 * clIocApi.h - inter-process communication addresses.
 *
 * Only the address types that other APIs use in their signatures are
 * provided; this library has no IOC functions.
 */
#ifndef _CL_IOC_API_H_
#define _CL_IOC_API_H_

#include <clCommon.h>
#include <clBufferApi.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Address of a node in the cluster. */
typedef ClUint32T ClIocNodeAddressT;

/* Communication port of a process on a node. */
typedef ClUint32T ClIocPortT;

#ifdef __cplusplus
}
#endif

#endif /* _CL_IOC_API_H_ */
