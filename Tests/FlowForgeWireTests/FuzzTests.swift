// FlowForge — deterministic fuzzing of both decoders: random frames and mutated valid frames
// SPDX-License-Identifier: Apache-2.0

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import FlowForgeWire
import Testing

/// Default seed; set FLOWFORGE_FUZZ_SEED (decimal or 0x-hex) to explore others.
private let defaultFuzzSeed: UInt64 = 0xF10F_0F0E_0000_0001

private func fuzzSeed() -> UInt64 {
    guard let raw = getenv("FLOWFORGE_FUZZ_SEED") else { return defaultFuzzSeed }
    let text = String(cString: raw)
    if text.hasPrefix("0x") { return UInt64(text.dropFirst(2), radix: 16) ?? defaultFuzzSeed }
    return UInt64(text) ?? defaultFuzzSeed
}

/// Every iteration gets its own generator derived from (seed, phase, iteration), so one failing input replays alone.
private func iterationRNG(seed: UInt64, phase: UInt64, iteration: Int) -> SplitMix64 {
    var base = SplitMix64(seed: seed ^ (phase &* 0xD6E8_FEB8_6659_FD93))
    var mixer = SplitMix64(seed: base.next() ^ UInt64(iteration))
    return SplitMix64(seed: mixer.next())
}

private let knownCodes: [UInt8] = Array(1...12) + [64, 65, 66, 67, 68, 96, 97, 98]
private let interestingBytes: [UInt8] = [0, 1, 2, 3, 0x3F, 0x40, 0x7F, 0x80, 0xBF, 0xC0, 0xED, 0xF4, 0xFE, 0xFF]

/// Runs inputs through both decoders and checks the invariants.
private struct FuzzHarness {
    let seed: UInt64
    var successes = 0
    var errorTags: [String: Int] = [:]
    var failures: [String] = []

    mutating func check(_ input: [UInt8], phase: String, iteration: Int) {
        guard failures.count < 5 else { return }
        let message = decodeMessage(input)
        let spawner = decodeSpawner(input)
        func fail(_ why: String) {
            failures.append("seed 0x\(String(seed, radix: 16)) \(phase) #\(iteration): \(why); input \(hex(input, limit: 64))")
        }
        switch message {
        case .success(let value):
            successes += 1
            if value.encode() != input { fail("Message re-encodes differently: \(value)") }
        case .failure(let error):
            record(error)
        }
        switch spawner {
        case .success(let value):
            successes += 1
            if value.encode() != input { fail("SpawnerMessage re-encodes differently: \(value)") }
        case .failure(let error):
            record(error)
        }
        if case .success = message, case .success = spawner { fail("both families accepted one frame") }
        // Every few inputs, the generic entry point (array and non-contiguous) must agree with the raw-pointer one.
        if iteration % 8 == 0 {
            let array = Result { () throws(WireError) -> Message in try Message.decode(input) }
            let lazy = Result { () throws(WireError) -> SpawnerMessage in try SpawnerMessage.decode(input.lazy.map { $0 }) }
            if array != message { fail("array decode differs: \(array) vs \(message)") }
            if lazy != spawner { fail("non-contiguous decode differs: \(lazy) vs \(spawner)") }
        }
    }

    private mutating func record(_ error: WireError) {
        let tag = switch error.code {
        case .truncated: "truncated"
        case .trailingBytes: "trailingBytes"
        case .badMagic: "badMagic"
        case .unsupportedVersion: "unsupportedVersion"
        case .oversized: "oversized"
        case .unknownType: "unknownType"
        case .invalidValue(let field): "invalidValue(\(field))"
        case .invalidUTF8: "invalidUTF8"
        case .stringTooLong: "stringTooLong"
        }
        errorTags[tag, default: 0] += 1
    }
}

extension SplitMix64 {
    /// A random frame: usually a plausible header with a short, biased payload; sometimes pure noise.
    mutating func randomFrame() -> [UInt8] {
        if chance(1, in: 10) {
            return (0..<below(24)).map { _ in byte() }
        }
        let magic: [UInt8] = chance(97, in: 100) ? [0x46, 0x46] : [byte(), byte()]
        let version: UInt8 = chance(97, in: 100) ? Wire.version : byte()
        let type: UInt8 = chance(7, in: 10) ? pick(knownCodes) : byte()
        let payloadCount = chance(1, in: 4) ? below(6) : below(48)
        let payload = (0..<payloadCount).map { _ in chance(1, in: 2) ? pick(interestingBytes) : byte() }
        let length: UInt32 = chance(9, in: 10) ? UInt32(payloadCount) : u32()
        return frame(type, payload, magic: magic, version: version, length: length)
    }

