/// What kind of network an IP address belongs to, for the webhook SSRF guard: only `.global`
/// addresses may receive webhooks unless WEBHOOK_ALLOW_PRIVATE_NETWORKS=true.
///
/// | class | IPv4 | IPv6 |
/// |---|---|---|
/// | unspecified | 0.0.0.0/8 | ::/128 |
/// | loopback | 127.0.0.0/8 | ::1/128 |
/// | private | 10/8, 172.16/12, 192.168/16 (RFC 1918) | fc00::/7 (ULA, RFC 4193), fec0::/10 (old site-local) |
/// | sharedAddressSpace | 100.64.0.0/10 (CGNAT, RFC 6598) | — |
/// | linkLocal | 169.254.0.0/16 (incl. 169.254.169.254, cloud metadata) | fe80::/10 |
/// | multicast | 224.0.0.0/4 | ff00::/8 |
/// | reserved | 240.0.0.0/4 incl. 255.255.255.255 | — |
///
/// IPv4-mapped (::ffff:a.b.c.d), IPv4-compatible (::a.b.c.d) and NAT64 (64:ff9b::a.b.c.d)
/// IPv6 addresses are judged by the IPv4 address they carry.
public enum NetworkAddressClass: String, Sendable, Equatable {
    case global, unspecified, loopback, `private`, sharedAddressSpace, linkLocal, multicast, reserved

    /// `bytes`: 4 (IPv4) or 16 (IPv6) bytes in network order; any other length is `reserved`.
    public static func classify(_ bytes: [UInt8]) -> NetworkAddressClass {
        switch bytes.count {
        case 4: return classifyIPv4(bytes[0], bytes[1])
        case 16: return classifyIPv6(bytes)
        default: return .reserved
        }
    }

    private static func classifyIPv4(_ a: UInt8, _ b: UInt8) -> NetworkAddressClass {
        switch a {
        case 0: return .unspecified
        case 10: return .private
        case 127: return .loopback
        case 100 where b & 0xC0 == 64: return .sharedAddressSpace
        case 169 where b == 254: return .linkLocal
        case 172 where b & 0xF0 == 16: return .private
        case 192 where b == 168: return .private
        case 224...239: return .multicast
        case 240...255: return .reserved
        default: return .global
        }
    }

    private static func classifyIPv6(_ b: [UInt8]) -> NetworkAddressClass {
        let firstTen = b[0..<10].allSatisfy { $0 == 0 }
        if firstTen && b[10] == 0xFF && b[11] == 0xFF { return classifyIPv4(b[12], b[13]) }  // ::ffff:a.b.c.d
        if firstTen && b[10] == 0 && b[11] == 0 {
            if b[12..<15].allSatisfy({ $0 == 0 }) && b[15] <= 1 { return b[15] == 0 ? .unspecified : .loopback }
            return classifyIPv4(b[12], b[13])  // ::a.b.c.d (deprecated IPv4-compatible)
        }
        if b[0] == 0x00 && b[1] == 0x64 && b[2] == 0xFF && b[3] == 0x9B && b[4..<12].allSatisfy({ $0 == 0 }) {
            return classifyIPv4(b[12], b[13])  // 64:ff9b::/96 NAT64
        }
        if b[0] & 0xFE == 0xFC { return .private }
        if b[0] == 0xFE && b[1] & 0xC0 == 0x80 { return .linkLocal }
        if b[0] == 0xFE && b[1] & 0xC0 == 0xC0 { return .private }
        if b[0] == 0xFF { return .multicast }
        return .global
    }

    /// The refusal reason for a non-global address (nil for a global one), in words a partner reads.
    public var refusal: String? {
        switch self {
        case .global: nil
        case .unspecified: "an unspecified address"
        case .loopback: "a loopback address"
        case .private: "a private-network address"
        case .sharedAddressSpace: "a shared (carrier-grade NAT) address"
        case .linkLocal: "a link-local address (this includes cloud metadata services)"
        case .multicast: "a multicast address"
        case .reserved: "a reserved address"
        }
    }

    /// Text form of an address for messages (dotted IPv4, or IPv6 as eight hex groups).
    static func describe(_ bytes: [UInt8]) -> String {
        if bytes.count == 4 { return bytes.map(String.init).joined(separator: ".") }
        return stride(from: 0, to: bytes.count, by: 2).map { String(UInt16(bytes[$0]) << 8 | UInt16(bytes[$0 + 1]), radix: 16) }
            .joined(separator: ":")
    }
}
