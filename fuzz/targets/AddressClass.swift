// The webhook SSRF classifier (compiled together with NetworkAddressClass.swift).
// Invariants for every 4- or 16-byte input: IPv4 carried in IPv6 (mapped, SIIT, NAT64, 6to4,
// Teredo) is judged exactly as that IPv4 address; only `.global` has no refusal; a global
// IPv6 address is in global unicast 2000::/3 or carries a global IPv4 address; `describe`
// never traps. Any other length is reserved.

func v4Class(_ b: [UInt8]) -> NetworkAddressClass { NetworkAddressClass.classify(b) }

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzAddressClass(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    withInput(data, size) { input in
        let kind = NetworkAddressClass.classify(input)
        _ = NetworkAddressClass.describe(input)
        invariant((kind.refusal == nil) == (kind == .global), "\(kind) refusal")
        switch input.count {
        case 4:
            let v4 = input
            let mapped = [UInt8](repeating: 0, count: 10) + [0xFF, 0xFF] + v4
            let siit = [UInt8](repeating: 0, count: 8) + [0xFF, 0xFF, 0, 0] + v4
            let nat64 = [0, 0x64, 0xFF, 0x9B] + [UInt8](repeating: 0, count: 8) + v4
            let sixToFour = [0x20, 0x02] + v4 + [UInt8](repeating: 0xAB, count: 10)
            let teredoClient = [0x20, 0x01, 0, 0, 8, 8, 8, 8, 0x80, 0, 0x12, 0x34] + v4.map { ~$0 }
            let teredoServer = [0x20, 0x01, 0, 0] + v4 + [0x80, 0, 0x12, 0x34, 0xF7, 0xF7, 0xF7, 0xF7]
            for (name, form) in [
                ("mapped", mapped), ("SIIT", siit), ("NAT64", nat64), ("6to4", sixToFour),
                ("Teredo client", teredoClient), ("Teredo server", teredoServer),
            ] {
                let carried = NetworkAddressClass.classify(form)
                invariant(carried == kind, "\(name) of \(input) is \(carried), the address is \(kind)")
            }
            let localNAT64 = [0, 0x64, 0xFF, 0x9B, 0, 1] + [UInt8](repeating: 0, count: 6) + v4
            invariant(NetworkAddressClass.classify(localNAT64) != .global, "local-use NAT64 \(input) is global")
        case 16:
            if kind == .global {
                let inGlobalUnicast = input[0] & 0xE0 == 0x20
                let wellKnownNAT64 = input[0..<12] == [0, 0x64, 0xFF, 0x9B, 0, 0, 0, 0, 0, 0, 0, 0][...]
                let embedding = input[0..<10].allSatisfy { $0 == 0 } || input[0..<8].allSatisfy { $0 == 0 } || wellKnownNAT64
                invariant(inGlobalUnicast || embedding, "\(NetworkAddressClass.describe(input)) is global outside 2000::/3")
                if embedding { invariant(v4Class(Array(input[12..<16])) == .global, "carried IPv4 of \(input) is not global") }
                invariant(input[0] != 0xFF && !(input[0] == 0xFE) && input[0] & 0xFE != 0xFC, "\(input) is global")
            }
        default:
            invariant(kind == .reserved, "\(input.count) bytes classified \(kind)")
        }
    }
    return 0
}
