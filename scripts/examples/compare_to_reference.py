"""Distance of prediction tables to a reference table, over every frame of a video (used by labelling-loop.sh).

    python3 compare_to_reference.py REFERENCE.csv "NAME=PREDICTION.csv" ...

Tables are DeepLabCut/LP prediction CSVs (scorer/bodyparts/coords header rows, one row per frame); only the x and y
columns of each keypoint are read, so EKS results (with their variance columns) compare as well. Keypoint-frames
whose reference likelihood is under 0.5 are left out. Prints the mean, median and 95th percentile distance in pixels.
"""
import csv
import math
import sys


def read(path):
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    bodyparts, coords = rows[1][1:], rows[2][1:]
    columns = {}
    for i, (part, coord) in enumerate(zip(bodyparts, coords)):
        if coord in ("x", "y", "likelihood"):
            columns.setdefault(part, {})[coord] = i
    table = {}
    for row in rows[3:]:
        values = [float(v) if v else math.nan for v in row[1:]]
        table[int(float(row[0]))] = {part: tuple(values[c[k]] if k in c else math.nan for k in ("x", "y", "likelihood"))
                                     for part, c in columns.items()}
    return table


def percentile(values, q):
    values = sorted(values)
    position = (len(values) - 1) * q
    low = math.floor(position)
    high = min(low + 1, len(values) - 1)
    return values[low] + (values[high] - values[low]) * (position - low)


def main():
    if len(sys.argv) < 3:
        raise SystemExit(__doc__)
    reference = read(sys.argv[1])
    print(f"distance to the reference over {len(reference)} frames (keypoints it sees with likelihood >= 0.5):")
    for argument in sys.argv[2:]:
        name, path = argument.split("=", 1)
        table = read(path)
        distances = []
        for frame, parts in reference.items():
            for part, (x, y, likelihood) in parts.items():
                if likelihood >= 0.5 and frame in table and part in table[frame]:
                    px, py, _ = table[frame][part]
                    if not math.isnan(px):
                        distances.append(math.hypot(px - x, py - y))
        if not distances:
            raise SystemExit(f"{path}: no frame or keypoint in common with {sys.argv[1]}")
        print(f"  {name}: mean {sum(distances) / len(distances):.1f} px, median {percentile(distances, 0.5):.1f} px, "
              f"95th percentile {percentile(distances, 0.95):.1f} px ({len(distances)} keypoint-frames)")


if __name__ == "__main__":
    main()
