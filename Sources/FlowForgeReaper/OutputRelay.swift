// FlowForge — passing the worker's stdout/stderr through byte-exact, with a bounded copy for the detector.
// SPDX-License-Identifier: Apache-2.0
import FlowForgeSystem
import FlowForgeWire

/// Relays one worker stream (a pipe we own) to FlowForge's own stdout or stderr.
///
/// The passthrough never drops: while a write is pending we stop reading the pipe, so a slow consumer slows
/// the worker (as a plain pipeline would). Writes use `pwritev2(RWF_NOWAIT)` so the reaper never blocks on
/// a descriptor it shares with its caller, without setting O_NONBLOCK on that shared file description.
/// Sinks that do not support RWF_NOWAIT (a terminal) are written only after poll reports them writable, at
/// most PIPE_BUF bytes at a time.
///
/// When the sink is a pipe too (`flowforge run ... | next`), bytes the detector will not see anyway (no
/// analysis budget left, no detector) move from the worker's pipe to the sink with `splice(2)`: the kernel
/// hands over the pages, nothing is copied through the reaper (docs/BENCHMARKS.md, passthrough).
struct OutputRelay {
    enum SinkMode { case nowait, pollGated, closed }

    let source: Int32
    let sink: Int32
    let stream: OutputStream
    var pending: [UInt8] = []
    var pendingOffset = 0
    var mode = SinkMode.nowait
    var sourceOpen = true
    /// Both ends are pipes, so `splice` can move bytes without copying them.
    var canSplice: Bool
    /// A splice found the sink full: wait for POLLOUT on it before moving more.
    var sinkFull = false

    init(source: Int32, sink: Int32, stream: OutputStream, sinkIsPipe: Bool = false) {
        self.source = source
        self.sink = sink
        self.stream = stream
        self.canSplice = sinkIsPipe
    }

    var hasPending: Bool { pendingOffset < pending.count }

    /// The poll registration this relay wants now.
    var pollRequest: (fd: Int32, events: PollEvents)? {
        if (hasPending || sinkFull) && mode != .closed { return (sink, .writable) }
        if sourceOpen { return (source, .readable) }
        return nil
    }

    /// Moves what the worker's pipe holds (up to `limit` bytes) straight to the sink pipe. Returns the bytes
    /// moved: 0 when the pipe was empty, at EOF, or when the sink is full (then `sinkFull` is set).
    mutating func splice(limit: Int) -> Int {
        guard canSplice, sourceOpen, mode != .closed, !hasPending, !sinkFull else { return 0 }
        let error: SystemError
        switch FileIO.splice(from: source, to: sink, limit: limit) {
        case .success(let n) where n > 0: return n
        case .success:
            sourceOpen = false
            return 0
        case .failure(let e): error = e
        }
        switch error.errno {
        case Errno.wouldBlock:
            // Either the worker's pipe is empty or the sink is full; only the second needs a POLLOUT wait.
            // A failing poll counts as an empty pipe: the loop's own poll of the same pipe reports it.
            if let ready = try? Poll.wait(for: source, .readable, timeoutMillis: 0), ready.contains(.readable) { sinkFull = true }
        case Errno.invalidArgument:
            canSplice = false // the kernel refuses this pair: copy instead
        default:
            closeSink() // EPIPE or worse, as in flush()
        }
        return 0
    }

    /// Reads what the pipe has (up to `limit` bytes, at most `buffer.count`), returns the bytes read (0 on
    /// EAGAIN/EOF).
    mutating func readChunk(into buffer: inout [UInt8], limit: Int = .max) -> Int {
        // A failure is EAGAIN (the pipe is empty) or worse; either way nothing was read, and the loop's poll
        // of the same pipe reports a descriptor that went bad.
        let result = buffer.withUnsafeMutableBytes { raw in
            FileIO.read(source, into: UnsafeMutableRawBufferPointer(rebasing: raw.prefix(limit)))
        }
        guard case .success(let n) = result else { return 0 }
        if n == 0 { sourceOpen = false }
        return n
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
            let result = pending.withUnsafeBytes { raw in
                switch mode {
                case .nowait: FileIO.writeNoWait(sink, UnsafeRawBufferPointer(rebasing: raw[pendingOffset...]))
                default: FileIO.write(sink, UnsafeRawBufferPointer(rebasing: raw[pendingOffset..<pendingOffset + min(remaining, FileIO.pipeAtomicWrite)]))
                }
            }
            switch result {
            case .success(let n) where n > 0:
                pendingOffset += n
                if mode == .pollGated { return } // one bounded write per poll round
                continue
            case .failure(let e) where e.errno == Errno.wouldBlock:
                return
            case .failure(let e) where (e.errno == Errno.notSupported || e.errno == Errno.invalidArgument) && mode == .nowait:
                mode = .pollGated
                return
            default:
                closeSink() // EPIPE or worse (or a write of 0 bytes)
                return
            }
        }
        if !hasPending {
            pending.removeAll(keepingCapacity: true)
            pendingOffset = 0
        }
    }

    /// EPIPE or worse: nobody reads FlowForge's output any more. Close our read end so the worker sees EPIPE
    /// itself on its next write, as it would in a plain pipeline.
    private mutating func closeSink() {
        mode = .closed
        pending = []
        pendingOffset = 0
        sinkFull = false
        if sourceOpen {
            FileIO.close(source)
            sourceOpen = false
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
