// FlowForge — servicing the output relays and feeding the detector its bounded copy.
// SPDX-License-Identifier: Apache-2.0
import FlowForgeSystem
import FlowForgeWire
#if canImport(Glibc)
import Glibc
#endif

extension ReaperLoop {
    func serviceRelay(_ index: Int, revents: Int16) {
        if relays[index].hasPending {
            relays[index].flush()
            return
        }
        if revents & Int16(POLLIN | POLLHUP) != 0 {
            readRelay(index)
        }
    }

    /// Reads one chunk from a worker pipe, copies it to the detector within budget, and passes it through.
    private func readRelay(_ index: Int) {
        let n = relays[index].readChunk(into: &readBuffer)
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
                    var pfd = pollfd(fd: relays[i].sink, events: Int16(POLLOUT), revents: 0)
                    if poll(&pfd, 1, 1000) <= 0 { break }
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

    private func copyForAnalysis(_ bytes: ArraySlice<UInt8>, stream: OutputStream) {
        guard let g = worker?.generation, let channel = agents[.detector]?.readyChannel else {
            droppedAnalysisBytes &+= UInt64(bytes.count)
            return
        }
        let allowed = analysis.take(bytes.count, now: Clock.monotonicNanos())
        var offset = bytes.startIndex
        let end = bytes.startIndex + allowed
        while offset < end {
            let chunkEnd = min(end, offset + Message.maxOutputChunk)
            let frame = Message.output(generation: g, stream: stream, bytes: Array(bytes[offset..<chunkEnd])).encode()
            // Never wait for the detector: a full queue means the copy is dropped and counted.
            if (try? channel.send(frame, nonBlocking: true)) != true {
                droppedAnalysisBytes &+= UInt64(end - offset)
                break
            }
            offset = chunkEnd
        }
        droppedAnalysisBytes &+= UInt64(bytes.count - allowed)
    }
}
