#if canImport(Glibc)
import Glibc
#endif
import CLinux
import Dispatch

/// A resolved socket address, ready for connect(2).
struct ResolvedAddress: @unchecked Sendable {
    // sockaddr_storage is plain bytes; Sendable by value.
    var storage: sockaddr_storage
    var length: socklen_t
    var family: Int32
    var description: String { SocketAddress.describe(storage) }

    /// The address itself in network order: 4 bytes for IPv4, 16 for IPv6.
    var ipBytes: [UInt8] {
        withUnsafeBytes(of: storage) { raw in
            // sockaddr_in: family(2) port(2) addr(4); sockaddr_in6: family(2) port(2) flowinfo(4) addr(16).
            family == AF_INET ? Array(raw[4..<8]) : Array(raw[8..<24])
        }
    }
}

/// Name resolution. getaddrinfo blocks, so it runs on a Dispatch worker, never on a loop or
/// the cooperative pool; IP literals skip it.
public enum AddressResolver {
    /// The addresses `host` resolves to (4 bytes for IPv4, 16 for IPv6), for callers that must
    /// vet a host before using it (webhook URLs).
    public static func ipAddresses(of host: String) async throws(HTTPClientError) -> [[UInt8]] {
        try await resolve(host: host, port: 443).map(\.ipBytes)
    }

    static func resolve(host: String, port: Int) async throws(HTTPClientError) -> [ResolvedAddress] {
        if let literal = SocketAddress.make(host: host, port: port) {
            return [ResolvedAddress(storage: literal.storage, length: literal.length, family: literal.family)]
        }
        let result: Result<[ResolvedAddress], HTTPClientError> = await withCheckedContinuation { continuation in
            DispatchQueue.global().async {
                continuation.resume(returning: getaddrinfoBlocking(host: host, port: port))
            }
        }
        return try result.get()
    }

    static func getaddrinfoBlocking(host: String, port: Int) -> Result<[ResolvedAddress], HTTPClientError> {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_family = AF_UNSPEC
        var list: UnsafeMutablePointer<addrinfo>?
        let rc = getaddrinfo(host, String(port), &hints, &list)
        guard rc == 0, let first = list else {
            return .failure(.resolution(host, String(cString: gai_strerror(rc))))
        }
        defer { freeaddrinfo(first) }
        var addresses: [ResolvedAddress] = []
        var cursor: UnsafeMutablePointer<addrinfo>? = first
        while let entry = cursor {
            if let address = entry.pointee.ai_addr, entry.pointee.ai_family == AF_INET || entry.pointee.ai_family == AF_INET6 {
                var storage = sockaddr_storage()
                withUnsafeMutableBytes(of: &storage) { target in
                    target.copyMemory(from: UnsafeRawBufferPointer(start: address, count: Int(entry.pointee.ai_addrlen)))
                }
                addresses.append(ResolvedAddress(storage: storage, length: entry.pointee.ai_addrlen, family: entry.pointee.ai_family))
            }
            cursor = entry.pointee.ai_next
        }
        return addresses.isEmpty ? .failure(.resolution(host, "no IPv4 or IPv6 address")) : .success(addresses)
    }
}
