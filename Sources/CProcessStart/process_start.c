// Chooses libgomp's wait policy for `kinema`, which must happen before libgomp is initialised. The rest
// of the process policy (threads, allocator, reading this choice back) is Sources/ProcessPolicy, in `main`.
//
// libgomp's default lets every idle libtorch thread spin for ~300 000 iterations before sleeping. When
// anything else wants the cores (another job, a build), the spinning threads take them: 2-thread
// prediction fell to 17–28 frames/s beside one busy process, against 68–72 with
// OMP_WAIT_POLICY=PASSIVE (docs/arch/pose.md). libgomp reads the variable in its constructor, which
// runs before `main` (libtorch, and so libgomp, is linked), and `setenv` from the executable's
// preinit functions does not survive either (libc's own initialisation re-installs the original
// environment afterwards). So when neither OMP_WAIT_POLICY nor GOMP_SPINCOUNT is set, this preinit
// function re-executes the binary once with OMP_WAIT_POLICY=PASSIVE added. It runs after the
// dynamic loader mapped and relocated the libraries (~15 ms) but before any of their constructors
// (libtorch's operator registration, ~0.4 s); measured, the second start adds ~0.1 s. A user's own setting
// always wins; if the re-execution fails, kinema simply runs with libgomp's default. Commands that run
// no network (`smooth`, `video`, `--help`) start without it.
// libtorch itself is loaded later, by the first tensor (CTorch's loader), but setting the variable just before that
// dlopen is not enough: FFmpeg, linked into kinema, brings libgomp at exec time (libavcodec → libswresample →
// libsoxr → libgomp), so libgomp's constructor has read the environment before `main`, and libtorch then uses that
// libgomp (measured: GOMP_SPINCOUNT stayed at its default 300000). The second start no longer maps libtorch.
#include "process_start.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int has_variable(char **envp, const char *name) {
    size_t length = strlen(name);
    for (char **e = envp; e && *e; e++) {
        if (strncmp(*e, name, length) == 0 && (*e)[length] == '=') return 1;
    }
    return 0;
}

/// Subcommands that run libtorch's threads (and `info`, which reports their policy).
static int runs_networks(int argc, char **argv) {
    static const char *const commands[] = {"train", "predict", "evaluate", "demo", "bench", "neural", "info"};
    if (argc < 2 || !argv[1]) return 0;
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++) {
        if (strcmp(argv[1], commands[i]) == 0) return 1;
    }
    return 0;
}

static void kinema_process_start(int argc, char **argv, char **envp) {
    if (!runs_networks(argc, argv)) return;
    if (has_variable(envp, "OMP_WAIT_POLICY") || has_variable(envp, "GOMP_SPINCOUNT")) return;
    size_t count = 0;
    while (envp && envp[count]) count++;
    char **environment = malloc((count + 3) * sizeof(char *));
    if (!environment) return;
    for (size_t i = 0; i < count; i++) environment[i] = envp[i];
    environment[count] = "OMP_WAIT_POLICY=PASSIVE";
    environment[count + 1] = KINEMA_CHOSE_OMP_WAIT_POLICY "=1";
    environment[count + 2] = NULL;
    execve("/proc/self/exe", argv, environment);
    free(environment);  // exec failed (no /proc?): go on with libgomp's default
}

__attribute__((section(".preinit_array"), used))
static void (*const kinema_process_start_entry)(int, char **, char **) = kinema_process_start;
