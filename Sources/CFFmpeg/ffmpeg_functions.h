/*
 * Every FFmpeg function Kinema calls, in one list, with the prototype of the FFmpeg headers it is compiled against
 * (the headers are in scope where the list expands into definitions, so a prototype that differs does not compile).
 * The loader (ffmpeg_loader.c) expands it into its function table, the dlsym() calls and the trampolines. Calling one
 * more FFmpeg function = one line here.
 *
 *   FF_FN(return type, name, (parameters), (arguments), value returned when FFmpeg could not be loaded)
 *   FF_VOID(name, (parameters), (arguments))                         -- a no-op when FFmpeg could not be loaded
 *
 * The failure values are FFmpeg's own (NULL, a negative AVERROR), but VideoIO never reaches them: its entry points
 * call cffmpeg_load() first and throw VideoError.ffmpegUnavailable.
 */
#define FF_ENOSYS AVERROR(ENOSYS)

/* libavutil */
FF_FN(unsigned, avutil_version, (void), (), 0)
FF_FN(const char *, av_version_info, (void), (), "")
FF_VOID(av_log_set_level, (int level), (level))
FF_FN(int, av_strerror, (int errnum, char *errbuf, size_t errbuf_size), (errnum, errbuf, errbuf_size), FF_ENOSYS)
FF_FN(AVRational, av_d2q, (double d, int max), (d, max), ((AVRational){0, 1}))
FF_VOID(av_dict_free, (AVDictionary * *m), (m))
FF_FN(int, av_dict_set, (AVDictionary * *pm, const char *key, const char *value, int flags), (pm, key, value, flags),
      FF_ENOSYS)
FF_FN(int, av_opt_set, (void *obj, const char *name, const char *val, int search_flags), (obj, name, val, search_flags),
      FF_ENOSYS)
FF_FN(AVFrame *, av_frame_alloc, (void), (), NULL)
FF_VOID(av_frame_free, (AVFrame * *frame), (frame))
FF_FN(int, av_frame_get_buffer, (AVFrame * frame, int align), (frame, align), FF_ENOSYS)
FF_FN(int, av_frame_make_writable, (AVFrame * frame), (frame), FF_ENOSYS)
FF_VOID(av_frame_unref, (AVFrame * frame), (frame))
FF_FN(const char *, av_get_pix_fmt_name, (enum AVPixelFormat pix_fmt), (pix_fmt), NULL)

/* libswscale */
FF_FN(unsigned, swscale_version, (void), (), 0)
FF_FN(struct SwsContext *, sws_getContext,
      (int srcW, int srcH, enum AVPixelFormat srcFormat, int dstW, int dstH, enum AVPixelFormat dstFormat, int flags,
       SwsFilter *srcFilter, SwsFilter *dstFilter, const double *param),
      (srcW, srcH, srcFormat, dstW, dstH, dstFormat, flags, srcFilter, dstFilter, param), NULL)
FF_VOID(sws_freeContext, (struct SwsContext * swsContext), (swsContext))
FF_FN(int, sws_scale,
      (struct SwsContext * c, const uint8_t *const srcSlice[], const int srcStride[], int srcSliceY, int srcSliceH,
       uint8_t *const dst[], const int dstStride[]),
      (c, srcSlice, srcStride, srcSliceY, srcSliceH, dst, dstStride), FF_ENOSYS)
FF_FN(const int *, sws_getCoefficients, (int colorspace), (colorspace), NULL)
FF_FN(int, sws_getColorspaceDetails,
      (struct SwsContext * c, int **inv_table, int *srcRange, int **table, int *dstRange, int *brightness, int *contrast,
       int *saturation),
      (c, inv_table, srcRange, table, dstRange, brightness, contrast, saturation), FF_ENOSYS)
FF_FN(int, sws_setColorspaceDetails,
      (struct SwsContext * c, const int inv_table[4], int srcRange, const int table[4], int dstRange, int brightness,
       int contrast, int saturation),
      (c, inv_table, srcRange, table, dstRange, brightness, contrast, saturation), FF_ENOSYS)

