#if canImport(Glibc)
    import Glibc
#endif
import Foundation
import Testing

/// The client tests' scripted server must never answer for another listener: a listener stopped
/// before its accept thread ran used to leave that thread to accept on a descriptor number the
/// next listener had been given, and run the wrong script on its connections.
@Suite struct RawListenerTests {
    @Test func aStoppedListenerNeverTakesTheNextListenersConnections() async throws {
        for _ in 0..<100 {
            let stopped = try RawListener { fd, _ in close(fd) }
            stopped.stop()
            let served = try RawListener { fd, _ in RawListener.write(fd, "served") }
            let socket = try RawSocket(port: served.port)
            let answer = try await socket.readUntilClose(timeout: 5)
            served.stop()
            #expect(String(decoding: answer, as: UTF8.self) == "served")
            #expect(stopped.connections == 0)
        }
    }
}
