// FlowForge — Shannon entropy of text, in bits per Unicode scalar, with a libm-free log2.
// SPDX-License-Identifier: Apache-2.0

/// Shannon entropy over the Unicode scalars of a text, measured in **bits per character**
/// (a "character" here is one Unicode scalar). `"aaaa"` scores 0, `"abab"` scores 1.0, and
/// ordinary English prose scores roughly 4. Empty input scores 0.
///
/// The logarithm is computed in pure Swift (no libm), so results are identical on every platform
/// and the module needs no C library import.
public struct ShannonEntropy: Sendable {
    private var counts: [Unicode.Scalar: Int] = [:]
    /// Number of scalars counted so far.
    public private(set) var total: Int = 0

    /// An empty accumulator.
    public init() {}

    /// Counts every scalar of `text`.
    public mutating func add(_ text: String) {
        for scalar in text.unicodeScalars {
            counts[scalar, default: 0] += 1
        }
        total += text.unicodeScalars.count
    }

    /// Entropy of everything added so far, in bits per character.
    public var bitsPerChar: Double {
        guard total > 0 else { return 0 }
        let n = Double(total)
        var sum = 0.0
        for count in counts.values {
            let p = Double(count) / n
            sum -= p * PureMath.log2(p)
        }
        return max(0, sum)
    }

    /// Entropy of a single text, in bits per character.
    public static func bitsPerChar(of text: String) -> Double {
        var accumulator = ShannonEntropy()
        accumulator.add(text)
        return accumulator.bitsPerChar
    }
}

/// Elementary math the detector needs, implemented without libm.
enum PureMath {
    /// Base-2 logarithm of a positive finite `x`; returns `-.infinity` for 0 and `.nan` for negatives.
    /// Splits `x = m · 2^e` with `m` in [1, 2) and evaluates `ln m = 2·atanh((m−1)/(m+1))` by series;
    /// with |z| ≤ 1/3 the series reaches full `Double` precision within 30 terms.
    static func log2(_ x: Double) -> Double {
        if x.isNaN || x < 0 { return .nan }
        if x == 0 { return -.infinity }
        if x.isInfinite { return .infinity }
        let exponent = Double(x.exponent)
        let m = x.significand
        let z = (m - 1) / (m + 1)
        let z2 = z * z
        var term = z
        var sum = 0.0
        var k = 1.0
        for _ in 0..<30 {
            sum += term / k
            term *= z2
            k += 2
        }
        let ln2 = 0.693_147_180_559_945_309_417_232_121_458
        return exponent + (2 * sum) / ln2
    }
}
