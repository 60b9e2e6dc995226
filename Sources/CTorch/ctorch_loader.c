// The functions of ctorch.h as trampolines into libKinemaTorchShim.so, which is dlopen()ed with libtorch on the first
// call (see include/ctorch_loader.h for where from, and ctorch_functions.h for the one list of functions).
#define _GNU_SOURCE
#include "ctorch.h"
#include "ctorch_loader.h"
#include "process_start.h"

#include <dlfcn.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef KINEMA_LIBTORCH_DIR
#define KINEMA_LIBTORCH_DIR ""  // set-up has not run: only KINEMA_LIBTORCH can say where libtorch is
#endif
#define SHIM_FILE "libKinemaTorchShim.so"

#define CT_NULL_TENSOR ((ct_tensor){NULL})
#define CT_NULL_OP ((ct_op){NULL})
#define CT_NULL_GROUP ((ct_group){NULL})

// MARK: - The table, filled once by dlsym

static struct {
#define CT_FN(R, name, params, args, fail) R(*name) params;
#define CT_VOID(name, params, args) void(*name) params;
#include "ctorch_functions.h"
#undef CT_FN
#undef CT_VOID
    const char *(*ct_last_error)(void);
    int32_t (*ct_last_error_kind)(void);
    void (*ct_threads_set)(int32_t);
} shim;

static pthread_once_t once = PTHREAD_ONCE_INIT;
static volatile int32_t state = CT_LOADER_NOT_LOADED;
static char load_error[2048];
static char libtorch_dir[PATH_MAX];
static char shim_path[PATH_MAX];
static int32_t pending_threads;  // ct_threads_set before loading: applied when libtorch loads


// MARK: - Finding the files

static const char *chosen_libtorch_dir(void) {
    const char *dir = getenv("KINEMA_LIBTORCH");
    return dir && *dir ? dir : KINEMA_LIBTORCH_DIR;
}

/// Writes the folder part of `path` (without the last '/') into `out`; 0 when there is none.
static int folder_of(const char *path, char *out, size_t size) {
    const char *slash = strrchr(path, '/');
    if (!slash || (size_t)(slash - path) >= size) return 0;
    memcpy(out, path, (size_t)(slash - path));
    out[slash - path] = '\0';
    return 1;
}

