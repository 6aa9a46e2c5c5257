import HTTP
import Testing
@testable import Gateway

/// The client address behind trusted proxies, from the headers alone: no sockets.
struct TrustedProxiesTests {
    static let proxies = try! TrustedProxies(parsing: "10.0.0.0/8, 192.168.1.1, 2001:db8:abcd::/48")

    func client(_ peer: String?, _ headers: HTTPHeaders, _ proxies: TrustedProxies = Self.proxies) -> String? {
        proxies.clientAddress(peer: peer, headers: headers)
    }

    @Test func anUntrustedPeerIsTheClientWhateverItSends() {
        #expect(client("203.0.113.9:5000", ["X-Forwarded-For": "198.51.100.1"]) == "203.0.113.9")
        #expect(client("203.0.113.9:5000", ["Forwarded": "for=198.51.100.1"]) == "203.0.113.9")
        #expect(client("[2001:db8::9]:443", ["X-Forwarded-For": "198.51.100.1"]) == "2001:db8::9")
        // Nothing is trusted by default.
        #expect(client("10.0.0.1:80", ["X-Forwarded-For": "198.51.100.1"], TrustedProxies()) == "10.0.0.1")
    }

    @Test func aTrustedPeerIsWalkedFromTheRightPastTrustedHops() {
        #expect(client("10.0.0.1:80", ["X-Forwarded-For": "198.51.100.1"]) == "198.51.100.1")
        // The client claims 1.2.3.4; the proxies appended the real address and themselves.
        #expect(client("10.0.0.1:80", ["X-Forwarded-For": "1.2.3.4, 198.51.100.1, 10.9.9.9, 192.168.1.1"]) == "198.51.100.1")
        // Several fields are one list, in order.
        #expect(client("10.0.0.1:80", HTTPHeaders([("X-Forwarded-For", "1.2.3.4, 198.51.100.1"), ("X-Forwarded-For", "10.1.1.1")])) == "198.51.100.1")
        // Every hop trusted: the leftmost.
        #expect(client("10.0.0.1:80", ["X-Forwarded-For": "10.0.0.3, 10.0.0.2"]) == "10.0.0.3")
        // Without a header, the trusted peer itself.
        #expect(client("10.0.0.1:80", [:]) == "10.0.0.1")
    }

    @Test func ipv6AndMappedAddressesAndPortsAreRead() {
        #expect(client("[2001:db8:abcd::1]:443", ["X-Forwarded-For": "2001:db8::1"]) == "2001:db8::1")
        #expect(client("[::ffff:10.0.0.1]:443", ["X-Forwarded-For": "198.51.100.1"]) == "198.51.100.1", "a dual-stack socket's IPv4 peer")
        #expect(client("10.0.0.1:80", ["X-Forwarded-For": "198.51.100.1:4711"]) == "198.51.100.1")
        #expect(client("10.0.0.1:80", ["X-Forwarded-For": "[2001:db8::7]:4711"]) == "2001:db8::7")
        #expect(client("10.0.0.1:80", ["X-Forwarded-For": "::ffff:198.51.100.1"]) == "198.51.100.1")
    }

    @Test func forwardedIsReadWhenThereIsNoXForwardedFor() {
        #expect(client("10.0.0.1:80", ["Forwarded": #"for=192.0.2.60;proto=http;by=203.0.113.43"#]) == "192.0.2.60")
        #expect(client("10.0.0.1:80", ["Forwarded": #"for="[2001:db8::1]:4711", for=10.0.0.5"#]) == "2001:db8::1")
        #expect(client("10.0.0.1:80", ["Forwarded": #"For="192.0.2.43:47011";proto=https"#]) == "192.0.2.43")
        #expect(client("10.0.0.1:80", HTTPHeaders([("Forwarded", "for=198.51.100.2"), ("Forwarded", "for=10.0.0.9")])) == "198.51.100.2")
        // A quoted comma or semicolon does not split.
        #expect(client("10.0.0.1:80", ["Forwarded": #"for=198.51.100.3;host="a,b;c", for=10.0.0.2"#]) == "198.51.100.3")
        // X-Forwarded-For wins when both are present.
        #expect(client("10.0.0.1:80", ["Forwarded": "for=198.51.100.2", "X-Forwarded-For": "198.51.100.4"]) == "198.51.100.4")
    }

