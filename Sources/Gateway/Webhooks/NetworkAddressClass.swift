/// What kind of network an IP address belongs to, for the webhook SSRF guard: only `.global`
/// addresses may receive webhooks unless WEBHOOK_ALLOW_PRIVATE_NETWORKS=true.
///
/// Everything the IANA IPv4 and IPv6 special-purpose registries mark as not globally reachable is
/// refused, plus multicast, the deprecated 6to4 relay anycast block and, for IPv6, everything
/// outside global unicast 2000::/3. The few registry blocks marked globally reachable (PCP and
/// TURN anycast, AS112, AMT, ORCHIDv2, DETs) stay `.global`. The tables below are the reference.
///
/// IPv6 forms that carry an IPv4 address are judged by that address: mapped ::ffff:a.b.c.d,
/// SIIT ::ffff:0:a.b.c.d, compatible ::a.b.c.d, NAT64 64:ff9b::a.b.c.d and 64:ff9b:1::/48 (the
/// last 32 bits; the local-use prefix is refused even for a public address, it is not globally
/// reachable), 6to4 2002:aabb:ccdd::/48, and Teredo 2001:0:ssss:ssss::cccc:cccc (server and the
/// client, stored inverted; either one non-global refuses the address).
public enum NetworkAddressClass: String, Sendable, Equatable, CaseIterable {
    case global, unspecified, loopback, `private`, sharedAddressSpace, linkLocal, multicast
    case documentation, benchmarking, specialPurpose, reserved

    /// `bytes`: 4 (IPv4) or 16 (IPv6) bytes in network order; any other length is `reserved`.
    public static func classify(_ bytes: [UInt8]) -> NetworkAddressClass {
        switch bytes.count {
        case 4: return classifyIPv4(bytes.withUnsafeBytes { UInt32(bigEndian: $0.loadUnaligned(as: UInt32.self)) })
        case 16: return classifyIPv6(bytes.reduce(UInt128(0)) { $0 << 8 | UInt128($1) })
        default: return .reserved
        }
    }

    /// IPv4 blocks, most specific first (the first match wins); anything unmatched is global.
    static let ipv4Blocks: [(base: UInt32, length: Int, kind: NetworkAddressClass)] = [
        (v4(0, 0, 0, 0), 8, .unspecified),  // "this network" (RFC 791)
        (v4(10, 0, 0, 0), 8, .private),  // RFC 1918
        (v4(100, 64, 0, 0), 10, .sharedAddressSpace),  // CGNAT (RFC 6598)
        (v4(127, 0, 0, 0), 8, .loopback),
        (v4(169, 254, 0, 0), 16, .linkLocal),  // includes 169.254.169.254, cloud metadata
        (v4(172, 16, 0, 0), 12, .private),
        (v4(192, 0, 0, 9), 32, .global),  // PCP anycast (RFC 7723), globally reachable
        (v4(192, 0, 0, 10), 32, .global),  // TURN anycast (RFC 8155), globally reachable
        (v4(192, 0, 0, 0), 24, .specialPurpose),  // IETF protocol assignments (RFC 6890): DS-Lite, NAT64 discovery…
        (v4(192, 0, 2, 0), 24, .documentation),  // TEST-NET-1 (RFC 5737)
        (v4(192, 88, 99, 0), 24, .specialPurpose),  // deprecated 6to4 relay anycast (RFC 7526)
        (v4(192, 168, 0, 0), 16, .private),
        (v4(198, 18, 0, 0), 15, .benchmarking),  // RFC 2544
        (v4(198, 51, 100, 0), 24, .documentation),  // TEST-NET-2
        (v4(203, 0, 113, 0), 24, .documentation),  // TEST-NET-3
        (v4(224, 0, 0, 0), 4, .multicast),
        (v4(240, 0, 0, 0), 4, .reserved),  // includes 255.255.255.255, limited broadcast
    ]

