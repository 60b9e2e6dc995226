// The FFmpeg functions Kinema calls, as trampolines into libavformat, libavcodec, libswscale and libavutil, which are
// dlopen()ed on the first call (see include/ffmpeg_loader.h for where from, and ffmpeg_functions.h for the one list).
#define _GNU_SOURCE
#include "cffmpeg.h"
#include "ffmpeg_loader.h"

#include <dlfcn.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define XSTR(x) #x
#define STR(x) XSTR(x)
#ifdef __APPLE__
#define SONAME(name, major) "lib" name "." STR(major) ".dylib"
#else
#define SONAME(name, major) "lib" name ".so." STR(major)
#endif

/// In dependency order: each library's FFmpeg dependencies are open (and so shared) before it is.
static const char *const sonames[] = {
    SONAME("avutil", LIBAVUTIL_VERSION_MAJOR),
    SONAME("swscale", LIBSWSCALE_VERSION_MAJOR),
    SONAME("avcodec", LIBAVCODEC_VERSION_MAJOR),
    SONAME("avformat", LIBAVFORMAT_VERSION_MAJOR),
};
#define LIBRARIES (sizeof sonames / sizeof sonames[0])
/// What a user installs to get them (Debian/Ubuntu package names follow the sonames).
#define PACKAGES                                                                                                      \
    "libavformat" STR(LIBAVFORMAT_VERSION_MAJOR) " libavcodec" STR(LIBAVCODEC_VERSION_MAJOR) " libswscale" STR(      \
        LIBSWSCALE_VERSION_MAJOR) " libavutil" STR(LIBAVUTIL_VERSION_MAJOR)

// MARK: - The table, filled once by dlsym

static struct {
#define FF_FN(R, name, params, args, fail) R(*name) params;
#define FF_VOID(name, params, args) void(*name) params;
#include "ffmpeg_functions.h"
#undef FF_FN
#undef FF_VOID
} ffmpeg;

static pthread_once_t once = PTHREAD_ONCE_INIT;
static volatile int32_t state = CFFMPEG_NOT_LOADED;
static char load_error[2048];

// MARK: - Loading, once

__attribute__((format(printf, 1, 2))) static void fail_loading(const char *format, ...) {
    va_list arguments;
    va_start(arguments, format);
    vsnprintf(load_error, sizeof load_error, format, arguments);
    va_end(arguments);
    for (char *c = load_error; *c; c++)  // one line, whatever dlerror() said
        if (*c == '\n') *c = ' ';
    state = CFFMPEG_FAILED;
}

static void load_once(void) {
    const char *dir = getenv("KINEMA_FFMPEG");
    const char *where = dir && *dir ? dir : NULL;
    void *handles[LIBRARIES];
    for (size_t k = 0; k < LIBRARIES; k++) {
        char path[PATH_MAX];
        if (where) snprintf(path, sizeof path, "%s/%s", where, sonames[k]);
        else snprintf(path, sizeof path, "%s", sonames[k]);
        // RTLD_LOCAL: the functions are looked up in these handles only, never by name in the global scope (where
        // they would find these trampolines).
        handles[k] = dlopen(path, RTLD_LAZY | RTLD_LOCAL);
        if (!handles[k]) {
            const char *why = dlerror();
            fail_loading("FFmpeg could not be loaded (%s); install it (`apt-get install " PACKAGES "`, or `make setup`)%s",
                         why ? why : path, where ? " or correct KINEMA_FFMPEG=<folder>" : " or set KINEMA_FFMPEG=<folder>");
            return;
        }
    }
    // Each function from the first library (or its dependencies) that has it: dlsym on a handle searches that library
    // and what it needs, never the executable.
#define FF_LOOKUP(name)                                                                         \
    for (size_t k = LIBRARIES; k-- > 0 && !ffmpeg.name;) *(void **)&ffmpeg.name = dlsym(handles[k], #name); \
    if (!ffmpeg.name) {                                                                         \
        fail_loading("FFmpeg at %s has no %s (another version than Kinema was built for); install " PACKAGES \
                     " or rebuild Kinema",                                                     \
                     where ? where : "the system's library path", #name);                      \
        return;                                                                                 \
    }
#define FF_FN(R, name, params, args, fail) FF_LOOKUP(name)
#define FF_VOID(name, params, args) FF_LOOKUP(name)
#include "ffmpeg_functions.h"
#undef FF_FN
#undef FF_VOID
    state = CFFMPEG_LOADED;
}

static inline int loaded(void) {
    pthread_once(&once, load_once);
    return state == CFFMPEG_LOADED;
}

// MARK: - The loader's own functions (ffmpeg_loader.h)

int32_t cffmpeg_load(void) {
    loaded();
    return state;
}

int32_t cffmpeg_state_now(void) { return state; }

const char *cffmpeg_load_error(void) { return state == CFFMPEG_FAILED ? load_error : ""; }

// MARK: - The trampolines, with the prototypes of FFmpeg's headers

#define FF_FN(R, name, params, args, fail) \
    R name params { return loaded() ? ffmpeg.name args : (fail); }
#define FF_VOID(name, params, args) \
    void name params {              \
        if (loaded()) ffmpeg.name args; \
    }
#include "ffmpeg_functions.h"
#undef FF_FN
#undef FF_VOID