/// The shim: KINEMA_TORCH_SHIM, or libKinemaTorchShim.so beside the executable, or beside the binary holding this
/// loader. Writes the path tried last when none exists (for the error message).
static int find_shim(char *out, size_t size) {
    const char *chosen = getenv("KINEMA_TORCH_SHIM");
    if (chosen && *chosen) {
        snprintf(out, size, "%s", chosen);
        return access(out, R_OK) == 0;
    }
    char binary[PATH_MAX], folder[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", binary, sizeof binary - 1);
    if (n > 0) {
        binary[n] = '\0';
        if (folder_of(binary, folder, sizeof folder)) {
            snprintf(out, size, "%s/" SHIM_FILE, folder);
            if (access(out, R_OK) == 0) return 1;
        }
    }
    Dl_info info;
    if (dladdr((void *)&ct_loader_load, &info) && info.dli_fname && info.dli_fname[0] == '/' &&
        folder_of(info.dli_fname, folder, sizeof folder)) {
        snprintf(out, size, "%s/" SHIM_FILE, folder);
        if (access(out, R_OK) == 0) return 1;
    }
    return 0;
}

// MARK: - Loading, once

__attribute__((format(printf, 1, 2))) static void fail_loading(const char *format, ...) {
    va_list arguments;
    va_start(arguments, format);
    vsnprintf(load_error, sizeof load_error, format, arguments);
    va_end(arguments);
    for (char *c = load_error; *c; c++)  // one line, whatever dlerror() said
        if (*c == '\n') *c = ' ';
    state = CT_LOADER_FAILED;
}

static void *open_global(const char *dir, const char *file) {
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/%s", dir, file);
    // RTLD_LAZY, as when libtorch was linked: binding all of libtorch_cpu's symbols up front (RTLD_NOW) made predict's
    // first batch come ~0.3 s later (paired with the linked build: 1.26 s against 0.99 s; lazy: 0.64 s against 0.64 s).
    return dlopen(path, RTLD_LAZY | RTLD_GLOBAL);
}

static void load_once(void) {
    snprintf(libtorch_dir, sizeof libtorch_dir, "%s", chosen_libtorch_dir());
    if (!libtorch_dir[0]) {
        fail_loading("libtorch's folder is not known (set-up has not run); run `make setup` or set KINEMA_LIBTORCH=<dir>");
        return;
    }
    void *c10 = open_global(libtorch_dir, "libc10.so");
    void *torch = c10 ? open_global(libtorch_dir, "libtorch_cpu.so") : NULL;
    const char *torch_error = torch ? NULL : dlerror();
    if (torch) kinema_wait_policy_read();  // libtorch's libgomp has read kinema's wait policy: children get the user's
    char torch_why[1024] = "";
    if (torch_error) snprintf(torch_why, sizeof torch_why, "%s", torch_error);
    int found = torch && find_shim(shim_path, sizeof shim_path);
    void *library = found ? dlopen(shim_path, RTLD_LAZY | RTLD_LOCAL) : NULL;
    const char *shim_error = found && !library ? dlerror() : NULL;
    char shim_why[1024] = "";
    if (shim_error) snprintf(shim_why, sizeof shim_why, "%s", shim_error);

    if (!torch) {
        fail_loading("libtorch could not be loaded from %s: %s; run `make setup` or set KINEMA_LIBTORCH=<dir>", libtorch_dir,
                     torch_why);
        return;
    }
    if (!found) {
        fail_loading("Kinema's libtorch shim (" SHIM_FILE ") is not at %s; build it with `swift build` (it is a product of "
                     "the package) or set KINEMA_TORCH_SHIM=<file>",
                     shim_path[0] ? shim_path : "the executable's folder");
        shim_path[0] = '\0';
        return;
    }
    if (!library) {
        fail_loading("Kinema's libtorch shim %s could not be loaded: %s", shim_path, shim_why);
        return;
    }
#define CT_FN(R, name, params, args, fail) *(void **)&shim.name = dlsym(library, #name);
#define CT_VOID(name, params, args) *(void **)&shim.name = dlsym(library, #name);
#include "ctorch_functions.h"
#undef CT_FN
#undef CT_VOID
    *(void **)&shim.ct_last_error = dlsym(library, "ct_last_error");
    *(void **)&shim.ct_last_error_kind = dlsym(library, "ct_last_error_kind");
    *(void **)&shim.ct_threads_set = dlsym(library, "ct_threads_set");
    // Every entry must be there, or the shim is from another version of ctorch.h.
    void **entries = (void **)&shim;
    for (size_t k = 0; k < sizeof shim / sizeof(void *); k++) {
        if (!entries[k]) {
            fail_loading("Kinema's libtorch shim %s is from another version of Kinema (a function is missing); rebuild it "
                         "(`swift build`, or scripts/build-shim.sh)",
                         shim_path);
            return;
        }
    }
    if (shim.ct_abi_version() != CTORCH_ABI_VERSION) {
        fail_loading("Kinema's libtorch shim %s is from another version of Kinema (ABI differs); rebuild it", shim_path);
        return;
    }
    state = CT_LOADER_LOADED;
    if (pending_threads > 0) shim.ct_threads_set(pending_threads);
}

static inline int loaded(void) {
    pthread_once(&once, load_once);
    return state == CT_LOADER_LOADED;
}

// MARK: - The loader's own functions (ctorch_loader.h)

int32_t ct_loader_state_now(void) { return state; }

int32_t ct_loader_load(void) {
    loaded();
    return state;
}

const char *ct_loader_error(void) { return state == CT_LOADER_FAILED ? load_error : ""; }

const char *ct_loader_libtorch_dir(void) { return state == CT_LOADER_NOT_LOADED ? chosen_libtorch_dir() : libtorch_dir; }

const char *ct_loader_shim_path(void) { return state == CT_LOADER_LOADED ? shim_path : ""; }

// MARK: - ctorch.h: the trampolines

#define CT_FN(R, name, params, args, fail) \
    R name params { return loaded() ? shim.name args : (fail); }
#define CT_VOID(name, params, args) \
    void name params {              \
        if (loaded()) shim.name args; \
    }
#include "ctorch_functions.h"
#undef CT_FN
#undef CT_VOID

// Errors: the shim's thread-local message once it is loaded, the loading failure otherwise. Neither loads libtorch.
const char *ct_last_error(void) {
    switch (state) {
    case CT_LOADER_LOADED: return shim.ct_last_error();
    case CT_LOADER_FAILED: return load_error;
    default: return "";
    }
}

int32_t ct_last_error_kind(void) {
    switch (state) {
    case CT_LOADER_LOADED: return shim.ct_last_error_kind();
    case CT_LOADER_FAILED: return CT_ERR_GENERIC;
    default: return CT_OK;
    }
}

// A thread count chosen before any tensor exists (kinema's `main`) must not load libtorch: it waits for the load.
void ct_threads_set(int32_t n) {
    if (state == CT_LOADER_LOADED) {
        shim.ct_threads_set(n);
    } else if (state == CT_LOADER_NOT_LOADED) {
        pending_threads = n;
    }
}
