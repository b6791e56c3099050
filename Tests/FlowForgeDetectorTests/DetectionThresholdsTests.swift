// FlowForge — tests for DetectionThresholds validation and FixedDecimal formatting.
// SPDX-License-Identifier: Apache-2.0
import Testing
@testable import FlowForgeDetector

@Suite struct DetectionThresholdsTests {
    @Test func defaultsAreValid() throws {
        let t = DetectionThresholds()
        #expect(t.maxCPU == 85 && t.sustainSeconds == 10 && t.minConfidence == 0.8)
        #expect(t.repetitionThreshold == 0.8 && t.entropyHealthyBitsPerChar == 2.5)
        #expect(t.minLines == 20 && t.silenceSeconds == 30)
        try t.validate(cores: 1)
    }

    @Test func rejectsNegativeValues() {
        #expect(throws: DetectionThresholdsError.negative(field: "sustainSeconds", value: -1)) {
            try DetectionThresholds(sustainSeconds: -1).validate(cores: 4)
        }
        #expect(throws: DetectionThresholdsError.negative(field: "minLines", value: -3)) {
            try DetectionThresholds(minLines: -3).validate(cores: 4)
        }
    }

    @Test func rejectsNonFiniteValues() {
        #expect(throws: DetectionThresholdsError.notFinite(field: "maxCPU")) {
            try DetectionThresholds(maxCPU: .nan).validate(cores: 4)
        }
        #expect(throws: DetectionThresholdsError.notFinite(field: "silenceSeconds")) {
            try DetectionThresholds(silenceSeconds: .infinity).validate(cores: 4)
        }
    }

    @Test func rejectsCPUAboveCoreCapacity() throws {
        #expect(throws: DetectionThresholdsError.cpuAboveCapacity(maxCPU: 250, cores: 2)) {
            try DetectionThresholds(maxCPU: 250).validate(cores: 2)
        }
        try DetectionThresholds(maxCPU: 200).validate(cores: 2)
        #expect(throws: DetectionThresholdsError.invalidCoreCount(0)) { try DetectionThresholds().validate(cores: 0) }
    }

    @Test func rejectsRatiosOutsideUnitRange() {
        #expect(throws: DetectionThresholdsError.outsideUnitRange(field: "minConfidence", value: 1.5)) {
            try DetectionThresholds(minConfidence: 1.5).validate(cores: 1)
        }
        #expect(throws: DetectionThresholdsError.outsideUnitRange(field: "repetitionThreshold", value: 2)) {
            try DetectionThresholds(repetitionThreshold: 2).validate(cores: 1)
        }
        #expect(throws: DetectionThresholdsError.negative(field: "repetitionThreshold", value: -0.1)) {
            try DetectionThresholds(repetitionThreshold: -0.1).validate(cores: 1)
        }
    }

    @Test func rejectsZeroDurations() {
        #expect(throws: DetectionThresholdsError.notPositive(field: "sustainSeconds")) {
            try DetectionThresholds(sustainSeconds: 0).validate(cores: 1)
        }
    }

    @Test func errorsReadClearly() {
        #expect(DetectionThresholdsError.cpuAboveCapacity(maxCPU: 250, cores: 2).description
            == "detection threshold maxCPU 250.0% exceeds the capacity of 2 cores (200%)")
        #expect(DetectionThresholdsError.negative(field: "sustainSeconds", value: -1).description
            == "detection threshold sustainSeconds must not be negative (got -1.00)")
    }

    @Test func fixedDecimalFormatting() {
        #expect(FixedDecimal.format(0.4, digits: 1) == "0.4")
        #expect(FixedDecimal.format(12, digits: 1) == "12.0")
        #expect(FixedDecimal.format(0.925, digits: 2) == "0.93")
        #expect(FixedDecimal.format(2.5, digits: 0) == "3")
        #expect(FixedDecimal.format(-0.04, digits: 1) == "0.0")
        #expect(FixedDecimal.format(-3.25, digits: 1) == "-3.3")
        #expect(FixedDecimal.format(7.005, digits: 3) == "7.005")
        #expect(FixedDecimal.format(.nan, digits: 1) == "nan")
        #expect(FixedDecimal.percent(0.957) == "96%")
    }
}
