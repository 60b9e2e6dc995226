# Dev tooling only (not run by tests or the product): regenerates Tests/PoseAnalysisTests/Fixtures/filter-fixtures.csv,
# SciPy's answers for `kinema filter` (Sources/PoseAnalysis/SignalFilters.swift, PredictionFilter.swift).
#
# One x column of 61 frames (a slow sine, noise, three spikes) with its likelihood, then one row per case:
# - median:  scipy.signal.medfilt(x, w), what DeepLabCut's filterpredictions(filtertype="median") applies;
# - savgol:  scipy.signal.savgol_filter(x, w, k, mode="interp") (scipy's default mode);
# - *_pbound: points whose likelihood is below p are first replaced by np.interp over the kept frames (constant
#   beyond the first and last kept frame), then filtered; this is how Kinema treats low-likelihood points.
# Needs numpy and scipy: python3 scripts/dev/make-filter-fixtures.py
import os
import numpy as np
from scipy import signal

root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
out = os.path.join(root, "Tests/PoseAnalysisTests/Fixtures/filter-fixtures.csv")

rng = np.random.default_rng(7)
t = np.arange(61)
x = 200 + 40 * np.sin(t / 9) + rng.normal(0, 2.5, t.size)
x[[12, 13, 40]] += [60, -45, 80]  # spikes
likelihood = np.clip(rng.uniform(0.6, 1.0, t.size), 0, 1)
likelihood[[12, 13, 40, 0, 60]] = [0.02, 0.05, 0.001, 0.03, 0.04]  # the spikes and both ends are unsure


def interpolated(x, likelihood, p_bound):
    kept = likelihood >= p_bound
    return np.interp(t, t[kept], x[kept])


cases = []
for w in (3, 5, 7, 11):
    cases.append(("median", w, 0, 0.0, signal.medfilt(x, w)))
for w, k in ((5, 2), (7, 3), (11, 3), (9, 0), (21, 5), (61, 4)):
    cases.append(("savgol", w, k, 0.0, signal.savgol_filter(x, w, k, mode="interp")))
cases.append(("median_pbound", 5, 0, 0.1, signal.medfilt(interpolated(x, likelihood, 0.1), 5)))
cases.append(("savgol_pbound", 7, 2, 0.1, signal.savgol_filter(interpolated(x, likelihood, 0.1), 7, 2, mode="interp")))

with open(out, "w") as f:
    f.write("case,window,order,p_bound," + ",".join(str(i) for i in t) + "\n")
    f.write("input,0,0,0," + ",".join(repr(float(v)) for v in x) + "\n")
    f.write("likelihood,0,0,0," + ",".join(repr(float(v)) for v in likelihood) + "\n")
    for name, w, k, p, y in cases:
        f.write(f"{name},{w},{k},{p}," + ",".join(repr(float(v)) for v in y) + "\n")
print(out)
