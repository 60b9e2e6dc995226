// FFmpeg's C API for Swift, loaded on first use (ffmpeg_loader.h). Function-like and composite macros (AVERROR_EOF,
// AVERROR(EAGAIN), AV_NOPTS_VALUE) do not import into Swift, so they are re-exported here as static inline
// functions, together with a few helpers that hide AVFrame's fixed-size pointer arrays.
#pragma once
#include "ffmpeg_loader.h"
#include <libavformat/avformat.h>
#include <libavcodec/avcodec.h>
#include <libswscale/swscale.h>
#include <libavutil/avutil.h>
#include <libavutil/imgutils.h>
#include <libavutil/opt.h>
#include <libavutil/pixdesc.h>
#include <errno.h>
#include <stdint.h>

// MARK: - Macros as functions

static inline int cffmpeg_averror_eof(void) { return AVERROR_EOF; }
static inline int cffmpeg_averror_eagain(void) { return AVERROR(EAGAIN); }
static inline int cffmpeg_averror_enomem(void) { return AVERROR(ENOMEM); }
static inline int cffmpeg_averror_einval(void) { return AVERROR(EINVAL); }
static inline int cffmpeg_averror_invaliddata(void) { return AVERROR_INVALIDDATA; }
static inline int cffmpeg_averror_decoder_not_found(void) { return AVERROR_DECODER_NOT_FOUND; }
static inline int64_t cffmpeg_nopts_value(void) { return AV_NOPTS_VALUE; }
static inline int cffmpeg_lambda_for_qscale(int q) { return q * FF_QP2LAMBDA; }

// MARK: - Scaling between AVFrames and packed host buffers

/// Converts `src` into one packed plane (RGB24 or GRAY8) of `dst_height` rows, `dst_stride` bytes apart.
static inline int cffmpeg_scale_frame_to_packed(struct SwsContext *ctx, const AVFrame *src,
                                                uint8_t *dst, int dst_stride) {
    uint8_t *planes[4] = {dst, NULL, NULL, NULL};
    int strides[4] = {dst_stride, 0, 0, 0};
    return sws_scale(ctx, (const uint8_t *const *)src->data, src->linesize, 0, src->height, planes, strides);
}

/// Converts one packed plane (RGB24 or GRAY8) of `src_height` rows into the planes of `dst`.
static inline int cffmpeg_scale_packed_to_frame(struct SwsContext *ctx, const uint8_t *src, int src_stride,
                                                int src_height, AVFrame *dst) {
    const uint8_t *planes[4] = {src, NULL, NULL, NULL};
    int strides[4] = {src_stride, 0, 0, 0};
    return sws_scale(ctx, planes, strides, 0, src_height, dst->data, dst->linesize);
}

/// Tells swscale the colour matrix and range of the source (and full-range RGB as destination),
/// so BT.709 and full-range video convert with the right coefficients.
static inline void cffmpeg_set_source_colorspace(struct SwsContext *ctx, int colorspace, int full_range) {
    int *inv_table, *table, src_range, dst_range, brightness, contrast, saturation;
    if (sws_getColorspaceDetails(ctx, &inv_table, &src_range, &table, &dst_range,
                                 &brightness, &contrast, &saturation) < 0) return;
    int cs = SWS_CS_DEFAULT;
    switch (colorspace) {
        case AVCOL_SPC_BT709: cs = SWS_CS_ITU709; break;
        case AVCOL_SPC_FCC: cs = SWS_CS_FCC; break;
        case AVCOL_SPC_SMPTE240M: cs = SWS_CS_SMPTE240M; break;
        case AVCOL_SPC_BT2020_NCL: case AVCOL_SPC_BT2020_CL: cs = SWS_CS_BT2020; break;
        default: break;
    }
    sws_setColorspaceDetails(ctx, sws_getCoefficients(cs), full_range ? 1 : src_range,
                             table, dst_range, brightness, contrast, saturation);
}

/// Pointer to the `i`th stream of a format context (Swift sees `streams` as a double pointer).
static inline AVStream *cffmpeg_stream(const AVFormatContext *ctx, int i) {
    return (i >= 0 && (unsigned)i < ctx->nb_streams) ? ctx->streams[i] : NULL;
}
