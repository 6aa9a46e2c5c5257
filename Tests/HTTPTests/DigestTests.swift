import Testing

@testable import HTTP

/// The primitives under SCRAM and md5 (and webhook signatures), against published vectors.
@Suite struct DigestTests {
    @Test func pbkdf2MatchesRFC7914() {
        // RFC 7914 §11: PBKDF2-HMAC-SHA256("passwd", "salt", 1), the first 32 bytes.
        let key = Digest.pbkdf2SHA256(password: Array("passwd".utf8), salt: Array("salt".utf8), iterations: 1)
        #expect(Digest.hex(key) == "55ac046e56e3089fec1691c22544b605f94185216dde0465e68b9d57c20dacbc")
    }

    @Test func hmacMatchesRFC4231() {
        // RFC 4231 test case 2.
        let mac = Digest.hmacSHA256(key: Array("Jefe".utf8), message: Array("what do ya want for nothing?".utf8))
        #expect(Digest.hex(mac) == "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
    }

    @Test func base64DecodingIsStrict() {
        #expect(Digest.base64Decoded("W22ZaJ0SNY7soEsUEjb6gQ==")?.count == 16)
        #expect(Digest.base64Decoded("Zm9vYg==") == Array("foob".utf8))
        #expect(Digest.base64Decoded("Zm9vYmE=") == Array("fooba".utf8))
        #expect(Digest.base64Decoded("Zm9vYmFy") == Array("foobar".utf8))
        #expect(Digest.base64Decoded("") == [])
        for bad in ["Zm9", "Zm9vY===", "Zm=v", " Zm9v", "Zm9v\n", "Zm9-", "===="] {
            #expect(Digest.base64Decoded(Substring(bad)) == nil, "\(bad)")
        }
        #expect(Digest.base64(Array("fooba".utf8)) == "Zm9vYmE=")
    }

    @Test func constantTimeEqualsComparesWholeValues() {
        #expect(Digest.constantTimeEquals([1, 2, 3], [1, 2, 3]))
        #expect(!Digest.constantTimeEquals([1, 2, 3], [1, 2, 4]))
        #expect(!Digest.constantTimeEquals([1, 2, 3], [1, 2]))
    }
}
