// Video and image input/output over FFmpeg.
