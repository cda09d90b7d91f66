#include <stdlib.h>
#include <saCkpt.h>
#include <saCkpt_B_02_03.h>
#include <opensaf/cpsv_papi.h>
static void open_cb(SaInvocationT inv, SaCkptCheckpointHandleT h, SaAisErrorT e) { (void)inv; (void)h; (void)e; }
static void sync_cb(SaInvocationT inv, SaAisErrorT e) { (void)inv; (void)e; }
static void arrival(const SaCkptCheckpointHandleT h, SaCkptIOVectorElementT *v, SaUint32T n) { (void)h; (void)v; (void)n; }
int main(void) {
    SaCkptCallbacksT cbs = { open_cb, sync_cb };
    SaVersionT v = { 'B', 2, 2 };
    SaCkptHandleT h;
    SaSelectionObjectT so;
    SaNameT name;
    saAisNameLend("safCkpt=demo", &name);
    SaCkptCheckpointHandleT ck;
    SaCkptCheckpointCreationAttributesT a = { SA_CKPT_WR_ACTIVE_REPLICA | SA_CKPT_CHECKPOINT_COLLOCATED, 4096, 0, 4, 1024, 8 };
    SaCkptSectionIdT gen = SA_CKPT_GENERATED_SECTION_ID;
    SaCkptSectionCreationAttributesT sa = { &gen, SA_TIME_END };
    SaCkptSectionIterationHandleT it;
    SaCkptSectionDescriptorT d;
    if (saCkptInitialize(&h, &cbs, &v) != SA_AIS_OK) return 1;
    ncsCkptRegisterCkptArrivalCallback(h, arrival);
    saCkptSelectionObjectGet(h, &so);
    if (saCkptCheckpointOpen(h, &name, &a, SA_CKPT_CHECKPOINT_CREATE | SA_CKPT_CHECKPOINT_WRITE, 0, &ck) != SA_AIS_OK) return 1;
    saCkptActiveReplicaSet(ck);
    saCkptSectionCreate(ck, &sa, "x", 1);
    saCkptSectionIdFree(ck, gen.id);
    saCkptSectionIterationInitialize(ck, SA_CKPT_SECTIONS_ANY, 0, &it);
    while (saCkptSectionIterationNext(it, &d) == SA_AIS_OK) saCkptSectionIdFree(ck, d.sectionId.id);
    saCkptSectionIterationFinalize(it);
    saCkptCheckpointSynchronizeAsync(ck, 7);
    saCkptDispatch(h, SA_DISPATCH_ALL);
    saCkptCheckpointUnlink(h, &name);
    saCkptCheckpointClose(ck);
    return saCkptFinalize(h) == SA_AIS_OK ? 0 : 1;
}
