// FlowForge — test support: one small HTTP/1.1 client for loopback, and free ports from the kernel.
// SPDX-License-Identifier: Apache-2.0
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A test's failure to set up or to talk to what it started.
public struct TestFailure: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// One HTTP response.
public struct HTTPReply: Sendable {
    public let status: Int
    /// Lowercased names.
    public let headers: [String: String]
    public let body: Data
    public var text: String { String(decoding: body, as: UTF8.self) }
    public var mediaType: String? {
        headers["content-type"].map { $0.split(separator: ";").first.map(String.init) ?? "" }
            .map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
    }
    public func json() throws -> JSON { try JSONDecoder().decode(JSON.self, from: body) }

    public init(status: Int, headers: [String: String], body: Data) {
        self.status = status
        self.headers = headers
        self.body = body
    }
}

/// HTTP/1.1 over a TCP socket to 127.0.0.1, one request per connection, bytes exactly as given: what the API
/// tests need (several `Host` headers, a wrong `Content-Length`, a chunked body, methods HTTP does not define)
/// and what a general client would tidy away.
public enum LoopbackHTTP {
    static func address(port: UInt16) -> sockaddr_in {
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = port.bigEndian
        addr.sin_addr = in_addr(s_addr: inet_addr("127.0.0.1"))
        return addr
    }

