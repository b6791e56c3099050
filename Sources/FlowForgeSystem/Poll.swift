// FlowForge — poll(2) through the syscall funnel, with named events.
// SPDX-License-Identifier: Apache-2.0
#if canImport(Glibc)
import Glibc
#endif

/// What a descriptor is waited for, or what it became (`POLLIN`, `POLLOUT`, ...).
public struct PollEvents: OptionSet, Sendable, Hashable {
    public let rawValue: Int16
    public init(rawValue: Int16) { self.rawValue = rawValue }

    /// POLLIN: data to read (or EOF, or a connection to accept).
    public static let readable = PollEvents(rawValue: Int16(POLLIN))
    /// POLLOUT: room to write.
    public static let writable = PollEvents(rawValue: Int16(POLLOUT))
    /// POLLHUP: the peer closed (reported whether asked for or not).
    public static let hangUp = PollEvents(rawValue: Int16(POLLHUP))
    /// POLLERR (reported whether asked for or not).
    public static let error = PollEvents(rawValue: Int16(POLLERR))
}

/// One descriptor of a `Poll.wait` call: what to wait for, and (after the call) what happened.
public struct PollDescriptor: Sendable {
    public var fd: Int32
    public var events: PollEvents
    public var revents: PollEvents = []

    public init(fd: Int32, events: PollEvents) {
        self.fd = fd
        self.events = events
    }
}

/// Waiting for descriptors.
public enum Poll {
    /// Waits until one of `descriptors` is ready or `timeoutMillis` passes (-1: no timeout) and fills in
    /// their `revents`. Returns how many are ready (0: the timeout passed).
    ///
    /// - Throws: `SystemError` (EINTR is retried by the funnel, with the same timeout).
    @discardableResult
    public static func wait(_ descriptors: inout [PollDescriptor], timeoutMillis: Int32) throws(SystemError) -> Int {
        var fds = descriptors.map { pollfd(fd: $0.fd, events: $0.events.rawValue, revents: 0) }
        let n = try sys("poll") { fds.withUnsafeMutableBufferPointer { poll($0.baseAddress, nfds_t($0.count), timeoutMillis) } }
        for i in descriptors.indices { descriptors[i].revents = PollEvents(rawValue: fds[i].revents) }
        return Int(n)
    }

    /// Waits for one descriptor; returns what it became (empty: the timeout passed).
    ///
    /// - Throws: `SystemError`.
    public static func wait(for fd: Int32, _ events: PollEvents, timeoutMillis: Int32) throws(SystemError) -> PollEvents {
        var pfd = pollfd(fd: fd, events: events.rawValue, revents: 0)
        _ = try sys("poll") { poll(&pfd, 1, timeoutMillis) }
        return PollEvents(rawValue: pfd.revents)
    }
}
