# Makes the pyarrow-written Parquet submission tables embedded in Tests/NeuralTests/ParquetTests.swift
# (run in a dev venv with pandas + pyarrow; prints base64). `plain`: uncompressed, no dictionary, v1 pages —
# what readParquetSubmission reads (pyarrow's fields are optional and its levels use bit-packed runs);
# `brotli`: the competition's compression, which the reader must refuse with a clear error.
import base64, io, sys
import numpy as np
import pandas as pd

df = pd.DataFrame({
    "mouse": ["dynamic29515-10-12", "dynamic29515-10-12", "mouse-β"],
    "trial_indices": [7, 12, 3],
    "prediction": [
        [np.array([1.5, -2.25, 3.0], dtype=np.float32), np.array([0.1, 0.2, 0.3], dtype=np.float32)],
        [np.array([], dtype=np.float32), np.array([4.0], dtype=np.float32)],
        [np.array([1e-7, 65504.0, -0.0], dtype=np.float32)],
    ],
    "neuron_ids": [[10, 20], [10, 20], [5]],
})
for name, kwargs in [("plain", dict(compression=None, use_dictionary=False)), ("brotli", dict(compression="brotli"))]:
    buf = io.BytesIO()
    df.to_parquet(buf, engine="pyarrow", **kwargs)
    sys.stdout.write(f"{name} ({len(buf.getvalue())} bytes):\n{base64.b64encode(buf.getvalue()).decode()}\n")
