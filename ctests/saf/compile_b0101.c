#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <saAis.h>
#include <saCkpt.h>
static void open_cb(SaInvocationT inv, const SaCkptCheckpointHandleT h, SaAisErrorT e) { (void)inv; (void)h; (void)e; }
static SaCkptCallbacksT cbs = { open_cb, NULL };
int main(void) {
    SaVersionT v = { 'B', 1, 1 };
    SaCkptHandleT h;
    SaCkptCheckpointHandleT ck;
    SaNameT name = { 8, "defaults" };
    SaCkptCheckpointCreationAttributesT a = { SA_CKPT_WR_ALL_REPLICAS, 4096, SA_TIME_END, 32, 128, 16 };
    SaCkptSectionIdT sid = { 2, (SaUint8T *)"s1" };
    SaCkptSectionCreationAttributesT sa = { &sid, SA_TIME_END };
    SaCkptIOVectorElementT iov = { SA_CKPT_DEFAULT_SECTION_ID, NULL, 0, 0, 0 };
    SaCkptCheckpointDescriptorT d;
    SaUint32T size32 = 4, eidx;
    char data[4] = "abc";
    if (saCkptInitialize(&h, &cbs, &v) != SA_AIS_OK) return 1;
    if (saCkptCheckpointOpen(h, &name, &a, SA_CKPT_CHECKPOINT_CREATE | SA_CKPT_CHECKPOINT_WRITE | SA_CKPT_CHECKPOINT_READ, SA_TIME_END, &ck) != SA_AIS_OK) return 1;
    saCkptSectionCreate(ck, &sa, (SaUint8T *)data, size32);
    iov.sectionId = sid;
    saCkptCheckpointRead(ck, &iov, 1, &eidx);
    free(iov.dataBuffer);
    saCkptCheckpointStatusGet(ck, &d);
    printf("%u\n", (unsigned)d.memoryUsed);
    return saCkptFinalize(h) == SA_AIS_OK ? 0 : 1;
}
