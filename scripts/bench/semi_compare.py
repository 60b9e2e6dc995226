"""Scores supervised against semi-supervised runs of scripts/bench/semi-mirror-mouse.sh.

    python3 semi_compare.py TEST_LABELS.csv SUPERVISED_RUN SEMI_RUN

TEST_LABELS.csv is a labelled-data CSV (LP/DLC layout) of frames neither run trained on. Each RUN folder holds
images/labeled-data/predictions.csv (`kinema predict RUN labeled-data`) and video/<stem>_pca_multiview_error.csv and
video/<stem>_temporal_norm.csv (`kinema predict RUN VIDEO`). Prints a table and one `bench` line per figure, with the
semi-supervised/supervised ratio (below 1 is better for every figure).
"""
import csv
import glob
import math
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "examples"))
from compare_to_reference import percentile  # noqa: E402  (one percentile for every script's figures)


def rows(path):
    with open(path, newline="") as f:
        return list(csv.reader(f))


def keypoint_table(path):
    """{row key: {keypoint: (x, y)}} of a labels or predictions CSV (three header rows)."""
    table = rows(path)
    parts, coords = table[1][1:], table[2][1:]
    result = {}
    for row in table[3:]:
        values = {}
        for i, (part, coord) in enumerate(zip(parts, coords)):
            if coord in ("x", "y"):
                text = row[1 + i] if 1 + i < len(row) else ""
                values.setdefault(part, {})[coord] = float(text) if text else math.nan
        result[row[0]] = {part: (v.get("x", math.nan), v.get("y", math.nan)) for part, v in values.items()}
    return result


def metric_values(path):
    """Every finite number of a per-frame metric CSV (frame index column, one column per keypoint)."""
    values = []
    for row in rows(path)[1:]:
        for text in row[1:]:
            if text:
                value = float(text)
                if math.isfinite(value):
                    values.append(value)
    return values


def summary(values):
    return {"mean": sum(values) / len(values), "median": percentile(values, 0.5), "p95": percentile(values, 0.95)}


def figures(labels, run):
    predictions = keypoint_table(os.path.join(run, "images", "labeled-data", "predictions.csv"))
    errors = []
    for key, parts in labels.items():
        if key not in predictions:
            raise SystemExit(f"{run}: no prediction for {key}")
        for part, (x, y) in parts.items():
            if not (math.isnan(x) or math.isnan(y)):
                px, py = predictions[key][part]
                errors.append(math.hypot(px - x, py - y))
    video = os.path.join(run, "video")
    multiview = glob.glob(os.path.join(video, "*_pca_multiview_error.csv"))
    temporal = glob.glob(os.path.join(video, "*_temporal_norm.csv"))
    if len(multiview) != 1 or len(temporal) != 1:
        raise SystemExit(f"{video}: expected one video's metrics")
    return {"test error": (summary(errors), len(errors)),
            "multiview PCA error": (summary(metric_values(multiview[0])), None),
            "temporal norm": (summary(metric_values(temporal[0])), None)}


def main():
    if len(sys.argv) != 4:
        raise SystemExit(__doc__)
    labels = keypoint_table(sys.argv[1])
    supervised, semi = figures(labels, sys.argv[2]), figures(labels, sys.argv[3])
    print(f"{'figure (px)':<28}{'supervised':>12}{'semi':>12}{'ratio':>8}")
    for name in supervised:
        for statistic in ("mean", "median", "p95"):
            a, b = supervised[name][0][statistic], semi[name][0][statistic]
            print(f"{name + ' ' + statistic:<28}{a:>12.2f}{b:>12.2f}{b / a:>8.3f}")
    count = supervised["test error"][1]
    print(f"(test error over {count} labelled keypoint-frames of {len(labels)} frames neither run trained on)")
    for name in supervised:
        for statistic in ("mean", "p95"):
            a, b = supervised[name][0][statistic], semi[name][0][statistic]
            slug = "semi-mirror-mouse-" + name.replace(" ", "-").lower() + "-" + statistic
            print(f"bench {slug} {b:.3f} px ratio={b / a:.3f} vs supervised {a:.3f} px")


if __name__ == "__main__":
    main()
