// FlowForge — passing the worker's stdout/stderr through byte-exact, with a bounded copy for the detector.
// SPDX-License-Identifier: Apache-2.0
import CFlowForgeSys
import FlowForgeSystem
import FlowForgeWire
#if canImport(Glibc)
import Glibc
#endif

/// Relays one worker stream (a pipe we own) to FlowForge's own stdout or stderr.
///
/// The passthrough never drops: while a write is pending we stop reading the pipe, so a slow consumer slows
/// the worker (as a plain pipeline would). Writes use `pwritev2(RWF_NOWAIT)` so the reaper never blocks on
/// a descriptor it shares with its caller, without setting O_NONBLOCK on that shared file description.
/// Sinks that do not support RWF_NOWAIT (a terminal) are written only after poll reports them writable, at
/// most PIPE_BUF bytes at a time.
struct OutputRelay {
    enum SinkMode { case nowait, pollGated, closed }

    let source: Int32
    let sink: Int32
    let stream: OutputStream
    var pending: [UInt8] = []
    var pendingOffset = 0
    var mode = SinkMode.nowait
    var sourceOpen = true

    init(source: Int32, sink: Int32, stream: OutputStream) {
        self.source = source
        self.sink = sink
        self.stream = stream
    }

    var hasPending: Bool { pendingOffset < pending.count }

    /// The poll registration this relay wants now.
    var pollRequest: (fd: Int32, events: Int16)? {
        if hasPending && mode != .closed { return (sink, Int16(POLLOUT)) }
        if sourceOpen { return (source, Int16(POLLIN)) }
        return nil
    }

    /// Reads what the pipe has (up to `buffer.count`), returns the bytes read (empty on EAGAIN/EOF).
    mutating func readChunk(into buffer: inout [UInt8]) -> Int {
        let n = buffer.withUnsafeMutableBytes { raw in
            retryEINTR { read(source, raw.baseAddress, raw.count) }
        }
        if n == 0 { sourceOpen = false }
        return max(0, n)
    }

    /// Writes as much of `bytes` as the sink takes now; keeps the rest pending.
    mutating func deliver(_ bytes: ArraySlice<UInt8>) {
        guard mode != .closed else { return }
        pending = Array(bytes)
        pendingOffset = 0
        flush()
    }

    /// Continues a pending write (called when poll says the sink is writable, or right after a read).
    mutating func flush() {
        while hasPending && mode != .closed {
            let remaining = pending.count - pendingOffset
            let n: Int = pending.withUnsafeBytes { raw in
                let base = raw.baseAddress! + pendingOffset
                switch mode {
                case .nowait: return retryEINTR { ffsys_write_nowait(sink, base, remaining) }
                default: return retryEINTR { write(sink, base, min(remaining, Int(PIPE_BUF))) }
                }
            }
            if n > 0 {
                pendingOffset += n
                if mode == .pollGated { return } // one bounded write per poll round
                continue
            }
            let e = errno
            if n < 0 && (e == EAGAIN || e == EWOULDBLOCK) { return }
            if n < 0 && (e == EOPNOTSUPP || e == EINVAL) && mode == .nowait {
                mode = .pollGated
                return
            }
            // EPIPE or worse: nobody reads FlowForge's output any more. Close our read end so the worker sees
            // EPIPE itself on its next write, as it would in a plain pipeline.
            mode = .closed
            pending = []
            pendingOffset = 0
            if sourceOpen {
                FileIO.close(source)
                sourceOpen = false
            }
            return
        }
        if !hasPending {
            pending.removeAll(keepingCapacity: true)
            pendingOffset = 0
        }
    }
}

/// A token bucket bounding how many output bytes per second go to the detector for analysis.
struct AnalysisBudget {
    let bytesPerSecond: UInt64
    var tokens: UInt64
    var lastRefill: UInt64

    init(bytesPerSecond: UInt64, now: UInt64) {
        self.bytesPerSecond = bytesPerSecond
        self.tokens = bytesPerSecond
        self.lastRefill = now
    }

    /// Tokens available now (after refilling), without taking any.
    mutating func available(now: UInt64) -> UInt64 {
        _ = take(0, now: now)
        return tokens
    }

    /// Returns tokens that were taken but not used.
    mutating func refund(_ count: Int) {
        tokens = min(bytesPerSecond, tokens &+ UInt64(max(0, count)))
    }

    /// How many of `count` bytes may be sent now.
    mutating func take(_ count: Int, now: UInt64) -> Int {
        let elapsed = now &- lastRefill
        if elapsed > 0 {
            tokens = min(bytesPerSecond, tokens &+ elapsed &* bytesPerSecond / 1_000_000_000)
            lastRefill = now
        }
        let granted = min(UInt64(count), tokens)
        tokens -= granted
        return Int(granted)
    }
}
