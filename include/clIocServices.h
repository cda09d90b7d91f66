/*
 * clIocServices.h - communication port numbers reserved for ASP services.
 *
 * Only the checkpoint service's port is defined; programs include this
 * header by habit and use nothing from it.
 */
#ifndef _CL_IOC_SERVICES_H_
#define _CL_IOC_SERVICES_H_

#include <clCommon.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Port of the checkpoint service. */
#define CL_IOC_CKPT_PORT    0x000c

#ifdef __cplusplus
}
#endif

#endif /* _CL_IOC_SERVICES_H_ */