    /// A port nothing listens on right now: the kernel picks it (bind to port 0), then it is released.
    ///
    /// - Important: `flowforge run --listen` and `flowforge dashboard --listen` take ports 1 to 65535 only and do
    ///   not report a bound port, so a test needs the number before it starts one. Another process could take the
    ///   port in between; the kernel hands out ephemeral ports in turn, so that is unlikely, and a test then fails
    ///   loudly (the server exits 111) rather than talking to a stranger.
    public static func freePort() throws -> UInt16 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw TestFailure("socket: errno \(errno)") }
        defer { close(fd) }
        var addr = address(port: 0)
        let bound = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0 else { throw TestFailure("bind: errno \(errno)") }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let named = withUnsafeMutablePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        guard named == 0 else { throw TestFailure("getsockname: errno \(errno)") }
        return UInt16(bigEndian: addr.sin_port)
    }

    /// One request to `127.0.0.1:port` on a fresh connection (`Connection: close`). A body gets a Content-Length unless `headers`
    /// has one or it is sent chunked.
    public static func request(port: UInt16, method: String, target: String, headers: [(String, String)] = [],
                                      body: Data? = nil, chunked: Bool = false, timeoutSeconds: Int = 15) throws -> HTTPReply {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw TestFailure("socket: errno \(errno)") }
        defer { close(fd) }
        var timeout = timeval(tv_sec: timeoutSeconds, tv_usec: 0)
        _ = setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        _ = setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var addr = address(port: port)
        let connected = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { throw TestFailure("connect to 127.0.0.1:\(port): errno \(errno)") }

        // A test that sets Host itself (the allowlist tests) sends only its own.
        let ownHost = headers.contains { $0.0.lowercased() == "host" }
        var head = "\(method) \(target) HTTP/1.1\r\n" + (ownHost ? "" : "Host: 127.0.0.1:\(port)\r\n") + "Connection: close\r\n"
        for (name, value) in headers { head += "\(name): \(value)\r\n" }
        var payload: [UInt8] = []
        if let body {
            let bytes = [UInt8](body)
            if chunked {
                head += "Transfer-Encoding: chunked\r\n"
                var offset = 0
                while offset < bytes.count {
                    let n = min(4096, bytes.count - offset)
                    payload += Array((String(n, radix: 16) + "\r\n").utf8) + bytes[offset..<(offset + n)] + Array("\r\n".utf8)
                    offset += n
                }
                payload += Array("0\r\n\r\n".utf8)
            } else {
                if !headers.contains(where: { $0.0.lowercased() == "content-length" }) { head += "Content-Length: \(bytes.count)\r\n" }
                payload = bytes
            }
        }
        let out = Array((head + "\r\n").utf8) + payload
        var sent = 0
        while sent < out.count {
            let n = out[sent...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n <= 0 { break } // the server may answer (413) and close before it read everything: read what it said
            sent += n
        }

        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65_536)
        var ended = "closed by the server"
        while true {
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n < 0 { ended = errno == EAGAIN || errno == EWOULDBLOCK ? "timed out" : "recv errno \(errno)" }
            if n <= 0 { break }
            received += buffer[0..<n]
            if let reply = parse(received, atEnd: false, head: method == "HEAD") { return reply }
        }
        guard !received.isEmpty else { throw TestFailure("\(method) \(target): no response (connection \(ended))") }
        guard let reply = parse(received, atEnd: true, head: method == "HEAD") else {
            throw TestFailure("\(method) \(target): malformed response: \(String(decoding: received.prefix(300), as: UTF8.self))")
        }
        return reply
    }

    /// A complete response from `bytes`, or nil when it is not complete (yet).
    /// `head`: the answer to a HEAD request, whose Content-Length describes a body that is not sent.
    static func parse(_ bytes: [UInt8], atEnd: Bool, head: Bool = false) -> HTTPReply? {
        guard bytes.count >= 4, let end = (0...(bytes.count - 4)).first(where: {
            bytes[$0] == 13 && bytes[$0 + 1] == 10 && bytes[$0 + 2] == 13 && bytes[$0 + 3] == 10
        }) else { return nil }
        var lines = String(decoding: bytes[..<end], as: UTF8.self).components(separatedBy: "\r\n")
        let statusLine = lines.removeFirst().split(separator: " ", maxSplits: 2)
        guard statusLine.count >= 2, statusLine[0].hasPrefix("HTTP/"), let status = Int(statusLine[1]) else { return nil }
        var headers: [String: String] = [:]
        for line in lines {
            guard let colon = line.firstIndex(of: ":") else { continue }
            let name = line[..<colon].lowercased()
            let value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            headers[name] = headers[name].map { $0 + ", " + value } ?? value
        }
        let rest = bytes[(end + 4)...]
        if head { return HTTPReply(status: status, headers: headers, body: Data()) }
        if let length = headers["content-length"].flatMap({ Int($0) }) {
            guard rest.count >= length else { return nil }
            return HTTPReply(status: status, headers: headers, body: Data(rest.prefix(length)))
        }
        if headers["transfer-encoding"]?.lowercased().contains("chunked") == true {
            guard let body = dechunk(rest) else { return nil }
            return HTTPReply(status: status, headers: headers, body: Data(body))
        }
        return atEnd ? HTTPReply(status: status, headers: headers, body: Data(rest)) : nil
    }

    static func dechunk(_ bytes: ArraySlice<UInt8>) -> [UInt8]? {
        var out: [UInt8] = []
        var i = bytes.startIndex
        while true {
            guard let lineEnd = (i..<max(i, bytes.endIndex - 1)).first(where: { bytes[$0] == 13 && bytes[$0 + 1] == 10 }) else { return nil }
            let sizeText = String(decoding: bytes[i..<lineEnd], as: UTF8.self).split(separator: ";").first.map(String.init) ?? ""
            guard let size = Int(sizeText.trimmingCharacters(in: .whitespaces), radix: 16) else { return nil }
            if size == 0 { return out }
            let start = lineEnd + 2
            guard bytes.endIndex >= start + size + 2 else { return nil }
            out += bytes[start..<(start + size)]
            i = start + size + 2
        }
    }
}

/// `{"reason": reason}`, the body of a process action.
public func reasonBody(_ reason: String) -> Data {
    (try? JSONSerialization.data(withJSONObject: ["reason": reason])) ?? Data()
}

/// `s` percent-encoded for a query value (a `+` offset in a time must not become a space).
public func queryEncoded(_ s: String) -> String {
    var allowed = CharacterSet(charactersIn: "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
    allowed.insert(charactersIn: "-._~:")
    return s.addingPercentEncoding(withAllowedCharacters: allowed) ?? s
}
