/* The functions besides the checkpoint API: clHeap*, clOsal*, clName*, clStrdup. They are plain C and
 * work before clCkptInitialize, without loading the Go core. */
#include <clOsalApi.h>

#include "check.h"

static int core_loaded(void) {
    FILE *f = fopen("/proc/self/maps", "r");
    char line[512];
    int found = 0;
    if (f == NULL)
        return -1;
    while (fgets(line, sizeof line, f) != NULL)
        if (strstr(line, "libclckpt-core") != NULL)
            found = 1;
    fclose(f);
    return found;
}

static ClTimeT mono_us(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (ClTimeT)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void heap(void) {
    unsigned char *p = clHeapAllocate(100);
    CHECK(p != NULL);
    if (p != NULL) {
        memset(p, 0x5a, 100);
        p = clHeapRealloc(p, 10000);
        CHECK(p != NULL);
        int kept = 1;
        for (int i = 0; p != NULL && i < 100; i++)
            kept &= p[i] == 0x5a;
        CHECK(kept);
        if (p != NULL)
            p[9999] = 1;
        p = clHeapRealloc(p, 10);
        CHECK(p != NULL && p[9] == 0x5a);
        clHeapFree(p);
    }
    unsigned *z = clHeapCalloc(64, sizeof(unsigned));
    CHECK(z != NULL);
    int zero = 1;
    for (int i = 0; z != NULL && i < 64; i++)
        zero &= z[i] == 0;
    CHECK(zero);
    clHeapFree(z);
    /* Size 0: NULL or something clHeapFree accepts. */
    clHeapFree(clHeapAllocate(0));
    clHeapFree(clHeapCalloc(0, 8));
    clHeapFree(clHeapCalloc(8, 0));
    /* NULL is ignored; realloc of NULL allocates. */
    clHeapFree(NULL);
    void *r = clHeapRealloc(NULL, 32);
    CHECK(r != NULL);
    clHeapFree(r);
}

static void osal(void) {
    CHECK_RC(clOsalPrintf("clOsalPrintf: %s %d\n", "works", 42), CL_OK);
    CHECK_RC(clOsalPrintf(""), CL_OK);
    CHECK_RC(clOsalPrintf(NULL), CL_OSAL_RC(CL_OSAL_ERR_OS_ERROR));
    fflush(stdout);

    /* Microseconds of CLOCK_MONOTONIC. */
    ClTimeT before = mono_us();
    ClTimeT t = clOsalStopWatchTimeGet();
    ClTimeT after = mono_us();
    CHECK(t >= before && t <= after);
    ClTimeT t2 = clOsalStopWatchTimeGet();
    CHECK(t2 >= t);

    /* TaskDelay waits at least the time asked, in seconds plus milliseconds. */
    ClTimerTimeOutT d = {0, 30};
    before = mono_us();
    CHECK_RC(clOsalTaskDelay(d), CL_OK);
    CHECK(mono_us() - before >= 30000);
    ClTimerTimeOutT d2 = {0, 1010}; /* milliseconds above 1000 carry into seconds */
    before = mono_us();
    CHECK_RC(clOsalTaskDelay(d2), CL_OK);
    CHECK(mono_us() - before >= 1010000);
    ClTimerTimeOutT none = {0, 0};
    CHECK_RC(clOsalTaskDelay(none), CL_OK);
}

static void names(void) {
    ClNameT n;
    memset(&n, 'x', sizeof n);
    clNameSet(&n, "abc");
    CHECK(n.length == 3 && strcmp(n.value, "abc") == 0);
    clNameSet(&n, "");
    CHECK(n.length == 0 && n.value[0] == '\0');
    /* Longer than 255: cut to 255 and NUL-terminated. */
    char big[400];
    memset(big, 'b', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    clNameSet(&n, big);
    CHECK(n.length == 255 && n.value[255] == '\0' && n.value[254] == 'b');
    clNameSet(&n, NULL);
    CHECK(n.length == 0);
    clNameSet(NULL, "ignored"); /* no crash */

    /* Copy: length bytes (at most 255), NUL-terminated, not stopping at a NUL inside. */
    ClNameT in, out;
    memset(&in, 'i', sizeof in);
    memset(&out, 'o', sizeof out);
    memcpy(in.value, "a\0b", 3);
    in.length = 3;
    clNameCopy(&out, &in);
    CHECK(out.length == 3 && memcmp(out.value, "a\0b", 4) == 0);
    in.length = CL_MAX_NAME_LENGTH;
    clNameCopy(&out, &in);
    CHECK(out.length == 255 && out.value[255] == '\0');
    clNameCopy(NULL, &in);
    clNameCopy(&out, NULL);

    /* Concat of prefix, mid and suffix; any may be NULL. */
    ClNameT pre = check_name("pre"), suf = check_name("suf");
    clNameConcat(&out, &pre, "-mid-", &suf);
    CHECK(out.length == 11 && strcmp(out.value, "pre-mid-suf") == 0);
    clNameConcat(&out, NULL, "only", NULL);
    CHECK(out.length == 4 && strcmp(out.value, "only") == 0);
    clNameConcat(&out, &pre, NULL, NULL);
    CHECK(out.length == 3 && strcmp(out.value, "pre") == 0);
    ClNameT full;
    memset(&full, 'f', sizeof full);
    full.length = 200;
    clNameConcat(&out, &full, "0123456789", &full);
    CHECK(out.length == 255 && out.value[255] == '\0' && out.value[200] == '0');

    /* clNamePrintf (a macro of clCommon.h). */
    clNamePrintf(out, "ckpt-%d", 7);
    CHECK(out.length == 6 && strcmp(out.value, "ckpt-7") == 0);
    clNamePrintf(out, "%s%s", big, big);
    CHECK(out.length == 255);

    /* clStrdup: a copy freed with clHeapFree; NULL gives NULL. */
    char *s = clStrdup("duplicate me");
    CHECK(s != NULL && strcmp(s, "duplicate me") == 0);
    clHeapFree(s);
    CHECK(clStrdup(NULL) == NULL);
    s = clStrdup(big);
    CHECK(s != NULL && strlen(s) == sizeof big - 1);
    clHeapFree(s);
}

int main(void) {
    CHECK_EQ(core_loaded(), 0);
    heap();
    osal();
    names();
    /* None of that needed the core. */
    CHECK_EQ(core_loaded(), 0);
    /* clCkptInitialize loads it; these functions keep working alongside. */
    ClCkptSvcHdlT svc = check_init();
    CHECK_EQ(core_loaded(), 1);
    char *s = clStrdup("after");
    CHECK(s != NULL && strcmp(s, "after") == 0);
    clHeapFree(s);
    CHECK_RC(clCkptFinalize(svc), CL_OK);
    DONE();
}
