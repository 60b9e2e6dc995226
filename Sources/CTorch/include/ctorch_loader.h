/*
 * ctorch_loader: how the functions of ctorch.h reach libtorch. They are trampolines (ctorch_loader.c) into the shim,
 * libKinemaTorchShim.so, the only library linked to libtorch; the first call of any of them dlopen()s libtorch and
 * the shim, once per process, so a process that never touches a tensor never loads libtorch (~0.5 s and ~1 GB of
 * mappings).
 *
 * Where from:
 *   - libtorch: the folder in KINEMA_LIBTORCH if set (e.g. a CUDA build), else the one set-up recorded at build time
 *     (.deps/libtorch.env). libc10.so and libtorch_cpu.so are opened from it first (RTLD_GLOBAL), so the shim's
 *     dependencies resolve to them.
 *   - the shim: KINEMA_TORCH_SHIM (a file) if set, else libKinemaTorchShim.so next to the running executable (where
 *     SwiftPM puts products and test bundles), else next to the binary that contains this loader.
 * If loading fails, every function of ctorch.h fails through its usual error value with ct_last_error() = one line
 * saying what could not be loaded and how to fix it; void functions do nothing.
 */
#ifndef CTORCH_LOADER_H
#define CTORCH_LOADER_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
    CT_LOADER_NOT_LOADED = 0, /* no tensor function has been called yet */
    CT_LOADER_LOADED = 1,
    CT_LOADER_FAILED = 2,
} ct_loader_state;

/* Where the loader stands; never loads anything. */
int32_t ct_loader_state_now(void);
/* Loads libtorch and the shim now if not done yet; CT_LOADER_LOADED or CT_LOADER_FAILED. */
int32_t ct_loader_load(void);
/* Why loading failed (one line), "" otherwise. */
const char *ct_loader_error(void);
/* The libtorch folder the loader uses (or would use), and the shim file it loaded (or "" before loading). */
const char *ct_loader_libtorch_dir(void);
const char *ct_loader_shim_path(void);
#ifdef __cplusplus
}
#endif
#endif