    @Test func anUnknownOrObfuscatedHopEndsTheWalkAtTheProxyThatWroteIt() {
        #expect(client("10.0.0.1:80", ["Forwarded": "for=unknown, for=10.0.0.2"]) == "10.0.0.2")
        #expect(client("10.0.0.1:80", ["Forwarded": "for=_hidden"]) == "10.0.0.1")
        #expect(client("10.0.0.1:80", ["Forwarded": "proto=https"]) == "10.0.0.1", "an element without for= is an unknown node")
        #expect(client("10.0.0.1:80", ["X-Forwarded-For": "198.51.100.1, unknown"]) == "10.0.0.1")
        // Beyond an untrusted hop nothing counts, even an unknown one.
        #expect(client("10.0.0.1:80", ["X-Forwarded-For": "unknown, 198.51.100.1"]) == "198.51.100.1")
    }

    @Test(arguments: [
        "garbage", "198.51.100.1,, 10.0.0.2", "198.51.100.1, not an address", "999.1.1.1", "[2001:db8::1", "198.51.100.1:port",
        "2001:db8::1:4711:", "",
    ])
    func aMalformedXForwardedForCountsForNothing(_ value: String) {
        #expect(client("10.0.0.1:80", ["X-Forwarded-For": value]) == "10.0.0.1", "\(value)")
    }

    @Test(arguments: [#"for="198.51.100.1"#, "for", "=198.51.100.1", #"for="[2001:db8::1]:x""#, "for=198.51.100.1;;x\\"])
    func aMalformedForwardedCountsForNothing(_ value: String) {
        #expect(client("10.0.0.1:80", ["Forwarded": value]) == "10.0.0.1", "\(value)")
    }

    @Test func aPeerThatIsNotAnAddressIsLoggedAsGiven() {
        #expect(client("unix", ["X-Forwarded-For": "198.51.100.1"]) == "unix")
        #expect(client(nil, [:]) == nil)
    }

    @Test func rangesParseAndMatch() throws {
        let proxies = try TrustedProxies(parsing: " 10.0.0.0/8 ,,2001:db8::/32,127.0.0.1 ")
        #expect(proxies.ranges.count == 3)
        #expect(proxies.trusts(try #require(IPAddress("10.255.255.255"))))
        #expect(!proxies.trusts(try #require(IPAddress("11.0.0.0"))))
        #expect(proxies.trusts(try #require(IPAddress("2001:db8:ffff::1"))))
        #expect(!proxies.trusts(try #require(IPAddress("2001:db9::1"))))
        #expect(proxies.trusts(try #require(IPAddress("::ffff:127.0.0.1"))), "a mapped address is its IPv4 address")
        #expect(!proxies.trusts(try #require(IPAddress("127.0.0.2"))))
        #expect(try TrustedProxies(parsing: "0.0.0.0/0").trusts(try #require(IPAddress("198.51.100.1"))))
        #expect(try TrustedProxies(parsing: "").ranges.isEmpty)
        for bad in ["10.0.0.0/33", "2001:db8::/129", "10.0.0.0/-1", "10.0.0.0/8/8", "example.com", "10.0.0.0/ 8", "10.0.0/8", "10.0.0.0/x"] {
            #expect(throws: TrustedProxies.Invalid.self, "\(bad)") { try TrustedProxies(parsing: bad) }
        }
    }

    @Test func theConfigurationNamesTheVariableOnABadRange() throws {
        #expect(try GatewayConfiguration.fromEnvironment(["TRUSTED_PROXIES": "10.0.0.0/8,::1"]).trustedProxies.ranges.count == 2)
        #expect(try GatewayConfiguration.fromEnvironment([:]).trustedProxies.ranges.isEmpty)
        do {
            _ = try GatewayConfiguration.fromEnvironment(["TRUSTED_PROXIES": "10.0.0.0/8,10.0.0.300/32"])
            Issue.record("accepted a bad CIDR")
        } catch {
            #expect(error.variable == "TRUSTED_PROXIES")
            #expect(error.description.contains("10.0.0.300/32"))
        }
    }
}
