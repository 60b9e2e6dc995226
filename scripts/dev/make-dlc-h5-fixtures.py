# Dev tooling only (never run by tests or the product): writes the DeepLabCut .h5 fixtures in
# Tests/PoseFormatsTests/Fixtures with pandas + PyTables, exactly as DeepLabCut saves them, plus the CSV that
# pandas writes from the same DataFrame (the reference values for the Swift reader).
#
#   python3 -m venv /tmp/h5-venv && /tmp/h5-venv/bin/pip install "pandas<3" tables
#   /tmp/h5-venv/bin/python scripts/dev/make-dlc-h5-fixtures.py            # regenerate the fixtures
#   /tmp/h5-venv/bin/python scripts/dev/make-dlc-h5-fixtures.py --verify F.h5 F.csv ...
#       checks that pandas reads .h5 files written by Kinema (`PoseTable.write(to:)`) and that they hold the
#       same frame as the CSV beside them (used to check the writer offline).
#
# Made with pandas 2.3.3, PyTables 3.11.1, numpy 2.x (DeepLabCut pins pandas<3).
# How DeepLabCut writes them (3.0.x source):
#   labels (labeled-data/<video>/CollectedData_<scorer>.h5): df.to_hdf(path, key="df_with_missing") -> fixed format
#   analyze_videos (<video><scorer>.h5): df.to_hdf(path, key="df_with_missing", format="table", mode="w")
import os
import sys

import numpy as np
import pandas as pd

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "..", "Tests", "PoseFormatsTests", "Fixtures")


def columns(scorer, bodyparts, coords):
    return pd.MultiIndex.from_product([[scorer], bodyparts, coords], names=["scorer", "bodyparts", "coords"])


def label_values(rng, rows, parts):
    v = rng.uniform(0, 640, size=(rows, parts * 2))
    # unlabelled keypoints: x and y missing together
    for r, p in [(0, 1), (2, 0), (2, 3), (4, 2)]:
        v[r, 2 * p:2 * p + 2] = np.nan
    return v


def save(df, name, **kw):
    path = os.path.join(OUT, name)
    df.to_hdf(path, **kw)
    return path


def make():
    os.makedirs(OUT, exist_ok=True)
    rng = np.random.default_rng(7)
    parts = ["snout", "leftear", "rightear", "tailbase"]

    # 1. Labels, DLC >= 2.2 layout: 3-level row index ('labeled-data', video, image), fixed format.
    rows = pd.MultiIndex.from_tuples(
        [("labeled-data", "trial1", f"img{i:03d}.png") for i in (3, 17, 42)]
        + [("labeled-data", "trial2", f"img{i:03d}.png") for i in (5, 118)])
    df = pd.DataFrame(label_values(rng, 5, 4), index=rows, columns=columns("Ana", parts, ["x", "y"]))
    save(df, "dlc-labels-3level.h5", key="df_with_missing", mode="w")
    df.to_csv(os.path.join(OUT, "dlc-labels-3level.csv"))
    # napari-deeplabcut (2022 - April 2026) used the key "keypoints"; same frame.
    save(df, "napari-keypoints.h5", key="keypoints", mode="w")

    # 2. Labels, legacy layout: one image-path string per row (one written on Windows), fixed format.
    paths = ["labeled-data/reach/img0007.png", "labeled-data/reach/img0123.png",
             "labeled-data\\reach\\img0200.png", "labeled-data/reach/img0311.png", "labeled-data/reach/img1024.png"]
    dfp = pd.DataFrame(label_values(rng, 5, 4), index=pd.Index(paths), columns=columns("Bo", parts, ["x", "y"]))
    save(dfp, "dlc-labels-path.h5", key="df_with_missing", mode="w")
    dfp.to_csv(os.path.join(OUT, "dlc-labels-path.csv"))

    # 3. analyze_videos output: table format, integer frame index, x/y/likelihood; non-ASCII bodypart names
    #    exercise the pickled (protocol 0, raw-unicode-escape) column metadata.
    scorer = "DLC_Resnet50_openfieldOct30shuffle1_snapshot_200"
    bp = ["snout", "épaule", "鼻"]
    frames = 40
    v = np.empty((frames, len(bp) * 3))
    for k in range(len(bp)):
        v[:, 3 * k] = rng.uniform(0, 640, frames)
        v[:, 3 * k + 1] = rng.uniform(0, 480, frames)
        v[:, 3 * k + 2] = rng.uniform(0, 1, frames)
    v[7, 3:5] = np.nan
    dft = pd.DataFrame(v, columns=columns(scorer, bp, ["x", "y", "likelihood"]), index=range(frames))
    save(dft, "dlc-predictions-table.h5", key="df_with_missing", format="table", mode="w")
    dft.to_csv(os.path.join(OUT, "dlc-predictions-table.csv"))

    # 4. Error cases.
    small = df.iloc[:2]
    save(small, "two-keys.h5", key="machinelabels", mode="w")
    save(small, "two-keys.h5", key="other", mode="a")
    # the case seen in the wild (DLC issue #3072): df_with_missing next to machinelabels -> df_with_missing wins
    save(small, "df-and-machinelabels.h5", key="machinelabels", mode="w")
    save(df, "df-and-machinelabels.h5", key="df_with_missing", mode="a")
    ma_cols = pd.MultiIndex.from_product([["Ana"], ["m1", "m2"], ["nose"], ["x", "y"]],
                                         names=["scorer", "individuals", "bodyparts", "coords"])
    save(pd.DataFrame(rng.uniform(0, 9, (2, 4)), index=rows[:2], columns=ma_cols),
         "multi-animal.h5", key="df_with_missing", mode="w")
    for name in sorted(os.listdir(OUT)):
        print(f"{os.path.getsize(os.path.join(OUT, name)):7d}  {name}")


def verify(pairs):
    """pandas reads each Kinema-written .h5 and finds the same frame as pandas' reading of the CSV."""
    for h5, csv in pairs:
        df = pd.read_hdf(h5)  # no key, as DeepLabCut calls it
        three = df.index.nlevels == 3
        ref = pd.read_csv(csv, header=[0, 1, 2], index_col=[0, 1, 2] if three else 0, float_precision="round_trip")
        assert list(df.columns.names) == ["scorer", "bodyparts", "coords"], df.columns.names
        assert list(df.columns) == list(ref.columns), (list(df.columns), list(ref.columns))
        def keys(index):  # Kinema normalises Windows paths on read, as DeepLabCut does
            return [tuple(map(str, t)) if three else str(t).replace("\\", "/") for t in index]
        assert keys(df.index) == keys(ref.index), (keys(df.index), keys(ref.index))
        a, b = df.to_numpy(), ref.to_numpy()
        assert a.dtype == np.float64 and a.shape == b.shape
        assert np.array_equal(a, b, equal_nan=True)
        print(f"ok {h5}: {df.shape[0]} rows x {df.shape[1]} columns, index {type(df.index).__name__}")


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--verify":
        files = sys.argv[2:]
        verify(list(zip(files[0::2], files[1::2])))
    else:
        make()
