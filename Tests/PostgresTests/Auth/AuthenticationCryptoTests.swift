import Testing

@testable import Postgres

/// The primitives under SCRAM and md5, against published vectors.
@Suite struct AuthenticationCryptoTests {
    @Test func pbkdf2MatchesRFC7914() {
        // RFC 7914 §11: PBKDF2-HMAC-SHA256("passwd", "salt", 1), the first 32 bytes.
        let key = AuthenticationCrypto.pbkdf2SHA256(password: Array("passwd".utf8), salt: Array("salt".utf8), iterations: 1)
        #expect(AuthenticationCrypto.hex(key) == "55ac046e56e3089fec1691c22544b605f94185216dde0465e68b9d57c20dacbc")
    }

    @Test func hmacMatchesRFC4231() {
        // RFC 4231 test case 2.
        let mac = AuthenticationCrypto.hmacSHA256(key: Array("Jefe".utf8), message: Array("what do ya want for nothing?".utf8))
        #expect(AuthenticationCrypto.hex(mac) == "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
    }

    @Test func base64DecodingIsStrict() {
        #expect(AuthenticationCrypto.base64Decoded("W22ZaJ0SNY7soEsUEjb6gQ==")?.count == 16)
        #expect(AuthenticationCrypto.base64Decoded("Zm9vYg==") == Array("foob".utf8))
        #expect(AuthenticationCrypto.base64Decoded("Zm9vYmE=") == Array("fooba".utf8))
        #expect(AuthenticationCrypto.base64Decoded("Zm9vYmFy") == Array("foobar".utf8))
        #expect(AuthenticationCrypto.base64Decoded("") == [])
        for bad in ["Zm9", "Zm9vY===", "Zm=v", " Zm9v", "Zm9v\n", "Zm9-", "===="] {
            #expect(AuthenticationCrypto.base64Decoded(Substring(bad)) == nil, "\(bad)")
        }
        #expect(AuthenticationCrypto.base64(Array("fooba".utf8)) == "Zm9vYmE=")
    }

    @Test func constantTimeEqualsComparesWholeValues() {
        #expect(AuthenticationCrypto.constantTimeEquals([1, 2, 3], [1, 2, 3]))
        #expect(!AuthenticationCrypto.constantTimeEquals([1, 2, 3], [1, 2, 4]))
        #expect(!AuthenticationCrypto.constantTimeEquals([1, 2, 3], [1, 2]))
    }
}

/// The legacy md5 method's answer.
@Suite struct MD5PasswordTests {
    @Test func theInnerHashIsWhatPgAuthidStores() {
        // postgres/postgres is stored as md53175bce1d3201d16594cebf9d7eb3f9d in pg_authid.
        #expect(AuthenticationCrypto.hex(AuthenticationCrypto.md5(Array("postgrespostgres".utf8))) == "3175bce1d3201d16594cebf9d7eb3f9d")
    }

    @Test func theResponseHashesTheStoredHashWithTheSalt() {
        #expect(MD5Password.response(user: "postgres", password: "postgres", salt: [1, 2, 3, 4]) == "md568be9ed08db75f318087ab337aaea044")
        #expect(MD5Password.response(user: "postgres", password: "postgres", salt: [1, 2, 3, 5]) != "md568be9ed08db75f318087ab337aaea044")
    }
}