    /// IPv6 blocks that carry no IPv4 address, most specific first; outside 2000::/3 is reserved.
    static let ipv6Blocks: [(base: UInt128, length: Int, kind: NetworkAddressClass)] = [
        (0, 128, .unspecified),  // ::
        (1, 128, .loopback),  // ::1
        (v6(0x0100, 0, 0, 0), 64, .specialPurpose),  // discard-only (RFC 6666)
        (v6(0x0100, 0, 0, 1), 64, .specialPurpose),  // dummy prefix (RFC 9780)
        (v6(0x2001, 1) | 1, 128, .global),  // PCP anycast
        (v6(0x2001, 1) | 2, 128, .global),  // TURN anycast
        (v6(0x2001, 1) | 3, 128, .global),  // DNS-SD SRP anycast
        (v6(0x2001, 2, 0), 48, .benchmarking),  // RFC 5180
        (v6(0x2001, 3), 32, .global),  // AMT (RFC 7450)
        (v6(0x2001, 4, 0x112), 48, .global),  // AS112-v6 (RFC 7535)
        (v6(0x2001, 0x20), 28, .global),  // ORCHIDv2 (RFC 7343)
        (v6(0x2001, 0x30), 28, .global),  // drone remote ID DETs (RFC 9374)
        (v6(0x2001, 0), 23, .specialPurpose),  // rest of the IETF protocol assignments
        (v6(0x2001, 0x0DB8), 32, .documentation),  // RFC 3849
        (v6(0x3FFF), 20, .documentation),  // RFC 9637
        (v6(0x5F00), 16, .specialPurpose),  // SRv6 SIDs (RFC 9602)
        (v6(0xFC00), 7, .private),  // unique local (RFC 4193)
        (v6(0xFE80), 10, .linkLocal),
        (v6(0xFEC0), 10, .private),  // deprecated site-local (RFC 3879)
        (v6(0xFF00), 8, .multicast),
        (v6(0x2000), 3, .global),  // global unicast
        (0, 0, .reserved),  // everything else is reserved by the IETF
    ]

    static func classifyIPv4(_ address: UInt32) -> NetworkAddressClass {
        for block in ipv4Blocks where matches(address, block.base, block.length) { return block.kind }
        return .global
    }

    static func classifyIPv6(_ address: UInt128) -> NetworkAddressClass {
        let low32 = UInt32(truncatingIfNeeded: address)
        if matches(address, v6(0, 0, 0, 0, 0, 0xFFFF), 96) { return classifyIPv4(low32) }  // mapped
        if matches(address, v6(0, 0, 0, 0, 0xFFFF, 0), 96) { return classifyIPv4(low32) }  // SIIT
        if address > 1 && matches(address, 0, 96) { return classifyIPv4(low32) }  // compatible
        if matches(address, v6(0x64, 0xFF9B), 96) { return classifyIPv4(low32) }  // NAT64, well-known
        if matches(address, v6(0x64, 0xFF9B, 1), 48) {  // NAT64, local use
            let embedded = classifyIPv4(low32)
            return embedded == .global ? .specialPurpose : embedded
        }
        if matches(address, v6(0x2002), 16) { return classifyIPv4(UInt32(truncatingIfNeeded: address >> 80)) }  // 6to4
        if matches(address, v6(0x2001, 0), 32) {  // Teredo
            let client = classifyIPv4(~low32)
            return client == .global ? classifyIPv4(UInt32(truncatingIfNeeded: address >> 64)) : client
        }
        for block in ipv6Blocks where matches(address, block.base, block.length) { return block.kind }
        return .reserved
    }

    static func matches<T: FixedWidthInteger>(_ address: T, _ base: T, _ length: Int) -> Bool {
        length == 0 || (address ^ base) >> (T.bitWidth - length) == 0
    }

    static func v4(_ a: UInt8, _ b: UInt8, _ c: UInt8, _ d: UInt8) -> UInt32 {
        UInt32(a) << 24 | UInt32(b) << 16 | UInt32(c) << 8 | UInt32(d)
    }

    /// An IPv6 address from its leading 16-bit groups, the rest zero.
    static func v6(_ groups: UInt16...) -> UInt128 {
        groups.enumerated().reduce(UInt128(0)) { $0 | UInt128($1.element) << (112 - 16 * $1.offset) }
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
        case .documentation: "an address reserved for documentation"
        case .benchmarking: "an address reserved for benchmarking"
        case .specialPurpose: "a special-purpose address that is not globally reachable"
        case .reserved: "a reserved address"
        }
    }

    /// Text form of an address for messages (dotted IPv4, or IPv6 as eight hex groups).
    static func describe(_ bytes: [UInt8]) -> String {
        if bytes.count == 4 { return bytes.map(String.init).joined(separator: ".") }
        return stride(from: 0, to: bytes.count - 1, by: 2).map { String(UInt16(bytes[$0]) << 8 | UInt16(bytes[$0 + 1]), radix: 16) }
            .joined(separator: ":")
    }
}
