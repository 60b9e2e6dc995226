// NumPy-compatible reductions (nanmedian, nanvar, percentile with linear interpolation, …).
import Foundation

/// Reductions with NumPy's semantics, so numbers match the package to round-off.
public enum Stats {
    /// `np.median` ignoring NaN (`np.nanmedian`); NaN when every value is NaN.
    public static func nanMedian(_ values: [Double]) -> Double {
        var finite = values.filter { !$0.isNaN }
        return medianInPlace(&finite)
    }

    /// `nanMedian` using a caller-owned scratch buffer (no allocation; insertion sort for small n).
    static func nanMedian(_ values: [Double], scratch: inout [Double]) -> Double {
        var n = 0
        for v in values where !v.isNaN {
            var i = n
            while i > 0 && scratch[i - 1] > v { scratch[i] = scratch[i - 1]; i -= 1 }
            scratch[i] = v
            n += 1
        }
        if n == 0 { return .nan }
        return n % 2 == 1 ? scratch[n / 2] : 0.5 * (scratch[n / 2 - 1] + scratch[n / 2])
    }

    /// Median of a buffer that holds no NaN (sorted in place); NaN when empty.
    static func medianInPlace(_ v: inout [Double]) -> Double {
        let n = v.count
        if n == 0 { return .nan }
        v.sort()
        return n % 2 == 1 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2])
    }

    /// `np.median` (NaN-propagating).
    public static func median(_ values: [Double]) -> Double {
        if values.contains(where: { $0.isNaN }) { return .nan }
        var v = values
        return medianInPlace(&v)
    }

    /// `np.nanmean`.
    public static func nanMean(_ values: [Double]) -> Double {
        var s = 0.0, n = 0
        for v in values where !v.isNaN { s += v; n += 1 }
        return n == 0 ? .nan : s / Double(n)
    }

    /// `np.mean` (NaN-propagating).
    public static func mean(_ values: [Double]) -> Double {
        values.isEmpty ? .nan : values.reduce(0, +) / Double(values.count)
    }

    /// `np.nanvar` with ddof 0 (two-pass, like NumPy).
    public static func nanVariance(_ values: [Double]) -> Double {
        let m = nanMean(values)
        if m.isNaN { return .nan }
        var s = 0.0, n = 0
        for v in values where !v.isNaN { s += (v - m) * (v - m); n += 1 }
        return s / Double(n)
    }

    /// `np.var` with ddof 0 (NaN-propagating).
    public static func variance(_ values: [Double]) -> Double {
        let m = mean(values)
        return values.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(values.count)
    }

    /// `np.percentile(values, q)` with linear interpolation; NaN if any value is NaN.
    public static func percentile(_ values: [Double], _ q: Double) -> Double {
        if values.isEmpty || values.contains(where: { $0.isNaN }) { return .nan }
        let sorted = values.sorted()
        let pos = q / 100 * Double(sorted.count - 1)
        let lo = Int(pos.rounded(.down))
        let hi = min(lo + 1, sorted.count - 1)
        let frac = pos - Double(lo)
        // NumPy's _lerp: a + (b − a)·t, evaluated from the other end when t ≥ 0.5.
        let a = sorted[lo], b = sorted[hi]
        let diff = b - a
        return frac >= 0.5 ? b - diff * (1 - frac) : a + diff * frac
    }

    /// Python's `round(x, 5)` for the initial smoothing guess (round half to even on the decimal).
    static func round5(_ x: Double) -> Double {
        guard x.isFinite else { return x }
        let scaled = x * 1e5
        var r = scaled.rounded(.toNearestOrEven)
        if abs(scaled - r) == 0.5 { r = scaled.rounded(.toNearestOrEven) }
        return r / 1e5
    }
}
