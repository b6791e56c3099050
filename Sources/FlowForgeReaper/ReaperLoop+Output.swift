// FlowForge — servicing the output relays and feeding the detector its bounded copy.
// SPDX-License-Identifier: Apache-2.0
import FlowForgeSystem
import FlowForgeWire

extension ReaperLoop {
    func serviceRelay(_ index: Int, revents: PollEvents) {
        if relays[index].hasPending {
            relays[index].flush()
            return
        }
        if relays[index].sinkFull {
            relays[index].sinkFull = false // writable again (or broken: the next splice says so)
        } else if revents.isDisjoint(with: [.readable, .hangUp]) {
            return
        }
        // A pipe sink gets the bytes by splice unless the detector would get a copy of at least a few lines:
        // otherwise that copy would be dropped anyway.
        if relays[index].canSplice && !canCopyForAnalysis(atLeast: Self.minimumAnalysisCopy) {
            spliceRelay(index)
        } else {
            readRelay(index)
        }
    }

    /// Whether a copy for the detector can go out now: a worker runs, the detector said hello, and at least
    /// `bytes` of analysis budget are left.
    private func canCopyForAnalysis(atLeast bytes: UInt64) -> Bool {
        worker != nil && agents[.detector]?.readyChannel != nil
            && analysis.available(now: Clock.monotonicNanos()) >= bytes
    }

    /// Below this much budget a chunk is spliced instead of copied (at 256 KiB/s it refills in 16 ms).
    static let minimumAnalysisCopy: UInt64 = 4096

    /// Splices what the worker's pipe holds to the sink; the detector's copy of those bytes counts as dropped.
    private func spliceRelay(_ index: Int) {
        let s = relays[index].stream == .stdout ? 0 : 1
        for _ in 0..<16 { // bounded, so the other descriptors are serviced too
            let n = relays[index].splice(limit: 1 << 20)
            guard n > 0 else { return }
            droppedAnalysisBytes &+= UInt64(n)
            analysisGap[s] = true
        }
    }

    /// Reads one chunk from a worker pipe, copies it to the detector within budget, and passes it through.
    /// A relay that can splice reads only about what the budget lets through (the rest is spliced next).
    private func readRelay(_ index: Int) {
        var limit = Int.max
        if relays[index].canSplice {
            let budget = Int(clamping: analysis.available(now: Clock.monotonicNanos()))
            limit = (max(budget, 1) + 4095) / 4096 * 4096
        }
        let n = relays[index].readChunk(into: &readBuffer, limit: limit)
        guard n > 0 else { return }
        copyForAnalysis(readBuffer[0..<n], stream: relays[index].stream)
        relays[index].deliver(readBuffer[0..<n])
    }

    /// Moves everything still in the pipes to the sinks (blocking, bounded by what is buffered), used when
    /// a generation ends so its output is complete before FlowForge reports or exits.
    func drainRelays() {
        for i in relays.indices {
            var rounds = 0
            while relays[i].sourceOpen && rounds < 4096 {
                rounds += 1
                if relays[i].hasPending {
                    do {
                        if try Poll.wait(for: relays[i].sink, .writable, timeoutMillis: 1000).isEmpty { break }
                    } catch {
                        log(.error, "poll failed: \(error)")
                        break
                    }
                    relays[i].flush()
                    continue
                }
                let n = relays[i].readChunk(into: &readBuffer)
                if n <= 0 { break }
                copyForAnalysis(readBuffer[0..<n], stream: relays[i].stream)
                relays[i].deliver(readBuffer[0..<n])
            }
        }
    }

    /// The index of the first newline, found with memchr.
    static func firstNewline(in bytes: ArraySlice<UInt8>) -> Int? {
        bytes.withUnsafeBytes { raw in Memory.firstIndex(of: 0x0A, in: raw).map { bytes.startIndex + $0 } }
    }

    /// The index of the last newline (memrchr is GNU-only for Swift; this runs only on granted bytes).
    static func lastNewline(in bytes: ArraySlice<UInt8>) -> Int? {
        bytes.withUnsafeBytes { raw -> Int? in
            var i = raw.count - 1
            while i >= 0 {
                if raw[i] == 0x0A { return bytes.startIndex + i }
                i -= 1
            }
            return nil
        }
    }

    /// Sends the detector its copy of a chunk, within the analysis budget and without ever waiting.
    ///
    /// What does not fit is dropped and counted. Drops happen at line boundaries: a copy is cut after its last
    /// newline, and after a drop the copy resumes after the next newline, so the detector never sees two
    /// half lines glued into one.
    private func copyForAnalysis(_ bytes: ArraySlice<UInt8>, stream: OutputStream) {
        let s = stream == .stdout ? 0 : 1
        var start = bytes.startIndex
        // Nothing can be sent (no detector, or no budget left this second): drop without looking at the bytes.
        // Scanning every chunk for newlines here cost the reaper a whole core on newline-free output.
        guard canCopyForAnalysis(atLeast: 1) else {
            droppedAnalysisBytes &+= UInt64(bytes.count)
            analysisGap[s] = true
            return
        }
        if analysisGap[s] {
            // Bytes skipped looking for the next line start are charged to the budget too: it bounds what the
            // reaper examines for the detector, and newline-free output must not keep the budget full (that
            // would keep a pipe sink on the copying path).
            let now = Clock.monotonicNanos()
            guard let nl = Self.firstNewline(in: bytes) else {
                droppedAnalysisBytes &+= UInt64(bytes.count)
                _ = analysis.take(bytes.count, now: now)
                return
            }
            droppedAnalysisBytes &+= UInt64(nl + 1 - start)
            _ = analysis.take(nl + 1 - start, now: now)
            start = nl + 1
            analysisGap[s] = false
        }
        let rest = bytes[start...]
        guard !rest.isEmpty else { return }
        guard let g = worker?.generation, let channel = agents[.detector]?.readyChannel else {
            droppedAnalysisBytes &+= UInt64(rest.count)
            analysisGap[s] = true
            return
        }
        let granted = analysis.take(rest.count, now: Clock.monotonicNanos())
        var end = rest.startIndex + granted
        if end < rest.endIndex {
            // Over budget: keep whole lines only; the remainder is dropped up to the next newline.
            if let nl = Self.lastNewline(in: rest[rest.startIndex..<end]) { end = nl + 1 } else { end = rest.startIndex }
            analysis.refund(granted - (end - rest.startIndex))
            analysisGap[s] = true
        }
        var offset = rest.startIndex
        while offset < end {
            let chunkEnd = min(end, offset + Message.maxOutputChunk)
            let frame = Message.output(generation: g, stream: stream, bytes: Array(rest[offset..<chunkEnd])).encode()
            // Never wait for the detector: a full queue means the copy is dropped and counted.
            if (try? channel.send(frame, nonBlocking: true)) != true {
                droppedAnalysisBytes &+= UInt64(end - offset)
                analysisGap[s] = true
                break
            }
            offset = chunkEnd
        }
        droppedAnalysisBytes &+= UInt64(rest.endIndex - end)
    }
}
