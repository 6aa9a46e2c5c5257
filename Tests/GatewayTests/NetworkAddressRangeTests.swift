import Foundation
import Testing
@testable import Gateway

/// Every range of the IANA special-purpose registries (and multicast, and the IPv6 space outside
/// global unicast): an address inside, and the addresses just outside each end where the
/// neighbour is global. Pure: the addresses are parsed with inet_pton, nothing is resolved.
struct NetworkAddressRangeTests {
    static func bytes(_ text: String) -> [UInt8] {
        if text.contains(":") {
            var address = in6_addr()
            #expect(inet_pton(AF_INET6, text, &address) == 1, "\(text)")
            return withUnsafeBytes(of: &address) { Array($0) }
        }
        var address = in_addr()
        #expect(inet_pton(AF_INET, text, &address) == 1, "\(text)")
        return withUnsafeBytes(of: &address) { Array($0) }
    }

    static let ipv4: [(String, NetworkAddressClass)] = [
        ("0.0.0.0", .unspecified), ("0.255.255.255", .unspecified), ("1.0.0.0", .global),
        ("10.0.0.0", .private), ("10.255.255.255", .private), ("9.255.255.255", .global), ("11.0.0.0", .global),
        ("100.64.0.0", .sharedAddressSpace), ("100.127.255.255", .sharedAddressSpace),
        ("100.63.255.255", .global), ("100.128.0.0", .global),
        ("127.0.0.1", .loopback), ("127.255.255.255", .loopback), ("126.255.255.255", .global), ("128.0.0.0", .global),
        ("169.254.169.254", .linkLocal), ("169.253.255.255", .global), ("169.255.0.0", .global),
        ("172.16.0.0", .private), ("172.31.255.255", .private), ("172.15.255.255", .global), ("172.32.0.0", .global),
        ("192.0.0.0", .specialPurpose), ("192.0.0.1", .specialPurpose), ("192.0.0.8", .specialPurpose),
        ("192.0.0.170", .specialPurpose), ("192.0.0.255", .specialPurpose),
        ("192.0.0.9", .global), ("192.0.0.10", .global), ("191.255.255.255", .global), ("192.0.1.0", .global),
        ("192.0.2.1", .documentation), ("192.0.2.255", .documentation), ("192.0.3.0", .global),
        ("192.31.196.1", .global), ("192.52.193.1", .global), ("192.175.48.1", .global),
        ("192.88.99.1", .specialPurpose), ("192.88.99.2", .specialPurpose), ("192.88.98.255", .global), ("192.88.100.0", .global),
        ("192.168.0.0", .private), ("192.168.255.255", .private), ("192.167.255.255", .global), ("192.169.0.0", .global),
        ("198.18.0.1", .benchmarking), ("198.19.255.255", .benchmarking), ("198.17.255.255", .global), ("198.20.0.0", .global),
        ("198.51.100.7", .documentation), ("198.51.99.255", .global), ("198.51.101.0", .global),
        ("203.0.113.9", .documentation), ("203.0.112.255", .global), ("203.0.114.0", .global),
        ("224.0.0.0", .multicast), ("239.255.255.255", .multicast), ("223.255.255.255", .global),
        ("240.0.0.0", .reserved), ("255.255.255.254", .reserved), ("255.255.255.255", .reserved),
        ("8.8.8.8", .global),
    ]

