#include <clCkptApi.h>
#include <clCommon.h>
#include <clOsalApi.h>
#include <clIocServices.h>
/*
ASP Client Includes.
*/
#include <clRmdApi.h>
#include <clDebugApi.h>
#include <clOmApi.h>
#include <clOampRtApi.h>
#include <clProvApi.h>
#include <clAlarmApi.h>
#include <clEoApi.h>
#include <clCpmApi.h>
#include <clIdlApi.h>
#include <string.h>
#include <netinet/in.h>
extern ClUint32T seq; /* The sequence no which will be
written into the checkpoint */
extern int running;
extern int exiting;
extern ClAmsHAStateT ha_state;
extern ClRcT checkpoint_initialize();
extern ClRcT checkpoint_finalize(void);
extern ClRcT checkpoint_section_create();
extern ClRcT checkpoint_read_seq(ClUint32T *seq);
extern ClRcT checkpoint_write_seq(ClUint32T seq);
extern ClRcT get_into_loop();
extern ClRcT active_replica_set();