/* libavcodec */
FF_FN(unsigned, avcodec_version, (void), (), 0)
FF_FN(const AVCodec *, avcodec_find_decoder, (enum AVCodecID id), (id), NULL)
FF_FN(const AVCodec *, avcodec_find_encoder, (enum AVCodecID id), (id), NULL)
FF_FN(const AVCodec *, avcodec_find_encoder_by_name, (const char *name), (name), NULL)
FF_FN(const char *, avcodec_get_name, (enum AVCodecID id), (id), "")
FF_FN(AVCodecContext *, avcodec_alloc_context3, (const AVCodec *codec), (codec), NULL)
FF_VOID(avcodec_free_context, (AVCodecContext * *avctx), (avctx))
FF_FN(int, avcodec_open2, (AVCodecContext * avctx, const AVCodec *codec, AVDictionary **options), (avctx, codec, options),
      FF_ENOSYS)
FF_FN(int, avcodec_parameters_from_context, (AVCodecParameters * par, const AVCodecContext *codec), (par, codec), FF_ENOSYS)
FF_FN(int, avcodec_parameters_to_context, (AVCodecContext * codec, const AVCodecParameters *par), (codec, par), FF_ENOSYS)
FF_FN(int, avcodec_send_packet, (AVCodecContext * avctx, const AVPacket *avpkt), (avctx, avpkt), FF_ENOSYS)
FF_FN(int, avcodec_receive_frame, (AVCodecContext * avctx, AVFrame *frame), (avctx, frame), FF_ENOSYS)
FF_FN(int, avcodec_send_frame, (AVCodecContext * avctx, const AVFrame *frame), (avctx, frame), FF_ENOSYS)
FF_FN(int, avcodec_receive_packet, (AVCodecContext * avctx, AVPacket *avpkt), (avctx, avpkt), FF_ENOSYS)
FF_VOID(avcodec_flush_buffers, (AVCodecContext * avctx), (avctx))
FF_FN(AVPacket *, av_packet_alloc, (void), (), NULL)
FF_VOID(av_packet_free, (AVPacket * *pkt), (pkt))
FF_VOID(av_packet_unref, (AVPacket * pkt), (pkt))
FF_FN(int, av_new_packet, (AVPacket * pkt, int size), (pkt, size), FF_ENOSYS)
FF_VOID(av_packet_rescale_ts, (AVPacket * pkt, AVRational tb_src, AVRational tb_dst), (pkt, tb_src, tb_dst))

/* libavformat */
FF_FN(unsigned, avformat_version, (void), (), 0)
FF_FN(int, avformat_open_input, (AVFormatContext * *ps, const char *url, const AVInputFormat *fmt, AVDictionary **options),
      (ps, url, fmt, options), FF_ENOSYS)
FF_VOID(avformat_close_input, (AVFormatContext * *s), (s))
FF_FN(int, avformat_find_stream_info, (AVFormatContext * ic, AVDictionary **options), (ic, options), FF_ENOSYS)
FF_FN(int, av_find_best_stream,
      (AVFormatContext * ic, enum AVMediaType type, int wanted_stream_nb, int related_stream, const AVCodec **decoder_ret,
       int flags),
      (ic, type, wanted_stream_nb, related_stream, decoder_ret, flags), FF_ENOSYS)
FF_FN(int, av_read_frame, (AVFormatContext * s, AVPacket *pkt), (s, pkt), FF_ENOSYS)
FF_FN(int, av_seek_frame, (AVFormatContext * s, int stream_index, int64_t timestamp, int flags),
      (s, stream_index, timestamp, flags), FF_ENOSYS)
FF_FN(int, avformat_alloc_output_context2,
      (AVFormatContext * *ctx, const AVOutputFormat *oformat, const char *format_name, const char *filename),
      (ctx, oformat, format_name, filename), FF_ENOSYS)
FF_VOID(avformat_free_context, (AVFormatContext * s), (s))
FF_FN(AVStream *, avformat_new_stream, (AVFormatContext * s, const AVCodec *c), (s, c), NULL)
FF_FN(int, avformat_write_header, (AVFormatContext * s, AVDictionary **options), (s, options), FF_ENOSYS)
FF_FN(int, av_interleaved_write_frame, (AVFormatContext * s, AVPacket *pkt), (s, pkt), FF_ENOSYS)
FF_FN(int, av_write_trailer, (AVFormatContext * s), (s), FF_ENOSYS)
FF_FN(int, avio_open, (AVIOContext * *s, const char *url, int flags), (s, url, flags), FF_ENOSYS)
FF_FN(int, avio_closep, (AVIOContext * *s), (s), FF_ENOSYS)