    /// One structural mutation of a frame (which may already be damaged).
    mutating func mutate(_ f: inout [UInt8]) {
        func setLength(_ f: inout [UInt8], _ value: UInt32) {
            guard f.count >= 8 else { return }
            f.replaceSubrange(4..<8, with: be32(value))
        }
        switch below(10) {
        case 0:  // bit flips
            for _ in 0...below(3) where !f.isEmpty {
                f[below(f.count)] ^= 1 << UInt8(below(8))
            }
        case 1:  // byte rewrite
            if !f.isEmpty { f[below(f.count)] = chance(1, in: 2) ? pick(interestingBytes) : byte() }
        case 2:  // truncation
            f.removeLast(f.isEmpty ? 0 : 1 + below(min(f.count, chance(1, in: 2) ? 4 : f.count)))
        case 3:  // extension
            f.append(contentsOf: (0..<(1 + below(8))).map { _ in byte() })
        case 4:  // length field rewrite, framing left inconsistent
            let actual = max(f.count - 8, 0)
            let candidates: [Int] = [0, actual - 1, actual + 1, actual + below(5) - 2, Wire.maxPayloadSize, Wire.maxPayloadSize + 1]
            setLength(&f, chance(1, in: 4) ? u32() : UInt32(clamping: pick(candidates)))
        case 5:  // payload resized and length kept consistent
            guard f.count >= 8 else { return }
            let newCount = max(0, f.count - 8 + below(9) - 4)
            var payload = Array(f[8...].prefix(newCount))
            while payload.count < newCount { payload.append(chance(1, in: 2) ? 0 : byte()) }
            f = Array(f[0..<8]) + payload
            setLength(&f, UInt32(payload.count))
        case 6:  // type swap
            if f.count >= 4 { f[3] = chance(3, in: 4) ? pick(knownCodes) : byte() }
        case 7:  // insert or delete one payload byte, length kept consistent
            guard f.count >= 8 else { return }
            if f.count > 8, chance(1, in: 2) {
                f.remove(at: 8 + below(f.count - 8))
            } else {
                f.insert(pick(interestingBytes), at: 8 + below(f.count - 7))
            }
            setLength(&f, UInt32(f.count - 8))
        case 8:  // overwrite a 16- or 32-bit field inside the payload with a boundary value
            guard f.count >= 10 else { return }
            let at = 8 + below(f.count - 9)
            let value: UInt32 = pick([0, 1, 64, 65, 4096, 4097, 16000, 16001, 0xFFFF, 0xFFFF_FFFF, UInt32(f.count - at)])
            if chance(1, in: 2) || f.count - at < 4 {
                f.replaceSubrange(at..<(at + 2), with: be16(UInt16(truncatingIfNeeded: value)))
            } else {
                f.replaceSubrange(at..<(at + 4), with: be32(value))
            }
        default:  // header byte damage: magic or version
            if f.count >= 3 { f[below(3)] = chance(1, in: 2) ? byte() : pick([0, 1, 2, 0x46, 0xFF]) }
        }
    }

    /// A valid frame of either family.
    mutating func validFrame() -> [UInt8] {
        chance(2, in: 3) ? message().encode() : spawnerMessage().encode()
    }
}

@Suite("Fuzzing")
struct FuzzTests {
    static let randomFrames = 100_000
    static let mutations = 100_000
    static let roundTrips = 20_000

    @Test("random and mutated frames never trap, and every accepted frame is canonical")
    func fuzzBothDecoders() {
        let seed = fuzzSeed()
        print("FlowForgeWire fuzz seed: 0x\(String(seed, radix: 16)) (set FLOWFORGE_FUZZ_SEED to change)")
        let clock = ContinuousClock()
        let start = clock.now
        var harness = FuzzHarness(seed: seed)

        for i in 0..<Self.randomFrames {
            var rng = iterationRNG(seed: seed, phase: 1, iteration: i)
            harness.check(rng.randomFrame(), phase: "random", iteration: i)
        }
        let randomSuccesses = harness.successes
        let randomDone = clock.now

        for i in 0..<Self.mutations {
            var rng = iterationRNG(seed: seed, phase: 2, iteration: i)
            var f = rng.validFrame()
            for _ in 0...rng.below(3) { rng.mutate(&f) }
            harness.check(f, phase: "mutation", iteration: i)
        }
        let mutationSuccesses = harness.successes - randomSuccesses
        let mutationsDone = clock.now

        // Random valid values: encode, decode, compare.
        for i in 0..<Self.roundTrips {
            var rng = iterationRNG(seed: seed, phase: 3, iteration: i)
            if rng.chance(1, in: 2) {
                let value = rng.message()
                let bytes = value.encode()
                if decodeMessage(bytes) != .success(value) {
                    harness.failures.append("seed 0x\(String(seed, radix: 16)) roundtrip #\(i): \(value) -> \(decodeMessage(bytes))")
                }
            } else {
                let value = rng.spawnerMessage()
                let bytes = value.encode()
                if decodeSpawner(bytes) != .success(value) {
                    harness.failures.append("seed 0x\(String(seed, radix: 16)) roundtrip #\(i): \(value) -> \(decodeSpawner(bytes))")
                }
            }
            if harness.failures.count >= 5 { break }
        }

        let end = clock.now
        print("FlowForgeWire fuzz: \(Self.randomFrames) random frames in \(randomDone - start), \(Self.mutations) mutated frames in \(mutationsDone - randomDone), \(Self.roundTrips) round trips in \(end - mutationsDone); accepted \(randomSuccesses) random, \(mutationSuccesses) mutated")
        print("FlowForgeWire fuzz errors: \(harness.errorTags.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " "))")

        for failure in harness.failures {
            Issue.record(Comment(rawValue: failure))
        }
        // The generators must actually reach deep into the decoders.
        #expect(randomSuccesses > 500, "seed 0x\(String(seed, radix: 16))")
        #expect(mutationSuccesses > 5_000, "seed 0x\(String(seed, radix: 16))")
        for tag in ["truncated", "trailingBytes", "badMagic", "unsupportedVersion", "oversized", "unknownType", "invalidUTF8", "stringTooLong"] {
            #expect(harness.errorTags[tag, default: 0] > 0, "fuzzing never produced \(tag) (seed 0x\(String(seed, radix: 16)))")
        }
    }
}