    static let ipv6: [(String, NetworkAddressClass)] = [
        ("::", .unspecified), ("::1", .loopback),
        // IPv4 inside IPv6, judged by the IPv4 address.
        ("::ffff:127.0.0.1", .loopback), ("::ffff:198.18.0.1", .benchmarking), ("::ffff:8.8.8.8", .global),
        ("::ffff:0:7f00:1", .loopback), ("::ffff:0:c000:1", .specialPurpose), ("::ffff:0:808:808", .global),
        ("::127.0.0.1", .loopback), ("::10.0.0.1", .private), ("::8.8.8.8", .global), ("::2", .unspecified),
        ("64:ff9b::7f00:1", .loopback), ("64:ff9b::a9fe:a9fe", .linkLocal), ("64:ff9b::808:808", .global),
        ("64:ff9b:1::7f00:1", .loopback), ("64:ff9b:1::808:808", .specialPurpose), ("64:ff9b:1:ffff::808:808", .specialPurpose),
        ("64:ff9b:2::808:808", .reserved),
        ("2002:7f00:1::", .loopback), ("2002:a00:1::1", .private), ("2002:c000:201::", .documentation),
        ("2002:808:808::1", .global),
        // Teredo: server 65.54.227.120 (public); client 8.8.8.8 stored inverted as f7f7:f7f7.
        ("2001:0:4136:e378:8000:63bf:f7f7:f7f7", .global),
        ("2001:0:4136:e378:8000:63bf:80ff:fffe", .loopback),  // client 127.0.0.1
        ("2001:0:7f00:1:8000:63bf:f7f7:f7f7", .loopback),  // server 127.0.0.1
        ("2001:0:4136:e378:8000:63bf:3fff:fdd2", .documentation),  // client 192.0.2.45
        // Registry blocks that carry no IPv4 address.
        ("100::1", .specialPurpose), ("100::ffff:ffff:ffff:ffff", .specialPurpose), ("100:0:0:1::1", .specialPurpose),
        ("2001:1::1", .global), ("2001:1::2", .global), ("2001:1::3", .global), ("2001:1::4", .specialPurpose),
        ("2001:2::1", .benchmarking), ("2001:2:0:ffff::1", .benchmarking), ("2001:2:1::", .specialPurpose),
        ("2001:3::1", .global), ("2001:4:112::1", .global), ("2001:4:113::1", .specialPurpose),
        ("2001:10::1", .specialPurpose), ("2001:20::1", .global), ("2001:2f::1", .global), ("2001:30::1", .global),
        ("2001:1ff:ffff::1", .specialPurpose), ("2001:200::", .global), ("2000:ffff:ffff::1", .global),
        ("2001:db8::1", .documentation), ("2001:db8:ffff::1", .documentation), ("2001:db7:ffff::1", .global), ("2001:db9::", .global),
        ("3fff::1", .documentation), ("3fff:fff::1", .documentation), ("3fff:1000::", .global), ("3ffe:ffff::1", .global),
        ("5f00::1", .specialPurpose), ("5f00:ffff::1", .specialPurpose),
        ("fc00::1", .private), ("fdff:ffff::1", .private), ("fe80::1", .linkLocal), ("febf::1", .linkLocal),
        ("fec0::1", .private), ("ff02::1", .multicast), ("ff0e::1", .multicast),
        // Outside 2000::/3 (reserved by the IETF), and its edges.
        ("1fff:ffff::1", .reserved), ("4000::1", .reserved), ("::1:0:0:1", .reserved), ("fe00::1", .reserved),
        ("2000::", .global), ("3fff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", .global), ("2606:4700::1111", .global),
        ("2001:4860:4860::8888", .global),
    ]

    @Test(arguments: ipv4) func classifiesIPv4Range(_ address: String, _ expected: NetworkAddressClass) {
        #expect(NetworkAddressClass.classify(Self.bytes(address)) == expected, "\(address)")
    }

    @Test(arguments: ipv6) func classifiesIPv6Range(_ address: String, _ expected: NetworkAddressClass) {
        #expect(NetworkAddressClass.classify(Self.bytes(address)) == expected, "\(address)")
    }

    /// The addresses a public-only webhook guard let through before: all refused now.
    @Test(arguments: ["198.18.0.1", "192.0.0.1", "2002:7f00:1::", "64:ff9b:1::7f00:1", "::ffff:0:7f00:1"])
    func formerlyAcceptedAddressesAreRefused(_ address: String) {
        #expect(NetworkAddressClass.classify(Self.bytes(address)).refusal != nil, "\(address)")
    }

    @Test func describeNeverTrapsOnOddLengths() {
        #expect(NetworkAddressClass.describe([1, 2, 3]) == "102")
        #expect(NetworkAddressClass.describe([0x20, 0x01, 0x0d, 0xb8] + Array(repeating: 0, count: 12)) == "2001:db8:0:0:0:0:0:0")
    }
}
