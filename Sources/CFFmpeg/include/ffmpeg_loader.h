/*
 * ffmpeg_loader: how Kinema reaches FFmpeg. Every FFmpeg function it calls (ffmpeg_functions.h) is a trampoline
 * (ffmpeg_loader.c) with the headers' own prototype; the first call, or cffmpeg_load(), dlopen()s libavutil,
 * libswscale, libavcodec and libavformat once per process, so a command that reads no video never maps FFmpeg (~130
 * shared libraries, most of a short command's start-up).
 *
 * Where from: the folder in KINEMA_FFMPEG if set (another FFmpeg build), else the dynamic loader's search path; by
 * the sonames of the headers compiled against (libavformat.so.<LIBAVFORMAT_VERSION_MAJOR>, ...), so the functions'
 * prototypes are those of the libraries loaded. All or nothing: if a library or a function is missing, nothing is
 * used and cffmpeg_load_error() says in one line what could not be loaded and what to install.
 */
#ifndef FFMPEG_LOADER_H
#define FFMPEG_LOADER_H

#include <stdint.h>

typedef enum {
    CFFMPEG_NOT_LOADED = 0, /* no FFmpeg function has been called yet */
    CFFMPEG_LOADED = 1,
    CFFMPEG_FAILED = 2,
} cffmpeg_state;

/* Loads FFmpeg now if not done yet; CFFMPEG_LOADED or CFFMPEG_FAILED. */
int32_t cffmpeg_load(void);
/* Where the loader stands; never loads anything. */
int32_t cffmpeg_state_now(void);
/* Why loading failed (one line), "" otherwise. */
const char *cffmpeg_load_error(void);
#endif
