// FlowForge — tests for CPUSeries: tick-to-percent math, baselines, sustain, peak and mean.
// SPDX-License-Identifier: Apache-2.0
import Testing
@testable import FlowForgeDetector

@Suite struct CPUSeriesTests {
    let second: UInt64 = 1_000_000_000

    @Test func ticksBecomePercentOfOneCore() {
        var s = CPUSeries()
        s.record(at: 0, ticks: 1_000, ticksPerSecond: 100)
        s.record(at: 2 * second, ticks: 1_150, ticksPerSecond: 100)  // 1.5 core-s in 2 s
        #expect(s.latestPercent == 75)
        s.record(at: 3 * second, ticks: 1_340, ticksPerSecond: 100)  // 1.9 core-s in 1 s: two cores
        #expect(s.latestPercent == 190)
        s.record(at: 3 * second + second / 2, ticks: 1_340 + 250, ticksPerSecond: 1000)
        #expect(s.latestPercent == 50)
    }

    @Test func firstSampleAfterResetIsOnlyABaseline() {
        var s = CPUSeries()
        s.record(at: 0, ticks: 0, ticksPerSecond: 100)
        s.record(at: second, ticks: 100, ticksPerSecond: 100)
        s.reset()
        // The respawned tree reports ticks accumulated since an unknown start: no interval.
        s.record(at: 5 * second, ticks: 90_000, ticksPerSecond: 100)
        #expect(s.intervals.isEmpty)
        #expect(s.latestPercent == nil)
        s.record(at: 6 * second, ticks: 90_020, ticksPerSecond: 100)
        #expect(s.intervals.count == 1)
        #expect(s.latestPercent == 20)
    }

    @Test func backwardsTicksAndStaleTimesAreNotIntervals() {
        var s = CPUSeries()
        s.record(at: 0, ticks: 500, ticksPerSecond: 100)
        s.record(at: 0, ticks: 900, ticksPerSecond: 100)
        #expect(s.intervals.isEmpty)
        s.record(at: second, ticks: 100, ticksPerSecond: 100)  // a child exited with its ticks
        #expect(s.intervals.isEmpty)
        s.record(at: 2 * second, ticks: 150, ticksPerSecond: 100)
        #expect(s.latestPercent == 50)
    }

    func series(_ percents: [Double]) -> CPUSeries {
        var s = CPUSeries()
        var ticks = 0.0
        s.record(at: 0, ticks: 0, ticksPerSecond: 100)
        for (i, p) in percents.enumerated() {
            ticks += p
            s.record(at: UInt64(i + 1) * second, ticks: UInt64(ticks), ticksPerSecond: 100)
        }
        return s
    }

    @Test func sustainedRequiresEveryTrailingIntervalAndFullCoverage() {
        let s = series([10, 90, 95, 99, 90, 92, 97, 88, 91, 99, 96, 95])
        #expect(s.sustainedSeconds(atLeast: 85) == 11)
        #expect(s.isSustained(atLeast: 85, forSeconds: 10))
        #expect(!s.isSustained(atLeast: 85, forSeconds: 12))  // only 11 s of coverage
        #expect(!s.isSustained(atLeast: 90, forSeconds: 10))  // 88 in the trailing window
        #expect(s.sustainedSeconds(atLeast: 90) == 4)
        #expect(!CPUSeries().isSustained(atLeast: 0, forSeconds: 0))
    }

    @Test func gapBreaksSustain() {
        var s = series(Array(repeating: 100, count: 8))
        s.reset()
        s.record(at: 9 * second, ticks: 5_000, ticksPerSecond: 100)
        s.record(at: 12 * second, ticks: 5_300, ticksPerSecond: 100)
        #expect(s.sustainedSeconds(atLeast: 85) == 3)
    }

    @Test func peakAndTimeWeightedMean() {
        let s = series([20, 40, 300, 40, 20])
        #expect(s.peak(overSeconds: 5) == 300)
        #expect(s.peak(overSeconds: 2) == 40)
        #expect(s.mean(overSeconds: 5) == 84)
        #expect(s.mean(overSeconds: 1.5) == (20 + 40 * 0.5) / 1.5)
        #expect(CPUSeries().mean(overSeconds: 10) == nil)
    }
}
