// FlowForge — HTTP/1.1 on a listening socket bound before the sandbox: Hummingbird's responder and HTTP/1
// channel, SwiftNIO's event loops, and an accept loop of our own, so the filter needs no socket/bind/listen.
// SPDX-License-Identifier: Apache-2.0
import FlowForgeSystem
import Foundation
import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import ServiceLifecycle
import Synchronization

/// Serves a router on an already listening socket (`ListeningSocket.bind`), answering as Hummingbird's
/// `Application` does: a `Date` and a `Server` header on every response, 500 with an empty body for an error
/// that is no `HTTPResponseError`, 400 and close on a malformed request.
///
/// Hummingbird 2 binds its own socket, and SwiftNIO's `ServerBootstrap.bind(_:)` on a descriptor calls
/// listen(2) again; both would need the call in the filter. Here a thread of our own accepts (poll, accept4)
/// and each connection becomes a NIO channel through `ClientBootstrap.withConnectedSocket`.
///
/// - Important: `serve()` owns the descriptor from then on; `shutdownGracefully()` stops accepting, closes idle
///   connections and lets busy ones finish their response. As a `Service` in a `ServiceGroup`, `run()` serves
///   until the group's graceful shutdown, which calls `shutdownGracefully()`.
public final class PreboundServer: Service, Sendable {
    private let fd: Int32
    private let responder: RouterResponder<BasicRequestContext>
    private let serverName: String
    private let logger: Logger
    private let group: MultiThreadedEventLoopGroup
    private let connections = Mutex(Connections())

    private struct Connections {
        var stopping = false
        var next = 0
        var open: [Int: any NIOCore.Channel] = [:]
    }

    /// A parse error surfaced while the response was being written: ends the connection without a second
    /// response (Hummingbird's `HTTPChannelError.parseErrorWhileWritingResponse`, which is not public).
    private struct ParseErrorWhileWriting: Error {}

    public init(listeningSocket fd: Int32, router: Router<BasicRequestContext>, serverName: String = "flowforge",
                logger: Logger, group: MultiThreadedEventLoopGroup = .singleton) {
        self.fd = fd
        self.responder = router.buildResponder()
        self.serverName = serverName
        self.logger = logger
        self.group = group
    }

    /// Serves until the service group shuts down gracefully (or a fatal accept error), then returns once
    /// every connection has closed.
    public func run() async {
        await withGracefulShutdownHandler {
            await serve()
        } onGracefulShutdown: {
            self.shutdownGracefully()
        }
    }

    /// Accepts and serves connections until `shutdownGracefully()` (or a fatal accept error), then returns
    /// once every connection has closed.
    public func serve() async {
        let http = HTTP1Channel(responder: respond, configuration: .init())
        let (accepted, sink) = AsyncStream.makeStream(of: Int32.self)
        let fd = self.fd
        // A thread of its own: accept blocks, and the concurrency pool has as many threads as cores.
        Thread {
            while let connection = ListeningSocket.accept(fd) { sink.yield(connection) }
            sink.finish()
        }.start()
        await withDiscardingTaskGroup { group in
            for await connection in accepted {
                group.addTask { await self.serve(connection, http) }
            }
        }
    }

    /// Stops accepting and asks every open connection to close once its current response is written.
    public func shutdownGracefully() {
        let open = connections.withLock { state in
            state.stopping = true
            return Array(state.open.values)
        }
        ListeningSocket.stopAccepting(fd)
        for channel in open { Self.quiesce(channel) }
    }

    private func serve(_ socket: Int32, _ http: HTTP1Channel) async {
        let child: HTTP1Channel.Value
        do {
            child = try await ClientBootstrap(group: group)
                .channelOption(ChannelOptions.allowRemoteHalfClosure, value: true)
                .withConnectedSocket(socket) { channel in http.setup(channel: channel, logger: self.logger) }
        } catch {
            logger.debug("cannot serve an accepted connection: \(error)")
            return
        }
        let (id, stopping) = connections.withLock { state in
            state.next += 1
            state.open[state.next] = child.channel
            return (state.next, state.stopping)
        }
        if stopping { Self.quiesce(child.channel) } // accepted before the shutdown, set up after it
        await http.handle(value: child, logger: logger)
        _ = connections.withLock { $0.open.removeValue(forKey: id) }
    }

    private static func quiesce(_ channel: any NIOCore.Channel) {
        channel.eventLoop.execute { channel.pipeline.fireUserInboundEventTriggered(ChannelShouldQuiesceEvent()) }
    }

    /// `Application.run()`'s responder closure, with our server name and date cache.
    private var respond: HTTPChannelHandler.Responder {
        let responder = self.responder, logger = self.logger, serverName = self.serverName
        return { request, writer, channel in
            let context = BasicRequestContext(source: .init(channel: channel, logger: logger))
            var response: Response
            do {
                response = try await responder.respond(to: request, context: context)
            } catch let error as HTTPParserError {
                throw error // handleHTTP answers 400 and closes
            } catch {
                logger.debug("Unrecognised Error", metadata: ["error.type": "\(error)"])
                response = Response(status: .internalServerError, body: .init())
            }
            response.headers[.date] = HTTPDate.now()
            response.headers[.server] = serverName
            do {
                try await writer.write(response: response.head, body: response.body)
            } catch is HTTPParserError {
                throw ParseErrorWhileWriting()
            }
        }
    }
}
