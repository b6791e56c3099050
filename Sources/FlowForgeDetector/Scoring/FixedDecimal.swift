// FlowForge — fixed-decimal number formatting without Foundation, for verdict reasons.
// SPDX-License-Identifier: Apache-2.0

/// Formats `Double` values with a fixed number of decimals using only integer arithmetic, so the
/// detector can build human-readable reasons without Foundation's `String(format:)`.
///
/// Rounding is half-away-from-zero (`Double.rounded()`). Non-finite values render as `nan`,
/// `inf` and `-inf`. Magnitudes too large for `UInt64` after scaling render via `description`.
public enum FixedDecimal {
    /// `value` with exactly `digits` decimals (0...9): `format(0.4, digits: 1) == "0.4"`,
    /// `format(12, digits: 1) == "12.0"`, `format(2.5, digits: 0) == "3"`.
    public static func format(_ value: Double, digits: Int) -> String {
        if value.isNaN { return "nan" }
        if value.isInfinite { return value < 0 ? "-inf" : "inf" }
        let places = min(max(digits, 0), 9)
        var scale: UInt64 = 1
        for _ in 0..<places { scale *= 10 }
        let scaled = (value.magnitude * Double(scale)).rounded()
        guard scaled < 1.8e19 else { return value.description }
        let units = UInt64(scaled)
        let whole = units / scale
        let negative = value < 0 && units != 0
        var text = negative ? "-" : ""
        text += String(whole)
        if places > 0 {
            let fraction = String(units % scale)
            text += "."
            text += String(repeating: "0", count: places - fraction.count)
            text += fraction
        }
        return text
    }

    /// A ratio in 0...1 rendered as a whole percentage: `percent(0.957) == "96%"`.
    public static func percent(_ ratio: Double) -> String {
        format(ratio * 100, digits: 0) + "%"
    }
}
