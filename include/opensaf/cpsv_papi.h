/* <opensaf/cpsv_papi.h>: where OpenSAF programs include the NCS extension from. */
#include <cpsv_papi.h>
