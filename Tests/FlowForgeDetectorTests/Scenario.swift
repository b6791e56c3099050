// FlowForge — synthetic worker timelines (CPU + output) for the detector tests.
// SPDX-License-Identifier: Apache-2.0
@testable import FlowForgeDetector

/// Drives a `CPUSeries` and an `OutputWindow` through simulated time: CPU is sampled once per
/// `step`, and lines are spread evenly across each step.
struct Scenario {
    static let ticksPerSecond: UInt64 = 100
    var cpu = CPUSeries()
    var window = OutputWindow(startedAt: 0)
    var now: UInt64 = 0
    var ticks = 0.0
    var lineIndex = 0
    let step: Double

    init(step: Double = 1) {
        self.step = step
        cpu.record(at: 0, ticks: 0, ticksPerSecond: Self.ticksPerSecond)
    }

    /// Runs `seconds` at `cpuPercent`, printing `linesPerSecond` lines produced by `line(index)`.
    mutating func run(seconds: Double, cpuPercent: Double, linesPerSecond: Double = 0,
                      line: (Int) -> String = { _ in "" }) {
        let steps = Int((seconds / step).rounded())
        let perStep = linesPerSecond * step
        var owed = 0.0
        for _ in 0..<steps {
            owed += perStep
            let count = Int(owed)
            owed -= Double(count)
            let stepNanos = UInt64(step * 1e9)
            for k in 0..<count {
                window.append(line(lineIndex), at: now + stepNanos * UInt64(k) / UInt64(max(count, 1)))
                lineIndex += 1
            }
            now += stepNanos
            ticks += cpuPercent / 100 * step * Double(Self.ticksPerSecond)
            cpu.record(at: now, ticks: UInt64(ticks.rounded()), ticksPerSecond: Self.ticksPerSecond)
        }
    }

    func verdict(_ thresholds: DetectionThresholds = DetectionThresholds(), cores: Int = 1) throws -> Verdict {
        try RunawayDecision(thresholds: thresholds, cores: cores).evaluate(cpu: cpu, output: window, now: now)
    }
}

/// Line generators for the scenarios.
enum Lines {
    static let nouns = ["parser", "lexer", "router", "cache", "scheduler", "mailer", "invoice", "ledger",
                        "session", "token", "widget", "gateway", "archive", "planner", "catalog", "render", "codec"]
    static let verbs = ["fetch", "merge", "encode", "verify", "upload", "index", "resize", "compact",
                        "sign", "split", "bundle", "migrate", "trace"]

    static func word(_ i: Int) -> String { nouns[i % nouns.count] + verbs[(i / nouns.count) % verbs.count].capitalizedFirst }

    static func hex8(_ i: Int) -> String {
        let digits = Array("0123456789abcdef")
        var x = UInt32(truncatingIfNeeded: i &* 2_654_435_761) | 0x1000_0000
        var out = ""
        for _ in 0..<8 { out.append(digits[Int(x & 0xF)]); x >>= 4 }
        // Ensure at least one letter so the token is a hex id, not a number.
        return out.contains(where: { $0.isLetter }) ? out : "a" + out.dropFirst()
    }

    static func compiler(_ i: Int) -> String {
        switch i % 3 {
        case 0: return "Compiling \(word(i)) Sources/\(word(i + 5))/\(word(i)).swift"
        case 1: return "warning: variable '\(word(i + 3))' was never mutated in \(word(i)).swift:\(i):12"
        default: return "[\(i)/412] Emitting module \(word(i + 7)) for \(word(i + 11))"
        }
    }

    static func progress(_ i: Int) -> String {
        "processing invoices/\(word(i)).pdf: extracted \(i % 40) fields from \(word(i * 7 + 3)) in \(i % 90)ms"
    }
}

extension String {
    var capitalizedFirst: String { prefix(1).uppercased() + dropFirst() }
}
