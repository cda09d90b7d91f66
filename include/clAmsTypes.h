/*
 * clAmsTypes.h - availability management types.
 */
#ifndef _CL_AMS_TYPES_H_
#define _CL_AMS_TYPES_H_

#include <clCommon.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The high-availability state that availability management assigns. */
typedef enum {
    CL_AMS_HA_STATE_NONE      = 0,
    CL_AMS_HA_STATE_ACTIVE    = 1,
    CL_AMS_HA_STATE_STANDBY   = 2,
    CL_AMS_HA_STATE_QUIESCED  = 3,
    CL_AMS_HA_STATE_QUIESCING = 4
} ClAmsHAStateT;

#ifdef __cplusplus
}
#endif

#endif /* _CL_AMS_TYPES_H_ */
