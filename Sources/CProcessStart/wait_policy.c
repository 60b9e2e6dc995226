// libgomp's wait policy for `kinema`, chosen before libgomp loads. The rest of the process policy (threads,
// allocator, what `kinema info` says) is Sources/ProcessPolicy.
//
// libgomp's default lets every idle libtorch thread spin for ~300 000 iterations before sleeping. When anything else
// wants the cores (another job, a build), the spinning threads take them: 2-thread prediction fell to 17–28 frames/s
// beside one busy process, against 68–72 with OMP_WAIT_POLICY=PASSIVE (docs/arch/pose.md). libgomp reads the
// variable once, in its constructor, when it is loaded. Nothing `kinema` links brings libgomp any more: libtorch is
// dlopen()ed by the first tensor (CTorch) and FFmpeg (whose libsoxr needs libgomp) by the first video (CFFmpeg). So
// `main` sets the variable while the process has one thread and no library that reads it (setenv is not safe beside
// other threads), and every later load sees it. A user's own OMP_WAIT_POLICY or GOMP_SPINCOUNT always wins.
#define _GNU_SOURCE
#include "process_start.h"

#include <stdio.h>
#include <stdlib.h>

static char policy[64];
static const char *chosen;  // `policy` once kinema chose one

const char *kinema_choose_wait_policy(void) {
    const char *inherited = getenv(KINEMA_CHOSE_OMP_WAIT_POLICY);
    if (inherited && getenv("OMP_WAIT_POLICY")) {  // a kinema parent chose it and had not given it back yet
        snprintf(policy, sizeof policy, "%s", getenv("OMP_WAIT_POLICY"));
        return chosen = policy;
    }
    if (getenv("OMP_WAIT_POLICY") || getenv("GOMP_SPINCOUNT")) return NULL;
    setenv("OMP_WAIT_POLICY", "PASSIVE", 1);
    setenv(KINEMA_CHOSE_OMP_WAIT_POLICY, "1", 1);
    snprintf(policy, sizeof policy, "PASSIVE");
    return chosen = policy;
}

void kinema_wait_policy_read(void) {
    // unsetenv only moves pointers within environ (glibc frees nothing), so a getenv on another thread stays safe.
    if (!chosen) return;
    unsetenv("OMP_WAIT_POLICY");
    unsetenv(KINEMA_CHOSE_OMP_WAIT_POLICY);
}
